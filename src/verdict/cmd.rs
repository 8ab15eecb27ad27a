//! `amazon-music-mock verdict --target URL [--session S] [--report FORMAT:FILE]… [--baseline FILE]`: asks a
//! running mock for a session's verdict and reports it like a scenario run, one test case per judged rule,
//! with the runner's baseline semantics (a listed rule that fails is expected, a listed rule that passes
//! fails the run, an entry naming no rule is stale). NOT EXERCISED rules are skipped test cases.
//!
//! Exit codes: 0 every judged rule passed (or failed as the baseline expects), 1 otherwise, 2 usage,
//! network or file errors.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{RULES, RuleResult, Status, Verdict};
use crate::scenario::baseline::{Baseline, StaleEntry};
use crate::scenario::outcome::{Failure, Outcome, RunReport, ScenarioResult};
use crate::scenario::report::{Format, Kind, render_as, write_text};

/// `verdict` flags.
#[derive(Debug, clap::Args)]
pub struct VerdictArgs {
    /// Base URL of the running mock (http:// or https://).
    #[arg(long, value_name = "URL")]
    pub target: String,
    /// The session to judge [default: the default session].
    #[arg(long, value_name = "SESSION")]
    pub session: Option<String>,
    /// Write a report: json:FILE, junit:FILE or html:FILE (repeatable).
    #[arg(long, value_name = "FORMAT:FILE")]
    pub report: Vec<crate::scenario::ReportSpec>,
    /// Expected failures by rule id: listed rules that fail do not fail the run; listed ones that pass do.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Time limit of the request, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub timeout_seconds: u64,
    /// The target's admin token (its `--admin-token`).
    #[arg(long, env = "AMM_ADMIN_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub admin_token: Option<String>,
    /// Rules that must have been exercised: one NOT EXERCISED (or not judged by the session's plan) fails the
    /// run. Comma-separated rule ids; repeatable.
    #[arg(long, value_name = "RULE[,RULE…]", value_delimiter = ',')]
    pub require: Vec<String>,
    /// Every rule the verdict judges must have been exercised.
    #[arg(long)]
    pub require_all: bool,
}

/// The test-case "file" of a rule, `verdict/<group>/<id>`: JUnit suites then group rules by family.
pub fn case_file(r: &RuleResult) -> String {
    format!("verdict/{}/{}", r.group, r.id)
}

/// The evidence of a rule, one line per entry.
pub fn evidence_text(r: &RuleResult) -> String {
    let mut s = String::new();
    for e in &r.evidence {
        s.push_str(&format!("#{} {} {} -> {}: {}\n", e.seq, e.at, e.request, e.status, e.note));
    }
    if r.evidence_total > r.evidence.len() {
        s.push_str(&format!("(and {} more)\n", r.evidence_total - r.evidence.len()));
    }
    s
}

/// Which rules must have been exercised (`--require`, `--require-all`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Required {
    /// None: a NOT EXERCISED rule is a skipped test case.
    #[default]
    None,
    /// These rule ids.
    Rules(Vec<String>),
    /// Every rule the verdict judges.
    All,
}

impl Required {
    fn includes(&self, id: &str) -> bool {
        match self {
            Required::None => false,
            Required::Rules(ids) => ids.iter().any(|r| r == id),
            Required::All => true,
        }
    }
}

/// A verdict as a run report: one result per judged rule (PASS passed, FAIL failed, NOT EXERCISED skipped,
/// or failed when the rule is required), with the baseline applied; every rule the server knows counts as
/// loaded for stale entries. A required rule the verdict does not judge (the session's plan leaves it out)
/// is a failed case of its own.
pub fn to_report(
    verdict: &Verdict,
    target: &str,
    baseline: Option<&Baseline>,
    required: &Required,
    duration_ms: u64,
) -> RunReport {
    let mut scenarios: Vec<ScenarioResult> = verdict
        .rules
        .iter()
        .map(|r| {
            let (outcome, skip_reason, failure) = match r.status {
                Status::Pass => (Outcome::Passed, None, None),
                Status::NotExercised if required.includes(&r.id) => (
                    Outcome::Failed,
                    None,
                    Some(Failure::assertion(format!("{}: required, but not exercised: {}", r.title, r.message))),
                ),
                Status::NotExercised => (Outcome::Skipped, Some(format!("not exercised: {}", r.message)), None),
                Status::Fail => (
                    Outcome::Failed,
                    None,
                    Some(Failure {
                        diff: Some(evidence_text(r)),
                        ..Failure::assertion(format!("{}: {} ({})", r.title, r.message, r.sources.join(", ")))
                    }),
                ),
            };
            ScenarioResult {
                name: r.id.clone(),
                file: case_file(r),
                tags: vec![r.group.clone()],
                checks: r.sources.clone(),
                outcome,
                skip_reason,
                failure,
                baseline_reason: None,
                session: Some(verdict.session.clone()),
                steps_run: 0,
                steps_total: 0,
                duration_ms: 0,
            }
        })
        .collect();
    if let Required::Rules(ids) = required {
        for id in ids.iter().filter(|id| !verdict.rules.iter().any(|r| &r.id == *id)) {
            let rule = super::rule(id);
            scenarios.push(ScenarioResult {
                name: id.clone(),
                file: format!("verdict/{}/{id}", rule.map_or("unknown", |r| r.group)),
                tags: Vec::new(),
                checks: Vec::new(),
                outcome: Outcome::Failed,
                skip_reason: None,
                failure: Some(Failure::assertion(format!(
                    "{}: required, but the session's plan does not judge it",
                    rule.map_or(id.as_str(), |r| r.title)
                ))),
                baseline_reason: None,
                session: Some(verdict.session.clone()),
                steps_run: 0,
                steps_total: 0,
                duration_ms: 0,
            });
        }
    }
    let known: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    let stale_baseline = baseline.map(|b| b.apply(&mut scenarios, &known)).unwrap_or_default();
    let mut report = RunReport {
        target: target.to_owned(),
        mock: true,
        in_process: false,
        duration_ms,
        summary: Default::default(),
        scenarios,
        stale_baseline,
    };
    report.count();
    report
}

/// The JSON report: the verdict as the server judged it, and the outcome of each rule after the baseline.
#[derive(Serialize)]
struct JsonReport<'a> {
    target: &'a str,
    success: bool,
    summary: &'a crate::scenario::outcome::Summary,
    outcomes: Vec<JsonOutcome<'a>>,
    stale_baseline: &'a [StaleEntry],
    verdict: &'a Verdict,
}

#[derive(Serialize)]
struct JsonOutcome<'a> {
    id: &'a str,
    status: Status,
    outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_reason: Option<&'a str>,
}

/// Renders a verdict report in a format.
pub fn render(verdict: &Verdict, report: &RunReport, format: Format) -> String {
    match format {
        Format::Json => {
            let outcomes = verdict
                .rules
                .iter()
                .zip(&report.scenarios)
                .map(|(r, s)| JsonOutcome {
                    id: &r.id,
                    status: r.status,
                    outcome: s.outcome,
                    baseline_reason: s.baseline_reason.as_deref(),
                })
                .collect();
            let j = JsonReport {
                target: &report.target,
                success: report.success(),
                summary: &report.summary,
                outcomes,
                stale_baseline: &report.stale_baseline,
                verdict,
            };
            serde_json::to_string_pretty(&j).unwrap_or_default() + "\n"
        }
        other => render_as(report, other, Kind::Verdict),
    }
}

/// The verdict's URL: `{target}[/s/{session}]/__admin/verdict`.
pub fn verdict_url(target: &str, session: Option<&str>) -> String {
    let base = target.trim_end_matches('/');
    match session {
        Some(s) => format!("{base}/s/{s}/__admin/verdict"),
        None => format!("{base}/__admin/verdict"),
    }
}

fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// `amazon-music-mock verdict`.
pub async fn verdict_command(args: VerdictArgs) -> ExitCode {
    if !(args.target.starts_with("http://") || args.target.starts_with("https://")) {
        return usage_error(format!("--target {:?}: expected an http:// or https:// URL", args.target));
    }
    if let Some(s) = &args.session {
        if crate::store::SessionId::parse(s).is_none() {
            return usage_error(format!("--session {s:?}: use {}", crate::store::SessionId::RULE));
        }
    }
    let required = if args.require_all {
        Required::All
    } else if args.require.is_empty() {
        Required::None
    } else {
        let ids: Vec<String> = args.require.iter().map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect();
        if let Some(unknown) = ids.iter().find(|id| super::rule(id).is_none()) {
            let known: Vec<&str> = RULES.iter().map(|r| r.id).collect();
            return usage_error(format!("--require {unknown:?}: no such rule; the rules are {}", known.join(", ")));
        }
        Required::Rules(ids)
    };
    let baseline = match &args.baseline {
        Some(p) => match Baseline::load(p) {
            Ok(b) => Some(b),
            Err(e) => return usage_error(e),
        },
        None => None,
    };
    let started = Instant::now();
    let url = verdict_url(&args.target, args.session.as_deref());
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(args.timeout_seconds.max(1))).build() {
        Ok(c) => c,
        Err(e) => return usage_error(format!("cannot build the HTTP client: {e}")),
    };
    let mut req = client.get(&url);
    if let Some(t) = args.admin_token.as_deref().filter(|t| !t.is_empty()) {
        req = req.bearer_auth(t);
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return usage_error(format!("GET {url}: {e}")),
    };
    let status = resp.status();
    let text = match resp.text().await {
        Ok(t) => t,
        Err(e) => return usage_error(format!("GET {url}: {e}")),
    };
    if !status.is_success() {
        // The mock's refusals (no such session, nothing to judge) are `{"error": …}`: say just that.
        let said = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned));
        return match said {
            Some(message) => usage_error(message),
            None => usage_error(format!("GET {url} answered {status}: {}", text.chars().take(300).collect::<String>())),
        };
    }
    let verdict: Verdict = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return usage_error(format!("GET {url} did not answer a verdict ({e}): is the target a mock?")),
    };
    if verdict.entries == 0 {
        return usage_error(format!("session {:?} has no journal entries: nothing to judge", verdict.session));
    }
    let report = to_report(&verdict, &args.target, baseline.as_ref(), &required, started.elapsed().as_millis() as u64);
    print(&verdict, &report);
    for spec in &args.report {
        if let Err(e) = write_text(&render(&verdict, &report, spec.format), spec) {
            return usage_error(format!("cannot write the report {e}"));
        }
    }
    ExitCode::from(report.exit_code())
}

/// One line per rule, failures with their evidence, then the summary.
fn print(verdict: &Verdict, report: &RunReport) {
    let mut out = std::io::stdout().lock();
    if let Some(p) = &verdict.plan {
        let _ = writeln!(out, "plan: {p}");
    }
    for (r, s) in verdict.rules.iter().zip(&report.scenarios) {
        let label = match s.outcome {
            Outcome::Passed => "PASS",
            Outcome::Failed | Outcome::UnexpectedPass => "FAIL",
            Outcome::Skipped => "NOT EXERCISED",
            Outcome::ExpectedFailure => "XFAIL",
        };
        let _ = writeln!(out, "{label:<13} {:<24} {}", r.id, r.title);
        match s.outcome {
            Outcome::Failed if r.status == Status::NotExercised => {
                let _ = writeln!(out, "    required, but not exercised: {}", r.message);
            }
            Outcome::Failed => {
                let _ = writeln!(out, "    {} ({})", r.message, r.sources.join(", "));
                for line in evidence_text(r).lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
            Outcome::UnexpectedPass | Outcome::ExpectedFailure => {
                if let Some(f) = &s.failure {
                    let _ = writeln!(out, "    {}", f.message);
                }
                if let Some(reason) = s.baseline_reason.as_deref().filter(|x| !x.is_empty()) {
                    let _ = writeln!(out, "    baseline: {reason}");
                }
            }
            Outcome::Passed | Outcome::Skipped => {}
        }
    }
    for s in &report.scenarios[verdict.rules.len().min(report.scenarios.len())..] {
        let _ =
            writeln!(out, "{:<13} {:<24} {}", "FAIL", s.name, s.failure.as_ref().map_or("", |f| f.message.as_str()));
    }
    for e in &report.stale_baseline {
        let _ = writeln!(out, "STALE {}", e.message);
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} not exercised{} ({} journal entries, session {})",
        s.passed,
        s.failed + s.unexpected_passes + s.stale_baseline_entries,
        s.skipped,
        if s.expected_failures > 0 { format!(", {} expected failures", s.expected_failures) } else { String::new() },
        verdict.entries,
        verdict.session
    );
    let _ = out.flush();
}
