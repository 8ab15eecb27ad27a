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
//! This module is pure: the format, its checks, and the seeded decisions. The store keeps the counters
//! (`SessionStore::plan_network`, `plan_count_call`, `plan_material`); the handlers apply what they answer.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::journal::BadMaterial;
use crate::scenario::LoadError;
use crate::store::SettingsPatch;
use crate::store::music::{Fault, route_matches};

/// A client plan.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// A unique name, shown in verdicts and the dashboard.
    pub name: String,
    /// What the plan puts the client through, in a sentence or two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Free-form labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Seed of the probabilistic network rules, so that a run repeats.
    #[serde(default)]
    pub seed: u64,
    /// Session settings, as `PUT /__admin/settings` takes them.
    #[serde(default)]
    pub settings: SettingsPatch,
    /// Music API fault rules, as `POST /__admin/faults` takes them, plus `nth`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<PlanFault>,
    /// The customer removes the app after some Music API calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Option<RevokeRule>,
    /// Bad material served in the Nth token response or redirect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bad_material: Vec<BadMaterialRule>,
    /// Latency and dropped connections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network: Vec<NetworkRule>,
    /// The rules judged in a session with this plan (ids from `docs/CONFORMANCE.md`); empty: every rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// The file the plan came from, when it came from one (set by [`Plan::load`], not read from the text).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// A fault rule of a plan: the body of `POST /__admin/faults`, where `nth: N` stands for `after: N-1,
/// count: 1` (the Nth matching request answers the error).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFault {
    /// `METHOD /path` pattern (`*` one segment, `**` the rest) or `*`.
    pub route: String,
    /// A V1 error code (`INVALID_ACCESS_TOKEN`, `THROTTLED`, `INTERNAL`, `AUTH_NO_MUSIC_ACCOUNT_FOUND`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `Retry-After` seconds for `THROTTLED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Added latency, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Only the Nth matching request (from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
    /// How many matching requests it applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Matching requests let through first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
}

impl PlanFault {
    /// The store's fault rule.
    pub fn to_fault(&self) -> Fault {
        let (after, count) = match self.nth {
            Some(n) => (Some(n.saturating_sub(1)), Some(1)),
            None => (self.after, self.count),
        };
        Fault {
            route: self.route.clone(),
            error: self.error.clone(),
            retry_after: self.retry_after,
            latency_ms: self.latency_ms,
            count,
            after,
        }
    }
}

/// The customer removes the app (revokes the grant of the calling client) after this many Music API calls
/// that passed the auth chain; the call that reaches the count is still answered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRule {
    /// Calls before the revocation.
    pub after_calls: u64,
    /// Which calls count (`METHOD /path` pattern); every Music API call by default.
    #[serde(default = "any_route")]
    pub route: String,
}

fn any_route() -> String {
    "*".to_owned()
}

fn one() -> u64 {
    1
}

/// Bad material in the Nth answer of its kind: token responses (customer grants) for
/// `missing_expires_in` and `truncated_token`, success redirects of `/ap/oa` that carry a `state` for
/// `wrong_state`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BadMaterialRule {
    /// What is wrong with it.
    pub kind: BadMaterial,
    /// Which answer of its kind (from 1).
    #[serde(default = "one")]
    pub nth: u64,
}

/// Latency or a dropped connection for client requests matching `route`: every matching request, only the
/// `nth`, or each with `probability` (decided from the plan's `seed` and the request's position, so a run
/// repeats).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkRule {
    /// `METHOD /path` pattern (`*` one segment, `**` the rest) or `*`; LWA, Music API and stream paths alike.
    #[serde(default = "any_route")]
    pub route: String,
    /// Real (wall-clock) delay before the request is handled, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Close the connection without an answer (the request is not handled).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop: bool,
    /// Only the Nth matching request (from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
    /// Each matching request with this probability (0 < p ≤ 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

impl NetworkRule {
    /// Whether the `k`-th (from 1) request matching rule `index` is hit, under `seed`.
    pub fn hits(&self, seed: u64, index: usize, k: u64) -> bool {
        match (self.nth, self.probability) {
            (Some(n), _) => k == n,
            (None, Some(p)) => chance(seed, index as u64, k) < p,
            (None, None) => true,
        }
    }

    /// Whether `METHOD path` matches the rule.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        route_matches(&self.route, method, path)
    }
}

/// Where bad material can be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaterialPoint {
    /// A successful token response of a customer grant.
    TokenResponse,
    /// A successful `/ap/oa` redirect that carries a `state`.
    Redirect,
}

impl MaterialPoint {
    /// Whether a kind of bad material goes into this point.
    pub fn takes(self, kind: BadMaterial) -> bool {
        match self {
            MaterialPoint::TokenResponse => matches!(kind, BadMaterial::MissingExpiresIn | BadMaterial::TruncatedToken),
            MaterialPoint::Redirect => kind == BadMaterial::WrongState,
        }
    }
}

/// What the network rules do to one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkAction {
    /// Milliseconds to wait first.
    pub latency_ms: u64,
    /// Close the connection without an answer.
    pub drop: bool,
}

impl NetworkAction {
    /// The journal's words for it.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.latency_ms > 0 {
            out.push(format!("latency {} ms (plan)", self.latency_ms));
        }
        if self.drop {
            out.push("connection dropped (plan)".to_owned());
        }
        out
    }
}

/// A uniform number in [0, 1) from the seed, the rule and the request's position (SplitMix64).
fn chance(seed: u64, rule: u64, k: u64) -> f64 {
    let mut z = seed ^ rule.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k.wrapping_mul(0xD1B5_4A32_D192_ED69);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
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
            f.to_fault().validate().map_err(at)?;
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

    /// The store's fault rules.
    pub fn store_faults(&self) -> Vec<Fault> {
        self.faults.iter().map(PlanFault::to_fault).collect()
    }

    /// Whether the plan judges rule `id` (every rule when it lists none).
    pub fn judges(&self, id: &str) -> bool {
        self.rules.is_empty() || self.rules.iter().any(|r| r == id)
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
