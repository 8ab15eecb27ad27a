//! Test helpers shared by the engine's unit tests (`stream/tests.rs`) and the HTTP tests (`tests/it`), which
//! both include this file with `#[path]`: it is not part of the library. Decoding uses Symphonia and probing
//! uses ffprobe, tools nobody here wrote. Needs the dev-dependencies `symphonia` and `serde_json`.

#![allow(dead_code)]

use std::io::Cursor;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CodecType, DecoderOptions};
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// What Symphonia made of a file.
pub struct Decoded {
    pub codec: CodecType,
    pub sample_rate: u32,
    pub channels: usize,
    /// Sample frames decoded (gapless: encoder delay and padding trimmed).
    pub frames: u64,
    /// The left channel.
    pub left: Vec<f32>,
}

/// Decodes a whole file; `ext` (`mp3`, `flac`, `mp4`) is the probe's hint.
pub fn decode(bytes: Vec<u8>, ext: &str) -> Decoded {
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(ext);
    let opts = FormatOptions { enable_gapless: true, ..Default::default() };
    let probed = symphonia::default::get_probe().format(&hint, mss, &opts, &MetadataOptions::default()).expect("probe");
    let mut format = probed.format;
    let t = format.default_track().expect("a track").clone();
    let mut dec = symphonia::default::get_codecs().make(&t.codec_params, &DecoderOptions::default()).expect("codec");
    let mut out = Decoded {
        codec: t.codec_params.codec,
        sample_rate: t.codec_params.sample_rate.unwrap_or(0),
        channels: t.codec_params.channels.map(|c| c.count()).unwrap_or(0),
        frames: 0,
        left: Vec::new(),
    };
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(symphonia::core::errors::Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => panic!("demux: {e}"),
        };
        let buf = dec.decode(&packet).expect("decode");
        let spec = *buf.spec();
        out.sample_rate = spec.rate;
        out.channels = spec.channels.count();
        let mut sb = SampleBuffer::<f32>::new(buf.capacity() as u64, spec);
        sb.copy_interleaved_ref(buf);
        let s = sb.samples();
        out.frames += (s.len() / out.channels) as u64;
        out.left.extend(s.iter().step_by(out.channels));
    }
    out
}

fn goertzel(x: &[f32], rate: f32, hz: f32) -> f32 {
    let w = std::f32::consts::TAU * hz / rate;
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0f32, 0f32);
    for &v in x {
        let s0 = v + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - c * s1 * s2
}

/// The strongest frequency between 200 and 1800 Hz in one second from a quarter in: a 5 Hz scan, then a
/// 0.5 Hz refinement.
pub fn dominant_hz(x: &[f32], rate: u32) -> f32 {
    let r = rate as f32;
    let win = &x[x.len() / 4..(x.len() / 4 + rate as usize).min(x.len())];
    let best = |lo: f32, hi: f32, step: f32| {
        let mut f = lo;
        let (mut bf, mut bp) = (lo, -1.0f32);
        while f <= hi {
            let p = goertzel(win, r, f);
            if p > bp {
                (bf, bp) = (f, p);
            }
            f += step;
        }
        bf
    };
    let coarse = best(200.0, 1800.0, 5.0);
    best(coarse - 5.0, coarse + 5.0, 0.5)
}

/// Asserts that the decoded audio is a tone of `want_hz` (within 2 %).
pub fn assert_tone_hz(d: &Decoded, want_hz: f32) {
    let got = dominant_hz(&d.left, d.sample_rate);
    assert!((got - want_hz).abs() / want_hz < 0.02, "dominant {got} Hz, want {want_hz} Hz");
}

/// One audio stream as ffprobe reports it.
#[derive(Debug)]
pub struct ProbedStream {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u64,
    /// The stream's duration, or the container's when the stream has none (DASH).
    pub duration_s: f64,
}

/// Whether a test must skip because `tool` (a command on `PATH`, or an absolute path) is missing: it prints
/// the one line `skipped: TOOL is not installed (INSTALL)` and answers true. With `AMM_REQUIRE_TOOLS=1` (CI
/// sets it) a missing tool fails the test instead, so that nothing passes by skipping.
pub fn skip_without(tool: &str, install: &str) -> bool {
    let found = if tool.starts_with('/') {
        std::path::Path::new(tool).is_file()
    } else {
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
    };
    if found {
        return false;
    }
    let line = format!("skipped: {tool} is not installed ({install})");
    assert!(std::env::var("AMM_REQUIRE_TOOLS").as_deref() != Ok("1"), "{line}, and AMM_REQUIRE_TOOLS=1 requires it");
    println!("{line}");
    true
}

/// Runs `ffprobe` on a file or URL and returns its audio streams, or `None` (after [`skip_without`]'s line)
/// when ffprobe is not installed.
pub fn ffprobe(target: &str) -> Option<Vec<ProbedStream>> {
    if skip_without("ffprobe", "apt-get install -y ffmpeg") {
        return None;
    }
    let out = match std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_format", "-show_streams", "-of", "json", target])
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("ffprobe is installed but did not run: {e}"),
    };
    assert!(out.status.success(), "ffprobe failed on {target}: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ffprobe JSON");
    let seconds = |x: &serde_json::Value| x.as_str().and_then(|d| d.parse::<f64>().ok());
    let container = seconds(&v["format"]["duration"]).unwrap_or(f64::NAN);
    let streams = v["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter(|s| s["codec_type"] == "audio")
        .map(|s| ProbedStream {
            codec: s["codec_name"].as_str().unwrap_or("").to_owned(),
            sample_rate: s["sample_rate"].as_str().and_then(|r| r.parse().ok()).unwrap_or(0),
            channels: s["channels"].as_u64().unwrap_or(0),
            duration_s: seconds(&s["duration"]).unwrap_or(container),
        })
        .collect();
    Some(streams)
}
