//! Verdicts over the wire: `GET /__admin/verdict` in its exact shape, the `verdict` command (exit codes,
//! reports naming each rule, the runner's baseline semantics), `serve --plan` with both reference clients
//! (the CI check, in a test), and the live dashboard rendered in headless Chromium.

use std::time::Duration;

use serde_json::{Value, json};

use crate::lwa_authorize::run_chromium;
use crate::lwa_support::s;
use crate::refclient::{self, Config, Flow, Misbehaviours, Pace};
use crate::scenario_support::{bin, junit_cases, scratch};
use crate::startup::{address_of, first_line, serve, signal, wait_with_limit};
use crate::support::*;

/// A session `v` judged by two rules, on a frozen clock, with one Music API call that sends the client id
/// as `x-api-key`.
async fn misbehaving_session(app: &TestApp) {
    let plan = "name: keys\nrules: [token-not-in-query, api-key-is-profile-id]\n";
    let r = app
        .send(app.http.post(app.url("/s/v/__admin/plan")).header("content-type", "application/yaml").body(plan))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.admin("POST", "/s/v/__admin/clock/freeze", json!({})).await;
    app.admin("POST", "/s/v/__admin/clock/set", json!({"now": 1_800_000_000})).await;
    let t = app.web_tokens_in("/s/v", "music::catalog").await;
    let r = app
        .send(
            app.http
                .get(app.url("/s/v/v1/tracks/B0SMBL94TD"))
                .bearer_auth(s(&t, "access_token"))
                .header("x-api-key", WEB_CLIENT),
        )
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn the_verdict_names_each_rule_with_evidence_on_the_virtual_clock() {
    let app = TestApp::spawn().await;
    misbehaving_session(&app).await;
    let v = app.admin("GET", "/s/v/__admin/verdict", json!({})).await;
    let at = json!("2027-01-15T08:00:00.000Z");
    let expected = json!({
        "session": "v",
        "plan": "keys",
        "plan_file": null,
        "judged_at_ms": 1_800_000_000_000i64,
        "entries": 3,
        "summary": {"pass": 1, "fail": 1, "not_exercised": 0},
        "rules": [
            {
                "id": "token-not-in-query",
                "group": "tokens",
                "title": "Never sends a token in a Music API query string",
                "sources": ["music-api.md §2.1", "RFC 6750 §2.3", "RFC 6750 §5.3"],
                "status": "pass",
                "message": "No token in the query of 1 Music API request.",
                "evidence": [{"seq": 3, "at_ms": 1_800_000_000_000i64, "at": at, "request": "GET /v1/tracks/B0SMBL94TD",
                              "status": 403, "note": "no token in the query"}],
                "evidence_total": 1
            },
            {
                "id": "api-key-is-profile-id",
                "group": "api-key",
                "title": "Sends the security profile id as x-api-key on every Web API V1 call",
                "sources": ["music-api.md §2.1", "music-api.md §11.2"],
                "status": "fail",
                "message": "1 Web API V1 request sent no security profile id as x-api-key.",
                "evidence": [{"seq": 3, "at_ms": 1_800_000_000_000i64, "at": at, "request": "GET /v1/tracks/B0SMBL94TD",
                              "status": 403,
                              "note": format!("x-api-key holds the client id {WEB_CLIENT}, not the security profile id")}],
                "evidence_total": 1
            }
        ]
    });
    assert_eq!(v, expected);
    // Nothing to judge is no pass: the default session has no journal entries yet.
    let r = app.get("/__admin/verdict").await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json(),
        json!({"error": "session \"default\" has no journal entries: nothing to judge (run the client against the server's root/ first)"})
    );
    // Without a plan, every rule is judged: a running lint of any session's traffic.
    assert_eq!(app.get("/user/profile").await.status, 400);
    let all = app.admin("GET", "/__admin/verdict", json!({})).await;
    let rules = amazon_music_mock::verdict::RULES.len();
    assert_eq!(all["rules"].as_array().unwrap().len(), rules);
    assert_eq!(all["summary"], json!({"pass": 0, "fail": 0, "not_exercised": rules}));
}

#[tokio::test]
async fn a_secret_under_another_name_or_in_a_query_string_fails_lwa_secret_placement_exactly() {
    let app = TestApp::spawn().await;
    let plan = "name: secrets\nrules: [lwa-secret-placement]\n";
    let r = app
        .send(app.http.post(app.url("/s/sp/__admin/plan")).header("content-type", "application/yaml").body(plan))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.admin("POST", "/s/sp/__admin/clock/freeze", json!({})).await;
    app.admin("POST", "/s/sp/__admin/clock/set", json!({"now": 1_800_000_000})).await;
    let token = app.url("/s/sp/auth/o2/token");
    // 1: the secret as `clientSecret` in the body (the refresh token is unknown: invalid_grant).
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", "Atzr|x"),
        ("client_id", WEB_CLIENT),
        ("clientSecret", WEB_SECRET),
    ];
    assert_eq!(app.send(app.http.post(&token).form(&form)).await.status, 400);
    // 2: an access token in `?access_token=` at tokeninfo, where LWA documents it.
    assert_eq!(app.get("/s/sp/auth/o2/tokeninfo?access_token=Atza%7Cx").await.status, 400);
    // 3: the verifier in the query string of the exchange (the code is unknown: invalid_grant).
    let form = [("grant_type", "authorization_code"), ("code", "ANcMJpTtVktKiZvfdYaV"), ("client_id", PUBLIC_CLIENT)];
    let r = app.send(app.http.post(&token).query(&[("code_verifier", crate::lwa_support::VERIFIER)]).form(&form)).await;
    assert_eq!(r.status, 400);
    // 4: ask-cli's legacy secret in a header of its own, known by its value.
    let r = app.send(app.http.get(app.url("/s/sp/v1/me")).header("x-secret", ASK_SECRET)).await;
    assert_eq!(r.status, 401);
    let v = app.admin("GET", "/s/sp/__admin/verdict", json!({})).await;
    let at = json!("2027-01-15T08:00:00.000Z");
    let evidence = |seq: u64, request: &str, status: u16, note: &str| json!({"seq": seq, "at_ms": 1_800_000_000_000i64, "at": at, "request": request, "status": status, "note": note});
    let expected = json!({
        "session": "sp",
        "plan": "secrets",
        "plan_file": null,
        "judged_at_ms": 1_800_000_000_000i64,
        "entries": 4,
        "summary": {"pass": 0, "fail": 1, "not_exercised": 0},
        "rules": [{
            "id": "lwa-secret-placement",
            "group": "lwa",
            "title": "Sends each credential only where it belongs, never in a query string",
            "sources": ["RFC 6749 §2.3.1", "RFC 6749 §4.1.3", "RFC 6750 §5.3", "lwa.md §2"],
            "status": "fail",
            "message": "3 requests sent a credential outside its place.",
            "evidence": [
                evidence(1, "POST /auth/o2/token", 400, "sent a client secret in the body as \"clientSecret\""),
                evidence(3, "POST /auth/o2/token", 400, "sent a PKCE code verifier in the query string as \"code_verifier\""),
                evidence(4, "GET /v1/me", 401, "sent a client secret in a header as \"x-secret\""),
            ],
            "evidence_total": 3
        }]
    });
    assert_eq!(v, expected);
    // The journal names where each went, and holds none of the values.
    let journal = app.get("/s/sp/__admin/requests").await;
    assert!(!journal.text.contains(WEB_SECRET) && !journal.text.contains(ASK_SECRET), "{}", journal.text);
    let entries = journal.json();
    assert_eq!(
        entries[0]["misplaced_secrets"],
        json!([{"kind": "client_secret", "in": "body", "name": "clientSecret"}])
    );
    assert_eq!(entries[1].get("misplaced_secrets"), None);
    assert_eq!(
        entries[2]["misplaced_secrets"],
        json!([{"kind": "code_verifier", "in": "query", "name": "code_verifier"}])
    );
    assert_eq!(entries[3]["misplaced_secrets"], json!([{"kind": "client_secret", "in": "header", "name": "x-secret"}]));
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verdict_command_exits_by_the_verdict_and_writes_reports_naming_each_rule() {
    let app = TestApp::spawn().await;
    misbehaving_session(&app).await;
    let dir = scratch("verdict-command");
    let (junit, json_file, html) = (dir.join("v.xml"), dir.join("v.json"), dir.join("v.html"));
    let out = bin(args(&[
        "verdict",
        "--target",
        &app.mock.uri(),
        "--session",
        "v",
        "--report",
        &format!("junit:{}", junit.display()),
        "--report",
        &format!("json:{}", json_file.display()),
        "--report",
        &format!("html:{}", html.display()),
    ]))
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.starts_with("plan: keys\nPASS          token-not-in-query       Never sends a token"), "{stdout}");
    assert!(stdout.contains("FAIL          api-key-is-profile-id    Sends the security profile id"), "{stdout}");
    assert!(stdout.contains(&format!("    #3 2027-01-15T08:00:00.000Z GET /v1/tracks/B0SMBL94TD -> 403: x-api-key holds the client id {WEB_CLIENT}")), "{stdout}");
    assert!(stdout.ends_with("1 passed, 1 failed, 0 not exercised (3 journal entries, session v)\n"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(r#"<testsuites name="amazon-music-mock client verdict" tests="2" failures="1""#), "{xml}");
    let cases = junit_cases(&xml);
    let names: Vec<(&str, &str, Option<&str>)> =
        cases.iter().map(|c| (c.name.as_str(), c.classname.as_str(), c.result.as_deref())).collect();
    assert_eq!(
        names,
        [
            ("token-not-in-query", "verdict.tokens.token-not-in-query", None),
            ("api-key-is-profile-id", "verdict.api-key.api-key-is-profile-id", Some("failure")),
        ]
    );
    assert!(
        cases[1]
            .message
            .starts_with("Sends the security profile id as x-api-key on every Web API V1 call: 1 Web API V1 request"),
        "{}",
        cases[1].message
    );
    assert!(
        cases[1].text.contains("#3 2027-01-15T08:00:00.000Z GET /v1/tracks/B0SMBL94TD -> 403"),
        "{}",
        cases[1].text
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    assert_eq!(report["success"], false);
    assert_eq!(
        report["outcomes"],
        json!([{"id": "token-not-in-query", "status": "pass", "outcome": "passed"},
                                          {"id": "api-key-is-profile-id", "status": "fail", "outcome": "failed"}])
    );
    assert_eq!(report["verdict"]["plan"], "keys");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h1>Client verdict</h1>") && page.contains("api-key-is-profile-id"), "{page}");

    // The runner's baseline semantics: a listed failure is expected (exit 0) ...
    let baseline = dir.join("b.baseline.yaml");
    std::fs::write(&baseline, "expected_failures:\n  - name: api-key-is-profile-id\n    reason: legacy firmware\n")
        .unwrap();
    let base_args = |extra: &[&str]| {
        let mut a = args(&["verdict", "--target", &app.mock.uri(), "--session", "v", "--baseline"]);
        a.push(baseline.display().to_string());
        a.extend(extra.iter().map(|x| (*x).to_owned()));
        a
    };
    let out = bin(base_args(&[])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("XFAIL         api-key-is-profile-id") && stdout.contains("baseline: legacy firmware"),
        "{stdout}"
    );
    // ... a listed rule that passes fails the run, and so does an entry naming no rule.
    std::fs::write(&baseline, "expected_failures:\n  - name: token-not-in-query\n  - name: api-key-is-profile-id\n")
        .unwrap();
    let out = bin(base_args(&[])).await;
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    std::fs::write(&baseline, "expected_failures:\n  - name: api-key-is-profile-id\n  - name: no-such-rule\n").unwrap();
    let out = bin(base_args(&[])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("STALE the baseline") && stdout.contains("\"no-such-rule\""), "{stdout}");
    // A rule of another plan's is not stale: every rule the server knows counts as loaded.
    std::fs::write(&baseline, "expected_failures:\n  - name: api-key-is-profile-id\n  - name: device-slow-down\n")
        .unwrap();
    assert_eq!(bin(base_args(&[])).await.status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_empty_session_is_a_usage_error_and_asking_creates_nothing() {
    let app = TestApp::spawn().await;
    let sessions = || async { app.admin("GET", "/__admin/sessions", json!({})).await };
    let before = sessions().await;
    // Over HTTP: 404 for the verdict and the dashboard's parts; the session is not created.
    let r = app.get("/s/nosuchsession/__admin/verdict").await;
    assert_eq!(r.status, 404);
    let missing = "no session named \"nosuchsession\": a session exists once a request was sent under /s/nosuchsession/ (check the session name)";
    assert_eq!(r.json(), json!({ "error": missing }));
    assert_eq!(app.get("/s/nosuchsession/__admin/ui/live").await.status, 404);
    let page = app.get("/s/nosuchsession/__admin/ui").await;
    assert_eq!((page.status, page.header("content-type")), (404, Some("text/html; charset=utf-8")));
    assert!(page.text.contains(missing.split('"').next().unwrap()), "{}", page.text);
    assert_eq!(sessions().await, before, "asking created no session");
    // The command: exit 2 and one line.
    let out = bin(args(&["verdict", "--target", &app.mock.uri(), "--session", "nosuchsession"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr), format!("error: {missing}\n"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(sessions().await, before, "asking created no session");
    // A session that exists but has no journal entries (admin calls are not journaled): exit 2 too.
    app.admin("PUT", "/s/empty/__admin/settings", json!({})).await;
    let out = bin(args(&["verdict", "--target", &app.mock.uri(), "--session", "empty"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: session \"empty\" has no journal entries: nothing to judge (run the client against /s/empty/ first)\n"
    );
    // The dashboard of an empty session shows no pass.
    let live = app.admin("GET", "/s/empty/__admin/ui/live", json!({})).await;
    let html = live["html"].as_str().unwrap();
    assert!(html.contains("Nothing judged yet: this session has no journal entries."), "{html}");
    assert!(!html.contains(" passed"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_fails_on_a_rule_that_was_not_exercised() {
    let app = TestApp::spawn().await;
    misbehaving_session(&app).await;
    let dir = scratch("verdict-require");
    let junit = dir.join("r.xml");
    // Drop the failing rule from the picture with a baseline, so that only --require decides.
    let baseline = dir.join("r.baseline.yaml");
    std::fs::write(&baseline, "expected_failures:\n  - name: api-key-is-profile-id\n").unwrap();
    let run = |extra: &[&str]| {
        let mut a = args(&["verdict", "--target", &app.mock.uri(), "--session", "v", "--baseline"]);
        a.push(baseline.display().to_string());
        a.extend(extra.iter().map(|x| (*x).to_owned()));
        bin(a)
    };
    assert_eq!(run(&[]).await.status.code(), Some(0));
    assert_eq!(run(&["--require", "token-not-in-query"]).await.status.code(), Some(0));
    // The plan judges only two rules: a required rule it leaves out fails, in the text and in JUnit.
    let out =
        run(&["--require", "token-not-in-query,device-slow-down", "--report", &format!("junit:{}", junit.display())])
            .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL          device-slow-down         Adds 5 seconds to the polling interval after each slow_down: required, but the session's plan does not judge it"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let cases = junit_cases(&xml);
    let last = cases.last().unwrap();
    assert_eq!(
        (last.name.as_str(), last.classname.as_str(), last.result.as_deref()),
        ("device-slow-down", "verdict.device.device-slow-down", Some("failure"))
    );
    // Without a plan: a rule the journal did not exercise fails when required, and --require-all requires every one.
    let t = app.web_tokens_in("/s/np", "music::catalog").await;
    let r = app
        .send(
            app.http
                .get(app.url("/s/np/v1/tracks/B0SMBL94TD"))
                .bearer_auth(s(&t, "access_token"))
                .header("x-api-key", MUSIC_PROFILE),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let np = |extra: &[&str]| {
        let mut a = args(&["verdict", "--target", &app.mock.uri(), "--session", "np"]);
        a.extend(extra.iter().map(|x| (*x).to_owned()));
        bin(a)
    };
    assert_eq!(np(&["--require", "api-key-is-profile-id"]).await.status.code(), Some(0));
    let out = np(&["--require", "device-slow-down", "--report", &format!("junit:{}", junit.display())]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL          device-slow-down         Adds 5 seconds"), "{stdout}");
    assert!(stdout.contains("    required, but not exercised: No poll followed a slow_down answer."), "{stdout}");
    let cases = junit_cases(&std::fs::read_to_string(&junit).unwrap());
    let c = cases.iter().find(|c| c.name == "device-slow-down").unwrap();
    assert_eq!(c.result.as_deref(), Some("failure"));
    assert_eq!(
        c.message,
        "Adds 5 seconds to the polling interval after each slow_down: required, but not exercised: No poll followed a slow_down answer."
    );
    assert_eq!(np(&["--require-all"]).await.status.code(), Some(1));
    // An unknown rule is a usage error.
    let out = run(&["--require", "no-such-rule"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("error: --require \"no-such-rule\": no such rule; the rules are device-poll-interval, ")
    );
}

#[tokio::test]
async fn a_v2_only_session_an_unknown_route_and_a_refused_refresh_fail_no_rule_over_the_wire() {
    let app = TestApp::spawn().await;
    // V2 only, as the README shows it: X-Amzn-Device-Id and no x-api-key.
    let t = app.web_tokens_in("/s/v2", "music::catalog").await;
    let token = s(&t, "access_token");
    let r = app
        .send(
            app.http.get(app.url("/s/v2/v2/albums/top?first=1")).bearer_auth(token).header("x-amzn-device-id", "dev-1"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // An unknown V1 path without x-api-key: 404, and no route judged it.
    let r = app.send(app.http.get(app.url("/s/v2/v1/no/such/route")).bearer_auth(token)).await;
    assert_eq!(r.status, 404, "{}", r.text);
    // A refresh refused for its client authentication a second after the tokens: no refresh happened.
    let r = app
        .post_form(
            "/s/v2/auth/o2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", s(&t, "refresh_token")),
                ("client_id", WEB_CLIENT),
                ("client_secret", "wrong"),
            ],
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    let v = app.admin("GET", "/s/v2/__admin/verdict", json!({})).await;
    let failed: Vec<&Value> = v["rules"].as_array().unwrap().iter().filter(|r| r["status"] == "fail").collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let status = |id: &str| v["rules"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap()["status"].clone();
    assert_eq!(status("api-key-is-profile-id"), "not_exercised");
    assert_eq!(status("v2-device-id"), "pass");
    assert_eq!(status("token-no-refresh-storm"), "not_exercised");
}

#[tokio::test]
async fn the_verdict_command_exits_2_when_it_cannot_ask() {
    let out = bin(args(&["verdict", "--target", "ftp://example"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --target \"ftp://example\": expected an http:// or https:// URL\n"
    );
    let app = TestApp::spawn().await;
    let out = bin(args(&["verdict", "--target", &app.mock.uri(), "--session", "bad id"])).await;
    assert_eq!(out.status.code(), Some(2));
    let (wrong, _task) = crate::scenario_support::start_wrong_server().await;
    let out = bin(args(&["verdict", "--target", &wrong])).await;
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The done-when of issue 6, as CI runs it: `serve --plan`, a reference client, `verdict` with a JUnit
/// report; 0 for the well-behaved client, 1 for the misbehaving one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_a_plan_then_each_reference_client_then_verdict() {
    let plan = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/clients/journey.yaml");
    let mut child = serve(&["--plan", plan, "--seed", "1"]);
    let base = address_of(&first_line(&mut child));
    let dir = scratch("serve-plan");
    for (client, bad, code) in [("good", Misbehaviours::none(), 0), ("bad", Misbehaviours::all(), 1)] {
        let cfg =
            Config { target: base.clone(), flow: Flow::Device, pace: Pace::Virtual, bad, playback: false, calls: 6 };
        refclient::run(cfg).await.unwrap_or_else(|e| panic!("{client}: {e}"));
        let junit = dir.join(format!("verdict-{client}.xml"));
        let out = bin(args(&["verdict", "--target", &base, "--report", &format!("junit:{}", junit.display())])).await;
        assert_eq!(out.status.code(), Some(code), "{client}: {}", String::from_utf8_lossy(&out.stdout));
        let cases = junit_cases(&std::fs::read_to_string(&junit).unwrap());
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        let all: Vec<&str> = amazon_music_mock::verdict::RULES.iter().map(|r| r.id).collect();
        assert_eq!(names, all, "the journey judges every rule");
        // A reset goes back to the plan's starting state for the next client.
        let r = reqwest::Client::new().post(format!("{base}/__admin/reset")).send().await.unwrap();
        assert!(r.status().is_success());
    }
    signal(&child, "-TERM");
    let (status, _) = wait_with_limit(child, Duration::from_secs(20));
    assert!(status.success());
    let out = bin(args(&["serve", "--bind", "127.0.0.1:0", "--plan", "/no/such/plan.yaml"])).await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: /no/such/plan.yaml: cannot read the plan:"), "{err}");
}

#[tokio::test]
async fn the_dashboards_live_part_changes_with_the_journal() {
    let app = TestApp::spawn().await;
    // The session exists once anything was sent to it (here, an admin call, which is not journaled).
    app.admin("PUT", "/s/live/__admin/settings", json!({})).await;
    let live = || async { app.admin("GET", "/s/live/__admin/ui/live", json!({})).await };
    let before = live().await;
    assert_eq!(before.as_object().unwrap().keys().collect::<Vec<_>>(), ["version", "html"]);
    assert!(before["html"].as_str().unwrap().contains("No client request yet."));
    assert_eq!(live().await, before, "nothing changed, same version");
    app.get("/s/live/user/profile").await;
    let after = live().await;
    assert_ne!(after["version"], before["version"]);
    assert!(after["html"].as_str().unwrap().contains("GET /user/profile"));
    let page = app.get("/s/live/__admin/ui").await;
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(page.text.contains(&format!("data-version=\"{}\"", after["version"].as_str().unwrap())), "{}", page.text);
    assert!(page.text.contains("fetch('ui/live'"));
}

/// The dashboard in a real browser: the page renders, its script polls, and the timeline shows what the
/// misbehaving client did (screenshots under the target's tmp directory, for a person to look at).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_renders_the_timeline_in_headless_chromium() {
    if crate::testkit::skip_without("/usr/bin/chromium", "apt-get install -y chromium") {
        return;
    }
    let app = TestApp::spawn().await;
    let plan = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/clients/journey.yaml")).unwrap();
    let r = app
        .send(app.http.post(app.url("/s/ui/__admin/plan")).header("content-type", "application/yaml").body(plan))
        .await;
    assert_eq!(r.status, 200);
    let cfg = Config::new(app.url("/s/ui"), Flow::Device);
    refclient::run(Config { bad: Misbehaviours::all(), ..cfg }).await.expect("the client runs");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let png = out.join("dashboard.png");
    let _ = std::fs::remove_file(&png);
    let url = app.url("/s/ui/__admin/ui");
    let budget = "--virtual-time-budget=3500".to_owned();
    let dom = run_chromium(&[budget.clone(), "--dump-dom".to_owned(), url.clone()]).await;
    run_chromium(&[budget, format!("--screenshot={}", png.display()), "--window-size=1400,2400".into(), url]).await;
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot {}: {e}", png.display()));
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 20_000, "{} bytes", bytes.len());
    println!("screenshot: {}", png.display());
    for text in [
        "Plan: Speaker journey",
        "17 failed",
        "device-poll-interval",
        "Polls a device code no faster than the code pair's interval",
        "POST /auth/o2/create/codepair",
        "slow_down (plan)",
        "fault THROTTLED",
        "x-api-key holds the client id",
        "token-not-in-query",
        DEVICE_CLIENT,
    ] {
        assert!(dom.contains(text), "the dashboard lacks {text:?}:\n{dom}");
    }
    // The script ran and polled the live part at least once.
    let polls = dom.split("data-polls=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("0");
    assert!(polls.parse::<u32>().unwrap_or(0) >= 1, "the page never polled: data-polls={polls}");
}
