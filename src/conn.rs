//! Serving connections: the accept loop over plain TCP or TLS, the cap on open connections, the timeouts that
//! close a connection nobody uses, the deadline of a request body, and a shutdown that ends within a bounded
//! time whatever clients do. `server.rs` starts it; `docs/ROUTES.md` "Connections" documents the limits.
//!
//! Each accepted connection runs in a task of its own: the TLS handshake with `serve --tls` (`tls::handshake`,
//! with its own time limit), then hyper (`hyper_util`'s auto builder: HTTP/1.1, and HTTP/2 by ALPN or by prior
//! knowledge) with the router as its service. A watchdog in that task follows the connection's [`Phase`] and
//! closes the connection when a phase lasts too long:
//!
//! - **head**: a new connection, or the first bytes of a next request on an HTTP/1.1 connection with none in
//!   flight: the whole request head must arrive within [`ConnLimits::header_timeout`];
//! - **idle**: no request in flight and nothing of a next one: closed after [`ConnLimits::idle_timeout`];
//! - **busy**: a request in flight, until its response is sent to the end: no limit here (an audio stream
//!   lasts as long as its listener reads it); the request body has its own deadline ([`body_deadline`]).
//!
//! hyper's own `header_read_timeout` is off: its clock starts when hyper starts waiting for a head, so it also
//! closes a kept-alive connection after the header timeout, and cannot give a 10 s header limit with a 60 s
//! keep-alive. The watchdog gives both (the semantics of Go's `ReadHeaderTimeout` and `IdleTimeout`). What it
//! reads belongs to its connection alone: a few atomics and a `Notify` that no other connection touches, and
//! a request wakes it only while the server stops ([`Activity`]).
//!
//! **The cap.** At most [`ConnLimits::max_connections`] connections are served at once (one atomic count,
//! changed once when a connection opens and once when it closes). One more is still read: its first request is
//! answered 503 with a JSON body naming `--max-connections` ([`too_many_connections`]), then it is closed. At
//! most [`REFUSING_AT_ONCE`] refusals run at once (beyond them a connection is closed unanswered), each for at
//! most [`REFUSAL_LIMIT`].
//!
//! **Shutdown.** When the shutdown future resolves, the listener is closed and every connection hears it: one
//! with no request in flight is closed at once (also one half-way through sending a head, which hyper's graceful
//! shutdown would leave open), one with a request in flight gets hyper's graceful shutdown (the response is
//! finished, then the connection closed; a `GOAWAY` over HTTP/2). Whatever is still open after
//! [`ConnLimits::shutdown_grace`] is closed, so a shutdown never takes longer than that.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use http_body::{Body as _, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Default of [`ConnLimits::header_timeout`] (`--header-timeout`).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Default of [`ConnLimits::idle_timeout`] (`--idle-timeout`): longer than the idle time of most clients'
/// connection pools, so a client rarely sends on a connection the server is closing.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Default of [`ConnLimits::shutdown_grace`] (`--shutdown-grace`).
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Default of [`ConnLimits::max_connections`] (`--max-connections`): under the 1024 open files a process is
/// commonly allowed, with room left for the stream cache's files.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Connections over the cap that are being answered 503 at once; one more is closed unanswered.
pub const REFUSING_AT_ONCE: usize = 64;

/// How long a connection over the cap may take to send its request and read the 503.
pub const REFUSAL_LIMIT: Duration = Duration::from_secs(5);

/// How long the accept loop waits after an error that is not the client's (out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// The limits on connections, fixed at start-up (`ServerConfig::connections`). A zero duration or count is no
/// limit (a zero `shutdown_grace` closes every connection at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// A request head must arrive within this, counted from the connection's start or, on a kept-alive
    /// HTTP/1.1 connection, from the first byte of the head; later, the connection is closed unanswered.
    pub header_timeout: Duration,
    /// A connection with no request in flight and none arriving is closed after this.
    pub idle_timeout: Duration,
    /// After the shutdown signal, how long requests in flight may take before their connections are closed.
    pub shutdown_grace: Duration,
    /// Connections served at once; one more is answered 503 and closed.
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// What a connection hands each request to: the application (`app::App`), cloned per connection and per
/// request (a clone is a reference count), answering every request (a panic included) with a response.
pub trait Answer: Clone + Send + Sync + 'static {
    /// The response to `req`.
    fn answer(self, req: Request) -> impl Future<Output = Response> + Send + 'static;
}

/// Serves `app` on `listener` (TLS first when `tls` is given) until `shutdown` resolves, then shuts down
/// within `limits.shutdown_grace` (module doc).
pub async fn serve<A: Answer>(
    listener: TcpListener,
    app: A,
    tls: Option<TlsAcceptor>,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()>,
) {
    let (stop, stopped) = watch::channel(());
    let open = Arc::new(AtomicUsize::new(0));
    let refusing = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next() => continue,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // As axum's listener: a connection that died before it was accepted is nothing; anything else
                // (out of file descriptors) waits a moment before trying again.
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "accept error");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                    }
                }
            },
        };
        // A streamed body leaves as the headers then the chunks: without TCP_NODELAY, Nagle holds a small
        // second write until the client's delayed ACK (~40 ms), which stalls every DASH segment.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let accepted = Accepted { tcp, peer, tls: tls.clone(), stop: stopped.clone() };
        if limits.max_connections == 0 || open.load(Ordering::Acquire) < limits.max_connections {
            tasks.spawn(serve_connection(accepted, Slot::take(&open), app.clone(), limits));
        } else if refusing.load(Ordering::Acquire) < REFUSING_AT_ONCE {
            tasks.spawn(refuse_connection(accepted, Slot::take(&refusing), limits.max_connections));
        } else {
            tracing::debug!(peer = %peer, "connection closed unanswered: over the cap, and too many refusals under way");
        }
    }
    drop(listener);
    let _ = stop.send(());
    let drained = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_grace, drained).await.is_err() {
        tracing::info!(connections = tasks.len(), "closing the connections still busy after the shutdown grace");
        tasks.shutdown().await;
    }
}

/// Errors of one connection that died before it was accepted: nothing to wait for.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// An accepted socket on its way to being served.
struct Accepted {
    /// The socket.
    tcp: TcpStream,
    /// Who is on the other end (for the debug log).
    peer: SocketAddr,
    /// The TLS acceptor with `serve --tls`.
    tls: Option<TlsAcceptor>,
    /// Changes (or closes) when the server shuts down.
    stop: watch::Receiver<()>,
}

/// One place in a count of connections, given back when the connection's task ends (or is aborted).
struct Slot(Arc<AtomicUsize>);

impl Slot {
    /// Takes a place in `count`.
    fn take(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Slot(count.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves one connection under the cap: the TLS handshake (given up when the server stops first), then
/// [`serve_io`].
async fn serve_connection<A: Answer>(a: Accepted, _slot: Slot, app: A, limits: ConnLimits) {
    let Accepted { tcp, peer, tls, stop } = a;
    match tls {
        None => serve_io(tcp, peer, app, limits, stop).await,
        Some(acceptor) => {
            if let Some(s) = handshake_unless_stopped(&acceptor, tcp, peer, &stop).await {
                serve_io(s, peer, app, limits, stop).await;
            }
        }
    }
}

/// The TLS handshake of an accepted connection; `None` when it fails, or when the server stops first.
async fn handshake_unless_stopped(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    stop: &watch::Receiver<()>,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let mut stopping = stop.clone();
    tokio::select! {
        s = crate::tls::handshake(acceptor, tcp, peer) => s,
        _ = stopping.changed() => None,
    }
}

/// Answers one connection over the cap: the TLS handshake, then [`refuse_io`].
async fn refuse_connection(a: Accepted, _slot: Slot, max: usize) {
    let Accepted { tcp, peer, tls, stop } = a;
    tracing::debug!(peer = %peer, max, "connection over the cap: answered 503");
    match tls {
        None => refuse_io(tcp, max, stop).await,
        Some(acceptor) => {
            if let Some(s) = handshake_unless_stopped(&acceptor, tcp, peer, &stop).await {
                refuse_io(s, max, stop).await;
            }
        }
    }
}

/// What a connection is doing, as its watchdog sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A request head is arriving (or the connection is new): [`ConnLimits::header_timeout`].
    Head,
    /// A request is in flight: no limit.
    Busy,
    /// Nothing in flight, nothing arriving: [`ConnLimits::idle_timeout`].
    Idle,
}

/// One connection's activity, shared by its watchdog, its socket ([`Watched`]) and its requests ([`InFlight`];
/// over HTTP/2 they run in tasks of their own). Nothing outside the connection touches it.
///
/// A request changes the phase three times (head, busy, idle); each change is a few atomic stores and one
/// reading of the monotonic clock, and wakes nobody. The watchdog's timer fires at the deadline it was set
/// for, reads the phase and when it began, and either closes the connection or sets itself for the rest of
/// the current phase's limit. Only while the server stops does a change wake the watchdog (`changed`), which
/// then closes the connection as soon as no request is in flight.
struct Activity {
    /// Requests whose response has not been sent to the end.
    in_flight: AtomicUsize,
    /// A head is arriving: the connection is new, or bytes came while no request was in flight (HTTP/1.1).
    head: AtomicBool,
    /// When the connection was accepted: `since` counts from it.
    opened: Instant,
    /// When the phase last changed, in microseconds since `opened`.
    since: AtomicU64,
    /// The server is stopping: a change wakes the watchdog.
    stopping: AtomicBool,
    /// Wakes the watchdog on a change while the server stops.
    changed: Notify,
}

impl Activity {
    /// A new connection: waiting for its first head.
    fn new() -> Self {
        Activity {
            in_flight: AtomicUsize::new(0),
            head: AtomicBool::new(true),
            opened: Instant::now(),
            since: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            changed: Notify::new(),
        }
    }

    /// The phase now.
    fn phase(&self) -> Phase {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            Phase::Busy
        } else if self.head.load(Ordering::Acquire) {
            Phase::Head
        } else {
            Phase::Idle
        }
    }

    /// The phase now, and how long it has lasted.
    fn phase_and_age(&self) -> (Phase, Duration) {
        let phase = self.phase();
        let since = Duration::from_micros(self.since.load(Ordering::Acquire));
        (phase, self.opened.elapsed().saturating_sub(since))
    }

    /// The phase is about to change: its new start time is stored before the change, so that the watchdog never
    /// reads a new phase with the previous one's start (which would close a connection whose head has only just
    /// begun, or that went idle only now after a long response). It may read the old phase with the new time,
    /// which only makes it look again later. A request ending that leaves others in flight (HTTP/2) moves the time
    /// of a busy phase, which has no limit.
    fn phase_changing(&self) {
        let now = u64::try_from(self.opened.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.since.store(now, Ordering::Release);
    }

    /// The phase changed: while the server stops, the watchdog hears of it.
    fn phase_changed(&self) {
        if self.stopping.load(Ordering::Acquire) {
            self.changed.notify_one();
        }
    }

    /// Bytes arrived on an HTTP/1.1 connection: with no request in flight, they begin a head. (Only the
    /// connection's own task reads its socket and begins its requests, so nothing changes between the check and
    /// the change.)
    fn bytes_arrived(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0 && !self.head.load(Ordering::Acquire) {
            self.phase_changing();
            self.head.store(true, Ordering::Release);
            self.phase_changed();
        }
    }
}

/// A request in flight, from its head until its response body is dropped (sent, or the connection gone).
struct InFlight(Arc<Activity>);

impl InFlight {
    /// A head arrived whole: the request is in flight.
    fn begin(activity: &Arc<Activity>) -> Self {
        activity.phase_changing();
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.head.store(false, Ordering::Release);
        activity.phase_changed();
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.phase_changing();
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.phase_changed();
        }
    }
}

/// A response body that keeps its request [`InFlight`] until hyper drops it.
struct Tracked {
    /// The router's body.
    body: Body,
    /// Ends the request when dropped.
    _in_flight: InFlight,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The first bytes of an HTTP/2 connection (its preface begins `PRI * HTTP/2.0`).
const H2_PREFACE_START: &[u8] = b"PRI *";

/// A connection's socket (plain or TLS) that tells its [`Activity`] when bytes arrive. Over HTTP/2 (the first
/// read was the preface) bytes are frames of any stream, so they say nothing about a head and are not told.
struct Watched<I> {
    /// The socket.
    io: I,
    /// The connection's activity.
    activity: Arc<Activity>,
    /// Nothing was read yet.
    first_read: bool,
    /// The connection speaks HTTP/2.
    h2: bool,
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            if std::mem::take(&mut this.first_read) {
                this.h2 = buf.filled()[before..].starts_with(H2_PREFACE_START);
            }
            if !this.h2 {
                this.activity.bytes_arrived();
            }
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The limit of a phase (zero: none).
fn limit_of(phase: Phase, limits: &ConnLimits) -> Duration {
    match phase {
        Phase::Head => limits.header_timeout,
        Phase::Idle => limits.idle_timeout,
        Phase::Busy => Duration::ZERO,
    }
}

/// What the watchdog does when its timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// The phase outlasted its limit: close the connection.
    Close(Phase),
    /// Look again after this long (the rest of the phase's limit, or, in a phase without one, the shorter
    /// limit: a phase without a limit may end any time, and the next one's limit counts from then).
    Again(Duration),
}

/// The watchdog's decision for a phase that has lasted `age`; `None` when no phase has a limit.
fn check(phase: Phase, age: Duration, limits: &ConnLimits) -> Option<Check> {
    let limit = limit_of(phase, limits);
    if limit.is_zero() {
        let shorter = [limits.header_timeout, limits.idle_timeout].into_iter().filter(|l| !l.is_zero()).min()?;
        return Some(Check::Again(shorter));
    }
    Some(if age >= limit { Check::Close(phase) } else { Check::Again(limit - age) })
}

/// Serves one connection with hyper, its watchdog closing it when a phase lasts too long or the server stops
/// (module doc).
async fn serve_io<I, A: Answer>(io: I, peer: SocketAddr, app: A, limits: ConnLimits, mut stop: watch::Receiver<()>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { io, activity: activity.clone(), first_read: true, h2: false });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let in_flight = InFlight::begin(&activity);
            let answer = app.clone().answer(req.map(Body::new));
            async move {
                let resp = answer.await;
                Ok::<_, Infallible>(resp.map(|body| Tracked { body, _in_flight: in_flight }))
            }
        })
    };
    let mut builder = Builder::new(TokioExecutor::new());
    // The watchdog times request heads (module doc).
    builder.http1().header_read_timeout(None);
    let mut conn = pin!(builder.serve_connection(io, service));
    // The first look: a new connection is in its head phase (or already further along by then).
    let first = check(Phase::Head, Duration::ZERO, &limits);
    let mut timer = pin!(tokio::time::sleep(match first {
        Some(Check::Again(after)) => after,
        _ => Duration::ZERO,
    }));
    let armed = first.is_some();
    let mut stopping = false;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = timer.as_mut(), if armed => {
                let (phase, age) = activity.phase_and_age();
                match check(phase, age, &limits) {
                    Some(Check::Close(phase)) => {
                        let why = if phase == Phase::Head { "no whole request head within" } else { "idle for" };
                        tracing::debug!(peer = %peer, "connection closed: {why} {} s", seconds(limit_of(phase, &limits)));
                        return;
                    }
                    Some(Check::Again(after)) => timer.as_mut().reset(tokio::time::Instant::now() + after),
                    None => {}
                }
            }
            // While stopping, every change wakes the watchdog: the connection closes once nothing is in flight.
            () = activity.changed.notified(), if stopping => {
                if activity.phase() != Phase::Busy {
                    return;
                }
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                activity.stopping.store(true, Ordering::Release);
                if activity.phase() != Phase::Busy {
                    return;
                }
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Serves a connection over the cap: every request is answered [`too_many_connections`], for at most
/// [`REFUSAL_LIMIT`] or until the server stops.
async fn refuse_io<I>(io: I, max: usize, mut stop: watch::Receiver<()>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let resp = too_many_connections(max, req.version());
        async move { Ok::<_, Infallible>(resp) }
    });
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().keep_alive(false).header_read_timeout(None);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::select! {
        _ = tokio::time::timeout(REFUSAL_LIMIT, conn) => {}
        _ = stop.changed() => {}
    }
}

/// The answer to a connection over the cap: 503, `Retry-After: 1`, `{"error": …}` naming `--max-connections`,
/// and `Connection: close` over HTTP/1.x.
pub fn too_many_connections(max: usize, version: Version) -> Response {
    let message =
        format!("too many connections: this server serves at most {max} at once (--max-connections); try again later");
    let mut resp =
        (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")], axum::Json(json!({ "error": message })))
            .into_response();
    close_http1(&mut resp, version);
    resp
}

/// Adds `Connection: close` to an answer over HTTP/1.x (HTTP/2 has no such header).
fn close_http1(resp: &mut Response, version: Version) {
    if version < Version::HTTP_2 {
        resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
}

/// A duration in seconds as a person writes it: `30`, `0.5`.
pub fn seconds(d: Duration) -> String {
    format!("{}", d.as_secs_f64())
}

/// A request body must arrive within `limit` (`Limits::body_timeout`) of the moment the request reaches the
/// router (its head has arrived by then); `next` answers the request. The body is wrapped so that reading it past the deadline fails; the
/// handler answers whatever it answers to a broken body, and that answer is replaced by [`body_timed_out`]. A
/// request without a body is left alone.
///
/// The deadline is for the whole body, not a pause between two pieces of it (`tower_http`'s
/// `RequestBodyTimeoutLayer`), which a client sending a byte now and then would never reach.
pub async fn body_deadline<F: Future<Output = Response>>(
    limit: Duration,
    req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    if limit.is_zero() || req.body().is_end_stream() {
        return next(req).await;
    }
    let version = req.version();
    let fired = Arc::new(AtomicBool::new(false));
    let deadline = Box::pin(tokio::time::sleep(limit));
    let req = req.map(|inner| Body::new(DeadlineBody { inner, deadline, fired: fired.clone() }));
    let resp = next(req).await;
    if fired.load(Ordering::Acquire) { body_timed_out(limit, version) } else { resp }
}

/// The answer to a request whose body did not arrive in time: 408, `{"error": …}` naming `--body-timeout`, and
/// `Connection: close` over HTTP/1.x (the rest of the body is never read, so the connection cannot be reused).
pub fn body_timed_out(limit: Duration, version: Version) -> Response {
    let message = format!("the request body did not arrive within {} s (--body-timeout)", seconds(limit));
    let mut resp = (StatusCode::REQUEST_TIMEOUT, axum::Json(json!({ "error": message }))).into_response();
    close_http1(&mut resp, version);
    resp
}

/// A request body that fails once its deadline passed while the next piece had not arrived (a piece already
/// there is always handed over), and says so in `fired`.
struct DeadlineBody {
    /// The request's body.
    inner: Body,
    /// When it must have arrived.
    deadline: Pin<Box<tokio::time::Sleep>>,
    /// Set when the deadline failed the body.
    fired: Arc<AtomicBool>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending if this.deadline.as_mut().poll(cx).is_ready() => {
                this.fired.store(true, Ordering::Release);
                let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body timed out");
                Poll::Ready(Some(Err(axum::Error::new(e))))
            }
            polled => polled,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_connection_waits_for_a_head_then_a_request_makes_it_busy_then_idle() {
        let a = Arc::new(Activity::new());
        assert_eq!(a.phase(), Phase::Head);
        let first = InFlight::begin(&a);
        assert_eq!(a.phase(), Phase::Busy);
        // Bytes while a request is in flight are its body, or a pipelined request: no head phase.
        a.bytes_arrived();
        assert_eq!(a.phase(), Phase::Busy);
        let second = InFlight::begin(&a);
        drop(first);
        assert_eq!(a.phase(), Phase::Busy, "HTTP/2: another stream is still in flight");
        drop(second);
        assert_eq!(a.phase(), Phase::Idle);
        a.bytes_arrived();
        assert_eq!(a.phase(), Phase::Head);
    }

    #[test]
    fn the_watchdog_closes_a_phase_past_its_limit_and_otherwise_looks_again_when_it_would_end() {
        let limits = ConnLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            ..ConnLimits::default()
        };
        let s = Duration::from_secs;
        assert_eq!(check(Phase::Head, s(0), &limits), Some(Check::Again(s(10))));
        assert_eq!(check(Phase::Head, s(4), &limits), Some(Check::Again(s(6))));
        assert_eq!(check(Phase::Head, s(10), &limits), Some(Check::Close(Phase::Head)));
        assert_eq!(check(Phase::Idle, s(10), &limits), Some(Check::Again(s(50))));
        assert_eq!(check(Phase::Idle, s(61), &limits), Some(Check::Close(Phase::Idle)));
        // A request in flight has no limit here: look again after the shorter limit.
        assert_eq!(check(Phase::Busy, s(3600), &limits), Some(Check::Again(s(10))));
        let no_head = ConnLimits { header_timeout: Duration::ZERO, ..limits };
        assert_eq!(check(Phase::Head, s(3600), &no_head), Some(Check::Again(s(60))));
        let none = ConnLimits { header_timeout: Duration::ZERO, idle_timeout: Duration::ZERO, ..limits };
        assert_eq!(check(Phase::Idle, s(3600), &none), None);
    }

    #[test]
    fn seconds_are_written_as_a_person_would() {
        assert_eq!(seconds(Duration::from_secs(30)), "30");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5");
        assert_eq!(seconds(Duration::from_millis(250)), "0.25");
    }

    #[test]
    fn refusals_name_their_setting_and_close_http1_connections() {
        let r = too_many_connections(2, Version::HTTP_11);
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::CONNECTION], "close");
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        let r = too_many_connections(2, Version::HTTP_2);
        assert!(r.headers().get(header::CONNECTION).is_none());
        let r = body_timed_out(Duration::from_millis(300), Version::HTTP_11);
        assert_eq!(r.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(r.headers()[header::CONNECTION], "close");
    }
}
