//! A family of the Music API as the core sees it: the [`Family`] trait says how the family gates a route,
//! maps refusals and problems to its wire error, and renders its answers; [`Ctx::handle`] is the one
//! sequence every route of every family runs:
//!
//! 1. the family's own check before the gate ([`Family::admit`]: V2's `X-Amzn-Device-Id`);
//! 2. the gate ([`ApiRequest::gate`]): the auth chain, injected faults, the rate limit, as the family's
//!    [`Family::policy`] says;
//! 3. the query string decoded once (a query that does not decode is a bad request in every family), and
//!    what the family reads from it before the route ([`Family::shape`]: V2's sparse fieldsets);
//! 4. the route's closure: extract, one core call, and the family's rendering of the result;
//! 5. the family's envelope ([`Family::render`]), with RFC 6750's `WWW-Authenticate` on a 401
//!    ([`bearer_challenge`]); then the journal's notes: the caller once the gate let it through (and the plan's
//!    `revoke` rule), the family, the token's fingerprint.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;

use super::auth::{Caller, Denial, Requires, bearer_challenge};
use super::error::{Problem, QUERY_NOT_UTF8};
use super::request::{ApiRequest, Policy, Refusal};
use crate::context::AppState;
use crate::journal::Api;

/// One family of the Music API: its gate policy, its wire error and its envelope.
pub trait Family: Send + Sync + Sized + 'static {
    /// The family, as the journal names it (the verdict's per-family rules judge by it).
    const API: Api;
    /// The family's wire error.
    type Error: From<Problem>;
    /// What a route's closure answers (V1: the `data` payload; V2 and the Device API: a `Reply`).
    type Answer;
    /// What the family reads from the query before the route (V2's fieldsets; `()` for the others).
    type Shape;

    /// What the gate checks for a route that requires `requires`.
    fn policy(requires: Requires) -> Policy;

    /// Checks before the gate.
    ///
    /// # Errors
    /// The family's error for a request it refuses before the auth chain.
    fn admit(_req: &ApiRequest) -> Result<(), Self::Error> {
        Ok(())
    }

    /// The family's error for a request the gate stopped, with the refusal's journal note.
    fn refused(refusal: Refusal) -> Self::Error;

    /// Reads what the family needs from the decoded query before the route.
    ///
    /// # Errors
    /// The family's error for a query it cannot use.
    fn shape(pairs: &[(String, String)]) -> Result<Self::Shape, Self::Error>;

    /// The response: the route's answer in the family's envelope, or its error (`shape` is `None` when the
    /// request never got that far).
    fn render(req: &ApiRequest, shape: Option<Self::Shape>, out: Result<Self::Answer, Self::Error>) -> Response;
}

/// A family's request context: the [`ApiRequest`] tagged with the family (`v1::V1Ctx`, `v2::V2Ctx`,
/// `device::DeviceCtx`).
pub struct Ctx<F>(ApiRequest, std::marker::PhantomData<F>);

impl<F> std::ops::Deref for Ctx<F> {
    type Target = ApiRequest;
    fn deref(&self) -> &ApiRequest {
        &self.0
    }
}

impl<F: Send + Sync> FromRequestParts<AppState> for Ctx<F> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        ApiRequest::from_request_parts(parts, state).await.map(|r| Ctx(r, std::marker::PhantomData))
    }
}

impl<F: Family> Ctx<F> {
    /// Runs the family's check, the gate and the query, then `f`; answers in the family's envelope.
    pub async fn handle(
        &self,
        requires: Requires,
        f: impl AsyncFnOnce(&Caller) -> Result<F::Answer, F::Error>,
    ) -> Response {
        let mut caller = None;
        let mut token_refused = false;
        let (shape, out) = match self.prepare(requires, &mut caller, &mut token_refused).await {
            Ok(shape) => match &caller {
                Some(c) => (Some(shape), f(c).await),
                None => (None, Err(Problem::Internal.into())),
            },
            Err(e) => (None, Err(e)),
        };
        let mut resp = F::render(self, shape, out);
        if resp.status() == axum::http::StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, bearer_challenge(token_refused));
        }
        if let Some(c) = &caller {
            self.answered(&mut resp, c).await;
        }
        self.noted(F::API, resp)
    }

    /// Everything before the route; `caller` is set once the gate lets the request through, `token_refused`
    /// when the gate refused the token sent (the auth chain found it bad, or a fault answered as if it were).
    async fn prepare(
        &self,
        requires: Requires,
        caller: &mut Option<Caller>,
        token_refused: &mut bool,
    ) -> Result<F::Shape, F::Error> {
        F::admit(self)?;
        let gated = self.gate(F::policy(requires)).await.inspect_err(|r| {
            *token_refused =
                matches!(r, Refusal::Denied(e) if e.denial == Denial::BadToken) || matches!(r, Refusal::Fault(..));
        });
        *caller = Some(gated.map_err(F::refused)?);
        let pairs = self.query_pairs_ref().ok_or_else(|| F::Error::from(Problem::bad_request(QUERY_NOT_UTF8)))?;
        F::shape(pairs)
    }
}
