//! What every handler shares, below the families that use it: [`AppState`] (fixtures, catalog, store, token
//! codec, limits, streams), the [`Session`] a request belongs to, its [`CanonicalPath`], [`note`] for a
//! handler to add to its journal entry, and the Device API host's name. `app.rs` wires the routers on top.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;

use crate::fixtures::Fixtures;
use crate::journal::JournalNote;
use crate::lwa::tokens::TokenCodec;
use crate::store::{SessionId, SessionStore, Store};

/// Longest time a request body may take to arrive, counted from its head, by default (`--body-timeout`).
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Limits and switches fixed at start-up.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted request body, bytes.
    pub body_limit: usize,
    /// Longest time a request body may take to arrive, counted from its head; later, the request is answered
    /// 408 (`conn::body_deadline`). Zero: no limit.
    pub body_timeout: Duration,
    /// Who may reach the admin API (`admin::guard`).
    pub admin: AdminAccess,
}

/// Who may reach the admin API, fixed at start-up (`admin::guard` applies it).
#[derive(Clone, Default)]
pub struct AdminAccess {
    /// `--admin-token`: then every admin route but health needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Bound to a loopback address: the host names served besides the loopback ones (the Amazon names and
    /// `--public-url`'s host, lower case). `None`: any host name (bound to another address).
    pub hosts: Option<Vec<String>>,
}

impl std::fmt::Debug for AdminAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: its presence only.
        f.debug_struct("AdminAccess")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("hosts", &self.hosts)
            .finish()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_limit: 1024 * 1024,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            admin: AdminAccess { token: None, hosts: Some(Vec::new()) },
        }
    }
}

/// What every handler can reach: fixtures, the store, the token codec.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts of [`AppState`].
pub struct Inner {
    /// Security profiles, clients and customers.
    pub fixtures: Arc<Fixtures>,
    /// All mutable state.
    pub store: Arc<dyn Store>,
    /// Signs and verifies tokens.
    pub tokens: TokenCodec,
    /// The music catalog (read-only, shared by every session; a large one may still be building, see
    /// [`crate::catalog::CatalogCell`]).
    pub catalog: Arc<crate::catalog::CatalogCell>,
    /// Start-up limits.
    pub limits: Limits,
    /// Stream URL signing and the encoded-audio cache.
    pub streams: Arc<crate::stream::Streams>,
    /// The state file the store writes through to (`serve --state`), if any.
    pub state_file: Option<Arc<crate::store::sqlite::StateFile>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state.
    pub fn new(
        fixtures: Arc<Fixtures>,
        catalog: Arc<crate::catalog::CatalogCell>,
        store: Arc<dyn Store>,
        tokens: TokenCodec,
        limits: Limits,
        streams: Arc<crate::stream::Streams>,
    ) -> Self {
        AppState(Arc::new(Inner { fixtures, store, tokens, catalog, limits, streams, state_file: None }))
    }

    /// The same state, keeping the state file its store writes through to (so that a shutdown can wait for
    /// the last writes). Call it before the state is shared.
    pub fn with_state_file(self, file: Option<Arc<crate::store::sqlite::StateFile>>) -> Self {
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.state_file = file;
                AppState(Arc::new(inner))
            }
            Err(shared) => AppState(shared),
        }
    }
}

/// The session a request belongs to, resolved by the outer layer.
#[derive(Clone)]
pub struct Session {
    /// Its name.
    pub id: SessionId,
    /// Its state.
    pub store: Arc<dyn SessionStore>,
    /// `""` for the default session, `/s/{id}` otherwise: prefix for links the pages render.
    pub prefix: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, StatusCode> {
        parts.extensions.get::<Session>().cloned().ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The request's path as the routers see it, in full: without the `/s/{session}` prefix, canonicalised, and
/// on the Device API host under `/device` (nested routers see only the part below their prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanonicalPath(pub String);

/// The Device API's host (`music-api.md` §1): on it, `/` is the Device API's root.
pub const DEVICE_HOST: &str = "music-api.amazon.com";

/// The host name of a `Host` header value: no port, no trailing dot, lower case.
pub fn host_name(host: &str) -> String {
    let name = match host.rsplit_once(':') {
        Some((name, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!name.contains(':') || name.ends_with(']')) =>
        {
            name
        }
        _ => host,
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Adds to the journal note of a response (creating it when the handler set none).
pub fn note(resp: &mut Response, f: impl FnOnce(&mut JournalNote)) {
    match resp.extensions_mut().get_mut::<JournalNote>() {
        Some(n) => f(n),
        None => {
            let mut n = JournalNote::default();
            f(&mut n);
            resp.extensions_mut().insert(n);
        }
    }
}

/// An error response of any family: `status`, its JSON `body`, `Content-Type: application/json`, `Retry-After`
/// when given, and for the journal the wire `code` with what else the error noted.
pub fn error_response(
    status: axum::http::StatusCode,
    body: &impl serde::Serialize,
    code: &str,
    retry_after: Option<u64>,
    journal: Option<Box<JournalNote>>,
) -> Response {
    let mut resp = axum::response::IntoResponse::into_response((status, serde_json::to_vec(body).unwrap_or_default()));
    resp.headers_mut()
        .insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    if let Some(v) = retry_after.and_then(|s| axum::http::HeaderValue::from_str(&s.to_string()).ok()) {
        resp.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    let mut journal = journal.map(|n| *n).unwrap_or_default();
    journal.error = Some(code.to_owned());
    resp.extensions_mut().insert(journal);
    resp
}
