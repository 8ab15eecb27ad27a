//! The test harness: a running mock plus typed helpers. Every test gets its own server (port 0), so
//! tests run in parallel and see nothing of each other.

#![allow(dead_code)]

use amazon_music_mock::{MockAmazon, ServerConfig};
use reqwest::redirect::Policy;
use serde_json::Value;

/// The music-enabled profile's confidential web client.
pub const WEB_CLIENT: &str = "amzn1.application-oa2-client.71722f244f58d669cbee3772a0770217";
pub const WEB_SECRET: &str = "amzn1.oa2-cs.v1.5d05ad7853c1f76eb97706ca828bca0385813dbad3c681d06bd2aa399dac946d";
pub const WEB_RETURN: &str = "http://127.0.0.1:9090/cb";
/// The music-enabled profile's public PKCE client.
pub const PUBLIC_CLIENT: &str = "amzn1.application-oa2-client.21a278f64f7fd633dbdde131ca3766e4";
pub const PUBLIC_RETURN: &str = "http://127.0.0.1:8765/callback";
/// The music-enabled profile's CBL device client.
pub const DEVICE_CLIENT: &str = "amzn1.application-oa2-client.d58e72e310275dff6c15c0c8e9df4696";
/// The music-enabled security profile (the Music API's x-api-key).
pub const MUSIC_PROFILE: &str = "amzn1.application.30877432d1026706d7e805da846a32c3";
/// The profile NOT enabled for music, and its one client (return URL + CBL).
pub const SPEAKER_PROFILE: &str = "amzn1.application.bb81e3c29b62179273c8eb5bb682575e";
pub const SPEAKER_CLIENT: &str = "amzn1.application-oa2-client.11a11f5125227c3712da86a78c49ea20";
pub const SPEAKER_SECRET: &str = "amzn1.oa2-cs.v1.c59c0996daeee6f529a279764017f2ed6cfc7403d75e173e4eaede5fe878f78e";
/// The SP-API style client allowed to use client_credentials.
pub const SELLER_CLIENT: &str = "amzn1.application-oa2-client.e32684b27b95e909348334896a68f812";
pub const SELLER_SECRET: &str = "amzn1.oa2-cs.v1.2978aa2447c462ddaed16dc0cf0b9cd7f78df0cac5e40c02d4e518ca6eaac8d8";
/// ask-cli's public client.
pub const ASK_CLIENT: &str = "amzn1.application-oa2-client.aad322b5faab44b980c8f87f94fbac56";
pub const ASK_SECRET: &str = "1642d8869b829dda3311d6c6539f3ead55192e3fc767b9071c888e60ef151cf9";
/// Fixture users.
pub const USER_UNLIMITED: &str = "amzn1.account.I7GAS664VLDQ6HEZ7EDJJTFPH2OY";
pub const USER_PRIME: &str = "amzn1.account.44T3TDGNNQFKPLEKA246SCOSS5EO";
pub const USER_FREE: &str = "amzn1.account.QM3HOJRJEDKTS4H5TZR74FC3UQBF";
pub const USER_NO_MUSIC: &str = "amzn1.account.OBRCL64RL37F6W2VUGKV27SZC5FU";

/// A running mock and an HTTP client that does not follow redirects.
pub struct TestApp {
    pub mock: MockAmazon,
    pub http: reqwest::Client,
}

/// A response read to the end.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    /// The body as JSON (panics with the body text when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Location` header.
    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location header; status {} body {}", self.status, self.text))
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::around(MockAmazon::start().await)
    }

    /// A mock started with a given configuration (its `bind` is used as is).
    pub async fn spawn_with(cfg: ServerConfig) -> Self {
        Self::around(MockAmazon::start_with(cfg).await)
    }

    /// A mock over a state the test keeps a clone of (see `MockAmazon::start_with_state`).
    pub async fn spawn_with_state(state: amazon_music_mock::test_support::AppState) -> Self {
        Self::around(MockAmazon::start_with_state(state).await)
    }

    fn around(mock: MockAmazon) -> Self {
        let http = reqwest::Client::builder().redirect(Policy::none()).build().expect("client");
        TestApp { mock, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.mock.uri(), path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let r = req.send().await.expect("request sent");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body read");
        Resp { status, headers, text }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        self.send(self.http.post(self.url(path)).form(form)).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    /// An admin call that must succeed; returns its JSON.
    pub async fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        let url = self.url(path);
        let req = match method {
            "GET" => self.http.get(url),
            "PUT" => self.http.put(url).json(&body),
            _ => self.http.post(url).json(&body),
        };
        let r = self.send(req).await;
        assert!((200..300).contains(&r.status), "{method} {path} -> {} {}", r.status, r.text);
        r.json()
    }
}

/// Asserts an LWA JSON error: status, exact body, and LWA's headers.
pub fn assert_lwa_error(r: &Resp, status: u16, error: &str, description: &str) {
    assert_eq!(r.status, status, "body: {}", r.text);
    assert_eq!(r.text, serde_json::json!({"error_description": description, "error": error}).to_string());
    assert_eq!(r.header("content-type"), Some("application/json;charset=UTF-8"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
}

/// A directory of its own under the system temp dir, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("amm-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
