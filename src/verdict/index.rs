//! A journal read once for the rules: entries in arrival order, what each token is, and small readers of
//! an entry (its service, parameters, headers, the token it presented, the client behind it).

use std::collections::HashMap;

use crate::journal::{Api, JournalEntry};

/// Which API a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Login With Amazon.
    Lwa,
    /// The Music API (V1, with or without `/v1`; V2).
    Music,
    /// Stream URLs (`/dash/…`, `/stream/…`).
    Stream,
    /// Anything else (unknown paths).
    Other,
}

/// The Music API's unprefixed V1 families (`music-api.md` §11.1 serves them without `/v1` too).
const MUSIC_ROOTS: &[&str] =
    &["tracks", "albums", "artists", "podcasts", "search", "me", "player", "playlists", "views", "playback"];

/// The service of a canonical path.
pub fn service(path: &str) -> Service {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if path.starts_with("/auth/o2/") || path == "/ap/oa" || path.ends_with("/user/profile") || path == "/us/code" {
        Service::Lwa
    } else if first == "v1" || first == "v2" || MUSIC_ROOTS.contains(&first) {
        Service::Music
    } else if first == "dash" || first == "stream" {
        Service::Stream
    } else {
        Service::Other
    }
}

/// What the journal shows about an access token this session issued.
#[derive(Debug, Clone)]
pub struct TokenInfo<'a> {
    /// The entry that issued it.
    pub issued_by: &'a JournalEntry,
    /// The client it was issued to.
    pub client: Option<&'a str>,
    /// Fingerprint of the refresh token of its grant, when known.
    pub refresh: Option<&'a str>,
}

/// A journal ready for judging.
pub struct Index<'a> {
    /// Entries by arrival on the virtual clock (then by `seq`): the journal keeps them by completion.
    pub entries: Vec<&'a JournalEntry>,
    /// Access tokens issued in the journal, by fingerprint.
    pub tokens: HashMap<&'a str, TokenInfo<'a>>,
    /// The client each device code was issued to, by the device code's fingerprint.
    pub device_clients: HashMap<&'a str, &'a str>,
}

impl<'a> Index<'a> {
    /// Reads a journal.
    pub fn new(journal: &'a [JournalEntry]) -> Self {
        let mut entries: Vec<&JournalEntry> = journal.iter().collect();
        entries.sort_by_key(|e| (e.at_ms, e.seq));
        let mut tokens = HashMap::new();
        let mut device_clients = HashMap::new();
        for e in &entries {
            if let (Some(d), Some(c)) = (e.facts.device_code.as_deref(), e.client_id.as_deref()) {
                device_clients.insert(d, c);
            }
            if !is_token_request(e) || e.status != 200 {
                continue;
            }
            let Some(t) = e.token.as_deref() else { continue };
            let refresh = e.facts.refresh_token.as_deref().or_else(|| param(e, "refresh_token"));
            tokens.insert(t, TokenInfo { issued_by: e, client: e.client_id.as_deref(), refresh });
        }
        Index { entries, tokens, device_clients }
    }

    /// The client behind an entry: noted by the handler, or the client its token was issued to.
    /// Device polls name no client: theirs is the one the device code was issued to.
    pub fn client_of(&self, e: &'a JournalEntry) -> Option<&'a str> {
        e.client_id
            .as_deref()
            .or_else(|| presented_token(e).and_then(|t| self.tokens.get(t)).and_then(|i| i.client))
            .or_else(|| {
                is_device_grant(e)
                    .then(|| param(e, "device_code"))
                    .flatten()
                    .and_then(|d| self.device_clients.get(d).copied())
            })
    }

    /// A key that groups one client's requests: its client id, or else its `User-Agent`.
    pub fn client_key(&self, e: &'a JournalEntry) -> String {
        match self.client_of(e) {
            Some(c) => c.to_owned(),
            None => format!("user-agent {}", header(e, "user-agent").unwrap_or("(none)")),
        }
    }

    /// Entries after `e` in arrival order.
    pub fn after(&self, e: &JournalEntry) -> impl Iterator<Item = &'a JournalEntry> + '_ {
        let key = (e.at_ms, e.seq);
        self.entries.iter().copied().filter(move |x| (x.at_ms, x.seq) > key)
    }

    /// Entries of one service.
    pub fn of(&self, s: Service) -> impl Iterator<Item = &'a JournalEntry> + '_ {
        self.entries.iter().copied().filter(move |e| service(&e.path) == s)
    }
}

/// A body or query parameter (body first), as recorded.
pub fn param<'e>(e: &'e JournalEntry, name: &str) -> Option<&'e str> {
    e.params.iter().chain(e.query.iter()).find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A query parameter, as recorded.
pub fn query<'e>(e: &'e JournalEntry, name: &str) -> Option<&'e str> {
    e.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A recorded request header (names are recorded lower-case).
pub fn header<'e>(e: &'e JournalEntry, name: &str) -> Option<&'e str> {
    e.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Whether the entry is a request to the token endpoint.
pub fn is_token_request(e: &JournalEntry) -> bool {
    e.method == "POST" && e.path == "/auth/o2/token"
}

/// The grant type of a token request.
pub fn grant_type(e: &JournalEntry) -> Option<&str> {
    is_token_request(e).then(|| param(e, "grant_type")).flatten()
}

/// Whether the entry asks for a device code's tokens (`grant_type=device_code` or its RFC 8628 URN),
/// whatever the answer.
pub fn is_device_grant(e: &JournalEntry) -> bool {
    matches!(grant_type(e), Some("device_code" | "urn:ietf:params:oauth:grant-type:device_code"))
}

/// The answers that end or continue a device code's polling (RFC 8628 §3.5, `lwa.md` §5).
const POLL_ANSWERS: &[&str] =
    &["authorization_pending", "slow_down", "access_denied", "expired_token", "invalid_code_pair", "invalid_grant"];

/// Whether the entry is a poll of a device code: a device-code token request that LWA answered as a poll
/// (tokens, or one of the device flow's answers). A request refused for what it is (`invalid_client`,
/// `invalid_request`, `unsupported_grant_type`) or failed by a fault (429, 5xx, a dropped connection) polled
/// nothing: the back-off rules judge the latter.
pub fn is_device_poll(e: &JournalEntry) -> bool {
    is_device_grant(e) && (ok(e.status) || e.error.as_deref().is_some_and(|c| POLL_ANSWERS.contains(&c)))
}

/// The Music API family whose route judged the entry (none for an unknown path or a wrong method).
pub fn api(e: &JournalEntry) -> Option<Api> {
    e.facts.api
}

/// The fingerprint of the bearer token an entry presented (noted by the handler, or read from the
/// recorded `Authorization` header).
pub fn presented_token(e: &JournalEntry) -> Option<&str> {
    // At the token endpoint and `/ap/oa`, the noted token is the one issued, not one presented.
    if is_token_request(e) || e.path == "/ap/oa" || e.path == "/auth/o2/create/codepair" {
        return None;
    }
    e.token.as_deref().or_else(|| {
        let v = header(e, "authorization")?;
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim()).filter(|t| t.starts_with("[redacted:"))
    })
}

/// Whether a status means the request failed in a way a client retries: 429, 5xx, or a dropped connection.
pub fn retryable_failure(status: u16) -> bool {
    status == 0 || status == 429 || status >= 500
}

/// Whether a status is a success.
pub fn ok(status: u16) -> bool {
    (200..300).contains(&status)
}
