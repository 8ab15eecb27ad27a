//! # amazon-music-mock
//!
//! An offline stand-in for **Login With Amazon** (LWA) and the **Amazon Music Web API**, faithful to the
//! wire: `Atza|` tokens that expire on a virtual clock, LWA's own error strings and pages, scope
//! supersede rules, code-based linking, per-test isolated sessions and a request journal.
//!
//! Quick start (in a test):
//!
//! ```no_run
//! # async fn demo() {
//! let mock = amazon_music_mock::MockAmazon::start().await;
//! let health = format!("{}/__admin/health", mock.uri());
//! # let _ = health;
//! # }
//! ```
//!
//! From a shell: `cargo run --release -- serve` prints `listening on http://127.0.0.1:8080`.
//! See `ARCHITECTURE.md` for the map of the code and `docs/ROUTES.md` for every route.

pub mod admin;
pub mod api;
pub mod app;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod context;
pub mod device;
pub mod fixtures;
pub mod ids;
pub mod journal;
pub mod lwa;
pub mod plan;
pub mod scenario;
pub mod scope;
pub mod server;
pub mod store;
pub mod stream;
pub mod stream_http;
pub mod tls;
pub mod v1;
pub mod v2;
pub mod verdict;

pub use server::{MockAmazon, RunningServer, ServerConfig};
