//! Secrets recognised by their value, whatever they are called: what the journal, the dashboard, the reports
//! and the log mask ([`mask`]), and what the verdict rule `lwa-secret-placement` judges ([`misplaced`]).
//!
//! Masking by name (`client_secret`, `Authorization`, …, [`super::is_secret`]) misses a secret sent as
//! `clientSecret`, `x-secret` or inside a JSON field; masking by shape does not. The shapes are those of
//! everything secret the mock loads or hands out, which its own types enforce, so a shape masks each of those
//! values exactly, and the same secrets of other servers too:
//!
//! | Secret | Shape | Enforced by |
//! |---|---|---|
//! | access, refresh and app tokens | `Atza\|`, `Atzr\|`, `Atc\|` (or `%7C`), then base64url | `lwa::tokens::TokenCodec::mint` |
//! | client secret | `amzn1.oa2-cs.v1.` + 64 lowercase hex, or 64 lowercase hex (legacy) | `ids::ClientSecret::parse` |
//! | authorization code | 20 letters starting `AN` | `ids::authorization_code` |
//! | PKCE verifier | 43–128 of `A-Z a-z 0-9 - . _ ~` (RFC 7636 §4.1), not an `amzn1.` id | the client's own |
//!
//! A token is found anywhere in a string (`Bearer Atza|…`, `app/1.0 Atza|…`); the other shapes are whole
//! runs of the verifier alphabet (`A-Z a-z 0-9 - . _ ~`), so an id such as
//! `amzn1.application-oa2-client.<32 hex>` is one run of its own and never a part of one. Each secret found
//! becomes its fingerprint, `[redacted:<8 hex>]` ([`super::fingerprint`]). The verifier's shape is also that
//! of the opaque references a path can carry (a Device API event collector is base64url), so paths are
//! masked without it ([`mask_path`]).
//!
//! Two regular expressions do the finding (the `regex` crate, compiled once): one for tokens, with a literal
//! prefilter on `At`, and one for runs of at least 20 characters; a string shorter than 20 bytes without `At`
//! is returned at once, so the common case costs a length check and a substring search.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::fingerprint;

/// A kind of secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    /// A client secret (`amzn1.oa2-cs.v1.…`, or a fixture client's secret).
    ClientSecret,
    /// A refresh token (`Atzr|…`).
    RefreshToken,
    /// A customer access token (`Atza|…`).
    AccessToken,
    /// An app token (`Atc|…`).
    AppToken,
    /// An authorization code (`AN` and 18 letters).
    AuthorizationCode,
    /// A PKCE code verifier.
    CodeVerifier,
}

impl SecretKind {
    /// The wire name (as the journal writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::ClientSecret => "client_secret",
            SecretKind::RefreshToken => "refresh_token",
            SecretKind::AccessToken => "access_token",
            SecretKind::AppToken => "app_token",
            SecretKind::AuthorizationCode => "authorization_code",
            SecretKind::CodeVerifier => "code_verifier",
        }
    }

    /// In words, for verdict messages.
    pub fn describe(self) -> &'static str {
        match self {
            SecretKind::ClientSecret => "a client secret",
            SecretKind::RefreshToken => "a refresh token",
            SecretKind::AccessToken => "an access token",
            SecretKind::AppToken => "an app token",
            SecretKind::AuthorizationCode => "an authorization code",
            SecretKind::CodeVerifier => "a PKCE code verifier",
        }
    }
}

/// Where a request carried a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// The query string.
    Query,
    /// A form field or a JSON member of the body.
    Body,
    /// A request header.
    Header,
}

impl Place {
    /// In words, for verdict messages.
    pub fn describe(self) -> &'static str {
        match self {
            Place::Query => "the query string",
            Place::Body => "the body",
            Place::Header => "a header",
        }
    }
}

/// LWA's tokens, anywhere in a string: a prefix, `|` or its percent-encoding, then base64url.
fn tokens() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?:Atza|Atzr|Atc)(?:\||%7[cC])[A-Za-z0-9_-]*").expect("a valid regex"))
}

/// The token that `s` is when `s` is one token, whole or after an auth scheme and one space (`Bearer Atza|…`):
/// the request path's common case, decided without the regex ([`tokens`] finds the same token there).
fn sole_token(s: &str) -> Option<&str> {
    let t = match s.split_once(' ') {
        Some((scheme, rest)) if !scheme.contains("At") => rest,
        Some(_) => return None,
        None => s,
    };
    const PREFIXES: &[&str] =
        &["Atza|", "Atzr|", "Atc|", "Atza%7C", "Atzr%7C", "Atc%7C", "Atza%7c", "Atzr%7c", "Atc%7c"];
    let body = PREFIXES.iter().find_map(|p| t.strip_prefix(p))?;
    body.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')).then_some(t)
}

/// Whole runs of RFC 7636's unreserved characters long enough to be a code, a secret or a verifier.
fn runs() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[A-Za-z0-9._~-]{20,}").expect("a valid regex"))
}

/// The kind of token a [`tokens`] match is.
fn token_kind(m: &str) -> SecretKind {
    if m.starts_with("Atzr") {
        SecretKind::RefreshToken
    } else if m.starts_with("Atza") {
        SecretKind::AccessToken
    } else {
        SecretKind::AppToken
    }
}

/// Whether `s` is `AN` and 18 more ASCII letters.
fn is_code(s: &str) -> bool {
    s.len() == 20 && s.starts_with("AN") && s.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Whether `s` has a PKCE verifier's shape: 43–128 unreserved characters (the alphabet is the caller's
/// [`runs`] match), and not an `amzn1.` id.
fn is_verifier(s: &str) -> bool {
    (43..=128).contains(&s.len()) && !s.starts_with("amzn1.")
}

/// The secret a whole run of unreserved characters is, by shape (`verifiers`: whether the verifier's shape
/// counts).
fn run_kind(run: &str, verifiers: bool) -> Option<SecretKind> {
    if run.starts_with("amzn1.oa2-cs.") {
        return Some(SecretKind::ClientSecret);
    }
    if run.len() == 64 && run.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Some(SecretKind::ClientSecret);
    }
    if is_code(run) {
        return Some(SecretKind::AuthorizationCode);
    }
    (verifiers && is_verifier(run)).then_some(SecretKind::CodeVerifier)
}

/// Whether `s` can hold no secret at all: without `At`, which every token prefix starts with, and without a
/// run of unreserved characters as long as the shortest run shape (20): neither regex can match there
/// (`Bearer [redacted:…]`, a host, most paths and header values), so one pass over the bytes decides it.
fn clearly_clean(s: &str) -> bool {
    if s.contains("At") {
        return false;
    }
    let mut run = 0;
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-') {
            run += 1;
            if run == 20 {
                return false;
            }
        } else {
            run = 0;
        }
    }
    true
}

/// Replaces each match of `re` in `s` that `keep` accepts with its fingerprint.
fn replace_matches<'a>(s: Cow<'a, str>, re: &Regex, keep: impl Fn(&str) -> bool) -> Cow<'a, str> {
    let mut out: Option<String> = None;
    let mut last = 0;
    for m in re.find_iter(&s) {
        if !keep(m.as_str()) {
            continue;
        }
        let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
        o.push_str(&s[last..m.start()]);
        o.push_str(&fingerprint(m.as_str()));
        last = m.end();
    }
    match out {
        None => s,
        Some(mut o) => {
            o.push_str(&s[last..]);
            Cow::Owned(o)
        }
    }
}

fn mask_with(s: &str, verifiers: bool) -> Cow<'_, str> {
    if clearly_clean(s) {
        return Cow::Borrowed(s);
    }
    // A value of unreserved characters only holds no token (`|` and `%` are not among them) and no run but
    // itself: judged whole, without the regexes (client ids, grant types, most parameters).
    if unreserved(s) {
        return match whole_run(s).and_then(|r| run_kind(r, verifiers)) {
            Some(_) => Cow::Owned(fingerprint(s)),
            None => Cow::Borrowed(s),
        };
    }
    // The whole value first, so that a bare secret is the fingerprint of itself (as masking by name gives).
    if sole_token(s) == Some(s) || tokens().find(s).is_some_and(|m| m.range() == (0..s.len())) {
        return Cow::Owned(fingerprint(s));
    }
    let s = replace_matches(Cow::Borrowed(s), tokens(), |_| true);
    replace_matches(s, runs(), |r| run_kind(r, verifiers).is_some())
}

/// Whether `s` is made of RFC 7636's unreserved characters only (the [`runs`] alphabet).
fn unreserved(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
}

/// `s` when it is one run of unreserved characters of at least 20 (what a whole-string match of [`runs`] is).
fn whole_run(s: &str) -> Option<&str> {
    (s.len() >= 20 && unreserved(s)).then_some(s)
}

/// `s` with every secret-shaped part replaced by its fingerprint (borrowed when there is none).
pub fn mask(s: &str) -> Cow<'_, str> {
    mask_with(s, true)
}

/// A path masked as [`mask`] does, but for the verifier's shape, which opaque path references share.
pub fn mask_path(s: &str) -> Cow<'_, str> {
    mask_with(s, false)
}

/// Masks a string in place (no allocation when there is nothing to mask).
pub fn mask_in_place(s: &mut String) {
    if let Cow::Owned(m) = mask(s) {
        *s = m;
    }
}

/// The secret a value is, judged by its value: a token anywhere in it, a client secret (`amzn1.oa2-cs.…`, or
/// one `known_secret` says is a fixture's), an authorization code, or, under a name that says so
/// (`…verifier…`), a PKCE verifier. Only shapes nothing else has count here (a 64-hex value or a long opaque
/// one is masked, but may be anything), so a verdict built on it names no innocent value.
pub fn secret_kind(name: &str, value: &str, known_secret: &dyn Fn(&str) -> bool) -> Option<SecretKind> {
    if let Some(t) = sole_token(value) {
        return Some(token_kind(t));
    }
    // A token needs `|` or `%`, which a value of unreserved characters only has not.
    if let Some(m) = (!unreserved(value)).then(|| tokens().find(value)).flatten() {
        return Some(token_kind(m.as_str()));
    }
    let v = value.trim();
    if v.starts_with("amzn1.oa2-cs.") || known_secret(v) {
        return Some(SecretKind::ClientSecret);
    }
    if is_code(v) {
        return Some(SecretKind::AuthorizationCode);
    }
    let says_verifier = name.as_bytes().windows(8).any(|w| w.eq_ignore_ascii_case(b"verifier"));
    (says_verifier && whole_run(v).is_some_and(is_verifier)).then_some(SecretKind::CodeVerifier)
}

/// The paths where LWA documents an access token in the query (`?access_token=`, `lwa.md` §7, §8).
pub const ACCESS_TOKEN_QUERY_PATHS: &[&str] = &["/auth/o2/tokeninfo", "/user/profile", "/ap/user/profile"];

/// Whether `name` in `place` (at `path`) is where a secret of `kind` belongs: the LWA body parameters
/// `client_secret`, `refresh_token`, `code` and `code_verifier`; `Authorization` (Bearer for tokens, Basic
/// for the client secret) and `x-amz-access-token` for access and app tokens; and `?access_token=` where
/// LWA documents it ([`ACCESS_TOKEN_QUERY_PATHS`]).
pub fn standard_place(kind: SecretKind, place: Place, name: &str, path: &str) -> bool {
    let access = matches!(kind, SecretKind::AccessToken | SecretKind::AppToken);
    match place {
        Place::Body => matches!(
            (kind, name),
            (SecretKind::ClientSecret, "client_secret")
                | (SecretKind::RefreshToken, "refresh_token")
                | (SecretKind::AuthorizationCode, "code")
                | (SecretKind::CodeVerifier, "code_verifier")
        ),
        Place::Header if name.eq_ignore_ascii_case("authorization") => access || kind == SecretKind::ClientSecret,
        Place::Header => access && name.eq_ignore_ascii_case("x-amz-access-token"),
        Place::Query => access && name == "access_token" && ACCESS_TOKEN_QUERY_PATHS.contains(&path),
    }
}

/// The secret `value` is when it is sent as `name` in `place` at `path` and that is not where it belongs.
pub fn misplaced(
    place: Place,
    name: &str,
    value: &str,
    path: &str,
    known_secret: &dyn Fn(&str) -> bool,
) -> Option<SecretKind> {
    if clearly_clean(value) {
        return None;
    }
    secret_kind(name, value, known_secret).filter(|&k| !standard_place(k, place, name, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "amzn1.oa2-cs.v1.5d05ad7853c1f76eb97706ca828bca0385813dbad3c681d06bd2aa399dac946d";
    const LEGACY: &str = "1642d8869b829dda3311d6c6539f3ead55192e3fc767b9071c888e60ef151cf9";
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CLIENT_ID: &str = "amzn1.application-oa2-client.71722f244f58d669cbee3772a0770217";

    fn none(_: &str) -> bool {
        false
    }

    #[test]
    fn a_clearly_clean_string_is_one_neither_regex_matches() {
        for (s, clean) in [
            ("Bearer [redacted:0a1b2c3d]", true),
            ("127.0.0.1:8080", true),
            ("/v1/me", true),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", true),
            ("x Atza|IwEB", false),
            ("Atzr%7CIwEB", false),
            ("/v1/tracks/aaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("a.b.c.d.e.f.g.h.i.jk/", false),
            ("a.b.c.d.e.f.g.h.i./", true),
            ("", true),
        ] {
            assert_eq!(clearly_clean(s), clean, "{s}");
            if clean {
                assert!(tokens().find(s).is_none() && runs().find(s).is_none(), "{s}");
            }
        }
    }

    #[test]
    fn a_whole_run_is_what_the_regex_matches_whole() {
        for s in [
            VERIFIER,
            SECRET,
            LEGACY,
            CLIENT_ID,
            "ANcMJpTtVktKiZvfdYaV",
            "short",
            "a b c d e f g h i j k l",
            "x|yyyyyyyyyyyyyyyyyyyyyyy",
            "~~~~~~~~~~~~~~~~~~~~",
            "é".repeat(12).as_str(),
            "",
        ] {
            let by_regex = runs().find(s).filter(|m| m.range() == (0..s.len())).map(|m| m.as_str());
            assert_eq!(whole_run(s), by_regex, "{s}");
        }
    }

    #[test]
    fn a_sole_token_is_the_token_the_regex_finds() {
        // Decided without the regex: the same token as the regex's first match.
        for (s, t) in [
            ("Atza|IwEB-x_y", "Atza|IwEB-x_y"),
            ("Bearer Atza|IwEB-x_y", "Atza|IwEB-x_y"),
            ("bearer Atzr%7Cabc", "Atzr%7Cabc"),
            ("Atc%7cMQ", "Atc%7cMQ"),
            ("Basic Atc|MQEB", "Atc|MQEB"),
        ] {
            assert_eq!(sole_token(s), Some(t), "{s}");
            assert_eq!(tokens().find(s).map(|m| m.as_str()), Some(t), "{s}");
        }
        // Left to the regex.
        for s in ["Bearer Atza|abc def", "Bearer  Atza|abc", "xAtza|abc", "Atza|ab!c", "Atza abc", "At Atza|abc"] {
            assert_eq!(sole_token(s), None, "{s}");
        }
    }

    #[test]
    fn every_shape_is_masked_whole_or_in_part() {
        for s in [SECRET, LEGACY, VERIFIER, "ANcMJpTtVktKiZvfdYaV", "Atza|IwEB-x_y", "Atzr%7Cabc", "Atc|MQEB"] {
            assert_eq!(mask(s), fingerprint(s), "{s}");
        }
        assert_eq!(mask("Bearer Atza|abc"), format!("Bearer {}", fingerprint("Atza|abc")));
        assert_eq!(
            mask(&format!(r#"{{"secret":"{SECRET}","n":1}}"#)),
            format!(r#"{{"secret":"{}","n":1}}"#, fingerprint(SECRET))
        );
        assert_eq!(mask(&format!("x={VERIFIER}&y=2")), format!("x={}&y=2", fingerprint(VERIFIER)));
        // The same value masks to the same fingerprint, so the journal can still tell two apart.
        assert_eq!(mask(&format!("{LEGACY} {LEGACY}")), format!("{0} {0}", fingerprint(LEGACY)));
    }

    #[test]
    fn ids_and_ordinary_values_are_left_alone() {
        for s in [
            CLIENT_ID,
            "amzn1.application.30877432d1026706d7e805da846a32c3",
            "amzn1.account.I7GAS664VLDQ6HEZ7EDJJTFPH2OY",
            "85581b0f-cf10-459e-b823-477a9220f958",
            "music::library:read music::catalog",
            "http://127.0.0.1:9090/cb",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
            "Atlas",
            "ANswerTheQuestionNow1",
            "[redacted:1a2b3c4d]",
            "",
        ] {
            assert_eq!(mask(s), s, "{s}");
            assert!(matches!(mask(s), Cow::Borrowed(_)), "{s}");
        }
        // 128 characters are a verifier's most, 129 are not one.
        let long = "a".repeat(129);
        assert_eq!(mask(&long), long);
        assert_eq!(mask(&"a".repeat(128)), fingerprint(&"a".repeat(128)));
    }

    #[test]
    fn paths_keep_opaque_references_but_not_tokens_codes_or_secrets() {
        let reference = "cGxheWxpc3Q6QjBFWEFNUDEwMHwwfEIwNzZZVDJDQlQ";
        assert_eq!(mask_path(&format!("/device/events/{reference}")), format!("/device/events/{reference}"));
        assert_eq!(mask(&format!("/device/events/{reference}")), format!("/device/events/{}", fingerprint(reference)));
        assert_eq!(mask_path("/v1/tracks/Atza|abc"), format!("/v1/tracks/{}", fingerprint("Atza|abc")));
        assert_eq!(mask_path(&format!("/x/{SECRET}")), format!("/x/{}", fingerprint(SECRET)));
    }

    #[test]
    fn kinds_come_from_unambiguous_shapes_and_verifiers_need_their_name() {
        assert_eq!(secret_kind("x", "Atzr|abc", &none), Some(SecretKind::RefreshToken));
        assert_eq!(secret_kind("x", "Bearer Atza|abc", &none), Some(SecretKind::AccessToken));
        assert_eq!(secret_kind("x", "Atc|abc", &none), Some(SecretKind::AppToken));
        assert_eq!(secret_kind("x", SECRET, &none), Some(SecretKind::ClientSecret));
        assert_eq!(secret_kind("x", "ANcMJpTtVktKiZvfdYaV", &none), Some(SecretKind::AuthorizationCode));
        // A legacy secret is one only when a fixture has it; a 64-hex device id is not.
        assert_eq!(secret_kind("x", LEGACY, &none), None);
        assert_eq!(secret_kind("x", LEGACY, &|v| v == LEGACY), Some(SecretKind::ClientSecret));
        // A 43-character state is not a verifier; under a verifier's name it is.
        assert_eq!(secret_kind("state", VERIFIER, &none), None);
        assert_eq!(secret_kind("codeVerifier", VERIFIER, &none), Some(SecretKind::CodeVerifier));
        assert_eq!(secret_kind("x-pkce-verifier", "short", &none), None);
    }

    #[test]
    fn standard_places_are_the_documented_ones_only() {
        use Place::*;
        use SecretKind::*;
        assert_eq!(misplaced(Body, "client_secret", SECRET, "/auth/o2/token", &none), None);
        assert_eq!(misplaced(Body, "clientSecret", SECRET, "/auth/o2/token", &none), Some(ClientSecret));
        assert_eq!(misplaced(Query, "client_secret", SECRET, "/auth/o2/token", &none), Some(ClientSecret));
        assert_eq!(misplaced(Header, "x-secret", SECRET, "/v1/me", &none), Some(ClientSecret));
        assert_eq!(misplaced(Header, "Authorization", "Bearer Atza|x", "/v1/me", &none), None);
        assert_eq!(misplaced(Header, "authorization", "Bearer Atzr|x", "/v1/me", &none), Some(RefreshToken));
        assert_eq!(misplaced(Header, "x-amz-access-token", "Atza|x", "/user/profile", &none), None);
        assert_eq!(misplaced(Query, "access_token", "Atza|x", "/auth/o2/tokeninfo", &none), None);
        assert_eq!(misplaced(Query, "access_token", "Atza|x", "/v1/me", &none), Some(AccessToken));
        assert_eq!(misplaced(Body, "code", "ANcMJpTtVktKiZvfdYaV", "/auth/o2/token", &none), None);
        assert_eq!(misplaced(Query, "code", "ANcMJpTtVktKiZvfdYaV", "/auth/o2/token", &none), Some(AuthorizationCode));
        assert_eq!(misplaced(Body, "code_verifier", VERIFIER, "/auth/o2/token", &none), None);
        assert_eq!(misplaced(Query, "code_verifier", VERIFIER, "/auth/o2/token", &none), Some(CodeVerifier));
        assert_eq!(misplaced(Body, "refresh_token", "Atzr|x", "/auth/o2/token", &none), None);
        assert_eq!(misplaced(Body, "token", "Atzr|x", "/auth/o2/token", &none), Some(RefreshToken));
        // What is no secret is never misplaced.
        assert_eq!(misplaced(Query, "code", "FUP8UN", "/us/code", &none), None);
        assert_eq!(misplaced(Header, "x-api-key", CLIENT_ID, "/v1/me", &none), None);
    }
}
