//! The state file (`serve --state PATH`): an SQLite database, written through by the memory store.
//!
//! SQLite, through rusqlite with the library bundled: a crash-safe engine with one file, readable by any
//! `sqlite3` shell when something needs looking at. The file runs in WAL mode with `synchronous=NORMAL`: a
//! commit is a write to the log without an fsync, so a commit is cheap and a process killed at any moment
//! (SIGKILL, a crash, `docker kill`) loses nothing committed and leaves a file that opens cleanly; only a
//! power cut can lose the last commits (never the file's consistency).
//!
//! One thread owns the connection and commits what arrives together in one transaction (group commit; see
//! `store::persist`), with the journal entries recorded since its last commit. The file is locked exclusively while a server has it open: a second server on the
//! same file is refused at start rather than let two processes' memories disagree.
//!
//! Format: `meta(key, value)` (the format version, the token key, the boot count) and
//! `docs(session, kind, key, value)` (JSON documents). A file of another format version is migrated when
//! this build knows how, refused with a message otherwise; never misread.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak, mpsc};
use std::time::Instant;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::persist::{Batch, JOURNAL_EVERY, Restored, SessionDocs, Snapshot, Unsaved, Write};

/// The format this build writes and reads.
pub const FORMAT: i64 = 1;

/// The `application_id` SQLite header field of a state file (`AMM1` in ASCII): tells a state file from any
/// other SQLite database.
const APPLICATION_ID: i64 = 0x414d_4d31;

/// Batches committed together at most.
const GROUP: usize = 512;

/// How long the writer gathers writes nobody awaits before committing them (see `write_loop`).
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);

/// Why a state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// SQLite refused (not a database, unreadable, no space…).
    #[error("state file {path}: {message}")]
    Engine {
        /// The file.
        path: PathBuf,
        /// SQLite's message.
        message: String,
    },
    /// Another server has the file open.
    #[error(
        "state file {path} is in use by another amazon-music-mock server; stop it first, or give this one its own --state file"
    )]
    InUse {
        /// The file.
        path: PathBuf,
    },
    /// The file is an SQLite database but not a state file.
    #[error(
        "{path} is an SQLite database but not an amazon-music-mock state file; give --state a new path or a state file"
    )]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// Written by a newer version.
    #[error(
        "state file {path} has format {found}, newer than this build's format {FORMAT}: run the version that wrote it, or `state export` with it and `serve --import` here"
    )]
    Newer {
        /// The file.
        path: PathBuf,
        /// Its format.
        found: i64,
    },
    /// A document does not decode (the file was edited by hand, or a bug).
    #[error("state file {path}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Which document and why.
        message: String,
    },
}

/// An open state file: its writer thread, and what it held at open.
pub struct StateFile {
    path: PathBuf,
    tx: Option<mpsc::Sender<Batch>>,
    /// The token key kept in the file (made at the first open).
    pub token_key: String,
}

fn engine(path: &Path) -> impl Fn(rusqlite::Error) -> StateError + '_ {
    move |e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StateError::InUse { path: path.to_owned() }
        }
        _ => StateError::Engine { path: path.to_owned(), message: e.to_string() },
    }
}

/// Opens a connection and checks (or sets up) the format.
fn connect(path: &Path, create: bool) -> Result<Connection, StateError> {
    let err = engine(path);
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(&err)?;
    conn.busy_timeout(std::time::Duration::ZERO).map_err(&err)?;
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE").map_err(&err)?;
    // Any read of the schema tells a file that is not a database ("file is not a database").
    let app_id: i64 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(&err)?;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(&err)?;
    if app_id != APPLICATION_ID && (app_id != 0 || tables > 0) {
        return Err(StateError::Foreign { path: path.to_owned() });
    }
    conn.pragma_update(None, "journal_mode", "WAL").map_err(&err)?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(&err)?;
    if tables == 0 {
        conn.execute_batch(&format!(
            "BEGIN;
             PRAGMA application_id = {APPLICATION_ID};
             CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
             CREATE TABLE docs ({DOCS_COLUMNS});
             INSERT INTO meta VALUES ('format', '{FORMAT}');
             COMMIT;"
        ))
        .map_err(&err)?;
    }
    let found: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| r.get(0)).optional().map_err(&err)?;
    let found: i64 = found.and_then(|f| f.parse().ok()).ok_or_else(|| StateError::Foreign { path: path.to_owned() })?;
    if found > FORMAT {
        return Err(StateError::Newer { path: path.to_owned(), found });
    }
    // Format 1 is the first: nothing older to migrate from yet. A later format adds its steps here.
    move_docs_to_a_rowid_table(&conn).map_err(&err)?;
    Ok(conn)
}

/// The documents table's columns. A rowid table: its values (a journal entry is a kilobyte or more) would make
/// a `WITHOUT ROWID` table's B-tree slow to change, which is what files written before this held (the same
/// documents; [`move_docs_to_a_rowid_table`] moves them).
const DOCS_COLUMNS: &str = "session TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (session, kind, key)";

/// Moves the documents of a file whose table is `WITHOUT ROWID` (written before the table was a rowid one) into
/// a rowid table, in one transaction: the documents are the same, only their layout on disk changes.
fn move_docs_to_a_rowid_table(conn: &Connection) -> rusqlite::Result<()> {
    let sql: String =
        conn.query_row("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'docs'", [], |r| r.get(0))?;
    if !sql.to_ascii_uppercase().contains("WITHOUT ROWID") {
        return Ok(());
    }
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         CREATE TABLE docs_rowid ({DOCS_COLUMNS});
         INSERT INTO docs_rowid SELECT session, kind, key, value FROM docs;
         DROP TABLE docs;
         ALTER TABLE docs_rowid RENAME TO docs;
         COMMIT;"
    ))
}

fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()
}

fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?1, ?2)", params![key, value]).map(|_| ())
}

/// Reads every session's documents.
fn read_all(conn: &Connection) -> rusqlite::Result<std::collections::BTreeMap<String, SessionDocs>> {
    let mut out: std::collections::BTreeMap<String, SessionDocs> = std::collections::BTreeMap::new();
    let mut stmt = conn.prepare("SELECT session, kind, key, value FROM docs ORDER BY session, kind, key")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let (session, kind, key, value): (String, String, String, Vec<u8>) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        out.entry(session).or_default().0.entry(kind).or_default().insert(key, value);
    }
    Ok(out)
}

/// Applies one write inside a transaction.
fn apply(tx: &rusqlite::Transaction<'_>, session: &str, w: &Write) -> rusqlite::Result<()> {
    match w {
        Write::Put { kind, key, value } => {
            tx.prepare_cached("INSERT OR REPLACE INTO docs VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![session, kind, key, value])?;
        }
        Write::Delete { kind, key } => {
            tx.prepare_cached("DELETE FROM docs WHERE session = ?1 AND kind = ?2 AND key = ?3")?
                .execute(params![session, kind, key])?;
        }
        Write::DeleteKind { kind, upto: Some(upto) } => {
            tx.prepare_cached("DELETE FROM docs WHERE session = ?1 AND kind = ?2 AND key <= ?3")?
                .execute(params![session, kind, upto])?;
        }
        Write::DeleteKind { kind, upto: None } => {
            tx.prepare_cached("DELETE FROM docs WHERE session = ?1 AND kind = ?2")?.execute(params![session, kind])?;
        }
        Write::DropSession => {
            tx.prepare_cached("DELETE FROM docs WHERE session = ?1")?.execute(params![session])?;
        }
    }
    Ok(())
}

/// Commits `batches` in one transaction, and with them what the sessions' journals lacked (after the
/// batches: a reset's removal of its journal comes before the entries recorded since).
fn commit(conn: &mut Connection, batches: &[Batch], journals: &[(Arc<str>, Vec<Write>)]) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for b in batches {
        for w in &b.writes {
            apply(&tx, &b.session, w)?;
        }
    }
    for (session, writes) in journals {
        for w in writes {
            apply(&tx, session, w)?;
        }
    }
    tx.commit()
}

/// The journals with entries the file lacks (see `store::persist`), and when the writer takes them at the
/// latest.
#[derive(Default)]
struct Journals {
    waiting: HashMap<Arc<str>, Weak<dyn Unsaved>>,
    due: Option<Instant>,
}

impl Journals {
    /// Files a message that is a journal's nudge (true), or tells whether a batch drops its session's journal.
    fn note(&mut self, b: &Batch) -> bool {
        if let Some(journal) = &b.journal {
            self.waiting.insert(b.session.clone(), journal.clone());
            self.due.get_or_insert_with(|| Instant::now() + JOURNAL_EVERY);
            return true;
        }
        if b.writes.iter().any(|w| matches!(w, Write::DropSession)) {
            // A session gone: what its journal lacks must not bring it back into the file.
            self.waiting.remove(&b.session);
        }
        false
    }

    /// Takes what every waiting journal lacks.
    fn take(&mut self) -> Vec<(Arc<str>, Vec<Write>)> {
        self.due = None;
        self.waiting
            .drain()
            .filter_map(|(session, journal)| journal.upgrade().map(|j| (session, j.take())))
            .filter(|(_, writes)| !writes.is_empty())
            .collect()
    }
}

/// The writer thread: waits for a batch, takes whatever else has arrived and what the journals lack, commits
/// all in one transaction, tells the waiters. Journals with nothing else to commit are taken when due. Ends
/// when every sender is gone.
fn write_loop(mut conn: Connection, rx: mpsc::Receiver<Batch>) {
    let mut journals = Journals::default();
    let mut closing = false;
    while !closing {
        let first = match journals.due {
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            Some(at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
        };
        let mut batches = Vec::new();
        match first {
            Ok(b) if journals.note(&b) => continue,
            Ok(b) => {
                closing = b.close;
                if b.done.is_none() && !closing {
                    // Nobody waits for this one (a plan's counters behind a read): gather what comes in the next
                    // moment into the same commit. Asleep rather than waiting on the channel, so that the senders
                    // of that moment do not wake this thread one by one; a write somebody awaits waits at most
                    // this long.
                    std::thread::sleep(LINGER);
                }
                batches.push(b);
                while batches.len() < GROUP && !closing {
                    match rx.try_recv() {
                        Ok(b) if journals.note(&b) => {}
                        Ok(b) => {
                            closing = b.close;
                            batches.push(b);
                        }
                        Err(_) => break,
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let unsaved = journals.take();
        if batches.is_empty() && unsaved.is_empty() {
            continue;
        }
        let outcome = commit(&mut conn, &batches, &unsaved).map_err(|e| e.to_string());
        if let Err(e) = &outcome {
            tracing::error!("state file: a commit failed: {e}");
        }
        if closing {
            let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
            // Closed before the waiters hear of it: once `close` returns, another server may open the file.
            drop(conn);
            for b in batches {
                if let Some(done) = b.done {
                    let _ = done.send(outcome.clone());
                }
            }
            return;
        }
        for b in batches {
            if let Some(done) = b.done {
                let _ = done.send(outcome.clone());
            }
        }
    }
    let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
}

impl StateFile {
    /// Opens (or creates) a state file, reads it back, and starts its writer. With `replace`, the file's
    /// documents are replaced by those given first (`serve --import`), in one transaction.
    ///
    /// # Errors
    /// [`StateError`].
    pub fn open(path: &Path, replace: Option<&Snapshot>) -> Result<(StateFile, Restored), StateError> {
        let err = engine(path);
        let mut conn = connect(path, true)?;
        if let Some(key) = replace.and_then(|s| s.token_key.as_deref()) {
            set_meta(&conn, "token_key", key).map_err(&err)?;
        }
        let token_key = match meta(&conn, "token_key").map_err(&err)? {
            Some(k) => k,
            None => {
                use rand::Rng;
                let bytes: [u8; 32] = rand::rng().random();
                let k = bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
                set_meta(&conn, "token_key", &k).map_err(&err)?;
                k
            }
        };
        if let Some(snapshot) = replace.map(Snapshot::restored) {
            let tx = conn.transaction().map_err(&err)?;
            tx.execute("DELETE FROM docs", []).map_err(&err)?;
            for (session, docs) in &snapshot.sessions {
                for (kind, keys) in &docs.0 {
                    for (key, value) in keys {
                        tx.prepare_cached("INSERT INTO docs VALUES (?1, ?2, ?3, ?4)")
                            .and_then(|mut s| s.execute(params![session, kind, key, value]))
                            .map_err(&err)?;
                    }
                }
            }
            tx.commit().map_err(&err)?;
        }
        let boots: u64 = meta(&conn, "boots").map_err(&err)?.and_then(|b| b.parse().ok()).unwrap_or(0);
        // The first write takes the exclusive lock, held until the file closes.
        set_meta(&conn, "boots", &(boots + 1).to_string()).map_err(&err)?;
        let sessions = read_all(&conn).map_err(&err)?;
        let (tx, rx) = mpsc::channel();
        // Detached: it ends at `close`, or when the last sink is gone.
        std::thread::Builder::new()
            .name("amm-state-writer".into())
            .spawn(move || write_loop(conn, rx))
            .map_err(|e| StateError::Engine { path: path.to_owned(), message: e.to_string() })?;
        let file = StateFile { path: path.to_owned(), tx: Some(tx), token_key };
        Ok((file, Restored { sessions, boots }))
    }

    /// A snapshot of a state file that no server has open (`state export`).
    ///
    /// # Errors
    /// [`StateError`]; a missing file is [`StateError::Engine`].
    pub fn export(path: &Path) -> Result<Snapshot, StateError> {
        let err = engine(path);
        if !path.exists() {
            return Err(StateError::Engine { path: path.to_owned(), message: "no such file".into() });
        }
        let conn = connect(path, false)?;
        // A read under the exclusive locking mode takes the lock, so a file a server has open is refused.
        let token_key = meta(&conn, "token_key").map_err(&err)?;
        let sessions = read_all(&conn).map_err(&err)?;
        Snapshot::of(&Restored { sessions, boots: 0 }, token_key, FORMAT)
            .map_err(|message| StateError::Corrupt { path: path.to_owned(), message })
    }

    /// Waits until everything handed to the writer before this call is in the file, then closes the file
    /// (a server stopping: what its sessions write after this is not kept).
    pub async fn close(&self) {
        let Some(tx) = &self.tx else { return };
        let (done, rx) = tokio::sync::oneshot::channel();
        let last = Batch { session: Arc::from(""), writes: Vec::new(), done: Some(done), close: true, journal: None };
        if tx.send(last).is_ok() {
            let _ = rx.await;
        }
    }

    /// The sender the memory store's sinks write into.
    pub fn sender(&self) -> mpsc::Sender<Batch> {
        self.tx.clone().expect("the writer runs until the file is closed")
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StateFile {
    fn drop(&mut self) {
        // Without joining: sinks may outlive the file handle; the writer ends when the last one goes.
        self.tx.take();
    }
}
