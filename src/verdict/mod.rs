//! Client verdicts: rules judged from a session's request journal, each PASS, FAIL or NOT EXERCISED with the
//! journal entries that prove it (timestamps on the session's virtual clock) and the spec section or RFC
//! clause it rests on.
//!
//! The rules run in every session, with or without a plan: a running lint of what clients send. A plan
//! (`crate::plan`) may name the rules it judges. `GET /__admin/verdict` answers a [`Verdict`]; the
//! `verdict` command turns one into reports with the runner's baseline semantics (`cmd.rs`); `/__admin/ui`
//! shows it live (`ui.rs`). The rules themselves are plain functions over journal entries (`rules.rs`), so
//! their tests build journals by hand.
//!
//! Nothing here imports axum.

pub mod cmd;
mod index;
mod rules;
#[cfg(test)]
mod tests;
pub mod ui;

use serde::{Deserialize, Serialize};

use crate::journal::JournalEntry;
use crate::store::Plan;
pub use index::Index;

/// How a rule came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The client kept the rule every time it was put to the test.
    Pass,
    /// The client broke it; the evidence shows where.
    Fail,
    /// Nothing in the journal put the rule to the test.
    NotExercised,
}

impl Status {
    /// `PASS`, `FAIL`, `NOT EXERCISED`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotExercised => "NOT EXERCISED",
        }
    }
}

/// A rule: what it checks, where the requirement comes from, and the function that judges it.
pub struct Rule {
    /// Stable id (`device-poll-interval`), used by plans and baselines.
    pub id: &'static str,
    /// The family: `device`, `tokens`, `api-key`, `scopes`, `back-off`, `playback`, `bad-material`.
    pub group: &'static str,
    /// What a good client does, in a line.
    pub title: &'static str,
    /// The spec sections and RFC clauses it rests on.
    pub sources: &'static [&'static str],
    /// How the journal is read to judge it.
    pub judged: &'static str,
    judge: fn(&Index<'_>) -> Judgement,
}

/// Every rule, in the order verdicts list them.
pub static RULES: &[Rule] = rules::RULES;

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// What a rule function finds.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// The outcome.
    pub status: Status,
    /// One or two sentences: what was seen.
    pub message: String,
    /// The entries behind it: the offending ones for a FAIL, the exercising ones for a PASS.
    pub evidence: Vec<Evidence>,
}

/// One journal entry cited as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The entry's `seq` in the session journal.
    pub seq: u64,
    /// Its arrival on the session's virtual clock, epoch milliseconds.
    pub at_ms: i64,
    /// The same as RFC 3339 UTC (`2026-05-01T12:00:01.250Z`).
    pub at: String,
    /// `POST /auth/o2/token`.
    pub request: String,
    /// The status answered (0: the connection was dropped).
    pub status: u16,
    /// What this entry shows.
    pub note: String,
}

impl Evidence {
    /// Evidence from an entry.
    pub fn of(e: &JournalEntry, note: impl Into<String>) -> Self {
        Evidence {
            seq: e.seq,
            at_ms: e.at_ms,
            at: rfc3339_ms(e.at_ms),
            request: format!("{} {}", e.method, e.path),
            status: e.status,
            note: note.into(),
        }
    }
}

/// Most evidence entries kept per rule; the message counts the rest.
pub const MAX_EVIDENCE: usize = 25;

/// One rule's result in a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleResult {
    /// The rule's id.
    pub id: String,
    /// Its family.
    pub group: String,
    /// What a good client does.
    pub title: String,
    /// Spec sections and RFC clauses.
    pub sources: Vec<String>,
    /// PASS, FAIL or NOT EXERCISED.
    pub status: Status,
    /// What was seen.
    pub message: String,
    /// The entries behind it (at most [`MAX_EVIDENCE`]).
    pub evidence: Vec<Evidence>,
    /// How many evidence entries there were before the cut.
    pub evidence_total: usize,
}

/// Counts of a verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Rules passed.
    pub pass: usize,
    /// Rules failed.
    pub fail: usize,
    /// Rules nothing exercised.
    pub not_exercised: usize,
}

/// A session's verdict, as `GET /__admin/verdict` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The session.
    pub session: String,
    /// The plan's name, when one is loaded.
    pub plan: Option<String>,
    /// The plan's file, when it came from one.
    pub plan_file: Option<String>,
    /// When it was judged, on the session's virtual clock (epoch ms).
    pub judged_at_ms: i64,
    /// Journal entries judged.
    pub entries: usize,
    /// The counts.
    pub summary: Counts,
    /// One result per judged rule, in [`RULES`] order.
    pub rules: Vec<RuleResult>,
}

impl Verdict {
    /// Whether every judged rule that was exercised passed.
    pub fn passed(&self) -> bool {
        self.summary.fail == 0
    }
}

/// Judges a journal: every rule, or those the plan names.
pub fn judge(session: &str, journal: &[JournalEntry], plan: Option<&Plan>, now_ms: i64) -> Verdict {
    let index = Index::new(journal);
    let mut summary = Counts::default();
    let rules: Vec<RuleResult> = RULES
        .iter()
        .filter(|r| plan.is_none_or(|p| p.judges(r.id)))
        .map(|r| {
            let mut j = (r.judge)(&index);
            match j.status {
                Status::Pass => summary.pass += 1,
                Status::Fail => summary.fail += 1,
                Status::NotExercised => summary.not_exercised += 1,
            }
            let total = j.evidence.len();
            j.evidence.truncate(MAX_EVIDENCE);
            RuleResult {
                id: r.id.to_owned(),
                group: r.group.to_owned(),
                title: r.title.to_owned(),
                sources: r.sources.iter().map(|s| (*s).to_owned()).collect(),
                status: j.status,
                message: j.message,
                evidence: j.evidence,
                evidence_total: total,
            }
        })
        .collect();
    Verdict {
        session: session.to_owned(),
        plan: plan.map(|p| p.name.clone()),
        plan_file: plan.and_then(|p| p.file.clone()),
        judged_at_ms: now_ms,
        entries: journal.len(),
        summary,
        rules,
    }
}

/// `2026-05-01T12:00:01.250Z`.
pub fn rfc3339_ms(ms: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// `1.250 s`.
pub fn secs(ms: i64) -> String {
    format!("{:.3} s", ms as f64 / 1000.0)
}
