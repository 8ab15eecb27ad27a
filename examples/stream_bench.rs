//! Encode time and size per quality for one minute of audio (run with `--release`):
//!
//! ```text
//! cargo run --release --example stream_bench [-- SECONDS [OUT_DIR]]
//! ```
//!
//! With `OUT_DIR`, the progressive files, the MPD and its segments are kept there (for ffprobe).

use std::time::Instant;

use amazon_music_mock::test_support::catalog::AudioQualities;
use amazon_music_mock::test_support::stream::{
    Quality, SegmentLayout, StreamCache, TrackAudio, encode_progressive, mpd,
};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let seconds: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(60);
    let keep = args.next().map(std::path::PathBuf::from);
    let out = keep.clone().unwrap_or_else(|| std::env::temp_dir().join("amm-stream-bench"));
    std::fs::create_dir_all(&out)?;
    println!("{seconds} s of audio per quality");
    println!("| quality | encode (s) | s per minute of audio | size (bytes) | kbit/s |");
    println!("|---|---|---|---|---|");
    for q in Quality::ALL {
        let path = out.join(format!("bench-{}.{}", q.slug(), q.extension()));
        let mut f = std::fs::File::create(&path)?;
        let t = Instant::now();
        let len = encode_progressive("B0BENCHMRK", seconds, q, &mut std::io::BufWriter::new(&mut f))?;
        let dt = t.elapsed().as_secs_f64();
        println!(
            "| {q} | {dt:.3} | {:.3} | {len} | {:.0} |",
            dt * 60.0 / f64::from(seconds),
            len as f64 * 8.0 / f64::from(seconds) / 1000.0
        );
    }
    // DASH: every segment of every quality, through the cache, laid out next to the MPD.
    let cache = StreamCache::new(out.join("cache"), 4 << 30)?;
    let track = TrackAudio { id: "B0BENCHMRK".into(), duration_s: seconds, qualities: AudioQualities::UHD };
    let dash = out.join("dash");
    std::fs::create_dir_all(&dash)?;
    std::fs::write(dash.join("manifest.mpd"), mpd(seconds, &Quality::ALL, None))?;
    for q in Quality::ALL {
        let t = Instant::now();
        let dir = dash.join(q.slug());
        std::fs::create_dir_all(&dir)?;
        std::fs::copy(cache.dash_init(&track, q).await?.path, dir.join("init.mp4"))?;
        let layout = SegmentLayout::new(q, seconds);
        for n in 1..=layout.count {
            let seg = cache.dash_segment(&track, q, n).await?.expect("in range");
            std::fs::copy(&seg.path, dir.join(format!("{n}.m4s")))?;
        }
        println!(
            "DASH {q}: {} segments in {:.3} s (SD includes its progressive encode)",
            layout.count,
            t.elapsed().as_secs_f64()
        );
    }
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&out);
    } else {
        println!("kept in {}", out.display());
    }
    Ok(())
}
