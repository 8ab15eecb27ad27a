//! The control API under `/__admin` (`src/admin/mod.rs`): every route with its JSON shape and errors, the
//! request journal with secrets redacted, session isolation, and the bounded journal.

use amazon_music_mock::{MockAmazon, ServerConfig};
use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::support::*;

/// An admin call that may fail: status and JSON body.
async fn admin_raw(app: &TestApp, method: &str, path: &str, body: Option<&str>) -> Resp {
    let url = app.url(path);
    let req = match method {
        "GET" => app.http.get(url),
        "PUT" => app.http.put(url),
        "DELETE" => app.http.delete(url),
        _ => app.http.post(url),
    };
    let req = match body {
        Some(b) => req.header("content-type", "application/json").body(b.to_owned()),
        None => req,
    };
    app.send(req).await
}

/// An admin error: status and `{"error": "<message>"}` with a JSON content type.
fn assert_admin_error(r: &Resp, status: u16) -> String {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")), "{:?}", r.headers);
    let v = r.json();
    assert_eq!(keys(&v), ["error"], "{}", r.text);
    v["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn health_and_reset_answer_with_the_session() {
    let app = TestApp::spawn().await;
    assert_eq!(app.admin("GET", "/__admin/health", json!({})).await, json!({"status": "ok", "session": "default"}));
    assert_eq!(app.admin("POST", "/__admin/reset", json!({})).await, json!({"reset": true, "session": "default"}));
    assert_eq!(app.admin("POST", "/s/r1/__admin/reset", json!({})).await, json!({"reset": true, "session": "r1"}));
}

#[tokio::test]
async fn the_clock_routes_report_now_and_frozen() {
    let app = TestApp::spawn().await;
    let c = app.admin("GET", "/__admin/clock", json!({})).await;
    assert_eq!(keys(&c), ["now", "frozen"]);
    assert_eq!(c["frozen"], false);
    assert!(c["now"].as_i64().unwrap() > 1_600_000_000, "{c}");
    let f = app.admin("POST", "/__admin/clock/freeze", json!({})).await;
    assert_eq!(f["frozen"], true);
    assert_eq!(
        app.admin("POST", "/__admin/clock/set", json!({"now": 1_700_000_000})).await,
        json!({"now": 1_700_000_000, "frozen": true})
    );
    assert_eq!(
        app.admin("POST", "/__admin/clock/advance", json!({"seconds": 3600})).await,
        json!({"now": 1_700_003_600, "frozen": true})
    );
    assert_eq!(
        app.admin("POST", "/__admin/clock/advance", json!({"seconds": -600})).await["now"],
        json!(1_700_003_000)
    );
    assert_eq!(app.admin("GET", "/__admin/clock", json!({})).await, json!({"now": 1_700_003_000, "frozen": true}));
    let u = app.admin("POST", "/__admin/clock/unfreeze", json!({})).await;
    assert_eq!(u["frozen"], false);
    assert!((1_700_003_000..1_700_003_010).contains(&u["now"].as_i64().unwrap()), "{u}");
    // A reset brings real time back.
    app.admin("POST", "/__admin/reset", json!({})).await;
    let c = app.admin("GET", "/__admin/clock", json!({})).await;
    assert_eq!(c["frozen"], false);
    assert!(c["now"].as_i64().unwrap() > 1_750_000_000);
}

#[tokio::test]
async fn clock_bodies_with_wrong_fields_or_types_are_400() {
    let app = TestApp::spawn().await;
    for (path, body) in [
        ("/__admin/clock/set", r#"{"now":"soon"}"#),
        ("/__admin/clock/set", r#"{"when":1}"#),
        ("/__admin/clock/set", r#"{}"#),
        ("/__admin/clock/advance", r#"{"seconds":1.5}"#),
        ("/__admin/clock/advance", r#"[1]"#),
        ("/__admin/clock/advance", r#"not json"#),
    ] {
        let msg = assert_admin_error(&admin_raw(&app, "POST", path, Some(body)).await, 400);
        assert!(msg.starts_with("invalid JSON body"), "{msg}");
    }
}

#[tokio::test]
async fn clock_values_outside_the_representable_range_are_400_and_leave_the_clock_alone() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let before = app.admin("GET", "/__admin/clock", json!({})).await;
    for (path, body) in [
        ("/__admin/clock/advance", format!(r#"{{"seconds":{}}}"#, i64::MAX)),
        ("/__admin/clock/advance", format!(r#"{{"seconds":{}}}"#, i64::MIN)),
        ("/__admin/clock/set", r#"{"now":253402300800}"#.to_owned()),
        ("/__admin/clock/set", r#"{"now":-1}"#.to_owned()),
        ("/__admin/clock/set", format!(r#"{{"now":{}}}"#, i64::MAX)),
    ] {
        let msg = assert_admin_error(&admin_raw(&app, "POST", path, Some(&body)).await, 400);
        assert!(msg.contains("253402300799"), "{msg}");
        assert_eq!(app.admin("GET", "/__admin/clock", json!({})).await, before);
    }
    // The edges themselves are fine, and the server keeps answering with a Date header.
    app.admin("POST", "/__admin/clock/set", json!({"now": 253_402_300_799_i64})).await;
    let r = app.get("/__admin/health").await;
    assert_eq!(r.header("date"), Some("Fri, 31 Dec 9999 23:59:59 GMT"));
    let v = app.web_tokens("profile").await;
    assert_eq!(app.profile(s(&v, "access_token")).await.status, 200);
    app.admin("POST", "/__admin/clock/set", json!({"now": 0})).await;
    assert_eq!(app.get("/__admin/health").await.header("date"), Some("Thu, 01 Jan 1970 00:00:00 GMT"));
}

#[tokio::test]
async fn security_profiles_and_users_list_the_fixtures() {
    let app = TestApp::spawn().await;
    let p = app.admin("GET", "/__admin/security-profiles", json!({})).await;
    let profiles = p.as_array().unwrap();
    assert_eq!(profiles.len(), 4);
    assert_eq!(
        keys(&profiles[0]),
        [
            "security_profile_id",
            "name",
            "music_enabled",
            "default_scope",
            "allowed_scopes",
            "allowed_origins",
            "clients"
        ]
    );
    assert_eq!(profiles[0]["security_profile_id"], MUSIC_PROFILE);
    assert_eq!(profiles[0]["default_scope"], "music::library:read");
    assert_eq!(profiles[1]["security_profile_id"], SPEAKER_PROFILE);
    assert_eq!(profiles[1]["music_enabled"], false);
    let web = &profiles[0]["clients"][0];
    assert_eq!(
        keys(web),
        [
            "client_id",
            "client_secret",
            "kind",
            "return_urls",
            "public_refresh_tokens",
            "cbl_enabled",
            "client_credentials_allowed"
        ]
    );
    assert_eq!(web["client_id"], WEB_CLIENT);
    assert_eq!(web["client_secret"], WEB_SECRET);
    assert_eq!(web["kind"], "web");
    assert_eq!(profiles[0]["clients"][1]["client_secret"], Value::Null);

    let u = app.admin("GET", "/__admin/users", json!({})).await;
    let users = u.as_array().unwrap();
    assert_eq!(users.len(), 4);
    assert_eq!(
        users[0],
        json!({"user_id": USER_UNLIMITED, "name": "Ava Unlimited", "email": "ava.unlimited@example.com",
               "postal_code": "98052", "tier": "UNLIMITED", "has_music_account": true})
    );
    assert_eq!(keys(&users[0]), ["user_id", "name", "email", "postal_code", "tier", "has_music_account"]);
    assert_eq!(users[3]["tier"], Value::Null);
}

#[tokio::test]
async fn settings_round_trip_and_reject_unknown_keys_and_wrong_types() {
    let app = TestApp::spawn().await;
    let defaults = json!({
        "auto_consent": false,
        "slow_down_below_seconds": 2,
        "expired_code_pair_error": "invalid_code_pair",
        "device_interval_seconds": 30,
        "unknown_scope_response": "page",
        "strict_lwa": false,
        "access_token_lifetime_seconds": 3600,
        "rate_limit_tps": 0,
        "search_limit_max": 100,
        "playback_max_sessions": 1,
        "playback_idle_timeout_seconds": 600,
        "playback_limit_max": 11,
        "slow_down_first_polls": 0,
        "device_auto_decision": "off",
        "device_decision_after_polls": 1,
        "consent_decision": "allow",
        "stream_url_ttl_seconds": 0,
        "playback_queue_restored": false,
        "accept_codepair_without_response_type": false
    });
    let got = app.admin("GET", "/__admin/settings", json!({})).await;
    assert_eq!(got, defaults);
    assert_eq!(keys(&got), keys(&defaults));
    let patch = json!({"auto_consent": true, "unknown_scope_response": "redirect", "strict_lwa": true});
    let after = app.admin("PUT", "/__admin/settings", patch).await;
    let mut expected = defaults.clone();
    expected["auto_consent"] = json!(true);
    expected["unknown_scope_response"] = json!("redirect");
    expected["strict_lwa"] = json!(true);
    assert_eq!(after, expected);
    assert_eq!(app.admin("GET", "/__admin/settings", json!({})).await, expected);
    // An empty body changes nothing.
    assert_eq!(app.admin("PUT", "/__admin/settings", json!({})).await, expected);

    for bad in [
        r#"{"no_such_setting": true}"#,
        r#"{"auto_consent": "yes"}"#,
        r#"{"device_interval_seconds": -1}"#,
        r#"{"expired_code_pair_error": "gone"}"#,
        r#"{"unknown_scope_response": "PAGE"}"#,
        r#"[]"#,
    ] {
        let msg = assert_admin_error(&admin_raw(&app, "PUT", "/__admin/settings", Some(bad)).await, 400);
        assert!(msg.starts_with("invalid JSON body"), "{bad}: {msg}");
    }
    assert_eq!(app.admin("GET", "/__admin/settings", json!({})).await, expected, "a rejected patch changes nothing");
    // Settings are per session, and a reset restores the defaults.
    assert_eq!(app.admin("GET", "/s/other/__admin/settings", json!({})).await, defaults);
    app.admin("POST", "/__admin/reset", json!({})).await;
    assert_eq!(app.admin("GET", "/__admin/settings", json!({})).await, defaults);
}

#[tokio::test]
async fn settings_that_would_overflow_token_or_poll_arithmetic_are_400() {
    let app = TestApp::spawn().await;
    for bad in [
        format!(r#"{{"access_token_lifetime_seconds": {}}}"#, u64::MAX),
        format!(r#"{{"access_token_lifetime_seconds": {}}}"#, i64::MAX),
        r#"{"access_token_lifetime_seconds": 3155760001}"#.to_owned(),
        format!(r#"{{"device_interval_seconds": {}}}"#, u64::MAX),
        format!(r#"{{"slow_down_below_seconds": {}}}"#, u64::MAX),
    ] {
        let msg = assert_admin_error(&admin_raw(&app, "PUT", "/__admin/settings", Some(&bad)).await, 400);
        assert!(msg.contains("at most"), "{bad}: {msg}");
    }
    assert_eq!(app.admin("GET", "/__admin/settings", json!({})).await["access_token_lifetime_seconds"], 3600);
    // A long but valid lifetime is honoured on the wire.
    app.settings("", json!({"access_token_lifetime_seconds": 86400})).await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
            ],
        )
        .await;
    assert_eq!(r.json()["expires_in"], json!(86400));
}

#[tokio::test]
async fn device_decisions_answer_their_shape_404_for_unknown_codes_and_409_when_not_pending() {
    let app = TestApp::spawn().await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    let uc = s(&pair, "user_code");
    let r = admin_raw(&app, "POST", "/__admin/device/approve", Some(r#"{"user_code":"ZZZZZZ"}"#)).await;
    assert_eq!(assert_admin_error(&r, 404), r#"no code pair with user_code "ZZZZZZ""#);
    let body = format!(r#"{{"user_code":"{uc}","user_id":"amzn1.account.AAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}"#);
    let r = admin_raw(&app, "POST", "/__admin/device/approve", Some(&body)).await;
    assert_admin_error(&r, 404);
    // User codes match in any case.
    let a = app
        .admin("POST", "/__admin/device/approve", json!({"user_code": uc.to_ascii_lowercase(), "user_id": USER_FREE}))
        .await;
    assert_eq!(a, json!({"user_code": uc, "status": "approved", "user_id": USER_FREE, "client_id": DEVICE_CLIENT}));
    assert_eq!(keys(&a), ["user_code", "status", "user_id", "client_id"]);
    for route in ["approve", "deny"] {
        let r =
            admin_raw(&app, "POST", &format!("/__admin/device/{route}"), Some(&format!(r#"{{"user_code":"{uc}"}}"#)))
                .await;
        assert_eq!(assert_admin_error(&r, 409), format!("code pair {uc:?} is not pending"));
    }
    let d = app.codepair(DEVICE_CLIENT, "profile").await;
    let denied = app.admin("POST", "/__admin/device/deny", json!({"user_code": d["user_code"]})).await;
    assert_eq!(
        denied,
        json!({"user_code": d["user_code"], "status": "denied", "user_id": null, "client_id": DEVICE_CLIENT})
    );
    let e = app.codepair(DEVICE_CLIENT, "profile").await;
    let expired = app.admin("POST", "/__admin/device/expire", json!({"user_code": e["user_code"]})).await;
    assert_eq!(expired["status"], "expired");
    let r = admin_raw(&app, "POST", "/__admin/device/deny", Some(r#"{"code":"X"}"#)).await;
    assert_admin_error(&r, 400);
}

#[tokio::test]
async fn grants_revoke_answers_the_new_generation_and_404_for_unknown_ids() {
    let app = TestApp::spawn().await;
    let r1 = app.admin("POST", "/__admin/grants/revoke", json!({"user_id": USER_PRIME, "client_id": WEB_CLIENT})).await;
    assert_eq!(r1, json!({"user_id": USER_PRIME, "client_id": WEB_CLIENT, "revoked": true, "generation": 1}));
    let r2 = app.admin("POST", "/__admin/grants/revoke", json!({"user_id": USER_PRIME, "client_id": WEB_CLIENT})).await;
    assert_eq!(r2["generation"], 2);
    let r = admin_raw(
        &app,
        "POST",
        "/__admin/grants/revoke",
        Some(&json!({"user_id": "amzn1.account.AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "client_id": WEB_CLIENT}).to_string()),
    )
    .await;
    assert_admin_error(&r, 404);
    let r = admin_raw(
        &app,
        "POST",
        "/__admin/grants/revoke",
        Some(&json!({"user_id": USER_PRIME, "client_id": "amzn1.application-oa2-client.00000000000000000000000000000000"}).to_string()),
    )
    .await;
    assert_admin_error(&r, 404);
}

#[tokio::test]
async fn tokens_expire_handles_every_kind_of_credential() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    assert_eq!(
        app.admin("POST", "/__admin/tokens/expire", json!({"token": v["access_token"]})).await["expired"],
        "access_token"
    );
    let cc = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", SELLER_CLIENT),
                ("client_secret", SELLER_SECRET),
                ("scope", "sellingpartnerapi::migration"),
            ],
        )
        .await
        .json();
    assert_eq!(
        app.admin("POST", "/__admin/tokens/expire", json!({"token": cc["access_token"]})).await["expired"],
        "app_token"
    );
    let r = app.get(&format!("/auth/o2/tokeninfo?access_token={}", enc(s(&cc, "access_token")))).await;
    assert_eq!(r.status, 400);

    // An authorization code.
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    assert_eq!(
        app.admin("POST", "/__admin/tokens/expire", json!({"token": code})).await,
        json!({"expired": "authorization_code"})
    );
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
            ],
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_grant", "The request has an invalid grant parameter : code");

    // Code pairs, by device code and by user code.
    let a = app.codepair(DEVICE_CLIENT, "profile").await;
    let b = app.codepair(DEVICE_CLIENT, "profile").await;
    assert_eq!(
        app.admin("POST", "/__admin/tokens/expire", json!({"token": a["device_code"]})).await["expired"],
        "code_pair"
    );
    assert_eq!(
        app.admin("POST", "/__admin/tokens/expire", json!({"token": b["user_code"]})).await["expired"],
        "code_pair"
    );
    for p in [&a, &b] {
        assert_eq!(app.poll(p).await.json()["error"], "invalid_code_pair");
    }
    // A used pair cannot be expired: 409.
    let c = app.codepair(DEVICE_CLIENT, "profile").await;
    app.approve(s(&c, "user_code")).await;
    assert_eq!(app.poll(&c).await.status, 200);
    let r =
        admin_raw(&app, "POST", "/__admin/tokens/expire", Some(&json!({"token": c["device_code"]}).to_string())).await;
    assert_admin_error(&r, 409);

    let r = admin_raw(&app, "POST", "/__admin/tokens/expire", Some(r#"{"token":"Atza|forged"}"#)).await;
    assert_admin_error(&r, 400);
    let r = admin_raw(&app, "POST", "/__admin/tokens/expire", Some(r#"{"token":"nothing-like-it"}"#)).await;
    assert_admin_error(&r, 404);
}

#[tokio::test]
async fn unknown_admin_routes_are_404_and_wrong_methods_405_in_the_admin_error_shape() {
    let app = TestApp::spawn().await;
    let msg = assert_admin_error(&app.get("/__admin/nope").await, 404);
    assert!(msg.contains("no such admin route"), "{msg}");
    for (method, path) in [("GET", "/__admin/reset"), ("POST", "/__admin/health"), ("DELETE", "/__admin/settings")] {
        let r = admin_raw(&app, method, path, None).await;
        let msg = assert_admin_error(&r, 405);
        assert!(msg.contains("method"), "{msg}");
        assert!(r.header("allow").is_some(), "{method} {path}: Allow header");
    }
}

#[tokio::test]
async fn sessions_lists_every_session_seen() {
    let app = TestApp::spawn().await;
    app.get("/s/zeta/__admin/health").await;
    app.get("/s/alpha/__admin/health").await;
    let list = app.admin("GET", "/__admin/sessions", json!({})).await;
    assert_eq!(list, json!(["alpha", "default", "zeta"]));
    let r = app.get("/s/bad%20name/__admin/health").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), json!({"error": INVALID_SESSION}));
}

/// The one answer to a session name outside the documented alphabet.
const INVALID_SESSION: &str = "invalid session id: use 1-64 characters of A-Z a-z 0-9 . _ -, other than . and ..";

/// A request written on the socket as is: URL libraries resolve `.` and `..` segments before sending, so a
/// session named `..` can only arrive this way. Answers the status line and the body.
async fn raw_get(app: &TestApp, target: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.mock.uri().trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.expect("connects");
    let req = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("sends");
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.expect("reads");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    (head.lines().next().unwrap_or_default().to_owned(), body.to_owned())
}

#[tokio::test]
async fn session_names_are_the_documented_alphabet_and_never_dot_segments() {
    let app = TestApp::spawn().await;
    for bad in ["/s/./__admin/health", "/s/../__admin/health", "/s/../v1/me", "/s/..", "/s/a%2Fb/__admin/health"] {
        let (status, body) = raw_get(&app, bad).await;
        assert_eq!(status, "HTTP/1.1 400 Bad Request", "{bad}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({"error": INVALID_SESSION}), "{bad}");
    }
    let long = "a".repeat(65);
    for bad in [long.as_str(), "b%C3%A4d", "semi;colon"] {
        let r = app.get(&format!("/s/{bad}/__admin/health")).await;
        assert_eq!((r.status, r.json()), (400, json!({"error": INVALID_SESSION})), "{bad}");
    }
    // Dots inside a name are fine, and so is the longest name.
    let longest = "z".repeat(64);
    for good in ["a..b", ".hidden", "v1.2", "a_b-c", longest.as_str()] {
        let (status, body) = raw_get(&app, &format!("/s/{good}/__admin/health")).await;
        assert_eq!(status, "HTTP/1.1 200 OK", "{good}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({"status": "ok", "session": good}));
    }
    assert!(!app.admin("GET", "/__admin/sessions", json!({})).await.as_array().unwrap().iter().any(|s| s == ".."));
}

#[tokio::test]
async fn bodies_over_one_mib_are_413_in_the_admin_error_shape_plans_included() {
    let app = TestApp::spawn().await;
    let too_large = json!({"error": "the body is larger than 1 MiB (1048576 bytes), the admin API's limit"});
    // A plan of exactly 1 MiB loads; one byte more is refused, and so is a plan of 1.5 MB.
    let head = "name: big\n";
    let exact = format!("{head}#{}\n", "x".repeat(1024 * 1024 - head.len() - 2));
    assert_eq!(exact.len(), 1024 * 1024);
    let r = app
        .send(
            app.http
                .post(app.url("/s/big/__admin/plan"))
                .header("content-type", "application/yaml")
                .body(exact.clone()),
        )
        .await;
    assert_eq!((r.status, r.json()), (200, json!({"name": "big", "seed": 0, "settings": {}})));
    for body in [format!("{exact} "), format!("{head}#{}\n", "x".repeat(1_500_000))] {
        let r = app
            .send(app.http.post(app.url("/s/big2/__admin/plan")).header("content-type", "application/yaml").body(body))
            .await;
        assert_eq!(r.status, 413, "{}", r.text);
        assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")), "{:?}", r.headers);
        assert_eq!(r.json(), too_large);
    }
    assert_eq!(
        admin_raw(&app, "GET", "/s/big2/__admin/plan", None).await.status,
        404,
        "a refused plan changes nothing"
    );
    // JSON bodies have the same limit.
    let big = format!(r#"{{"auto_consent":true,"pad":"{}"}}"#, "x".repeat(1024 * 1024));
    for (method, path) in [("PUT", "/__admin/settings"), ("POST", "/__admin/faults"), ("POST", "/__admin/reset")] {
        let r = admin_raw(&app, method, path, Some(&big)).await;
        assert_eq!((r.status, r.json()), (413, too_large.clone()), "{method} {path}");
    }
    assert_eq!(app.admin("GET", "/__admin/settings", json!({})).await["auto_consent"], false);
}

#[tokio::test]
async fn routes_without_fields_refuse_unknown_ones_as_documented() {
    let app = TestApp::spawn().await;
    for path in ["/__admin/reset", "/__admin/clock/freeze", "/__admin/clock/unfreeze"] {
        let r = admin_raw(&app, "POST", path, Some(r#"{"bogus":1}"#)).await;
        assert_eq!(
            (r.status, r.json()),
            (400, json!({"error": "invalid JSON body: unknown field `bogus`, there are no fields at line 1 column 8"})),
            "{path}"
        );
        let r = admin_raw(&app, "POST", path, Some("[]")).await;
        assert_eq!((r.status, r.json()), (400, json!({"error": "invalid JSON body: expected a JSON object"})));
        // None, `{}` and whitespace are all the empty body.
        for ok in [None, Some("{}"), Some(" \n")] {
            assert_eq!(admin_raw(&app, "POST", path, ok).await.status, 200, "{path} {ok:?}");
        }
    }
    assert_eq!(app.admin("GET", "/__admin/clock", json!({})).await["frozen"], false);
    // A refused field is reported with its position, as docs/ADMIN.md shows.
    let r = admin_raw(&app, "POST", "/__admin/device/deny", Some(r#"{"bogus":1}"#)).await;
    assert_eq!(
        r.json(),
        json!({"error": "invalid JSON body: unknown field `bogus`, expected `user_code` at line 1 column 8"})
    );
    let r = admin_raw(&app, "POST", "/__admin/clock/set", Some("{}")).await;
    assert_eq!(r.json(), json!({"error": "invalid JSON body: missing field `now` at line 1 column 2"}));
}

#[tokio::test]
async fn a_path_that_does_not_decode_is_refused_in_the_admin_error_shape() {
    let app = TestApp::spawn().await;
    let r = app.get("/__admin/users/%FF/library").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")), "{:?}", r.headers);
    assert_eq!(
        r.json(),
        json!({"error": "the user id in the path is not usable: Invalid URL: Invalid UTF-8 in `user_id`"})
    );
}

// ---- journal ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_journal_records_requests_with_every_secret_redacted() {
    let app = TestApp::spawn().await;
    let code = app
        .code(
            PUBLIC_CLIENT,
            PUBLIC_RETURN,
            "profile",
            &[("code_challenge", CHALLENGE_S256), ("code_challenge_method", "S256")],
        )
        .await;
    let pub_tokens = app
        .send(app.http.post(app.url(TOKEN)).query(&[("code_verifier", VERIFIER)]).form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", PUBLIC_CLIENT),
        ]))
        .await
        .json();
    let web = app.web_tokens("profile").await;
    let refreshed = app
        .send(
            app.http
                .post(app.url(TOKEN))
                .basic_auth(WEB_CLIENT, Some(WEB_SECRET))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", s(&web, "refresh_token"))]),
        )
        .await
        .json();
    app.profile(s(&web, "access_token")).await;
    app.send(app.http.get(app.url("/user/profile")).header("x-amz-access-token", s(&refreshed, "access_token"))).await;
    app.get(&format!("/auth/o2/tokeninfo?access_token={}", enc(s(&pub_tokens, "access_token")))).await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    app.poll(&pair).await;
    // A wrong secret is a secret too.
    app.post_form(
        TOKEN,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "Atzr|x"),
            ("client_id", WEB_CLIENT),
            ("client_secret", "s3cr3t-wrong"),
        ],
    )
    .await;

    let r = app.get("/__admin/requests").await;
    assert_eq!(r.status, 200);
    let text = r.text.clone();
    for secret in [
        WEB_SECRET,
        code.as_str(),
        VERIFIER,
        s(&pub_tokens, "access_token"),
        s(&pub_tokens, "refresh_token"),
        s(&web, "access_token"),
        s(&web, "refresh_token"),
        s(&refreshed, "access_token"),
        s(&pair, "device_code"),
        "s3cr3t-wrong",
        "Atzr|x",
    ] {
        assert!(!text.contains(secret), "the journal leaks {secret:.30}…");
    }
    let entries = r.json();
    let entries = entries.as_array().unwrap();
    assert!(
        entries.iter().all(|e| !e["path"].as_str().unwrap().starts_with("/__admin")),
        "admin calls are not journaled"
    );
    assert_eq!(
        keys(&entries[0]),
        [
            "seq",
            "at_ms",
            "method",
            "host",
            "path",
            "query",
            "headers",
            "params",
            "status",
            "error",
            "client_id",
            "user_id",
            "token",
            "scopes",
            "duration_us"
        ]
    );
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());

    let redacted = |v: &Value| {
        let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
        s.len() == 19
            && s.starts_with("[redacted:")
            && s.ends_with(']')
            && s[10..18].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let param = |e: &Value, field: &str, name: &str| -> Option<Value> {
        e[field].as_array().unwrap().iter().find(|p| p[0] == name).map(|p| p[1].clone())
    };
    let tokens: Vec<&Value> = entries.iter().filter(|e| e["path"] == "/auth/o2/token").collect();
    // The PKCE exchange: code and verifier redacted, grant type and client kept.
    let pkce = tokens[0];
    assert_eq!(pkce["status"], 200);
    assert_eq!(pkce["client_id"], PUBLIC_CLIENT);
    assert_eq!(pkce["user_id"], USER_UNLIMITED);
    assert!(redacted(&param(pkce, "params", "code").unwrap()));
    assert!(redacted(&param(pkce, "params", "code_verifier").unwrap()));
    assert!(redacted(&param(pkce, "query", "code_verifier").unwrap()));
    assert_eq!(param(pkce, "params", "grant_type").unwrap(), "authorization_code");
    assert!(redacted(&pkce["token"]));
    // The web exchange: the secret redacted.
    assert!(redacted(&param(tokens[1], "params", "client_secret").unwrap()));
    // The Basic refresh: the scheme kept, the credentials redacted.
    let auth = param(tokens[2], "headers", "authorization").unwrap();
    let auth = auth.as_str().unwrap();
    assert!(auth.starts_with("Basic [redacted:") && auth.len() == "Basic ".len() + 19, "{auth}");
    assert_eq!(param(tokens[2], "params", "basic_client_id").unwrap(), WEB_CLIENT);
    // The failed refresh: error noted, secrets redacted.
    let failed = tokens.last().unwrap();
    assert_eq!(failed["status"], 401);
    assert_eq!(failed["error"], "invalid_client");
    assert!(redacted(&param(failed, "params", "client_secret").unwrap()));
    // Bearer and x-amz-access-token on the profile; the query on tokeninfo.
    let profiles: Vec<&Value> = entries.iter().filter(|e| e["path"] == "/user/profile").collect();
    let bearer = param(profiles[0], "headers", "authorization").unwrap();
    assert!(bearer.as_str().unwrap().starts_with("Bearer [redacted:"), "{bearer}");
    assert!(redacted(&param(profiles[1], "headers", "x-amz-access-token").unwrap()));
    let info = entries.iter().find(|e| e["path"] == "/auth/o2/tokeninfo").unwrap();
    assert!(redacted(&param(info, "query", "access_token").unwrap()));
    // The device poll: device_code redacted, user_code kept (it is shown on screens).
    let poll = tokens.iter().find(|e| param(e, "params", "grant_type").unwrap() == "device_code").unwrap();
    assert!(redacted(&param(poll, "params", "device_code").unwrap()));
    assert_eq!(param(poll, "params", "user_code").unwrap(), pair["user_code"]);
    assert_eq!(poll["error"], "authorization_pending");
}

#[tokio::test]
async fn the_journal_of_a_json_body_is_redacted_too() {
    let app = TestApp::spawn().await;
    app.post_json(
        TOKEN,
        &json!({"grant_type": "refresh_token", "refresh_token": "Atzr|json-secret", "client_id": WEB_CLIENT,
                "client_secret": WEB_SECRET}),
    )
    .await;
    let text = app.get("/__admin/requests").await.text;
    assert!(!text.contains("json-secret") && !text.contains(WEB_SECRET), "{text}");
    assert!(text.contains("[redacted:"), "{text}");
}

#[tokio::test]
async fn the_journal_is_bounded_and_keeps_the_newest_entries() {
    let mock = MockAmazon::start_with(ServerConfig {
        bind: ([127, 0, 0, 1], 0).into(),
        seed: Some(1),
        journal_capacity: 3,
        ..ServerConfig::default()
    })
    .await;
    let app =
        TestApp { mock, http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap() };
    for i in 0..5 {
        app.get(&format!("/user/profile?n={i}")).await;
    }
    let j = app.admin("GET", "/__admin/requests", json!({})).await;
    let j = j.as_array().unwrap();
    assert_eq!(j.len(), 3);
    assert_eq!(j.iter().map(|e| e["seq"].as_u64().unwrap()).collect::<Vec<_>>(), [3, 4, 5]);
    assert_eq!(j[2]["query"], json!([["n", "4"]]));
    // A reset empties it and numbering starts again.
    app.admin("POST", "/__admin/reset", json!({})).await;
    app.get("/user/profile").await;
    let j = app.admin("GET", "/__admin/requests", json!({})).await;
    assert_eq!(j.as_array().unwrap().len(), 1);
    assert_eq!(j[0]["seq"], 1);
}

#[tokio::test]
async fn the_journal_pages_with_after_and_limit() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.get(&format!("/s/paged/user/profile?n={i}")).await;
    }
    let seqs = |r: &Resp| r.json().as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect::<Vec<_>>();
    let r = app.get("/s/paged/__admin/requests?limit=2").await;
    assert_eq!((r.status, seqs(&r), r.header("x-amm-next-after")), (200, vec![1, 2], Some("2")));
    let r = app.get("/s/paged/__admin/requests?after=2&limit=2").await;
    assert_eq!((seqs(&r), r.header("x-amm-next-after")), (vec![3, 4], Some("4")));
    let r = app.get("/s/paged/__admin/requests?after=4&limit=2").await;
    assert_eq!((seqs(&r), r.header("x-amm-next-after")), (vec![5], None));
    let r = app.get("/s/paged/__admin/requests").await;
    assert_eq!((seqs(&r), r.header("x-amm-next-after")), (vec![1, 2, 3, 4, 5], None));
    let r = app.get("/s/paged/__admin/requests?limit=0").await;
    assert_eq!((r.status, r.json()), (400, json!({"error": "limit must be between 1 and 1000"})));
    let r = app.get("/s/paged/__admin/requests?after=x").await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().ends_with(": use ?after=SEQ&limit=N"), "{}", r.text);
}

#[tokio::test]
async fn a_session_can_be_dropped_and_starts_afresh() {
    let app = TestApp::spawn().await;
    app.admin("POST", "/s/gone/__admin/clock/set", json!({"now": 1_000_000})).await;
    let r = app.send(app.http.delete(app.url("/s/gone/__admin/session"))).await;
    assert_eq!((r.status, r.json()), (200, json!({"dropped": "gone"})));
    let sessions = app.admin("GET", "/__admin/sessions", json!({})).await;
    assert!(!sessions.as_array().unwrap().contains(&json!("gone")), "{sessions}");
    // Dropping what does not exist creates nothing.
    let r = app.send(app.http.delete(app.url("/s/gone/__admin/session"))).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(
        r.json()["error"],
        "no session named \"gone\": a session exists once a request was sent under /s/gone/ (check the session name)"
    );
    let sessions = app.admin("GET", "/__admin/sessions", json!({})).await;
    assert!(!sessions.as_array().unwrap().contains(&json!("gone")), "{sessions}");
    // Asked again, it starts afresh: its clock is the real one again.
    let clock = app.admin("GET", "/s/gone/__admin/clock", json!({})).await;
    assert_ne!(clock["now"], 1_000_000, "{clock}");
    let r = app.send(app.http.delete(app.url("/__admin/session"))).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"],
        "the default session cannot be dropped: POST /__admin/reset empties it, or use /s/{name}/ sessions"
    );
}

// ---- sessions --------------------------------------------------------------------------------------

#[tokio::test]
async fn a_token_from_one_session_is_invalid_in_another() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens_in("/s/a", "profile").await;
    let access = s(&v, "access_token");
    let ok = app.send(app.http.get(app.url("/s/a/user/profile")).bearer_auth(access)).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let r = app.send(app.http.get(app.url("/s/b/user/profile")).bearer_auth(access)).await;
    assert_eq!(r.status, 401);
    assert_eq!(app.profile(access).await.status, 401, "the default session is another session too");
    let r = app.get(&format!("/s/b/auth/o2/tokeninfo?access_token={}", enc(access))).await;
    assert_eq!(r.status, 400);
    let r = app
        .post_form(
            "/s/b/auth/o2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", s(&v, "refresh_token")),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
            ],
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_grant");
    // Codes and code pairs do not cross either.
    let code = app.code_in("/s/a", WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r = app
        .post_form(
            "/s/b/auth/o2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
            ],
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_grant");
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    let r = admin_raw(
        &app,
        "POST",
        "/s/b/__admin/device/approve",
        Some(&json!({"user_code": pair["user_code"]}).to_string()),
    )
    .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn resetting_one_session_leaves_another_untouched() {
    let app = TestApp::spawn().await;
    let b = app.web_tokens_in("/s/b", "profile").await;
    app.web_tokens_in("/s/a", "profile").await;
    app.admin("POST", "/s/b/__admin/clock/freeze", json!({})).await;
    app.admin("POST", "/s/b/__admin/clock/set", json!({"now": 1_800_000_000})).await;
    let journal_b = app.admin("GET", "/s/b/__admin/requests", json!({})).await;
    let pair_b = {
        let r = app
            .post_form(
                "/s/b/auth/o2/create/codepair",
                &[("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", "profile")],
            )
            .await;
        r.json()
    };

    app.admin("POST", "/s/a/__admin/reset", json!({})).await;
    assert_eq!(app.admin("GET", "/s/a/__admin/requests", json!({})).await, json!([]));
    assert_eq!(app.admin("GET", "/s/a/__admin/settings", json!({})).await["auto_consent"], false);

    let settings_b = app.admin("GET", "/s/b/__admin/settings", json!({})).await;
    assert_eq!(settings_b["auto_consent"], true);
    assert_eq!(app.admin("GET", "/s/b/__admin/clock", json!({})).await, json!({"now": 1_800_000_000, "frozen": true}));
    let after = app.admin("GET", "/s/b/__admin/requests", json!({})).await;
    assert!(after.as_array().unwrap().len() > journal_b.as_array().unwrap().len());
    let approved = app.admin("POST", "/s/b/__admin/device/approve", json!({"user_code": pair_b["user_code"]})).await;
    assert_eq!(approved["status"], "approved");
    // b's refresh token still works in b (its clock was moved, refresh tokens do not expire).
    let r = app
        .post_form(
            "/s/b/auth/o2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", s(&b, "refresh_token")),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
            ],
        )
        .await;
    assert_user_token_response(&r);
}

#[tokio::test]
async fn expiring_a_token_of_another_session_is_404_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens_in("/s/a", "profile").await;
    let r =
        admin_raw(&app, "POST", "/s/b/__admin/tokens/expire", Some(&json!({"token": v["access_token"]}).to_string()))
            .await;
    assert_eq!(assert_admin_error(&r, 404), r#"the token was issued in session "a", not this one"#);
    let ok = app.send(app.http.get(app.url("/s/a/user/profile")).bearer_auth(s(&v, "access_token"))).await;
    assert_eq!(ok.status, 200);
    let e = app.admin("POST", "/s/a/__admin/tokens/expire", json!({"token": v["access_token"]})).await;
    assert_eq!(e["expired"], "access_token");
}

#[tokio::test]
async fn no_token_survives_a_reset_so_revoked_tokens_stay_dead() {
    let app = TestApp::spawn().await;
    let revoked = app.web_tokens("profile").await;
    app.admin("POST", "/__admin/grants/revoke", json!({"user_id": USER_UNLIMITED, "client_id": WEB_CLIENT})).await;
    let expired = app.web_tokens("profile").await;
    app.admin("POST", "/__admin/tokens/expire", json!({"token": expired["refresh_token"]})).await;
    let live = app.web_tokens("profile").await;
    assert_user_token_response(&app.refresh_web(s(&live, "refresh_token")).await);

    app.admin("POST", "/__admin/reset", json!({})).await;
    let bad = "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.";
    for v in [&revoked, &expired, &live] {
        assert_lwa_error(&app.refresh_web(s(v, "refresh_token")).await, 400, "invalid_grant", bad);
        assert_eq!(app.profile(s(v, "access_token")).await.status, 401);
    }
    let r =
        admin_raw(&app, "POST", "/__admin/tokens/expire", Some(&json!({"token": live["access_token"]}).to_string()))
            .await;
    assert_eq!(assert_admin_error(&r, 404), "the token was issued before this session was reset");
    // New grants after the reset work, twice over.
    let fresh = app.web_tokens("profile").await;
    assert_eq!(app.profile(s(&fresh, "access_token")).await.status, 200);
    assert_user_token_response(&app.refresh_web(s(&fresh, "refresh_token")).await);
    app.admin("POST", "/__admin/reset", json!({})).await;
    assert_eq!(app.profile(s(&fresh, "access_token")).await.status, 401);
    let again = app.web_tokens("profile").await;
    assert_eq!(app.profile(s(&again, "access_token")).await.status, 200);
}

#[tokio::test]
async fn without_a_seed_a_reset_never_hands_out_the_same_codes_again() {
    let cfg = amazon_music_mock::ServerConfig { bind: ([127, 0, 0, 1], 0).into(), seed: None, ..Default::default() };
    let app = TestApp::spawn_with(cfg).await;
    let pair = || async {
        let r = app
            .post_form(
                "/auth/O2/create/codepair",
                &[("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", "music::library:read")],
            )
            .await;
        r.json()["device_code"].as_str().unwrap().to_owned()
    };
    let before = pair().await;
    app.admin("POST", "/__admin/reset", json!({})).await;
    let after = pair().await;
    assert_ne!(before, after);
}
