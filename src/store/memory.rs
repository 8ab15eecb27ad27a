//! The default, in-memory [`Store`]: sessions in a sharded concurrent map, each session's state split by
//! concern so that unrelated requests do not contend (codes, code pairs and grants each have their own
//! lock; the clock is lock-free). No method awaits while holding a lock.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};

use async_trait::async_trait;
use dashmap::DashMap;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use super::memory_music::{MemoryMusic, MusicSeed};
use super::music::MusicStore;
use super::persist::{Ack, Batch, Restored, SessionDocs, Sink, Unsaved, Write, behind_if, journal_key, kind, send_if};
use super::*;
use crate::clock::{Clock, ClockState, SavedClock};
use crate::ids;
use crate::journal::JournalEntry;

/// Authorization codes are purged of expired ones every this many inserts (and by every sweep).
const PURGE_EVERY: u64 = 1024;

/// The most tokens a session revokes one by one (two per replayed authorization code); beyond it a replay
/// revokes its whole grant, whose ids it then forgets (`docs/STATE.md`). About 1 MiB per session at most.
pub const MAX_REVOKED_TOKENS: usize = 10_000;

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
    /// The state file's writer, when there is one (`serve --state`).
    writer: Option<std::sync::mpsc::Sender<Batch>>,
    /// How many servers opened the state file before this one (mixed into seeded random sources).
    boots: u64,
}

/// What a state file keeps of a session itself (kind `session`).
#[derive(Serialize, Deserialize)]
struct SessionDoc {
    settings: Settings,
    clock: SavedClock,
    epoch: u64,
}

/// What a state file keeps of a loaded plan (kind `plan`, key `plan`) and its counters (key `counters`).
#[derive(Serialize, Deserialize)]
struct PlanCounters {
    calls: u64,
    token_responses: u64,
    redirects: u64,
    network_seen: Vec<u64>,
}

impl MemoryStore {
    /// A store whose sessions draw random values from `seed` (mixed with the session name) when given,
    /// or from the operating system otherwise, and keep what `bounds` allows.
    pub fn new(seed: Option<u64>, bounds: Bounds) -> Self {
        let bounds = Bounds { journal_entries: bounds.journal_entries.max(1), ..bounds };
        MemoryStore { sessions: DashMap::new(), seed, bounds, music_seed: MusicSeed::empty(), writer: None, boots: 0 }
    }

    /// Starts from what a state file (or a snapshot) kept, and, given a state file's writer, writes every change
    /// through to it from now on (without one, a snapshot's sessions are kept in memory only: `serve --import`
    /// alone). Call it after [`MemoryStore::with_music_seed`].
    ///
    /// # Errors
    /// The first document that does not decode, named.
    pub fn with_state(
        mut self,
        writer: Option<std::sync::mpsc::Sender<Batch>>,
        restored: &Restored,
    ) -> Result<Self, String> {
        self.writer = writer;
        self.boots = restored.boots;
        for (name, docs) in &restored.sessions {
            let id = SessionId::parse(name).ok_or_else(|| format!("session name {name:?} is not valid"))?;
            let s = self.new_session(&id);
            s.restore(docs).map_err(|e| format!("session {name}: {e}"))?;
            s.last_used_ms.store(crate::clock::real_now_ms(), Ordering::Relaxed);
            self.sessions.insert(id, Arc::new(s));
        }
        Ok(self)
    }

    /// A new session that this store does not keep, writing through to this store's writer: the working set
    /// of a shared store (`store::redis`).
    pub(super) fn blank(&self, id: &SessionId) -> MemorySession {
        self.detached_with(id, self.rng_for(id))
    }

    /// A session that this store does not keep, restored from `docs`, whose random values come from `rng`: a
    /// shared store's working set rebuilt when another process changed the session.
    ///
    /// # Errors
    /// The first document that does not decode, named.
    pub(super) fn detached(&self, id: &SessionId, docs: &SessionDocs, rng: StdRng) -> Result<MemorySession, String> {
        let s = self.detached_with(id, rng);
        s.restore(docs)?;
        Ok(s)
    }

    fn detached_with(&self, id: &SessionId, rng: StdRng) -> MemorySession {
        let sink = self.writer.as_ref().map(|tx| Sink::new(id.as_str(), tx.clone()));
        MemorySession::new(rng, self.seed.is_some(), self.bounds, self.music_seed.clone(), sink)
    }

    fn new_session(&self, id: &SessionId) -> MemorySession {
        let sink = self.writer.as_ref().map(|tx| Sink::new(id.as_str(), tx.clone()));
        MemorySession::new(self.rng_for(id), self.seed.is_some(), self.bounds, self.music_seed.clone(), sink)
    }

    /// Tells the state file a session is gone.
    fn forget(&self, id: &SessionId) {
        if let Some(tx) = &self.writer {
            Sink::new(id.as_str(), tx.clone()).behind(vec![Write::DropSession]);
        }
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
                if self.boots > 0 {
                    // A restart on a state file must not hand out the codes and token ids of a run before.
                    h.update(self.boots.to_le_bytes());
                }
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
                    self.forget(&id);
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
        let s = self.sessions.entry(id.clone()).or_insert_with(|| Arc::new(self.new_session(id))).clone();
        s.last_used_ms.store(now, Ordering::Relaxed);
        self.evict_beyond_max(id);
        s
    }

    async fn drop_session(&self, id: &SessionId) -> bool {
        let gone = *id != SessionId::default_session() && self.sessions.remove(id).is_some();
        if gone {
            self.forget(id);
        }
        gone
    }

    async fn sweep(&self) -> Swept {
        let mut swept = Swept::default();
        if self.bounds.session_idle_ms > 0 {
            let before = crate::clock::real_now_ms() - self.bounds.session_idle_ms;
            let default = SessionId::default_session();
            let mut gone = Vec::new();
            self.sessions.retain(|id, s| {
                let keep = *id == default || s.last_used_ms.load(Ordering::Relaxed) >= before;
                if !keep {
                    gone.push(id.clone());
                }
                keep
            });
            swept.sessions = gone.len();
            for id in &gone {
                self.forget(id);
            }
        }
        let sessions: Vec<Arc<MemorySession>> = self.sessions.iter().map(|e| e.value().clone()).collect();
        for s in sessions {
            swept.codes += s.purge_expired().await;
        }
        swept
    }

    async fn session_exists(&self, id: &SessionId) -> bool {
        *id == SessionId::default_session() || self.sessions.contains_key(id)
    }

    async fn session_ids(&self) -> Vec<SessionId> {
        let mut ids: Vec<_> = self.sessions.iter().map(|e| e.key().clone()).collect();
        ids.sort();
        ids
    }
}

#[derive(Default)]
struct Grants {
    generations: HashMap<(String, String), u64>,
    expired_tokens: HashSet<String>,
    /// Tokens revoked one by one, by grant: those of an authorization code that was replayed.
    revoked_tokens: HashMap<(String, String), HashSet<String>>,
    /// How many ids `revoked_tokens` holds in all.
    revoked_count: usize,
}

impl Grants {
    /// Bumps the grant's generation (revoking every token of it) and forgets the ids revoked one by one in it,
    /// which the new generation covers; the writes that keep it (when `durable`).
    fn revoke_whole(&mut self, grant: &(String, String), durable: bool) -> (u64, Vec<Write>) {
        let generation = self.generations.entry(grant.clone()).or_insert(0);
        *generation += 1;
        let generation = *generation;
        let mut writes = Vec::new();
        if durable {
            writes.push(Write::put(kind::GRANT, MemorySession::grant_key(&grant.0, &grant.1), &generation));
        }
        if let Some(ids) = self.revoked_tokens.remove(grant) {
            self.revoked_count -= ids.len();
            if durable {
                writes.extend(ids.iter().map(|id| Write::delete(kind::REVOKED, id.as_str())));
            }
        }
        (generation, writes)
    }

    /// Whether this token was revoked alone.
    fn revoked_alone(&self, token_id: &str) -> bool {
        self.revoked_tokens.values().any(|ids| ids.contains(token_id))
    }
}

/// A session's authorization codes: those not yet exchanged, and those exchanged (kept until their expiry, so
/// that a replay is recognised and revokes what the first exchange issued).
#[derive(Default)]
struct Codes {
    live: HashMap<String, AuthCodeRecord>,
    consumed: HashMap<String, ConsumedCode>,
}

impl Codes {
    /// Forgets every code, live or consumed, past its expiry at `now`, adding their deletions to `writes`
    /// when the session writes through (`durable`); how many.
    fn purge(&mut self, now: i64, durable: bool, writes: &mut Vec<Write>) -> usize {
        let before = self.live.len() + self.consumed.len();
        self.live.retain(|c, r| {
            let keep = now < r.expires_at_ms;
            if !keep && durable {
                writes.push(Write::delete(kind::CODE, c.as_str()));
            }
            keep
        });
        self.consumed.retain(|c, r| {
            let keep = now < r.expires_at_ms;
            if !keep && durable {
                writes.push(Write::delete(kind::CONSUMED, c.as_str()));
            }
            keep
        });
        if self.live.len() < self.live.capacity() / 4 {
            self.live.shrink_to_fit();
        }
        if self.consumed.len() < self.consumed.capacity() / 4 {
            self.consumed.shrink_to_fit();
        }
        before - self.live.len() - self.consumed.len()
    }
}

/// An authorization code after its first exchange (kind `consumed` in a state file).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ConsumedCode {
    /// The code's own expiry, virtual epoch ms: a replay after it is an unknown code.
    expires_at_ms: i64,
    /// Its (customer, client) grant: revoked whole instead when a session holds [`MAX_REVOKED_TOKENS`].
    grant: (String, String),
    /// The ids of the tokens the exchange issued (none when it failed, or once a replay revoked them).
    tokens: Vec<String>,
    /// Whether it was replayed: tokens bound afterwards are revoked at once.
    replayed: bool,
}

#[derive(Default)]
struct CodePairs {
    by_device: HashMap<String, CodePairRecord>,
    user_to_device: HashMap<String, String>,
}

#[derive(Default)]
struct Journal {
    /// Each entry with its [`JournalEntry::weight`], weighed once on append (shared with the state file's
    /// writer, which serialises the entries it takes on its own thread).
    entries: VecDeque<(usize, Arc<JournalEntry>)>,
    next_seq: u64,
    /// The sum of the entries' [`JournalEntry::weight`].
    bytes: usize,
    /// The first sequence number the state file does not have (with one).
    unsaved: u64,
    /// The last sequence number pushed out of memory since the state file's writer last took the journal.
    dropped: Option<u64>,
}

impl Journal {
    fn new() -> Self {
        Journal { next_seq: 1, unsaved: 1, ..Journal::default() }
    }
}

impl Unsaved for Mutex<Journal> {
    fn take(&self) -> Vec<Write> {
        let (dropped, entries) = {
            let mut j = lock(self);
            let from = j.unsaved;
            let skip = j.entries.partition_point(|(_, e)| e.seq < from);
            let entries: Vec<Arc<JournalEntry>> = j.entries.range(skip..).map(|(_, e)| e.clone()).collect();
            j.unsaved = j.next_seq;
            (j.dropped.take(), entries)
        };
        let mut writes = Vec::with_capacity(entries.len() + 1);
        if let Some(upto) = dropped {
            writes.push(Write::DeleteKind { kind: kind::JOURNAL, upto: Some(journal_key(upto)) });
        }
        writes.extend(entries.iter().map(|e| Write::put(kind::JOURNAL, journal_key(e.seq), &**e)));
        writes
    }
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
    /// Locked before `grants` when both are (a replay revokes tokens under the codes' lock).
    codes: Mutex<Codes>,
    pairs: Mutex<CodePairs>,
    grants: Mutex<Grants>,
    journal: Arc<Mutex<Journal>>,
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
    /// Where changes are written through, with a state file.
    sink: Option<Sink>,
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
    fn new(rng: StdRng, seeded: bool, bounds: Bounds, music_seed: MusicSeed, sink: Option<Sink>) -> Self {
        let clock = Arc::new(Clock::default());
        let mut music_rng = rng.clone();
        let music_rng = StdRng::from_seed(music_rng.random());
        MemorySession {
            music: MemoryMusic::new(music_seed, clock.clone(), music_rng, seeded).with_sink(sink.clone()),
            sink,
            clock,
            rng: Mutex::new(rng.clone()),
            initial_rng: seeded.then_some(rng),
            settings: RwLock::new(Settings::default()),
            codes: Mutex::default(),
            pairs: Mutex::default(),
            grants: Mutex::default(),
            journal: Arc::new(Mutex::new(Journal::new())),
            bounds,
            last_used_ms: AtomicI64::new(0),
            codes_since_purge: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            plan: Mutex::new(None),
            plan_network: AtomicBool::new(false),
            plan_revoke: AtomicBool::new(false),
        }
    }

    /// Takes back what a state file kept of this (new) session.
    fn restore(&self, docs: &SessionDocs) -> Result<(), String> {
        if let Some(doc) = docs.get::<SessionDoc>(kind::SESSION, "")? {
            *self.settings.write().unwrap_or_else(|e| e.into_inner()) = doc.settings;
            self.clock.load(doc.clock);
            self.epoch.store(doc.epoch, Ordering::Release);
        }
        *lock(&self.codes) = Codes {
            live: docs.all(kind::CODE)?.into_iter().collect(),
            consumed: docs.all(kind::CONSUMED)?.into_iter().collect(),
        };
        let mut pairs = CodePairs::default();
        for (device, p) in docs.all::<CodePairRecord>(kind::PAIR)? {
            pairs.user_to_device.insert(p.user_code.clone(), device.clone());
            pairs.by_device.insert(device, p);
        }
        *lock(&self.pairs) = pairs;
        let mut grants = Grants::default();
        for (key, generation) in docs.all::<u64>(kind::GRANT)? {
            let (user, client) = key.split_once('\t').ok_or_else(|| format!("grant key {key:?} has no tab"))?;
            grants.generations.insert((user.to_owned(), client.to_owned()), generation);
        }
        grants.expired_tokens = docs.kind(kind::EXPIRED).map(|(k, _)| k.to_owned()).collect();
        // The value is the token's grant; `true` (files from before it was kept) files it under no grant.
        for (id, grant) in docs.all::<RevokedIn>(kind::REVOKED)? {
            grants.revoked_count += 1;
            grants.revoked_tokens.entry(grant.grant()).or_default().insert(id);
        }
        *lock(&self.grants) = grants;
        let mut j = lock(&self.journal);
        for (_, entry) in docs.all::<JournalEntry>(kind::JOURNAL)? {
            let weight = entry.weight();
            j.next_seq = j.next_seq.max(entry.seq + 1);
            j.bytes += weight;
            j.entries.push_back((weight, Arc::new(entry)));
        }
        j.unsaved = j.next_seq;
        drop(j);
        if let Some(plan) = docs.get::<Plan>(kind::PLAN, "plan")? {
            let mut rt = PlanRuntime::new(Arc::new(plan));
            if let Some(c) = docs.get::<PlanCounters>(kind::PLAN, "counters")? {
                rt.calls = c.calls;
                rt.token_responses = c.token_responses;
                rt.redirects = c.redirects;
                if c.network_seen.len() == rt.network_seen.len() {
                    rt.network_seen = c.network_seen;
                }
            }
            self.plan_network.store(!rt.plan.network.is_empty(), Ordering::Release);
            self.plan_revoke.store(rt.plan.revoke.is_some(), Ordering::Release);
            *lock(&self.plan) = Some(rt);
        }
        self.music.restore(docs)
    }

    /// A random source drawn from this session's, for a working set rebuilt from it to go on with (so that
    /// it never hands out the codes and ids this one did).
    pub(super) fn next_rng(&self) -> StdRng {
        StdRng::from_seed(lock(&self.rng).random())
    }

    /// A plan's counters as a state file keeps them.
    fn counters_doc(rt: &PlanRuntime) -> Write {
        let c = PlanCounters {
            calls: rt.calls,
            token_responses: rt.token_responses,
            redirects: rt.redirects,
            network_seen: rt.network_seen.clone(),
        };
        Write::put(kind::PLAN, "counters", &c)
    }

    /// The session document as it stands.
    fn session_doc(&self) -> Write {
        let settings = self.settings.read().unwrap_or_else(|e| e.into_inner()).clone();
        Write::put(kind::SESSION, "", &SessionDoc { settings, clock: self.clock.saved(), epoch: self.epoch() })
    }

    fn grant_key(user: &str, client: &str) -> String {
        format!("{user}\t{client}")
    }

    /// One poll's bookkeeping and outcome (see [`SessionStore::poll_code_pair`]).
    fn poll(pairs: &mut CodePairs, device_code: &str, now_ms: i64, rules: &PollRules) -> PollOutcome {
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

    /// A new code for `record`, and its write (with the expired codes a periodic purge forgot).
    fn insert_code(&self, record: AuthCodeRecord) -> (String, Ack) {
        let mut codes = lock(&self.codes);
        let mut rng = lock(&self.rng);
        let mut code = ids::authorization_code(&mut *rng);
        while codes.live.contains_key(&code) || codes.consumed.contains_key(&code) {
            code = ids::authorization_code(&mut *rng);
        }
        let mut writes = Vec::new();
        if self.sink.is_some() {
            writes.push(Write::put(kind::CODE, code.as_str(), &record));
        }
        codes.live.insert(code.clone(), record);
        if self.codes_since_purge.fetch_add(1, Ordering::Relaxed) + 1 >= PURGE_EVERY {
            self.codes_since_purge.store(0, Ordering::Relaxed);
            codes.purge(self.clock.now_ms(), self.sink.is_some(), &mut writes);
        }
        (code, send_if(self.sink.as_ref(), || writes))
    }

    /// Decides a pair (see [`SessionStore::decide_code_pair`]), and its write.
    fn decide(&self, user_code: &str, decision: CodePairDecision) -> Result<(CodePairRecord, Ack), DecisionError> {
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
        let decided = p.clone();
        let ack = send_if(self.sink.as_ref(), || vec![Write::put(kind::PAIR, device.as_str(), &decided)]);
        Ok((decided, ack))
    }

    fn pair_expired(p: &CodePairRecord, now_ms: i64) -> bool {
        p.status == CodePairStatus::Expired || now_ms >= p.expires_at_ms
    }

    /// Revokes these tokens of `grant`, and answers the writes that keep it (when `durable`); or, once the
    /// session holds [`MAX_REVOKED_TOKENS`] revoked one by one, revokes the whole grant (every token of that
    /// customer and client, as the admin's revocation does), so that replays cannot grow the set without end.
    fn revoke_in(g: &mut Grants, ids: Vec<String>, grant: &(String, String), durable: bool) -> Vec<Write> {
        if ids.is_empty() {
            return Vec::new();
        }
        if g.revoked_count + ids.len() > MAX_REVOKED_TOKENS {
            return g.revoke_whole(grant, durable).1;
        }
        let mut writes = Vec::new();
        let set = g.revoked_tokens.entry(grant.clone()).or_default();
        for id in ids {
            if durable {
                writes.push(Write::put(kind::REVOKED, id.as_str(), &[&grant.0, &grant.1]));
            }
            if set.insert(id) {
                g.revoked_count += 1;
            }
        }
        writes
    }
}

/// A `revoked` document's value: the token's (customer, client) grant, or `true` in files written before it was.
#[derive(Deserialize)]
#[serde(untagged)]
enum RevokedIn {
    Grant(String, String),
    Unknown(#[allow(dead_code)] bool),
}

impl RevokedIn {
    fn grant(self) -> (String, String) {
        match self {
            RevokedIn::Grant(user, client) => (user, client),
            RevokedIn::Unknown(_) => Default::default(),
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
        send_if(self.sink.as_ref(), || vec![self.session_doc()]).done().await;
        // What the new time expired goes now, not at the next sweep.
        self.purge_expired().await;
        self.clock.state()
    }

    async fn settings(&self) -> Settings {
        self.settings.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn update_settings(&self, patch: SettingsPatch) -> Settings {
        let (settings, ack) = {
            let mut s = self.settings.write().unwrap_or_else(|e| e.into_inner());
            s.apply(patch);
            let settings = s.clone();
            drop(s);
            // The document is built after the lock is released (it reads the settings again); two updates at
            // once each write the settings as they stand after both at worst, never an older one last.
            (settings, send_if(self.sink.as_ref(), || vec![self.session_doc()]))
        };
        ack.done().await;
        settings
    }

    async fn reset(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.clock.reset();
        *lock(&self.rng) = self.initial_rng.clone().unwrap_or_else(StdRng::from_os_rng);
        // Back to the plan's starting state: its settings over the defaults, its faults, its counters at 0.
        let plan = {
            let mut p = lock(&self.plan);
            *p = p.as_ref().map(|rt| PlanRuntime::new(rt.plan.clone()));
            p.as_ref().map(|rt| rt.plan.clone())
        };
        let mut settings = Settings::default();
        let mut faults = Vec::new();
        if let Some(plan) = &plan {
            settings.apply(plan.settings.clone());
            faults = plan.store_faults();
        }
        let mut writes = self.music.reset(faults);
        self.plan_network.store(plan.as_ref().is_some_and(|p| !p.network.is_empty()), Ordering::Release);
        self.plan_revoke.store(plan.as_ref().is_some_and(|p| p.revoke.is_some()), Ordering::Release);
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = settings;
        *lock(&self.codes) = Codes::default();
        *lock(&self.pairs) = CodePairs::default();
        *lock(&self.grants) = Grants::default();
        {
            // The reset's writes below remove the file's whole journal.
            *lock(&self.journal) = Journal::new();
        }
        let ack = send_if(self.sink.as_ref(), || {
            let kinds = [
                kind::CODE,
                kind::CONSUMED,
                kind::PAIR,
                kind::GRANT,
                kind::EXPIRED,
                kind::REVOKED,
                kind::JOURNAL,
                kind::PLAN,
            ];
            for kind in kinds {
                writes.push(Write::DeleteKind { kind, upto: None });
            }
            if let Some(plan) = &plan {
                writes.push(Write::put(kind::PLAN, "plan", &**plan));
            }
            writes.push(self.session_doc());
            writes
        });
        ack.done().await;
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    async fn insert_auth_code(&self, record: AuthCodeRecord) -> String {
        let (code, ack) = self.insert_code(record);
        ack.done().await;
        code
    }

    async fn take_auth_code(&self, code: &str) -> Option<AuthCodeRecord> {
        let now = self.clock.now_ms();
        let durable = self.sink.is_some();
        let (taken, ack) = {
            let mut codes = lock(&self.codes);
            if let Some(r) = codes.live.remove(code) {
                let consumed = ConsumedCode {
                    expires_at_ms: r.expires_at_ms,
                    grant: (r.user_id.clone(), r.client_id.clone()),
                    tokens: Vec::new(),
                    replayed: false,
                };
                let ack = send_if(self.sink.as_ref(), || {
                    vec![Write::delete(kind::CODE, code), Write::put(kind::CONSUMED, code, &consumed)]
                });
                codes.consumed.insert(code.to_owned(), consumed);
                (Some(r), ack)
            } else {
                match codes.consumed.get_mut(code) {
                    Some(c) if now < c.expires_at_ms => {
                        let changed = !c.replayed || !c.tokens.is_empty();
                        c.replayed = true;
                        let ids = std::mem::take(&mut c.tokens);
                        // The grants' lock inside the codes' (always in that order): the replay and the
                        // revocations it makes reach the state file in one write.
                        let mut writes = Self::revoke_in(&mut lock(&self.grants), ids, &c.grant, durable);
                        if changed && durable {
                            writes.push(Write::put(kind::CONSUMED, code, &*c));
                        }
                        (None, send_if(self.sink.as_ref(), || writes))
                    }
                    _ => (None, Ack::none()),
                }
            }
        };
        ack.done().await;
        taken
    }

    async fn bind_code_tokens(&self, code: &str, token_ids: &[String]) {
        let durable = self.sink.is_some();
        let ack = {
            let mut codes = lock(&self.codes);
            let Some(c) = codes.consumed.get_mut(code) else { return };
            if c.replayed {
                // Replayed while its first exchange was running: what that exchange issued is revoked at once.
                let writes = Self::revoke_in(&mut lock(&self.grants), token_ids.to_vec(), &c.grant, durable);
                send_if(self.sink.as_ref(), || writes)
            } else {
                c.tokens.extend_from_slice(token_ids);
                send_if(self.sink.as_ref(), || vec![Write::put(kind::CONSUMED, code, &*c)])
            }
        };
        ack.done().await;
    }

    async fn expire_auth_code(&self, code: &str) -> bool {
        let ack = match lock(&self.codes).live.get_mut(code) {
            Some(r) => {
                r.expires_at_ms = i64::MIN;
                send_if(self.sink.as_ref(), || vec![Write::put(kind::CODE, code, &*r)])
            }
            None => return false,
        };
        ack.done().await;
        true
    }

    async fn insert_code_pair(&self, pair: NewCodePair) -> CodePairRecord {
        let (rec, ack) = {
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
            let ack = send_if(self.sink.as_ref(), || vec![Write::put(kind::PAIR, device_code.as_str(), &rec)]);
            pairs.by_device.insert(device_code, rec.clone());
            (rec, ack)
        };
        ack.done().await;
        rec
    }

    async fn poll_code_pair(&self, device_code: &str, now_ms: i64, rules: &PollRules) -> PollOutcome {
        let (outcome, ack) = {
            let mut pairs = lock(&self.pairs);
            let outcome = Self::poll(&mut pairs, device_code, now_ms, rules);
            let ack = match pairs.by_device.get(device_code) {
                Some(p) => send_if(self.sink.as_ref(), || vec![Write::put(kind::PAIR, device_code, p)]),
                None => Ack::none(),
            };
            (outcome, ack)
        };
        ack.done().await;
        outcome
    }

    async fn decide_code_pair(
        &self,
        user_code: &str,
        decision: CodePairDecision,
    ) -> Result<CodePairRecord, DecisionError> {
        let (decided, ack) = self.decide(user_code, decision)?;
        ack.done().await;
        Ok(decided)
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
        let (generation, ack) = {
            let mut g = lock(&self.grants);
            let durable = self.sink.is_some();
            let (generation, writes) = g.revoke_whole(&(user_id.to_owned(), client_id.to_owned()), durable);
            (generation, send_if(self.sink.as_ref(), || writes))
        };
        ack.done().await;
        generation
    }

    async fn expire_token(&self, token_id: &str) {
        let ack = {
            let mut g = lock(&self.grants);
            g.expired_tokens.insert(token_id.to_owned());
            send_if(self.sink.as_ref(), || vec![Write::put(kind::EXPIRED, token_id, &true)])
        };
        ack.done().await;
    }

    async fn token_state(&self, token_id: &str, grant: Option<(&str, &str)>, generation: u64) -> TokenState {
        let g = lock(&self.grants);
        if g.expired_tokens.contains(token_id) {
            return TokenState::ForcedExpired;
        }
        if g.revoked_alone(token_id) {
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
        let mut writes = Vec::new();
        let durable = self.sink.is_some();
        let mut n = lock(&self.codes).purge(now, durable, &mut writes);
        let ack = {
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
                if durable {
                    writes.push(Write::delete(kind::PAIR, device));
                }
                n += 1;
            }
            if pairs.by_device.len() < pairs.by_device.capacity() / 4 {
                pairs.by_device.shrink_to_fit();
                pairs.user_to_device.shrink_to_fit();
            }
            // Sent under the pairs' lock: a code or pair forgotten here cannot be written again before this.
            send_if(self.sink.as_ref(), || writes)
        };
        ack.done().await;
        n
    }

    async fn journal_append(&self, mut entry: JournalEntry) {
        entry.bound();
        let weight = entry.weight();
        let mut j = lock(&self.journal);
        entry.seq = j.next_seq;
        j.next_seq += 1;
        j.bytes += weight;
        if let Some(sink) = &self.sink
            && entry.seq == j.unsaved
        {
            // The first entry the file lacks: the writer takes it, and those after it, with its next commit.
            let weak: Weak<Mutex<Journal>> = Arc::downgrade(&self.journal);
            sink.unsaved(weak);
        }
        j.entries.push_back((weight, Arc::new(entry)));
        // What is pushed out is freed after the lock is released (an entry is a few dozen allocations).
        let mut pushed_out = Vec::new();
        while j.entries.len() > self.bounds.journal_entries
            || (j.bytes > self.bounds.journal_bytes && j.entries.len() > 1)
        {
            let Some((old, e)) = j.entries.pop_front() else { break };
            j.bytes -= old;
            j.dropped = Some(e.seq);
            pushed_out.push(e);
        }
        drop(j);
        drop(pushed_out);
    }

    async fn journal_page(&self, after: u64, limit: usize) -> (Vec<JournalEntry>, bool) {
        let j = lock(&self.journal);
        let mut rest = j.entries.iter().map(|(_, e)| e).filter(|e| e.seq > after);
        let page: Vec<JournalEntry> = rest.by_ref().take(limit).map(|e| JournalEntry::clone(e)).collect();
        (page, rest.next().is_some())
    }

    async fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.journal).entries.iter().map(|(_, e)| JournalEntry::clone(e)).collect()
    }

    async fn load_plan(&self, plan: Option<Arc<Plan>>) {
        *lock(&self.plan) = plan.map(PlanRuntime::new);
        // The reset writes the plan (or its absence) with the rest, as one transaction.
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
        behind_if(self.sink.as_ref(), || vec![Self::counters_doc(rt)]);
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
        let hit = rt.calls == rule.after_calls;
        behind_if(self.sink.as_ref(), || vec![Self::counters_doc(rt)]);
        hit
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
        behind_if(self.sink.as_ref(), || vec![Self::counters_doc(rt)]);
        rt.plan.bad_material.iter().find(|b| point.takes(b.kind) && b.nth == n).map(|b| b.kind)
    }
}
