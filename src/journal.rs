//! The request journal: what each session received and answered, with secrets redacted.
//!
//! Every request is recorded by the journal middleware in `app.rs`; handlers add what only they know
//! (the client, the customer, the parsed token-endpoint parameters, the error code) through a
//! [`JournalNote`] in the response extensions. Secrets are never stored: they become
//! `[redacted:<8 hex>]`, a fingerprint that lets later analysis (client verdicts) tell two tokens apart
//! without being able to use them.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Parameter and header names whose values are secrets.
const SECRET_NAMES: &[&str] = &[
    "access_token",
    "refresh_token",
    "client_secret",
    "code",
    "code_verifier",
    "device_code",
    "authorization",
    "x-amz-access-token",
    "password",
    "token",
    "sig",
];

/// Prefixes of LWA tokens: a query value starting with one is a token whatever the parameter is called.
const TOKEN_PREFIXES: &[&str] = &["Atza|", "Atzr|", "Atc|", "Atza%7C", "Atzr%7C", "Atc%7C"];

/// Whether a value looks like an LWA token (`Atza|…`, `Atzr|…`, `Atc|…`).
pub fn looks_like_token(value: &str) -> bool {
    TOKEN_PREFIXES.iter().any(|p| value.starts_with(p))
}

/// Whether a parameter or header name carries a secret.
pub fn is_secret(name: &str) -> bool {
    SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// `[redacted:<first 8 hex of sha256>]`.
pub fn fingerprint(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let mut s = String::with_capacity(19);
    s.push_str("[redacted:");
    for b in &digest[..4] {
        s.push_str(&format!("{b:02x}"));
    }
    s.push(']');
    s
}

/// The value to record for `name`: itself, or its fingerprint when it is a secret (by its name, or because it
/// looks like a token).
pub fn redact(name: &str, value: &str) -> String {
    if !is_secret(name) && !looks_like_token(value) {
        return value.to_owned();
    }
    // Keep the auth scheme readable: "Bearer [redacted:…]", "Basic [redacted:…]".
    if name.eq_ignore_ascii_case("authorization") {
        if let Some((scheme, rest)) = value.split_once(' ') {
            return format!("{scheme} {}", fingerprint(rest.trim()));
        }
    }
    fingerprint(value)
}

/// One recorded request.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct JournalEntry {
    /// Position in the session's journal, from 1.
    pub seq: u64,
    /// When it arrived, virtual epoch milliseconds.
    pub at_ms: i64,
    /// HTTP method.
    pub method: String,
    /// `Host` header, if any.
    pub host: Option<String>,
    /// Path without the `/s/{session}` prefix.
    pub path: String,
    /// Query parameters, secrets redacted.
    pub query: Vec<(String, String)>,
    /// Selected request headers, secrets redacted.
    pub headers: Vec<(String, String)>,
    /// Parsed body parameters (token endpoint and pages), secrets redacted.
    pub params: Vec<(String, String)>,
    /// Response status.
    pub status: u16,
    /// The error code answered, if any (`invalid_grant`, `ACCESS_DENIED`, …).
    pub error: Option<String>,
    /// The client the request was for, when known.
    pub client_id: Option<String>,
    /// The customer, when known.
    pub user_id: Option<String>,
    /// Fingerprint of the token presented or issued, when any.
    pub token: Option<String>,
    /// What client verdicts need beyond the request itself; each key only when known.
    #[serde(flatten)]
    pub facts: Facts,
    /// Server time spent, microseconds (real time).
    pub duration_us: u64,
}

/// Facts about one request that client verdicts (`crate::verdict`) judge, beyond method, path and status.
/// Every field is left out of the JSON when empty, so most entries carry none of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Facts {
    /// The scopes of the token issued or presented, normalised and space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<String>,
    /// Music API: the granted scope that satisfied the route's requirement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_used: Option<String>,
    /// Music API 403 `ACCESS_DENIED`: the scope the route needed and the token lacked (`a or b` for a choice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_missing: Option<String>,
    /// Why a presented token was refused: `expired`, `revoked`, `forced_expired`, `malformed`, `forged`,
    /// `other_session`, `wrong_kind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_problem: Option<String>,
    /// Fingerprint of the refresh token a token response carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Lifetime in seconds of the access token issued (whether or not the answer said so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// Fingerprint of the device code a code pair carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_code: Option<String>,
    /// The `interval` a code pair carried, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<u64>,
    /// The `Retry-After` header answered, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The name of a query parameter that carried a token (its value is redacted in `query`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_in_query: Option<String>,
    /// What the session's plan or fault rules did to this request (`fault THROTTLED`, `dropped`, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub injected: Vec<String>,
    /// Bad material the plan put into this answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bad_material: Option<BadMaterialFact>,
    /// Playback events the request reported (`start`, `stop`), in order. The playback event routes fill it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub playback_events: Vec<String>,
    /// The Music API family whose gate judged the request (set only when a family's route ran, so an
    /// unknown path or a wrong method has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<Api>,
    /// A leniency the request needed: what real LWA would refuse and a setting made the mock accept
    /// (see [`Leniency`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leniency: Option<Leniency>,
    /// The developer hint answered in `x-amm-hint` (what to send instead), when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The most bytes the journal keeps of one recorded string (a parameter's name or value, a header's value, the
/// path): a longer one keeps its first bytes (cut at a character boundary), then [`TRUNCATED`] and how many bytes
/// were left out. Secrets are redacted before this, so a fingerprint is never cut.
pub const VALUE_BYTES: usize = 1024;

/// The most pairs an entry keeps in each of `query`, `headers` and `params`; when there were more, a last pair
/// `("…", "<n> more left out")` says how many were dropped.
pub const PAIRS: usize = 50;

/// The marker after a cut value.
pub const TRUNCATED: &str = "…[truncated: ";

/// Cuts `s` to [`VALUE_BYTES`] with the marker.
fn bound_str(s: &mut String) {
    if s.len() <= VALUE_BYTES {
        return;
    }
    let mut cut = VALUE_BYTES;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let dropped = s.len() - cut;
    s.truncate(cut);
    s.push_str(&format!("{TRUNCATED}{dropped} more bytes]"));
}

/// Cuts a list of pairs to [`PAIRS`] and each string in it to [`VALUE_BYTES`].
fn bound_pairs(pairs: &mut Vec<(String, String)>) {
    if pairs.len() > PAIRS {
        let dropped = pairs.len() - (PAIRS - 1);
        pairs.truncate(PAIRS - 1);
        pairs.push(("…".to_owned(), format!("{dropped} more left out")));
        pairs.shrink_to_fit();
    }
    for (k, v) in pairs.iter_mut() {
        bound_str(k);
        bound_str(v);
    }
}

impl JournalEntry {
    /// A `POST /auth/o2/token` entry answered 400 with these parameters and nothing else (for tests).
    #[cfg(test)]
    pub(crate) fn token_request(params: Vec<(String, String)>) -> Self {
        JournalEntry {
            seq: 0,
            at_ms: 0,
            method: "POST".into(),
            host: None,
            path: "/auth/o2/token".into(),
            query: Vec::new(),
            headers: Vec::new(),
            params,
            status: 400,
            error: None,
            client_id: None,
            user_id: None,
            token: None,
            facts: Facts::default(),
            duration_us: 0,
        }
    }

    /// Cuts the entry to the journal's bounds ([`VALUE_BYTES`] per string, [`PAIRS`] per list), so that no
    /// request, however large, makes the journal hold more than a few hundred KiB for it. Every store applies
    /// it on append.
    pub fn bound(&mut self) {
        bound_str(&mut self.path);
        if let Some(h) = &mut self.host {
            bound_str(h);
        }
        bound_pairs(&mut self.query);
        bound_pairs(&mut self.headers);
        bound_pairs(&mut self.params);
        if let Some(h) = &mut self.facts.hint {
            bound_str(h);
        }
    }

    /// About how many bytes the entry holds: its strings plus a fixed overhead (for the session's journal byte
    /// cap, `--journal-bytes`).
    pub fn weight(&self) -> usize {
        let pairs = |v: &[(String, String)]| v.iter().map(|(k, v)| k.len() + v.len() + 48).sum::<usize>();
        let opt = |o: &Option<String>| o.as_ref().map_or(0, String::len);
        512 + self.method.len()
            + self.path.len()
            + opt(&self.host)
            + pairs(&self.query)
            + pairs(&self.headers)
            + pairs(&self.params)
            + opt(&self.error)
            + opt(&self.client_id)
            + opt(&self.user_id)
            + opt(&self.token)
            + opt(&self.facts.hint)
            + self.facts.injected.iter().map(String::len).sum::<usize>()
    }
}

/// The three Music API families (`music-api.md` §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// Web API V1 (`/v1`, and V1's paths without the prefix).
    V1,
    /// Web API V2 (`/v2`).
    V2,
    /// The Device API (`/device`, or `/` on `music-api.amazon.com`).
    Device,
}

/// Requests real LWA refuses that a lenient setting lets through, so that a generic library gets past them;
/// the verdict rule `lwa-no-leniency` fails the client that needed one (`docs/ROUTES.md` "Leniencies").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Leniency {
    /// A code pair request without `response_type=device_code` (`lwa.md` §5), accepted under the setting
    /// `accept_codepair_without_response_type`.
    CodepairWithoutResponseType,
    /// `grant_type=urn:ietf:params:oauth:grant-type:device_code` instead of LWA's bare `device_code`
    /// (`lwa.md` §4.4), accepted unless the setting `strict_lwa` is on.
    DeviceCodeGrantUrn,
}

impl Leniency {
    /// The wire name (as the journal writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Leniency::CodepairWithoutResponseType => "codepair_without_response_type",
            Leniency::DeviceCodeGrantUrn => "device_code_grant_urn",
        }
    }

    /// What the client sent that LWA would refuse, in a line.
    pub fn describe(self) -> &'static str {
        match self {
            Leniency::CodepairWithoutResponseType => "a code pair request without response_type=device_code",
            Leniency::DeviceCodeGrantUrn => {
                "grant_type=urn:ietf:params:oauth:grant-type:device_code, where LWA documents grant_type=device_code"
            }
        }
    }
}

/// Kinds of bad material a plan can serve (a client must not use any of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadMaterial {
    /// A token response without `expires_in`.
    MissingExpiresIn,
    /// An `/ap/oa` redirect whose `state` is not the one the client sent.
    WrongState,
    /// A token response whose `Atza|` access token is cut short.
    TruncatedToken,
}

impl BadMaterial {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BadMaterial::MissingExpiresIn => "missing_expires_in",
            BadMaterial::WrongState => "wrong_state",
            BadMaterial::TruncatedToken => "truncated_token",
        }
    }
}

/// Bad material served: its kind and the fingerprint of what it taints (the access token of a token response,
/// the authorization code of a redirect).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BadMaterialFact {
    /// What was wrong with it.
    pub kind: BadMaterial,
    /// Fingerprint of the tainted token or code.
    pub tainted: String,
}

/// What a handler adds to its request's journal entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalNote {
    /// Parsed parameters, already redacted.
    pub params: Vec<(String, String)>,
    /// The error code answered.
    pub error: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// The customer.
    pub user_id: Option<String>,
    /// Fingerprint of the relevant token.
    pub token: Option<String>,
    /// Facts for client verdicts.
    pub facts: Facts,
}

/// Request headers worth recording (others are noise for client verdicts).
pub const RECORDED_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "x-amz-access-token",
    "content-type",
    "user-agent",
    "accept-language",
    "x-amzn-device-id",
    "x-amzn-audio-device-capability",
    "x-amzn-audio-drmtype",
    "range",
];

#[cfg(test)]
mod tests {
    #[test]
    fn an_entry_is_cut_to_the_bounds_with_markers() {
        let mut e =
            super::JournalEntry::token_request((0..1000).map(|i| (format!("k{i}"), "v".repeat(5000))).collect());
        e.headers = vec![("user-agent".into(), "é".repeat(600))];
        let before = e.weight();
        e.bound();
        assert_eq!(e.params.len(), super::PAIRS);
        assert_eq!(e.params[super::PAIRS - 1], ("…".to_owned(), "951 more left out".to_owned()));
        assert_eq!(e.params[0].1, format!("{}…[truncated: 3976 more bytes]", "v".repeat(1024)));
        // 600 two-byte characters: cut at 1024 bytes, a character boundary.
        assert_eq!(e.headers[0].1, format!("{}…[truncated: 176 more bytes]", "é".repeat(512)));
        assert!(e.weight() < 60 * 1024 && before > 5_000_000, "{before} → {}", e.weight());
    }

    use super::*;

    #[test]
    fn secrets_are_fingerprinted_and_schemes_kept() {
        assert_eq!(redact("grant_type", "refresh_token"), "refresh_token");
        let r = redact("refresh_token", "Atzr|abc");
        assert!(r.starts_with("[redacted:") && r.len() == 19, "{r}");
        assert!(!r.contains("abc"));
        assert_eq!(redact("Authorization", "Bearer Atza|x"), format!("Bearer {}", fingerprint("Atza|x")));
        assert_eq!(fingerprint("a"), fingerprint("a"));
        assert_ne!(fingerprint("a"), fingerprint("b"));
    }

    #[test]
    fn a_token_is_redacted_under_any_parameter_name() {
        assert_eq!(redact("t", "Atza|abc"), fingerprint("Atza|abc"));
        assert_eq!(redact("x", "Atc%7Cabc"), fingerprint("Atc%7Cabc"));
        assert_eq!(redact("sig", "abc"), fingerprint("abc"));
        assert_eq!(redact("cursor", "Atlas"), "Atlas");
    }
}
