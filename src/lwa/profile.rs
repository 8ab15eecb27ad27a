//! `GET /auth/o2/tokeninfo` and `GET /user/profile` (spec `lwa.md` §7, §8, §13.7), plus the legacy
//! `GET /ap/user/profile` shape that Auth.js still understands.

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{LwaError, lwa_json_headers};
use super::params::parse_form;
use super::tokens::{Claims, TokenKind};
use super::{TokenProblem, check_token};
use crate::context::{AppState, Session, note};
use crate::fixtures::Fixtures;
use crate::journal::fingerprint;
use crate::scope::ScopeSet;

/// The token of a request: `Authorization: Bearer` (any case), then `x-amz-access-token`, then
/// `?access_token=`.
pub fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        if let Some((scheme, rest)) = v.trim().split_once(' ') {
            if scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty() {
                return Some(rest.trim().to_owned());
            }
        }
    }
    if let Some(v) = headers.get("x-amz-access-token").and_then(|v| v.to_str().ok()) {
        if !v.trim().is_empty() {
            return Some(v.trim().to_owned());
        }
    }
    let pairs = parse_form(query?.as_bytes())?;
    pairs.into_iter().find(|(k, v)| k == "access_token" && !v.is_empty()).map(|(_, v)| v)
}

#[derive(Serialize)]
struct TokenInfo<'a> {
    aud: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    iss: &'static str,
    exp: i64,
    app_id: &'a str,
    iat: i64,
}

fn json(body: &impl Serialize) -> Response {
    let mut resp = serde_json::to_vec(body).unwrap_or_default().into_response();
    lwa_json_headers(&mut resp);
    resp
}

fn noted(mut resp: Response, token: &str, claims: Option<&Claims>) -> Response {
    let fp = fingerprint(token);
    note(&mut resp, |n| {
        n.token = Some(fp);
        if let Some(c) = claims {
            n.client_id = Some(c.cid.clone());
            n.user_id = c.sub.clone();
        }
    });
    resp
}

/// `GET /auth/o2/tokeninfo`: `aud`, `user_id`, `iss`, `exp` (seconds remaining), `app_id`, `iat`.
/// App (`Atc|`) tokens answer without `user_id` (an assumption: the real behaviour is unknown).
pub async fn tokeninfo(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let Some(token) = presented_token(&headers, q.as_deref()) else {
        return LwaError::missing("access_token").into_response();
    };
    match check_token(&state, &session, &token, &[TokenKind::Access, TokenKind::App]).await {
        Ok(c) => noted(json(&token_info(&c, session.store.now_ms())), &token, Some(&c)),
        Err(_) => noted(LwaError::invalid_token_info().into_response(), &token, None),
    }
}

/// What token info says of a valid token at `now_ms`: `exp` is the seconds it has left.
fn token_info(c: &Claims, now_ms: i64) -> TokenInfo<'_> {
    let now_s = now_ms.div_euclid(1000);
    TokenInfo {
        aud: &c.cid,
        user_id: c.sub.as_deref(),
        iss: "https://www.amazon.com",
        exp: c.exp.map_or(0, |e| (e - now_s).max(0)),
        app_id: &c.pid,
        iat: c.iat,
    }
}

#[derive(Serialize)]
struct ProfileBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    postal_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

async fn customer(state: &AppState, session: &Session, token: Option<String>) -> Result<(String, Claims), Response> {
    let Some(token) = token else {
        return Err(LwaError::missing("access_token").into_response());
    };
    match check_token(state, session, &token, &[TokenKind::Access]).await {
        Ok(c) => Ok((token, c)),
        Err(p) => {
            let mut e = LwaError::invalid_token_profile();
            if matches!(p, TokenProblem::Expired | TokenProblem::ForcedExpired) {
                e.description = "The access token provided is expired".into();
            }
            Err(super::error::bearer_invalid_token(noted(e.into_response(), &token, None)))
        }
    }
}

/// `GET /user/profile`: fields follow the granted scopes (`profile` → `user_id`, `name`, `email`;
/// `profile:user_id` → `user_id`; `postal_code` → `postal_code`). Every 401 carries the bearer challenge
/// (RFC 6750 §3).
pub async fn profile(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let (token, c) = match customer(&state, &session, presented_token(&headers, q.as_deref())).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let resp = profile_body(&state.fixtures, &c).map_or_else(IntoResponse::into_response, |b| json(&b));
    super::error::bearer_invalid_token(noted(resp, &token, Some(&c)))
}

/// The profile a customer token shows: the fields its scopes grant.
///
/// # Errors
/// `invalid_token` for a token whose customer is not a fixture, then `insufficient_scope` for a token with no
/// profile scope.
fn profile_body<'a>(fixtures: &'a Fixtures, c: &Claims) -> Result<ProfileBody<'a>, LwaError> {
    let user = c.sub.as_deref().and_then(|u| fixtures.user(u)).ok_or_else(LwaError::invalid_token_profile)?;
    let scopes = ScopeSet::parse(&c.scp).unwrap_or_default();
    let full = scopes.contains_str("profile");
    let id_only = scopes.contains_str("profile:user_id");
    let postal = scopes.contains_str("postal_code");
    if !full && !id_only && !postal {
        return Err(LwaError::insufficient_scope());
    }
    Ok(ProfileBody {
        user_id: (full || id_only).then_some(user.user_id.as_str()),
        name: full.then_some(user.name.as_str()),
        postal_code: postal.then_some(user.postal_code.as_str()),
        email: full.then_some(user.email.as_str()),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LegacyProfile<'a> {
    customer_id: &'a str,
    name: &'a str,
    primary_email: &'a str,
}

/// `GET /ap/user/profile`: the legacy `{"Profile":{"CustomerId","Name","PrimaryEmail"}}` shape, `profile` scope.
pub async fn legacy_profile(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let (token, c) = match customer(&state, &session, presented_token(&headers, q.as_deref())).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    noted(legacy_body(&state.fixtures, &c).map_or_else(IntoResponse::into_response, |b| json(&b)), &token, Some(&c))
}

/// The legacy profile of a customer token with the `profile` scope.
///
/// # Errors
/// `insufficient_scope` for a token without `profile`, or whose customer is not a fixture.
fn legacy_body(fixtures: &Fixtures, c: &Claims) -> Result<serde_json::Value, LwaError> {
    let user = c.sub.as_deref().and_then(|u| fixtures.user(u));
    let scopes = ScopeSet::parse(&c.scp).unwrap_or_default();
    match user {
        Some(u) if scopes.contains_str("profile") => {
            let profile = LegacyProfile { customer_id: u.user_id.as_str(), name: &u.name, primary_email: &u.email };
            Ok(serde_json::json!({ "Profile": profile }))
        }
        _ => Err(LwaError::insufficient_scope()),
    }
}
