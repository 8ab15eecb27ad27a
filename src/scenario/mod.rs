//! Scenarios: scripted, multi-step HTTP conversations with expectations, run against the in-process mock,
//! a mock elsewhere, or a real endpoint, with a verdict CI understands.
//!
//! - `model.rs`: the file format (serde + JSON Schema types; `model/media.rs` the stream expectations);
//! - `load.rs`: reading files, with file:line:column errors, and the checks serde cannot make;
//! - `interp.rs`: `{{var}}` interpolation and the fixture aliases;
//! - `expect.rs`: matching an answer against `expect`, captures, diffs (pure functions); `expect/audio.rs`,
//!   `expect/dash.rs` and `expect/range.rs` check the stream expectations (Symphonia, dash-mpd, RFC 9110);
//! - `run.rs`: the runner (reqwest, sessions, control steps, `poll`, parallelism); `run/media.rs` the
//!   requests and decoding the stream expectations need;
//! - `baseline.rs`: expected failures; `report.rs`: JSON, JUnit XML and HTML;
//! - `schema.rs`: `scenarios/schema.json`; `conformance.rs`: `docs/CONFORMANCE.md`;
//! - `cmd.rs`: the `run`, `check`, `schema` and `conformance` commands.
//!
//! Nothing here imports axum: the in-process server is started through `crate::server`, and requests go
//! over HTTP like any client's. `scenarios/README.md` is the format's user reference.

pub mod baseline;
pub mod cmd;
pub mod conformance;
pub mod expect;
pub mod interp;
pub mod load;
pub mod model;
pub mod outcome;
pub mod report;
pub mod run;
pub mod schema;

pub use baseline::Baseline;
pub use load::{LoadError, LoadedScenario, load_paths, load_str};
pub use model::Scenario;
pub use report::{Format, ReportSpec};
pub use run::{MockMode, Outcome, RunOptions, RunReport, ScenarioResult, Target, run, selected};
