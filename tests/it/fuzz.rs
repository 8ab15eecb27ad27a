//! The CI-sized fuzz: well-formed-but-wrong requests for every route the routers declare (`fuzz_gen.rs`),
//! against the real binary, asserting no 5xx, no dropped connection (a panic), each family's error shape, that
//! most requests reach a handler, and that the server's resident memory stays flat. The long run is
//! `examples/fuzz_long.rs` (figures in `docs/PERFORMANCE.md`).

use std::cell::RefCell;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::fuzz_gen::*;

#[path = "../../examples/measure/mod.rs"]
mod measure;
use measure::rss_kib;

/// Requests per CI run (and the first `WARM_UP` are not counted for memory).
const CASES: u32 = 3000;
const WARM_UP: u32 = 1000;

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_amazon-music-mock"))
        .args(["serve", "--bind", "127.0.0.1:0", "--seed", "1"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(stderr_path()).expect("a stderr file"))
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the listening line");
    let url = line.trim().strip_prefix("listening on ").expect("listening on …").to_owned();
    Server { child, url }
}

/// Where the server's stderr goes (shown when the fuzz fails).
fn stderr_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("amm-fuzz-{}.stderr", std::process::id()))
}

#[test]
fn the_route_list_is_the_routers_and_every_route_has_a_template() {
    let routes = routes();
    let declared: Vec<(&str, &str)> = routes.iter().map(|r| (r.method, r.path.as_str())).collect();
    let templated: Vec<(&str, &str)> = TEMPLATES.iter().map(|t| (t.0, t.1)).collect();
    let missing: Vec<_> = declared.iter().filter(|d| !templated.contains(d)).collect();
    let stale: Vec<_> = templated.iter().filter(|t| !declared.contains(t)).collect();
    assert!(missing.is_empty(), "routes without a fuzz template (add them to TEMPLATES): {missing:?}");
    assert!(stale.is_empty(), "templates for routes the routers no longer declare: {stale:?}");
    assert_eq!(declared.len(), TEMPLATES.len(), "a route declared twice?");
    // Spot checks of the reading: one route of each family, with the family its path says.
    for (method, path, family) in [
        ("POST", "/auth/o2/token", Family::Lwa),
        ("PATCH", "/v1/playlists/{id}/tracks", Family::V1),
        ("GET", "/v2/playback/queues/{id}/entities/{entity}", Family::V2),
        ("GET", "/device", Family::Device),
        ("DELETE", "/__admin/session", Family::Admin),
        ("POST", "/license", Family::Stream),
    ] {
        let r = routes.iter().find(|r| r.method == method && r.path == path);
        assert_eq!(r.map(|r| r.family), Some(family), "{method} {path}");
        assert_eq!(family_of(path), family, "{path}");
    }
}

#[test]
fn fuzzed_requests_reach_handlers_and_answer_in_their_familys_error_shape_without_5xx_or_growth() {
    let mut server = serve();
    let pid = server.child.id();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let values = rt.block_on(prepare(&http, &server.url));
    let routes = routes();

    // Counts: requests, reaching a handler, per-route seen; RSS after the warm-up.
    let last = RefCell::new(String::new());
    let stats = RefCell::new((0u32, 0u32, vec![0u32; routes.len()], 0u64));
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() });
    let result = runner.run(&cases(routes.len(), 500), |case| {
        let built = build(&routes, &values, &case);
        let (status, ctype, body) = rt.block_on(send(&http, &server.url, &built)).map_err(|e| {
            let target = built.target.chars().take(300).collect::<String>();
            let before = last.borrow();
            TestCaseError::fail(format!(
                "{} {target} ({:?}) -> {e} (the request before: {before})",
                built.method, built.headers
            ))
        })?;
        check(&built, status, ctype.as_deref(), &body).map_err(|e| {
            TestCaseError::fail(format!(
                "{} {} -> {e}\nbody: {}",
                built.method,
                built.target.chars().take(300).collect::<String>(),
                String::from_utf8_lossy(&body).chars().take(500).collect::<String>()
            ))
        })?;
        *last.borrow_mut() = format!(
            "{} {} -> {status}, {} body bytes sent",
            built.method,
            built.target.chars().take(200).collect::<String>(),
            built.body.as_ref().map_or(0, Vec::len)
        );
        let mut s = stats.borrow_mut();
        s.0 += 1;
        s.1 += u32::from(reached_handler(status, &String::from_utf8_lossy(&body)));
        s.2[case.route] += 1;
        if s.0 == WARM_UP {
            s.3 = rss_kib(pid);
        }
        Ok(())
    });
    if let Err(e) = result {
        let alive = server.child.try_wait().ok().flatten();
        let log = std::fs::read_to_string(stderr_path()).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        panic!("{e}\nserver exit status: {alive:?}\nserver stderr (last lines, newest first):\n{}", tail.join("\n"));
    }
    let (sent, reached, per_route, rss_warm) = stats.into_inner();
    let rss_end = rss_kib(pid);
    eprintln!(
        "fuzz: {sent} requests in {:.1?}, {reached} reached a handler; RSS {rss_warm} KiB after {WARM_UP}, {rss_end} KiB at the end",
        started.elapsed()
    );
    assert!(sent >= CASES, "{sent}");
    assert!(reached * 10 >= sent * 9, "only {reached} of {sent} requests reached a handler");
    let unseen: Vec<_> = routes.iter().zip(&per_route).filter(|(_, n)| **n == 0).map(|(r, _)| &r.path).collect();
    assert!(unseen.len() <= routes.len() / 10, "routes never fuzzed: {unseen:?}");
    assert!(rss_end <= rss_warm + 32 * 1024, "RSS grew from {rss_warm} KiB to {rss_end} KiB");
    // The server is still there and well.
    let health = rt.block_on(http.get(format!("{}/__admin/health", server.url)).send()).expect("health");
    assert_eq!(health.status(), 200);
}

/// Found by the fuzz: a GET with a large body was answered 200 and the connection then closed without
/// `Connection: close`, so the client's next request on it failed. An unread body of known length up to 4 MiB
/// is now read behind the answer and keeps the connection (`connections.rs` has the raw-socket version, and the
/// bodies that still say `close`); a body that was read keeps the connection.
#[tokio::test]
async fn a_body_left_unread_keeps_the_connection_when_read_behind_the_answer_and_says_close_otherwise() {
    let app = crate::support::TestApp::spawn().await;
    let big = vec![b'a'; 70_000];
    let r = app.send(app.http.get(app.url("/__admin/health")).body(big)).await;
    assert_eq!((r.status, r.header("connection")), (200, None), "{}", r.text);
    let r = app.send(app.http.post(app.url("/license")).body("license-request")).await;
    assert_eq!((r.status, r.header("connection")), (200, None), "{}", r.text);
    let r = app.get("/__admin/health").await;
    assert_eq!((r.status, r.header("connection")), (200, None), "{}", r.text);
    // The client's next request goes through on a fresh connection.
    for _ in 0..3 {
        let big = vec![b'a'; 70_000];
        assert_eq!(app.send(app.http.get(app.url("/__admin/health")).body(big)).await.status, 200);
        assert_eq!(app.get("/__admin/clock").await.status, 200);
    }
}

/// Found by the fuzz: a stream path segment that is not UTF-8 once percent-decoded was answered with axum's
/// plain-text 400; it is a 404 in the stream error shape, like any other path that names no file.
#[tokio::test]
async fn a_stream_path_that_is_not_utf8_is_a_404_in_the_stream_error_shape() {
    let app = crate::support::TestApp::spawn().await;
    for path in ["/stream/%FF%FE/sd.mp3", "/dash/%FF/manifest.mpd", "/dash/B076YT2CBT/sd/%C3%28.m4s"] {
        let r = app.get(&format!("{path}?exp=1800000000&sig=00")).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
        assert_eq!(
            r.text, r#"{"error":"not_found","message":"a path segment is not valid UTF-8 once percent-decoded"}"#,
            "{path}"
        );
    }
}
