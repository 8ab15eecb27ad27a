//! The V1 auth chain (spec `music-api.md` §11.2), checked in this order on every V1 route:
//! 1. no `Authorization` header, or no bearer token in it → 401 `INVALID_AUTH_TYPE`;
//! 2. `Bearer ` with an empty token → 401 `INVALID_AUTH_TOKEN`;
//! 3. an unknown, expired (virtual clock), revoked or forged token → 401 `INVALID_ACCESS_TOKEN`;
//! 4. `x-api-key` missing, unknown, a client id instead of a security profile id, a profile not enabled
//!    for music, or not the profile the token was issued under → 403 `ACCESS_DENIED`;
//! 5. the token lacks the route's scope (supersede rule applies) → 403 `ACCESS_DENIED`;
//! 6. the customer has no Amazon Music account → 403 `AUTH_NO_MUSIC_ACCOUNT_FOUND`.
//!
//! Messages say what to do: which id `x-api-key` must hold, and which scope the route needs next to the
//! scopes the token has.

use axum::http::HeaderMap;

use super::error::{Code, MusicError};
use crate::app::{AppState, Session};
use crate::fixtures::User;
use crate::lwa::tokens::{Claims, TokenKind};
use crate::lwa::{TokenProblem, check_token};
use crate::scope::{Scope, ScopeSet};

/// What a route requires: any one of these scopes.
#[derive(Debug, Clone, Copy)]
pub struct Requires(pub &'static [&'static str]);

impl Requires {
    /// `music::catalog`.
    pub const CATALOG: Requires = Requires(&["music::catalog"]);
    /// `music::library:read` (or `music::library`).
    pub const LIBRARY_READ: Requires = Requires(&["music::library:read"]);
    /// `music::library`.
    pub const LIBRARY: Requires = Requires(&["music::library"]);
    /// `music::favorites:read` (or `music::favorites`).
    pub const FAVORITES_READ: Requires = Requires(&["music::favorites:read"]);
    /// `music::favorites`.
    pub const FAVORITES: Requires = Requires(&["music::favorites"]);
    /// `music::history`.
    pub const HISTORY: Requires = Requires(&["music::history"]);
    /// `music::profile:read` or `music::profile` (the doc labels are swapped between GET and PUT).
    pub const PROFILE_EITHER: Requires = Requires(&["music::profile:read", "music::profile"]);
    /// `music::recommendation`.
    pub const RECOMMENDATION: Requires = Requires(&["music::recommendation"]);
    /// `music::playback`.
    pub const PLAYBACK: Requires = Requires(&["music::playback"]);

    fn describe(self) -> String {
        self.0.join(" or ")
    }
}

/// The authenticated caller of a V1 route.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The verified token's claims.
    pub claims: Claims,
    /// The customer.
    pub user: User,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// The granted scope that satisfied the route's requirement.
    pub scope_used: Option<String>,
}

impl Caller {
    /// The customer id.
    pub fn user_id(&self) -> &str {
        self.user.user_id.as_str()
    }
}

fn denied(message: String) -> MusicError {
    MusicError::new(Code::AccessDenied, message)
}

/// Runs the auth chain for a route.
///
/// # Errors
/// The first failing step's [`MusicError`].
pub async fn check(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    requires: Requires,
) -> Result<Caller, MusicError> {
    // 1–2: the header and its scheme.
    let auth = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::trim);
    let token = match auth {
        None => {
            return Err(MusicError::new(
                Code::InvalidAuthType,
                "Missing Authorization header. Send Authorization: Bearer <LWA access token>.",
            ));
        }
        Some(v) => match v.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ if v.eq_ignore_ascii_case("bearer") => "",
            _ => {
                return Err(MusicError::new(
                    Code::InvalidAuthType,
                    "The Authorization header does not carry a bearer token. Send Authorization: Bearer <LWA access token>.",
                ));
            }
        },
    };
    if token.is_empty() {
        return Err(MusicError::new(Code::InvalidAuthToken, "The bearer token is empty."));
    }
    // 3: the token itself.
    let claims = match check_token(state, session, token, &[TokenKind::Access, TokenKind::App]).await {
        Ok(c) if c.knd == TokenKind::App => {
            return Err(MusicError::new(
                Code::InvalidAccessToken,
                "App-only (client_credentials, Atc|) tokens cannot call the Music API: use a customer's LWA access token.",
            ));
        }
        Ok(c) => c,
        Err(p) => {
            let problem = p.code();
            let message = match p {
                TokenProblem::Expired | TokenProblem::ForcedExpired => {
                    "The access token has expired. Refresh it and retry."
                }
                TokenProblem::Revoked => "The access token is no longer valid: the customer revoked the grant.",
                TokenProblem::WrongKind => "A refresh token is not an access token.",
                _ => "The access token is invalid.",
            };
            return Err(MusicError::new(Code::InvalidAccessToken, message)
                .noting(|n| n.facts.token_problem = Some(problem.to_owned())));
        }
    };
    let caller_note = |e: MusicError| {
        e.noting(|n| {
            n.client_id = Some(claims.cid.clone());
            n.user_id = claims.sub.clone();
            n.facts.scopes = Some(claims.scp.clone());
        })
    };
    // 4: x-api-key must be the security profile the token was issued under, enabled for music.
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim).filter(|k| !k.is_empty());
    let Some(key) = key else {
        return Err(caller_note(denied(format!(
            "Missing x-api-key header: send the security profile id ({}).",
            claims.pid
        ))));
    };
    if key.starts_with("amzn1.application-oa2-client.") {
        return Err(caller_note(denied(format!(
            "x-api-key holds a client id ({key}); the Music API expects the security profile id (amzn1.application.…): {} for this access token.",
            claims.pid
        ))));
    }
    let Some(profile) = state.fixtures.profile(key) else {
        return Err(caller_note(denied(format!("x-api-key {key} is not a known security profile id."))));
    };
    if !profile.music_enabled {
        return Err(caller_note(denied(format!(
            "Security profile {key} is not enabled for the Amazon Music API; it must be enabled by the Amazon Music team."
        ))));
    }
    if profile.security_profile_id.as_str() != claims.pid {
        return Err(caller_note(denied(format!(
            "x-api-key {key} is not the security profile the access token was issued under ({}).",
            claims.pid
        ))));
    }
    // 5: scope.
    let scopes = ScopeSet::parse(&claims.scp).unwrap_or_default();
    let alternatives: Vec<Scope> = requires.0.iter().filter_map(|s| Scope::parse(s).ok()).collect();
    if !scopes.satisfies_any(&alternatives) {
        let has = if scopes.is_empty() { "none".to_owned() } else { scopes.to_string() };
        let e = denied(format!(
            "Access denied: this operation requires the scope {}; the access token has: {has}. Ask the customer to consent to {} at /ap/oa.",
            requires.describe(),
            requires.0[requires.0.len() - 1],
        ));
        return Err(caller_note(e).noting(|n| n.facts.scope_missing = Some(requires.describe())));
    }
    let scope_used = scopes.iter().find(|g| alternatives.iter().any(|a| g.covers(a))).map(|g| g.as_str().to_owned());
    // 6: a music account.
    let user = claims.sub.as_deref().and_then(|u| state.fixtures.user(u)).cloned();
    let Some(user) = user else {
        return Err(MusicError::new(Code::InvalidAccessToken, "The access token is invalid."));
    };
    if !user.has_music_account {
        return Err(caller_note(MusicError::no_music_account()));
    }
    Ok(Caller { claims, user, scopes, scope_used })
}
