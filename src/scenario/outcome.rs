//! How scenarios end: a result per scenario (its outcome and, for a failure, what went wrong where) and the
//! counts of a run. The runner (`run.rs`) produces them, baselines (`baseline.rs`) reclassify them and the
//! reports (`report.rs`) render them; none of those depend on each other for these types.

use serde::Serialize;

use super::expect::{Mismatch, Response, Verdict};

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every step held.
    Passed,
    /// A step failed.
    Failed,
    /// Not run (the reason says why).
    Skipped,
    /// Failed, and the baseline lists it: does not fail the run.
    ExpectedFailure,
    /// Passed, but the baseline lists it as failing: fails the run until the entry is removed.
    UnexpectedPass,
}

/// Whether a failure is a check that did not hold or a step that could not be carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// An expectation did not hold.
    Assertion,
    /// The step could not run: transport error, a variable without a value, an admin call refused.
    Error,
}

/// Where and how a scenario failed.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Assertion or error.
    pub kind: FailureKind,
    /// The failing step, 1-based.
    pub step: usize,
    /// Its `name`.
    pub step_name: Option<String>,
    /// The step's line in the file.
    pub line: u64,
    /// The step's column.
    pub column: u64,
    /// `POST /auth/o2/token` (the path without the target and session).
    pub request: Option<String>,
    /// The answer's status, when there was one.
    pub status: Option<u16>,
    /// A one-line summary.
    pub message: String,
    /// Every check that did not hold.
    pub mismatches: Vec<Mismatch>,
    /// A line diff of expected and actual JSON or text, when there is one.
    pub diff: Option<String>,
    /// The start of the answer's body.
    pub body: Option<String>,
}

impl Failure {
    /// An assertion that failed outside any step (a baseline's unexpected pass, a client rule), with no
    /// request, diff or body yet.
    pub fn assertion(message: impl Into<String>) -> Self {
        Failure { kind: FailureKind::Assertion, ..Failure::error(message) }
    }

    pub(crate) fn error(message: impl Into<String>) -> Self {
        Failure {
            kind: FailureKind::Error,
            step: 0,
            step_name: None,
            line: 0,
            column: 0,
            request: None,
            status: None,
            message: message.into(),
            mismatches: Vec::new(),
            diff: None,
            body: None,
        }
    }

    pub(crate) fn from_verdict(message: impl Into<String>, v: Verdict, resp: &Response, request: &str) -> Self {
        Failure {
            kind: FailureKind::Assertion,
            request: Some(request.to_owned()),
            status: Some(resp.status),
            mismatches: v.mismatches,
            diff: v.diff,
            body: Some(resp.body_for_report(1000)),
            ..Failure::error(message)
        }
    }

    /// Masks every secret-shaped part of what the failure shows (the request line with its query, the message,
    /// each mismatch, the diff, the start of the body): tokens, client secrets, codes and verifiers become
    /// their fingerprints (`crate::journal::secrets`), so no report or console line carries one. Equal values
    /// keep equal fingerprints, so a mismatch between two tokens still reads as one.
    pub fn mask(&mut self) {
        use crate::journal::secrets::mask_in_place;
        let strings = self
            .request
            .iter_mut()
            .chain(self.step_name.iter_mut())
            .chain(std::iter::once(&mut self.message))
            .chain(self.diff.iter_mut())
            .chain(self.body.iter_mut());
        for s in strings {
            mask_in_place(s);
        }
        for m in &mut self.mismatches {
            mask_in_place(&mut m.check);
            mask_in_place(&mut m.expected);
            mask_in_place(&mut m.actual);
        }
    }

    /// `step 3 (exchange the code): status: expected 200, got 400`; just the message for a failure before
    /// the first step (the session reset, `vars`) or after the last (a baseline's unexpected pass).
    pub fn headline(&self) -> String {
        if self.step == 0 {
            return self.message.clone();
        }
        let step = match &self.step_name {
            Some(n) => format!("step {} ({n})", self.step),
            None => format!("step {}", self.step),
        };
        match self.mismatches.first() {
            Some(m) => {
                let more = match self.mismatches.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                };
                format!("{step}: {}: expected {}, got {}{more}", m.check, m.expected, m.actual)
            }
            None => format!("{step}: {}", self.message),
        }
    }

    /// Everything about the failure, as readable text: step and position, request, each mismatch, the diff
    /// and the start of the body.
    pub fn details(&self, file: &str) -> String {
        let mut s = String::new();
        if self.step > 0 {
            let name = self.step_name.as_deref().map(|n| format!(" {n:?}")).unwrap_or_default();
            s.push_str(&format!("step {}{name} at {file}:{}:{}\n", self.step, self.line, self.column));
        }
        if let Some(r) = &self.request {
            match self.status {
                Some(st) => s.push_str(&format!("{r} -> {st}\n")),
                None => s.push_str(&format!("{r}\n")),
            }
        }
        s.push_str(&format!("{}\n", self.message));
        for m in &self.mismatches {
            s.push_str(&format!("  {}:\n    expected: {}\n    actual:   {}\n", m.check, m.expected, m.actual));
        }
        if let Some(d) = &self.diff {
            s.push_str(d);
            if !d.ends_with('\n') {
                s.push('\n');
            }
        }
        if let Some(b) = self.body.as_ref().filter(|b| !b.is_empty()) {
            s.push_str(&format!("response body:\n{b}\n"));
        }
        s
    }
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// What it checks in the specs.
    pub checks: Vec<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it was skipped.
    pub skip_reason: Option<String>,
    /// Why it failed (also kept for expected failures).
    pub failure: Option<Failure>,
    /// The baseline's reason, for a listed scenario.
    pub baseline_reason: Option<String>,
    /// The mock session it ran in.
    pub session: Option<String>,
    /// Steps carried out (the failing one included).
    pub steps_run: usize,
    /// Steps in the scenario.
    pub steps_total: usize,
    /// Wall-clock time.
    pub duration_ms: u64,
}

/// Counts of a run.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Passed.
    pub passed: usize,
    /// Failed, not listed in the baseline.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Failed as the baseline expects.
    pub expected_failures: usize,
    /// Listed in the baseline but passed.
    pub unexpected_passes: usize,
    /// Baseline entries that name no scenario.
    pub stale_baseline_entries: usize,
}

/// A baseline entry that names no loaded scenario.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StaleEntry {
    /// The name it gives.
    pub name: String,
    /// What to do.
    pub message: String,
}

/// Everything a run found.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The base URL (for the in-process server, its loopback address).
    pub target: String,
    /// Whether the target is a mock (sessions, control steps).
    pub mock: bool,
    /// Whether the server ran in this process.
    pub in_process: bool,
    /// Wall-clock time of the run.
    pub duration_ms: u64,
    /// The counts.
    pub summary: Summary,
    /// One result per selected scenario, in file order.
    pub scenarios: Vec<ScenarioResult>,
    /// Baseline entries that name no scenario among those loaded.
    pub stale_baseline: Vec<StaleEntry>,
}

impl RunReport {
    /// Whether the run passed: nothing failed unexpectedly, no listed scenario passed, no stale entry.
    pub fn success(&self) -> bool {
        self.summary.failed == 0 && self.summary.unexpected_passes == 0 && self.summary.stale_baseline_entries == 0
    }

    /// 0 when the run passed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.success() { 0 } else { 1 }
    }

    /// `3 passed, 1 failed, 2 skipped`.
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        format!("{} passed, {} failed, {} skipped", s.passed, s.failed + s.unexpected_passes, s.skipped)
    }

    /// Recounts the summary from the results and stale entries.
    pub fn count(&mut self) {
        let mut s = Summary { stale_baseline_entries: self.stale_baseline.len(), ..Summary::default() };
        for r in &self.scenarios {
            match r.outcome {
                Outcome::Passed => s.passed += 1,
                Outcome::Failed => s.failed += 1,
                Outcome::Skipped => s.skipped += 1,
                Outcome::ExpectedFailure => s.expected_failures += 1,
                Outcome::UnexpectedPass => s.unexpected_passes += 1,
            }
        }
        self.summary = s;
    }
}
