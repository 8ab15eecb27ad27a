//! The rules. Each is a function from the indexed journal to a [`Judgement`]: PASS with the entries that
//! exercised it, FAIL with the entries that broke it, or NOT EXERCISED. `docs/CONFORMANCE.md` lists them
//! (generated from [`RULES`]), with the plans that exercise each.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::index::{
    Index, Service, api, grant_type, header, is_device_poll, is_token_request, ok, param, presented_token, query,
    retryable_failure, service,
};
use super::{Evidence, Judgement, Rule, Status, secs};
use crate::journal::{Api, BadMaterial, JournalEntry, MisplacedSecret, Place, SecretKind};
use crate::scope::Scope;

/// RFC 8628 §3.2: a client that got no `interval` uses 5 seconds.
const DEFAULT_INTERVAL_S: u64 = 5;
/// RFC 8628 §3.5: each `slow_down` adds 5 seconds to the interval.
const SLOW_DOWN_STEP_S: u64 = 5;
/// The shortest wait before retrying a request that failed with 429, 5xx or a dropped connection.
pub const MIN_RETRY_WAIT_MS: i64 = 1000;
/// The most retries of one request in a row while it keeps failing.
pub const MAX_RETRIES: usize = 5;

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "device-poll-interval",
        group: "device",
        title: "Polls a device code no faster than the code pair's interval",
        sources: &["RFC 8628 §3.5", "lwa.md §5"],
        judged: "Polls of one device code (token requests with its `device_code` that LWA answered as polls: tokens, `authorization_pending`, `slow_down` or a final answer; requests refused as `invalid_client` or `invalid_request`, and faults, are not polls) must arrive at least `interval` seconds apart on the virtual clock (the code pair's `interval`, or 5 s when the journal has no code pair).",
        judge: device_poll_interval,
    },
    Rule {
        id: "device-slow-down",
        group: "device",
        title: "Adds 5 seconds to the polling interval after each slow_down",
        sources: &["RFC 8628 §3.5", "lwa.md §5"],
        judged: "After the n-th `slow_down` answer for a device code, each later poll of it must come at least `interval + 5·n` seconds after the previous one.",
        judge: device_slow_down,
    },
    Rule {
        id: "device-poll-stops",
        group: "device",
        title: "Stops polling a device code after tokens, denial or expiry",
        sources: &["RFC 8628 §3.5", "lwa.md §5"],
        judged: "No poll of a device code after it was answered with tokens (200), `access_denied`, `expired_token`, `invalid_code_pair` or `invalid_grant`.",
        judge: device_poll_stops,
    },
    Rule {
        id: "device-one-poller",
        group: "device",
        title: "Polls each device code from one poller",
        sources: &["RFC 8628 §3.4", "RFC 8628 §3.5"],
        judged: "All polls of one device code carry the same `User-Agent` and `X-Amzn-Device-Id` (a second poller with the same identity shows up as polls faster than the interval).",
        judge: device_one_poller,
    },
    Rule {
        id: "token-refresh-on-401",
        group: "tokens",
        title: "Refreshes on 401 INVALID_ACCESS_TOKEN, then retries with the new token",
        sources: &["music-api.md §2.3", "music-api.md §6.1", "RFC 6749 §6", "lwa.md §10"],
        judged: "After the Music API answers 401 `INVALID_ACCESS_TOKEN` to a token, the client never presents that token again, and it asks the token endpoint for a new one (a refresh, or a new authorization) before its next Music API call.",
        judge: token_refresh_on_401,
    },
    Rule {
        id: "token-no-refresh-storm",
        group: "tokens",
        title: "Does not refresh while its access token is still fresh",
        sources: &["RFC 6749 §6", "lwa.md §10"],
        judged: "Only refreshes LWA answered with tokens count (a refused refresh replaced nothing; its retries are the back-off rules'). Such a refresh is a storm when it comes less than half the previous access token's lifetime after that token was issued, while the token was neither refused by the Music API nor bad material.",
        judge: token_no_refresh_storm,
    },
    Rule {
        id: "token-revoked-grant",
        group: "tokens",
        title: "Never reuses a grant the customer revoked",
        sources: &["lwa.md §4.2", "lwa.md §9", "RFC 6749 §5.2"],
        judged: "Once a refresh is answered `invalid_grant`, that refresh token is never sent again and no access token issued from it is presented to the Music API.",
        judge: token_revoked_grant,
    },
    Rule {
        id: "token-not-in-query",
        group: "tokens",
        title: "Never sends a token in a Music API query string",
        sources: &["music-api.md §2.1", "RFC 6750 §2.3", "RFC 6750 §5.3"],
        judged: "No Music API request has a query parameter named like a token (`access_token`, `token`, …) or whose value is an `Atza|`, `Atzr|` or `Atc|` token.",
        judge: token_not_in_query,
    },
    Rule {
        id: "api-key-is-profile-id",
        group: "api-key",
        title: "Sends the security profile id as x-api-key on every Web API V1 call",
        sources: &["music-api.md §2.1", "music-api.md §11.2"],
        judged: "Every request a Web API V1 route judged (`/v1/…` or V1's unprefixed paths; unknown paths, wrong methods, V2 and the Device API are not judged) carries `x-api-key` holding a security profile id (`amzn1.application.…`), never a client id (`amzn1.application-oa2-client.…`) and never nothing.",
        judge: api_key_is_profile_id,
    },
    Rule {
        id: "v2-device-id",
        group: "headers",
        title: "Sends X-Amzn-Device-Id on every Web API V2 call",
        sources: &["music-api.md §2.2", "music-api.md §11.3"],
        judged: "Every request a Web API V2 route judged (`/v2/…`; unknown paths and wrong methods are not judged) carries a non-empty `X-Amzn-Device-Id`. V2 ignores `x-api-key`.",
        judge: v2_device_id,
    },
    Rule {
        id: "device-api-json",
        group: "headers",
        title: "Posts JSON to the Device API with Content-Type: application/json",
        sources: &["music-api.md §7"],
        judged: "Every `POST` a Device API route judged (event reports, ratings) says `Content-Type: application/json`.",
        judge: device_api_json,
    },
    Rule {
        id: "lwa-no-leniency",
        group: "lwa",
        title: "Asks LWA as LWA documents, needing none of the mock's leniencies",
        sources: &["lwa.md §4.4", "lwa.md §5", "docs/ROUTES.md Leniencies"],
        judged: "No request was accepted only through a leniency (a code pair without `response_type=device_code`, the RFC 8628 URN as `grant_type`): each would be refused by LWA. Exercised by every token and code-pair request.",
        judge: lwa_no_leniency,
    },
    Rule {
        id: "lwa-secret-placement",
        group: "lwa",
        title: "Sends each credential only where it belongs, never in a query string",
        sources: &["RFC 6749 §2.3.1", "RFC 6749 §4.1.3", "RFC 6750 §5.3", "lwa.md §2"],
        judged: "No request carries a credential outside its standard place: a client secret, refresh token, access token, app token or authorization code (known by its shape: `amzn1.oa2-cs.v1.…` or a fixture's secret, `Atzr|`, `Atza|`, `Atc|`, `AN` and 18 letters) or a PKCE verifier (43–128 unreserved characters under a name containing `verifier`) belongs in the LWA body parameter of its own name (`client_secret`, `refresh_token`, `code`, `code_verifier`), in `Authorization` (Basic for the secret, Bearer for access and app tokens) or `x-amz-access-token`, or, for an access token, in `?access_token=` at tokeninfo and the profile endpoints, where LWA documents it. Anywhere else (a query string, `clientSecret`, `x-secret`, a JSON field of another name) fails; a token in a Music API query string is `token-not-in-query`'s. Exercised by every request that carries a credential.",
        judge: lwa_secret_placement,
    },
    Rule {
        id: "scope-no-redundant-read",
        group: "scopes",
        title: "Asks for no :read scope next to the scope that supersedes it",
        sources: &["music-api.md §2.3", "music-api.md §11.1"],
        judged: "No `scope` parameter (at `/ap/oa`, the code-pair endpoint or `client_credentials`) holds both `X` and `X:read`.",
        judge: scope_no_redundant_read,
    },
    Rule {
        id: "scope-no-403-loop",
        group: "scopes",
        title: "Calls an endpoint its token lacks the scope for at most once",
        sources: &["music-api.md §11.2", "lwa.md §3.1"],
        judged: "Per client and missing scope, at most one Music API answer 403 `ACCESS_DENIED` for a missing scope: after the first, the client asks the customer to consent again instead of calling again.",
        judge: scope_no_403_loop,
    },
    Rule {
        id: "scope-unused",
        group: "scopes",
        title: "Uses every scope it asks the customer for",
        sources: &["lwa.md §3.1", "music-api.md §2.3", "RFC 6749 §3.3"],
        judged: "Every `music::` and profile scope granted to a client at `/ap/oa` or the code-pair endpoint is used by at least one successful call (the Music API route's scope, or `/user/profile`); the verdict lists the scopes asked for and never used.",
        judge: scope_unused,
    },
    Rule {
        id: "backoff-retry-after",
        group: "back-off",
        title: "Honours Retry-After",
        sources: &["RFC 9110 §10.2.3", "RFC 6585 §4", "music-api.md §6.1", "music-api.md §11.6"],
        judged: "After an answer with `Retry-After: N`, the same client's next request to the same API arrives at least N seconds later.",
        judge: backoff_retry_after,
    },
    Rule {
        id: "backoff-429-5xx",
        group: "back-off",
        title: "Backs off on 429, 5xx and dropped connections, with a retry cap",
        sources: &["music-api.md §6.1", "music-api.md §11.6", "RFC 9110 §15.6", "RFC 6585 §4"],
        judged: "A request retried after 429, 5xx or a dropped connection waits at least 1 s, waits no less than the wait before (when neither answer carried `Retry-After`, which the other rule judges), and is retried at most 5 times in a row.",
        judge: backoff_429_5xx,
    },
    Rule {
        id: "playback-events",
        group: "playback",
        title: "Reports start and stop events for what it plays",
        sources: &["music-api.md §4.6", "music-api.md §11.2"],
        judged: "Each play (a successful stream fetch of a track, after a `stop` or of another track than the one before; a fresh URL for the same track continues its play) is followed by a `start` event before the next play, and each start by a `stop` (events are V1's `POST /v1/playback/event(s)` or V2's `POST /v2/playback/events(/batch)` answered 2xx, their types noted by the route).",
        judge: playback_events,
    },
    Rule {
        id: "playback-fresh-url",
        group: "playback",
        title: "Fetches a fresh stream URL after one expires",
        sources: &["music-api.md §11.5", "music-api.md §8"],
        judged: "A stream URL answered 403 (expired or bad signature) is never requested again with the same signature (for DASH, no segment of the manifest is fetched with its dead query); the client gets a new URL instead.",
        judge: playback_fresh_url,
    },
    Rule {
        id: "playback-one-stream",
        group: "playback",
        title: "Respects the one-stream-per-account rule",
        sources: &["music-api.md §8", "music-api.md §6.2", "music-api.md §11.3"],
        judged: "After 429 `MAX_CONCURRENCY_REACHED`, the refused device (client and `X-Amzn-Device-Id`) starts no new playback session or queue until a `stop` event was reported.",
        judge: playback_one_stream,
    },
    Rule {
        id: "bad-material-unused",
        group: "bad-material",
        title: "Makes no further use of bad material",
        sources: &["RFC 6749 §10.12", "RFC 6749 §5.1", "lwa.md §6", "lwa.md §3.2"],
        judged: "After a token response without `expires_in` or with a truncated `Atza|` token, that access token is never presented; after a redirect with a wrong `state`, its code is never exchanged (and no token from it used). Judged by absence, as the OpenID suite does.",
        judge: bad_material_unused,
    },
];

// --- Shared pieces ------------------------------------------------------------------------------------

/// A judgement from what was found: NOT EXERCISED without `exercised` entries, FAIL with `failures`, PASS
/// otherwise (with the exercising entries as evidence).
fn verdict(
    exercised: Vec<Evidence>,
    failures: Vec<Evidence>,
    not_exercised: &str,
    pass: impl FnOnce(usize) -> String,
    fail: impl FnOnce(usize) -> String,
) -> Judgement {
    if !failures.is_empty() {
        return Judgement { status: Status::Fail, message: fail(failures.len()), evidence: failures };
    }
    if exercised.is_empty() {
        return Judgement { status: Status::NotExercised, message: not_exercised.to_owned(), evidence: Vec::new() };
    }
    Judgement { status: Status::Pass, message: pass(exercised.len()), evidence: exercised }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// Polls by device code fingerprint, in arrival order.
fn polls<'a>(ix: &Index<'a>) -> BTreeMap<&'a str, Vec<&'a JournalEntry>> {
    let mut out: BTreeMap<&str, Vec<&JournalEntry>> = BTreeMap::new();
    for e in &ix.entries {
        if is_device_poll(e) {
            if let Some(d) = param(e, "device_code") {
                out.entry(d).or_default().push(e);
            }
        }
    }
    out
}

/// The `interval` a device code was issued with.
fn interval_of(ix: &Index<'_>, device_code: &str) -> u64 {
    ix.entries
        .iter()
        .find(|e| e.facts.device_code.as_deref() == Some(device_code))
        .and_then(|e| e.facts.interval)
        .unwrap_or(DEFAULT_INTERVAL_S)
}

fn answer(e: &JournalEntry) -> String {
    match (&e.error, e.status) {
        (_, 0) => "a dropped connection".into(),
        (Some(err), s) => format!("{s} {err}"),
        (None, s) => s.to_string(),
    }
}

// --- Device flow ----------------------------------------------------------------------------------------

fn device_poll_interval(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for (d, ps) in polls(ix) {
        if ps.len() < 2 {
            continue;
        }
        let interval = interval_of(ix, d);
        for w in ps.windows(2) {
            let gap = w[1].at_ms - w[0].at_ms;
            if gap < (interval * 1000) as i64 {
                failures.push(Evidence::of(
                    w[1],
                    format!(
                        "polled {} after the previous poll (#{}); the interval is {interval} s",
                        secs(gap),
                        w[0].seq
                    ),
                ));
            } else {
                exercised.push(Evidence::of(w[1], format!("{} after the previous poll (#{})", secs(gap), w[0].seq)));
            }
        }
    }
    verdict(
        exercised,
        failures,
        "No device code was polled twice.",
        |n| format!("{} waited at least the interval.", plural(n, "poll", "polls")),
        |n| format!("{} came sooner than the code pair's interval.", plural(n, "poll", "polls")),
    )
}

fn device_slow_down(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for (d, ps) in polls(ix) {
        let interval = interval_of(ix, d);
        let mut slow_downs = 0u64;
        for w in ps.windows(2) {
            if w[0].error.as_deref() == Some("slow_down") {
                slow_downs += 1;
            }
            if slow_downs == 0 {
                continue;
            }
            let required = interval + SLOW_DOWN_STEP_S * slow_downs;
            let gap = w[1].at_ms - w[0].at_ms;
            if gap < (required * 1000) as i64 {
                failures.push(Evidence::of(
                    w[1],
                    format!(
                        "polled {} after the previous poll (#{}), after {}; the interval is now {required} s",
                        secs(gap),
                        w[0].seq,
                        plural(slow_downs as usize, "slow_down", "slow_downs")
                    ),
                ));
            } else {
                exercised.push(Evidence::of(
                    w[1],
                    format!("{} after the previous poll (#{}), at least {required} s", secs(gap), w[0].seq),
                ));
            }
        }
    }
    verdict(
        exercised,
        failures,
        "No poll followed a slow_down answer.",
        |n| format!("{} after slow_down waited the increased interval.", plural(n, "poll", "polls")),
        |n| format!("{} after slow_down did not add 5 s per slow_down to the interval.", plural(n, "poll", "polls")),
    )
}

fn terminal_poll_answer(e: &JournalEntry) -> bool {
    e.status == 200
        || matches!(e.error.as_deref(), Some("access_denied" | "expired_token" | "invalid_code_pair" | "invalid_grant"))
}

fn device_poll_stops(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for ps in polls(ix).values() {
        let Some(t) = ps.iter().position(|e| terminal_poll_answer(e)) else { continue };
        let end = ps[t];
        exercised.push(Evidence::of(end, format!("the device code's polling ended with {}", answer(end))));
        for later in &ps[t + 1..] {
            failures.push(Evidence::of(later, format!("polled after the answer {} at #{}", answer(end), end.seq)));
        }
    }
    verdict(
        exercised,
        failures,
        "No device code got tokens, a denial or an expiry.",
        |n| format!("Polling stopped after the final answer for {}.", plural(n, "device code", "device codes")),
        |n| format!("{} came after the device code's final answer.", plural(n, "poll", "polls")),
    )
}

fn device_one_poller(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for ps in polls(ix).values() {
        if ps.len() < 2 {
            continue;
        }
        let identity = |e: &JournalEntry| {
            format!(
                "User-Agent {:?}, X-Amzn-Device-Id {:?}",
                header(e, "user-agent").unwrap_or(""),
                header(e, "x-amzn-device-id").unwrap_or("")
            )
        };
        let first = identity(ps[0]);
        exercised.push(Evidence::of(ps[0], format!("{} polls from {first}", ps.len())));
        let mut seen: BTreeSet<String> = BTreeSet::from([first.clone()]);
        for e in &ps[1..] {
            let id = identity(e);
            if seen.insert(id.clone()) {
                failures.push(Evidence::of(e, format!("a second poller ({id}) next to the first ({first})")));
            }
        }
    }
    verdict(
        exercised,
        failures,
        "No device code was polled twice.",
        |n| format!("Each of {} was polled by one poller.", plural(n, "device code", "device codes")),
        |n| format!("{} polled a device code another poller was already polling.", plural(n, "poller", "pollers")),
    )
}

// --- Tokens ---------------------------------------------------------------------------------------------

/// Whether an entry obtained, or asked for, a token for `client` (any grant).
fn asks_for_token(ix: &Index<'_>, e: &JournalEntry, client: Option<&str>) -> bool {
    let Some(g) = grant_type(e) else { return false };
    let same_client = client.is_none() || ix.client_of(e) == client || e.client_id.is_none();
    same_client && (g == "refresh_token" || (ok(e.status) && g != "client_credentials"))
}

fn token_refresh_on_401(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    let refused: Vec<&JournalEntry> = ix
        .of(Service::Music)
        .filter(|e| e.status == 401 && e.error.as_deref() == Some("INVALID_ACCESS_TOKEN"))
        .collect();
    // Each token is judged at its first refusal.
    let mut judged: HashSet<&str> = HashSet::new();
    for e in refused {
        let Some(t) = presented_token(e) else { continue };
        if !judged.insert(t) {
            continue;
        }
        let client = ix.client_of(e);
        let mut broke = false;
        for later in ix.after(e).filter(|x| service(&x.path) == Service::Music) {
            if presented_token(later) == Some(t) {
                failures.push(Evidence::of(
                    later,
                    format!("presented the token the Music API refused at #{} again", e.seq),
                ));
                broke = true;
            }
        }
        let mut next = ix.after(e).filter(|x| {
            asks_for_token(ix, x, client)
                || (service(&x.path) == Service::Music
                    && presented_token(x).is_some_and(|p| p != t)
                    && (client.is_none() || ix.client_of(x) == client))
        });
        match next.next() {
            Some(x) if is_token_request(x) => {
                exercised.push(Evidence::of(x, format!("asked for a new token after the 401 at #{}", e.seq)));
            }
            Some(x) => {
                let issued_after = presented_token(x)
                    .and_then(|p| ix.tokens.get(p))
                    .is_some_and(|i| (i.issued_by.at_ms, i.issued_by.seq) > (e.at_ms, e.seq));
                if issued_after {
                    exercised.push(Evidence::of(x, format!("used a token issued after the 401 at #{}", e.seq)));
                } else {
                    failures.push(Evidence::of(
                        x,
                        format!(
                            "called the Music API with an older token instead of refreshing after the 401 at #{}",
                            e.seq
                        ),
                    ));
                }
            }
            None if !broke => {
                failures.push(Evidence::of(e, "refused with 401 INVALID_ACCESS_TOKEN, and no refresh followed"));
            }
            None => {}
        }
    }
    verdict(
        exercised,
        failures,
        "The Music API answered no 401 INVALID_ACCESS_TOKEN.",
        |n| format!("The client refreshed after {}.", plural(n, "refused token", "refused tokens")),
        |n| format!("{} after a 401 INVALID_ACCESS_TOKEN.", plural(n, "misstep", "missteps")),
    )
}

/// A token issuance: the entry and the lifetime of its access token.
struct Issue<'a> {
    entry: &'a JournalEntry,
    lifetime_s: Option<u64>,
}

fn token_no_refresh_storm(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    // Issuances of each refresh token: the grant's first answer and every successful refresh. Only a refresh
    // LWA answered with tokens replaced anything: a refused one (`invalid_client`, `invalid_grant`, a fault)
    // is no refresh, and its retries are the back-off rules'.
    let mut last_issue: HashMap<&str, Issue<'_>> = HashMap::new();
    let refused: HashSet<&str> =
        ix.of(Service::Music).filter(|e| e.status == 401).filter_map(presented_token).collect();
    for e in &ix.entries {
        let Some(g) = grant_type(e) else { continue };
        if !ok(e.status) {
            continue;
        }
        if g == "refresh_token" {
            let Some(r) = param(e, "refresh_token") else { continue };
            if let Some(prev) = last_issue.get(r) {
                let age = e.at_ms - prev.entry.at_ms;
                let token = prev.entry.token.as_deref();
                let refused_before = token.is_some_and(|t| {
                    refused.contains(t)
                        && ix.of(Service::Music).any(|m| {
                            m.status == 401 && presented_token(m) == Some(t) && (m.at_ms, m.seq) < (e.at_ms, e.seq)
                        })
                });
                let bad = prev.entry.facts.bad_material.is_some();
                match prev.lifetime_s {
                    Some(l) if !refused_before && !bad && age < (l * 1000 / 2) as i64 => {
                        failures.push(Evidence::of(
                            e,
                            format!(
                                "refreshed {} after the access token of #{} was issued, with {} of its {l} s left and no refusal",
                                secs(age),
                                prev.entry.seq,
                                secs((l * 1000) as i64 - age)
                            ),
                        ));
                    }
                    _ => exercised.push(Evidence::of(
                        e,
                        format!("refreshed {} after #{} issued the previous token", secs(age), prev.entry.seq),
                    )),
                }
            }
            last_issue.insert(r, Issue { entry: e, lifetime_s: e.facts.expires_in });
        } else if let Some(r) = e.facts.refresh_token.as_deref() {
            last_issue.insert(r, Issue { entry: e, lifetime_s: e.facts.expires_in });
        }
    }
    verdict(
        exercised,
        failures,
        "No refresh followed a token issued in this journal.",
        |n| format!("{} came when the access token was old, refused or bad.", plural(n, "refresh", "refreshes")),
        |n| format!("{} replaced an access token that was still fresh.", plural(n, "refresh", "refreshes")),
    )
}

fn token_revoked_grant(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    let mut judged: HashSet<&str> = HashSet::new();
    for e in &ix.entries {
        if grant_type(e) != Some("refresh_token") || e.error.as_deref() != Some("invalid_grant") {
            continue;
        }
        let Some(r) = param(e, "refresh_token") else { continue };
        if !judged.insert(r) {
            continue;
        }
        exercised.push(Evidence::of(e, "LWA refused the refresh token: the grant is gone"));
        let tokens: HashSet<&str> = ix.tokens.iter().filter(|(_, i)| i.refresh == Some(r)).map(|(t, _)| *t).collect();
        for later in ix.after(e) {
            if grant_type(later).is_some() && param(later, "refresh_token") == Some(r) {
                failures.push(Evidence::of(later, format!("sent the refresh token LWA refused at #{} again", e.seq)));
            } else if service(&later.path) == Service::Music
                && presented_token(later).is_some_and(|t| tokens.contains(t))
            {
                failures.push(Evidence::of(
                    later,
                    format!("presented an access token of the grant LWA ended at #{}", e.seq),
                ));
            }
        }
    }
    verdict(
        exercised,
        failures,
        "No refresh was answered invalid_grant.",
        |n| format!("The client let go of {}.", plural(n, "revoked grant", "revoked grants")),
        |n| format!("{} reused a revoked grant.", plural(n, "request", "requests")),
    )
}

fn token_not_in_query(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for e in ix.of(Service::Music) {
        match &e.facts.token_in_query {
            Some(name) => failures.push(Evidence::of(e, format!("the query parameter {name:?} carried a token"))),
            None if exercised.is_empty() => exercised.push(Evidence::of(e, "no token in the query")),
            None => {}
        }
    }
    let total = ix.of(Service::Music).count();
    verdict(
        exercised,
        failures,
        "No Music API request was made.",
        |_| format!("No token in the query of {}.", plural(total, "Music API request", "Music API requests")),
        |n| format!("{} sent a token in the query string.", plural(n, "Music API request", "Music API requests")),
    )
}

/// A header rule over the entries one family's routes judged: each entry's problem (or none); the first
/// pass and every failure are the evidence. The messages get the count (`3 Web API V1 requests`).
fn header_rule(
    ix: &Index<'_>,
    family: Api,
    check: impl Fn(&JournalEntry) -> Option<String>,
    kept: &str,
    pass: impl FnOnce(String) -> String,
    fail: impl FnOnce(String) -> String,
) -> Judgement {
    let what = match family {
        Api::V1 => "Web API V1",
        Api::V2 => "Web API V2",
        Api::Device => "Device API",
    };
    let count = |n: usize| plural(n, &format!("{what} request"), &format!("{what} requests"));
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    let judged: Vec<&JournalEntry> = ix.entries.iter().copied().filter(|e| api(e) == Some(family)).collect();
    for e in &judged {
        match check(e) {
            Some(p) => failures.push(Evidence::of(e, p)),
            None if exercised.is_empty() => exercised.push(Evidence::of(e, kept)),
            None => {}
        }
    }
    let total = judged.len();
    verdict(
        exercised,
        failures,
        &format!("No request reached a {what} route."),
        |_| pass(count(total)),
        |n| fail(count(n)),
    )
}

fn api_key_is_profile_id(ix: &Index<'_>) -> Judgement {
    header_rule(
        ix,
        Api::V1,
        |e| match header(e, "x-api-key").map(str::trim) {
            None | Some("") => Some("no x-api-key header".to_owned()),
            Some(k) if k.starts_with("amzn1.application-oa2-client.") => {
                Some(format!("x-api-key holds the client id {k}, not the security profile id"))
            }
            Some(k) if !k.starts_with("amzn1.application.") => {
                Some(format!("x-api-key {k:?} is not a security profile id (amzn1.application.…)"))
            }
            Some(_) => None,
        },
        "x-api-key is a security profile id",
        |n| format!("The security profile id was the x-api-key of {n}."),
        |n| format!("{n} sent no security profile id as x-api-key."),
    )
}

fn v2_device_id(ix: &Index<'_>) -> Judgement {
    header_rule(
        ix,
        Api::V2,
        |e| match header(e, "x-amzn-device-id").map(str::trim) {
            None | Some("") => Some("no X-Amzn-Device-Id header".to_owned()),
            Some(_) => None,
        },
        "X-Amzn-Device-Id was sent",
        |n| format!("X-Amzn-Device-Id was sent with {n}."),
        |n| format!("{n} sent no X-Amzn-Device-Id."),
    )
}

fn device_api_json(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for e in ix.entries.iter().copied().filter(|e| api(e) == Some(Api::Device) && e.method == "POST") {
        let ct = header(e, "content-type").unwrap_or("");
        let json = ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if json {
            exercised.push(Evidence::of(e, "Content-Type: application/json"));
        } else if ct.is_empty() {
            failures.push(Evidence::of(e, "posted JSON with no Content-Type"));
        } else {
            failures.push(Evidence::of(e, format!("posted with Content-Type: {ct}")));
        }
    }
    verdict(
        exercised,
        failures,
        "No report or rating was posted to the Device API.",
        |n| format!("{} said Content-Type: application/json.", plural(n, "Device API post", "Device API posts")),
        |n| format!("{} lacked Content-Type: application/json.", plural(n, "Device API post", "Device API posts")),
    )
}

// --- LWA ------------------------------------------------------------------------------------------------

fn lwa_no_leniency(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for e in &ix.entries {
        match e.facts.leniency {
            Some(l) => failures.push(Evidence::of(
                e,
                format!("sent {}: accepted only by the mock's lenient setting, refused by LWA", l.describe()),
            )),
            None if is_token_request(e) || e.path == "/auth/o2/create/codepair" => {
                exercised.push(Evidence::of(e, "asked LWA as LWA documents"))
            }
            None => {}
        }
    }
    verdict(
        exercised,
        failures,
        "No request reached the token or code-pair endpoint.",
        |n| format!("{} asked as LWA documents.", plural(n, "LWA request", "LWA requests")),
        |n| format!("{} passed only through a leniency of the mock.", plural(n, "LWA request", "LWA requests")),
    )
}

/// Whether a request carries a credential where credentials go: a token or code-pair request, an
/// `Authorization` or `x-amz-access-token` header, `?access_token=`, or one sent elsewhere.
fn carries_credentials(e: &JournalEntry) -> bool {
    is_token_request(e)
        || e.path == "/auth/o2/create/codepair"
        || header(e, "authorization").is_some()
        || header(e, "x-amz-access-token").is_some()
        || query(e, "access_token").is_some()
        || !e.facts.misplaced_secrets.is_empty()
}

fn lwa_secret_placement(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for e in &ix.entries {
        let music = service(&e.path) == Service::Music;
        let judged: Vec<String> = e
            .facts
            .misplaced_secrets
            .iter()
            // A token in a Music API query string is judged by token-not-in-query.
            .filter(|m| {
                let token = matches!(m.kind, SecretKind::AccessToken | SecretKind::RefreshToken | SecretKind::AppToken);
                !(music && m.place == Place::Query && token)
            })
            .map(MisplacedSecret::describe)
            .collect();
        if !judged.is_empty() {
            failures.push(Evidence::of(e, judged.join("; ")));
        } else if carries_credentials(e) {
            exercised.push(Evidence::of(e, "every credential where it belongs"));
        }
    }
    verdict(
        exercised,
        failures,
        "No request carried a credential.",
        |n| format!("{} carried credentials only where they belong.", plural(n, "request", "requests")),
        |n| format!("{} sent a credential outside its place.", plural(n, "request", "requests")),
    )
}

// --- Scopes ---------------------------------------------------------------------------------------------

/// The raw `scope` a request asked for, where scopes are asked for.
fn asked_scope(e: &JournalEntry) -> Option<&str> {
    match (e.method.as_str(), e.path.as_str()) {
        ("GET", "/ap/oa") => query(e, "scope"),
        ("POST", "/auth/o2/create/codepair") => param(e, "scope"),
        _ if grant_type(e) == Some("client_credentials") => param(e, "scope"),
        _ => None,
    }
}

fn scope_no_redundant_read(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for e in &ix.entries {
        let Some(raw) = asked_scope(e) else { continue };
        let asked: Vec<&str> = raw.split_ascii_whitespace().collect();
        let redundant: Vec<String> = asked
            .iter()
            .filter_map(|s| Scope::parse(s).ok())
            .filter_map(|s| s.superseded_by().filter(|base| asked.contains(base)).map(|b| format!("{s} next to {b}")))
            .collect();
        if redundant.is_empty() {
            exercised.push(Evidence::of(e, format!("asked for {raw:?}")));
        } else {
            failures.push(Evidence::of(e, format!("asked for {}", redundant.join(", "))));
        }
    }
    verdict(
        exercised,
        failures,
        "No request asked for scopes.",
        |n| format!("{} asked for no superseded :read scope.", plural(n, "scope request", "scope requests")),
        |n| format!("{} asked for a :read scope next to the scope that covers it.", plural(n, "request", "requests")),
    )
}

fn scope_no_403_loop(ix: &Index<'_>) -> Judgement {
    let mut groups: BTreeMap<(String, &str), Vec<&JournalEntry>> = BTreeMap::new();
    for e in ix.of(Service::Music) {
        if e.status != 403 {
            continue;
        }
        if let Some(s) = e.facts.scope_missing.as_deref() {
            groups.entry((ix.client_key(e), s)).or_default().push(e);
        }
    }
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for ((client, scope), es) in &groups {
        exercised.push(Evidence::of(es[0], format!("{client} lacked {scope}")));
        for e in &es[1..] {
            failures.push(Evidence::of(e, format!("called again without {scope}, after the 403 at #{}", es[0].seq)));
        }
    }
    verdict(
        exercised,
        failures,
        "No Music API call was refused for a missing scope.",
        |n| format!("Each of {} was met once.", plural(n, "missing scope", "missing scopes")),
        |n| format!("{} repeated a call refused for a missing scope.", plural(n, "request", "requests")),
    )
}

/// Scopes whose use the journal shows: the Music API's and the profile family.
fn judged_scope(s: &str) -> bool {
    s.starts_with("music::") || matches!(s, "profile" | "profile:user_id" | "postal_code")
}

fn scope_unused(ix: &Index<'_>) -> Judgement {
    // Granted scopes per client, from successful authorizations and code pairs.
    let mut granted: BTreeMap<&str, (BTreeSet<&str>, &JournalEntry)> = BTreeMap::new();
    for e in &ix.entries {
        let asks = (e.path == "/ap/oa" && e.status == 302 && e.error.is_none())
            || (e.path == "/auth/o2/create/codepair" && e.status == 200);
        let (Some(client), Some(scopes), true) = (e.client_id.as_deref(), e.facts.scopes.as_deref(), asks) else {
            continue;
        };
        let entry = granted.entry(client).or_insert_with(|| (BTreeSet::new(), e));
        entry.0.extend(scopes.split_ascii_whitespace().filter(|s| judged_scope(s)));
    }
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for (client, (scopes, first)) in &granted {
        if scopes.is_empty() {
            continue;
        }
        let calls: Vec<&JournalEntry> = ix
            .entries
            .iter()
            .copied()
            .filter(|e| ok(e.status) && ix.client_of(e) == Some(client) && presented_token(e).is_some())
            .collect();
        if calls.is_empty() {
            continue;
        }
        let mut used: BTreeSet<&str> = calls.iter().filter_map(|e| e.facts.scope_used.as_deref()).collect();
        if calls.iter().any(|e| e.path.ends_with("/user/profile")) {
            used.extend(["profile", "profile:user_id", "postal_code"]);
        }
        let unused: Vec<&str> = scopes.iter().copied().filter(|s| !used.contains(s)).collect();
        if unused.is_empty() {
            exercised.push(Evidence::of(first, format!("{client} used every scope it was granted")));
        } else {
            failures.push(Evidence::of(
                first,
                format!(
                    "{client} asked for {} and never used {}",
                    scopes.iter().copied().collect::<Vec<_>>().join(" "),
                    unused.join(" ")
                ),
            ));
        }
    }
    verdict(
        exercised,
        failures,
        "No client that was granted Music API or profile scopes made a call with its token.",
        |n| format!("{} used every scope it asked for.", plural(n, "client", "clients")),
        |n| format!("{} asked for scopes it never used (over-asking).", plural(n, "client", "clients")),
    )
}

// --- Back-off -------------------------------------------------------------------------------------------

fn backoff_retry_after(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for e in &ix.entries {
        let Some(wait_s) = e.facts.retry_after else { continue };
        let key = ix.client_key(e);
        let svc = service(&e.path);
        let next = ix.after(e).find(|x| service(&x.path) == svc && ix.client_key(x) == key);
        let Some(next) = next else {
            exercised.push(Evidence::of(e, format!("Retry-After: {wait_s}; the client did not call again")));
            continue;
        };
        let gap = next.at_ms - e.at_ms;
        if gap < (wait_s * 1000) as i64 {
            failures.push(Evidence::of(
                next,
                format!("came {} after the answer at #{} with Retry-After: {wait_s}", secs(gap), e.seq),
            ));
        } else {
            exercised
                .push(Evidence::of(next, format!("waited {} after Retry-After: {wait_s} at #{}", secs(gap), e.seq)));
        }
    }
    verdict(
        exercised,
        failures,
        "No answer carried Retry-After.",
        |n| format!("{} honoured.", plural(n, "Retry-After was", "Retry-Afters were")),
        |n| format!("{} came before Retry-After allowed.", plural(n, "request", "requests")),
    )
}

fn backoff_429_5xx(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    // Each client's requests in order; a retry is the next request of the same method and path.
    let mut by_client: BTreeMap<String, Vec<&JournalEntry>> = BTreeMap::new();
    for e in &ix.entries {
        if service(&e.path) != Service::Other {
            by_client.entry(ix.client_key(e)).or_default().push(e);
        }
    }
    for es in by_client.values() {
        // The failing run of each request: (previous wait without Retry-After, attempts so far).
        let mut runs: HashMap<(&str, &str), (Option<i64>, usize)> = HashMap::new();
        for (i, e) in es.iter().enumerate() {
            let key = (e.method.as_str(), e.path.as_str());
            if !retryable_failure(e.status) {
                runs.remove(&key);
                continue;
            }
            let (prev_wait, attempts) = runs.get(&key).copied().unwrap_or((None, 0));
            let attempts = attempts + 1;
            if attempts == MAX_RETRIES + 2 {
                failures.push(Evidence::of(
                    e,
                    format!("the request failed {attempts} times in a row: at most {MAX_RETRIES} retries"),
                ));
            }
            let Some(retry) = es[i + 1..].iter().find(|x| x.method == e.method && x.path == e.path) else {
                exercised.push(Evidence::of(e, format!("{}; not retried", answer(e))));
                runs.insert(key, (prev_wait, attempts));
                continue;
            };
            let wait = retry.at_ms - e.at_ms;
            // `Retry-After` itself is the other rule's: here every retry waits at least a second.
            let required = MIN_RETRY_WAIT_MS;
            if wait < required {
                failures.push(Evidence::of(
                    retry,
                    format!(
                        "retried {} after {} at #{}; the least wait is {}",
                        secs(wait),
                        answer(e),
                        e.seq,
                        secs(required)
                    ),
                ));
            } else if let (Some(prev), None) = (prev_wait, e.facts.retry_after) {
                if wait < prev {
                    failures.push(Evidence::of(
                        retry,
                        format!(
                            "retried {} after {} at #{}, sooner than the wait before ({})",
                            secs(wait),
                            answer(e),
                            e.seq,
                            secs(prev)
                        ),
                    ));
                } else {
                    exercised
                        .push(Evidence::of(retry, format!("waited {} after {} at #{}", secs(wait), answer(e), e.seq)));
                }
            } else {
                exercised.push(Evidence::of(retry, format!("waited {} after {} at #{}", secs(wait), answer(e), e.seq)));
            }
            let next_prev = if e.facts.retry_after.is_none() { Some(wait) } else { prev_wait };
            runs.insert(key, (next_prev, attempts));
        }
    }
    verdict(
        exercised,
        failures,
        "No request was answered 429, 5xx or with a dropped connection.",
        |n| format!("{} handled with back-off.", plural(n, "failure was", "failures were")),
        |n| format!("{} broke the back-off rules.", plural(n, "retry", "retries")),
    )
}

// --- Playback -------------------------------------------------------------------------------------------

/// The plays in a journal: a play starts with a successful fetch of a track's stream (manifest, segment or
/// progressive file) unless the previous fetch was of the same track with no `stop` reported in between, so
/// that a fresh URL for the track being played continues its play.
fn plays<'a>(ix: &Index<'a>) -> Vec<&'a JournalEntry> {
    let mut out = Vec::new();
    let mut current: Option<&str> = None;
    for e in &ix.entries {
        if is_event_report(e) && event_types(e).contains(&"stop") {
            current = None;
            continue;
        }
        if service(&e.path) != Service::Stream || e.method != "GET" || !ok(e.status) {
            continue;
        }
        let asin = e.path.trim_start_matches('/').split('/').nth(1);
        if asin.is_some() && asin != current {
            out.push(*e);
            current = asin;
        }
    }
    out
}

fn is_event_report(e: &JournalEntry) -> bool {
    let p = &e.path;
    e.method == "POST"
        && (p.ends_with("/playback/event") || p.ends_with("/playback/events") || p.ends_with("/playback/events/batch"))
        && ok(e.status)
}

/// The event types a report carried; `?` when the route did not note them.
fn event_types(e: &JournalEntry) -> Vec<&str> {
    if e.facts.playback_events.is_empty() {
        vec!["?"]
    } else {
        e.facts.playback_events.iter().map(String::as_str).collect()
    }
}

fn playback_events(ix: &Index<'_>) -> Judgement {
    let plays = plays(ix);
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for (i, p) in plays.iter().enumerate() {
        let end = plays.get(i + 1).map(|n| (n.at_ms, n.seq));
        let window: Vec<&str> = ix
            .after(p)
            .filter(|x| end.is_none_or(|end| (x.at_ms, x.seq) < end))
            .filter(|x| is_event_report(x))
            .flat_map(event_types)
            .collect();
        let start = window.iter().position(|t| *t == "start" || *t == "?");
        let stop = start.and_then(|s| window[s + 1..].iter().position(|t| *t == "stop" || *t == "?"));
        match (start, stop) {
            (None, _) => failures.push(Evidence::of(p, "played, and no start event was reported for it")),
            (Some(_), None) => failures.push(Evidence::of(p, "played and reported start, but never stop")),
            (Some(_), Some(_)) => exercised.push(Evidence::of(p, "start and stop reported")),
        }
    }
    verdict(
        exercised,
        failures,
        "Nothing was played (no successful stream fetch).",
        |n| format!("{} reported with start and stop.", plural(n, "play was", "plays were")),
        |n| format!("{} missed start or stop events.", plural(n, "play", "plays")),
    )
}

fn playback_fresh_url(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    // A DASH manifest and its segments share one signed query, signed over `/dash/{asin}/`: a dead query is
    // dead for every segment. A progressive URL is its own path.
    let url = |e: &JournalEntry| {
        let signed = match e.path.strip_prefix("/dash/").and_then(|rest| rest.split('/').next()) {
            Some(asin) => format!("/dash/{asin}/"),
            None => e.path.clone(),
        };
        format!("{signed}?exp={}&sig={}", query(e, "exp").unwrap_or(""), query(e, "sig").unwrap_or(""))
    };
    let mut judged = HashSet::new();
    for e in ix.of(Service::Stream).filter(|e| e.status == 403) {
        let dead = url(e);
        if !judged.insert(dead.clone()) {
            continue;
        }
        let again: Vec<&JournalEntry> =
            ix.after(e).filter(|x| service(&x.path) == Service::Stream && url(x) == dead).collect();
        if again.is_empty() {
            exercised.push(Evidence::of(e, "the URL was refused and not requested again"));
        }
        for x in again {
            failures.push(Evidence::of(x, format!("requested the URL refused at #{} again", e.seq)));
        }
    }
    verdict(
        exercised,
        failures,
        "No stream URL was refused.",
        |n| format!("{} not retried.", plural(n, "refused URL was", "refused URLs were")),
        |n| format!("{} retried a dead stream URL.", plural(n, "request", "requests")),
    )
}

fn starts_stream(e: &JournalEntry) -> bool {
    e.method == "POST" && (e.path.ends_with("/playback/sessions") || e.path.ends_with("/playback/queues/new"))
}

fn playback_one_stream(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for e in ix.entries.iter().filter(|e| e.status == 429 && e.error.as_deref() == Some("MAX_CONCURRENCY_REACHED")) {
        // The device that was refused: the account's other device may go on with (and renew) its own stream.
        let device = |x: &JournalEntry| (ix.client_key(x), header(x, "x-amzn-device-id").map(str::to_owned));
        let refused = device(e);
        let mut stopped = false;
        let mut broke = false;
        for x in ix.after(e) {
            if is_event_report(x) && event_types(x).contains(&"stop") {
                stopped = true;
            } else if starts_stream(x) && !stopped && device(x) == refused {
                failures.push(Evidence::of(
                    x,
                    format!(
                        "started another stream after MAX_CONCURRENCY_REACHED at #{}, with no stop reported",
                        e.seq
                    ),
                ));
                broke = true;
            }
        }
        if !broke {
            exercised.push(Evidence::of(e, "the client started no second stream"));
        }
    }
    verdict(
        exercised,
        failures,
        "No answer was 429 MAX_CONCURRENCY_REACHED.",
        |n| format!("The concurrency limit was respected after {}.", plural(n, "refusal", "refusals")),
        |n| format!("{} ignored the one-stream-per-account rule.", plural(n, "request", "requests")),
    )
}

// --- Bad material ---------------------------------------------------------------------------------------

fn bad_material_unused(ix: &Index<'_>) -> Judgement {
    let (mut exercised, mut failures) = (Vec::new(), Vec::new());
    for e in &ix.entries {
        let Some(b) = &e.facts.bad_material else { continue };
        exercised.push(Evidence::of(e, format!("served {}", b.kind.as_str())));
        let mut tainted: HashSet<&str> = HashSet::from([b.tainted.as_str()]);
        for x in ix.after(e) {
            if b.kind == BadMaterial::WrongState
                && grant_type(x).is_some()
                && param(x, "code") == Some(b.tainted.as_str())
            {
                failures.push(Evidence::of(
                    x,
                    format!("exchanged the code of the redirect with a wrong state at #{}", e.seq),
                ));
                if let (true, Some(t)) = (ok(x.status), x.token.as_deref()) {
                    tainted.insert(t);
                }
            } else if service(&x.path) == Service::Music && presented_token(x).is_some_and(|t| tainted.contains(t)) {
                failures.push(Evidence::of(
                    x,
                    format!("presented a token from the {} served at #{}", b.kind.as_str(), e.seq),
                ));
            }
        }
    }
    verdict(
        exercised,
        failures,
        "No bad material was served.",
        |n| format!("{} served and never used.", plural(n, "piece of bad material was", "pieces of bad material were")),
        |n| format!("{} used bad material.", plural(n, "request", "requests")),
    )
}
