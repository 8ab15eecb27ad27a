//! `/ap/oa`, the authorization endpoint, driven as a browser would (spec `lwa.md` §3, §13.6, §14): the
//! sign-in and consent page, its form posted back, the redirects (compared as whole `Location` strings),
//! and LWA's HTML 400 page.

use std::time::Duration;

use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::html::{assert_error_page, assert_html_page, form, has_button, hidden_fields, radios};
use crate::support::*;

/// `{prefix}/ap/oa?{params}`, form-encoded as a browser sends it.
fn oa(prefix: &str, params: &[(&str, &str)]) -> String {
    format!("{prefix}/ap/oa?{}", encode(params))
}

fn encode(params: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// A standard code request of the music profile's web client.
fn web_request<'a>(scope: &'a str, state: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", WEB_CLIENT),
        ("scope", scope),
        ("response_type", "code"),
        ("redirect_uri", WEB_RETURN),
        ("state", state),
    ]
}

/// The reported case's request: the speaker client asking for a music scope (`lwa.md` §3.3).
fn speaker_request<'a>(scope: &'a str, state: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", SPEAKER_CLIENT),
        ("scope", scope),
        ("response_type", "code"),
        ("redirect_uri", "http://127.0.0.1:9090/cb"),
        ("state", state),
    ]
}

/// What a person does: opens the page, picks a user, clicks a button. Returns the form's answer.
async fn sign_in(app: &TestApp, prefix: &str, params: &[(&str, &str)], user: &str, decision: &str) -> Resp {
    let page = app.get(&oa(prefix, params)).await;
    assert_html_page(&page);
    let (action, method) = form(&page.text);
    assert_eq!(method, "post");
    let mut fields = hidden_fields(&page.text);
    fields.push(("user_id".into(), user.into()));
    fields.push(("decision".into(), decision.into()));
    app.send(app.http.post(app.url(&action)).form(&fields)).await
}

/// One query (or fragment) parameter of a redirect, decoded.
fn param(location: &str, name: &str) -> String {
    let url = url::Url::parse(location).expect("Location is an absolute URL");
    let pairs = match url.fragment() {
        Some(f) => form_urlencoded::parse(f.as_bytes()).into_owned().collect::<Vec<_>>(),
        None => url.query_pairs().into_owned().collect(),
    };
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v).unwrap_or_else(|| panic!("no {name} in {location}"))
}

/// Asserts LWA's authorization-code format (`lwa.md` §3.2, §13.3) and returns the code.
fn code_of(location: &str) -> String {
    let code = param(location, "code");
    assert_eq!(code.len(), 20, "{code}");
    assert!(code.starts_with("AN") && code.bytes().all(|b| b.is_ascii_alphabetic()), "{code}");
    code
}

async fn exchange(app: &TestApp, prefix: &str, form: &[(&str, &str)]) -> Resp {
    app.post_form(&format!("{prefix}/auth/o2/token"), form).await
}

async fn tokeninfo(app: &TestApp, prefix: &str, token: &str) -> serde_json::Value {
    let r = app.get(&format!("{prefix}/auth/o2/tokeninfo?{}", encode(&[("access_token", token)]))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

// --- The sign-in and consent page --------------------------------------------------------------

#[tokio::test]
async fn consent_page_lists_users_scopes_buttons_and_reposts_every_parameter() {
    let app = TestApp::spawn().await;
    let challenge = "Fw7s3XHRVb2m1nT7s646UrYiYLMJ54as0ZIU_injyqw";
    let mut params = web_request("profile music::library:read", "st<&>\"ate");
    params.extend([
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("scope_data", r#"{"profile":{"essential":true}}"#),
        ("language", "en_US"),
        ("xoauth_displayname", "Mock & Co"),
    ]);

    let r = app.get(&oa("/s/page-1", &params)).await;

    assert_html_page(&r);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let page = &r.text;
    assert_eq!(form(page), ("/s/page-1/ap/oa".to_owned(), "post".to_owned()));
    let users = app.admin("GET", "/__admin/users", json!(null)).await;
    let ids: Vec<String> =
        users.as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(radios(page, "user_id"), (ids.clone(), Some(ids[0].clone())), "every fixture user, the first checked");
    for u in users.as_array().unwrap() {
        let label = format!(" {} ({})", u["name"].as_str().unwrap(), u["email"].as_str().unwrap());
        assert!(page.contains(&label), "{label} missing");
    }
    assert!(page.contains("<strong>Mock Music Player</strong> would like to access:"));
    assert!(page.contains("<li>Read your music library and playlists <code>music::library:read</code></li>"));
    assert!(page.contains("<li>Your name, email address and Amazon account ID <code>profile</code></li>"));
    assert!(has_button(page, "decision", "allow", "Allow"));
    assert!(has_button(page, "decision", "deny", "Cancel"));
    let mut hidden = hidden_fields(page);
    hidden.sort();
    let mut expected: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    expected.sort();
    assert_eq!(hidden, expected, "every request parameter is re-posted exactly");
}

#[tokio::test]
async fn consent_page_without_a_session_posts_to_the_bare_path() {
    let app = TestApp::spawn().await;
    let r = app.get(&oa("", &web_request("profile", "s"))).await;
    assert_html_page(&r);
    assert_eq!(form(&r.text).0, "/ap/oa");
}

// --- Allow and Cancel --------------------------------------------------------------------------

#[tokio::test]
async fn allow_redirects_with_code_first_then_normalised_scope_then_state() {
    let app = TestApp::spawn().await;
    let params = web_request("music::library:read  profile music::library", "af0ifjsldkj");

    let r = sign_in(&app, "/s/allow", &params, USER_PRIME, "allow").await;

    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let code = code_of(r.location());
    // `music::library` supersedes `music::library:read`; the set is sorted and `+`-encoded.
    assert_eq!(
        r.location(),
        format!("http://127.0.0.1:9090/cb?code={code}&scope=music%3A%3Alibrary+profile&state=af0ifjsldkj")
    );
    // The code belongs to the user who was picked on the page.
    let t = exchange(
        &app,
        "/s/allow",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_RETURN),
            ("client_id", WEB_CLIENT),
            ("client_secret", WEB_SECRET),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.text);
    let info = tokeninfo(&app, "/s/allow", t.json()["access_token"].as_str().unwrap()).await;
    assert_eq!(info["user_id"], USER_PRIME);
    assert_eq!(info["aud"], WEB_CLIENT);
}

#[tokio::test]
async fn a_long_state_with_reserved_characters_and_unicode_is_echoed_exactly() {
    let app = TestApp::spawn().await;
    let chunk = "a=b&c d+e%20/?#ключ=värde&🎵 ";
    let state: String = std::iter::repeat_n(chunk, 80).collect();
    assert!(state.len() > 2048, "{}", state.len());

    let r = sign_in(&app, "", &web_request("profile", &state), USER_FREE, "allow").await;

    assert_eq!(r.status, 302, "{}", r.text);
    let code = code_of(r.location());
    assert_eq!(param(r.location(), "state"), state);
    assert_eq!(
        r.location(),
        format!("http://127.0.0.1:9090/cb?code={code}&{}", encode(&[("scope", "profile"), ("state", &state)]))
    );
}

#[tokio::test]
async fn a_return_url_with_a_query_gets_the_code_appended_with_an_ampersand() {
    let dir = fixtures_with_return_url("https://app.example.com/cb?tenant=acme");
    let app = spawn_with_fixtures(&dir).await;
    let params = [
        ("client_id", QUERY_CLIENT),
        ("scope", "profile"),
        ("response_type", "code"),
        ("redirect_uri", "https://app.example.com/cb?tenant=acme"),
        ("state", "xyz"),
    ];

    let r = sign_in(&app, "", &params, USER_UNLIMITED, "allow").await;
    let code = code_of(r.location());
    assert_eq!(r.location(), format!("https://app.example.com/cb?tenant=acme&code={code}&scope=profile&state=xyz"));

    let r = sign_in(&app, "", &params, USER_UNLIMITED, "deny").await;
    assert_eq!(
        r.location(),
        "https://app.example.com/cb?tenant=acme&error_description=The+user+denied+the+request&state=xyz&error=access_denied"
    );
}

#[tokio::test]
async fn cancel_redirects_with_access_denied_in_the_captured_order() {
    let app = TestApp::spawn().await;

    let r = sign_in(&app, "/s/deny", &web_request("profile", "s 1"), USER_UNLIMITED, "deny").await;

    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(
        r.location(),
        "http://127.0.0.1:9090/cb?error_description=The+user+denied+the+request&state=s+1&error=access_denied"
    );
}

#[tokio::test]
async fn cancel_without_state_leaves_state_out() {
    let app = TestApp::spawn().await;
    let params = &web_request("profile", "")[..4];

    let r = sign_in(&app, "", params, USER_UNLIMITED, "deny").await;

    assert_eq!(
        r.location(),
        "http://127.0.0.1:9090/cb?error_description=The+user+denied+the+request&error=access_denied"
    );
}

#[tokio::test]
async fn auto_consent_answers_the_get_at_once_as_the_first_fixture_user() {
    let app = TestApp::spawn().await;
    app.admin("PUT", "/s/auto/__admin/settings", json!({"auto_consent": true})).await;

    let r = app.get(&oa("/s/auto", &web_request("profile", "st"))).await;

    assert_eq!(r.status, 302, "{}", r.text);
    let code = code_of(r.location());
    assert_eq!(r.location(), format!("http://127.0.0.1:9090/cb?code={code}&scope=profile&state=st"));
    let t = exchange(
        &app,
        "/s/auto",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", WEB_CLIENT),
            ("client_secret", WEB_SECRET),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.text);
    let info = tokeninfo(&app, "/s/auto", t.json()["access_token"].as_str().unwrap()).await;
    assert_eq!(info["user_id"], USER_UNLIMITED, "the first user in users.yaml");
    // The setting is per session: the default session still shows the page.
    assert_html_page(&app.get(&oa("", &web_request("profile", "st"))).await);
}

#[tokio::test]
async fn a_form_post_with_no_decision_or_an_unknown_user_gets_the_400_page() {
    let app = TestApp::spawn().await;
    let mut form: Vec<(&str, &str)> = web_request("profile", "s");
    form.push(("user_id", USER_PRIME));
    let r = app.post_form("/ap/oa", &form).await;
    assert_error_page(
        &r,
        "The request has an invalid parameter : decision",
        &[
            ("client_id", WEB_CLIENT),
            ("response_type", "code"),
            ("redirect_uri", WEB_RETURN),
            ("scope", "profile"),
            ("state", "s"),
        ],
    );
    let mut form: Vec<(&str, &str)> = web_request("profile", "s");
    form.extend([("user_id", "amzn1.account.NOTAFIXTUREUSERAAAAAAAAAAAAAA"), ("decision", "allow")]);
    let r = app.post_form("/ap/oa", &form).await;
    assert_error_page(
        &r,
        "The request has an invalid parameter : user_id",
        &[
            ("client_id", WEB_CLIENT),
            ("response_type", "code"),
            ("redirect_uri", WEB_RETURN),
            ("scope", "profile"),
            ("state", "s"),
        ],
    );
}

// --- Requests that never redirect: LWA's HTML 400 page ----------------------------------------

#[tokio::test]
async fn an_unknown_client_id_gets_the_400_page() {
    let app = TestApp::spawn().await;
    let other = "amzn1.application-oa2-client.00000000000000000000000000000000";
    let mut params = web_request("profile", "<s>");
    params[0] = ("client_id", other);
    params.push(("scope_data", r#"{"profile":{"essential":true}}"#));

    let r = app.get(&oa("", &params)).await;

    assert_error_page(
        &r,
        "The request has an invalid parameter : client_id",
        &[
            ("client_id", other),
            ("response_type", "code"),
            ("redirect_uri", WEB_RETURN),
            ("scope", "profile"),
            ("state", "<s>"),
            ("scope_data", r#"{"profile":{"essential":true}}"#),
        ],
    );
}

#[tokio::test]
async fn a_missing_client_id_gets_the_400_page() {
    let app = TestApp::spawn().await;
    let r = app.get(&oa("", &web_request("profile", "s")[1..])).await;
    assert_error_page(
        &r,
        "The request is missing a required parameter : client_id",
        &[("response_type", "code"), ("redirect_uri", WEB_RETURN), ("scope", "profile"), ("state", "s")],
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_the_400_page_even_when_posted() {
    let app = TestApp::spawn().await;
    let evil = "https://evil.example/cb";
    let mut params = web_request("profile", "s");
    params[3] = ("redirect_uri", evil);
    let details = [
        ("client_id", WEB_CLIENT),
        ("response_type", "code"),
        ("redirect_uri", evil),
        ("scope", "profile"),
        ("state", "s"),
    ];

    let r = app.get(&oa("", &params)).await;
    assert_error_page(&r, "The request has an invalid parameter : redirect_uri", &details);

    // A forged form post is checked again and does not redirect either.
    params.extend([("user_id", USER_PRIME), ("decision", "allow")]);
    let r = app.post_form("/ap/oa", &params).await;
    assert_error_page(&r, "The request has an invalid parameter : redirect_uri", &details);
}

#[tokio::test]
async fn a_missing_redirect_uri_gets_the_400_page() {
    let app = TestApp::spawn().await;
    let params: Vec<_> = web_request("profile", "s").into_iter().filter(|(k, _)| *k != "redirect_uri").collect();
    let r = app.get(&oa("", &params)).await;
    assert_error_page(
        &r,
        "The request is missing a required parameter : redirect_uri",
        &[("client_id", WEB_CLIENT), ("response_type", "code"), ("scope", "profile"), ("state", "s")],
    );
}

#[tokio::test]
async fn a_device_client_without_return_urls_gets_the_400_page() {
    let app = TestApp::spawn().await;
    let mut params = web_request("profile", "s");
    params[0] = ("client_id", DEVICE_CLIENT);
    let r = app.get(&oa("", &params)).await;
    assert_error_page(
        &r,
        "The request has an invalid parameter : redirect_uri",
        &[
            ("client_id", DEVICE_CLIENT),
            ("response_type", "code"),
            ("redirect_uri", WEB_RETURN),
            ("scope", "profile"),
            ("state", "s"),
        ],
    );
}

// --- The reported case: music scopes on a profile not enabled for music (lwa.md §3.3, §13.6) ---

const SPEAKER_DETAILS: [(&str, &str); 5] = [
    ("client_id", SPEAKER_CLIENT),
    ("response_type", "code"),
    ("redirect_uri", "http://127.0.0.1:9090/cb"),
    ("scope", "music::library:read"),
    ("state", "speaker-state"),
];

#[tokio::test]
async fn music_scope_on_a_profile_not_enabled_for_music_fails_after_sign_in_with_the_400_page() {
    let app = TestApp::spawn().await;
    let params = speaker_request("music::library:read", "speaker-state");

    // The sign-in page comes first, as it did for the developer who reported it.
    let page = app.get(&oa("", &params)).await;
    assert_html_page(&page);
    assert!(page.text.contains("<strong>Smart Speaker (not enabled for music)</strong> would like to access:"));
    assert!(page.text.contains("<code>music::library:read</code>"));

    // Signing in and clicking Allow ends on Amazon's error page, with no redirect back to the client.
    let r = sign_in(&app, "", &params, USER_UNLIMITED, "allow").await;
    assert_error_page(&r, "An unknown scope was requested", &SPEAKER_DETAILS);
}

#[tokio::test]
async fn music_scope_on_a_profile_not_enabled_for_music_with_auto_consent_fails_at_once() {
    let app = TestApp::spawn().await;
    app.admin("PUT", "/__admin/settings", json!({"auto_consent": true})).await;

    let r = app.get(&oa("", &speaker_request("music::library:read", "speaker-state"))).await;

    assert_error_page(&r, "An unknown scope was requested", &SPEAKER_DETAILS);
}

#[tokio::test]
async fn music_scope_on_a_profile_not_enabled_for_music_redirects_when_set_to_redirect() {
    let app = TestApp::spawn().await;
    app.admin("PUT", "/__admin/settings", json!({"unknown_scope_response": "redirect"})).await;

    let r = app.get(&oa("", &speaker_request("music::library:read", "speaker-state"))).await;

    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(
        r.location(),
        "http://127.0.0.1:9090/cb?error_description=An+unknown+scope+was+requested&state=speaker-state&error=invalid_scope"
    );
}

#[tokio::test]
async fn the_speaker_client_gets_alexa_all_through_the_code_pair() {
    let app = TestApp::spawn().await;
    let cp = app
        .post_form(
            "/auth/O2/create/codepair",
            &[("response_type", "device_code"), ("client_id", SPEAKER_CLIENT), ("scope", "alexa:all")],
        )
        .await;
    assert_eq!(cp.status, 200, "{}", cp.text);
    let (uc, dc) =
        (cp.json()["user_code"].as_str().unwrap().to_owned(), cp.json()["device_code"].as_str().unwrap().to_owned());
    app.admin("POST", "/__admin/device/approve", json!({"user_code": uc})).await;
    let t = exchange(&app, "", &[("grant_type", "device_code"), ("device_code", &dc), ("user_code", &uc)]).await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(tokeninfo(&app, "", t.json()["access_token"].as_str().unwrap()).await["aud"], SPEAKER_CLIENT);
}

#[tokio::test]
async fn a_scope_that_does_not_exist_behaves_like_a_disallowed_one() {
    let app = TestApp::spawn().await;
    let params = web_request("profile music::nonsense", "s");
    let details = [
        ("client_id", WEB_CLIENT),
        ("response_type", "code"),
        ("redirect_uri", WEB_RETURN),
        ("scope", "profile music::nonsense"),
        ("state", "s"),
    ];

    let page = app.get(&oa("", &params)).await;
    assert_html_page(&page);
    assert!(page.text.contains("<li>Unknown scope <code>music::nonsense</code></li>"), "{}", page.text);
    let r = sign_in(&app, "", &params, USER_UNLIMITED, "allow").await;
    assert_error_page(&r, "An unknown scope was requested", &details);

    app.admin("PUT", "/__admin/settings", json!({"unknown_scope_response": "redirect"})).await;
    let r = app.get(&oa("", &params)).await;
    assert_eq!(
        r.location(),
        "http://127.0.0.1:9090/cb?error_description=An+unknown+scope+was+requested&state=s&error=invalid_scope"
    );
}

#[tokio::test]
async fn a_malformed_scope_behaves_like_an_unknown_one() {
    let app = TestApp::spawn().await;
    let r = sign_in(&app, "", &web_request("profile bad::", "s"), USER_UNLIMITED, "allow").await;
    assert_error_page(
        &r,
        "An unknown scope was requested",
        &[
            ("client_id", WEB_CLIENT),
            ("response_type", "code"),
            ("redirect_uri", WEB_RETURN),
            ("scope", "profile bad::"),
            ("state", "s"),
        ],
    );
}

#[tokio::test]
async fn a_missing_scope_on_the_music_profile_is_granted_the_default_scope() {
    let app = TestApp::spawn().await;
    let params: Vec<_> = web_request("", "s").into_iter().filter(|(k, _)| *k != "scope").collect();

    let r = sign_in(&app, "", &params, USER_UNLIMITED, "allow").await;

    let code = code_of(r.location());
    assert_eq!(r.location(), format!("http://127.0.0.1:9090/cb?code={code}&scope=music%3A%3Alibrary%3Aread&state=s"));
}

#[tokio::test]
async fn a_missing_scope_on_a_profile_without_a_default_redirects_with_invalid_request() {
    let app = TestApp::spawn().await;
    let params: Vec<_> = speaker_request("", "s").into_iter().filter(|(k, _)| *k != "scope").collect();

    let r = app.get(&oa("", &params)).await;

    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(
        r.location(),
        "http://127.0.0.1:9090/cb?error_description=The+request+is+missing+a+required+parameter+%3A+scope&state=s&error=invalid_request"
    );
}

// --- response_type -----------------------------------------------------------------------------

#[tokio::test]
async fn a_missing_response_type_redirects_with_invalid_request() {
    let app = TestApp::spawn().await;
    let params: Vec<_> = web_request("profile", "s").into_iter().filter(|(k, _)| *k != "response_type").collect();
    let r = app.get(&oa("", &params)).await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(
        r.location(),
        "http://127.0.0.1:9090/cb?error_description=The+request+is+missing+a+required+parameter+%3A+response_type&state=s&error=invalid_request"
    );
}

#[tokio::test]
async fn an_unknown_response_type_redirects_with_unsupported_response_type() {
    let app = TestApp::spawn().await;
    let mut params = web_request("profile", "s");
    params[2] = ("response_type", "foo");
    let r = app.get(&oa("", &params)).await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(
        r.location(),
        "http://127.0.0.1:9090/cb?error_description=The+authorization+server+does+not+support+obtaining+an+authorization+code+using+this+method&state=s&error=unsupported_response_type"
    );
}

#[tokio::test]
async fn response_type_token_puts_the_access_token_in_the_fragment() {
    let app = TestApp::spawn().await;
    let mut params = web_request("profile postal_code", "s&t");
    params[2] = ("response_type", "token");

    let r = sign_in(&app, "/s/implicit", &params, USER_PRIME, "allow").await;

    assert_eq!(r.status, 302, "{}", r.text);
    let token = param(r.location(), "access_token");
    assert!(token.starts_with("Atza|"), "{token}");
    let body = token.strip_prefix("Atza|").unwrap();
    assert_eq!(
        r.location(),
        format!(
            "http://127.0.0.1:9090/cb#access_token=Atza%7C{body}&token_type=bearer&expires_in=3600&scope=postal_code+profile&state=s%26t"
        )
    );
    let info = tokeninfo(&app, "/s/implicit", &token).await;
    assert_eq!((info["aud"].as_str(), info["user_id"].as_str()), (Some(WEB_CLIENT), Some(USER_PRIME)));
}

// --- PKCE --------------------------------------------------------------------------------------

#[tokio::test]
async fn an_invalid_code_challenge_method_redirects_with_invalid_request() {
    let app = TestApp::spawn().await;
    let mut params = web_request("profile", "s");
    params
        .extend([("code_challenge", "Fw7s3XHRVb2m1nT7s646UrYiYLMJ54as0ZIU_injyqw"), ("code_challenge_method", "S512")]);
    let r = app.get(&oa("", &params)).await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(
        r.location(),
        "http://127.0.0.1:9090/cb?error_description=The+request+has+an+invalid+parameter+%3A+code_challenge_method&state=s&error=invalid_request"
    );
}

#[tokio::test]
async fn a_malformed_code_challenge_redirects_with_invalid_request() {
    let app = TestApp::spawn().await;
    let too_short = "abc";
    let bad_chars = "Fw7s3XHRVb2m1nT7s646UrYiYLMJ54as0ZIU_injyq+";
    let too_long_for_s256 = "Fw7s3XHRVb2m1nT7s646UrYiYLMJ54as0ZIU_injyqwFw7s3XHRVb2m";
    for (challenge, method) in [(too_short, "plain"), (bad_chars, "S256"), (too_long_for_s256, "S256")] {
        let mut params = web_request("profile", "s");
        params.extend([("code_challenge", challenge), ("code_challenge_method", method)]);
        let r = app.get(&oa("", &params)).await;
        assert_eq!(
            r.location(),
            "http://127.0.0.1:9090/cb?error_description=The+request+has+an+invalid+parameter+%3A+code_challenge&state=s&error=invalid_request",
            "{challenge} {method}"
        );
    }
}

#[tokio::test]
async fn an_s256_challenge_s_code_is_exchanged_with_the_right_verifier() {
    let app = TestApp::spawn().await;
    let verifier = "xN2l4y2N3oZQ-8sJ.x~_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let params = [
        ("client_id", PUBLIC_CLIENT),
        ("scope", "music::library profile"),
        ("response_type", "code"),
        ("redirect_uri", PUBLIC_RETURN),
        ("state", "pkce"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];

    let r = sign_in(&app, "/s/pkce", &params, USER_FREE, "allow").await;
    let code = code_of(r.location());
    assert_eq!(r.location(), format!("{PUBLIC_RETURN}?code={code}&scope=music%3A%3Alibrary+profile&state=pkce"));

    // A public client proves itself with the verifier alone (no secret).
    let t = exchange(
        &app,
        "/s/pkce",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", PUBLIC_RETURN),
            ("client_id", PUBLIC_CLIENT),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.text);
    let body = t.json();
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["access_token", "refresh_token", "token_type", "expires_in"]);
    let info = tokeninfo(&app, "/s/pkce", body["access_token"].as_str().unwrap()).await;
    assert_eq!((info["aud"].as_str(), info["user_id"].as_str()), (Some(PUBLIC_CLIENT), Some(USER_FREE)));

    // A wrong verifier does not get a token.
    let r = sign_in(&app, "/s/pkce", &params, USER_FREE, "allow").await;
    let code = code_of(r.location());
    let t = exchange(
        &app,
        "/s/pkce",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", PUBLIC_CLIENT),
            ("code_verifier", &verifier.replace('x', "y")),
        ],
    )
    .await;
    assert_lwa_error(&t, 400, "invalid_grant", "The request has an invalid grant parameter : code");
}

// --- Hosts and path case (lwa.md §13.1) -------------------------------------------------------

#[tokio::test]
async fn the_page_answers_on_any_host_and_path_case() {
    let app = TestApp::spawn().await;
    let q = encode(&web_request("profile", "s"));
    for (host, path) in [
        ("www.amazon.com", "/ap/oa"),
        ("eu.account.amazon.com", "/ap/oa"),
        ("apac.account.amazon.com", "/AP/OA"),
        ("www.amazon.co.jp", "/s/jp/Ap/Oa"),
    ] {
        let r = app.send(app.http.get(app.url(&format!("{path}?{q}"))).header("host", host)).await;
        assert_html_page(&r);
        let expected_action = if path.starts_with("/s/jp") { "/s/jp/ap/oa" } else { "/ap/oa" };
        assert_eq!(form(&r.text).0, expected_action, "{host}{path}");
    }
    let mut form_fields: Vec<(&str, &str)> = web_request("profile", "s");
    form_fields.extend([("user_id", USER_PRIME), ("decision", "allow")]);
    let r = app.send(app.http.post(app.url("/AP/OA")).header("host", "www.amazon.com").form(&form_fields)).await;
    let code = code_of(r.location());
    assert_eq!(r.location(), format!("http://127.0.0.1:9090/cb?code={code}&scope=profile&state=s"));
}

// --- A person's view: the page in a real browser ----------------------------------------------

/// Renders the consent page, the 400 page and the `/us/code` page in headless Chromium, when it is
/// installed, and keeps screenshots under the target's tmp directory for a person to look at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consent_page_renders_in_headless_chromium() {
    if crate::testkit::skip_without("/usr/bin/chromium", "apt-get install -y chromium") {
        return;
    }
    let app = TestApp::spawn().await;
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&out).expect("screenshot dir");
    let pages = [
        ("consent.png", oa("/s/shot", &web_request("profile music::library music::playback", "s"))),
        ("unknown-scope.png", {
            app.admin("PUT", "/s/shot2/__admin/settings", json!({"auto_consent": true})).await;
            oa("/s/shot2", &speaker_request("music::library:read", "speaker-state"))
        }),
        ("verify.png", {
            let cp = app
                .post_form(
                    "/s/shot3/auth/O2/create/codepair",
                    &[("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", "music::library:read")],
                )
                .await;
            format!("/s/shot3/us/code?code={}", cp.json()["user_code"].as_str().unwrap())
        }),
    ];
    for (file, path) in pages {
        let png = out.join(file);
        let _ = std::fs::remove_file(&png);
        let url = app.url(&path);
        let dom = run_chromium(&["--dump-dom".to_owned(), url.clone()]).await;
        let shot = format!("--screenshot={}", png.display());
        run_chromium(&[shot, "--window-size=900,1000".into(), url]).await;
        let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot {}: {e}", png.display()));
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000, "{} bytes", bytes.len());
        let expected = match file {
            "consent.png" => "Sign in with Amazon",
            "unknown-scope.png" => "An unknown scope was requested",
            _ => "Register your device",
        };
        assert!(dom.contains(expected) && dom.contains("Ava Unlimited") != (file == "unknown-scope.png"), "{dom}");
        println!("screenshot: {}", png.display());
    }
}

pub(crate) async fn run_chromium(args: &[String]) -> String {
    let mut cmd = std::process::Command::new("/usr/bin/chromium");
    cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"])
        .args(["--no-first-run", "--disable-extensions"])
        .arg(format!(
            "--user-data-dir={}",
            std::env::temp_dir().join(format!("amm-chromium-{}", std::process::id())).display()
        ))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("chromium starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().expect("wait for chromium") {
                let mut out = String::new();
                std::io::Read::read_to_string(child.stdout.as_mut().expect("stdout"), &mut out).expect("read stdout");
                assert!(status.success(), "chromium failed: {status}");
                return out;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("chromium took over 60 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .expect("chromium task")
}

// --- Fixtures with a return URL that has a query -----------------------------------------------

const QUERY_CLIENT: &str = "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef";

/// A fixture directory whose one profile's web client has `return_url` (users come from the defaults).
fn fixtures_with_return_url(return_url: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fixtures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("fixture dir");
    let yaml = format!(
        "security_profiles:
  - security_profile_id: amzn1.application.0123456789abcdef0123456789abcdef
    name: Query Return URL
    music_enabled: false
    allowed_scopes: [profile]
    clients:
      - client_id: {QUERY_CLIENT}
        client_secret: amzn1.oa2-cs.v1.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        kind: web
        return_urls: [\"{return_url}\"]
"
    );
    std::fs::write(dir.join("security-profiles.yaml"), yaml).expect("fixture file");
    dir
}

async fn spawn_with_fixtures(dir: &std::path::Path) -> TestApp {
    TestApp::spawn_with(amazon_music_mock::ServerConfig {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        fixtures: Some(dir.to_owned()),
        seed: Some(1),
        ..Default::default()
    })
    .await
}
