//! Search latency over HTTP: starts the release binary with `--catalog-size N` for each N, waits until it
//! listens (and reports how long the start took, catalog build included), links a device for a music token and
//! measures p50/p99 of sequential searches, prefix ("lov", "s"), typo ("strnge", "midnigt") and multi-word
//! partial ("maya st", "rose maya st"), through `POST /v1/search/tracks` and `GET /v1/search`. Prints a
//! markdown table.
//!
//! Run: `cargo build --release && cargo run --release --example search_bench [-- --requests 200]`
//! (`AMM_BIN` to use another binary; `--sizes 800,1000000` to choose the catalogs).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "measure/mod.rs"]
mod measure;
use measure::{flag, rss_kib};

const USER: &str = "amzn1.account.I7GAS664VLDQ6HEZ7EDJJTFPH2OY";
const DEVICE_CLIENT: &str = "amzn1.application-oa2-client.d58e72e310275dff6c15c0c8e9df4696";
const MUSIC_PROFILE: &str = "amzn1.application.30877432d1026706d7e805da846a32c3";

/// The measured queries: what kind of query each is and its text.
const QUERIES: [(&str, &str); 6] = [
    ("prefix", "lov"),
    ("prefix", "s"),
    ("typo", "strnge"),
    ("typo", "midnigt"),
    ("multi-word partial", "maya st"),
    ("multi-word partial", "rose maya st"),
];

/// Starts the server on a free port with `tracks` tracks; returns it, its URL, how long it took to listen and
/// how long until its catalog was ready (the same when the catalog is built before listening; a large one
/// builds behind the `listening on` line, which a `catalog ready` line follows).
fn start(tracks: usize) -> (Child, String, Duration, Duration) {
    let bin = std::env::var("AMM_BIN").unwrap_or_else(|_| "target/release/amazon-music-mock".to_owned());
    let t = Instant::now();
    let mut child = Command::new(&bin)
        .args(["serve", "--bind", "127.0.0.1:0", "--catalog-size", &tracks.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e} (build it with cargo build --release)"));
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("the listening line");
    let listening = t.elapsed();
    let url = line.trim().strip_prefix("listening on ").expect("listening on …").to_owned();
    let mut ready = listening;
    if tracks >= amazon_music_mock::BACKGROUND_CATALOG {
        loop {
            line.clear();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if line.starts_with("catalog ready") {
                ready = t.elapsed();
                break;
            }
        }
    }
    // The rest of stdout is drained so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, url, listening, ready)
}

/// A music token for the fixture user: a device code pair approved through the admin API, then polled.
async fn token(http: &reqwest::Client, base: &str) -> String {
    let form = [("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", "music::catalog")];
    let pair: Value = http
        .post(format!("{base}/auth/o2/create/codepair"))
        .form(&form)
        .send()
        .await
        .expect("codepair")
        .json()
        .await
        .expect("codepair json");
    let approve = json!({"user_code": pair["user_code"], "user_id": USER});
    let r = http.post(format!("{base}/__admin/device/approve")).json(&approve).send().await.expect("approve");
    assert!(r.status().is_success(), "approve: {}", r.status());
    let code = pair["device_code"].as_str().expect("device_code");
    let poll = [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", code)];
    let tokens: Value = http
        .post(format!("{base}/auth/o2/token"))
        .form(&poll)
        .send()
        .await
        .expect("poll")
        .json()
        .await
        .expect("token json");
    tokens["access_token"].as_str().expect("access_token").to_owned()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len().saturating_sub(1)) as f64 * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let requests = flag("--requests", 200) as usize;
    let sizes: Vec<usize> = std::env::args()
        .skip_while(|a| a != "--sizes")
        .nth(1)
        .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![800, 1_000_000]);
    let http = reqwest::Client::new();
    let mut rows = Vec::new();
    let mut starts = Vec::new();
    for &n in &sizes {
        let (mut child, base, listening, ready) = start(n);
        starts.push((n, listening, ready, rss_kib(child.id())));
        let token = token(&http, &base).await;
        let v1 = |r: reqwest::RequestBuilder| {
            r.bearer_auth(&token).header("x-api-key", MUSIC_PROFILE).header("x-amzn-device-id", "search-bench")
        };
        for (kind, q) in QUERIES {
            for route in ["POST /v1/search/tracks", "GET /v1/search"] {
                let mut times = Vec::with_capacity(requests);
                // Five unmeasured requests first (connection, caches).
                for i in 0..requests + 5 {
                    let req = if route.starts_with("POST") {
                        let body = json!({"searchFilters": [{"query": q}], "limit": 20});
                        v1(http.post(format!("{base}/v1/search/tracks"))).json(&body)
                    } else {
                        v1(http.get(format!("{base}/v1/search"))).query(&[("query", q)])
                    };
                    let t = Instant::now();
                    let r = req.send().await.expect("search");
                    let status = r.status();
                    let body = r.bytes().await.expect("body");
                    let d = t.elapsed();
                    assert!(status.is_success(), "{route} {q:?}: {status} {}", String::from_utf8_lossy(&body));
                    if i >= 5 {
                        times.push(d);
                    }
                }
                times.sort();
                rows.push(format!(
                    "| {n} | {route} | {kind} | `{q}` | {} | {} |",
                    ms(percentile(&times, 0.5)),
                    ms(percentile(&times, 0.99))
                ));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    println!("{requests} sequential requests per row (after 5 unmeasured), one connection.\n");
    println!("| tracks | route | query kind | query | p50 ms | p99 ms |");
    println!("| ---: | --- | --- | --- | ---: | ---: |");
    for r in rows {
        println!("{r}");
    }
    println!("\n| tracks | start until `listening on` | until the catalog is ready | RSS then |");
    println!("| ---: | ---: | ---: | ---: |");
    for (n, listening, ready, rss) in starts {
        println!(
            "| {n} | {:.3} s | {:.2} s | {:.0} MiB |",
            listening.as_secs_f64(),
            ready.as_secs_f64(),
            rss as f64 / 1024.0
        );
    }
}
