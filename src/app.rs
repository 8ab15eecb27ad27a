//! Wiring: the router of every domain, and the outer layer every request passes through (the state handlers
//! share, `AppState`, is `context.rs`'s).
//!
//! The outer layer (`outer`) runs before routing. It
//! 1. takes a `/s/{session}` prefix off the path and picks that session (the default one otherwise);
//!    an admin request first passes the admin guard (`admin::guard`: host, cross-site, token, JSON);
//! 2. canonicalises paths: LWA paths match case-insensitively (`/auth/O2/token`), a trailing slash is
//!    ignored; on the Device API's host (`music-api.amazon.com`) the Device API's paths move under `/device`;
//! 3. records the request in the session's journal afterwards, with whatever the handler noted;
//! 4. sets the `Date` header from the session's virtual clock and an `x-amzn-RequestId`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower::ServiceExt;

pub use crate::context::{AppState, CanonicalPath, DEVICE_HOST, Session, host_name, note};
use crate::journal::{
    Facts, JournalEntry, JournalNote, MisplacedSecret, Place, RECORDED_HEADERS, header_view, looks_like_token, redact,
};
use crate::store::SessionId;

/// Paths that mean the same on every host, the Device API's host included: the other API families, the
/// Device API's own prefix, the admin API and the stream URLs the APIs hand out (LWA paths too, see
/// [`CASE_INSENSITIVE_PREFIXES`]).
const EVERY_HOST: &[&str] = &["/v1", "/v2", "/device", "/__admin", "/dash", "/stream", "/license"];

/// Routing by `Host` (`music-api.md` §11.1): on [`DEVICE_HOST`] (any port) a path outside [`EVERY_HOST`] and
/// the LWA paths is the Device API's, served under `/device`; elsewhere the path is unchanged.
fn route_by_host(host: Option<&str>, path: String) -> String {
    let device_host = host.is_some_and(|h| host_name(h) == DEVICE_HOST);
    if !device_host
        || EVERY_HOST.iter().any(|p| under(&path, p))
        || CASE_INSENSITIVE_PREFIXES.iter().any(|p| path.starts_with(p))
    {
        return path;
    }
    if path == "/" { "/device".to_owned() } else { format!("/device{path}") }
}

/// The complete application: every domain router behind the outer layer (`outer`), and the origin stream
/// URLs are built on (the scheme the server listens with, the authority the request names).
///
/// The outer layer, the body deadline and the answer to a panic are plain calls around the router rather
/// than tower layers around it: a layer clones its inner service (a boxed route) and boxes its future on every
/// request, which the profile of `GET /v1/me` counted at a quarter of the request's allocations.
#[derive(Clone)]
pub struct App {
    state: AppState,
    routes: Router,
    scheme: &'static str,
}

/// The application for `state`, listening with `scheme` (`http` or `https`).
pub fn router(state: AppState, scheme: &'static str) -> App {
    let routes = Router::new()
        .merge(crate::lwa::router())
        .nest("/v1", crate::v1::router())
        .nest("/v2", crate::v2::router())
        .nest("/device", crate::device::router())
        .merge(crate::v1::router())
        .merge(crate::stream_http::router())
        .nest("/__admin", crate::admin::router())
        .fallback(not_found)
        .with_state(state.clone());
    App { state, routes, scheme }
}

impl crate::conn::Answer for App {
    fn answer(self, req: Request) -> impl Future<Output = Response> + Send + 'static {
        let origin = crate::stream::RequestOrigin {
            scheme: self.scheme,
            authority: req.uri().authority().map(|a| a.as_str().to_owned()),
        };
        // Boxed: the whole answer is a large state machine, and hyper moves the future it is given (into its
        // dispatcher, then to poll it): a pointer instead of kilobytes copied per request. The answer's own
        // future is made inside the box, on its first poll, rather than made here and moved in.
        let (state, routes) = (self.state, self.routes);
        Box::pin(crate::stream::in_request_origin(origin, async move {
            let answered = std::panic::AssertUnwindSafe(outer(state, req, routes));
            futures_util::FutureExt::catch_unwind(answered).await.unwrap_or_else(panic_response)
        }))
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let body = json!({"error_description": "The server encountered an unexpected error", "error": "server_error"});
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

async fn not_found(uri: Uri) -> Response {
    if under(uri.path(), "/v2") {
        let msg = format!("No such resource: {}", uri.path());
        return crate::v2::error::V2Error::new(crate::v2::error::Code::NotFound, msg).into_response();
    }
    if under(uri.path(), "/device") {
        return crate::device::error::DeviceError::not_found(format!("No such resource: {}", uri.path()))
            .into_response();
    }
    if under(uri.path(), "/v1") {
        let msg = format!("No such resource: {}", uri.path());
        return crate::v1::error::MusicError::new(crate::v1::error::Code::ResourceNotFound, msg).into_response();
    }
    let body = json!({"error_description": format!("No such resource : {}", uri.path()), "error": "not_found"});
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

/// Whether `path` is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Paths matched without regard to case (`lwa.md` §13.1).
const CASE_INSENSITIVE_PREFIXES: &[&str] = &["/auth/o2/", "/ap/oa", "/user/profile", "/ap/user/profile", "/us/code"];

/// Splits `/s/{session}/rest` into the session and the rest, and canonicalises the rest.
fn split_session(path: &str) -> Result<(Option<&str>, String), ()> {
    let (session, rest) = match path.strip_prefix("/s/") {
        Some(after) => {
            let (name, rest) = after.split_once('/').map_or((after, ""), |(n, r)| (n, r));
            (Some(name), rest)
        }
        None => (None, path.strip_prefix('/').unwrap_or(path)),
    };
    if session.is_some_and(|s| SessionId::parse(s).is_none()) {
        return Err(());
    }
    let mut canonical = String::with_capacity(rest.len() + 1);
    canonical.push('/');
    canonical.push_str(rest.strip_suffix('/').unwrap_or(rest));
    let lower = canonical.to_ascii_lowercase();
    if CASE_INSENSITIVE_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        canonical = lower;
    }
    Ok((session, canonical))
}

async fn outer(state: AppState, mut req: Request, routes: Router) -> Response {
    let started = Instant::now();
    // Before anything answers, the early refusals below included: a body their answer leaves unread is read
    // behind it, or the answer says the connection closes.
    let unread = watch_body(&mut req, started, state.limits.body_timeout);
    let mut resp = answer(state, req, routes, started).await;
    if unread.is_some_and(|w| !w.drained && !w.done.load(Ordering::Relaxed)) {
        // A body the handler answered without reading to its end (a GET with a body, a refusal before the
        // body), too long or of unknown length to be read and dropped behind the answer: hyper will not read
        // the rest and closes the connection, so say so rather than let the client send its next request on
        // a connection that is going away.
        resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// The answer to a request: its session resolved, admitted, handled, journaled.
async fn answer(state: AppState, mut req: Request, routes: Router, started: Instant) -> Response {
    // A large catalog builds behind `listening on`: requests wait for it (once it is built, one atomic load).
    if let Err(e) = state.catalog.ready().await {
        let body = json!({"error": format!("the catalog could not be built: {e}")});
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    }
    let Ok((session_name, path)) = split_session(req.uri().path()) else {
        let body = json!({"error": format!("invalid session id: use {}", SessionId::RULE)});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    let path = route_by_host(host.as_deref(), path);
    let id = session_name.and_then(SessionId::parse).unwrap_or_else(SessionId::default_session);
    let prefix = session_name.map(|s| format!("/s/{s}")).unwrap_or_default();
    // Who may reach the admin API is settled before anything else about the request (`admin::guard`).
    if under(&path, "/__admin") {
        req = match crate::admin::guard::admit(&state.limits.admin, req, &path, &prefix).await {
            Ok(req) => req,
            Err(answer) => return answer,
        };
    }
    // Asking for a verdict judges a session; it never creates one (a typo in a CI job's session name would
    // otherwise judge an empty session and pass).
    if EXISTING_SESSION_PATHS.contains(&path.as_str()) && !state.store.session_exists(&id).await {
        return no_such_session(&id, &path);
    }
    let store = state.store.session(&id);
    // With a shared store (`--state redis://…`), the session is brought up to date once, before anything reads it.
    if store.shared() {
        if let Err(e) = store.sync().await {
            tracing::error!(session = %id, "{e}");
            return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"error": e}))).into_response();
        }
    }

    let new_uri = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    if let Ok(uri) = new_uri.parse::<Uri>() {
        *req.uri_mut() = uri;
    }
    let journaled = !path.starts_with("/__admin");
    let mut entry = journaled.then(|| base_entry(&req, &path, store.now_ms(), &state));
    let method = req.method().clone();
    let session_for_log = tracing::enabled!(tracing::Level::DEBUG).then(|| id.clone());
    req.extensions_mut().insert(Session { id, store: store.clone(), prefix });
    req.extensions_mut().insert(CanonicalPath(path.clone()));

    // The plan's network behaviours: latency, and connections dropped before the request is handled.
    let network = if journaled { store.plan_network(method.as_str(), &path) } else { None };
    if let Some(n) = &network {
        if n.latency_ms > 0 {
            // Real latency: clients time out on wall-clock time, not the virtual clock.
            tokio::time::sleep(std::time::Duration::from_millis(n.latency_ms)).await;
        }
    }
    let mut resp = match &network {
        Some(n) if n.drop => dropped_connection(),
        // Inside the journaling, so that a body that came too late is journaled as the 408 it was answered.
        _ => {
            let routed = |req| async move {
                let Ok(resp) = routes.oneshot(req).await;
                resp
            };
            crate::conn::body_deadline(state.limits.body_timeout, req, routed).await
        }
    };
    if let Some(n) = &network {
        note(&mut resp, |note| note.facts.injected.extend(n.describe()));
    }

    let now = store.now_ms();
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&http_date(now)) {
        headers.insert(header::DATE, v);
    }
    if !headers.contains_key("x-amzn-requestid") {
        let id = crate::ids::uuid_from_u128(store.random_u128());
        if let Ok(v) = HeaderValue::from_str(&id) {
            headers.insert("x-amzn-requestid", v);
        }
    }
    if let Some(session) = session_for_log {
        // The path only, masked: query strings can carry tokens (`?access_token=`), and no secret goes to a log.
        let path = crate::journal::secrets::mask_path(&path);
        tracing::debug!(
            %session,
            method = %method,
            path = %path,
            status = resp.status().as_u16(),
            duration_us = started.elapsed().as_micros() as u64,
            "request"
        );
    }
    if let Some(mut e) = entry.take() {
        e.status = if network.as_ref().is_some_and(|n| n.drop) { 0 } else { resp.status().as_u16() };
        e.duration_us = started.elapsed().as_micros() as u64;
        if let Some(n) = resp.extensions_mut().remove::<JournalNote>() {
            e.params = n.params;
            e.error = n.error;
            e.client_id = n.client_id;
            e.user_id = n.user_id;
            e.token = n.token;
            let token_in_query = e.facts.token_in_query.take();
            let mut misplaced = std::mem::take(&mut e.facts.misplaced_secrets);
            e.facts = n.facts;
            e.facts.token_in_query = token_in_query;
            misplaced.append(&mut e.facts.misplaced_secrets);
            e.facts.misplaced_secrets = misplaced;
        }
        e.facts.retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        store.journal_append(e).await;
    }
    resp
}

/// The longest request body the server reads to its end and drops when its handler answered without reading
/// it (`--body-limit`'s default 1 MiB and more): so that the client, still sending it, reads the answer rather
/// than a reset connection, and the connection stays open for its next request. A longer body, or one of
/// unknown length, closes the connection instead (`Connection: close`).
const DRAIN_MAX: u64 = 4 << 20;

/// How long a body left unread may take to arrive when `--body-timeout` is 0 (no limit); otherwise it must
/// arrive within that, as any body must.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What [`watch_body`] learned of a request body.
struct Watched {
    /// Set once the body was read to its end (by the handler, or behind the answer).
    done: Arc<AtomicBool>,
    /// Whether the body, if left unread, is read to its end behind the answer.
    drained: bool,
}

/// On HTTP/1 and a request with a body, wraps the body so that the returned flag is set once it was read to
/// its end, and so that a body the handler leaves unread is read behind the answer when it is short enough.
fn watch_body(req: &mut Request, started: Instant, body_timeout: std::time::Duration) -> Option<Watched> {
    let h1 = req.version() <= axum::http::Version::HTTP_11;
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    let length = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let has_body = chunked || req.headers().get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() != b"0");
    if !h1 || !has_body {
        return None;
    }
    let drained = !chunked && length.is_some_and(|n| n <= DRAIN_MAX);
    let done = Arc::new(AtomicBool::new(false));
    let inner = std::mem::take(req.body_mut());
    let within = if body_timeout.is_zero() { DRAIN_TIMEOUT } else { body_timeout.min(DRAIN_TIMEOUT) };
    let until = tokio::time::Instant::from_std(started + within);
    *req.body_mut() = axum::body::Body::new(WatchedBody { inner, done: done.clone(), drained, until });
    Some(Watched { done, drained })
}

/// A request body that notes when it has been read to its end, and is read to its end when dropped before
/// (when `drained`).
struct WatchedBody {
    inner: axum::body::Body,
    done: Arc<AtomicBool>,
    drained: bool,
    /// When the rest of a body left unread must have arrived (the body timeout, counted from the request).
    until: tokio::time::Instant,
}

impl Drop for WatchedBody {
    fn drop(&mut self) {
        if !self.drained || self.done.load(Ordering::Relaxed) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (mut body, until) = (std::mem::take(&mut self.inner), self.until);
        // Its length was checked against DRAIN_MAX, and hyper reads no more than the Content-Length; each frame
        // is dropped as it comes.
        runtime.spawn(async move {
            let drain = async { while let Some(Ok(_)) = http_body_util::BodyExt::frame(&mut body).await {} };
            let _ = tokio::time::timeout_at(until, drain).await;
        });
    }
}

impl http_body::Body for WatchedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            std::task::Poll::Ready(None) => self.done.store(true, Ordering::Relaxed),
            // A body that failed (too slow, cut off) is not waited for again behind the answer.
            std::task::Poll::Ready(Some(Err(_))) => self.drained = false,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        let end = self.inner.is_end_stream();
        if end {
            self.done.store(true, Ordering::Relaxed);
        }
        end
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Admin routes about a session that must exist, and so must not create it: the judging routes, and dropping
/// a session.
const EXISTING_SESSION_PATHS: &[&str] = &["/__admin/verdict", "/__admin/ui", "/__admin/ui/live", "/__admin/session"];

/// 404 for a judging route of a session that does not exist: JSON for the API, a short page for the
/// dashboard.
fn no_such_session(id: &SessionId, path: &str) -> Response {
    let message = format!(
        "no session named {:?}: a session exists once a request was sent under /s/{}/ (check the session name)",
        id.as_str(),
        id.as_str()
    );
    if path == "/__admin/ui" {
        let page = maud::html! {
            (maud::DOCTYPE)
            html lang="en" { head { meta charset="utf-8"; title { "No such session" } } body { h1 { "No such session" } p { (message) } } }
        };
        return (StatusCode::NOT_FOUND, axum::response::Html(page.into_string())).into_response();
    }
    (StatusCode::NOT_FOUND, axum::Json(json!({ "error": message }))).into_response()
}

/// A response whose body fails at once: hyper closes the connection without a complete answer, which the
/// client sees as a dropped connection. The journal records it with status 0.
fn dropped_connection() -> Response {
    Response::new(axum::body::Body::new(DroppedBody))
}

struct DroppedBody;

impl axum::body::HttpBody for DroppedBody {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let e = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "connection dropped by the session's plan");
        std::task::Poll::Ready(Some(Err(e)))
    }
}

/// The `Date` header for a virtual time. httpdate panics past 9999-12-31, and a running clock set near that
/// edge drifts past it, so the time is clamped to what the header can name.
fn http_date(now_ms: i64) -> String {
    let ms = now_ms.clamp(0, crate::admin::MAX_CLOCK_SECONDS * 1000 + 999) as u64;
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
}

fn base_entry(req: &Request, path: &str, at_ms: i64, state: &AppState) -> JournalEntry {
    let h = req.headers();
    let mut token_in_query = None;
    let mut misplaced = Vec::new();
    let known = |v: &str| state.fixtures.knows_secret(v);
    let query = req
        .uri()
        .query()
        .and_then(|q| crate::lwa::params::parse_form(q.as_bytes()))
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            if token_in_query.is_none() && carries_token(&k, &v) {
                token_in_query = Some(k.clone());
            }
            if let Some(kind) = crate::journal::secrets::misplaced(Place::Query, &k, &v, path, &known) {
                misplaced.push(MisplacedSecret { kind, place: Place::Query, name: k.clone() });
            }
            let r = redact(&k, &v);
            (k, r)
        })
        .collect();
    // Every header, recorded or not: a secret in `x-secret` is never journaled, but the client sent it.
    let mut recorded: [Option<String>; RECORDED_HEADERS.len()] = Default::default();
    for (name, value) in h {
        let name = name.as_str();
        let slot = RECORDED_HEADERS.iter().position(|r| *r == name);
        let Ok(value) = value.to_str() else {
            if let Some(i) = slot {
                recorded[i].get_or_insert_with(|| redact(name, "<non-ascii>"));
            }
            continue;
        };
        let view = header_view(state.fixtures.id(), name, value, &known);
        if let Some(kind) = view.misplaced {
            misplaced.push(MisplacedSecret { kind, place: Place::Header, name: name.to_owned() });
        }
        if let (Some(i), Some(v)) = (slot, view.recorded) {
            // The first value of a repeated header, as `HeaderMap::get` has it.
            recorded[i].get_or_insert(v);
        }
    }
    let headers =
        RECORDED_HEADERS.iter().zip(recorded).filter_map(|(name, v)| Some(((*name).to_owned(), v?))).collect();
    JournalEntry {
        seq: 0,
        at_ms,
        method: req.method().as_str().to_owned(),
        host: h.get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_owned),
        path: path.to_owned(),
        query,
        headers,
        params: Vec::new(),
        status: 0,
        error: None,
        client_id: None,
        user_id: None,
        token: None,
        facts: Facts { token_in_query, misplaced_secrets: misplaced, ..Facts::default() },
        duration_us: 0,
    }
}

/// Whether a query parameter carries an access or refresh token (by its name, or its value's prefix).
fn carries_token(name: &str, value: &str) -> bool {
    const NAMES: &[&str] = &["access_token", "refresh_token", "token", "x-amz-access-token", "authorization"];
    (NAMES.iter().any(|n| n.eq_ignore_ascii_case(name)) && !value.is_empty()) || looks_like_token(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_prefixes_and_case_are_canonicalised() {
        assert_eq!(split_session("/auth/O2/token"), Ok((None, "/auth/o2/token".into())));
        assert_eq!(split_session("/s/t1/auth/O2/create/codepair"), Ok((Some("t1"), "/auth/o2/create/codepair".into())));
        assert_eq!(split_session("/s/t1"), Ok((Some("t1"), "/".into())));
        assert_eq!(split_session("/v1/albums/B0064UPU4G/"), Ok((None, "/v1/albums/B0064UPU4G".into())));
        assert_eq!(split_session("/"), Ok((None, "/".into())));
        assert!(split_session("/s/bad%20id/x").is_err());
        assert!(
            split_session("/s/./x").is_err() && split_session("/s/../x").is_err() && split_session("/s/..").is_err()
        );
        assert_eq!(split_session("/s/a..b/x"), Ok((Some("a..b"), "/x".into())));
        assert_eq!(split_session("/s/.hidden/x"), Ok((Some(".hidden"), "/x".into())));
    }

    #[test]
    fn the_device_api_host_routes_its_paths_under_device_and_leaves_the_shared_ones() {
        let route = |host: &str, path: &str| route_by_host(Some(host), path.to_owned());
        assert_eq!(route("music-api.amazon.com", "/"), "/device");
        assert_eq!(route("Music-API.amazon.com:8443", "/nav/genres"), "/device/nav/genres");
        assert_eq!(route("music-api.amazon.com.", "/search"), "/device/search");
        for shared in [
            "/v1/tracks/B0",
            "/v2/albums",
            "/device",
            "/device/nav",
            "/__admin/health",
            "/dash/B0/manifest.mpd",
            "/stream/B0/sd.mp3",
            "/license",
            "/auth/o2/token",
            "/ap/oa",
        ] {
            assert_eq!(route("music-api.amazon.com", shared), shared);
        }
        // Other hosts keep V1 without its prefix at `/`.
        assert_eq!(route("api.music.amazon.dev", "/tracks/B0"), "/tracks/B0");
        assert_eq!(route("127.0.0.1:8080", "/"), "/");
        assert_eq!(route_by_host(None, "/".to_owned()), "/");
        // A path that only starts like a shared prefix is not shared.
        assert_eq!(route("music-api.amazon.com", "/v1x"), "/device/v1x");
    }

    #[test]
    fn host_names_drop_the_port_and_the_trailing_dot() {
        assert_eq!(host_name("Music-API.Amazon.com:80"), "music-api.amazon.com");
        assert_eq!(host_name("music-api.amazon.com."), "music-api.amazon.com");
        assert_eq!(host_name("[::1]:8080"), "[::1]");
        assert_eq!(host_name("localhost"), "localhost");
    }

    #[test]
    fn the_date_header_is_clamped_to_what_http_can_name() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(-5), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }
}
