//! Bad input never panics and never loses state: malformed bodies, duplicate parameters, wrong content
//! types, oversized bodies and unknown clients get LWA errors, and the session goes on working.

use amazon_music_mock::{MockAmazon, ServerConfig};
use serde_json::json;

use crate::lwa_support::*;
use crate::support::*;

const MALFORMED: &str = "Malformed request";

async fn post_raw(app: &TestApp, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Resp {
    app.send(app.http.post(app.url(path)).header("content-type", content_type).body(body)).await
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn invalid_utf8_in_a_form_body_or_query_is_malformed_request() {
    let app = TestApp::spawn().await;
    for path in [TOKEN, CODEPAIR] {
        let r = post_raw(&app, path, FORM, "grant_type=refresh_token&refresh_token=%FF%FE").await;
        assert_lwa_error(&r, 400, "invalid_request", MALFORMED);
        assert_lwa_headers(&r);
        let raw: Vec<u8> = [b"grant_type=refresh_token&refresh_token=".as_slice(), &[0xff, 0xfe, 0x00]].concat();
        let r = post_raw(&app, path, FORM, raw).await;
        assert_lwa_error(&r, 400, "invalid_request", MALFORMED);
        let r = app.send(app.http.post(app.url(&format!("{path}?grant_type=%C3%28")))).await;
        assert_lwa_error(&r, 400, "invalid_request", MALFORMED);
    }
    // Invalid UTF-8 in a JSON body.
    let r =
        post_raw(&app, TOKEN, "application/json", [b"{\"grant_type\":\"".as_slice(), &[0xff], b"\"}"].concat()).await;
    assert_lwa_error(&r, 400, "invalid_request", MALFORMED);
}

#[tokio::test]
async fn differing_duplicate_parameters_are_invalid_request_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let r = post_raw(&app, TOKEN, FORM, "grant_type=refresh_token&grant_type=client_credentials").await;
    assert_lwa_error(&r, 400, "invalid_request", "The request has an invalid parameter : grant_type");
    // Query against body.
    let r = app
        .send(app.http.post(app.url(&format!("{TOKEN}?client_id={WEB_CLIENT}"))).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", SELLER_CLIENT),
            ("scope", "profile"),
        ]))
        .await;
    assert_lwa_error(&r, 400, "invalid_request", "The request has an invalid parameter : client_id");
    let r = post_raw(
        &app,
        CODEPAIR,
        FORM,
        format!("response_type=device_code&client_id={DEVICE_CLIENT}&scope=profile&scope=alexa%3Aall"),
    )
    .await;
    assert_lwa_error(&r, 400, "invalid_request", "The request has an invalid parameter : scope");
    // The same value twice is not a conflict.
    let r = post_raw(
        &app,
        CODEPAIR,
        FORM,
        format!("response_type=device_code&client_id={DEVICE_CLIENT}&client_id={DEVICE_CLIENT}&scope=profile"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn differing_duplicate_keys_in_a_json_body_are_invalid_request_too() {
    let app = TestApp::spawn().await;
    let body = r#"{"grant_type":"refresh_token","refresh_token":"Atzr|a","grant_type":"client_credentials"}"#;
    let r = post_raw(&app, TOKEN, "application/json", body).await;
    assert_lwa_error(&r, 400, "invalid_request", "The request has an invalid parameter : grant_type");
    // A JSON key that repeats a query parameter with another value.
    let r = app
        .send(
            app.http
                .post(app.url(&format!("{TOKEN}?grant_type=refresh_token")))
                .json(&json!({"grant_type": "device_code", "device_code": "x"})),
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_request", "The request has an invalid parameter : grant_type");
}

#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_malformed_request() {
    let app = TestApp::spawn().await;
    for body in [r#"["grant_type","refresh_token"]"#, r#""grant_type""#, "42", "null", "{", r#"{"a":1} trailing"#] {
        let r = post_raw(&app, TOKEN, "application/json", body).await;
        assert_lwa_error(&r, 400, "invalid_request", MALFORMED);
    }
    // A nested object where a string belongs names the parameter.
    let r = app.post_json(TOKEN, &json!({"grant_type": {"nested": true}})).await;
    assert_lwa_error(&r, 400, "invalid_request", "The request has an invalid parameter : grant_type");
}

#[tokio::test]
async fn an_unsupported_content_type_is_malformed_request() {
    let app = TestApp::spawn().await;
    for ct in ["application/xml", "multipart/form-data; boundary=x", "text/html", "application/octet-stream"] {
        let r = post_raw(&app, TOKEN, ct, "grant_type=refresh_token").await;
        assert_lwa_error(&r, 400, "invalid_request", MALFORMED);
        let r = post_raw(&app, CODEPAIR, ct, "<x/>").await;
        assert_lwa_error(&r, 400, "invalid_request", MALFORMED);
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_the_server_goes_on() {
    let mock = MockAmazon::start_with(ServerConfig {
        bind: ([127, 0, 0, 1], 0).into(),
        seed: Some(1),
        body_limit: 1500,
        ..ServerConfig::default()
    })
    .await;
    let app =
        TestApp { mock, http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap() };
    let big = format!("grant_type=refresh_token&refresh_token={}", "A".repeat(4000));
    for path in [TOKEN, CODEPAIR] {
        let r = post_raw(&app, path, FORM, big.clone()).await;
        assert_lwa_error(&r, 413, "invalid_request", "The request body is larger than 1500 bytes");
    }
    // Chunked, so no Content-Length announces it.
    let chunks: Vec<Result<String, std::io::Error>> = (0..20).map(|_| Ok("x".repeat(100))).collect();
    let r = post_raw(&app, TOKEN, FORM, reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))).await;
    assert_lwa_error(&r, 413, "invalid_request", "The request body is larger than 1500 bytes");
    // Within the limit everything works.
    let v = app.web_tokens("profile").await;
    assert_user_token_response(&app.refresh_web(s(&v, "refresh_token")).await);
}

#[tokio::test]
async fn unknown_clients_and_broken_basic_headers_are_401_invalid_client() {
    let app = TestApp::spawn().await;
    let unknown = "amzn1.application-oa2-client.ffffffffffffffffffffffffffffffff";
    let r = app
        .post_form(
            TOKEN,
            &[("grant_type", "client_credentials"), ("client_id", unknown), ("client_secret", WEB_SECRET)],
        )
        .await;
    assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
    let r = app
        .post_form(
            CODEPAIR,
            &[("response_type", "device_code"), ("client_id", "not-a-client-id"), ("scope", "profile")],
        )
        .await;
    assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
    for header in ["Basic !!!not-base64", "Basic", "Basic bm9jb2xvbg==", "Basic //79"] {
        let r = app
            .send(
                app.http
                    .post(app.url(TOKEN))
                    .header("authorization", header)
                    .form(&[("grant_type", "client_credentials")]),
            )
            .await;
        assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
    }
    // Basic naming one client and client_id another.
    let r = app
        .send(app.http.post(app.url(TOKEN)).basic_auth(SELLER_CLIENT, Some(SELLER_SECRET)).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", WEB_CLIENT),
            ("scope", "profile"),
        ]))
        .await;
    assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
    // A secret sent by a client that has none.
    let r = app
        .post_form(
            CODEPAIR,
            &[
                ("response_type", "device_code"),
                ("client_id", DEVICE_CLIENT),
                ("client_secret", WEB_SECRET),
                ("scope", "profile"),
            ],
        )
        .await;
    assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
}

#[tokio::test]
async fn odd_but_harmless_values_get_ordinary_lwa_errors() {
    let app = TestApp::spawn().await;
    let long = "A".repeat(100_000);
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![
                ("grant_type", "authorization_code"),
                ("code", &long),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
            ],
            400,
            "invalid_grant",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "Atzr|\u{1F600}\u{0}"),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
            ],
            400,
            "invalid_grant",
        ),
        (vec![("grant_type", "device_code"), ("device_code", &long)], 400, "invalid_code_pair"),
        (vec![("grant_type", "device_code"), ("device_code", "\u{0}")], 400, "invalid_code_pair"),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", SELLER_CLIENT),
                ("client_secret", SELLER_SECRET),
                ("scope", &long),
            ],
            400,
            "invalid_scope",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", SELLER_CLIENT),
                ("client_secret", SELLER_SECRET),
                ("scope", "é::ü"),
            ],
            400,
            "invalid_scope",
        ),
        (vec![("grant_type", "\u{202E}drowssap")], 400, "unsupported_grant_type"),
        (vec![("grant_type", "authorization_code"), ("code", "ANx"), ("client_id", &long)], 401, "invalid_client"),
    ];
    for (form, status, error) in cases {
        let r = app.post_form(TOKEN, &form).await;
        assert_eq!(r.status, status, "{:.80}", r.text);
        assert_eq!(r.json()["error"], error);
        assert_lwa_headers(&r);
    }
    let r = app
        .post_form(
            CODEPAIR,
            &[
                ("response_type", "device_code"),
                ("client_id", DEVICE_CLIENT),
                ("scope", "profile"),
                ("scope_data", "{not json"),
            ],
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_request", "The request has an invalid parameter : scope_data");
    // Tokens in odd places.
    for q in ["access_token=%FF", "access_token=", "access_token=Atza%7C%00"] {
        let r = app.get(&format!("/auth/o2/tokeninfo?{q}")).await;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
        let r = app.get(&format!("/user/profile?{q}")).await;
        assert!(r.status == 400 || r.status == 401, "{q}: {}", r.text);
    }
    let r = app.send(app.http.get(app.url("/user/profile")).header("authorization", "Bearer")).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = app.send(app.http.get(app.url("/user/profile")).header("authorization", b"Bearer \xff".as_slice())).await;
    assert!(r.status == 400 || r.status == 401, "{}", r.text);
}

#[tokio::test]
async fn after_every_kind_of_bad_input_the_session_still_works() {
    let app = TestApp::spawn().await;
    let before = app.web_tokens("profile").await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;

    post_raw(&app, TOKEN, FORM, "grant_type=%FF").await;
    post_raw(&app, TOKEN, FORM, "grant_type=a&grant_type=b").await;
    post_raw(&app, TOKEN, "application/json", "[1,2,3]").await;
    post_raw(&app, TOKEN, "application/xml", "<grant_type/>").await;
    post_raw(&app, TOKEN, "application/json", "{\"grant_type\":").await;
    app.post_form(
        TOKEN,
        &[("grant_type", "device_code"), ("device_code", s(&pair, "device_code")), ("user_code", "WRONG1")],
    )
    .await;
    app.post_form(TOKEN, &[("grant_type", "client_credentials"), ("client_id", "nobody")]).await;
    app.send(app.http.post(app.url(TOKEN)).header("authorization", "Basic %%%")).await;
    app.get("/auth/o2/tokeninfo?access_token=Atza%7Cjunk").await;
    app.get("/user/profile?access_token=%FF").await;
    app.get(TOKEN).await;

    // Everything issued before still works, the pending pair is still pending, and new flows work.
    assert_eq!(app.profile(s(&before, "access_token")).await.status, 200);
    assert_user_token_response(&app.refresh_web(s(&before, "refresh_token")).await);
    assert_eq!(app.poll(&pair).await.json()["error"], "authorization_pending");
    app.approve(s(&pair, "user_code")).await;
    app.advance(30).await;
    assert_user_token_response(&app.poll(&pair).await);
    app.web_tokens("profile postal_code").await;
    let health = app.get("/__admin/health").await;
    assert_eq!(health.status, 200);
    // Every bad request was answered and journaled, none with a 5xx.
    let journal = app.admin("GET", "/__admin/requests", json!({})).await;
    assert!(journal.as_array().unwrap().iter().all(|e| e["status"].as_u64().unwrap() < 500), "{journal}");
}

#[tokio::test]
async fn more_than_a_thousand_parameters_are_malformed_and_the_journal_keeps_a_bounded_entry() {
    let app = TestApp::spawn().await;
    // 1000 pairs are read (and answered for what they say); 1001 are refused before decoding.
    let pairs = |n: usize| (0..n).map(|i| format!("k{i}=v")).collect::<Vec<_>>().join("&");
    let r = post_raw(&app, TOKEN, FORM, format!("grant_type=nonsense&{}", pairs(999))).await;
    assert_eq!(r.status, 400);
    assert_ne!(r.json()["error_description"], MALFORMED, "{}", r.text);
    let r = post_raw(&app, TOKEN, FORM, format!("grant_type=nonsense&{}", pairs(1000))).await;
    assert_lwa_error(&r, 400, "invalid_request", MALFORMED);
    let json_body = format!("{{{}}}", (0..1001).map(|i| format!("\"k{i}\":\"v\"")).collect::<Vec<_>>().join(","));
    let r = post_raw(&app, TOKEN, "application/json", json_body).await;
    assert_lwa_error(&r, 400, "invalid_request", MALFORMED);
    let r = app.send(app.http.post(app.url(&format!("{TOKEN}?{}", pairs(1001))))).await;
    assert_lwa_error(&r, 400, "invalid_request", MALFORMED);
    // A megabyte in one value is read, and the journal keeps its first KiB and says how much it left out.
    let big = "x".repeat(1024 * 1024 - 64);
    let r = post_raw(&app, TOKEN, FORM, format!("grant_type=nonsense&note={big}")).await;
    assert_eq!(r.status, 400);
    let journal = app.admin("GET", "/__admin/requests", serde_json::Value::Null).await;
    let last = journal.as_array().and_then(|a| a.last()).cloned().unwrap_or_default();
    let note = last["params"].as_array().and_then(|p| p.iter().find(|kv| kv[0] == "note")).cloned();
    assert_eq!(
        note,
        Some(json!(["note", format!("{}…[truncated: {} more bytes]", "x".repeat(1024), big.len() - 1024)])),
        "{last}"
    );
}
