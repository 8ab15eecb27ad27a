//! The long fuzz run: a million well-formed-but-wrong requests (the CI fuzz's generator, `tests/it/fuzz_gen.rs`)
//! against the release binary, 16 at a time. Prints, every 100,000 requests, how many reached a handler, how
//! many were 5xx or broke their family's error shape, and the server's resident memory; exits non-zero on any
//! 5xx, shape error or unanswered request. Figures: `docs/PERFORMANCE.md` ("Fuzzing").
//!
//! Run: `cargo build --release && cargo run --release --example fuzz_long [-- --requests N --concurrency C]`
//! (`AMM_BIN` to use another binary; the server's log goes to `$TMPDIR/amm-fuzz-long.stderr`, at the level `AMM_LOG`
//! sets). Linux only (reads `/proc`).

#[path = "../tests/it/fuzz_gen.rs"]
mod fuzz_gen;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use futures_util::StreamExt;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use fuzz_gen::*;
#[path = "measure/mod.rs"]
mod measure;
use measure::{flag, rss_kib};

#[derive(Default)]
struct Tally {
    sent: u64,
    reached: u64,
    /// Neither 404 nor 405 (the measure of reaching a handler).
    strict: u64,
    server_errors: u64,
    shape_errors: u64,
    unanswered: u64,
    by_class: [u64; 6],
    shape_examples: Vec<String>,
    lost_examples: Vec<String>,
    not_found_by_route: BTreeMap<String, u64>,
    per_family: BTreeMap<String, u64>,
}

#[tokio::main]
async fn main() {
    let total = flag("--requests", 1_000_000) as usize;
    let concurrency = flag("--concurrency", 16) as usize;
    let bin = std::env::var("AMM_BIN").unwrap_or_else(|_| "target/release/amazon-music-mock".to_owned());
    let mut child = Command::new(&bin)
        .args(["serve", "--bind", "127.0.0.1:0", "--seed", "1"])
        .stdout(Stdio::piped())
        // The server's log, for what it says of the connections that ended unanswered (`AMM_LOG` sets its level).
        .stderr(std::fs::File::create(std::env::temp_dir().join("amm-fuzz-long.stderr")).expect("a log file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e} (build it with cargo build --release)"));
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the listening line");
    let base = line.trim().strip_prefix("listening on ").expect("listening on …").to_owned();

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let values = prepare(&http, &base).await;
    let routes = routes();
    let strategy = cases(routes.len(), 2000);
    let mut runner = TestRunner::deterministic();
    println!("{} routes; {total} requests, {concurrency} at a time; RSS at start {} KiB", routes.len(), rss_kib(pid));
    println!(
        "{:>9} {:>8} {:>8} {:>6} {:>6} {:>6} {:>10} {:>8}",
        "requests", "reached", "not404/5", "5xx", "shape", "lost", "RSS KiB", "req/s"
    );

    let started = Instant::now();
    let cases = (0..total).map(|_| strategy.new_tree(&mut runner).expect("a case").current());
    let mut answers = futures_util::stream::iter(cases.map(|case| {
        let b = build(&routes, &values, &case);
        let http = &http;
        let base = &base;
        async move {
            let r = send(http, base, &b).await;
            (b, r)
        }
    }))
    .buffer_unordered(concurrency);

    let mut t = Tally::default();
    let mut rss = Vec::new();
    while let Some((b, r)) = answers.next().await {
        t.sent += 1;
        *t.per_family.entry(format!("{:?}", b.family)).or_default() += 1;
        match r {
            Err(e) => {
                t.unanswered += 1;
                if t.lost_examples.len() < 5 {
                    let target = b.target.chars().take(120).collect::<String>();
                    t.lost_examples.push(format!(
                        "{} {target} ({} body bytes): {e}",
                        b.method,
                        b.body.as_ref().map_or(0, Vec::len)
                    ));
                }
            }
            Ok((status, ctype, body)) => {
                t.by_class[usize::from(status / 100).min(5)] += 1;
                let text = String::from_utf8_lossy(&body);
                t.reached += u64::from(reached_handler(status, &text));
                t.strict += u64::from(status != 404 && status != 405);
                if status == 404 || status == 405 {
                    *t.not_found_by_route.entry(format!("{} {} {status}", b.method, b.route)).or_default() += 1;
                }
                if status >= 500 {
                    t.server_errors += 1;
                }
                if let Err(e) = check(&b, status, ctype.as_deref(), &body) {
                    t.shape_errors += u64::from(status < 500);
                    if t.shape_examples.len() < 5 {
                        let target = b.target.chars().take(120).collect::<String>();
                        t.shape_examples.push(format!(
                            "{} {target}: {}",
                            b.method,
                            e.chars().take(300).collect::<String>()
                        ));
                    }
                }
            }
        }
        if t.sent % 100_000 == 0 || t.sent == total as u64 {
            let kib = rss_kib(pid);
            rss.push((t.sent, kib));
            println!(
                "{:>9} {:>8} {:>8} {:>6} {:>6} {:>6} {:>10} {:>8.0}",
                t.sent,
                t.reached,
                t.strict,
                t.server_errors,
                t.shape_errors,
                t.unanswered,
                kib,
                t.sent as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let elapsed = started.elapsed();
    let pct = |n: u64| 100.0 * n as f64 / t.sent as f64;
    println!(
        "\n{} requests in {:.1?}: {:.2}% reached a handler (not the router's 404/405), {:.2}% were neither 404 nor 405; \
         {} 5xx, {} error-shape failures, {} unanswered",
        t.sent,
        elapsed,
        pct(t.reached),
        pct(t.strict),
        t.server_errors,
        t.shape_errors,
        t.unanswered
    );
    println!("status classes: 2xx {} 3xx {} 4xx {} 5xx {}", t.by_class[2], t.by_class[3], t.by_class[4], t.by_class[5]);
    println!("per family: {:?}", t.per_family);
    if let (Some(first), Some(last)) = (rss.first(), rss.last()) {
        println!("RSS after {} requests {} KiB, after {} requests {} KiB", first.0, first.1, last.0, last.1);
    }
    let mut top: Vec<_> = t.not_found_by_route.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1));
    println!("404/405 by route (most first): {:?}", &top[..top.len().min(12)]);
    for e in t.shape_examples.iter().chain(&t.lost_examples) {
        println!("  {e}");
    }
    let _ = child.kill();
    let _ = child.wait();
    if t.server_errors > 0 || t.shape_errors > 0 || t.unanswered > 0 {
        std::process::exit(1);
    }
}
