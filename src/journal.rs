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

/// The value to record for `name`: itself, or its fingerprint when it is a secret.
pub fn redact(name: &str, value: &str) -> String {
    if !is_secret(name) {
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
#[derive(Debug, Clone, Serialize)]
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
    /// Server time spent, microseconds (real time).
    pub duration_us: u64,
}

/// What a handler adds to its request's journal entry.
#[derive(Debug, Clone, Default)]
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
}
