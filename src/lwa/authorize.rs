//! `/ap/oa`: the authorization endpoint (spec `lwa.md` §3, §13.6, §14).
//!
//! `GET` validates the request and shows the sign-in and consent page (or, with auto-consent, answers at
//! once as the first fixture customer clicking Allow, or Deny when the session's `consent_decision` says so).
//! The page posts the original parameters back with `user_id` and `decision`; `POST` validates them again
//! (the flow keeps no server-side state before consent) and answers.
//!
//! The rules are plain functions: `check` (the order below), `Checked::first_answer` (what `GET` does with a
//! valid request), `consent_answer` (the posted form) and `decide` (the redirect); the handlers extract, call
//! them and answer.
//!
//! Order of checks:
//! 1. an unknown or missing `client_id`, or a `redirect_uri` that is missing or not an Allowed Return URL,
//!    renders LWA's HTML 400 page and never redirects;
//! 2. other request errors redirect with `error=…` in the query;
//! 3. a scope outside the profile's allow-list (a `music::` scope on a profile not enabled for music, or a
//!    scope that does not exist) shows the 400 page "An unknown scope was requested" *after sign-in* by
//!    default (the observed behaviour), or redirects with `invalid_scope` when the session's
//!    `unknown_scope_response` is `redirect`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::error::LwaError;
use super::params::{LwaParams, parse_form};
use super::{Issue, ScopeRequest, issue_user_tokens, resolve_scopes};
use crate::context::{AppState, Session, note};
use crate::fixtures::{Client, SecurityProfile};
use crate::journal::BadMaterial;
use crate::scope::ScopeSet;
use crate::store::{
    AuthCodeRecord, ConsentDecision, MaterialPoint, PkceChallenge, PkceMethod, Settings, UnknownScopeResponse,
};

/// Authorization codes live five minutes (`lwa.md` §3.2).
pub const CODE_LIFETIME_MS: i64 = 300_000;

/// The request parameters echoed on the 400 page (`lwa.md` §3.3).
const DETAIL_KEYS: &[&str] = &["client_id", "response_type", "redirect_uri", "scope", "state", "scope_data"];

/// How the request ends.
enum Outcome {
    /// LWA's HTML 400 page with this message.
    Page(String),
    /// A redirect to this URL.
    Redirect(String),
}

/// A validated request, up to the scope check.
struct Checked<'a> {
    profile: &'a SecurityProfile,
    client: &'a Client,
    redirect_uri: String,
    state: Option<String>,
    response_type: ResponseType,
    scopes: Result<ScopeSet, ScopeFailure>,
    pkce: Option<PkceChallenge>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ResponseType {
    Code,
    Token,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ScopeFailure {
    Unknown,
    Missing,
}

/// `+`-encoded query parameters appended to a redirect URI (which may already have a query).
fn with_query(base: &str, params: &[(&str, &str)], fragment: bool) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    let encoded = ser.finish();
    let sep = if fragment {
        "#"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else if base.contains('?') {
        "&"
    } else {
        "?"
    };
    format!("{base}{sep}{encoded}")
}

/// The error redirect: `error_description`, then `state`, then `error` (the captured order, `lwa.md` §3.3).
fn error_redirect(redirect_uri: &str, state: Option<&str>, error: &str, description: &str) -> String {
    let mut params = vec![("error_description", description)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("error", error));
    with_query(redirect_uri, &params, false)
}

fn check<'a>(state: &'a AppState, p: &LwaParams) -> Result<Checked<'a>, Outcome> {
    let page = |m: String| Outcome::Page(m);
    let client_id = p.get("client_id").map_err(|e| page(e.description.into_owned()))?;
    let client_id = client_id.ok_or_else(|| page(LwaError::missing("client_id").description.into_owned()))?;
    let (profile, client) = state
        .fixtures
        .client(client_id)
        .ok_or_else(|| page(LwaError::invalid_param("client_id").description.into_owned()))?;
    let redirect_uri = p
        .get("redirect_uri")
        .map_err(|e| page(e.description.into_owned()))?
        .ok_or_else(|| page(LwaError::missing("redirect_uri").description.into_owned()))?;
    if !client.return_urls.iter().any(|u| u == redirect_uri) {
        return Err(page(LwaError::invalid_param("redirect_uri").description.into_owned()));
    }
    // From here on the redirect target is trusted: errors go back to the client.
    let state_param = p.get("state").ok().flatten().map(str::to_owned);
    let fail =
        |e: LwaError| Outcome::Redirect(error_redirect(redirect_uri, state_param.as_deref(), e.error, &e.description));
    let redirect_error = |error: &'static str, description: String| {
        Outcome::Redirect(error_redirect(redirect_uri, state_param.as_deref(), error, &description))
    };
    if let Err(e) = p.get("state") {
        return Err(fail(e));
    }
    let response_type = match p.get("response_type").map_err(&fail)? {
        None => return Err(fail(LwaError::missing("response_type"))),
        Some("code") => ResponseType::Code,
        Some("token") => ResponseType::Token,
        Some(_) => {
            return Err(redirect_error(
                "unsupported_response_type",
                "The authorization server does not support obtaining an authorization code using this method".into(),
            ));
        }
    };
    let pkce = match (p.get("code_challenge").map_err(&fail)?, p.get("code_challenge_method").map_err(&fail)?) {
        (None, _) => None,
        (Some(ch), method) => {
            let method = match method {
                None | Some("plain") => PkceMethod::Plain,
                Some("S256") => PkceMethod::S256,
                Some(_) => return Err(fail(LwaError::invalid_param("code_challenge_method"))),
            };
            if !challenge_is_well_formed(method, ch) {
                return Err(fail(LwaError::invalid_param("code_challenge")));
            }
            Some(PkceChallenge { challenge: ch.to_owned(), method })
        }
    };
    if let Some(sd) = p.get("scope_data").map_err(&fail)? {
        if !matches!(serde_json::from_str::<serde_json::Value>(sd), Ok(serde_json::Value::Object(_))) {
            return Err(fail(LwaError::invalid_param("scope_data")));
        }
    }
    let scopes = match resolve_scopes(profile, p.get("scope").map_err(&fail)?) {
        ScopeRequest::Allowed(s) => Ok(s),
        ScopeRequest::Missing => Err(ScopeFailure::Missing),
        ScopeRequest::Unknown => Err(ScopeFailure::Unknown),
    };
    Ok(Checked {
        profile,
        client,
        redirect_uri: redirect_uri.to_owned(),
        state: state_param,
        response_type,
        scopes,
        pkce,
    })
}

/// RFC 7636 §4.2: an `S256` challenge is `base64url(sha256(verifier))`, exactly 43 characters of the
/// base64url alphabet; a `plain` one is a verifier, 43–128 unreserved characters. A challenge that could
/// never match is refused here rather than when the code is exchanged (an assumption; `lwa.md` §3.1).
fn challenge_is_well_formed(method: PkceMethod, ch: &str) -> bool {
    match method {
        PkceMethod::S256 => ch.len() == 43 && ch.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')),
        PkceMethod::Plain => {
            (43..=128).contains(&ch.len())
                && ch.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        }
    }
}

fn page_response(message: &str, p: &LwaParams) -> Response {
    let details: Vec<(&str, Option<&str>)> = DETAIL_KEYS.iter().map(|k| (*k, p.get(k).ok().flatten())).collect();
    let mut resp =
        (StatusCode::BAD_REQUEST, Html(super::pages::error_page(message, &details).into_string())).into_response();
    let code = if message == "An unknown scope was requested" { "invalid_scope" } else { "invalid_request" };
    note(&mut resp, |n| n.error = Some(code.into()));
    resp
}

fn redirect_response(location: &str) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::FOUND;
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn finish(outcome: Outcome, p: &LwaParams) -> Response {
    match outcome {
        Outcome::Page(m) => page_response(&m, p),
        Outcome::Redirect(l) => {
            let mut r = redirect_response(&l);
            if let Some(err) = query_value(&l, "error") {
                note(&mut r, |n| n.error = Some(err));
            }
            r
        }
    }
}

fn query_value(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    parse_form(q.as_bytes())?.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// `GET /ap/oa`.
pub async fn authorize_get(State(state): State<AppState>, session: Session, req: Request) -> Response {
    let (params, checked) = checked_query(&state, req.uri().query());
    let checked = match checked {
        Ok(c) => c,
        Err(o) => return finish(o, &params),
    };
    let settings = session.store.settings().await;
    let unknown = settings.unknown_scope_response;
    match checked.first_answer(&settings) {
        GetAnswer::ConsentPage => consent_response(&state, &session, &params, &checked),
        GetAnswer::ScopeProblem => decide(&state, &session, &params, checked, None, true, unknown).await,
        GetAnswer::AutoConsent { allow } => auto_consent(&state, &session, &params, checked, allow, unknown).await,
    }
}

/// A `GET`'s parameters (its query, none for a query that does not decode) and the request [`check`]ed: the
/// 400 page "Malformed request" for a query that does not decode, or `check`'s outcome.
fn checked_query<'a>(state: &'a AppState, query: Option<&str>) -> (LwaParams, Result<Checked<'a>, Outcome>) {
    let Some(pairs) = query.map_or(Some(Vec::new()), |q| parse_form(q.as_bytes())) else {
        return (LwaParams::default(), Err(Outcome::Page(LwaError::malformed().description.into_owned())));
    };
    let params = LwaParams::from_pairs(pairs);
    let checked = check(state, &params);
    (params, checked)
}

/// What `GET /ap/oa` answers to a checked request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GetAnswer {
    /// The sign-in and consent page.
    ConsentPage,
    /// At once, before sign-in: the scope problem (a missing scope, or an unknown one the session redirects).
    ScopeProblem,
    /// At once, as the first fixture customer answering the page (auto-consent), allowing or not.
    AutoConsent {
        /// Whether the customer allows (the session's `consent_decision`).
        allow: bool,
    },
}

impl Checked<'_> {
    /// What `GET` answers: with auto-consent, the customer's answer whatever the scopes; otherwise a missing
    /// scope, or an unknown one when the session's `unknown_scope_response` is `redirect`, at once; otherwise
    /// the page (where an unknown scope is refused after sign-in).
    fn first_answer(&self, settings: &Settings) -> GetAnswer {
        if settings.auto_consent {
            return GetAnswer::AutoConsent { allow: settings.consent_decision == ConsentDecision::Allow };
        }
        match (&self.scopes, settings.unknown_scope_response) {
            (Err(ScopeFailure::Unknown), UnknownScopeResponse::Redirect) | (Err(ScopeFailure::Missing), _) => {
                GetAnswer::ScopeProblem
            }
            _ => GetAnswer::ConsentPage,
        }
    }
}

/// Auto-consent: the first fixture customer answers the page at once; a denial is the plan's, and noted so.
async fn auto_consent(
    state: &AppState,
    session: &Session,
    params: &LwaParams,
    checked: Checked<'_>,
    allow: bool,
    unknown: UnknownScopeResponse,
) -> Response {
    let user = state.fixtures.first_user().user_id.as_str().to_owned();
    let mut resp = decide(state, session, params, checked, Some(&user), allow, unknown).await;
    if !allow {
        note(&mut resp, |n| n.facts.injected.push("consent denied (plan)".into()));
    }
    resp
}

/// The sign-in and consent page of a checked request, which re-posts its parameters.
fn consent_response(state: &AppState, session: &Session, params: &LwaParams, checked: &Checked<'_>) -> Response {
    let hidden = fields_to_repost(params.pairs());
    let raw_scope = params.get("scope").ok().flatten();
    let view = super::pages::ConsentView {
        action: format!("{}/ap/oa", session.prefix),
        app_name: &checked.profile.name,
        scopes: super::pages::scope_lines(checked.scopes.as_ref().ok(), raw_scope),
        users: state.fixtures.users(),
        hidden: &hidden,
    };
    let mut resp = Html(super::pages::consent_page(&view).into_string()).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    note(&mut resp, |n| n.client_id = Some(checked.client.client_id.as_str().to_owned()));
    resp
}

/// The request's parameters as the consent form re-posts them: every one, exactly as received
/// (`scope_data`, `language`, `xoauth_displayname` and any a client adds included), except the two the
/// form itself supplies.
fn fields_to_repost(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs.iter().filter(|(k, _)| k != "user_id" && k != "decision").cloned().collect()
}

/// `POST /ap/oa`: the consent form's answer.
pub async fn authorize_post(State(state): State<AppState>, session: Session, req: Request) -> Response {
    let params = match LwaParams::from_request(req, state.limits.body_limit).await {
        Ok(p) => p,
        Err(e) => return page_response(&e.description, &LwaParams::default()),
    };
    let settings = session.store.settings().await;
    match consent_answer(&state, &params) {
        Ok((checked, consent)) => {
            let unknown = settings.unknown_scope_response;
            decide(&state, &session, &params, checked, Some(&consent.user), consent.allow, unknown).await
        }
        Err(o) => finish(o, &params),
    }
}

/// The customer's answer on the consent page.
struct Consent {
    /// The fixture customer who signed in.
    user: String,
    /// Allow (or Deny).
    allow: bool,
}

/// A posted consent form, checked: the request again ([`check`]), then `decision`, then `user_id`.
///
/// # Errors
/// The outcome of the first check that fails: `check`'s, or the 400 page for a `decision` that is not `allow`
/// or `deny`, or a `user_id` that is not a fixture customer.
fn consent_answer<'a>(state: &'a AppState, params: &LwaParams) -> Result<(Checked<'a>, Consent), Outcome> {
    let checked = check(state, params)?;
    let page = |name| Outcome::Page(LwaError::invalid_param(name).description.into_owned());
    let allow = match params.get("decision") {
        Ok(Some("allow")) => true,
        Ok(Some("deny")) => false,
        _ => return Err(page("decision")),
    };
    let user = match params.get("user_id") {
        Ok(Some(u)) if state.fixtures.user(u).is_some() => u.to_owned(),
        _ => return Err(page("user_id")),
    };
    Ok((checked, Consent { user, allow }))
}

async fn decide(
    state: &AppState,
    session: &Session,
    params: &LwaParams,
    c: Checked<'_>,
    user: Option<&str>,
    allow: bool,
    unknown_scope: UnknownScopeResponse,
) -> Response {
    let scopes = match &c.scopes {
        Ok(s) => s.clone(),
        Err(ScopeFailure::Missing) => {
            let e = LwaError::missing("scope");
            return finish(
                Outcome::Redirect(error_redirect(&c.redirect_uri, c.state.as_deref(), e.error, &e.description)),
                params,
            );
        }
        Err(ScopeFailure::Unknown) => {
            return match unknown_scope {
                UnknownScopeResponse::Page => page_response("An unknown scope was requested", params),
                UnknownScopeResponse::Redirect => finish(
                    Outcome::Redirect(error_redirect(
                        &c.redirect_uri,
                        c.state.as_deref(),
                        "invalid_scope",
                        "An unknown scope was requested",
                    )),
                    params,
                ),
            };
        }
    };
    if !allow {
        let loc = error_redirect(&c.redirect_uri, c.state.as_deref(), "access_denied", "The user denied the request");
        return finish(Outcome::Redirect(loc), params);
    }
    let Some(user) = user else {
        return page_response(&LwaError::missing("user_id").description, params);
    };
    let scope_text = scopes.to_string();
    // The plan's bad material: a `state` in the redirect that is not the one the client sent.
    let wrong_state = match &c.state {
        Some(_) => session.store.plan_material(MaterialPoint::Redirect).await == Some(BadMaterial::WrongState),
        None => false,
    };
    let sent_state = if wrong_state { c.state.as_ref().map(|s| format!("forged{s}")) } else { c.state.clone() };
    let (location, tainted) = match c.response_type {
        ResponseType::Code => {
            let record = AuthCodeRecord {
                client_id: c.client.client_id.as_str().to_owned(),
                user_id: user.to_owned(),
                scopes,
                redirect_uri: Some(c.redirect_uri.clone()),
                pkce: c.pkce,
                expires_at_ms: session.store.now_ms() + CODE_LIFETIME_MS,
            };
            let code = session.store.insert_auth_code(record).await;
            // `code` first: ask-cli only accepts a callback starting `/cb?code` (`lwa.md` §14).
            let mut q = vec![("code", code.as_str()), ("scope", scope_text.as_str())];
            if let Some(s) = &sent_state {
                q.push(("state", s));
            }
            (with_query(&c.redirect_uri, &q, false), crate::journal::fingerprint(&code))
        }
        ResponseType::Token => {
            let issue =
                Issue { profile: c.profile, client: c.client, user_id: user, scopes: &scopes, public_refresh: true };
            let t = issue_user_tokens(state, session, issue, false).await;
            let expires = t.expires_in.to_string();
            let mut q = vec![
                ("access_token", t.access_token.as_str()),
                ("token_type", "bearer"),
                ("expires_in", expires.as_str()),
                ("scope", scope_text.as_str()),
            ];
            if let Some(s) = &sent_state {
                q.push(("state", s));
            }
            (with_query(&c.redirect_uri, &q, true), crate::journal::fingerprint(&t.access_token))
        }
    };
    let mut resp = redirect_response(&location);
    note(&mut resp, |n| {
        n.client_id = Some(c.client.client_id.as_str().to_owned());
        n.user_id = Some(user.to_owned());
        n.facts.scopes = Some(scope_text);
        if wrong_state {
            n.facts.injected.push("bad material: wrong_state (plan)".into());
            n.facts.bad_material = Some(crate::journal::BadMaterialFact { kind: BadMaterial::WrongState, tainted });
        }
    });
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_redirect_has_the_captured_order_and_plus_encoding() {
        let l = error_redirect("amzn://com.shell.ergo", Some("xyz"), "invalid_scope", "An unknown scope was requested");
        assert_eq!(
            l,
            "amzn://com.shell.ergo?error_description=An+unknown+scope+was+requested&state=xyz&error=invalid_scope"
        );
        let l = error_redirect("http://127.0.0.1:9090/cb?x=1", None, "access_denied", "no");
        assert_eq!(l, "http://127.0.0.1:9090/cb?x=1&error_description=no&error=access_denied");
    }

    #[test]
    fn a_return_url_ending_in_a_separator_gets_no_second_one() {
        assert_eq!(with_query("https://a.example/cb?", &[("code", "AN")], false), "https://a.example/cb?code=AN");
        assert_eq!(
            with_query("https://a.example/cb?x=1&", &[("code", "AN")], false),
            "https://a.example/cb?x=1&code=AN"
        );
    }

    #[test]
    fn s256_challenges_are_43_base64url_characters() {
        let doc_example = "Fw7s3XHRVb2m1nT7s646UrYiYLMJ54as0ZIU_injyqw";
        assert!(challenge_is_well_formed(PkceMethod::S256, doc_example));
        assert!(!challenge_is_well_formed(PkceMethod::S256, &format!("{doc_example}A")));
        assert!(!challenge_is_well_formed(PkceMethod::S256, &doc_example.replace('_', "~")));
        assert!(challenge_is_well_formed(PkceMethod::Plain, &format!("{doc_example}.~")));
        assert!(!challenge_is_well_formed(PkceMethod::Plain, "short"));
    }

    #[test]
    fn success_query_puts_code_first() {
        let l = with_query(
            "http://127.0.0.1:9090/cb",
            &[("code", "ANabc"), ("scope", "alexa:all profile"), ("state", "s")],
            false,
        );
        assert_eq!(l, "http://127.0.0.1:9090/cb?code=ANabc&scope=alexa%3Aall+profile&state=s");
    }
}
