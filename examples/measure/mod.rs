//! What the measuring examples (`fuzz_long`, `soak`, `memory_bounds`) and the CI fuzz test share: a process's
//! resident memory, and a numeric command-line flag.

/// The resident memory (`VmRSS`) of process `pid`, KiB. Linux only (reads `/proc`).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// The number after `name` on the command line (`_` allowed as a separator: `1_000_000`), else `default`.
#[allow(dead_code, reason = "the fuzz test and memory_bounds read no flag")]
pub fn flag(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .map(|i| args.get(i + 1).and_then(|v| v.replace('_', "").parse().ok()).expect("a number after the flag"))
        .unwrap_or(default)
}
