//! Code-based linking (spec `lwa.md` §4.4, §5, §13.5, §13.6): the code pair, polling, approval, denial,
//! expiry, `slow_down`, and the speaker profile that gets `alexa:all` but no music scope.

use serde_json::json;

use crate::lwa_support::*;
use crate::support::*;

fn is_user_code(c: &str) -> bool {
    c.len() == 6 && c.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[tokio::test]
async fn codepair_has_the_captured_shape_and_values() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form(
            CODEPAIR,
            &[
                ("response_type", "device_code"),
                ("client_id", DEVICE_CLIENT),
                ("scope", "alexa:all"),
                (
                    "scope_data",
                    r#"{"alexa:all":{"productID":"P1","productInstanceAttributes":{"deviceSerialNumber":"1"}}}"#,
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_lwa_headers(&r);
    let v = r.json();
    assert_eq!(keys(&v), ["user_code", "device_code", "interval", "verification_uri", "expires_in"]);
    assert!(is_user_code(s(&v, "user_code")), "{v}");
    let dc = s(&v, "device_code");
    let parsed = uuid::Uuid::parse_str(dc).expect("device_code is a UUID");
    assert_eq!(parsed.get_version_num(), 4);
    assert_eq!(parsed.hyphenated().to_string(), dc);
    assert_eq!(v["interval"], json!(30));
    assert_eq!(v["verification_uri"], "https://amazon.com/us/code");
    assert_eq!(v["expires_in"], json!(600));
    // Integers, not strings (the AVS SDK checks IsUint64).
    assert!(r.text.contains(r#""interval":30,"#) && r.text.ends_with(r#""expires_in":600}"#), "{}", r.text);
}

#[tokio::test]
async fn codepair_answers_on_both_spellings_of_the_path_and_in_json() {
    let app = TestApp::spawn().await;
    for path in ["/auth/o2/create/codepair", "/auth/O2/create/codepair", "/s/cp/auth/O2/create/codepair"] {
        let r = app
            .post_form(path, &[("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", "profile")])
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    let r = app
        .post_json(CODEPAIR, &json!({"response_type": "device_code", "client_id": DEVICE_CLIENT, "scope": "profile"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn pending_then_approved_gives_tokens_for_a_bare_device_code_grant_without_client_id() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let pair = app.codepair(DEVICE_CLIENT, "profile alexa:all").await;
    let r = app.poll(&pair).await;
    assert_lwa_error(
        &r,
        400,
        "authorization_pending",
        "The user has not yet entered the code or authorized the device",
    );
    assert_lwa_headers(&r);
    let approved = app.approve(s(&pair, "user_code")).await;
    assert_eq!(
        approved,
        json!({"user_code": pair["user_code"], "status": "approved", "user_id": USER_UNLIMITED, "client_id": DEVICE_CLIENT})
    );
    app.advance(30).await;
    // Only grant_type and device_code: no user_code, no client_id, no secret.
    let r = app.post_form(TOKEN, &[("grant_type", "device_code"), ("device_code", s(&pair, "device_code"))]).await;
    let v = assert_user_token_response(&r);
    let p = app.profile(s(&v, "access_token")).await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.json()["user_id"], USER_UNLIMITED);
}

#[tokio::test]
async fn the_rfc_8628_urn_grant_type_is_an_alias() {
    let app = TestApp::spawn().await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    app.admin("POST", "/__admin/device/approve", json!({"user_code": pair["user_code"], "user_id": USER_PRIME})).await;
    let r = app
        .post_form(
            TOKEN,
            &[("grant_type", DEVICE_URN), ("device_code", s(&pair, "device_code")), ("client_id", DEVICE_CLIENT)],
        )
        .await;
    let v = assert_user_token_response(&r);
    assert_eq!(app.profile(s(&v, "access_token")).await.json()["user_id"], USER_PRIME);
    // Accepted as a leniency: the hint names the documented value, and the journal notes what was needed.
    assert_eq!(r.header("x-amm-hint"), Some(URN_HINT));
    let journal = app.admin("GET", "/__admin/requests", json!({})).await;
    let poll = journal.as_array().unwrap().iter().rev().find(|e| e["path"] == "/auth/o2/token").unwrap().clone();
    assert_eq!(poll["leniency"], "device_code_grant_urn");
    assert_eq!(poll["hint"], URN_HINT);
    let verdict = app.admin("GET", "/__admin/verdict", json!({})).await;
    let rule = verdict["rules"].as_array().unwrap().iter().find(|r| r["id"] == "lwa-no-leniency").unwrap().clone();
    assert_eq!(rule["status"], "fail");
    assert_eq!(rule["message"], "1 LWA request passed only through a leniency of the mock.");
}

const URN_HINT: &str = "LWA documents grant_type=device_code (lwa.md 4.4); the RFC 8628 URN is accepted by this mock \
     as an alias only while the session setting strict_lwa is off, and the verdict rule lwa-no-leniency fails the \
     client that sends it.";

const CODEPAIR_HINT: &str = "LWA requires response_type=device_code on the code pair request (lwa.md 5): add it as an \
     extra parameter of the device authorization request. The session setting accept_codepair_without_response_type \
     lets the request through; the verdict rule lwa-no-leniency then fails the client.";

#[tokio::test]
async fn a_code_pair_without_response_type_is_refused_as_lwa_does_with_the_fix_beside_it() {
    let app = TestApp::spawn().await;
    let form = [("client_id", DEVICE_CLIENT), ("scope", "profile")];
    let r = app.post_form(CODEPAIR, &form).await;
    // LWA's exact body; the hint only in the project's own header.
    assert_lwa_error(&r, 400, "invalid_request", "The request is missing a required parameter : response_type");
    assert_eq!(
        r.text,
        r#"{"error_description":"The request is missing a required parameter : response_type","error":"invalid_request"}"#
    );
    assert_eq!(r.header("x-amm-hint"), Some(CODEPAIR_HINT));
    let journal = app.admin("GET", "/__admin/requests", json!({})).await;
    let e = journal.as_array().unwrap().last().unwrap().clone();
    assert_eq!((e["status"].clone(), e["hint"].clone(), e.get("leniency")), (json!(400), json!(CODEPAIR_HINT), None));
    // With the setting the request passes, and the verdict fails the client for needing it.
    app.settings("", json!({"accept_codepair_without_response_type": true})).await;
    let r = app.post_form(CODEPAIR, &form).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(keys(&r.json()), ["user_code", "device_code", "interval", "verification_uri", "expires_in"]);
    assert_eq!(r.header("x-amm-hint"), Some(CODEPAIR_HINT));
    let verdict = app.admin("GET", "/__admin/verdict", json!({})).await;
    let rule = verdict["rules"].as_array().unwrap().iter().find(|r| r["id"] == "lwa-no-leniency").unwrap().clone();
    assert_eq!(rule["status"], "fail");
    assert_eq!(rule["evidence"].as_array().unwrap().len(), 1);
    assert_eq!(
        rule["evidence"][0]["note"],
        "sent a code pair request without response_type=device_code: accepted only by the mock's lenient setting, refused by LWA"
    );
    // A request that sends it gets no hint.
    let r = app
        .post_form(CODEPAIR, &[("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", "profile")])
        .await;
    assert_eq!((r.status, r.header("x-amm-hint")), (200, None));
}

#[tokio::test]
async fn the_urn_grant_type_is_refused_with_strict_lwa() {
    let app = TestApp::spawn().await;
    app.settings("", json!({"strict_lwa": true})).await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    app.approve(s(&pair, "user_code")).await;
    let r = app.post_form(TOKEN, &[("grant_type", DEVICE_URN), ("device_code", s(&pair, "device_code"))]).await;
    assert_lwa_error(
        &r,
        400,
        "unsupported_grant_type",
        "The authorization grant type is not supported by the authorization server",
    );
    assert_eq!(r.header("x-amm-hint"), Some(URN_HINT));
    // The bare grant still works, and the pair was not used up by the refused request.
    assert_user_token_response(&app.poll(&pair).await);
}

#[tokio::test]
async fn polling_twice_with_the_clock_frozen_is_slow_down_but_not_after_five_seconds() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    assert_eq!(app.poll(&pair).await.json()["error"], "authorization_pending");
    let r = app.poll(&pair).await;
    assert_lwa_error(&r, 400, "slow_down", "The device is polling too frequently; increase the interval by 5 seconds");
    app.advance(5).await;
    assert_eq!(app.poll(&pair).await.json()["error"], "authorization_pending");
}

#[tokio::test]
async fn a_denied_code_pair_is_access_denied() {
    let app = TestApp::spawn().await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    let d = app.admin("POST", "/__admin/device/deny", json!({"user_code": pair["user_code"]})).await;
    assert_eq!(d["status"], "denied");
    let r = app.poll(&pair).await;
    assert_lwa_error(&r, 400, "access_denied", "The user denied the authorization request");
}

const INVALID_PAIR: &str = "The code pair has expired or is invalid; request a new code pair";

#[tokio::test]
async fn a_code_pair_expired_by_the_admin_api_is_invalid_code_pair() {
    let app = TestApp::spawn().await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    let e = app.admin("POST", "/__admin/device/expire", json!({"user_code": pair["user_code"]})).await;
    assert_eq!(e["status"], "expired");
    assert_lwa_error(&app.poll(&pair).await, 400, "invalid_code_pair", INVALID_PAIR);
}

#[tokio::test]
async fn a_code_pair_expires_after_600_seconds() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    app.advance(599).await;
    assert_eq!(app.poll(&pair).await.json()["error"], "authorization_pending");
    app.advance(2).await;
    assert_lwa_error(&app.poll(&pair).await, 400, "invalid_code_pair", INVALID_PAIR);
    // Approving an expired pair is a conflict, not a success.
    let r = app
        .send(app.http.post(app.url("/__admin/device/approve")).json(&json!({"user_code": pair["user_code"]})))
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
}

#[tokio::test]
async fn expired_code_pairs_answer_expired_token_when_the_setting_asks() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let set = app.settings("", json!({"expired_code_pair_error": "expired_token"})).await;
    assert_eq!(set["expired_code_pair_error"], "expired_token");
    let by_time = app.codepair(DEVICE_CLIENT, "profile").await;
    let by_admin = app.codepair(DEVICE_CLIENT, "profile").await;
    app.admin("POST", "/__admin/device/expire", json!({"user_code": by_admin["user_code"]})).await;
    app.advance(601).await;
    for pair in [&by_time, &by_admin] {
        assert_lwa_error(
            &app.poll(pair).await,
            400,
            "expired_token",
            "The device code has expired; request a new code pair",
        );
    }
}

#[tokio::test]
async fn polling_after_success_is_invalid_code_pair() {
    let app = TestApp::spawn().await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    app.approve(s(&pair, "user_code")).await;
    assert_user_token_response(&app.poll(&pair).await);
    assert_lwa_error(&app.poll(&pair).await, 400, "invalid_code_pair", INVALID_PAIR);
}

#[tokio::test]
async fn an_unknown_device_code_is_invalid_code_pair() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form(TOKEN, &[("grant_type", "device_code"), ("device_code", "85581b0f-cf10-459e-b823-477a9220f958")])
        .await;
    assert_lwa_error(&r, 400, "invalid_code_pair", INVALID_PAIR);
    let r = app.post_form(TOKEN, &[("grant_type", "device_code")]).await;
    assert_lwa_error(&r, 400, "invalid_request", "The request is missing a required parameter : device_code");
}

#[tokio::test]
async fn a_user_code_that_does_not_match_the_device_code_is_invalid_code_pair() {
    let app = TestApp::spawn().await;
    let a = app.codepair(DEVICE_CLIENT, "profile").await;
    let b = app.codepair(DEVICE_CLIENT, "profile").await;
    app.approve(s(&a, "user_code")).await;
    let r = app
        .post_form(
            TOKEN,
            &[("grant_type", "device_code"), ("device_code", s(&a, "device_code")), ("user_code", s(&b, "user_code"))],
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_code_pair", INVALID_PAIR);
    // The mismatch did not use the pair up.
    assert_user_token_response(&app.poll(&a).await);
}

#[tokio::test]
async fn the_device_interval_setting_changes_interval() {
    let app = TestApp::spawn().await;
    app.settings("", json!({"device_interval_seconds": 5})).await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    assert_eq!(pair["interval"], json!(5));
}

#[tokio::test]
async fn codepair_for_a_client_without_cbl_is_unauthorized_client() {
    let app = TestApp::spawn().await;
    for client in [WEB_CLIENT, PUBLIC_CLIENT, SELLER_CLIENT] {
        let r = app
            .post_form(CODEPAIR, &[("response_type", "device_code"), ("client_id", client), ("scope", "profile")])
            .await;
        assert_lwa_error(&r, 400, "unauthorized_client", "Not authorized for requested operation");
    }
}

#[tokio::test]
async fn codepair_with_a_music_scope_on_the_speaker_profile_is_invalid_scope() {
    let app = TestApp::spawn().await;
    for scope in ["music::library:read", "alexa:all music::catalog", "no_such_scope"] {
        let r = app
            .post_form(CODEPAIR, &[("response_type", "device_code"), ("client_id", SPEAKER_CLIENT), ("scope", scope)])
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.text, r#"{"error_description":"An unknown scope was requested","error":"invalid_scope"}"#);
        assert_lwa_headers(&r);
    }
}

#[tokio::test]
async fn the_speaker_client_gets_alexa_all_tokens_through_the_code_pair() {
    let app = TestApp::spawn().await;
    let v = app.device_tokens(SPEAKER_CLIENT, "alexa:all").await;
    let info = app.get(&format!("/auth/o2/tokeninfo?access_token={}", enc(s(&v, "access_token")))).await;
    assert_eq!(info.status, 200, "{}", info.text);
    assert_eq!(info.json()["aud"], SPEAKER_CLIENT);
    assert_eq!(info.json()["app_id"], SPEAKER_PROFILE);
    // The CBL-issued refresh token refreshes with only the client id, although the client has a secret.
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", s(&v, "refresh_token")),
                ("client_id", SPEAKER_CLIENT),
            ],
        )
        .await;
    assert_user_token_response(&r);
}

#[tokio::test]
async fn codepair_without_response_type_or_client_is_invalid_request() {
    let app = TestApp::spawn().await;
    let r = app.post_form(CODEPAIR, &[("client_id", DEVICE_CLIENT), ("scope", "profile")]).await;
    assert_lwa_error(&r, 400, "invalid_request", "The request is missing a required parameter : response_type");
    let r = app.post_form(CODEPAIR, &[("response_type", "device_code"), ("scope", "profile")]).await;
    assert_lwa_error(&r, 400, "invalid_request", "The request is missing a required parameter : client_id");
    // No scope: the speaker profile has no default scope; the music profile's default is granted.
    let r = app.post_form(CODEPAIR, &[("response_type", "device_code"), ("client_id", SPEAKER_CLIENT)]).await;
    assert_lwa_error(&r, 400, "invalid_request", "The request is missing a required parameter : scope");
    let r = app.post_form(CODEPAIR, &[("response_type", "device_code"), ("client_id", DEVICE_CLIENT)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.post_form(CODEPAIR, &[("response_type", "code"), ("client_id", DEVICE_CLIENT)]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "unsupported_response_type");
    let r = app.get(CODEPAIR).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
}

#[tokio::test]
async fn a_device_poll_naming_another_client_does_not_get_the_tokens() {
    let app = TestApp::spawn().await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    app.approve(s(&pair, "user_code")).await;
    let r = app
        .post_form(
            TOKEN,
            &[("grant_type", "device_code"), ("device_code", s(&pair, "device_code")), ("client_id", PUBLIC_CLIENT)],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert_user_token_response(&app.poll(&pair).await);
}

// ---- the verification page (/us/code) --------------------------------------------------------------

#[tokio::test]
async fn a_person_approving_on_the_verification_page_lets_the_device_get_tokens() {
    let app = TestApp::spawn().await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    let uc = s(&pair, "user_code");
    let page = app.get("/us/code").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(r#"name="code""#), "{}", page.text);
    // Codes are typed in any case; Amazon's own link calls the parameter cbl-code.
    let page = app.get(&format!("/us/code?cbl-code={}", uc.to_ascii_lowercase())).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Mock Music Player") && page.text.contains(USER_PRIME), "{}", page.text);
    let done = app.post_form("/us/code", &[("user_code", uc), ("user_id", USER_PRIME), ("decision", "allow")]).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains(r#"id="result">Success"#), "{}", done.text);
    let v = assert_user_token_response(&app.poll(&pair).await);
    assert_eq!(app.profile(s(&v, "access_token")).await.json()["user_id"], USER_PRIME);
    // The code is used up: the page now says so.
    let again = app.get(&format!("/us/code?code={uc}")).await;
    assert_eq!(again.status, 400);
    assert!(again.text.contains(r#"id="problem""#), "{}", again.text);
}

#[tokio::test]
async fn a_person_denying_on_the_verification_page_gives_the_device_access_denied() {
    let app = TestApp::spawn().await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    let done = app.post_form("/us/code", &[("user_code", s(&pair, "user_code")), ("decision", "deny")]).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("Registration cancelled"), "{}", done.text);
    assert_eq!(app.poll(&pair).await.json()["error"], "access_denied");
}

#[tokio::test]
async fn the_verification_page_rejects_unknown_codes_users_and_decisions_without_changing_the_pair() {
    let app = TestApp::spawn().await;
    let pair = app.codepair(DEVICE_CLIENT, "profile").await;
    let uc = s(&pair, "user_code");
    let r = app.get("/us/code?code=NOPE42").await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("not recognised"), "{}", r.text);
    for form in [
        vec![("user_code", uc), ("user_id", "amzn1.account.AAAAAAAAAAAAAAAAAAAAAAAAAAAA"), ("decision", "allow")],
        vec![("user_code", uc), ("user_id", USER_PRIME), ("decision", "maybe")],
        vec![("user_code", uc), ("decision", "allow")],
        vec![("user_code", "NOPE42"), ("user_id", USER_PRIME), ("decision", "allow")],
    ] {
        let r = app.post_form("/us/code", &form).await;
        assert_eq!(r.status, 400, "{form:?}: {}", r.text);
    }
    assert_eq!(app.poll(&pair).await.json()["error"], "authorization_pending");
}
