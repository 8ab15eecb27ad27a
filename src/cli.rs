//! The command line: `amazon-music-mock serve …` (every `serve` flag can also be set with an
//! `AMM_`-prefixed environment variable, `--bind` ↔ `AMM_BIND`), `healthcheck`, the scenario commands
//! `run`, `check`, `schema` and `conformance` (carried out by `scenario::cmd`), and `verdict` (client
//! verdicts, `verdict::cmd`).
//!
//! Exit codes: 0 success (a clean shutdown; every scenario passed; every judged rule passed), 1 a scenario
//! failed (`run`), a rule failed (`verdict`), the server is unhealthy (`healthcheck`) or a document is stale
//! (`conformance --check`), 2 usage, fixture, plan, scenario file, network or I/O errors (the message goes to
//! stderr).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::scenario::cmd::{CheckArgs, ConformanceArgs, RunArgs, SchemaArgs};
use crate::server::{DEFAULT_TOKEN_KEY, ServerConfig, build_state, shutdown_signal, start_with_state_and_tls};
use crate::tls::{Identity, TlsSource};
use crate::verdict::cmd::VerdictArgs;

/// Offline stand-in for Login With Amazon and the Amazon Music Web API.
#[derive(Debug, Parser)]
#[command(name = "amazon-music-mock", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the mock until SIGINT or SIGTERM.
    Serve(Box<ServeArgs>),
    /// Exit 0 when a running server answers `GET /__admin/health` with 200, 1 otherwise (for container
    /// HEALTHCHECKs on images without curl).
    Healthcheck(HealthcheckArgs),
    /// Run scenario files against the in-process mock or a --target; exit 0 all passed, 1 a scenario
    /// failed, 2 usage or file errors.
    Run(RunArgs),
    /// Validate scenario files without running them; exit 0 valid, 2 with file:line:column errors.
    Check(CheckArgs),
    /// Print the JSON Schema of scenario files (committed as scenarios/schema.json).
    Schema(SchemaArgs),
    /// Generate docs/CONFORMANCE.md: every spec MUST with the scenarios that cite it, and the client rules.
    Conformance(ConformanceArgs),
    /// Ask a running mock for a session's client verdict; exit 0 every judged rule passed, 1 a rule failed,
    /// 2 usage, network or file errors.
    Verdict(VerdictArgs),
    /// Work with a state file (`serve --state`): `state export` prints it as one JSON snapshot.
    #[command(subcommand)]
    State(StateCommand),
}

/// `state` subcommands.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Print a state file as a JSON snapshot (for `serve --import`); exit 0, or 2 when the file cannot be
    /// read (a server that has it open holds it locked: stop it first).
    Export(StateExportArgs),
}

/// `state export` flags.
#[derive(Debug, clap::Args)]
pub struct StateExportArgs {
    /// The state file, or a Redis URL (redis://HOST:PORT[/DB]).
    #[arg(long, env = "AMM_STATE", value_name = "PATH|URL")]
    pub state: PathBuf,
    /// Write the snapshot here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `healthcheck` flags.
#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// Address of the server to ask.
    #[arg(long, env = "AMM_HEALTHCHECK_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Give up after this many milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub timeout_ms: u64,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// `serve` flags.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the `listening on` line shows the real one).
    #[arg(long, env = "AMM_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Directory with fixture files replacing the embedded ones (security-profiles.yaml, users.yaml).
    #[arg(long, env = "AMM_FIXTURES")]
    pub fixtures: Option<PathBuf>,
    /// Seed for every random value (codes, token ids), so runs repeat.
    #[arg(long, env = "AMM_SEED")]
    pub seed: Option<u64>,
    /// Key material for signing tokens; replicas that share it accept each other's tokens.
    #[arg(long, env = "AMM_TOKEN_KEY", default_value = DEFAULT_TOKEN_KEY, hide_default_value = true)]
    pub token_key: String,
    /// Request-journal entries kept per session.
    #[arg(long, env = "AMM_JOURNAL_CAPACITY", default_value_t = 1000)]
    pub journal_capacity: usize,
    /// Request-journal bytes kept per session (entries are cut to 1 KiB a value, 50 pairs a list).
    #[arg(long, env = "AMM_JOURNAL_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub journal_bytes: usize,
    /// Sessions kept besides the default one; one more evicts the least recently used (0: no limit).
    #[arg(long, env = "AMM_MAX_SESSIONS", default_value_t = 1000)]
    pub max_sessions: usize,
    /// Sessions other than the default one unused this many seconds are evicted (0: never).
    #[arg(long, env = "AMM_SESSION_IDLE_SECONDS", default_value_t = 86_400)]
    pub session_idle_seconds: u64,
    /// Largest accepted request body in bytes (larger bodies get 413).
    #[arg(long, env = "AMM_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// Tracks in the generated catalog (deterministic from --seed; e.g. 1000000 for scale tests). From 100000
    /// on it builds behind `listening on` (requests wait for it; a `catalog ready` line says when).
    #[arg(long, env = "AMM_CATALOG_SIZE", default_value_t = crate::server::DEFAULT_CATALOG_SIZE)]
    pub catalog_size: usize,
    /// Key material for signing stream URLs.
    #[arg(long, env = "AMM_STREAM_KEY", default_value = crate::stream::DEFAULT_STREAM_KEY, hide_default_value = true)]
    pub stream_key: String,
    /// Lifetime of minted stream URLs in seconds of the virtual clock.
    #[arg(long, env = "AMM_STREAM_TTL", default_value_t = crate::stream::DEFAULT_TTL_S)]
    pub stream_ttl: i64,
    /// Directory for encoded audio (kept across runs); default $TMPDIR/amazon-music-mock-stream.
    #[arg(long, env = "AMM_STREAM_CACHE_DIR")]
    pub stream_cache_dir: Option<PathBuf>,
    /// Largest size of the encoded-audio cache in bytes.
    #[arg(long, env = "AMM_STREAM_CACHE_BYTES", default_value_t = crate::stream::DEFAULT_MAX_BYTES)]
    pub stream_cache_bytes: u64,
    /// Origin that minted stream URLs and the Device API's references start with (e.g.
    /// https://mock.example:8443); default: the request's Host, over the request's scheme (https with --tls).
    #[arg(long, env = "AMM_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Serve HTTPS (HTTP/1.1 and HTTP/2) with a certificate made at start for api.amazon.com, www.amazon.com,
    /// amazon.com, music-api.amazon.com, api.music.amazon.dev, api.music.amazon.com, localhost, 127.0.0.1,
    /// ::1 and the bound IP, signed by a fresh CA whose certificate is written to --tls-ca-out.
    /// (AMM_TLS takes 1/0, true/false, yes/no or on/off.)
    #[arg(long, env = "AMM_TLS", value_parser = clap::builder::BoolishValueParser::new())]
    pub tls: bool,
    /// Where --tls writes the CA certificate (PEM) to trust [default: $TMPDIR/amazon-music-mock-ca-PORT.pem,
    /// removed at a clean shutdown]; its path is printed after the `listening on` line.
    #[arg(long, env = "AMM_TLS_CA_OUT", value_name = "PATH", conflicts_with = "tls_cert")]
    pub tls_ca_out: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first) instead of a made one;
    /// needs --tls-key, implies --tls.
    #[arg(long, env = "AMM_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "AMM_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Seconds a request head may take to arrive, from the connection's start or, on a kept-alive connection,
    /// from its first byte; later the connection is closed (0: no limit). Decimals are allowed (0.5).
    #[arg(long, env = "AMM_HEADER_TIMEOUT", value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    pub header_timeout: Duration,
    /// Seconds a request body may take to arrive, from its head; later the request is answered 408 (0: no
    /// limit).
    #[arg(long, env = "AMM_BODY_TIMEOUT", value_name = "SECONDS", default_value = "30", value_parser = parse_seconds)]
    pub body_timeout: Duration,
    /// Seconds a connection with no request in flight and none arriving stays open (0: no limit).
    #[arg(long, env = "AMM_IDLE_TIMEOUT", value_name = "SECONDS", default_value = "60", value_parser = parse_seconds)]
    pub idle_timeout: Duration,
    /// Seconds requests in flight get to finish after SIGINT or SIGTERM; then every connection is closed and the
    /// process exits (connections with nothing in flight are closed at once).
    #[arg(long, env = "AMM_SHUTDOWN_GRACE", value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub shutdown_grace: Duration,
    /// Connections served at once; one more is answered 503 with a JSON body naming this flag, then closed (0:
    /// no limit).
    #[arg(long, env = "AMM_MAX_CONNECTIONS", value_name = "N", default_value_t = crate::conn::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// A token every admin route but health then needs, as `Authorization: Bearer <token>` (the dashboard asks
    /// for it once). Letters, digits and - . _ ~ + / =. Without it, binding a non-loopback address warns.
    #[arg(long, env = "AMM_ADMIN_TOKEN", value_name = "TOKEN", hide_env_values = true, value_parser = parse_admin_token)]
    pub admin_token: Option<String>,
    /// Keep everything the mock remembers in this SQLite state file (created when missing), so that linked
    /// devices, playlists, revocations and clocks survive a restart; or, as redis://HOST:PORT[/DB], in a Redis
    /// or Valkey server shared by every replica given the same URL; default: in memory only.
    #[arg(long, env = "AMM_STATE", value_name = "PATH|URL")]
    pub state: Option<PathBuf>,
    /// Start from this snapshot (`state export`): it replaces the --state file's (or Redis's) contents, or,
    /// without --state, seeds the in-memory state.
    #[arg(long, env = "AMM_IMPORT", value_name = "FILE")]
    pub import: Option<PathBuf>,
    /// A client plan (scenarios/clients/*.yaml) loaded into the default session.
    #[arg(long, env = "AMM_PLAN", value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Log format (logs go to stderr).
    #[arg(long, env = "AMM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// Log filter, e.g. `info` or `amazon_music_mock=debug`.
    #[arg(long, env = "AMM_LOG", default_value = "info")]
    pub log: String,
}

impl ServeArgs {
    fn config(&self) -> ServerConfig {
        ServerConfig {
            bind: self.bind,
            fixtures: self.fixtures.clone(),
            seed: self.seed,
            token_key: self.token_key.clone(),
            journal_capacity: self.journal_capacity,
            journal_bytes: self.journal_bytes,
            max_sessions: self.max_sessions,
            session_idle_seconds: self.session_idle_seconds,
            body_limit: self.body_limit,
            catalog_size: self.catalog_size,
            stream_key: self.stream_key.clone(),
            stream_ttl_s: self.stream_ttl,
            stream_cache_dir: self.stream_cache_dir.clone(),
            stream_cache_bytes: self.stream_cache_bytes,
            public_url: self.public_url.clone(),
            tls: match (&self.tls_cert, &self.tls_key) {
                (Some(cert), Some(key)) => Some(TlsSource::files(cert, key)),
                _ if self.tls => Some(TlsSource::Generate),
                _ => None,
            },
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            idle_timeout: self.idle_timeout,
            shutdown_grace: self.shutdown_grace,
            max_connections: self.max_connections,
            admin_token: self.admin_token.clone(),
            state: self.state.clone(),
            import: self.import.clone(),
        }
    }
}

/// Reads a number of seconds (decimals allowed: `0.5`) for the timeout flags.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let bad = || format!("expected a number of seconds, e.g. 10 or 0.5; got {text:?}");
    let s: f64 = text.trim().parse().map_err(|_| bad())?;
    if !s.is_finite() || !(0.0..=MAX_FLAG_SECONDS).contains(&s) {
        return Err(format!("expected seconds from 0 to {MAX_FLAG_SECONDS}; got {text:?}"));
    }
    Ok(Duration::from_secs_f64(s))
}

/// Reads `--admin-token`: an RFC 6750 token (it travels in a header and a cookie as it is).
fn parse_admin_token(text: &str) -> Result<String, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
    if text.is_empty() || text.len() > 512 || !text.chars().all(allowed) {
        return Err("expected 1 to 512 of the characters A-Z a-z 0-9 - . _ ~ + / =".to_owned());
    }
    Ok(text.to_owned())
}

/// The largest value of a timeout flag: a year.
const MAX_FLAG_SECONDS: f64 = 31_536_000.0;

fn init_logging(format: LogFormat, filter: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let code = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(*args)),
        Command::Healthcheck(args) => runtime.block_on(healthcheck(args)),
        Command::Run(args) => runtime.block_on(crate::scenario::cmd::run_command(args)),
        Command::Check(args) => crate::scenario::cmd::check_command(args),
        Command::Schema(args) => crate::scenario::cmd::schema_command(args),
        Command::Conformance(args) => crate::scenario::cmd::conformance_command(args),
        Command::Verdict(args) => runtime.block_on(crate::verdict::cmd::verdict_command(args)),
        Command::State(StateCommand::Export(args)) => state_export(&args),
    };
    // Dropping a runtime waits for every blocking task; one a client started (an audio encode, whose cache file
    // is only renamed into place when complete) must not hold the exit up once the server has stopped.
    runtime.shutdown_timeout(BLOCKING_TASKS_AT_EXIT);
    code
}

fn state_export(args: &StateExportArgs) -> ExitCode {
    let snapshot = match crate::store::redis::is_redis_url(&args.state) {
        Some(url) => crate::store::redis::RedisStore::export(url),
        None => crate::store::sqlite::StateFile::export(&args.state).map_err(|e| e.to_string()),
    };
    let snapshot = match snapshot {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut text = serde_json::to_string_pretty(&snapshot).unwrap_or_default();
    text.push('\n');
    let written = match &args.out {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => std::io::stdout().lock().write_all(text.as_bytes()).map_err(|e| format!("cannot write stdout: {e}")),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The warning for a non-loopback bind without `--admin-token`.
fn exposed_warning(bind: SocketAddr) -> String {
    format!(
        "warning: bound to {}, not a loopback address, without --admin-token: anyone who can reach this port can \
         drive the admin API and read its client secrets; set --admin-token (AMM_ADMIN_TOKEN)",
        bind.ip()
    )
}

/// How long the process waits at exit for blocking tasks still running (audio encodes).
const BLOCKING_TASKS_AT_EXIT: Duration = Duration::from_secs(1);

/// A minimal HTTP/1.1 GET over a plain socket: the runtime image has no curl, and pulling an HTTP client
/// into the server binary for one request is not worth it.
async fn healthcheck(args: HealthcheckArgs) -> ExitCode {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(args.addr).await.ok()?;
        let req = format!("GET /__admin/health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", args.addr);
        stream.write_all(req.as_bytes()).await.ok()?;
        let mut buf = Vec::with_capacity(512);
        stream.read_to_end(&mut buf).await.ok()?;
        let head = String::from_utf8_lossy(&buf);
        Some(head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"))
    };
    match tokio::time::timeout(std::time::Duration::from_millis(args.timeout_ms), attempt).await {
        Ok(Some(true)) => ExitCode::SUCCESS,
        _ => {
            eprintln!("unhealthy: no 200 from http://{}/__admin/health", args.addr);
            ExitCode::from(1)
        }
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    init_logging(args.log_format, &args.log);
    let cfg = args.config();
    // Certificate files are checked first: a wrong path fails at once, not after the catalog is built.
    let identity = match cfg.tls.as_ref().map(|t| Identity::resolve(t, cfg.bind.ip())).transpose() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let state = match build_state(&cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let plan = match &args.plan {
        Some(path) => match crate::plan::Plan::load(path) {
            Ok(p) => Some(std::sync::Arc::new(p)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    if let Some(p) = &plan {
        let session = state.store.session(&crate::store::SessionId::default_session());
        if let Err(e) = session.sync().await {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        // Loading a plan resets the session: a state file that already has this plan keeps its state.
        if session.plan().await.as_deref() == Some(&**p) {
            tracing::info!(plan = %p.name, "plan already loaded in the state file's default session: kept");
        } else {
            session.load_plan(Some(p.clone())).await;
            tracing::info!(plan = %p.name, "plan loaded into the default session");
        }
    }
    let sessions = state.store.session_ids().await.len();
    let catalog = state.catalog.clone();
    let profiles = state.fixtures.profiles().len();
    let users = state.fixtures.users().len();
    // Before the `listening on` line: from then on a SIGTERM must mean a clean shutdown.
    let shutdown = shutdown_signal();
    let server = match start_with_state_and_tls(cfg.bind, state, identity, cfg.connections()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The CA a client is to trust is on disk before the lines that point at it.
    let ca_file = match server.ca_pem() {
        Some(pem) => {
            let (path, is_default) = match &args.tls_ca_out {
                Some(p) => (p.clone(), false),
                None => (crate::tls::default_ca_path(server.addr().port()), true),
            };
            if let Err(e) = crate::tls::write_ca(&path, pem, "--tls-ca-out") {
                eprintln!("error: {e}");
                server.stop().await;
                return ExitCode::from(2);
            }
            Some((path, is_default))
        }
        None => None,
    };
    {
        // The first line stays `listening on SCHEME://HOST:PORT`: tools parse it.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", server.uri());
        if let Some((path, _)) = &ca_file {
            let _ = writeln!(out, "ca certificate: {}", path.display());
        }
        if cfg.admin_exposed() {
            let _ = writeln!(out, "{}", exposed_warning(cfg.bind));
        }
        if catalog.get().is_none() {
            let _ = writeln!(
                out,
                "catalog: building {} tracks in the background; requests wait for it",
                cfg.catalog_size.min(crate::catalog::MAX_GENERATED_TRACKS)
            );
        }
        let _ = out.flush();
    }
    if catalog.get().is_none() {
        let since = crate::clock::real_now_ms();
        tokio::spawn(async move {
            match catalog.ready().await {
                Ok(c) => {
                    let secs = (crate::clock::real_now_ms() - since) as f64 / 1000.0;
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "catalog ready: {} tracks, {secs:.1} s after listening", c.tracks().len());
                    let _ = out.flush();
                }
                Err(e) => {
                    eprintln!("error: the catalog could not be built: {e}");
                    std::process::exit(2);
                }
            }
        });
    }
    if cfg.admin_exposed() {
        eprintln!("{}", exposed_warning(cfg.bind));
    }
    tracing::info!(addr = %server.addr(), profiles, users, tls = cfg.tls.is_some(), "serving");
    match &cfg.state {
        Some(path) if crate::store::redis::is_redis_url(path).is_some() => {
            tracing::info!(sessions, "state kept in Redis, shared with every replica on it")
        }
        Some(path) => tracing::info!(state = %path.display(), sessions, "state kept in the state file"),
        None => tracing::info!("state kept in memory only: it ends with the process (--state PATH keeps it)"),
    }
    shutdown.await;
    tracing::info!("shutting down");
    server.stop().await;
    // The default CA file belongs to this run (the next one makes a new CA); one named with --tls-ca-out stays.
    if let Some((path, true)) = &ca_file {
        let _ = std::fs::remove_file(path);
    }
    ExitCode::SUCCESS
}
