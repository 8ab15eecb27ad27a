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
//! The public API is what a Rust test embedding the mock needs: [`MockAmazon`] (start, `uri`, `addr`) and its
//! [`ServerConfig`], [`RunningServer`] and [`start`] for a server on a chosen address, [`TlsSource`] for HTTPS;
//! the scenario runner ([`scenario::run`] with [`scenario::RunOptions`]) and client verdicts ([`verdict`]).
//! Everything else is internal.
//!
//! From a shell: `cargo run --release -- serve` prints `listening on http://127.0.0.1:8080`.
//! See `ARCHITECTURE.md` for the map of the code and `docs/ROUTES.md` for every route.

mod admin;
mod api;
mod app;
mod catalog;
mod cli;
mod clock;
mod conn;
mod context;
mod device;
mod fixtures;
mod ids;
mod journal;
mod lwa;
mod plan;
pub mod scenario;
mod scope;
mod server;
mod store;
mod stream;
mod stream_http;
mod tls;
mod v1;
mod v2;
pub mod verdict;

pub use cli::main as cli_main;
pub use server::{
    BACKGROUND_CATALOG, DEFAULT_CATALOG_SIZE, MockAmazon, RunningServer, ServerConfig, StartError, start,
};
pub use tls::TlsSource;

/// Internals that the crate's own integration tests, examples and benches reach into (the catalog, the
/// streaming engine, the store's ids and playback rules, the application state). Not a stable API: embedders
/// use [`MockAmazon`], [`ServerConfig`], [`scenario`] and [`verdict`].
#[doc(hidden)]
pub mod test_support {
    pub use crate::api::playback::stream_permit;
    pub use crate::app::{AppState, Session};
    /// The generated catalog.
    pub mod catalog {
        pub use crate::catalog::*;
    }
    pub use crate::fixtures::CatalogFile;
    pub use crate::journal::fingerprint;
    pub use crate::plan::{Plan, load_dir};
    pub use crate::server::build_state;
    pub use crate::store::SessionId;
    pub use crate::store::playback::{StreamDenied, shuffle_order};
    /// The streaming engine.
    pub mod stream {
        pub use crate::stream::*;
    }
}
