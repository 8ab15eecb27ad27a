//! `GET /auth/o2/tokeninfo` and `GET /user/profile` (spec `lwa.md` §7, §8, §13.7).

use serde_json::json;

use crate::lwa_support::*;
use crate::support::*;

const BAD_INFO: &str = "The request has an invalid parameter : access_token";
const BAD_PROFILE: &str = "The access token provided is expired, revoked, malformed, or invalid for other reasons.";

// ---- tokeninfo -------------------------------------------------------------------------------------

#[tokio::test]
async fn tokeninfo_by_query_parameter_has_the_captured_keys_in_order() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let now = app.admin("GET", "/__admin/clock", json!({})).await["now"].as_i64().unwrap();
    let v = app.web_tokens("profile").await;
    let token = s(&v, "access_token");
    let r = app.get(&format!("/auth/o2/tokeninfo?access_token={}", enc(token))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_lwa_headers(&r);
    let info = r.json();
    assert_eq!(keys(&info), ["aud", "user_id", "iss", "exp", "app_id", "iat"]);
    assert_eq!(
        info,
        json!({"aud": WEB_CLIENT, "user_id": USER_UNLIMITED, "iss": "https://www.amazon.com", "exp": 3600,
               "app_id": MUSIC_PROFILE, "iat": now})
    );
    // A query string with the `|` left raw works too, and so does the uppercase path.
    let r = app.get(&format!("/auth/O2/tokeninfo?access_token={token}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn tokeninfo_accepts_the_x_amz_access_token_header() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    let r =
        app.send(app.http.get(app.url("/auth/o2/tokeninfo")).header("x-amz-access-token", s(&v, "access_token"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["aud"], WEB_CLIENT);
}

#[tokio::test]
async fn tokeninfo_exp_is_the_seconds_remaining() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v = app.web_tokens("profile").await;
    app.advance(100).await;
    let r = app.get(&format!("/auth/o2/tokeninfo?access_token={}", enc(s(&v, "access_token")))).await;
    assert_eq!(r.json()["exp"], json!(3500));
    app.advance(3499).await;
    let r = app.get(&format!("/auth/o2/tokeninfo?access_token={}", enc(s(&v, "access_token")))).await;
    assert_eq!(r.json()["exp"], json!(1));
}

#[tokio::test]
async fn tokeninfo_of_a_bad_or_expired_token_is_400_invalid_token() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v = app.web_tokens("profile").await;
    let access = s(&v, "access_token");
    for bad in ["Atza|garbage", "nonsense", s(&v, "refresh_token")] {
        let r = app.get(&format!("/auth/o2/tokeninfo?access_token={}", enc(bad))).await;
        assert_lwa_error(&r, 400, "invalid_token", BAD_INFO);
        assert_lwa_headers(&r);
    }
    // A flipped signature character.
    let mut forged = access.to_owned();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let r = app.get(&format!("/auth/o2/tokeninfo?access_token={}", enc(&forged))).await;
    assert_lwa_error(&r, 400, "invalid_token", BAD_INFO);
    app.advance(3600).await;
    let r = app.get(&format!("/auth/o2/tokeninfo?access_token={}", enc(access))).await;
    assert_lwa_error(&r, 400, "invalid_token", BAD_INFO);
}

#[tokio::test]
async fn tokeninfo_of_an_app_token_has_no_user_id() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", SELLER_CLIENT),
                ("client_secret", SELLER_SECRET),
                ("scope", "sellingpartnerapi::migration"),
            ],
        )
        .await;
    let atc = r.json()["access_token"].as_str().unwrap().to_owned();
    let r = app.get(&format!("/auth/o2/tokeninfo?access_token={}", enc(&atc))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let info = r.json();
    assert_eq!(keys(&info), ["aud", "iss", "exp", "app_id", "iat"]);
    assert_eq!(info["aud"], SELLER_CLIENT);
    assert_eq!(info["exp"], json!(3600));
    // An app token has no customer, so no profile.
    let p = app.profile(&atc).await;
    assert_lwa_error(&p, 401, "invalid_token", BAD_PROFILE);
}

// ---- profile ---------------------------------------------------------------------------------------

#[tokio::test]
async fn profile_accepts_bearer_in_either_case_the_header_and_the_query_parameter() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    let t = s(&v, "access_token");
    let expected = json!({"user_id": USER_UNLIMITED, "name": "Ava Unlimited", "email": "ava.unlimited@example.com"});
    let requests = [
        app.http.get(app.url("/user/profile")).header("authorization", format!("Bearer {t}")),
        app.http.get(app.url("/user/profile")).header("authorization", format!("bearer {t}")),
        app.http.get(app.url("/user/profile")).header("x-amz-access-token", t),
        app.http.get(app.url(&format!("/user/profile?access_token={}", enc(t)))),
        app.http.get(app.url(&format!("/User/Profile?access_token={t}"))),
    ];
    for req in requests {
        let r = app.send(req).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_lwa_headers(&r);
        assert_eq!(r.json(), expected);
        assert_eq!(keys(&r.json()), ["user_id", "name", "email"]);
    }
}

#[tokio::test]
async fn profile_fields_follow_the_granted_scopes() {
    let app = TestApp::spawn().await;
    let cases: [(&str, &str); 4] = [
        (
            "profile",
            r#"{"user_id":"amzn1.account.I7GAS664VLDQ6HEZ7EDJJTFPH2OY","name":"Ava Unlimited","email":"ava.unlimited@example.com"}"#,
        ),
        ("profile:user_id", r#"{"user_id":"amzn1.account.I7GAS664VLDQ6HEZ7EDJJTFPH2OY"}"#),
        (
            "postal_code profile:user_id",
            r#"{"user_id":"amzn1.account.I7GAS664VLDQ6HEZ7EDJJTFPH2OY","postal_code":"98052"}"#,
        ),
        (
            "postal_code profile",
            r#"{"user_id":"amzn1.account.I7GAS664VLDQ6HEZ7EDJJTFPH2OY","name":"Ava Unlimited","postal_code":"98052","email":"ava.unlimited@example.com"}"#,
        ),
    ];
    for (scope, body) in cases {
        let v = app.web_tokens(scope).await;
        let r = app.profile(s(&v, "access_token")).await;
        assert_eq!(r.status, 200, "{scope}: {}", r.text);
        assert_eq!(r.text, body, "scope {scope}");
    }
}

#[tokio::test]
async fn profile_with_only_postal_code_answers_only_the_postal_code() {
    // `lwa.md` §13.7: fields MUST follow the granted scopes; postal_code → postal_code.
    let app = TestApp::spawn().await;
    let v = app.web_tokens("postal_code").await;
    let r = app.profile(s(&v, "access_token")).await;
    assert_eq!(r.text, r#"{"postal_code":"98052"}"#);
}

#[tokio::test]
async fn profile_with_a_bad_token_is_401_invalid_token() {
    let app = TestApp::spawn().await;
    for t in ["Atza|nope", "x"] {
        let r = app.profile(t).await;
        assert_lwa_error(&r, 401, "invalid_token", BAD_PROFILE);
        assert_lwa_headers(&r);
        assert_eq!(r.header("www-authenticate"), Some(CHALLENGE), "RFC 6750 §3 (docs/ROUTES.md A40)");
    }
    let v = app.web_tokens("profile").await;
    let r = app.profile(s(&v, "refresh_token")).await;
    assert_lwa_error(&r, 401, "invalid_token", BAD_PROFILE);
    assert_eq!(r.header("www-authenticate"), Some(CHALLENGE));
    // The legacy profile too; a good token and a missing one (400) carry no challenge.
    let r = app.get("/ap/user/profile?access_token=Atza%7Cnope").await;
    assert_eq!((r.status, r.header("www-authenticate")), (401, Some(CHALLENGE)));
    assert_eq!(app.profile(s(&v, "access_token")).await.header("www-authenticate"), None);
    assert_eq!(app.get("/user/profile").await.header("www-authenticate"), None);
}

/// The challenge of a refused bearer token at the profile endpoints.
const CHALLENGE: &str = r#"Bearer realm="Login with Amazon", error="invalid_token""#;

#[tokio::test]
async fn profile_with_an_expired_access_token_is_401() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v = app.web_tokens("profile").await;
    app.advance(3599).await;
    assert_eq!(app.profile(s(&v, "access_token")).await.status, 200);
    app.advance(1).await;
    let r = app.profile(s(&v, "access_token")).await;
    assert_lwa_error(&r, 401, "invalid_token", "The access token provided is expired");
    assert_eq!(r.header("www-authenticate"), Some(CHALLENGE));
    // A refresh brings a working token back.
    let fresh = app.refresh_web(s(&v, "refresh_token")).await.json();
    assert_eq!(app.profile(s(&fresh, "access_token")).await.status, 200);
}

#[tokio::test]
async fn profile_with_a_token_of_a_revoked_grant_is_401() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    app.admin("POST", "/__admin/grants/revoke", json!({"user_id": USER_UNLIMITED, "client_id": WEB_CLIENT})).await;
    assert_lwa_error(&app.profile(s(&v, "access_token")).await, 401, "invalid_token", BAD_PROFILE);
    let r = app.get(&format!("/auth/o2/tokeninfo?access_token={}", enc(s(&v, "access_token")))).await;
    assert_lwa_error(&r, 400, "invalid_token", BAD_INFO);
}

#[tokio::test]
async fn profile_with_an_access_token_forced_to_expire_is_401() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    let e = app.admin("POST", "/__admin/tokens/expire", json!({"token": v["access_token"]})).await;
    assert_eq!(e, json!({"expired": "access_token"}));
    // A forced expiry reads like a natural one (docs/ROUTES.md A40).
    let r = app.profile(s(&v, "access_token")).await;
    assert_lwa_error(&r, 401, "invalid_token", "The access token provided is expired");
}

#[tokio::test]
async fn profile_with_a_token_without_a_profile_scope_is_403_insufficient_scope() {
    let app = TestApp::spawn().await;
    let v = app.device_tokens(SPEAKER_CLIENT, "alexa:all").await;
    let r = app.profile(s(&v, "access_token")).await;
    assert_lwa_error(
        &r,
        403,
        "insufficient_scope",
        "The access token does not have a profile, profile:user_id or postal_code scope",
    );
}

#[tokio::test]
async fn profile_and_tokeninfo_without_a_token_are_invalid_request() {
    let app = TestApp::spawn().await;
    for path in ["/user/profile", "/auth/o2/tokeninfo"] {
        let r = app.get(path).await;
        assert_lwa_error(&r, 400, "invalid_request", "The request is missing a required parameter : access_token");
    }
    let r = app.send(app.http.post(app.url("/user/profile"))).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET"));
}

#[tokio::test]
async fn the_legacy_profile_endpoint_answers_the_capitalised_shape() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    let r = app.get(&format!("/ap/user/profile?access_token={}", enc(s(&v, "access_token")))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.text,
        r#"{"Profile":{"CustomerId":"amzn1.account.I7GAS664VLDQ6HEZ7EDJJTFPH2OY","Name":"Ava Unlimited","PrimaryEmail":"ava.unlimited@example.com"}}"#
    );
}
