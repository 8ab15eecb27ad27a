//! The misbehaving reference client (issue 6): polls too fast, sends the client id as `x-api-key`, loops on
//! 403, ignores `Retry-After`, skips playback events, uses bad material, and the rest of
//! `Misbehaviours::all`. The verdict should fail exactly the rules each plan judges.
//!
//! ```text
//! amazon-music-mock serve --plan scenarios/clients/device-polling.yaml --bind 127.0.0.1:8080 &
//! cargo run --example client_bad -- --target http://127.0.0.1:8080 --flow device
//! amazon-music-mock verdict --target http://127.0.0.1:8080 --report junit:target/verdict-bad.xml   # exits 1
//! ```

#[path = "refclient/cli.rs"]
mod cli;
#[path = "refclient/client.rs"]
mod client;

fn main() -> std::process::ExitCode {
    cli::main(client::Misbehaviours::all())
}
