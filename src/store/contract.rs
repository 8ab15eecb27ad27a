//! The store contract's bounds, checked on every backend the tests can build (in memory, in memory written
//! through to a state file, and in memory shared through a Redis server): sessions evicted beyond
//! `max_sessions` (least recently used) and when idle, the default session kept, one session dropped on
//! request, expired codes (live or consumed) and code pairs forgotten, a replayed code's tokens revoked, the
//! journal held under its entry and byte caps with each entry cut to its bounds. With a state file or Redis, each test then closes the store, opens it again, and
//! finds what the store showed before.

use std::path::PathBuf;
use std::sync::Arc;

use super::memory::MemoryStore;
use super::memory_music::MusicSeed;
use super::redis::RedisStore;
use super::redis_testkit::RedisServer;
use super::sqlite::StateFile;
use super::*;
use crate::journal::JournalEntry;
use crate::scope::ScopeSet;

/// How a backend under test is opened again.
enum Reopen {
    /// In memory: nothing to reopen.
    Nothing,
    /// A state file.
    File(PathBuf, Arc<StateFile>, Bounds),
    /// A Redis server, kept running until the test ends.
    Redis(Arc<RedisServer>, Bounds),
}

/// A backend under test; how to open it again.
struct Backend {
    name: &'static str,
    store: Arc<dyn Store>,
    reopen: Reopen,
}

impl Backend {
    /// The same state, closed and opened again, with the backend's documents as read between the two (the
    /// in-memory backend has nothing to reopen: `None`). A state file is removed once read back.
    async fn reopened(self) -> Option<(Arc<dyn Store>, super::persist::Snapshot)> {
        match self.reopen {
            Reopen::Nothing => None,
            Reopen::File(path, file, bounds) => {
                file.close().await;
                drop(self.store);
                let snapshot = StateFile::export(&path).expect("a closed state file exports");
                let (file, restored) = StateFile::open(&path, None).expect("the state file opens again");
                let store =
                    MemoryStore::new(Some(7), bounds).with_state(Some(file.sender()), &restored).expect("restores");
                file.close().await;
                remove(&path);
                Some((Arc::new(store), snapshot))
            }
            Reopen::Redis(server, bounds) => {
                drop(self.store);
                let snapshot = RedisStore::export(&server.url()).expect("Redis exports");
                let opened = RedisStore::open(&server.url(), Some(7), bounds, MusicSeed::empty(), None)
                    .expect("Redis opens again");
                Some((Arc::new(Guarded { store: opened.store, _server: server }), snapshot))
            }
        }
    }
}

/// A Redis store that keeps its server running as long as it lives.
struct Guarded {
    store: RedisStore,
    _server: Arc<RedisServer>,
}

#[async_trait::async_trait]
impl Store for Guarded {
    fn session(&self, id: &SessionId) -> Arc<dyn SessionStore> {
        self.store.session(id)
    }
    async fn session_ids(&self) -> Vec<SessionId> {
        self.store.session_ids().await
    }
    async fn session_exists(&self, id: &SessionId) -> bool {
        self.store.session_exists(id).await
    }
    async fn drop_session(&self, id: &SessionId) -> bool {
        self.store.drop_session(id).await
    }
    async fn sweep(&self) -> Swept {
        self.store.sweep().await
    }
}

/// A session as a request sees it: brought up to date with a shared store first.
async fn open(store: &Arc<dyn Store>, name: &str) -> Arc<dyn SessionStore> {
    let s = store.session(&id(name));
    s.sync().await.expect("the store answers");
    s
}

/// The kinds of document a session has in a snapshot, and how many of each.
fn kinds(snapshot: &super::persist::Snapshot, session: &str) -> Vec<(String, usize)> {
    snapshot.sessions.get(session).map_or_else(Vec::new, |k| k.iter().map(|(k, v)| (k.clone(), v.len())).collect())
}

/// Every backend: in memory, a state file, and a Redis server when `redis-server` is installed (its test
/// skips it with a line otherwise, and fails under `AMM_REQUIRE_TOOLS=1`).
fn stores(bounds: Bounds) -> Vec<Backend> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("amm-contract-{}-{n}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let (file, restored) = StateFile::open(&path, None).expect("a new state file");
    let store = MemoryStore::new(Some(7), bounds).with_state(Some(file.sender()), &restored).expect("restores");
    let mut all = vec![
        Backend { name: "memory", store: Arc::new(MemoryStore::new(Some(7), bounds)), reopen: Reopen::Nothing },
        Backend { name: "state file", store: Arc::new(store), reopen: Reopen::File(path, Arc::new(file), bounds) },
    ];
    if let Some(server) = RedisServer::start() {
        let server = Arc::new(server);
        let opened = RedisStore::open(&server.url(), Some(7), bounds, MusicSeed::empty(), None).expect("Redis opens");
        all.push(Backend { name: "redis", store: Arc::new(opened.store), reopen: Reopen::Redis(server, bounds) });
    }
    all
}

/// Removes a contract test's state file (and its WAL companions).
fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

fn id(s: &str) -> SessionId {
    SessionId::parse(s).expect("a session name")
}

fn code(expires_at_ms: i64) -> AuthCodeRecord {
    AuthCodeRecord {
        client_id: "c".into(),
        user_id: "u".into(),
        scopes: ScopeSet::default(),
        redirect_uri: None,
        pkce: None,
        expires_at_ms,
    }
}

fn entry(params: Vec<(String, String)>) -> JournalEntry {
    JournalEntry::token_request(params)
}

#[tokio::test]
async fn sessions_beyond_the_cap_evict_the_least_recently_used_never_the_default() {
    for b in stores(Bounds { max_sessions: 2, ..Bounds::default() }) {
        let (name, store) = (b.name, b.store.clone());
        // Each session changes something, so that a state file has it.
        let touch = async |s: &str| {
            let patch = SettingsPatch { auto_consent: Some(true), ..SettingsPatch::default() };
            open(&store, s).await.update_settings(patch).await;
        };
        touch("default").await;
        touch("a").await;
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        touch("b").await;
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        open(&store, "a").await; // a is now more recent than b
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        touch("c").await;
        let names: Vec<String> = store.session_ids().await.iter().map(|s| s.as_str().to_owned()).collect();
        assert_eq!(names, ["a", "c", "default"], "{name}");
        if let Some((again, snapshot)) = b.reopened().await {
            assert_eq!(snapshot.sessions.keys().collect::<Vec<_>>(), ["a", "c", "default"], "{name}: b left the file");
            assert_eq!(again.session_ids().await, store.session_ids().await, "{name} reopened");
            assert!(open(&again, "a").await.settings().await.auto_consent, "{name} reopened");
        }
    }
}

#[tokio::test]
async fn idle_sessions_are_swept_and_one_can_be_dropped() {
    for b in stores(Bounds { session_idle_ms: 1, ..Bounds::default() }) {
        let (name, store) = (b.name, b.store.clone());
        for s in ["default", "idle", "gone"] {
            open(&store, s).await.change_clock(ClockChange::Advance(60)).await;
        }
        assert!(store.drop_session(&id("gone")).await, "{name}");
        assert!(!store.drop_session(&id("gone")).await, "{name}");
        assert!(!store.drop_session(&SessionId::default_session()).await, "{name}: the default session stays");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert_eq!(store.sweep().await.sessions, 1, "{name}");
        assert_eq!(store.session_ids().await, [SessionId::default_session()], "{name}");
        if let Some((again, snapshot)) = b.reopened().await {
            assert_eq!(snapshot.sessions.keys().collect::<Vec<_>>(), ["default"], "{name}: dropped and evicted");
            assert_eq!(again.session_ids().await, [SessionId::default_session()], "{name} reopened");
        }
    }
}

#[tokio::test]
async fn expired_codes_and_code_pairs_are_forgotten_once_the_clock_passes_them() {
    for b in stores(Bounds::default()) {
        let (name, store) = (b.name, b.store.clone());
        let s = open(&store, "codes").await;
        let now = s.now_ms();
        let live = s.insert_auth_code(code(now + 600_000)).await;
        for _ in 0..3000 {
            s.insert_auth_code(code(now + 300_000)).await;
        }
        let pair = s
            .insert_code_pair(NewCodePair {
                client_id: "c".into(),
                scopes: ScopeSet::default(),
                scope_data: None,
                expires_at_ms: now + 600_000,
                interval_seconds: 5,
            })
            .await;
        // Past the 3000 codes' expiry: moving the clock forgets them at once.
        s.change_clock(ClockChange::Advance(400)).await;
        assert_eq!(s.purge_expired().await, 0, "{name}: already purged by the clock change");
        assert!(s.code_pair_by_device_code(&pair.device_code).await.is_some(), "{name}");
        // Past the live code and the pair's expiry, but inside the pair's grace: polls still see it expired.
        s.change_clock(ClockChange::Advance(400)).await;
        assert!(s.take_auth_code(&live).await.is_none(), "{name}");
        assert!(s.code_pair_by_device_code(&pair.device_code).await.is_some(), "{name}");
        s.change_clock(ClockChange::Advance(CODE_PAIR_GRACE_MS / 1000)).await;
        assert!(s.code_pair_by_device_code(&pair.device_code).await.is_none(), "{name}");
        assert!(s.code_pair(&pair.user_code).await.is_none(), "{name}");
        let clock = s.clock_state();
        drop(s);
        if let Some((again, snapshot)) = b.reopened().await {
            assert_eq!(
                kinds(&snapshot, "codes"),
                [("session".to_owned(), 1)],
                "{name}: no code or pair left in the file"
            );
            let s = open(&again, "codes").await;
            assert!(s.take_auth_code(&live).await.is_none(), "{name} reopened");
            assert!(s.code_pair_by_device_code(&pair.device_code).await.is_none(), "{name} reopened");
            // The running clock kept its offset (a second may have ticked between the two reads).
            assert!((s.clock_state().now - clock.now).abs() <= 1, "{name} reopened: {:?} {clock:?}", s.clock_state());
        }
    }
}

#[tokio::test]
async fn the_journal_keeps_under_its_entry_and_byte_caps_and_cuts_entries() {
    let bounds = Bounds { journal_entries: 5, journal_bytes: 200_000, ..Bounds::default() };
    for b in stores(bounds) {
        let (name, store) = (b.name, b.store.clone());
        let s = open(&store, "journal").await;
        for _ in 0..10 {
            s.journal_append(entry(vec![("k".into(), "v".into())])).await;
        }
        let seqs: Vec<u64> = s.journal().await.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [6, 7, 8, 9, 10], "{name}: the entry cap");
        // Each of these weighs about 55 KB once cut (49 values of 1 KiB): three fit in 200 KB, not four.
        let big = || entry((0..500).map(|i| (format!("p{i}"), "x".repeat(4096))).collect());
        for _ in 0..4 {
            s.journal_append(big()).await;
        }
        let journal = s.journal().await;
        assert_eq!(journal.iter().map(|e| e.seq).collect::<Vec<_>>(), [12, 13, 14], "{name}: the byte cap");
        assert!(journal.iter().all(|e| e.params.len() == crate::journal::PAIRS), "{name}");
        drop(s);
        if let Some((again, snapshot)) = b.reopened().await {
            assert_eq!(kinds(&snapshot, "journal"), [("journal".to_owned(), 3)], "{name}: trimmed in the file too");
            let s = open(&again, "journal").await;
            let back = s.journal().await;
            assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(&journal).unwrap(), "{name}");
            s.journal_append(entry(Vec::new())).await;
            assert_eq!(s.journal().await.last().map(|e| e.seq), Some(15), "{name}: the sequence goes on");
        }
    }
}

#[tokio::test]
async fn a_replayed_code_revokes_exactly_the_tokens_of_its_exchange_until_it_expires_and_a_reopen_keeps_it() {
    for b in stores(Bounds::default()) {
        let (name, store) = (b.name, b.store.clone());
        let s = open(&store, "replay").await;
        let now = s.now_ms();
        let ids = |a: &str, b: &str| vec![a.to_owned(), b.to_owned()];
        let first = s.insert_auth_code(code(now + 300_000)).await;
        assert!(s.take_auth_code(&first).await.is_some(), "{name}");
        s.bind_code_tokens(&first, &ids("a1", "r1")).await;
        assert_eq!(s.token_state("a1", None, 0).await, TokenState::Active, "{name}");
        // The replay: refused, and the two tokens of the first exchange revoked; others untouched.
        assert!(s.take_auth_code(&first).await.is_none(), "{name}");
        for t in ["a1", "r1"] {
            assert_eq!(s.token_state(t, Some(("u", "c")), 0).await, TokenState::Revoked, "{name}: {t}");
        }
        assert_eq!(s.token_state("other", Some(("u", "c")), 0).await, TokenState::Active, "{name}");
        // Tokens bound after a replay (a slow first exchange racing it) are revoked at once.
        let racing = s.insert_auth_code(code(now + 300_000)).await;
        s.take_auth_code(&racing).await;
        s.take_auth_code(&racing).await;
        s.bind_code_tokens(&racing, &ids("a2", "r2")).await;
        assert_eq!(s.token_state("r2", None, 0).await, TokenState::Revoked, "{name}");
        // Exchanged, not yet replayed: the replay comes after the reopen.
        let pending = s.insert_auth_code(code(now + 300_000)).await;
        s.take_auth_code(&pending).await;
        s.bind_code_tokens(&pending, &ids("a4", "r4")).await;

        // A consumed code is forgotten at its expiry: a replay then is an unknown code and revokes nothing.
        let late_session = open(&store, "late").await;
        let late = late_session.insert_auth_code(code(late_session.now_ms() + 300_000)).await;
        late_session.take_auth_code(&late).await;
        late_session.bind_code_tokens(&late, &ids("a3", "r3")).await;
        late_session.change_clock(ClockChange::Advance(301)).await;
        assert!(late_session.take_auth_code(&late).await.is_none(), "{name}");
        assert_eq!(late_session.token_state("a3", None, 0).await, TokenState::Active, "{name}");
        // A reset forgets consumed codes and revocations alike.
        let reset = late_session.insert_auth_code(code(late_session.now_ms() + 300_000)).await;
        late_session.take_auth_code(&reset).await;
        late_session.bind_code_tokens(&reset, &ids("a5", "r5")).await;
        late_session.take_auth_code(&reset).await;
        assert_eq!(late_session.token_state("a5", None, 0).await, TokenState::Revoked, "{name}");
        late_session.reset().await;
        assert_eq!(late_session.token_state("a5", None, 0).await, TokenState::Active, "{name}");
        drop((s, late_session));

        if let Some((again, snapshot)) = b.reopened().await {
            assert_eq!(
                kinds(&snapshot, "replay"),
                [("consumed".to_owned(), 3), ("revoked".to_owned(), 4)],
                "{name}: three consumed codes, four tokens revoked"
            );
            let after_reset = [("faults".to_owned(), 1), ("session".to_owned(), 1)];
            assert_eq!(kinds(&snapshot, "late"), after_reset, "{name}: purged, then reset: no code, no revocation");
            let s = open(&again, "replay").await;
            for t in ["a1", "r1", "a2", "r2"] {
                assert_eq!(s.token_state(t, None, 0).await, TokenState::Revoked, "{name} reopened: {t}");
            }
            assert!(s.take_auth_code(&first).await.is_none(), "{name} reopened");
            // The replay after the reopen still knows what the first exchange issued.
            assert_eq!(s.token_state("a4", None, 0).await, TokenState::Active, "{name} reopened");
            assert!(s.take_auth_code(&pending).await.is_none(), "{name} reopened");
            for t in ["a4", "r4"] {
                assert_eq!(s.token_state(t, None, 0).await, TokenState::Revoked, "{name} reopened: {t}");
            }
            let late_session = open(&again, "late").await;
            assert_eq!(late_session.token_state("a5", None, 0).await, TokenState::Active, "{name} reopened");
        }
    }
}

#[tokio::test]
async fn past_the_replay_bound_a_replay_revokes_its_grant_and_the_ids_it_covers_are_forgotten() {
    use super::memory::MAX_REVOKED_TOKENS;
    for b in stores(Bounds::default()) {
        let (name, store) = (b.name, b.store.clone());
        let s = open(&store, "bound").await;
        let now = s.now_ms();
        // One replay in another grant, whose token must stay revoked alone through what follows.
        let other = s.insert_auth_code(AuthCodeRecord { client_id: "c2".into(), ..code(now + 300_000) }).await;
        s.take_auth_code(&other).await;
        s.bind_code_tokens(&other, &["x-a".to_owned(), "x-r".to_owned()]).await;
        s.take_auth_code(&other).await;
        // Fill the set: two ids per replay, up to the bound.
        for n in 0..(MAX_REVOKED_TOKENS / 2 - 1) {
            let c = s.insert_auth_code(code(now + 300_000)).await;
            s.take_auth_code(&c).await;
            s.bind_code_tokens(&c, &[format!("a{n}"), format!("r{n}")]).await;
            s.take_auth_code(&c).await;
        }
        assert_eq!(s.token_state("a0", Some(("u", "c")), 0).await, TokenState::Revoked, "{name}");
        assert_eq!(s.token_state("live", Some(("u", "c")), 0).await, TokenState::Active, "{name}");
        assert_eq!(s.grant_generation("u", "c").await, 0, "{name}: every replay so far revoked its own tokens");
        // One replay more: the whole grant goes, and with it the ids it held.
        let last = s.insert_auth_code(code(now + 300_000)).await;
        s.take_auth_code(&last).await;
        s.bind_code_tokens(&last, &["a-last".to_owned(), "r-last".to_owned()]).await;
        s.take_auth_code(&last).await;
        assert_eq!(s.grant_generation("u", "c").await, 1, "{name}");
        assert_eq!(s.token_state("live", Some(("u", "c")), 0).await, TokenState::Revoked, "{name}: the grant");
        assert_eq!(s.token_state("a0", None, 0).await, TokenState::Active, "{name}: forgotten, the grant covers it");
        assert_eq!(s.token_state("x-r", Some(("u", "c2")), 0).await, TokenState::Revoked, "{name}: other grant");
        // The set has room again: the next replay revokes its own tokens, not the new generation's.
        let next = s.insert_auth_code(code(now + 300_000)).await;
        s.take_auth_code(&next).await;
        s.bind_code_tokens(&next, &["a-next".to_owned(), "r-next".to_owned()]).await;
        s.take_auth_code(&next).await;
        assert_eq!(s.token_state("a-next", Some(("u", "c")), 1).await, TokenState::Revoked, "{name}");
        assert_eq!(s.token_state("fresh", Some(("u", "c")), 1).await, TokenState::Active, "{name}");
        drop(s);
        if let Some((again, snapshot)) = b.reopened().await {
            let revoked = kinds(&snapshot, "bound").into_iter().find(|(k, _)| k == "revoked");
            assert_eq!(revoked, Some(("revoked".to_owned(), 4)), "{name}: x-a, x-r, a-next, r-next");
            let s = open(&again, "bound").await;
            assert_eq!(s.grant_generation("u", "c").await, 1, "{name} reopened");
            assert_eq!(s.token_state("x-a", Some(("u", "c2")), 0).await, TokenState::Revoked, "{name} reopened");
            assert_eq!(s.token_state("r-next", Some(("u", "c")), 1).await, TokenState::Revoked, "{name} reopened");
            assert_eq!(s.token_state("fresh", Some(("u", "c")), 1).await, TokenState::Active, "{name} reopened");
        }
    }
}
