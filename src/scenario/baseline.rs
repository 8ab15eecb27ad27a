//! Expected-failures baselines (`--baseline FILE`).
//!
//! A baseline lists scenarios known to fail against some target (a real endpoint where the mock and the
//! service differ). A listed scenario that fails does not fail the run; a listed scenario that **passes**
//! does, and so does an entry that names no scenario among those loaded, so that a baseline cannot keep
//! entries nobody needs any more. Skipped and filtered-out scenarios are not judged.
//!
//! ```yaml
//! expected_failures:
//!   - name: "Device flow: slow_down below the threshold"
//!     reason: "real LWA does not send slow_down for a 2 s gap"
//! ```

use std::collections::HashSet;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::load::LoadError;
pub use super::outcome::StaleEntry;
use super::outcome::{Failure, Outcome, ScenarioResult};

/// A baseline file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Scenarios expected to fail.
    pub expected_failures: Vec<BaselineEntry>,
    /// The file it came from (for messages).
    #[serde(skip)]
    pub file: String,
}

/// One expected failure.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    /// The scenario's `name`.
    pub name: String,
    /// Why it fails (shown in reports).
    #[serde(default)]
    pub reason: Option<String>,
}

impl Baseline {
    /// Reads a baseline file.
    ///
    /// # Errors
    /// A [`LoadError`] with file, line and column for YAML errors and repeated names.
    pub fn load(path: &Path) -> Result<Baseline, LoadError> {
        let (file, text) = super::load::read_text(path, "the baseline")?;
        Self::parse(&file, &text)
    }

    /// Parses a baseline's text.
    ///
    /// # Errors
    /// As [`Baseline::load`].
    pub fn parse(file: &str, text: &str) -> Result<Baseline, LoadError> {
        let mut b: Baseline = serde_saphyr::from_str(text).map_err(|e| LoadError::yaml(file, &e))?;
        let mut seen = HashSet::new();
        for e in &b.expected_failures {
            if !seen.insert(e.name.as_str()) {
                return Err(LoadError {
                    file: file.to_owned(),
                    line: None,
                    column: None,
                    message: format!("{:?} is listed twice: expected each scenario once", e.name),
                });
            }
        }
        b.file = file.to_owned();
        Ok(b)
    }

    /// Applies the baseline to a run's results: a listed failure becomes an expected failure, a listed pass
    /// an unexpected pass (with a failure saying to remove the entry). Returns the entries that name none of
    /// `known` (every loaded scenario, selected or not).
    pub fn apply(&self, results: &mut [ScenarioResult], known: &[&str]) -> Vec<StaleEntry> {
        for r in results.iter_mut() {
            let Some(entry) = self.expected_failures.iter().find(|e| e.name == r.name) else {
                continue;
            };
            r.baseline_reason = Some(entry.reason.clone().unwrap_or_default());
            match r.outcome {
                Outcome::Failed => r.outcome = Outcome::ExpectedFailure,
                Outcome::Passed => {
                    r.outcome = Outcome::UnexpectedPass;
                    r.failure = Some(Failure::assertion(format!(
                        "passed, but the baseline {} lists it as an expected failure: remove the entry",
                        self.file
                    )));
                }
                Outcome::Skipped | Outcome::ExpectedFailure | Outcome::UnexpectedPass => {}
            }
        }
        self.expected_failures
            .iter()
            .filter(|e| !known.contains(&e.name.as_str()))
            .map(|e| StaleEntry {
                name: e.name.clone(),
                message: format!(
                    "the baseline {} lists {:?}, which is not among the scenarios loaded: remove or rename the entry",
                    self.file, e.name
                ),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, outcome: Outcome) -> ScenarioResult {
        ScenarioResult {
            name: name.into(),
            file: format!("{name}.yaml"),
            tags: vec![],
            checks: vec![],
            outcome,
            skip_reason: None,
            failure: None,
            baseline_reason: None,
            session: None,
            steps_run: 1,
            steps_total: 1,
            duration_ms: 0,
        }
    }

    fn baseline() -> Baseline {
        Baseline::parse(
            "b.baseline.yaml",
            "expected_failures:\n  - name: breaks\n    reason: known difference\n  - name: fixed\n",
        )
        .unwrap()
    }

    #[test]
    fn a_listed_failure_does_not_fail_the_run() {
        let mut rs = vec![result("breaks", Outcome::Failed), result("fixed", Outcome::Failed)];
        let stale = baseline().apply(&mut rs, &["breaks", "fixed"]);
        assert!(stale.is_empty());
        assert_eq!(rs[0].outcome, Outcome::ExpectedFailure);
        assert_eq!(rs[0].baseline_reason.as_deref(), Some("known difference"));
    }

    #[test]
    fn a_listed_scenario_that_passes_fails_the_run() {
        let mut rs = vec![result("breaks", Outcome::Failed), result("fixed", Outcome::Passed)];
        baseline().apply(&mut rs, &["breaks", "fixed"]);
        assert_eq!(rs[1].outcome, Outcome::UnexpectedPass);
        let msg = &rs[1].failure.as_ref().unwrap().message;
        assert!(msg.contains("b.baseline.yaml") && msg.contains("remove the entry"), "{msg}");
    }

    #[test]
    fn an_entry_naming_no_scenario_is_stale_and_skipped_ones_are_not_judged() {
        let mut rs = vec![result("breaks", Outcome::Skipped)];
        let stale = baseline().apply(&mut rs, &["breaks"]);
        assert_eq!(rs[0].outcome, Outcome::Skipped);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].name, "fixed");
    }

    #[test]
    fn unlisted_results_are_untouched() {
        let mut rs = vec![result("other", Outcome::Failed)];
        baseline().apply(&mut rs, &["other", "breaks", "fixed"]);
        assert_eq!(rs[0].outcome, Outcome::Failed);
    }

    #[test]
    fn a_name_listed_twice_or_an_unknown_key_is_a_load_error() {
        let e = Baseline::parse("b", "expected_failures:\n  - name: a\n  - name: a\n").unwrap_err();
        assert!(e.message.contains("listed twice"), "{e}");
        let e = Baseline::parse("b", "expected_failures:\n  - nme: a\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
    }
}
