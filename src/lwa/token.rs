//! `POST /auth/o2/token`: the `authorization_code`, `refresh_token`, `client_credentials` and
//! `device_code` grants (spec `lwa.md` §4, §13.2–§13.5).
//!
//! The handler reads the parameters, runs one grant (`run_grant`: a function per grant type) and notes the
//! answer. A device-code poll's rules are plain functions: the checks before it counts (`check_poll`), the
//! settings' rules for it (`poll_rules`) and LWA's answer to its outcome (`poll_answer`).

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use super::error::LwaError;
use super::params::LwaParams;
use super::tokens::TokenKind;
use super::{
    AuthenticatedClient, Issue, Issued, ScopeRequest, check_token, identify_client, issue_app_token, issue_user_tokens,
    reissue_access, resolve_scopes, token_json,
};
use crate::context::{AppState, Session, note};
use crate::fixtures::ClientKind;
use crate::journal::{BadMaterial, BadMaterialFact, fingerprint};
use crate::store::{
    AuthCodeRecord, CodePairDecision, CodePairRecord, DeviceAutoDecision, ExpiredCodePairError, PkceMethod,
    PollOutcome, PollRules, Settings,
};

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
            DEVICE_CODE_URN if !strict => Some(Self::DeviceCode),
            _ => None,
        }
    }
}

/// The handler: reads the parameters, runs the grant, notes the parameters in the journal; a 401 to a client
/// that used HTTP Basic carries the Basic challenge.
pub async fn token(State(state): State<AppState>, session: Session, req: Request) -> Response {
    let basic = super::error::sent_basic(req.headers());
    let params = match LwaParams::from_request(req, state.limits.body_limit).await {
        Ok(p) => p,
        Err(e) => return super::error::basic_challenge(e.into_response(), basic),
    };
    let resp = match run_grant(&state, &session, &params).await {
        Ok(r) if params.get("grant_type").ok().flatten() == Some("client_credentials") => r,
        Ok(r) => with_bad_material(&session, r).await,
        Err(e) => refused(&state, &session, &params, e).await,
    };
    super::error::basic_challenge(noted(&state, &session, &params, resp).await, basic)
}

/// A refused grant's answer, noting the client the request named and, for a refused refresh, the refresh
/// token's customer and why it was refused.
async fn refused(state: &AppState, session: &Session, params: &LwaParams, e: LwaError) -> Response {
    let mut r = e.into_response();
    let client = params
        .basic
        .as_ref()
        .map(|b| b.client_id.clone())
        .or_else(|| params.get("client_id").ok().flatten().map(str::to_owned));
    let refused = refused_refresh(state, session, params).await;
    note(&mut r, |n| {
        n.client_id = client;
        if let Some((user, problem)) = refused {
            n.user_id = user;
            n.facts.token_problem = problem.map(|p| p.code().to_owned());
        }
    });
    r
}

/// Every answer of the endpoint: the hint of the RFC 8628 grant type when it was sent (and whether it was let
/// through), and the parameters, secrets redacted, in the journal, with the secrets the body sent under
/// another name.
async fn noted(state: &AppState, session: &Session, params: &LwaParams, mut resp: Response) -> Response {
    if params.get("grant_type").ok().flatten() == Some(DEVICE_CODE_URN) {
        let accepted = !session.store.settings().await.strict_lwa;
        super::Hint::DeviceCodeGrantUrn.attach(&mut resp, accepted);
    }
    let redacted = params.redacted();
    let misplaced = params.misplaced_in_body("/auth/o2/token", &state.fixtures);
    note(&mut resp, |n| {
        n.params = redacted;
        n.facts.misplaced_secrets = misplaced;
    });
    resp
}

/// RFC 8628's grant type, which LWA does not document (`lwa.md` §4.4): a leniency (see [`super::Hint`]).
pub const DEVICE_CODE_URN: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// For a refused refresh: the customer of the refresh token (when it is ours) and why it was refused, so
/// that verdicts can tell a revoked grant from other failures.
async fn refused_refresh(
    state: &AppState,
    session: &Session,
    params: &LwaParams,
) -> Option<(Option<String>, Option<super::TokenProblem>)> {
    if params.get("grant_type").ok().flatten() != Some("refresh_token") {
        return None;
    }
    let token = params.get("refresh_token").ok().flatten()?;
    let user = state.tokens.verify(token).ok().and_then(|c| c.sub);
    Some((user, check_token(state, session, token, &[TokenKind::Refresh]).await.err()))
}

/// Serves the plan's bad material in a successful customer-grant token response, when the plan says this is
/// the one: the answer without `expires_in`, or with its access token cut short.
async fn with_bad_material(session: &Session, resp: Response) -> Response {
    let Some(kind) = session.store.plan_material(crate::store::MaterialPoint::TokenResponse).await else {
        return resp;
    };
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return LwaError::server_error().into_response();
    };
    let Ok(serde_json::Value::Object(mut map)) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return LwaError::server_error().into_response();
    };
    match kind {
        BadMaterial::MissingExpiresIn => {
            map.remove("expires_in");
        }
        BadMaterial::TruncatedToken => {
            if let Some(serde_json::Value::String(t)) = map.get_mut("access_token") {
                // `Atza|` and 40 characters: far below the 350 the format promises (`lwa.md` §6).
                t.truncate(45);
            }
        }
        BadMaterial::WrongState => {}
    }
    let access = map.get("access_token").and_then(|v| v.as_str()).map(fingerprint).unwrap_or_default();
    if let Some(n) = parts.extensions.get_mut::<crate::journal::JournalNote>() {
        n.token = Some(access.clone());
        n.facts.injected.push(format!("bad material: {} (plan)", kind.as_str()));
        n.facts.bad_material = Some(BadMaterialFact { kind, tainted: access });
    }
    let body = serde_json::to_vec(&serde_json::Value::Object(map)).unwrap_or_default();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
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
    // A replay of this code revokes these tokens, and the access tokens refreshed from them (RFC 6749 §4.1.2).
    session.store.bind_code_tokens(code, &body.token_ids).await;
    Ok(token_json(&body, issued(&body, client.client.client_id.as_str(), Some(&record.user_id), &record.scopes)))
}

/// What the journal notes about a customer-grant token response.
fn issued<'a>(
    body: &'a super::TokenResponse,
    client_id: &'a str,
    user_id: Option<&'a str>,
    scopes: &crate::scope::ScopeSet,
) -> Issued<'a> {
    Issued {
        client_id,
        user_id,
        access_token: &body.access_token,
        refresh_token: body.refresh_token.as_deref(),
        scopes: scopes.to_string(),
        expires_in: body.expires_in,
    }
}

/// The code's own rules: unexpired, issued to this client, and the client proved itself by secret or PKCE; a
/// verifier comes with a code issued with a challenge, and only then.
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
        // A verifier for a code issued without a challenge: a PKCE downgrade (RFC 9700 §4.8.2).
        (None, Some(_)) => return Err(LwaError::invalid_grant("code")),
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
        // Not bound to the code the grant began with: the access token names its refresh token (`rti`), and dies
        // when a replay of the code revokes that one.
        token_ids: Vec::new(),
    };
    let scopes = crate::scope::ScopeSet::parse(&claims.scp).unwrap_or_default();
    Ok(token_json(&body, issued(&body, &claims.cid, claims.sub.as_deref(), &scopes)))
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
    let issued = Issued {
        client_id: client.client.client_id.as_str(),
        user_id: None,
        access_token: &body.access_token,
        refresh_token: None,
        scopes: body.scope.clone(),
        expires_in: body.expires_in,
    };
    Ok(token_json(&body, issued))
}

async fn device_code(state: &AppState, session: &Session, params: &LwaParams) -> Result<Response, LwaError> {
    let device_code = params.require("device_code")?;
    let user_code = params.get("user_code")?;
    let client = identify_client(state, params)?;
    let settings = session.store.settings().await;
    // Checks that do not change the pair come first, so a wrong request does not count as a poll.
    let pair = session.store.code_pair_by_device_code(device_code).await.ok_or_else(LwaError::invalid_code_pair)?;
    check_poll(&pair, user_code, client.as_ref())?;
    let now = session.store.now_ms();
    let rules = poll_rules(&settings, pair.interval_seconds, state.fixtures.first_user().user_id.as_str());
    let outcome = session.store.poll_code_pair(device_code, now, &rules).await;
    let approved = poll_answer(outcome, settings.expired_code_pair_error)?;
    pair_tokens(state, session, &approved).await
}

/// A poll's own rules, before it counts: the `user_code`, when sent, is the pair's (any case), and the client,
/// when named, is the one the pair was made for.
///
/// # Errors
/// `invalid_code_pair` for another user code, `invalid_grant` for another client.
fn check_poll(
    pair: &CodePairRecord,
    user_code: Option<&str>,
    client: Option<&AuthenticatedClient<'_>>,
) -> Result<(), LwaError> {
    if user_code.is_some_and(|u| !u.eq_ignore_ascii_case(&pair.user_code)) {
        return Err(LwaError::invalid_code_pair());
    }
    if client.is_some_and(|c| c.client.client_id.as_str() != pair.client_id) {
        return Err(LwaError::invalid_grant("device_code"));
    }
    Ok(())
}

/// How the session's settings answer a poll of a pair returned with `interval_s`: `slow_down` below the
/// smaller of the setting's threshold and the interval, the first polls' forced `slow_down`, and the
/// customer's automatic decision (approving as `first_user`).
fn poll_rules(settings: &Settings, interval_s: u64, first_user: &str) -> PollRules {
    let threshold_s = settings.slow_down_below_seconds.min(interval_s);
    let auto_decision = match settings.device_auto_decision {
        DeviceAutoDecision::Off => None,
        DeviceAutoDecision::Approve => {
            Some((settings.device_decision_after_polls, CodePairDecision::Approve(first_user.to_owned())))
        }
        DeviceAutoDecision::Deny => Some((settings.device_decision_after_polls, CodePairDecision::Deny)),
    };
    PollRules {
        min_gap_ms: i64::try_from(threshold_s).unwrap_or(i64::MAX).saturating_mul(1000),
        slow_down_first: settings.slow_down_first_polls,
        auto_decision,
    }
}

/// The approved pair a poll's outcome gives tokens for, or LWA's answer to it (an expired pair as the
/// session's `expired_code_pair_error` says).
///
/// # Errors
/// `authorization_pending`, `slow_down`, `access_denied`, `invalid_code_pair` or `expired_token`.
fn poll_answer(outcome: PollOutcome, expired: ExpiredCodePairError) -> Result<CodePairRecord, LwaError> {
    match outcome {
        PollOutcome::Approved(p) => Ok(p),
        PollOutcome::Pending => Err(LwaError::authorization_pending()),
        PollOutcome::SlowDown { forced: false } => Err(LwaError::slow_down()),
        PollOutcome::SlowDown { forced: true } => Err(LwaError::slow_down().injected("slow_down (plan)")),
        PollOutcome::Denied => Err(LwaError::access_denied()),
        PollOutcome::Expired => Err(match expired {
            ExpiredCodePairError::InvalidCodePair => LwaError::invalid_code_pair(),
            ExpiredCodePairError::ExpiredToken => LwaError::expired_token(),
        }),
        PollOutcome::Unknown | PollOutcome::Consumed => Err(LwaError::invalid_code_pair()),
    }
}

/// The tokens of an approved code pair: for its customer and client, with a refresh token that refreshes
/// without a secret.
///
/// # Errors
/// `server_error` for a pair that is not approved or whose client is not a fixture.
async fn pair_tokens(state: &AppState, session: &Session, approved: &CodePairRecord) -> Result<Response, LwaError> {
    let crate::store::CodePairStatus::Approved(user_id) = &approved.status else {
        return Err(LwaError::server_error());
    };
    let (profile, client_rec) = state.fixtures.client(&approved.client_id).ok_or_else(LwaError::server_error)?;
    let issue = Issue { profile, client: client_rec, user_id, scopes: &approved.scopes, public_refresh: true };
    let body = issue_user_tokens(state, session, issue, true).await;
    Ok(token_json(&body, issued(&body, &approved.client_id, Some(user_id), &approved.scopes)))
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
    fn polls_slow_down_below_the_smaller_of_the_threshold_and_the_interval() {
        let mut s = Settings::default();
        assert_eq!(poll_rules(&s, 30, "amzn1.account.A").min_gap_ms, 2000);
        assert_eq!(poll_rules(&s, 1, "amzn1.account.A").min_gap_ms, 1000);
        assert!(poll_rules(&s, 30, "amzn1.account.A").auto_decision.is_none());
        s.device_auto_decision = DeviceAutoDecision::Approve;
        s.device_decision_after_polls = 3;
        let auto = poll_rules(&s, 30, "amzn1.account.A").auto_decision;
        assert!(matches!(auto, Some((3, CodePairDecision::Approve(u))) if u == "amzn1.account.A"));
    }

    #[test]
    fn an_expired_pair_is_answered_as_the_session_says() {
        let e = poll_answer(PollOutcome::Expired, ExpiredCodePairError::ExpiredToken).unwrap_err();
        assert_eq!(e.error, "expired_token");
        let e = poll_answer(PollOutcome::Expired, ExpiredCodePairError::InvalidCodePair).unwrap_err();
        assert_eq!(e.error, "invalid_code_pair");
        let e = poll_answer(PollOutcome::SlowDown { forced: true }, ExpiredCodePairError::ExpiredToken).unwrap_err();
        assert_eq!((e.error, e.injected), ("slow_down", Some("slow_down (plan)")));
    }

    #[test]
    fn the_urn_alias_is_refused_when_strict() {
        let urn = "urn:ietf:params:oauth:grant-type:device_code";
        assert_eq!(GrantType::parse(urn, false), Some(GrantType::DeviceCode));
        assert_eq!(GrantType::parse(urn, true), None);
        assert_eq!(GrantType::parse("password", false), None);
    }
}
