//! Where stream URLs point and how they are minted: the one place that knows the URL layout shared by the
//! playback routes (which hand URLs out) and the stream routes (which verify them).
//!
//! | URL | signed over |
//! |---|---|
//! | `{base}/dash/{asin}/manifest.mpd?q=SD,HD[&ps=…]&exp=…&sig=…` | `/dash/{asin}/` (the directory) |
//! | `{base}/dash/{asin}/{sd\|hd\|uhd}/init.mp4?<same query>` | `/dash/{asin}/` |
//! | `{base}/dash/{asin}/{sd\|hd\|uhd}/{n}.m4s?<same query>` (n from 1) | `/dash/{asin}/` |
//! | `{base}/stream/{asin}/{sd\|hd\|uhd}.{mp3\|flac}?[ps=…&]exp=…&sig=…` | the file's own path |
//!
//! `q` lists the renditions the listener may fetch (bound into the signature, so a Free listener cannot
//! edit an SD-only URL into an HD one). `ps` names the playback session the URL was minted for; the stream
//! routes check every request in one place (`stream_http::authorize`), which also applies the concurrency rule
//! (a pre-empted session may no longer stream) through `api::playback::stream_permit`.
//! Paths are signed without the `/s/{session}` prefix, which `base` carries.

use std::sync::Arc;

use axum::http::{HeaderMap, header};

use super::{DEFAULT_TTL_S, Quality, StreamCache, sign};

/// Start-up settings of the stream routes.
pub struct Streams {
    /// HMAC key for stream URLs.
    pub key: Vec<u8>,
    /// Lifetime of a minted URL, seconds of the virtual clock.
    pub ttl_s: i64,
    /// Encoded files on disk.
    pub cache: Arc<StreamCache>,
    /// Scheme, host and port that minted URLs start with (`--public-url`); `None` uses the request's
    /// `Host` (or HTTP/2 `:authority`) and the scheme of its connection (`https` over `serve --tls`). The
    /// Device API's references start with it too (`device::Links`).
    pub public_url: Option<String>,
}

/// Default HMAC key of stream URLs (`--stream-key` / `AMM_STREAM_KEY`).
pub const DEFAULT_STREAM_KEY: &str = "amazon-music-mock default stream key";

impl Streams {
    /// Settings with the default key and TTL over `cache`.
    pub fn new(cache: Arc<StreamCache>) -> Self {
        Self { key: DEFAULT_STREAM_KEY.as_bytes().to_vec(), ttl_s: DEFAULT_TTL_S, cache, public_url: None }
    }

    /// The lifetime of URLs minted in a session whose `stream_url_ttl_seconds` setting is `session_ttl_s`:
    /// that setting, or [`Streams::ttl_s`] when it is 0.
    pub fn ttl_for(&self, session_ttl_s: u64) -> i64 {
        if session_ttl_s == 0 { self.ttl_s } else { i64::try_from(session_ttl_s).unwrap_or(i64::MAX) }
    }

    /// The origin and session prefix minted URLs start with, e.g. `http://127.0.0.1:8080/s/ci-42`: the
    /// `--public-url` when set; otherwise the scheme of the request's connection (`crate::server::
    /// request_origin`, `http` outside a request) and its `Host`, or the URI's authority where an HTTP/2
    /// request carries it instead.
    pub fn base(&self, headers: &HeaderMap, session_prefix: &str) -> String {
        let origin = match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => {
                let conn = request_origin();
                let scheme = conn.as_ref().map_or("http", |o| o.scheme);
                let host = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .or_else(|| conn.as_ref().and_then(|o| o.authority.as_deref()))
                    .unwrap_or("127.0.0.1");
                format!("{scheme}://{host}")
            }
        };
        format!("{origin}{session_prefix}")
    }

    /// The signed query shared by a DASH manifest, its init segments and media segments, valid for
    /// [`Streams::ttl_s`] from `now_s`.
    pub fn dash_query(&self, asin: &str, qualities: &[Quality], playback_session: Option<&str>, now_s: i64) -> String {
        self.dash_query_until(asin, qualities, playback_session, now_s + self.ttl_s)
    }

    fn dash_query_until(
        &self,
        asin: &str,
        qualities: &[Quality],
        playback_session: Option<&str>,
        exp_s: i64,
    ) -> String {
        let mut extra = String::from("q=");
        for (i, q) in qualities.iter().enumerate() {
            if i > 0 {
                extra.push(',');
            }
            extra.push_str(q.wire_name());
        }
        if let Some(ps) = playback_session {
            extra.push_str("&ps=");
            extra.push_str(ps);
        }
        sign(&dash_dir(asin), &extra, exp_s, &self.key)
    }

    /// `{base}/dash/{asin}/manifest.mpd?…`, valid for [`Streams::ttl_s`] from `now_s`.
    pub fn dash_manifest_url(
        &self,
        base: &str,
        asin: &str,
        qualities: &[Quality],
        playback_session: Option<&str>,
        now_s: i64,
    ) -> String {
        self.dash_manifest_url_until(base, asin, qualities, playback_session, now_s + self.ttl_s)
    }

    /// `{base}/dash/{asin}/manifest.mpd?…`, valid until `exp_s` (epoch seconds of the virtual clock).
    pub fn dash_manifest_url_until(
        &self,
        base: &str,
        asin: &str,
        qualities: &[Quality],
        playback_session: Option<&str>,
        exp_s: i64,
    ) -> String {
        format!("{base}/dash/{asin}/manifest.mpd?{}", self.dash_query_until(asin, qualities, playback_session, exp_s))
    }

    /// `{base}/stream/{asin}/{quality}.{ext}?…`, valid for [`Streams::ttl_s`] from `now_s`.
    pub fn progressive_url(
        &self,
        base: &str,
        asin: &str,
        quality: Quality,
        playback_session: Option<&str>,
        now_s: i64,
    ) -> String {
        self.progressive_url_until(base, asin, quality, playback_session, now_s + self.ttl_s)
    }

    /// `{base}/stream/{asin}/{quality}.{ext}?…`, valid until `exp_s`.
    pub fn progressive_url_until(
        &self,
        base: &str,
        asin: &str,
        quality: Quality,
        playback_session: Option<&str>,
        exp_s: i64,
    ) -> String {
        let path = progressive_path(asin, quality);
        let extra = playback_session.map(|ps| format!("ps={ps}")).unwrap_or_default();
        let query = sign(&path, &extra, exp_s, &self.key);
        format!("{base}{path}?{query}")
    }
}

/// `/dash/{asin}/`: the path a DASH query is signed over.
pub fn dash_dir(asin: &str) -> String {
    format!("/dash/{asin}/")
}

/// `/stream/{asin}/{sd|hd|uhd}.{mp3|flac}`.
pub fn progressive_path(asin: &str, quality: Quality) -> String {
    format!("/stream/{asin}/{}.{}", quality.slug(), quality.extension())
}

/// The value of one parameter of a raw (signed) query; signed queries are plain ASCII, never encoded.
pub fn query_param<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?.split('&').find_map(|p| p.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
}

/// What the connection says about a request's origin, for minting absolute URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin {
    /// `http` or `https`: the scheme of the connection the request came in on.
    pub scheme: &'static str,
    /// The authority of the request's URI: set for HTTP/2 (`:authority`, which stands in for `Host`) and for
    /// absolute-form HTTP/1.1 targets; `None` otherwise.
    pub authority: Option<String>,
}

tokio::task_local! {
    static ORIGIN: RequestOrigin;
}

/// The origin of the request being handled on this task; `None` outside a request (unit tests, start-up).
pub fn request_origin() -> Option<RequestOrigin> {
    ORIGIN.try_with(Clone::clone).ok()
}

/// Runs `f` as if handling a request with `origin` (for tests of code that mints URLs).
pub fn with_request_origin<R>(origin: RequestOrigin, f: impl FnOnce() -> R) -> R {
    ORIGIN.sync_scope(origin, f)
}

/// Runs a request's future inside its origin (the server does this for every request).
pub async fn in_request_origin<F: std::future::Future>(origin: RequestOrigin, fut: F) -> F::Output {
    ORIGIN.scope(origin, fut).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::verify;

    fn streams() -> Streams {
        Streams::new(Arc::new(StreamCache::in_temp_dir().expect("cache")))
    }

    #[test]
    fn dash_urls_verify_over_the_directory_and_carry_qualities_and_session() {
        let s = streams();
        let url = s.dash_manifest_url("http://h/s/x", "B000000001", &[Quality::Sd, Quality::Hd], Some("ps-1"), 1_000);
        let (path, query) = url.split_once('?').unwrap();
        assert_eq!(path, "http://h/s/x/dash/B000000001/manifest.mpd");
        assert!(query.starts_with("q=SD,HD&ps=ps-1&exp=1300&sig="), "{query}");
        assert_eq!(verify("/dash/B000000001/", Some(query), 1_299, &s.key), Ok(1_300));
        assert_eq!(query_param(Some(query), "q"), Some("SD,HD"));
        assert_eq!(query_param(Some(query), "ps"), Some("ps-1"));
    }

    #[test]
    fn progressive_urls_verify_over_their_path() {
        let s = streams();
        let url = s.progressive_url("http://h", "B000000001", Quality::Uhd, None, 10);
        let (path, query) = url.split_once('?').unwrap();
        assert_eq!(path, "http://h/stream/B000000001/uhd.flac");
        assert_eq!(verify("/stream/B000000001/uhd.flac", Some(query), 11, &s.key), Ok(310));
        assert_eq!(query_param(Some(query), "ps"), None);
    }

    #[test]
    fn base_prefers_the_public_url() {
        let mut s = streams();
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "mock:9000".parse().unwrap());
        assert_eq!(s.base(&h, "/s/a"), "http://mock:9000/s/a");
        s.public_url = Some("https://music.example/".into());
        assert_eq!(s.base(&h, ""), "https://music.example");
    }

    #[test]
    fn base_follows_the_scheme_of_the_connection_and_the_http2_authority() {
        use super::{RequestOrigin, with_request_origin};
        let mut s = streams();
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "music-api.amazon.com".parse().unwrap());
        let tls = RequestOrigin { scheme: "https", authority: None };
        assert_eq!(with_request_origin(tls, || s.base(&h, "/s/a")), "https://music-api.amazon.com/s/a");
        // HTTP/2 sends no Host: the URI's authority stands in.
        let h2 = RequestOrigin { scheme: "https", authority: Some("api.amazon.com:8443".into()) };
        assert_eq!(with_request_origin(h2.clone(), || s.base(&HeaderMap::new(), "")), "https://api.amazon.com:8443");
        assert_eq!(with_request_origin(h2.clone(), || s.base(&h, "")), "https://music-api.amazon.com");
        s.public_url = Some("http://public.example".into());
        assert_eq!(with_request_origin(h2, || s.base(&h, "")), "http://public.example");
    }
}
