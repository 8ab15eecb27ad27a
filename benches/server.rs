//! The project's own benchmarks, over HTTP against the in-process server on loopback.
//!
//! `cargo bench --bench server [-- --tracks N --requests N]` prints:
//! - start-up: building state (fixtures, catalog) and binding, to the first answered request;
//! - token endpoint: refresh grants per second (one connection, sequential);
//! - Music API: `GET /v1/tracks/{id}` per second, sequential and with 8 concurrent clients;
//! - search at scale: `POST /v1/search/tracks` latency (median, p99) on a catalog of `--tracks` tracks
//!   (default 1,000,000), and the process's resident memory before and after building it.
//!
//! Machines here are shared and noisy: compare ratios between runs on one machine, not absolute times.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use amazon_music_mock::{ServerConfig, start};
use serde_json::{Value, json};

const DEVICE_CLIENT: &str = "amzn1.application-oa2-client.d58e72e310275dff6c15c0c8e9df4696";
const MUSIC_PROFILE: &str = "amzn1.application.30877432d1026706d7e805da846a32c3";

fn vm_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn stats(mut d: Vec<Duration>) -> (Duration, Duration) {
    d.sort();
    let p = |q: f64| d[((d.len() as f64 - 1.0) * q).round() as usize];
    (p(0.5), p(0.99))
}

/// Device flow for the first fixture user: returns (access token, refresh token).
async fn tokens(http: &reqwest::Client, base: &str, scope: &str) -> (String, String) {
    let cp: Value = http
        .post(format!("{base}/auth/O2/create/codepair"))
        .form(&[("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", scope)])
        .send()
        .await
        .expect("codepair")
        .json()
        .await
        .expect("codepair json");
    http.post(format!("{base}/__admin/device/approve"))
        .json(&json!({"user_code": cp["user_code"]}))
        .send()
        .await
        .expect("approve");
    let t: Value = http
        .post(format!("{base}/auth/o2/token"))
        .form(&[("grant_type", "device_code"), ("device_code", cp["device_code"].as_str().unwrap_or(""))])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    (t["access_token"].as_str().unwrap_or("").to_owned(), t["refresh_token"].as_str().unwrap_or("").to_owned())
}

async fn server(tracks: usize) -> (amazon_music_mock::RunningServer, String, Duration) {
    let cfg = ServerConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        seed: Some(1),
        catalog_size: tracks,
        ..ServerConfig::default()
    };
    let t0 = Instant::now();
    let s = start(&cfg).await.expect("server starts");
    let base = s.uri();
    let http = reqwest::Client::new();
    let r = http.get(format!("{base}/__admin/health")).send().await.expect("health");
    assert_eq!(r.status(), 200);
    (s, base, t0.elapsed())
}

#[tokio::main]
async fn main() {
    let n = arg("--requests", 2000);
    let big = arg("--tracks", 1_000_000);
    let http = reqwest::Client::new();

    // Start-up with the embedded defaults (800-track catalog).
    let mut startups = Vec::new();
    for _ in 0..5 {
        let (s, _, d) = server(amazon_music_mock::DEFAULT_CATALOG_SIZE).await;
        startups.push(d);
        s.stop().await;
    }
    let (med, _) = stats(startups);
    println!("start-up to first answered request (embedded defaults): median {:.1} ms", med.as_secs_f64() * 1e3);

    let (s, base, _) = server(amazon_music_mock::DEFAULT_CATALOG_SIZE).await;
    let (access, refresh) = tokens(&http, &base, "music::catalog music::library:read").await;

    let t0 = Instant::now();
    for _ in 0..n {
        let r = http
            .post(format!("{base}/auth/o2/token"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str()), ("client_id", DEVICE_CLIENT)])
            .send()
            .await
            .expect("refresh");
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await;
    }
    println!("token endpoint, refresh grant: {:.0} req/s sequential", n as f64 / t0.elapsed().as_secs_f64());

    let track: Value = http
        .post(format!("{base}/v1/search/tracks"))
        .bearer_auth(&access)
        .header("x-api-key", MUSIC_PROFILE)
        .json(&json!({"searchFilters": [{"query": "the"}], "limit": 1}))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("search json");
    let id = track["data"]["searchTracks"]["edges"][0]["node"]["id"].as_str().unwrap_or("B000000000").to_owned();
    let url = format!("{base}/v1/tracks/{id}");
    let t0 = Instant::now();
    for _ in 0..n {
        let r = http.get(&url).bearer_auth(&access).header("x-api-key", MUSIC_PROFILE).send().await.expect("track");
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await;
    }
    println!("GET /v1/tracks/{{id}}: {:.0} req/s sequential", n as f64 / t0.elapsed().as_secs_f64());
    let t0 = Instant::now();
    let per = n / 8;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (http, url, access) = (http.clone(), url.clone(), access.clone());
            tokio::spawn(async move {
                for _ in 0..per {
                    let r = http
                        .get(&url)
                        .bearer_auth(&access)
                        .header("x-api-key", MUSIC_PROFILE)
                        .send()
                        .await
                        .expect("track");
                    let _ = r.bytes().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("client task");
    }
    println!(
        "GET /v1/tracks/{{id}}: {:.0} req/s with 8 concurrent clients",
        (per * 8) as f64 / t0.elapsed().as_secs_f64()
    );
    s.stop().await;

    // Search at scale.
    let before = vm_rss_mib();
    let (s, base, built) = server(big).await;
    let after = vm_rss_mib();
    println!(
        "catalog of {big} tracks: ready in {:.2} s; resident memory {:.0} MiB before, {:.0} MiB after (+{:.0} MiB)",
        built.as_secs_f64(),
        before,
        after,
        after - before
    );
    let (access, _) = tokens(&http, &base, "music::catalog").await;
    let queries = [
        json!({"searchFilters": [{"query": "love"}], "limit": 20}),
        json!({"searchFilters": [{"query": "the"}], "limit": 20, "sortBy": "name"}),
        json!({"searchFilters": [{"query": "the"}], "limit": 20, "sortBy": "relevance"}),
        json!({"searchFilters": [{"query": "night"}, {"field": "categoryId", "query": "rock"}], "limit": 20, "sortBy": "release"}),
        json!({"searchFilters": [{"field": "artistName", "query": "kids"}], "limit": 50, "sortBy": "popularity"}),
        json!({"searchFilters": [{"query": "silver river"}], "limit": 20}),
    ];
    let mut lat = Vec::new();
    for i in 0..300 {
        let q = &queries[i % queries.len()];
        let t0 = Instant::now();
        let r = http
            .post(format!("{base}/v1/search/tracks"))
            .bearer_auth(&access)
            .header("x-api-key", MUSIC_PROFILE)
            .json(q)
            .send()
            .await
            .expect("search");
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await;
        lat.push(t0.elapsed());
    }
    let (med, p99) = stats(lat);
    println!(
        "POST /v1/search/tracks on {big} tracks (HTTP round trip): median {:.2} ms, p99 {:.2} ms",
        med.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    s.stop().await;
}
