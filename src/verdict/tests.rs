//! The rules on hand-built journals: for each, a journal that keeps it (PASS) and one that breaks it (FAIL),
//! with the evidence checked. The reference clients prove the same rules over the wire
//! (`tests/it/client_conformance.rs`; the playback rules with `scenarios/clients/playback.yaml`).

use super::{RuleResult, Status, judge};
use crate::journal::{Api, BadMaterial, BadMaterialFact, Facts, JournalEntry, Leniency};

const PROFILE: &str = "amzn1.application.30877432d1026706d7e805da846a32c3";
const DEVICE: &str = "amzn1.application-oa2-client.d58e72e310275dff6c15c0c8e9df4696";
const WEB: &str = "amzn1.application-oa2-client.71722f244f58d669cbee3772a0770217";
const T0: i64 = 1_800_000_000_000;

fn fp(name: &str) -> String {
    format!("[redacted:{name:0>8}]")
}

/// A journal under construction; entries get `seq` in order and times in seconds after [`T0`].
#[derive(Default)]
struct J(Vec<JournalEntry>);

impl J {
    fn push(&mut self, at_s: f64, method: &str, path: &str, status: u16) -> &mut JournalEntry {
        let seq = self.0.len() as u64 + 1;
        self.0.push(JournalEntry {
            seq,
            at_ms: T0 + (at_s * 1000.0) as i64,
            method: method.into(),
            host: None,
            path: path.into(),
            query: vec![],
            headers: vec![("user-agent".into(), "speaker/1.0".into())],
            params: vec![],
            status,
            error: None,
            client_id: None,
            user_id: None,
            token: None,
            facts: Facts::default(),
            duration_us: 100,
        });
        self.0.last_mut().unwrap()
    }

    fn codepair(&mut self, at: f64, device: &str, interval: u64) {
        let e = self.push(at, "POST", "/auth/o2/create/codepair", 200);
        e.client_id = Some(DEVICE.into());
        e.params = vec![("scope".into(), "music::catalog".into())];
        e.facts.device_code = Some(fp(device));
        e.facts.interval = Some(interval);
        e.facts.scopes = Some("music::catalog".into());
    }

    fn poll(&mut self, at: f64, device: &str, error: Option<&str>) -> &mut JournalEntry {
        let status = if error.is_some() { 400 } else { 200 };
        let e = self.push(at, "POST", "/auth/o2/token", status);
        e.params = vec![("grant_type".into(), "device_code".into()), ("device_code".into(), fp(device))];
        e.error = error.map(str::to_owned);
        if error.is_none() {
            e.client_id = Some(DEVICE.into());
            e.token = Some(fp("a1"));
            e.facts.refresh_token = Some(fp("r1"));
            e.facts.expires_in = Some(3600);
        }
        e
    }

    /// A customer-grant token response issuing `access` (and refresh token `refresh`).
    fn issue(&mut self, at: f64, grant: &str, access: &str, refresh: &str, lifetime: u64) -> &mut JournalEntry {
        let e = self.push(at, "POST", "/auth/o2/token", 200);
        e.params = vec![("grant_type".into(), grant.into())];
        if grant == "refresh_token" {
            e.params.push(("refresh_token".into(), fp(refresh)));
        } else {
            e.facts.refresh_token = Some(fp(refresh));
        }
        e.client_id = Some(WEB.into());
        e.token = Some(fp(access));
        e.facts.expires_in = Some(lifetime);
        e
    }

    fn refused_refresh(&mut self, at: f64, refresh: &str) -> &mut JournalEntry {
        let e = self.push(at, "POST", "/auth/o2/token", 400);
        e.params = vec![("grant_type".into(), "refresh_token".into()), ("refresh_token".into(), fp(refresh))];
        e.client_id = Some(WEB.into());
        e.error = Some("invalid_grant".into());
        e.facts.token_problem = Some("revoked".into());
        e
    }

    fn music(&mut self, at: f64, path: &str, token: &str, status: u16) -> &mut JournalEntry {
        let e = self.push(at, "GET", path, status);
        e.headers.push(("authorization".into(), format!("Bearer {}", fp(token))));
        e.headers.push(("x-api-key".into(), PROFILE.into()));
        e.token = Some(fp(token));
        // The V1 gate notes its family on every answer of a V1 route.
        e.facts.api = Some(Api::V1);
        e.error = match status {
            401 => Some("INVALID_ACCESS_TOKEN".into()),
            403 => Some("ACCESS_DENIED".into()),
            429 => Some("THROTTLED".into()),
            500 => Some("INTERNAL".into()),
            _ => None,
        };
        // The server notes the client once the token verified: not on 401, not on a dropped connection.
        if status != 401 && status != 0 {
            e.client_id = Some(WEB.into());
        }
        e
    }

    fn stream(&mut self, at: f64, path: &str, sig: &str, status: u16) -> &mut JournalEntry {
        let e = self.push(at, "GET", path, status);
        e.query = vec![("ps".into(), "s1".into()), ("exp".into(), "100".into()), ("sig".into(), fp(sig))];
        e
    }

    fn event(&mut self, at: f64, kinds: &[&str]) {
        self.event_at(at, "/v1/playback/event", kinds);
    }

    fn event_at(&mut self, at: f64, path: &str, kinds: &[&str]) {
        let e = self.push(at, "POST", path, 200);
        e.client_id = Some(WEB.into());
        e.facts.playback_events = kinds.iter().map(|k| (*k).to_owned()).collect();
    }

    fn judge(&self, id: &str) -> RuleResult {
        let v = judge("t", &self.0, None, T0);
        v.rules.into_iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no rule {id}"))
    }
}

fn assert_status(r: &RuleResult, status: Status, seqs: &[u64]) {
    assert_eq!(r.status, status, "{}: {} {:#?}", r.id, r.message, r.evidence);
    if !seqs.is_empty() {
        let got: Vec<u64> = r.evidence.iter().map(|e| e.seq).collect();
        assert_eq!(got, seqs, "{}: {}", r.id, r.message);
    }
}

// --- device flow ---

#[test]
fn device_polls_at_the_interval_pass_and_faster_ones_fail() {
    let mut j = J::default();
    j.codepair(0.0, "d1", 5);
    j.poll(0.0, "d1", Some("authorization_pending"));
    j.poll(5.0, "d1", Some("authorization_pending"));
    j.poll(10.5, "d1", None);
    assert_status(&j.judge("device-poll-interval"), Status::Pass, &[3, 4]);
    j.poll(12.0, "d1", Some("invalid_code_pair"));
    let r = j.judge("device-poll-interval");
    assert_status(&r, Status::Fail, &[5]);
    assert_eq!(r.evidence[0].note, "polled 1.500 s after the previous poll (#4); the interval is 5 s");
    assert_eq!(r.evidence[0].at, "2027-01-15T08:00:12.000Z");
    assert_status(&J::default().judge("device-poll-interval"), Status::NotExercised, &[]);
}

#[test]
fn after_slow_down_the_interval_grows_by_five_seconds_each_time() {
    let mut j = J::default();
    j.codepair(0.0, "d1", 2);
    j.poll(0.0, "d1", Some("slow_down"));
    j.poll(7.0, "d1", Some("slow_down"));
    j.poll(19.0, "d1", Some("authorization_pending"));
    j.poll(31.0, "d1", None);
    assert_status(&j.judge("device-slow-down"), Status::Pass, &[3, 4, 5]);
    let mut bad = J::default();
    bad.codepair(0.0, "d1", 2);
    bad.poll(0.0, "d1", Some("slow_down"));
    bad.poll(2.5, "d1", Some("authorization_pending"));
    let r = bad.judge("device-slow-down");
    assert_status(&r, Status::Fail, &[3]);
    assert!(r.evidence[0].note.contains("the interval is now 7 s"), "{}", r.evidence[0].note);
    // The plain interval rule is kept by the same poll: each rule judges its own requirement.
    assert_eq!(bad.judge("device-poll-interval").status, Status::Pass);
}

#[test]
fn polling_stops_after_tokens_or_denial() {
    let mut j = J::default();
    j.codepair(0.0, "d1", 5);
    j.poll(0.0, "d1", Some("authorization_pending"));
    j.poll(5.0, "d1", Some("access_denied"));
    j.codepair(6.0, "d2", 5);
    j.poll(6.0, "d2", None);
    assert_status(&j.judge("device-poll-stops"), Status::Pass, &[3, 5]);
    j.poll(11.0, "d2", Some("invalid_code_pair"));
    let r = j.judge("device-poll-stops");
    assert_status(&r, Status::Fail, &[6]);
    assert_eq!(r.evidence[0].note, "polled after the answer 200 at #5");
}

#[test]
fn a_second_poller_of_one_device_code_fails() {
    let mut j = J::default();
    j.codepair(0.0, "d1", 5);
    j.poll(0.0, "d1", Some("authorization_pending"));
    j.poll(5.0, "d1", Some("authorization_pending"));
    assert_status(&j.judge("device-one-poller"), Status::Pass, &[2]);
    j.poll(6.0, "d1", Some("authorization_pending")).headers =
        vec![("user-agent".into(), "speaker/1.0 background".into())];
    let r = j.judge("device-one-poller");
    assert_status(&r, Status::Fail, &[4]);
    assert!(
        r.evidence[0].note.starts_with("a second poller (User-Agent \"speaker/1.0 background\""),
        "{}",
        r.evidence[0].note
    );
}

// --- tokens ---

#[test]
fn a_refresh_and_one_retry_after_401_pass() {
    let mut j = J::default();
    j.issue(0.0, "authorization_code", "a1", "r1", 3600);
    j.music(1.0, "/v1/me", "a1", 200);
    j.music(2.0, "/v1/me", "a1", 401);
    j.issue(3.0, "refresh_token", "a2", "r1", 3600);
    j.music(4.0, "/v1/me", "a2", 200);
    assert_status(&j.judge("token-refresh-on-401"), Status::Pass, &[4]);
    assert_status(&J::default().judge("token-refresh-on-401"), Status::NotExercised, &[]);
}

#[test]
fn presenting_the_refused_token_again_or_never_refreshing_fails() {
    let mut j = J::default();
    j.issue(0.0, "authorization_code", "a1", "r1", 3600);
    j.music(2.0, "/v1/me", "a1", 401);
    j.music(2.5, "/v1/me", "a1", 401);
    let r = j.judge("token-refresh-on-401");
    assert_status(&r, Status::Fail, &[3]);
    assert_eq!(r.evidence[0].note, "presented the token the Music API refused at #2 again");
    let mut k = J::default();
    k.issue(0.0, "authorization_code", "a1", "r1", 3600);
    k.music(2.0, "/v1/me", "a1", 401);
    let r = k.judge("token-refresh-on-401");
    assert_status(&r, Status::Fail, &[2]);
    assert_eq!(r.evidence[0].note, "refused with 401 INVALID_ACCESS_TOKEN, and no refresh followed");
}

#[test]
fn refreshing_a_fresh_token_is_a_storm_but_near_expiry_or_after_401_is_not() {
    let mut j = J::default();
    j.issue(0.0, "authorization_code", "a1", "r1", 100);
    j.issue(95.0, "refresh_token", "a2", "r1", 100);
    j.music(96.0, "/v1/me", "a2", 401);
    j.issue(97.0, "refresh_token", "a3", "r1", 100);
    assert_status(&j.judge("token-no-refresh-storm"), Status::Pass, &[2, 4]);
    j.issue(98.0, "refresh_token", "a4", "r1", 100);
    j.issue(99.0, "refresh_token", "a5", "r1", 100);
    let r = j.judge("token-no-refresh-storm");
    assert_status(&r, Status::Fail, &[5, 6]);
    assert!(
        r.evidence[0].note.starts_with("refreshed 1.000 s after the access token of #4 was issued"),
        "{}",
        r.evidence[0].note
    );
}

#[test]
fn a_refresh_after_bad_material_or_a_failed_refresh_is_no_storm() {
    let mut j = J::default();
    j.issue(0.0, "authorization_code", "a1", "r1", 3600).facts.bad_material =
        Some(BadMaterialFact { kind: BadMaterial::MissingExpiresIn, tainted: fp("a1") });
    j.push(2.0, "POST", "/auth/o2/token", 500).params =
        vec![("grant_type".into(), "refresh_token".into()), ("refresh_token".into(), fp("r1"))];
    j.issue(4.0, "refresh_token", "a3", "r1", 3600);
    // The refused refresh (#2) replaced nothing and is not judged; the one that succeeded followed bad material.
    assert_status(&j.judge("token-no-refresh-storm"), Status::Pass, &[3]);
}

#[test]
fn a_revoked_grant_is_let_go_and_reusing_it_fails() {
    let mut j = J::default();
    j.issue(0.0, "authorization_code", "a1", "r1", 3600);
    j.music(1.0, "/v1/me", "a1", 401).facts.token_problem = Some("revoked".into());
    j.refused_refresh(2.0, "r1");
    j.issue(10.0, "authorization_code", "b1", "r2", 3600);
    j.music(11.0, "/v1/me", "b1", 200);
    assert_status(&j.judge("token-revoked-grant"), Status::Pass, &[3]);
    j.refused_refresh(12.0, "r1");
    j.music(13.0, "/v1/me", "a1", 401);
    let r = j.judge("token-revoked-grant");
    assert_status(&r, Status::Fail, &[6, 7]);
    assert_eq!(r.evidence[0].note, "sent the refresh token LWA refused at #3 again");
    assert_eq!(r.evidence[1].note, "presented an access token of the grant LWA ended at #3");
}

#[test]
fn credentials_outside_their_place_fail_and_music_api_query_tokens_are_left_to_their_rule() {
    use crate::journal::{MisplacedSecret, Place, SecretKind};
    let misplaced = |kind, place, name: &str| MisplacedSecret { kind, place, name: name.into() };
    let mut j = J::default();
    j.issue(1.0, "authorization_code", "a1", "r1", 3600);
    j.music(2.0, "/v1/me", "a1", 200);
    // A token in a Music API query string is token-not-in-query's, not this rule's.
    j.music(3.0, "/v1/me", "a1", 200).facts.misplaced_secrets =
        vec![misplaced(SecretKind::AccessToken, Place::Query, "access_token")];
    j.push(4.0, "GET", "/v1/albums/top", 200);
    let r = j.judge("lwa-secret-placement");
    assert_status(&r, Status::Pass, &[1, 2, 3]);
    assert_eq!(r.message, "3 requests carried credentials only where they belong.");
    assert_eq!(r.evidence[0].note, "every credential where it belongs");
    j.refused_refresh(5.0, "r1").facts.misplaced_secrets = vec![
        misplaced(SecretKind::ClientSecret, Place::Body, "clientSecret"),
        misplaced(SecretKind::RefreshToken, Place::Query, "refresh_token"),
    ];
    j.music(6.0, "/v1/me", "a1", 200).facts.misplaced_secrets =
        vec![misplaced(SecretKind::AccessToken, Place::Header, "x-access-token")];
    let r = j.judge("lwa-secret-placement");
    assert_status(&r, Status::Fail, &[5, 6]);
    assert_eq!(r.message, "2 requests sent a credential outside its place.");
    assert_eq!(
        r.evidence[0].note,
        "sent a client secret in the body as \"clientSecret\"; sent a refresh token in the query string as \"refresh_token\""
    );
    assert_eq!(r.evidence[1].note, "sent an access token in a header as \"x-access-token\"");
    let mut quiet = J::default();
    quiet.push(1.0, "GET", "/v1/albums/top", 200);
    let r = quiet.judge("lwa-secret-placement");
    assert_eq!((r.status, r.message.as_str()), (Status::NotExercised, "No request carried a credential."));
}

#[test]
fn a_token_in_a_music_api_query_fails() {
    let mut j = J::default();
    j.music(1.0, "/v1/tracks/B0000000001", "a1", 200);
    j.push(1.5, "GET", "/auth/o2/tokeninfo", 200).facts.token_in_query = Some("access_token".into());
    assert_status(&j.judge("token-not-in-query"), Status::Pass, &[1]);
    j.music(2.0, "/v1/me", "a1", 200).facts.token_in_query = Some("access_token".into());
    let r = j.judge("token-not-in-query");
    assert_status(&r, Status::Fail, &[3]);
    assert_eq!(r.evidence[0].note, "the query parameter \"access_token\" carried a token");
}

#[test]
fn x_api_key_must_be_the_security_profile_id() {
    let mut j = J::default();
    j.music(1.0, "/v1/me", "a1", 200);
    j.music(2.0, "/search", "a1", 200);
    assert_status(&j.judge("api-key-is-profile-id"), Status::Pass, &[1]);
    j.music(3.0, "/v1/me", "a1", 403).headers.retain(|(k, _)| k != "x-api-key");
    let e = j.music(4.0, "/v1/me", "a1", 403);
    e.headers.retain(|(k, _)| k != "x-api-key");
    e.headers.push(("x-api-key".into(), WEB.into()));
    let r = j.judge("api-key-is-profile-id");
    assert_status(&r, Status::Fail, &[3, 4]);
    assert_eq!(r.evidence[0].note, "no x-api-key header");
    assert_eq!(r.evidence[1].note, format!("x-api-key holds the client id {WEB}, not the security profile id"));
}

// --- scopes ---

#[test]
fn asking_for_a_read_scope_next_to_its_superset_fails() {
    let mut j = J::default();
    j.push(0.0, "GET", "/ap/oa", 302).query = vec![("scope".into(), "music::library:read music::catalog".into())];
    assert_status(&j.judge("scope-no-redundant-read"), Status::Pass, &[1]);
    j.push(1.0, "POST", "/auth/o2/create/codepair", 200).params =
        vec![("scope".into(), "music::library music::library:read".into())];
    let r = j.judge("scope-no-redundant-read");
    assert_status(&r, Status::Fail, &[2]);
    assert_eq!(r.evidence[0].note, "asked for music::library:read next to music::library");
}

#[test]
fn one_403_for_a_missing_scope_is_fine_and_two_fail() {
    let mut j = J::default();
    j.music(1.0, "/v1/me/followed/artists", "a1", 403).facts.scope_missing = Some("music::favorites:read".into());
    assert_status(&j.judge("scope-no-403-loop"), Status::Pass, &[1]);
    j.music(2.0, "/v1/me/followed/artists", "a1", 403).facts.scope_missing = Some("music::favorites:read".into());
    let r = j.judge("scope-no-403-loop");
    assert_status(&r, Status::Fail, &[2]);
    assert_eq!(r.evidence[0].note, "called again without music::favorites:read, after the 403 at #1");
}

#[test]
fn scopes_granted_and_never_used_are_reported() {
    let mut j = J::default();
    let e = j.push(0.0, "GET", "/ap/oa", 302);
    e.client_id = Some(WEB.into());
    e.facts.scopes = Some("music::catalog music::history profile".into());
    j.music(1.0, "/v1/tracks/B0000000001", "a1", 200).facts.scope_used = Some("music::catalog".into());
    let r = j.judge("scope-unused");
    assert_status(&r, Status::Fail, &[1]);
    assert_eq!(
        r.evidence[0].note,
        format!("{WEB} asked for music::catalog music::history profile and never used music::history profile")
    );
    j.music(2.0, "/v1/player/recentlyPlayed", "a1", 200).facts.scope_used = Some("music::history".into());
    let p = j.push(3.0, "GET", "/user/profile", 200);
    p.client_id = Some(WEB.into());
    p.token = Some(fp("a1"));
    assert_status(&j.judge("scope-unused"), Status::Pass, &[1]);
}

// --- back-off ---

#[test]
fn retry_after_is_honoured_or_not() {
    let mut j = J::default();
    j.music(0.0, "/v1/tracks/B0000000001", "a1", 429).facts.retry_after = Some(3);
    j.music(3.2, "/v1/tracks/B0000000001", "a1", 200);
    assert_status(&j.judge("backoff-retry-after"), Status::Pass, &[2]);
    j.music(4.0, "/v1/me", "a1", 429).facts.retry_after = Some(3);
    j.music(4.5, "/v1/me", "a1", 200);
    let r = j.judge("backoff-retry-after");
    assert_status(&r, Status::Fail, &[4]);
    assert_eq!(r.evidence[0].note, "came 0.500 s after the answer at #3 with Retry-After: 3");
}

#[test]
fn retries_wait_grow_and_stop() {
    let mut j = J::default();
    j.music(0.0, "/v1/me", "a1", 500);
    j.music(1.0, "/v1/me", "a1", 500);
    j.music(3.0, "/v1/me", "a1", 200);
    assert_status(&j.judge("backoff-429-5xx"), Status::Pass, &[2, 3]);
    let mut fast = J::default();
    fast.music(0.0, "/v1/me", "a1", 500);
    fast.music(0.2, "/v1/me", "a1", 200);
    let r = fast.judge("backoff-429-5xx");
    assert_status(&r, Status::Fail, &[2]);
    assert_eq!(r.evidence[0].note, "retried 0.200 s after 500 INTERNAL at #1; the least wait is 1.000 s");
    let mut shrinking = J::default();
    shrinking.music(0.0, "/v1/me", "a1", 500);
    shrinking.music(2.0, "/v1/me", "a1", 500);
    shrinking.music(3.0, "/v1/me", "a1", 200);
    assert_status(&shrinking.judge("backoff-429-5xx"), Status::Fail, &[3]);
    let mut endless = J::default();
    for i in 0..8 {
        endless.music(f64::from(i) * 10.0, "/v1/me", "a1", 500);
    }
    let r = endless.judge("backoff-429-5xx");
    assert_status(&r, Status::Fail, &[7]);
    assert_eq!(r.evidence[0].note, "the request failed 7 times in a row: at most 5 retries");
}

#[test]
fn a_dropped_connection_counts_as_a_failure_to_back_off_from() {
    let mut j = J::default();
    j.issue(0.0, "authorization_code", "a1", "r1", 3600);
    j.music(1.0, "/v1/me", "a1", 0);
    j.music(1.1, "/v1/me", "a1", 200);
    let r = j.judge("backoff-429-5xx");
    assert_status(&r, Status::Fail, &[3]);
    assert_eq!(r.evidence[0].note, "retried 0.100 s after a dropped connection at #2; the least wait is 1.000 s");
}

// --- playback ---

#[test]
fn each_play_needs_start_and_stop_events() {
    let mut j = J::default();
    j.stream(0.0, "/dash/B0000000001/manifest.mpd", "s1", 200);
    j.stream(0.1, "/dash/B0000000001/sd/1.m4s", "s1", 200);
    j.event(0.5, &["start"]);
    j.stream(25.0, "/dash/B0000000001/sd/2.m4s", "s1", 403);
    j.stream(25.5, "/dash/B0000000001/manifest.mpd", "s9", 200);
    j.event(30.0, &["stop"]);
    j.stream(31.0, "/stream/B0000000002/sd.mp3", "s2", 206);
    j.event(31.5, &["start"]);
    j.event(60.0, &["stop"]);
    // A fresh URL for the track being played continues its play.
    assert_status(&j.judge("playback-events"), Status::Pass, &[1, 7]);
    let mut skipped = J::default();
    skipped.stream(0.0, "/dash/B0000000001/manifest.mpd", "s1", 200);
    skipped.event(0.5, &["start"]);
    skipped.stream(31.0, "/dash/B0000000002/manifest.mpd", "s2", 200);
    let r = skipped.judge("playback-events");
    assert_status(&r, Status::Fail, &[1, 3]);
    assert_eq!(r.evidence[0].note, "played and reported start, but never stop");
    assert_eq!(r.evidence[1].note, "played, and no start event was reported for it");
    assert_status(&J::default().judge("playback-events"), Status::NotExercised, &[]);
    // V2's routes count as reports too.
    let mut v2 = J::default();
    v2.stream(0.0, "/dash/B0000000001/manifest.mpd", "s1", 200);
    v2.event_at(0.5, "/v2/playback/events", &["start"]);
    v2.event_at(30.0, "/v2/playback/events/batch", &["stop"]);
    assert_status(&v2.judge("playback-events"), Status::Pass, &[1]);
}

#[test]
fn an_expired_stream_url_is_replaced_not_retried() {
    let mut j = J::default();
    j.stream(0.0, "/dash/B0000000001/sd/3.m4s", "s1", 403);
    j.push(0.5, "POST", "/v1/playback/sessions", 200);
    j.stream(1.0, "/dash/B0000000001/sd/3.m4s", "s2", 200);
    assert_status(&j.judge("playback-fresh-url"), Status::Pass, &[1]);
    j.stream(2.0, "/dash/B0000000001/sd/4.m4s", "s1", 403);
    let r = j.judge("playback-fresh-url");
    assert_status(&r, Status::Fail, &[4]);
    assert_eq!(r.evidence[0].note, "requested the URL refused at #1 again", "the next segment with the dead query");
}

#[test]
fn after_max_concurrency_no_new_stream_starts_before_a_stop() {
    let mut j = J::default();
    let e = j.push(0.0, "POST", "/v1/playback/sessions", 429);
    e.client_id = Some(WEB.into());
    e.error = Some("MAX_CONCURRENCY_REACHED".into());
    e.headers.push(("x-amzn-device-id".into(), "kitchen".into()));
    // The device already playing renews its own stream: not the refused device.
    let renew = j.push(2.0, "POST", "/v1/playback/sessions", 200);
    renew.client_id = Some(WEB.into());
    renew.headers.push(("x-amzn-device-id".into(), "living-room".into()));
    j.event(5.0, &["stop"]);
    let after = j.push(6.0, "POST", "/v1/playback/sessions", 200);
    after.client_id = Some(WEB.into());
    after.headers.push(("x-amzn-device-id".into(), "kitchen".into()));
    assert_status(&j.judge("playback-one-stream"), Status::Pass, &[1]);
    let mut again = J::default();
    let e = again.push(0.0, "POST", "/v1/playback/sessions", 429);
    e.client_id = Some(WEB.into());
    e.error = Some("MAX_CONCURRENCY_REACHED".into());
    again.push(0.5, "POST", "/v1/playback/sessions", 429).client_id = Some(WEB.into());
    let r = again.judge("playback-one-stream");
    assert_status(&r, Status::Fail, &[2]);
}

// --- bad material ---

#[test]
fn bad_material_left_alone_passes_and_used_fails() {
    let mut j = J::default();
    j.issue(0.0, "authorization_code", "t1", "r1", 3600).facts.bad_material =
        Some(BadMaterialFact { kind: BadMaterial::TruncatedToken, tainted: fp("t1") });
    j.issue(1.0, "refresh_token", "a2", "r1", 3600);
    j.music(2.0, "/v1/me", "a2", 200);
    assert_status(&j.judge("bad-material-unused"), Status::Pass, &[1]);
    j.music(3.0, "/v1/me", "t1", 401);
    let r = j.judge("bad-material-unused");
    assert_status(&r, Status::Fail, &[4]);
    assert_eq!(r.evidence[0].note, "presented a token from the truncated_token served at #1");
}

#[test]
fn exchanging_the_code_of_a_wrong_state_fails_and_taints_its_tokens() {
    let mut j = J::default();
    let e = j.push(0.0, "GET", "/ap/oa", 302);
    e.facts.bad_material = Some(BadMaterialFact { kind: BadMaterial::WrongState, tainted: fp("c1") });
    j.issue(1.0, "authorization_code", "a1", "r1", 3600).params.push(("code".into(), fp("c1")));
    j.music(2.0, "/v1/me", "a1", 200);
    let r = j.judge("bad-material-unused");
    assert_status(&r, Status::Fail, &[2, 3]);
    assert_eq!(r.evidence[0].note, "exchanged the code of the redirect with a wrong state at #1");
}

#[test]
fn a_plan_judges_only_its_rules_and_the_verdict_counts() {
    let mut j = J::default();
    j.music(1.0, "/v1/me", "a1", 200);
    let plan =
        crate::plan::Plan::parse("p", "name: p\nrules: [api-key-is-profile-id, device-poll-interval]\n").unwrap();
    let v = judge("s", &j.0, Some(&plan), T0);
    assert_eq!(
        v.rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["device-poll-interval", "api-key-is-profile-id"]
    );
    assert_eq!((v.summary.pass, v.summary.fail, v.summary.not_exercised), (1, 0, 1));
    assert_eq!(v.plan.as_deref(), Some("p"));
    assert!(v.passed());
    let all = judge("s", &j.0, None, T0);
    assert_eq!(all.rules.len(), super::RULES.len());
}

// --- scopes of the rules: what each rule does not judge never fails it ---

/// Every rule's status on a journal, by id.
fn statuses(j: &J) -> Vec<(String, Status, String)> {
    judge("t", &j.0, None, T0).rules.into_iter().map(|r| (r.id, r.status, r.message)).collect()
}

fn assert_nothing_fails(j: &J) {
    for (id, status, message) in statuses(j) {
        assert_ne!(status, Status::Fail, "{id} failed: {message}");
    }
}

/// A V2-only client: device flow, then V2 calls with `X-Amzn-Device-Id` and no `x-api-key`.
fn v2_session() -> J {
    let mut j = J::default();
    j.codepair(0.0, "d1", 5);
    j.poll(5.0, "d1", Some("authorization_pending"));
    j.poll(10.0, "d1", None);
    for (i, path) in ["/v2/albums/top", "/v2/me/library/tracks", "/v2/search"].iter().enumerate() {
        let e = j.push(11.0 + i as f64, "GET", path, 200);
        e.headers.push(("authorization".into(), format!("Bearer {}", fp("a1"))));
        e.headers.push(("x-amzn-device-id".into(), "speaker-1".into()));
        e.token = Some(fp("a1"));
        e.client_id = Some(DEVICE.into());
        e.facts.api = Some(Api::V2);
        e.facts.scope_used = Some("music::catalog".into());
    }
    j
}

#[test]
fn a_v2_only_session_fails_no_rule_and_the_v2_header_rule_judges_it() {
    let j = v2_session();
    assert_nothing_fails(&j);
    assert_status(&j.judge("api-key-is-profile-id"), Status::NotExercised, &[]);
    assert_eq!(j.judge("api-key-is-profile-id").message, "No request reached a Web API V1 route.");
    let r = j.judge("v2-device-id");
    assert_status(&r, Status::Pass, &[4]);
    assert_eq!(r.message, "X-Amzn-Device-Id was sent with 3 Web API V2 requests.");
    // The same V2 call without the device id fails the V2 rule, and only it.
    let mut j = v2_session();
    let e = j.push(20.0, "GET", "/v2/albums/top", 401);
    e.facts.api = Some(Api::V2);
    e.error = Some("MISSING_DEVICE_ID".into());
    let r = j.judge("v2-device-id");
    assert_status(&r, Status::Fail, &[7]);
    assert_eq!(r.message, "1 Web API V2 request sent no X-Amzn-Device-Id.");
    assert_eq!(r.evidence[0].note, "no X-Amzn-Device-Id header");
    assert_status(&j.judge("api-key-is-profile-id"), Status::NotExercised, &[]);
}

#[test]
fn an_unknown_route_answered_404_fails_no_rule() {
    let mut j = J::default();
    j.issue(0.0, "authorization_code", "a1", "r1", 3600);
    // No route judged these: no family noted, whatever headers they lack.
    for (i, path) in ["/v1/nosuch", "/v2/nosuch", "/device/nosuch", "/nosuch"].iter().enumerate() {
        let e = j.push(1.0 + i as f64, "GET", path, 404);
        e.headers.push(("authorization".into(), format!("Bearer {}", fp("a1"))));
    }
    assert_nothing_fails(&j);
    assert_status(&j.judge("api-key-is-profile-id"), Status::NotExercised, &[]);
    assert_status(&j.judge("v2-device-id"), Status::NotExercised, &[]);
    // A wrong method on a V1 path is not judged either (405, no gate ran).
    let e = j.push(9.0, "DELETE", "/v1/me", 405);
    e.headers.push(("authorization".into(), format!("Bearer {}", fp("a1"))));
    assert_nothing_fails(&j);
}

#[test]
fn a_refused_refresh_is_no_refresh_and_no_poll() {
    let mut j = J::default();
    j.issue(0.0, "authorization_code", "a1", "r1", 3600);
    // Refused for the client's credentials, a second after the token was issued: no refresh happened.
    let e = j.push(1.0, "POST", "/auth/o2/token", 401);
    e.params = vec![("grant_type".into(), "refresh_token".into()), ("refresh_token".into(), fp("r1"))];
    e.client_id = Some(WEB.into());
    e.error = Some("invalid_client".into());
    assert_nothing_fails(&j);
    assert_status(&j.judge("token-no-refresh-storm"), Status::NotExercised, &[]);
    // Device-code requests refused for what they are are no polls: a second one a second later is no fast poll.
    let mut j = J::default();
    j.codepair(0.0, "d1", 30);
    for at in [1.0, 2.0] {
        let e = j.poll(at, "d1", Some("invalid_client"));
        e.status = 401;
    }
    j.poll(3.0, "d1", Some("invalid_request"));
    assert_nothing_fails(&j);
    assert_status(&j.judge("device-poll-interval"), Status::NotExercised, &[]);
    // A fault between two polls is the back-off rules': the polls around it are judged by their own gap.
    let mut j = J::default();
    j.codepair(0.0, "d1", 30);
    j.poll(30.0, "d1", Some("authorization_pending"));
    j.poll(60.0, "d1", None).status = 500;
    j.poll(62.0, "d1", Some("authorization_pending"));
    assert_status(&j.judge("device-poll-interval"), Status::Pass, &[4]);
}

#[test]
fn device_api_posts_need_json() {
    let mut j = J::default();
    let e = j.push(1.0, "POST", "/device/events/B0", 200);
    e.headers.push(("content-type".into(), "application/json; charset=utf-8".into()));
    e.facts.api = Some(Api::Device);
    let e = j.push(2.0, "GET", "/device", 200);
    e.facts.api = Some(Api::Device);
    assert_status(&j.judge("device-api-json"), Status::Pass, &[1]);
    let e = j.push(3.0, "POST", "/device/events/B0", 200);
    e.headers.push(("content-type".into(), "text/plain".into()));
    e.facts.api = Some(Api::Device);
    j.push(4.0, "POST", "/device/events/B0", 200).facts.api = Some(Api::Device);
    let r = j.judge("device-api-json");
    assert_status(&r, Status::Fail, &[3, 4]);
    assert_eq!(r.evidence[0].note, "posted with Content-Type: text/plain");
    assert_eq!(r.evidence[1].note, "posted JSON with no Content-Type");
}

#[test]
fn a_request_that_needed_a_leniency_fails_lwa_no_leniency() {
    let mut j = J::default();
    j.codepair(0.0, "d1", 5);
    j.poll(5.0, "d1", None);
    assert_status(&j.judge("lwa-no-leniency"), Status::Pass, &[1, 2]);
    j.codepair(6.0, "d2", 5);
    j.0.last_mut().unwrap().facts.leniency = Some(Leniency::CodepairWithoutResponseType);
    j.poll(11.0, "d2", None).facts.leniency = Some(Leniency::DeviceCodeGrantUrn);
    let r = j.judge("lwa-no-leniency");
    assert_status(&r, Status::Fail, &[3, 4]);
    assert_eq!(
        r.evidence[0].note,
        "sent a code pair request without response_type=device_code: accepted only by the mock's lenient setting, refused by LWA"
    );
    assert_eq!(r.message, "2 LWA requests passed only through a leniency of the mock.");
    // Nothing at LWA's token or code-pair endpoints: not exercised.
    assert_status(&v2_only_calls().judge("lwa-no-leniency"), Status::NotExercised, &[]);
}

fn v2_only_calls() -> J {
    let mut j = v2_session();
    j.0.retain(|e| e.facts.api.is_some());
    j
}
