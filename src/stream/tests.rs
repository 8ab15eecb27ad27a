//! End-to-end checks of the engine: encode, decode with Symphonia (a decoder nobody here wrote), measure
//! the tone; cache behaviour; DASH manifests and segments; ffprobe when it is installed.

use std::io::Cursor;

use mp4_atom::{Any, Decode as _};
use symphonia::core::codecs::{CODEC_TYPE_FLAC, CODEC_TYPE_MP3};

use self::testkit::{Decoded, assert_tone_hz, decode, ffprobe};
use super::*;
use crate::fixtures::Tier;

#[path = "testkit.rs"]
mod testkit;

const SECONDS: u32 = 7;

fn track(id: &str, qualities: AudioQualities) -> TrackAudio {
    TrackAudio { id: id.to_owned(), duration_s: SECONDS, qualities }
}

fn assert_tone(d: &Decoded, id: &str) {
    assert_tone_hz(d, tone_hz(id));
}

fn progressive_bytes(id: &str, q: Quality) -> Vec<u8> {
    let mut c = Cursor::new(Vec::new());
    let n = encode_progressive(id, SECONDS, q, &mut c).expect("encode");
    let v = c.into_inner();
    assert_eq!(v.len() as u64, n);
    v
}

#[test]
fn progressive_files_decode_to_the_tone_rate_and_duration() {
    for (q, codec) in [(Quality::Sd, CODEC_TYPE_MP3), (Quality::Hd, CODEC_TYPE_FLAC), (Quality::Uhd, CODEC_TYPE_FLAC)] {
        let id = "B0TESTTON1";
        let d = decode(progressive_bytes(id, q), q.extension());
        assert_eq!(d.codec, codec, "{q}");
        assert_eq!(d.sample_rate, q.sample_rate(), "{q}");
        assert_eq!(d.channels, 2, "{q}");
        let want = u64::from(SECONDS) * u64::from(q.sample_rate());
        let slack = if q == Quality::Sd { 1152 } else { 0 };
        assert!(d.frames.abs_diff(want) <= slack, "{q}: {} decoded frames, want {want}", d.frames);
        assert_tone(&d, id);
    }
}

#[test]
fn different_tracks_sound_different() {
    let (a, b) = ("B0AAAAAAAA", "B0BBBBBBBB");
    assert!((tone_hz(a) - tone_hz(b)).abs() > 10.0, "pick ids with distinct tones");
    let d = decode(progressive_bytes(b, Quality::Hd), "flac");
    assert_tone(&d, b);
}

#[test]
fn encoding_is_deterministic_and_mp3_frames_are_indexed() {
    let a = progressive_bytes("B0DETERMIN", Quality::Sd);
    assert_eq!(a, progressive_bytes("B0DETERMIN", Quality::Sd));
    let frames = mp3_frames(&mut Cursor::new(&a), a.len() as u64).expect("CBR frames");
    let samples = frames.len() as u64 * 1152;
    let want = u64::from(SECONDS) * 44_100;
    assert!(samples >= want && samples <= want + 3 * 1152, "{} frames", frames.len());
    assert_eq!(frames.last().map(|f| f.0 + u64::from(f.1)), Some(a.len() as u64));
}

fn temp_cache(max: u64) -> (StreamCache, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("amm-stream-test-{}", uuid::Uuid::new_v4().simple()));
    (StreamCache::new(&dir, max).expect("cache dir"), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_encodes_once_and_serves_ranges() {
    let (cache, dir) = temp_cache(DEFAULT_MAX_BYTES);
    let cache = std::sync::Arc::new(cache);
    let t = track("B0CACHEONE", AudioQualities::HD);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (c, t) = (cache.clone(), t.clone());
            tokio::spawn(async move { c.get_or_encode(&t, Quality::Hd).await.expect("encode") })
        })
        .collect();
    let mut files = Vec::new();
    for task in tasks {
        files.push(task.await.expect("join"));
    }
    assert!(files.iter().all(|f| f.etag == files[0].etag && f.len == files[0].len));
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 1, "one encode, no temporary files left");
    let f = &files[0];
    assert_eq!(f.content_type, "audio/flac");
    let mut head = [0u8; 4];
    f.read_at(0, &mut head).expect("read");
    assert_eq!(&head, b"fLaC");
    use tokio::io::AsyncReadExt;
    let mut r = f.open_range(f.len - 10, f.len - 1).await.expect("range");
    let mut tail = Vec::new();
    r.read_to_end(&mut tail).await.expect("read");
    assert_eq!(tail.len(), 10);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_cache_evicts_least_recently_used_files() {
    let (cache, dir) = temp_cache(150_000);
    let a = cache.get_or_encode(&track("B0EVICTAAA", AudioQualities::SD), Quality::Sd).await.expect("a");
    let b = cache.get_or_encode(&track("B0EVICTBBB", AudioQualities::SD), Quality::Sd).await.expect("b");
    assert!(a.len + b.len > 150_000 && b.len <= 150_000, "two 7 s MP3s exceed the bound, one fits");
    assert!(!a.path.exists() && b.path.exists());
    assert!(cache.total_bytes() <= 150_000);
    // A handle taken before eviction still reads.
    let mut buf = [0u8; 2];
    a.read_at(0, &mut buf).expect("evicted file is still readable through its handle");
    let _ = std::fs::remove_dir_all(dir);
}

fn parse_mpd(xml: &str) -> dash_mpd::MPD {
    dash_mpd::parse(xml).expect("the MPD parses")
}

#[test]
fn mpd_lists_the_allowed_representations() {
    let t = track("B0MANIFEST", AudioQualities::UHD);
    let cases = [
        (Tier::Unlimited, "HI_RES", vec!["SD", "HD", "UHD"]),
        (Tier::Unlimited, "HI_FI", vec!["SD", "HD"]),
        (Tier::Unlimited, "", vec!["SD"]),
        (Tier::Prime, "HI_RES", vec!["SD"]),
        (Tier::Free, "HI_FI,HI_RES", vec!["SD"]),
    ];
    for (tier, header, want) in cases {
        let caps = Capabilities::parse(Some(header)).expect("known");
        let qs = allowed_qualities(tier, caps, t.qualities);
        let xml = mpd(t.duration_s, &qs, Some("exp=1&sig=x"));
        let m = parse_mpd(&xml);
        assert_eq!(m.mediaPresentationDuration, Some(std::time::Duration::from_secs(7)));
        let set = &m.periods[0].adaptations[0];
        let ids: Vec<_> = set.representations.iter().map(|r| r.id.clone().unwrap_or_default()).collect();
        assert_eq!(ids, want, "{tier:?} {header}");
        for r in &set.representations {
            let q = Quality::parse(r.id.as_deref().unwrap_or("")).expect("quality id");
            assert_eq!(r.codecs.as_deref(), Some(q.dash_codecs()));
            assert_eq!(r.audioSamplingRate.as_deref(), Some(q.sample_rate().to_string().as_str()));
            let tpl = r.SegmentTemplate.as_ref().expect("template");
            assert_eq!(tpl.media.as_deref(), Some(format!("{}/$Number$.m4s?exp=1&sig=x", q.slug()).as_str()));
            let layout = SegmentLayout::new(q, t.duration_s);
            let timeline = tpl.SegmentTimeline.as_ref().expect("timeline");
            let count: u64 = timeline.segments.iter().map(|s| 1 + s.r.unwrap_or(0) as u64).sum();
            let samples: u64 = timeline.segments.iter().map(|s| (1 + s.r.unwrap_or(0) as u64) * s.d).sum();
            assert_eq!(count, layout.count, "{q}");
            assert_eq!(samples, u64::from(t.duration_s) * u64::from(q.sample_rate()), "{q}");
        }
    }
}

/// Sums the `trun` sample durations of a media segment and checks `tfdt`.
fn segment_samples(seg: &[u8], want_base: u64) -> u64 {
    let mut c = Cursor::new(seg);
    let mut total = 0;
    while (c.position() as usize) < seg.len() {
        match Any::decode(&mut c).expect("an ISO BMFF box") {
            Any::Moof(m) => {
                let traf = &m.traf[0];
                assert_eq!(traf.tfdt.as_ref().map(|t| t.base_media_decode_time), Some(want_base));
                total += traf.trun[0].entries.iter().map(|e| u64::from(e.duration.unwrap_or(0))).sum::<u64>();
            }
            Any::Mdat(_) | Any::Styp(_) => {}
            other => panic!("unexpected box {other:?}"),
        }
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dash_segments_decode_and_add_up_to_the_duration() {
    let (cache, dir) = temp_cache(DEFAULT_MAX_BYTES);
    let id = "B0DASHSEGS";
    let t = track(id, AudioQualities::UHD);
    for q in Quality::ALL {
        let layout = SegmentLayout::new(q, SECONDS);
        let init = cache.dash_init(&t, q).await.expect("init");
        let mut whole = std::fs::read(&init.path).expect("init bytes");
        let mut samples = 0;
        for n in 1..=layout.count {
            let seg = cache.dash_segment(&t, q, n).await.expect("segment").expect("in range");
            let bytes = std::fs::read(&seg.path).expect("segment bytes");
            samples += segment_samples(&bytes, (n - 1) * layout.samples_per_segment);
            whole.extend_from_slice(&bytes);
        }
        assert!(cache.dash_segment(&t, q, layout.count + 1).await.expect("no error").is_none());
        assert!(cache.dash_segment(&t, q, 0).await.expect("no error").is_none());
        let want = u64::from(SECONDS) * u64::from(q.sample_rate());
        let slack = if q == Quality::Sd { 2 * 1152 } else { 0 };
        assert!(samples >= want && samples <= want + slack, "{q}: segments hold {samples} samples, want {want}");
        let d = decode(whole, "mp4");
        assert_eq!(d.sample_rate, q.sample_rate(), "{q}");
        assert_eq!(d.channels, 2, "{q}");
        assert!(d.frames.abs_diff(want) <= slack, "{q}: {} decoded frames", d.frames);
        assert_tone(&d, id);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffprobe_accepts_progressive_files_and_the_mpd() {
    let (cache, dir) = temp_cache(DEFAULT_MAX_BYTES);
    let t = track("B0FFPROBE1", AudioQualities::UHD);
    for q in Quality::ALL {
        let f = cache.get_or_encode(&t, q).await.expect("encode");
        let Some(streams) = ffprobe(&f.path.to_string_lossy()) else { return };
        let s = &streams[0];
        assert_eq!(s.codec, if q == Quality::Sd { "mp3" } else { "flac" }, "{q}");
        assert_eq!(s.sample_rate, q.sample_rate(), "{q}");
        assert!((s.duration_s - f64::from(SECONDS)).abs() < 0.03, "{q}: ffprobe says {} s", s.duration_s);
    }
    // The MPD with its init and media segments laid out as relative files next to it.
    let qs = Quality::ALL;
    let root = dir.join("dash");
    std::fs::create_dir_all(&root).expect("dash dir");
    std::fs::write(root.join("manifest.mpd"), mpd(SECONDS, &qs, None)).expect("mpd");
    for q in qs {
        let qdir = root.join(q.slug());
        std::fs::create_dir_all(&qdir).expect("quality dir");
        std::fs::copy(cache.dash_init(&t, q).await.expect("init").path, qdir.join("init.mp4")).expect("copy");
        for n in 1..=SegmentLayout::new(q, SECONDS).count {
            let seg = cache.dash_segment(&t, q, n).await.expect("segment").expect("in range");
            std::fs::copy(seg.path, qdir.join(format!("{n}.m4s"))).expect("copy");
        }
    }
    let Some(streams) = ffprobe(&root.join("manifest.mpd").to_string_lossy()) else { return };
    let (codec, dur) = (&streams[0].codec, streams[0].duration_s);
    assert!(["mp3", "flac"].contains(&codec.as_str()), "first DASH stream codec {codec}");
    assert!((dur - f64::from(SECONDS)).abs() < 0.1, "DASH duration {dur}");
    let _ = std::fs::remove_dir_all(dir);
}
