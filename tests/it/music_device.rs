//! The Device API (spec `music-api.md` §6.3, §7, §11.1, §11.4): the root document and its navigation levels,
//! references followed from it, track containers with instances, definitions, stream URLs and event
//! collectors, stations with ratings, search, availability, general error reports (409) and track-level
//! errors, the `amazon_music:access` scope, routing by `Host` and by the `/device` prefix, `--public-url`.

use std::net::SocketAddr;

use amazon_music_mock::ServerConfig;
use amazon_music_mock::test_support::catalog::PlaylistTier;
use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::support::*;

const DEVICE_SCOPE: &str = "amazon_music:access";

/// A Device API client: a bearer token, and optionally a `Host` header.
struct Dev<'a> {
    app: &'a TestApp,
    token: String,
    host: Option<&'a str>,
}

impl Dev<'_> {
    async fn call(&self, method: &str, url_or_path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Resp {
        let url = if url_or_path.starts_with("http") { url_or_path.to_owned() } else { self.app.url(url_or_path) };
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.app.http.request(m, url).bearer_auth(&self.token);
        if let Some(h) = self.host {
            req = req.header("host", h);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        self.app.send(req).await
    }

    async fn get(&self, url_or_path: &str) -> Resp {
        self.call("GET", url_or_path, None, &[]).await
    }

    /// A GET that must answer a 200 JSON document.
    async fn doc(&self, url_or_path: &str) -> Value {
        doc(&self.get(url_or_path).await)
    }
}

fn doc(r: &Resp) -> Value {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.json()
}

async fn dev_for<'a>(app: &'a TestApp, user: &str) -> Dev<'a> {
    Dev { app, token: app.music_token(user, DEVICE_SCOPE).await, host: None }
}

/// A local reference's target: `#name` in `dict`.
fn local<'a>(d: &'a Value, dict: &str, reference: &Value) -> &'a Value {
    let name = reference
        .as_str()
        .and_then(|r| r.strip_prefix('#'))
        .unwrap_or_else(|| panic!("not a local reference: {reference}"));
    d[dict].get(name).unwrap_or_else(|| panic!("no {name} in {dict}"))
}

/// The items of a navigation node: `(label, summary description)`.
fn items(d: &Value, node: &Value) -> Vec<(String, String)> {
    node["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let item = local(d, "itemDescriptions", i);
            let summary = local(d, "navigationNodeSummaries", &item["navigationNodeSummary"]);
            assert_eq!(keys(item), ["itemLabel", "navigationNodeSummary"]);
            assert_eq!(keys(summary), ["title", "description"]);
            (ptr_str(item, "/itemLabel").to_owned(), ptr_str(summary, "/description").to_owned())
        })
        .collect()
}

/// A relative reference resolved against the URL of the document that holds it (RFC 3986 §5).
fn resolve(base: &str, reference: &str) -> String {
    url::Url::parse(base).and_then(|b| b.join(reference)).expect("resolvable").to_string()
}

/// The general error report document of an error answer.
#[track_caller]
fn assert_report(r: &Resp, status: u16, terse: &str, brief: &str, explanation: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        json!({"result": "#error", "generalErrorReports": {"error": {"terse": terse, "brief": brief, "explanation": explanation}}}),
    );
}

// ---- the root and its levels (§7, §11.4) -------------------------------------------------------------

#[tokio::test]
async fn the_root_document_holds_two_levels_of_navigation_nodes_and_links_a_third() {
    let app = TestApp::spawn().await;
    let dev = dev_for(&app, USER_UNLIMITED).await;
    let d = dev.doc("/device/").await;
    assert_eq!(keys(&d), ["result", "navigationNodeSummaries", "itemDescriptions", "navigationNodeDescriptions"]);
    assert_eq!(d["result"], "#root");
    let root = local(&d, "navigationNodeDescriptions", &d["result"]);
    assert_eq!(keys(root), ["summary", "items"]);
    assert_eq!(
        local(&d, "navigationNodeSummaries", &root["summary"]),
        &json!({"title": "Amazon Music", "description": "#root"})
    );
    let level2 = items(&d, root);
    let labels: Vec<&str> = level2.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["Your Playlists", "Popular Playlists", "New Releases", "Stations", "Genres"]);
    // The second level is in the document: each summary's description is a local reference.
    let base = app.url("/device");
    for (label, description) in &level2 {
        let node = local(&d, "navigationNodeDescriptions", &json!(description));
        for (_, target) in items(&d, node) {
            assert!(target.starts_with(&format!("{base}/")), "{label}: {target} is an absolute reference");
        }
    }
    let mine = items(&d, local(&d, "navigationNodeDescriptions", &json!("#my_playlists")));
    assert_eq!(mine.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(), ["Ava's Road Trip", "Ava's Favourites"]);
    let genres = items(&d, local(&d, "navigationNodeDescriptions", &json!("#genres")));
    assert_eq!(genres[0], ("Pop".to_owned(), format!("{base}/nav/genre/pop")));

    // The third level, by reference: a genre's node lists its station and its albums.
    let g = dev.doc(&genres[1].1).await;
    assert_eq!(g["result"], "#genre");
    let node = local(&g, "navigationNodeDescriptions", &g["result"]);
    assert_eq!(local(&g, "navigationNodeSummaries", &node["summary"])["title"], "Rock");
    let rock = items(&g, node);
    assert_eq!(rock[0], ("Rock Station".to_owned(), format!("{base}/station/rock")));
    assert!(rock.len() > 1 && rock[1..].iter().all(|(_, u)| u.starts_with(&format!("{base}/album/B"))));
    // Following an album gives its track container.
    let album = dev.doc(&rock[1].1).await;
    assert_eq!(album["result"], "#chunk");
}

#[tokio::test]
async fn playlists_and_albums_are_one_chunk_of_instances_definitions_and_event_collectors() {
    let app = TestApp::spawn().await;
    let dev = dev_for(&app, USER_UNLIMITED).await;
    let p = &catalog().playlists()[0];
    let url = app.url(&format!("/device/playlist/{}", p.id));
    let r = dev.call("GET", &url, None, &[("x-amzn-audio-device-capability", "STD_RES,HI_FI,HI_RES")]).await;
    let d = doc(&r);
    assert_eq!(keys(&d), ["result", "trackContainerChunkDescriptions", "trackDefinitions", "trackInstances"]);
    assert_eq!(d["result"], "#chunk");
    let chunk = &d["trackContainerChunkDescriptions"]["chunk"];
    assert_eq!(
        keys(chunk),
        ["firstTrackPointer", "lastTrackPointer", "nextTrackPointer", "prevTrackPointer", "title", "trackInstances"]
    );
    let n = p.tracks.len();
    assert_eq!(chunk["firstTrackPointer"], json!({"chunk": "#chunk", "indexWithinChunk": 0}));
    assert_eq!(chunk["lastTrackPointer"], json!({"chunk": "#chunk", "indexWithinChunk": n - 1}));
    assert_eq!((&chunk["nextTrackPointer"], &chunk["prevTrackPointer"]), (&Value::Null, &Value::Null));
    assert_eq!(chunk["title"], &*p.title);
    let instances = chunk["trackInstances"].as_array().unwrap();
    assert_eq!(instances.len(), n);
    for (i, inst_ref) in instances.iter().enumerate() {
        let inst = local(&d, "trackInstances", inst_ref);
        assert_eq!(keys(inst), ["trackDefinition", "playbackEventCollector"]);
        let collector = ptr_str(inst, "/playbackEventCollector");
        assert!(collector.starts_with("../events/"), "a relative reference: {collector}");
        assert!(resolve(&url, collector).starts_with(&app.url("/device/events/")));
        let def = local(&d, "trackDefinitions", &inst["trackDefinition"]);
        assert_eq!(keys(def), ["title", "x-amm-mockStreamUrl", "autoSkipOnError"]);
        let track = &catalog()[p.tracks[i]];
        assert_eq!(def["title"], &*track.title);
        assert_eq!(def["autoSkipOnError"], false);
        // The stream URL is a signed DASH manifest with the renditions the tier and the device allow.
        let stream = ptr_str(def, "/x-amm-mockStreamUrl");
        let (path, query) = stream.split_once('?').unwrap();
        assert_eq!(path, app.url(&format!("/dash/{}/manifest.mpd", track.id)));
        let want_q: Vec<&str> = track.audio_qualities.names().filter(|q| ["SD", "HD", "UHD"].contains(q)).collect();
        assert_eq!(query_param(stream, "q").unwrap(), want_q.join(","));
        let key = amazon_music_mock::test_support::stream::DEFAULT_STREAM_KEY.as_bytes();
        let exp: i64 = query_param(stream, "exp").unwrap().parse().unwrap();
        assert_eq!(
            amazon_music_mock::test_support::stream::verify(&format!("/dash/{}/", track.id), Some(query), exp - 1, key),
            Ok(exp)
        );
    }
    // The stream routes serve it: a clear DASH manifest.
    let first = ptr_str(&d, "/trackDefinitions/track_def_0/x-amm-mockStreamUrl");
    let mpd = app.send(app.http.get(first)).await;
    assert_eq!(mpd.status, 200, "{}", mpd.text);
    assert_eq!(mpd.header("content-type"), Some(amazon_music_mock::test_support::stream::MPD_CONTENT_TYPE));
    assert!(mpd.text.contains("<MPD"), "{}", mpd.text);
    // Without the capability header a listener gets SD only; so does a Prime customer with it.
    let plain = dev.doc(&url).await;
    assert_eq!(query_param(ptr_str(&plain, "/trackDefinitions/track_def_0/x-amm-mockStreamUrl"), "q").unwrap(), "SD");
    let prime = dev_for(&app, USER_PRIME).await;
    let r = prime.call("GET", &url, None, &[("x-amzn-audio-device-capability", "HI_RES")]).await;
    assert_eq!(query_param(ptr_str(&doc(&r), "/trackDefinitions/track_def_0/x-amm-mockStreamUrl"), "q").unwrap(), "SD");
    let r = dev.call("GET", &url, None, &[("x-amzn-audio-device-capability", "LOSSLESS")]).await;
    let why = "<p>unknown X-Amzn-Audio-Device-Capability value &quot;LOSSLESS&quot;: expected STD_RES, HI_FI, HI_RES or THREE_DIMENSIONAL</p>";
    assert_report(&r, 400, "Bad request", "The request could not be understood.", why);

    // An album and a customer's own playlist are single chunks too.
    let a = &catalog().albums()[0];
    let d = dev.doc(&format!("/device/album/{}", a.id)).await;
    assert_eq!(
        d["trackContainerChunkDescriptions"]["chunk"]["trackInstances"].as_array().unwrap().len(),
        catalog().album_tracks(a.idx).len()
    );
    let root = dev.doc("/device").await;
    let mine = items(&root, local(&root, "navigationNodeDescriptions", &json!("#my_playlists")));
    let d = dev.doc(&mine[0].1).await;
    assert_eq!(d["trackContainerChunkDescriptions"]["chunk"]["title"], "Ava's Road Trip");
    assert_eq!(d["trackContainerChunkDescriptions"]["chunk"]["trackInstances"].as_array().unwrap().len(), 15);
}

#[tokio::test]
async fn event_collectors_record_posted_reports_for_the_admin_api() {
    let app = TestApp::spawn().await;
    let dev = dev_for(&app, USER_UNLIMITED).await;
    let a = &catalog().albums()[2];
    let url = app.url(&format!("/device/album/{}", a.id));
    let d = dev.doc(&url).await;
    let inst = &d["trackInstances"]["track_inst_1"];
    let collector = resolve(&url, ptr_str(inst, "/playbackEventCollector"));
    let report = json!({"eventType": "START", "offsetMilliseconds": 0});
    let r = dev.call("POST", &collector, Some(&report), &[]).await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    let events = app.admin("GET", "/__admin/device/events", json!({})).await;
    let track = catalog()[catalog().album_tracks(a.idx)[1]].id.as_str().to_owned();
    let e = &events[0];
    assert_eq!(keys(e), ["seq", "atMs", "userId", "container", "index", "trackId", "report"]);
    assert_eq!(
        (
            e["seq"].clone(),
            e["userId"].clone(),
            e["container"].clone(),
            e["index"].clone(),
            e["trackId"].clone(),
            e["report"].clone()
        ),
        (json!(1), json!(USER_UNLIMITED), json!(format!("album:{}", a.id)), json!(1), json!(track), report.clone()),
    );
    // A report must be a JSON object; an error answer tells the device to stop.
    let r = dev.call("POST", &collector, Some(&json!([1, 2])), &[]).await;
    assert_report(
        &r,
        400,
        "Bad request",
        "The request could not be understood.",
        "<p>A playback report is a JSON object.</p>",
    );
    let r = dev.call("POST", &app.url("/device/events/not-a-token"), Some(&report), &[]).await;
    assert_report(&r, 404, "Not found", "This item is not available.", "<p>No such playback event collector.</p>");
    assert_eq!(app.admin("GET", "/__admin/device/events", json!({})).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn station_tracks_carry_a_rating_handler_and_chunks_chain_without_end() {
    let app = TestApp::spawn().await;
    let dev = dev_for(&app, USER_UNLIMITED).await;
    let url = app.url("/device/station/rock");
    let d = dev.doc(&url).await;
    let chunk = &d["trackContainerChunkDescriptions"]["chunk"];
    assert_eq!(chunk["title"], "Rock Station");
    assert_eq!(chunk["prevTrackPointer"], Value::Null);
    assert_eq!(chunk["nextTrackPointer"], json!({"chunk": format!("{url}?chunk=1#chunk"), "indexWithinChunk": 0}));
    assert_eq!(chunk["trackInstances"].as_array().unwrap().len(), 10);
    let def = &d["trackDefinitions"]["track_def_0"];
    assert_eq!(keys(def), ["title", "x-amm-mockStreamUrl", "trackRating", "autoSkipOnError"]);
    let asin = ptr_str(def, "/trackRating/ratingURI").strip_prefix("../rating/").expect("relative").to_owned();
    assert_eq!(def["trackRating"]["thumbRating"], "neutral");

    // Thumbs down: skip it now, and the station leaves it out from then on.
    let rating = resolve(&url, ptr_str(def, "/trackRating/ratingURI"));
    assert_eq!(rating, app.url(&format!("/device/rating/{asin}")));
    let r = dev.call("POST", &rating, Some(&json!({"thumbRating": "down"})), &[]).await;
    assert_eq!(
        doc(&r),
        json!({"message": "Got it. We won't play this song on this station again.", "shouldSkip": true})
    );
    let again = dev.doc(&url).await;
    assert_eq!(again["trackContainerChunkDescriptions"]["chunk"]["trackInstances"].as_array().unwrap().len(), 9);
    assert_ne!(again["trackDefinitions"]["track_def_0"]["title"], def["title"]);
    // Thumbs up shows in the rating; the next chunk points back at this one's last track.
    let second = ptr_str(&again, "/trackDefinitions/track_def_0/trackRating/ratingURI").to_owned();
    let r = dev.call("POST", &resolve(&url, &second), Some(&json!({"thumbRating": "up"})), &[]).await;
    assert_eq!(doc(&r), json!({"message": "Thanks! We'll play more songs like this.", "shouldSkip": false}));
    assert_eq!(dev.doc(&url).await["trackDefinitions"]["track_def_0"]["trackRating"]["thumbRating"], "up");
    let next = dev.doc(&format!("{url}?chunk=1")).await;
    let c1 = &next["trackContainerChunkDescriptions"]["chunk"];
    assert_eq!(c1["prevTrackPointer"], json!({"chunk": format!("{url}?chunk=0#chunk"), "indexWithinChunk": 8}));
    assert_eq!(c1["nextTrackPointer"]["chunk"], format!("{url}?chunk=2#chunk"));
    // Event indices keep counting along the station.
    let collector = resolve(&url, ptr_str(&next, "/trackInstances/track_inst_0/playbackEventCollector"));
    assert_eq!(dev.call("POST", &collector, Some(&json!({})), &[]).await.status, 204);
    assert_eq!(app.admin("GET", "/__admin/device/events", json!({})).await[0]["index"], 10);
    let r = dev.call("POST", &rating, Some(&json!({"thumbRating": "sideways"})), &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);
}

// ---- search and availability (§7, §11.4) -------------------------------------------------------------

#[tokio::test]
async fn search_buckets_tracks_albums_artists_and_the_library() {
    let app = TestApp::spawn().await;
    let dev = dev_for(&app, USER_UNLIMITED).await;
    let artist = &catalog().artists()[0];
    let d = dev.doc(&format!("/device/search/?keywords={}&count=3", enc(&artist.name))).await;
    assert_eq!(d["result"], "#search");
    let node = local(&d, "navigationNodeDescriptions", &d["result"]);
    assert_eq!(
        local(&d, "navigationNodeSummaries", &node["summary"])["title"],
        format!("Results for \"{}\"", artist.name)
    );
    let buckets = items(&d, node);
    let labels: Vec<&str> = buckets.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels[..3], ["Songs", "Albums", "Artists"]);
    let songs = items(&d, local(&d, "navigationNodeDescriptions", &json!(buckets[0].1)));
    assert_eq!(songs.len(), 3);
    assert!(songs[0].1.starts_with(&app.url("/device/track/")));
    let artists = items(&d, local(&d, "navigationNodeDescriptions", &json!(buckets[2].1)));
    assert_eq!(artists[0], (artist.name.to_string(), app.url(&format!("/device/nav/artist/{}", artist.id))));
    let node = dev.doc(&artists[0].1).await;
    assert_eq!(
        items(&node, local(&node, "navigationNodeDescriptions", &node["result"])).len(),
        catalog().artist_albums(artist.idx).len()
    );
    let one = dev.doc(&songs[0].1).await;
    assert_eq!(one["trackContainerChunkDescriptions"]["chunk"]["trackInstances"].as_array().unwrap().len(), 1);

    // type narrows the categories; the library finds the customer's own playlist by its title.
    let d = dev.doc("/device/search/?keywords=road%20trip&type=library").await;
    let buckets = items(&d, local(&d, "navigationNodeDescriptions", &d["result"]));
    assert_eq!(buckets.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(), ["Your Library"]);
    let lib = items(&d, local(&d, "navigationNodeDescriptions", &json!(buckets[0].1)));
    assert_eq!(lib[0].0, "Ava's Road Trip");
    assert!(lib[0].1.starts_with(&app.url("/device/playlist/")));

    // hasExplicit=false leaves explicit tracks out.
    let explicit = catalog().tracks().iter().find(|t| t.explicit).expect("an explicit track");
    let q = enc(&explicit.title);
    let all = dev.doc(&format!("/device/flat_search/?keywords={q}&count=100")).await;
    let clean = dev.doc(&format!("/device/flat_search/?keywords={q}&count=100&hasExplicit=false")).await;
    // An absent dictionary counts as empty (§7).
    let titles = |d: &Value| d["trackDefinitions"].as_object().map_or(0, serde_json::Map::len);
    assert!(titles(&all) > titles(&clean), "explicit tracks are left out");

    let r = dev.get("/device/search/?keywords=").await;
    assert_report(
        &r,
        400,
        "Bad request",
        "The request could not be understood.",
        "<p>keywords must be 1 to 300 characters.</p>",
    );
    let r = dev.get("/device/search/?keywords=x&type=podcast").await;
    assert_report(
        &r,
        400,
        "Bad request",
        "The request could not be understood.",
        "<p>type podcast is not one of track, album, artist, library.</p>",
    );
    let r = dev.get("/device/search/?keywords=x&count=101").await;
    assert_report(
        &r,
        400,
        "Bad request",
        "The request could not be understood.",
        "<p>count must be an integer from 1 to 100.</p>",
    );
}

#[tokio::test]
async fn flat_search_answers_a_playable_chunk_whose_collectors_resolve_under_the_prefix() {
    let app = TestApp::spawn().await;
    let dev = dev_for(&app, USER_UNLIMITED).await;
    let t = &catalog().tracks()[3];
    let url = app.url(&format!("/device/flat_search/?keywords={}&count=5", enc(&t.title)));
    let d = dev.doc(&url).await;
    assert_eq!(d["result"], "#chunk");
    let chunk = &d["trackContainerChunkDescriptions"]["chunk"];
    assert_eq!(chunk["title"], format!("Results for \"{}\"", t.title));
    assert_eq!(chunk["nextTrackPointer"], Value::Null);
    let titles: Vec<&Value> = d["trackDefinitions"].as_object().unwrap().values().map(|v| &v["title"]).collect();
    assert!(titles.contains(&&json!(&*t.title)), "{titles:?}");
    let collector = resolve(&url, ptr_str(&d, "/trackInstances/track_inst_0/playbackEventCollector"));
    assert!(collector.starts_with(&app.url("/device/events/")), "{collector}");
    assert_eq!(dev.call("POST", &collector, Some(&json!({"eventType": "STOP"})), &[]).await.status, 204);
}

#[tokio::test]
async fn availability_answers_per_country_without_a_token() {
    let app = TestApp::spawn().await;
    let r = app.get("/device/availability?country=de").await;
    assert_eq!(
        doc(&r),
        json!({"result": "#availability", "availabilityResponses": {"availability": {"country": "DE", "available": true}}})
    );
    let r = app.get("/device/availability?country=AQ").await;
    assert_eq!(doc(&r)["availabilityResponses"]["availability"], json!({"country": "AQ", "available": false}));
    let head = app.send(app.http.head(app.url("/device/availability?country=US"))).await;
    assert_eq!((head.status, head.text.as_str()), (200, ""));
    let r = app.get("/device/availability?country=USA").await;
    assert_report(
        &r,
        400,
        "Bad request",
        "The request could not be understood.",
        "<p>country must be an ISO 3166-1 alpha-2 code, such as US.</p>",
    );
}

// ---- errors (§6.3, §11.4) --------------------------------------------------------------------------

#[tokio::test]
async fn injected_faults_are_409_general_error_reports() {
    let app = TestApp::spawn().await;
    let dev = dev_for(&app, USER_UNLIMITED).await;
    for (code, terse, brief, explanation) in [
        (
            "CONCURRENT_STREAMS",
            "Playing on another device",
            "Your Amazon Music account is being used on another device.",
            "<p>Your subscription lets you stream on one device at a time. Stop playback on the other device, then try again.</p>",
        ),
        (
            "SERVICE_UNAVAILABLE",
            "Amazon Music is unavailable",
            "Amazon Music is having trouble right now.",
            "<p>Please try again in a few minutes.</p>",
        ),
        (
            "INTERNAL",
            "Amazon Music is unavailable",
            "Amazon Music is having trouble right now.",
            "<p>Please try again in a few minutes.</p>",
        ),
    ] {
        app.admin("POST", "/__admin/faults", json!({"route": "GET /device", "error": code, "count": 1})).await;
        assert_report(&dev.get("/device").await, 409, terse, brief, explanation);
    }
    assert_eq!(dev.get("/device").await.status, 200, "the faults were used up");
}

#[tokio::test]
async fn track_level_errors_are_local_reports_with_auto_skip_on_error() {
    let app = TestApp::spawn().await;
    // A playlist reserved to Amazon Music Unlimited, for a Prime customer: every track needs the upgrade.
    let p =
        catalog().playlists().iter().find(|p| p.tier == PlaylistTier::Unlimited).expect("an Unlimited-only playlist");
    let prime = dev_for(&app, USER_PRIME).await;
    let d = prime.doc(&format!("/device/playlist/{}", p.id)).await;
    assert_eq!(
        keys(&d),
        ["result", "trackContainerChunkDescriptions", "generalErrorReports", "trackDefinitions", "trackInstances"]
    );
    let def = &d["trackDefinitions"]["track_def_0"];
    assert_eq!(keys(def), ["title", "error", "autoSkipOnError"]);
    assert_eq!(def["autoSkipOnError"], false);
    assert_eq!(local(&d, "generalErrorReports", &def["error"])["terse"], "Subscription required");
    // The Unlimited customer plays it.
    let ava = dev_for(&app, USER_UNLIMITED).await;
    let d = ava.doc(&format!("/device/playlist/{}", p.id)).await;
    assert!(d.get("generalErrorReports").is_none());

    // A `TRACK <asin>` fault marks one track, which the device may skip on its own.
    let a = &catalog().albums()[1];
    let second = catalog()[catalog().album_tracks(a.idx)[1]].id.as_str().to_owned();
    app.admin(
        "POST",
        "/__admin/faults",
        json!({"route": format!("TRACK {second}"), "error": "SERVICE_UNAVAILABLE", "count": 1}),
    )
    .await;
    let d = ava.doc(&format!("/device/album/{}", a.id)).await;
    assert_eq!(keys(&d["trackDefinitions"]["track_def_0"]), ["title", "x-amm-mockStreamUrl", "autoSkipOnError"]);
    let def = &d["trackDefinitions"]["track_def_1"];
    assert_eq!(def["error"], "#track_err_1");
    assert_eq!(def["autoSkipOnError"], true);
    assert_eq!(
        d["generalErrorReports"]["track_err_1"],
        json!({"terse": "Amazon Music is unavailable", "brief": "Amazon Music is having trouble right now.", "explanation": "<p>Please try again in a few minutes.</p>"})
    );
    // Track rules never stop a request.
    app.admin("POST", "/__admin/faults", json!({"route": "TRACK *", "error": "INTERNAL"})).await;
    assert_eq!(ava.get("/device").await.status, 200);
}

#[tokio::test]
async fn only_amazon_music_access_opens_the_device_api() {
    let app = TestApp::spawn().await;
    let r = app.get("/device").await;
    assert_report(
        &r,
        401,
        "Sign-in required",
        "Sign in to Amazon Music on this device again.",
        "<p>Missing Authorization header. Send Authorization: Bearer &lt;LWA access token&gt;.</p>",
    );
    let catalog_token = app.music_token(USER_UNLIMITED, ALL_MUSIC).await;
    let r = Dev { app: &app, token: catalog_token, host: None }.get("/device").await;
    assert_eq!(r.status, 403, "{}", r.text);
    let e = &r.json()["generalErrorReports"]["error"];
    assert_eq!(
        (&e["terse"], &e["brief"]),
        (&json!("Not authorized"), &json!("This device is not authorized to use Amazon Music."))
    );
    assert!(
        ptr_str(e, "/explanation")
            .starts_with("<p>Access denied: this operation requires the scope amazon_music:access;")
    );
    // And amazon_music:access opens nothing of the Web API.
    let dev = dev_for(&app, USER_UNLIMITED).await;
    let r = app.v1(&dev.token).get(&format!("/v1/tracks/{}", track_id(0))).await;
    assert_eq!(r.status, 403);
    // A customer without Amazon Music gets a general (409) subscription report.
    let none = dev_for(&app, USER_NO_MUSIC).await;
    assert_report(
        &none.get("/device").await,
        409,
        "Subscription required",
        "No Amazon Music account was found for this customer.",
        "<p>No Amazon Music account found. The customer must sign up for Amazon Music before using this API.</p>",
    );
}

#[tokio::test]
async fn unknown_references_are_404_reports_and_wrong_methods_405() {
    let app = TestApp::spawn().await;
    let dev = dev_for(&app, USER_UNLIMITED).await;
    assert_report(
        &dev.get("/device/nope").await,
        404,
        "Not found",
        "This item is not available.",
        "<p>No such resource: /device/nope</p>",
    );
    assert_report(
        &dev.get("/device/album/B0ZZZZZZZZ").await,
        404,
        "Not found",
        "This item is not available.",
        "<p>No album B0ZZZZZZZZ.</p>",
    );
    assert_report(
        &dev.get("/device/station/polka").await,
        404,
        "Not found",
        "This item is not available.",
        "<p>No station polka.</p>",
    );
    let r = dev.call("DELETE", "/device", None, &[]).await;
    assert_report(
        &r,
        405,
        "Bad request",
        "The request could not be understood.",
        "<p>DELETE is not supported on this resource.</p>",
    );
}

// ---- routing (§1, §11.1) ----------------------------------------------------------------------------

#[tokio::test]
async fn on_music_api_amazon_com_the_device_api_is_at_the_root_and_every_family_keeps_its_prefix() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, &format!("{ALL_MUSIC} {DEVICE_SCOPE}")).await;
    let host = "music-api.amazon.com:8443";
    let dev = Dev { app: &app, token: token.clone(), host: Some(host) };
    let d = dev.doc("/").await;
    assert_eq!(d["result"], "#root");
    let genres = items(&d, local(&d, "navigationNodeDescriptions", &json!("#genres")));
    // References carry the Device API's host and no /device prefix.
    assert_eq!(genres[0].1, "http://music-api.amazon.com:8443/nav/genre/pop");
    assert_eq!(dev.doc(&app.url("/nav/genre/pop")).await["result"], "#genre");
    // The same in a session, and the prefix form answers there too.
    let s =
        Dev { app: &app, token: app.music_token_in("/s/dev1", USER_UNLIMITED, DEVICE_SCOPE).await, host: Some(host) };
    let d = s.doc("/s/dev1/").await;
    let genres = items(&d, local(&d, "navigationNodeDescriptions", &json!("#genres")));
    assert_eq!(genres[0].1, "http://music-api.amazon.com:8443/s/dev1/nav/genre/pop");
    assert_eq!(s.doc("/s/dev1/device/nav/genre/pop").await["result"], "#genre");
    // V1 and V2 keep their prefixes on the Device API's host; LWA answers there too.
    let r = app
        .send(
            app.http
                .get(app.url(&format!("/v1/tracks/{}", track_id(0))))
                .header("host", host)
                .bearer_auth(&token)
                .header("x-api-key", API_KEY),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .send(
            app.http
                .get(app.url("/v2/albums/top?first=1"))
                .header("host", host)
                .bearer_auth(&token)
                .header("x-amzn-device-id", DEVICE_ID),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r =
        app.send(app.http.post(app.url("/auth/o2/token")).header("host", host).form(&[("grant_type", "nope")])).await;
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    // Unprefixed V1 paths on that host are the Device API's, and stay V1 on every other host.
    let r = dev.get(&format!("/tracks/{}", track_id(0))).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.json()["result"], "#error");
    let r = app
        .send(
            app.http
                .get(app.url(&format!("/tracks/{}", track_id(0))))
                .header("host", "api.music.amazon.dev")
                .bearer_auth(&token)
                .header("x-api-key", API_KEY),
        )
        .await;
    assert_eq!(ok(&r)["track"]["id"], track_id(0));
}

#[tokio::test]
async fn references_and_stream_urls_honour_the_public_url() {
    let cfg = ServerConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        seed: Some(1),
        public_url: Some("https://mock.example:8443/".into()),
        ..ServerConfig::default()
    };
    let app = TestApp::spawn_with(cfg).await;
    let dev = dev_for(&app, USER_UNLIMITED).await;
    let d = dev.doc("/device").await;
    let genres = items(&d, local(&d, "navigationNodeDescriptions", &json!("#genres")));
    assert_eq!(genres[0].1, "https://mock.example:8443/device/nav/genre/pop");
    let a = &catalog().albums()[0];
    let d = dev.doc(&format!("/device/album/{}", a.id)).await;
    let stream = ptr_str(&d, "/trackDefinitions/track_def_0/x-amm-mockStreamUrl");
    assert!(stream.starts_with("https://mock.example:8443/dash/"), "{stream}");
}

#[tokio::test]
async fn stream_urls_live_for_the_sessions_stream_url_ttl_seconds() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let dev = dev_for(&app, USER_UNLIMITED).await;
    let a = &catalog().albums()[0];
    let url = format!("/device/album/{}", a.id);
    let exp = |d: &Value| -> i64 {
        let stream = ptr_str(d, "/trackDefinitions/track_def_0/x-amm-mockStreamUrl");
        query_param(stream, "exp").unwrap().parse().unwrap()
    };
    let default_exp = exp(&dev.doc(&url).await);
    app.admin("PUT", "/__admin/settings", json!({"stream_url_ttl_seconds": 20})).await;
    let d = dev.doc(&url).await;
    assert_eq!(default_exp - exp(&d), 300 - 20, "the server's --stream-ttl (300) gives way to the session's 20 s");
    let stream = ptr_str(&d, "/trackDefinitions/track_def_0/x-amm-mockStreamUrl").to_owned();
    assert_eq!(app.send(app.http.get(&stream)).await.status, 200);
    app.advance(21).await;
    let r = app.send(app.http.get(&stream)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.json()["error"], "expired");
}
