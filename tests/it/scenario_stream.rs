//! The stream expectations (`audio`, `dash`, `range`) against a target that is not the mock: they pass on
//! files the engine and ffmpeg wrote, and each deliberately wrong file, manifest, segment or range fails
//! its scenario with a message naming the step and the expectation, in every report format, exit code 1.

use amazon_music_mock::scenario::{Outcome, RunReport, ScenarioResult};

use crate::scenario_stream_support::*;
use crate::scenario_support::*;

fn result<'a>(r: &'a RunReport, name: &str) -> &'a ScenarioResult {
    r.scenarios.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no result for {name:?}"))
}

fn headline(r: &RunReport, name: &str) -> String {
    result(r, name).failure.as_ref().unwrap_or_else(|| panic!("{name:?} passed")).headline()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_expectations_pass_on_files_the_engine_wrote() {
    let server = start_stream_server(Vec::new()).await;
    let dir = scratch("stream-good");
    write_files(&dir, GOOD);

    let report = run_with(&load(&[dir]), against(&server.base)).await;

    assert_eq!(report.exit_code(), 0, "{}", failures(&report));
    assert_eq!(report.summary_line(), "4 passed, 0 failed, 0 skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_expectations_pass_on_files_ffmpeg_wrote() {
    let dir = scratch("stream-ffmpeg");
    let Some(files) = ffmpeg_files(&dir) else { return };
    let server = start_stream_server(files).await;
    write_files(
        &dir,
        &[(
            "ffmpeg.yaml",
            r#"name: files nobody here wrote decode to their tone
steps:
  - name: WAV
    request: {path: /ffmpeg/sine.wav}
    expect:
      audio: {codec: pcm, sample_rate: 48000, channels: 2, bits_per_sample: 16, duration: {seconds: 3, tolerance: 0.001}, frequency: {hz: 1000, tolerance: 0.5}}
      range: [{header: "bytes=0-43"}, {header: "bytes=-1000"}]
  - name: MP3
    request: {path: /ffmpeg/sine.mp3}
    expect:
      audio: {codec: mp3, sample_rate: 48000, channels: 2, duration: {seconds: 3}, frequency: {hz: 660}}
  - name: FLAC
    request: {path: /ffmpeg/sine.flac}
    expect:
      audio: {codec: flac, sample_rate: 48000, channels: 2, bits_per_sample: 16, duration: {seconds: 3, tolerance: 0.001}, frequency: {hz: 1500}}
  - name: AAC in MP4
    request: {path: /ffmpeg/sine.m4a}
    expect:
      audio: {codec: aac, sample_rate: 48000, channels: 2, duration: {seconds: 3}, frequency: {hz: 880}}
"#,
        )],
    );

    let report = run_with(&load(&[dir.join("ffmpeg.yaml")]), against(&server.base)).await;

    assert_eq!(report.exit_code(), 0, "{}", failures(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_wrong_stream_fails_its_scenario_naming_the_step_and_the_expectation() {
    let server = start_stream_server(Vec::new()).await;
    let dir = scratch("stream-wrong");
    write_files(&dir, WRONG);

    let report = run_with(&load(&[dir]), against(&server.base)).await;

    assert_eq!(report.exit_code(), 1);
    assert_eq!(report.summary_line(), "0 passed, 11 failed, 0 skipped", "{}", failures(&report));
    let other = amazon_music_mock::test_support::stream::tone_hz(OTHER);
    assert_eq!(
        headline(&report, "wrong frequency"),
        format!("step 2 (the file): audio frequency: expected {} Hz ± 2, got {other:.1} Hz", server.tone)
    );
    assert_eq!(
        headline(&report, "truncated duration"),
        "step 1 (the file): audio duration: expected 7 s ± 0.1, got 5.000 s (220500 frames at 44100 Hz)"
    );
    let truncated = headline(&report, "truncated bytes");
    assert!(truncated.starts_with("step 1 (the file): audio duration: expected 7 s ± 0.1, got 4."), "{truncated}");
    assert_eq!(
        headline(&report, "wrong sample rate"),
        "step 1 (the file): audio sample_rate: expected 96000 Hz, got 44100 Hz (and 1 more)"
    );
    let f = result(&report, "wrong sample rate").failure.as_ref().unwrap();
    assert_eq!(f.mismatches[1].check, "audio bits_per_sample");
    assert_eq!((f.mismatches[1].expected.as_str(), f.mismatches[1].actual.as_str()), ("24", "16"));
    assert!(f.body.as_deref().is_some_and(|b| b.ends_with("bytes of binary data, audio/flac)")), "{:?}", f.body);

    let f = result(&report, "a representation is missing").failure.as_ref().unwrap();
    assert_eq!(
        f.headline(),
        "step 2 (manifest): dash representations[2]: expected a representation with \
         {\"codecs\":\"flac\",\"audio_sampling_rate\":96000}, got no representation matches; the closest, HD: \
         audio_sampling_rate expected 96000, got 44100"
    );
    let diff = f.diff.as_deref().expect("a diff of the representations");
    assert!(diff.contains("-    \"audio_sampling_rate\": 96000"), "{diff}");

    let segment = headline(&report, "a segment is missing");
    assert!(
        segment.starts_with("step 2 (manifest): dash fetch HD: segment 2: expected 200, got 404 from GET http://"),
        "{segment}"
    );
    assert!(segment.contains("/broken/dash/hd/2.m4s?q=SD,HD,UHD&exp="), "{segment}");
    let bare = headline(&report, "bare segment URLs without the manifest's query");
    assert!(
        bare.starts_with("step 2 (manifest): dash fetch HD: init segment: expected 200, got 403 from GET http://")
            && bare.ends_with(
                "/bare/dash/hd/init.mp4; it has no query, the manifest's had one (`append_manifest_query: true` \
                 adds it) (and 2 more)"
            ),
        "{bare}"
    );

    let shifted = result(&report, "a range with the wrong bytes").failure.as_ref().unwrap();
    assert!(
        shifted.headline().starts_with(
            "step 1 (the file): range bytes=100-199: body: expected bytes 100-199 of the whole (100 bytes), got 100 \
             bytes, the first difference at byte 0 (0x"
        ),
        "{}",
        shifted.headline()
    );
    let hex = shifted.diff.as_deref().expect("a hex diff");
    assert!(hex.contains("\n-00000064  ") && hex.contains("\n+00000064  "), "{hex}");

    let cr = result(&report, "wrong Content-Range").failure.as_ref().unwrap();
    let checks: Vec<&str> = cr.mismatches.iter().map(|m| m.check.as_str()).collect();
    assert_eq!(checks, ["range bytes=100-199: content-range", "range bytes=99999999-: content-range"]);
    let total: u64 = cr.mismatches[0].expected.trim_matches('"').rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(cr.mismatches[0].expected, format!("\"bytes 100-199/{total}\""));
    assert_eq!(cr.mismatches[0].actual, format!("\"bytes 100-199/{}\"", total + 1));
    assert_eq!(cr.mismatches[1].actual, "(absent)");

    assert_eq!(
        headline(&report, "Range ignored"),
        "step 1 (the file): range bytes=-500: status: expected 206, got 200 with the whole body (the Range header was \
         ignored)"
    );
    assert_eq!(
        headline(&report, "a part of a multi-range answer is missing"),
        "step 1 (the file): range bytes=0-9,50-59: ranges: expected bytes 50-59 in the answer, got parts 0-9"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reports_stream_failures_in_junit_html_and_json_and_exits_1() {
    let server = start_stream_server(Vec::new()).await;
    let dir = scratch("stream-wrong-bin");
    let picked = ["tone.yaml", "missing.yaml", "shifted.yaml"];
    let files: Vec<(&str, &str)> = WRONG.iter().copied().filter(|(n, _)| picked.contains(n)).collect();
    write_files(&dir, &files);
    let (out, Reports { junit, html, json }) = run_reporting(&dir, &server.base).await;

    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().last(), Some("0 passed, 3 failed, 0 skipped"), "{stdout}");
    let cases = junit_cases(&std::fs::read_to_string(&junit).expect("junit written"));
    let case = |name: &str| cases.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no testcase {name}"));
    let c = case("wrong frequency");
    assert_eq!(c.result.as_deref(), Some("failure"));
    assert!(c.message.starts_with("step 2 (the file): audio frequency: expected "), "{}", c.message);
    assert!(c.text.contains("GET /wrong/tone.flac -> 200"), "{}", c.text);
    let c = case("a representation is missing");
    assert!(c.text.contains("dash representations[2]:\n    expected: a representation with"), "{}", c.text);
    assert!(c.text.contains("-    \"audio_sampling_rate\": 96000"), "{}", c.text);
    let c = case("a range with the wrong bytes");
    assert!(c.text.contains("range bytes=100-199: body:\n    expected: bytes 100-199 of the whole"), "{}", c.text);
    let page = std::fs::read_to_string(&html).expect("html written");
    assert!(page.contains("audio frequency") && page.contains("dash representations[2]"), "{page}");
    assert!(page.contains("<span class=\"del\">-00000064"), "the hex diff is coloured: {page}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json written")).unwrap();
    assert_eq!(v["summary"]["failed"], 3);
    let tone = v["scenarios"].as_array().unwrap().iter().find(|s| s["name"] == "wrong frequency").unwrap();
    assert_eq!(tone["failure"]["mismatches"][0]["check"], "audio frequency");
    assert_eq!(tone["outcome"], serde_json::json!(Outcome::Failed));
}

#[tokio::test]
async fn check_reports_malformed_stream_keys_with_file_line_and_column() {
    let dir = scratch("stream-check");
    let bad = "name: bad streams\nsteps:\n  - request: {path: /a.flac}\n    expect:\n      audio: {codec: flac, \
               sample_rate: 0, frequency: {hz: \"{{tone}}\"}}\n      range: {header: \"bytes=9-1\"}\n";
    write_files(
        &dir,
        &[
            ("bad.yaml", bad),
            (
                "typo.yaml",
                "name: typo\nsteps:\n  - request: {path: /m}\n    expect:\n      dash: {representation: []}\n",
            ),
        ],
    );

    let out = bin(vec!["check".into(), dir.to_string_lossy().into_owned()]).await;

    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = |n: &str| dir.join(n).display().to_string();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.contains(
            &format!(
                "error: {}:5:28: step 1: audio sample_rate 0: expected a positive whole number of Hz",
                file("bad.yaml")
            )
            .as_str()
        ),
        "{stderr}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("error: {}:5:", file("bad.yaml")))
                && l.contains("{{tone}} is not defined here")),
        "{stderr}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "error: {}:6:24: step 1: range header \"bytes=9-1\" is not a byte-range set",
            file("bad.yaml")
        ))),
        "{stderr}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "error: {}:5:14: unknown field `representation`, expected one of",
            file("typo.yaml")
        ))),
        "{stderr}"
    );
}
