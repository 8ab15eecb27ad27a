//! The control API under `/__admin` (and `/s/{session}/__admin`): health, reset, the virtual clock,
//! fixtures, device-code decisions, revocation, forced expiry, settings, the request journal, Music API
//! state and faults, the recorded playback sessions and events, stream URLs, and client conformance: plans,
//! verdicts and the live dashboard.
//! JSON in and out; every refusal is `{"error": "<message>"}`, with 400, 404, 405 (and `Allow`), 409 or 413
//! ([`err`], or an [`AdminError`] from a helper; extractors that refuse answer the same way). Bodies are read
//! up to [`ADMIN_BODY_LIMIT`]. Documented in `docs/ADMIN.md`.
//!
//! Handlers extract, make one call and answer; the longer rules live in helpers: `expire.rs` (what
//! `tokens/expire` expires), `streams.rs` (signed stream URLs), and the playback session's admin view here.

mod expire;
pub mod guard;
mod streams;

use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::context::{AppState, Session};
use crate::store::playback::PlaybackSession;
use crate::store::{ClockChange, CodePairDecision, DecisionError, SessionId, SettingsPatch};
use crate::stream::Capabilities;

/// The admin routes, relative to `/__admin`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/reset", post(reset))
        .route("/clock", get(clock))
        .route("/clock/freeze", post(clock_freeze))
        .route("/clock/unfreeze", post(clock_unfreeze))
        .route("/clock/set", post(clock_set))
        .route("/clock/advance", post(clock_advance))
        .route("/security-profiles", get(security_profiles))
        .route("/users", get(users))
        .route("/device/approve", post(device_approve))
        .route("/device/deny", post(device_deny))
        .route("/device/expire", post(device_expire))
        .route("/grants/revoke", post(grants_revoke))
        .route("/tokens/expire", post(tokens_expire))
        .route("/settings", get(settings).put(put_settings))
        .route("/requests", get(requests))
        .route("/sessions", get(sessions))
        .route("/session", axum::routing::delete(drop_session))
        .route("/users/{user_id}/library", get(user_library))
        .route("/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/device/events", get(device_events))
        .route("/playback/sessions", get(playback_sessions))
        .route("/playback/events", get(playback_events))
        .route("/plan", get(plan).post(load_plan).delete(remove_plan))
        .route("/verdict", get(verdict))
        .route("/ui", get(ui))
        .route("/ui/live", get(ui_live))
        .route("/streams/sign", post(streams::sign))
        .fallback(|| async { err(StatusCode::NOT_FOUND, "no such admin route: see docs/ADMIN.md") })
        // axum adds the `Allow` header to this answer.
        .method_not_allowed_fallback(|method: Method| async move {
            err(StatusCode::METHOD_NOT_ALLOWED, format!("method {method} is not allowed on this admin route"))
        })
}

/// The latest virtual time the clock may be set to, epoch seconds: 9999-12-31T23:59:59Z, the last instant an
/// HTTP `Date` header can name.
pub const MAX_CLOCK_SECONDS: i64 = 253_402_300_799;

fn clock_out_of_range(target: Option<i64>) -> Option<Response> {
    match target {
        Some(t) if (0..=MAX_CLOCK_SECONDS).contains(&t) => None,
        _ => Some(err(
            StatusCode::BAD_REQUEST,
            format!("the clock must stay between 0 and {MAX_CLOCK_SECONDS} (9999-12-31T23:59:59Z) epoch seconds"),
        )),
    }
}

/// An admin error: `{"error": message}`.
pub fn err(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// An admin refusal from a helper: its status and message, answered as [`err`] answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError(pub StatusCode, pub String);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        err(self.0, self.1)
    }
}

/// The largest body an admin route reads (JSON bodies and plans alike), whatever `--body-limit` says: a
/// larger one is 413 in the admin error shape.
pub const ADMIN_BODY_LIMIT: usize = 1024 * 1024;

/// Reads a request's whole body, up to [`ADMIN_BODY_LIMIT`].
///
/// # Errors
/// 413 over the limit, 400 when the body cannot be read; both in the admin error shape.
async fn admin_body(req: Request) -> Result<axum::body::Bytes, Response> {
    axum::body::to_bytes(req.into_body(), ADMIN_BODY_LIMIT).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if s.is::<http_body_util::LengthLimitError>() {
                return err(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
            }
            source = s.source();
        }
        err(StatusCode::BAD_REQUEST, format!("the body could not be read: {e}"))
    })
}

/// The message of a body over [`ADMIN_BODY_LIMIT`].
pub const TOO_LARGE: &str = "the body is larger than 1 MiB (1048576 bytes), the admin API's limit";

/// A JSON body that may be empty (then `{}`), whose errors answer in the admin error shape. Its type decides
/// the fields: every admin body type refuses unknown ones (`deny_unknown_fields`).
pub struct AdminJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AdminJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, _: &S) -> Result<Self, Response> {
        let bytes = admin_body(req).await?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &bytes };
        // serde would also read a struct from a JSON array (`[1]` as `{"seconds": 1}`): only objects are bodies.
        let bad = |e: String| err(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}"));
        let value: Value = serde_json::from_slice(text).map_err(|e| bad(e.to_string()))?;
        if !value.is_object() {
            return Err(bad("expected a JSON object".into()));
        }
        // Read again from the text, so that a refused field is reported with its line and column.
        serde_json::from_slice(text).map(AdminJson).map_err(|e| bad(e.to_string()))
    }
}

/// A text body (a plan's YAML or JSON), up to [`ADMIN_BODY_LIMIT`], whose errors answer in the admin error
/// shape.
pub struct AdminText(pub String);

impl<S: Send + Sync> FromRequest<S> for AdminText {
    type Rejection = Response;

    async fn from_request(req: Request, _: &S) -> Result<Self, Response> {
        let bytes = admin_body(req).await?;
        String::from_utf8(bytes.to_vec())
            .map(AdminText)
            .map_err(|_| err(StatusCode::BAD_REQUEST, "the plan must be UTF-8 YAML or JSON text"))
    }
}

/// The body of the routes that take no field: none, or `{}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}

async fn health(session: Session) -> Response {
    axum::Json(json!({"status": "ok", "session": session.id})).into_response()
}

async fn reset(session: Session, AdminJson(NoFields {}): AdminJson<NoFields>) -> Response {
    session.store.reset().await;
    axum::Json(json!({"reset": true, "session": session.id})).into_response()
}

async fn clock(session: Session) -> Response {
    axum::Json(session.store.clock_state()).into_response()
}

async fn clock_freeze(session: Session, AdminJson(NoFields {}): AdminJson<NoFields>) -> Response {
    axum::Json(session.store.change_clock(ClockChange::Freeze).await).into_response()
}

async fn clock_unfreeze(session: Session, AdminJson(NoFields {}): AdminJson<NoFields>) -> Response {
    axum::Json(session.store.change_clock(ClockChange::Unfreeze).await).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClock {
    now: i64,
}

async fn clock_set(session: Session, AdminJson(b): AdminJson<SetClock>) -> Response {
    if let Some(e) = clock_out_of_range(Some(b.now)) {
        return e;
    }
    axum::Json(session.store.change_clock(ClockChange::Set(b.now)).await).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: i64,
}

async fn clock_advance(session: Session, AdminJson(b): AdminJson<Advance>) -> Response {
    if let Some(e) = clock_out_of_range(session.store.clock_state().now.checked_add(b.seconds)) {
        return e;
    }
    axum::Json(session.store.change_clock(ClockChange::Advance(b.seconds)).await).into_response()
}

async fn security_profiles(State(state): State<AppState>) -> Response {
    axum::Json(state.fixtures.profiles()).into_response()
}

async fn users(State(state): State<AppState>) -> Response {
    axum::Json(state.fixtures.users()).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Approve {
    user_code: String,
    #[serde(default)]
    user_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserCode {
    user_code: String,
}

async fn decide(session: &Session, user_code: &str, decision: CodePairDecision, status: &str) -> Response {
    match session.store.decide_code_pair(user_code, decision).await {
        Ok(p) => {
            let user = match &p.status {
                crate::store::CodePairStatus::Approved(u) => Some(u.clone()),
                _ => None,
            };
            axum::Json(json!({"user_code": p.user_code, "status": status, "user_id": user, "client_id": p.client_id}))
                .into_response()
        }
        Err(DecisionError::Unknown) => err(StatusCode::NOT_FOUND, format!("no code pair with user_code {user_code:?}")),
        Err(DecisionError::NotPending) => err(StatusCode::CONFLICT, format!("code pair {user_code:?} is not pending")),
    }
}

async fn device_approve(State(state): State<AppState>, session: Session, AdminJson(b): AdminJson<Approve>) -> Response {
    let user = match b.user_id {
        Some(u) => match state.fixtures.user(&u) {
            Some(u) => u.user_id.as_str().to_owned(),
            None => return err(StatusCode::NOT_FOUND, format!("no fixture user {u:?}")),
        },
        None => state.fixtures.first_user().user_id.as_str().to_owned(),
    };
    decide(&session, &b.user_code, CodePairDecision::Approve(user), "approved").await
}

async fn device_deny(session: Session, AdminJson(b): AdminJson<UserCode>) -> Response {
    decide(&session, &b.user_code, CodePairDecision::Deny, "denied").await
}

async fn device_expire(session: Session, AdminJson(b): AdminJson<UserCode>) -> Response {
    decide(&session, &b.user_code, CodePairDecision::Expire, "expired").await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Revoke {
    user_id: String,
    client_id: String,
}

async fn grants_revoke(State(state): State<AppState>, session: Session, AdminJson(b): AdminJson<Revoke>) -> Response {
    if state.fixtures.user(&b.user_id).is_none() {
        return err(StatusCode::NOT_FOUND, format!("no fixture user {:?}", b.user_id));
    }
    if state.fixtures.client(&b.client_id).is_none() {
        return err(StatusCode::NOT_FOUND, format!("no fixture client {:?}", b.client_id));
    }
    let generation = session.store.revoke_grant(&b.user_id, &b.client_id).await;
    axum::Json(json!({"user_id": b.user_id, "client_id": b.client_id, "revoked": true, "generation": generation}))
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpireToken {
    token: String,
}

/// Expires an access, refresh or app token, an authorization code, or a code pair (by user or device code).
async fn tokens_expire(
    State(state): State<AppState>,
    session: Session,
    AdminJson(b): AdminJson<ExpireToken>,
) -> Response {
    match expire::expire(&state, &session, b.token.trim()).await {
        Ok(what) => axum::Json(json!({"expired": what.as_str()})).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn settings(session: Session) -> Response {
    axum::Json(session.store.settings().await).into_response()
}

async fn put_settings(session: Session, AdminJson(patch): AdminJson<SettingsPatch>) -> Response {
    if let Err(message) = patch.validate() {
        return err(StatusCode::BAD_REQUEST, message);
    }
    axum::Json(session.store.update_settings(patch).await).into_response()
}

/// `?after=SEQ&limit=N`: the entries after `SEQ` (0: from the start), at most `N` (1–1000; none: all).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalPage {
    after: Option<u64>,
    limit: Option<usize>,
}

/// The largest journal page.
pub const MAX_JOURNAL_PAGE: usize = 1000;

/// `GET /__admin/requests[?after=SEQ&limit=N]`: the journal, oldest first, or one page of it; when entries
/// remain after the page, `x-amm-next-after` names the `after` of the next one.
async fn requests(
    session: Session,
    query: Result<axum::extract::Query<JournalPage>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (after, limit) = match journal_page(query) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let (entries, more) = session.store.journal_page(after, limit).await;
    let next = entries.last().map(|e| e.seq).filter(|_| more);
    let mut resp = axum::Json(entries).into_response();
    next.map(|seq| resp.headers_mut().insert("x-amm-next-after", seq.into()));
    resp
}

/// The page asked for: `after` (0: from the start) and `limit` (none: every entry).
fn journal_page(
    query: Result<axum::extract::Query<JournalPage>, axum::extract::rejection::QueryRejection>,
) -> Result<(u64, usize), AdminError> {
    let page =
        query.map_err(|e| AdminError(StatusCode::BAD_REQUEST, format!("{}: use ?after=SEQ&limit=N", e.body_text())))?.0;
    if page.limit.is_some_and(|l| !(1..=MAX_JOURNAL_PAGE).contains(&l)) {
        return Err(AdminError(StatusCode::BAD_REQUEST, format!("limit must be between 1 and {MAX_JOURNAL_PAGE}")));
    }
    Ok((page.after.unwrap_or(0), page.limit.unwrap_or(usize::MAX)))
}

/// `DELETE /s/{name}/__admin/session`: forgets the session (its clock, settings, codes, grants, music state
/// and journal); the next request naming it starts afresh. 404 when it does not exist (the outer layer checks
/// before anything creates it); the default session cannot be dropped (reset it).
async fn drop_session(State(state): State<AppState>, session: Session) -> Response {
    if session.id == SessionId::default_session() {
        return err(
            StatusCode::BAD_REQUEST,
            "the default session cannot be dropped: POST /__admin/reset empties it, or use /s/{name}/ sessions",
        );
    }
    state.store.drop_session(&session.id).await;
    axum::Json(json!({"dropped": session.id})).into_response()
}

async fn sessions(State(state): State<AppState>) -> Response {
    let ids: Vec<SessionId> = state.store.session_ids().await;
    axum::Json(Value::from(ids.iter().map(|s| s.as_str().to_owned()).collect::<Vec<_>>())).into_response()
}

/// `GET /__admin/users/{user_id}/library`: everything the session holds for a customer's Music API state.
async fn user_library(
    State(state): State<AppState>,
    session: Session,
    path: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    let user_id = match path {
        Ok(axum::extract::Path(u)) => u,
        Err(e) => {
            return err(StatusCode::BAD_REQUEST, format!("the user id in the path is not usable: {}", e.body_text()));
        }
    };
    match state.fixtures.user(&user_id) {
        Some(u) if u.has_music_account => axum::Json(session.store.music().dump(&user_id).await).into_response(),
        Some(_) => err(StatusCode::NOT_FOUND, format!("user {user_id:?} has no music account")),
        None => err(StatusCode::NOT_FOUND, format!("no fixture user {user_id:?}")),
    }
}

async fn faults(session: Session) -> Response {
    axum::Json(session.store.music().faults().await).into_response()
}

/// `POST /__admin/faults`: `{"route": "GET /v1/tracks/*", "error": "THROTTLED", "retry_after": 5,
/// "latency_ms": 0, "count": 1, "after": 0}`; `error` is any V1 or V2 error code or Device API report, or
/// absent for latency only. A route `TRACK <asin>` (or `TRACK *`) marks that track in Device API containers.
async fn add_fault(session: Session, AdminJson(f): AdminJson<crate::store::music::Fault>) -> Response {
    if let Err(message) = f.validate(crate::plan::known_fault_code) {
        return err(StatusCode::BAD_REQUEST, message);
    }
    session.store.music().add_fault(f).await;
    axum::Json(session.store.music().faults().await).into_response()
}

/// `GET /__admin/device/events`: the Device API playback reports the session's event collectors received.
async fn device_events(session: Session) -> Response {
    axum::Json(session.store.music().device_events().await).into_response()
}

async fn clear_faults(session: Session) -> Response {
    session.store.music().clear_faults().await;
    axum::Json(json!([])).into_response()
}

/// The `user` and `session` filters of the playback routes: `?user=<fixture user id>&session=<playback session id>`.
/// An unknown user is 404, another parameter 400.
struct PlaybackFilter {
    user: Option<String>,
    session: Option<String>,
}

impl axum::extract::FromRequestParts<AppState> for PlaybackFilter {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Response> {
        let query = parts.uri.query().unwrap_or("");
        let pairs = crate::lwa::params::parse_form(query.as_bytes())
            .ok_or_else(|| err(StatusCode::BAD_REQUEST, "the query string is not valid UTF-8 once percent-decoded"))?;
        let mut f = PlaybackFilter { user: None, session: None };
        for (k, v) in pairs {
            match k.as_str() {
                "user" if state.fixtures.user(&v).is_none() => {
                    return Err(err(StatusCode::NOT_FOUND, format!("no fixture user {v:?}")));
                }
                "user" => f.user = Some(v),
                "session" => f.session = Some(v),
                _ => {
                    let message = format!("unknown query parameter {k:?}: use user or session");
                    return Err(err(StatusCode::BAD_REQUEST, message));
                }
            }
        }
        Ok(f)
    }
}

/// `GET /__admin/playback/sessions[?user=&session=]`: every playback session of the session (customers in id
/// order, each customer's oldest first) with its queue, modes, slot state and capabilities.
async fn playback_sessions(session: Session, f: PlaybackFilter) -> Response {
    let now = session.store.now_ms();
    let all = session.store.music().playback_sessions(f.user.as_deref()).await;
    let out: Vec<Value> = all
        .into_iter()
        .filter(|s| f.session.as_deref().is_none_or(|id| s.session_id == id))
        .map(|s| playback_session_json(&s, now))
        .collect();
    axum::Json(out).into_response()
}

/// A playback session as the admin API shows it at `now`: its record, with the device's capabilities by their
/// header names, its state and whether it holds a concurrency slot.
fn playback_session_json(s: &PlaybackSession, now: i64) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["capabilities"] = json!(capability_names(s.capabilities));
    v["state"] = json!(s.state_at(now));
    v["holdsSlot"] = json!(s.holds_slot(now));
    v
}

/// The `X-Amzn-Audio-Device-Capability` names of what a device can play.
fn capability_names(c: Capabilities) -> Vec<&'static str> {
    [(c.std_res, "STD_RES"), (c.hi_fi, "HI_FI"), (c.hi_res, "HI_RES"), (c.three_dimensional, "THREE_DIMENSIONAL")]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
}

/// `GET /__admin/playback/events[?user=&session=]`: every recorded playback event, in arrival order.
async fn playback_events(session: Session, f: PlaybackFilter) -> Response {
    let mut all = session.store.music().playback_events(f.user.as_deref()).await;
    if let Some(id) = f.session.as_deref() {
        all.retain(|e| e.session_id == id);
    }
    axum::Json(all).into_response()
}

/// `GET /__admin/plan`: the session's client plan.
async fn plan(session: Session) -> Response {
    match session.store.plan().await {
        Some(p) => axum::Json(&*p).into_response(),
        None => err(StatusCode::NOT_FOUND, "no plan is loaded in this session: POST one to /__admin/plan"),
    }
}

/// `POST /__admin/plan`: a plan's YAML (or JSON) text as the body. The session is reset, then the plan
/// applied; the answer is the plan as loaded.
async fn load_plan(session: Session, AdminText(text): AdminText) -> Response {
    match crate::plan::Plan::parse("plan", &text) {
        Ok(p) => {
            let p = std::sync::Arc::new(p);
            session.store.load_plan(Some(p.clone())).await;
            axum::Json(&*p).into_response()
        }
        Err(e) => err(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn remove_plan(session: Session) -> Response {
    session.store.load_plan(None).await;
    axum::Json(json!({"plan": null, "session": session.id})).into_response()
}

async fn judged(
    session: &Session,
) -> (crate::verdict::Verdict, Vec<crate::journal::JournalEntry>, Option<std::sync::Arc<crate::plan::Plan>>) {
    let journal = session.store.journal().await;
    let plan = session.store.plan().await;
    let v = crate::verdict::judge(session.id.as_str(), &journal, plan.as_deref(), session.store.now_ms());
    (v, journal, plan)
}

/// `GET /__admin/verdict`: the session's client verdict; 409 when its journal is empty (nothing to judge is
/// no pass). The outer layer answers 404 for a session that does not exist.
async fn verdict(session: Session) -> Response {
    let v = judged(&session).await.0;
    if v.entries == 0 {
        return err(StatusCode::CONFLICT, nothing_to_judge(&session));
    }
    axum::Json(v).into_response()
}

/// Why an empty session has no verdict.
pub fn nothing_to_judge(session: &Session) -> String {
    format!(
        "session {:?} has no journal entries: nothing to judge (run the client against {}/ first)",
        session.id.as_str(),
        if session.prefix.is_empty() { "the server's root".to_owned() } else { session.prefix.clone() }
    )
}

/// `GET /__admin/ui`: the live dashboard.
async fn ui(session: Session) -> Response {
    let (v, journal, plan) = judged(&session).await;
    let mut resp =
        axum::response::Html(crate::verdict::ui::page(&v, &journal, plan.as_deref()).into_string()).into_response();
    resp.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    resp
}

/// `GET /__admin/ui/live`: `{"version": …, "html": …}`, the dashboard's live part.
async fn ui_live(session: Session) -> Response {
    let (v, journal, plan) = judged(&session).await;
    let live = crate::verdict::ui::live(&v, &journal, plan.as_deref());
    let version = crate::verdict::ui::version_of(&live);
    let mut resp = axum::Json(json!({"version": version, "html": live.into_string()})).into_response();
    resp.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    resp
}
