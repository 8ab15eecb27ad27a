//! The Amazon Music Web API V2 (spec `music-api.md` §1, §2.2, §3.3, §3.4, §5.1, §5.2, §6.2, §11.3), at `/v2`
//! on every host, over the same catalog, search index and per-session music state as V1: a playlist created
//! here is the same playlist V1 reads.
//!
//! A handler is [`V2Ctx`] plus path parameters; it calls [`V2Ctx::handle`] with the route's scope and a closure
//! that produces the answer. `handle` checks `X-Amzn-Device-Id` (401 `MISSING_DEVICE_ID`), then runs the shared
//! gate (`api::request`: the auth chain with `x-api-key` ignored, injected faults, the rate limit), reads the
//! sparse fieldsets (`fields[<type>]`), runs the closure and answers its JSON **unwrapped**, shaped by the
//! fieldsets, or the V2 error `{"error":{"code","message","traceId"}}` (`error.rs`).
//!
//! Lists are `{"items":[…],"nextToken":"…"}` paged with `first` (1–100, default 20) and `after` (the
//! previous page's `nextToken`; the cursor format is the core's, `api::page`), `nextToken` absent on the last
//! page; batch lookups are bare arrays; views keep their cursors in `content.nextPageToken`.
//!
//! The routes of `catalog.rs` (albums, tracks, playlists by id, top lists, browse), `search.rs`, `library.rs`
//! (the customer's playlists and tracks, playlist writes) and `views.rs` read their parameters and body, make
//! one call to the core (`api::playlists`, `api::library`, `api::search`, `api::views`, or the catalog) and
//! render the typed result; `entities.rs` has the V2 entity shapes and sparse fieldsets; `error.rs`;
//! `playback.rs` (playback queues, §5.3, on the core's playback sessions, `api::playback`).

pub mod catalog;
pub mod entities;
pub mod error;
pub mod library;
pub mod playback;
pub mod search;
pub mod views;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

pub use crate::api::Reply;
pub use crate::api::page::PageRequest;
use crate::api::page::{decode_offset, encode_cursor};
use crate::api::{ApiKey, ApiRequest, Ctx, Family, Policy, Refusal, Requires, json_response};
use crate::context::AppState;
use crate::journal::Api;
pub use entities::Fieldsets;
use error::{Code, V2Error};

/// The V2 routes, relative to `/v2`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/albums", v2(get(catalog::albums)))
        .route("/albums/top", v2(get(catalog::top_albums)))
        .route("/albums/new-releases", v2(get(catalog::new_releases)))
        .route("/tracks", v2(get(catalog::tracks)))
        .route("/browse/tracks/top", v2(get(catalog::top_tracks)))
        .route("/playlists", v2(get(catalog::playlists).post(library::create_playlist)))
        .route("/playlists/{id}", v2(axum::routing::delete(library::delete_playlist)))
        .route("/playlists/{id}/tracks", v2(get(library::playlist_tracks).post(library::add_tracks)))
        .route("/search", v2(get(search::search)))
        .route("/search/{kind}", v2(get(search::search_group).post(search::search_kind)))
        .route("/me/playlists/owned", v2(get(library::owned_playlists)))
        .route("/me/playlists/followed", v2(get(library::followed_playlists)))
        .route("/me/tracks", v2(get(library::library_tracks)))
        .route("/me/tracks/liked", v2(get(library::liked_tracks)))
        .route("/views/home", v2(get(views::home)))
        .route("/views/home/{group_id}", v2(get(views::home_group)))
        .route("/playback/queues/active", v2(get(playback::active)))
        .route("/playback/queues/new", v2(axum::routing::post(playback::create)))
        .route("/playback/queues/{id}/current", v2(get(playback::current)))
        .route("/playback/queues/{id}/next", v2(get(playback::next).post(playback::queue_next)))
        .route("/playback/queues/{id}/previous", v2(get(playback::previous)))
        .route("/playback/queues/{id}/view", v2(get(playback::view)))
        .route("/playback/queues/{id}/entities/{entity}", v2(get(playback::entities)))
        .route("/playback/queues/{id}/last", v2(axum::routing::post(playback::queue_last)))
        .route("/playback/queues/{id}/loop", v2(axum::routing::put(playback::set_loop)))
        .route("/playback/queues/{id}/shuffle", v2(axum::routing::put(playback::set_shuffle)))
        .route("/playback/events", v2(axum::routing::post(playback::event)))
        .route("/playback/events/batch", v2(axum::routing::post(playback::events)))
}

/// Answers other methods on a known V2 path in the V2 error shape.
fn v2(m: MethodRouter<AppState>) -> MethodRouter<AppState> {
    m.fallback(|method: Method| async move {
        V2Error::new(Code::MethodNotAllowed, format!("{method} is not supported on this resource.")).into_response()
    })
}

/// The Web API V2, as a [`Family`] of the core.
pub enum V2Api {}

/// What every V2 handler starts from: the shared [`ApiRequest`] with the V2 envelope around it.
pub type V2Ctx = Ctx<V2Api>;

/// The documented message for a `first` out of range (§6.2).
pub const FIRST_RANGE: &str = "first parameter must be between 1 and 100";

/// The largest `first`.
pub const MAX_FIRST: usize = 100;

/// The `first` used when none is given.
pub const DEFAULT_FIRST: usize = 20;

/// Reads `first` and `after` (as given in the query or a body).
///
/// # Errors
/// 400 `BAD_REQUEST` "first parameter must be between 1 and 100", or for an `after` that is not a `nextToken`.
pub fn page_request(first: Option<&str>, after: Option<&str>) -> Result<PageRequest, V2Error> {
    let limit = match first.map(str::trim) {
        None | Some("") => DEFAULT_FIRST,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_FIRST).contains(n))
            .ok_or_else(|| V2Error::bad_request(FIRST_RANGE))?,
    };
    let offset = match after.map(str::trim) {
        None | Some("") => 0,
        Some(t) => decode_offset(t).ok_or_else(|| {
            V2Error::bad_request("after parameter is not a valid token: use nextToken from the previous page")
        })?,
    };
    Ok(PageRequest { offset, limit })
}

/// A V2 list page: `{"items": […], "nextToken": "…"}`, `nextToken` left out on the last page.
pub fn list(items: Vec<Value>, offset: usize, total: usize, version: u64) -> Value {
    let next = offset + items.len();
    let mut out = Map::new();
    let more = !items.is_empty() && next < total;
    out.insert("items".into(), Value::Array(items));
    if more {
        out.insert("nextToken".into(), json!(encode_cursor(next, version)));
    }
    Value::Object(out)
}

/// The ids of an `?ids=` batch (`music-api.md` §11.3): at least one, at most `max`.
///
/// # Errors
/// 400 `BAD_REQUEST` when missing, empty or over the cap.
pub fn batch_ids(raw: Option<String>, max: usize) -> Result<Vec<String>, V2Error> {
    let ids = crate::api::split_ids(&raw.unwrap_or_default());
    if ids.is_empty() {
        return Err(V2Error::bad_request("ids parameter is required: a comma-separated list of ids"));
    }
    if ids.len() > max {
        return Err(V2Error::bad_request(format!("ids parameter must hold at most {max} ids; got {}", ids.len())));
    }
    Ok(ids)
}

/// Parses a JSON request body.
///
/// # Errors
/// 400 `BAD_REQUEST` naming what is wrong.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, V2Error> {
    crate::api::parse_json(body).map_err(V2Error::bad_request)
}

/// Checks a `territory` (`US`): two ASCII letters, any case (`music-api.md` §2.4).
///
/// # Errors
/// 400 `BAD_REQUEST` otherwise.
pub fn check_territory(t: Option<&str>) -> Result<(), V2Error> {
    match t {
        Some(t) if !(t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphabetic())) => {
            Err(V2Error::bad_request("territory parameter must be an ISO 3166-1 alpha-2 country code, such as US"))
        }
        _ => Ok(()),
    }
}

impl Ctx<V2Api> {
    /// Reads `first` and `after` from the query.
    ///
    /// # Errors
    /// As [`page_request`].
    pub fn page(&self) -> Result<PageRequest, V2Error> {
        page_request(self.query_param("first").as_deref(), self.query_param("after").as_deref())
    }
}

impl Family for V2Api {
    const API: Api = Api::V2;
    type Error = V2Error;
    type Answer = Reply;
    type Shape = Fieldsets;

    /// `x-api-key` ignored, rate limited.
    fn policy(requires: Requires) -> Policy {
        Policy { requires, api_key: ApiKey::Ignored, rate_limited: true }
    }

    /// `X-Amzn-Device-Id` is required before anything else (401 `MISSING_DEVICE_ID`).
    fn admit(req: &ApiRequest) -> Result<(), V2Error> {
        if req.header("x-amzn-device-id").is_none_or(|d| d.trim().is_empty()) {
            return Err(V2Error::new(
                Code::MissingDeviceId,
                "Missing X-Amzn-Device-Id header: send a stable, unique id of the device (for example a hash of its MAC address).",
            ));
        }
        Ok(())
    }

    fn refused(refusal: Refusal) -> V2Error {
        let note = refusal.note();
        match refusal {
            Refusal::Denied(e) => V2Error::from_auth(e),
            Refusal::Throttled(s, _) => V2Error::throttled(Some(s)).with_note(note),
            Refusal::Fault(f, _) => V2Error::injected(f.error.as_deref().unwrap_or(""), f.retry_after).with_note(note),
        }
    }

    /// The sparse fieldsets (`fields[<type>]`).
    fn shape(pairs: &[(String, String)]) -> Result<Fieldsets, V2Error> {
        Fieldsets::parse(pairs).map_err(V2Error::bad_request)
    }

    /// The answer unwrapped, shaped by the fieldsets (200, 201, 206 or 204), or the V2 error with a `traceId`
    /// from the session's clock and random source.
    fn render(req: &ApiRequest, fields: Option<Fieldsets>, out: Result<Reply, V2Error>) -> Response {
        let shaped = |status, mut body: Value| {
            if let Some(f) = &fields {
                f.shape(&mut body);
            }
            json_response(status, &body)
        };
        match out {
            Ok(Reply::Ok(body)) => shaped(StatusCode::OK, body),
            Ok(Reply::Created(body)) => shaped(StatusCode::CREATED, body),
            Ok(Reply::Restored(body)) => shaped(StatusCode::PARTIAL_CONTENT, body),
            Ok(Reply::NoContent) => StatusCode::NO_CONTENT.into_response(),
            Err(mut e) => {
                e.trace_id = Some(error::trace_id(req.now_ms().div_euclid(1000), req.session.store.random_u128()));
                e.into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_is_1_to_100_and_after_is_a_next_token() {
        assert_eq!(page_request(None, None).unwrap(), PageRequest { offset: 0, limit: 20 });
        assert_eq!(
            page_request(Some("100"), Some(&encode_cursor(40, 3))).unwrap(),
            PageRequest { offset: 40, limit: 100 }
        );
        for bad in ["0", "101", "-1", "ten", "1.5"] {
            assert_eq!(page_request(Some(bad), None).unwrap_err().message, FIRST_RANGE, "{bad}");
        }
        assert_eq!(page_request(None, Some("nope")).unwrap_err().code, Code::BadRequest);
    }

    #[test]
    fn the_last_page_has_no_next_token() {
        assert_eq!(list(vec![json!(1), json!(2)], 0, 2, 0), json!({"items": [1, 2]}));
        let page = list(vec![json!(1)], 4, 6, 9);
        assert_eq!(decode_offset(page["nextToken"].as_str().unwrap()), Some(5));
        assert_eq!(list(Vec::new(), 10, 5, 0), json!({"items": []}));
    }
}
