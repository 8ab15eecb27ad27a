//! A real OAuth 2.0 client nobody here wrote, run unmodified against the mock: the `oauth2` crate 5.x with
//! its reqwest 0.12 HTTP client (spec `lwa.md` §13.2, §14).
//!
//! Authorization code + PKCE (S256), refresh, client_credentials and the RFC 8628 device flow all work.
//! For the device flow, the crate sends the URN grant type
//! (`urn:ietf:params:oauth:grant-type:device_code`), which the mock accepts as an alias of LWA's bare
//! `device_code` (§13.4), and it reads LWA's code-pair response as is (`verification_uri`, integer
//! `interval` and `expires_in`). The one addition it needs is `response_type=device_code`, which LWA's
//! code-pair endpoint requires and RFC 8628 does not define: `add_extra_param` supplies it.

use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, DeviceAuthorizationUrl, PkceCodeChallenge,
    RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardDeviceAuthorizationResponse, TokenResponse, TokenUrl,
};
use serde_json::json;

use crate::lwa_support::*;
use crate::support::*;

/// An HTTP client as the oauth2 docs recommend: no redirects followed.
fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

#[tokio::test]
async fn oauth2_crate_completes_authorization_code_with_pkce_s256_and_refreshes() {
    let app = TestApp::spawn().await;
    app.auto_consent("").await;
    let client = BasicClient::new(ClientId::new(WEB_CLIENT.into()))
        .set_client_secret(ClientSecret::new(WEB_SECRET.into()))
        .set_auth_uri(AuthUrl::new(format!("{}/ap/oa", app.mock.uri())).unwrap())
        .set_token_uri(TokenUrl::new(format!("{}/auth/o2/token", app.mock.uri())).unwrap())
        .set_redirect_uri(RedirectUrl::new(WEB_RETURN.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("postal_code".into()))
        .set_pkce_challenge(challenge)
        .url();
    // The "browser": auto-consent answers the authorize URL with the redirect.
    let r = app.send(app.http.get(auth_url.as_str())).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let location = r.location();
    assert!(location.starts_with(&format!("{WEB_RETURN}?code=")), "{location}");
    assert_eq!(query_param(location, "state").as_deref(), Some(csrf.secret().as_str()));
    assert_eq!(query_param(location, "scope").as_deref(), Some("postal_code profile"));
    let code = query_param(location, "code").unwrap();

    let http = http();
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code exchange failed: {e:?}"));
    let access = token.access_token().secret().clone();
    assert_token_format(&access, "Atza|");
    assert_eq!(token.token_type(), &oauth2::basic::BasicTokenType::Bearer);
    assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
    assert!(token.scopes().is_none(), "LWA code responses carry no scope");
    let refresh = token.refresh_token().expect("a refresh token").clone();
    let profile = app.profile(&access).await;
    assert_eq!(profile.json()["postal_code"], "98052");

    let refreshed = client
        .exchange_refresh_token(&RefreshToken::new(refresh.secret().clone()))
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("refresh failed: {e:?}"));
    assert_ne!(refreshed.access_token().secret(), &access);
    assert_eq!(refreshed.refresh_token().map(|r| r.secret()), Some(refresh.secret()));
    assert_eq!(refreshed.expires_in(), Some(Duration::from_secs(3600)));

    // The crate sends its credentials with HTTP Basic by default: the journal shows it.
    let journal = app.admin("GET", "/__admin/requests", json!({})).await;
    let exchange = journal.as_array().unwrap().iter().find(|e| e["path"] == "/auth/o2/token").unwrap().clone();
    let auth = exchange["headers"].as_array().unwrap().iter().find(|h| h[0] == "authorization").unwrap();
    assert!(auth[1].as_str().unwrap().starts_with("Basic [redacted:"), "{auth}");
}

#[tokio::test]
async fn oauth2_crate_public_client_with_pkce_and_no_secret_gets_a_refresh_token() {
    let app = TestApp::spawn().await;
    app.auto_consent("").await;
    let client = BasicClient::new(ClientId::new(PUBLIC_CLIENT.into()))
        .set_auth_uri(AuthUrl::new(format!("{}/ap/oa", app.mock.uri())).unwrap())
        .set_token_uri(TokenUrl::new(format!("{}/auth/O2/token", app.mock.uri())).unwrap())
        .set_redirect_uri(RedirectUrl::new(PUBLIC_RETURN.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let r = app.send(app.http.get(auth_url.as_str())).await;
    let code = query_param(r.location(), "code").unwrap();
    let http = http();
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let refresh = token.refresh_token().expect("public clients get refresh tokens by default");
    let again = client.exchange_refresh_token(refresh).request_async(&http).await.unwrap();
    assert_eq!(again.refresh_token().unwrap().secret(), refresh.secret());
}

#[tokio::test]
async fn oauth2_crate_client_credentials_gets_an_app_token_with_scope() {
    let app = TestApp::spawn().await;
    let client = BasicClient::new(ClientId::new(SELLER_CLIENT.into()))
        .set_client_secret(ClientSecret::new(SELLER_SECRET.into()))
        .set_token_uri(TokenUrl::new(format!("{}/auth/o2/token", app.mock.uri())).unwrap());
    let http = http();
    let token = client
        .exchange_client_credentials()
        .add_scope(Scope::new("sellingpartnerapi::notifications".into()))
        .add_scope(Scope::new("sellingpartnerapi::migration".into()))
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("client_credentials failed: {e:?}"));
    assert_token_format(token.access_token().secret(), "Atc|");
    assert!(token.refresh_token().is_none());
    let mut scopes: Vec<String> = token.scopes().unwrap().iter().map(|s| s.to_string()).collect();
    scopes.sort();
    assert_eq!(scopes, ["sellingpartnerapi::migration", "sellingpartnerapi::notifications"]);

    // LWA's error bodies parse as standard OAuth errors.
    let wrong = BasicClient::new(ClientId::new(SELLER_CLIENT.into()))
        .set_client_secret(ClientSecret::new(WEB_SECRET.into()))
        .set_token_uri(TokenUrl::new(format!("{}/auth/o2/token", app.mock.uri())).unwrap());
    match wrong
        .exchange_client_credentials()
        .add_scope(Scope::new("sellingpartnerapi::migration".into()))
        .request_async(&http)
        .await
    {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(e.error(), &BasicErrorResponseType::InvalidClient);
            assert_eq!(e.error_description().map(String::as_str), Some("Client authentication failed"));
        }
        other => panic!("expected invalid_client, got {other:?}"),
    }
    match client.exchange_client_credentials().add_scope(Scope::new("music::catalog".into())).request_async(&http).await
    {
        Err(RequestTokenError::ServerResponse(e)) => assert_eq!(e.error(), &BasicErrorResponseType::InvalidScope),
        other => panic!("expected invalid_scope, got {other:?}"),
    }
}

#[tokio::test]
async fn oauth2_crate_device_flow_works_through_the_urn_alias() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let client = BasicClient::new(ClientId::new(DEVICE_CLIENT.into()))
        .set_token_uri(TokenUrl::new(format!("{}/auth/O2/token", app.mock.uri())).unwrap())
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(format!("{}/auth/O2/create/codepair", app.mock.uri())).unwrap(),
        );
    let http = http();
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scope(Scope::new("profile".into()))
        .add_extra_param("response_type", "device_code")
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code pair failed: {e:?}"));
    assert_eq!(details.verification_uri().as_str(), "https://amazon.com/us/code");
    assert_eq!(details.interval(), Duration::from_secs(30));
    assert_eq!(details.expires_in(), Duration::from_secs(600));
    let user_code = details.user_code().secret().clone();
    assert_eq!(user_code.len(), 6);

    // The crate sleeps `interval` between polls through this function: the "sleep" is where the customer
    // approves, and it moves the virtual clock instead of waiting.
    let (base, admin_http) = (app.mock.uri(), app.http.clone());
    let sleeps = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = sleeps.clone();
    let sleep = move |d: Duration| {
        let (base, admin_http, user_code, counter) =
            (base.clone(), admin_http.clone(), user_code.clone(), counter.clone());
        async move {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let approve =
                admin_http.post(format!("{base}/__admin/device/approve")).json(&json!({"user_code": user_code}));
            let _ = approve.send().await.unwrap();
            let advance = json!({"seconds": d.as_secs()});
            admin_http.post(format!("{base}/__admin/clock/advance")).json(&advance).send().await.unwrap();
        }
    };
    let token = client
        .exchange_device_access_token(&details)
        .request_async(&http, sleep, None)
        .await
        .unwrap_or_else(|e| panic!("device token failed: {e:?}"));
    assert_eq!(sleeps.load(std::sync::atomic::Ordering::SeqCst), 1, "one authorization_pending, then the tokens");
    assert_token_format(token.access_token().secret(), "Atza|");
    assert!(token.refresh_token().is_some());
    assert_eq!(app.profile(token.access_token().secret()).await.json()["user_id"], USER_UNLIMITED);

    // The polls went out with the URN grant type.
    let journal = app.admin("GET", "/__admin/requests", json!({})).await;
    let grant_types: Vec<String> = journal
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"] == "/auth/o2/token")
        .map(|e| {
            e["params"].as_array().unwrap().iter().find(|p| p[0] == "grant_type").unwrap()[1]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(grant_types, [DEVICE_URN, DEVICE_URN]);
}

#[tokio::test]
async fn oauth2_crate_device_flow_reports_access_denied_and_strict_lwa_refuses_its_grant_type() {
    let app = TestApp::spawn().await;
    let client = BasicClient::new(ClientId::new(DEVICE_CLIENT.into()))
        .set_token_uri(TokenUrl::new(format!("{}/auth/o2/token", app.mock.uri())).unwrap())
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(format!("{}/auth/o2/create/codepair", app.mock.uri())).unwrap(),
        );
    let http = http();
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scope(Scope::new("profile".into()))
        .add_extra_param("response_type", "device_code")
        .request_async(&http)
        .await
        .unwrap();
    app.admin("POST", "/__admin/device/deny", json!({"user_code": details.user_code().secret()})).await;
    let no_sleep = |_d: Duration| async {};
    match client.exchange_device_access_token(&details).request_async(&http, no_sleep, None).await {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(e.error(), &oauth2::DeviceCodeErrorResponseType::AccessDenied);
        }
        other => panic!("expected access_denied, got {other:?}"),
    }

    app.settings("", json!({"strict_lwa": true})).await;
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scope(Scope::new("profile".into()))
        .add_extra_param("response_type", "device_code")
        .request_async(&http)
        .await
        .unwrap();
    app.approve(details.user_code().secret()).await;
    match client.exchange_device_access_token(&details).request_async(&http, no_sleep, None).await {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(
                e.error(),
                &oauth2::DeviceCodeErrorResponseType::Basic(BasicErrorResponseType::UnsupportedGrantType)
            );
        }
        other => panic!("expected unsupported_grant_type, got {other:?}"),
    }
}
