//! Memory stays bounded: starts the release binary and prints its resident memory (RSS, from
//! `/proc/PID/status`) before and after three loads that used to grow it without end (`docs/PERFORMANCE.md`):
//!
//! 1. five 1 MiB form posts of garbage to the token endpoint (each answered 400) — the journal keeps each
//!    request cut to 1 KiB a value and 50 pairs;
//! 2. 60,000 new session names (`/s/<name>/v1/me`, each answered 401) — at most `--max-sessions` (1000) are
//!    kept, the least recently used evicted;
//! 3. 100,000 authorization codes (`GET /ap/oa` with auto-consent), then the clock moved past their expiry —
//!    they are forgotten at once.
//!
//! Run: `cargo build --release && cargo run --release --example memory_bounds` (`AMM_BIN` to use another binary).
//! Linux only (reads `/proc`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use futures_util::StreamExt;

#[path = "measure/mod.rs"]
mod measure;
use measure::rss_kib;

const WEB_CLIENT: &str = "amzn1.application-oa2-client.71722f244f58d669cbee3772a0770217";
const WEB_RETURN: &str = "http://127.0.0.1:9090/cb";

fn start() -> (Child, String) {
    let bin = std::env::var("AMM_BIN").unwrap_or_else(|_| "target/release/amazon-music-mock".to_owned());
    let mut child = Command::new(&bin)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e} (build it with cargo build --release)"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the listening line");
    let url = line.trim().strip_prefix("listening on ").expect("listening on …").to_owned();
    (child, url)
}

/// Sends `n` requests made by `make`, 8 at a time; returns how many got each status class.
async fn burst(n: usize, make: impl Fn(usize) -> reqwest::RequestBuilder) -> [usize; 6] {
    let mut counts = [0; 6];
    let mut stream = futures_util::stream::iter((0..n).map(|i| make(i).send())).buffer_unordered(8);
    while let Some(r) = stream.next().await {
        let class = r.map_or(0, |r| usize::from(r.status().as_u16() / 100));
        counts[class.min(5)] += 1;
    }
    counts
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A fresh server; prints its RSS before and after `load`, and returns the growth in KiB.
async fn measured<F: std::future::Future<Output = String>>(what: &str, load: impl FnOnce(String) -> F) -> u64 {
    let (mut child, url) = start();
    let pid = child.id();
    let before = rss_kib(pid);
    let t = Instant::now();
    let said = load(url).await;
    let after = rss_kib(pid);
    println!(
        "{what}: {said} in {:.1?}; RSS {:.1} → {:.1} MiB (+{:.1} MiB)",
        t.elapsed(),
        mib(before),
        mib(after),
        mib(after.saturating_sub(before))
    );
    let _ = child.kill();
    let _ = child.wait();
    after.saturating_sub(before)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

#[tokio::main]
async fn main() {
    let garbage: String = "k=v&".repeat(256 * 1024);
    let one_value = format!("grant_type=x&k={}", "v".repeat(1024 * 1024 - 16));
    for (what, body) in [("five 1 MiB posts of k=v& pairs", garbage), ("five 1 MiB posts of one value", one_value)] {
        measured(what, |url| async move {
            let http = http();
            let c = burst(5, |_| {
                http.post(format!("{url}/auth/o2/token"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone())
            })
            .await;
            format!("{} answered 4xx", c[4])
        })
        .await;
    }
    measured("60,000 session names", |url| async move {
        let http = http();
        let c = burst(60_000, |i| http.get(format!("{url}/s/name{i}/v1/me"))).await;
        format!("{} answered 401", c[4])
    })
    .await;
    measured("100,000 authorization codes, then the clock past their expiry", |url| async move {
        let http = http();
        http.put(format!("{url}/s/codes/__admin/settings"))
            .json(&serde_json::json!({"auto_consent": true}))
            .send()
            .await
            .expect("settings");
        let c = burst(100_000, |_| {
            http.get(format!("{url}/s/codes/ap/oa")).query(&[
                ("client_id", WEB_CLIENT),
                ("response_type", "code"),
                ("redirect_uri", WEB_RETURN),
                ("scope", "profile"),
            ])
        })
        .await;
        http.post(format!("{url}/s/codes/__admin/clock/advance"))
            .json(&serde_json::json!({"seconds": 3600}))
            .send()
            .await
            .expect("clock");
        format!("{} redirects", c[3])
    })
    .await;
}
