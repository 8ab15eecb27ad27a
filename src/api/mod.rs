//! The Music API core: what the three families (Web API V1, Web API V2, the Device API) share below their
//! wire shapes (spec `music-api.md` §11).
//!
//! - [`request`]: [`ApiRequest`], the request every handler starts from, and its gate (the auth chain,
//!   injected faults, the rate limit); the body and path extractors that never reject before the gate.
//! - [`auth`]: the auth chain, each refusal a typed [`auth::Denial`].
//! - [`family`]: the [`Family`] trait (a family's gate policy, error mapping and envelope) and the one
//!   [`Ctx::handle`] every route of every family runs.
//! - [`error`]: [`Problem`], the family-neutral error the domain operations return; each family maps it to
//!   its own wire error (`From<Problem>`).
//! - [`page`]: the cursor format every family's paging uses.
//! - The domain operations, on typed inputs, answering typed results or a [`Problem`]: [`playlists`] (who may
//!   read a playlist, playlists described, their tracks, the customer's edits), [`library`] (the music
//!   profile, collections, likes and follows, the listening history, top tracks), [`search`] (filters, sort,
//!   one page of a kind, search groups), [`views`] (view groups and their pages); [`seed`] decides what
//!   fixture customers start with.
//! - [`playback`]: playback sessions (V2's queues): the device headers, MRNs, the operations, stream permits.
//!
//! Nothing here knows a family's envelope or error shape: families depend on the core, never the reverse.

pub mod auth;
pub mod error;
pub mod family;
pub mod library;
pub mod page;
pub mod playback;
pub mod playlists;
pub mod request;
pub mod search;
pub mod seed;
pub mod views;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub use auth::{ApiKey, Caller, Requires};
pub use error::{Noun, Problem};
pub use family::{Ctx, Family};
pub use request::{ApiBody, ApiPath, ApiRequest, BadPathSegment, BodyTooLarge, Policy, Refusal, parse_json, split_ids};

/// A successful answer of a family that answers more than `200` (V2, the Device API).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// 200 with this body.
    Ok(Value),
    /// 201 with this body.
    Created(Value),
    /// 206 with this body: V2's "Queue was restored before returning" (`music-api.md` §5.3).
    Restored(Value),
    /// 204, no body.
    NoContent,
}

impl From<Value> for Reply {
    fn from(v: Value) -> Self {
        Reply::Ok(v)
    }
}

/// A JSON response with `Content-Type: application/json`.
pub fn json_response(status: axum::http::StatusCode, body: &Value) -> Response {
    // Most answers are a few hundred bytes: one allocation rather than a doubling from nothing.
    let mut bytes = Vec::with_capacity(512);
    if serde_json::to_writer(&mut bytes, body).is_err() {
        bytes.clear();
    }
    let mut resp = (status, bytes).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    resp
}
