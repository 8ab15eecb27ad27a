//! The stream routes (`src/stream_http/`, spec `music-api.md` §8, §11.5): signed progressive files and
//! clear DASH over HTTP, `Range` and conditional requests, 403/404/416, the licence stub and
//! `POST /__admin/streams/sign`. Audio is checked with Symphonia and, when installed, ffprobe.

use amazon_music_mock::ServerConfig;
use amazon_music_mock::test_support::stream::{DEFAULT_STREAM_KEY, sign, tone_hz};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::support::*;
use crate::testkit::{assert_tone_hz, decode, ffprobe};

/// Six seconds, SD, HD and UHD.
const SIX: &str = "B0STRMTRK1";
/// Five seconds, SD only.
const FIVE_SD: &str = "B0STRMTRK2";
/// Nine seconds, SD and HD.
const NINE: &str = "B0STRMTRK3";

/// A mock over the short-track catalog, with its own stream cache directory (removed on drop).
struct StreamApp {
    app: TestApp,
    cache_dir: std::path::PathBuf,
}

impl Drop for StreamApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.cache_dir);
    }
}

/// A response with its body as bytes.
struct Got {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

impl StreamApp {
    async fn spawn() -> Self {
        let cache_dir = std::env::temp_dir().join(format!("amm-stream-http-{}", uuid_like()));
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stream");
        let app = TestApp::spawn_with(ServerConfig {
            bind: ([127, 0, 0, 1], 0).into(),
            seed: Some(1),
            fixtures: Some(fixtures),
            stream_cache_dir: Some(cache_dir.clone()),
            ..ServerConfig::default()
        })
        .await;
        StreamApp { app, cache_dir }
    }

    /// Freezes the default session's clock and returns its time.
    async fn freeze(&self, prefix: &str) -> i64 {
        self.app.admin("POST", &format!("{prefix}/__admin/clock/freeze"), json!({})).await["now"].as_i64().unwrap()
    }

    async fn advance(&self, prefix: &str, seconds: i64) {
        self.app.admin("POST", &format!("{prefix}/__admin/clock/advance"), json!({"seconds": seconds})).await;
    }

    /// `POST {prefix}/__admin/streams/sign`, which must succeed.
    async fn sign(&self, prefix: &str, body: Value) -> Value {
        self.app.admin("POST", &format!("{prefix}/__admin/streams/sign"), body).await
    }

    async fn progressive(&self, asin: &str, quality: &str) -> String {
        let v = self.sign("", json!({"asin": asin})).await;
        v["progressive"][quality].as_str().unwrap_or_else(|| panic!("no {quality} URL in {v}")).to_owned()
    }

    /// A signed progressive URL and the whole file it serves.
    async fn whole(&self, asin: &str, quality: &str) -> (String, Vec<u8>) {
        let url = self.progressive(asin, quality).await;
        let body = self.get(&url, &[]).await.body;
        (url, body)
    }

    async fn fetch(&self, method: reqwest::Method, url: &str, headers: &[(&str, &str)]) -> Got {
        let mut req = self.app.http.request(method, url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.expect("request sent");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().await.expect("body").to_vec();
        Got { status, headers, body }
    }

    async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Got {
        self.fetch(reqwest::Method::GET, url, headers).await
    }

    /// A URL for `path` signed with the default key, as the mock would mint it.
    async fn signed(&self, path: &str, extra: &str) -> String {
        let now = self.app.admin("GET", "/__admin/clock", json!({})).await["now"].as_i64().unwrap();
        format!("{}{path}?{}", self.app.mock.uri(), sign(path, extra, now + 300, DEFAULT_STREAM_KEY.as_bytes()))
    }
}

fn uuid_like() -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{}-{t}", std::process::id())
}

fn assert_error(g: &Got, status: u16, code: &str, message: &str) {
    assert_eq!(g.status, status, "{}", String::from_utf8_lossy(&g.body));
    assert_eq!(g.header("content-type"), Some("application/json"));
    assert_eq!(g.header("x-amm-mock"), Some("stream"));
    assert_eq!(g.json(), json!({"error": code, "message": message}));
}

#[tokio::test]
async fn a_signed_progressive_url_serves_the_whole_file_with_validators() {
    let s = StreamApp::spawn().await;
    s.freeze("").await;
    for (q, ctype, magic) in
        [("SD", "audio/mpeg", &[0xFF, 0xFB][..]), ("HD", "audio/flac", b"fLaC"), ("UHD", "audio/flac", b"fLaC")]
    {
        let url = s.progressive(SIX, q).await;
        let g = s.get(&url, &[]).await;
        assert_eq!(g.status, 200, "{q}");
        assert_eq!(g.header("content-type"), Some(ctype));
        assert_eq!(g.header("content-length"), Some(g.body.len().to_string().as_str()));
        assert_eq!(g.header("accept-ranges"), Some("bytes"));
        assert_eq!(g.header("cache-control"), Some("private, max-age=300"));
        assert_eq!(g.header("x-amm-mock"), Some("stream"));
        assert!(g.header("date").is_some() && g.header("x-amzn-requestid").is_some());
        let etag = g.header("etag").expect("an ETag");
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 26, "strong ETag: {etag}");
        assert!(g.body.starts_with(magic), "{q}");
        // The same file again: same bytes, same tag.
        let again = s.get(&url, &[]).await;
        assert_eq!(again.header("etag"), Some(etag));
        assert_eq!(again.body, g.body);
    }
}

#[tokio::test]
async fn head_answers_the_same_headers_without_a_body() {
    let s = StreamApp::spawn().await;
    s.freeze("").await;
    let url = s.progressive(SIX, "HD").await;
    let full = s.get(&url, &[]).await;
    let head = s.fetch(reqwest::Method::HEAD, &url, &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    for h in ["content-type", "content-length", "accept-ranges", "etag", "cache-control", "x-amm-mock"] {
        assert_eq!(head.header(h), full.header(h), "{h}");
    }
    let ranged = s.fetch(reqwest::Method::HEAD, &url, &[("range", "bytes=10-19")]).await;
    assert_eq!(ranged.status, 206);
    assert_eq!(ranged.header("content-length"), Some("10"));
    assert_eq!(ranged.header("content-range"), Some(format!("bytes 10-19/{}", full.body.len()).as_str()));
    assert!(ranged.body.is_empty());
}

#[tokio::test]
async fn single_ranges_are_206_with_the_exact_bytes() {
    let s = StreamApp::spawn().await;
    let (url, full) = s.whole(SIX, "SD").await;
    let len = full.len();
    let cases = [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, len - 1),
        ("bytes=-50", len - 50, len - 1),
        ("bytes=500-99999999", 500, len - 1),
        ("bytes=7-7", 7, 7),
        // Overlapping ranges coalesce into one.
        ("bytes=0-9,5-19", 0, 19),
    ];
    for (range, a, b) in cases {
        let g = s.get(&url, &[("range", range)]).await;
        assert_eq!(g.status, 206, "{range}");
        assert_eq!(g.header("content-range"), Some(format!("bytes {a}-{b}/{len}").as_str()), "{range}");
        assert_eq!(g.header("content-length"), Some((b - a + 1).to_string().as_str()), "{range}");
        assert_eq!(g.header("content-type"), Some("audio/mpeg"));
        assert_eq!(g.header("accept-ranges"), Some("bytes"));
        assert!(g.header("etag").is_some());
        assert_eq!(g.body, full[a..=b], "{range}");
    }
}

#[tokio::test]
async fn multiple_ranges_are_a_multipart_byteranges_body() {
    let s = StreamApp::spawn().await;
    let (url, full) = s.whole(NINE, "HD").await;
    let len = full.len();
    let g = s.get(&url, &[("range", "bytes=-100, 0-3, 70000-70999")]).await;
    assert_eq!(g.status, 206);
    assert_eq!(g.header("content-range"), None);
    let ctype = g.header("content-type").unwrap();
    let boundary = ctype.strip_prefix("multipart/byteranges; boundary=").unwrap_or_else(|| panic!("{ctype}"));
    assert!(boundary.starts_with("amm-") && boundary.len() == 36, "{boundary}");
    assert_eq!(g.header("content-length"), Some(g.body.len().to_string().as_str()));
    // Parts in ascending order, each with its headers, then the closing delimiter (RFC 9110 §14.6).
    let mut want = Vec::new();
    for (i, (a, b)) in [(0, 3), (70_000, 70_999), (len - 100, len - 1)].into_iter().enumerate() {
        if i > 0 {
            want.extend_from_slice(b"\r\n");
        }
        let head = format!("--{boundary}\r\nContent-Type: audio/flac\r\nContent-Range: bytes {a}-{b}/{len}\r\n\r\n");
        want.extend_from_slice(head.as_bytes());
        want.extend_from_slice(&full[a..=b]);
    }
    want.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    assert_eq!(g.body.len(), want.len());
    assert!(g.body == want, "the multipart body differs from the expected parts");
    // The same request gets the same boundary.
    let again = s.get(&url, &[("range", "bytes=-100, 0-3, 70000-70999")]).await;
    assert_eq!(again.header("content-type"), Some(ctype));
}

#[tokio::test]
async fn too_many_ranges_and_malformed_ranges_get_the_full_body() {
    let s = StreamApp::spawn().await;
    let (url, full) = s.whole(SIX, "SD").await;
    let seventeen =
        format!("bytes={}", (0..17).map(|i| format!("{}-{}", i * 10, i * 10 + 1)).collect::<Vec<_>>().join(","));
    let sixteen =
        format!("bytes={}", (0..16).map(|i| format!("{}-{}", i * 10, i * 10 + 1)).collect::<Vec<_>>().join(","));
    assert_eq!(s.get(&url, &[("range", &sixteen)]).await.status, 206, "16 ranges are served");
    for range in [seventeen.as_str(), "bytes=9-1", "bytes=abc", "items=0-1", "bytes=", "0-10"] {
        let g = s.get(&url, &[("range", range)]).await;
        assert_eq!(g.status, 200, "{range}");
        assert_eq!(g.header("content-range"), None);
        assert_eq!(g.body, full, "{range}");
    }
}

#[tokio::test]
async fn unsatisfiable_ranges_are_416_with_the_length() {
    let s = StreamApp::spawn().await;
    let (url, full) = s.whole(SIX, "SD").await;
    let len = full.len();
    for range in [format!("bytes={len}-"), format!("bytes={}-{}", len + 10, len + 20), "bytes=-0".to_owned()] {
        let g = s.get(&url, &[("range", &range)]).await;
        let message = format!("no byte of the {len}-byte representation is in the requested range");
        assert_error(&g, 416, "range_not_satisfiable", &message);
        assert_eq!(g.header("content-range"), Some(format!("bytes */{len}").as_str()), "{range}");
    }
}

#[tokio::test]
async fn if_none_match_answers_304_with_the_validators() {
    let s = StreamApp::spawn().await;
    s.freeze("").await;
    let url = s.progressive(SIX, "UHD").await;
    let etag = s.get(&url, &[]).await.header("etag").unwrap().to_owned();
    let weak = format!("W/{etag}");
    let listed = format!("\"nope\", {etag}");
    for inm in [etag.as_str(), weak.as_str(), listed.as_str(), "*"] {
        let g = s.get(&url, &[("if-none-match", inm), ("range", "bytes=0-1")]).await;
        assert_eq!(g.status, 304, "{inm}");
        assert!(g.body.is_empty());
        assert_eq!(g.header("etag"), Some(etag.as_str()));
        assert_eq!(g.header("cache-control"), Some("private, max-age=300"));
    }
    let g = s.get(&url, &[("if-none-match", "\"nope\"")]).await;
    assert_eq!(g.status, 200);
}

#[tokio::test]
async fn if_range_honours_the_range_only_for_the_current_tag() {
    let s = StreamApp::spawn().await;
    let url = s.progressive(SIX, "HD").await;
    let full = s.get(&url, &[]).await;
    let etag = full.header("etag").unwrap().to_owned();
    let g = s.get(&url, &[("if-range", &etag), ("range", "bytes=4-9")]).await;
    assert_eq!(g.status, 206);
    assert_eq!(g.body, full.body[4..=9]);
    let weak = format!("W/{etag}");
    for stale in ["\"0000\"", weak.as_str(), "Sun, 06 Nov 1994 08:49:37 GMT"] {
        let g = s.get(&url, &[("if-range", stale), ("range", "bytes=4-9")]).await;
        assert_eq!(g.status, 200, "{stale}");
        assert_eq!(g.header("content-range"), None);
        assert_eq!(g.body, full.body, "{stale}");
    }
}

#[tokio::test]
async fn missing_tampered_and_expired_urls_are_403() {
    let s = StreamApp::spawn().await;
    s.freeze("").await;
    let url = s.progressive(SIX, "SD").await;
    let (path, query) = url.split_once('?').unwrap();
    let missing = "the stream URL has no valid exp and sig parameters";
    let bad = "the stream URL signature does not match";
    assert_error(&s.get(path, &[]).await, 403, "missing_signature", missing);
    let no_sig = query.split("&sig=").next().unwrap();
    assert_error(&s.get(&format!("{path}?{no_sig}"), &[]).await, 403, "missing_signature", missing);
    let exp: i64 = no_sig.strip_prefix("exp=").unwrap().parse().unwrap();
    let later = url.replace(&format!("exp={exp}"), &format!("exp={}", exp + 3600));
    assert_error(&s.get(&later, &[]).await, 403, "bad_signature", bad);
    let flipped = format!("{}{}", &url[..url.len() - 1], if url.ends_with('A') { 'B' } else { 'A' });
    assert_error(&s.get(&flipped, &[]).await, 403, "bad_signature", bad);
    // The SD signature does not open the HD file.
    assert_error(&s.get(&url.replace("/sd.mp3", "/hd.flac"), &[]).await, 403, "bad_signature", bad);
    // HEAD is refused the same way, without a body.
    let head = s.fetch(reqwest::Method::HEAD, path, &[]).await;
    assert_eq!((head.status, head.body.len()), (403, 0));

    // Expiry on the session's virtual clock: valid while now < exp.
    s.advance("", 299).await;
    let g = s.get(&url, &[]).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.header("cache-control"), Some("private, max-age=1"));
    s.advance("", 1).await;
    assert_error(&s.get(&url, &[]).await, 403, "expired", "the stream URL has expired");
}

#[tokio::test]
async fn unknown_tracks_qualities_and_file_names_are_404() {
    let s = StreamApp::spawn().await;
    let unknown = s.signed("/stream/B0NOSUCH00/sd.mp3", "").await;
    assert_error(&s.get(&unknown, &[]).await, 404, "not_found", "no track \"B0NOSUCH00\" in the catalog");
    let no_uhd = s.signed(&format!("/stream/{FIVE_SD}/uhd.flac"), "").await;
    assert_error(&s.get(&no_uhd, &[]).await, 404, "not_found", "track B0STRMTRK2 has no UHD rendition");
    // The admin route signs a quality the track lacks, so scenarios can reach the same 404.
    let v = s.sign("", json!({"asin": NINE, "qualities": ["UHD"]})).await;
    let g = s.get(v["progressive"]["UHD"].as_str().unwrap(), &[]).await;
    assert_error(&g, 404, "not_found", "track B0STRMTRK3 has no UHD rendition");
    // A file name that is no stream file is 404 before the signature is looked at.
    for name in ["sd.flac", "hd.mp3", "SD.mp3", "lossless.flac", "sd"] {
        let g = s.get(&s.app.url(&format!("/stream/{SIX}/{name}")), &[]).await;
        let message = format!("no stream file {name:?}: use sd.mp3, hd.flac or uhd.flac");
        assert_error(&g, 404, "not_found", &message);
    }
}

#[tokio::test]
async fn session_prefixed_urls_work_on_their_own_sessions_clock() {
    let s = StreamApp::spawn().await;
    s.freeze("/s/t1").await;
    let v = s.sign("/s/t1", json!({"asin": SIX, "qualities": ["SD"]})).await;
    let url = v["progressive"]["SD"].as_str().unwrap().to_owned();
    let origin = s.app.mock.uri();
    assert!(url.starts_with(&format!("{origin}/s/t1/stream/{SIX}/sd.mp3?exp=")), "{url}");
    assert!(v["dash"].as_str().unwrap().starts_with(&format!("{origin}/s/t1/dash/{SIX}/manifest.mpd?q=SD&exp=")));
    assert_eq!(s.get(&url, &[]).await.status, 200);
    // Session t1's clock expires it; the default session's clock (running in real time) does not.
    s.advance("/s/t1", 3600).await;
    assert_error(&s.get(&url, &[]).await, 403, "expired", "the stream URL has expired");
    assert_eq!(s.get(&url.replace("/s/t1/", "/"), &[]).await.status, 200);
    // The journal of t1 records the requests with the signature fingerprinted.
    let journal = s.app.admin("GET", "/s/t1/__admin/requests", json!({})).await;
    let last = journal.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["path"], format!("/stream/{SIX}/sd.mp3"));
    assert_eq!(last["status"], 403);
    assert_eq!(last["error"], "expired");
    let query = last["query"].as_array().unwrap();
    assert_eq!(query[0][0], "exp");
    assert_eq!(query[1][0], "sig");
    assert!(query[1][1].as_str().unwrap().starts_with("[redacted:"), "{last}");
    let sig = url.split("&sig=").nth(1).unwrap();
    assert!(!journal.to_string().contains(sig), "the signature reached the journal");
}

/// The media URLs of every segment of a representation, resolved against the manifest URL.
fn segment_urls(manifest_url: &str, rep: &dash_mpd::Representation) -> (String, Vec<String>) {
    let base = url::Url::parse(manifest_url).unwrap();
    let tpl = rep.SegmentTemplate.as_ref().expect("a SegmentTemplate");
    let init = base.join(tpl.initialization.as_deref().unwrap()).unwrap().to_string();
    let timeline = tpl.SegmentTimeline.as_ref().expect("a SegmentTimeline");
    let count: u64 = timeline.segments.iter().map(|s| 1 + s.r.unwrap_or(0) as u64).sum();
    let media = tpl.media.as_deref().unwrap();
    let urls =
        (1..=count).map(|n| base.join(&media.replace("$Number$", &n.to_string())).unwrap().to_string()).collect();
    (init, urls)
}

#[tokio::test]
async fn every_segment_of_the_manifest_fetches_and_decodes_to_the_tone() {
    let s = StreamApp::spawn().await;
    s.freeze("").await;
    // NINE has SD and HD: the UHD the URL grants is left out of the manifest.
    let v = s.sign("", json!({"asin": NINE, "qualities": ["SD", "HD", "UHD"]})).await;
    let manifest_url = v["dash"].as_str().unwrap();
    let g = s.get(manifest_url, &[]).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.header("content-type"), Some("application/dash+xml"));
    assert_eq!(g.header("cache-control"), Some("private, max-age=300"));
    assert_eq!(g.header("accept-ranges"), Some("bytes"));
    assert_eq!(g.header("content-length"), Some(g.body.len().to_string().as_str()));
    let etag = g.header("etag").unwrap().to_owned();
    assert_eq!(s.get(manifest_url, &[("if-none-match", &etag)]).await.status, 304);
    let mpd = dash_mpd::parse(std::str::from_utf8(&g.body).unwrap()).expect("the MPD parses");
    assert_eq!(mpd.mediaPresentationDuration, Some(std::time::Duration::from_secs(9)));
    let reps = &mpd.periods[0].adaptations[0].representations;
    let ids: Vec<_> = reps.iter().map(|r| r.id.clone().unwrap()).collect();
    assert_eq!(ids, ["SD", "HD"]);
    for (rep, rate) in reps.iter().zip([44_100u32, 44_100]) {
        let (init, segments) = segment_urls(manifest_url, rep);
        assert_eq!(segments.len(), 3);
        let first = s.get(&init, &[]).await;
        assert_eq!(first.status, 200, "{init}");
        let mut whole = first.body;
        for url in &segments {
            let g = s.get(url, &[]).await;
            assert_eq!(g.status, 200, "{url}");
            assert_eq!(g.header("content-type"), Some("audio/mp4"));
            assert_eq!(g.header("content-length"), Some(g.body.len().to_string().as_str()));
            assert_eq!(g.header("accept-ranges"), Some("bytes"));
            assert!(g.header("etag").is_some());
            // Segments take ranges through the same code path.
            let part = s.get(url, &[("range", "bytes=8-15")]).await;
            assert_eq!((part.status, &part.body[..]), (206, &g.body[8..=15]));
            whole.extend_from_slice(&g.body);
        }
        let past = segments[2].replace("/3.m4s", "/4.m4s");
        let id = rep.id.as_deref().unwrap();
        let message = format!("track {NINE} has no {id} segment 4 (segments start at 1)");
        assert_error(&s.get(&past, &[]).await, 404, "not_found", &message);
        let d = decode(whole, "mp4");
        assert_eq!(d.sample_rate, rate);
        assert_eq!(d.channels, 2);
        let want = 9 * u64::from(rate);
        let slack = if id == "SD" { 2 * 1152 } else { 0 };
        assert!(d.frames >= want && d.frames <= want + slack, "{id}: {} frames, want {want}", d.frames);
        assert_tone_hz(&d, tone_hz(NINE));
    }
}

#[tokio::test]
async fn dash_files_outside_the_grant_or_the_track_are_refused() {
    let s = StreamApp::spawn().await;
    let v = s.sign("", json!({"asin": SIX, "qualities": ["SD"]})).await;
    let manifest = v["dash"].as_str().unwrap().to_owned();
    let query = manifest.split_once('?').unwrap().1.to_owned();
    let base = s.app.url(&format!("/dash/{SIX}"));
    assert_eq!(s.get(&format!("{base}/sd/init.mp4?{query}"), &[]).await.status, 200);
    assert_eq!(s.get(&format!("{base}/sd/1.m4s?{query}"), &[]).await.status, 200);
    // HD exists on the track but the URL grants SD only; editing q breaks the signature.
    let g = s.get(&format!("{base}/hd/1.m4s?{query}"), &[]).await;
    assert_error(&g, 403, "quality_not_granted", "the URL grants SD, not HD");
    let widened = query.replace("q=SD", "q=SD,HD");
    let g = s.get(&format!("{base}/hd/1.m4s?{widened}"), &[]).await;
    assert_error(&g, 403, "bad_signature", "the stream URL signature does not match");
    // Segment 0, a segment past the end, and names that are not DASH files.
    for file in ["0.m4s", "3.m4s"] {
        let g = s.get(&format!("{base}/sd/{file}?{query}"), &[]).await;
        assert_eq!((g.status, g.json()["error"].clone()), (404, json!("not_found")), "{file}");
    }
    for file in ["sd/init.mp3", "sd/+1.m4s", "sd/.m4s", "flac/1.m4s", "SD/1.m4s"] {
        let g = s.get(&format!("{base}/{file}?{query}"), &[]).await;
        let (q, f) = file.split_once('/').unwrap();
        assert_error(&g, 404, "not_found", &format!("no DASH file {q}/{f}"));
    }
    // A manifest whose granted qualities the track has none of.
    let v = s.sign("", json!({"asin": FIVE_SD, "qualities": ["HD", "UHD"]})).await;
    let g = s.get(v["dash"].as_str().unwrap(), &[]).await;
    assert_error(&g, 404, "not_found", "track B0STRMTRK2 has none of the qualities the URL grants (\"HD,UHD\")");
    // Unsigned DASH requests.
    let g = s.get(&format!("{base}/manifest.mpd"), &[]).await;
    assert_error(&g, 403, "missing_signature", "the stream URL has no valid exp and sig parameters");
}

#[tokio::test]
async fn progressive_files_decode_to_the_track_duration_and_tone() {
    let s = StreamApp::spawn().await;
    for (q, ext, rate) in [("SD", "mp3", 44_100u32), ("HD", "flac", 44_100), ("UHD", "flac", 96_000)] {
        let g = s.get(&s.progressive(SIX, q).await, &[]).await;
        let d = decode(g.body, ext);
        assert_eq!((d.sample_rate, d.channels), (rate, 2), "{q}");
        let want = 6 * u64::from(rate);
        let slack = if q == "SD" { 1152 } else { 0 };
        assert!(d.frames.abs_diff(want) <= slack, "{q}: {} frames, want {want}", d.frames);
        assert_tone_hz(&d, tone_hz(SIX));
    }
}

#[tokio::test]
async fn ffprobe_reads_the_served_files_and_the_manifest() {
    let s = StreamApp::spawn().await;
    let v = s.sign("", json!({"asin": SIX})).await;
    // ffprobe blocks: run it off the runtime thread, which also serves its requests.
    let probe = |url: &Value| {
        let url = url.as_str().unwrap().to_owned();
        async move { tokio::task::spawn_blocking(move || ffprobe(&url)).await.expect("ffprobe thread") }
    };
    for (q, codec, rate) in [("SD", "mp3", 44_100u32), ("HD", "flac", 44_100), ("UHD", "flac", 96_000)] {
        let Some(streams) = probe(&v["progressive"][q]).await else { return };
        assert_eq!(streams.len(), 1, "{q}: {streams:?}");
        let p = &streams[0];
        assert_eq!((p.codec.as_str(), p.sample_rate, p.channels), (codec, rate, 2), "{q}");
        // ffprobe counts whole MP3 frames, LAME's delay and padding included: up to two frames (52 ms) over.
        let slack = if q == "SD" { 0.06 } else { 0.001 };
        assert!((p.duration_s - 6.0).abs() < slack, "{q}: ffprobe says {} s", p.duration_s);
    }
    let Some(streams) = probe(&v["dash"]).await else { return };
    let got: Vec<_> = streams.iter().map(|p| (p.codec.as_str(), p.sample_rate, p.channels)).collect();
    assert_eq!(got, [("mp3", 44_100, 2), ("flac", 44_100, 2), ("flac", 96_000, 2)]);
    for p in &streams {
        assert!((p.duration_s - 6.0).abs() < 0.1, "DASH {}: {} s", p.codec, p.duration_s);
    }
}

#[tokio::test]
async fn the_license_stub_answers_any_challenge_with_an_opaque_blob() {
    let s = StreamApp::spawn().await;
    let post = |body: &'static [u8]| s.app.http.post(s.app.url("/license")).body(body);
    let a = post(b"challenge-1").send().await.unwrap();
    assert_eq!(a.status(), 200);
    let h = a.headers().clone();
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(h["x-amm-mock"], "license-stub");
    assert_eq!(h["cache-control"], "no-store");
    let a = a.bytes().await.unwrap();
    assert!(a.starts_with(b"AMM-MOCK-LICENSE-STUB\n"));
    assert_eq!(a.len(), 22 + 32);
    let again = post(b"challenge-1").send().await.unwrap().bytes().await.unwrap();
    let other = post(b"challenge-2").send().await.unwrap().bytes().await.unwrap();
    assert_eq!(a, again);
    assert_ne!(a, other);
    let g = s.get(&s.app.url("/license"), &[]).await;
    assert_eq!(g.status, 405);
    assert_eq!(g.header("allow"), Some("POST"));
    // Stream routes take GET and HEAD only.
    let url = s.progressive(SIX, "SD").await;
    let g = s.fetch(reqwest::Method::POST, &url, &[]).await;
    assert_eq!((g.status, g.header("allow"), g.body.len()), (405, Some("GET,HEAD"), 0));
    assert_eq!(g.header("x-amm-mock"), Some("stream"));
}

#[tokio::test]
async fn admin_sign_mints_urls_and_validates_its_body() {
    let s = StreamApp::spawn().await;
    let now = s.freeze("").await;
    let v = s.sign("", json!({"asin": NINE})).await;
    assert_eq!(v["exp"], now + 300);
    let keys: Vec<_> = v["progressive"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["SD", "HD"], "defaults to the track's qualities");
    assert!(v["dash"].as_str().unwrap().contains("/manifest.mpd?q=SD,HD&exp="), "{v}");
    let v = s
        .sign("", json!({"asin": SIX, "qualities": ["uhd", "SD", "SD"], "ttlSeconds": 60, "playbackSession": "ps-1"}))
        .await;
    assert_eq!(v["exp"], now + 60);
    assert_eq!(v["progressive"].as_object().unwrap().keys().collect::<Vec<_>>(), ["SD", "UHD"]);
    assert!(v["progressive"]["SD"].as_str().unwrap().contains("/sd.mp3?ps=ps-1&exp="));
    assert!(v["dash"].as_str().unwrap().contains("?q=SD,UHD&ps=ps-1&exp="));
    // A URL names a playback session the stream routes check: "ps-1" is no session of this one.
    assert_error(
        &s.get(v["dash"].as_str().unwrap(), &[]).await,
        403,
        "playback_session_unknown",
        "the stream URL names an unknown playback session",
    );
    let v = s.sign("", json!({"asin": SIX, "qualities": ["SD"]})).await;
    assert_eq!(s.get(v["dash"].as_str().unwrap(), &[]).await.status, 200);
    // ttlSeconds 0 mints a URL that is already expired.
    let v = s.sign("", json!({"asin": SIX, "ttlSeconds": 0})).await;
    assert_error(&s.get(v["dash"].as_str().unwrap(), &[]).await, 403, "expired", "the stream URL has expired");

    let cases = [
        (json!({"asin": "B0NOSUCH00"}), 404, "no track \"B0NOSUCH00\" in the catalog"),
        (json!({"asin": SIX, "qualities": ["ATMOS"]}), 400, "unknown quality \"ATMOS\": use SD, HD or UHD"),
        (
            json!({"asin": SIX, "qualities": []}),
            400,
            "qualities must name at least one of SD, HD, UHD (or be left out)",
        ),
        (json!({"asin": SIX, "ttlSeconds": -1}), 400, "ttlSeconds must be between 0 and 31536000"),
        (
            json!({"asin": SIX, "playbackSession": "a b"}),
            400,
            "playbackSession must be 1-128 characters of A-Z a-z 0-9 - . _ ~",
        ),
    ];
    for (body, status, message) in cases {
        let r = s.app.post_json("/__admin/streams/sign", &body).await;
        assert_eq!((r.status, r.json()), (status, json!({"error": message})), "{body}");
    }
    let r = s.app.post_json("/__admin/streams/sign", &json!({"asin": SIX, "ttl": 5})).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().starts_with("invalid JSON body: unknown field `ttl`"), "{}", r.text);
}
