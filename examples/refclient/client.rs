//! The reference clients of client conformance (issue 6): one speaker app, written twice over. With no
//! misbehaviour it is the well-behaved client every rule should pass; each [`Misbehaviours`] flag makes it
//! break one rule the way real apps do, and [`Misbehaviours::all`] is the misbehaving client.
//!
//! The journey: link (code-based linking, or `/ap/oa` with PKCE and auto-consent), then Music API calls
//! (the library, catalog lookups of its tracks, one call to an endpoint the token has no scope for), and,
//! with `playback`, a play through the V1 playback session and stream routes. Time passes either for real
//! (`Pace::Real`) or on the mock's virtual clock (`Pace::Virtual`: the client advances the session's clock
//! through the admin API instead of sleeping, so a ten-second back-off costs nothing).
//!
//! Shared by `examples/client_good.rs`, `examples/client_bad.rs` and the tests (`tests/it`), through
//! `#[path]`; it uses only reqwest, serde_json, sha2, base64 and tokio.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The music-enabled security profile: the Music API's `x-api-key`.
pub const PROFILE_ID: &str = "amzn1.application.30877432d1026706d7e805da846a32c3";
/// Its code-based-linking client.
pub const DEVICE_CLIENT: &str = "amzn1.application-oa2-client.d58e72e310275dff6c15c0c8e9df4696";
/// Its public (PKCE) client.
pub const PUBLIC_CLIENT: &str = "amzn1.application-oa2-client.21a278f64f7fd633dbdde131ca3766e4";
/// The public client's return URL.
pub const REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";
const VERIFIER: &str = "refclient-pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
const USER_AGENT: &str = "refclient-speaker/1.0";
/// How many times a request is retried after 429, 5xx or a dropped connection.
const MAX_RETRIES: u32 = 4;

/// How the client links to the customer's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Code-based linking (`/auth/o2/create/codepair`, then polling).
    Device,
    /// `/ap/oa` with PKCE (the plan turns auto-consent on), then the code exchange.
    Code,
}

/// How time passes for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Sleeps.
    Real,
    /// Advances the mock session's virtual clock (`POST /__admin/clock/advance`) instead of sleeping.
    Virtual,
}

/// What the client gets wrong; each flag breaks one rule (named on the flag).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Misbehaviours {
    /// Polls a device code every half interval (`device-poll-interval`).
    pub fast_polls: bool,
    /// Does not add 5 s to the interval after `slow_down` (`device-slow-down`).
    pub ignore_slow_down: bool,
    /// Polls once more after tokens or a denial (`device-poll-stops`).
    pub poll_after_done: bool,
    /// A background service polls the same device code too (`device-one-poller`).
    pub second_poller: bool,
    /// Retries with the refused token before refreshing (`token-refresh-on-401`).
    pub reuse_refused_token: bool,
    /// Refreshes before every Music API call (`token-no-refresh-storm`).
    pub refresh_storm: bool,
    /// Tries the refresh token again after `invalid_grant` (`token-revoked-grant`).
    pub reuse_revoked_grant: bool,
    /// Adds `?access_token=` to library calls (`token-not-in-query`).
    pub token_in_query: bool,
    /// Sends the client id as `x-api-key` on the last catalog lookup (`api-key-is-profile-id`).
    pub client_id_as_api_key: bool,
    /// Asks for `music::library` and `music::library:read` together (`scope-no-redundant-read`).
    pub redundant_read: bool,
    /// Asks for `music::history` and never uses it (`scope-unused`).
    pub over_ask: bool,
    /// Calls the endpoint it lacks the scope for three times (`scope-no-403-loop`).
    pub loop_on_403: bool,
    /// Waits one second after 429 whatever `Retry-After` says (`backoff-retry-after`).
    pub ignore_retry_after: bool,
    /// Retries 5xx and dropped connections at once, up to ten times (`backoff-429-5xx`).
    pub no_backoff: bool,
    /// Reports no playback events (`playback-events`).
    pub skip_playback_events: bool,
    /// Retries a refused stream URL instead of getting a fresh one (`playback-fresh-url`).
    pub retry_dead_url: bool,
    /// A second device keeps asking for a stream after `MAX_CONCURRENCY_REACHED` (`playback-one-stream`).
    pub second_stream: bool,
    /// Uses tokens from bad responses and codes from redirects with a wrong state (`bad-material-unused`).
    pub use_bad_material: bool,
    /// Calls Web API V2 without `X-Amzn-Device-Id` (`v2-device-id`).
    pub no_device_id: bool,
    /// Posts its Device API rating as `text/plain` (`device-api-json`).
    pub device_post_not_json: bool,
    /// Polls with RFC 8628's URN as `grant_type`, which only the mock's leniency accepts (`lwa-no-leniency`).
    pub grant_urn: bool,
    /// Also sends its access token as an `x-access-token` header on Music API calls, as apps that copy it
    /// into every header do (`lwa-secret-placement`).
    pub token_in_header: bool,
}

impl Misbehaviours {
    /// The well-behaved client.
    pub fn none() -> Self {
        Self::default()
    }

    /// The misbehaving client: every flag.
    pub fn all() -> Self {
        Misbehaviours {
            fast_polls: true,
            ignore_slow_down: true,
            poll_after_done: true,
            second_poller: true,
            reuse_refused_token: true,
            refresh_storm: true,
            reuse_revoked_grant: true,
            token_in_query: true,
            client_id_as_api_key: true,
            redundant_read: true,
            over_ask: true,
            loop_on_403: true,
            ignore_retry_after: true,
            no_backoff: true,
            skip_playback_events: true,
            retry_dead_url: true,
            second_stream: true,
            use_bad_material: true,
            no_device_id: true,
            device_post_not_json: true,
            grant_urn: true,
            token_in_header: true,
        }
    }

    /// The well-behaved client with the one flag that breaks `rule`; `None` for an unknown rule id.
    pub fn breaking(rule: &str) -> Option<Self> {
        let mut m = Self::none();
        let flag = match rule {
            "device-poll-interval" => &mut m.fast_polls,
            "device-slow-down" => &mut m.ignore_slow_down,
            "device-poll-stops" => &mut m.poll_after_done,
            "device-one-poller" => &mut m.second_poller,
            "token-refresh-on-401" => &mut m.reuse_refused_token,
            "token-no-refresh-storm" => &mut m.refresh_storm,
            "token-revoked-grant" => &mut m.reuse_revoked_grant,
            "token-not-in-query" => &mut m.token_in_query,
            "api-key-is-profile-id" => &mut m.client_id_as_api_key,
            "scope-no-redundant-read" => &mut m.redundant_read,
            "scope-unused" => &mut m.over_ask,
            "scope-no-403-loop" => &mut m.loop_on_403,
            "backoff-retry-after" => &mut m.ignore_retry_after,
            "backoff-429-5xx" => &mut m.no_backoff,
            "playback-events" => &mut m.skip_playback_events,
            "playback-fresh-url" => &mut m.retry_dead_url,
            "playback-one-stream" => &mut m.second_stream,
            "bad-material-unused" => &mut m.use_bad_material,
            "v2-device-id" => &mut m.no_device_id,
            "device-api-json" => &mut m.device_post_not_json,
            "lwa-no-leniency" => &mut m.grant_urn,
            "lwa-secret-placement" => &mut m.token_in_header,
            _ => return None,
        };
        *flag = true;
        Some(m)
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The mock's base URL, with the session prefix (`http://127.0.0.1:8080/s/ci`).
    pub target: String,
    /// How to link.
    pub flow: Flow,
    /// How time passes.
    pub pace: Pace,
    /// What to get wrong.
    pub bad: Misbehaviours,
    /// Play a track through the playback routes.
    pub playback: bool,
    /// Music API calls in the main loop (library and catalog, alternating).
    pub calls: usize,
}

impl Config {
    /// A well-behaved client on virtual time.
    pub fn new(target: impl Into<String>, flow: Flow) -> Self {
        Config {
            target: target.into(),
            flow,
            pace: Pace::Virtual,
            bad: Misbehaviours::none(),
            playback: false,
            calls: 6,
        }
    }
}

/// How the journey ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Everything ran.
    Done,
    /// The customer declined (or the code pair expired): nothing to call.
    NotLinked(String),
    /// The customer removed the app: the grant is gone, the customer must link again.
    Revoked,
}

/// The client's own account of its run, for people and test messages.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How it ended.
    pub ending: Ending,
    /// One line per thing the client decided.
    pub log: Vec<String>,
}

#[derive(Debug, Clone)]
struct Tokens {
    access: String,
    refresh: Option<String>,
    lifetime_s: u64,
    issued_at_s: f64,
}

/// An answer, or a dropped connection (`status` 0).
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    location: Option<String>,
    body: Value,
    text: String,
}

const DROPPED: Answer = Answer { status: 0, retry_after: None, location: None, body: Value::Null, text: String::new() };

impl Answer {
    fn error_code(&self) -> Option<&str> {
        self.body.pointer("/error/code").and_then(Value::as_str).or_else(|| self.body["error"].as_str())
    }
}

/// Why the journey stops early.
enum Stop {
    Revoked,
    Failed(String),
}

struct Client {
    cfg: Config,
    http: reqwest::Client,
    started: Instant,
    virtual_s: f64,
    tokens: Option<Tokens>,
    log: Vec<String>,
    refreshes: u32,
}

/// Runs the journey.
///
/// # Errors
/// A message when the mock cannot be reached or answers outside what the journey handles.
pub async fn run(cfg: Config) -> Result<Outcome, String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let mut c =
        Client { cfg, http, started: Instant::now(), virtual_s: 0.0, tokens: None, log: Vec::new(), refreshes: 0 };
    let ending = match c.journey().await {
        Ok(e) => e,
        Err(Stop::Revoked) => Ending::Revoked,
        Err(Stop::Failed(m)) => return Err(format!("{m}\nclient log:\n{}", c.log.join("\n"))),
    };
    Ok(Outcome { ending, log: c.log })
}

impl Client {
    fn note(&mut self, line: impl Into<String>) {
        let line = format!("[{:7.1}s] {}", self.now_s(), line.into());
        self.log.push(line);
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.cfg.target.trim_end_matches('/'))
    }

    fn now_s(&self) -> f64 {
        match self.cfg.pace {
            Pace::Real => self.started.elapsed().as_secs_f64(),
            Pace::Virtual => self.virtual_s + self.started.elapsed().as_secs_f64(),
        }
    }

    async fn wait(&mut self, seconds: u64) -> Result<(), Stop> {
        if seconds == 0 {
            return Ok(());
        }
        match self.cfg.pace {
            Pace::Real => tokio::time::sleep(Duration::from_secs(seconds)).await,
            Pace::Virtual => {
                let r = self
                    .http
                    .post(self.url("/__admin/clock/advance"))
                    .json(&serde_json::json!({ "seconds": seconds }))
                    .send()
                    .await
                    .map_err(|e| Stop::Failed(format!("cannot advance the virtual clock: {e}")))?;
                if !r.status().is_success() {
                    return Err(Stop::Failed(format!("advancing the virtual clock answered {}", r.status())));
                }
                self.virtual_s += seconds as f64;
            }
        }
        Ok(())
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        self.send_from(req, USER_AGENT, Some("refclient-device-1")).await
    }

    /// Sends with this `User-Agent` and device id; a transport error or a body that breaks off is a
    /// dropped connection.
    async fn send_from(&self, req: reqwest::RequestBuilder, agent: &str, device: Option<&str>) -> Answer {
        let req = req.header("user-agent", agent);
        let req = match device {
            Some(d) => req.header("x-amzn-device-id", d),
            None => req,
        };
        let Ok(r) = req.send().await else {
            return DROPPED;
        };
        let status = r.status().as_u16();
        let header = |n: &str| r.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let retry_after = header("retry-after").and_then(|v| v.parse().ok());
        let location = header("location");
        match r.text().await {
            Ok(text) => {
                Answer { status, retry_after, location, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
            }
            Err(_) => DROPPED,
        }
    }

    async fn journey(&mut self) -> Result<Ending, Stop> {
        let linked = match self.cfg.flow {
            Flow::Device => self.link_by_code_pair().await?,
            Flow::Code => self.link_by_authorization().await?,
        };
        if let Some(reason) = linked {
            self.note(format!("not linked: {reason}"));
            return Ok(Ending::NotLinked(reason));
        }
        let ids = self.library_and_catalog().await?;
        self.other_families(&ids).await?;
        self.favorites().await?;
        if self.cfg.playback {
            self.play(&ids).await?;
        }
        Ok(Ending::Done)
    }

    fn scope(&self) -> String {
        let mut s = vec!["music::catalog", "amazon_music:access"];
        if self.cfg.bad.redundant_read {
            s.extend(["music::library", "music::library:read"]);
        } else {
            s.push("music::library:read");
        }
        if self.cfg.bad.over_ask {
            s.push("music::history");
        }
        if self.cfg.playback {
            s.push("music::playback");
        }
        s.join(" ")
    }

    // --- linking ---------------------------------------------------------------------------------------

    /// Code-based linking; `Some(reason)` when the customer declined or the pair expired.
    async fn link_by_code_pair(&mut self) -> Result<Option<String>, Stop> {
        let form = [("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", &self.scope())];
        let a = self.send(self.http.post(self.url("/auth/o2/create/codepair")).form(&form)).await;
        if a.status != 200 {
            return Err(Stop::Failed(format!("codepair answered {}: {}", a.status, a.text)));
        }
        let device_code = a.body["device_code"].as_str().unwrap_or_default().to_owned();
        let user_code = a.body["user_code"].as_str().unwrap_or_default().to_owned();
        let interval = a.body["interval"].as_u64().unwrap_or(5);
        self.note(format!("code pair {user_code}, interval {interval} s"));
        let mut wait = interval;
        let mut polls = 0;
        loop {
            let pause = if self.cfg.bad.fast_polls { (wait / 2).max(1) } else { wait };
            self.wait(pause).await?;
            polls += 1;
            let agent = if self.cfg.bad.second_poller && polls == 2 { "refclient-background/1.0" } else { USER_AGENT };
            let form = [("grant_type", self.grant_type()), ("device_code", &device_code), ("user_code", &user_code)];
            let a = self
                .send_from(self.http.post(self.url("/auth/o2/token")).form(&form), agent, Some("refclient-device-1"))
                .await;
            match (a.status, a.error_code()) {
                (200, _) => {
                    let Some(t) = self.checked_tokens(&a, "device") else {
                        return Ok(Some("the token response was bad material".into()));
                    };
                    self.tokens = Some(t);
                    self.note(format!("linked after {polls} polls"));
                    self.poll_again_if_misbehaving(interval, &device_code, &user_code).await?;
                    return Ok(None);
                }
                (400, Some("authorization_pending")) => {}
                (400, Some("slow_down")) => {
                    if !self.cfg.bad.ignore_slow_down {
                        wait += 5;
                    }
                    self.note(format!("slow_down: polling every {wait} s"));
                }
                (400, Some(e @ ("access_denied" | "expired_token" | "invalid_code_pair"))) => {
                    let e = e.to_owned();
                    self.poll_again_if_misbehaving(interval, &device_code, &user_code).await?;
                    return Ok(Some(e));
                }
                (0, _) => self.note("poll: connection dropped"),
                (s, _) if s >= 500 => self.note(format!("poll: {s}")),
                (s, _) => return Err(Stop::Failed(format!("poll answered {s}: {}", a.text))),
            }
            if polls > 40 {
                return Err(Stop::Failed("still pending after 40 polls".into()));
            }
        }
    }

    /// LWA's bare `device_code`, or RFC 8628's URN when misbehaving.
    fn grant_type(&self) -> &'static str {
        if self.cfg.bad.grant_urn { "urn:ietf:params:oauth:grant-type:device_code" } else { "device_code" }
    }

    async fn poll_again_if_misbehaving(
        &mut self,
        interval: u64,
        device_code: &str,
        user_code: &str,
    ) -> Result<(), Stop> {
        if !self.cfg.bad.poll_after_done {
            return Ok(());
        }
        self.wait(interval + 5).await?;
        let form = [("grant_type", self.grant_type()), ("device_code", device_code), ("user_code", user_code)];
        let a = self.send(self.http.post(self.url("/auth/o2/token")).form(&form)).await;
        self.note(format!("polled again after the final answer: {}", a.status));
        Ok(())
    }

    /// `/ap/oa` with PKCE and a fresh `state`, then the exchange; again when the redirect or the token
    /// response is bad. `Some(reason)` when the customer declined.
    async fn link_by_authorization(&mut self) -> Result<Option<String>, Stop> {
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
        for attempt in 1..=4 {
            let state = format!("refclient-state-{attempt}");
            let scope = self.scope();
            let query = [
                ("client_id", PUBLIC_CLIENT),
                ("response_type", "code"),
                ("redirect_uri", REDIRECT_URI),
                ("scope", scope.as_str()),
                ("state", state.as_str()),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ];
            let a = self.send(self.http.get(self.url("/ap/oa")).query(&query)).await;
            let location = self.location_of(&a)?;
            let params: Vec<(String, String)> = url::Url::parse(&location)
                .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
                .unwrap_or_default();
            let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            if let Some(e) = get("error") {
                return Ok(Some(e));
            }
            if get("state").as_deref() != Some(state.as_str()) && !self.cfg.bad.use_bad_material {
                self.note("the redirect's state is not the one sent: code discarded, authorizing again");
                continue;
            }
            let Some(code) = get("code") else {
                return Err(Stop::Failed(format!("no code in the redirect {location}")));
            };
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("client_id", PUBLIC_CLIENT),
                ("code_verifier", VERIFIER),
            ];
            let a = self.send(self.http.post(self.url("/auth/o2/token")).form(&form)).await;
            if a.status != 200 {
                return Err(Stop::Failed(format!("the code exchange answered {}: {}", a.status, a.text)));
            }
            if let Some(t) = self.checked_tokens(&a, "code exchange") {
                self.tokens = Some(t);
                self.note(format!("linked on attempt {attempt}"));
                return Ok(None);
            }
            self.note("authorizing again");
        }
        Err(Stop::Failed("could not link in 4 attempts".into()))
    }

    fn location_of(&self, a: &Answer) -> Result<String, Stop> {
        match (a.status, &a.location) {
            (302, Some(l)) => Ok(l.clone()),
            _ => {
                Err(Stop::Failed(format!("/ap/oa answered {} (is auto_consent on in the plan?): {}", a.status, a.text)))
            }
        }
    }

    /// Checks a token response (`lwa.md` §6: `Atza|` and at least 350 characters, `expires_in` an integer)
    /// and returns its tokens; `None` for bad material, which the well-behaved client does not use. The
    /// refresh token carries over when the answer has none.
    fn checked_tokens(&mut self, a: &Answer, what: &str) -> Option<Tokens> {
        let access = a.body["access_token"].as_str().unwrap_or_default().to_owned();
        let expires_in = a.body["expires_in"].as_u64();
        let well_formed = access.starts_with("Atza|") && access.len() >= 355 && expires_in.is_some();
        if !well_formed && !self.cfg.bad.use_bad_material {
            self.note(format!(
                "{what}: bad token response (expires_in {expires_in:?}, access token of {} characters): not used",
                access.len()
            ));
            return None;
        }
        let refresh =
            a.body["refresh_token"].as_str().map(str::to_owned).or_else(|| self.tokens.as_ref()?.refresh.clone());
        Some(Tokens { access, refresh, lifetime_s: expires_in.unwrap_or(3600), issued_at_s: self.now_s() })
    }

    // --- tokens ----------------------------------------------------------------------------------------

    /// Refreshes; `Err(Stop::Revoked)` when LWA says the grant is gone.
    async fn refresh(&mut self) -> Result<(), Stop> {
        let client_id = match self.cfg.flow {
            Flow::Device => DEVICE_CLIENT,
            Flow::Code => PUBLIC_CLIENT,
        };
        for attempt in 0..=MAX_RETRIES {
            let Some(refresh) = self.tokens.as_ref().and_then(|t| t.refresh.clone()) else {
                return Err(Stop::Revoked);
            };
            let form = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str()), ("client_id", client_id)];
            let a = self.send(self.http.post(self.url("/auth/o2/token")).form(&form)).await;
            self.refreshes += 1;
            match (a.status, a.error_code()) {
                (200, _) => match self.checked_tokens(&a, "refresh") {
                    Some(t) => {
                        self.tokens = Some(t);
                        self.note("refreshed");
                        return Ok(());
                    }
                    // Bad material: the refresh token still works; ask again.
                    None => continue,
                },
                (400, Some("invalid_grant")) => {
                    self.note("the refresh token was refused: the customer removed the app");
                    if self.cfg.bad.reuse_revoked_grant {
                        let a = self.send(self.http.post(self.url("/auth/o2/token")).form(&form)).await;
                        self.note(format!("tried the refused refresh token again: {}", a.status));
                    }
                    self.tokens = None;
                    return Err(Stop::Revoked);
                }
                (s, _) if s == 0 || s >= 500 => {
                    self.wait(1 << attempt).await?;
                }
                (s, _) => return Err(Stop::Failed(format!("refresh answered {s}: {}", a.text))),
            }
        }
        Err(Stop::Failed("the refresh kept failing".into()))
    }

    async fn ensure_fresh(&mut self) -> Result<(), Stop> {
        let Some(t) = &self.tokens else { return Err(Stop::Revoked) };
        let age = self.now_s() - t.issued_at_s;
        let left = t.lifetime_s as f64 - age;
        if self.cfg.bad.refresh_storm || left < t.lifetime_s as f64 / 10.0 {
            self.refresh().await?;
        }
        Ok(())
    }

    // --- the Music API -----------------------------------------------------------------------------------

    /// A Music API call with the token, refreshes, retries and back-off of the client.
    async fn music(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        wrong_key: bool,
    ) -> Result<Answer, Stop> {
        self.ensure_fresh().await?;
        let mut refreshed = false;
        let mut reused = false;
        let mut retries = 0u32;
        let mut previous_token: Option<String> = None;
        loop {
            let token = match (&previous_token, self.cfg.bad.reuse_refused_token && reused) {
                (Some(t), true) => t.clone(),
                _ => self.tokens.as_ref().map(|t| t.access.clone()).ok_or(Stop::Revoked)?,
            };
            let key = if wrong_key && self.cfg.bad.client_id_as_api_key { self.client_id() } else { PROFILE_ID };
            let mut req =
                self.http.request(method.clone(), self.url(path)).bearer_auth(&token).header("x-api-key", key);
            if self.cfg.bad.token_in_query && path.contains("/library/") {
                req = req.query(&[("access_token", token.as_str())]);
            }
            if self.cfg.bad.token_in_header {
                req = req.header("x-access-token", token.as_str());
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            let a = self.send(req).await;
            match (a.status, a.error_code()) {
                (401, Some("INVALID_ACCESS_TOKEN")) if !refreshed => {
                    self.note(format!("{path}: 401 INVALID_ACCESS_TOKEN"));
                    if self.cfg.bad.reuse_refused_token && !reused {
                        reused = true;
                        previous_token = Some(token);
                        continue;
                    }
                    self.refresh().await?;
                    refreshed = true;
                    reused = false;
                }
                (429, _) if retries < MAX_RETRIES => {
                    retries += 1;
                    let wait = match (a.retry_after, self.cfg.bad.ignore_retry_after) {
                        (Some(_), true) => 1,
                        (Some(s), false) => s,
                        (None, _) => 1 << (retries - 1),
                    };
                    self.note(format!("{path}: 429, waiting {wait} s"));
                    self.wait(wait).await?;
                }
                (s, _)
                    if (s == 0 || s >= 500) && (retries < MAX_RETRIES || (self.cfg.bad.no_backoff && retries < 10)) =>
                {
                    retries += 1;
                    let wait = if self.cfg.bad.no_backoff { 0 } else { 1 << (retries - 1) };
                    self.note(format!(
                        "{path}: {}, retry {retries} in {wait} s",
                        if s == 0 { "dropped".to_owned() } else { s.to_string() }
                    ));
                    self.wait(wait).await?;
                }
                _ => return Ok(a),
            }
        }
    }

    fn client_id(&self) -> &'static str {
        match self.cfg.flow {
            Flow::Device => DEVICE_CLIENT,
            Flow::Code => PUBLIC_CLIENT,
        }
    }

    /// The main loop: the library, then catalog lookups of its tracks, ten virtual seconds apart.
    async fn library_and_catalog(&mut self) -> Result<Vec<String>, Stop> {
        let mut ids: Vec<String> = Vec::new();
        for i in 0..self.cfg.calls {
            if i > 0 {
                self.wait(10).await?;
            }
            if i % 2 == 0 {
                let a = self.music(reqwest::Method::GET, "/v1/me/library/tracks?limit=5", None, false).await?;
                if a.status == 200 {
                    let mut found = BTreeSet::new();
                    asins(&a.body, &mut found);
                    ids = found.into_iter().collect();
                }
                self.note(format!("library: {} ({} tracks)", a.status, ids.len()));
            } else {
                let id = ids.get(i / 2 % ids.len().max(1)).cloned().unwrap_or_else(|| "B000000001".into());
                // The last lookup goes through a code path that sends the client id as x-api-key, when misbehaving.
                let wrong_key = i + 1 == self.cfg.calls;
                let a = self.music(reqwest::Method::GET, &format!("/v1/tracks/{id}"), None, wrong_key).await?;
                self.note(format!("track {id}: {}", a.status));
            }
        }
        Ok(ids)
    }

    /// One Web API V2 call (top albums, with the device id V2 requires) and one Device API post (a thumbs-up
    /// for the first library track, as JSON).
    async fn other_families(&mut self, ids: &[String]) -> Result<(), Stop> {
        self.ensure_fresh().await?;
        let token = self.tokens.as_ref().map(|t| t.access.clone()).ok_or(Stop::Revoked)?;
        let req = self.http.get(self.url("/v2/albums/top?first=1")).bearer_auth(&token);
        let device = if self.cfg.bad.no_device_id { None } else { Some("refclient-device-1") };
        let a = self.send_from(req, USER_AGENT, device).await;
        self.note(format!("V2 top albums: {}", a.status));
        let track = ids.first().map_or("B000000001", String::as_str);
        let content_type = if self.cfg.bad.device_post_not_json { "text/plain" } else { "application/json" };
        let req = self
            .http
            .post(self.url(&format!("/device/rating/{track}")))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(r#"{"thumbRating":"UP"}"#);
        let a = self.send(req).await;
        self.note(format!("Device API rating of {track}: {}", a.status));
        Ok(())
    }

    /// Followed artists need `music::favorites:read`, which the client did not ask for: a well-behaved client
    /// takes the 403 as "ask the customer to consent again" and stops; a misbehaving one loops.
    async fn favorites(&mut self) -> Result<(), Stop> {
        let tries = if self.cfg.bad.loop_on_403 { 3 } else { 1 };
        for _ in 0..tries {
            let a = self.music(reqwest::Method::GET, "/v1/me/followed/artists", None, false).await?;
            self.note(format!("followed artists: {}", a.status));
            if a.status != 403 {
                break;
            }
        }
        Ok(())
    }

    // --- playback ------------------------------------------------------------------------------------------

    /// Plays the first library track: a playback session, its stream, start and stop events; a fresh URL when
    /// the stream URL expires; and a second device that meets the one-stream rule.
    async fn play(&mut self, ids: &[String]) -> Result<(), Stop> {
        let Some(asin) = ids.first().cloned() else { return Ok(()) };
        let Some((metric_id, url)) = self.new_session(&asin, "refclient-device-1").await? else {
            self.note("playback: the playback routes are not served; skipped");
            return Ok(());
        };
        let manifest = self.send(self.http.get(&url)).await;
        self.note(format!("manifest: {}", manifest.status));
        self.event(&metric_id, "start").await?;
        // A second device of the same account asks for a stream while this one plays.
        let second = self.new_session(&asin, "refclient-device-2").await?;
        if second.is_none() && self.cfg.bad.second_stream {
            let again = self.new_session(&asin, "refclient-device-2").await?;
            self.note(format!(
                "second device asked again: {}",
                if again.is_some() { "got a stream" } else { "refused" }
            ));
        }
        // Play on past the URL's lifetime, then fetch the next segment.
        self.wait(40).await?;
        let segment = segment_url(&url);
        let a = self.send(self.http.get(&segment)).await;
        self.note(format!("segment after 40 s: {}", a.status));
        if a.status == 403 {
            if self.cfg.bad.retry_dead_url {
                let again = self.send(self.http.get(&segment)).await;
                self.note(format!("retried the dead URL: {}", again.status));
            } else if let Some((_, fresh)) = self.new_session(&asin, "refclient-device-1").await? {
                let b = self.send(self.http.get(segment_url(&fresh))).await;
                self.note(format!("fresh URL segment: {}", b.status));
            }
        }
        self.event(&metric_id, "stop").await?;
        Ok(())
    }

    /// `POST /v1/playback/sessions`; the first playable's `metricId` and URL, or `None` when refused (404: no
    /// playback routes; 429: another stream is playing).
    async fn new_session(&mut self, asin: &str, device: &str) -> Result<Option<(String, String)>, Stop> {
        let body = serde_json::json!({
            "playParams": {"id": format!("mrn:1.0:catalog:track:asin:{asin}")},
            "playbackOptions": {"shuffleMode": "SHUFFLE_OFF", "loopMode": "LOOP_OFF"},
            "limit": 1
        });
        self.ensure_fresh().await?;
        let token = self.tokens.as_ref().map(|t| t.access.clone()).ok_or(Stop::Revoked)?;
        let req = self
            .http
            .post(self.url("/v1/playback/sessions"))
            .bearer_auth(token)
            .header("x-api-key", PROFILE_ID)
            .header("x-amzn-audio-device-capability", "STD_RES")
            .json(&body);
        let a = self.send_from(req, USER_AGENT, Some(device)).await;
        self.note(format!("playback session on {device}: {} {}", a.status, a.error_code().unwrap_or("")));
        if a.status != 200 && a.status != 201 {
            return Ok(None);
        }
        Ok(first_playable(&a.body))
    }

    async fn event(&mut self, metric_id: &str, kind: &str) -> Result<(), Stop> {
        if self.cfg.bad.skip_playback_events {
            return Ok(());
        }
        let body = serde_json::json!({
            "metricId": metric_id,
            "event": {"type": kind, "clientTimestampInMilliseconds": (self.now_s() * 1000.0) as u64, "terminationReason": "userPause"}
        });
        let a = self.music(reqwest::Method::POST, "/v1/playback/event", Some(body), false).await?;
        self.note(format!("{kind} event: {}", a.status));
        Ok(())
    }
}

/// Every ASIN-looking `id` in a V1 answer.
fn asins(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("id", Value::String(s)) if s.len() == 10 && s.starts_with("B0") => {
                        out.insert(s.clone());
                    }
                    _ => asins(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| asins(x, out)),
        _ => {}
    }
}

/// The first object carrying `metricId` and `mediaMetadata.url`.
fn first_playable(v: &Value) -> Option<(String, String)> {
    match v {
        Value::Object(m) => {
            if let (Some(id), Some(url)) = (
                m.get("metricId").and_then(Value::as_str),
                m.get("mediaMetadata").and_then(|mm| mm.get("url")).and_then(Value::as_str),
            ) {
                return Some((id.to_owned(), url.to_owned()));
            }
            m.values().find_map(first_playable)
        }
        Value::Array(a) => a.iter().find_map(first_playable),
        _ => None,
    }
}

/// The first SD media segment next to a DASH manifest URL (same signed query), or the URL itself for a
/// progressive file.
fn segment_url(manifest: &str) -> String {
    match manifest.split_once("/manifest.mpd") {
        Some((dir, query)) => format!("{dir}/sd/2.m4s{query}"),
        None => manifest.to_owned(),
    }
}
