//! Who may call the admin API (`docs/ADMIN.md` "Who may call it"): cross-site and text/plain requests that
//! change state are refused, foreign `Host` names are refused when bound to loopback, and with an admin token
//! every admin route but health needs it, the dashboard asking for it once. Also `serve`'s warning for a
//! non-loopback bind without a token, and `--admin-token`'s own errors.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use amazon_music_mock::ServerConfig;
use serde_json::json;

use crate::startup::wait_with_limit;
use crate::support::*;

const CROSS_SITE_WHY: &str =
    "the admin API takes requests from scripts and from its own pages, not from other web pages";

const NOT_JSON: &str = "an admin request that changes state must be JSON: send Content-Type: application/json (the \
                        plan may be application/yaml), or the header X-AMM-Admin: 1; ";

const NO_TOKEN: &str = r#"{"error":"this admin API needs its token: send Authorization: Bearer <token>, the value of --admin-token (AMM_ADMIN_TOKEN) the server was started with"}"#;

const WRONG_TOKEN: &str = r#"{"error":"wrong admin token: send Authorization: Bearer <token> with the value of --admin-token (AMM_ADMIN_TOKEN) the server was started with"}"#;

const TOKEN: &str = "s3cret-Token_1";

fn error(message: &str) -> String {
    json!({ "error": message }).to_string()
}

/// The `Host` value of the app (`127.0.0.1:PORT`).
fn authority(app: &TestApp) -> String {
    app.mock.uri().trim_start_matches("http://").to_owned()
}

/// A plan that fails every Music API route, as an attacking page would load it.
const HOSTILE_PLAN: &str = "name: hostile\nfaults:\n  - {route: \"GET /v1/**\", error: INTERNAL}\n";

#[tokio::test]
async fn a_cross_site_text_plain_post_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let r = app
        .send(
            app.http
                .post(app.url("/s/victim/__admin/plan"))
                .header("origin", "https://evil.example")
                .header("content-type", "text/plain")
                .body(HOSTILE_PLAN),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let this = authority(&app);
    assert_eq!(
        r.text,
        error(&format!(
            "cross-site admin request refused: Origin \"https://evil.example\" is not this server ({this}); {CROSS_SITE_WHY}"
        ))
    );
    // The same from a page that sends only Sec-Fetch-Site, even as JSON.
    let r = app
        .send(
            app.http
                .post(app.url("/s/victim/__admin/device/approve"))
                .header("sec-fetch-site", "cross-site")
                .json(&json!({"user_code": "ABCDEF"})),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.text,
        error(&format!("cross-site admin request refused: Sec-Fetch-Site is \"cross-site\"; {CROSS_SITE_WHY}"))
    );
    // Another port of the same host is another origin; `null` (a sandboxed page) is no origin.
    for origin in ["http://127.0.0.1:1", "null"] {
        let r = app.send(app.http.post(app.url("/__admin/reset")).header("origin", origin).json(&json!({}))).await;
        assert_eq!(r.status, 403, "{origin}: {}", r.text);
    }
    let r =
        app.send(app.http.post(app.url("/__admin/reset")).header("sec-fetch-site", "same-site").json(&json!({}))).await;
    assert_eq!(r.status, 403, "{}", r.text);

    // text/plain without an Origin (an old browser's form, a careless script): 415.
    let r = app
        .send(app.http.post(app.url("/s/victim/__admin/plan")).header("content-type", "text/plain").body(HOSTILE_PLAN))
        .await;
    assert_eq!(r.status, 415);
    assert_eq!(r.text, error(&format!("{NOT_JSON}got Content-Type \"text/plain\"")));
    for (ct, body) in
        [("application/x-www-form-urlencoded", "user_code=ABCDEF"), ("multipart/form-data; boundary=x", "--x--")]
    {
        let r = app
            .send(app.http.post(app.url("/s/victim/__admin/device/approve")).header("content-type", ct).body(body))
            .await;
        assert_eq!((r.status, r.text.clone()), (415, error(&format!("{NOT_JSON}got Content-Type {ct:?}"))));
    }
    let r = app.send(app.http.post(app.url("/s/victim/__admin/plan")).body(HOSTILE_PLAN)).await;
    assert_eq!((r.status, r.text.clone()), (415, error(&format!("{NOT_JSON}got a body without a Content-Type"))));

    // Nothing was loaded.
    let r = app.get("/s/victim/__admin/plan").await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn scripts_and_the_server_s_own_pages_still_change_state() {
    let app = TestApp::spawn().await;
    let this = authority(&app);
    // JSON from the same origin (the dashboard's own scripts).
    let r = app
        .send(
            app.http
                .post(app.url("/s/ok/__admin/clock/set"))
                .header("origin", format!("http://{this}"))
                .header("sec-fetch-site", "same-origin")
                .json(&json!({"now": 1_800_000_000})),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, r#"{"now":1800000000,"frozen":false}"#));
    // No body and no Content-Type (curl -X POST).
    let r = app.send(app.http.post(app.url("/s/ok/__admin/clock/freeze"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // YAML for the plan, and the custom header for anything else.
    let r = app
        .send(app.http.post(app.url("/s/ok/__admin/plan")).header("content-type", "application/yaml").body("name: p\n"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.send(app.http.post(app.url("/s/ok/__admin/plan")).header("x-amm-admin", "1").body("name: q\n")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A typed-in address or a bookmark (Sec-Fetch-Site: none) reads, and reads are never refused by origin.
    let r = app.send(app.http.get(app.url("/s/ok/__admin/clock")).header("sec-fetch-site", "cross-site")).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn bound_to_loopback_foreign_host_names_are_refused_and_loopback_amazon_and_public_url_names_served() {
    let cfg = ServerConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        seed: Some(1),
        public_url: Some("http://mock.test:9000".into()),
        ..ServerConfig::default()
    };
    let app = TestApp::spawn_with(cfg).await;
    for host in ["rebound.evil.example", "rebound.evil.example:8080", "127.0.0.1.evil.example", "10.0.0.7"] {
        let r = app.send(app.http.get(app.url("/__admin/security-profiles")).header("host", host)).await;
        assert_eq!(r.status, 403, "{host}");
        assert_eq!(
            r.text,
            error(&format!(
                "the admin API does not answer to Host {host:?}: bound to a loopback address, it answers only to \
                 localhost, 127.0.0.1, [::1], the Amazon host names and --public-url's host (against DNS rebinding); \
                 use one of those, or name this host with --public-url"
            ))
        );
        // State-changing requests too, under a session.
        let r = app.send(app.http.post(app.url("/s/x/__admin/reset")).header("host", host).json(&json!({}))).await;
        assert_eq!(r.status, 403, "{host}");
    }
    for host in [
        "localhost:8080",
        "LocalHost",
        "app.localhost",
        "127.0.0.1",
        "[::1]:8080",
        "api.amazon.com",
        "music-api.amazon.com:443",
        "mock.test:9000",
        "MOCK.TEST.",
    ] {
        let r = app.send(app.http.get(app.url("/__admin/health")).header("host", host)).await;
        assert_eq!(r.status, 200, "{host}: {}", r.text);
    }
    // The rest of the mock is not the admin API: it answers on any host (the Device API's host, a test's own).
    let r = app.send(app.http.get(app.url("/v1/genres")).header("host", "rebound.evil.example")).await;
    assert_ne!(r.status, 403, "{}", r.text);
}

#[tokio::test]
async fn bound_to_any_address_every_host_name_is_served() {
    let cfg = ServerConfig { bind: SocketAddr::from(([0, 0, 0, 0], 0)), seed: Some(1), ..ServerConfig::default() };
    let app = TestApp::spawn_with(cfg).await;
    let port = app.mock.uri().rsplit(':').next().expect("a port").to_owned();
    let r = app
        .send(
            app.http
                .get(format!("http://127.0.0.1:{port}/__admin/health"))
                .header("host", "amazon-music-mock.internal:8080"),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, r#"{"status":"ok","session":"default"}"#));
}

async fn with_token() -> TestApp {
    let cfg = ServerConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        seed: Some(1),
        admin_token: Some(TOKEN.into()),
        ..ServerConfig::default()
    };
    TestApp::spawn_with(cfg).await
}

#[tokio::test]
async fn with_an_admin_token_every_admin_route_but_health_needs_it() {
    let app = with_token().await;
    for (method, path) in [
        ("GET", "/__admin/security-profiles"),
        ("GET", "/s/t/__admin/clock"),
        ("POST", "/__admin/reset"),
        ("PUT", "/s/t/__admin/settings"),
        ("DELETE", "/__admin/faults"),
        ("GET", "/__admin/verdict"),
        ("GET", "/__admin/ui/live"),
        ("GET", "/__admin/no-such-route"),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let r = app.send(app.http.request(m.clone(), app.url(path)).json(&json!({}))).await;
        assert_eq!((r.status, r.text.as_str()), (401, NO_TOKEN), "{method} {path}");
        assert_eq!(r.header("www-authenticate"), Some(r#"Bearer realm="amazon-music-mock admin""#));
        assert_eq!(r.header("content-type"), Some("application/json"));
        for wrong in [format!("Bearer {TOKEN}x"), "Bearer ".into(), format!("Basic {TOKEN}")] {
            let r = app
                .send(
                    app.http.request(m.clone(), app.url(path)).header("authorization", wrong.clone()).json(&json!({})),
                )
                .await;
            assert_eq!((r.status, r.text.as_str()), (401, WRONG_TOKEN), "{method} {path} with {wrong}");
        }
    }
    let r = app.send(app.http.get(app.url("/__admin/clock")).bearer_auth(TOKEN)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The scheme in any case; the token as a custom header also stands for JSON.
    let r = app
        .send(
            app.http
                .post(app.url("/s/t/__admin/clock/freeze"))
                .header("authorization", format!("bearer {TOKEN}"))
                .body("{}"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Health stays open for probes, under a session too.
    let r = app.get("/s/t/__admin/health").await;
    assert_eq!((r.status, r.text.as_str()), (200, r#"{"status":"ok","session":"t"}"#));
    // The token does not open the admin API to other sites.
    let r = app
        .send(app.http.post(app.url("/__admin/reset")).bearer_auth(TOKEN).header("origin", "https://evil.example"))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    // The rest of the mock needs no admin token.
    let r = app.get("/v1/genres").await;
    assert_ne!(r.status, 401, "{}", r.text);
}

#[tokio::test]
async fn with_an_admin_token_the_dashboard_asks_for_it_once_then_works_with_its_cookie() {
    let app = with_token().await;
    app.send(app.http.post(app.url("/s/d/__admin/clock/freeze")).bearer_auth(TOKEN)).await;

    // Without the token, the dashboard is a page that asks for it.
    let r = app.get("/s/d/__admin/ui").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("www-authenticate"), Some(r#"Bearer realm="amazon-music-mock admin""#));
    assert!(r.text.contains(r#"<input type="password" id="token""#), "{}", r.text);
    assert!(r.text.contains(r#"fetch("/s/d/__admin/login""#), "{}", r.text);
    assert!(!r.text.contains(TOKEN));

    // The page posts the token as JSON; a wrong one is refused with the reason.
    let login = app.url("/s/d/__admin/login");
    let this = authority(&app);
    let page = |req: reqwest::RequestBuilder| {
        req.header("origin", format!("http://{this}")).header("sec-fetch-site", "same-origin")
    };
    let r = app.send(page(app.http.post(&login)).json(&json!({"token": "nope"}))).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.text,
        error("wrong admin token: give the value of --admin-token (AMM_ADMIN_TOKEN) the server was started with")
    );
    assert_eq!(r.header("set-cookie"), None);
    let r = app
        .send(
            page(app.http.post(&login)).header("content-type", "text/plain").body(format!(r#"{{"token":"{TOKEN}"}}"#)),
        )
        .await;
    assert_eq!(r.status, 415, "{}", r.text);
    let r = app.send(app.http.get(&login)).await;
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));

    let r = app.send(page(app.http.post(&login)).json(&json!({"token": TOKEN}))).await;
    assert_eq!((r.status, r.text.as_str()), (200, r#"{"logged_in":true,"dashboard":"/s/d/__admin/ui"}"#));
    let cookie = r.header("set-cookie").expect("a cookie").to_owned();
    assert_eq!(cookie, format!("amm_admin_token={TOKEN}; Path=/; HttpOnly; SameSite=Strict"));
    let jar = cookie.split(';').next().expect("name=value").to_owned();

    // The browser sends the cookie: the dashboard and its live part answer.
    let r = app.send(app.http.get(app.url("/s/d/__admin/ui")).header("cookie", &jar)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let r =
        app.send(app.http.get(app.url("/s/d/__admin/ui/live")).header("cookie", format!("theme=dark; {jar}"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let _: serde_json::Value = r.json();
    // The cookie opens the dashboard only: a page cannot change state with it.
    let r = app.send(app.http.get(app.url("/s/d/__admin/security-profiles")).header("cookie", &jar)).await;
    assert_eq!((r.status, r.text.as_str()), (401, NO_TOKEN));
    let r = app.send(app.http.post(app.url("/s/d/__admin/reset")).header("cookie", &jar).json(&json!({}))).await;
    assert_eq!((r.status, r.text.as_str()), (401, NO_TOKEN));
    // A stale cookie asks again.
    let r = app.send(app.http.get(app.url("/s/d/__admin/ui")).header("cookie", "amm_admin_token=old")).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn without_an_admin_token_there_is_nothing_to_log_in_to() {
    let app = TestApp::spawn().await;
    let r = app.post_json("/__admin/login", &json!({"token": "x"})).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.text,
        error("this server has no admin token (--admin-token): its admin API is open, there is nothing to log in to")
    );
    assert_eq!(app.get("/__admin/ui").await.status, 200);
}

const BIN: &str = env!("CARGO_BIN_EXE_amazon-music-mock");

/// `serve ARGS…` with no `AMM_*` variable inherited but `env`, stdout and stderr read until exit after SIGTERM
/// (sent once the startup lines are out).
fn serve_lines(args: &[&str], env: &[(&str, &str)]) -> (Vec<String>, String) {
    use std::io::{BufRead, BufReader};
    let mut cmd = Command::new(BIN);
    cmd.arg("serve").args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AMM_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    let mut child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    let mut line = String::new();
    out.read_line(&mut line).expect("the listening line");
    lines.push(std::mem::take(&mut line));
    // The startup lines are written at once: whatever follows within a moment belongs to them.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        while out.read_line(&mut line).is_ok_and(|n| n > 0) {
            let _ = tx.send(std::mem::take(&mut line));
        }
    });
    while let Ok(l) = rx.recv_timeout(Duration::from_millis(500)) {
        lines.push(l);
    }
    crate::startup::signal(&child, "-TERM");
    let (status, stderr) = wait_with_limit(child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{stderr}");
    (lines, stderr)
}

const EXPOSED: &str = "warning: bound to 0.0.0.0, not a loopback address, without --admin-token: anyone who can \
                       reach this port can drive the admin API and read its client secrets; set --admin-token \
                       (AMM_ADMIN_TOKEN)\n";

#[test]
fn serve_warns_when_bound_to_any_address_without_an_admin_token() {
    let (lines, stderr) = serve_lines(&["--bind", "0.0.0.0:0"], &[]);
    assert!(lines[0].starts_with("listening on http://0.0.0.0:"), "{lines:?}");
    assert_eq!(lines[1..], [EXPOSED.to_owned()]);
    assert!(stderr.contains(EXPOSED), "{stderr}");

    for (args, env) in [
        (vec!["--bind", "0.0.0.0:0", "--admin-token", TOKEN], vec![]),
        (vec!["--bind", "0.0.0.0:0"], vec![("AMM_ADMIN_TOKEN", TOKEN)]),
        (vec!["--bind", "127.0.0.1:0"], vec![]),
    ] {
        let (lines, stderr) = serve_lines(&args, &env);
        assert_eq!(lines.len(), 1, "{args:?} {env:?}: {lines:?}");
        assert!(!stderr.contains("warning"), "{args:?} {env:?}: {stderr}");
        assert!(!stderr.contains(TOKEN), "the token is never printed: {stderr}");
    }
}

#[test]
fn a_malformed_admin_token_or_timeout_is_a_usage_error() {
    for (flag, value, why) in [
        ("--admin-token", "two words", "expected 1 to 512 of the characters A-Z a-z 0-9 - . _ ~ + / ="),
        ("--admin-token", "", "expected 1 to 512 of the characters A-Z a-z 0-9 - . _ ~ + / ="),
        ("--header-timeout", "soon", "expected a number of seconds, e.g. 10 or 0.5; got \"soon\""),
        ("--shutdown-grace", "-1", "expected seconds from 0 to 31536000; got \"-1\""),
    ] {
        let out = Command::new(BIN)
            .args(["serve", "--bind", "127.0.0.1:0", &format!("{flag}={value}")])
            .env_remove("AMM_ADMIN_TOKEN")
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value:?}: {stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        let shown = if flag == "--admin-token" { "TOKEN" } else { "SECONDS" };
        assert_eq!(first, format!("error: invalid value '{value}' for '{flag} <{shown}>': {why}"), "{stderr}");
    }
    // The help names the variable but never its value.
    let out = Command::new(BIN).args(["serve", "--help"]).env("AMM_ADMIN_TOKEN", TOKEN).output().expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("[env: AMM_ADMIN_TOKEN"), "{help}");
    assert!(!help.contains(TOKEN), "{help}");
}

/// Runs the binary with these arguments (and environment) off the runtime's threads.
async fn cli(args: Vec<String>, env: Vec<(&'static str, &'static str)>) -> std::process::Output {
    tokio::task::spawn_blocking(move || Command::new(BIN).args(&args).envs(env).output().expect("runs"))
        .await
        .expect("joins")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_and_verdict_send_the_admin_token_on_admin_calls_only() {
    let app = with_token().await;
    let uri = app.mock.uri();
    assert_eq!(app.get("/s/v/v1/me").await.status, 401, "a journaled request in session v");
    let verdict = |token: Option<&str>| {
        let mut a = vec!["verdict".to_owned(), "--target".into(), uri.clone(), "--session".into(), "v".into()];
        a.extend(token.map(|t| ["--admin-token".to_owned(), t.to_owned()]).into_iter().flatten());
        a
    };
    let out = cli(verdict(None), vec![]).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr), format!("error: {}\n", &NO_TOKEN[10..NO_TOKEN.len() - 2]));
    let out = cli(verdict(Some(TOKEN)), vec![]).await;
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(String::from_utf8_lossy(&out.stdout).contains("session v)"), "{}", String::from_utf8_lossy(&out.stdout));

    // A scenario with admin control steps, against the guarded mock: the token from the environment.
    let scenario = format!("{}/scenarios/lwa/access-token-lives-3600-seconds.yaml", env!("CARGO_MANIFEST_DIR"));
    let run = vec!["run".to_owned(), "--target".into(), uri.clone(), scenario];
    let out = cli(run.clone(), vec![]).await;
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: target {uri}: GET /__admin/security-profiles answered 401: the target's admin API needs its token; \
             give it with --admin-token (AMM_ADMIN_TOKEN)\n"
        )
    );
    let out = cli(run, vec![("AMM_ADMIN_TOKEN", TOKEN)]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
