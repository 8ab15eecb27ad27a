//! Injected faults and the rate limit (spec `music-api.md` §6.1, §11.6; admin `POST /__admin/faults`,
//! setting `rate_limit_tps`): the documented 429, 500 and 403 bodies, `Retry-After`, `count` and `after`,
//! route patterns, latency, bad fault bodies, and a token bucket on the virtual clock.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::music_support::*;
use crate::support::*;

const THROTTLED: &str = "Too Many Requests. Rate limiting has been applied.";

async fn fault(app: &TestApp, body: Value) -> Value {
    app.admin("POST", "/__admin/faults", body).await
}

fn track_path() -> String {
    format!("/v1/tracks/{}", track_id(0))
}

#[tokio::test]
async fn a_throttled_fault_is_429_with_retry_after_and_the_documented_message() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let listed =
        fault(&app, json!({"route": "GET /v1/tracks/*", "error": "THROTTLED", "retry_after": 7, "count": 1})).await;
    assert_eq!(
        listed,
        json!([{"route": "GET /v1/tracks/*", "error": "THROTTLED", "retry_after": 7, "latency_ms": null, "count": 1, "after": null}])
    );
    let r = v1.get(&track_path()).await;
    assert_v1_error(&r, 429, "THROTTLED", THROTTLED);
    assert_eq!(r.header("retry-after"), Some("7"));
    let r = v1.get(&track_path()).await;
    ok(&r);
    assert_eq!(r.header("retry-after"), None);
    // Without retry_after there is no header.
    fault(&app, json!({"route": "*", "error": "THROTTLED", "count": 1})).await;
    let r = v1.get(&track_path()).await;
    assert_v1_error(&r, 429, "THROTTLED", THROTTLED);
    assert_eq!(r.header("retry-after"), None);
}

#[tokio::test]
async fn internal_and_no_music_account_faults_answer_their_documented_bodies() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    fault(&app, json!({"route": "GET /v1/me", "error": "INTERNAL", "count": 1})).await;
    assert_v1_error(
        &v1.get("/v1/me").await,
        500,
        "INTERNAL",
        "An unexpected error occurred. Please retry the request.",
    );
    fault(&app, json!({"route": "GET /v1/me", "error": "AUTH_NO_MUSIC_ACCOUNT_FOUND", "count": 1})).await;
    assert_v1_error_with(
        &v1.get("/v1/me").await,
        403,
        "AUTH_NO_MUSIC_ACCOUNT_FOUND",
        "No Amazon Music account found. The customer must sign up for Amazon Music before using this API.",
        Some("https://music.amazon.com"),
    );
    fault(&app, json!({"route": "GET /v1/me", "error": "RESOURCE_NOT_FOUND", "count": 1})).await;
    assert_v1_error(&v1.get("/v1/me").await, 404, "RESOURCE_NOT_FOUND", "Injected fault: RESOURCE_NOT_FOUND");
    ok(&v1.get("/v1/me").await);
}

#[tokio::test]
async fn count_limits_how_often_a_fault_fires_and_after_lets_requests_through_first() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    fault(&app, json!({"route": "GET /v1/me", "error": "INTERNAL", "count": 2})).await;
    assert_eq!(v1.get("/v1/me").await.status, 500);
    let left = app.admin("GET", "/__admin/faults", json!({})).await;
    assert_eq!(left[0]["count"], json!(1), "the remaining count: {left}");
    assert_eq!(v1.get("/v1/me").await.status, 500);
    assert_eq!(app.admin("GET", "/__admin/faults", json!({})).await, json!([]), "a spent fault is gone");
    ok(&v1.get("/v1/me").await);

    fault(&app, json!({"route": "GET /v1/me", "error": "INTERNAL", "after": 2, "count": 1})).await;
    let statuses: Vec<u16> = {
        let mut s = Vec::new();
        for _ in 0..4 {
            s.push(v1.get("/v1/me").await.status);
        }
        s
    };
    assert_eq!(statuses, [200, 200, 500, 200]);

    // Without count, every matching request fails until the faults are cleared.
    fault(&app, json!({"route": "GET /v1/me", "error": "INTERNAL"})).await;
    for _ in 0..3 {
        assert_eq!(v1.get("/v1/me").await.status, 500);
    }
    let r = app.send(app.http.delete(app.url("/__admin/faults"))).await;
    assert_eq!((r.status, r.json()), (200, json!([])));
    ok(&v1.get("/v1/me").await);
}

#[tokio::test]
async fn fault_routes_match_methods_wildcards_and_paths_with_or_without_v1() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let pl = ptr_str(&v1.data("/v1/me/playlists").await, "/user/playlists/edges/0/node/id").to_owned();
    // A method and an exact path.
    fault(&app, json!({"route": "POST /v1/playlists", "error": "INTERNAL"})).await;
    ok(&v1.get("/v1/me").await);
    ok(&v1.get(&format!("/v1/playlists/{pl}")).await);
    let create = json!({"title": "t", "description": "", "visibility": "PRIVATE"});
    assert_eq!(v1.post("/v1/playlists", &create).await.status, 500);
    assert_eq!(v1.post("/playlists/", &create).await.status, 500, "without /v1 and with a trailing slash");
    app.send(app.http.delete(app.url("/__admin/faults"))).await;
    // `*` is one segment, `**` the rest, a method `*` any method.
    fault(&app, json!({"route": "GET /v1/tracks/*", "error": "INTERNAL"})).await;
    assert_eq!(v1.get(&track_path()).await.status, 500);
    assert_eq!(v1.get(&format!("/tracks/{}", track_id(1))).await.status, 500);
    ok(&v1.get(&format!("/v1/tracks?ids={}", track_id(1))).await);
    app.send(app.http.delete(app.url("/__admin/faults"))).await;
    fault(&app, json!({"route": "* /v1/playlists/**", "error": "INTERNAL"})).await;
    assert_eq!(v1.get(&format!("/v1/playlists/{pl}/tracks")).await.status, 500);
    assert_eq!(v1.put(&format!("/v1/playlists/{pl}/tracks"), &json!({"trackIds": [track_id(0)]})).await.status, 500);
    ok(&v1.get("/v1/me").await);
    app.send(app.http.delete(app.url("/__admin/faults"))).await;
    fault(&app, json!({"route": "*", "error": "INTERNAL"})).await;
    for path in ["/v1/me", "/v1/views/home", "/v1/search?query=a"] {
        assert_eq!(v1.get(path).await.status, 500, "{path}");
    }
}

#[tokio::test]
async fn faults_fire_after_the_auth_chain_and_unauthenticated_calls_do_not_use_them_up() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    fault(&app, json!({"route": "*", "error": "THROTTLED", "retry_after": 3, "count": 1})).await;
    let r = app.v1_raw("GET", "/v1/me", &[("x-api-key", API_KEY)], None).await;
    assert_v1_error(
        &r,
        401,
        "INVALID_AUTH_TYPE",
        "Missing Authorization header. Send Authorization: Bearer <LWA access token>.",
    );
    let r = app.v1_raw("GET", "/v1/me", &[("authorization", &format!("Bearer {}", v1.token))], None).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(app.admin("GET", "/__admin/faults", json!({})).await[0]["count"], json!(1), "still armed");
    assert_eq!(v1.get("/v1/me").await.status, 429);
    ok(&v1.get("/v1/me").await);
}

#[tokio::test]
async fn a_latency_fault_delays_the_answer() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    fault(&app, json!({"route": "GET /v1/me", "latency_ms": 50, "count": 1})).await;
    let started = Instant::now();
    ok(&v1.get("/v1/me").await);
    assert!(started.elapsed() >= Duration::from_millis(50), "{:?}", started.elapsed());
    // With an error too.
    fault(&app, json!({"route": "GET /v1/me", "latency_ms": 50, "error": "INTERNAL", "count": 1})).await;
    let started = Instant::now();
    assert_eq!(v1.get("/v1/me").await.status, 500);
    assert!(started.elapsed() >= Duration::from_millis(50), "{:?}", started.elapsed());
}

#[tokio::test]
async fn bad_fault_bodies_are_400_in_the_admin_error_shape() {
    let app = TestApp::spawn().await;
    let cases = [
        (r#"{"error":"INTERNAL"}"#, "invalid JSON body: missing field `route` at line 1 column 20"),
        (r#"{"route":"  ","error":"INTERNAL"}"#, "route is required: \"METHOD /path\" with * wildcards, or \"*\""),
        (
            r#"{"route":"*","error":"TEAPOT"}"#,
            "unknown error code \"TEAPOT\": use THROTTLED, INTERNAL, AUTH_NO_MUSIC_ACCOUNT_FOUND or another V1 code, a V2 code such as MAX_CONCURRENCY_REACHED, or a Device API report: CONCURRENT_STREAMS, SUBSCRIPTION_REQUIRED, SERVICE_UNAVAILABLE",
        ),
        (r#"{"route":"*"}"#, "a fault needs an error, a latency_ms, or both"),
        (r#"{"route":"*","latency_ms":120001}"#, "latency_ms must be at most 120000"),
        (
            r#"{"route":"*","error":"INTERNAL","count":0}"#,
            "count must be at least 1 (omit it for every matching request)",
        ),
        (r#"[1]"#, "invalid JSON body: expected a JSON object"),
    ];
    for (body, message) in cases {
        let r = app
            .send(app.http.post(app.url("/__admin/faults")).header("content-type", "application/json").body(body))
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.json(), json!({"error": message}), "{body}");
    }
    for body in
        [r#"{"route":"*","error":"INTERNAL","colour":"red"}"#, r#"{"route":"*","error":"INTERNAL","count":-1}"#, "{"]
    {
        let r = app
            .send(app.http.post(app.url("/__admin/faults")).header("content-type", "application/json").body(body))
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.json()["error"].as_str().unwrap().starts_with("invalid JSON body: "), "{}", r.text);
    }
    assert_eq!(app.admin("GET", "/__admin/faults", json!({})).await, json!([]), "nothing was added");
}

#[tokio::test]
async fn faults_belong_to_a_session_and_reset_clears_them() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    app.admin("POST", "/s/other/__admin/faults", json!({"route": "*", "error": "INTERNAL"})).await;
    ok(&v1.get("/v1/me").await);
    fault(&app, json!({"route": "*", "error": "INTERNAL"})).await;
    assert_eq!(v1.get("/v1/me").await.status, 500);
    app.admin("POST", "/__admin/reset", json!({})).await;
    assert_eq!(app.admin("GET", "/__admin/faults", json!({})).await, json!([]));
    let v1 = app.music(USER_UNLIMITED).await;
    ok(&v1.get("/v1/me").await);
}

// ---- rate limit -------------------------------------------------------------------------------------

#[tokio::test]
async fn with_two_tps_the_third_rapid_call_is_throttled_until_the_clock_moves_a_second() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v1 = app.music(USER_UNLIMITED).await;
    app.settings("", json!({"rate_limit_tps": 2})).await;
    ok(&v1.get("/v1/me").await);
    ok(&v1.get(&track_path()).await);
    let r = v1.get("/v1/me").await;
    assert_v1_error(&r, 429, "THROTTLED", THROTTLED);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(v1.get("/v1/me").await.status, 429, "still throttled while the clock stands");
    app.advance(1).await;
    ok(&v1.get("/v1/me").await);
    ok(&v1.get("/v1/me").await);
    assert_eq!(v1.get("/v1/me").await.status, 429);
}

#[tokio::test]
async fn the_rate_limit_is_per_token_and_off_by_default() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let a = app.music(USER_UNLIMITED).await;
    let b = app.music(USER_UNLIMITED).await;
    for _ in 0..20 {
        ok(&a.get("/v1/me").await);
    }
    app.settings("", json!({"rate_limit_tps": 1})).await;
    ok(&a.get("/v1/me").await);
    assert_eq!(a.get("/v1/me").await.status, 429);
    ok(&b.get("/v1/me").await);
    assert_eq!(b.get("/v1/me").await.status, 429);
    // Calls that fail the auth chain do not spend tokens.
    app.advance(1).await;
    for _ in 0..5 {
        assert_eq!(
            app.v1_raw("GET", "/v1/me", &[("authorization", &format!("Bearer {}", a.token))], None).await.status,
            403
        );
    }
    ok(&a.get("/v1/me").await);
    // 0 turns it off again.
    app.settings("", json!({"rate_limit_tps": 0})).await;
    for _ in 0..5 {
        ok(&a.get("/v1/me").await);
    }
}
