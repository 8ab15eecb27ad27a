//! Web Playback V2 queues (spec `music-api.md` §5.3, §6.2, §11.3; decisions W18–W24 in `docs/ROUTES.md`):
//! create, the five navigation routes with their 206 "restored" answers (the test knob and a real restore),
//! the ends of the queue, loop and shuffle, queueing, the concurrency rule shared with V1, the documented
//! `{"data":{"queues":[…]}}` of `active`, events feeding the history, and the stream URLs bound to a queue.
//! Exact wire shapes throughout.

use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::support::*;

const NEW: &str = "/v2/playback/queues/new";
const QUEUES: &str = "/v2/playback/queues";
const TV: &str = "tv-77c1e2";
/// The docs' example album (`fixtures/catalog.yaml`).
const ALBUM: &str = "B0064UPU4G";
const ALBUM_TRACKS: [&str; 3] = ["B076YT2CBT", "B076YT2CBV", "B076YT2CBW"];
const PLAYABLE_KEYS: [&str; 8] =
    ["_type", "queueId", "entityReferenceId", "metricId", "entity", "durationSeconds", "mediaMetadata", "actions"];

fn play(kind: &str, id: &str) -> Value {
    json!({"playParams": {"id": format!("mrn:1.0:catalog:{kind}:asin:{id}")}})
}

/// A V2 client of `user` with every music scope, on device `device`.
async fn client<'a>(app: &'a TestApp, user: &str, device: &'static str) -> V2<'a> {
    let token = app.music_token(user, ALL_MUSIC).await;
    Api { app, token, prefix: String::new(), header: ("x-amzn-device-id", device) }
}

/// A JSON answer with this status; returns the body.
#[track_caller]
fn json_with(r: &Resp, status: u16) -> Value {
    assert_eq!(r.status, status, "body: {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"), "{:?}", r.headers);
    r.json()
}

/// `POST /v2/playback/queues/new` that must answer 201; returns the queue.
async fn create(v2: &V2<'_>, body: &Value) -> Value {
    json_with(&v2.post(NEW, body).await, 201)
}

fn qid(q: &Value) -> String {
    ptr_str(q, "/id").to_owned()
}

/// The track ids of a queue answer's entities.
fn tracks(q: &Value) -> Vec<String> {
    q["entities"].as_array().unwrap().iter().map(|e| ptr_str(e, "/entity/id").to_owned()).collect()
}

async fn nav(v2: &V2<'_>, queue: &str, op: &str) -> Resp {
    v2.get(&format!("{QUEUES}/{queue}/{op}")).await
}

fn state(shuffle: &str, loop_mode: &str, playback: &str, station: bool, position: usize, size: usize) -> Value {
    json!({"shuffleMode": shuffle, "loopMode": loop_mode, "playbackState": playback,
           "playbackContinuationMode": "AUTOPLAY_OFF", "isStation": station, "position": position, "size": size})
}

#[tokio::test]
async fn a_new_queue_is_201_with_v2_playables_whose_urls_are_bound_to_it() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v2 = client(&app, USER_UNLIMITED, DEVICE_ID).await;
    let mut body = play("album", ALBUM);
    body["limit"] = json!(2);
    let r = v2.call_with("POST", NEW, &[("x-amzn-audio-device-capability", "STD_RES,HI_FI,HI_RES")], Some(&body)).await;
    let q = json_with(&r, 201);
    assert_eq!(keys(&q), ["id", "queueState", "entities"]);
    let id = qid(&q);
    assert!(is_uuid(&id), "{id}");
    assert_eq!(q["queueState"], state("SHUFFLE_OFF", "LOOP_OFF", "PLAYING", false, 0, 3));
    assert_eq!(tracks(&q), ALBUM_TRACKS[..2]);
    let e = &q["entities"][0];
    assert_eq!(keys(e), PLAYABLE_KEYS);
    assert_eq!(e["_type"], "Playable");
    assert_eq!(e["queueId"], id.as_str());
    assert!(is_uuid(ptr_str(e, "/entityReferenceId")) && is_uuid(ptr_str(e, "/metricId")));
    // The entity is the V2 Track, the same as `GET /v2/tracks?ids=` answers.
    let track = json_with(&v2.get(&format!("/v2/tracks?ids={}", ALBUM_TRACKS[0])).await, 200);
    assert_eq!(e["entity"], track[0]);
    assert_eq!(e["durationSeconds"], track[0]["duration"]);
    assert_eq!(keys(&e["mediaMetadata"]), ["url", "drmType", "mediaType"]);
    assert_eq!(e["mediaMetadata"]["drmType"], "NONE");
    assert_eq!(e["mediaMetadata"]["mediaType"], "DASH");
    let url = ptr_str(e, "/mediaMetadata/url");
    assert_eq!(query_param(url, "ps").as_deref(), Some(id.as_str()), "{url}");
    assert_eq!(query_param(url, "q").as_deref(), Some("SD,HD,UHD"), "Unlimited with HI_RES: {url}");
    assert_eq!(
        e["actions"],
        json!({"next": {"isAllowed": true}, "previous": {"isAllowed": true}, "scrubForward": {"isAllowed": true},
               "scrubBackward": {"isAllowed": true}, "loopAll": {"isAllowed": true}, "shuffle": {"isAllowed": true}})
    );
    // The URL plays while the queue holds its slot.
    let manifest = app.send(app.http.get(url)).await;
    assert_eq!(manifest.status, 200, "{}", manifest.text);
    assert_eq!(manifest.header("content-type"), Some("application/dash+xml"));
}

#[tokio::test]
async fn navigation_moves_through_the_queue_and_its_ends_are_404s() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v2 = client(&app, USER_UNLIMITED, DEVICE_ID).await;
    let q = create(&v2, &play("album", ALBUM)).await;
    let id = qid(&q);
    assert_eq!(tracks(&q), ALBUM_TRACKS);
    let refs: Vec<String> =
        q["entities"].as_array().unwrap().iter().map(|e| ptr_str(e, "/entityReferenceId").to_owned()).collect();

    let current = json_with(&nav(&v2, &id, "current").await, 200);
    assert_eq!(keys(&current), ["id", "queueState", "entities"]);
    assert_eq!(tracks(&current), [ALBUM_TRACKS[0]]);
    let r = nav(&v2, &id, "previous").await;
    assert_v2_error(&r, 404, "NO_MORE_PREVIOUS_ENTITY", "No more previous entity: this is the start of the queue");

    let next = json_with(&nav(&v2, &id, "next?limit=1").await, 200);
    assert_eq!(tracks(&next), [ALBUM_TRACKS[1]]);
    assert_eq!(next["queueState"]["position"], 1);
    let next = json_with(&nav(&v2, &id, "next").await, 200);
    assert_eq!(tracks(&next), [ALBUM_TRACKS[2]]);
    let r = nav(&v2, &id, "next").await;
    assert_v2_error(&r, 404, "NO_MORE_NEXT_ENTITY", "No more next entity: the end of the queue was reached");
    let back = json_with(&nav(&v2, &id, "previous?limit=2").await, 200);
    assert_eq!(tracks(&back), ALBUM_TRACKS[1..]);

    // The view is the whole queue; entities/{ref} is a window from that entity; neither moves.
    let view = json_with(&nav(&v2, &id, "view").await, 200);
    assert_eq!(tracks(&view), ALBUM_TRACKS);
    assert_eq!(view["queueState"], state("SHUFFLE_OFF", "LOOP_OFF", "PLAYING", false, 1, 3));
    let from = json_with(&nav(&v2, &id, &format!("entities/{}?limit=2", refs[0])).await, 200);
    assert_eq!(tracks(&from), ALBUM_TRACKS[..2]);
    assert_eq!(from["queueState"]["position"], 1, "reading entities does not move the queue");
    let r = nav(&v2, &id, "entities/3c0c51a2-0000-4000-8000-000000000000").await;
    assert_v2_error(&r, 404, "NOT_FOUND", "Queue entity not found: 3c0c51a2-0000-4000-8000-000000000000");
    let r = nav(&v2, &id, "next?limit=12").await;
    assert_v2_error(&r, 400, "BAD_REQUEST", "limit must be an integer from 1 to 11.");

    let r = nav(&v2, "5d0f7c8e-1111-4222-8333-944455556666", "current").await;
    assert_v2_error(&r, 404, "NOT_FOUND", "Queue not found: 5d0f7c8e-1111-4222-8333-944455556666");
}

#[tokio::test]
async fn the_test_knob_makes_every_navigation_answer_206_restored() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v2 = client(&app, USER_UNLIMITED, DEVICE_ID).await;
    let q = create(&v2, &play("album", ALBUM)).await;
    let id = qid(&q);
    let first_ref = ptr_str(&q, "/entities/0/entityReferenceId").to_owned();
    app.admin("PUT", "/__admin/settings", json!({"playback_queue_restored": true})).await;
    for op in ["current", "next", "previous", "view", &format!("entities/{first_ref}")] {
        let body = json_with(&nav(&v2, &id, op).await, 206);
        assert_eq!(keys(&body), ["id", "queueState", "entities"], "{op}");
        assert_eq!(body["queueState"]["playbackState"], "PLAYING", "{op}");
    }
    // Mutations and errors are not navigation answers.
    let r = v2.put(&format!("{QUEUES}/{id}/shuffle"), &json!({"shuffleMode": "SHUFFLE_OFF"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = nav(&v2, &id, "previous").await;
    assert_v2_error(&r, 404, "NO_MORE_PREVIOUS_ENTITY", "No more previous entity: this is the start of the queue");
    app.admin("PUT", "/__admin/settings", json!({"playback_queue_restored": false})).await;
    assert_eq!(nav(&v2, &id, "current").await.status, 200);
}

#[tokio::test]
async fn a_queue_idle_past_the_timeout_is_restored_by_the_next_navigation_with_206() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v2 = client(&app, USER_UNLIMITED, DEVICE_ID).await;
    let id = qid(&create(&v2, &play("album", ALBUM)).await);
    app.advance(601).await;
    let active = json_with(&v2.get(&format!("{QUEUES}/active")).await, 200);
    assert_eq!(active, json!({"data": {"queues": []}}), "an idle queue holds no slot");
    let restored = json_with(&nav(&v2, &id, "current").await, 206);
    assert_eq!(restored["queueState"], state("SHUFFLE_OFF", "LOOP_OFF", "PLAYING", false, 0, 3));
    assert_eq!(tracks(&restored), [ALBUM_TRACKS[0]]);
    assert_eq!(nav(&v2, &id, "current").await.status, 200, "restored once");
    // A terminal stop gives the slot up too; the next navigation (a move) restores it.
    let metric = ptr_str(&restored, "/entities/0/metricId").to_owned();
    let stop = json!({"metricId": metric, "event": {"type": "stop", "clientTimestampInMilliseconds": 1, "terminationReason": "userStop"}});
    assert_eq!(json_with(&v2.post("/v2/playback/events", &stop).await, 200), json!({"recorded": 1}));
    let moved = json_with(&nav(&v2, &id, "next").await, 206);
    assert_eq!(tracks(&moved)[0], ALBUM_TRACKS[1]);
}

#[tokio::test]
async fn active_queues_keep_the_documented_data_envelope() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    app.admin("PUT", "/__admin/settings", json!({"playback_max_sessions": 2})).await;
    let phone = client(&app, USER_UNLIMITED, DEVICE_ID).await;
    let tv = client(&app, USER_UNLIMITED, TV).await;
    let a = qid(&create(&phone, &play("album", ALBUM)).await);
    let mut shuffled = play("album", ALBUM);
    shuffled["playbackOptions"] = json!({"shuffleMode": "SHUFFLE_ON", "loopMode": "LOOP_ALL"});
    let b = create(&tv, &shuffled).await;
    let first_of_b = tracks(&b)[0].clone();
    let title = |t: &str| catalog().track(t).unwrap().title.to_string();
    let r = phone.get(&format!("{QUEUES}/active")).await;
    let active = json_with(&r, 200);
    assert_eq!(
        active,
        json!({"data": {"queues": [
            {"id": a, "currentEntity": {"_type": "Track", "id": ALBUM_TRACKS[0], "title": title(ALBUM_TRACKS[0])},
             "queueState": {"shuffleMode": "SHUFFLE_OFF", "loopMode": "LOOP_OFF", "playbackState": "PLAYING"}},
            {"id": qid(&b), "currentEntity": {"_type": "Track", "id": first_of_b, "title": title(&first_of_b)},
             "queueState": {"shuffleMode": "SHUFFLE_ON", "loopMode": "LOOP_ALL", "playbackState": "PLAYING"}}
        ]}})
    );
    // Key order as documented.
    assert_eq!(keys(&active["data"]["queues"][0]), ["id", "currentEntity", "queueState"]);
}

#[tokio::test]
async fn a_second_device_gets_429_concurrent_stream_limit_and_the_first_queue_is_refused() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let phone = client(&app, USER_UNLIMITED, DEVICE_ID).await;
    let tv = client(&app, USER_UNLIMITED, TV).await;
    let q = create(&phone, &play("album", ALBUM)).await;
    let id = qid(&q);
    let url = ptr_str(&q, "/entities/0/mediaMetadata/url").to_owned();
    assert_eq!(app.send(app.http.get(&url)).await.status, 200);

    let r = tv.post(NEW, &play("album", ALBUM)).await;
    assert_v2_error(&r, 429, "MAX_CONCURRENCY_REACHED", "Concurrent stream limit exceeded");
    // The phone's queue was pre-empted: its stream and its navigation are refused, and it is not restored.
    let refused = app.send(app.http.get(&url)).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(
        refused.json(),
        json!({"error": "playback_preempted",
               "message": "Concurrent stream limit exceeded: playback was started on another device"})
    );
    for op in ["current", "next", "view"] {
        let r = nav(&phone, &id, op).await;
        assert_v2_error(
            &r,
            429,
            "MAX_CONCURRENCY_REACHED",
            "Concurrent stream limit exceeded. Playback moved to another device: create a new queue to play here",
        );
    }
    // The tv's retry plays; V1 sees the same account-wide slot.
    let b = qid(&create(&tv, &play("album", ALBUM)).await);
    let v1 = app.music(USER_UNLIMITED).await;
    let sessions = v1.data("/v1/playback/sessions/active").await;
    assert_eq!(sessions["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(sessions["sessions"][0]["sessionId"], b.as_str());
    assert_eq!(sessions["sessions"][0]["deviceId"], TV);
}

#[tokio::test]
async fn loop_and_shuffle_use_v2_modes_and_stations_cannot_loop() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v2 = client(&app, USER_UNLIMITED, DEVICE_ID).await;
    let id = qid(&create(&v2, &play("album", ALBUM)).await);
    let path = format!("{QUEUES}/{id}/loop");
    let looped = json_with(&v2.put(&path, &json!({"loopMode": "LOOP_ALL"})).await, 200);
    assert_eq!(looped["queueState"]["loopMode"], "LOOP_ALL");
    assert_eq!(tracks(&looped), ALBUM_TRACKS, "the answer is the whole queue");
    let r = v2.put(&path, &json!({"loopMode": "LOOP_ON"})).await;
    let message = v2_error_message(&r, 400, "BAD_REQUEST");
    assert!(message.contains("LOOP_ON") && message.contains("LOOP_ALL"), "{message}");
    // Looping, the end of the queue wraps around.
    for _ in 0..2 {
        assert_eq!(nav(&v2, &id, "next").await.status, 200);
    }
    assert_eq!(tracks(&json_with(&nav(&v2, &id, "next?limit=1").await, 200)), [ALBUM_TRACKS[0]]);
    let off = json_with(&v2.put(&path, &json!({"loopMode": "LOOP_OFF"})).await, 200);
    assert_eq!(off["queueState"]["loopMode"], "LOOP_OFF");

    let shuffled =
        json_with(&v2.put(&format!("{QUEUES}/{id}/shuffle"), &json!({"shuffleMode": "SHUFFLE_ON"})).await, 200);
    assert_eq!(shuffled["queueState"]["shuffleMode"], "SHUFFLE_ON");
    assert_eq!(shuffled["queueState"]["position"], 0, "the current entity leads the shuffled order");
    assert_eq!(tracks(&shuffled)[0], ALBUM_TRACKS[0]);

    let mut station = play("track", ALBUM_TRACKS[0]);
    station["playbackOptions"] = json!({"startAsStation": true});
    let s = create(&v2, &station).await;
    assert_eq!(s["queueState"]["isStation"], true);
    let r = v2.put(&format!("{QUEUES}/{}/loop", qid(&s)), &json!({"loopMode": "LOOP_ALL"})).await;
    assert_v2_error(&r, 403, "FORBIDDEN", "Loop is not available for this queue");
}

#[tokio::test]
async fn queueing_next_and_last_edits_the_queue() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v2 = client(&app, USER_UNLIMITED, DEVICE_ID).await;
    let id = qid(&create(&v2, &play("track", ALBUM_TRACKS[0])).await);
    let last = json_with(&v2.post(&format!("{QUEUES}/{id}/last"), &play("track", ALBUM_TRACKS[2])).await, 200);
    assert_eq!(tracks(&last), [ALBUM_TRACKS[0], ALBUM_TRACKS[2]]);
    let next = json_with(&v2.post(&format!("{QUEUES}/{id}/next"), &play("track", ALBUM_TRACKS[1])).await, 200);
    assert_eq!(tracks(&next), ALBUM_TRACKS);
    let r = v2.post(&format!("{QUEUES}/{id}/next"), &play("track", "B0ZZZZZZZZ")).await;
    assert_eq!(v2_error_message(&r, 404, "NOT_FOUND"), "The requested track B0ZZZZZZZZ was not found.");
    let r = v2.post(&format!("{QUEUES}/{id}/last"), &json!({"playParams": {"id": "B076YT2CBT"}})).await;
    assert_eq!(
        v2_error_message(&r, 400, "BAD_REQUEST"),
        "playParams.id must be an MRN such as mrn:1.0:catalog:album:asin:B0064UPU4G; got \"B076YT2CBT\"."
    );
}

#[tokio::test]
async fn events_are_recorded_and_feed_the_history() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v2 = client(&app, USER_UNLIMITED, DEVICE_ID).await;
    let q = create(&v2, &play("album", ALBUM)).await;
    let metric = ptr_str(&q, "/entities/0/metricId").to_owned();
    let start = json!({"metricId": metric, "event": {"type": "start", "clientTimestampInMilliseconds": 1}});
    assert_eq!(json_with(&v2.post("/v2/playback/events", &start).await, 200), json!({"recorded": 1}));
    let batch = json!({"events": [
        {"metricId": metric, "event": {"type": "stop", "clientTimestampInMilliseconds": 2, "terminationReason": "trackFinished"}},
        {"metricId": metric, "event": {"type": "start", "clientTimestampInMilliseconds": 3}}
    ]});
    assert_eq!(json_with(&v2.post("/v2/playback/events/batch", &batch).await, 200), json!({"recorded": 2}));
    let events = app.admin("GET", "/__admin/playback/events", json!({})).await;
    let kinds: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["start", "stop", "start"]);
    assert_eq!(events[0]["sessionId"], qid(&q).as_str());
    let recent = app.music(USER_UNLIMITED).await.data("/v1/player/recentlyPlayed?limit=2").await;
    assert_eq!(node_ids(&recent["user"]["recentTrackPlayback"]), [ALBUM_TRACKS[0], ALBUM_TRACKS[0]]);

    let unknown = json!({"metricId": "nope", "event": {"type": "start", "clientTimestampInMilliseconds": 1}});
    let r = v2.post("/v2/playback/events", &unknown).await;
    assert_v2_error(&r, 404, "NOT_FOUND", "The requested metricId nope was not found.");
    let r = v2.post("/v2/playback/events/batch", &json!({"events": []})).await;
    assert_v2_error(&r, 400, "BAD_REQUEST", "events must hold 1 to 100 events; got 0.");
    let bad = json!({"metricId": metric, "event": {"type": "pause", "clientTimestampInMilliseconds": 1}});
    let r = v2.post("/v2/playback/events", &bad).await;
    assert_v2_error(&r, 400, "BAD_REQUEST", "event.type must be \"start\" or \"stop\"; got \"pause\".");
}

#[tokio::test]
async fn queues_need_music_playback_and_a_device_id() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    let v2 = app.v2(&token);
    let r = v2.post(NEW, &play("album", ALBUM)).await;
    let message = v2_error_message(&r, 403, "FORBIDDEN");
    assert!(message.contains("music::playback"), "{message}");
    let r = app.send(app.http.get(app.url(&format!("{QUEUES}/active"))).bearer_auth(&token)).await;
    let missing = "Missing X-Amzn-Device-Id header: send a stable, unique id of the device (for example a hash of its MAC address).";
    assert_v2_error(&r, 401, "MISSING_DEVICE_ID", missing);
    let r = v2.call("DELETE", NEW, None).await;
    assert_v2_error(&r, 405, "METHOD_NOT_ALLOWED", "DELETE is not supported on this resource.");
}
