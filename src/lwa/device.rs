//! Code-based linking: `POST /auth/O2/create/codepair` (spec `lwa.md` §5, §13.5) and the verification
//! page at `/us/code` where a person enters the user code, signs in and allows or denies.
//!
//! The code-pair request's checks are one plain function (`check_request`), in LWA's order; the verification
//! form's decision is another (`submitted_decision`).

use axum::extract::{RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::error::{LwaError, lwa_json_headers};
use super::pages::{VerifyView, scope_lines, verify_done, verify_page as render_verify};
use super::params::LwaParams;
use super::{ScopeRequest, identify_client, resolve_scopes};
use crate::context::{AppState, Session, note};
use crate::fixtures::Fixtures;
use crate::scope::ScopeSet;
use crate::store::{CodePairDecision, CodePairRecord, CodePairStatus, NewCodePair};

/// Code pairs live 600 s (`lwa.md` §5, §10).
pub const CODE_PAIR_LIFETIME_S: u64 = 600;

/// The verification URI every real code pair carries (`lwa.md` §1, §13.5).
pub const VERIFICATION_URI: &str = "https://amazon.com/us/code";

/// The code-pair body, keys in the captured order.
#[derive(Debug, Serialize)]
pub struct CodePairResponse {
    /// 6 characters `[A-Z0-9]`.
    pub user_code: String,
    /// UUID-4 text.
    pub device_code: String,
    /// Seconds between polls.
    pub interval: u64,
    /// Where the person enters the code.
    pub verification_uri: &'static str,
    /// Seconds the pair lives.
    pub expires_in: u64,
}

/// `POST /auth/O2/create/codepair`. A 401 to a client that used HTTP Basic carries the Basic challenge, as at
/// the token endpoint.
pub async fn codepair(State(state): State<AppState>, session: Session, req: Request) -> Response {
    let basic = super::error::sent_basic(req.headers());
    let params = match LwaParams::from_request(req, state.limits.body_limit).await {
        Ok(p) => p,
        Err(e) => return super::error::basic_challenge(e.into_response(), basic),
    };
    let resp = create(&state, &session, &params).await.unwrap_or_else(IntoResponse::into_response);
    super::error::basic_challenge(noted(&state, resp, &params), basic)
}

/// Every answer of the endpoint: the hint when `response_type` was left out (and whether the request was let
/// through), and the parameters (secrets redacted), the secrets the body sent under another name and the
/// client they name in the journal.
fn noted(state: &AppState, mut resp: Response, params: &LwaParams) -> Response {
    if params.get("response_type").ok().flatten().is_none() {
        let accepted = resp.status().is_success();
        super::Hint::CodepairResponseType.attach(&mut resp, accepted);
    }
    let redacted = params.redacted();
    let misplaced = params.misplaced_in_body("/auth/o2/create/codepair", &state.fixtures);
    let client = params.get("client_id").ok().flatten().map(str::to_owned);
    note(&mut resp, |n| {
        n.params = redacted;
        n.facts.misplaced_secrets = misplaced;
        n.client_id = n.client_id.take().or(client);
    });
    resp
}

/// Checks the request, makes the pair (it lives [`CODE_PAIR_LIFETIME_S`] on the session's clock, polled every
/// `device_interval_seconds`) and answers it.
async fn create(state: &AppState, session: &Session, params: &LwaParams) -> Result<Response, LwaError> {
    let settings = session.store.settings().await;
    let request = check_request(state, params, settings.accept_codepair_without_response_type)?;
    let expires_at_ms = session.store.now_ms() + (CODE_PAIR_LIFETIME_S as i64) * 1000;
    let pair = session.store.insert_code_pair(request.pair(expires_at_ms, settings.device_interval_seconds)).await;
    Ok(codepair_response(pair))
}

/// A valid code-pair request.
struct CodePairRequest {
    client_id: String,
    scopes: ScopeSet,
    scope_data: Option<String>,
}

impl CodePairRequest {
    fn pair(self, expires_at_ms: i64, interval_seconds: u64) -> NewCodePair {
        let CodePairRequest { client_id, scopes, scope_data } = self;
        NewCodePair { client_id, scopes, scope_data, expires_at_ms, interval_seconds }
    }
}

/// The code-pair request's checks, in order: `response_type=device_code` (its absence let through when
/// `lenient`), the client, which must be enabled for code-based linking, the scopes, and `scope_data`, a JSON
/// object when sent.
///
/// # Errors
/// The first failing check's error.
fn check_request(state: &AppState, params: &LwaParams, lenient: bool) -> Result<CodePairRequest, LwaError> {
    match params.get("response_type")? {
        Some("device_code") => {}
        None if lenient => {}
        None => return Err(LwaError::missing("response_type")),
        Some(_) => return Err(LwaError::unsupported_response_type()),
    }
    let client = identify_client(state, params)?.ok_or_else(|| LwaError::missing("client_id"))?;
    if !client.client.cbl_enabled {
        return Err(LwaError::unauthorized_client());
    }
    let scopes = match resolve_scopes(client.profile, params.get("scope")?) {
        ScopeRequest::Allowed(s) => s,
        ScopeRequest::Missing => return Err(LwaError::missing("scope")),
        ScopeRequest::Unknown => return Err(LwaError::unknown_scope()),
    };
    let scope_data = params.get("scope_data")?.map(str::to_owned);
    if let Some(sd) = &scope_data {
        if !matches!(serde_json::from_str::<serde_json::Value>(sd), Ok(serde_json::Value::Object(_))) {
            return Err(LwaError::invalid_param("scope_data"));
        }
    }
    Ok(CodePairRequest { client_id: client.client.client_id.as_str().to_owned(), scopes, scope_data })
}

/// The code pair's body with LWA's headers, noting the client, the device code's fingerprint, the interval and
/// the scopes.
fn codepair_response(pair: CodePairRecord) -> Response {
    let scopes = pair.scopes.to_string();
    let interval = pair.interval_seconds;
    let body = CodePairResponse {
        user_code: pair.user_code,
        device_code: pair.device_code,
        interval,
        verification_uri: VERIFICATION_URI,
        expires_in: CODE_PAIR_LIFETIME_S,
    };
    let mut resp = serde_json::to_vec(&body).unwrap_or_default().into_response();
    lwa_json_headers(&mut resp);
    note(&mut resp, |n| {
        n.client_id = Some(pair.client_id);
        n.facts.device_code = Some(crate::journal::fingerprint(&body.device_code));
        n.facts.interval = Some(interval);
        n.facts.scopes = Some(scopes);
    });
    resp
}

/// The code typed in: `code`, or `cbl-code` as Amazon's own link carries it. `Err` when the query cannot
/// be decoded or names two different codes.
fn verify_code(query: Option<&str>) -> Result<Option<String>, &'static str> {
    let Some(q) = query else { return Ok(None) };
    let pairs =
        super::params::parse_form(q.as_bytes()).ok_or("The address could not be read. Enter the code again.")?;
    let mut code: Option<String> = None;
    for (k, v) in pairs {
        if k == "code" || k == "cbl-code" {
            match &code {
                Some(c) if !c.eq_ignore_ascii_case(v.trim()) => {
                    return Err("More than one code was given. Enter the code shown on your device.");
                }
                _ => code = Some(v.trim().to_owned()),
            }
        }
    }
    Ok(code)
}

async fn page_for(state: &AppState, session: &Session, code: Option<&str>) -> (StatusCode, String) {
    page_with(state, session, code, None).await
}

/// Renders the page for a typed code. A problem with the code itself wins; otherwise `problem` (a problem
/// with the form) is shown above the sign-in form of a valid code, or above the code entry form.
async fn page_with(
    state: &AppState,
    session: &Session,
    code: Option<&str>,
    problem: Option<&str>,
) -> (StatusCode, String) {
    let users = state.fixtures.users();
    let action = format!("{}/us/code", session.prefix);
    let status = if problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return (status, render_verify(&VerifyView { action, code: None, found: None, problem, users }).into_string());
    };
    let pair = session.store.code_pair(code).await;
    let now = session.store.now_ms();
    let code_problem = match &pair {
        None => Some("That code was not recognised. Check the code on your device and try again."),
        Some(p) if p.status != CodePairStatus::Pending || now >= p.expires_at_ms => {
            Some("That code has expired or was already used. Ask your device for a new code.")
        }
        Some(_) => None,
    };
    match (pair, code_problem) {
        (Some(p), None) => {
            let app = state.fixtures.client(&p.client_id).map_or("An application", |(prof, _)| prof.name.as_str());
            let found = Some((app, scope_lines(Some(&p.scopes), None)));
            let html = render_verify(&VerifyView { action, code: Some(code), found, problem, users }).into_string();
            (status, html)
        }
        (_, code_problem) => {
            let html =
                render_verify(&VerifyView { action, code: Some(code), found: None, problem: code_problem, users })
                    .into_string();
            (StatusCode::BAD_REQUEST, html)
        }
    }
}

/// `GET /us/code[?code=XXXXXX]`.
pub async fn verify_page(State(state): State<AppState>, session: Session, RawQuery(q): RawQuery) -> Response {
    let (status, html) = match verify_code(q.as_deref()) {
        Ok(code) => page_for(&state, &session, code.as_deref()).await,
        Err(problem) => page_with(&state, &session, None, Some(problem)).await,
    };
    (status, Html(html)).into_response()
}

/// `POST /us/code`: `user_code`, `user_id`, `decision=allow|deny`.
pub async fn verify_submit(State(state): State<AppState>, session: Session, req: Request) -> Response {
    let (status, html) = match LwaParams::from_request(req, state.limits.body_limit).await {
        Ok(params) => submit(&state, &session, &params).await,
        Err(_) => page_with(&state, &session, None, Some("The form could not be read. Enter the code again.")).await,
    };
    (status, Html(html)).into_response()
}

/// The page answering a submitted form: the decision taken (the done page), or the form again with what to
/// change, or, for a code that cannot be decided, the code's page (400).
async fn submit(state: &AppState, session: &Session, params: &LwaParams) -> (StatusCode, String) {
    let code = params.get("user_code").ok().flatten().unwrap_or("").to_owned();
    let decision = match submitted_decision(&state.fixtures, params) {
        Ok(d) => d,
        Err(problem) => return page_with(state, session, Some(&code), Some(problem)).await,
    };
    let approved = matches!(decision, CodePairDecision::Approve(_));
    match session.store.decide_code_pair(&code, decision).await {
        Ok(_) => (StatusCode::OK, verify_done(approved).into_string()),
        Err(_) => (StatusCode::BAD_REQUEST, page_for(state, session, Some(&code)).await.1),
    }
}

/// The decision of a submitted form: allow as a fixture customer, or deny.
///
/// # Errors
/// What the person must change: choose a customer to allow as, or choose Allow or Deny.
fn submitted_decision(fixtures: &Fixtures, params: &LwaParams) -> Result<CodePairDecision, &'static str> {
    match (params.get("decision").ok().flatten(), params.get("user_id").ok().flatten()) {
        (Some("allow"), Some(u)) if fixtures.user(u).is_some() => Ok(CodePairDecision::Approve(u.to_owned())),
        (Some("deny"), _) => Ok(CodePairDecision::Deny),
        (Some("allow"), _) => Err("Choose who you are signing in as, then Allow."),
        _ => Err("Choose Allow or Deny."),
    }
}
