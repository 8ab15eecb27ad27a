//! Concurrent listeners against the stream routes, over HTTP on loopback from an in-process server (run with
//! `--release`):
//!
//! ```text
//! cargo run --release --example listeners [-- --listeners 50 --rounds 4]
//! ```
//!
//! Each listener streams a whole track (`B076YT2CBT`, 215 s, HD) `--rounds` times, reading the body chunk by
//! chunk and dropping it: first as the progressive FLAC, then as DASH (manifest, init, every media segment).
//! The single listener plays it `--listeners × --rounds` times, so both runs move the same bytes.
//! Files are encoded once before measuring, so the runs measure serving from the on-disk cache. For one
//! listener and for `--listeners`, it prints total throughput (MB/s) and the **server's** resident memory,
//! sampled every 2 ms (`VmRSS` in `/proc/<pid>/status`): the server runs in a child process (this example
//! started again with `--serve`), so the clients' buffers are not counted. HD and UHD files are both played,
//! to show that what a listener costs does not grow with the file.
//!
//! Machines here are shared and noisy: compare ratios between runs on one machine, not absolute numbers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use amazon_music_mock::{ServerConfig, start};
use futures_util::StreamExt;
use serde_json::{Value, json};

const TRACK: &str = "B076YT2CBT";

/// `VmRSS` or `VmHWM` of process `pid`, KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Samples a process's `VmRSS` on its own thread and keeps the peak since the last [`Sampler::reset`].
struct Sampler {
    pid: u32,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Sampler {
    fn start(pid: u32) -> Self {
        let (peak, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
        let (p, s) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(status_kib(pid, "VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Sampler { pid, peak, stop }
    }

    fn reset(&self) {
        self.peak.store(status_kib(self.pid, "VmRSS:"), Ordering::Relaxed);
    }

    fn peak_kib(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Streams one URL to the end in chunks; returns the bytes read.
async fn drain(http: &reqwest::Client, url: &str) -> u64 {
    let r = http.get(url).send().await.expect("request");
    assert_eq!(r.status(), 200, "{url}");
    let mut body = r.bytes_stream();
    let mut n = 0u64;
    while let Some(chunk) = body.next().await {
        n += chunk.expect("chunk").len() as u64;
    }
    n
}

/// What one listener fetches for one play of the track.
#[derive(Clone)]
enum Play {
    Progressive(String),
    Dash(Vec<String>),
}

async fn listen(http: reqwest::Client, play: Play, rounds: usize) -> u64 {
    let mut n = 0;
    for _ in 0..rounds {
        match &play {
            Play::Progressive(url) => n += drain(&http, url).await,
            Play::Dash(urls) => {
                for u in urls {
                    n += drain(&http, u).await;
                }
            }
        }
    }
    n
}

struct Run {
    mb_per_s: f64,
    peak_kib: u64,
    base_kib: u64,
}

async fn run(listeners: usize, play: &Play, rounds: usize, sampler: &Sampler) -> Run {
    // One client whose pool opens a connection per listener: per-listener memory is then the connection's,
    // not a whole client's (TLS roots and all).
    let http = reqwest::Client::new();
    let base_kib = status_kib(sampler.pid, "VmRSS:");
    sampler.reset();
    let t = Instant::now();
    let tasks: Vec<_> = (0..listeners).map(|_| tokio::spawn(listen(http.clone(), play.clone(), rounds))).collect();
    let mut bytes = 0;
    for task in tasks {
        bytes += task.await.expect("listener");
    }
    let secs = t.elapsed().as_secs_f64();
    Run { mb_per_s: bytes as f64 / 1e6 / secs, peak_kib: sampler.peak_kib(), base_kib }
}

/// `--serve CACHE_DIR`: the server process. Prints its URL, serves until its standard input closes.
async fn serve(cache_dir: &str) {
    let cfg = ServerConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        seed: Some(1),
        stream_cache_dir: Some(cache_dir.into()),
        ..ServerConfig::default()
    };
    let server = start(&cfg).await.expect("server starts");
    println!("{}", server.uri());
    let _ = tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink())).await;
    server.stop().await;
}

/// Starts the server process; returns it and its URL.
fn spawn_server(cache_dir: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("--serve")
        .arg(cache_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("server process");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("server URL");
    (child, line.trim().to_owned())
}

/// The URLs of one play of `TRACK` at `quality`: the progressive file, and the DASH manifest with its init and
/// media segments.
async fn plays(http: &reqwest::Client, base: &str, quality: &str) -> (Play, Play) {
    let signed: Value = http
        .post(format!("{base}/__admin/streams/sign"))
        .json(&json!({"asin": TRACK, "qualities": [quality], "ttlSeconds": 86_400}))
        .send()
        .await
        .expect("sign")
        .json()
        .await
        .expect("sign JSON");
    let progressive = signed["progressive"][quality].as_str().expect("a progressive URL").to_owned();
    let manifest = signed["dash"].as_str().expect("a DASH URL").to_owned();
    let query = manifest.split_once('?').expect("query").1;
    let dir = manifest.rsplit_once("/manifest.mpd").expect("manifest path").0;
    let xml = http.get(&manifest).send().await.expect("manifest").text().await.expect("manifest text");
    let count: usize = dash_mpd::parse(&xml).map_or(0, |m| {
        let rep = &m.periods[0].adaptations[0].representations[0];
        let timeline = rep.SegmentTemplate.as_ref().and_then(|t| t.SegmentTimeline.as_ref());
        timeline.map_or(0, |tl| tl.segments.iter().map(|s| 1 + s.r.unwrap_or(0) as usize).sum())
    });
    let slug = quality.to_ascii_lowercase();
    let mut dash = vec![manifest.clone(), format!("{dir}/{slug}/init.mp4?{query}")];
    dash.extend((1..=count).map(|n| format!("{dir}/{slug}/{n}.m4s?{query}")));
    (Play::Progressive(progressive), Play::Dash(dash))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        return serve(args.get(i + 1).expect("--serve CACHE_DIR")).await;
    }
    let listeners = arg("--listeners", 50);
    let rounds = arg("--rounds", 4);
    let cache_dir = std::env::temp_dir().join(format!("amm-listeners-{}", std::process::id()));
    let (mut server, base) = spawn_server(&cache_dir);
    let http = reqwest::Client::new();
    let mut runs = Vec::new();
    for quality in ["HD", "UHD"] {
        let (progressive, dash) = plays(&http, &base, quality).await;
        // Encode everything once; the runs then serve from the cache.
        let t = Instant::now();
        let file_bytes = listen(http.clone(), progressive.clone(), 1).await;
        let dash_bytes = listen(http.clone(), dash.clone(), 1).await;
        let Play::Dash(urls) = &dash else { unreachable!("a DASH play") };
        println!(
            "{TRACK} (215 s) {quality}: progressive FLAC {:.1} MB; DASH {} requests, {:.1} MB; encoded in {:.1} s",
            file_bytes as f64 / 1e6,
            urls.len(),
            dash_bytes as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
        runs.push((format!("progressive {quality}"), progressive, file_bytes));
        runs.push((format!("DASH {quality}"), dash, dash_bytes));
    }
    println!(
        "{listeners} listeners playing the track {rounds} times each, vs 1 listener playing it {} times (the same bytes); \
         bodies read in chunks and dropped; memory is the server process's",
        rounds * listeners
    );
    println!();
    println!(
        "| play | MB/s, 1 listener | MB/s, {listeners} | ratio | server RSS before (MiB) | peak growth, 1 (MiB) | peak growth, {listeners} (MiB) | per listener (KiB) | file (KiB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let sampler = Sampler::start(server.id());
    for (name, play, bytes) in &runs {
        // The same total work: one listener plays the track as often as all of them together.
        let one = run(1, play, rounds * listeners, &sampler).await;
        let many = run(listeners, play, rounds, &sampler).await;
        let growth = |r: &Run| r.peak_kib.saturating_sub(r.base_kib);
        println!(
            "| {name} | {:.0} | {:.0} | {:.2} | {:.1} | {:.1} | {:.1} | {:.0} | {:.0} |",
            one.mb_per_s,
            many.mb_per_s,
            many.mb_per_s / one.mb_per_s,
            mib(one.base_kib),
            mib(growth(&one)),
            mib(growth(&many)),
            growth(&many) as f64 / listeners as f64,
            *bytes as f64 / 1024.0,
        );
    }
    println!();
    println!("server VmHWM (peak RSS of the whole run): {:.1} MiB", mib(status_kib(server.id(), "VmHWM:")));
    drop(sampler);
    drop(server.stdin.take());
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(cache_dir);
}
