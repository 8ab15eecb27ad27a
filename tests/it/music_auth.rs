//! The V1 auth chain (spec `music-api.md` §11.2, §6.1): every step's error, in order, with exact bodies;
//! `x-api-key` on every route (`GET /v1/search` too); the supersede rule for `:read` scopes; the profile
//! scope quirk of `/v1/me`; customers without a music account.

use std::net::SocketAddr;
use std::path::PathBuf;

use amazon_music_mock::{MockAmazon, ServerConfig};
use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::support::*;

const NO_AUTH: &str = "Missing Authorization header. Send Authorization: Bearer <LWA access token>.";
const NOT_BEARER: &str =
    "The Authorization header does not carry a bearer token. Send Authorization: Bearer <LWA access token>.";
const EMPTY: &str = "The bearer token is empty.";
const INVALID: &str = "The access token is invalid.";
const EXPIRED: &str = "The access token has expired. Refresh it and retry.";
const NO_MUSIC: &str =
    "No Amazon Music account found. The customer must sign up for Amazon Music before using this API.";

/// The second music-enabled profile of `tests/fixtures/two-music-profiles`, and its device client.
const SECOND_PROFILE: &str = "amzn1.application.4d612c96caf4cdfac13949527d29f61e";
const SECOND_CLIENT: &str = "amzn1.application-oa2-client.061bc4786194e6e866e218f310b07fb1";

fn track_path() -> String {
    format!("/v1/tracks/{}", track_id(0))
}

fn config() -> ServerConfig {
    ServerConfig { bind: SocketAddr::from(([127, 0, 0, 1], 0)), seed: Some(1), ..ServerConfig::default() }
}

async fn app_with(cfg: ServerConfig) -> TestApp {
    let mock = MockAmazon::start_with(cfg).await;
    TestApp { mock, http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap() }
}

fn scope_denied(requires: &str, has: &str, consent: &str) -> String {
    format!(
        "Access denied: this operation requires the scope {requires}; the access token has: {has}. Ask the customer to consent to {consent} at /ap/oa."
    )
}

// ---- step 1: the Authorization header ---------------------------------------------------------------

#[tokio::test]
async fn a_request_without_authorization_is_401_invalid_auth_type() {
    let app = TestApp::spawn().await;
    let r = app.v1_raw("GET", &track_path(), &[("x-api-key", API_KEY)], None).await;
    assert_v1_error(&r, 401, "INVALID_AUTH_TYPE", NO_AUTH);
}

#[tokio::test]
async fn basic_and_other_schemes_are_401_invalid_auth_type() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    for value in ["Basic dXNlcjpwYXNz".to_owned(), format!("Token {token}"), token.clone(), "Bearer-ish abc".to_owned()]
    {
        let r = app.v1_raw("GET", &track_path(), &[("authorization", &value), ("x-api-key", API_KEY)], None).await;
        assert_v1_error(&r, 401, "INVALID_AUTH_TYPE", NOT_BEARER);
    }
    // The scheme is case-insensitive.
    let lower = format!("bearer {token}");
    ok(&app.v1_raw("GET", &track_path(), &[("authorization", &lower), ("x-api-key", API_KEY)], None).await);
}

// ---- step 2: an empty bearer token ------------------------------------------------------------------

#[tokio::test]
async fn an_empty_bearer_token_is_401_invalid_auth_token() {
    let app = TestApp::spawn().await;
    for value in ["Bearer ", "Bearer", "Bearer    ", "BEARER "] {
        let r = app.v1_raw("GET", &track_path(), &[("authorization", value), ("x-api-key", API_KEY)], None).await;
        assert_v1_error(&r, 401, "INVALID_AUTH_TOKEN", EMPTY);
    }
}

// ---- step 3: the token ------------------------------------------------------------------------------

#[tokio::test]
async fn a_garbage_token_is_401_invalid_access_token() {
    let app = TestApp::spawn().await;
    for t in ["garbage", "Atza|", "Atza|AAAA.BBBB.CCCC", "Atzr|x"] {
        let r = app.v1(t).get(&track_path()).await;
        assert_v1_error(&r, 401, "INVALID_ACCESS_TOKEN", INVALID);
    }
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_401_invalid_access_token() {
    let app = TestApp::spawn().await;
    let other = app_with(ServerConfig { token_key: "another signing key".into(), ..config() }).await;
    let forged = other.music_token(USER_UNLIMITED, "music::catalog").await;
    // It works where it was issued …
    ok(&other.v1(&forged).get(&track_path()).await);
    // … and nowhere else.
    assert_v1_error(&app.v1(&forged).get(&track_path()).await, 401, "INVALID_ACCESS_TOKEN", INVALID);
}

#[tokio::test]
async fn a_token_is_valid_for_3599_seconds_and_expired_at_3600() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    app.advance(3599).await;
    ok(&app.v1(&token).get(&track_path()).await);
    app.advance(1).await;
    assert_v1_error(&app.v1(&token).get(&track_path()).await, 401, "INVALID_ACCESS_TOKEN", EXPIRED);
}

#[tokio::test]
async fn a_revoked_grant_is_401_invalid_access_token() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    ok(&app.v1(&token).get(&track_path()).await);
    app.admin("POST", "/__admin/grants/revoke", json!({"user_id": USER_UNLIMITED, "client_id": DEVICE_CLIENT})).await;
    assert_v1_error(
        &app.v1(&token).get(&track_path()).await,
        401,
        "INVALID_ACCESS_TOKEN",
        "The access token is no longer valid: the customer revoked the grant.",
    );
}

#[tokio::test]
async fn a_force_expired_token_is_401_invalid_access_token() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    app.admin("POST", "/__admin/tokens/expire", json!({"token": token})).await;
    assert_v1_error(&app.v1(&token).get(&track_path()).await, 401, "INVALID_ACCESS_TOKEN", EXPIRED);
}

#[tokio::test]
async fn a_refresh_token_is_not_an_access_token() {
    let app = TestApp::spawn().await;
    let v = app.music_tokens(USER_UNLIMITED, "music::catalog").await;
    let r = app.v1(s(&v, "refresh_token")).get(&track_path()).await;
    assert_v1_error(&r, 401, "INVALID_ACCESS_TOKEN", "A refresh token is not an access token.");
}

#[tokio::test]
async fn an_app_only_atc_token_is_401_invalid_access_token() {
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
    let atc = s(&r.json(), "access_token").to_owned();
    assert!(atc.starts_with("Atc|"));
    assert_v1_error(
        &app.v1(&atc).get(&track_path()).await,
        401,
        "INVALID_ACCESS_TOKEN",
        "App-only (client_credentials, Atc|) tokens cannot call the Music API: use a customer's LWA access token.",
    );
}

#[tokio::test]
async fn a_token_of_another_session_is_401_invalid_access_token() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    let other = V1 { app: &app, token, prefix: "/s/elsewhere".into(), header: V1_HEADER };
    assert_v1_error(&other.get(&track_path()).await, 401, "INVALID_ACCESS_TOKEN", INVALID);
}

// ---- step 4: x-api-key ------------------------------------------------------------------------------

async fn with_key(app: &TestApp, token: &str, key: Option<&str>) -> Resp {
    let auth = format!("Bearer {token}");
    let mut h = vec![("authorization", auth.as_str())];
    if let Some(k) = key {
        h.push(("x-api-key", k));
    }
    app.v1_raw("GET", &track_path(), &h, None).await
}

#[tokio::test]
async fn a_missing_x_api_key_is_403_access_denied_naming_the_profile() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    for key in [None, Some(""), Some("   ")] {
        assert_v1_error(
            &with_key(&app, &token, key).await,
            403,
            "ACCESS_DENIED",
            &format!("Missing x-api-key header: send the security profile id ({MUSIC_PROFILE})."),
        );
    }
}

#[tokio::test]
async fn an_unknown_x_api_key_is_403_access_denied() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    let key = "amzn1.application.00000000000000000000000000000000";
    assert_v1_error(
        &with_key(&app, &token, Some(key)).await,
        403,
        "ACCESS_DENIED",
        &format!("x-api-key {key} is not a known security profile id."),
    );
}

#[tokio::test]
async fn the_client_id_in_x_api_key_is_403_naming_the_expected_security_profile_id() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    // The token's own client, another client of the same profile, and a client of another profile.
    for client in [DEVICE_CLIENT, WEB_CLIENT, SPEAKER_CLIENT] {
        assert_v1_error(
            &with_key(&app, &token, Some(client)).await,
            403,
            "ACCESS_DENIED",
            &format!(
                "x-api-key holds a client id ({client}); the Music API expects the security profile id (amzn1.application.…): {MUSIC_PROFILE} for this access token."
            ),
        );
    }
}

#[tokio::test]
async fn a_profile_not_enabled_for_music_is_403_access_denied() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    assert_v1_error(
        &with_key(&app, &token, Some(SPEAKER_PROFILE)).await,
        403,
        "ACCESS_DENIED",
        &format!(
            "Security profile {SPEAKER_PROFILE} is not enabled for the Amazon Music API; it must be enabled by the Amazon Music team."
        ),
    );
}

#[tokio::test]
async fn another_music_enabled_profile_than_the_tokens_is_403_access_denied() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/two-music-profiles");
    let app = app_with(ServerConfig { fixtures: Some(dir), ..config() }).await;
    let first = app.music_token(USER_UNLIMITED, "music::catalog").await;
    let pair = app.codepair(SECOND_CLIENT, "music::catalog").await;
    app.admin("POST", "/__admin/device/approve", json!({"user_code": s(&pair, "user_code"), "user_id": USER_PRIME}))
        .await;
    let second = s(&assert_user_token_response(&app.poll(&pair).await), "access_token").to_owned();

    // Each token works with its own profile id …
    ok(&with_key(&app, &first, Some(MUSIC_PROFILE)).await);
    ok(&with_key(&app, &second, Some(SECOND_PROFILE)).await);
    // … and not with the other's.
    assert_v1_error(
        &with_key(&app, &first, Some(SECOND_PROFILE)).await,
        403,
        "ACCESS_DENIED",
        &format!(
            "x-api-key {SECOND_PROFILE} is not the security profile the access token was issued under ({MUSIC_PROFILE})."
        ),
    );
    assert_v1_error(
        &with_key(&app, &second, Some(MUSIC_PROFILE)).await,
        403,
        "ACCESS_DENIED",
        &format!(
            "x-api-key {MUSIC_PROFILE} is not the security profile the access token was issued under ({SECOND_PROFILE})."
        ),
    );
}

#[tokio::test]
async fn get_v1_search_requires_x_api_key_too() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    let auth = format!("Bearer {token}");
    let r = app.v1_raw("GET", "/v1/search?query=love", &[("authorization", &auth)], None).await;
    assert_v1_error(
        &r,
        403,
        "ACCESS_DENIED",
        &format!("Missing x-api-key header: send the security profile id ({MUSIC_PROFILE})."),
    );
    ok(&app.v1(&token).get("/v1/search?query=love").await);
}

// ---- step 5: scope ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_token_without_the_routes_scope_is_403_naming_required_and_granted_scopes() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog music::history").await;
    let v1 = app.v1(&token);
    let cases: [(&str, &str, Option<Value>, &str, &str); 6] = [
        ("GET", "/v1/me/playlists", None, "music::library:read", "music::library:read"),
        (
            "POST",
            "/v1/playlists",
            Some(json!({"title": "t", "description": "", "visibility": "PRIVATE"})),
            "music::library",
            "music::library",
        ),
        ("GET", "/v1/me/tracks", None, "music::favorites:read", "music::favorites:read"),
        (
            "PUT",
            "/v1/me/followed/artists",
            Some(json!({"artistIds": [artist_id(0)]})),
            "music::favorites",
            "music::favorites",
        ),
        ("GET", "/v1/me", None, "music::profile:read or music::profile", "music::profile"),
        ("GET", "/v1/views/home", None, "music::recommendation", "music::recommendation"),
    ];
    for (method, path, body, requires, consent) in cases {
        let r = v1.call(method, path, body.as_ref()).await;
        assert_v1_error(&r, 403, "ACCESS_DENIED", &scope_denied(requires, "music::catalog music::history", consent));
    }
    let token = app.music_token(USER_UNLIMITED, "music::library").await;
    let r = app.v1(&token).get(&track_path()).await;
    assert_v1_error(&r, 403, "ACCESS_DENIED", &scope_denied("music::catalog", "music::library", "music::catalog"));
    let r = app.v1(&token).get("/v1/player/recentlyPlayed").await;
    assert_v1_error(&r, 403, "ACCESS_DENIED", &scope_denied("music::history", "music::library", "music::history"));
}

#[tokio::test]
async fn a_read_scope_token_cannot_write() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::library:read music::favorites:read").await;
    let v1 = app.v1(&token);
    ok(&v1.get("/v1/me/library/tracks").await);
    ok(&v1.get("/v1/me/followed/artists").await);
    let has = "music::favorites:read music::library:read";
    let r = v1.put("/v1/me/library/tracks", &json!({"trackIds": [track_id(0)]})).await;
    assert_v1_error(&r, 403, "ACCESS_DENIED", &scope_denied("music::library", has, "music::library"));
    let r = v1.delete(&format!("/v1/me/tracks?ids={}", track_id(0)), None).await;
    assert_v1_error(&r, 403, "ACCESS_DENIED", &scope_denied("music::favorites", has, "music::favorites"));
}

#[tokio::test]
async fn a_full_scope_token_reads_the_read_scope_routes() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::library music::favorites").await;
    let v1 = app.v1(&token);
    for path in [
        "/v1/me/playlists",
        "/v1/me/library/tracks",
        "/v1/me/library/albums",
        "/v1/me/library/podcastEpisodes",
        "/v1/me/tracks",
        "/v1/me/followed/artists",
        "/v1/me/followed/playlists",
        "/v1/me/followed/podcastShows",
        "/v1/views/my-library",
    ] {
        ok(&v1.get(path).await);
    }
    let data = v1.data("/v1/me/playlists").await;
    let pl = ptr_str(&data, "/user/playlists/edges/0/node/id");
    ok(&v1.get(&format!("/v1/playlists/{pl}/tracks")).await);
}

#[tokio::test]
async fn profile_read_and_profile_both_work_on_get_and_put_v1_me() {
    let app = TestApp::spawn().await;
    for scope in ["music::profile:read", "music::profile"] {
        let token = app.music_token(USER_PRIME, scope).await;
        let v1 = app.v1(&token);
        let body = json!({"name": format!("Ben {scope}"), "visibility": "PRIVATE", "playbackVisibility": "PUBLIC"});
        let r = ok(&v1.put("/v1/me", &body).await);
        assert_eq!(r["updateUser"]["name"], body["name"], "{scope}");
        let me = v1.data("/v1/me").await;
        assert_eq!(me["user"]["name"], body["name"], "{scope}");
    }
}

// ---- step 6: the customer's music account -----------------------------------------------------------

#[tokio::test]
async fn a_customer_without_a_music_account_is_403_auth_no_music_account_found_with_url() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_NO_MUSIC, ALL_MUSIC).await;
    for path in [track_path().as_str(), "/v1/me", "/v1/me/playlists", "/v1/search?query=love"] {
        let r = app.v1(&token).get(path).await;
        assert_v1_error_with(&r, 403, "AUTH_NO_MUSIC_ACCOUNT_FOUND", NO_MUSIC, Some("https://music.amazon.com"));
    }
}

// ---- order ------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_request_failing_two_steps_gets_the_earlier_steps_error() {
    let app = TestApp::spawn().await;
    let catalog_only = app.music_token(USER_UNLIMITED, "music::catalog").await;
    let no_music = app.music_token(USER_NO_MUSIC, "music::catalog").await;
    let p = "/v1/me/playlists";

    // 1 before 4: no Authorization and no x-api-key.
    assert_v1_error(&app.v1_raw("GET", p, &[], None).await, 401, "INVALID_AUTH_TYPE", NO_AUTH);
    // 2 before 4.
    assert_v1_error(
        &app.v1_raw("GET", p, &[("authorization", "Bearer ")], None).await,
        401,
        "INVALID_AUTH_TOKEN",
        EMPTY,
    );
    // 3 before 4.
    let r = app.v1_raw("GET", p, &[("authorization", "Bearer nope"), ("x-api-key", SPEAKER_PROFILE)], None).await;
    assert_v1_error(&r, 401, "INVALID_ACCESS_TOKEN", INVALID);
    // 4 before 5: a wrong key and a missing scope.
    let auth = format!("Bearer {catalog_only}");
    let r = app.v1_raw("GET", p, &[("authorization", &auth), ("x-api-key", SPEAKER_PROFILE)], None).await;
    assert_v1_error(
        &r,
        403,
        "ACCESS_DENIED",
        &format!(
            "Security profile {SPEAKER_PROFILE} is not enabled for the Amazon Music API; it must be enabled by the Amazon Music team."
        ),
    );
    // 5 before 6: a missing scope and no music account.
    let r = app.v1(&no_music).get(p).await;
    assert_v1_error(
        &r,
        403,
        "ACCESS_DENIED",
        &scope_denied("music::library:read", "music::catalog", "music::library:read"),
    );
    // 6 before the route: no music account and an unknown id.
    let r = app.v1(&no_music).get("/v1/tracks/B000000000").await;
    assert_eq!(v1_error_message(&r, 403, "AUTH_NO_MUSIC_ACCOUNT_FOUND"), NO_MUSIC);
}

#[tokio::test]
async fn auth_errors_come_before_bad_bodies_bad_parameters_and_unknown_ids() {
    let app = TestApp::spawn().await;
    let catalog_only = app.music_token(USER_UNLIMITED, "music::catalog").await;
    // A bad body on a route the token may not call: the scope error, not 400.
    let r = app.v1(&catalog_only).post("/v1/playlists", &json!({"nonsense": true})).await;
    assert_v1_error(&r, 403, "ACCESS_DENIED", &scope_denied("music::library", "music::catalog", "music::library"));
    let r = app.v1_raw("POST", "/v1/search/tracks", &[("x-api-key", API_KEY)], Some("{not json")).await;
    assert_v1_error(&r, 401, "INVALID_AUTH_TYPE", NO_AUTH);
    let r = app.v1_raw("GET", "/v1/tracks?ids=", &[("authorization", "Bearer x")], None).await;
    assert_v1_error(&r, 401, "INVALID_ACCESS_TOKEN", INVALID);
    let r = app.v1_raw("GET", "/v1/tracks/B000000000", &[], None).await;
    assert_v1_error(&r, 401, "INVALID_AUTH_TYPE", NO_AUTH);
    let r = app.v1_raw("GET", "/v1/me/playlists?limit=0", &[], None).await;
    assert_v1_error(&r, 401, "INVALID_AUTH_TYPE", NO_AUTH);
}

// ---- RFC 6750 §3: the challenge on every 401 --------------------------------------------------------

/// A case of the challenge test: what, the path, the headers, the status and the challenge expected.
type ChallengeCase<'a> = (&'a str, String, Vec<(&'static str, String)>, u16, Option<&'a str>);

#[tokio::test]
async fn every_401_of_every_family_carries_the_bearer_challenge_and_other_answers_none() {
    let app = TestApp::spawn().await;
    let bare = Some(r#"Bearer realm="Amazon Music""#);
    let refused = Some(r#"Bearer realm="Amazon Music", error="invalid_token""#);
    let token = app.music_token(USER_UNLIMITED, "music::catalog amazon_music:access").await;
    let bearer = format!("Bearer {token}");
    let send = |path: String, headers: Vec<(&'static str, String)>| {
        let mut req = app.http.get(app.url(&path));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        app.send(req)
    };
    let key = ("x-api-key", API_KEY.to_owned());
    let device = ("x-amzn-device-id", "phone-1".to_owned());
    let cases: Vec<ChallengeCase<'_>> = vec![
        // V1: no token, another scheme, an empty bearer: no token was judged.
        ("v1 none", track_path(), vec![key.clone()], 401, bare),
        ("v1 basic", track_path(), vec![key.clone(), ("authorization", "Basic dXNlcjpwYXNz".into())], 401, bare),
        ("v1 empty", track_path(), vec![key.clone(), ("authorization", "Bearer ".into())], 401, bare),
        // A token sent and refused.
        ("v1 garbage", track_path(), vec![key.clone(), ("authorization", "Bearer Atza|garbage".into())], 401, refused),
        ("v1 ok", track_path(), vec![key.clone(), ("authorization", bearer.clone())], 200, None),
        // A 403 is no 401: no challenge.
        ("v1 403", track_path(), vec![("authorization", bearer.clone())], 403, None),
        // V2: the device id is checked before the token, so its 401 judged no token.
        ("v2 no device", "/v2/albums/top?first=1".into(), vec![("authorization", bearer.clone())], 401, bare),
        ("v2 none", "/v2/albums/top?first=1".into(), vec![device.clone()], 401, bare),
        (
            "v2 refused",
            "/v2/albums/top?first=1".into(),
            vec![device.clone(), ("authorization", "Bearer Atza|x".into())],
            401,
            refused,
        ),
        ("v2 ok", "/v2/albums/top?first=1".into(), vec![device.clone(), ("authorization", bearer.clone())], 200, None),
        // The Device API.
        ("device none", "/device/".into(), vec![], 401, bare),
        ("device refused", "/device/".into(), vec![("authorization", "Bearer Atzr|x".into())], 401, refused),
        ("device ok", "/device/".into(), vec![("authorization", bearer.clone())], 200, None),
    ];
    for (what, path, headers, status, challenge) in cases {
        let r = send(path, headers).await;
        assert_eq!(r.status, status, "{what}: {}", r.text);
        assert_eq!(r.header("www-authenticate"), challenge, "{what}");
    }
    // A fault that answers 401 speaks for the token it refuses.
    app.admin(
        "POST",
        "/__admin/faults",
        json!({"route": "GET /v1/tracks/*", "error": "INVALID_ACCESS_TOKEN", "count": 1}),
    )
    .await;
    let r = send(track_path(), vec![key.clone(), ("authorization", bearer.clone())]).await;
    assert_eq!((r.status, r.header("www-authenticate")), (401, refused));
}
