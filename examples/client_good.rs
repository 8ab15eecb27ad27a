//! The well-behaved reference client (issue 6): every client rule it exercises should pass.
//!
//! ```text
//! amazon-music-mock serve --plan scenarios/clients/device-polling.yaml --bind 127.0.0.1:8080 &
//! cargo run --example client_good -- --target http://127.0.0.1:8080 --flow device
//! amazon-music-mock verdict --target http://127.0.0.1:8080 --report junit:target/verdict-good.xml
//! ```

#[path = "refclient/cli.rs"]
mod cli;
#[path = "refclient/client.rs"]
mod client;

fn main() -> std::process::ExitCode {
    cli::main(client::Misbehaviours::none())
}
