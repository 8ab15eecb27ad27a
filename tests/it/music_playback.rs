//! Web Playback V1 (spec `music-api.md` §2.1, §3.4, §4.6, §5.3, §8, §11.2; decisions P1–P20 in
//! `docs/ROUTES.md`): sessions, the playback headers, each tier's actions, the skip budget on the virtual
//! clock, qualities in the signed URLs, queue navigation, modes and queueing, events and history, the
//! concurrency rule and `stream_permit`, the admin views, and an album played through to its end with the
//! audio decoded.

use serde_json::{Value, json};

use amazon_music_mock::test_support::SessionId;
use amazon_music_mock::test_support::stream::{self, Quality};
use amazon_music_mock::test_support::stream_permit;
use amazon_music_mock::test_support::{AppState, Session};
use amazon_music_mock::test_support::{StreamDenied, shuffle_order};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::support::*;

const SESSIONS: &str = "/v1/playback/sessions";
const PHONE: &str = "phone-3f9a07";
const TV: &str = "tv-77c1e2";
const HI_RES: &str = "STD_RES,HI_FI,HI_RES";
/// The docs' example album (`fixtures/catalog.yaml`): three tracks with SD+HD+UHD, SD+HD and SD only.
const ALBUM: &str = "B0064UPU4G";
const ALBUM_TRACKS: [&str; 3] = ["B076YT2CBT", "B076YT2CBV", "B076YT2CBW"];

fn mrn(kind: &str, id: &str) -> String {
    format!("mrn:1.0:catalog:{kind}:asin:{id}")
}

fn play(kind: &str, id: &str) -> Value {
    json!({"playParams": {"id": mrn(kind, id)}})
}

/// `POST /v1/playback/sessions` from `device` (WIDEVINE DRM) with an optional capability header.
async fn create(v1: &V1<'_>, device: &str, caps: Option<&str>, body: &Value) -> Resp {
    let mut headers = vec![("x-amzn-device-id", device), ("x-amzn-audio-drmtype", "WIDEVINE")];
    if let Some(c) = caps {
        headers.push(("x-amzn-audio-device-capability", c));
    }
    v1.call_with("POST", SESSIONS, &headers, Some(body)).await
}

/// A created session's `data`.
async fn start(v1: &V1<'_>, device: &str, caps: Option<&str>, body: &Value) -> Value {
    ok(&create(v1, device, caps, body).await)
}

fn sid(data: &Value) -> String {
    ptr_str(data, "/sessionId").to_owned()
}

/// The track ids of `data.entities`.
fn ids(data: &Value) -> Vec<String> {
    data["entities"].as_array().unwrap().iter().map(|e| ptr_str(e, "/id").to_owned()).collect()
}

/// The `q` of an entity's manifest URL.
fn q(entity: &Value) -> String {
    query_param(ptr_str(entity, "/mediaMetadata/url"), "q").expect("q in the URL")
}

async fn get(v1: &V1<'_>, session: &str, op: &str) -> Resp {
    v1.get(&format!("{SESSIONS}/{session}/{op}")).await
}

async fn event(v1: &V1<'_>, metric: &str, kind: &str, reason: Option<&str>, progress: Option<u32>) -> Resp {
    let mut e = json!({"type": kind, "clientTimestampInMilliseconds": 1_700_000_000_000u64, "deviceTimezone": "UTC"});
    if let Some(r) = reason {
        e["terminationReason"] = json!(r);
    }
    if let Some(p) = progress {
        e["entityProgressSeconds"] = json!(p);
    }
    v1.post("/v1/playback/event", &json!({"metricId": metric, "event": e})).await
}

/// A server whose state the test keeps (store, catalog, stream engine).
async fn app_with_state() -> (TestApp, AppState) {
    app_with_config(amazon_music_mock::ServerConfig::default()).await
}

/// [`app_with_state`] with more configuration (its bind and seed are replaced).
async fn app_with_config(cfg: amazon_music_mock::ServerConfig) -> (TestApp, AppState) {
    let cfg =
        amazon_music_mock::ServerConfig { bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)), seed: Some(1), ..cfg };
    let state = amazon_music_mock::test_support::build_state(&cfg).expect("state");
    (TestApp::spawn_with_state(state.clone()).await, state)
}

/// What the stream routes will ask before serving `url` (default session).
async fn permit(state: &AppState, url: &str) -> Result<(), StreamDenied> {
    let id = SessionId::default_session();
    let session = Session { store: state.store.session(&id), id, prefix: String::new() };
    stream_permit(&session, url.split_once('?').map(|(_, q)| q)).await
}

fn first_url(data: &Value) -> String {
    ptr_str(data, "/entities/0/mediaMetadata/url").to_owned()
}

/// An artist of the generated catalog with at least `n` tracks.
fn artist_with_tracks(n: usize) -> String {
    let cat = catalog();
    cat.artists().iter().find(|a| cat.artist_tracks(a.idx).len() >= n).expect("such an artist").id.as_str().to_owned()
}

// ---- create and its shape ---------------------------------------------------------------------------

#[tokio::test]
async fn a_session_answers_a_window_of_playables_with_signed_dash_urls_bound_to_it() {
    let (app, state) = app_with_state().await;
    app.freeze().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let mut body = play("album", ALBUM);
    body["limit"] = json!(2);
    let data = start(&v1, PHONE, Some(HI_RES), &body).await;
    assert_eq!(keys(&data), ["sessionId", "queueState", "entities"]);
    let session = sid(&data);
    assert!(is_uuid(&session));
    assert_eq!(
        data["queueState"],
        json!({"shuffleMode": "SHUFFLE_OFF", "loopMode": "LOOP_OFF", "playbackContinuationMode": "AUTOPLAY_OFF",
               "isStation": false, "playbackState": "PLAYING", "position": 0, "size": 3})
    );
    assert_eq!(ids(&data), ALBUM_TRACKS[..2]);
    let e = &data["entities"][0];
    assert_eq!(
        keys(e),
        [
            "_type",
            "sessionId",
            "entityReferenceId",
            "metricId",
            "id",
            "asin",
            "title",
            "artists",
            "album",
            "durationSeconds",
            "playParams",
            "mediaMetadata",
            "actions"
        ]
    );
    assert_eq!(e["_type"], "Playable");
    assert_eq!(e["sessionId"], json!(session));
    assert!(is_uuid(ptr_str(e, "/entityReferenceId")) && is_uuid(ptr_str(e, "/metricId")));
    assert_ne!(e["entityReferenceId"], e["metricId"]);
    assert_eq!((e["title"].as_str(), e["durationSeconds"].as_u64()), (Some("Example Track"), Some(215)));
    assert_eq!(e["album"], json!({"id": ALBUM, "title": state.catalog.album(ALBUM).unwrap().title.as_ref()}));
    assert_eq!(e["playParams"], json!({"id": mrn("track", ALBUM_TRACKS[0])}));
    assert_eq!(keys(&e["mediaMetadata"]), ["url", "drmType", "mediaType"]);
    assert_eq!((&e["mediaMetadata"]["drmType"], &e["mediaMetadata"]["mediaType"]), (&json!("NONE"), &json!("DASH")));
    // The URL: this server, the DASH manifest of the track, the qualities and the session bound into the signature.
    let url = first_url(&data);
    let (path, query) = url.split_once('?').unwrap();
    assert_eq!(path, app.url(&format!("/dash/{}/manifest.mpd", ALBUM_TRACKS[0])));
    let now = state.store.session(&SessionId::default_session()).now_ms() / 1000;
    assert!(query.starts_with(&format!("q=SD,HD,UHD&ps={session}&exp={}&sig=", now + 300)), "{query}");
    assert_eq!(stream::verify(&stream::dash_dir(ALBUM_TRACKS[0]), Some(query), now, &state.streams.key), Ok(now + 300));
    assert_eq!(permit(&state, &url).await, Ok(()));
    // The default window is 5 (here: the whole three-track album); also served without /v1.
    let r =
        v1.call_with("POST", "/playback/sessions", &[("x-amzn-device-id", PHONE)], Some(&play("album", ALBUM))).await;
    assert_eq!(ids(&ok(&r)), ALBUM_TRACKS);
}

#[tokio::test]
async fn free_and_prime_get_sd_only_and_unlimited_gets_what_the_device_can_play() {
    let app = TestApp::spawn().await;
    let qualities = async |user: &str, caps: Option<&str>| {
        let v1 = app.music(user).await;
        let data = start(&v1, PHONE, caps, &play("album", ALBUM)).await;
        data["entities"].as_array().unwrap().iter().map(q).collect::<Vec<_>>()
    };
    assert_eq!(qualities(USER_UNLIMITED, Some(HI_RES)).await, ["SD,HD,UHD", "SD,HD", "SD"]);
    assert_eq!(qualities(USER_UNLIMITED, Some("HI_FI")).await, ["SD,HD", "SD,HD", "SD"]);
    assert_eq!(qualities(USER_UNLIMITED, Some("STD_RES")).await, ["SD", "SD", "SD"]);
    assert_eq!(qualities(USER_UNLIMITED, None).await, ["SD", "SD", "SD"]);
    assert_eq!(qualities(USER_PRIME, Some(HI_RES)).await, ["SD", "SD", "SD"]);
    assert_eq!(qualities(USER_FREE, Some(HI_RES)).await, ["SD", "SD", "SD"]);
}

#[tokio::test]
async fn each_playback_header_error_is_a_400_naming_the_header() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let body = play("album", ALBUM);
    let call = async |headers: &[(&str, &str)]| v1.call_with("POST", SESSIONS, headers, Some(&body)).await;
    let missing =
        format!("{MALFORMED} X-Amzn-Device-Id is required for playback: send a stable, unique id of the device.");
    assert_v1_error(&call(&[]).await, 400, "BAD_REQUEST", &missing);
    assert_v1_error(&call(&[("x-amzn-device-id", " ")]).await, 400, "BAD_REQUEST", &missing);
    let long = "d".repeat(257);
    assert_v1_error(
        &call(&[("x-amzn-device-id", &long)]).await,
        400,
        "BAD_REQUEST",
        &format!("{MALFORMED} X-Amzn-Device-Id must be at most 256 characters."),
    );
    assert_v1_error(
        &call(&[("x-amzn-device-id", PHONE), ("x-amzn-audio-drmtype", "PLAYREADY")]).await,
        400,
        "BAD_REQUEST",
        &format!(
            "{MALFORMED} X-Amzn-Audio-DRMType \"PLAYREADY\" is not supported: the only supported value is WIDEVINE."
        ),
    );
    assert_v1_error(
        &call(&[("x-amzn-device-id", PHONE), ("x-amzn-audio-device-capability", "HI_FI,LOSSLESS")]).await,
        400,
        "BAD_REQUEST",
        &format!(
            "{MALFORMED} unknown X-Amzn-Audio-Device-Capability value \"LOSSLESS\": expected STD_RES, HI_FI, HI_RES or THREE_DIMENSIONAL."
        ),
    );
    // Absent DRM type and capability are fine (the mock's streams are clear; no capability means SD), and
    // values are read in any case.
    assert_eq!(call(&[("x-amzn-device-id", PHONE)]).await.status, 200);
    let r = call(&[
        ("x-amzn-device-id", PHONE),
        ("x-amzn-audio-drmtype", "widevine"),
        ("x-amzn-audio-device-capability", "hi_res"),
    ])
    .await;
    assert_eq!(q(&ok(&r)["entities"][0]), "SD,HD,UHD");
    // Restore checks the same headers.
    let session = sid(&ok(&r));
    let r = v1.call_with("POST", &format!("{SESSIONS}/{session}/restore"), &[], None).await;
    assert_v1_error(&r, 400, "BAD_REQUEST", &missing);
}

#[tokio::test]
async fn bad_bodies_are_400_and_unknown_entities_404() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let bad = |detail: &str| format!("{MALFORMED} {detail}");
    let expect = async |body: Value, status: u16, code: &str, message: &str| {
        assert_v1_error(&create(&v1, PHONE, None, &body).await, status, code, message);
    };
    let msg = v1_error_message(&create(&v1, PHONE, None, &json!({})).await, 400, "BAD_REQUEST");
    assert!(msg.starts_with(&bad("Invalid JSON body: missing field `playParams`")), "{msg}");
    let r = v1.call_with("POST", SESSIONS, &[("x-amzn-device-id", PHONE)], None).await;
    assert_v1_error(&r, 400, "BAD_REQUEST", &bad("A JSON body is required."));
    for id in ["B076YT2CBT", "mrn:1.0:catalog:song:asin:B076YT2CBT", "mrn:1.0:catalog:track:asin:"] {
        expect(
            json!({"playParams": {"id": id}}),
            400,
            "BAD_REQUEST",
            &bad(&format!("playParams.id must be an MRN such as mrn:1.0:catalog:album:asin:B0064UPU4G; got {id:?}.")),
        )
        .await;
    }
    let episode = mrn("podcastEpisode", &episode_id(0));
    expect(
        json!({"playParams": {"id": episode}}),
        400,
        "BAD_REQUEST",
        &bad(&format!(
            "playParams.id {episode} is a podcast; playback sessions play tracks, albums, playlists and artists."
        )),
    )
    .await;
    for limit in [0, 12, -1] {
        let mut b = play("album", ALBUM);
        b["limit"] = json!(limit);
        expect(b, 400, "BAD_REQUEST", &bad("limit must be an integer from 1 to 11.")).await;
    }
    let mut b = play("album", ALBUM);
    b["playbackOptions"] = json!({"shuffleMode": "SHUFFLE"});
    let msg = v1_error_message(&create(&v1, PHONE, None, &b).await, 400, "BAD_REQUEST");
    assert!(msg.contains("unknown variant `SHUFFLE`, expected `SHUFFLE_ON` or `SHUFFLE_OFF`"), "{msg}");
    let mut b = play("album", ALBUM);
    b["playbackOptions"] = json!({"repeat": true});
    let msg = v1_error_message(&create(&v1, PHONE, None, &b).await, 400, "BAD_REQUEST");
    assert!(msg.contains("unknown field `repeat`"), "{msg}");
    // Unknown entities are 404, containers included; a track outside its container is 400.
    expect(play("album", "B000000000"), 404, "RESOURCE_NOT_FOUND", "The requested album B000000000 was not found.")
        .await;
    expect(play("track", "B000000000"), 404, "RESOURCE_NOT_FOUND", "The requested track B000000000 was not found.")
        .await;
    let uuid = "15e6a15f-4c2f-4b24-a2fd-286b37ad4fa3";
    expect(play("playlist", uuid), 404, "RESOURCE_NOT_FOUND", &format!("The requested playlist {uuid} was not found."))
        .await;
    let body =
        json!({"playParams": {"id": mrn("track", ALBUM_TRACKS[0]), "containerIds": [mrn("album", "B000000000")]}});
    expect(body, 404, "RESOURCE_NOT_FOUND", "The requested album B000000000 was not found.").await;
    let body = json!({"playParams": {"id": mrn("track", &track_id(0)), "containerIds": [mrn("album", ALBUM)]}});
    expect(body, 400, "BAD_REQUEST", &bad(&format!("Track {} is not in container {ALBUM}.", track_id(0)))).await;
    let body =
        json!({"playParams": {"id": mrn("track", ALBUM_TRACKS[0]), "containerIds": [mrn("track", ALBUM_TRACKS[1])]}});
    expect(
        body,
        400,
        "BAD_REQUEST",
        &bad("playParams.containerIds[0] is a track; a container is an album, playlist or artist."),
    )
    .await;
}

#[tokio::test]
async fn tracks_play_from_their_container_and_every_kind_of_mrn_resolves() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let body = json!({"playParams": {"id": mrn("track", ALBUM_TRACKS[1]), "containerIds": [mrn("album", ALBUM)]}});
    let data = start(&v1, PHONE, None, &body).await;
    assert_eq!(ids(&data), ALBUM_TRACKS[1..]);
    assert_eq!((&data["queueState"]["position"], &data["queueState"]["size"]), (&json!(1), &json!(3)));
    assert_eq!(ids(&ok(&get(&v1, &sid(&data), "previous").await)), ALBUM_TRACKS);
    // A single track; an artist (most popular first); a catalog playlist; the customer's own playlist.
    let data = start(&v1, PHONE, None, &play("track", &track_id(5))).await;
    assert_eq!((ids(&data), &data["queueState"]["size"]), (vec![track_id(5)], &json!(1)));
    let artist = artist_with_tracks(3);
    let idx = catalog().artist(&artist).unwrap().idx;
    let want: Vec<String> = catalog()
        .artist_tracks(idx)
        .iter()
        .take(5)
        .map(|t| catalog().tracks()[t.get()].id.as_str().to_owned())
        .collect();
    assert_eq!(ids(&start(&v1, PHONE, None, &play("artist", &artist)).await), want);
    let pl = &catalog().playlists()[0];
    let want: Vec<String> =
        pl.tracks.iter().take(5).map(|t| catalog().tracks()[t.get()].id.as_str().to_owned()).collect();
    assert_eq!(ids(&start(&v1, PHONE, None, &play("playlist", pl.id.as_str())).await), want);
    let mine = ptr_str(&v1.data("/v1/me/playlists").await, "/user/playlists/edges/0/node/id").to_owned();
    let tracks = v1.data(&format!("/v1/playlists/{mine}/tracks?limit=5")).await;
    let want = node_ids(&tracks["playlist"]["tracks"]);
    assert_eq!(ids(&start(&v1, PHONE, None, &play("playlist", &mine)).await), want);
}

// ---- tiers, actions, skips --------------------------------------------------------------------------

#[tokio::test]
async fn each_tier_gets_its_actions() {
    let app = TestApp::spawn().await;
    let allowed = json!({"isAllowed": true});
    let need = |d: &str| json!({"isAllowed": false, "disableType": d});
    let unlimited_catalog = need("NEED_AMAZON_MUSIC_UNLIMITED_CATALOG_ACCESS");
    let cases = [
        (
            USER_UNLIMITED,
            json!({"next": allowed, "previous": allowed, "scrubForward": allowed, "scrubBackward": allowed,
                   "loopAll": allowed, "shuffle": allowed}),
        ),
        (
            USER_PRIME,
            json!({"next": {"isAllowed": true, "remainingSkips": 6}, "previous": allowed, "scrubForward": allowed,
                   "scrubBackward": allowed, "loopAll": allowed, "shuffle": allowed}),
        ),
        (
            USER_FREE,
            json!({"next": {"isAllowed": true, "remainingSkips": 6}, "previous": unlimited_catalog,
                   "scrubForward": unlimited_catalog, "scrubBackward": unlimited_catalog, "loopAll": unlimited_catalog,
                   "shuffle": need("NEED_AMAZON_MUSIC_SUBSCRIPTION_TO_SHUFFLE_NON_STATION")}),
        ),
    ];
    for (user, want) in cases {
        let v1 = app.music(user).await;
        let data = start(&v1, PHONE, None, &play("album", ALBUM)).await;
        for e in data["entities"].as_array().unwrap() {
            assert_eq!(serde_json::to_string(&e["actions"]).unwrap(), serde_json::to_string(&want).unwrap(), "{user}");
        }
        // A station: loop and shuffle are not available, whatever the tier.
        let mut body = play("album", ALBUM);
        body["playbackOptions"] = json!({"startAsStation": true});
        let data = start(&v1, PHONE, None, &body).await;
        assert_eq!(data["entities"][0]["actions"]["loopAll"], need("FEATURE_NOT_AVAILABLE"), "{user}");
        assert_eq!(data["entities"][0]["actions"]["shuffle"], need("FEATURE_NOT_AVAILABLE"), "{user}");
    }
}

#[tokio::test]
async fn prime_skips_run_out_after_six_and_refill_after_sixty_virtual_minutes() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v1 = app.music(USER_PRIME).await;
    let data = start(&v1, PHONE, None, &play("artist", &artist_with_tracks(12))).await;
    let session = sid(&data);
    let all = ids(&ok(&get(&v1, &session, "queue").await));
    for left in (0..6).rev() {
        let data = ok(&get(&v1, &session, "next?limit=1").await);
        let want = match left {
            0 => json!({"isAllowed": false, "disableType": "NO_MORE_SKIPS", "remainingSkips": 0}),
            n => json!({"isAllowed": true, "remainingSkips": n}),
        };
        assert_eq!(data["entities"][0]["actions"]["next"], want);
        assert_eq!(ids(&data), [all[6 - left].clone()]);
    }
    let r = get(&v1, &session, "next").await;
    assert_v1_error(
        &r,
        403,
        "NO_MORE_SKIPS",
        "No more skips are allowed right now: the skip limit refills 60 minutes after the first skip.",
    );
    let data = ok(&get(&v1, &session, "current").await);
    assert_eq!(ids(&data), [all[6].clone()], "the refused skip moved nothing");
    assert_eq!(
        data["entities"][0]["actions"]["next"],
        json!({"isAllowed": false, "disableType": "NO_MORE_SKIPS", "remainingSkips": 0})
    );
    // A track reported as played to its end is not a skip.
    let metric = ptr_str(&data, "/entities/0/metricId").to_owned();
    assert_eq!(event(&v1, &metric, "stop", Some("trackFinished"), None).await.status, 200);
    assert_eq!(ids(&ok(&get(&v1, &session, "next?limit=1").await)), [all[7].clone()]);
    // 59:59 later still none; at 60:00 the budget is full again.
    app.advance(3599).await;
    assert_eq!(get(&v1, &session, "next").await.status, 403);
    let v1 = app.music(USER_PRIME).await; // the first token expires at 60:00 too
    app.advance(1).await;
    let data = ok(&get(&v1, &session, "current").await);
    assert_eq!(data["entities"][0]["actions"]["next"], json!({"isAllowed": true, "remainingSkips": 6}));
    let data = ok(&get(&v1, &session, "next?limit=1").await);
    assert_eq!(ids(&data), [all[8].clone()]);
    assert_eq!(data["entities"][0]["actions"]["next"], json!({"isAllowed": true, "remainingSkips": 5}));
    // The budget is the customer's: a new session does not reset it.
    let data = start(&v1, PHONE, None, &play("album", ALBUM)).await;
    assert_eq!(data["entities"][0]["actions"]["next"]["remainingSkips"], 5);
}

#[tokio::test]
async fn free_customers_are_refused_previous_loop_shuffle_and_queueing_with_the_disable_type() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_FREE).await;
    let mut body = play("album", ALBUM);
    body["playbackOptions"] = json!({"shuffleMode": "SHUFFLE_ON"});
    let shuffle = "Shuffling a queue that is not a station needs an Amazon Music subscription.";
    let code = "NEED_AMAZON_MUSIC_SUBSCRIPTION_TO_SHUFFLE_NON_STATION";
    assert_v1_error(&create(&v1, PHONE, None, &body).await, 403, code, shuffle);
    let session = sid(&start(&v1, PHONE, None, &play("album", ALBUM)).await);
    assert_eq!(get(&v1, &session, "next").await.status, 200);
    let need = "NEED_AMAZON_MUSIC_UNLIMITED_CATALOG_ACCESS";
    assert_v1_error(
        &get(&v1, &session, "previous").await,
        403,
        need,
        "Going back to the previous track needs Amazon Music Unlimited.",
    );
    let path = |op: &str| format!("{SESSIONS}/{session}/{op}");
    assert_v1_error(
        &v1.put(&path("loop"), &json!({"loopMode": "LOOP_ON"})).await,
        403,
        need,
        "Loop needs Amazon Music Unlimited.",
    );
    assert_v1_error(&v1.put(&path("shuffle"), &json!({"shuffleMode": "SHUFFLE_ON"})).await, 403, code, shuffle);
    assert_v1_error(
        &v1.post(&path("next"), &play("track", &track_id(1))).await,
        403,
        need,
        "Queueing tracks needs Amazon Music Unlimited.",
    );
    // Turning a mode off is always allowed; a catalog playlist plays on demand only for its tiers.
    assert_eq!(v1.put(&path("loop"), &json!({"loopMode": "LOOP_OFF"})).await.status, 200);
    let pl = catalog().playlists()[0].id.as_str().to_owned();
    let msg = v1_error_message(&create(&v1, PHONE, None, &play("playlist", &pl)).await, 403, need);
    assert!(msg.starts_with(&format!("Playing playlist {pl} on demand needs ")), "{msg}");
    let mut body = play("playlist", &pl);
    body["playbackOptions"] = json!({"startAsStation": true});
    assert_eq!(create(&v1, PHONE, None, &body).await.status, 200);
}

// ---- navigation, modes, queueing --------------------------------------------------------------------

#[tokio::test]
async fn navigation_ends_with_no_more_next_or_previous_and_loop_wraps() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let session = sid(&start(&v1, PHONE, None, &play("album", ALBUM)).await);
    assert_v1_error(
        &get(&v1, &session, "previous").await,
        404,
        "NO_MORE_PREVIOUS_ENTITY",
        "There is no previous entity: this is the start of the queue.",
    );
    assert_eq!(ids(&ok(&get(&v1, &session, "next").await)), ALBUM_TRACKS[1..]);
    let data = ok(&get(&v1, &session, "next?limit=1").await);
    assert_eq!((ids(&data), &data["queueState"]["position"]), (vec![ALBUM_TRACKS[2].to_owned()], &json!(2)));
    assert_v1_error(
        &get(&v1, &session, "next").await,
        404,
        "NO_MORE_NEXT_ENTITY",
        "There is no next entity: the end of the queue was reached.",
    );
    assert_eq!(ids(&ok(&get(&v1, &session, "current").await)), [ALBUM_TRACKS[2]]);
    for bad in ["0", "12", "x"] {
        assert_v1_error(
            &get(&v1, &session, &format!("next?limit={bad}")).await,
            400,
            "BAD_REQUEST",
            &format!("{MALFORMED} limit must be an integer from 1 to 11."),
        );
    }
    // Loop on: the window wraps and next goes round.
    let data = ok(&v1.put(&format!("{SESSIONS}/{session}/loop"), &json!({"loopMode": "LOOP_ON"})).await);
    assert_eq!(data["queueState"]["loopMode"], "LOOP_ON");
    assert_eq!(ids(&data), ALBUM_TRACKS, "the queue view lists every entity in play order");
    assert_eq!(ids(&ok(&get(&v1, &session, "current").await)), [ALBUM_TRACKS[2]]);
    let data = ok(&get(&v1, &session, "next?limit=4").await);
    assert_eq!(ids(&data), ALBUM_TRACKS, "a looping window stops at the queue's length");
    assert_eq!(ids(&ok(&get(&v1, &session, "previous?limit=2").await)), [ALBUM_TRACKS[2], ALBUM_TRACKS[0]]);
    // Unknown and other customers' sessions are 404.
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert_v1_error(
        &get(&v1, unknown, "current").await,
        404,
        "RESOURCE_NOT_FOUND",
        &format!("The requested playback session {unknown} was not found."),
    );
    let prime = app.music(USER_PRIME).await;
    assert_eq!(get(&prime, &session, "current").await.status, 404);
    let r = v1.put(&format!("{SESSIONS}/{session}/loop"), &json!({"loopMode": "ON"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(v1.delete(&format!("{SESSIONS}/{session}/loop"), None).await.status, 405);
}

#[tokio::test]
async fn shuffle_follows_the_session_id_and_off_returns_to_queue_order() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let artist = artist_with_tracks(10);
    let queue = ids(&ok(&get(&v1, &sid(&start(&v1, PHONE, None, &play("artist", &artist)).await), "queue").await));
    let mut body = play("artist", &artist);
    body["playbackOptions"] = json!({"shuffleMode": "SHUFFLE_ON", "loopMode": "LOOP_ON"});
    let data = start(&v1, PHONE, None, &body).await;
    let session = sid(&data);
    let want: Vec<String> = shuffle_order(&session, queue.len(), None).into_iter().map(|i| queue[i].clone()).collect();
    assert_eq!(data["queueState"]["shuffleMode"], "SHUFFLE_ON");
    assert_eq!(ids(&ok(&get(&v1, &session, "queue").await)), want);
    assert_ne!(want, queue);
    // Off: queue order, still on the same entity; on again: that entity first, the rest in the session's order.
    ok(&get(&v1, &session, "next").await);
    let path = format!("{SESSIONS}/{session}/shuffle");
    let data = ok(&v1.put(&path, &json!({"shuffleMode": "SHUFFLE_OFF"})).await);
    assert_eq!(ids(&data), queue);
    let at = queue.iter().position(|t| *t == want[1]).unwrap();
    assert_eq!(data["queueState"]["position"], json!(at));
    let data = ok(&v1.put(&path, &json!({"shuffleMode": "SHUFFLE_ON"})).await);
    let again: Vec<String> =
        shuffle_order(&session, queue.len(), Some(at)).into_iter().map(|i| queue[i].clone()).collect();
    assert_eq!((ids(&data), &data["queueState"]["position"]), (again, &json!(0)));
}

#[tokio::test]
async fn queued_tracks_play_next_or_last() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_PRIME).await;
    let session = sid(&start(&v1, PHONE, None, &play("album", ALBUM)).await);
    let path = |op: &str| format!("{SESSIONS}/{session}/{op}");
    let data = ok(&v1.post(&path("last"), &play("track", &track_id(1))).await);
    assert_eq!(ids(&data), [ALBUM_TRACKS[0], ALBUM_TRACKS[1], ALBUM_TRACKS[2], &track_id(1)]);
    let data = ok(&v1.post(&path("next"), &play("album", ALBUM)).await);
    let mut want: Vec<String> = ALBUM_TRACKS.iter().map(|t| t.to_string()).collect();
    want.splice(1..1, ALBUM_TRACKS.iter().map(|t| t.to_string()));
    want.push(track_id(1));
    assert_eq!(ids(&data), want);
    // Every entity has its own reference and metric ids, a track queued twice too.
    let refs: std::collections::HashSet<&str> =
        data["entities"].as_array().unwrap().iter().map(|e| ptr_str(e, "/entityReferenceId")).collect();
    assert_eq!(refs.len(), 7);
    assert_eq!(ids(&ok(&get(&v1, &session, "next?limit=2").await)), want[1..3]);
    let r = v1.post(&path("next"), &play("track", "B000000000")).await;
    assert_v1_error(&r, 404, "RESOURCE_NOT_FOUND", "The requested track B000000000 was not found.");
    let r = v1.post(&path("last"), &json!({"playParams": {"id": mrn("album", ALBUM), "containerIds": []}})).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn stations_wrap_around_and_refuse_loop_with_the_documented_message() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let mut body = json!({"playParams": {"id": mrn("track", ALBUM_TRACKS[0])}, "limit": 11});
    body["playbackOptions"] = json!({"startAsStation": true, "shuffleMode": "SHUFFLE_ON"});
    let data = start(&v1, PHONE, None, &body).await;
    let session = sid(&data);
    assert_eq!(data["queueState"]["isStation"], true);
    assert_eq!(data["queueState"]["shuffleMode"], "SHUFFLE_OFF", "startAsStation overrides shuffle");
    assert_eq!(ids(&data)[0], ALBUM_TRACKS[0], "a station from a track starts with it");
    let size = data["queueState"]["size"].as_u64().unwrap() as usize;
    assert!(size > 5, "a station has more than the seed: {size}");
    for _ in 0..size {
        ok(&get(&v1, &session, "next").await);
    }
    assert_eq!(ids(&ok(&get(&v1, &session, "current").await)), [ALBUM_TRACKS[0]], "it went round");
    let r = v1.put(&format!("{SESSIONS}/{session}/loop"), &json!({"loopMode": "LOOP_ON"})).await;
    assert_v1_error(&r, 403, "FEATURE_NOT_AVAILABLE", "Loop is not available for this queue");
    let r = v1.put(&format!("{SESSIONS}/{session}/shuffle"), &json!({"shuffleMode": "SHUFFLE_ON"})).await;
    assert_v1_error(&r, 403, "FEATURE_NOT_AVAILABLE", "Shuffle is not available for this queue");
    let r = v1.post(&format!("{SESSIONS}/{session}/last"), &play("track", &track_id(1))).await;
    assert_v1_error(&r, 403, "FEATURE_NOT_AVAILABLE", "Queueing tracks is not available for this queue");
    body["playbackOptions"] = json!({"startAsStation": true, "loopMode": "LOOP_ON"});
    assert_v1_error(
        &create(&v1, PHONE, None, &body).await,
        403,
        "FEATURE_NOT_AVAILABLE",
        "Loop is not available for this queue",
    );
}

#[tokio::test]
async fn autoplay_continues_past_the_end_of_the_queue() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let mut body = play("track", ALBUM_TRACKS[2]);
    body["playbackOptions"] = json!({"playbackContinuationMode": "AUTOPLAY_ON"});
    let data = start(&v1, PHONE, None, &body).await;
    assert_eq!(data["queueState"]["playbackContinuationMode"], "AUTOPLAY_ON");
    let data = ok(&get(&v1, &sid(&data), "next").await);
    assert_ne!(ids(&data)[0], ALBUM_TRACKS[2]);
    assert!(data["queueState"]["size"].as_u64().unwrap() > 1);
}

// ---- events and history -----------------------------------------------------------------------------

#[tokio::test]
async fn events_are_recorded_shown_to_admin_and_a_start_adds_to_the_history() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let data = start(&v1, PHONE, None, &play("album", ALBUM)).await;
    let session = sid(&data);
    let metric = ptr_str(&data, "/entities/0/metricId").to_owned();
    let r = event(&v1, &metric, "start", None, None).await;
    assert_eq!(ok(&r), json!({"recorded": 1}));
    let recent = v1.data("/v1/player/recentlyPlayed?limit=1").await;
    assert_eq!(node_ids(&recent["user"]["recentTrackPlayback"]), [ALBUM_TRACKS[0]]);
    let batch = json!({"events": [
        {"metricId": metric, "event": {"type": "stop", "clientTimestampInMilliseconds": 2, "terminationReason": "userPause",
                                       "entityProgressSeconds": 30, "rebufferCount": 0, "customField": "kept"}},
        {"metricId": metric, "event": {"type": "start", "clientTimestampInMilliseconds": 3}}
    ]});
    assert_eq!(ok(&v1.post("/v1/playback/events", &batch).await), json!({"recorded": 2}));
    let events = app.admin("GET", "/__admin/playback/events", json!({})).await;
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 3);
    let e = &events[1];
    assert_eq!(
        keys(e),
        [
            "seq",
            "receivedAtMs",
            "user",
            "sessionId",
            "deviceId",
            "metricId",
            "entityReferenceId",
            "trackId",
            "type",
            "clientTimestampInMilliseconds",
            "terminationReason",
            "terminal",
            "event"
        ]
    );
    assert_eq!(
        (&e["seq"], &e["user"], &e["sessionId"], &e["deviceId"], &e["trackId"], &e["type"], &e["terminationReason"]),
        (
            &json!(2),
            &json!(USER_UNLIMITED),
            &json!(session),
            &json!(PHONE),
            &json!(ALBUM_TRACKS[0]),
            &json!("stop"),
            &json!("userPause")
        )
    );
    assert_eq!(e["event"]["customField"], "kept");
    assert_eq!(e["entityReferenceId"], data["entities"][0]["entityReferenceId"]);
    assert_eq!(events.iter().map(|e| e["type"].as_str().unwrap()).collect::<Vec<_>>(), ["start", "stop", "start"]);
    // Two starts, two plays.
    let recent = v1.data("/v1/player/recentlyPlayed?limit=2").await;
    assert_eq!(node_ids(&recent["user"]["recentTrackPlayback"]), [ALBUM_TRACKS[0], ALBUM_TRACKS[0]]);
}

#[tokio::test]
async fn bad_events_are_400_unknown_metric_ids_404_and_batches_all_or_nothing() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let data = start(&v1, PHONE, None, &play("album", ALBUM)).await;
    let metric = ptr_str(&data, "/entities/0/metricId").to_owned();
    let bad = |d: &str| format!("{MALFORMED} {d}");
    let single = async |event: Value| v1.post("/v1/playback/event", &json!({"metricId": metric, "event": event})).await;
    assert_v1_error(
        &single(json!({"type": "pause", "clientTimestampInMilliseconds": 1})).await,
        400,
        "BAD_REQUEST",
        &bad("event.type must be \"start\" or \"stop\"; got \"pause\"."),
    );
    assert_v1_error(
        &single(json!({"clientTimestampInMilliseconds": 1})).await,
        400,
        "BAD_REQUEST",
        &bad("event.type must be \"start\" or \"stop\"; got nothing."),
    );
    assert_v1_error(
        &single(json!({"type": "start"})).await,
        400,
        "BAD_REQUEST",
        &bad("event.clientTimestampInMilliseconds is required: epoch milliseconds on the device."),
    );
    assert_v1_error(
        &single(json!({"type": "stop", "clientTimestampInMilliseconds": 1, "entityProgressSeconds": "ten"})).await,
        400,
        "BAD_REQUEST",
        &bad("event.entityProgressSeconds must be a number of at least 0."),
    );
    assert_v1_error(
        &single(json!({"type": "stop", "clientTimestampInMilliseconds": 1, "terminationReason": 3})).await,
        400,
        "BAD_REQUEST",
        &bad("event.terminationReason must be a string."),
    );
    let r = v1
        .post(
            "/v1/playback/event",
            &json!({"metricId": "nope", "event": {"type": "start", "clientTimestampInMilliseconds": 1}}),
        )
        .await;
    assert_v1_error(&r, 404, "RESOURCE_NOT_FOUND", "The requested metricId nope was not found.");
    let start_of = |m: &str| json!({"metricId": m, "event": {"type": "start", "clientTimestampInMilliseconds": 1}});
    let r = v1.post("/v1/playback/events", &json!({"events": [start_of(&metric), start_of("nope")]})).await;
    assert_v1_error(&r, 404, "RESOURCE_NOT_FOUND", "The requested metricId nope was not found.");
    let r = v1
        .post("/v1/playback/events", &json!({"events": [start_of(&metric), {"metricId": metric, "event": {}}]}))
        .await;
    assert_v1_error(&r, 400, "BAD_REQUEST", &bad("events[1]: event.type must be \"start\" or \"stop\"; got nothing."));
    assert_v1_error(
        &v1.post("/v1/playback/events", &json!({"events": []})).await,
        400,
        "BAD_REQUEST",
        &bad("events must hold 1 to 100 events; got 0."),
    );
    let many: Vec<Value> = (0..101).map(|_| start_of(&metric)).collect();
    assert_eq!(v1.post("/v1/playback/events", &json!({"events": many})).await.status, 400);
    assert_eq!(app.admin("GET", "/__admin/playback/events", json!({})).await, json!([]), "nothing was recorded");
    // Another customer's metric ids are unknown to them.
    let prime = app.music(USER_PRIME).await;
    assert_eq!(prime.post("/v1/playback/event", &start_of(&metric)).await.status, 404);
}

// ---- concurrency ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_second_device_gets_429_and_the_first_devices_streams_are_refused() {
    let (app, state) = app_with_state().await;
    app.freeze().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let phone = start(&v1, PHONE, None, &play("album", ALBUM)).await;
    let phone_url = first_url(&phone);
    assert_eq!(permit(&state, &phone_url).await, Ok(()));
    assert_eq!(app.send(app.http.get(&phone_url)).await.status, 200);
    let r = create(&v1, TV, None, &play("album", ALBUM)).await;
    assert_v1_error(
        &r,
        429,
        "MAX_CONCURRENCY_REACHED",
        "Concurrent stream limit exceeded. The customer is already playing on another device; playback there has been stopped, so a retry plays here.",
    );
    assert_eq!(permit(&state, &phone_url).await, Err(StreamDenied::Preempted));
    // Over HTTP, the phone's next stream request is refused by the stream routes.
    let r = app.send(app.http.get(&phone_url)).await;
    assert_eq!(
        (r.status, r.header("content-type"), r.header("x-amm-mock")),
        (403, Some("application/json"), Some("stream"))
    );
    assert_eq!(
        r.json(),
        json!({"error": "playback_preempted", "message": "Concurrent stream limit exceeded: playback was started on another device"})
    );
    let session = sid(&phone);
    let data = ok(&get(&v1, &session, "current").await);
    assert_eq!(data["queueState"]["playbackState"], "PREEMPTED");
    assert_v1_error(
        &get(&v1, &session, "next").await,
        429,
        "MAX_CONCURRENCY_REACHED",
        &format!(
            "Concurrent stream limit exceeded. Playback moved to another device; POST /v1/playback/sessions/{session}/restore to play here again."
        ),
    );
    // The retry plays on the tv; the phone restores and the tv is refused in turn.
    let tv = start(&v1, TV, None, &play("album", ALBUM)).await;
    assert_eq!(permit(&state, &first_url(&tv)).await, Ok(()));
    let restore = |device: &'static str| {
        let v1 = &v1;
        let session = session.clone();
        async move {
            v1.call_with(
                "POST",
                &format!("{SESSIONS}/{session}/restore?limit=1"),
                &[("x-amzn-device-id", device)],
                None,
            )
            .await
        }
    };
    assert_eq!(restore(PHONE).await.status, 429);
    assert_eq!(permit(&state, &first_url(&tv)).await, Err(StreamDenied::Preempted));
    let data = ok(&restore(PHONE).await);
    assert_eq!((data["queueState"]["playbackState"].as_str(), ids(&data).len()), (Some("PLAYING"), 1));
    assert_eq!(permit(&state, &phone_url).await, Ok(()), "URLs minted before still name the session");
    // Another customer is not affected.
    let prime = app.music(USER_PRIME).await;
    assert_eq!(create(&prime, TV, None, &play("album", ALBUM)).await.status, 200);
    // A URL without a playback session is not the concurrency rule's business; an unknown one is refused.
    assert_eq!(permit(&state, "http://h/dash/B076YT2CBT/manifest.mpd?q=SD&exp=1&sig=x").await, Ok(()));
    let unknown = "http://h/dash/B076YT2CBT/manifest.mpd?q=SD&ps=00000000-0000-4000-8000-000000000000&exp=1&sig=x";
    assert_eq!(permit(&state, unknown).await, Err(StreamDenied::Unknown));
}

#[tokio::test]
async fn the_same_device_recreating_replaces_its_session_and_two_slots_hold_two_devices() {
    let (app, state) = app_with_state().await;
    app.freeze().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let first = start(&v1, PHONE, None, &play("album", ALBUM)).await;
    let second = start(&v1, PHONE, None, &play("track", ALBUM_TRACKS[1])).await;
    assert_eq!(permit(&state, &first_url(&first)).await, Err(StreamDenied::Ended));
    assert_eq!(permit(&state, &first_url(&second)).await, Ok(()));
    assert_eq!(ok(&get(&v1, &sid(&first), "current").await)["queueState"]["playbackState"], "REPLACED");
    app.settings("", json!({"playback_max_sessions": 2})).await;
    app.advance(1).await;
    let tv = start(&v1, TV, None, &play("album", ALBUM)).await;
    let active = v1.data(&format!("{SESSIONS}/active")).await;
    let devices: Vec<&str> = active["sessions"].as_array().unwrap().iter().map(|s| ptr_str(s, "/deviceId")).collect();
    assert_eq!(devices, [PHONE, TV]);
    // A third device conflicts; the least recently active (the phone: the tv was created later) is pre-empted.
    assert_eq!(create(&v1, "car-0001", None, &play("album", ALBUM)).await.status, 429);
    assert_eq!(permit(&state, &first_url(&second)).await, Err(StreamDenied::Preempted));
    assert_eq!(permit(&state, &first_url(&tv)).await, Ok(()));
    assert_eq!(create(&v1, "car-0001", None, &play("album", ALBUM)).await.status, 200);
}

#[tokio::test]
async fn idle_sessions_and_terminal_stops_give_the_slot_up() {
    let (app, state) = app_with_state().await;
    app.freeze().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let phone = start(&v1, PHONE, None, &play("album", ALBUM)).await;
    // A stream request is activity: 9 minutes, a stream, 9 more minutes: still active.
    app.advance(540).await;
    assert_eq!(permit(&state, &first_url(&phone)).await, Ok(()));
    app.advance(540).await;
    assert_eq!(create(&v1, TV, None, &play("album", ALBUM)).await.status, 429, "still holds the slot");
    // (The conflict pre-empted the phone; restore it, then leave it idle for the full 10 minutes.)
    let r = v1
        .call_with("POST", &format!("{SESSIONS}/{}/restore", sid(&phone)), &[("x-amzn-device-id", PHONE)], None)
        .await;
    assert_eq!(r.status, 200);
    app.advance(600).await;
    assert_eq!(ok(&get(&v1, &sid(&phone), "current").await)["queueState"]["playbackState"], "EXPIRED");
    assert_eq!(permit(&state, &first_url(&phone)).await, Err(StreamDenied::Expired));
    let tv = start(&v1, TV, None, &play("album", ALBUM)).await;
    // A terminal stop frees the slot at once; a pause does not.
    let metric = ptr_str(&tv, "/entities/0/metricId").to_owned();
    assert_eq!(event(&v1, &metric, "stop", Some("userPause"), Some(3)).await.status, 200);
    assert_eq!(create(&v1, PHONE, None, &play("album", ALBUM)).await.status, 429);
    let tv =
        ok(&v1.call_with("POST", &format!("{SESSIONS}/{}/restore", sid(&tv)), &[("x-amzn-device-id", TV)], None).await);
    assert_eq!(event(&v1, &metric, "stop", Some("userStop"), Some(3)).await.status, 200);
    assert_eq!(permit(&state, &first_url(&tv)).await, Err(StreamDenied::Ended));
    // An expired session plays again by navigating, if the slot is free.
    assert_eq!(ids(&ok(&get(&v1, &sid(&phone), "next?limit=1").await)), [ALBUM_TRACKS[1]]);
    assert_eq!(permit(&state, &first_url(&phone)).await, Ok(()));
    // The timeout is a setting.
    app.settings("", json!({"playback_idle_timeout_seconds": 30})).await;
    ok(&get(&v1, &sid(&phone), "current").await);
    app.advance(30).await;
    assert_eq!(permit(&state, &first_url(&phone)).await, Err(StreamDenied::Expired));
}

// ---- scope, account, settings, admin ----------------------------------------------------------------

#[tokio::test]
async fn playback_needs_the_playback_scope_and_a_music_account() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog music::history").await;
    let v1 = app.v1(&token);
    let want = "Access denied: this operation requires the scope music::playback; the access token has: music::catalog music::history. Ask the customer to consent to music::playback at /ap/oa.";
    assert_v1_error(&create(&v1, PHONE, None, &play("album", ALBUM)).await, 403, "ACCESS_DENIED", want);
    assert_v1_error(&v1.get(&format!("{SESSIONS}/active")).await, 403, "ACCESS_DENIED", want);
    let r = v1.post("/v1/playback/event", &json!({})).await;
    assert_v1_error(&r, 403, "ACCESS_DENIED", want);
    // The auth chain runs before the headers are read.
    let r = v1.call_with("POST", SESSIONS, &[], Some(&json!({}))).await;
    assert_eq!(r.status, 403);
    let none = app.music_token(USER_NO_MUSIC, "music::playback").await;
    let r = create(&app.v1(&none), PHONE, None, &play("album", ALBUM)).await;
    assert_v1_error_with(
        &r,
        403,
        "AUTH_NO_MUSIC_ACCOUNT_FOUND",
        "No Amazon Music account found. The customer must sign up for Amazon Music before using this API.",
        Some("https://music.amazon.com"),
    );
}

#[tokio::test]
async fn playback_limit_max_narrows_the_window() {
    let app = TestApp::spawn().await;
    app.settings("", json!({"playback_limit_max": 5})).await;
    let v1 = app.music(USER_UNLIMITED).await;
    let mut body = play("artist", &artist_with_tracks(8));
    body["limit"] = json!(6);
    assert_v1_error(
        &create(&v1, PHONE, None, &body).await,
        400,
        "BAD_REQUEST",
        &format!("{MALFORMED} limit must be an integer from 1 to 5."),
    );
    body["limit"] = json!(5);
    let data = start(&v1, PHONE, None, &body).await;
    assert_eq!(ids(&data).len(), 5);
    assert_eq!(get(&v1, &sid(&data), "next?limit=6").await.status, 400);
    for bad in [
        json!({"playback_limit_max": 12}),
        json!({"playback_max_sessions": 0}),
        json!({"playback_idle_timeout_seconds": 0}),
    ] {
        let r = app.send(app.http.put(app.url("/__admin/settings")).json(&bad)).await;
        assert_eq!(r.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn admin_lists_playback_sessions_and_events_by_user_and_session() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let ava = app.music(USER_UNLIMITED).await;
    let ben = app.music(USER_PRIME).await;
    let a = start(&ava, PHONE, Some("HI_FI"), &play("album", ALBUM)).await;
    let b = start(&ben, TV, None, &play("track", ALBUM_TRACKS[0])).await;
    event(&ava, ptr_str(&a, "/entities/0/metricId"), "start", None, None).await;
    event(&ben, ptr_str(&b, "/entities/0/metricId"), "start", None, None).await;
    let all = app.admin("GET", "/__admin/playback/sessions", json!({})).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let mine = app.admin("GET", &format!("/__admin/playback/sessions?user={USER_UNLIMITED}"), json!({})).await;
    let s = &mine[0];
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(
        (&s["sessionId"], &s["user"], &s["deviceId"], &s["tier"], &s["source"], &s["state"], &s["holdsSlot"]),
        (
            &json!(sid(&a)),
            &json!(USER_UNLIMITED),
            &json!(PHONE),
            &json!("UNLIMITED"),
            &json!(mrn("album", ALBUM)),
            &json!("ACTIVE"),
            &json!(true)
        )
    );
    assert_eq!(s["capabilities"], json!(["HI_FI"]));
    assert_eq!(s["items"].as_array().unwrap().len(), 3);
    let by_session = app.admin("GET", &format!("/__admin/playback/sessions?session={}", sid(&b)), json!({})).await;
    assert_eq!(by_session[0]["user"], USER_PRIME);
    let events = app.admin("GET", &format!("/__admin/playback/events?user={USER_PRIME}"), json!({})).await;
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert_eq!(events[0]["sessionId"], json!(sid(&b)));
    let events = app.admin("GET", &format!("/__admin/playback/events?session={}", sid(&a)), json!({})).await;
    assert_eq!(events[0]["user"], USER_UNLIMITED);
    let r = app.get("/__admin/playback/events?user=amzn1.account.NOPE").await;
    assert_eq!((r.status, r.json()), (404, json!({"error": "no fixture user \"amzn1.account.NOPE\""})));
    let r = app.get("/__admin/playback/sessions?device=x").await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"error": "unknown query parameter \"device\": use user or session"}))
    );
    // Reset forgets them.
    app.admin("POST", "/__admin/reset", json!({})).await;
    assert_eq!(app.admin("GET", "/__admin/playback/sessions", json!({})).await, json!([]));
    assert_eq!(app.admin("GET", "/__admin/playback/events", json!({})).await, json!([]));
}

// ---- an album, played through -----------------------------------------------------------------------

/// Fetches a stream URL over HTTP from the mock's stream routes (signature, playback-session permit, then the
/// manifest, an init or a media segment); each must answer 200.
async fn fetch(app: &TestApp, url: &str) -> Vec<u8> {
    let r = app.http.get(url).send().await.expect("stream request sent");
    assert_eq!(r.status().as_u16(), 200, "{url}");
    r.bytes().await.expect("stream body").to_vec()
}

/// Decoded audio: sample rate, frames, the left channel.
struct Pcm {
    rate: u32,
    frames: u64,
    left: Vec<f32>,
}

fn decode_mp4(bytes: Vec<u8>) -> Pcm {
    use symphonia::core::audio::SampleBuffer;
    use symphonia::core::codecs::DecoderOptions;
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;

    let source = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp4");
    let opts = FormatOptions { enable_gapless: true, ..Default::default() };
    let mut reader =
        symphonia::default::get_probe().format(&hint, source, &opts, &MetadataOptions::default()).expect("fMP4").format;
    let params = reader.default_track().expect("an audio track").codec_params.clone();
    let mut decoder = symphonia::default::get_codecs().make(&params, &DecoderOptions::default()).expect("a decoder");
    let mut pcm = Pcm { rate: params.sample_rate.unwrap_or(0), frames: 0, left: Vec::new() };
    while let Ok(packet) = reader.next_packet() {
        let decoded = decoder.decode(&packet).expect("decodes");
        let spec = *decoded.spec();
        let channels = spec.channels.count();
        let mut samples = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
        samples.copy_interleaved_ref(decoded);
        pcm.rate = spec.rate;
        pcm.frames += (samples.samples().len() / channels) as u64;
        pcm.left.extend(samples.samples().iter().step_by(channels));
    }
    pcm
}

/// The frequency of a pure tone from its upward zero crossings (with hysteresis) over whole seconds of the
/// middle of the signal.
fn tone_frequency(pcm: &Pcm) -> f32 {
    let rate = pcm.rate as usize;
    let seconds = (pcm.left.len() / rate).saturating_sub(2).clamp(1, 20);
    let from = (pcm.left.len() - seconds * rate) / 2;
    let x = &pcm.left[from..from + seconds * rate];
    let peak = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    let h = peak * 0.05;
    let (mut below, mut crossings) = (false, 0u32);
    for &v in x {
        if v < -h {
            below = true;
        } else if v > h && below {
            below = false;
            crossings += 1;
        }
    }
    crossings as f32 / seconds as f32
}

/// The representation to decode (the best the URL allows), and its init and media URLs from the manifest.
fn segment_urls(manifest_url: &str, xml: &str) -> (Quality, Vec<String>) {
    let mpd = dash_mpd::parse(xml).expect("the MPD parses");
    let set = &mpd.periods[0].adaptations[0];
    let rep = set.representations.last().expect("a representation");
    let q = Quality::parse(rep.id.as_deref().unwrap_or("")).expect("a quality id");
    let tpl = rep.SegmentTemplate.as_ref().expect("a segment template");
    let count: u64 =
        tpl.SegmentTimeline.as_ref().expect("a timeline").segments.iter().map(|s| 1 + s.r.unwrap_or(0) as u64).sum();
    let dir = &manifest_url[..manifest_url.split_once('?').unwrap().0.rfind('/').unwrap() + 1];
    let mut urls = vec![format!("{dir}{}", tpl.initialization.as_deref().expect("initialization"))];
    let media = tpl.media.as_deref().expect("media");
    urls.extend((1..=count).map(|n| format!("{dir}{}", media.replace("$Number$", &n.to_string()))));
    (q, urls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_album_plays_through_to_its_end_with_every_track_decoded_and_reported() {
    // A cache of its own (another server starting on the default directory removes unfinished encodes), and
    // an album of short tracks (tests/fixtures/short-album), one per rendition, so the decoding stays cheap.
    let dir = std::env::temp_dir().join(format!("amm-playthrough-{}", uuid::Uuid::new_v4().simple()));
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/short-album");
    let cfg = amazon_music_mock::ServerConfig {
        stream_cache_dir: Some(dir.clone()),
        fixtures: Some(fixtures),
        ..Default::default()
    };
    let (app, _state) = app_with_config(cfg).await;
    app.freeze().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let want = ["B0SHRTTRK1", "B0SHRTTRK2", "B0SHRTTRK3"];
    let body = json!({"playParams": {"id": mrn("album", "B0SHRTALB1")}, "limit": 1});
    let mut data = start(&v1, PHONE, Some("HI_RES"), &body).await;
    let session = sid(&data);
    let mut played = Vec::new();
    let mut metrics = Vec::new();
    loop {
        let entity = data["entities"][0].clone();
        let asin = ptr_str(&entity, "/id").to_owned();
        let metric = ptr_str(&entity, "/metricId").to_owned();
        assert_eq!(event(&v1, &metric, "start", None, None).await.status, 200);
        let url = ptr_str(&entity, "/mediaMetadata/url").to_owned();
        let manifest = String::from_utf8(fetch(&app, &url).await).expect("XML");
        let (quality, urls) = segment_urls(&url, &manifest);
        let mut bytes = Vec::new();
        for u in &urls {
            bytes.extend(fetch(&app, u).await);
        }
        let pcm = decode_mp4(bytes);
        let duration = entity["durationSeconds"].as_u64().unwrap();
        let expected = duration * u64::from(quality.sample_rate());
        let slack = if quality == Quality::Sd { 2 * 1152 } else { 0 };
        assert_eq!(pcm.rate, quality.sample_rate(), "{asin}");
        assert!(pcm.frames.abs_diff(expected) <= slack, "{asin} {quality}: {} frames, want {expected}", pcm.frames);
        let (got, tone) = (tone_frequency(&pcm), stream::tone_hz(&asin));
        assert!((got - tone).abs() <= tone * 0.01 + 1.0, "{asin}: {got} Hz, want {tone} Hz");
        let stop = event(&v1, &metric, "stop", Some("trackFinished"), Some(duration as u32)).await;
        assert_eq!(stop.status, 200);
        played.push((asin, quality));
        metrics.push(metric);
        app.advance(duration as i64).await;
        let r = get(&v1, &session, "next?limit=1").await;
        if r.status == 404 {
            assert_v1_error(
                &r,
                404,
                "NO_MORE_NEXT_ENTITY",
                "There is no next entity: the end of the queue was reached.",
            );
            break;
        }
        data = ok(&r);
    }
    let renditions = [(want[0], Quality::Hd), (want[1], Quality::Sd), (want[2], Quality::Uhd)];
    assert_eq!(played, renditions.map(|(a, q)| (a.to_owned(), q)));
    // recentlyPlayed: the album's tracks, newest first; the admin view: a start and a stop per track.
    let recent = v1.data(&format!("/v1/player/recentlyPlayed?limit={}", want.len())).await;
    let mut newest_first = want.to_vec();
    newest_first.reverse();
    assert_eq!(node_ids(&recent["user"]["recentTrackPlayback"]), newest_first);
    let events = app.admin("GET", &format!("/__admin/playback/events?session={session}"), json!({})).await;
    let got: Vec<(String, String)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (ptr_str(e, "/metricId").to_owned(), ptr_str(e, "/type").to_owned()))
        .collect();
    let expected: Vec<(String, String)> =
        metrics.iter().flat_map(|m| [(m.clone(), "start".to_owned()), (m.clone(), "stop".to_owned())]).collect();
    assert_eq!(got, expected);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_sessions_stream_url_ttl_setting_shortens_the_playables_urls_until_they_expire() {
    let (app, _state) = app_with_state().await;
    let now = app.admin("POST", "/__admin/clock/freeze", json!({})).await["now"].as_i64().unwrap();
    app.admin("PUT", "/__admin/settings", json!({"stream_url_ttl_seconds": 30})).await;
    let v1 = app.music(USER_UNLIMITED).await;
    let data = start(&v1, PHONE, None, &play("track", ALBUM_TRACKS[0])).await;
    let url = first_url(&data);
    assert!(url.contains(&format!("&exp={}&sig=", now + 30)), "{url}");
    assert_eq!(app.send(app.http.get(&url)).await.status, 200);
    app.advance(30).await;
    let r = app.send(app.http.get(&url)).await;
    assert_eq!((r.status, r.json()["error"].as_str()), (403, Some("expired")));
    // A fresh URL from the queue plays again.
    let fresh = first_url(&ok(&get(&v1, &sid(&data), "current").await));
    assert_eq!(app.send(app.http.get(&fresh)).await.status, 200);
}
