//! The scenario commands behind the CLI: `run`, `check`, `schema` and `conformance`. Each turns its
//! arguments into a resolved configuration (files loaded, baseline and variables read), does the work, and
//! answers with the exit code: 0 passed, 1 a scenario failed (or a document is stale), 2 usage or file
//! errors. Errors go to stderr; results and the summary line to stdout; progress to stderr on a terminal.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::baseline::Baseline;
use super::interp::Vars;
use super::load::{LoadedScenario, load_paths};
use super::run::{MockMode, Outcome, RunOptions, RunReport, ScenarioResult, Target, load_vars, run, selected};
use crate::plan::plans_under;
use crate::server::ServerConfig;

/// `run` flags.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario files, or directories searched recursively for *.yaml.
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Base URL of a running server (http:// or https://); without it the mock starts in this process.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// The target is a mock with an admin API (without it, `GET /__admin/health` decides).
    #[arg(long, requires = "target")]
    pub mock: bool,
    /// Scenarios run at once [default: the number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Run only scenarios with this tag, or whose name or file contains this text (repeatable).
    #[arg(long, value_name = "TAG|NAME")]
    pub filter: Vec<String>,
    /// Write a report: json:FILE, junit:FILE or html:FILE (repeatable).
    #[arg(long, value_name = "FORMAT:FILE")]
    pub report: Vec<crate::scenario::ReportSpec>,
    /// Expected failures: listed scenarios that fail do not fail the run; listed ones that pass do.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Variables for every scenario (a YAML map); for a target that is not a mock, the fixture aliases.
    #[arg(long, value_name = "FILE")]
    pub vars: Option<PathBuf>,
    /// Time limit of one request, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub timeout_seconds: u64,
    /// The `--target` mock's admin token (its `--admin-token`): sent on the admin calls, never on the
    /// scenarios' own requests.
    #[arg(long, env = "AMM_ADMIN_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub admin_token: Option<String>,
    /// Seed of the in-process mock.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Fixture directory of the in-process mock (as `serve --fixtures`).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}

/// `check` arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scenario files, or directories searched recursively for *.yaml.
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
}

/// `schema` flags.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `conformance` flags.
#[derive(Debug, clap::Args)]
pub struct ConformanceArgs {
    /// Scenario files, or directories searched recursively for *.yaml.
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Directory holding lwa.md and music-api.md.
    #[arg(long, default_value = "docs/spec", value_name = "DIR")]
    pub spec_dir: PathBuf,
    /// Write to this file instead of stdout (links are relative to it; without it, to docs/CONFORMANCE.md).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Compare with the file (--out, default docs/CONFORMANCE.md) instead of writing; exit 1 when stale.
    #[arg(long)]
    pub check: bool,
}

/// Everything `run` needs, resolved from its arguments.
struct RunConfig {
    scenarios: Vec<LoadedScenario>,
    options: RunOptions,
    reports: Vec<super::report::ReportSpec>,
}

fn usage_error(lines: impl IntoIterator<Item = String>) -> ExitCode {
    let mut err = std::io::stderr().lock();
    for l in lines {
        let _ = writeln!(err, "error: {l}");
    }
    ExitCode::from(2)
}

fn resolve(args: &RunArgs) -> Result<RunConfig, Vec<String>> {
    let (scenarios, errors) = load_paths(&args.paths);
    let mut problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let baseline = match &args.baseline {
        Some(p) => match Baseline::load(p) {
            Ok(b) => Some(b),
            Err(e) => {
                problems.push(e.to_string());
                None
            }
        },
        None => None,
    };
    let vars = match &args.vars {
        Some(p) => match load_vars(p) {
            Ok(v) => v,
            Err(e) => {
                problems.push(e.to_string());
                Vars::new()
            }
        },
        None => Vars::new(),
    };
    if args.jobs == Some(0) {
        problems.push("--jobs 0: expected at least 1".into());
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let target = match &args.target {
        Some(url) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(vec![format!("--target {url:?}: expected an http:// or https:// URL")]);
            }
            Target::Url { base: url.clone(), mock: if args.mock { MockMode::Required } else { MockMode::Detect } }
        }
        None => Target::InProcess(Box::new(ServerConfig {
            seed: Some(args.seed),
            fixtures: args.fixtures.clone(),
            ..ServerConfig::default()
        })),
    };
    let options = RunOptions {
        target,
        jobs: args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        filters: args.filter.clone(),
        baseline,
        vars,
        request_timeout: Duration::from_secs(args.timeout_seconds.max(1)),
        admin_token: args.admin_token.clone().filter(|t| !t.is_empty()),
    };
    Ok(RunConfig { scenarios, options, reports: args.report.clone() })
}

/// `amazon-music-mock run`.
pub async fn run_command(args: RunArgs) -> ExitCode {
    let cfg = match resolve(&args) {
        Ok(c) => c,
        Err(problems) => return usage_error(problems),
    };
    let total = cfg.scenarios.iter().filter(|s| selected(s, &cfg.options.filters)).count();
    if total == 0 {
        return usage_error([format!(
            "no scenario to run (loaded {}, none selected by --filter {:?})",
            cfg.scenarios.len(),
            cfg.options.filters
        )]);
    }
    let terminal = std::io::stderr().is_terminal();
    let bar = terminal.then(|| {
        let pb = indicatif::ProgressBar::new(total as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} ({elapsed})") {
            pb.set_style(style);
        }
        pb
    });
    let mut failed_so_far = 0usize;
    let mut on_result = |r: &ScenarioResult| {
        if let Some(pb) = &bar {
            pb.inc(1);
            if r.outcome == Outcome::Failed {
                failed_so_far += 1;
                pb.set_message(format!("{failed_so_far} failed"));
                let headline = r.failure.as_ref().map(|f| f.headline()).unwrap_or_default();
                pb.println(format!("FAIL {} ({}): {headline}", r.name, r.file));
            }
        }
    };
    let report = match run(&cfg.scenarios, &cfg.options, &mut on_result).await {
        Ok(r) => r,
        Err(e) => {
            if let Some(pb) = &bar {
                pb.finish_and_clear();
            }
            return usage_error([e.to_string()]);
        }
    };
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    print_results(&report);
    for spec in &cfg.reports {
        if let Err(e) = super::report::write(&report, spec) {
            return usage_error([format!("cannot write the report {e}")]);
        }
    }
    ExitCode::from(report.exit_code())
}

/// Failures in full, expected failures and skips in a line each, then the summary line.
fn print_results(report: &RunReport) {
    let mut out = std::io::stdout().lock();
    for r in &report.scenarios {
        match r.outcome {
            Outcome::Failed | Outcome::UnexpectedPass => {
                let _ = writeln!(out, "FAIL {} ({})", r.name, r.file);
                if let Some(f) = &r.failure {
                    for line in f.details(&r.file).lines() {
                        let _ = writeln!(out, "    {line}");
                    }
                }
            }
            Outcome::ExpectedFailure => {
                let reason = r.baseline_reason.as_deref().filter(|x| !x.is_empty()).unwrap_or("no reason given");
                let _ = writeln!(out, "XFAIL {} ({}): {reason}", r.name, r.file);
            }
            Outcome::Skipped => {
                let reason = r.skip_reason.as_deref().unwrap_or_default();
                let _ = writeln!(out, "SKIP {} ({}): {reason}", r.name, r.file);
            }
            Outcome::Passed => {}
        }
    }
    for e in &report.stale_baseline {
        let _ = writeln!(out, "STALE {}", e.message);
    }
    let s = &report.summary;
    if s.expected_failures + s.unexpected_passes + s.stale_baseline_entries > 0 {
        let _ = writeln!(
            out,
            "baseline: {} expected failures, {} unexpected passes, {} stale entries",
            s.expected_failures, s.unexpected_passes, s.stale_baseline_entries
        );
    }
    let where_ = if report.in_process { "in-process mock".to_owned() } else { report.target.clone() };
    let _ = writeln!(
        out,
        "ran {} scenarios against {where_} in {:.2} s",
        report.scenarios.len(),
        report.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(out, "{}", report.summary_line());
    let _ = out.flush();
}

/// `amazon-music-mock check`.
pub fn check_command(args: CheckArgs) -> ExitCode {
    let (loaded, errors) = load_paths(&args.paths);
    if !errors.is_empty() {
        let n = errors.len();
        return usage_error(errors.iter().map(ToString::to_string).chain([format!("{n} problem(s) found")]));
    }
    let files: std::collections::HashSet<&PathBuf> = loaded.iter().map(|s| &s.file).collect();
    let (plans, plan_errors) = plans_under(&args.paths);
    if !plan_errors.is_empty() {
        let n = plan_errors.len();
        return usage_error(plan_errors.iter().map(ToString::to_string).chain([format!("{n} problem(s) found")]));
    }
    let warnings: Vec<&super::LoadError> = loaded.iter().flat_map(|s| &s.warnings).collect();
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    println!("{} scenarios in {} files: ok", loaded.len(), files.len());
    if !warnings.is_empty() {
        println!("{} warning{}", warnings.len(), if warnings.len() == 1 { "" } else { "s" });
    }
    if !plans.is_empty() {
        println!("{} client plans: ok", plans.len());
    }
    ExitCode::SUCCESS
}

/// `amazon-music-mock schema`.
pub fn schema_command(args: SchemaArgs) -> ExitCode {
    let s = super::schema::schema_json();
    match &args.out {
        Some(p) => match std::fs::write(p, s) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => usage_error([format!("{}: {e}", p.display())]),
        },
        None => {
            print!("{s}");
            ExitCode::SUCCESS
        }
    }
}

/// `amazon-music-mock conformance`.
pub fn conformance_command(args: ConformanceArgs) -> ExitCode {
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("docs/CONFORMANCE.md"));
    let doc = match super::conformance::generate(&args.paths, &args.spec_dir, &out, super::conformance::COMMAND) {
        Ok(d) => d,
        Err(errors) => return usage_error(errors),
    };
    if args.check {
        let current = std::fs::read_to_string(&out).unwrap_or_default();
        if current == doc {
            println!("{} is current", out.display());
            return ExitCode::SUCCESS;
        }
        eprintln!("{} is stale: run without --check to rewrite it", out.display());
        return ExitCode::from(1);
    }
    match &args.out {
        Some(p) => match std::fs::write(p, doc) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => usage_error([format!("{}: {e}", p.display())]),
        },
        None => {
            print!("{doc}");
            ExitCode::SUCCESS
        }
    }
}
