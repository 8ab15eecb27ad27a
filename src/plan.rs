//! Client plans (`scenarios/clients/*.yaml`): what the server does to one session's client, and which rules
//! judge that client's traffic (`crate::verdict`).
//!
//! A plan extends the scenario format rather than inventing another: `name`, `description` and `tags` mean
//! what they mean in a scenario; `settings` is the body of a scenario's `control: settings` step (and of
//! `PUT /__admin/settings`); each `faults` entry is the body of a `control: fault` step (`POST
//! /__admin/faults`) with an `nth` shorthand. On top come the behaviours a scenario cannot script, because
//! they react to the client rather than run in steps: the customer removing the app after N calls, bad
//! material in the Nth token response or redirect, and latency or dropped connections, decided from `seed`
//! so a run repeats. `scenarios/clients/README.md` is the user's reference.
//!
//! The format's data and seeded decisions are `crate::store::plan` (re-exported here), below the store that
//! keeps a session's plan and its counters; this module reads plans from text and files and makes the checks
//! serde cannot, the rule names against `crate::verdict` among them. The handlers apply what they answer.

use std::path::{Path, PathBuf};

use crate::scenario::load::LoadError;
pub use crate::store::plan::*;

/// Whether `code` is an error a fault rule may inject: a V1 code, a V2 code or a Device API report. Plans and
/// `POST /__admin/faults` check their faults with it; the store, below the families, takes it as a function.
pub fn known_fault_code(code: &str) -> bool {
    crate::v1::error::Code::parse(code).is_some()
        || crate::v2::error::Code::parse(code).is_some()
        || crate::device::error::Report::parse(code).is_some()
}

impl Plan {
    /// Parses and checks a plan's text; `file` names it in errors.
    ///
    /// # Errors
    /// A [`LoadError`] with line and column for YAML and type errors, and one naming the key for the checks
    /// serde cannot make.
    pub fn parse(file: &str, text: &str) -> Result<Plan, LoadError> {
        let plan: Plan = serde_saphyr::from_str(text).map_err(|e| LoadError::yaml(file, &e))?;
        plan.validate().map_err(|message| LoadError::file(file, message))?;
        Ok(plan)
    }

    /// Reads a plan file.
    ///
    /// # Errors
    /// As [`Plan::parse`], or the file cannot be read.
    pub fn load(path: &Path) -> Result<Plan, LoadError> {
        let (file, text) = crate::scenario::load::read_text(path, "the plan")?;
        let mut plan = Self::parse(&file, &text)?;
        plan.file = Some(file);
        Ok(plan)
    }

    /// The checks serde cannot make.
    ///
    /// # Errors
    /// A message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("name must not be empty".into());
        }
        self.settings.validate().map_err(|e| format!("settings: {e}"))?;
        for (i, f) in self.faults.iter().enumerate() {
            let at = |m: String| format!("faults[{i}]: {m}");
            if f.nth.is_some() && (f.after.is_some() || f.count.is_some()) {
                return Err(at("nth stands for after: N-1, count: 1; give nth or after/count, not both".into()));
            }
            if f.nth == Some(0) {
                return Err(at("nth counts from 1".into()));
            }
            f.to_fault().validate(known_fault_code).map_err(at)?;
        }
        if let Some(r) = &self.revoke {
            if r.after_calls == 0 {
                return Err("revoke.after_calls must be at least 1".into());
            }
        }
        for (i, b) in self.bad_material.iter().enumerate() {
            if b.nth == 0 {
                return Err(format!("bad_material[{i}]: nth counts from 1"));
            }
        }
        for (i, n) in self.network.iter().enumerate() {
            let at = |m: &str| format!("network[{i}]: {m}");
            if n.latency_ms.is_none() && !n.drop {
                return Err(at("a network rule needs latency_ms, drop: true, or both"));
            }
            if n.latency_ms.is_some_and(|ms| ms > 120_000) {
                return Err(at("latency_ms must be at most 120000"));
            }
            if n.nth.is_some() && n.probability.is_some() {
                return Err(at("give nth or probability, not both"));
            }
            if n.nth == Some(0) {
                return Err(at("nth counts from 1"));
            }
            if n.probability.is_some_and(|p| !(p > 0.0 && p <= 1.0)) {
                return Err(at("probability must be above 0 and at most 1"));
            }
        }
        for id in &self.rules {
            if crate::verdict::rule(id).is_none() {
                let known: Vec<&str> = crate::verdict::RULES.iter().map(|r| r.id).collect();
                return Err(format!("rules: no rule {id:?}; the rules are {}", known.join(", ")));
            }
        }
        Ok(())
    }
}

/// Every plan under `dir` (`*.yaml`, recursively, hidden entries left out), in path order, with the
/// problems found; names must be unique.
pub fn load_dir(dir: &Path) -> (Vec<Plan>, Vec<LoadError>) {
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    let mut plans: Vec<Plan> = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match Plan::load(&f) {
            Ok(p) => {
                if let Some(first) = plans.iter().find(|q| q.name == p.name) {
                    let message = format!(
                        "the name {:?} is also the name of {}: plan names must be unique",
                        p.name,
                        first.file.as_deref().unwrap_or("another plan")
                    );
                    errors.push(LoadError::file(p.file.as_deref().unwrap_or_default(), message));
                } else {
                    plans.push(p);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    (plans, errors)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, out);
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
}

/// The client plans in the `clients/` directory of each directory given (`scenarios/clients/`).
pub fn plans_under(paths: &[PathBuf]) -> (Vec<Plan>, Vec<LoadError>) {
    let (mut plans, mut errors) = (Vec::new(), Vec::new());
    for p in paths {
        let dir = p.join(crate::scenario::load::CLIENT_PLANS_DIR);
        if dir.is_dir() {
            let (ps, es) = load_dir(&dir);
            plans.extend(ps);
            errors.extend(es);
        }
    }
    (plans, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_reads_with_every_behaviour() {
        let text = "\
name: everything
seed: 7
settings: {device_interval_seconds: 2, slow_down_first_polls: 1, device_auto_decision: approve}
faults:
  - {route: \"GET /v1/tracks/*\", error: THROTTLED, retry_after: 3, nth: 2}
revoke: {after_calls: 4}
bad_material:
  - {kind: wrong_state}
  - {kind: missing_expires_in, nth: 2}
network:
  - {route: \"GET /v1/**\", latency_ms: 20, probability: 0.5}
  - {drop: true, nth: 3}
rules: [device-poll-interval]
";
        let p = Plan::parse("p.yaml", text).unwrap();
        assert_eq!(p.settings.device_interval_seconds, Some(2));
        let f = &p.store_faults()[0];
        assert_eq!((f.after, f.count), (Some(1), Some(1)));
        assert_eq!(p.revoke.as_ref().unwrap().route, "*");
        assert_eq!(p.bad_material[0].nth, 1);
        assert_eq!(p.network[1].route, "*");
        assert!(p.judges("device-poll-interval") && !p.judges("api-key-is-profile-id"));
        assert_eq!(p.file, None, "only a plan loaded from a file names it");
    }

    #[test]
    fn mistakes_are_named() {
        let e = Plan::parse("p.yaml", "name: x\nsetings: {}\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let e = Plan::parse("p.yaml", "name: x\nrules: [no-such-rule]\n").unwrap_err();
        assert!(e.message.contains("no rule \"no-such-rule\""), "{e}");
        let e = Plan::parse("p.yaml", "name: x\nfaults: [{route: '*', error: NOPE}]\n").unwrap_err();
        assert!(e.message.starts_with("faults[0]: unknown error code"), "{e}");
        let e =
            Plan::parse("p.yaml", "name: x\nfaults: [{route: '*', error: INTERNAL, nth: 2, count: 1}]\n").unwrap_err();
        assert!(e.message.contains("not both"), "{e}");
        let e = Plan::parse("p.yaml", "name: x\nnetwork: [{route: '*'}]\n").unwrap_err();
        assert!(e.message.contains("latency_ms, drop"), "{e}");
        let e = Plan::parse("p.yaml", "name: x\nnetwork: [{drop: true, probability: 1.5}]\n").unwrap_err();
        assert!(e.message.contains("probability"), "{e}");
        let e = Plan::parse("p.yaml", "name: x\nsettings: {search_limit_max: 0}\n").unwrap_err();
        assert!(e.message.starts_with("settings: search_limit_max"), "{e}");
    }

    #[test]
    fn probabilities_repeat_with_the_seed_and_come_near_their_rate() {
        let rule =
            NetworkRule { route: "*".into(), latency_ms: Some(1), drop: false, nth: None, probability: Some(0.3) };
        let run = |seed| (1..=1000).filter(|k| rule.hits(seed, 0, *k)).collect::<Vec<u64>>();
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
        let n = run(5).len();
        assert!((250..350).contains(&n), "{n} of 1000");
        let nth = NetworkRule { nth: Some(3), probability: None, ..rule };
        assert_eq!((1..=5).filter(|k| nth.hits(1, 0, *k)).collect::<Vec<_>>(), [3]);
    }
}
