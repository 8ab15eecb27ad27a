//! The store contract's bounds, checked on every backend the tests can build (today the in-memory one):
//! sessions evicted beyond `max_sessions` (least recently used) and when idle, the default session kept, one
//! session dropped on request, expired codes (live or consumed) and code pairs forgotten, a replayed code's
//! tokens revoked, the journal held under its entry and byte caps with each entry cut to its bounds.

use std::sync::Arc;

use super::memory::MemoryStore;
use super::*;
use crate::journal::JournalEntry;
use crate::scope::ScopeSet;

fn stores(bounds: Bounds) -> Vec<(&'static str, Arc<dyn Store>)> {
    vec![("memory", Arc::new(MemoryStore::new(Some(7), bounds)))]
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
    for (name, store) in stores(Bounds { max_sessions: 2, ..Bounds::default() }) {
        store.session(&SessionId::default_session());
        store.session(&id("a"));
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        store.session(&id("b"));
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        store.session(&id("a")); // a is now more recent than b
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        store.session(&id("c"));
        let names: Vec<String> = store.session_ids().iter().map(|s| s.as_str().to_owned()).collect();
        assert_eq!(names, ["a", "c", "default"], "{name}");
    }
}

#[tokio::test]
async fn idle_sessions_are_swept_and_one_can_be_dropped() {
    for (name, store) in stores(Bounds { session_idle_ms: 1, ..Bounds::default() }) {
        store.session(&SessionId::default_session());
        store.session(&id("idle"));
        store.session(&id("gone"));
        assert!(store.drop_session(&id("gone")), "{name}");
        assert!(!store.drop_session(&id("gone")), "{name}");
        assert!(!store.drop_session(&SessionId::default_session()), "{name}: the default session stays");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert_eq!(store.sweep().await.sessions, 1, "{name}");
        assert_eq!(store.session_ids(), [SessionId::default_session()], "{name}");
    }
}

#[tokio::test]
async fn expired_codes_and_code_pairs_are_forgotten_once_the_clock_passes_them() {
    for (name, store) in stores(Bounds::default()) {
        let s = store.session(&id("codes"));
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
    }
}

#[tokio::test]
async fn the_journal_keeps_under_its_entry_and_byte_caps_and_cuts_entries() {
    let bounds = Bounds { journal_entries: 5, journal_bytes: 200_000, ..Bounds::default() };
    for (name, store) in stores(bounds) {
        let s = store.session(&id("journal"));
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
    }
}

#[tokio::test]
async fn a_replayed_code_revokes_exactly_the_tokens_of_its_exchange_until_it_expires() {
    for (name, store) in stores(Bounds::default()) {
        let s = store.session(&id("replay"));
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
        // A consumed code is forgotten at its expiry: a replay then is an unknown code and revokes nothing.
        let late = s.insert_auth_code(code(now + 300_000)).await;
        s.take_auth_code(&late).await;
        s.bind_code_tokens(&late, &ids("a3", "r3")).await;
        s.change_clock(ClockChange::Advance(301)).await;
        assert!(s.take_auth_code(&late).await.is_none(), "{name}");
        assert_eq!(s.token_state("a3", None, 0).await, TokenState::Active, "{name}");
        // A reset forgets consumed codes and revocations alike.
        s.reset().await;
        assert_eq!(s.token_state("a1", None, 0).await, TokenState::Active, "{name}");
    }
}
