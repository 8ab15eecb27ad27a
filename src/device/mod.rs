//! The Amazon Music Device API (spec `music-api.md` §6.3, §7, §11.1, §11.4): a hypermedia tree of JSON
//! `Document`s for speakers, TVs and cars. Served at `/device/…` on every host and at `/…` on the Device
//! API's host `music-api.amazon.com` (the outer layer moves that host's paths under `/device`).
//!
//! Clients start at the root `GET /` and follow references. Remote references to documents are absolute URLs
//! (`{origin}{/s/session}{/device}/…`, the origin from `--public-url` or the request's `Host`, `/device`
//! unless the origin is the Device API's host); the playback-event collector and rating handler of a track
//! are relative (`../events/…`, `../rating/…`), resolved against the container document that lists them.
//!
//! A handler is [`DeviceCtx`] plus path parameters; [`DeviceCtx::handle`] runs the shared gate (`crate::api`:
//! a bearer token with the scope `amazon_music:access` and nothing else, a profile enabled for music,
//! injected faults as 409 reports; no rate limit) and answers the closure's document, or the error document
//! of `error.rs`. Handlers are thin (extract, one call, render); the documents are built by plain functions
//! beside them. `doc.rs` builds documents and their references; `browse.rs` the root, navigation nodes and
//! track containers, with `nodes.rs` building the navigation nodes; `search.rs` search; `reports.rs` the
//! playback-event collector, ratings and the availability query.

pub mod browse;
pub mod doc;
pub mod error;
pub mod nodes;
pub mod reports;
pub mod search;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

use crate::api::{ApiKey, ApiRequest, Ctx, Family, Policy, Refusal, Reply, Requires, json_response};
use crate::context::AppState;
use crate::journal::Api;
pub use doc::{Doc, Links};
use error::{DeviceError, Report};

/// The Device API routes, relative to `/device`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", device(get(browse::root)))
        .route("/nav/genre/{genre}", device(get(browse::genre)))
        .route("/nav/artist/{id}", device(get(browse::artist)))
        .route("/playlist/{id}", device(get(browse::playlist)))
        .route("/album/{id}", device(get(browse::album)))
        .route("/track/{id}", device(get(browse::track)))
        .route("/station/{genre}", device(get(browse::station)))
        .route("/search", device(get(search::search)))
        .route("/flat_search", device(get(search::flat_search)))
        .route("/availability", device(get(reports::availability)))
        .route("/events/{token}", device(post(reports::collect_event)))
        .route("/rating/{track}", device(post(reports::rate)))
}

/// Answers other methods on a known Device API path with a 405 report.
fn device(m: MethodRouter<AppState>) -> MethodRouter<AppState> {
    m.fallback(|method: Method| async move {
        let mut e = DeviceError::bad_request(format!("{method} is not supported on this resource."));
        e.status = StatusCode::METHOD_NOT_ALLOWED;
        e.code = "METHOD_NOT_ALLOWED";
        e.into_response()
    })
}

/// The Device API, as a [`Family`] of the core.
pub enum DeviceApi {}

/// What every Device API handler starts from: the shared [`ApiRequest`] with the Device API's documents and
/// errors around it.
pub type DeviceCtx = Ctx<DeviceApi>;

impl Ctx<DeviceApi> {
    /// Where this request's references point.
    pub fn links(&self) -> Links {
        Links::for_request(self)
    }
}

impl Family for DeviceApi {
    const API: Api = Api::Device;
    type Error = DeviceError;
    type Answer = Reply;
    type Shape = ();

    /// `x-api-key` ignored, no rate limit (every route requires `amazon_music:access`, `Requires::DEVICE`).
    fn policy(requires: Requires) -> Policy {
        Policy { requires, api_key: ApiKey::Ignored, rate_limited: false }
    }

    /// Faults as 409 reports.
    fn refused(refusal: Refusal) -> DeviceError {
        let note = refusal.note();
        let e = match refusal {
            Refusal::Denied(e) => DeviceError::from_auth(e),
            Refusal::Fault(f, _) => DeviceError::general(Report::for_fault(f.error.as_deref().unwrap_or(""))),
            Refusal::Throttled(..) => DeviceError::general(Report::ServiceUnavailable),
        };
        e.with_note(note)
    }

    fn shape(_: &[(String, String)]) -> Result<(), DeviceError> {
        Ok(())
    }

    /// The document, or the error document.
    fn render(_: &ApiRequest, _: Option<()>, out: Result<Reply, DeviceError>) -> Response {
        match out {
            Ok(Reply::Ok(body)) => json_response(StatusCode::OK, &body),
            Ok(Reply::Created(body)) => json_response(StatusCode::CREATED, &body),
            Ok(Reply::Restored(body)) => json_response(StatusCode::PARTIAL_CONTENT, &body),
            Ok(Reply::NoContent) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => e.into_response(),
        }
    }
}
