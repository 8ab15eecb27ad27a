//! What the in-memory store writes through to a state file (`serve --state PATH`), and what it is restored
//! from at start.
//!
//! The memory store stays the working set: every read is served from memory, so a state file costs reads
//! nothing. Every method that changes something hands the documents it changed to a [`Sink`] while it
//! still holds the lock that guarded the change (so two changes of one document reach the file in the
//! order they were made), then releases the lock and waits for the engine to commit them ([`Ack::done`]).
//! The engine (`store::sqlite`) commits what arrived together in one transaction (group commit); one
//! method's writes are never split between two, so a method's change is in the file whole or not at all.
//!
//! A document is a `(kind, key) → JSON value`; the kinds are the constants in [`kind`]. Writes that are
//! counters only (the journal, a plan's counters, a poll's bookkeeping) are sent [`Sink::behind`]: in order
//! with the others, without waiting for the commit. Journal entries are not handed over one by one: the
//! store tells the writer once that its journal has entries the file lacks ([`Sink::unsaved`]), and the writer
//! takes them ([`Unsaved::take`]) with its next commit, at the latest [`JOURNAL_EVERY`] later; so a request
//! that only reads pays the file nothing, and entries pushed out of memory before that moment never reach it.
//! Every write answered before a crash is in the file, and with it every journal entry recorded before that
//! write.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Weak};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

/// The kinds of document, one per concern.
pub mod kind {
    /// The session itself: settings, clock, epoch (key `""`).
    pub const SESSION: &str = "session";
    /// An authorization code (key: the code).
    pub const CODE: &str = "code";
    /// A code pair (key: the device code).
    pub const PAIR: &str = "pair";
    /// A grant's generation (key: customer, tab, client).
    pub const GRANT: &str = "grant";
    /// A token forced to expire (key: its id; value `true`).
    pub const EXPIRED: &str = "expired";
    /// An authorization code after its first exchange, kept until its expiry (key: the code).
    pub const CONSUMED: &str = "consumed";
    /// A token revoked alone, its code having been replayed (key: its id; value `true`).
    pub const REVOKED: &str = "revoked";
    /// A journal entry (key: its sequence number, zero-padded to 20 digits so keys sort as numbers).
    pub const JOURNAL: &str = "journal";
    /// The loaded plan and its counters (key `""`).
    pub const PLAN: &str = "plan";
    /// One customer's music state (key: the customer).
    pub const USER: &str = "user";
    /// A playlist (key: its id).
    pub const PLAYLIST: &str = "playlist";
    /// The injected faults (key `""`).
    pub const FAULTS: &str = "faults";
    /// The Device API's playback reports (key `""`).
    pub const DEVICE_EVENTS: &str = "device_events";
    /// Every kind, in the order a restore reads them.
    pub const ALL: [&str; 13] =
        [SESSION, CODE, CONSUMED, PAIR, GRANT, EXPIRED, REVOKED, JOURNAL, PLAN, USER, PLAYLIST, FAULTS, DEVICE_EVENTS];
}

/// The journal's key for a sequence number.
pub fn journal_key(seq: u64) -> String {
    format!("{seq:020}")
}

/// One change to a session's documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Sets a document.
    Put {
        /// Its kind.
        kind: &'static str,
        /// Its key.
        key: String,
        /// JSON.
        value: Vec<u8>,
    },
    /// Removes a document.
    Delete {
        /// Its kind.
        kind: &'static str,
        /// Its key.
        key: String,
    },
    /// Removes every document of a kind whose key sorts at or before `upto` (`None`: every one).
    DeleteKind {
        /// The kind.
        kind: &'static str,
        /// The last key removed.
        upto: Option<String>,
    },
    /// Removes the whole session.
    DropSession,
}

impl Write {
    /// A document set to `value`'s JSON.
    pub fn put(kind: &'static str, key: impl Into<String>, value: &impl Serialize) -> Write {
        // The store's own types always serialize; a failure would be a bug in a derive.
        let value = serde_json::to_vec(value).expect("store documents serialize to JSON");
        Write::Put { kind, key: key.into(), value }
    }

    /// A document removed.
    pub fn delete(kind: &'static str, key: impl Into<String>) -> Write {
        Write::Delete { kind, key: key.into() }
    }
}

/// How long a journal entry recorded behind a read waits at most before the writer takes it into the file
/// (any commit of the file before that takes it too).
pub const JOURNAL_EVERY: Duration = Duration::from_millis(250);

/// A session's journal, as the writer sees it: what the file lacks of it.
pub trait Unsaved: Send + Sync {
    /// The writes that bring the file's copy of the journal up to date (the entries recorded since the last
    /// call, the removal of those pushed out since); empty when it is. Cheap under the journal's lock: the
    /// entries are serialised by the caller's thread, the writer.
    fn take(&self) -> Vec<Write>;
}

/// A session's writes, in one transaction, with who waits for the commit.
pub struct Batch {
    /// The session.
    pub session: Arc<str>,
    /// The writes, in order.
    pub writes: Vec<Write>,
    /// Told once the writes are committed (or that they could not be).
    pub done: Option<oneshot::Sender<Result<(), String>>>,
    /// The last batch: the writer commits it, closes the file and stops (what is sent after is not written).
    pub close: bool,
    /// With no writes: the session's journal has entries the file lacks; take them within [`JOURNAL_EVERY`].
    pub journal: Option<Weak<dyn Unsaved>>,
}

/// Where a session's changes go: the engine's writer.
#[derive(Clone)]
pub struct Sink {
    session: Arc<str>,
    tx: mpsc::Sender<Batch>,
}

impl Sink {
    /// A sink for `session`'s changes into the writer behind `tx`.
    pub fn new(session: &str, tx: mpsc::Sender<Batch>) -> Self {
        Sink { session: Arc::from(session), tx }
    }

    /// Hands over a method's writes; [`Ack::done`] waits for their commit. Call it while holding the lock
    /// that guarded the change, and wait after releasing it.
    pub fn send(&self, writes: Vec<Write>) -> Ack {
        if writes.is_empty() {
            return Ack(None);
        }
        let (done, rx) = oneshot::channel();
        match self.tx.send(Batch {
            session: self.session.clone(),
            writes,
            done: Some(done),
            close: false,
            journal: None,
        }) {
            Ok(()) => Ack(Some(rx)),
            Err(_) => {
                tracing::error!(session = %self.session, "the state file's writer has stopped; a change was not saved");
                Ack(None)
            }
        }
    }

    /// Hands over writes that nobody waits for (counters, the journal); they still reach the file in order
    /// with the rest.
    pub fn behind(&self, writes: Vec<Write>) {
        if writes.is_empty() {
            return;
        }
        if self
            .tx
            .send(Batch { session: self.session.clone(), writes, done: None, close: false, journal: None })
            .is_err()
        {
            tracing::error!(session = %self.session, "the state file's writer has stopped; a change was not saved");
        }
    }

    /// Tells the writer that `journal` has entries the file lacks: called for the first entry recorded after a
    /// [`Unsaved::take`], not for every entry.
    pub fn unsaved(&self, journal: Weak<dyn Unsaved>) {
        let nudge = Batch {
            session: self.session.clone(),
            writes: Vec::new(),
            done: None,
            close: false,
            journal: Some(journal),
        };
        if self.tx.send(nudge).is_err() {
            tracing::error!(session = %self.session, "the state file's writer has stopped; a journal entry was not saved");
        }
    }
}

/// A commit to wait for (nothing to wait for without a state file).
#[must_use = "wait for the commit with Ack::done once the lock is released"]
pub struct Ack(Option<oneshot::Receiver<Result<(), String>>>);

impl Ack {
    /// Nothing to wait for.
    pub fn none() -> Self {
        Ack(None)
    }

    /// Waits until the writes are in the file. A write the engine could not make is logged (the answer
    /// already computed stands: the memory state has it).
    pub async fn done(self) {
        let Some(rx) = self.0 else { return };
        match rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("the state file could not be written: {e}"),
            Err(_) => tracing::error!("the state file's writer stopped before a change was saved"),
        }
    }
}

/// Runs `f` to build writes only when there is a sink (so the in-memory default builds nothing).
pub fn send_if(sink: Option<&Sink>, f: impl FnOnce() -> Vec<Write>) -> Ack {
    sink.map_or_else(Ack::none, |s| s.send(f()))
}

/// Like [`send_if`], without waiting.
pub fn behind_if(sink: Option<&Sink>, f: impl FnOnce() -> Vec<Write>) {
    if let Some(s) = sink {
        s.behind(f());
    }
}

/// One session's documents as read back: kind → key → JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionDocs(pub BTreeMap<String, BTreeMap<String, Vec<u8>>>);

impl SessionDocs {
    /// The documents of one kind, keys in order.
    pub fn kind(&self, kind: &str) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.get(kind).into_iter().flat_map(|m| m.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
    }

    /// One document, decoded.
    ///
    /// # Errors
    /// A description naming the document when its JSON does not decode.
    pub fn get<T: DeserializeOwned>(&self, kind: &str, key: &str) -> Result<Option<T>, String> {
        self.0.get(kind).and_then(|m| m.get(key)).map(|v| decode(kind, key, v)).transpose()
    }

    /// Every document of a kind, decoded, keys in order.
    ///
    /// # Errors
    /// A description naming the first document whose JSON does not decode.
    pub fn all<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<(String, T)>, String> {
        self.kind(kind).map(|(k, v)| decode(kind, k, v).map(|t| (k.to_owned(), t))).collect()
    }
}

/// Decodes one document.
///
/// # Errors
/// A description naming the document.
pub fn decode<T: DeserializeOwned>(kind: &str, key: &str, value: &[u8]) -> Result<T, String> {
    serde_json::from_slice(value).map_err(|e| format!("document {kind}/{key:?} does not decode: {e}"))
}

/// Everything read back from a state file: each session's documents.
#[derive(Debug, Clone, Default)]
pub struct Restored {
    /// Session name → its documents.
    pub sessions: BTreeMap<String, SessionDocs>,
    /// How many times a server opened this state file before (mixed into seeded random sources, so that a
    /// restart never hands out the codes and token ids of a run before it).
    pub boots: u64,
}

/// The name a snapshot file carries in its `format` field.
pub const SNAPSHOT_FORMAT: &str = "amazon-music-mock-state";

/// A state file as one JSON document (`state export`, `serve --import`): every session's documents, with the
/// token key so that tokens issued before the export still verify after an import.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// The state format of the documents (`store::sqlite::FORMAT`).
    pub version: i64,
    /// The token signing key kept in the state file, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_key: Option<String>,
    /// Session → kind → key → document.
    pub sessions: BTreeMap<String, BTreeMap<String, BTreeMap<String, serde_json::Value>>>,
}

impl Snapshot {
    /// The snapshot of what a state file holds.
    ///
    /// # Errors
    /// A document that is not JSON, named.
    pub fn of(restored: &Restored, token_key: Option<String>, version: i64) -> Result<Snapshot, String> {
        let mut sessions = BTreeMap::new();
        for (name, docs) in &restored.sessions {
            let mut kinds = BTreeMap::new();
            for (kind, keys) in &docs.0 {
                let mut out = BTreeMap::new();
                for (key, value) in keys {
                    out.insert(key.clone(), decode::<serde_json::Value>(kind, key, value)?);
                }
                kinds.insert(kind.clone(), out);
            }
            sessions.insert(name.clone(), kinds);
        }
        Ok(Snapshot { format: SNAPSHOT_FORMAT.to_owned(), version, token_key, sessions })
    }

    /// Reads a snapshot file, checking its format, version, session names and kinds.
    ///
    /// # Errors
    /// One line naming the file and what is wrong with it.
    pub fn read(path: &std::path::Path, version: i64) -> Result<Snapshot, String> {
        let text = std::fs::read(path).map_err(|e| format!("snapshot {}: {e}", path.display()))?;
        let snap: Snapshot = serde_json::from_slice(&text)
            .map_err(|e| format!("snapshot {}: not a state snapshot: {e}", path.display()))?;
        if snap.format != SNAPSHOT_FORMAT {
            return Err(format!(
                "snapshot {}: format is {:?}, expected {SNAPSHOT_FORMAT:?} (made by `amazon-music-mock state export`)",
                path.display(),
                snap.format
            ));
        }
        if snap.version != version {
            return Err(format!(
                "snapshot {}: state format {} is not this build's format {version}; import it with the version that exported it",
                path.display(),
                snap.version
            ));
        }
        for (name, kinds) in &snap.sessions {
            if crate::store::SessionId::parse(name).is_none() {
                return Err(format!("snapshot {}: session name {name:?} is not valid", path.display()));
            }
            if let Some(k) = kinds.keys().find(|k| !kind::ALL.contains(&k.as_str())) {
                return Err(format!(
                    "snapshot {}: session {name}: unknown kind {k:?} (known: {})",
                    path.display(),
                    kind::ALL.join(", ")
                ));
            }
        }
        Ok(snap)
    }

    /// The documents to restore.
    pub fn restored(&self) -> Restored {
        let sessions = self
            .sessions
            .iter()
            .map(|(name, kinds)| {
                let docs = kinds
                    .iter()
                    .map(|(kind, keys)| {
                        let keys =
                            keys.iter().map(|(k, v)| (k.clone(), serde_json::to_vec(v).unwrap_or_default())).collect();
                        (kind.clone(), keys)
                    })
                    .collect();
                (name.clone(), SessionDocs(docs))
            })
            .collect();
        Restored { sessions, boots: 0 }
    }
}
