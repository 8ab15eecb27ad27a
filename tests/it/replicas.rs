//! Replicas sharing one store (`serve --state redis://…`): two servers on one Redis act as one. Each test
//! starts its own `redis-server` on a free port (stopped when the test ends); without one installed the test
//! prints `skipped: …` and passes, unless `AMM_REQUIRE_TOOLS=1` (CI).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use amazon_music_mock::ServerConfig;
use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::redis_testkit::RedisServer;
use crate::state::titles;
use crate::support::*;

const BAD_CODE: &str = "The request has an invalid grant parameter : code";
const BAD_REFRESH: &str =
    "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.";
const TOKEN: &str = "/auth/o2/token";

fn config(url: &str) -> ServerConfig {
    ServerConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        // The catalog the tests' `track_id` reads (`music_support::catalog`).
        seed: Some(1),
        state: Some(PathBuf::from(url)),
        ..ServerConfig::default()
    }
}

/// Two replicas on `redis`.
async fn replicas(redis: &RedisServer) -> (TestApp, TestApp) {
    (TestApp::spawn_with(config(&redis.url())).await, TestApp::spawn_with(config(&redis.url())).await)
}

fn exchange_form(code: &str) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", WEB_RETURN),
        ("client_id", WEB_CLIENT),
        ("client_secret", WEB_SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

#[tokio::test]
async fn thirty_racing_exchanges_of_one_code_over_two_replicas_issue_tokens_once() {
    let Some(redis) = RedisServer::start() else { return };
    let (a, b) = replicas(&redis).await;
    let code = a.code(WEB_CLIENT, WEB_RETURN, "profile", &[]).await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let racers: Vec<_> = (0..30)
        .map(|i| {
            let app = if i % 2 == 0 { a.clone() } else { b.clone() };
            let form = exchange_form(&code);
            tokio::spawn(async move { app.send(app.http.post(app.url(TOKEN)).form(&form)).await })
        })
        .collect();
    let mut answers = Vec::new();
    for r in racers {
        answers.push(r.await.expect("the exchange ran"));
    }
    let won: Vec<&Resp> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(won.len(), 1, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_user_token_response(won[0]);
    for r in answers.iter().filter(|r| r.status != 200) {
        assert_lwa_error(r, 400, "invalid_grant", BAD_CODE);
    }
    assert_eq!(answers.iter().filter(|r| r.status == 400).count(), 29);
}

#[tokio::test]
async fn a_thousand_racing_playlist_adds_over_two_replicas_all_land() {
    let Some(redis) = RedisServer::start() else { return };
    let (a, b) = replicas(&redis).await;
    let token = a.music_token(USER_UNLIMITED, ALL_MUSIC).await;
    let created = ok(&a
        .v1(&token)
        .post("/v1/playlists", &json!({"title": "Shared", "description": "", "visibility": "PRIVATE"}))
        .await);
    let id = ptr_str(&created, "/createPlaylist/id").to_owned();
    let (a, b) = (Arc::new(a), Arc::new(b));
    // A thousand adds of one track each, every other one to each replica, a hundred in flight at a time.
    let gate = Arc::new(tokio::sync::Semaphore::new(100));
    let adds: Vec<_> = (0..1000)
        .map(|i| {
            let app = if i % 2 == 0 { a.clone() } else { b.clone() };
            let (token, gate) = (token.clone(), gate.clone());
            let path = format!("/v1/playlists/{id}/tracks");
            tokio::spawn(async move {
                let _in_flight = gate.acquire().await.expect("the gate stays open");
                let body = json!({"trackIds": [track_id(i % 50)], "addDuplicateTracks": true});
                let r = app.v1(&token).put(&path, &body).await;
                (r.status, r.text)
            })
        })
        .collect();
    for add in adds {
        let (status, text) = add.await.expect("the add ran");
        assert_eq!(status, 200, "{text}");
    }
    for app in [&a, &b] {
        let meta = app.v1(&token).data(&format!("/v1/playlists/{id}")).await;
        assert_eq!(meta["playlist"]["trackCount"], json!(1000));
    }
}

#[tokio::test]
async fn a_revocation_or_a_forced_expiry_on_one_replica_holds_on_the_other_at_once() {
    let Some(redis) = RedisServer::start() else { return };
    let (a, b) = replicas(&redis).await;
    let web = a.web_tokens("profile").await;
    assert_eq!(b.profile(s(&web, "access_token")).await.status, 200);
    a.admin("POST", "/__admin/grants/revoke", json!({"user_id": USER_UNLIMITED, "client_id": WEB_CLIENT})).await;
    let r = b.profile(s(&web, "access_token")).await;
    assert_lwa_error(
        &r,
        401,
        "invalid_token",
        "The access token provided is expired, revoked, malformed, or invalid for other reasons.",
    );
    assert_lwa_error(&b.refresh_web(s(&web, "refresh_token")).await, 400, "invalid_grant", BAD_REFRESH);

    let other = b.web_tokens("profile").await;
    assert_eq!(a.profile(s(&other, "access_token")).await.status, 200);
    let expired = b.admin("POST", "/__admin/tokens/expire", json!({"token": other["access_token"]})).await;
    assert_eq!(expired["expired"], "access_token");
    let r = a.profile(s(&other, "access_token")).await;
    assert_eq!(r.status, 401, "{}", r.text);
}

#[tokio::test]
async fn a_clock_change_and_settings_on_one_replica_are_seen_on_the_other() {
    let Some(redis) = RedisServer::start() else { return };
    let (a, b) = replicas(&redis).await;
    a.admin("POST", "/__admin/clock/set", json!({"now": 1_900_000_000})).await;
    let clock = a.admin("POST", "/__admin/clock/freeze", json!({})).await;
    assert_eq!(b.admin("GET", "/__admin/clock", Value::Null).await, clock);
    b.admin("POST", "/__admin/clock/advance", json!({"seconds": 90})).await;
    let later = clock["now"].as_i64().expect("now") + 90;
    assert_eq!(a.admin("GET", "/__admin/clock", Value::Null).await, json!({"now": later, "frozen": true}));
    let settings = b.settings("", json!({"device_interval_seconds": 7})).await;
    assert_eq!(a.admin("GET", "/__admin/settings", Value::Null).await, settings);
}

#[tokio::test]
async fn the_journal_holds_every_replicas_requests_in_arrival_order_and_pages_on_either() {
    let Some(redis) = RedisServer::start() else { return };
    let (a, b) = replicas(&redis).await;
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        assert_eq!(app.get(&format!("/user/profile?n={i}")).await.status, 400, "no token");
    }
    for app in [&a, &b] {
        let journal = app.admin("GET", "/__admin/requests", Value::Null).await;
        let seen: Vec<(u64, String)> = journal
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| (e["seq"].as_u64().expect("seq"), e["query"][0][1].as_str().expect("n").to_owned()))
            .collect();
        let expected: Vec<(u64, String)> = (0..6).map(|i| (i + 1, i.to_string())).collect();
        assert_eq!(seen, expected);
    }
    let r = b.get("/__admin/requests?after=2&limit=2").await;
    assert_eq!(r.header("x-amm-next-after"), Some("4"));
    let seqs: Vec<u64> = r.json().as_array().expect("entries").iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [3, 4]);
}

#[tokio::test]
async fn the_restart_journey_over_two_replicas_keeps_the_device_the_playlist_the_revocation_and_the_clock() {
    let Some(redis) = RedisServer::start() else { return };
    let (a, b) = replicas(&redis).await;
    let device = a.music_tokens(USER_PRIME, ALL_MUSIC).await;
    let web = b.web_tokens("profile").await;
    let created = ok(&a
        .v1(s(&device, "access_token"))
        .post("/v1/playlists", &json!({"title": "Persist me", "description": "", "visibility": "PRIVATE"}))
        .await);
    let id = ptr_str(&created, "/createPlaylist/id").to_owned();
    b.admin("POST", "/__admin/grants/revoke", json!({"user_id": USER_UNLIMITED, "client_id": WEB_CLIENT})).await;
    a.admin("POST", "/__admin/clock/advance", json!({"seconds": 600})).await;
    let clock = b.admin("POST", "/__admin/clock/freeze", json!({})).await;
    let before = titles(&b.v1(s(&device, "access_token"))).await;
    assert_eq!(before[0], "Persist me");
    a.mock.stop().await;
    b.mock.stop().await;

    let (a, b) = replicas(&redis).await;
    for app in [&a, &b] {
        assert_eq!(app.admin("GET", "/__admin/clock", Value::Null).await, clock);
        let v1 = app.v1(s(&device, "access_token"));
        assert_eq!(titles(&v1).await, before);
        assert_eq!(v1.data(&format!("/v1/playlists/{id}")).await["playlist"]["title"], "Persist me");
        assert_eq!(app.profile(s(&web, "access_token")).await.status, 401);
        assert_lwa_error(&app.refresh_web(s(&web, "refresh_token")).await, 400, "invalid_grant", BAD_REFRESH);
    }
    // The device's refresh token still refreshes, on either replica.
    let form =
        [("grant_type", "refresh_token"), ("refresh_token", s(&device, "refresh_token")), ("client_id", DEVICE_CLIENT)];
    assert_user_token_response(&b.post_form(TOKEN, &form).await);
}

#[tokio::test]
async fn an_authorized_read_costs_two_round_trips_and_one_more_after_another_replica_wrote() {
    let Some(redis) = RedisServer::start() else { return };
    let state = amazon_music_mock::test_support::build_state(&config(&redis.url())).expect("starts");
    let a = TestApp::spawn_with_state(state.clone()).await;
    let b = TestApp::spawn_with(config(&redis.url())).await;
    let token = a.music_token(USER_PRIME, ALL_MUSIC).await;
    let v1 = a.v1(&token);
    assert_eq!(v1.get("/v1/me").await.status, 200);
    let trips = || state.store.round_trips().expect("a shared store counts its round trips");
    let before = trips();
    let r = v1.get("/v1/me").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(trips() - before, 2, "the version check and the journal entry");
    // Another replica changes the session: the next read reads it again first (one more round trip).
    b.settings("", json!({"rate_limit_tps": 0})).await;
    let before = trips();
    assert_eq!(v1.get("/v1/me").await.status, 200);
    assert_eq!(trips() - before, 3, "the version check, the documents, the journal entry");
}

#[tokio::test]
async fn an_unreachable_redis_is_refused_at_start_and_answered_503_mid_run() {
    let Some(mut redis) = RedisServer::start() else { return };
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis://127.0.0.1:{free}");
    let err = amazon_music_mock::start(&config(&url)).await.err().expect("refused").to_string();
    let prefix = format!("cannot reach Redis at {url} (");
    assert!(err.starts_with(&prefix), "{err}");
    assert!(err.ends_with("): start a Redis or Valkey server there, or give --state another URL"), "{err}");

    let app = TestApp::spawn_with(config(&redis.url())).await;
    let token = app.music_token(USER_PRIME, ALL_MUSIC).await;
    let v1 = app.v1(&token);
    assert_eq!(v1.get("/v1/me").await.status, 200);
    redis.kill();
    let r = v1.get("/v1/me").await;
    assert_eq!(r.status, 503, "{}", r.text);
    let e = r.json()["error"].as_str().expect("an error line").to_owned();
    let prefix = format!("the state store, Redis at {}, does not answer (", redis.url());
    assert!(e.starts_with(&prefix), "{e}");
    assert!(e.ends_with("); requests are refused until it does"), "{e}");
    // The health route too: a health check takes the replica out while it cannot serve.
    assert_eq!(app.get("/__admin/health").await.status, 503);
}

#[tokio::test]
async fn state_export_reads_redis_and_import_starts_another_redis_or_a_file_from_it() {
    let Some(redis) = RedisServer::start() else { return };
    let Some(other) = RedisServer::start() else { return };
    let a = TestApp::spawn_with(config(&redis.url())).await;
    let token = a.music_token(USER_PRIME, ALL_MUSIC).await;
    let v1 = a.v1(&token);
    ok(&v1.post("/v1/playlists", &json!({"title": "Hand over", "description": "", "visibility": "PRIVATE"})).await);
    let expected = titles(&v1).await;
    let journal = a.admin("GET", "/__admin/requests", Value::Null).await;

    // Exported while the replica serves.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_amazon-music-mock"))
        .args(["state", "export", "--state", &redis.url()])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let snapshot: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(snapshot["format"], "amazon-music-mock-state");
    assert!(snapshot["token_key"].as_str().is_some_and(|k| k.len() == 64), "{}", snapshot["token_key"]);
    let kept = snapshot["sessions"]["default"]["journal"].as_object().map_or(0, |m| m.len());
    assert_eq!(kept, journal.as_array().expect("entries").len());
    let dir = TempDir::new("redis-export");
    let snap_file = dir.0.join("snapshot.json");
    std::fs::write(&snap_file, &out.stdout).unwrap();

    // Into another Redis: the playlist, the journal, and the token key (the token still verifies).
    let cfg = ServerConfig { import: Some(snap_file.clone()), ..config(&other.url()) };
    let b = TestApp::spawn_with(cfg).await;
    assert_eq!(titles(&b.v1(&token)).await, expected);
    let imported = b.admin("GET", "/__admin/requests", Value::Null).await;
    assert_eq!(
        imported.as_array().map(|a| a[..journal.as_array().unwrap().len()].to_vec()),
        journal.as_array().cloned()
    );
    // Into a state file.
    let file = dir.0.join("from-redis.db");
    let cfg = ServerConfig { import: Some(snap_file), state: Some(file), ..config(&other.url()) };
    let c = TestApp::spawn_with(cfg).await;
    assert_eq!(titles(&c.v1(&token)).await, expected);
}

#[tokio::test]
async fn serve_on_redis_from_the_command_line_answers_and_export_of_no_server_exits_2() {
    let Some(redis) = RedisServer::start() else { return };
    let mut child = crate::startup::serve(&["--state", &redis.url()]);
    let base = crate::startup::address_of(&crate::startup::first_line(&mut child));
    let r = reqwest::get(format!("{base}/__admin/sessions")).await.expect("answers");
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!(["default"]));
    let _ = child.kill();
    let _ = child.wait();

    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis://127.0.0.1:{free}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_amazon-music-mock"))
        .args(["state", "export", "--state", &url])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with(&format!("error: cannot reach Redis at {url} (")), "{err}");
    assert!(err.ends_with("): start a Redis or Valkey server there, or give --state another URL\n"), "{err}");
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn polls_over_two_replicas_agree_on_pending_slow_down_and_approval() {
    let Some(redis) = RedisServer::start() else { return };
    let (a, b) = replicas(&redis).await;
    a.freeze().await;
    let pair = a.codepair(DEVICE_CLIENT, ALL_MUSIC).await;
    let pending = "The user has not yet entered the code or authorized the device";
    assert_lwa_error(&b.poll(&pair).await, 400, "authorization_pending", pending);
    // The next poll, on the other replica at the same (frozen) instant, is too soon.
    let slow = "The device is polling too frequently; increase the interval by 5 seconds";
    assert_lwa_error(&a.poll(&pair).await, 400, "slow_down", slow);
    b.advance(31).await;
    b.approve(s(&pair, "user_code")).await;
    assert_user_token_response(&a.poll(&pair).await);
}

#[tokio::test]
async fn the_playback_concurrency_rule_counts_devices_on_every_replica() {
    let Some(redis) = RedisServer::start() else { return };
    let (a, b) = replicas(&redis).await;
    a.freeze().await;
    let token = a.music_token(USER_UNLIMITED, ALL_MUSIC).await;
    async fn create(app: &TestApp, token: &str, device: &str) -> Resp {
        let body = json!({"playParams": {"id": "mrn:1.0:catalog:album:asin:B0064UPU4G"}});
        let headers = [("x-amzn-device-id", device), ("x-amzn-audio-drmtype", "WIDEVINE")];
        app.v1(token).call_with("POST", "/v1/playback/sessions", &headers, Some(&body)).await
    }
    let phone = ok(&create(&a, &token, "phone-3f9a07").await);
    // The phone's stream URL (minted on one replica) is served by the other.
    let url = ptr_str(&phone, "/entities/0/mediaMetadata/url").to_owned();
    assert_eq!(b.send(b.http.get(&url)).await.status, 200);
    let r = create(&b, &token, "tv-77c1e2").await;
    assert_v1_error(
        &r,
        429,
        "MAX_CONCURRENCY_REACHED",
        "Concurrent stream limit exceeded. The customer is already playing on another device; playback there has been stopped, so a retry plays here.",
    );
    let session = ptr_str(&phone, "/sessionId");
    let current = ok(&a.v1(&token).get(&format!("/v1/playback/sessions/{session}/current")).await);
    assert_eq!(current["queueState"]["playbackState"], "PREEMPTED");
    // And its stream URL is refused on either replica.
    for app in [&a, &b] {
        let r = app.send(app.http.get(&url)).await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(
            r.json(),
            json!({"error": "playback_preempted", "message": "Concurrent stream limit exceeded: playback was started on another device"})
        );
    }
}

#[tokio::test]
async fn a_session_dropped_on_one_replica_stays_gone_when_the_other_sweeps() {
    let Some(redis) = RedisServer::start() else { return };
    let a = TestApp::spawn_with(config(&redis.url())).await;
    let state = amazon_music_mock::test_support::build_state(&config(&redis.url())).expect("starts");
    let b = TestApp::spawn_with_state(state.clone()).await;
    for app in [&a, &b] {
        app.settings("/s/gone", json!({"auto_consent": true})).await;
    }
    assert_eq!(b.admin("GET", "/__admin/sessions", Value::Null).await, json!(["default", "gone"]));
    let r = a.send(a.http.delete(a.url("/s/gone/__admin/session"))).await;
    assert_eq!((r.status, r.json()), (200, json!({"dropped": "gone"})));
    state.store.sweep().await;
    assert_eq!(a.admin("GET", "/__admin/sessions", Value::Null).await, json!(["default"]));
    // Named again, it starts afresh, on either replica.
    let settings = b.admin("GET", "/s/gone/__admin/settings", Value::Null).await;
    assert_eq!(settings["auto_consent"], json!(false));
    assert_eq!(a.admin("GET", "/__admin/sessions", Value::Null).await, json!(["default", "gone"]));
}

/// A replica SIGKILLed in the middle of 1,000 playlist writes, twenty times over at different points: the next
/// replica on the same Redis holds every write that was answered 200 (a write is answered once Redis has it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_a_replica_during_a_write_burst_loses_no_answered_write_twenty_times_over() {
    let Some(redis) = RedisServer::start() else { return };
    let url = redis.url();
    crate::state::sigkill_during_write_bursts(20, |_| url.clone()).await;
}
