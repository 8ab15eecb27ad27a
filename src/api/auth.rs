//! The auth chain the Music API families share (spec `music-api.md` §11.2, §11.3, §11.1 for the Device API),
//! checked in this order:
//! 1. no `Authorization` header, or no bearer token in it;
//! 2. `Bearer ` with an empty token;
//! 3. an unknown, expired (virtual clock), revoked, forged or app-only token;
//! 4. the security profile: for V1 `x-api-key` missing, unknown, a client id instead of a security profile id,
//!    a profile not enabled for music, or not the profile the token was issued under; for V2 and the Device
//!    API (which ignore `x-api-key`) the token's own profile not enabled for music;
//! 5. the token lacks the route's scope (supersede rule applies);
//! 6. the customer has no Amazon Music account.
//!
//! [`authenticate`] decides, and says which step failed as a [`Denial`] with a message that says what to do
//! (which id `x-api-key` must hold, which scope the route needs next to the scopes the token has). Each
//! family maps the denial to its own wire error (`v1::error`, `v2::error`, `device::error`).

use std::borrow::Cow;

use axum::http::HeaderMap;

use crate::context::{AppState, Session};
use crate::fixtures::User;
use crate::journal::JournalNote;
use crate::lwa::tokens::{Claims, TokenKind};
use crate::lwa::{TokenProblem, check_token};
use crate::scope::ScopeSet;

/// The message of a customer without an Amazon Music account (V1's documented start, then what to do).
pub const NO_MUSIC_ACCOUNT: &str =
    "No Amazon Music account found. The customer must sign up for Amazon Music before using this API.";

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
    /// `amazon_music:access`: the Device API's only scope (§2.3, §11.1).
    pub const DEVICE: Requires = Requires(&["amazon_music:access"]);

    fn describe(self) -> String {
        self.0.join(" or ")
    }
}

/// RFC 6750 §3: the `WWW-Authenticate` every Music API 401 carries (`docs/ROUTES.md` A53; the realm is the
/// mock's choice): `Bearer realm="Amazon Music"` when no
/// token was judged (none sent, an empty one, another scheme, or a request refused before the token was
/// read), and `Bearer realm="Amazon Music", error="invalid_token"` when the token sent was refused.
pub fn bearer_challenge(token_refused: bool) -> axum::http::HeaderValue {
    if token_refused {
        axum::http::HeaderValue::from_static("Bearer realm=\"Amazon Music\", error=\"invalid_token\"")
    } else {
        axum::http::HeaderValue::from_static("Bearer realm=\"Amazon Music\"")
    }
}

/// How a family treats `x-api-key` (step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKey {
    /// V1: required, and it must be the security profile the token was issued under.
    Required,
    /// V2 and the Device API: accepted and ignored; the token's own profile must be enabled for music.
    Ignored,
}

/// The authenticated caller of a Music API route.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The verified token's claims.
    pub claims: Claims,
    /// The customer.
    pub user: User,
    /// The granted scope that satisfied the route's requirement.
    pub scope_used: Option<String>,
}

impl Caller {
    /// The customer id.
    pub fn user_id(&self) -> &str {
        self.user.user_id.as_str()
    }
}

/// Which step of the chain refused the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// Step 1: no `Authorization` header, or no bearer token in it.
    NotBearer,
    /// Step 2: `Bearer ` with nothing after it.
    EmptyToken,
    /// Step 3: the token is not a valid customer access token.
    BadToken,
    /// Steps 4 and 5: the security profile or the scope.
    Forbidden,
    /// Step 6: the customer has no Amazon Music account.
    NoMusicAccount,
}

/// A refused request: the step, what to tell the client, and what the journal notes about it (the token
/// problem; once the token is known, its client, customer and scopes; the scope missing).
#[derive(Debug, Clone)]
pub struct AuthError {
    /// The step that failed.
    pub denial: Denial,
    /// What went wrong and what to do.
    pub message: Cow<'static, str>,
    /// For the request's journal entry.
    pub note: Box<JournalNote>,
}

fn refuse(denial: Denial, message: impl Into<Cow<'static, str>>) -> AuthError {
    AuthError { denial, message: message.into(), note: Box::default() }
}

impl AuthError {
    fn noting(mut self, f: impl FnOnce(&mut JournalNote)) -> Self {
        f(&mut self.note);
        self
    }

    /// Notes the token's client, customer and scopes (for refusals after the token was verified).
    fn of_caller(self, claims: &Claims) -> Self {
        self.noting(|n| {
            n.client_id = Some(claims.cid.clone());
            n.user_id = claims.sub.clone();
            n.facts.scopes = Some(claims.scp.clone());
        })
    }
}

/// Runs the auth chain for a route of any family.
///
/// # Errors
/// The first failing step as an [`AuthError`].
pub async fn authenticate(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    requires: Requires,
    api_key: ApiKey,
) -> Result<Caller, AuthError> {
    // 1–2: the header and its scheme.
    let auth = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::trim);
    let token = match auth {
        None => {
            return Err(refuse(
                Denial::NotBearer,
                "Missing Authorization header. Send Authorization: Bearer <LWA access token>.",
            ));
        }
        Some(v) => match v.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ if v.eq_ignore_ascii_case("bearer") => "",
            _ => {
                return Err(refuse(
                    Denial::NotBearer,
                    "The Authorization header does not carry a bearer token. Send Authorization: Bearer <LWA access token>.",
                ));
            }
        },
    };
    if token.is_empty() {
        return Err(refuse(Denial::EmptyToken, "The bearer token is empty."));
    }
    // 3: the token itself.
    let claims = match check_token(state, session, token, &[TokenKind::Access, TokenKind::App]).await {
        Ok(c) if c.knd == TokenKind::App => {
            return Err(refuse(
                Denial::BadToken,
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
            return Err(refuse(Denial::BadToken, message).noting(|n| n.facts.token_problem = Some(problem.to_owned())));
        }
    };
    // 4: the security profile.
    let profile = match api_key {
        ApiKey::Required => check_api_key(state, headers, &claims),
        ApiKey::Ignored => match state.fixtures.profile(&claims.pid) {
            Some(p) if p.music_enabled => Ok(()),
            _ => Err(not_enabled(&claims.pid)),
        },
    };
    profile.map_err(|e| e.of_caller(&claims))?;
    // 5: scope.
    let Some(scope_used) = crate::scope::granted_covering(&claims.scp, requires.0) else {
        let scopes = ScopeSet::parse(&claims.scp).unwrap_or_default();
        let has = if scopes.is_empty() { "none".to_owned() } else { scopes.to_string() };
        let e = refuse(
            Denial::Forbidden,
            format!(
                "Access denied: this operation requires the scope {}; the access token has: {has}. Ask the customer to consent to {} at /ap/oa.",
                requires.describe(),
                requires.0[requires.0.len() - 1],
            ),
        );
        return Err(e.of_caller(&claims).noting(|n| n.facts.scope_missing = Some(requires.describe())));
    };
    let scope_used = Some(scope_used.to_owned());
    // 6: a music account.
    let user = claims.sub.as_deref().and_then(|u| state.fixtures.user(u)).cloned();
    let Some(user) = user else {
        return Err(refuse(Denial::BadToken, "The access token is invalid."));
    };
    if !user.has_music_account {
        return Err(refuse(Denial::NoMusicAccount, NO_MUSIC_ACCOUNT));
    }
    Ok(Caller { claims, user, scope_used })
}

fn not_enabled(profile: &str) -> AuthError {
    refuse(
        Denial::Forbidden,
        format!(
            "Security profile {profile} is not enabled for the Amazon Music API; it must be enabled by the Amazon Music team."
        ),
    )
}

/// Step 4 for V1: `x-api-key` must be the security profile the token was issued under, enabled for music.
fn check_api_key(state: &AppState, headers: &HeaderMap, claims: &Claims) -> Result<(), AuthError> {
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim).filter(|k| !k.is_empty());
    let Some(key) = key else {
        return Err(refuse(
            Denial::Forbidden,
            format!("Missing x-api-key header: send the security profile id ({}).", claims.pid),
        ));
    };
    if key.starts_with("amzn1.application-oa2-client.") {
        return Err(refuse(
            Denial::Forbidden,
            format!(
                "x-api-key holds a client id ({key}); the Music API expects the security profile id (amzn1.application.…): {} for this access token.",
                claims.pid
            ),
        ));
    }
    let Some(profile) = state.fixtures.profile(key) else {
        return Err(refuse(Denial::Forbidden, format!("x-api-key {key} is not a known security profile id.")));
    };
    if !profile.music_enabled {
        return Err(not_enabled(key));
    }
    if profile.security_profile_id.as_str() != claims.pid {
        return Err(refuse(
            Denial::Forbidden,
            format!("x-api-key {key} is not the security profile the access token was issued under ({}).", claims.pid),
        ));
    }
    Ok(())
}
