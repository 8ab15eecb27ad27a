//! `/us/code`, the code-based-linking verification page (spec `lwa.md` §1, §5, §13.5): a person enters
//! the device's user code, signs in and allows or denies; the device's poll then sees the decision.

use serde_json::json;

use crate::html::{assert_html_page, escape, form, has_button, hidden_fields, radios};
use crate::support::*;

/// A code pair of the music profile's device client: `(user_code, device_code)`.
async fn code_pair(app: &TestApp, prefix: &str, scope: &str) -> (String, String) {
    let r = app
        .post_form(
            &format!("{prefix}/auth/O2/create/codepair"),
            &[("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", scope)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    (j["user_code"].as_str().unwrap().to_owned(), j["device_code"].as_str().unwrap().to_owned())
}

async fn poll(app: &TestApp, prefix: &str, device_code: &str, user_code: &str) -> Resp {
    app.post_form(
        &format!("{prefix}/auth/o2/token"),
        &[("grant_type", "device_code"), ("device_code", device_code), ("user_code", user_code)],
    )
    .await
}

/// Asserts the verification page with a problem: 400, HTML, the message, and the code entry form again.
fn assert_problem_page(r: &Resp, message: &str) {
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.text.contains(&format!("<p id=\"problem\">{}</p>", escape(message))), "{}", r.text);
    assert!(r.text.contains("name=\"code\""), "the page offers to enter a code again: {}", r.text);
    assert!(!r.text.contains("name=\"decision\""), "no Allow button for a bad code: {}", r.text);
}

const NOT_RECOGNISED: &str = "That code was not recognised. Check the code on your device and try again.";
const EXPIRED: &str = "That code has expired or was already used. Ask your device for a new code.";

#[tokio::test]
async fn get_shows_the_code_entry_form() {
    let app = TestApp::spawn().await;

    let r = app.get("/s/v1/us/code").await;

    assert_html_page(&r);
    assert_eq!(form(&r.text), ("/s/v1/us/code".to_owned(), "get".to_owned()));
    assert!(r.text.contains("<h1>Register your device</h1>"));
    assert!(r.text.contains("Enter the code shown on your device:"));
    assert!(r.text.contains(r#"<input type="text" name="code""#), "{}", r.text);
    assert!(!r.text.contains("id=\"problem\""));
}

#[tokio::test]
async fn entering_a_code_in_any_case_shows_the_app_its_scopes_the_users_and_the_buttons() {
    let app = TestApp::spawn().await;
    let (user_code, _) = code_pair(&app, "/s/v2", "music::library:read profile").await;

    let r = app.get(&format!("/s/v2/US/CODE?code=%20{}%20", user_code.to_ascii_lowercase())).await;

    assert_html_page(&r);
    let page = &r.text;
    assert_eq!(form(page), ("/s/v2/us/code".to_owned(), "post".to_owned()));
    assert!(page.contains(&format!("<strong>Mock Music Player</strong> (code <code>{user_code}</code>)")), "{page}");
    assert!(page.contains("<li>Read your music library and playlists <code>music::library:read</code></li>"));
    assert!(page.contains("<li>Your name, email address and Amazon account ID <code>profile</code></li>"));
    let (users, checked) = radios(page, "user_id");
    assert_eq!(users, [USER_UNLIMITED, USER_PRIME, USER_FREE, USER_NO_MUSIC]);
    assert_eq!(checked.as_deref(), Some(USER_UNLIMITED));
    assert!(has_button(page, "decision", "allow", "Allow"));
    assert!(has_button(page, "decision", "deny", "Deny"));
    let hidden = hidden_fields(page);
    assert_eq!(hidden.len(), 1);
    assert_eq!(hidden[0].0, "user_code");
    assert!(hidden[0].1.eq_ignore_ascii_case(&user_code), "{hidden:?}");
}

#[tokio::test]
async fn allow_shows_success_and_the_device_poll_gets_tokens_for_the_chosen_user() {
    let app = TestApp::spawn().await;
    let (user_code, device_code) = code_pair(&app, "/s/v3", "music::library profile").await;
    let pending = poll(&app, "/s/v3", &device_code, &user_code).await;
    assert_lwa_error(
        &pending,
        400,
        "authorization_pending",
        "The user has not yet entered the code or authorized the device",
    );

    // The person types the code, picks Ben and clicks Allow, through the page's own form.
    let page = app.get(&format!("/s/v3/us/code?code={}", user_code.to_ascii_lowercase())).await;
    let (action, _) = form(&page.text);
    let mut fields = hidden_fields(&page.text);
    fields.extend([("user_id".to_owned(), USER_PRIME.to_owned()), ("decision".to_owned(), "allow".to_owned())]);
    let r = app.send(app.http.post(app.url(&action)).form(&fields)).await;

    assert_html_page(&r);
    assert!(r.text.contains("<h1 id=\"result\">Success</h1>"), "{}", r.text);
    // Right after the pending poll, but slow_down is only for pending polls.
    let t = poll(&app, "/s/v3", &device_code, &user_code).await;
    assert_eq!(t.status, 200, "{}", t.text);
    let token = t.json()["access_token"].as_str().unwrap().to_owned();
    assert!(t.json()["refresh_token"].as_str().unwrap().starts_with("Atzr|"));
    let info = app
        .send(app.http.get(app.url("/s/v3/auth/o2/tokeninfo")).header("x-amz-access-token", token.as_str()))
        .await
        .json();
    assert_eq!((info["aud"].as_str(), info["user_id"].as_str()), (Some(DEVICE_CLIENT), Some(USER_PRIME)));
    let profile = app.send(app.http.get(app.url("/s/v3/user/profile")).bearer_auth(&token)).await;
    assert_eq!(profile.json(), json!({"user_id": USER_PRIME, "name": "Ben Prime", "email": "ben.prime@example.com"}));

    // The code is used up: entering it again says so.
    let again = app.get(&format!("/s/v3/us/code?code={user_code}")).await;
    assert_problem_page(&again, EXPIRED);
}

#[tokio::test]
async fn deny_shows_the_cancelled_page_and_polls_get_access_denied() {
    let app = TestApp::spawn().await;
    let (user_code, device_code) = code_pair(&app, "", "music::library:read").await;

    let r = app.post_form("/us/code", &[("user_code", &user_code), ("decision", "deny")]).await;

    assert_html_page(&r);
    assert!(r.text.contains("<h1 id=\"result\">Registration cancelled</h1>"), "{}", r.text);
    let t = poll(&app, "", &device_code, &user_code).await;
    assert_lwa_error(&t, 400, "access_denied", "The user denied the authorization request");
    // A later attempt to allow it is refused: the decision stands.
    let r =
        app.post_form("/us/code", &[("user_code", &user_code), ("user_id", USER_PRIME), ("decision", "allow")]).await;
    assert_problem_page(&r, EXPIRED);
    app.admin("POST", "/__admin/clock/advance", json!({"seconds": 30})).await;
    let t = poll(&app, "", &device_code, &user_code).await;
    assert_lwa_error(&t, 400, "access_denied", "The user denied the authorization request");
}

#[tokio::test]
async fn an_unknown_code_gets_a_400_page_with_a_clear_message() {
    let app = TestApp::spawn().await;

    let r = app.get("/us/code?code=NOPE42").await;
    assert_problem_page(&r, NOT_RECOGNISED);

    let r = app.post_form("/us/code", &[("user_code", "NOPE42"), ("user_id", USER_PRIME), ("decision", "allow")]).await;
    assert_problem_page(&r, NOT_RECOGNISED);
}

#[tokio::test]
async fn an_expired_code_gets_a_400_page_and_the_device_gets_invalid_code_pair() {
    let app = TestApp::spawn().await;
    let (user_code, device_code) = code_pair(&app, "/s/v5", "music::library:read").await;
    app.admin("POST", "/s/v5/__admin/clock/advance", json!({"seconds": 600})).await;

    let r = app.get(&format!("/s/v5/us/code?code={user_code}")).await;
    assert_problem_page(&r, EXPIRED);
    let r = app
        .post_form("/s/v5/us/code", &[("user_code", &user_code), ("user_id", USER_PRIME), ("decision", "allow")])
        .await;
    assert_problem_page(&r, EXPIRED);

    let t = poll(&app, "/s/v5", &device_code, &user_code).await;
    assert_lwa_error(&t, 400, "invalid_code_pair", "The code pair has expired or is invalid; request a new code pair");
}

#[tokio::test]
async fn allow_without_choosing_a_user_gets_the_page_again_with_400() {
    let app = TestApp::spawn().await;
    let (user_code, device_code) = code_pair(&app, "", "music::library:read").await;

    let r = app.post_form("/us/code", &[("user_code", &user_code), ("decision", "allow")]).await;

    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("name=\"decision\""), "the sign-in form is shown again: {}", r.text);
    assert!(
        r.text.contains("<p id=\"problem\">Choose who you are signing in as, then Allow.</p>"),
        "the page says what is missing: {}",
        r.text
    );
    let t = poll(&app, "", &device_code, &user_code).await;
    assert_lwa_error(
        &t,
        400,
        "authorization_pending",
        "The user has not yet entered the code or authorized the device",
    );
}

#[tokio::test]
async fn two_different_codes_in_the_query_get_the_html_page_not_a_plain_text_error() {
    let app = TestApp::spawn().await;
    let (user_code, _) = code_pair(&app, "", "music::library:read").await;

    let r = app.get(&format!("/us/code?code={user_code}&cbl-code=ZZZZZZ")).await;

    assert_problem_page(&r, "More than one code was given. Enter the code shown on your device.");
    // The same code twice (in any case) is fine.
    let lower = user_code.to_lowercase();
    let r = app.get(&format!("/us/code?code={user_code}&cbl-code={lower}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("name=\"decision\""));
}

#[tokio::test]
async fn an_unreadable_form_gets_the_html_page_not_a_json_error() {
    let app = TestApp::spawn().await;

    let r = app
        .send(
            app.http
                .post(app.url("/us/code"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(b"user_code=%FF%FE".to_vec()),
        )
        .await;

    assert_problem_page(&r, "The form could not be read. Enter the code again.");
}
