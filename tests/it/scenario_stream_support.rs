//! A small server for the runner's stream expectations (`audio`, `dash`, `range`), standing in for any
//! target: files the project's own engine wrote (progressive MP3 and FLAC, `stream::mpd` manifests, init and
//! media segments from `StreamCache`), files ffmpeg wrote when it is installed, and deliberately wrong
//! variants, one defect each. Ranges are answered with the engine's `plan_ranges` and `multipart_layout`;
//! DASH trees check the signed query (`stream::verify`) on every request, as the mock's routes will.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use amazon_music_mock::test_support::stream::{
    self, Piece, Quality, RangePlan, SegmentLayout, StreamCache, TrackAudio, content_range, multipart_layout,
    plan_ranges, sign, tone_hz, unsatisfied_range, verify,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The track every correct file is of.
pub const ASIN: &str = "B0RUNNER01";
/// Another track, with another tone.
pub const OTHER: &str = "B0RUNNER07";
/// Seconds of every engine file.
pub const SECONDS: u32 = 7;
const KEY: &[u8] = b"runner stream test key";
const EXP: i64 = 4_000_000_000;
const BOUNDARY: &str = "RUNNERTESTBOUNDARY";

/// How a file answers `Range`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Serve {
    /// As RFC 9110 says (the engine's `plan_ranges`).
    Ranges,
    /// Always 200 with the whole file.
    IgnoresRanges,
    /// A single range's bytes one further on than `Content-Range` says.
    ShiftedBytes,
    /// `Content-Range` with a wrong total, and a 416 without `Content-Range`.
    WrongContentRange,
    /// Several ranges answered with the first one only.
    FirstRangeOnly,
}

struct Entry {
    content_type: &'static str,
    bytes: Bytes,
    serve: Serve,
    /// The directory its query must be signed over.
    signed_over: Option<String>,
}

/// The running server.
pub struct StreamServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The tone of [`ASIN`].
    pub tone: f32,
    task: tokio::task::JoinHandle<()>,
    cache_dir: std::path::PathBuf,
}

impl Drop for StreamServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_dir_all(&self.cache_dir);
    }
}

fn progressive(id: &str, seconds: u32, q: Quality) -> Bytes {
    let mut c = std::io::Cursor::new(Vec::new());
    stream::encode_progressive(id, seconds, q, &mut c).expect("encode");
    Bytes::from(c.into_inner())
}

/// Adds a DASH tree at `dir` (`/ok/dash/`): the manifest (relative URLs with the signed query, or bare
/// ones with `bare`), every init and media segment, all checking the query; `skip` leaves one segment
/// out (a 404). Returns the manifest's path and query.
async fn dash_tree(
    files: &mut HashMap<String, Entry>,
    cache: &StreamCache,
    dir: &str,
    qualities: &[Quality],
    bare: bool,
    skip: Option<(Quality, u64)>,
) -> String {
    let wire: Vec<&str> = qualities.iter().map(|q| q.wire_name()).collect();
    let query = sign(dir, &format!("q={}", wire.join(",")), EXP, KEY);
    let signed = Some(dir.to_owned());
    let manifest = stream::mpd(SECONDS, qualities, (!bare).then_some(query.as_str()));
    let entry = |content_type, bytes: Vec<u8>| Entry {
        content_type,
        bytes: Bytes::from(bytes),
        serve: Serve::Ranges,
        signed_over: signed.clone(),
    };
    files.insert(format!("{dir}manifest.mpd"), entry(stream::MPD_CONTENT_TYPE, manifest.into_bytes()));
    let track = TrackAudio {
        id: ASIN.into(),
        duration_s: SECONDS,
        qualities: amazon_music_mock::test_support::catalog::AudioQualities::UHD,
    };
    for &q in qualities {
        let init = cache.dash_init(&track, q).await.expect("init");
        files.insert(
            format!("{dir}{}/init.mp4", q.slug()),
            entry(stream::SEGMENT_CONTENT_TYPE, std::fs::read(&init.path).expect("read")),
        );
        for n in 1..=SegmentLayout::new(q, SECONDS).count {
            if skip == Some((q, n)) {
                continue;
            }
            let seg = cache.dash_segment(&track, q, n).await.expect("segment").expect("in range");
            let bytes = std::fs::read(&seg.path).expect("read");
            files.insert(format!("{dir}{}/{n}.m4s", q.slug()), entry(stream::SEGMENT_CONTENT_TYPE, bytes));
        }
    }
    format!("{dir}manifest.mpd?{query}")
}

/// Starts the server. `extra` adds files (ffmpeg's) by path.
pub async fn start_stream_server(extra: Vec<(String, &'static str, Vec<u8>)>) -> StreamServer {
    let (sd, hd, uhd, other, short) = tokio::task::spawn_blocking(|| {
        (
            progressive(ASIN, SECONDS, Quality::Sd),
            progressive(ASIN, SECONDS, Quality::Hd),
            progressive(ASIN, SECONDS, Quality::Uhd),
            progressive(OTHER, SECONDS, Quality::Hd),
            progressive(ASIN, 5, Quality::Hd),
        )
    })
    .await
    .expect("encode");
    let mut files: HashMap<String, Entry> = HashMap::new();
    let mut add = |path: &str, content_type, bytes: &Bytes, serve| {
        files.insert(path.to_owned(), Entry { content_type, bytes: bytes.clone(), serve, signed_over: None });
    };
    add("/ok/sd.mp3", "audio/mpeg", &sd, Serve::Ranges);
    add("/ok/hd.flac", "audio/flac", &hd, Serve::Ranges);
    add("/ok/uhd.flac", "audio/flac", &uhd, Serve::Ranges);
    add("/wrong/tone.flac", "audio/flac", &other, Serve::Ranges);
    add("/wrong/short.flac", "audio/flac", &short, Serve::Ranges);
    add("/wrong/rate.flac", "audio/flac", &hd, Serve::Ranges);
    add("/wrong/truncated.flac", "audio/flac", &hd.slice(..hd.len() * 3 / 5), Serve::Ranges);
    add("/wrong/shifted.flac", "audio/flac", &hd, Serve::ShiftedBytes);
    add("/wrong/content-range.flac", "audio/flac", &hd, Serve::WrongContentRange);
    add("/wrong/no-ranges.flac", "audio/flac", &hd, Serve::IgnoresRanges);
    add("/wrong/first-range.flac", "audio/flac", &hd, Serve::FirstRangeOnly);
    for (path, content_type, bytes) in extra {
        add(&path, content_type, &Bytes::from(bytes), Serve::Ranges);
    }

    // One directory per server: tests in one process must not share (and clean) each other's cache.
    let cache_dir = std::env::temp_dir().join(format!("amm-runner-stream-{}", uuid::Uuid::new_v4().simple()));
    let cache = StreamCache::new(&cache_dir, stream::DEFAULT_MAX_BYTES).expect("cache");
    let ok = dash_tree(&mut files, &cache, "/ok/dash/", &Quality::ALL, false, None).await;
    let bare = dash_tree(&mut files, &cache, "/bare/dash/", &Quality::ALL, true, None).await;
    let missing = dash_tree(&mut files, &cache, "/missing/dash/", &[Quality::Sd, Quality::Hd], false, None).await;
    let broken = dash_tree(&mut files, &cache, "/broken/dash/", &Quality::ALL, false, Some((Quality::Hd, 2))).await;
    let tone = tone_hz(ASIN);
    let track = json!({"tone_hz": tone, "duration": SECONDS, "dash": {"ok": ok, "bare": bare, "missing": missing, "broken": broken}});
    files.insert(
        "/track.json".into(),
        Entry {
            content_type: "application/json",
            bytes: Bytes::from(track.to_string()),
            serve: Serve::Ranges,
            signed_over: None,
        },
    );

    let app = axum::Router::new().fallback(serve).with_state(Arc::new(files));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    StreamServer { base, tone, task, cache_dir }
}

async fn serve(State(files): State<Arc<HashMap<String, Entry>>>, uri: Uri, headers: HeaderMap) -> Response {
    let Some(e) = files.get(uri.path()) else { return StatusCode::NOT_FOUND.into_response() };
    if let Some(dir) = &e.signed_over {
        if verify(dir, uri.query(), 0, KEY).is_err() {
            return (StatusCode::FORBIDDEN, "bad signature").into_response();
        }
    }
    let len = e.bytes.len() as u64;
    let ct = (header::CONTENT_TYPE, e.content_type);
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let plan = if e.serve == Serve::IgnoresRanges { RangePlan::Full } else { plan_ranges(range, len) };
    let slice = |a: u64, b: u64| e.bytes.slice(a as usize..=(b as usize).min(e.bytes.len() - 1));
    match plan {
        RangePlan::Full => (StatusCode::OK, [ct, (header::ACCEPT_RANGES, "bytes")], e.bytes.clone()).into_response(),
        RangePlan::Single(a, b) => {
            let (body, total) = match e.serve {
                Serve::ShiftedBytes => (slice(a + 1, b + 1), len),
                Serve::WrongContentRange => (slice(a, b), len + 1),
                _ => (slice(a, b), len),
            };
            let cr = content_range(a, b, total);
            (StatusCode::PARTIAL_CONTENT, [ct, (header::CONTENT_RANGE, cr.as_str())], body).into_response()
        }
        RangePlan::Multiple(ranges) if e.serve == Serve::FirstRangeOnly => {
            let (a, b) = ranges[0];
            let cr = content_range(a, b, len);
            (StatusCode::PARTIAL_CONTENT, [ct, (header::CONTENT_RANGE, cr.as_str())], slice(a, b)).into_response()
        }
        RangePlan::Multiple(ranges) => {
            let (pieces, total) = multipart_layout(&ranges, len, e.content_type, BOUNDARY);
            let mut body = Vec::with_capacity(total as usize);
            for p in pieces {
                match p {
                    Piece::Text(t) => body.extend_from_slice(t.as_bytes()),
                    Piece::File(a, b) => body.extend_from_slice(&slice(a, b)),
                }
            }
            let ct = format!("multipart/byteranges; boundary={BOUNDARY}");
            (StatusCode::PARTIAL_CONTENT, [(header::CONTENT_TYPE, ct)], body).into_response()
        }
        RangePlan::Unsatisfiable if e.serve == Serve::WrongContentRange => {
            StatusCode::RANGE_NOT_SATISFIABLE.into_response()
        }
        RangePlan::Unsatisfiable => {
            let cr = unsatisfied_range(len);
            (StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, cr.as_str())]).into_response()
        }
    }
}

/// Files ffmpeg writes from its `sine` source (nobody here wrote the encoders): WAV (PCM), MP3, FLAC and
/// AAC in MP4, three seconds of stereo at 48 kHz, each at its own frequency. `None` (after `skip_without`'s
/// line) when ffmpeg is not installed.
pub fn ffmpeg_files(dir: &Path) -> Option<Vec<(String, &'static str, Vec<u8>)>> {
    if crate::testkit::skip_without("ffmpeg", "apt-get install -y ffmpeg") {
        return None;
    }
    let mut out = Vec::new();
    for (name, hz, content_type, codec) in [
        ("sine.wav", 1000, "audio/wav", &["-c:a", "pcm_s16le"][..]),
        ("sine.mp3", 660, "audio/mpeg", &["-c:a", "libmp3lame", "-b:a", "128k"][..]),
        ("sine.flac", 1500, "audio/flac", &["-c:a", "flac"][..]),
        ("sine.m4a", 880, "audio/mp4", &["-c:a", "aac", "-b:a", "128k"][..]),
    ] {
        let path = dir.join(name);
        let source = format!("sine=frequency={hz}:sample_rate=48000:duration=3");
        let run = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i", &source, "-ac", "2"])
            .args(codec)
            .arg(&path)
            .output();
        match run {
            Err(e) => panic!("ffmpeg is installed but did not run: {e}"),
            Ok(o) => assert!(o.status.success(), "ffmpeg failed for {name}: {}", String::from_utf8_lossy(&o.stderr)),
        }
        out.push((format!("/ffmpeg/{name}"), content_type, std::fs::read(&path).expect("ffmpeg output")));
    }
    Some(out)
}

/// Scenarios that a correct server passes: the engine's files decode to the track's tone at each
/// quality, ranges are exact, the DASH manifest lists and serves every quality.
pub const GOOD: &[(&str, &str)] = &[
    (
        "progressive.yaml",
        r#"name: progressive files decode to the track's tone
steps:
  - name: the track
    request: {path: /track.json}
    expect: {status: 200}
    capture: {tone: {pointer: /tone_hz}, seconds: {pointer: /duration}}
  - name: SD
    request: {path: /ok/sd.mp3}
    expect:
      status: 200
      headers: {content-type: audio/mpeg}
      audio: {codec: mp3, sample_rate: 44100, channels: 2, duration: {seconds: "{{seconds}}"}, frequency: {hz: "{{tone}}"}}
  - name: HD
    request: {path: /ok/hd.flac}
    expect:
      audio:
        codec: flac
        sample_rate: 44100
        channels: 2
        bits_per_sample: 16
        duration: {seconds: 7, tolerance: 0.001}
        frequency: {hz: "{{tone}}", tolerance: 0.5}
  - name: UHD
    request: {path: /ok/uhd.flac}
    expect:
      audio:
        codec: flac
        sample_rate: 96000
        channels: 2
        bits_per_sample: 24
        duration: {seconds: 7, tolerance: 0.001}
        frequency: {hz: "{{tone}}", tolerance: 0.5}
"#,
    ),
    (
        "ranges.yaml",
        r#"name: byte ranges of a progressive file are exact
steps:
  - name: ranges of the HD file
    request: {path: /ok/hd.flac}
    expect:
      status: 200
      range:
        - {header: "bytes=100-199"}
        - {header: "bytes=-500"}
        - {header: "bytes=1000-"}
        - {header: "bytes=0-0"}
        - {header: "bytes=-99999999"}
        - {header: "bytes=0-9, 50-59, 55-70"}
        - {header: "bytes=0-0,2-2,4-4", status: [206, 200]}
        - {header: "bytes=99999999-"}
        - {header: "items=0-1", status: 200}
  - name: the step's own Range
    request: {path: /ok/sd.mp3, headers: {range: "bytes=10-20"}}
    expect:
      status: 206
      headers: {content-range: {regex: "^bytes 10-20/"}}
      range: {}
"#,
    ),
    (
        "dash.yaml",
        r#"name: the DASH manifest lists every quality and each one plays
steps:
  - request: {path: /track.json}
    expect: {status: 200}
    capture: {tone: {pointer: /tone_hz}, manifest: {pointer: /dash/ok}}
  - name: manifest
    request: {path: "{{manifest}}"}
    expect:
      status: 200
      headers: {content-type: application/dash+xml}
      dash:
        duration: {seconds: 7}
        representations:
          - {id: UHD, codecs: flac, audio_sampling_rate: 96000, channels: 2, segments: 2}
          - {id: SD, codecs: mp4a.6B, audio_sampling_rate: 44100}
          - {id: HD, codecs: {regex: "(?i)^flac$"}, audio_sampling_rate: 44100}
        fetch:
          - representation: SD
            audio: {codec: mp3, sample_rate: 44100, channels: 2, duration: {seconds: 7}, frequency: {hz: "{{tone}}"}}
          - representation: {audio_sampling_rate: 96000}
            audio:
              codec: flac
              sample_rate: 96000
              bits_per_sample: 24
              duration: {seconds: 7, tolerance: 0.001}
              frequency: {hz: "{{tone}}"}
          - {representation: 1, decode: false}
"#,
    ),
    (
        "bare.yaml",
        r#"name: bare segment URLs carry the manifest's query when asked
steps:
  - request: {path: /track.json}
    expect: {status: 200}
    capture: {manifest: {pointer: /dash/bare}}
  - request: {path: "{{manifest}}"}
    expect:
      dash:
        representations_include: [{id: HD}]
        fetch: {representation: HD, append_manifest_query: true, audio: {codec: flac, duration: {seconds: 7}}}
"#,
    ),
];

/// Scenarios that the server's wrong variants fail, one defect each (a right server passes them all).
pub const WRONG: &[(&str, &str)] = &[
    (
        "tone.yaml",
        r#"name: wrong frequency
steps:
  - request: {path: /track.json}
    expect: {status: 200}
    capture: {tone: {pointer: /tone_hz}}
  - name: the file
    request: {path: /wrong/tone.flac}
    expect: {audio: {codec: flac, frequency: {hz: "{{tone}}"}}}
"#,
    ),
    (
        "short.yaml",
        r#"name: truncated duration
steps:
  - name: the file
    request: {path: /wrong/short.flac}
    expect: {audio: {duration: {seconds: 7}}}
"#,
    ),
    (
        "truncated.yaml",
        r#"name: truncated bytes
steps:
  - name: the file
    request: {path: /wrong/truncated.flac}
    expect: {audio: {duration: {seconds: 7}}}
"#,
    ),
    (
        "rate.yaml",
        r#"name: wrong sample rate
steps:
  - name: the file
    request: {path: /wrong/rate.flac}
    expect: {audio: {codec: flac, sample_rate: 96000, bits_per_sample: 24}}
"#,
    ),
    (
        "missing.yaml",
        r#"name: a representation is missing
steps:
  - request: {path: /track.json}
    expect: {status: 200}
    capture: {manifest: {pointer: /dash/missing}}
  - name: manifest
    request: {path: "{{manifest}}"}
    expect:
      dash:
        representations: [{id: SD}, {id: HD}, {codecs: flac, audio_sampling_rate: 96000}]
"#,
    ),
    (
        "segment.yaml",
        r#"name: a segment is missing
steps:
  - request: {path: /track.json}
    expect: {status: 200}
    capture: {manifest: {pointer: /dash/broken}}
  - name: manifest
    request: {path: "{{manifest}}"}
    expect:
      dash:
        fetch: {representation: HD}
"#,
    ),
    (
        "bare.yaml",
        r#"name: bare segment URLs without the manifest's query
steps:
  - request: {path: /track.json}
    expect: {status: 200}
    capture: {manifest: {pointer: /dash/bare}}
  - name: manifest
    request: {path: "{{manifest}}"}
    expect:
      dash:
        fetch: {representation: HD}
"#,
    ),
    (
        "shifted.yaml",
        r#"name: a range with the wrong bytes
steps:
  - name: the file
    request: {path: /wrong/shifted.flac}
    expect: {range: {header: "bytes=100-199"}}
"#,
    ),
    (
        "content-range.yaml",
        r#"name: wrong Content-Range
steps:
  - name: the file
    request: {path: /wrong/content-range.flac}
    expect: {range: [{header: "bytes=100-199"}, {header: "bytes=99999999-"}]}
"#,
    ),
    (
        "ignored.yaml",
        r#"name: Range ignored
steps:
  - name: the file
    request: {path: /wrong/no-ranges.flac}
    expect: {range: {header: "bytes=-500"}}
"#,
    ),
    (
        "first-range.yaml",
        r#"name: a part of a multi-range answer is missing
steps:
  - name: the file
    request: {path: /wrong/first-range.flac}
    expect: {range: {header: "bytes=0-9,50-59"}}
"#,
    ),
];
