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

/// The V1 Track keys, in the doc example's order (§3.4).
pub const TRACK_KEYS: [&str; 13] = [
    "id",
    "audioQualities",
    "globalAsin",
    "title",
    "shortTitle",
    "duration",
    "album",
    "releaseDate",
    "isrc",
    "artists",
    "musicTerritory",
    "market",
    "eligibility",
];
/// The V1 Album keys (§3.4).
pub const ALBUM_KEYS: [&str; 15] = [
    "id",
    "audioQualities",
    "globalAsin",
    "title",
    "shortTitle",
    "duration",
    "url",
    "releaseDate",
    "availableMarkets",
    "artists",
    "eligibility",
    "parentalSettings",
    "tracks",
    "trackCount",
    "images",
];
/// The V1 Artist keys (§3.4).
pub const ARTIST_KEYS: [&str; 5] = ["id", "globalAsin", "name", "url", "images"];

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

/// A Music API client for one access token: `Authorization: Bearer` and the family's header on every call.
pub struct Api<'a> {
    pub app: &'a TestApp,
    pub token: String,
    /// `""` for the default session, `/s/NAME` otherwise.
    pub prefix: String,
    /// [`V1_HEADER`] or [`V2_HEADER`].
    pub header: (&'static str, &'static str),
}

/// A V1 client (`x-api-key`).
pub type V1<'a> = Api<'a>;
/// A V2 client (`X-Amzn-Device-Id`).
pub type V2<'a> = Api<'a>;

/// What V1 sends besides the token: the security profile id as `x-api-key`.
pub const V1_HEADER: (&str, &str) = ("x-api-key", API_KEY);

impl Api<'_> {
    /// A request with `Authorization: Bearer <token>` and the family's header, and a JSON body if given.
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        self.call_with(method, path, &[], body).await
    }

    /// [`Api::call`] with more headers (the playback routes' device headers).
    pub async fn call_with(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Resp {
        let url = self.app.url(&format!("{}{path}", self.prefix));
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.app.http.request(m, url).bearer_auth(&self.token).header(self.header.0, self.header.1);
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
        self.follow(path, ("limit", limit), "cursor", async |url| {
            let c = conn(&self.data(url).await);
            let page = node_ids(&c);
            assert_eq!(c["edgeCount"], json!(page.len()), "{c}");
            if c["pageInfo"]["hasNextPage"] == json!(true) {
                assert_eq!(keys(&c["pageInfo"]), ["hasNextPage", "token"]);
                (page, Some(ptr_str(&c, "/pageInfo/token").to_owned()))
            } else {
                assert_eq!(c["pageInfo"], json!({"hasNextPage": false}), "the last page's pageInfo");
                (page, None)
            }
        })
        .await
    }

    /// Reads `path` page after page: `size` as the page-size parameter, the cursor `page` returns as
    /// `cursor_name`, until `page` returns none. Checks that every page holds at most the page size and that
    /// only the last is short; returns every id in order.
    async fn follow(
        &self,
        path: &str,
        size: (&str, usize),
        cursor_name: &str,
        page: impl AsyncFn(&str) -> (Vec<String>, Option<String>),
    ) -> Vec<String> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (size_name, n) = size;
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let url = match &cursor {
                None => format!("{path}{sep}{size_name}={n}"),
                Some(c) => format!("{path}{sep}{size_name}={n}&{cursor_name}={}", enc(c)),
            };
            let (got, next) = page(&url).await;
            assert!(got.len() <= n, "{} items on a page of {n}", got.len());
            if next.is_some() {
                assert_eq!(got.len(), n, "only the last page may be short");
            }
            ids.extend(got);
            match next {
                Some(c) => cursor = Some(c),
                None => return ids,
            }
        }
        panic!("more than 10000 pages");
    }
}

impl TestApp {
    /// A V1 client for `token` in the default session.
    pub fn v1(&self, token: &str) -> V1<'_> {
        Api { app: self, token: token.to_owned(), prefix: String::new(), header: V1_HEADER }
    }

    /// A code pair for the music profile's device client, approved as `user`; returns the token response.
    pub async fn music_tokens(&self, user: &str, scope: &str) -> Value {
        let pair = self.codepair(DEVICE_CLIENT, scope).await;
        let body = json!({"user_code": s(&pair, "user_code"), "user_id": user});
        self.admin("POST", "/__admin/device/approve", body).await;
        assert_user_token_response(&self.poll(&pair).await)
    }

    /// [`TestApp::music_token`] in the session under `prefix` (`/s/NAME`).
    pub async fn music_token_in(&self, prefix: &str, user: &str, scope: &str) -> String {
        let form = [("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", scope)];
        let r = self.post_form(&format!("{prefix}{CODEPAIR}"), &form).await;
        assert_eq!(r.status, 200, "body: {}", r.text);
        let pair = r.json();
        let body = json!({"user_code": s(&pair, "user_code"), "user_id": user});
        self.admin("POST", &format!("{prefix}/__admin/device/approve"), body).await;
        let poll = [("grant_type", "device_code"), ("device_code", s(&pair, "device_code"))];
        let tokens = assert_user_token_response(&self.post_form(&format!("{prefix}{TOKEN}"), &poll).await);
        s(&tokens, "access_token").to_owned()
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

/// The catalog the test servers serve: `MockAmazon::start` generates it from seed 1 with the default size and
/// adds the embedded `fixtures/catalog.yaml`, so tests pick real ids (and orders) from the same catalog instead
/// of hard-coding generated values.
pub fn catalog() -> &'static amazon_music_mock::test_support::catalog::Catalog {
    static CATALOG: std::sync::OnceLock<amazon_music_mock::test_support::catalog::Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| {
        let (file, spec) = amazon_music_mock::test_support::CatalogFile::load(None).expect("embedded catalog.yaml");
        spec.build(&file, 1, amazon_music_mock::DEFAULT_CATALOG_SIZE).expect("the embedded catalog builds")
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

// ---- Web API V2 ------------------------------------------------------------------------------------

/// The `X-Amzn-Device-Id` the V2 client sends.
pub const DEVICE_ID: &str = "mock-device-7f3a9c";

/// Whether `s` is a trace id in the documented X-Ray form: `1-<8 hex>-<24 hex>`.
pub fn is_trace_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && parts[0] == "1"
        && parts[1].len() == 8
        && parts[2].len() == 24
        && parts[1..].iter().all(|p| p.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
}

/// A V2 error: status, `Content-Type: application/json`, and exactly `{"error":{"code","message","traceId"}}`.
#[track_caller]
pub fn assert_v2_error(r: &Resp, status: u16, code: &str, message: &str) {
    assert_eq!(r.status, status, "body: {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"), "{:?}", r.headers);
    let v = r.json();
    assert_eq!(keys(&v), ["error"], "{}", r.text);
    assert_eq!(keys(&v["error"]), ["code", "message", "traceId"], "{}", r.text);
    assert_eq!(v["error"]["code"], code, "{}", r.text);
    assert_eq!(v["error"]["message"], message, "{}", r.text);
    let trace = ptr_str(&v, "/error/traceId");
    assert!(is_trace_id(trace), "traceId {trace:?}");
}

/// A V2 error whose message the caller checks; returns the message.
#[track_caller]
pub fn v2_error_message(r: &Resp, status: u16, code: &str) -> String {
    let message = r.json()["error"]["message"].as_str().unwrap_or_else(|| panic!("no message: {}", r.text)).to_owned();
    assert_v2_error(r, status, code, &message);
    message
}

/// What V2 sends besides the token: `X-Amzn-Device-Id`.
pub const V2_HEADER: (&str, &str) = ("x-amzn-device-id", DEVICE_ID);

impl Api<'_> {
    /// A `GET` that must answer 200 with JSON; returns the body (unwrapped: V2 has no envelope).
    pub async fn ok(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/json"));
        r.json()
    }

    /// Follows V2's `nextToken` from `path` with `first` per page; returns every item's `id`. Checks that the list is
    /// exactly `{items[, nextToken]}`, that only the last page is short and that it has no `nextToken`.
    pub async fn walk_items(&self, path: &str, first: usize) -> Vec<String> {
        self.follow(path, ("first", first), "after", async |url| {
            let page = self.ok(url).await;
            let items = page["items"].as_array().unwrap_or_else(|| panic!("no items: {page}"));
            let ids = items.iter().map(|i| ptr_str(i, "/id").to_owned()).collect();
            match page.get("nextToken") {
                Some(t) => {
                    assert_eq!(keys(&page), ["items", "nextToken"]);
                    (ids, Some(t.as_str().expect("nextToken is a string").to_owned()))
                }
                None => {
                    assert_eq!(keys(&page), ["items"]);
                    (ids, None)
                }
            }
        })
        .await
    }
}

impl TestApp {
    /// A V2 client for `token` in the default session.
    pub fn v2(&self, token: &str) -> V2<'_> {
        Api { app: self, token: token.to_owned(), prefix: String::new(), header: V2_HEADER }
    }
}
