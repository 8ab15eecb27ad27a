//! Shared LWA flows and wire-shape assertions for the LWA test modules: getting an authorization code
//! through `/ap/oa` with auto-consent, exchanging it, running a code pair, moving the virtual clock.

#![allow(dead_code)]

use serde_json::{Value, json};

use crate::support::*;

/// `/auth/o2/token`.
pub const TOKEN: &str = "/auth/o2/token";
/// `/auth/O2/create/codepair`, spelled as the AVS SDK spells it.
pub const CODEPAIR: &str = "/auth/O2/create/codepair";
/// The RFC 8628 grant type, an alias of LWA's bare `device_code`.
pub const DEVICE_URN: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// A PKCE verifier (RFC 7636 appendix B) and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE_S256: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The JSON object's keys, in the order they came on the wire (serde_json `preserve_order`).
pub fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().map(String::as_str).collect()
}

/// LWA's response headers: JSON with charset, no caching, a UUID request id.
pub fn assert_lwa_headers(r: &Resp) {
    assert_eq!(r.header("content-type"), Some("application/json;charset=UTF-8"), "body: {}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    let id = r.header("x-amzn-requestid").expect("x-amzn-RequestId header");
    let parsed = uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("x-amzn-RequestId {id:?} is not a UUID: {e}"));
    assert_eq!(parsed.hyphenated().to_string(), id, "request id in canonical lowercase hyphenated form");
}

/// `prefix` + at least 350 base64url characters, at most 2048 bytes in all.
pub fn assert_token_format(token: &str, prefix: &str) {
    let body = token.strip_prefix(prefix).unwrap_or_else(|| panic!("{token:.20}… does not start with {prefix}"));
    assert!(body.len() >= 350, "token body is {} chars", body.len());
    assert!(token.len() <= 2048, "token is {} bytes", token.len());
    assert!(body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "not base64url: {body}");
}

/// A 200 token response for a customer grant: exact keys in LWA's order, LWA headers, token formats.
pub fn assert_user_token_response(r: &Resp) -> Value {
    assert_eq!(r.status, 200, "body: {}", r.text);
    assert_lwa_headers(r);
    let v = r.json();
    assert_eq!(keys(&v), ["access_token", "refresh_token", "token_type", "expires_in"], "{}", r.text);
    assert_token_format(v["access_token"].as_str().unwrap(), "Atza|");
    assert_token_format(v["refresh_token"].as_str().unwrap(), "Atzr|");
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], json!(3600));
    v
}

/// A string field of a JSON value.
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("no string {key:?} in {v}"))
}

/// A query parameter of a URL (decoded).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("bad URL {url}: {e}"));
    parsed.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Percent-encodes a value for a query string (`|` → `%7C`).
pub fn enc(t: &str) -> String {
    url::form_urlencoded::byte_serialize(t.as_bytes()).collect()
}

impl TestApp {
    /// Turns auto-consent on in the session under `prefix` (`""` or `/s/NAME`).
    pub async fn auto_consent(&self, prefix: &str) {
        self.admin("PUT", &format!("{prefix}/__admin/settings"), json!({"auto_consent": true})).await;
    }

    /// Changes settings in the session under `prefix`.
    pub async fn settings(&self, prefix: &str, patch: Value) -> Value {
        self.admin("PUT", &format!("{prefix}/__admin/settings"), patch).await
    }

    /// Freezes the default session's clock.
    pub async fn freeze(&self) {
        self.admin("POST", "/__admin/clock/freeze", json!({})).await;
    }

    /// Moves the default session's clock.
    pub async fn advance(&self, seconds: i64) {
        self.admin("POST", "/__admin/clock/advance", json!({"seconds": seconds})).await;
    }

    /// `/ap/oa` with auto-consent on, in the session under `prefix`; returns the `code` of the 302.
    /// `extra` adds parameters (PKCE, state).
    pub async fn code_in(
        &self,
        prefix: &str,
        client: &str,
        redirect: &str,
        scope: &str,
        extra: &[(&str, &str)],
    ) -> String {
        self.auto_consent(prefix).await;
        let mut q =
            vec![("client_id", client), ("response_type", "code"), ("redirect_uri", redirect), ("scope", scope)];
        q.extend_from_slice(extra);
        let r = self.send(self.http.get(self.url(&format!("{prefix}/ap/oa"))).query(&q)).await;
        assert_eq!(r.status, 302, "body: {}", r.text);
        query_param(r.location(), "code").unwrap_or_else(|| panic!("no code in {}", r.location()))
    }

    /// [`TestApp::code_in`] in the default session.
    pub async fn code(&self, client: &str, redirect: &str, scope: &str, extra: &[(&str, &str)]) -> String {
        self.code_in("", client, redirect, scope, extra).await
    }

    /// An authorization code for the confidential web client, exchanged with its secret.
    pub async fn web_tokens_in(&self, prefix: &str, scope: &str) -> Value {
        let code = self.code_in(prefix, WEB_CLIENT, WEB_RETURN, scope, &[]).await;
        let r = self
            .post_form(
                &format!("{prefix}{TOKEN}"),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", WEB_RETURN),
                    ("client_id", WEB_CLIENT),
                    ("client_secret", WEB_SECRET),
                ],
            )
            .await;
        assert_user_token_response(&r)
    }

    /// [`TestApp::web_tokens_in`] in the default session.
    pub async fn web_tokens(&self, scope: &str) -> Value {
        self.web_tokens_in("", scope).await
    }

    /// A refresh request with the web client's credentials.
    pub async fn refresh_web(&self, refresh_token: &str) -> Resp {
        self.post_form(
            TOKEN,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", WEB_CLIENT),
                ("client_secret", WEB_SECRET),
            ],
        )
        .await
    }

    /// A code pair for `client`; panics unless it is a 200.
    pub async fn codepair(&self, client: &str, scope: &str) -> Value {
        let r = self
            .post_form(CODEPAIR, &[("response_type", "device_code"), ("client_id", client), ("scope", scope)])
            .await;
        assert_eq!(r.status, 200, "body: {}", r.text);
        r.json()
    }

    /// A device poll with the bare LWA grant type and no client id.
    pub async fn poll(&self, pair: &Value) -> Resp {
        self.post_form(
            TOKEN,
            &[
                ("grant_type", "device_code"),
                ("device_code", s(pair, "device_code")),
                ("user_code", s(pair, "user_code")),
            ],
        )
        .await
    }

    /// Approves a user code as the first fixture user.
    pub async fn approve(&self, user_code: &str) -> Value {
        self.admin("POST", "/__admin/device/approve", json!({"user_code": user_code})).await
    }

    /// Code pair → approve → tokens, for `client` and `scope`.
    pub async fn device_tokens(&self, client: &str, scope: &str) -> Value {
        let pair = self.codepair(client, scope).await;
        self.approve(s(&pair, "user_code")).await;
        assert_user_token_response(&self.poll(&pair).await)
    }

    /// `GET /user/profile` with a Bearer token.
    pub async fn profile(&self, access_token: &str) -> Resp {
        self.send(self.http.get(self.url("/user/profile")).bearer_auth(access_token)).await
    }
}
