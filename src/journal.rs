//! The request journal: what each session received and answered, with secrets redacted.
//!
//! Every request is recorded by the journal middleware in `app.rs`; handlers add what only they know
//! (the client, the customer, the parsed token-endpoint parameters, the error code) through a
//! [`JournalNote`] in the response extensions. Secrets are never stored: they become
//! `[redacted:<8 hex>]`, a fingerprint that lets later analysis (client verdicts) tell two tokens apart
//! without being able to use them. A value is a secret by its name ([`is_secret`]) or by its shape, whatever
//! it is called ([`secrets`]); [`JournalEntry::bound`] masks every string of an entry by shape once more before
//! the store keeps it.

pub mod secrets;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use secrets::{Place, SecretKind};

/// Parameter and header names whose values are secrets, compared without case, `-` and `_`
/// (`clientSecret`, `client-secret` and `CLIENT_SECRET` are `client_secret`).
const SECRET_NAMES: &[&str] = &[
    "accesstoken",
    "refreshtoken",
    "clientsecret",
    "code",
    "authcode",
    "authorizationcode",
    "codeverifier",
    "devicecode",
    "authorization",
    "xamzaccesstoken",
    "password",
    "token",
    "sig",
];

/// Name parts that make any name a secret's (`secret`, `x-secret`, `app_secret`, `pkce_verifier`).
const SECRET_NAME_PARTS: &[&str] = &["secret", "verifier", "password"];

/// Prefixes of LWA tokens: a query value starting with one is a token whatever the parameter is called.
const TOKEN_PREFIXES: &[&str] = &["Atza|", "Atzr|", "Atc|", "Atza%7C", "Atzr%7C", "Atc%7C"];

/// Whether a value looks like an LWA token (`Atza|…`, `Atzr|…`, `Atc|…`).
pub fn looks_like_token(value: &str) -> bool {
    TOKEN_PREFIXES.iter().any(|p| value.starts_with(p))
}

/// Whether a parameter or header name carries a secret: one of the secret names, or a name containing
/// `secret`, `verifier` or `password`, in any case and with any `-` and `_`.
pub fn is_secret(name: &str) -> bool {
    let folded: String = name.chars().filter(|c| !matches!(c, '-' | '_')).map(|c| c.to_ascii_lowercase()).collect();
    SECRET_NAMES.contains(&folded.as_str()) || SECRET_NAME_PARTS.iter().any(|p| folded.contains(p))
}

/// `[redacted:<first 8 hex of sha256>]`.
pub fn fingerprint(value: &str) -> String {
    // A client sends one token with many requests, and each is fingerprinted two or three times (its header,
    // the journal's token, a note): the last few are remembered per thread, which spares the hash.
    remembered(&FINGERPRINTS, |v| &**v == value, || value.into(), || hashed_fingerprint(value))
}

/// How many values a thread remembers of each kind (fingerprints, headers judged).
const MEMO: usize = 8;

/// The last [`MEMO`] values a thread computed of one kind, with the keys they were computed for.
type Memo<K, V> = std::cell::RefCell<std::collections::VecDeque<(K, V)>>;

thread_local! {
    /// The values this thread fingerprinted last, with their fingerprints.
    static FINGERPRINTS: Memo<Box<str>, String> = const { std::cell::RefCell::new(std::collections::VecDeque::new()) };
    /// The headers this thread judged last: (fixtures id, name, value) and what [`header_view`] made of them.
    static HEADERS: Memo<(u64, Box<str>, Box<str>), HeaderView> =
        const { std::cell::RefCell::new(std::collections::VecDeque::new()) };
}

/// The value `memo` holds for the key `is_key` accepts, or else `compute`d now and remembered under `key()`
/// (the oldest forgotten beyond [`MEMO`]).
fn remembered<K, V: Clone>(
    memo: &'static std::thread::LocalKey<Memo<K, V>>,
    is_key: impl Fn(&K) -> bool,
    key: impl FnOnce() -> K,
    compute: impl FnOnce() -> V,
) -> V {
    if let Some(v) = memo.with_borrow(|m| m.iter().find(|(k, _)| is_key(k)).map(|(_, v)| v.clone())) {
        return v;
    }
    let v = compute();
    memo.with_borrow_mut(|m| {
        if m.len() == MEMO {
            m.pop_front();
        }
        m.push_back((key(), v.clone()));
    });
    v
}

/// What the journal makes of one request header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderView {
    /// The secret it carries where that secret does not belong ([`secrets::misplaced`]).
    pub misplaced: Option<SecretKind>,
    /// The value to record, redacted ([`redact`]), for the [`RECORDED_HEADERS`].
    pub recorded: Option<String>,
}

/// Judges a request header for the journal: [`secrets::misplaced`] in [`Place::Header`], and [`redact`] when
/// the header is one of the [`RECORDED_HEADERS`] (`name` in lower case, as HTTP header names are held).
/// `known_secret` names the fixtures' client secrets, and `fixtures` tells fixtures apart: a client sends the
/// same headers with every request, so the last few judged are remembered per thread and per fixtures, which
/// spares scanning and hashing a token-sized value each time.
pub fn header_view(fixtures: u64, name: &str, value: &str, known_secret: &dyn Fn(&str) -> bool) -> HeaderView {
    remembered(
        &HEADERS,
        |(f, n, v)| *f == fixtures && &**n == name && &**v == value,
        || (fixtures, name.into(), value.into()),
        || HeaderView {
            // The path only matters for the query (`standard_place`).
            misplaced: secrets::misplaced(Place::Header, name, value, "", known_secret),
            recorded: RECORDED_HEADERS.contains(&name).then(|| redact(name, value)),
        },
    )
}

fn hashed_fingerprint(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let mut s = String::with_capacity(19);
    s.push_str("[redacted:");
    for b in &digest[..4] {
        let _ = std::fmt::Write::write_fmt(&mut s, format_args!("{b:02x}"));
    }
    s.push(']');
    s
}

/// The value to record for `name`: its fingerprint when the name is a secret's, or else the value with every
/// secret-shaped part masked ([`secrets::mask`]: a token, a client secret, a code or a verifier under any
/// name).
pub fn redact(name: &str, value: &str) -> String {
    if !is_secret(name) {
        return secrets::mask(value).into_owned();
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
    /// Secrets the request sent outside their standard place: in a query string, or in a header or body field
    /// of another name ([`secrets::misplaced`]). The verdict rule `lwa-secret-placement` judges them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub misplaced_secrets: Vec<MisplacedSecret>,
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

    /// Masks every secret-shaped part of the entry's recorded strings ([`secrets::mask`]; the path by
    /// [`secrets::mask_path`]), whatever name it came under, then cuts the entry to the journal's bounds
    /// ([`VALUE_BYTES`] per string, [`PAIRS`] per list), so that no secret and no request, however large,
    /// reaches the journal: no more than a few hundred KiB for one request. Every store applies it on append;
    /// masking comes first, so a cut never leaves half a secret.
    pub fn bound(&mut self) {
        self.mask();
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
        let misplaced = &mut self.facts.misplaced_secrets;
        misplaced.truncate(PAIRS);
        for m in misplaced.iter_mut() {
            bound_str(&mut m.name);
        }
    }

    /// Masks the strings a request brought (path, host, query, headers, parameters) by shape; the values a
    /// handler already redacted by name are fingerprints, which no shape matches.
    fn mask(&mut self) {
        if let std::borrow::Cow::Owned(p) = secrets::mask_path(&self.path) {
            self.path = p;
        }
        if let Some(h) = &mut self.host {
            secrets::mask_in_place(h);
        }
        for (k, v) in self.query.iter_mut().chain(self.headers.iter_mut()).chain(self.params.iter_mut()) {
            secrets::mask_in_place(k);
            secrets::mask_in_place(v);
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
            + self.facts.misplaced_secrets.iter().map(|m| m.name.len() + 32).sum::<usize>()
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

/// A secret a request sent outside its standard place: what it was, where, and under which name (its value is
/// masked wherever the request is recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MisplacedSecret {
    /// What the value was.
    pub kind: SecretKind,
    /// Query, body or header.
    #[serde(rename = "in")]
    pub place: Place,
    /// The parameter, field or header name it came under.
    pub name: String,
}

impl MisplacedSecret {
    /// `a client secret in the query string as client_secret`, for verdict evidence.
    pub fn describe(&self) -> String {
        format!("sent {} in {} as {:?}", self.kind.describe(), self.place.describe(), self.name)
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
    use super::{HeaderView, SecretKind, fingerprint, hashed_fingerprint, header_view};

    #[test]
    fn a_remembered_fingerprint_is_the_hash_and_a_remembered_header_is_judged_per_fixtures() {
        let token = "Atza|IwEBIremembered";
        assert_eq!(fingerprint(token), hashed_fingerprint(token));
        assert_eq!(fingerprint(token), hashed_fingerprint(token), "the second time from memory");
        // A fixture's client secret has no shape of its own: one server's fixtures know it, another's not.
        let secret = "fixture-secret-without-a-shape";
        let knows = |v: &str| v == secret;
        let view = header_view(1, "x-app-key", secret, &knows);
        assert_eq!(view, HeaderView { misplaced: Some(SecretKind::ClientSecret), recorded: None });
        assert_eq!(header_view(1, "x-app-key", secret, &knows), view, "from memory");
        assert_eq!(header_view(2, "x-app-key", secret, &|_| false), HeaderView { misplaced: None, recorded: None });
        let bearer = format!("Bearer {token}");
        let recorded = Some(format!("Bearer {}", hashed_fingerprint(token)));
        assert_eq!(header_view(1, "authorization", &bearer, &knows), HeaderView { misplaced: None, recorded });
    }
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
