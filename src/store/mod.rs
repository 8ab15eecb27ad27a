//! The state boundary: everything the mock remembers lives behind [`Store`] and [`SessionStore`].
//!
//! **Each method is one transaction.** Handlers never see a lock; they call a method, which does its
//! whole read-check-write under the store's own synchronisation. The methods are `async` so that a
//! file-backed embedded store (offline work that survives restarts) or a shared one (several replicas
//! behind a load balancer) can replace [`memory::MemoryStore`], the default, without touching a handler.
//! The clock read and the random source are synchronous because they sit on every request's path; a
//! shared store can serve them from a locally cached clock offset and a local random source.
//!
//! What is *not* here: fixtures (immutable, loaded at start, shared by all sessions) and token contents
//! (signed, self-contained `Atza|`/`Atzr|`/`Atc|` tokens: any replica with the key can verify them). Only
//! what can change is state: codes, code pairs, grant revocations, forced expiries, settings, the clock,
//! and the request journal.

pub mod memory;
pub mod memory_music;
pub mod music;
pub mod persist;
pub mod playback;
pub mod redis;
pub mod sqlite;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::ClockState;
use crate::journal::{BadMaterial, JournalEntry};
pub mod plan;

#[cfg(test)]
mod contract;
#[cfg(test)]
mod redis_testkit;
use crate::scope::ScopeSet;
pub use plan::{MaterialPoint, NetworkAction, Plan};

/// The name of an isolated session (`/s/{session}/…`); un-prefixed routes use [`SessionId::DEFAULT`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    /// The session of un-prefixed routes.
    pub const DEFAULT: &'static str = "default";

    /// What a session name may be, for messages: [`SessionId::parse`] accepts exactly this.
    pub const RULE: &'static str = "1-64 characters of A-Z a-z 0-9 . _ -, other than . and ..";

    /// Validates a session name: 1–64 characters of `[A-Za-z0-9._-]`, other than `.` and `..` (path
    /// segments that mean "here" and "up" to every URL library, and so could never name a session reliably).
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s != "."
            && s != ".."
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        ok.then(|| SessionId(s.to_owned()))
    }

    /// The default session.
    pub fn default_session() -> Self {
        SessionId(Self::DEFAULT.to_owned())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which error a poll on an expired code pair gets (`lwa.md` §13.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiredCodePairError {
    /// LWA's own `invalid_code_pair` (default).
    InvalidCodePair,
    /// RFC 8628's `expired_token`, from the LWA CBL doc list.
    ExpiredToken,
}

/// How `/ap/oa` answers a scope outside the profile's allow-list (`lwa.md` §13.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownScopeResponse {
    /// The HTML "400 Bad Request - An unknown scope was requested" page after sign-in (observed, default).
    Page,
    /// A redirect with `error=invalid_scope`, as other clients observed.
    Redirect,
}

/// What the customer decides at the consent page when `auto_consent` answers for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentDecision {
    /// Allow (default).
    Allow,
    /// Decline: the redirect carries `error=access_denied`.
    Deny,
}

/// Whether the customer decides on a code pair by themselves, without an admin call (client plans).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceAutoDecision {
    /// Nobody decides until the admin API or the verification page does (default).
    Off,
    /// The first fixture customer approves after `device_decision_after_polls` polls.
    Approve,
    /// The customer denies after `device_decision_after_polls` polls.
    Deny,
}

/// Per-session behaviour switches (`PUT /__admin/settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// `/ap/oa` skips the page and answers as if the first fixture user clicked Allow.
    pub auto_consent: bool,
    /// A pending poll sooner than this many seconds after the previous poll gets `slow_down`. The
    /// effective threshold is never above the code pair's `interval`.
    pub slow_down_below_seconds: u64,
    /// The error for polls on an expired code pair.
    pub expired_code_pair_error: ExpiredCodePairError,
    /// The code pair's `interval`.
    pub device_interval_seconds: u64,
    /// How `/ap/oa` answers an unknown or disallowed scope.
    pub unknown_scope_response: UnknownScopeResponse,
    /// Strict LWA: reject the RFC 8628 device-code URN, and require `redirect_uri` at the token endpoint
    /// when one was given at `/ap/oa`.
    pub strict_lwa: bool,
    /// Lifetime of newly issued access tokens. The wire value `expires_in` follows it (3600 by default).
    pub access_token_lifetime_seconds: u64,
    /// Music API rate limit per (security profile, access token), requests per second; 0 is off
    /// (`music-api.md` §11.6).
    pub rate_limit_tps: u32,
    /// Largest `limit` accepted by the search-by-body routes: 100 (the widest documented range) or a
    /// narrower bound such as 20 (a later doc revision, `music-api.md` §4.2, §11.2).
    pub search_limit_max: u32,
    /// Playback sessions that may hold a slot at once per customer, across devices (`music-api.md` §8
    /// "Concurrency is enforced"); a further device gets 429 `MAX_CONCURRENCY_REACHED`.
    pub playback_max_sessions: u32,
    /// Virtual seconds without an operation, event or stream request after which a playback session gives
    /// its slot up.
    pub playback_idle_timeout_seconds: u64,
    /// Largest playback window `limit`: 11 (the widest documented range) or a narrower bound such as 5 or 10
    /// (other doc revisions, `music-api.md` §4.6, §11.2).
    pub playback_limit_max: u32,
    /// The first this-many polls of every code pair answer `slow_down`, whatever their pace (client plans).
    pub slow_down_first_polls: u32,
    /// Whether the customer decides on code pairs without an admin call.
    pub device_auto_decision: DeviceAutoDecision,
    /// With `device_auto_decision`, how many polls of a pair see `authorization_pending` (or `slow_down`)
    /// before the decision; the next poll sees it.
    pub device_decision_after_polls: u32,
    /// What `auto_consent` answers for the customer: `allow`, or `deny` (a redirect with `access_denied`).
    pub consent_decision: ConsentDecision,
    /// Lifetime of stream URLs minted in this session, seconds of the virtual clock; 0 keeps the server's
    /// `--stream-ttl`. A plan sets it to make URLs expire early; every family minting stream URLs reads it.
    pub stream_url_ttl_seconds: u64,
    /// Every V2 playback navigation answer (`current`, `next`, `previous`, `view`, `entities/{id}`) is 206
    /// "Queue was restored before returning", as if the service had restored the queue (`music-api.md` §5.3,
    /// §11.3: the test knob). Without it, 206 comes only when the queue had given its slot up.
    pub playback_queue_restored: bool,
    /// Leniency: a code pair request without `response_type` (which LWA requires, `lwa.md` §5, and generic
    /// RFC 8628 libraries do not send) is answered as if it said `device_code`. The verdict rule
    /// `lwa-no-leniency` fails the client that needed it.
    pub accept_codepair_without_response_type: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auto_consent: false,
            slow_down_below_seconds: 2,
            expired_code_pair_error: ExpiredCodePairError::InvalidCodePair,
            device_interval_seconds: 30,
            unknown_scope_response: UnknownScopeResponse::Page,
            strict_lwa: false,
            access_token_lifetime_seconds: 3600,
            rate_limit_tps: 0,
            search_limit_max: 100,
            playback_max_sessions: 1,
            playback_idle_timeout_seconds: 600,
            playback_limit_max: 11,
            slow_down_first_polls: 0,
            device_auto_decision: DeviceAutoDecision::Off,
            device_decision_after_polls: 1,
            consent_decision: ConsentDecision::Allow,
            stream_url_ttl_seconds: 0,
            playback_queue_restored: false,
            accept_codepair_without_response_type: false,
        }
    }
}

/// A partial update of [`Settings`]; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    /// See [`Settings::auto_consent`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_consent: Option<bool>,
    /// See [`Settings::slow_down_below_seconds`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_down_below_seconds: Option<u64>,
    /// See [`Settings::expired_code_pair_error`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_code_pair_error: Option<ExpiredCodePairError>,
    /// See [`Settings::device_interval_seconds`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_interval_seconds: Option<u64>,
    /// See [`Settings::unknown_scope_response`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_scope_response: Option<UnknownScopeResponse>,
    /// See [`Settings::strict_lwa`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_lwa: Option<bool>,
    /// See [`Settings::access_token_lifetime_seconds`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime_seconds: Option<u64>,
    /// See [`Settings::rate_limit_tps`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_tps: Option<u32>,
    /// See [`Settings::search_limit_max`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_limit_max: Option<u32>,
    /// See [`Settings::playback_max_sessions`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playback_max_sessions: Option<u32>,
    /// See [`Settings::playback_idle_timeout_seconds`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playback_idle_timeout_seconds: Option<u64>,
    /// See [`Settings::playback_limit_max`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playback_limit_max: Option<u32>,
    /// See [`Settings::slow_down_first_polls`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_down_first_polls: Option<u32>,
    /// See [`Settings::device_auto_decision`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_auto_decision: Option<DeviceAutoDecision>,
    /// See [`Settings::device_decision_after_polls`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_decision_after_polls: Option<u32>,
    /// See [`Settings::consent_decision`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_decision: Option<ConsentDecision>,
    /// See [`Settings::stream_url_ttl_seconds`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_url_ttl_seconds: Option<u64>,
    /// See [`Settings::playback_queue_restored`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playback_queue_restored: Option<bool>,
    /// See [`Settings::accept_codepair_without_response_type`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_codepair_without_response_type: Option<bool>,
}

/// Upper bounds of the numeric settings: larger values would overflow the token and poll arithmetic
/// (a lifetime near `u64::MAX` would make `exp` wrap) and mean nothing to a client.
pub const MAX_ACCESS_TOKEN_LIFETIME_SECONDS: u64 = 3_155_760_000; // 100 years
/// See [`MAX_ACCESS_TOKEN_LIFETIME_SECONDS`].
pub const MAX_DEVICE_INTERVAL_SECONDS: u64 = 86_400;
/// See [`MAX_ACCESS_TOKEN_LIFETIME_SECONDS`].
pub const MAX_SLOW_DOWN_BELOW_SECONDS: u64 = 86_400;
/// See [`MAX_ACCESS_TOKEN_LIFETIME_SECONDS`].
pub const MAX_PLAYBACK_IDLE_SECONDS: u64 = 86_400;

impl SettingsPatch {
    /// Checks the numeric fields against their bounds, so that a patch is applied whole or not at all.
    ///
    /// # Errors
    /// A message naming the field and its bound.
    pub fn validate(&self) -> Result<(), String> {
        let checks = [
            ("access_token_lifetime_seconds", self.access_token_lifetime_seconds, MAX_ACCESS_TOKEN_LIFETIME_SECONDS),
            ("device_interval_seconds", self.device_interval_seconds, MAX_DEVICE_INTERVAL_SECONDS),
            ("slow_down_below_seconds", self.slow_down_below_seconds, MAX_SLOW_DOWN_BELOW_SECONDS),
        ];
        for (name, value, max) in checks {
            if value.is_some_and(|v| v > max) {
                return Err(format!("{name} must be at most {max}"));
            }
        }
        if self.rate_limit_tps.is_some_and(|v| v > 100_000) {
            return Err("rate_limit_tps must be at most 100000 (0 turns the limit off)".into());
        }
        if self.search_limit_max.is_some_and(|v| !(1..=100).contains(&v)) {
            return Err("search_limit_max must be from 1 to 100".into());
        }
        if self.playback_max_sessions.is_some_and(|v| !(1..=100).contains(&v)) {
            return Err("playback_max_sessions must be from 1 to 100".into());
        }
        if self.playback_idle_timeout_seconds.is_some_and(|v| !(1..=MAX_PLAYBACK_IDLE_SECONDS).contains(&v)) {
            return Err(format!("playback_idle_timeout_seconds must be from 1 to {MAX_PLAYBACK_IDLE_SECONDS}"));
        }
        if self.playback_limit_max.is_some_and(|v| !(1..=11).contains(&v)) {
            return Err("playback_limit_max must be from 1 to 11".into());
        }
        if self.slow_down_first_polls.is_some_and(|v| v > 1000) {
            return Err("slow_down_first_polls must be at most 1000".into());
        }
        if self.device_decision_after_polls.is_some_and(|v| v > 1000) {
            return Err("device_decision_after_polls must be at most 1000".into());
        }
        if self.stream_url_ttl_seconds.is_some_and(|v| v > MAX_DEVICE_INTERVAL_SECONDS) {
            return Err(format!("stream_url_ttl_seconds must be at most {MAX_DEVICE_INTERVAL_SECONDS}"));
        }
        Ok(())
    }
}

impl Settings {
    /// Applies a patch.
    pub fn apply(&mut self, p: SettingsPatch) {
        macro_rules! set {
            ($($f:ident),*) => { $(if let Some(v) = p.$f { self.$f = v; })* };
        }
        set!(
            auto_consent,
            slow_down_below_seconds,
            expired_code_pair_error,
            device_interval_seconds,
            unknown_scope_response,
            strict_lwa,
            access_token_lifetime_seconds,
            rate_limit_tps,
            search_limit_max,
            playback_max_sessions,
            playback_idle_timeout_seconds,
            playback_limit_max,
            slow_down_first_polls,
            device_auto_decision,
            device_decision_after_polls,
            consent_decision,
            stream_url_ttl_seconds,
            playback_queue_restored,
            accept_codepair_without_response_type
        );
    }
}

/// PKCE parameters remembered with an authorization code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkceChallenge {
    /// The `code_challenge` as sent.
    pub challenge: String,
    /// `S256` or `plain`.
    pub method: PkceMethod,
}

/// The PKCE transformation (`lwa.md` §3.1: `plain` when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PkceMethod {
    /// `base64url(sha256(verifier))`.
    S256,
    /// The verifier itself.
    Plain,
}

/// What an authorization code stands for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthCodeRecord {
    /// The client the code was issued to.
    pub client_id: String,
    /// The signed-in customer.
    pub user_id: String,
    /// The granted scopes.
    pub scopes: ScopeSet,
    /// `redirect_uri` as given at `/ap/oa`.
    pub redirect_uri: Option<String>,
    /// The PKCE challenge, when one was sent.
    pub pkce: Option<PkceChallenge>,
    /// Expiry, virtual epoch ms.
    pub expires_at_ms: i64,
}

/// Where a code pair stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodePairStatus {
    /// Waiting for the customer.
    Pending,
    /// Approved by this customer.
    Approved(String),
    /// Declined.
    Denied,
    /// Forced to expire by the admin API.
    Expired,
    /// Tokens were issued; the pair cannot be used again.
    Consumed,
}

/// A code pair (`/auth/O2/create/codepair`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodePairRecord {
    /// The 6-character code the customer types.
    pub user_code: String,
    /// The UUID the device polls with.
    pub device_code: String,
    /// The device client.
    pub client_id: String,
    /// The requested (normalised) scopes.
    pub scopes: ScopeSet,
    /// `scope_data` as sent, if any.
    pub scope_data: Option<String>,
    /// Expiry, virtual epoch ms.
    pub expires_at_ms: i64,
    /// The `interval` that was returned, seconds.
    pub interval_seconds: u64,
    /// Status.
    pub status: CodePairStatus,
    /// The last poll, virtual epoch ms.
    pub last_poll_ms: Option<i64>,
    /// Polls so far.
    pub polls: u32,
}

/// What a new code pair is created from; the store picks the codes.
#[derive(Debug, Clone)]
pub struct NewCodePair {
    /// The device client.
    pub client_id: String,
    /// The requested scopes.
    pub scopes: ScopeSet,
    /// `scope_data` as sent.
    pub scope_data: Option<String>,
    /// Expiry, virtual epoch ms.
    pub expires_at_ms: i64,
    /// The `interval` returned.
    pub interval_seconds: u64,
}

/// The outcome of one device poll, decided atomically with recording the poll.
#[derive(Debug, Clone)]
pub enum PollOutcome {
    /// No such device code.
    Unknown,
    /// The customer has not decided yet.
    Pending,
    /// Polled sooner than the threshold after the previous poll, or (`forced`) one of the first polls the
    /// settings answer `slow_down` to whatever their pace.
    SlowDown {
        /// Answered because of `slow_down_first_polls`.
        forced: bool,
    },
    /// The customer declined.
    Denied,
    /// Past `expires_in`, or forced to expire.
    Expired,
    /// Tokens were already issued for this pair.
    Consumed,
    /// Approved: the pair is now consumed and the caller issues tokens.
    Approved(CodePairRecord),
}

/// How a poll is answered besides the pair's own state, from the session's settings.
#[derive(Debug, Clone, Default)]
pub struct PollRules {
    /// A pending poll sooner than this after the previous one gets `slow_down`.
    pub min_gap_ms: i64,
    /// The first this-many polls get `slow_down` whatever their pace.
    pub slow_down_first: u32,
    /// The customer's own decision, taken once a pending pair has been polled this many times.
    pub auto_decision: Option<(u32, CodePairDecision)>,
}

/// An admin decision on a user code.
#[derive(Debug, Clone)]
pub enum CodePairDecision {
    /// The customer allowed access.
    Approve(String),
    /// The customer declined.
    Deny,
    /// Expire the pair now.
    Expire,
}

/// Why a decision could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// No pair with that user code.
    #[error("no code pair with that user_code")]
    Unknown,
    /// The pair is no longer pending (decided, expired or used).
    #[error("the code pair is not pending")]
    NotPending,
}

/// Whether a token that verified cryptographically is still good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Usable.
    Active,
    /// Its grant was revoked after it was issued, or it was revoked alone (the authorization code it was
    /// issued for was replayed).
    Revoked,
    /// Forced to expire through the admin API.
    ForcedExpired,
}

/// A change to the session clock.
#[derive(Debug, Clone, Copy)]
pub enum ClockChange {
    /// Stop the clock.
    Freeze,
    /// Let it run again.
    Unfreeze,
    /// Jump to this epoch second.
    Set(i64),
    /// Move by this many seconds.
    Advance(i64),
}

/// How much a store keeps: the bounds that hold memory flat however long the server runs (`docs/STATE.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The most journal entries a session keeps (`--journal-capacity`); the oldest go first.
    pub journal_entries: usize,
    /// The most bytes of journal a session keeps (`--journal-bytes`, by [`JournalEntry::weight`]); the oldest
    /// entries go first, the newest always stays.
    pub journal_bytes: usize,
    /// The most sessions besides the default one (`--max-sessions`); creating one more evicts the least
    /// recently used. 0: no limit.
    pub max_sessions: usize,
    /// Sessions other than the default one unused this long (real time, `--session-idle-seconds`) are
    /// evicted by the sweep. 0: never.
    pub session_idle_ms: i64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            journal_entries: 1000,
            journal_bytes: 4 * 1024 * 1024,
            max_sessions: 1000,
            session_idle_ms: 24 * 3600 * 1000,
        }
    }
}

/// How long a code pair is remembered after it expired (virtual time), so that late polls still get the
/// expired answer (`expired_token` or `invalid_code_pair`, by the setting) before it is forgotten.
pub const CODE_PAIR_GRACE_MS: i64 = 3600 * 1000;

/// What one sweep did (for the log and the tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Sessions evicted for idleness.
    pub sessions: usize,
    /// Authorization codes (live or consumed) and code pairs forgotten after they expired.
    pub codes: usize,
}

/// The process-wide store: hands out sessions.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The session with this id, created with fresh state on first use (which may evict the least recently
    /// used one beyond [`Bounds::max_sessions`]).
    fn session(&self, id: &SessionId) -> Arc<dyn SessionStore>;
    /// The ids of every session that exists.
    async fn session_ids(&self) -> Vec<SessionId>;
    /// Whether a session exists (the default one always does), without creating it.
    async fn session_exists(&self, id: &SessionId) -> bool;
    /// Forgets a session other than the default one; whether it existed.
    async fn drop_session(&self, id: &SessionId) -> bool;
    /// Evicts idle sessions and forgets expired codes and code pairs in the others.
    async fn sweep(&self) -> Swept;
    /// The round trips to a shared store so far (`None` for a store that has none): for tests that count what a
    /// request costs.
    fn round_trips(&self) -> Option<u64> {
        None
    }
}

/// One isolated session's state: its own clock, settings, grants, codes and journal.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Virtual now, epoch milliseconds.
    fn now_ms(&self) -> i64;
    /// The clock as the admin API shows it.
    fn clock_state(&self) -> ClockState;
    /// Draws 128 random bits from the session's seeded source.
    fn random_u128(&self) -> u128;
    /// The session's Music API state.
    fn music(&self) -> &dyn music::MusicStore;
    /// Whether the session is shared with other processes, which [`SessionStore::sync`] then catches up with
    /// (asked first, so that a store of one process does not even make the call).
    fn shared(&self) -> bool {
        false
    }
    /// Brings this process's copy of the session up to date with a shared store, once per request, before the
    /// request reads anything (a no-op for a store of one process).
    ///
    /// # Errors
    /// One line saying that the shared store cannot be reached (the request is answered 503).
    async fn sync(&self) -> Result<(), String> {
        Ok(())
    }

    /// Changes the clock.
    async fn change_clock(&self, change: ClockChange) -> ClockState;
    /// The current settings.
    async fn settings(&self) -> Settings;
    /// Applies a partial settings update and returns the result.
    async fn update_settings(&self, patch: SettingsPatch) -> Settings;
    /// Back to the fixtures: clock, settings, codes, grants and journal all start afresh, and every token
    /// issued before is void (the reset moves the session to a new [`SessionStore::epoch`]).
    async fn reset(&self);
    /// How many times the session was reset. Tokens carry it, so that none survives a reset: without it a
    /// token revoked or forced to expire before a reset would be valid again afterwards.
    fn epoch(&self) -> u64 {
        0
    }

    /// Stores an authorization code's grant and returns the new code.
    async fn insert_auth_code(&self, record: AuthCodeRecord) -> String;
    /// Removes and returns a code's grant (codes are single use). Expiry is the caller's check.
    ///
    /// A taken code is remembered as consumed until its expiry (then forgotten like the others, by
    /// [`SessionStore::purge_expired`]): taking it again before then is a replay, which answers `None` and
    /// revokes the tokens its first exchange issued ([`SessionStore::bind_code_tokens`]; RFC 6749 §4.1.2).
    async fn take_auth_code(&self, code: &str) -> Option<AuthCodeRecord>;
    /// Records the ids of the tokens a consumed code's exchange issued, so that a replay of the code revokes
    /// exactly them; when the code was replayed meanwhile, revokes them at once.
    async fn bind_code_tokens(&self, code: &str, token_ids: &[String]);
    /// Forces a code to expire; false when there is no such code.
    async fn expire_auth_code(&self, code: &str) -> bool;

    /// Creates a code pair with fresh, unique user and device codes.
    async fn insert_code_pair(&self, pair: NewCodePair) -> CodePairRecord;
    /// Records a poll and decides its outcome under `rules` (the `slow_down` threshold and the plan's
    /// behaviours).
    async fn poll_code_pair(&self, device_code: &str, now_ms: i64, rules: &PollRules) -> PollOutcome;
    /// Approves, denies or expires a pending pair, by user code (any case).
    async fn decide_code_pair(
        &self,
        user_code: &str,
        decision: CodePairDecision,
    ) -> Result<CodePairRecord, DecisionError>;
    /// Looks a pair up by user code (any case), without changing it.
    async fn code_pair(&self, user_code: &str) -> Option<CodePairRecord>;
    /// Looks a pair up by device code.
    async fn code_pair_by_device_code(&self, device_code: &str) -> Option<CodePairRecord>;

    /// The current generation of the (customer, client) grant; tokens carry it.
    async fn grant_generation(&self, user_id: &str, client_id: &str) -> u64;
    /// Revokes every token of the grant; returns the new generation.
    async fn revoke_grant(&self, user_id: &str, client_id: &str) -> u64;
    /// Forces one token (by its id) to expire.
    async fn expire_token(&self, token_id: &str);
    /// Whether a verified token is still good.
    async fn token_state(&self, token_id: &str, grant: Option<(&str, &str)>, generation: u64) -> TokenState;

    /// Forgets authorization codes (live or consumed) past their expiry and code pairs past their expiry and
    /// [`CODE_PAIR_GRACE_MS`], on the session's clock; how many.
    async fn purge_expired(&self) -> usize;
    /// Appends to the bounded request journal (the entry cut to [`JournalEntry::bound`]).
    async fn journal_append(&self, entry: JournalEntry);
    /// The entries after sequence number `after`, at most `limit`, oldest first; and whether more remain.
    async fn journal_page(&self, after: u64, limit: usize) -> (Vec<JournalEntry>, bool);
    /// The journal, oldest first.
    async fn journal(&self) -> Vec<JournalEntry>;

    /// Loads a client plan (or, with `None`, removes it) and resets the session. From then on a reset goes
    /// back to the state right after the plan was loaded: its settings and faults applied, its counters at 0.
    async fn load_plan(&self, plan: Option<Arc<Plan>>);
    /// The plan loaded, if any.
    async fn plan(&self) -> Option<Arc<Plan>>;
    /// Counts a client request against the plan's network rules: the latency to add, or a dropped
    /// connection. `None` at once when the plan has no network rules. Synchronous, like the clock: it sits on
    /// every request's path.
    fn plan_network(&self, method: &str, path: &str) -> Option<NetworkAction>;
    /// Counts a Music API call that passed the auth chain against the plan's `revoke` rule; true once, for
    /// the call after which the customer removes the app. Synchronous: it sits on every Music API call.
    fn plan_count_call(&self, method: &str, path: &str) -> bool;
    /// Counts a piece of material (a token response, a success redirect); the bad material to serve in it,
    /// if the plan says so.
    async fn plan_material(&self, point: MaterialPoint) -> Option<BadMaterial>;
}
