//! Running scenarios against a target: the in-process mock, a mock started elsewhere, or any other
//! endpoint.
//!
//! On a mock every scenario gets a session of its own (`/s/{id}/…`), reset before it starts, so scenarios
//! run in parallel (`jobs` at a time, as tokio tasks) and cannot see each other. Requests go over HTTP with a
//! client that never follows redirects; a scenario stops at its first failing step. Control steps go to the
//! session's `/__admin`; on a target without one, scenarios tagged `mock-only` are skipped with the reason.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::baseline::Baseline;
use super::expect::{self, CheckError, Mismatch, Response, Verdict, excerpt};
use super::interp::{InterpError, Vars, flatten};
use super::load::LoadedScenario;
use super::model::{Control, Poll, Request, Step};
pub use super::outcome::{Failure, FailureKind, Outcome, RunReport, ScenarioResult, Summary};
use crate::server::{RunningServer, ServerConfig};

mod media;

/// Where the scenarios run.
#[derive(Debug, Clone)]
pub enum Target {
    /// Start the mock in this process on a free loopback port, with this configuration (its `bind` is
    /// replaced by `127.0.0.1:0`).
    InProcess(Box<ServerConfig>),
    /// A running server at this base URL.
    Url {
        /// `http://host:port` (a path prefix is kept).
        base: String,
        /// Whether it is a mock with an admin API.
        mock: MockMode,
    },
}

/// Whether a `--target` is a mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MockMode {
    /// Ask `GET /__admin/health`: a mock answers `{"status":"ok",…}`.
    Detect,
    /// It must be a mock; the run fails to start when the health check does not answer.
    Required,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where.
    pub target: Target,
    /// Scenarios in flight at once (at least 1).
    pub jobs: usize,
    /// Run only scenarios with one of these tags, or whose name or file contains one of them; empty: all.
    pub filters: Vec<String>,
    /// Expected failures.
    pub baseline: Option<Baseline>,
    /// Variables for every scenario (from `--vars`); on a target that is not a mock, the fixture aliases.
    pub vars: Vars,
    /// Time limit of one HTTP request.
    pub request_timeout: Duration,
    /// The target's admin token (its `--admin-token`), sent as `Authorization: Bearer` on admin calls only.
    pub admin_token: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            target: Target::InProcess(Box::new(ServerConfig { seed: Some(1), ..ServerConfig::default() })),
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            filters: Vec::new(),
            baseline: None,
            vars: Vars::new(),
            request_timeout: Duration::from_secs(30),
            admin_token: None,
        }
    }
}

/// Why a run could not start (exit code 2): not a scenario failing.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The in-process server did not start.
    #[error("cannot start the in-process server: {0}")]
    Start(#[from] crate::server::StartError),
    /// The target did not answer as required.
    #[error("target {target}: {message}")]
    Target {
        /// The base URL.
        target: String,
        /// What went wrong.
        message: String,
    },
}

/// Whether a scenario is selected by the filters: no filters, or one of them is a tag of it, or occurs in
/// its name or in its file's path below the directory it was found in (ignoring case).
pub fn selected(s: &LoadedScenario, filters: &[String]) -> bool {
    filters.is_empty()
        || filters.iter().any(|f| {
            let f_lower = f.to_lowercase();
            s.scenario.tags.iter().any(|t| t.to_lowercase() == f_lower)
                || s.scenario.name.to_lowercase().contains(&f_lower)
                || s.found_as.to_lowercase().contains(&f_lower)
        })
}

/// What every scenario task shares.
struct Ctx {
    http: reqwest::Client,
    base: String,
    mock: bool,
    globals: Vars,
    /// Mixed into session names on a shared server, so two runs against it do not collide.
    nonce: Option<String>,
    /// Sent on admin calls (`RunOptions::admin_token`).
    admin_token: Option<String>,
}

/// An admin request: with the target's admin token when there is one.
fn admin_request(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
) -> reqwest::RequestBuilder {
    let req = http.request(method, url);
    match token {
        Some(t) => req.bearer_auth(t),
        None => req,
    }
}

/// Runs the selected scenarios and applies the baseline. `on_result` sees each result as it completes (for
/// progress output).
///
/// # Errors
/// [`RunError`] when the run cannot start: the in-process server does not start, or the target does not
/// answer as required.
pub async fn run(
    scenarios: &[LoadedScenario],
    opts: &RunOptions,
    on_result: &mut (dyn FnMut(&ScenarioResult) + Send),
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(opts.request_timeout)
        .build()
        .map_err(|e| RunError::Target { target: String::new(), message: format!("HTTP client: {e}") })?;

    let mut server: Option<RunningServer> = None;
    let (base, mock, in_process) = match &opts.target {
        Target::InProcess(cfg) => {
            let cfg = ServerConfig { bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)), ..(**cfg).clone() };
            let s = crate::server::start(&cfg).await?;
            let base = s.uri();
            server = Some(s);
            (base, true, true)
        }
        Target::Url { base, mock } => {
            let base = base.trim_end_matches('/').to_owned();
            let is_mock =
                detect_mock(&http, &base).await.map_err(|m| RunError::Target { target: base.clone(), message: m })?;
            if *mock == MockMode::Required && !is_mock {
                return Err(RunError::Target {
                    target: base,
                    message: "--mock was given, but GET /__admin/health does not answer {\"status\":\"ok\"}".into(),
                });
            }
            (base, is_mock, false)
        }
    };

    let mut globals = Vars::new();
    if mock {
        let get = |path: &'static str| {
            let req = admin_request(&http, reqwest::Method::GET, format!("{base}{path}"), opts.admin_token.as_deref());
            async move {
                let r = req.send().await.map_err(|e| format!("GET {path}: {}", error_chain(&e)))?;
                if r.status() == reqwest::StatusCode::UNAUTHORIZED {
                    return Err(format!(
                        "GET {path} answered 401: the target's admin API needs its token; give it with --admin-token \
                         (AMM_ADMIN_TOKEN)"
                    ));
                }
                if !r.status().is_success() {
                    return Err(format!("GET {path} answered {}", r.status()));
                }
                r.json::<Value>().await.map_err(|e| format!("GET {path}: {e}"))
            }
        };
        let profiles = get("/__admin/security-profiles").await;
        let users = get("/__admin/users").await;
        match (profiles, users) {
            (Ok(p), Ok(u)) => globals.extend(&super::interp::fixture_aliases(&p, &u)),
            (Err(m), _) | (_, Err(m)) => return Err(RunError::Target { target: base, message: m }),
        }
    }
    globals.extend(&opts.vars);

    let nonce = (!in_process).then(|| format!("{:06x}", rand::random::<u32>() & 0xff_ffff));
    let ctx = Arc::new(Ctx { http, base: base.clone(), mock, globals, nonce, admin_token: opts.admin_token.clone() });
    let permits = Arc::new(Semaphore::new(opts.jobs.max(1)));
    let mut tasks = JoinSet::new();
    let chosen: Vec<(usize, &LoadedScenario)> =
        scenarios.iter().filter(|s| selected(s, &opts.filters)).enumerate().collect();
    let mut task_index = std::collections::HashMap::new();
    for (i, s) in &chosen {
        let ctx = ctx.clone();
        let permits = permits.clone();
        let s = (*s).clone();
        let i = *i;
        let handle = tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (i, run_one(&ctx, i, &s).await)
        });
        task_index.insert(handle.id(), i);
    }
    let mut results: Vec<(usize, ScenarioResult)> = Vec::with_capacity(chosen.len());
    while let Some(joined) = tasks.join_next().await {
        let (i, r) = match joined {
            Ok(done) => done,
            Err(e) => {
                // A panic in the runner is a bug; it fails its scenario rather than vanish from the report.
                let i = task_index.get(&e.id()).copied().unwrap_or_default();
                let s = chosen.iter().find(|(j, _)| *j == i).map(|(_, s)| *s).unwrap_or(&scenarios[0]);
                let mut r = skeleton(s);
                r.outcome = Outcome::Failed;
                r.failure = Some(Failure::error(format!("the runner failed on this scenario: {e}")));
                (i, r)
            }
        };
        on_result(&r);
        results.push((i, r));
    }
    results.sort_by_key(|(i, _)| *i);
    let mut scenarios_out: Vec<ScenarioResult> = results.into_iter().map(|(_, r)| r).collect();

    let stale = match &opts.baseline {
        Some(b) => {
            let names: Vec<&str> = scenarios.iter().map(|s| s.scenario.name.as_str()).collect();
            b.apply(&mut scenarios_out, &names)
        }
        None => Vec::new(),
    };
    if let Some(s) = server.take() {
        s.stop().await;
    }
    let mut report = RunReport {
        target: base,
        mock,
        in_process,
        duration_ms: started.elapsed().as_millis() as u64,
        summary: Summary::default(),
        scenarios: scenarios_out,
        stale_baseline: stale,
    };
    report.count();
    Ok(report)
}

/// `Ok(true)` for a mock, `Ok(false)` for a server without the admin API, `Err` when nothing answers.
async fn detect_mock(http: &reqwest::Client, base: &str) -> Result<bool, String> {
    let r = http
        .get(format!("{base}/__admin/health"))
        .send()
        .await
        .map_err(|e| format!("GET /__admin/health: {}", error_chain(&e)))?;
    if !r.status().is_success() {
        return Ok(false);
    }
    let v: Value = r.json().await.unwrap_or(Value::Null);
    Ok(v.get("status").and_then(Value::as_str) == Some("ok"))
}

/// An error and its sources, `: `-separated (reqwest's own message hides the cause).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// A session id: `NNN-slug` (with a run nonce on a shared server), at most 64 characters.
fn session_id(nonce: Option<&str>, index: usize, s: &LoadedScenario) -> String {
    let stem = s.file.file_stem().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let slug: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    let id = match nonce {
        Some(n) => format!("{n}-{index:03}-{slug}"),
        None => format!("{index:03}-{slug}"),
    };
    id.chars().take(64).collect()
}

/// A passed result with nothing run yet.
fn skeleton(s: &LoadedScenario) -> ScenarioResult {
    let sc = &s.scenario;
    ScenarioResult {
        name: sc.name.clone(),
        file: s.file_display(),
        tags: sc.tags.clone(),
        checks: sc.checks.clone(),
        outcome: Outcome::Passed,
        skip_reason: None,
        failure: None,
        baseline_reason: None,
        session: None,
        steps_run: 0,
        steps_total: sc.steps.len(),
        duration_ms: 0,
    }
}

async fn run_one(ctx: &Ctx, index: usize, s: &LoadedScenario) -> ScenarioResult {
    let started = Instant::now();
    let sc = &s.scenario;
    let mut result = skeleton(s);
    let needs_mock = s.mock_only() || sc.steps.iter().any(|st| st.value.control.is_some());
    if needs_mock && !ctx.mock {
        result.outcome = Outcome::Skipped;
        result.skip_reason = Some(format!("needs a mock target (tagged mock-only); {} has no /__admin API", ctx.base));
        return result;
    }
    let session = ctx.mock.then(|| session_id(ctx.nonce.as_deref(), index, s));
    let prefix = session.as_ref().map(|id| format!("/s/{id}")).unwrap_or_default();
    result.session = session.clone();
    let mut runner = ScenarioRun { ctx, prefix, vars: ctx.globals.clone() };
    runner.vars.set("target", Value::String(format!("{}{}", ctx.base, runner.prefix)));
    runner.vars.set("session", Value::String(session.clone().unwrap_or_default()));

    let outcome = async {
        if ctx.mock {
            runner
                .admin("POST", "/reset", None)
                .await
                .map_err(|m| Failure::error(format!("resetting the session: {m}")))?;
        }
        for (name, v) in &sc.vars {
            let value = runner.vars.value(v).map_err(|e| Failure::error(format!("vars.{name}: {e}")))?;
            runner.vars.set(name.clone(), value);
        }
        Ok::<(), Failure>(())
    }
    .await;
    if let Err(mut f) = outcome {
        f.mask();
        result.outcome = Outcome::Failed;
        result.failure = Some(f);
        result.duration_ms = started.elapsed().as_millis() as u64;
        return result;
    }
    for (i, step) in sc.steps.iter().enumerate() {
        result.steps_run = i + 1;
        if let Err(mut f) = runner.step(&step.value).await {
            f.step = i + 1;
            f.step_name = step.value.name.clone();
            f.line = step.line;
            f.column = step.column;
            result.outcome = Outcome::Failed;
            result.failure = Some(f);
            break;
        }
    }
    result.duration_ms = started.elapsed().as_millis() as u64;
    if let Some(f) = &mut result.failure {
        f.mask();
    }
    result
}

/// One scenario in progress: its session prefix and variables.
struct ScenarioRun<'a> {
    ctx: &'a Ctx,
    prefix: String,
    vars: Vars,
}

impl From<InterpError> for Failure {
    fn from(e: InterpError) -> Self {
        Failure::error(e.to_string())
    }
}

impl From<CheckError> for Failure {
    fn from(e: CheckError) -> Self {
        Failure::error(e.to_string())
    }
}

impl ScenarioRun<'_> {
    async fn step(&mut self, step: &Step) -> Result<(), Failure> {
        let (resp, request) = if let Some(r) = &step.request {
            let (resp, request) = self.send(r).await?;
            (resp, request)
        } else if let Some(p) = &step.poll {
            self.poll(p).await?
        } else if let Some(c) = &step.control {
            self.control(c).await?
        } else {
            return Err(Failure::error("the step has no request, poll or control"));
        };
        if let Some(e) = &step.expect {
            let mut v = expect::check(e, &resp, &self.vars)?;
            self.media_checks(e, step.request.as_ref(), &resp, &mut v).await?;
            if !v.ok() {
                return Err(Failure::from_verdict("the answer does not match `expect`", v, &resp, &request));
            }
        }
        for (name, c) in &step.capture {
            match expect::capture(c, &resp, &self.vars)? {
                Ok(v) => self.vars.set(name.clone(), v),
                Err(why) => {
                    let v = Verdict {
                        mismatches: vec![Mismatch {
                            check: format!("capture {name}"),
                            expected: capture_text(c),
                            actual: why,
                        }],
                        diff: None,
                    };
                    return Err(Failure::from_verdict(format!("cannot capture `{name}`"), v, &resp, &request));
                }
            }
        }
        Ok(())
    }

    /// Sends a request; returns the answer and `METHOD /path` for reports.
    async fn send(&self, r: &Request) -> Result<(Response, String), Failure> {
        let path = self.vars.text(&r.path)?;
        // An absolute URL (a stream URL a response handed out, already carrying the session prefix) is used as
        // it is; a path is relative to the target and the scenario's session.
        let absolute = path.starts_with("http://") || path.starts_with("https://");
        let mut url = if absolute { path.clone() } else { format!("{}{}{}", self.ctx.base, self.prefix, path) };
        if !r.query.is_empty() {
            let mut ser = form_urlencoded::Serializer::new(String::new());
            for (k, p) in &r.query {
                let k = self.vars.text(k)?;
                for v in &p.0 {
                    ser.append_pair(&k, &self.vars.text(v)?);
                }
            }
            url.push(if path.contains('?') { '&' } else { '?' });
            url.push_str(&ser.finish());
        }
        let shown =
            format!("{} {}", r.method, url.strip_prefix(&format!("{}{}", self.ctx.base, self.prefix)).unwrap_or(&url));
        let method = reqwest::Method::from_bytes(r.method.as_bytes())
            .map_err(|_| Failure::error(format!("not an HTTP method: {:?}", r.method)))?;
        let mut req = self.ctx.http.request(method, &url);
        let mut has_content_type = false;
        for (k, v) in &r.headers {
            has_content_type |= k.eq_ignore_ascii_case("content-type");
            req = req.header(k.as_str(), self.vars.text(&v.0)?);
        }
        if let Some(b) = &r.basic_auth {
            let raw = format!("{}:{}", self.vars.text(&b.user)?, self.vars.text(&b.password)?);
            let enc = base64::engine::general_purpose::STANDARD.encode(raw);
            req = req.header("authorization", format!("Basic {enc}"));
        }
        if let Some(t) = &r.bearer {
            req = req.header("authorization", format!("Bearer {}", self.vars.text(t)?));
        }
        if let Some(f) = &r.form {
            let mut ser = form_urlencoded::Serializer::new(String::new());
            for (k, p) in f {
                let k = self.vars.text(k)?;
                for v in &p.0 {
                    ser.append_pair(&k, &self.vars.text(v)?);
                }
            }
            if !has_content_type {
                req = req.header("content-type", "application/x-www-form-urlencoded");
            }
            req = req.body(ser.finish());
        } else if let Some(j) = &r.json {
            let body = serde_json::to_vec(&self.vars.value(j)?).unwrap_or_default();
            if !has_content_type {
                req = req.header("content-type", "application/json");
            }
            req = req.body(body);
        } else if let Some(b) = &r.body {
            req = req.body(self.vars.text(b)?);
        }
        let resp =
            self.execute(req).await.map_err(|m| Failure { request: Some(shown.clone()), ..Failure::error(m) })?;
        Ok((resp, shown))
    }

    async fn execute(&self, req: reqwest::RequestBuilder) -> Result<Response, String> {
        let r = req.send().await.map_err(|e| format!("the request failed: {}", error_chain(&e)))?;
        let status = r.status().as_u16();
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let url = r.url().to_string();
        let bytes = r.bytes().await.map_err(|e| format!("reading the answer failed: {}", error_chain(&e)))?;
        Ok(Response::new(status, headers, bytes, url))
    }

    async fn poll(&self, p: &Poll) -> Result<(Response, String), Failure> {
        let mut last: Option<(Response, String, Verdict)> = None;
        for attempt in 1..=p.max_attempts {
            if attempt > 1 {
                self.wait(p).await?;
            }
            let (resp, shown) = self.send(&p.request).await?;
            let until = expect::check(&p.until, &resp, &self.vars)?;
            if until.ok() {
                return Ok((resp, shown));
            }
            if let Some(w) = &p.while_ {
                if !expect::check(w, &resp, &self.vars)?.ok() {
                    let msg = format!("attempt {attempt}: the answer matches neither `until` nor `while`");
                    return Err(Failure::from_verdict(msg, until, &resp, &shown));
                }
            }
            last = Some((resp, shown, until));
        }
        let waited = p.every_seconds * u64::from(p.max_attempts.saturating_sub(1));
        let how = if self.ctx.mock && p.advance_clock { "virtual seconds" } else { "seconds" };
        let msg = format!(
            "no answer matched `until` in {} attempts ({waited} {how}); the last answer is shown",
            p.max_attempts
        );
        match last {
            Some((resp, shown, v)) => Err(Failure::from_verdict(msg, v, &resp, &shown)),
            None => Err(Failure::error(msg)),
        }
    }

    async fn wait(&self, p: &Poll) -> Result<(), Failure> {
        if self.ctx.mock && p.advance_clock {
            let seconds = i64::try_from(p.every_seconds).unwrap_or(i64::MAX);
            self.admin("POST", "/clock/advance", Some(json!({ "seconds": seconds })))
                .await
                .map_err(|m| Failure::error(format!("advancing the clock between attempts: {m}")))?;
        } else {
            tokio::time::sleep(Duration::from_secs(p.every_seconds)).await;
        }
        Ok(())
    }

    async fn control(&self, c: &Control) -> Result<(Response, String), Failure> {
        if !self.ctx.mock {
            return Err(Failure::error("control steps need a mock target"));
        }
        let v = &self.vars;
        let (method, path, body): (&str, String, Option<Value>) = match c {
            Control::Reset => ("POST", "/reset".into(), None),
            Control::FreezeClock => ("POST", "/clock/freeze".into(), None),
            Control::UnfreezeClock => ("POST", "/clock/unfreeze".into(), None),
            Control::AdvanceClock(s) => ("POST", "/clock/advance".into(), Some(json!({ "seconds": s }))),
            Control::SetClock(t) => ("POST", "/clock/set".into(), Some(json!({ "now": t }))),
            Control::ApproveCode(a) => {
                let mut b = json!({ "user_code": v.text(&a.user_code)? });
                if let Some(u) = &a.user_id {
                    b["user_id"] = Value::String(v.text(u)?);
                }
                ("POST", "/device/approve".into(), Some(b))
            }
            Control::DenyCode(u) => {
                ("POST", "/device/deny".into(), Some(json!({ "user_code": v.text(&u.user_code)? })))
            }
            Control::ExpireCode(u) => {
                ("POST", "/device/expire".into(), Some(json!({ "user_code": v.text(&u.user_code)? })))
            }
            Control::ExpireToken(t) => ("POST", "/tokens/expire".into(), Some(json!({ "token": v.text(&t.token)? }))),
            Control::RevokeGrant(r) => (
                "POST",
                "/grants/revoke".into(),
                Some(json!({ "user_id": v.text(&r.user_id)?, "client_id": v.text(&r.client_id)? })),
            ),
            Control::Settings(m) => {
                ("PUT", "/settings".into(), Some(v.value(&Value::Object(m.clone().into_iter().collect()))?))
            }
            Control::Fault(m) => {
                ("POST", "/faults".into(), Some(v.value(&Value::Object(m.clone().into_iter().collect()))?))
            }
            Control::ClearFaults => ("DELETE", "/faults".into(), None),
            Control::Admin(a) => {
                let body = a.json.as_ref().map(|j| v.value(j)).transpose()?;
                (a.method.as_str(), v.text(&a.path)?, body)
            }
        };
        let shown = format!("{method} /__admin{path}");
        let resp = self
            .admin_response(method, &path, body)
            .await
            .map_err(|m| Failure { request: Some(shown.clone()), ..Failure::error(m) })?;
        if !(200..300).contains(&resp.status) {
            return Err(Failure {
                request: Some(shown),
                status: Some(resp.status),
                body: Some(excerpt(&resp.body, 1000)),
                ..Failure::error(format!("the admin API refused the control step (status {})", resp.status))
            });
        }
        Ok((resp, shown))
    }

    /// An admin call in the session; `Err` with a message for a transport error or a non-2xx answer.
    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Result<Response, String> {
        let r = self.admin_response(method, path, body).await?;
        if (200..300).contains(&r.status) {
            Ok(r)
        } else {
            Err(format!("{method} /__admin{path} answered {}: {}", r.status, excerpt(&r.body, 300)))
        }
    }

    async fn admin_response(&self, method: &str, path: &str, body: Option<Value>) -> Result<Response, String> {
        let url = format!("{}{}/__admin{}", self.ctx.base, self.prefix, path);
        let m =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| format!("not an HTTP method: {method:?}"))?;
        let mut req = admin_request(&self.ctx.http, m, url, self.ctx.admin_token.as_deref());
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.execute(req).await
    }
}

fn capture_text(c: &super::model::Capture) -> String {
    use super::model::Capture;
    match c {
        Capture::Pointer(p) => format!("a value at {p}"),
        Capture::Header(h) => format!("a {h} header"),
        Capture::Query(q) => format!("a query parameter {q} in Location"),
        Capture::Fragment(f) => format!("a fragment parameter {f} in Location"),
        Capture::Regex(r) => format!("a match of /{r}/"),
    }
}

/// Reads a `--vars` file: a YAML map whose nested keys become dotted names
/// (`fixture: {client: {web: {id: …}}}` sets `fixture.client.web.id`).
///
/// # Errors
/// A message with the file and, for YAML errors, line and column.
pub fn load_vars(path: &std::path::Path) -> Result<Vars, super::load::LoadError> {
    let (file, text) = super::load::read_text(path, "the variables")?;
    let v: Value = serde_saphyr::from_str(&text).map_err(|e| super::load::LoadError::yaml(&file, &e))?;
    if !v.is_object() {
        return Err(super::load::LoadError::file(&file, "expected a map of variables"));
    }
    let mut vars = Vars::new();
    flatten("", &v, &mut vars);
    Ok(vars)
}
