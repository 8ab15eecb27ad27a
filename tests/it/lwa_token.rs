//! `POST /auth/o2/token` (spec `lwa.md` §2, §4, §9, §13.2–§13.4, §14): every encoding real clients use,
//! client authentication, and the `authorization_code`, `refresh_token` and `client_credentials` grants.

use base64::Engine;
use serde_json::json;

use crate::lwa_support::*;
use crate::support::*;

const BAD_CODE: &str = "The request has an invalid grant parameter : code";
const BAD_REFRESH: &str =
    "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.";

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

// ---- encodings -------------------------------------------------------------------------------------

#[tokio::test]
async fn form_body_with_charset_gets_the_token_response_in_lwa_key_order() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9090%2Fcb\
         &client_id={WEB_CLIENT}&client_secret={WEB_SECRET}"
    );
    let r = app
        .send(
            app.http
                .post(app.url(TOKEN))
                .header("content-type", "application/x-www-form-urlencoded;charset=UTF-8")
                .body(body),
        )
        .await;
    let v = assert_user_token_response(&r);
    // The raw text too: exactly four members, nothing else.
    assert!(r.text.starts_with(r#"{"access_token":"Atza|"#), "{}", r.text);
    assert!(r.text.ends_with(r#","token_type":"bearer","expires_in":3600}"#), "{}", r.text);
    assert_ne!(v["access_token"], v["refresh_token"]);
}

#[tokio::test]
async fn form_body_without_charset_is_accepted() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    assert!(v["access_token"].as_str().unwrap().starts_with("Atza|"));
}

#[tokio::test]
async fn json_body_is_accepted_for_the_code_exchange_and_the_refresh() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r = app
        .post_json(
            TOKEN,
            &json!({"grant_type": "authorization_code", "code": code, "redirect_uri": WEB_RETURN,
                    "client_id": WEB_CLIENT, "client_secret": WEB_SECRET}),
        )
        .await;
    let v = assert_user_token_response(&r);
    // The SP-API Java client's spelling of the content type.
    let r = app
        .send(
            app.http.post(app.url(TOKEN)).header("content-type", "application/json; charset=utf-8").body(
                json!({"grant_type": "refresh_token", "refresh_token": v["refresh_token"],
                       "client_id": WEB_CLIENT, "client_secret": WEB_SECRET})
                .to_string(),
            ),
        )
        .await;
    let r2 = assert_user_token_response(&r);
    assert_eq!(r2["refresh_token"], v["refresh_token"]);
}

#[tokio::test]
async fn parameters_in_the_query_string_of_a_post_with_an_empty_body_are_accepted() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let q = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", WEB_RETURN),
        ("client_id", WEB_CLIENT),
        ("client_secret", WEB_SECRET),
    ];
    // Auth.js: no body, no content type.
    let r = app.send(app.http.post(app.url(TOKEN)).query(&q)).await;
    assert_user_token_response(&r);
}

#[tokio::test]
async fn query_and_body_parameters_are_merged() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r = app
        .send(
            app.http
                .post(app.url(TOKEN))
                .query(&[("grant_type", "authorization_code"), ("client_id", WEB_CLIENT)])
                .form(&[("code", code.as_str()), ("redirect_uri", WEB_RETURN), ("client_secret", WEB_SECRET)]),
        )
        .await;
    assert_user_token_response(&r);
}

#[tokio::test]
async fn an_unencoded_concatenated_form_body_is_read_literally() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    let refresh = s(&v, "refresh_token");
    // SP-API JS SDK style: string concatenation, `|` and `:` not percent-encoded.
    let body =
        format!("grant_type=refresh_token&refresh_token={refresh}&client_id={WEB_CLIENT}&client_secret={WEB_SECRET}");
    assert!(body.contains("Atzr|"));
    let r = app
        .send(app.http.post(app.url(TOKEN)).header("content-type", "application/x-www-form-urlencoded").body(body))
        .await;
    let r = assert_user_token_response(&r);
    assert_eq!(r["refresh_token"], v["refresh_token"]);
}

#[tokio::test]
async fn a_chunked_body_without_content_length_is_read() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let chunks: Vec<Result<String, std::io::Error>> = vec![
        Ok("grant_type=authorization_code&co".to_owned()),
        Ok(format!("de={code}&client_id={WEB_CLIENT}")),
        Ok(format!("&client_secret={WEB_SECRET}")),
    ];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let req = app.http.post(app.url(TOKEN)).header("content-type", "application/x-www-form-urlencoded").body(body);
    let built = req.try_clone();
    assert!(built.is_none(), "a streamed body cannot be cloned, so it is really streamed");
    let r = app.send(req).await;
    assert_user_token_response(&r);
}

#[tokio::test]
async fn a_request_without_user_agent_on_the_uppercase_path_is_accepted() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    // reqwest sends no User-Agent unless told to.
    let req = app.http.post(app.url("/auth/O2/token")).form(&[
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", WEB_CLIENT),
        ("client_secret", WEB_SECRET),
    ]);
    let built = req.try_clone().unwrap().build().unwrap();
    assert!(built.headers().get("user-agent").is_none());
    let r = app.send(req).await;
    assert_user_token_response(&r);
    let journal = app.admin("GET", "/__admin/requests", json!({})).await;
    let last = journal.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["path"], "/auth/o2/token");
    assert_eq!(last["status"], 200);
}

#[tokio::test]
async fn the_session_prefixed_token_endpoint_works_within_its_session() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens_in("/s/enc-1", "profile").await;
    let r = app
        .post_form(
            "/s/enc-1/auth/o2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", s(&v, "refresh_token")),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
            ],
        )
        .await;
    assert_user_token_response(&r);
}

#[tokio::test]
async fn http_basic_authentication_with_no_client_id_in_the_body_is_accepted() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r = app
        .send(app.http.post(app.url(TOKEN)).header("authorization", basic(WEB_CLIENT, WEB_SECRET)).form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", WEB_RETURN),
        ]))
        .await;
    let v = assert_user_token_response(&r);
    // And reqwest's own basic_auth for the refresh.
    let r = app
        .send(
            app.http
                .post(app.url(TOKEN))
                .basic_auth(WEB_CLIENT, Some(WEB_SECRET))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", s(&v, "refresh_token"))]),
        )
        .await;
    assert_user_token_response(&r);
}

#[tokio::test]
async fn a_wrong_secret_is_401_invalid_client() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let wrong = format!("amzn1.oa2-cs.v1.{}", "0".repeat(64));
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", WEB_CLIENT),
                ("client_secret", &wrong),
            ],
        )
        .await;
    assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
    assert_lwa_headers(&r);
    // In a Basic header too.
    let r = app
        .send(
            app.http
                .post(app.url(TOKEN))
                .header("authorization", basic(WEB_CLIENT, &wrong))
                .form(&[("grant_type", "authorization_code"), ("code", code.as_str())]),
        )
        .await;
    assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
}

#[tokio::test]
async fn a_confidential_client_without_secret_or_pkce_is_401_invalid_client() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r =
        app.post_form(TOKEN, &[("grant_type", "authorization_code"), ("code", &code), ("client_id", WEB_CLIENT)]).await;
    assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
}

#[tokio::test]
async fn an_unknown_client_is_401_invalid_client() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "amzn1.application-oa2-client.00000000000000000000000000000000"),
                ("client_secret", WEB_SECRET),
            ],
        )
        .await;
    assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
}

// ---- authorization_code ----------------------------------------------------------------------------

#[tokio::test]
async fn an_authorization_code_is_single_use() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", WEB_CLIENT),
        ("client_secret", WEB_SECRET),
    ];
    assert_user_token_response(&app.post_form(TOKEN, &form).await);
    let r = app.post_form(TOKEN, &form).await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_CODE);
    assert_lwa_headers(&r);
}

#[tokio::test]
async fn an_unknown_code_is_invalid_grant() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", "ANcMJpTtVktKiZvfdYaV"),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
            ],
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_CODE);
}

#[tokio::test]
async fn an_authorization_code_lives_300_seconds_on_the_virtual_clock() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let form = |code: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("client_id", WEB_CLIENT.to_owned()),
            ("client_secret", WEB_SECRET.to_owned()),
        ]
    };
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    app.advance(299).await;
    let r = app.send(app.http.post(app.url(TOKEN)).form(&form(&code))).await;
    assert_user_token_response(&r);

    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    app.advance(300).await;
    let r = app.send(app.http.post(app.url(TOKEN)).form(&form(&code))).await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_CODE);
}

#[tokio::test]
async fn a_code_issued_to_another_client_is_invalid_grant() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", SPEAKER_CLIENT),
                ("client_secret", SPEAKER_SECRET),
            ],
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_CODE);
}

#[tokio::test]
async fn a_redirect_uri_that_differs_from_the_one_at_ap_oa_is_invalid_grant_redirect_uri() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://localhost:3000/api/auth/callback/amazon"),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
            ],
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_grant", "The request has an invalid grant parameter : redirect_uri");
}

#[tokio::test]
async fn an_omitted_redirect_uri_is_accepted_unless_strict_lwa_is_on() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let form = |code: String| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("client_id", WEB_CLIENT.to_owned()),
            ("client_secret", WEB_SECRET.to_owned()),
        ]
    };
    assert_user_token_response(&app.send(app.http.post(app.url(TOKEN)).form(&form(code))).await);

    app.settings("", json!({"strict_lwa": true})).await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r = app.send(app.http.post(app.url(TOKEN)).form(&form(code))).await;
    assert_lwa_error(&r, 400, "invalid_request", "The request is missing a required parameter : redirect_uri");
}

#[tokio::test]
async fn pkce_s256_lets_a_public_client_exchange_without_a_secret_and_get_a_refresh_token() {
    let app = TestApp::spawn().await;
    let code = app
        .code(
            PUBLIC_CLIENT,
            PUBLIC_RETURN,
            "profile",
            &[("code_challenge", CHALLENGE_S256), ("code_challenge_method", "S256")],
        )
        .await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", PUBLIC_RETURN),
                ("client_id", PUBLIC_CLIENT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    let v = assert_user_token_response(&r);
    // The PKCE-issued refresh token refreshes with only client_id.
    let r = app
        .post_form(
            TOKEN,
            &[("grant_type", "refresh_token"), ("refresh_token", s(&v, "refresh_token")), ("client_id", PUBLIC_CLIENT)],
        )
        .await;
    assert_user_token_response(&r);
}

#[tokio::test]
async fn pkce_plain_is_the_method_when_none_is_given() {
    let app = TestApp::spawn().await;
    let code = app.code(PUBLIC_CLIENT, PUBLIC_RETURN, "profile", &[("code_challenge", VERIFIER)]).await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", PUBLIC_CLIENT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_user_token_response(&r);
    // S256 of the verifier is not what a plain challenge expects.
    let code = app.code(PUBLIC_CLIENT, PUBLIC_RETURN, "profile", &[("code_challenge", CHALLENGE_S256)]).await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", PUBLIC_CLIENT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_CODE);
}

#[tokio::test]
async fn a_wrong_or_missing_pkce_verifier_is_invalid_grant_code() {
    let app = TestApp::spawn().await;
    let pkce = [("code_challenge", CHALLENGE_S256), ("code_challenge_method", "S256")];
    let code = app.code(PUBLIC_CLIENT, PUBLIC_RETURN, "profile", &pkce).await;
    let wrong = VERIFIER.replace('d', "e");
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", PUBLIC_CLIENT),
                ("code_verifier", &wrong),
            ],
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_CODE);

    let code = app.code(PUBLIC_CLIENT, PUBLIC_RETURN, "profile", &pkce).await;
    let r = app
        .post_form(TOKEN, &[("grant_type", "authorization_code"), ("code", &code), ("client_id", PUBLIC_CLIENT)])
        .await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_CODE);

    // A confidential client that used PKCE must still present the verifier, secret or not.
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &pkce).await;
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
    assert_lwa_error(&r, 400, "invalid_grant", BAD_CODE);
}

#[tokio::test]
async fn a_confidential_client_that_used_pkce_may_exchange_without_its_secret() {
    let app = TestApp::spawn().await;
    let pkce = [("code_challenge", CHALLENGE_S256), ("code_challenge_method", "S256")];
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &pkce).await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", WEB_CLIENT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_user_token_response(&r);
}

#[tokio::test]
async fn a_missing_code_is_invalid_request() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form(
            TOKEN,
            &[("grant_type", "authorization_code"), ("client_id", WEB_CLIENT), ("client_secret", WEB_SECRET)],
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_request", "The request is missing a required parameter : code");
}

// ---- refresh_token ---------------------------------------------------------------------------------

#[tokio::test]
async fn refresh_returns_the_same_refresh_token_and_a_new_access_token() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    let r1 = assert_user_token_response(&app.refresh_web(s(&v, "refresh_token")).await);
    let r2 = assert_user_token_response(&app.refresh_web(s(&v, "refresh_token")).await);
    assert_eq!(r1["refresh_token"], v["refresh_token"]);
    assert_eq!(r2["refresh_token"], v["refresh_token"]);
    assert_ne!(r1["access_token"], v["access_token"]);
    assert_ne!(r2["access_token"], r1["access_token"]);
    assert_eq!(r2["expires_in"], json!(3600));
    // Both the old and the new access tokens work.
    for t in [&v, &r1, &r2] {
        assert_eq!(app.profile(s(t, "access_token")).await.status, 200);
    }
}

#[tokio::test]
async fn a_missing_refresh_token_is_invalid_request() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form(TOKEN, &[("grant_type", "refresh_token"), ("client_id", WEB_CLIENT), ("client_secret", WEB_SECRET)])
        .await;
    assert_lwa_error(&r, 400, "invalid_request", "The request is missing a required parameter : refresh_token");
}

#[tokio::test]
async fn a_revoked_grant_makes_the_refresh_token_invalid_grant_with_the_long_message() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    let revoked =
        app.admin("POST", "/__admin/grants/revoke", json!({"user_id": USER_UNLIMITED, "client_id": WEB_CLIENT})).await;
    assert_eq!(revoked["revoked"], true);
    let r = app.refresh_web(s(&v, "refresh_token")).await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_REFRESH);
    // A new consent gives a working grant again.
    let v2 = app.web_tokens("profile").await;
    assert_user_token_response(&app.refresh_web(s(&v2, "refresh_token")).await);
}

#[tokio::test]
async fn a_garbage_refresh_token_is_invalid_grant() {
    let app = TestApp::spawn().await;
    let r = app.refresh_web("Atzr|IwEBIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_REFRESH);
    // An access token is not a refresh token.
    let v = app.web_tokens("profile").await;
    let r = app.refresh_web(s(&v, "access_token")).await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_REFRESH);
}

#[tokio::test]
async fn refresh_with_another_clients_id_is_invalid_grant() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", s(&v, "refresh_token")),
                ("client_id", SPEAKER_CLIENT),
                ("client_secret", SPEAKER_SECRET),
            ],
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_REFRESH);
}

#[tokio::test]
async fn refresh_of_a_secret_issued_token_without_the_secret_is_401() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    let r = app
        .post_form(
            TOKEN,
            &[("grant_type", "refresh_token"), ("refresh_token", s(&v, "refresh_token")), ("client_id", WEB_CLIENT)],
        )
        .await;
    assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
}

#[tokio::test]
async fn a_cbl_refresh_with_only_client_id_works() {
    let app = TestApp::spawn().await;
    let v = app.device_tokens(DEVICE_CLIENT, "alexa:all").await;
    let r = app
        .post_form(
            TOKEN,
            &[("grant_type", "refresh_token"), ("refresh_token", s(&v, "refresh_token")), ("client_id", DEVICE_CLIENT)],
        )
        .await;
    let r = assert_user_token_response(&r);
    assert_eq!(r["refresh_token"], v["refresh_token"]);
}

#[tokio::test]
async fn a_refresh_token_forced_to_expire_is_invalid_grant() {
    let app = TestApp::spawn().await;
    let v = app.web_tokens("profile").await;
    let other = app.web_tokens("profile").await;
    let e = app.admin("POST", "/__admin/tokens/expire", json!({"token": v["refresh_token"]})).await;
    assert_eq!(e, json!({"expired": "refresh_token"}));
    assert_lwa_error(&app.refresh_web(s(&v, "refresh_token")).await, 400, "invalid_grant", BAD_REFRESH);
    // Only that token: another refresh token of the same grant still works.
    assert_user_token_response(&app.refresh_web(s(&other, "refresh_token")).await);
}

#[tokio::test]
async fn refresh_tokens_do_not_expire_with_time() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v = app.web_tokens("profile").await;
    app.advance(400 * 24 * 3600).await;
    assert_user_token_response(&app.refresh_web(s(&v, "refresh_token")).await);
}

// ---- client_credentials ----------------------------------------------------------------------------

#[tokio::test]
async fn client_credentials_gives_an_atc_token_with_scope_and_no_refresh_token() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", SELLER_CLIENT),
                ("client_secret", SELLER_SECRET),
                ("scope", "sellingpartnerapi::notifications"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_lwa_headers(&r);
    let v = r.json();
    assert_eq!(keys(&v), ["access_token", "scope", "token_type", "expires_in"]);
    assert_token_format(s(&v, "access_token"), "Atc|");
    assert_eq!(v["scope"], "sellingpartnerapi::notifications");
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], json!(3600));
}

#[tokio::test]
async fn client_credentials_with_basic_auth_and_two_scopes_echoes_both() {
    let app = TestApp::spawn().await;
    let r = app
        .send(app.http.post(app.url(TOKEN)).basic_auth(SELLER_CLIENT, Some(SELLER_SECRET)).form(&[
            ("grant_type", "client_credentials"),
            ("scope", "sellingpartnerapi::notifications sellingpartnerapi::migration"),
        ]))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    let mut got: Vec<&str> = s(&v, "scope").split(' ').collect();
    got.sort_unstable();
    assert_eq!(got, ["sellingpartnerapi::migration", "sellingpartnerapi::notifications"]);
}

#[tokio::test]
async fn client_credentials_with_a_scope_outside_the_allow_list_is_invalid_scope() {
    let app = TestApp::spawn().await;
    for scope in ["music::catalog", "sellingpartnerapi::notifications nosuch::scope", "not a scope!"] {
        let r = app
            .post_form(
                TOKEN,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", SELLER_CLIENT),
                    ("client_secret", SELLER_SECRET),
                    ("scope", scope),
                ],
            )
            .await;
        assert_lwa_error(&r, 400, "invalid_scope", "The request has an invalid parameter : scope");
    }
}

#[tokio::test]
async fn client_credentials_for_a_client_not_allowed_to_use_it_rejects_every_scope() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
                ("scope", "profile"),
            ],
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_scope", "The request has an invalid parameter : scope");
}

#[tokio::test]
async fn client_credentials_without_the_secret_is_401() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", SELLER_CLIENT),
                ("scope", "sellingpartnerapi::migration"),
            ],
        )
        .await;
    assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
}

// ---- grant types and methods -----------------------------------------------------------------------

#[tokio::test]
async fn an_unsupported_grant_type_is_400_with_the_exact_text() {
    let app = TestApp::spawn().await;
    for g in ["password", "implicit", "urn:ietf:params:oauth:grant-type:jwt-bearer", "AUTHORIZATION_CODE"] {
        let r =
            app.post_form(TOKEN, &[("grant_type", g), ("client_id", WEB_CLIENT), ("client_secret", WEB_SECRET)]).await;
        assert_lwa_error(
            &r,
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server",
        );
        assert_lwa_headers(&r);
    }
}

#[tokio::test]
async fn a_missing_grant_type_is_invalid_request() {
    let app = TestApp::spawn().await;
    let r = app.post_form(TOKEN, &[("client_id", WEB_CLIENT), ("client_secret", WEB_SECRET)]).await;
    assert_lwa_error(&r, 400, "invalid_request", "The request is missing a required parameter : grant_type");
    let r = app.post_form(TOKEN, &[("grant_type", ""), ("client_id", WEB_CLIENT)]).await;
    assert_lwa_error(&r, 400, "invalid_request", "The request is missing a required parameter : grant_type");
}

#[tokio::test]
async fn get_on_the_token_endpoint_is_405_with_allow_post_and_an_lwa_body() {
    let app = TestApp::spawn().await;
    for path in ["/auth/o2/token", "/auth/O2/token", "/s/m1/auth/o2/token"] {
        let r = app.get(&format!("{path}?grant_type=refresh_token")).await;
        assert_eq!(r.status, 405, "{path}: {}", r.text);
        assert_eq!(r.header("allow"), Some("POST"));
        assert_lwa_headers(&r);
        let v = r.json();
        assert_eq!(keys(&v), ["error_description", "error"]);
        assert_eq!(v["error"], "invalid_request");
    }
    let r = app.send(app.http.put(app.url(TOKEN))).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
}

// ---- per-client refresh-token switch and hosts -----------------------------------------------------

/// A mock whose public PKCE client has `public_refresh_tokens: false` (the Data Portability behaviour).
async fn spawn_without_public_refresh_tokens() -> (TestApp, std::path::PathBuf) {
    let original = include_str!("../../fixtures/security-profiles.yaml");
    let at = original.find(PUBLIC_CLIENT).expect("the public client is in the fixtures");
    let (head, tail) = original.split_at(at);
    let tail = tail.replacen("public_refresh_tokens: true", "public_refresh_tokens: false", 1);
    let dir = std::env::temp_dir().join(format!("amm-no-public-refresh-{}-{}", std::process::id(), line!()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("security-profiles.yaml"), format!("{head}{tail}")).unwrap();
    let mock = amazon_music_mock::MockAmazon::start_with(amazon_music_mock::ServerConfig {
        bind: ([127, 0, 0, 1], 0).into(),
        seed: Some(1),
        fixtures: Some(dir.clone()),
        ..amazon_music_mock::ServerConfig::default()
    })
    .await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    (TestApp { mock, http }, dir)
}

#[tokio::test]
async fn a_public_client_set_to_get_no_refresh_token_gets_three_fields() {
    let (app, dir) = spawn_without_public_refresh_tokens().await;
    let profiles = app.admin("GET", "/__admin/security-profiles", json!({})).await;
    assert_eq!(profiles[0]["clients"][1]["public_refresh_tokens"], false);
    let pkce = [("code_challenge", CHALLENGE_S256), ("code_challenge_method", "S256")];
    let code = app.code(PUBLIC_CLIENT, PUBLIC_RETURN, "profile", &pkce).await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", PUBLIC_CLIENT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_lwa_headers(&r);
    let v = r.json();
    assert_eq!(keys(&v), ["access_token", "token_type", "expires_in"]);
    assert_token_format(s(&v, "access_token"), "Atza|");
    // Other clients are unaffected.
    app.web_tokens("profile").await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn tokens_are_not_bound_to_the_regional_host_that_issued_them() {
    let app = TestApp::spawn().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r = app
        .send(app.http.post(app.url(TOKEN)).header("host", "api.amazon.co.uk").form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", WEB_CLIENT),
            ("client_secret", WEB_SECRET),
        ]))
        .await;
    let v = assert_user_token_response(&r);
    for host in ["api.amazon.com", "api.amazon.de", "api.amazon.co.jp", "api.sandbox.amazon.com"] {
        let r = app
            .send(app.http.get(app.url("/user/profile")).header("host", host).bearer_auth(s(&v, "access_token")))
            .await;
        assert_eq!(r.status, 200, "{host}: {}", r.text);
    }
    let r = app
        .send(
            app.http
                .post(app.url(TOKEN))
                .header("host", "api.amazon.co.jp")
                .basic_auth(WEB_CLIENT, Some(WEB_SECRET))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", s(&v, "refresh_token"))]),
        )
        .await;
    assert_user_token_response(&r);
    let journal = app.admin("GET", "/__admin/requests", json!({})).await;
    let hosts: Vec<&str> = journal.as_array().unwrap().iter().filter_map(|e| e["host"].as_str()).collect();
    assert!(hosts.contains(&"api.amazon.co.uk") && hosts.contains(&"api.amazon.de"), "{hosts:?}");
}

#[tokio::test]
async fn tokens_stay_within_2048_bytes_with_every_scope_and_the_longest_session_name() {
    let app = TestApp::spawn().await;
    let session = format!("/s/{}", "s".repeat(64));
    let all = "profile profile:user_id postal_code alexa:all amazon_music:access music::catalog music::library \
               music::favorites music::history music::playback music::profile music::recommendation";
    let v = {
        let code = app.code_in(&session, WEB_CLIENT, WEB_RETURN, all, &[]).await;
        let r = app
            .post_form(
                &format!("{session}{TOKEN}"),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("client_id", WEB_CLIENT),
                    ("client_secret", WEB_SECRET),
                ],
            )
            .await;
        assert_user_token_response(&r)
    };
    for t in [s(&v, "access_token"), s(&v, "refresh_token")] {
        println!("token length with every scope: {}", t.len());
        assert!(t.len() <= 2048, "{} bytes", t.len());
    }
}

// ---- OAuth corners: a stray verifier, a replayed code, the Basic challenge ----------------------------

/// The web client's code exchange with its secret, plus `extra` parameters.
async fn exchange_web(app: &TestApp, code: &str, extra: &[(&str, &str)]) -> Resp {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", WEB_CLIENT),
        ("client_secret", WEB_SECRET),
    ];
    form.extend_from_slice(extra);
    app.post_form(TOKEN, &form).await
}

#[tokio::test]
async fn a_verifier_for_a_code_issued_without_a_challenge_is_invalid_grant() {
    let app = TestApp::spawn().await;
    // RFC 9700 §4.8.2: no challenge at /ap/oa, so a verifier at the exchange is a downgrade.
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r = exchange_web(&app, &code, &[("code_verifier", VERIFIER)]).await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_CODE);
    assert_eq!(r.header("www-authenticate"), None);
    // The attempt consumed the code (A23), and no token came of it.
    assert_lwa_error(&exchange_web(&app, &code, &[]).await, 400, "invalid_grant", BAD_CODE);
    // The public client too, which has no secret to fall back on.
    let code = app.code(PUBLIC_CLIENT, PUBLIC_RETURN, "profile", &[]).await;
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", PUBLIC_CLIENT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_CODE);
    // Without the stray verifier the same exchange works.
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    assert_user_token_response(&exchange_web(&app, &code, &[]).await);
}

#[tokio::test]
async fn a_replayed_code_is_invalid_grant_and_revokes_exactly_the_tokens_of_its_first_exchange() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let first = assert_user_token_response(&exchange_web(&app, &code, &[]).await);
    // Another grant of the same customer and client, and an access token refreshed from the first one.
    let other = app.web_tokens("profile").await;
    let refreshed = assert_user_token_response(&app.refresh_web(s(&first, "refresh_token")).await);
    assert_eq!(app.profile(s(&first, "access_token")).await.status, 200);

    let r = exchange_web(&app, &code, &[]).await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_CODE);

    // The first exchange's access and refresh tokens are revoked: 401 with the challenge, invalid_grant,
    // invalid_token at tokeninfo.
    let r = app.profile(s(&first, "access_token")).await;
    assert_lwa_error(
        &r,
        401,
        "invalid_token",
        "The access token provided is expired, revoked, malformed, or invalid for other reasons.",
    );
    assert_eq!(r.header("www-authenticate"), Some(r#"Bearer realm="Login with Amazon", error="invalid_token""#));
    assert_lwa_error(&app.refresh_web(s(&first, "refresh_token")).await, 400, "invalid_grant", BAD_REFRESH);
    let info = app.get(&format!("/auth/o2/tokeninfo?access_token={}", enc(s(&first, "access_token")))).await;
    assert_lwa_error(&info, 400, "invalid_token", "The request has an invalid parameter : access_token");
    // And so is the access token refreshed from that refresh token before the replay: it was issued based on
    // the code too.
    let r = app.profile(s(&refreshed, "access_token")).await;
    assert_eq!(
        (r.status, r.header("www-authenticate")),
        (401, Some(r#"Bearer realm="Login with Amazon", error="invalid_token""#))
    );
    // Nothing else: the other grant's tokens work.
    assert_eq!(app.profile(s(&other, "access_token")).await.status, 200);
    assert_user_token_response(&app.refresh_web(s(&other, "refresh_token")).await);
    // The journal says why the refresh was refused.
    let journal = app.admin("GET", "/__admin/requests", json!({})).await;
    let refused = journal.as_array().unwrap().iter().rev().find(|e| e["error"] == "invalid_grant").unwrap();
    assert_eq!(refused["token_problem"], "revoked");
}

#[tokio::test]
async fn a_code_replayed_after_its_expiry_is_unknown_and_revokes_nothing() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let first = assert_user_token_response(&exchange_web(&app, &code, &[]).await);
    app.advance(300).await;
    assert_lwa_error(&exchange_web(&app, &code, &[]).await, 400, "invalid_grant", BAD_CODE);
    assert_user_token_response(&app.refresh_web(s(&first, "refresh_token")).await);
    // A code whose first exchange failed revokes nothing when replayed: there is nothing to revoke.
    let code = app.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let r = exchange_web(&app, &code, &[("redirect_uri", "http://elsewhere/cb")]).await;
    assert_lwa_error(&r, 400, "invalid_grant", "The request has an invalid grant parameter : redirect_uri");
    assert_lwa_error(&exchange_web(&app, &code, &[]).await, 400, "invalid_grant", BAD_CODE);
    assert_user_token_response(&app.refresh_web(s(&first, "refresh_token")).await);
}

#[tokio::test]
async fn a_401_after_http_basic_carries_the_basic_challenge_and_no_other_401_does() {
    let app = TestApp::spawn().await;
    let challenge = Some(r#"Basic realm="Login with Amazon""#);
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", "Atzr|x")];
    let with_auth =
        |value: String| app.send(app.http.post(app.url(TOKEN)).header("authorization", value).form(&refresh));
    // A wrong secret, an unknown client, and a Basic header that does not decode (A47): each 401 invalid_client
    // with the challenge of the scheme the client used (RFC 6749 §5.2).
    for value in [
        basic(WEB_CLIENT, "wrong"),
        basic("amzn1.application-oa2-client.00000000000000000000000000000000", "x"),
        "Basic !!!".to_owned(),
        "basic".to_owned(),
    ] {
        let r = with_auth(value.clone()).await;
        assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
        assert_eq!(r.header("www-authenticate"), challenge, "{value}");
    }
    // The code-pair endpoint authenticates Basic the same way (A49).
    let r = app
        .send(
            app.http
                .post(app.url(CODEPAIR))
                .header("authorization", basic(DEVICE_CLIENT, "wrong"))
                .form(&[("response_type", "device_code"), ("scope", "profile")]),
        )
        .await;
    assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
    assert_eq!(r.header("www-authenticate"), challenge);
    // Credentials as parameters: 401 without a challenge; a refusal other than 401 after Basic: none either.
    let r = app
        .post_form(
            TOKEN,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "Atzr|x"),
                ("client_id", WEB_CLIENT),
                ("client_secret", "wrong"),
            ],
        )
        .await;
    assert_lwa_error(&r, 401, "invalid_client", "Client authentication failed");
    assert_eq!(r.header("www-authenticate"), None);
    let r = with_auth(basic(WEB_CLIENT, WEB_SECRET)).await;
    assert_lwa_error(&r, 400, "invalid_grant", BAD_REFRESH);
    assert_eq!(r.header("www-authenticate"), None);
}
