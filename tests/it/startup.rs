//! The `serve` command as a process: the `listening on` line, time to the first answered request, exit
//! codes for a malformed fixture directory and for SIGTERM.

use crate::support::TempDir;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_amazon-music-mock");

/// `amazon-music-mock serve --bind 127.0.0.1:0 ARGS…`, with no `AMM_*` variable inherited.
pub(crate) fn serve(args: &[&str]) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--bind", "127.0.0.1:0"]).args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AMM_") {
            cmd.env_remove(k);
        }
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts")
}

/// Sends a signal to a process this test started, by its id.
pub(crate) fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").args([sig, &child.id().to_string()]).status().expect("kill runs").success();
    assert!(ok, "kill {sig} {}", child.id());
}

/// Waits for the child to exit, killing it (by id) after `limit`.
pub(crate) fn wait_with_limit(mut child: Child, limit: Duration) -> (ExitStatus, String) {
    let mut stderr = child.stderr.take().expect("stderr piped");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(status);
    });
    let status = match rx.recv_timeout(limit) {
        Ok(s) => s.expect("wait"),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("process {pid} did not exit within {limit:?}");
        }
    };
    let mut err = String::new();
    let _ = stderr.read_to_string(&mut err);
    (status, err)
}

/// Reads the first stdout line (with a limit), leaving the rest of stdout to a drain thread.
pub(crate) fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| {
        let _ = Command::new("kill").args(["-KILL", &child.id().to_string()]).status();
        panic!("no `listening on` line within 30 s");
    })
}

pub(crate) fn address_of(line: &str) -> String {
    let rest = line.strip_prefix("listening on http://127.0.0.1:").unwrap_or_else(|| panic!("first line: {line:?}"));
    let port = rest.strip_suffix('\n').unwrap_or_else(|| panic!("first line not newline-terminated: {line:?}"));
    assert!(port.parse::<u16>().is_ok_and(|p| p != 0), "port in {line:?}");
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn serve_prints_its_address_and_answers_health_within_two_seconds() {
    let started = Instant::now();
    let mut child = serve(&[]);
    let line = first_line(&mut child);
    let base = address_of(&line);
    let http = reqwest::Client::new();
    let deadline = started + Duration::from_secs(10);
    let answered = loop {
        match http.get(format!("{base}/__admin/health")).send().await {
            Ok(r) => break r,
            Err(e) if Instant::now() < deadline => {
                eprintln!("health not answered yet: {e}");
                tokio::task::yield_now().await;
            }
            Err(e) => panic!("health never answered: {e}"),
        }
    };
    let elapsed = started.elapsed();
    assert_eq!(answered.status(), 200);
    assert_eq!(answered.text().await.unwrap(), r#"{"status":"ok","session":"default"}"#);
    println!("startup: {} ms from spawn to the first answered GET /__admin/health", elapsed.as_millis());
    assert!(elapsed < Duration::from_secs(2), "startup took {elapsed:?}");

    drop(http);
    signal(&child, "-TERM");
    let (status, _) = wait_with_limit(child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "SIGTERM exits 0: {status:?}");
}

#[test]
fn sigterm_right_after_the_listening_line_exits_0() {
    // The line announces readiness, so the signal handlers must already be in place when it is printed.
    for _ in 0..5 {
        let mut child = serve(&[]);
        address_of(&first_line(&mut child));
        signal(&child, "-TERM");
        let (status, stderr) = wait_with_limit(child, Duration::from_secs(10));
        assert_eq!(status.code(), Some(0), "{status:?}; stderr: {stderr}");
    }
}

#[test]
fn sigint_exits_0_too() {
    let mut child = serve(&[]);
    address_of(&first_line(&mut child));
    signal(&child, "-INT");
    let (status, _) = wait_with_limit(child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn a_malformed_fixture_file_makes_serve_exit_2_naming_the_file_and_line() {
    let dir = TempDir::new("bad-fixtures");
    let users = dir.0.join("users.yaml");
    std::fs::write(
        &users,
        "users:\n  - user_id: amzn1.account.nope\n    name: X\n    email: x@example.com\n    postal_code: \"1\"\n    tier: null\n    has_music_account: false\n",
    )
    .unwrap();
    let child = serve(&["--fixtures", dir.0.to_str().unwrap()]);
    let (status, stderr) = wait_with_limit(child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(2), "stderr: {stderr}");
    let at = format!("{}:2:", users.display());
    assert!(stderr.contains(&at), "stderr names {at}: {stderr}");
    assert!(stderr.contains("amzn1.account."), "{stderr}");

    // Broken YAML in the other file.
    let dir = TempDir::new("bad-yaml");
    let profiles = dir.0.join("security-profiles.yaml");
    std::fs::write(&profiles, "security_profiles:\n  - [unclosed\n").unwrap();
    let (status, stderr) = wait_with_limit(serve(&["--fixtures", dir.0.to_str().unwrap()]), Duration::from_secs(30));
    assert_eq!(status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(&profiles.display().to_string()), "{stderr}");

    // A fixture path that is not a directory.
    let (status, stderr) = wait_with_limit(serve(&["--fixtures", "/nonexistent/amm"]), Duration::from_secs(30));
    assert_eq!(status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("/nonexistent/amm"), "{stderr}");
}

#[test]
fn a_port_already_in_use_makes_serve_exit_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--bind", &addr]).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let (status, stderr) = wait_with_limit(child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(&addr), "{stderr}");
}

#[test]
fn json_debug_logs_name_each_request_but_never_a_secret() {
    let mut child = serve(&["--log", "amazon_music_mock=debug", "--log-format", "json"]);
    let addr = address_of(&first_line(&mut child));
    let secret_token = "Atza|SECRETSECRETSECRET";
    let client_secret = "amzn1.oa2-cs.v1.5d05ad7853c1f76eb97706ca828bca0385813dbad3c681d06bd2aa399dac946d";
    let stream_sig = "SIGSECRETSIGSECRET";
    let requests = [
        format!(
            "GET /auth/o2/tokeninfo?access_token={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            secret_token
        ),
        format!(
            "POST /auth/o2/token?client_secret={client_secret} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret_token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        format!(
            "GET /stream/B076YT2CBT/sd.mp3?exp=99&sig={stream_sig} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ),
    ];
    for raw in &requests {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(addr.trim_start_matches("http://")).expect("connects");
        s.write_all(raw.as_bytes()).expect("sends");
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    }
    signal(&child, "-TERM");
    let (status, err) = wait_with_limit(child, Duration::from_secs(10));
    assert!(status.success(), "{err}");
    let lines: Vec<serde_json::Value> = err
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["fields"]["message"] == "request")
        .collect();
    assert_eq!(lines.len(), 3, "one JSON line per request: {err}");
    assert_eq!(lines[0]["fields"]["path"], "/auth/o2/tokeninfo");
    assert_eq!(lines[0]["fields"]["status"], 400);
    assert_eq!(lines[1]["fields"]["method"], "POST");
    assert_eq!(lines[2]["fields"]["path"], "/stream/B076YT2CBT/sd.mp3");
    assert_eq!(lines[2]["fields"]["status"], 403);
    assert!(!err.contains("SECRETSECRET") && !err.contains(client_secret), "a secret reached the log: {err}");
    assert!(!err.contains(stream_sig), "a stream URL signature reached the log: {err}");
}

/// Every stdout line of a child, as they come.
fn stdout_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// From `BACKGROUND_CATALOG` tracks on, the generated catalog builds behind `listening on`: the next line says
/// so, a request sent at once waits for the catalog and is answered, and a last line says when it was ready.
#[tokio::test]
async fn a_large_catalog_builds_behind_listening_on_and_requests_wait_for_it() {
    let size = amazon_music_mock::BACKGROUND_CATALOG.to_string();
    let mut child = serve(&["--catalog-size", &size]);
    let lines = stdout_lines(&mut child);
    let next = || lines.recv_timeout(Duration::from_secs(60)).expect("a line within 60 s");
    let base = address_of(&format!("{}\n", next()));
    assert_eq!(next(), "catalog: building 100000 tracks in the background; requests wait for it");
    let r = reqwest::get(format!("{base}/__admin/health")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), r#"{"status":"ok","session":"default"}"#);
    // 100,000 generated tracks and the fixtures' seven.
    let ready = next();
    let secs = ready
        .strip_prefix("catalog ready: 100007 tracks, ")
        .and_then(|r| r.strip_suffix(" s after listening"))
        .unwrap_or_else(|| panic!("{ready:?}"));
    assert!(secs.parse::<f64>().is_ok(), "{ready:?}");
    signal(&child, "-TERM");
    let (status, _) = wait_with_limit(child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
}

/// A fixture directory whose `catalog.yaml` names an unknown artist: a catalog that cannot be built.
fn bad_catalog_dir() -> TempDir {
    let dir = TempDir::new("bad-catalog");
    std::fs::write(
        dir.0.join("catalog.yaml"),
        "generate: true\nalbums:\n  - {id: B00000000A, title: Nowhere, artistId: B00000000Z, releaseDate: \"2020-01-01\", label: None}\n",
    )
    .unwrap();
    dir
}

/// Embedded (no process to end), a large catalog that cannot be built leaves every request refused with a
/// 503 saying why, in JSON.
#[tokio::test]
async fn an_embedded_server_whose_large_catalog_cannot_be_built_answers_503_saying_why() {
    let dir = bad_catalog_dir();
    let cfg = amazon_music_mock::ServerConfig {
        bind: ([127, 0, 0, 1], 0).into(),
        catalog_size: amazon_music_mock::BACKGROUND_CATALOG,
        fixtures: Some(dir.0.clone()),
        ..amazon_music_mock::ServerConfig::default()
    };
    let server = amazon_music_mock::start(&cfg).await.expect("listens before the catalog is built");
    let r = reqwest::get(format!("{}/__admin/health", server.uri())).await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: serde_json::Value = r.json().await.unwrap();
    let why = format!(
        "the catalog could not be built: {}: catalog extension: albums[0].artistId: no artist \"B00000000Z\"",
        dir.0.join("catalog.yaml").display()
    );
    assert_eq!(body, serde_json::json!({"error": why}));
    server.stop().await;
}

/// From the command line, a large catalog that cannot be built ends the server with exit 2 and one line
/// saying why, after `listening on`.
#[tokio::test]
async fn a_large_catalog_that_cannot_be_built_ends_the_server_with_exit_2() {
    let dir = bad_catalog_dir();
    let size = amazon_music_mock::BACKGROUND_CATALOG.to_string();
    let mut child = serve(&["--catalog-size", &size, "--fixtures", dir.0.to_str().unwrap()]);
    let lines = stdout_lines(&mut child);
    address_of(&format!("{}\n", lines.recv_timeout(Duration::from_secs(60)).unwrap()));
    let (status, stderr) = wait_with_limit(child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(2));
    let last = stderr.lines().last().unwrap_or_default();
    let file = dir.0.join("catalog.yaml");
    assert_eq!(
        last,
        format!(
            "error: the catalog could not be built: {}: catalog extension: albums[0].artistId: no artist \"B00000000Z\"",
            file.display()
        ),
        "{stderr}"
    );
}
