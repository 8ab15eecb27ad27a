//! `LwaError`: every JSON error the LWA endpoints answer, in LWA's wire shape (spec `lwa.md` §9).
//!
//! The body is `{"error_description":"…","error":"…"}` (description first, as the live service sends it),
//! with `Content-Type: application/json;charset=UTF-8`, `Cache-Control: no-store` and `Pragma: no-cache`.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::journal::JournalNote;

/// LWA's JSON content type, spelled as the service sends it.
pub const LWA_JSON: &str = "application/json;charset=UTF-8";

/// An LWA error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LwaError {
    /// HTTP status.
    pub status: StatusCode,
    /// The `error` code.
    pub error: &'static str,
    /// The `error_description`.
    pub description: Cow<'static, str>,
    /// `Allow` header for 405 answers.
    pub allow: Option<&'static str>,
    /// What a plan did, for the journal (`slow_down (plan)`).
    pub injected: Option<&'static str>,
}

#[derive(Serialize)]
struct Body<'a> {
    error_description: &'a str,
    error: &'a str,
}

impl LwaError {
    /// Marks the error as one a plan caused, for the journal.
    pub fn injected(mut self, what: &'static str) -> Self {
        self.injected = Some(what);
        self
    }

    fn new(status: StatusCode, error: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        LwaError { status, error, description: description.into(), allow: None, injected: None }
    }

    /// 400 `invalid_request` "The request is missing a required parameter : NAME".
    pub fn missing(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("The request is missing a required parameter : {param}"),
        )
    }

    /// 400 `invalid_request` "The request has an invalid parameter : NAME".
    pub fn invalid_param(param: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", format!("The request has an invalid parameter : {param}"))
    }

    /// 400 `invalid_request` "Malformed request" (undecodable body, unsupported content type).
    pub fn malformed() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", "Malformed request")
    }

    /// 413 with an `invalid_request` body: the body is over the size limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("The request body is larger than {limit} bytes"),
        )
    }

    /// 405 with an `invalid_request` body and an `Allow` header.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        let mut e = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            format!("The request method is not supported : use {allow}"),
        );
        e.allow = Some(allow);
        e
    }

    /// 401 `invalid_client` "Client authentication failed".
    pub fn invalid_client() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed")
    }

    /// 400 `invalid_grant` "The request has an invalid grant parameter : NAME".
    pub fn invalid_grant(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            format!("The request has an invalid grant parameter : {param}"),
        )
    }

    /// 400 `invalid_grant` for a revoked, unknown or foreign refresh token.
    pub fn invalid_refresh_token() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.",
        )
    }

    /// 400 `unsupported_grant_type`.
    pub fn unsupported_grant_type() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server",
        )
    }

    /// 400 `invalid_scope` "The request has an invalid parameter : scope" (token endpoint).
    pub fn invalid_scope_param() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", "The request has an invalid parameter : scope")
    }

    /// 400 `invalid_scope` "An unknown scope was requested" (code pair).
    pub fn unknown_scope() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", "An unknown scope was requested")
    }

    /// 400 `unauthorized_client` "Not authorized for requested operation".
    pub fn unauthorized_client() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", "Not authorized for requested operation")
    }

    /// 400 `unsupported_response_type` (code pair with another `response_type`).
    pub fn unsupported_response_type() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            "The authorization server does not support obtaining a device code using this method",
        )
    }

    /// 400 `authorization_pending`: keep polling.
    pub fn authorization_pending() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "authorization_pending",
            "The user has not yet entered the code or authorized the device",
        )
    }

    /// 400 `slow_down`: the device polls too fast.
    pub fn slow_down() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "slow_down",
            "The device is polling too frequently; increase the interval by 5 seconds",
        )
    }

    /// 400 `invalid_code_pair`: the code pair expired, was used, or never existed.
    pub fn invalid_code_pair() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_code_pair",
            "The code pair has expired or is invalid; request a new code pair",
        )
    }

    /// 400 `expired_token`: the device code expired (alternative to `invalid_code_pair`).
    pub fn expired_token() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "expired_token", "The device code has expired; request a new code pair")
    }

    /// 400 `access_denied`: the customer declined the code pair.
    pub fn access_denied() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "access_denied", "The user denied the authorization request")
    }

    /// 400 `invalid_token` for tokeninfo.
    pub fn invalid_token_info() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_token", "The request has an invalid parameter : access_token")
    }

    /// 401 `invalid_token` for `/user/profile`.
    pub fn invalid_token_profile() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token provided is expired, revoked, malformed, or invalid for other reasons.",
        )
    }

    /// 403 `insufficient_scope` for `/user/profile` with a token that has no profile scope.
    pub fn insufficient_scope() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "The access token does not have a profile, profile:user_id or postal_code scope",
        )
    }

    /// 500 `server_error`.
    pub fn server_error() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "The authorization server encountered an unexpected error",
        )
    }
}

/// The realm of LWA's challenges (`WWW-Authenticate`; `docs/ROUTES.md` A52).
pub const LWA_REALM: &str = "Login with Amazon";

/// Whether a request tried HTTP Basic client authentication (an `Authorization` header whose scheme is
/// `Basic`, decodable or not).
pub fn sent_basic(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split(' ').next())
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("basic"))
}

/// RFC 6749 §5.2: a 401 `invalid_client` answered to a client that authenticated with HTTP Basic carries
/// `WWW-Authenticate: Basic realm="Login with Amazon"`, the scheme it used. Other answers are left alone.
pub fn basic_challenge(mut resp: Response, sent_basic: bool) -> Response {
    if sent_basic && resp.status() == StatusCode::UNAUTHORIZED {
        let value = format!("Basic realm=\"{LWA_REALM}\"");
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    resp
}

/// RFC 6750 §3: the `WWW-Authenticate` of a 401 from a resource LWA protects with bearer tokens (the customer
/// profile): `Bearer realm="Login with Amazon", error="invalid_token"` for a token that was sent and refused.
pub fn bearer_invalid_token(mut resp: Response) -> Response {
    if resp.status() == StatusCode::UNAUTHORIZED {
        let value = format!("Bearer realm=\"{LWA_REALM}\", error=\"invalid_token\"");
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    resp
}

/// Adds LWA's no-cache headers and JSON content type to a response.
pub fn lwa_json_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(LWA_JSON));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl IntoResponse for LwaError {
    fn into_response(self) -> Response {
        let body =
            serde_json::to_vec(&Body { error_description: &self.description, error: self.error }).unwrap_or_default();
        let mut resp = (self.status, body).into_response();
        lwa_json_headers(&mut resp);
        if let Some(allow) = self.allow {
            resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        let mut note = JournalNote { error: Some(self.error.to_owned()), ..Default::default() };
        note.facts.injected.extend(self.injected.map(str::to_owned));
        resp.extensions_mut().insert(note);
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_puts_the_description_first() {
        let e = LwaError::invalid_client();
        let body = serde_json::to_string(&Body { error_description: &e.description, error: e.error }).unwrap();
        assert_eq!(body, r#"{"error_description":"Client authentication failed","error":"invalid_client"}"#);
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
    }
}
