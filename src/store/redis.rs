//! The shared store (`serve --state redis://HOST:PORT[/DB]`): several replicas behind a load balancer act as
//! one, through a Redis or Valkey server (redis-rs, with tokio and its connection manager).
//!
//! **The working set stays in memory.** Each replica keeps every session it serves as a
//! [`MemorySession`] written through to Redis (the same `persist::Sink` as the state file, drained by a writer
//! thread here instead of SQLite). Redis holds, per session (the `{SESSION}` hash tag puts a session's keys in
//! one cluster slot):
//!
//! - `amm:{S}:docs`: a hash of the session's documents (field `kind/key`, value its JSON), the same documents a
//!   state file keeps;
//! - `amm:{S}:ver`: a counter bumped by every committed change (never reset: dropping a session bumps it too);
//! - `amm:{S}:journal` (a list of `seq weight json`, oldest first), `amm:{S}:jseq` (the last sequence number)
//!   and `amm:{S}:jbytes` (the sum of the weights): the journal, appended by every replica;
//! - `amm:{S}:lease`: who may change the session now; `amm:{S}:used`: when a request last used it (real ms).
//!
//! and, for all: `amm:sessions` (the set of session names), `amm:token_key` (the signing key the replicas
//! share when no `--token-key` is given) and `amm:boots` (counts replica starts, mixed into seeded random
//! sources so that two replicas never hand out the same code or token id).
//!
//! **A read** ([`SessionStore::sync`], once per request): `GET ver` (and `SET used`, pipelined: one round
//! trip); when the version is not the one the working set was built at, the session's documents are read again
//! (`HGETALL`, with the version, in one `MULTI`) and the working set is rebuilt from them through the state
//! file's restore path. The answer is then read from memory, and the journal entry appended after it (one
//! script: one round trip). So an authorized read costs two round trips while nothing changes.
//!
//! **A write** (every method that changes something): the session's lease is taken (`SET NX PX`, with the
//! version read in the same script; retried with a growing pause while another replica holds it), the working
//! set rebuilt if the version moved, the change made in memory, its documents written with the version bump in
//! one script (atomic), and the lease released (compare-and-delete). Writes to one session are serialised
//! across replicas, so an authorization code is exchanged once whichever replicas race, and a revocation, a
//! forced expiry or a clock change made on one replica is what every other reads on its next request.
//!
//! **Failures.** Redis unreachable at start: refused with one line naming the URL. Unreachable mid-run: a
//! request whose [`SessionStore::sync`] fails is answered 503 `{"error": …}` naming the URL; a write whose
//! commit fails is logged, and the replica reads the session again from Redis at its next request (the
//! change is lost; each commit is all or nothing). Nothing panics.
//!
//! What is per replica, not shared: rate-limit buckets. The plan's network and call counters are written
//! behind (without the lease, without a version bump), and so is the idle timer a stream request moves (under
//! the lease: it rewrites the customer's document): another replica sees them only when it next reads the
//! session for another reason.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak, mpsc};
use std::time::Duration;

use ::redis::aio::ConnectionManager;
use async_trait::async_trait;
use dashmap::DashMap;

use super::memory::{MemorySession, MemoryStore};
use super::memory_music::MusicSeed;
use super::music::*;
use super::persist::{Batch, Restored, SessionDocs, Snapshot, Write, journal_key, kind};
use super::playback::{
    NewPlayback, NewPlaybackEvent, PlaybackError, PlaybackEvent, PlaybackLimits, PlaybackOp, PlaybackSession,
    PlaybackView, StreamDenied,
};
use super::*;
use crate::clock::ClockState;
use crate::journal::JournalEntry;

/// How long a lease is held at most (a replica that dies holding one blocks the session this long).
const LEASE_MS: u64 = 5_000;
/// How long a write waits for a lease between two warnings in the log.
const LEASE_WAIT: Duration = Duration::from_secs(30);
/// Connect and answer timeouts.
const TIMEOUT: Duration = Duration::from_secs(2);
/// Batches the writer sends in one pipeline at most.
const GROUP: usize = 64;
/// How long the version key of a dropped session is kept (so that a replica still holding the session sees
/// that it changed).
const DROPPED_VERSION_MS: u64 = 7 * 24 * 3600 * 1000;

const SESSIONS: &str = "amm:sessions";
const TOKEN_KEY: &str = "amm:token_key";
const BOOTS: &str = "amm:boots";

/// A session's keys.
struct Keys {
    docs: String,
    ver: String,
    journal: String,
    jseq: String,
    jbytes: String,
    used: String,
    lease: String,
}

impl Keys {
    fn of(session: &str) -> Keys {
        let k = |what: &str| format!("amm:{{{session}}}:{what}");
        Keys {
            docs: k("docs"),
            ver: k("ver"),
            journal: k("journal"),
            jseq: k("jseq"),
            jbytes: k("jbytes"),
            used: k("used"),
            lease: k("lease"),
        }
    }
}

/// Applies a batch of writes to `docs` (KEYS[1]) and, when ARGV[1] is `1`, bumps `ver` (KEYS[2]) and answers the
/// new version. ARGV then holds triples: `P field value` (set), `D field _` (remove), `K prefix _` (remove a
/// kind), `U prefix upto` (remove a kind's keys up to `upto`).
const APPLY: &str = r"
local i = 2
while i <= #ARGV do
  local op, f, v = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if op == 'P' then
    redis.call('HSET', KEYS[1], f, v)
  elseif op == 'D' then
    redis.call('HDEL', KEYS[1], f)
  elseif op == 'K' or op == 'U' then
    local n = string.len(f)
    for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do
      if string.sub(k, 1, n) == f and (op == 'K' or string.sub(k, n + 1) <= v) then
        redis.call('HDEL', KEYS[1], k)
      end
    end
  elseif op == 'X' then
    redis.call('DEL', KEYS[1])
  end
  i = i + 3
end
if ARGV[1] == '1' then
  return redis.call('INCR', KEYS[2])
end
return -1
";

/// Takes the lease (KEYS[1]) for ARGV[1] for ARGV[2] ms; on success notes the use (KEYS[3] = ARGV[3]) and answers
/// the version (KEYS[2]); -1 when another holds it.
const ACQUIRE: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('SET', KEYS[3], ARGV[3])
  local v = redis.call('GET', KEYS[2])
  if v then return tonumber(v) end
  return 0
end
return -1
";

/// Releases the lease (KEYS[1]) when it is still ARGV[1]'s.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Appends ARGV[2] (weight ARGV[1]) to the journal (KEYS: list, seq, bytes), then drops the oldest entries beyond
/// ARGV[3] entries or ARGV[4] bytes (the newest always stays); answers its sequence number.
const APPEND: &str = r"
local seq = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[1], seq .. ' ' .. ARGV[1] .. ' ' .. ARGV[2])
local bytes = redis.call('INCRBY', KEYS[3], ARGV[1])
local n = redis.call('LLEN', KEYS[1])
local maxn, maxb = tonumber(ARGV[3]), tonumber(ARGV[4])
while n > maxn or (bytes > maxb and n > 1) do
  local old = redis.call('LPOP', KEYS[1])
  local a = string.find(old, ' ', 1, true)
  local b = string.find(old, ' ', a + 1, true)
  bytes = redis.call('DECRBY', KEYS[3], tonumber(string.sub(old, a + 1, b - 1)))
  n = n - 1
end
return seq
";

/// The journal entries (KEYS[1]) after sequence number ARGV[1], at most ARGV[2] of them. The list's sequence
/// numbers are consecutive (appends number them, trimming takes from the front), so the start is an index.
const PAGE: &str = r"
local first = redis.call('LINDEX', KEYS[1], 0)
if not first then return {} end
local s0 = tonumber(string.sub(first, 1, string.find(first, ' ', 1, true) - 1))
local start = tonumber(ARGV[1]) + 1 - s0
if start < 0 then start = 0 end
return redis.call('LRANGE', KEYS[1], start, start + tonumber(ARGV[2]) - 1)
";

/// The URL without a password, for messages.
fn shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Whether a `--state` value names a Redis server rather than a file.
pub fn is_redis_url(state: &std::path::Path) -> Option<&str> {
    state.to_str().filter(|s| s.starts_with("redis://") || s.starts_with("rediss://") || s.starts_with("valkey://"))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The connection to Redis the sessions share, and the round trips made over it.
struct Conn {
    url: String,
    client: ::redis::Client,
    manager: tokio::sync::OnceCell<ConnectionManager>,
    trips: Arc<AtomicU64>,
    acquire: ::redis::Script,
    release: ::redis::Script,
    append: ::redis::Script,
    page: ::redis::Script,
}

impl Conn {
    /// The multiplexed connection (made on first use, in the runtime that uses it), counting one round trip.
    async fn get(&self) -> Result<ConnectionManager, String> {
        self.trips.fetch_add(1, Ordering::Relaxed);
        let cfg = ::redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(2);
        self.manager
            .get_or_try_init(|| self.client.get_connection_manager_with_config(cfg))
            .await
            .cloned()
            .map_err(|e| self.unreachable(&e))
    }

    fn unreachable(&self, e: &::redis::RedisError) -> String {
        format!(
            "the state store, Redis at {}, does not answer ({e}); requests are refused until it does",
            shown(&self.url)
        )
    }
}

/// Session name → its shared part, for the writer to tell a session the version its commit made.
type Registry = DashMap<Arc<str>, Weak<Shared>>;

/// The Redis-backed store.
pub struct RedisStore {
    common: Arc<Common>,
}

/// What the store and its sessions share.
struct Common {
    conn: Arc<Conn>,
    base: Arc<MemoryStore>,
    bounds: Bounds,
    /// This replica's copies of sessions.
    sessions: DashMap<SessionId, Arc<RedisSession>>,
    registry: Arc<Registry>,
}

/// What [`RedisStore::open`] gives.
pub struct Opened {
    /// The store.
    pub store: RedisStore,
    /// The signing key the replicas share.
    pub token_key: String,
}

fn not_a_url(url: &str, e: &::redis::RedisError) -> String {
    format!("--state {}: not a Redis URL ({e}); use redis://HOST:PORT[/DB]", shown(url))
}

fn cannot_reach(url: &str, e: &::redis::RedisError) -> String {
    format!(
        "cannot reach Redis at {} ({e}): start a Redis or Valkey server there, or give --state another URL",
        shown(url)
    )
}

impl RedisStore {
    /// Connects (refusing an unreachable server with one line naming the URL and the fix), replaces what the
    /// server holds by `import` when given, and starts the writer.
    ///
    /// # Errors
    /// One line naming the URL.
    pub fn open(
        url: &str,
        seed: Option<u64>,
        bounds: Bounds,
        music_seed: MusicSeed,
        import: Option<&Snapshot>,
    ) -> Result<Opened, String> {
        let client = ::redis::Client::open(url).map_err(|e| not_a_url(url, &e))?;
        let mut sync = client.get_connection_with_timeout(TIMEOUT).map_err(|e| cannot_reach(url, &e))?;
        let _ = sync.set_read_timeout(Some(TIMEOUT));
        let _ = sync.set_write_timeout(Some(TIMEOUT));
        let failed = |e: ::redis::RedisError| format!("Redis at {}: {e}", shown(url));
        if let Some(snap) = import {
            import_snapshot(&mut sync, snap).map_err(failed)?;
        }
        let boots: u64 = ::redis::cmd("INCR").arg(BOOTS).query(&mut sync).map_err(failed)?;
        let fresh = {
            use rand::Rng;
            let bytes: [u8; 32] = rand::rng().random();
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        let _: Option<String> =
            ::redis::cmd("SET").arg(TOKEN_KEY).arg(&fresh).arg("NX").query(&mut sync).map_err(failed)?;
        let token_key: String = ::redis::cmd("GET").arg(TOKEN_KEY).query(&mut sync).map_err(failed)?;
        let trips = Arc::new(AtomicU64::new(0));
        let registry: Arc<Registry> = Arc::new(DashMap::new());
        let (tx, rx) = mpsc::channel();
        let writer = Writer {
            url: url.to_owned(),
            client: client.clone(),
            conn: Some(sync),
            registry: registry.clone(),
            trips: trips.clone(),
            apply: ::redis::Script::new(APPLY),
        };
        std::thread::Builder::new()
            .name("amm-redis-writer".into())
            .spawn(move || writer.run(&rx))
            .map_err(|e| format!("cannot start the Redis writer: {e}"))?;
        let base = MemoryStore::new(seed, bounds)
            .with_music_seed(music_seed)
            .with_state(Some(tx), &Restored { sessions: BTreeMap::new(), boots })?;
        let conn = Arc::new(Conn {
            url: url.to_owned(),
            client,
            manager: tokio::sync::OnceCell::new(),
            trips,
            acquire: ::redis::Script::new(ACQUIRE),
            release: ::redis::Script::new(RELEASE),
            append: ::redis::Script::new(APPEND),
            page: ::redis::Script::new(PAGE),
        });
        let common = Common { conn, base: Arc::new(base), bounds, sessions: DashMap::new(), registry };
        Ok(Opened { store: RedisStore { common: Arc::new(common) }, token_key })
    }

    /// A snapshot of everything the server holds (`state export --state redis://…`).
    ///
    /// # Errors
    /// One line naming the URL.
    pub fn export(url: &str) -> Result<Snapshot, String> {
        let client = ::redis::Client::open(url).map_err(|e| not_a_url(url, &e))?;
        let mut c = client.get_connection_with_timeout(TIMEOUT).map_err(|e| cannot_reach(url, &e))?;
        let failed = |e: ::redis::RedisError| format!("Redis at {}: {e}", shown(url));
        let token_key: Option<String> = ::redis::cmd("GET").arg(TOKEN_KEY).query(&mut c).map_err(failed)?;
        let mut names: Vec<String> = ::redis::cmd("SMEMBERS").arg(SESSIONS).query(&mut c).map_err(failed)?;
        names.sort();
        let mut sessions = BTreeMap::new();
        for name in names {
            let keys = Keys::of(&name);
            let fields: BTreeMap<String, Vec<u8>> =
                ::redis::cmd("HGETALL").arg(&keys.docs).query(&mut c).map_err(failed)?;
            let mut docs = docs_of(fields);
            let journal: Vec<Vec<u8>> =
                ::redis::cmd("LRANGE").arg(&keys.journal).arg(0).arg(-1).query(&mut c).map_err(failed)?;
            for raw in journal {
                let entry = parse_entry(&raw)?;
                let value = serde_json::to_vec(&entry).map_err(|e| e.to_string())?;
                docs.0.entry(kind::JOURNAL.to_owned()).or_default().insert(journal_key(entry.seq), value);
            }
            sessions.insert(name, docs);
        }
        Snapshot::of(&Restored { sessions, boots: 0 }, token_key, super::sqlite::FORMAT)
    }
}

impl Common {
    fn create(self: &Arc<Self>, id: &SessionId) -> Arc<RedisSession> {
        // One shared part per session while anything holds it: a write still under way in a copy this replica
        // dropped (evicted) tells its commit's version to the copy that replaced it, never to a stranger.
        if let Some(shared) = self.registry.get(id.as_str()).and_then(|w| w.upgrade()) {
            return Arc::new(RedisSession { music: RedisMusic { shared: shared.clone() }, shared });
        }
        let inner = self.base.blank(id);
        let shared = Arc::new(Shared {
            id: id.clone(),
            keys: Keys::of(id.as_str()),
            conn: self.conn.clone(),
            base: self.base.clone(),
            bounds: self.bounds,
            common: Arc::downgrade(self),
            local: Mutex::new(Local { version: 0, stale: false, inner: Arc::new(inner) }),
            writes: tokio::sync::Mutex::new(()),
            registered: AtomicBool::new(false),
            write_seq: AtomicU64::new(0),
        });
        self.registry.insert(Arc::from(id.as_str()), Arc::downgrade(&shared));
        Arc::new(RedisSession { music: RedisMusic { shared: shared.clone() }, shared })
    }

    /// Forgets a session in Redis; whether it was there.
    async fn forget(&self, id: &SessionId) -> Result<bool, String> {
        let keys = Keys::of(id.as_str());
        let mut c = self.conn.get().await?;
        let (removed,): (i64,) = ::redis::pipe()
            .srem(SESSIONS, id.as_str())
            .del(&[&keys.docs, &keys.journal, &keys.jseq, &keys.jbytes, &keys.used, &keys.lease])
            .ignore()
            .incr(&keys.ver, 1)
            .ignore()
            .pexpire(&keys.ver, DROPPED_VERSION_MS as i64)
            .ignore()
            .query_async(&mut c)
            .await
            .map_err(|e| self.conn.unreachable(&e))?;
        self.sessions.remove(id);
        Ok(removed > 0)
    }

    /// Evicts the least recently used sessions (other than the default one and `keep`) while there are more
    /// than [`Bounds::max_sessions`] besides the default one.
    async fn evict_beyond_max(&self, keep: &SessionId) -> Result<(), String> {
        let max = self.bounds.max_sessions;
        if max == 0 {
            return Ok(());
        }
        let others: Vec<String> = self.names().await?.into_iter().filter(|n| n != SessionId::DEFAULT).collect();
        if others.len() <= max {
            return Ok(());
        }
        let used = self.used(&others).await?;
        let mut by_age: Vec<(i64, &String)> =
            used.into_iter().zip(&others).filter(|(_, n)| n.as_str() != keep.as_str()).collect();
        by_age.sort();
        for (_, name) in by_age.into_iter().take(others.len() - max) {
            if let Some(id) = SessionId::parse(name) {
                self.forget(&id).await?;
            }
        }
        Ok(())
    }

    /// When each session was last used (real ms; 0 unknown).
    async fn used(&self, names: &[String]) -> Result<Vec<i64>, String> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.conn.get().await?;
        let mut pipe = ::redis::pipe();
        for n in names {
            pipe.get(Keys::of(n).used);
        }
        let used: Vec<Option<i64>> = pipe.query_async(&mut c).await.map_err(|e| self.conn.unreachable(&e))?;
        Ok(used.into_iter().map(|u| u.unwrap_or(0)).collect())
    }

    async fn names(&self) -> Result<Vec<String>, String> {
        let mut c = self.conn.get().await?;
        ::redis::cmd("SMEMBERS").arg(SESSIONS).query_async(&mut c).await.map_err(|e| self.conn.unreachable(&e))
    }
}

#[async_trait]
impl Store for RedisStore {
    fn session(&self, id: &SessionId) -> Arc<dyn SessionStore> {
        let common = &self.common;
        if let Some(s) = common.sessions.get(id) {
            return s.clone();
        }
        let s = common.sessions.entry(id.clone()).or_insert_with(|| common.create(id)).clone();
        // This replica's copies are bounded like the sessions themselves (Redis keeps the rest).
        let max = common.bounds.max_sessions;
        if max > 0 && common.sessions.len() > max + 1 {
            let victim =
                common.sessions.iter().map(|e| e.key().clone()).find(|k| k != id && k.as_str() != SessionId::DEFAULT);
            if let Some(v) = victim {
                common.sessions.remove(&v);
            }
        }
        s
    }

    async fn session_ids(&self) -> Vec<SessionId> {
        match self.common.names().await {
            Ok(names) => {
                let mut ids: Vec<SessionId> = names.iter().filter_map(|n| SessionId::parse(n)).collect();
                ids.sort();
                ids
            }
            Err(e) => {
                tracing::error!("{e}");
                Vec::new()
            }
        }
    }

    async fn session_exists(&self, id: &SessionId) -> bool {
        if id.as_str() == SessionId::DEFAULT {
            return true;
        }
        let conn = &self.common.conn;
        let sismember = async {
            let mut c = conn.get().await?;
            ::redis::cmd("SISMEMBER")
                .arg(SESSIONS)
                .arg(id.as_str())
                .query_async::<bool>(&mut c)
                .await
                .map_err(|e| conn.unreachable(&e))
        };
        sismember.await.unwrap_or_else(|e| {
            tracing::error!("{e}");
            false
        })
    }

    async fn drop_session(&self, id: &SessionId) -> bool {
        if id.as_str() == SessionId::DEFAULT {
            return false;
        }
        self.common.forget(id).await.unwrap_or_else(|e| {
            tracing::error!("{e}");
            false
        })
    }

    async fn sweep(&self) -> Swept {
        let common = &self.common;
        let mut swept = Swept::default();
        if common.bounds.session_idle_ms > 0 {
            let before = crate::clock::real_now_ms() - common.bounds.session_idle_ms;
            let idle = async {
                let names: Vec<String> =
                    common.names().await?.into_iter().filter(|n| n != SessionId::DEFAULT).collect();
                let used = common.used(&names).await?;
                let mut n = 0;
                for (name, at) in names.iter().zip(used) {
                    if at < before {
                        if let Some(id) = SessionId::parse(name) {
                            n += usize::from(common.forget(&id).await?);
                        }
                    }
                }
                Ok::<usize, String>(n)
            };
            swept.sessions = idle.await.unwrap_or_else(|e| {
                tracing::error!("{e}");
                0
            });
        }
        common.registry.retain(|_, shared| shared.strong_count() > 0);
        // Only the sessions that still exist: a purge under the lease would bring back one that another replica
        // dropped or evicted (this replica's copy of it is let go instead).
        let names: std::collections::HashSet<String> = match common.names().await {
            Ok(names) => names.into_iter().collect(),
            Err(e) => {
                tracing::error!("{e}");
                return swept;
            }
        };
        common.sessions.retain(|id, _| names.contains(id.as_str()));
        let sessions: Vec<Arc<RedisSession>> = common.sessions.iter().map(|e| e.value().clone()).collect();
        for s in sessions {
            swept.codes += s.purge_expired().await;
        }
        swept
    }

    fn round_trips(&self) -> Option<u64> {
        Some(self.common.conn.trips.load(Ordering::Relaxed))
    }
}

/// A session's working set and the version of Redis's copy it was built from.
struct Local {
    version: u64,
    /// A commit failed: the working set may hold a change Redis does not; read the session again.
    stale: bool,
    inner: Arc<MemorySession>,
}

/// What a session's handle and its music part share.
struct Shared {
    id: SessionId,
    keys: Keys,
    conn: Arc<Conn>,
    base: Arc<MemoryStore>,
    bounds: Bounds,
    common: Weak<Common>,
    local: Mutex<Local>,
    /// This replica's writes to the session, one at a time (they would only queue on the lease otherwise).
    writes: tokio::sync::Mutex<()>,
    /// Whether this replica has added the session to `amm:sessions`.
    registered: AtomicBool,
    /// Bumped when one of this replica's writes to the session starts and when it ends: a read of Redis that
    /// saw it change may have raced a write.
    write_seq: AtomicU64,
}

/// A held lease.
struct Lease {
    token: String,
}

impl Shared {
    fn inner(&self) -> Arc<MemorySession> {
        lock(&self.local).inner.clone()
    }

    /// Told by the writer: a commit made `version` (under this replica's lease, so the working set is it).
    fn committed(&self, version: u64) {
        let mut l = lock(&self.local);
        l.version = l.version.max(version);
    }

    /// Told by the writer: a commit failed.
    fn failed(&self) {
        lock(&self.local).stale = true;
    }

    /// Whether the working set is not the version Redis has.
    fn behind(&self, version: u64) -> bool {
        let l = lock(&self.local);
        l.stale || version != l.version
    }

    /// Adds the session to `amm:sessions` the first time this replica uses it (evicting the least recently used
    /// beyond the cap when it is new to every replica).
    async fn register(&self) -> Result<(), String> {
        if self.registered.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut c = self.conn.get().await?;
        let now = crate::clock::real_now_ms();
        let (added,): (i64,) = ::redis::pipe()
            .sadd(SESSIONS, self.id.as_str())
            .set(&self.keys.used, now)
            .ignore()
            .query_async(&mut c)
            .await
            .map_err(|e| self.conn.unreachable(&e))?;
        self.registered.store(true, Ordering::Release);
        if added > 0 {
            if let Some(common) = self.common.upgrade() {
                common.evict_beyond_max(&self.id).await?;
            }
        }
        Ok(())
    }

    /// Reads the session's documents and rebuilds the working set from them, unless it is already as new.
    async fn reload(&self, leased: bool) -> Result<(), String> {
        let writes_before = self.write_seq.load(Ordering::Acquire);
        let mut c = self.conn.get().await?;
        // The session is named again, in case another replica dropped it meanwhile: a request that names a
        // dropped session starts it afresh, as on one server.
        let (version, fields): (Option<u64>, BTreeMap<String, Vec<u8>>) = ::redis::pipe()
            .atomic()
            .get(&self.keys.ver)
            .hgetall(&self.keys.docs)
            .sadd(SESSIONS, self.id.as_str())
            .ignore()
            .query_async(&mut c)
            .await
            .map_err(|e| self.conn.unreachable(&e))?;
        let version = version.unwrap_or(0);
        let rng = self.inner().next_rng();
        let rebuilt = self
            .base
            .detached(&self.id, &docs_of(fields), rng)
            .map_err(|e| format!("the state store, Redis at {}: session {}: {e}", shown(&self.conn.url), self.id))?;
        // Under the lease Redis's copy is the truth. Without it, a write of this replica may have moved the
        // working set past what this read saw: an older copy replaces it only when no write of this replica
        // ran meanwhile (then Redis lost data: flushed, or restarted without persistence).
        let quiet = self.write_seq.load(Ordering::Acquire) == writes_before && self.writes.try_lock().is_ok();
        let mut l = lock(&self.local);
        if leased || l.stale || version > l.version || (version < l.version && quiet) {
            l.inner = Arc::new(rebuilt);
            l.version = version;
            l.stale = false;
        }
        Ok(())
    }

    /// Brings the working set up to the version Redis has (one round trip when it is).
    async fn sync(&self) -> Result<(), String> {
        self.register().await?;
        let mut c = self.conn.get().await?;
        let (version,): (Option<u64>,) = ::redis::pipe()
            .get(&self.keys.ver)
            .set(&self.keys.used, crate::clock::real_now_ms())
            .ignore()
            .query_async(&mut c)
            .await
            .map_err(|e| self.conn.unreachable(&e))?;
        if self.behind(version.unwrap_or(0)) {
            self.reload(false).await?;
        }
        Ok(())
    }

    /// Takes the session's lease, waiting while another replica holds it; the version Redis has. `None` when
    /// Redis cannot be reached (the write goes ahead in memory; its commit will fail and be logged).
    async fn acquire(&self) -> Option<(Lease, u64)> {
        // Not from the session's random source: a lease must not move the sequence of codes and ids.
        let token = format!("{:032x}", rand::random::<u128>());
        let mut waited = Duration::ZERO;
        let mut pause = Duration::from_micros(500);
        loop {
            let mut c = match self.conn.get().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(session = %self.id, "{e}");
                    return None;
                }
            };
            let got: Result<i64, _> = self
                .conn
                .acquire
                .key(&self.keys.lease)
                .key(&self.keys.ver)
                .key(&self.keys.used)
                .arg(&token)
                .arg(LEASE_MS)
                .arg(crate::clock::real_now_ms())
                .invoke_async(&mut c)
                .await;
            match got {
                Ok(v) if v >= 0 => return Some((Lease { token }, v as u64)),
                Ok(_) => {
                    // Others are writing (a lease that outlives its holder expires): wait, however long, rather
                    // than write without it.
                    tokio::time::sleep(pause).await;
                    waited += pause;
                    pause = (pause * 2).min(Duration::from_millis(20));
                    if waited >= LEASE_WAIT {
                        tracing::warn!(session = %self.id, "still waiting for the session's lease after {waited:?}");
                        waited = Duration::ZERO;
                    }
                }
                Err(e) => {
                    tracing::error!(session = %self.id, "{}", self.conn.unreachable(&e));
                    return None;
                }
            }
        }
    }

    async fn release(&self, lease: Lease) {
        let Ok(mut c) = self.conn.get().await else { return };
        let released: Result<i64, _> =
            self.conn.release.key(&self.keys.lease).arg(&lease.token).invoke_async(&mut c).await;
        if let Err(e) = released {
            tracing::error!(session = %self.id, "{}", self.conn.unreachable(&e));
        }
    }

    /// Runs a change under the session's lease, on a working set as new as Redis's copy; its documents are
    /// committed (with the version bump) before it returns.
    async fn leased<R, F, Fut>(&self, f: F) -> R
    where
        F: FnOnce(Arc<MemorySession>) -> Fut,
        Fut: Future<Output = R>,
    {
        let _one = self.writes.lock().await;
        self.write_seq.fetch_add(1, Ordering::AcqRel);
        let lease = self.acquire().await;
        if let Some((_, version)) = &lease {
            if self.behind(*version) {
                if let Err(e) = self.reload(true).await {
                    tracing::error!(session = %self.id, "{e}");
                }
            }
        }
        let r = f(self.inner()).await;
        self.write_seq.fetch_add(1, Ordering::AcqRel);
        if let Some((lease, _)) = lease {
            self.release(lease).await;
        }
        r
    }

    /// Empties the session's journal (a reset).
    async fn clear_journal(&self) {
        let Ok(mut c) = self.conn.get().await else { return };
        let k = &self.keys;
        let cleared: Result<(), _> =
            ::redis::cmd("DEL").arg(&k.journal).arg(&k.jseq).arg(&k.jbytes).query_async(&mut c).await;
        if let Err(e) = cleared {
            tracing::error!(session = %self.id, "{}", self.conn.unreachable(&e));
        }
    }

    async fn journal_range(&self, after: u64, limit: Option<usize>) -> Result<Vec<JournalEntry>, String> {
        let mut c = self.conn.get().await?;
        let raw: Vec<Vec<u8>> = match limit {
            Some(limit) => self.conn.page.key(&self.keys.journal).arg(after).arg(limit).invoke_async(&mut c).await,
            None => ::redis::cmd("LRANGE").arg(&self.keys.journal).arg(0).arg(-1).query_async(&mut c).await,
        }
        .map_err(|e| self.conn.unreachable(&e))?;
        raw.iter().map(|r| parse_entry(r)).filter(|e| e.as_ref().is_ok_and(|e| e.seq > after) || e.is_err()).collect()
    }
}

/// A field of the documents hash: `kind/key`.
fn field(kind: &str, key: &str) -> String {
    format!("{kind}/{key}")
}

/// The documents of a session as the hash holds them.
fn docs_of(fields: BTreeMap<String, Vec<u8>>) -> SessionDocs {
    let mut docs = SessionDocs::default();
    for (f, v) in fields {
        if let Some((kind, key)) = f.split_once('/') {
            docs.0.entry(kind.to_owned()).or_default().insert(key.to_owned(), v);
        }
    }
    docs
}

/// A journal element, `seq weight json`, as its entry.
fn parse_entry(raw: &[u8]) -> Result<JournalEntry, String> {
    let bad = || format!("a journal element does not parse: {:?}", String::from_utf8_lossy(&raw[..raw.len().min(40)]));
    let mut parts = raw.splitn(3, |b| *b == b' ');
    let seq: u64 =
        parts.next().and_then(|s| std::str::from_utf8(s).ok()).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let _weight = parts.next().ok_or_else(bad)?;
    let json = parts.next().ok_or_else(bad)?;
    let mut entry: JournalEntry = super::persist::decode(kind::JOURNAL, &seq.to_string(), json)?;
    entry.seq = seq;
    Ok(entry)
}

/// Replaces what the server holds by a snapshot (`serve --state redis://… --import FILE`).
fn import_snapshot(c: &mut ::redis::Connection, snap: &Snapshot) -> ::redis::RedisResult<()> {
    let old: Vec<String> = ::redis::cmd("SMEMBERS").arg(SESSIONS).query(c)?;
    for name in old {
        let k = Keys::of(&name);
        ::redis::pipe()
            .del(&[&k.docs, &k.journal, &k.jseq, &k.jbytes, &k.used, &k.lease])
            .incr(&k.ver, 1)
            .srem(SESSIONS, &name)
            .query::<()>(c)?;
    }
    if let Some(key) = &snap.token_key {
        ::redis::cmd("SET").arg(TOKEN_KEY).arg(key).query::<()>(c)?;
    }
    let restored = snap.restored();
    for (name, docs) in &restored.sessions {
        let k = Keys::of(name);
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        let (mut last, mut bytes) = (0u64, 0u64);
        for (kind_name, keys) in &docs.0 {
            for (key, value) in keys {
                if kind_name == kind::JOURNAL {
                    let Ok(entry) = super::persist::decode::<JournalEntry>(kind::JOURNAL, key, value) else { continue };
                    let weight = entry.weight() as u64;
                    let mut line = format!("{} {weight} ", entry.seq).into_bytes();
                    line.extend_from_slice(value);
                    pipe.rpush(&k.journal, line).ignore();
                    last = last.max(entry.seq);
                    bytes += weight;
                } else {
                    pipe.hset(&k.docs, field(kind_name, key), value).ignore();
                }
            }
        }
        pipe.set(&k.jseq, last).ignore().set(&k.jbytes, bytes).ignore().incr(&k.ver, 1).ignore();
        pipe.sadd(SESSIONS, name).ignore().set(&k.used, crate::clock::real_now_ms()).ignore();
        pipe.query::<()>(c)?;
    }
    Ok(())
}

/// The thread that commits what the working sets write through, in order, a pipeline of batches at a time.
struct Writer {
    url: String,
    client: ::redis::Client,
    conn: Option<::redis::Connection>,
    registry: Arc<Registry>,
    trips: Arc<AtomicU64>,
    apply: ::redis::Script,
}

impl Writer {
    fn run(mut self, rx: &mpsc::Receiver<Batch>) {
        while let Ok(first) = rx.recv() {
            // The journal goes to Redis from the session itself (`journal_append`): a working set's nudge that
            // its journal has unsaved entries says nothing here.
            if first.journal.is_some() {
                continue;
            }
            let mut batches = vec![first];
            while batches.len() < GROUP {
                match rx.try_recv() {
                    Ok(b) if b.journal.is_some() => {}
                    Ok(b) => batches.push(b),
                    Err(_) => break,
                }
            }
            let outcome = self.commit(&batches);
            match &outcome {
                Ok(versions) => {
                    for (b, v) in batches.iter().zip(versions) {
                        if let (true, Some(shared)) = (*v >= 0, self.shared(&b.session)) {
                            shared.committed(*v as u64);
                        }
                    }
                }
                Err(e) => {
                    tracing::error!("the state store, Redis at {}: a write failed: {e}", shown(&self.url));
                    for b in &batches {
                        if let Some(shared) = self.shared(&b.session) {
                            shared.failed();
                        }
                    }
                }
            }
            let outcome = outcome.map(|_| ());
            for b in batches {
                if let Some(done) = b.done {
                    let _ = done.send(outcome.clone());
                }
            }
        }
    }

    fn shared(&self, session: &str) -> Option<Arc<Shared>> {
        self.registry.get(session).and_then(|w| w.upgrade())
    }

    /// Commits the batches in one pipeline; the version each made (-1 for one written behind, which bumps none).
    fn commit(&mut self, batches: &[Batch]) -> Result<Vec<i64>, String> {
        let mut pipe = ::redis::pipe();
        for b in batches {
            let keys = Keys::of(&b.session);
            let cmd = pipe.cmd("EVALSHA").arg(self.apply.get_hash()).arg(2).arg(&keys.docs).arg(&keys.ver);
            cmd.arg(if b.done.is_some() { "1" } else { "0" });
            for w in &b.writes {
                match w {
                    Write::Put { kind, key, value } => cmd.arg("P").arg(field(kind, key)).arg(value.as_slice()),
                    Write::Delete { kind, key } => cmd.arg("D").arg(field(kind, key)).arg(""),
                    Write::DeleteKind { kind, upto: None } => cmd.arg("K").arg(field(kind, "")).arg(""),
                    Write::DeleteKind { kind, upto: Some(upto) } => cmd.arg("U").arg(field(kind, "")).arg(upto),
                    Write::DropSession => cmd.arg("X").arg("").arg(""),
                };
            }
        }
        let mut last = String::new();
        for _ in 0..3 {
            let conn = match self.conn.as_mut() {
                Some(c) => c,
                None => match self.client.get_connection_with_timeout(TIMEOUT) {
                    Ok(c) => {
                        let _ = c.set_read_timeout(Some(TIMEOUT));
                        self.conn.insert(c)
                    }
                    Err(e) => return Err(e.to_string()),
                },
            };
            self.trips.fetch_add(1, Ordering::Relaxed);
            match pipe.query::<Vec<i64>>(conn) {
                Ok(v) => return Ok(v),
                Err(e) if e.kind() == ::redis::ErrorKind::Server(::redis::ServerErrorKind::NoScript) => {
                    let loaded: ::redis::RedisResult<String> =
                        ::redis::cmd("SCRIPT").arg("LOAD").arg(APPLY).query(conn);
                    if let Err(e) = loaded {
                        last = e.to_string();
                        self.conn = None;
                    }
                }
                Err(e) => {
                    last = e.to_string();
                    self.conn = None;
                }
            }
        }
        Err(last)
    }
}

/// One session of the shared store.
pub struct RedisSession {
    shared: Arc<Shared>,
    music: RedisMusic,
}

/// A read from the working set.
macro_rules! read {
    ($shared:expr, $s:ident => $call:expr) => {{
        let $s = $shared.inner();
        $call.await
    }};
}

/// A change under the lease.
macro_rules! leased {
    ($shared:expr, $s:ident => $call:expr) => {
        $shared.leased(move |$s| async move { $call.await }).await
    };
}

#[async_trait]
impl SessionStore for RedisSession {
    fn now_ms(&self) -> i64 {
        self.shared.inner().now_ms()
    }

    fn clock_state(&self) -> ClockState {
        self.shared.inner().clock_state()
    }

    fn random_u128(&self) -> u128 {
        self.shared.inner().random_u128()
    }

    fn music(&self) -> &dyn MusicStore {
        &self.music
    }

    fn shared(&self) -> bool {
        true
    }

    async fn sync(&self) -> Result<(), String> {
        self.shared.sync().await
    }

    async fn change_clock(&self, change: ClockChange) -> ClockState {
        leased!(self.shared, s => s.change_clock(change))
    }

    async fn settings(&self) -> Settings {
        read!(self.shared, s => s.settings())
    }

    async fn update_settings(&self, patch: SettingsPatch) -> Settings {
        leased!(self.shared, s => s.update_settings(patch))
    }

    async fn reset(&self) {
        let shared = &self.shared;
        shared
            .leased(move |s| async move {
                s.reset().await;
                shared.clear_journal().await;
            })
            .await;
    }

    fn epoch(&self) -> u64 {
        self.shared.inner().epoch()
    }

    async fn insert_auth_code(&self, record: AuthCodeRecord) -> String {
        leased!(self.shared, s => s.insert_auth_code(record))
    }

    async fn take_auth_code(&self, code: &str) -> Option<AuthCodeRecord> {
        leased!(self.shared, s => s.take_auth_code(code))
    }

    async fn bind_code_tokens(&self, code: &str, token_ids: &[String]) {
        leased!(self.shared, s => s.bind_code_tokens(code, token_ids))
    }

    async fn expire_auth_code(&self, code: &str) -> bool {
        leased!(self.shared, s => s.expire_auth_code(code))
    }

    async fn insert_code_pair(&self, pair: NewCodePair) -> CodePairRecord {
        leased!(self.shared, s => s.insert_code_pair(pair))
    }

    async fn poll_code_pair(&self, device_code: &str, now_ms: i64, rules: &PollRules) -> PollOutcome {
        leased!(self.shared, s => s.poll_code_pair(device_code, now_ms, rules))
    }

    async fn decide_code_pair(
        &self,
        user_code: &str,
        decision: CodePairDecision,
    ) -> Result<CodePairRecord, DecisionError> {
        leased!(self.shared, s => s.decide_code_pair(user_code, decision))
    }

    async fn code_pair(&self, user_code: &str) -> Option<CodePairRecord> {
        read!(self.shared, s => s.code_pair(user_code))
    }

    async fn code_pair_by_device_code(&self, device_code: &str) -> Option<CodePairRecord> {
        read!(self.shared, s => s.code_pair_by_device_code(device_code))
    }

    async fn grant_generation(&self, user_id: &str, client_id: &str) -> u64 {
        read!(self.shared, s => s.grant_generation(user_id, client_id))
    }

    async fn revoke_grant(&self, user_id: &str, client_id: &str) -> u64 {
        leased!(self.shared, s => s.revoke_grant(user_id, client_id))
    }

    async fn expire_token(&self, token_id: &str) {
        leased!(self.shared, s => s.expire_token(token_id))
    }

    async fn token_state(&self, token_id: &str, grant: Option<(&str, &str)>, generation: u64) -> TokenState {
        read!(self.shared, s => s.token_state(token_id, grant, generation))
    }

    async fn purge_expired(&self) -> usize {
        leased!(self.shared, s => s.purge_expired())
    }

    async fn journal_append(&self, mut entry: JournalEntry) {
        entry.bound();
        let weight = entry.weight();
        let shared = &self.shared;
        let appended = async {
            let json = serde_json::to_vec(&entry).map_err(|e| e.to_string())?;
            let mut c = shared.conn.get().await?;
            let k = &shared.keys;
            shared
                .conn
                .append
                .key(&k.journal)
                .key(&k.jseq)
                .key(&k.jbytes)
                .arg(weight)
                .arg(json)
                .arg(shared.bounds.journal_entries.max(1))
                .arg(shared.bounds.journal_bytes)
                .invoke_async::<u64>(&mut c)
                .await
                .map_err(|e| shared.conn.unreachable(&e))
        };
        if let Err(e) = appended.await {
            tracing::error!(session = %shared.id, "a journal entry was not kept: {e}");
        }
    }

    async fn journal_page(&self, after: u64, limit: usize) -> (Vec<JournalEntry>, bool) {
        // "Every entry" comes as usize::MAX: read the whole list then.
        let fetch = (limit < 1 << 32).then(|| limit + 1);
        match self.shared.journal_range(after, fetch).await {
            Ok(mut page) => {
                let more = page.len() > limit;
                page.truncate(limit);
                (page, more)
            }
            Err(e) => {
                tracing::error!(session = %self.shared.id, "{e}");
                (Vec::new(), false)
            }
        }
    }

    async fn journal(&self) -> Vec<JournalEntry> {
        self.shared.journal_range(0, None).await.unwrap_or_else(|e| {
            tracing::error!(session = %self.shared.id, "{e}");
            Vec::new()
        })
    }

    async fn load_plan(&self, plan: Option<Arc<Plan>>) {
        let shared = &self.shared;
        shared
            .leased(move |s| async move {
                s.load_plan(plan).await;
                shared.clear_journal().await;
            })
            .await;
    }

    async fn plan(&self) -> Option<Arc<Plan>> {
        read!(self.shared, s => s.plan())
    }

    fn plan_network(&self, method: &str, path: &str) -> Option<NetworkAction> {
        self.shared.inner().plan_network(method, path)
    }

    fn plan_count_call(&self, method: &str, path: &str) -> bool {
        self.shared.inner().plan_count_call(method, path)
    }

    async fn plan_material(&self, point: MaterialPoint) -> Option<BadMaterial> {
        // Without a plan there is nothing to count.
        self.shared.inner().plan().await?;
        leased!(self.shared, s => s.plan_material(point))
    }
}

/// A session's Music API state: reads from the working set, changes under the lease.
struct RedisMusic {
    shared: Arc<Shared>,
}

#[async_trait]
impl MusicStore for RedisMusic {
    async fn collection_page(&self, user: &str, c: Collection, offset: usize, limit: usize) -> Page<Item> {
        read!(self.shared, s => s.music().collection_page(user, c, offset, limit))
    }

    async fn collection_add(&self, user: &str, c: Collection, ids: &[String], now_ms: i64) -> usize {
        leased!(self.shared, s => s.music().collection_add(user, c, ids, now_ms))
    }

    async fn collection_remove(&self, user: &str, c: Collection, ids: &[String]) -> usize {
        leased!(self.shared, s => s.music().collection_remove(user, c, ids))
    }

    async fn user_playlists(&self, user: &str, offset: usize, limit: usize) -> Page<PlaylistMeta> {
        read!(self.shared, s => s.music().user_playlists(user, offset, limit))
    }

    async fn playlist(&self, id: &str) -> Option<PlaylistMeta> {
        read!(self.shared, s => s.music().playlist(id))
    }

    async fn playlist_entries(&self, id: &str, offset: usize, limit: usize) -> Option<Page<Entry>> {
        read!(self.shared, s => s.music().playlist_entries(id, offset, limit))
    }

    async fn create_playlist(
        &self,
        user: &str,
        title: String,
        description: String,
        visibility: Visibility,
        now_ms: i64,
    ) -> PlaylistMeta {
        leased!(self.shared, s => s.music().create_playlist(user, title, description, visibility, now_ms))
    }

    async fn update_playlist(
        &self,
        user: &str,
        id: &str,
        patch: PlaylistPatch,
        now_ms: i64,
    ) -> Result<PlaylistMeta, PlaylistError> {
        leased!(self.shared, s => s.music().update_playlist(user, id, patch, now_ms))
    }

    async fn add_to_playlist(
        &self,
        user: &str,
        id: &str,
        track_ids: &[String],
        allow_duplicates: bool,
        now_ms: i64,
    ) -> Result<AddOutcome, PlaylistError> {
        leased!(self.shared, s => s.music().add_to_playlist(user, id, track_ids, allow_duplicates, now_ms))
    }

    async fn remove_from_playlist(
        &self,
        user: &str,
        id: &str,
        entry_ids: &[String],
        now_ms: i64,
    ) -> Result<PlaylistMeta, PlaylistError> {
        leased!(self.shared, s => s.music().remove_from_playlist(user, id, entry_ids, now_ms))
    }

    async fn reorder_playlist(
        &self,
        user: &str,
        id: &str,
        entry_ids: &[String],
        anchor: Anchor,
        now_ms: i64,
    ) -> Result<PlaylistMeta, PlaylistError> {
        leased!(self.shared, s => s.music().reorder_playlist(user, id, entry_ids, anchor, now_ms))
    }

    async fn delete_playlist(&self, user: &str, id: &str) -> Result<(), PlaylistError> {
        leased!(self.shared, s => s.music().delete_playlist(user, id))
    }

    async fn record_play(&self, user: &str, track_id: &str, at_ms: i64) {
        leased!(self.shared, s => s.music().record_play(user, track_id, at_ms))
    }

    async fn history(&self, user: &str, offset: usize, limit: usize) -> Page<Play> {
        read!(self.shared, s => s.music().history(user, offset, limit))
    }

    async fn music_profile(&self, user: &str) -> MusicProfile {
        read!(self.shared, s => s.music().music_profile(user))
    }

    async fn update_music_profile(
        &self,
        user: &str,
        name: String,
        visibility: Visibility,
        playback_visibility: Visibility,
    ) -> MusicProfile {
        leased!(self.shared, s => s.music().update_music_profile(user, name, visibility, playback_visibility))
    }

    async fn dump(&self, user: &str) -> serde_json::Value {
        read!(self.shared, s => s.music().dump(user))
    }

    async fn add_fault(&self, fault: Fault) {
        leased!(self.shared, s => s.music().add_fault(fault))
    }

    async fn faults(&self) -> Vec<Fault> {
        read!(self.shared, s => s.music().faults())
    }

    async fn clear_faults(&self) {
        leased!(self.shared, s => s.music().clear_faults())
    }

    async fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        // Every Music API request asks: without faults it costs nothing.
        if self.shared.inner().music().faults().await.is_empty() {
            return None;
        }
        leased!(self.shared, s => s.music().take_fault(method, path))
    }

    async fn rate_limit(&self, key: &str, tps: f64, now_ms: i64) -> Result<(), i64> {
        // Buckets are this replica's own (not written through).
        read!(self.shared, s => s.music().rate_limit(key, tps, now_ms))
    }

    async fn take_track_fault(&self, track_id: &str) -> Option<Fault> {
        if self.shared.inner().music().faults().await.is_empty() {
            return None;
        }
        leased!(self.shared, s => s.music().take_track_fault(track_id))
    }

    async fn record_device_event(&self, event: DeviceEvent) -> DeviceEvent {
        leased!(self.shared, s => s.music().record_device_event(event))
    }

    async fn device_events(&self) -> Vec<DeviceEvent> {
        read!(self.shared, s => s.music().device_events())
    }

    async fn rate_track(&self, user: &str, track_id: &str, rating: Thumb) {
        leased!(self.shared, s => s.music().rate_track(user, track_id, rating))
    }

    async fn track_rating(&self, user: &str, track_id: &str) -> Thumb {
        read!(self.shared, s => s.music().track_rating(user, track_id))
    }

    async fn playback_create(
        &self,
        new: NewPlayback,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<PlaybackView, PlaybackError> {
        leased!(self.shared, s => s.music().playback_create(new, limits, now_ms))
    }

    async fn playback_apply(
        &self,
        user: &str,
        session_id: &str,
        op: PlaybackOp,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<PlaybackView, PlaybackError> {
        leased!(self.shared, s => s.music().playback_apply(user, session_id, op, limits, now_ms))
    }

    async fn playback_active(&self, user: &str, now_ms: i64) -> Vec<PlaybackView> {
        read!(self.shared, s => s.music().playback_active(user, now_ms))
    }

    async fn playback_report(
        &self,
        user: &str,
        events: Vec<NewPlaybackEvent>,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<Vec<PlaybackEvent>, PlaybackError> {
        leased!(self.shared, s => s.music().playback_report(user, events, limits, now_ms))
    }

    async fn playback_sessions(&self, user: Option<&str>) -> Vec<PlaybackSession> {
        read!(self.shared, s => s.music().playback_sessions(user))
    }

    async fn playback_events(&self, user: Option<&str>) -> Vec<PlaybackEvent> {
        read!(self.shared, s => s.music().playback_events(user))
    }

    async fn stream_permit(&self, playback_session_id: &str, now_ms: i64) -> Result<(), StreamDenied> {
        // It moves the playback session's idle timer by writing the customer's whole document: under the lease,
        // so that it never puts back an older copy of what another replica changed meanwhile. Written behind
        // (no version bump): another replica's next change of that customer may set the timer back, no more.
        leased!(self.shared, s => s.music().stream_permit(playback_session_id, now_ms))
    }
}
