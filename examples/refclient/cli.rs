//! The command line both reference clients share: `--target URL [--flow device|code] [--pace real|virtual]
//! [--playback] [--calls N]`. Prints what the client did; exits 0 when its journey ran (the verdict is the
//! server's to give: `amazon-music-mock verdict`), 2 when it could not.

use std::process::ExitCode;

use clap::Parser;

use super::client::{Config, Flow, Misbehaviours, Pace, run};

/// A reference client of client conformance.
#[derive(Debug, Parser)]
pub struct Args {
    /// The mock's base URL, with a `/s/{session}` prefix for another session than the default.
    #[arg(long)]
    pub target: String,
    /// How to link to the customer's account: `device` (code-based linking) or `code` (/ap/oa with PKCE).
    #[arg(long, default_value = "device")]
    pub flow: String,
    /// `real` sleeps; `virtual` advances the session's virtual clock through the admin API instead.
    #[arg(long, default_value = "real")]
    pub pace: String,
    /// Play a track through the playback routes.
    #[arg(long)]
    pub playback: bool,
    /// Music API calls in the main loop.
    #[arg(long, default_value_t = 6)]
    pub calls: usize,
}

/// Runs a reference client with these misbehaviours.
pub fn main(bad: Misbehaviours) -> ExitCode {
    let args = Args::parse();
    let flow = match args.flow.as_str() {
        "device" => Flow::Device,
        "code" => Flow::Code,
        other => {
            eprintln!("error: --flow {other:?}: expected device or code");
            return ExitCode::from(2);
        }
    };
    let pace = match args.pace.as_str() {
        "real" => Pace::Real,
        "virtual" => Pace::Virtual,
        other => {
            eprintln!("error: --pace {other:?}: expected real or virtual");
            return ExitCode::from(2);
        }
    };
    let cfg = Config { target: args.target, flow, pace, bad, playback: args.playback, calls: args.calls };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cfg)) {
        Ok(outcome) => {
            for line in &outcome.log {
                println!("{line}");
            }
            println!("ending: {:?}", outcome.ending);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
