//! The Amazon Music Web API V1 (spec `music-api.md` §3, §4.1–§4.6, §6.1, §11.1–§11.2, §11.6).
//!
//! Every route is served with and without the `/v1` prefix, with or without a trailing slash (the outer
//! layer strips it). A handler is `V1Ctx` (the request's session, headers, method and path) plus path
//! parameters; it calls [`V1Ctx::handle`] with the route's required scope and a closure that produces the
//! `data` payload. `handle` runs the auth chain (`auth.rs`), then injected faults and the optional rate
//! limit, then the closure, and wraps the result in `{"data": …}` or the error envelope (`error.rs`).
//! Query strings and bodies are parsed *inside* the closure, after the auth chain, so a bad body never
//! hides an auth error.
//!
//! Files: `catalog.rs` (tracks, albums, artists, podcasts), `search.rs`, `me.rs` (profile, library,
//! likes, follows), `playlists.rs`, `history.rs` (recently played), `views.rs`, `playback.rs` (playback
//! sessions and events), `seed.rs` (what fixture customers start with), `page.rs` (cursors), `auth.rs`,
//! `error.rs`.

pub mod auth;
pub mod catalog;
pub mod error;
pub mod history;
pub mod me;
pub mod page;
pub mod playback;
pub mod playlists;
pub mod search;
pub mod seed;
pub mod views;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::app::{AppState, Session, note};
use crate::journal::fingerprint;
pub use auth::{Caller, Requires};
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

/// What every V1 handler starts from.
pub struct V1Ctx {
    /// Shared state (fixtures, catalog, store).
    pub state: AppState,
    /// The session.
    pub session: Session,
    /// Request headers.
    pub headers: HeaderMap,
    /// Method.
    pub method: Method,
    /// Canonical path (session prefix removed).
    pub path: String,
    /// Raw query string.
    pub query: Option<String>,
}

impl FromRequestParts<AppState> for V1Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = Session::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        Ok(V1Ctx {
            state: state.clone(),
            session,
            headers: parts.headers.clone(),
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
        })
    }
}

impl V1Ctx {
    /// The catalog.
    pub fn catalog(&self) -> &crate::catalog::Catalog {
        &self.state.catalog
    }

    /// Virtual now, epoch ms.
    pub fn now_ms(&self) -> i64 {
        self.session.store.now_ms()
    }

    /// One query parameter (first value; `+` and `%XX` decoded).
    pub fn query_param(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        crate::lwa::params::parse_form(q.as_bytes())?.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Runs the auth chain, faults and rate limit, then `f`; wraps `f`'s data in `{"data": …}`.
    pub async fn handle(
        &self,
        requires: Requires,
        f: impl AsyncFnOnce(&Caller) -> Result<Value, MusicError>,
    ) -> Response {
        let result = match self.gate(requires).await {
            Ok(_) if self.query.as_deref().is_some_and(|q| crate::lwa::params::parse_form(q.as_bytes()).is_none()) => {
                self.respond(Err(MusicError::bad_request(
                    "Malformed request. The query string is not valid UTF-8 once percent-decoded.",
                )))
            }
            Ok(caller) => {
                let user = caller.user_id().to_owned();
                let client = caller.claims.cid.clone();
                let out = f(&caller).await.map(|data| json!({ "data": data }));
                let mut resp = self.respond(out);
                // The plan's `revoke` rule: the customer removes the app once this call is answered.
                let revoked = self.session.store.plan_count_call(self.method.as_str(), &self.path);
                if revoked {
                    self.session.store.revoke_grant(&user, &client).await;
                }
                note(&mut resp, |n| {
                    n.user_id = Some(user);
                    n.client_id = Some(client);
                    n.facts.scopes = Some(caller.claims.scp.clone());
                    n.facts.scope_used = caller.scope_used.clone();
                    if revoked {
                        n.facts.injected.push("the customer removed the app after this call (plan)".into());
                    }
                });
                resp
            }
            Err(e) => self.respond(Err(e)),
        };
        self.note_token(result)
    }

    async fn gate(&self, requires: Requires) -> Result<Caller, MusicError> {
        let caller = auth::check(&self.state, &self.session, &self.headers, requires).await?;
        if let Some(fault) = self.session.store.music().take_fault(self.method.as_str(), &self.path).await {
            if let Some(ms) = fault.latency_ms {
                // Real latency: clients time out on wall-clock time, not the virtual clock.
                tokio::time::sleep(std::time::Duration::from_millis(ms.min(120_000))).await;
            }
            if let Some(code) = fault.error.as_deref() {
                let e = match Code::parse(code) {
                    Some(Code::Throttled) => MusicError::throttled(fault.retry_after),
                    Some(Code::Internal) => MusicError::internal(),
                    Some(Code::NoMusicAccount) => MusicError::no_music_account(),
                    Some(c) => MusicError::new(c, format!("Injected fault: {}", c.as_str())),
                    None => MusicError::internal(),
                };
                return Err(e.noting(|n| {
                    n.client_id = Some(caller.claims.cid.clone());
                    n.user_id = caller.claims.sub.clone();
                    n.facts.injected.push(format!("fault {code}"));
                }));
            }
        }
        let tps = self.session.store.settings().await.rate_limit_tps;
        if tps > 0 {
            let key = format!("{}|{}", caller.claims.pid, caller.claims.jti);
            if let Err(retry_ms) = self.session.store.music().rate_limit(&key, f64::from(tps), self.now_ms()).await {
                return Err(MusicError::throttled(Some(((retry_ms + 999) / 1000).max(1) as u64)).noting(|n| {
                    n.client_id = Some(caller.claims.cid.clone());
                    n.user_id = caller.claims.sub.clone();
                }));
            }
        }
        Ok(caller)
    }

    fn respond(&self, out: Result<Value, MusicError>) -> Response {
        match out {
            Ok(body) => {
                let mut resp = serde_json::to_vec(&body).unwrap_or_default().into_response();
                resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                resp
            }
            Err(mut e) => {
                e.reference = Some(crate::ids::uuid_from_u128(self.session.store.random_u128()));
                e.into_response()
            }
        }
    }

    fn note_token(&self, mut resp: Response) -> Response {
        let token = self
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim().to_owned()))
            .filter(|t| !t.is_empty());
        if let Some(t) = token {
            note(&mut resp, |n| n.token = Some(fingerprint(&t)));
        }
        resp
    }
}

/// A V1 request body, read up to the configured body limit (`--body-limit`, 1 MiB by default). A body over the
/// limit is not rejected here: like every other bad input it is reported after the auth chain, as 413
/// `PAYLOAD_TOO_LARGE` in the V1 envelope, when the handler asks for the bytes.
pub struct V1Body(Result<Bytes, MusicError>);

impl FromRequest<AppState> for V1Body {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.limits.body_limit;
        let read = axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| {
            MusicError::new(
                Code::PayloadTooLarge,
                format!("The request body is larger than {limit} bytes, or could not be read."),
            )
        });
        Ok(V1Body(read))
    }
}

impl V1Body {
    /// The body's bytes.
    ///
    /// # Errors
    /// 413 `PAYLOAD_TOO_LARGE` when the body was over the limit.
    pub fn bytes(&self) -> Result<&[u8], MusicError> {
        self.0.as_deref().map_err(Clone::clone)
    }
}

/// Path parameters, percent-decoded. A parameter that does not decode to UTF-8 is not rejected here (axum would
/// answer in plain text, before the auth chain): it is reported after the auth chain as 400 `BAD_REQUEST` in the
/// V1 envelope, when the handler asks for the value.
pub struct V1Path<T>(Result<T, MusicError>);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for V1Path<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let value = axum::extract::Path::<T>::from_request_parts(parts, state).await.map(|p| p.0).map_err(|_| {
            MusicError::bad_request("Malformed request. A path segment is not valid UTF-8 once percent-decoded.")
        });
        Ok(V1Path(value))
    }
}

impl<T> V1Path<T> {
    /// The parameters.
    ///
    /// # Errors
    /// 400 `BAD_REQUEST` when a parameter did not decode.
    pub fn get(&self) -> Result<&T, MusicError> {
        self.0.as_ref().map_err(Clone::clone)
    }
}

/// Parses a JSON request body after the auth chain.
///
/// # Errors
/// 400 `BAD_REQUEST` naming what is wrong.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, MusicError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(MusicError::bad_request("Malformed request. A JSON body is required."));
    }
    serde_json::from_slice(body)
        .map_err(|e| MusicError::bad_request(format!("Malformed request. Invalid JSON body: {e}.")))
}

/// Splits a comma-separated `ids` parameter, enforcing the batch cap (`music-api.md` §11.2).
///
/// # Errors
/// 400 when missing, empty, or over `max` ids.
pub fn batch_ids(raw: Option<String>, max: usize) -> Result<Vec<String>, MusicError> {
    let raw = raw.ok_or_else(MusicError::malformed)?;
    let ids: Vec<String> = raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
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
