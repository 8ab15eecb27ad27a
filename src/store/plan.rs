//! The data of a client plan (`crate::plan` loads and checks plans): what the server does to one session's
//! client, the seeded decisions, and which rules judge it. It sits below the store, which keeps a session's
//! plan and its counters (`SessionStore::plan_network`, `plan_count_call`, `plan_material`); loading a plan
//! from a file and checking its rule names against the verdict live above, in `crate::plan`.

use serde::{Deserialize, Serialize};

use super::SettingsPatch;
use super::music::{Fault, route_matches};
use crate::journal::BadMaterial;

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
    /// The store's fault rules.
    pub fn store_faults(&self) -> Vec<Fault> {
        self.faults.iter().map(PlanFault::to_fault).collect()
    }

    /// Whether the plan judges rule `id` (every rule when it lists none).
    pub fn judges(&self, id: &str) -> bool {
        self.rules.is_empty() || self.rules.iter().any(|r| r == id)
    }
}
