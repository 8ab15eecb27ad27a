//! Client plans over the wire: `/__admin/plan`, and each server-side behaviour a plan scripts (slow_down for
//! the first polls, the customer's own decisions, the app removed after N calls, bad material, the Nth
//! request's error, latency and dropped connections), with the journal facts the rules read.

use serde_json::{Value, json};

use crate::lwa_support::{TOKEN, keys, query_param, s};
use crate::music_support::{V1, V1_HEADER, assert_v1_error};
use crate::support::*;

/// Loads a plan (YAML text) into a session; panics unless it is a 200.
async fn load(app: &TestApp, session: &str, yaml: &str) -> Value {
    let r = app
        .send(
            app.http
                .post(app.url(&format!("/s/{session}/__admin/plan")))
                .header("content-type", "application/yaml")
                .body(yaml.to_owned()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

async fn journal(app: &TestApp, session: &str) -> Vec<Value> {
    let j = app.admin("GET", &format!("/s/{session}/__admin/requests"), json!({})).await;
    j.as_array().expect("array").clone()
}

fn v1<'a>(app: &'a TestApp, session: &str, token: &str) -> V1<'a> {
    V1 { app, token: token.to_owned(), prefix: format!("/s/{session}"), header: V1_HEADER }
}

#[tokio::test]
async fn a_plan_loads_over_the_admin_api_and_a_reset_goes_back_to_it() {
    let app = TestApp::spawn().await;
    let r = app.get("/s/p/__admin/plan").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.text, r#"{"error":"no plan is loaded in this session: POST one to /__admin/plan"}"#);
    let yaml = "name: settle\nseed: 3\nsettings: {auto_consent: true, device_interval_seconds: 7}\n\
                faults:\n  - {route: \"GET /v1/me\", error: INTERNAL, nth: 2}\nrules: [backoff-429-5xx]\n";
    let loaded = load(&app, "p", yaml).await;
    assert_eq!(
        loaded,
        json!({"name": "settle", "seed": 3, "settings": {"auto_consent": true, "device_interval_seconds": 7},
               "faults": [{"route": "GET /v1/me", "error": "INTERNAL", "nth": 2}], "rules": ["backoff-429-5xx"]})
    );
    assert_eq!(app.admin("GET", "/s/p/__admin/plan", json!({})).await, loaded);
    let faults = json!([{"route": "GET /v1/me", "error": "INTERNAL", "retry_after": null, "latency_ms": null,
                          "count": 1, "after": 1}]);
    assert_eq!(app.admin("GET", "/s/p/__admin/faults", json!({})).await, faults);
    let settings = app.admin("GET", "/s/p/__admin/settings", json!({})).await;
    assert_eq!(
        (settings["auto_consent"].clone(), settings["device_interval_seconds"].clone()),
        (json!(true), json!(7))
    );
    // Change things, then reset: back to the plan's starting state, not to the defaults.
    app.settings("/s/p", json!({"device_interval_seconds": 30})).await;
    app.send(app.http.delete(app.url("/s/p/__admin/faults"))).await;
    app.get("/s/p/user/profile").await;
    app.admin("POST", "/s/p/__admin/reset", json!({})).await;
    assert_eq!(app.admin("GET", "/s/p/__admin/settings", json!({})).await["device_interval_seconds"], 7);
    assert_eq!(app.admin("GET", "/s/p/__admin/faults", json!({})).await, faults);
    assert_eq!(journal(&app, "p").await, Vec::<Value>::new());
    // Removing the plan resets to the defaults.
    let r = app.send(app.http.delete(app.url("/s/p/__admin/plan"))).await;
    assert_eq!(r.text, r#"{"plan":null,"session":"p"}"#);
    assert_eq!(app.admin("GET", "/s/p/__admin/settings", json!({})).await["device_interval_seconds"], 30);
    assert_eq!(app.get("/s/p/__admin/plan").await.status, 404);
}

#[tokio::test]
async fn a_bad_plan_is_refused_with_where_and_why() {
    let app = TestApp::spawn().await;
    for (yaml, error) in [
        ("name: x\nsetings: {}\n", "plan:2:1: unknown field `setings`"),
        ("name: x\nrules: [nope]\n", "plan: rules: no rule \"nope\"; the rules are device-poll-interval, "),
        ("name: x\nrevoke: {after_calls: 0}\n", "plan: revoke.after_calls must be at least 1"),
        (
            "name: x\nbad_material: [{kind: stale_token}]\n",
            "plan:2:23: unknown variant `stale_token`, expected one of missing_expires_in, wrong_state, truncated_token",
        ),
    ] {
        let r = app
            .send(app.http.post(app.url("/s/p/__admin/plan")).header("content-type", "application/yaml").body(yaml))
            .await;
        assert_eq!(r.status, 400, "{yaml}");
        let msg = r.json()["error"].as_str().unwrap().to_owned();
        assert!(msg.starts_with(error), "{yaml}: {msg}");
    }
    assert_eq!(app.get("/s/p/__admin/plan").await.status, 404, "a refused plan loads nothing");
}

#[tokio::test]
async fn the_first_polls_answer_slow_down_then_the_customer_approves() {
    let app = TestApp::spawn().await;
    load(
        &app,
        "d",
        "name: d\nsettings: {slow_down_below_seconds: 0, slow_down_first_polls: 2, device_auto_decision: approve, \
         device_decision_after_polls: 3}\n",
    )
    .await;
    let pair = app
        .post_form(
            "/s/d/auth/o2/create/codepair",
            &[("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", "music::catalog")],
        )
        .await
        .json();
    let token_url = format!("/s/d{TOKEN}");
    let form =
        [("grant_type", "device_code"), ("device_code", s(&pair, "device_code")), ("user_code", s(&pair, "user_code"))];
    let poll = || app.post_form(&token_url, &form);
    let slow = "The client is polling too quickly and should back off";
    let pending = "The authorization request is still pending";
    for expected in [("slow_down", slow), ("slow_down", slow), ("authorization_pending", pending)] {
        let r = poll().await;
        assert_eq!(r.json()["error"], expected.0, "{}", r.text);
    }
    let r = poll().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(keys(&r.json()), ["access_token", "refresh_token", "token_type", "expires_in"]);
    let j = journal(&app, "d").await;
    assert_eq!(j[0]["device_code"], j[1]["params"][1][1], "the code pair's device code, fingerprinted");
    assert_eq!(j[0]["interval"], 30);
    assert_eq!(j[0]["scopes"], "music::catalog");
    assert_eq!(j[1]["injected"], json!(["slow_down (plan)"]));
    assert_eq!(j[2]["injected"], json!(["slow_down (plan)"]));
    assert_eq!(j[3].get("injected"), None);
    assert_eq!(j[4]["expires_in"], 3600);
    assert_eq!(j[4]["scopes"], "music::catalog");
    assert!(j[4]["refresh_token"].as_str().unwrap().starts_with("[redacted:"));
}

#[tokio::test]
async fn auto_consent_can_answer_deny_for_the_customer() {
    let app = TestApp::spawn().await;
    load(&app, "c", "name: c\nsettings: {auto_consent: true, consent_decision: deny}\n").await;
    let r = app
        .send(app.http.get(app.url("/s/c/ap/oa")).query(&[
            ("client_id", PUBLIC_CLIENT),
            ("response_type", "code"),
            ("redirect_uri", PUBLIC_RETURN),
            ("scope", "music::catalog"),
            ("state", "st8"),
        ]))
        .await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.location(),
        "http://127.0.0.1:8765/callback?error_description=The+user+denied+the+request&state=st8&error=access_denied"
    );
    let j = journal(&app, "c").await;
    assert_eq!(j[0]["error"], "access_denied");
    assert_eq!(j[0]["injected"], json!(["consent denied (plan)"]));
}

#[tokio::test]
async fn the_customer_removes_the_app_after_the_nth_call() {
    let app = TestApp::spawn().await;
    load(&app, "r", "name: r\nrevoke: {after_calls: 2, route: \"GET /v1/me/**\"}\n").await;
    let t = app.web_tokens_in("/s/r", "music::library:read music::catalog").await;
    let api = v1(&app, "r", s(&t, "access_token"));
    assert_eq!(api.get("/v1/tracks/B0SMBL94TD").await.status, 404, "other routes do not count");
    assert_eq!(api.get("/v1/me/library/tracks").await.status, 200);
    assert_eq!(api.get("/v1/me/library/albums").await.status, 200);
    let r = api.get("/v1/me/library/tracks").await;
    assert_v1_error(
        &r,
        401,
        "INVALID_ACCESS_TOKEN",
        "The access token is no longer valid: the customer revoked the grant.",
    );
    let refresh = app
        .post_form(
            &format!("/s/r{TOKEN}"),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", s(&t, "refresh_token")),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
            ],
        )
        .await;
    assert_eq!(refresh.json()["error"], "invalid_grant");
    let j = journal(&app, "r").await;
    let last = j.len() - 1;
    assert_eq!(j[last - 2]["injected"], json!(["the customer removed the app after this call (plan)"]));
    assert_eq!(j[last - 1]["token_problem"], "revoked");
    assert_eq!((&j[last]["token_problem"], &j[last]["user_id"]), (&json!("revoked"), &json!(USER_UNLIMITED)));
}

#[tokio::test]
async fn bad_material_goes_into_the_nth_redirect_and_token_responses() {
    let app = TestApp::spawn().await;
    load(
        &app,
        "b",
        "name: b\nsettings: {auto_consent: true}\nbad_material:\n  - {kind: wrong_state}\n  - {kind: truncated_token}\n  - {kind: missing_expires_in, nth: 2}\n",
    )
    .await;
    let authorize = || {
        app.send(app.http.get(app.url("/s/b/ap/oa")).query(&[
            ("client_id", WEB_CLIENT),
            ("response_type", "code"),
            ("redirect_uri", WEB_RETURN),
            ("scope", "music::catalog"),
            ("state", "abc"),
        ]))
    };
    let first = authorize().await;
    let code = query_param(first.location(), "code").unwrap();
    assert_eq!(first.location(), format!("{WEB_RETURN}?code={code}&scope=music%3A%3Acatalog&state=forgedabc"));
    let second = authorize().await;
    assert_eq!(query_param(second.location(), "state").as_deref(), Some("abc"), "only the first redirect is bad");
    let truncated = exchange(&app, query_param(second.location(), "code").unwrap()).await.json();
    let access = s(&truncated, "access_token");
    assert!(access.starts_with("Atza|") && access.len() == 45, "{access}");
    assert_eq!(keys(&truncated), ["access_token", "refresh_token", "token_type", "expires_in"]);
    let third = authorize().await;
    let r = exchange(&app, query_param(third.location(), "code").unwrap()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json;charset=UTF-8"));
    let no_expiry = r.json();
    assert_eq!(keys(&no_expiry), ["access_token", "refresh_token", "token_type"]);
    assert!(s(&no_expiry, "access_token").len() > 350);
    let j = journal(&app, "b").await;
    let bad: Vec<(u64, Value)> = j
        .iter()
        .filter(|e| e.get("bad_material").is_some())
        .map(|e| (e["seq"].as_u64().unwrap(), e["bad_material"]["kind"].clone()))
        .collect();
    assert_eq!(bad, [(1, json!("wrong_state")), (3, json!("truncated_token")), (5, json!("missing_expires_in"))]);
    // What is tainted: the first code, and the two access tokens, by fingerprint.
    assert_eq!(j[0]["bad_material"]["tainted"], fingerprint(&code));
    assert_eq!(j[2]["bad_material"]["tainted"], fingerprint(access));
    assert_eq!(j[2]["token"], fingerprint(access));
    assert_eq!(j[4]["bad_material"]["tainted"], fingerprint(s(&no_expiry, "access_token")));
    assert_eq!(j[4]["injected"], json!(["bad material: missing_expires_in (plan)"]));
}

async fn exchange(app: &TestApp, code: String) -> Resp {
    app.post_form(
        &format!("/s/b{TOKEN}"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_RETURN),
            ("client_id", WEB_CLIENT),
            ("client_secret", WEB_SECRET),
        ],
    )
    .await
}

fn fingerprint(v: &str) -> String {
    amazon_music_mock::test_support::fingerprint(v)
}

#[tokio::test]
async fn the_nth_matching_request_answers_the_plans_error() {
    let app = TestApp::spawn().await;
    load(
        &app,
        "f",
        "name: f\nfaults:\n  - {route: \"GET /v1/me/library/tracks\", error: INVALID_ACCESS_TOKEN, nth: 2}\n  \
         - {route: \"GET /v1/me/library/*\", error: THROTTLED, retry_after: 7, nth: 3}\n  \
         - {route: \"GET /v1/me/library/albums\", error: INTERNAL, nth: 2}\n  \
         - {route: \"GET /v1/me/library/albums\", error: AUTH_NO_MUSIC_ACCOUNT_FOUND, nth: 3}\n",
    )
    .await;
    let t = app.web_tokens_in("/s/f", "music::library:read").await;
    let api = v1(&app, "f", s(&t, "access_token"));
    assert_eq!(api.get("/v1/me/library/tracks").await.status, 200);
    assert_v1_error(
        &api.get("/v1/me/library/tracks").await,
        401,
        "INVALID_ACCESS_TOKEN",
        "Injected fault: INVALID_ACCESS_TOKEN",
    );
    let r = api.get("/v1/me/library/albums").await;
    assert_v1_error(&r, 429, "THROTTLED", "Too Many Requests. Rate limiting has been applied.");
    assert_eq!(r.header("retry-after"), Some("7"));
    assert_eq!(api.get("/v1/me/library/tracks").await.status, 200);
    let r = api.get("/v1/me/library/albums").await;
    assert_v1_error(&r, 500, "INTERNAL", "An unexpected error occurred. Please retry the request.");
    let r = api.get("/v1/me/library/albums").await;
    let message = "No Amazon Music account found. The customer must sign up for Amazon Music before using this API.";
    crate::music_support::assert_v1_error_with(
        &r,
        403,
        "AUTH_NO_MUSIC_ACCOUNT_FOUND",
        message,
        Some("https://music.amazon.com"),
    );
    assert_eq!(api.get("/v1/me/library/albums").await.status, 200);
    let j = journal(&app, "f").await;
    let n = j.len() - 3;
    assert_eq!(j[n - 3]["injected"], json!(["fault INVALID_ACCESS_TOKEN"]));
    assert_eq!(j[n - 3]["client_id"], WEB_CLIENT);
    assert_eq!((&j[n - 2]["injected"], &j[n - 2]["retry_after"]), (&json!(["fault THROTTLED"]), &json!(7)));
    assert_eq!(j[n - 4]["scope_used"], "music::library:read");
    assert_eq!(j[n - 4]["scopes"], "music::library:read");
}

#[tokio::test]
async fn a_dropped_connection_gets_no_answer_and_latency_waits() {
    let app = TestApp::spawn().await;
    load(
        &app,
        "n",
        "name: n\nnetwork:\n  - {route: \"GET /user/profile\", drop: true, nth: 2}\n  - {route: \"GET /auth/o2/tokeninfo\", latency_ms: 300}\n",
    )
    .await;
    let unauthenticated = app.get("/s/n/user/profile").await.status;
    let dropped = async { app.http.get(app.url("/s/n/user/profile")).send().await?.text().await }.await;
    assert!(dropped.is_err(), "the connection was dropped: {dropped:?}");
    assert_eq!(app.get("/s/n/user/profile").await.status, unauthenticated);
    let started = std::time::Instant::now();
    assert_eq!(app.get("/s/n/auth/o2/tokeninfo").await.status, 400);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "{:?}", started.elapsed());
    let j = journal(&app, "n").await;
    let statuses: Vec<u64> = j.iter().map(|e| e["status"].as_u64().unwrap()).collect();
    let u = u64::from(unauthenticated);
    assert_eq!(statuses, [u, 0, u, 400]);
    assert_eq!(j[1]["injected"], json!(["connection dropped (plan)"]));
    assert_eq!(j[3]["injected"], json!(["latency 300 ms (plan)"]));
}

#[tokio::test]
async fn seeded_drops_repeat_run_after_run() {
    let app = TestApp::spawn().await;
    let plan = "name: s\nseed: 42\nnetwork:\n  - {route: \"GET /user/profile\", drop: true, probability: 0.4}\n";
    let mut runs = Vec::new();
    for session in ["s1", "s2"] {
        load(&app, session, plan).await;
        for _ in 0..20 {
            let _ =
                async { app.http.get(app.url(&format!("/s/{session}/user/profile"))).send().await?.text().await }.await;
        }
        let j = journal(&app, session).await;
        runs.push(j.iter().map(|e| e["status"].as_u64().unwrap()).collect::<Vec<_>>());
    }
    assert_eq!(runs[0], runs[1], "the same seed drops the same requests");
    let drops = runs[0].iter().filter(|s| **s == 0).count();
    assert!((3..=14).contains(&drops), "{drops} of 20 dropped: {:?}", runs[0]);
}

#[tokio::test]
async fn the_journal_notes_scopes_tokens_in_queries_and_missing_scopes_without_secrets() {
    let app = TestApp::spawn().await;
    let t = app.web_tokens_in("/s/q", "music::catalog").await;
    let token = s(&t, "access_token");
    let api = v1(&app, "q", token);
    let r = app
        .send(
            app.http
                .get(app.url(&format!("/s/q/v1/me/library/tracks?access_token={}", crate::lwa_support::enc(token))))
                .bearer_auth(token)
                .header("x-api-key", MUSIC_PROFILE),
        )
        .await;
    assert_eq!(r.status, 403);
    api.get("/v1/tracks/B0SMBL94TD").await;
    let text = app.get("/s/q/__admin/requests").await.text;
    assert!(!text.contains(token) && !text.contains(s(&t, "refresh_token")), "no secret in the journal");
    let j: Vec<Value> = serde_json::from_str(&text).unwrap();
    let n = j.len();
    assert_eq!(j[n - 2]["token_in_query"], "access_token");
    assert_eq!(j[n - 2]["scope_missing"], "music::library:read");
    assert_eq!(j[n - 2]["client_id"], WEB_CLIENT);
    assert_eq!(j[n - 2]["query"], json!([["access_token", fingerprint(token)]]));
    assert_eq!(j[n - 1].get("token_in_query"), None);
}

#[tokio::test]
async fn stream_urls_can_be_set_to_expire_early() {
    let app = TestApp::spawn().await;
    load(&app, "t", "name: t\nsettings: {stream_url_ttl_seconds: 20}\n").await;
    assert_eq!(app.admin("GET", "/s/t/__admin/settings", json!({})).await["stream_url_ttl_seconds"], 20);
    let r =
        app.send(app.http.put(app.url("/s/t/__admin/settings")).json(&json!({"stream_url_ttl_seconds": 86401}))).await;
    assert_eq!(r.text, r#"{"error":"stream_url_ttl_seconds must be at most 86400"}"#);
}
