//! Starting and stopping the server: resolve the configuration into [`AppState`], bind, serve (plain HTTP,
//! or TLS with `tls`; the connections themselves, their limits and the bounded shutdown are `conn.rs`'s)
//! until a shutdown signal. Used by the `serve` command and, in-process, by tests
//! ([`MockAmazon`]).
//!
//! Every request is handled inside a [`crate::stream::RequestOrigin`] (a task-local): the scheme of its connection and the
//! authority of its URI, which is where an HTTP/2 request carries its host. Absolute URLs the mock mints
//! (`stream::Streams::base`) take their scheme from it, so links follow the scheme a request came in on.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::router;
use crate::catalog::CatalogCell;
use crate::conn::ConnLimits;
use crate::context::{AdminAccess, AppState, Limits};
use crate::fixtures::{FixtureError, Fixtures};
use crate::lwa::tokens::TokenCodec;
use crate::store::Bounds;
use crate::store::memory::MemoryStore;
use crate::tls::{Identity, TlsError, TlsSource};

/// The key tokens are signed with when none is configured. Every instance started without a key can
/// verify every other's tokens, which is what replicas of a mock want; set `--token-key` to separate them.
pub const DEFAULT_TOKEN_KEY: &str = "amazon-music-mock default signing key";

/// Tracks in the default catalog (with 30+ artists, 80+ albums, podcasts and curated playlists).
pub const DEFAULT_CATALOG_SIZE: usize = 800;

/// From this many tracks on, the generated catalog is built in the background, behind `listening on`
/// (requests wait for it); smaller ones (the default's build takes milliseconds) are built before.
pub const BACKGROUND_CATALOG: usize = 100_000;

/// Everything `serve` needs, resolved from flags and environment.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind (port 0 picks a free port).
    pub bind: SocketAddr,
    /// Fixture directory; `None` for the embedded defaults.
    pub fixtures: Option<PathBuf>,
    /// Seed for every random value (codes, token ids); `None` draws from the OS.
    pub seed: Option<u64>,
    /// HS256 key material for tokens.
    pub token_key: String,
    /// Journal entries kept per session.
    pub journal_capacity: usize,
    /// Journal bytes kept per session (`JournalEntry::weight`).
    pub journal_bytes: usize,
    /// Sessions kept besides the default one; one more evicts the least recently used (0: no limit).
    pub max_sessions: usize,
    /// Sessions other than the default one unused this long (real seconds) are evicted (0: never).
    pub session_idle_seconds: u64,
    /// Largest request body, bytes.
    pub body_limit: usize,
    /// Tracks in the generated catalog.
    pub catalog_size: usize,
    /// HMAC key material for stream URLs.
    pub stream_key: String,
    /// Lifetime of minted stream URLs, seconds (virtual clock).
    pub stream_ttl_s: i64,
    /// Directory of the encoded-audio cache; `None` for `$TMPDIR/amazon-music-mock-stream`.
    pub stream_cache_dir: Option<PathBuf>,
    /// Largest size of the encoded-audio cache, bytes.
    pub stream_cache_bytes: u64,
    /// Origin that minted URLs (stream URLs, the Device API's references) start with (e.g.
    /// `https://mock.example:8443`); `None` uses the request's scheme and `Host`.
    pub public_url: Option<String>,
    /// Serve TLS instead of plain HTTP, with a certificate made at start or read from files.
    pub tls: Option<TlsSource>,
    /// A request head must arrive within this, counted from the connection's start or, on a kept-alive
    /// connection, from the head's first byte; later, the connection is closed (zero: no limit).
    pub header_timeout: Duration,
    /// A request body must arrive within this, counted from its head; later, 408 (zero: no limit).
    pub body_timeout: Duration,
    /// A connection with no request in flight and none arriving is closed after this (zero: never).
    pub idle_timeout: Duration,
    /// After the shutdown signal, how long requests in flight may take to finish before their connections are
    /// closed; connections with none in flight are closed at once.
    pub shutdown_grace: Duration,
    /// Connections served at once; one more is answered 503 and closed (0: no limit).
    pub max_connections: usize,
    /// `--admin-token`: every admin route but health then needs `Authorization: Bearer <token>`.
    pub admin_token: Option<String>,
    /// The state file everything the mock remembers is written through to and restored from (created when
    /// missing), or a `redis://HOST:PORT[/DB]` URL that replicas share; `None` keeps state in memory only.
    pub state: Option<PathBuf>,
    /// A snapshot (`state export`) the state starts from: it replaces the state file's (or Redis's) contents,
    /// or, without one, seeds the in-memory state.
    pub import: Option<PathBuf>,
}

impl ServerConfig {
    /// The limits on connections, from the timeout and connection flags.
    pub fn connections(&self) -> ConnLimits {
        ConnLimits {
            header_timeout: self.header_timeout,
            idle_timeout: self.idle_timeout,
            shutdown_grace: self.shutdown_grace,
            max_connections: self.max_connections,
        }
    }

    /// Who may reach the admin API: the token, and bound to a loopback address the host names served besides
    /// the loopback ones (the Amazon names a generated certificate is for, and `--public-url`'s host).
    pub fn admin_access(&self) -> AdminAccess {
        let hosts = self.bind.ip().is_loopback().then(|| {
            let mut hosts: Vec<String> = crate::tls::HOSTS.iter().map(|h| (*h).to_owned()).collect();
            let public = self.public_url.as_deref().and_then(|u| url::Url::parse(u).ok());
            if let Some(host) = public.as_ref().and_then(url::Url::host_str) {
                hosts.push(crate::context::host_name(host));
            }
            hosts
        });
        AdminAccess { token: self.admin_token.clone(), hosts }
    }

    /// Whether anyone who can reach the port can drive the admin API: bound to a non-loopback address without an
    /// admin token (`serve` warns).
    pub fn admin_exposed(&self) -> bool {
        !self.bind.ip().is_loopback() && self.admin_token.is_none()
    }

    /// What the store keeps, from the journal and session flags.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            journal_entries: self.journal_capacity,
            journal_bytes: self.journal_bytes,
            max_sessions: self.max_sessions,
            session_idle_ms: i64::try_from(self.session_idle_seconds.saturating_mul(1000)).unwrap_or(i64::MAX),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            fixtures: None,
            seed: None,
            token_key: DEFAULT_TOKEN_KEY.to_owned(),
            journal_capacity: Bounds::default().journal_entries,
            journal_bytes: Bounds::default().journal_bytes,
            max_sessions: Bounds::default().max_sessions,
            session_idle_seconds: (Bounds::default().session_idle_ms / 1000) as u64,
            body_limit: 1024 * 1024,
            catalog_size: DEFAULT_CATALOG_SIZE,
            stream_key: crate::stream::DEFAULT_STREAM_KEY.to_owned(),
            stream_ttl_s: crate::stream::DEFAULT_TTL_S,
            stream_cache_dir: None,
            stream_cache_bytes: crate::stream::DEFAULT_MAX_BYTES,
            public_url: None,
            tls: None,
            header_timeout: crate::conn::DEFAULT_HEADER_TIMEOUT,
            body_timeout: crate::context::DEFAULT_BODY_TIMEOUT,
            idle_timeout: crate::conn::DEFAULT_IDLE_TIMEOUT,
            shutdown_grace: crate::conn::DEFAULT_SHUTDOWN_GRACE,
            max_connections: crate::conn::DEFAULT_MAX_CONNECTIONS,
            admin_token: None,
            state: None,
            import: None,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A fixture file is malformed.
    #[error("fixture error: {0}")]
    Fixtures(#[from] FixtureError),
    /// The stream cache directory cannot be created or read.
    #[error("stream cache {dir}: {source}")]
    StreamCache {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS certificate or key is unusable.
    #[error("{0}")]
    Tls(#[from] TlsError),
    /// The state file cannot be used.
    #[error("{0}")]
    State(#[from] crate::store::sqlite::StateError),
    /// The snapshot to import cannot be used.
    #[error("{0}")]
    Import(String),
    /// The shared store (`--state redis://…`) cannot be used.
    #[error("{0}")]
    Store(String),
    /// The thread that builds a large catalog could not be started.
    #[error("cannot start the catalog's build thread: {0}")]
    CatalogThread(String),
    /// The address could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Loads fixtures and builds the application state for a configuration.
///
/// # Errors
/// [`StartError::Fixtures`].
pub fn build_state(cfg: &ServerConfig) -> Result<AppState, StartError> {
    let fixtures = match &cfg.fixtures {
        Some(dir) => Fixtures::load_dir(dir)?,
        None => Fixtures::embedded(),
    };
    let fixtures = Arc::new(fixtures);
    let (catalog_file, catalog_spec) = crate::fixtures::CatalogFile::load(cfg.fixtures.as_deref())?;
    let catalog = if cfg.catalog_size >= BACKGROUND_CATALOG && catalog_spec.generate {
        // Large: built behind `listening on`; requests wait for it (`CatalogCell::ready`).
        let cell = Arc::new(CatalogCell::building());
        let (filler, seed, size) = (cell.clone(), cfg.seed.unwrap_or(0), cfg.catalog_size);
        std::thread::Builder::new()
            .name("amm-catalog".into())
            .spawn(move || filler.fill(catalog_spec.build(&catalog_file, seed, size).map_err(|e| e.to_string())))
            .map_err(|e| StartError::CatalogThread(e.to_string()))?;
        cell
    } else {
        Arc::new(CatalogCell::built(catalog_spec.build(&catalog_file, cfg.seed.unwrap_or(0), cfg.catalog_size)?))
    };
    let music_seed = crate::api::seed::seed_fn(catalog.clone(), fixtures.clone(), cfg.seed.unwrap_or(0));
    let snapshot = cfg
        .import
        .as_deref()
        .map(|p| crate::store::persist::Snapshot::read(p, crate::store::sqlite::FORMAT))
        .transpose()
        .map_err(StartError::Import)?;
    let mut token_key = cfg.token_key.clone();
    let redis = cfg.state.as_deref().and_then(crate::store::redis::is_redis_url);
    let store = MemoryStore::new(cfg.seed, cfg.bounds()).with_music_seed(music_seed.clone());
    let (store, state_file): (Arc<dyn crate::store::Store>, _) = match (&cfg.state, redis) {
        (Some(_), Some(url)) => {
            let opened =
                crate::store::redis::RedisStore::open(url, cfg.seed, cfg.bounds(), music_seed, snapshot.as_ref())
                    .map_err(StartError::Store)?;
            // As with a state file: the replicas share one random key, made by the first to start.
            if token_key == DEFAULT_TOKEN_KEY {
                token_key = opened.token_key;
            }
            (Arc::new(opened.store), None)
        }
        (Some(path), None) => {
            let (file, restored) = crate::store::sqlite::StateFile::open(path, snapshot.as_ref())?;
            // The built-in key is for the in-memory default only: a state file keeps a random one of its own.
            if token_key == DEFAULT_TOKEN_KEY {
                token_key = file.token_key.clone();
            }
            let corrupt = |message| crate::store::sqlite::StateError::Corrupt { path: path.clone(), message };
            let store = store.with_state(Some(file.sender()), &restored).map_err(corrupt)?;
            (Arc::new(store), Some(Arc::new(file)))
        }
        (None, _) => match &snapshot {
            Some(snap) => {
                if let (Some(key), true) = (&snap.token_key, token_key == DEFAULT_TOKEN_KEY) {
                    token_key = key.clone();
                }
                (Arc::new(store.with_state(None, &snap.restored()).map_err(StartError::Import)?), None)
            }
            None => (Arc::new(store), None),
        },
    };
    let tokens = TokenCodec::new(token_key.as_bytes());
    let cache_dir =
        cfg.stream_cache_dir.clone().unwrap_or_else(|| std::env::temp_dir().join("amazon-music-mock-stream"));
    let cache = crate::stream::StreamCache::new(&cache_dir, cfg.stream_cache_bytes)
        .map_err(|source| StartError::StreamCache { dir: cache_dir, source })?;
    let streams = crate::stream::Streams {
        key: cfg.stream_key.as_bytes().to_vec(),
        ttl_s: cfg.stream_ttl_s,
        cache: Arc::new(cache),
        public_url: cfg.public_url.clone(),
    };
    Ok(AppState::new(
        fixtures,
        catalog,
        store,
        tokens,
        Limits { body_limit: cfg.body_limit, body_timeout: cfg.body_timeout, admin: cfg.admin_access() },
        Arc::new(streams),
    )
    .with_state_file(state_file))
}

/// A server running in the background of the current tokio runtime.
pub struct RunningServer {
    addr: SocketAddr,
    tls: Option<Identity>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    state_file: Option<Arc<crate::store::sqlite::StateFile>>,
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, or `https://HOST:PORT` over TLS.
    pub fn uri(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The CA certificate (PEM) that signed the certificate the server made at start (`TlsSource::Generate`);
    /// `None` over plain HTTP or with one's own certificate.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().and_then(Identity::ca_pem)
    }

    /// Stops accepting, lets requests in flight finish (for at most the shutdown grace; connections with none
    /// in flight are closed at once), and waits.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        // What the journal and counters handed the state file's writer without waiting is in the file too.
        if let Some(f) = self.state_file.take() {
            f.close().await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds and starts serving in the background; returns once the socket accepts connections.
///
/// # Errors
/// [`StartError`].
pub async fn start(cfg: &ServerConfig) -> Result<RunningServer, StartError> {
    let identity = cfg.tls.as_ref().map(|t| Identity::resolve(t, cfg.bind.ip())).transpose()?;
    let state = build_state(cfg)?;
    start_with_state_and_tls(cfg.bind, state, identity, cfg.connections()).await
}

/// Like [`start`], with a prepared state, over plain HTTP, with the default [`ConnLimits`].
///
/// # Errors
/// [`StartError::Bind`].
pub async fn start_with_state(bind: SocketAddr, state: AppState) -> Result<RunningServer, StartError> {
    start_with_state_and_tls(bind, state, None, ConnLimits::default()).await
}

/// Like [`start`], with a prepared state; over TLS when `identity` is given (see [`Identity::resolve`]).
///
/// # Errors
/// [`StartError::Bind`].
pub async fn start_with_state_and_tls(
    bind: SocketAddr,
    state: AppState,
    identity: Option<Identity>,
    limits: ConnLimits,
) -> Result<RunningServer, StartError> {
    let listener = TcpListener::bind(bind).await.map_err(|source| StartError::Bind { addr: bind, source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: bind, source })?;
    let (tx, rx) = oneshot::channel::<()>();
    let state_file = state.state_file.clone();
    let scheme = if identity.is_some() { "https" } else { "http" };
    let state_for_sweep = state.clone();
    let app = router(state, scheme);
    let sweeper = tokio::spawn(sweep_forever(state_for_sweep));
    let shutdown = async move {
        let _ = rx.await;
        sweeper.abort();
    };
    let acceptor = identity.as_ref().map(Identity::acceptor);
    let task = tokio::spawn(crate::conn::serve(listener, app, acceptor, limits, shutdown));
    Ok(RunningServer { addr, tls: identity, shutdown: Some(tx), task: Some(task), state_file })
}

/// How often the store is swept: idle sessions evicted, expired codes and code pairs forgotten.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Sweeps the store every [`SWEEP_EVERY`] until the server stops (the task is aborted then).
async fn sweep_forever(state: AppState) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        let swept = state.store.sweep().await;
        if swept != crate::store::Swept::default() {
            tracing::debug!(sessions = swept.sessions, codes = swept.codes, "swept the store");
        }
    }
}

/// Installs the SIGINT and SIGTERM handlers **now** and returns a future that resolves on either.
///
/// The handlers must be in place before `serve` announces `listening on`: a supervisor that sends SIGTERM
/// as soon as it reads that line would otherwise kill the process with the default action (exit by
/// signal 15) instead of a clean shutdown with status 0. Call it from within the runtime.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            let term = async {
                match term {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            let int = async {
                match int {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = term => {},
                () = int => {},
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// An in-process mock for tests, in the wiremock style: binds `127.0.0.1:0`, serves in the background,
/// and stops when dropped.
pub struct MockAmazon {
    server: RunningServer,
}

impl MockAmazon {
    /// Starts with the embedded fixtures, a fixed seed and the default key.
    ///
    /// # Panics
    /// When the loopback socket cannot be bound (a test environment problem).
    pub async fn start() -> Self {
        let cfg =
            ServerConfig { bind: SocketAddr::from(([127, 0, 0, 1], 0)), seed: Some(1), ..ServerConfig::default() };
        Self::start_with(cfg).await
    }

    /// Starts with a given configuration (its `bind` is used as is; its `tls` too).
    ///
    /// # Panics
    /// When the configuration cannot start (tests pass valid ones).
    pub async fn start_with(cfg: ServerConfig) -> Self {
        MockAmazon { server: start(&cfg).await.expect("the mock starts") }
    }

    /// Starts on `127.0.0.1:0` over a state the caller built with [`build_state`] and keeps a clone of, to
    /// reach the store, the catalog or the stream engine from a test.
    ///
    /// # Panics
    /// When the loopback socket cannot be bound.
    pub async fn start_with_state(state: AppState) -> Self {
        let bind = SocketAddr::from(([127, 0, 0, 1], 0));
        MockAmazon { server: start_with_state(bind, state).await.expect("the mock starts") }
    }

    /// `http://127.0.0.1:PORT` (`https://…` when the configuration's `tls` is set).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The CA certificate (PEM) to trust when started with `tls: Some(TlsSource::Generate)`.
    pub fn ca_pem(&self) -> Option<&str> {
        self.server.ca_pem()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Stops accepting, lets requests in flight finish, and closes the state file (with
    /// [`ServerConfig::state`]), so that another mock can open it.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}
