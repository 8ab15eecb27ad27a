//! Login With Amazon: the authorization page, the token endpoint with every grant, code-based linking,
//! token info and the customer profile (spec `lwa.md`).
//!
//! Files: `authorize.rs` (`/ap/oa` and its pages), `token.rs` (`/auth/o2/token`), `device.rs`
//! (`/auth/o2/create/codepair` and the `/us/code` verification page), `profile.rs` (`tokeninfo`,
//! `/user/profile`), `tokens.rs` (the signed token format), `params.rs` (how parameters are read),
//! `error.rs` (`LwaError`), `pages.rs` (the HTML). This file holds the router and the domain rules
//! the endpoints share: client authentication, token issue and token checks.

pub mod authorize;
pub mod device;
pub mod error;
pub mod pages;
pub mod params;
pub mod profile;
pub mod token;
pub mod tokens;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use crate::context::{AppState, Session};
use crate::fixtures::{Client, SecurityProfile};
use crate::journal::fingerprint;
use crate::scope::ScopeSet;
use crate::store::TokenState;
use error::{LwaError, lwa_json_headers};
use params::LwaParams;
use tokens::{Claims, TokenError, TokenKind};

/// The header that names, beside an answer, what a developer can change (the project's `x-amm-` prefix: never
/// inside Amazon's own strings).
pub const HINT_HEADER: &str = "x-amm-hint";

/// A leniency or a faithful refusal a generic library is likely to trip on, with the hint that goes beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// The code pair request lacked `response_type=device_code`.
    CodepairResponseType,
    /// The token request used the RFC 8628 URN as `grant_type`.
    DeviceCodeGrantUrn,
}

impl Hint {
    /// The text of `x-amm-hint` (ASCII, one line).
    pub fn text(self) -> &'static str {
        match self {
            Hint::CodepairResponseType => {
                "LWA requires response_type=device_code on the code pair request (lwa.md 5): add it as an extra \
                 parameter of the device authorization request. The session setting \
                 accept_codepair_without_response_type lets the request through; the verdict rule lwa-no-leniency \
                 then fails the client."
            }
            Hint::DeviceCodeGrantUrn => {
                "LWA documents grant_type=device_code (lwa.md 4.4); the RFC 8628 URN is accepted by this mock as an \
                 alias only while the session setting strict_lwa is off, and the verdict rule lwa-no-leniency fails \
                 the client that sends it."
            }
        }
    }

    /// The leniency it is when the request was let through.
    pub fn leniency(self) -> crate::journal::Leniency {
        match self {
            Hint::CodepairResponseType => crate::journal::Leniency::CodepairWithoutResponseType,
            Hint::DeviceCodeGrantUrn => crate::journal::Leniency::DeviceCodeGrantUrn,
        }
    }

    /// Puts the hint beside an answer (header and journal) and, when the request was let through, notes the
    /// leniency it needed.
    pub fn attach(self, resp: &mut Response, accepted: bool) {
        resp.headers_mut().insert(HINT_HEADER, axum::http::HeaderValue::from_static(self.text()));
        crate::context::note(resp, |n| {
            n.facts.hint = Some(self.text().to_owned());
            if accepted {
                n.facts.leniency = Some(self.leniency());
            }
        });
    }
}

/// The LWA routes. Paths are already lower-cased by the outer layer, so `/auth/O2/…` lands here too.
pub fn router() -> Router<AppState> {
    let post_only = || LwaError::method_not_allowed("POST");
    let get_only = || LwaError::method_not_allowed("GET");
    Router::new()
        .route("/auth/o2/token", post(token::token).fallback(move || async move { post_only() }))
        .route("/auth/o2/create/codepair", post(device::codepair).fallback(move || async move { post_only() }))
        .route("/auth/o2/tokeninfo", get(profile::tokeninfo).fallback(move || async move { get_only() }))
        .route("/user/profile", get(profile::profile).fallback(move || async move { get_only() }))
        .route("/ap/user/profile", get(profile::legacy_profile).fallback(move || async move { get_only() }))
        .route("/ap/oa", get(authorize::authorize_get).post(authorize::authorize_post))
        .route("/us/code", get(device::verify_page).post(device::verify_submit))
}

/// A client that presented itself at the token endpoint.
pub struct AuthenticatedClient<'a> {
    /// Its security profile.
    pub profile: &'a SecurityProfile,
    /// The client.
    pub client: &'a Client,
    /// Whether a correct secret was presented (false: no secret at all).
    pub with_secret: bool,
}

/// Identifies the client from HTTP Basic or `client_id`, and checks a secret when one is presented.
///
/// `Ok(None)` when the request names no client at all (allowed for the device-code grant).
///
/// # Errors
/// 401 `invalid_client` for an unknown client, a wrong secret, a secret sent by a client that has none,
/// or Basic and `client_id` naming different clients.
pub fn identify_client<'a>(
    state: &'a AppState,
    params: &LwaParams,
) -> Result<Option<AuthenticatedClient<'a>>, LwaError> {
    let param_id = params.get("client_id")?;
    let param_secret = params.get("client_secret")?;
    let (id, secret) = match &params.basic {
        Some(b) => {
            if param_id.is_some_and(|p| p != b.client_id) {
                return Err(LwaError::invalid_client());
            }
            (Some(b.client_id.as_str()), Some(b.client_secret.as_str()).filter(|s| !s.is_empty()).or(param_secret))
        }
        None => (param_id, param_secret),
    };
    let Some(id) = id else { return Ok(None) };
    let (profile, client) = state.fixtures.client(id).ok_or_else(LwaError::invalid_client)?;
    let with_secret = match (secret, &client.client_secret) {
        (None, _) => false,
        (Some(s), Some(real)) if real.matches(s) => true,
        _ => return Err(LwaError::invalid_client()),
    };
    Ok(Some(AuthenticatedClient { profile, client, with_secret }))
}

/// A token endpoint success body for customer grants, keys in the real order (`lwa.md` §4.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// `Atza|…`
    pub access_token: String,
    /// `Atzr|…`; absent for a public client without refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: u64,
    /// The ids (`jti`) of the tokens issued, for the store (not on the wire): an authorization code's
    /// exchange binds them to the code, so that a replay of the code revokes exactly them.
    #[serde(skip)]
    pub token_ids: Vec<String>,
}

/// The `client_credentials` success body (`lwa.md` §4.3): `scope`, and no refresh token.
#[derive(Debug, Serialize)]
pub struct AppTokenResponse {
    /// `Atc|…`
    pub access_token: String,
    /// Granted scopes.
    pub scope: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: u64,
}

/// What the journal notes about tokens issued: the client, the customer and the tokens' fingerprints.
pub struct Issued<'a> {
    /// The client.
    pub client_id: &'a str,
    /// The customer (none for app tokens).
    pub user_id: Option<&'a str>,
    /// The access token.
    pub access_token: &'a str,
    /// The refresh token, when one was returned.
    pub refresh_token: Option<&'a str>,
    /// The granted scopes.
    pub scopes: String,
    /// The access token's lifetime, seconds.
    pub expires_in: u64,
}

/// Serialises a token-endpoint success with LWA's headers, noting what was issued.
pub fn token_json<T: Serialize>(body: &T, issued: Issued<'_>) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = bytes.into_response();
    lwa_json_headers(&mut resp);
    crate::context::note(&mut resp, |n| {
        n.client_id = Some(issued.client_id.to_owned());
        n.user_id = issued.user_id.map(str::to_owned);
        n.token = Some(fingerprint(issued.access_token));
        n.facts.refresh_token = issued.refresh_token.map(fingerprint);
        n.facts.scopes = Some(issued.scopes);
        n.facts.expires_in = Some(issued.expires_in);
    });
    resp
}

/// The rules for issuing tokens.
pub struct Issue<'a> {
    /// The client.
    pub profile: &'a SecurityProfile,
    /// Its client record.
    pub client: &'a Client,
    /// The customer.
    pub user_id: &'a str,
    /// Granted scopes.
    pub scopes: &'a ScopeSet,
    /// Whether the refresh token may be refreshed without a secret.
    pub public_refresh: bool,
}

/// `now_s + lifetime`, saturating: the admin API bounds the lifetime, and this keeps any other value from
/// overflowing.
fn expiry(now_s: i64, lifetime: u64) -> i64 {
    now_s.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX))
}

/// The `sid` claim of tokens issued now in `session`: its name, followed by `~<epoch>` once it has been
/// reset (`~` cannot occur in a session name), so that a token from before a reset no longer verifies.
pub fn token_sid(session: &Session) -> String {
    match session.store.epoch() {
        0 => session.id.as_str().to_owned(),
        n => format!("{}~{n}", session.id),
    }
}

fn token_id(session: &Session) -> String {
    format!("{:032x}", session.store.random_u128())
}

/// Mints an access token (and, unless withheld, a refresh token) for a customer grant.
pub async fn issue_user_tokens(
    state: &AppState,
    session: &Session,
    issue: Issue<'_>,
    with_refresh: bool,
) -> TokenResponse {
    let now_s = session.store.now_ms().div_euclid(1000);
    let lifetime = session.store.settings().await.access_token_lifetime_seconds;
    let generation = session.store.grant_generation(issue.user_id, issue.client.client_id.as_str()).await;
    let base = Claims {
        knd: TokenKind::Access,
        sid: token_sid(session),
        sub: Some(issue.user_id.to_owned()),
        cid: issue.client.client_id.as_str().to_owned(),
        pid: issue.profile.security_profile_id.as_str().to_owned(),
        scp: issue.scopes.to_string(),
        iat: now_s,
        exp: Some(expiry(now_s, lifetime)),
        gen_: generation,
        jti: token_id(session),
        pc: false,
        rti: None,
    };
    let mut token_ids = vec![base.jti.clone()];
    let refresh_token = with_refresh.then(|| {
        let r = Claims {
            knd: TokenKind::Refresh,
            exp: None,
            jti: token_id(session),
            pc: issue.public_refresh,
            ..base.clone()
        };
        token_ids.push(r.jti.clone());
        state.tokens.mint(&r)
    });
    TokenResponse {
        access_token: state.tokens.mint(&base),
        refresh_token,
        token_type: "bearer",
        expires_in: lifetime,
        token_ids,
    }
}

/// Mints a new access token from a refresh token's claims (same grant, same scopes), naming the refresh token
/// (`rti`) so that it dies with it.
pub async fn reissue_access(state: &AppState, session: &Session, refresh: &Claims) -> (String, u64) {
    let now_s = session.store.now_ms().div_euclid(1000);
    let lifetime = session.store.settings().await.access_token_lifetime_seconds;
    let c = Claims {
        knd: TokenKind::Access,
        iat: now_s,
        exp: Some(expiry(now_s, lifetime)),
        jti: token_id(session),
        pc: false,
        rti: Some(refresh.jti.clone()),
        ..refresh.clone()
    };
    (state.tokens.mint(&c), lifetime)
}

/// Mints an `Atc|` app token.
pub async fn issue_app_token(
    state: &AppState,
    session: &Session,
    profile: &SecurityProfile,
    client: &Client,
    scopes: &ScopeSet,
) -> AppTokenResponse {
    let now_s = session.store.now_ms().div_euclid(1000);
    let lifetime = session.store.settings().await.access_token_lifetime_seconds;
    let c = Claims {
        knd: TokenKind::App,
        sid: token_sid(session),
        sub: None,
        cid: client.client_id.as_str().to_owned(),
        pid: profile.security_profile_id.as_str().to_owned(),
        scp: scopes.to_string(),
        iat: now_s,
        exp: Some(expiry(now_s, lifetime)),
        gen_: 0,
        jti: token_id(session),
        pc: false,
        rti: None,
    };
    AppTokenResponse {
        access_token: state.tokens.mint(&c),
        scope: scopes.to_string(),
        token_type: "bearer",
        expires_in: lifetime,
    }
}

/// Why a presented token cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not one of our tokens (bad prefix, encoding or structure).
    Malformed,
    /// The signature does not verify.
    Forged,
    /// Issued in another session, or in this one before a reset.
    OtherSession,
    /// Past `exp` on the session's virtual clock.
    Expired,
    /// Forced to expire by the admin API.
    ForcedExpired,
    /// Its grant was revoked.
    Revoked,
    /// The wrong family (a refresh token used as an access token, …).
    WrongKind,
}

impl TokenProblem {
    /// The journal's name for it (`expired`, `revoked`, …).
    pub fn code(self) -> &'static str {
        match self {
            TokenProblem::Malformed => "malformed",
            TokenProblem::Forged => "forged",
            TokenProblem::OtherSession => "other_session",
            TokenProblem::Expired => "expired",
            TokenProblem::ForcedExpired => "forced_expired",
            TokenProblem::Revoked => "revoked",
            TokenProblem::WrongKind => "wrong_kind",
        }
    }
}

/// Verifies a token of one of the `kinds` against signature, session, virtual-clock expiry, forced
/// expiry and grant revocation.
///
/// # Errors
/// The first [`TokenProblem`] found.
pub async fn check_token(
    state: &AppState,
    session: &Session,
    token: &str,
    kinds: &[TokenKind],
) -> Result<Claims, TokenProblem> {
    let claims = state.tokens.verify(token).map_err(|e| match e {
        TokenError::Malformed => TokenProblem::Malformed,
        TokenError::BadSignature => TokenProblem::Forged,
    })?;
    if !kinds.contains(&claims.knd) {
        return Err(TokenProblem::WrongKind);
    }
    if claims.sid != token_sid(session) {
        return Err(TokenProblem::OtherSession);
    }
    if let Some(exp) = claims.exp {
        if session.store.now_ms() >= exp.saturating_mul(1000) {
            return Err(TokenProblem::Expired);
        }
    }
    let grant = claims.sub.as_deref().map(|u| (u, claims.cid.as_str()));
    match session.store.token_state(&claims.jti, grant, claims.gen_).await {
        TokenState::Active => {}
        TokenState::Revoked => return Err(TokenProblem::Revoked),
        TokenState::ForcedExpired => return Err(TokenProblem::ForcedExpired),
    }
    // An access token minted by a refresh dies with its refresh token when that one is revoked alone (a
    // replayed code, A55); a refresh token forced to expire leaves it to its own lifetime.
    if let Some(refresh) = &claims.rti {
        if session.store.token_state(refresh, None, 0).await == TokenState::Revoked {
            return Err(TokenProblem::Revoked);
        }
    }
    Ok(claims)
}

/// Resolves the scopes of a request against a profile: the default scope when none were asked for
/// (music-enabled profiles), and whether every scope is allowed.
pub enum ScopeRequest {
    /// Every scope is allowed.
    Allowed(ScopeSet),
    /// No scope was requested and the profile has no default.
    Missing,
    /// Syntactically invalid, unknown, or outside the allow-list.
    Unknown,
}

/// Applies the allow-list and the default-scope rule (`lwa.md` §13.6, issue: default `music::library:read`).
pub fn resolve_scopes(profile: &SecurityProfile, requested: Option<&str>) -> ScopeRequest {
    let Some(raw) = requested.filter(|s| !s.trim().is_empty()) else {
        return match &profile.default_scope {
            Some(d) => ScopeRequest::Allowed(ScopeSet::new([d.clone()])),
            None => ScopeRequest::Missing,
        };
    };
    match ScopeSet::parse(raw) {
        Ok(set) if !set.is_empty() && set.iter().all(|s| profile.allows(s)) => ScopeRequest::Allowed(set),
        _ => ScopeRequest::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_saturates_instead_of_overflowing() {
        assert_eq!(expiry(1_700_000_000, 3600), 1_700_003_600);
        assert_eq!(expiry(1_700_000_000, u64::MAX), i64::MAX);
        assert_eq!(expiry(1_700_000_000, i64::MAX as u64), i64::MAX);
    }
}
