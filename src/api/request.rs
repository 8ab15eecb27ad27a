//! The request every family's handler starts from: [`ApiRequest`] and its gate (auth chain, injected faults,
//! rate limit), the body and path extractors that never reject before the gate, and parsing of `?ids=` lists
//! and JSON bodies.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::auth::{ApiKey, AuthError, Caller, Requires, authenticate};
use super::error::Problem;
use crate::context::{AppState, CanonicalPath, Session, note};
use crate::journal::{Api, JournalNote, fingerprint};
use crate::store::music::Fault;

/// A Music API request as every family's handler starts from it.
pub struct ApiRequest {
    /// Shared state (fixtures, catalog, store).
    pub state: AppState,
    /// The session.
    pub session: Session,
    /// Request headers.
    pub headers: HeaderMap,
    /// Method.
    pub method: Method,
    /// The whole canonical path (session prefix removed, `/v1`, `/v2` or `/device` kept).
    pub path: String,
    /// Raw query string.
    pub query: Option<String>,
    /// The query string decoded once, on first use (`None` inside: it does not decode to UTF-8).
    decoded_query: std::sync::OnceLock<Option<Vec<(String, String)>>>,
}

impl FromRequestParts<AppState> for ApiRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = Session::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        // Nested routers see only the part of the path below their prefix; faults match the whole path.
        let path = parts.extensions.get::<CanonicalPath>().map_or_else(|| parts.uri.path().to_owned(), |p| p.0.clone());
        Ok(ApiRequest {
            state: state.clone(),
            session,
            headers: parts.headers.clone(),
            method: parts.method.clone(),
            path,
            query: parts.uri.query().map(str::to_owned),
            decoded_query: std::sync::OnceLock::new(),
        })
    }
}

/// What a family's gate checks before the route runs.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// The route's scope.
    pub requires: Requires,
    /// How `x-api-key` is treated.
    pub api_key: ApiKey,
    /// Whether the per-token rate limit (`rate_limit_tps`) applies.
    pub rate_limited: bool,
}

/// Why the gate stopped a request.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// The auth chain refused it.
    Denied(AuthError),
    /// An injected fault with an error code matched it.
    Fault(Fault, Box<Caller>),
    /// Over the rate limit; retry after this many seconds.
    Throttled(u64, Box<Caller>),
}

impl Refusal {
    /// What the request's journal entry notes about the refusal: the auth chain's facts, or the caller and
    /// the fault injected.
    pub fn note(&self) -> JournalNote {
        let caller = |c: &Caller| JournalNote {
            client_id: Some(c.claims.cid.clone()),
            user_id: c.claims.sub.clone(),
            ..JournalNote::default()
        };
        match self {
            Refusal::Denied(e) => (*e.note).clone(),
            Refusal::Fault(f, c) => {
                let mut n = caller(c);
                n.facts.injected.push(format!("fault {}", f.error.as_deref().unwrap_or("")));
                n
            }
            Refusal::Throttled(_, c) => caller(c),
        }
    }
}

impl ApiRequest {
    /// The catalog.
    pub fn catalog(&self) -> &crate::catalog::Catalog {
        &self.state.catalog
    }

    /// Virtual now, epoch ms.
    pub fn now_ms(&self) -> i64 {
        self.session.store.now_ms()
    }

    /// The query's parameters, decoded once per request however often a handler asks (`None` when the query
    /// does not decode to UTF-8; no query is no parameters).
    pub fn query_pairs_ref(&self) -> Option<&[(String, String)]> {
        self.decoded_query
            .get_or_init(|| match self.query.as_deref() {
                None => Some(Vec::new()),
                Some(q) => crate::lwa::params::parse_form(q.as_bytes()),
            })
            .as_deref()
    }

    /// One query parameter (first value; `+` and `%XX` decoded).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs_ref()?.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A fresh UUID from the session's (seedable) random source.
    pub fn uuid(&self) -> String {
        crate::ids::uuid_from_u128(self.session.store.random_u128())
    }

    /// The auth chain, then injected faults (after a fault's latency), then the optional rate limit.
    ///
    /// # Errors
    /// The first [`Refusal`].
    pub async fn gate(&self, policy: Policy) -> Result<Caller, Refusal> {
        let caller = authenticate(&self.state, &self.session, &self.headers, policy.requires, policy.api_key)
            .await
            .map_err(Refusal::Denied)?;
        if let Some(fault) = self.session.store.music().take_fault(self.method.as_str(), &self.path).await {
            if let Some(ms) = fault.latency_ms {
                // Real latency: clients time out on wall-clock time, not the virtual clock.
                tokio::time::sleep(std::time::Duration::from_millis(ms.min(120_000))).await;
            }
            if fault.error.is_some() {
                return Err(Refusal::Fault(fault, Box::new(caller)));
            }
        }
        if policy.rate_limited {
            let tps = self.session.store.settings().await.rate_limit_tps;
            if tps > 0 {
                let key = format!("{}|{}", caller.claims.pid, caller.claims.jti);
                if let Err(retry_ms) = self.session.store.music().rate_limit(&key, f64::from(tps), self.now_ms()).await
                {
                    return Err(Refusal::Throttled(((retry_ms + 999) / 1000).max(1) as u64, Box::new(caller)));
                }
            }
        }
        Ok(caller)
    }

    /// After a route answered a caller the gate let through: the plan's `revoke` rule (the customer removes
    /// the app once this call is answered), and the journal's notes (customer, client, scopes, the scope used).
    pub async fn answered(&self, resp: &mut Response, caller: &Caller) {
        let user = caller.user_id().to_owned();
        let client = caller.claims.cid.clone();
        let revoked = self.session.store.plan_count_call(self.method.as_str(), &self.path);
        if revoked {
            self.session.store.revoke_grant(&user, &client).await;
        }
        note(resp, |n| {
            n.user_id = Some(user);
            n.client_id = Some(client);
            n.facts.scopes = Some(caller.claims.scp.clone());
            n.facts.scope_used = caller.scope_used.clone();
            if revoked {
                n.facts.injected.push("the customer removed the app after this call (plan)".into());
            }
        });
    }

    /// Notes in the response's journal entry the family whose gate judged the request (the verdict's
    /// per-family rules judge only these entries) and the bearer token's fingerprint.
    pub fn noted(&self, api: Api, mut resp: Response) -> Response {
        note(&mut resp, |n| n.facts.api = Some(api));
        let token = self
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim()))
            .filter(|t| !t.is_empty());
        if let Some(t) = token {
            note(&mut resp, |n| n.token = Some(fingerprint(t)));
        }
        resp
    }
}

/// A request body over the configured limit (`--body-limit`), or one that could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTooLarge(pub usize);

/// A request body, read up to the configured body limit (`--body-limit`, 1 MiB by default). A body over the
/// limit is not rejected here: like every other bad input it is reported after the auth chain, in the
/// family's error shape, when the handler asks for the bytes.
pub struct ApiBody(Result<Bytes, BodyTooLarge>);

impl FromRequest<AppState> for ApiBody {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.limits.body_limit;
        Ok(ApiBody(axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| BodyTooLarge(limit))))
    }
}

impl ApiBody {
    /// The body's bytes.
    ///
    /// # Errors
    /// [`BodyTooLarge`] when the body was over the limit.
    pub fn read(&self) -> Result<&[u8], BodyTooLarge> {
        self.0.as_deref().map_err(|e| *e)
    }

    /// The body's bytes (a family's error converts from the [`Problem`]).
    ///
    /// # Errors
    /// [`Problem::TooLarge`] when the body was over the limit.
    pub fn bytes(&self) -> Result<&[u8], Problem> {
        self.read().map_err(Problem::from)
    }
}

/// A path parameter that does not decode to UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPathSegment;

/// Path parameters, percent-decoded. A parameter that does not decode to UTF-8 is not rejected here (axum would
/// answer in plain text, before the auth chain): it is reported after the auth chain in the family's error
/// shape, when the handler asks for the value.
pub struct ApiPath<T>(Option<T>);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiPath<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ApiPath(axum::extract::Path::<T>::from_request_parts(parts, state).await.ok().map(|p| p.0)))
    }
}

impl<T> ApiPath<T> {
    /// The parameters.
    ///
    /// # Errors
    /// [`BadPathSegment`] when a parameter did not decode.
    pub fn value(&self) -> Result<&T, BadPathSegment> {
        self.0.as_ref().ok_or(BadPathSegment)
    }

    /// The parameters (a family's error converts from the [`Problem`]).
    ///
    /// # Errors
    /// [`Problem::BadPath`] when a parameter did not decode.
    pub fn get(&self) -> Result<&T, Problem> {
        self.value().map_err(Problem::from)
    }
}

/// The ids of a comma-separated `ids` parameter, trimmed, empty items dropped.
pub fn split_ids(raw: &str) -> Vec<String> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Parses a JSON request body; the error is what is wrong, as a sentence for the family's message.
///
/// # Errors
/// An empty body, or JSON that does not fit `T`.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("A JSON body is required.".to_owned());
    }
    serde_json::from_slice(body).map_err(|e| format!("Invalid JSON body: {e}."))
}
