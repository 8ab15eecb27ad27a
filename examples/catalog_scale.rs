//! Scale check: generates a 1,000,000-track catalog and measures generation time, memory and search latency.
//!
//! Run with `cargo run --release --example catalog_scale [tracks]`. Prints generation time, VmRSS before and after
//! (from `/proc/self/status`), the catalog's own heap estimate, and median/p99 latency of 200 mixed searches
//! (common and rare words, field filters, every sort order, deep pages) plus a few name searches.

use std::time::{Duration, Instant};

use amazon_music_mock::test_support::catalog::{Catalog, SearchFilter, SortBy, TrackField};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn vm_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".to_owned(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut d: Vec<Duration>) {
    d.sort();
    println!(
        "  {name:<28} n={:<4} median {:>10.3?}  p99 {:>10.3?}  max {:>10.3?}",
        d.len(),
        percentile(&d, 0.5),
        percentile(&d, 0.99),
        d.last().copied().unwrap_or_default()
    );
}

fn main() {
    let tracks: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let before = vm_rss_kib();
    let t0 = Instant::now();
    let cat = Catalog::generate(2024, tracks);
    let gen_time = t0.elapsed();
    let after = vm_rss_kib();
    println!("generated {cat:?}");
    println!("generation: {gen_time:.2?}");
    println!(
        "VmRSS before {} / after {} (delta {}); peak (VmHWM) {}; heap estimate {} MiB",
        mib(before),
        mib(after),
        mib(after.zip(before).map(|(a, b)| a.saturating_sub(b))),
        mib(vm_hwm_kib()),
        cat.heap_bytes() >> 20
    );

    let common = ["the", "love", "blue", "night", "my", "of", "heart"];
    let rare = ["saffron", "sarsaparilla", "featherstonehaugh", "bartholomew", "vermilion", "xylophone", "zephyrine"];
    let sorts = [SortBy::Relevance, SortBy::Popularity, SortBy::Name, SortBy::Release];
    let mut rng = StdRng::seed_from_u64(7);
    let mut groups: Vec<(&str, Vec<Duration>)> = vec![
        ("common word", Vec::new()),
        ("two common words", Vec::new()),
        ("rare word", Vec::new()),
        ("field filters", Vec::new()),
        ("deep page (offset 10000)", Vec::new()),
    ];
    let mut all = Vec::new();
    let mut slowest: Vec<(Duration, String)> = Vec::new();
    let mut hits = 0usize;
    for i in 0..200 {
        let sort = sorts[i % sorts.len()];
        let group = i % groups.len();
        let t = &cat.tracks()[rng.random_range(0..cat.tracks().len())];
        let (filters, offset) = match group {
            0 => (vec![SearchFilter::any(common[rng.random_range(0..common.len())])], 0),
            1 => {
                let a = common[rng.random_range(0..common.len())];
                let b = common[rng.random_range(0..common.len())];
                (vec![SearchFilter::any(format!("{a} {b}"))], 0)
            }
            2 => (vec![SearchFilter::any(rare[rng.random_range(0..rare.len())])], 0),
            3 => {
                let f = match rng.random_range(0..5) {
                    0 => SearchFilter::field(TrackField::ArtistId, cat[t.primary_artist()].id.as_str()),
                    1 => SearchFilter::field(TrackField::AlbumName, cat[t.album].title.split(' ').next().unwrap_or("")),
                    2 => SearchFilter::field(TrackField::ArtistName, cat[t.primary_artist()].name.to_string()),
                    3 => SearchFilter::field(TrackField::Isrc, t.isrc.as_str()),
                    _ => SearchFilter::field(TrackField::CategoryId, t.genre.id()),
                };
                (vec![f, SearchFilter::any(common[rng.random_range(0..common.len())])], 0)
            }
            _ => (vec![SearchFilter::any(common[rng.random_range(0..common.len())])], 10_000),
        };
        let start = Instant::now();
        let page = cat.search_tracks(&filters, sort, offset, 20);
        let d = start.elapsed();
        hits += page.total;
        slowest.push((d, format!("{filters:?} {sort:?} offset {offset}: {} hits", page.total)));
        groups[group].1.push(d);
        all.push(d);
    }
    println!("200 track searches (limit 20, sorts rotate relevance/popularity/name/release), {hits} hits in all:");
    for (name, d) in groups {
        report(name, d);
    }
    report("all", all);
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    println!("slowest:");
    for (d, q) in slowest.iter().take(5) {
        println!("  {d:>10.3?}  {q}");
    }

    let mut by_sort: Vec<Vec<Duration>> = vec![Vec::new(); 4];
    for (i, s) in sorts.iter().enumerate() {
        for w in common {
            let start = Instant::now();
            let _ = cat.search_tracks(&[SearchFilter::any(w)], *s, 0, 20);
            by_sort[i].push(start.elapsed());
        }
    }
    println!("common words by sort order:");
    for (s, d) in sorts.iter().zip(by_sort) {
        report(&format!("{s:?}"), d);
    }

    println!("\"the\" (~68% of tracks), 15 runs each, min / median:");
    for s in sorts {
        for offset in [0, 10_000] {
            let mut d: Vec<Duration> = (0..15)
                .map(|_| {
                    let start = Instant::now();
                    let _ = cat.search_tracks(&[SearchFilter::any("the")], s, offset, 20);
                    start.elapsed()
                })
                .collect();
            d.sort();
            println!("  {:<28} min {:>10.3?}  median {:>10.3?}", format!("{s:?} @{offset}"), d[0], d[d.len() / 2]);
        }
    }

    let mut names = Vec::new();
    for w in common.iter().chain(&rare) {
        let start = Instant::now();
        let _ = cat.search_albums(w, 0, 20);
        let _ = cat.search_artists(w, 0, 20);
        names.push(start.elapsed());
    }
    report("albums+artists by name", names);
    let mut alls = Vec::new();
    for w in common.iter().chain(&rare) {
        let start = Instant::now();
        let r = cat.search_all(w, 10);
        let _ = cat.search_view_json(&r);
        alls.push(start.elapsed());
    }
    report("search_all + view JSON", alls);
}
