//! The Amazon Music Web API V1 (spec `music-api.md` §3, §4.1–§4.6, §6.1, §11.1–§11.2, §11.6).
//!
//! Every route is served with and without the `/v1` prefix, with or without a trailing slash (the outer
//! layer strips it). A handler is `V1Ctx` (the request's session, headers, method and path) plus path
//! parameters; it calls the core's one `Ctx::handle` (`api::family`) with the route's required scope and a
//! closure that produces the `data` payload. `handle` runs the gate (`api::request`: the auth chain of
//! `api::auth` with `x-api-key` required, injected faults, the rate limit), then the closure, and [`V1Api`]
//! wraps the result in `{"data": …}` or the error envelope (`error.rs`).
//! Query strings and bodies are parsed *inside* the closure, after the auth chain, so a bad body never
//! hides an auth error.
//!
//! The files hold V1's wire only: each route reads its parameters and body, makes one call to the core
//! (`api::playlists`, `api::library`, `api::search`, `api::views`, or the catalog) and renders the typed result
//! in V1's shape; the core's `Problem`s become V1 errors (`error.rs`).
//!
//! Files: `catalog.rs` (tracks, albums, artists, podcasts), `search.rs`, `me.rs` (profile, library,
//! likes, follows), `playlists.rs`, `history.rs` (recently played), `views.rs`, `playback.rs` (playback
//! sessions and events), `page.rs` (`limit`/`cursor`, `pageInfo`, connections), `error.rs`.

pub mod catalog;
pub mod error;
pub mod history;
pub mod me;
pub mod page;
pub mod playback;
pub mod playlists;
pub mod search;
pub mod views;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::api::{ApiBody, ApiKey, ApiPath, ApiRequest, Ctx, Family, Policy, Refusal, Requires, json_response};
use crate::context::AppState;
use crate::journal::Api;
use error::{Code, MusicError};

/// The V1 routes (relative; mounted at `/v1` and at `/`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tracks", v1(get(catalog::tracks)))
        .route("/tracks/{id}", v1(get(catalog::track)))
        .route("/albums", v1(get(catalog::albums)))
        .route("/albums/{id}", v1(get(catalog::album)))
        .route("/artists", v1(get(catalog::artists)))
        .route("/artists/{id}", v1(get(catalog::artist)))
        .route("/artists/{id}/albums", v1(get(catalog::artist_albums)))
        .route("/artists/{id}/tracks", v1(get(catalog::artist_tracks)))
        .route("/artists/{id}/related", v1(get(catalog::related_artists)))
        .route("/artists/{id}/followers", v1(get(catalog::artist_followers)))
        .route("/podcasts/shows", v1(get(catalog::shows)))
        .route("/podcasts/shows/{id}", v1(get(catalog::show)))
        .route("/podcasts/episodes", v1(get(catalog::episodes)))
        .route("/podcasts/episodes/{id}", v1(get(catalog::episode)))
        .route("/search", v1(get(search::search_all)))
        .route("/search/{kind}", v1(axum::routing::post(search::search_kind)))
        .route("/me", v1(get(me::get_me).put(me::put_me)))
        .route("/me/playlists", v1(get(playlists::my_playlists)))
        .route(
            "/me/library/tracks",
            v1(get(me::library_tracks).put(me::add_library_tracks).delete(me::remove_library_tracks)),
        )
        .route(
            "/me/library/albums",
            v1(get(me::library_albums).put(me::add_library_albums).delete(me::remove_library_albums)),
        )
        .route(
            "/me/library/podcastEpisodes",
            v1(get(me::library_episodes).put(me::add_library_episodes).delete(me::remove_library_episodes)),
        )
        .route("/me/tracks", v1(get(me::liked_tracks).put(me::like_tracks).delete(me::unlike_tracks)))
        .route(
            "/me/followed/artists",
            v1(get(me::followed_artists).put(me::follow_artists).delete(me::unfollow_artists)),
        )
        .route("/me/followed/artists/{id}", v1(axum::routing::put(me::follow_artist).delete(me::unfollow_artist)))
        .route(
            "/me/followed/playlists",
            v1(get(me::followed_playlists).put(me::follow_playlists).delete(me::unfollow_playlists)),
        )
        .route("/me/followed/playlists/{id}", v1(axum::routing::put(me::follow_playlist).delete(me::unfollow_playlist)))
        .route(
            "/me/followed/podcastShows",
            v1(get(me::followed_shows).put(me::follow_shows).delete(me::unfollow_shows)),
        )
        .route("/me/recentlyPlayedEntities", v1(get(history::recent_entities)))
        .route("/player/recentlyPlayed", v1(get(history::recently_played)))
        .route("/playlists", v1(axum::routing::post(playlists::create)))
        .route("/playlists/{id}", v1(get(playlists::get_one).put(playlists::update).delete(playlists::delete)))
        .route(
            "/playlists/{id}/tracks",
            v1(get(playlists::tracks)
                .put(playlists::add_tracks)
                .patch(playlists::reorder)
                .delete(playlists::remove_tracks)),
        )
        .route("/views/{name}", v1(get(views::view)))
        .route("/views/{name}/{id}", v1(get(views::view_with_id)))
        .route("/playback/sessions", v1(post(playback::create)))
        .route("/playback/sessions/active", v1(get(playback::active)))
        .route("/playback/sessions/{id}/current", v1(get(playback::current)))
        .route("/playback/sessions/{id}/next", v1(get(playback::next).post(playback::queue_next)))
        .route("/playback/sessions/{id}/previous", v1(get(playback::previous)))
        .route("/playback/sessions/{id}/queue", v1(get(playback::queue)))
        .route("/playback/sessions/{id}/last", v1(post(playback::queue_last)))
        .route("/playback/sessions/{id}/loop", v1(put(playback::set_loop)))
        .route("/playback/sessions/{id}/shuffle", v1(put(playback::set_shuffle)))
        .route("/playback/sessions/{id}/restore", v1(post(playback::restore)))
        .route("/playback/event", v1(post(playback::event)))
        .route("/playback/events", v1(post(playback::events)))
}

/// Answers other methods on a known V1 path in the V1 envelope.
fn v1(m: MethodRouter<AppState>) -> MethodRouter<AppState> {
    m.fallback(|method: Method| async move {
        MusicError::new(Code::MethodNotAllowed, format!("{method} is not supported on this resource.")).into_response()
    })
}

/// The Web API V1, as a [`Family`] of the core.
pub enum V1Api {}

/// What every V1 handler starts from: the shared [`ApiRequest`] (state, session, headers, method, path,
/// query), with the V1 envelope around it.
pub type V1Ctx = Ctx<V1Api>;

impl Family for V1Api {
    const API: Api = Api::V1;
    type Error = MusicError;
    type Answer = Value;
    type Shape = ();

    /// `x-api-key` required, rate limited.
    fn policy(requires: Requires) -> Policy {
        Policy { requires, api_key: ApiKey::Required, rate_limited: true }
    }

    fn refused(refusal: Refusal) -> MusicError {
        let note = refusal.note();
        let e = match refusal {
            Refusal::Denied(e) => return MusicError::from_auth(e),
            Refusal::Throttled(s, _) => MusicError::throttled(Some(s)),
            Refusal::Fault(fault, _) => match fault.error.as_deref().and_then(Code::parse) {
                Some(Code::Throttled) => MusicError::throttled(fault.retry_after),
                Some(Code::NoMusicAccount) => MusicError::no_music_account(),
                Some(Code::Internal) | None => MusicError::internal(),
                Some(c) => MusicError::new(c, format!("Injected fault: {}", c.as_str())),
            },
        };
        e.with_note(note)
    }

    fn shape(_: &[(String, String)]) -> Result<(), MusicError> {
        Ok(())
    }

    /// `{"data": …}`, or the error envelope with a `reference` from the session's random source.
    fn render(req: &ApiRequest, _: Option<()>, out: Result<Value, MusicError>) -> Response {
        match out {
            Ok(data) => json_response(StatusCode::OK, &json!({ "data": data })),
            Err(mut e) => {
                e.reference = Some(req.uuid());
                e.into_response()
            }
        }
    }
}

/// A V1 request body (see [`ApiBody`]): a body over the limit is 413 `PAYLOAD_TOO_LARGE` in the V1 envelope
/// when the handler asks for the bytes.
pub type V1Body = ApiBody;

/// V1 path parameters (see [`ApiPath`]): one that does not decode is 400 `BAD_REQUEST` in the V1 envelope when
/// the handler asks for it.
pub type V1Path<T> = ApiPath<T>;

/// Parses a JSON request body after the auth chain.
///
/// # Errors
/// 400 `BAD_REQUEST` naming what is wrong.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, MusicError> {
    crate::api::parse_json(body).map_err(MusicError::bad_request)
}

/// Splits a comma-separated `ids` parameter, enforcing the batch cap (`music-api.md` §11.2).
///
/// # Errors
/// 400 when missing, empty, or over `max` ids.
pub fn batch_ids(raw: Option<String>, max: usize) -> Result<Vec<String>, MusicError> {
    let ids = crate::api::split_ids(&raw.ok_or_else(MusicError::malformed)?);
    if ids.is_empty() {
        return Err(MusicError::malformed());
    }
    if ids.len() > max {
        return Err(MusicError::bad_request(format!(
            "Malformed request. At most {max} ids may be requested at once; got {}.",
            ids.len()
        )));
    }
    Ok(ids)
}
