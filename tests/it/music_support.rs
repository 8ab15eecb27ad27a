//! Shared helpers for the Music API V1 test modules: tokens for a chosen customer and scopes (device flow
//! with an admin approval, or `/ap/oa` with auto-consent), V1 calls with `Authorization` and `x-api-key`,
//! and exact assertions for the V1 success and error envelopes.

#![allow(dead_code)]

use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::support::*;

/// The `x-api-key` of every V1 call: the music-enabled security profile.
pub const API_KEY: &str = MUSIC_PROFILE;

/// Every Music API scope the music profile allows.
pub const ALL_MUSIC: &str = "music::catalog music::library music::favorites music::history music::profile music::recommendation music::playback";

/// The documented `BAD_REQUEST` message (`music-api.md` §6.1).
pub const MALFORMED: &str = "Malformed request. Check for missing query parameter.";

/// Whether `s` is a UUID in lowercase hyphenated form.
pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok_and(|u| u.hyphenated().to_string() == s)
}

/// Whether `s` is an ASIN-style catalog id: `^B[0-9A-Z]{9}$`.
pub fn is_asin(s: &str) -> bool {
    s.len() == 10 && s.starts_with('B') && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// Whether `s` is a music user id: 26 characters of `[a-z0-9]`.
pub fn is_user_id(s: &str) -> bool {
    s.len() == 26 && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// Whether `s` is `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn is_iso_ms(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// The string at a JSON pointer (panics with the value when absent).
pub fn ptr<'a>(v: &'a Value, pointer: &str) -> &'a Value {
    v.pointer(pointer).unwrap_or_else(|| panic!("no {pointer} in {v}"))
}

/// The string at a JSON pointer.
pub fn ptr_str<'a>(v: &'a Value, pointer: &str) -> &'a str {
    ptr(v, pointer).as_str().unwrap_or_else(|| panic!("{pointer} is not a string in {v}"))
}

/// A connection's node ids (`edges[].node.id`), in order.
pub fn node_ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges in {connection}"))
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap_or_else(|| panic!("edge without node.id: {e}")).to_owned())
        .collect()
}

/// A 200 in the V1 success envelope: `Content-Type: application/json`, exactly `{"data": …}`; returns `data`.
#[track_caller]
pub fn ok(r: &Resp) -> Value {
    assert_eq!(r.status, 200, "body: {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"), "{:?}", r.headers);
    let v = r.json();
    assert_eq!(keys(&v), ["data"], "{}", r.text);
    v["data"].clone()
}

/// A V1 error: status, `Content-Type: application/json`, and exactly
/// `{"error":{"status":"<status>","code":…,"message":…,["url":…,]"reference":"<uuid>"}}`.
#[track_caller]
pub fn assert_v1_error_with(r: &Resp, status: u16, code: &str, message: &str, url: Option<&str>) {
    assert_eq!(r.status, status, "body: {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"), "{:?}", r.headers);
    let v = r.json();
    assert_eq!(keys(&v), ["error"], "{}", r.text);
    let e = &v["error"];
    let reference = e["reference"].as_str().unwrap_or_else(|| panic!("no reference in {}", r.text));
    assert!(is_uuid(reference), "reference {reference:?} is not a UUID");
    let mut want = json!({"status": status.to_string(), "code": code, "message": message});
    if let Some(u) = url {
        want["url"] = json!(u);
    }
    want["reference"] = json!(reference);
    assert_eq!(serde_json::to_string(e).unwrap(), serde_json::to_string(&want).unwrap(), "status {status}");
}

/// [`assert_v1_error_with`] without `url`.
#[track_caller]
pub fn assert_v1_error(r: &Resp, status: u16, code: &str, message: &str) {
    assert_v1_error_with(r, status, code, message, None);
}

/// A V1 error whose message is checked by the caller: everything else exactly; returns the message.
#[track_caller]
pub fn v1_error_message(r: &Resp, status: u16, code: &str) -> String {
    let e = &r.json()["error"];
    let message = e["message"].as_str().unwrap_or_else(|| panic!("no message: {}", r.text)).to_owned();
    assert_v1_error_with(r, status, code, &message, e["url"].as_str());
    message
}

/// A V1 client for one access token.
pub struct V1<'a> {
    pub app: &'a TestApp,
    pub token: String,
    /// `""` for the default session, `/s/NAME` otherwise.
    pub prefix: String,
}

impl V1<'_> {
    /// A request with `Authorization: Bearer <token>` and `x-api-key`, and a JSON body if given.
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        self.call_with(method, path, &[], body).await
    }

    /// [`V1::call`] with more headers (the playback routes' device headers).
    pub async fn call_with(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Resp {
        let url = self.app.url(&format!("{}{path}", self.prefix));
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.app.http.request(m, url).bearer_auth(&self.token).header("x-api-key", API_KEY);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        self.app.send(req).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.call("POST", path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.call("PUT", path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.call("PATCH", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str, body: Option<&Value>) -> Resp {
        self.call("DELETE", path, body).await
    }

    /// `GET` that must answer 200 in the envelope; returns `data`.
    pub async fn data(&self, path: &str) -> Value {
        ok(&self.get(path).await)
    }

    /// Follows `pageInfo.token` from `path` (which has no query or ends in `?…`) until the last page, with
    /// `limit` per page; `conn` picks the connection out of `data`. Returns every node id, and checks each
    /// page's size and that the last page's `pageInfo` is exactly `{"hasNextPage":false}`.
    pub async fn walk(&self, path: &str, limit: usize, conn: impl Fn(&Value) -> Value) -> Vec<String> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let url = match &cursor {
                None => format!("{path}{sep}limit={limit}"),
                Some(c) => format!("{path}{sep}limit={limit}&cursor={}", enc(c)),
            };
            let data = self.data(&url).await;
            let c = conn(&data);
            let page = node_ids(&c);
            assert_eq!(c["edgeCount"], json!(page.len()), "{c}");
            assert!(page.len() <= limit, "{} items on a page of {limit}", page.len());
            ids.extend(page.iter().cloned());
            if c["pageInfo"]["hasNextPage"] == json!(true) {
                assert_eq!(page.len(), limit, "only the last page may be short");
                assert_eq!(keys(&c["pageInfo"]), ["hasNextPage", "token"]);
                cursor = Some(ptr_str(&c, "/pageInfo/token").to_owned());
            } else {
                assert_eq!(c["pageInfo"], json!({"hasNextPage": false}), "the last page's pageInfo");
                return ids;
            }
        }
        panic!("more than 10000 pages");
    }
}

impl TestApp {
    /// A V1 client for `token` in the default session.
    pub fn v1(&self, token: &str) -> V1<'_> {
        V1 { app: self, token: token.to_owned(), prefix: String::new() }
    }

    /// A code pair for the music profile's device client, approved as `user`; returns the token response.
    pub async fn music_tokens(&self, user: &str, scope: &str) -> Value {
        let pair = self.codepair(DEVICE_CLIENT, scope).await;
        let body = json!({"user_code": s(&pair, "user_code"), "user_id": user});
        self.admin("POST", "/__admin/device/approve", body).await;
        assert_user_token_response(&self.poll(&pair).await)
    }

    /// An access token of `user` with `scope`, through the device flow.
    pub async fn music_token(&self, user: &str, scope: &str) -> String {
        s(&self.music_tokens(user, scope).await, "access_token").to_owned()
    }

    /// A V1 client for `user` with every music scope.
    pub async fn music(&self, user: &str) -> V1<'_> {
        let t = self.music_token(user, ALL_MUSIC).await;
        self.v1(&t)
    }

    /// A request to a V1 path with exactly the given headers (no defaults) and an optional raw JSON body.
    pub async fn v1_raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(m, self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_owned());
        }
        self.send(req).await
    }
}

/// The catalog the test servers serve: `MockAmazon::start` generates it from seed 1 with the default size, so
/// tests pick real ids from the same generator instead of hard-coding generated values.
pub fn catalog() -> &'static amazon_music_mock::catalog::Catalog {
    static CATALOG: std::sync::OnceLock<amazon_music_mock::catalog::Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| {
        amazon_music_mock::catalog::Catalog::generate(1, amazon_music_mock::server::DEFAULT_CATALOG_SIZE)
    })
}

/// The id of the n-th catalog track.
pub fn track_id(n: usize) -> String {
    catalog().tracks()[n].id.as_str().to_owned()
}

/// The id of the n-th catalog album.
pub fn album_id(n: usize) -> String {
    catalog().albums()[n].id.as_str().to_owned()
}

/// The id of the n-th catalog artist.
pub fn artist_id(n: usize) -> String {
    catalog().artists()[n].id.as_str().to_owned()
}

/// The id of the n-th curated (catalog) playlist.
pub fn catalog_playlist_id(n: usize) -> String {
    catalog().playlists()[n].id.as_str().to_owned()
}

/// The id of the n-th podcast show.
pub fn show_id(n: usize) -> String {
    catalog().podcast_shows()[n].id.to_string()
}

/// The id of the n-th podcast episode.
pub fn episode_id(n: usize) -> String {
    catalog().podcast_episodes()[n].id.to_string()
}
