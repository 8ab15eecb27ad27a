//! The default, in-memory [`Store`]: sessions in a sharded concurrent map, each session's state split by
//! concern so that unrelated requests do not contend (codes, code pairs and grants each have their own
//! lock; the clock is lock-free). No method awaits while holding a lock.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use async_trait::async_trait;
use dashmap::DashMap;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use super::memory_music::{MemoryMusic, MusicSeed};
use super::music::MusicStore;
use super::*;
use crate::clock::{Clock, ClockState};
use crate::ids;
use crate::journal::JournalEntry;

/// Authorization codes are purged of expired ones every this many inserts (and by every sweep).
const PURGE_EVERY: u64 = 1024;

/// The most tokens a session revokes one by one (two per replayed authorization code); beyond it a replay
/// revokes its whole grant (`docs/STATE.md`).
pub const MAX_REVOKED_TOKENS: usize = 100_000;

/// Recovers the data of a poisoned lock: a panic elsewhere must not take the session down with it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// In-memory sessions.
pub struct MemoryStore {
    sessions: DashMap<SessionId, Arc<MemorySession>>,
    seed: Option<u64>,
    bounds: Bounds,
    music_seed: MusicSeed,
}

impl MemoryStore {
    /// A store whose sessions draw random values from `seed` (mixed with the session name) when given,
    /// or from the operating system otherwise, and keep what `bounds` allows.
    pub fn new(seed: Option<u64>, bounds: Bounds) -> Self {
        let bounds = Bounds { journal_entries: bounds.journal_entries.max(1), ..bounds };
        MemoryStore { sessions: DashMap::new(), seed, bounds, music_seed: MusicSeed::empty() }
    }

    /// Sets how customers' music state is seeded on first access in a session.
    pub fn with_music_seed(mut self, seed: MusicSeed) -> Self {
        self.music_seed = seed;
        self
    }

    fn rng_for(&self, id: &SessionId) -> StdRng {
        match self.seed {
            Some(seed) => {
                let mut h = Sha256::new();
                h.update(seed.to_le_bytes());
                h.update(id.as_str().as_bytes());
                StdRng::from_seed(h.finalize().into())
            }
            None => StdRng::from_os_rng(),
        }
    }

    /// Evicts the least recently used session other than the default one and `keep`, while there are more
    /// than [`Bounds::max_sessions`] besides the default one.
    fn evict_beyond_max(&self, keep: &SessionId) {
        let max = self.bounds.max_sessions;
        let default = SessionId::default_session();
        let others = |s: &DashMap<SessionId, Arc<MemorySession>>| s.len() - usize::from(s.contains_key(&default));
        while max > 0 && others(&self.sessions) > max {
            let oldest = self
                .sessions
                .iter()
                .filter(|e| e.key() != keep && *e.key() != default)
                .min_by_key(|e| e.value().last_used_ms.load(Ordering::Relaxed))
                .map(|e| e.key().clone());
            match oldest {
                Some(id) => {
                    self.sessions.remove(&id);
                }
                None => break,
            }
        }
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn session(&self, id: &SessionId) -> Arc<dyn SessionStore> {
        let now = crate::clock::real_now_ms();
        if let Some(s) = self.sessions.get(id) {
            s.last_used_ms.store(now, Ordering::Relaxed);
            return s.clone();
        }
        let s = self
            .sessions
            .entry(id.clone())
            .or_insert_with(|| {
                Arc::new(MemorySession::new(
                    self.rng_for(id),
                    self.seed.is_some(),
                    self.bounds,
                    self.music_seed.clone(),
                ))
            })
            .clone();
        s.last_used_ms.store(now, Ordering::Relaxed);
        self.evict_beyond_max(id);
        s
    }

    fn drop_session(&self, id: &SessionId) -> bool {
        *id != SessionId::default_session() && self.sessions.remove(id).is_some()
    }

    async fn sweep(&self) -> Swept {
        let mut swept = Swept::default();
        if self.bounds.session_idle_ms > 0 {
            let before = crate::clock::real_now_ms() - self.bounds.session_idle_ms;
            let default = SessionId::default_session();
            let before_len = self.sessions.len();
            self.sessions.retain(|id, s| *id == default || s.last_used_ms.load(Ordering::Relaxed) >= before);
            swept.sessions = before_len - self.sessions.len();
        }
        let sessions: Vec<Arc<MemorySession>> = self.sessions.iter().map(|e| e.value().clone()).collect();
        for s in sessions {
            swept.codes += s.purge_expired().await;
        }
        swept
    }

    fn session_exists(&self, id: &SessionId) -> bool {
        *id == SessionId::default_session() || self.sessions.contains_key(id)
    }

    fn session_ids(&self) -> Vec<SessionId> {
        let mut ids: Vec<_> = self.sessions.iter().map(|e| e.key().clone()).collect();
        ids.sort();
        ids
    }
}

#[derive(Default)]
struct Grants {
    generations: HashMap<(String, String), u64>,
    expired_tokens: HashSet<String>,
    /// Tokens revoked one by one: those of an authorization code that was replayed.
    revoked_tokens: HashSet<String>,
}

/// A session's authorization codes: those not yet exchanged, and those exchanged (kept until their expiry, so
/// that a replay is recognised and revokes what the first exchange issued).
#[derive(Default)]
struct Codes {
    live: HashMap<String, AuthCodeRecord>,
    consumed: HashMap<String, ConsumedCode>,
}

impl Codes {
    /// Forgets every code, live or consumed, past its expiry at `now`; how many.
    fn purge(&mut self, now: i64) -> usize {
        let before = self.live.len() + self.consumed.len();
        self.live.retain(|_, r| now < r.expires_at_ms);
        self.consumed.retain(|_, c| now < c.expires_at_ms);
        if self.live.len() < self.live.capacity() / 4 {
            self.live.shrink_to_fit();
        }
        if self.consumed.len() < self.consumed.capacity() / 4 {
            self.consumed.shrink_to_fit();
        }
        before - self.live.len() - self.consumed.len()
    }
}

/// An authorization code after its first exchange.
struct ConsumedCode {
    /// The code's own expiry, virtual epoch ms: a replay after it is an unknown code.
    expires_at_ms: i64,
    /// Its (customer, client) grant: revoked whole instead when a session holds [`MAX_REVOKED_TOKENS`].
    grant: (String, String),
    /// The ids of the tokens the exchange issued (none when it failed).
    tokens: Vec<String>,
    /// Whether it was replayed: tokens bound afterwards are revoked at once.
    replayed: bool,
}

#[derive(Default)]
struct CodePairs {
    by_device: HashMap<String, CodePairRecord>,
    user_to_device: HashMap<String, String>,
}

struct Journal {
    /// Each entry with its [`JournalEntry::weight`], weighed once on append.
    entries: VecDeque<(usize, JournalEntry)>,
    next_seq: u64,
    /// The sum of the entries' [`JournalEntry::weight`].
    bytes: usize,
}

/// One session's state.
pub struct MemorySession {
    clock: Arc<Clock>,
    music: MemoryMusic,
    rng: Mutex<StdRng>,
    /// The seeded start of the random sequence, replayed on reset; `None` without `--seed`, where a reset
    /// draws a fresh sequence so that codes and token ids issued before it are never handed out again.
    initial_rng: Option<StdRng>,
    settings: RwLock<Settings>,
    codes: Mutex<Codes>,
    pairs: Mutex<CodePairs>,
    grants: Mutex<Grants>,
    journal: Mutex<Journal>,
    bounds: Bounds,
    /// When a request last asked for this session, real epoch ms (for idle eviction and LRU).
    last_used_ms: AtomicI64,
    /// Authorization codes issued since the last purge (codes are purged every [`PURGE_EVERY`] inserts too).
    codes_since_purge: AtomicU64,
    epoch: AtomicU64,
    plan: Mutex<Option<PlanRuntime>>,
    /// Whether the plan has network rules: requests skip the plan's lock when it has none.
    plan_network: AtomicBool,
    /// Whether the plan has a revoke rule: Music API calls skip the plan's lock when it has none.
    plan_revoke: AtomicBool,
}

/// A loaded plan and its counters (zeroed on reset).
struct PlanRuntime {
    plan: Arc<Plan>,
    /// Music API calls counted against the revoke rule.
    calls: u64,
    /// Token responses and redirects served.
    token_responses: u64,
    redirects: u64,
    /// Matching requests seen, per network rule.
    network_seen: Vec<u64>,
}

impl PlanRuntime {
    fn new(plan: Arc<Plan>) -> Self {
        let n = plan.network.len();
        PlanRuntime { plan, calls: 0, token_responses: 0, redirects: 0, network_seen: vec![0; n] }
    }
}

impl MemorySession {
    fn new(rng: StdRng, seeded: bool, bounds: Bounds, music_seed: MusicSeed) -> Self {
        let clock = Arc::new(Clock::default());
        let mut music_rng = rng.clone();
        let music_rng = StdRng::from_seed(music_rng.random());
        MemorySession {
            music: MemoryMusic::new(music_seed, clock.clone(), music_rng, seeded),
            clock,
            rng: Mutex::new(rng.clone()),
            initial_rng: seeded.then_some(rng),
            settings: RwLock::new(Settings::default()),
            codes: Mutex::default(),
            pairs: Mutex::default(),
            grants: Mutex::default(),
            journal: Mutex::new(Journal { entries: VecDeque::new(), next_seq: 1, bytes: 0 }),
            bounds,
            last_used_ms: AtomicI64::new(0),
            codes_since_purge: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            plan: Mutex::new(None),
            plan_network: AtomicBool::new(false),
            plan_revoke: AtomicBool::new(false),
        }
    }

    fn pair_expired(p: &CodePairRecord, now_ms: i64) -> bool {
        p.status == CodePairStatus::Expired || now_ms >= p.expires_at_ms
    }

    /// Revokes these tokens of `grant`; or, once the session holds [`MAX_REVOKED_TOKENS`] revoked one by one,
    /// the whole grant (every token of that customer and client, as the admin's revocation does), so that
    /// replays cannot grow the set without end.
    fn revoke_tokens(&self, ids: Vec<String>, grant: (String, String)) {
        if ids.is_empty() {
            return;
        }
        let mut g = lock(&self.grants);
        if g.revoked_tokens.len() + ids.len() > MAX_REVOKED_TOKENS {
            *g.generations.entry(grant).or_insert(0) += 1;
        } else {
            g.revoked_tokens.extend(ids);
        }
    }
}

#[async_trait]
impl SessionStore for MemorySession {
    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    fn clock_state(&self) -> ClockState {
        self.clock.state()
    }

    fn random_u128(&self) -> u128 {
        lock(&self.rng).random()
    }

    fn music(&self) -> &dyn MusicStore {
        &self.music
    }

    async fn change_clock(&self, change: ClockChange) -> ClockState {
        match change {
            ClockChange::Freeze => self.clock.freeze(),
            ClockChange::Unfreeze => self.clock.unfreeze(),
            ClockChange::Set(s) => self.clock.set_ms(s.saturating_mul(1000)),
            ClockChange::Advance(s) => self.clock.advance_ms(s.saturating_mul(1000)),
        }
        // What the new time expired goes now, not at the next sweep.
        self.purge_expired().await;
        self.clock.state()
    }

    async fn settings(&self) -> Settings {
        self.settings.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn update_settings(&self, patch: SettingsPatch) -> Settings {
        let mut s = self.settings.write().unwrap_or_else(|e| e.into_inner());
        s.apply(patch);
        s.clone()
    }

    async fn reset(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.clock.reset();
        self.music.reset();
        *lock(&self.rng) = self.initial_rng.clone().unwrap_or_else(StdRng::from_os_rng);
        // Back to the plan's starting state: its settings over the defaults, its faults, its counters at 0.
        let plan = {
            let mut p = lock(&self.plan);
            *p = p.as_ref().map(|rt| PlanRuntime::new(rt.plan.clone()));
            p.as_ref().map(|rt| rt.plan.clone())
        };
        let mut settings = Settings::default();
        if let Some(plan) = &plan {
            settings.apply(plan.settings.clone());
            for f in plan.store_faults() {
                self.music.add_fault(f).await;
            }
        }
        self.plan_network.store(plan.as_ref().is_some_and(|p| !p.network.is_empty()), Ordering::Release);
        self.plan_revoke.store(plan.as_ref().is_some_and(|p| p.revoke.is_some()), Ordering::Release);
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = settings;
        *lock(&self.codes) = Codes::default();
        *lock(&self.pairs) = CodePairs::default();
        *lock(&self.grants) = Grants::default();
        let mut j = lock(&self.journal);
        j.entries.clear();
        j.next_seq = 1;
        j.bytes = 0;
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    async fn insert_auth_code(&self, record: AuthCodeRecord) -> String {
        let mut codes = lock(&self.codes);
        let mut rng = lock(&self.rng);
        let mut code = ids::authorization_code(&mut *rng);
        while codes.live.contains_key(&code) || codes.consumed.contains_key(&code) {
            code = ids::authorization_code(&mut *rng);
        }
        codes.live.insert(code.clone(), record);
        if self.codes_since_purge.fetch_add(1, Ordering::Relaxed) + 1 >= PURGE_EVERY {
            self.codes_since_purge.store(0, Ordering::Relaxed);
            codes.purge(self.clock.now_ms());
        }
        code
    }

    async fn take_auth_code(&self, code: &str) -> Option<AuthCodeRecord> {
        let now = self.clock.now_ms();
        let replayed = {
            let mut codes = lock(&self.codes);
            if let Some(r) = codes.live.remove(code) {
                let consumed = ConsumedCode {
                    expires_at_ms: r.expires_at_ms,
                    grant: (r.user_id.clone(), r.client_id.clone()),
                    tokens: Vec::new(),
                    replayed: false,
                };
                codes.consumed.insert(code.to_owned(), consumed);
                return Some(r);
            }
            match codes.consumed.get_mut(code) {
                Some(c) if now < c.expires_at_ms => {
                    c.replayed = true;
                    (std::mem::take(&mut c.tokens), c.grant.clone())
                }
                _ => return None,
            }
        };
        self.revoke_tokens(replayed.0, replayed.1);
        None
    }

    async fn bind_code_tokens(&self, code: &str, token_ids: &[String]) {
        let (revoke, grant) = {
            let mut codes = lock(&self.codes);
            let Some(c) = codes.consumed.get_mut(code) else { return };
            if !c.replayed {
                c.tokens.extend_from_slice(token_ids);
                return;
            }
            (token_ids.to_vec(), c.grant.clone())
        };
        self.revoke_tokens(revoke, grant);
    }

    async fn expire_auth_code(&self, code: &str) -> bool {
        match lock(&self.codes).live.get_mut(code) {
            Some(r) => {
                r.expires_at_ms = i64::MIN;
                true
            }
            None => false,
        }
    }

    async fn insert_code_pair(&self, pair: NewCodePair) -> CodePairRecord {
        let mut pairs = lock(&self.pairs);
        let (user_code, device_code) = {
            let mut rng = lock(&self.rng);
            let mut uc = ids::user_code(&mut *rng);
            while pairs.user_to_device.contains_key(&uc) {
                uc = ids::user_code(&mut *rng);
            }
            (uc, ids::uuid(&mut *rng))
        };
        let rec = CodePairRecord {
            user_code: user_code.clone(),
            device_code: device_code.clone(),
            client_id: pair.client_id,
            scopes: pair.scopes,
            scope_data: pair.scope_data,
            expires_at_ms: pair.expires_at_ms,
            interval_seconds: pair.interval_seconds,
            status: CodePairStatus::Pending,
            last_poll_ms: None,
            polls: 0,
        };
        pairs.user_to_device.insert(user_code, device_code.clone());
        pairs.by_device.insert(device_code, rec.clone());
        rec
    }

    async fn poll_code_pair(&self, device_code: &str, now_ms: i64, rules: &PollRules) -> PollOutcome {
        let mut pairs = lock(&self.pairs);
        let Some(p) = pairs.by_device.get_mut(device_code) else {
            return PollOutcome::Unknown;
        };
        let previous = p.last_poll_ms.replace(now_ms);
        p.polls = p.polls.saturating_add(1);
        if p.status == CodePairStatus::Consumed {
            return PollOutcome::Consumed;
        }
        if Self::pair_expired(p, now_ms) {
            return PollOutcome::Expired;
        }
        if let (CodePairStatus::Pending, Some((after, decision))) = (&p.status, &rules.auto_decision) {
            if p.polls > *after {
                p.status = match decision {
                    CodePairDecision::Approve(user) => CodePairStatus::Approved(user.clone()),
                    CodePairDecision::Deny => CodePairStatus::Denied,
                    CodePairDecision::Expire => CodePairStatus::Expired,
                };
                if p.status == CodePairStatus::Expired {
                    return PollOutcome::Expired;
                }
            }
        }
        match &p.status {
            CodePairStatus::Approved(_) => {
                let approved = p.clone();
                p.status = CodePairStatus::Consumed;
                PollOutcome::Approved(approved)
            }
            CodePairStatus::Denied => PollOutcome::Denied,
            CodePairStatus::Pending if p.polls <= rules.slow_down_first => PollOutcome::SlowDown { forced: true },
            CodePairStatus::Pending => match previous {
                Some(prev) if now_ms - prev < rules.min_gap_ms => PollOutcome::SlowDown { forced: false },
                _ => PollOutcome::Pending,
            },
            CodePairStatus::Expired | CodePairStatus::Consumed => PollOutcome::Expired,
        }
    }

    async fn decide_code_pair(
        &self,
        user_code: &str,
        decision: CodePairDecision,
    ) -> Result<CodePairRecord, DecisionError> {
        let now = self.clock.now_ms();
        let mut pairs = lock(&self.pairs);
        let key = user_code.trim().to_ascii_uppercase();
        let device = pairs.user_to_device.get(&key).cloned().ok_or(DecisionError::Unknown)?;
        let p = pairs.by_device.get_mut(&device).ok_or(DecisionError::Unknown)?;
        let pending = p.status == CodePairStatus::Pending && !Self::pair_expired(p, now);
        match decision {
            CodePairDecision::Expire => {
                if p.status == CodePairStatus::Consumed {
                    return Err(DecisionError::NotPending);
                }
                p.status = CodePairStatus::Expired;
            }
            _ if !pending => return Err(DecisionError::NotPending),
            CodePairDecision::Approve(user) => p.status = CodePairStatus::Approved(user),
            CodePairDecision::Deny => p.status = CodePairStatus::Denied,
        }
        Ok(p.clone())
    }

    async fn code_pair(&self, user_code: &str) -> Option<CodePairRecord> {
        let pairs = lock(&self.pairs);
        let device = pairs.user_to_device.get(&user_code.trim().to_ascii_uppercase())?;
        pairs.by_device.get(device).cloned()
    }

    async fn code_pair_by_device_code(&self, device_code: &str) -> Option<CodePairRecord> {
        lock(&self.pairs).by_device.get(device_code).cloned()
    }

    async fn grant_generation(&self, user_id: &str, client_id: &str) -> u64 {
        let g = lock(&self.grants);
        g.generations.get(&(user_id.to_owned(), client_id.to_owned())).copied().unwrap_or(0)
    }

    async fn revoke_grant(&self, user_id: &str, client_id: &str) -> u64 {
        let mut g = lock(&self.grants);
        let gen_ = g.generations.entry((user_id.to_owned(), client_id.to_owned())).or_insert(0);
        *gen_ += 1;
        *gen_
    }

    async fn expire_token(&self, token_id: &str) {
        lock(&self.grants).expired_tokens.insert(token_id.to_owned());
    }

    async fn token_state(&self, token_id: &str, grant: Option<(&str, &str)>, generation: u64) -> TokenState {
        let g = lock(&self.grants);
        if g.expired_tokens.contains(token_id) {
            return TokenState::ForcedExpired;
        }
        if g.revoked_tokens.contains(token_id) {
            return TokenState::Revoked;
        }
        if let Some((user, client)) = grant {
            // A lookup without allocating: revocations are few, so scan them.
            let current = g.generations.iter().find(|((u, c), _)| u == user && c == client).map_or(0, |(_, v)| *v);
            if current != generation {
                return TokenState::Revoked;
            }
        }
        TokenState::Active
    }

    async fn purge_expired(&self) -> usize {
        let now = self.clock.now_ms();
        let mut n = lock(&self.codes).purge(now);
        let mut pairs = lock(&self.pairs);
        let gone: Vec<(String, String)> = pairs
            .by_device
            .iter()
            .filter(|(_, p)| now >= p.expires_at_ms.saturating_add(CODE_PAIR_GRACE_MS))
            .map(|(d, p)| (d.clone(), p.user_code.clone()))
            .collect();
        for (device, user) in gone {
            pairs.by_device.remove(&device);
            pairs.user_to_device.remove(&user);
            n += 1;
        }
        if pairs.by_device.len() < pairs.by_device.capacity() / 4 {
            pairs.by_device.shrink_to_fit();
            pairs.user_to_device.shrink_to_fit();
        }
        n
    }

    async fn journal_append(&self, mut entry: JournalEntry) {
        entry.bound();
        let weight = entry.weight();
        let mut j = lock(&self.journal);
        entry.seq = j.next_seq;
        j.next_seq += 1;
        j.bytes += weight;
        j.entries.push_back((weight, entry));
        while j.entries.len() > self.bounds.journal_entries
            || (j.bytes > self.bounds.journal_bytes && j.entries.len() > 1)
        {
            let Some((old, _)) = j.entries.pop_front() else { break };
            j.bytes -= old;
        }
    }

    async fn journal_page(&self, after: u64, limit: usize) -> (Vec<JournalEntry>, bool) {
        let j = lock(&self.journal);
        let mut rest = j.entries.iter().map(|(_, e)| e).filter(|e| e.seq > after);
        let page: Vec<JournalEntry> = rest.by_ref().take(limit).cloned().collect();
        (page, rest.next().is_some())
    }

    async fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.journal).entries.iter().map(|(_, e)| e.clone()).collect()
    }

    async fn load_plan(&self, plan: Option<Arc<Plan>>) {
        *lock(&self.plan) = plan.map(PlanRuntime::new);
        self.reset().await;
    }

    async fn plan(&self) -> Option<Arc<Plan>> {
        lock(&self.plan).as_ref().map(|rt| rt.plan.clone())
    }

    fn plan_network(&self, method: &str, path: &str) -> Option<NetworkAction> {
        if !self.plan_network.load(Ordering::Acquire) {
            return None;
        }
        let mut guard = lock(&self.plan);
        let rt = guard.as_mut()?;
        let mut action = NetworkAction::default();
        for (i, rule) in rt.plan.network.iter().enumerate() {
            if !rule.matches(method, path) {
                continue;
            }
            rt.network_seen[i] += 1;
            if rule.hits(rt.plan.seed, i, rt.network_seen[i]) {
                action.latency_ms += rule.latency_ms.unwrap_or(0);
                action.drop |= rule.drop;
            }
        }
        (action != NetworkAction::default()).then_some(action)
    }

    fn plan_count_call(&self, method: &str, path: &str) -> bool {
        if !self.plan_revoke.load(Ordering::Acquire) {
            return false;
        }
        let mut guard = lock(&self.plan);
        let Some(rt) = guard.as_mut() else { return false };
        let Some(rule) = &rt.plan.revoke else { return false };
        if !super::music::route_matches(&rule.route, method, path) {
            return false;
        }
        rt.calls += 1;
        rt.calls == rule.after_calls
    }

    async fn plan_material(&self, point: MaterialPoint) -> Option<BadMaterial> {
        let mut guard = lock(&self.plan);
        let rt = guard.as_mut()?;
        if rt.plan.bad_material.is_empty() {
            return None;
        }
        let n = match point {
            MaterialPoint::TokenResponse => {
                rt.token_responses += 1;
                rt.token_responses
            }
            MaterialPoint::Redirect => {
                rt.redirects += 1;
                rt.redirects
            }
        };
        rt.plan.bad_material.iter().find(|b| point.takes(b.kind) && b.nth == n).map(|b| b.kind)
    }
}
