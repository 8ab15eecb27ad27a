//! `POST /auth/o2/token`: the `authorization_code`, `refresh_token`, `client_credentials` and
//! `device_code` grants (spec `lwa.md` §4, §13.2–§13.5).

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use super::error::LwaError;
use super::params::LwaParams;
use super::tokens::TokenKind;
use super::{
    AuthenticatedClient, Issue, ScopeRequest, check_token, identify_client, issue_app_token, issue_user_tokens,
    reissue_access, resolve_scopes, token_json,
};
use crate::app::{AppState, Session, note};
use crate::fixtures::ClientKind;
use crate::journal::fingerprint;
use crate::store::{AuthCodeRecord, ExpiredCodePairError, PkceMethod, PollOutcome};

/// The grant types the endpoint knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// `authorization_code`
    AuthorizationCode,
    /// `refresh_token`
    RefreshToken,
    /// `client_credentials`
    ClientCredentials,
    /// `device_code` (LWA) or, unless strict, `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628)
    DeviceCode,
}

impl GrantType {
    /// Parses the wire value.
    pub fn parse(s: &str, strict: bool) -> Option<Self> {
        match s {
            "authorization_code" => Some(Self::AuthorizationCode),
            "refresh_token" => Some(Self::RefreshToken),
            "client_credentials" => Some(Self::ClientCredentials),
            "device_code" => Some(Self::DeviceCode),
            "urn:ietf:params:oauth:grant-type:device_code" if !strict => Some(Self::DeviceCode),
            _ => None,
        }
    }
}

/// The handler: reads the parameters, runs the grant, notes the parameters in the journal.
pub async fn token(State(state): State<AppState>, session: Session, req: Request) -> Response {
    let params = match LwaParams::from_request(req, state.limits.body_limit).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let mut resp = match run_grant(&state, &session, &params).await {
        Ok(r) => r,
        Err(e) => {
            let mut r = e.into_response();
            let client = params
                .basic
                .as_ref()
                .map(|b| b.client_id.clone())
                .or_else(|| params.get("client_id").ok().flatten().map(str::to_owned));
            note(&mut r, |n| n.client_id = client);
            r
        }
    };
    let redacted = params.redacted();
    note(&mut resp, |n| n.params = redacted);
    resp
}

async fn run_grant(state: &AppState, session: &Session, params: &LwaParams) -> Result<Response, LwaError> {
    let grant = params.require("grant_type")?;
    let strict = session.store.settings().await.strict_lwa;
    match GrantType::parse(grant, strict).ok_or_else(LwaError::unsupported_grant_type)? {
        GrantType::AuthorizationCode => authorization_code(state, session, params).await,
        GrantType::RefreshToken => refresh_token(state, session, params).await,
        GrantType::ClientCredentials => client_credentials(state, session, params).await,
        GrantType::DeviceCode => device_code(state, session, params).await,
    }
}

/// PKCE verification (RFC 7636 §4.6): `S256` compares `base64url(sha256(verifier))`, `plain` the verifier.
pub fn pkce_matches(method: PkceMethod, challenge: &str, verifier: &str) -> bool {
    let valid_verifier = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !valid_verifier {
        return false;
    }
    match method {
        PkceMethod::S256 => {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
        }
        PkceMethod::Plain => verifier == challenge,
    }
}

async fn authorization_code(state: &AppState, session: &Session, params: &LwaParams) -> Result<Response, LwaError> {
    let code = params.require("code")?;
    let redirect_uri = params.get("redirect_uri")?;
    let verifier = params.get("code_verifier")?;
    let client = identify_client(state, params)?.ok_or_else(|| LwaError::missing("client_id"))?;
    let record = session.store.take_auth_code(code).await.ok_or_else(|| LwaError::invalid_grant("code"))?;
    check_code(session, &client, &record, verifier).await?;
    match (&record.redirect_uri, redirect_uri) {
        (Some(expected), Some(given)) if expected != given => return Err(LwaError::invalid_grant("redirect_uri")),
        (None, Some(_)) => return Err(LwaError::invalid_grant("redirect_uri")),
        (Some(_), None) if session.store.settings().await.strict_lwa => return Err(LwaError::missing("redirect_uri")),
        _ => {}
    }
    // Without a secret (PKCE), the per-client switch decides whether a refresh token comes back.
    let with_refresh = client.with_secret || client.client.public_refresh_tokens;
    let issue = Issue {
        profile: client.profile,
        client: client.client,
        user_id: &record.user_id,
        scopes: &record.scopes,
        public_refresh: !client.with_secret,
    };
    let body = issue_user_tokens(state, session, issue, with_refresh).await;
    Ok(token_json(&body, client.client.client_id.as_str(), Some(&record.user_id), &body.access_token))
}

/// The code's own rules: unexpired, issued to this client, and the client proved itself by secret or PKCE.
async fn check_code(
    session: &Session,
    client: &AuthenticatedClient<'_>,
    record: &AuthCodeRecord,
    verifier: Option<&str>,
) -> Result<(), LwaError> {
    if session.store.now_ms() >= record.expires_at_ms || record.client_id != client.client.client_id.as_str() {
        return Err(LwaError::invalid_grant("code"));
    }
    match (&record.pkce, verifier) {
        (Some(p), Some(v)) if !pkce_matches(p.method, &p.challenge, v) => return Err(LwaError::invalid_grant("code")),
        (Some(_), None) => return Err(LwaError::invalid_grant("code")),
        _ => {}
    }
    // A confidential client without PKCE must present its secret.
    if client.client.kind == ClientKind::Web && !client.with_secret && record.pkce.is_none() {
        return Err(LwaError::invalid_client());
    }
    Ok(())
}

async fn refresh_token(state: &AppState, session: &Session, params: &LwaParams) -> Result<Response, LwaError> {
    let token = params.require("refresh_token")?;
    let client = identify_client(state, params)?;
    // CBL clients send client_id; a request naming no client at all cannot be tied to the token.
    let client = client.ok_or_else(|| LwaError::missing("client_id"))?;
    let claims = check_token(state, session, token, &[TokenKind::Refresh])
        .await
        .map_err(|_| LwaError::invalid_refresh_token())?;
    let (client_rec, with_secret) = (client.client, client.with_secret);
    // Refresh tokens are bound to one client (`lwa.md` §4.2).
    if client_rec.client_id.as_str() != claims.cid {
        return Err(LwaError::invalid_refresh_token());
    }
    if client_rec.kind == ClientKind::Web && !with_secret && !claims.pc {
        return Err(LwaError::invalid_client());
    }
    let (access, lifetime) = reissue_access(state, session, &claims).await;
    // LWA does not rotate refresh tokens: the one sent comes back (`lwa.md` §4.2).
    let body = super::TokenResponse {
        access_token: access,
        refresh_token: Some(token.to_owned()),
        token_type: "bearer",
        expires_in: lifetime,
    };
    Ok(token_json(&body, &claims.cid, claims.sub.as_deref(), &body.access_token))
}

async fn client_credentials(state: &AppState, session: &Session, params: &LwaParams) -> Result<Response, LwaError> {
    let client = identify_client(state, params)?.ok_or_else(|| LwaError::missing("client_id"))?;
    if !client.with_secret {
        return Err(LwaError::invalid_client());
    }
    if !client.client.client_credentials_allowed {
        return Err(LwaError::invalid_scope_param());
    }
    let scopes = match resolve_scopes(client.profile, params.get("scope")?) {
        ScopeRequest::Allowed(s) => s,
        ScopeRequest::Missing => return Err(LwaError::missing("scope")),
        ScopeRequest::Unknown => return Err(LwaError::invalid_scope_param()),
    };
    let body = issue_app_token(state, session, client.profile, client.client, &scopes).await;
    Ok(token_json(&body, client.client.client_id.as_str(), None, &body.access_token))
}

async fn device_code(state: &AppState, session: &Session, params: &LwaParams) -> Result<Response, LwaError> {
    let device_code = params.require("device_code")?;
    let user_code = params.get("user_code")?;
    let client = identify_client(state, params)?;
    let settings = session.store.settings().await;
    let expired = || match settings.expired_code_pair_error {
        ExpiredCodePairError::InvalidCodePair => LwaError::invalid_code_pair(),
        ExpiredCodePairError::ExpiredToken => LwaError::expired_token(),
    };
    // Checks that do not change the pair come first, so a wrong request does not count as a poll.
    let pair = session.store.code_pair_by_device_code(device_code).await.ok_or_else(LwaError::invalid_code_pair)?;
    if user_code.is_some_and(|u| !u.eq_ignore_ascii_case(&pair.user_code)) {
        return Err(LwaError::invalid_code_pair());
    }
    if client.as_ref().is_some_and(|c| c.client.client_id.as_str() != pair.client_id) {
        return Err(LwaError::invalid_grant("device_code"));
    }
    let now = session.store.now_ms();
    let threshold_s = settings.slow_down_below_seconds.min(pair.interval_seconds);
    let outcome = session
        .store
        .poll_code_pair(device_code, now, i64::try_from(threshold_s).unwrap_or(i64::MAX).saturating_mul(1000))
        .await;
    let approved = match outcome {
        PollOutcome::Approved(p) => p,
        PollOutcome::Pending => return Err(LwaError::authorization_pending()),
        PollOutcome::SlowDown => return Err(LwaError::slow_down()),
        PollOutcome::Denied => return Err(LwaError::access_denied()),
        PollOutcome::Expired => return Err(expired()),
        PollOutcome::Unknown | PollOutcome::Consumed => return Err(LwaError::invalid_code_pair()),
    };
    let crate::store::CodePairStatus::Approved(user_id) = &approved.status else {
        return Err(LwaError::server_error());
    };
    let (profile, client_rec) = state.fixtures.client(&approved.client_id).ok_or_else(LwaError::server_error)?;
    let issue = Issue { profile, client: client_rec, user_id, scopes: &approved.scopes, public_refresh: true };
    let body = issue_user_tokens(state, session, issue, true).await;
    let mut resp = token_json(&body, &approved.client_id, Some(user_id), &body.access_token);
    note(&mut resp, |n| n.token = Some(fingerprint(&body.access_token)));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_the_rfc_7636_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(PkceMethod::S256, challenge, verifier));
        assert!(!pkce_matches(PkceMethod::S256, challenge, &verifier.replace('d', "e")));
        assert!(pkce_matches(PkceMethod::Plain, verifier, verifier));
        assert!(!pkce_matches(PkceMethod::Plain, "short", "short"));
    }

    #[test]
    fn the_urn_alias_is_refused_when_strict() {
        let urn = "urn:ietf:params:oauth:grant-type:device_code";
        assert_eq!(GrantType::parse(urn, false), Some(GrantType::DeviceCode));
        assert_eq!(GrantType::parse(urn, true), None);
        assert_eq!(GrantType::parse("password", false), None);
    }
}
