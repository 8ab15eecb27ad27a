//! Contract tests: the ✅ examples of `music-api.md` (§3.1 ids and URLs, §3.2 envelope and pageInfo, §3.4 entity
//! shapes, §6.1 error envelope) and the mock's §11 decisions, pinned as golden shapes under `tests/golden/`
//! (format in `tests/golden/README.md`). Each test sends real requests and matches status, `Content-Type` and
//! the whole body, keys in order, against a named case; every case of a golden file must be used.

use std::collections::BTreeSet;
use std::sync::Mutex;

use serde_json::{Map, Value, json};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::support::*;

// ---- the shape matcher ------------------------------------------------------------------------------

/// Placeholders that may appear inside a golden string.
const INLINE: [&str; 14] = [
    "uuid",
    "asin",
    "user-id",
    "iso8601",
    "date",
    "digits",
    "token",
    "image-id",
    "isrc",
    "tier",
    "visibility",
    "string",
    "text",
    "...",
];

fn inline_ok(name: &str, s: &str) -> bool {
    let all = |f: fn(u8) -> bool| !s.is_empty() && s.bytes().all(f);
    match name {
        "uuid" => is_uuid(s),
        "asin" => is_asin(s),
        "user-id" => is_user_id(s),
        "iso8601" => is_iso_ms(s),
        "date" => s.len() == 10 && is_iso_ms(&format!("{s}T00:00:00.000Z")),
        "digits" => all(|b| b.is_ascii_digit()),
        "token" => all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "image-id" => all(|b| b.is_ascii_alphanumeric()),
        "isrc" => s.len() == 12 && all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "tier" => ["FREE", "PRIME", "UNLIMITED"].contains(&s),
        "visibility" => ["PUBLIC", "PRIVATE"].contains(&s),
        "string" => !s.is_empty(),
        "text" => true,
        _ => false,
    }
}

enum Seg<'a> {
    Lit(&'a str),
    Hole(&'a str),
}

/// Splits a golden string into literal text and placeholders (`<name>` with a known name).
fn segments(t: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    let mut lit_start = 0;
    let mut i = 0;
    while let Some(open) = t[i..].find('<').map(|o| i + o) {
        match t[open..].find('>').map(|c| open + c) {
            Some(close) if INLINE.contains(&&t[open + 1..close]) => {
                if lit_start < open {
                    out.push(Seg::Lit(&t[lit_start..open]));
                }
                out.push(Seg::Hole(&t[open + 1..close]));
                i = close + 1;
                lit_start = i;
            }
            _ => i = open + 1,
        }
    }
    if lit_start < t.len() {
        out.push(Seg::Lit(&t[lit_start..]));
    }
    out
}

fn template_match(segs: &[Seg<'_>], s: &str) -> bool {
    match segs.split_first() {
        None => s.is_empty(),
        Some((Seg::Lit(l), rest)) => s.strip_prefix(l).is_some_and(|r| template_match(rest, r)),
        Some((Seg::Hole(h), rest)) => s
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .any(|end| inline_ok(h, &s[..end]) && template_match(rest, &s[end..])),
    }
}

/// A golden file: named cases and `$defs`, and which cases a test used.
struct Golden {
    name: &'static str,
    cases: Map<String, Value>,
    defs: Map<String, Value>,
    used: Mutex<BTreeSet<String>>,
}

impl Golden {
    fn load(name: &'static str) -> Golden {
        let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let Value::Object(mut cases) = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}")) else {
            panic!("{path}: not an object");
        };
        let defs = match cases.remove("$defs") {
            Some(Value::Object(d)) => d,
            _ => Map::new(),
        };
        Golden { name, cases, defs, used: Mutex::new(BTreeSet::new()) }
    }

    /// Matches a response against the case: status, JSON content type, headers named by the case, body.
    #[track_caller]
    fn check(&self, case: &str, r: &Resp) {
        let want = self.cases.get(case).unwrap_or_else(|| panic!("{}: no case {case}", self.name));
        self.used.lock().unwrap().insert(case.to_owned());
        assert_eq!(json!(r.status), want["status"], "{}:{case}: {}", self.name, r.text);
        assert_eq!(r.header("content-type"), Some("application/json"), "{}:{case}", self.name);
        if let Some(h) = want.get("headers").and_then(Value::as_object) {
            for (k, v) in h {
                assert_eq!(r.header(k), v.as_str(), "{}:{case}: header {k}", self.name);
            }
        }
        self.check_value(case, &want["body"], &r.json());
    }

    /// Matches a value (not a whole response) against the case's `body`.
    #[track_caller]
    fn check_value(&self, case: &str, want: &Value, got: &Value) {
        self.used.lock().unwrap().insert(case.to_owned());
        if let Err(e) = self.matches(want, got, "$") {
            panic!("{}:{case}: {e}\ngot: {got}", self.name);
        }
    }

    fn body(&self, case: &str) -> &Value {
        &self.cases.get(case).unwrap_or_else(|| panic!("{}: no case {case}", self.name))["body"]
    }

    #[track_caller]
    fn assert_all_used(&self) {
        let used = self.used.lock().unwrap();
        let unused: Vec<&String> = self.cases.keys().filter(|k| !used.contains(*k)).collect();
        assert!(unused.is_empty(), "{}: cases never checked: {unused:?}", self.name);
    }

    fn matches(&self, want: &Value, got: &Value, at: &str) -> Result<(), String> {
        match want {
            Value::String(w) => self.match_string(w, got, at),
            Value::Object(w) => {
                let g = got.as_object().ok_or_else(|| format!("{at}: want an object, got {got}"))?;
                let wk: Vec<&String> = w.keys().collect();
                let gk: Vec<&String> = g.keys().collect();
                if wk != gk {
                    return Err(format!("{at}: keys {gk:?}, want {wk:?}"));
                }
                w.iter().try_for_each(|(k, v)| self.matches(v, &g[k], &format!("{at}.{k}")))
            }
            Value::Array(w) => {
                let g = got.as_array().ok_or_else(|| format!("{at}: want an array, got {got}"))?;
                let repeat = w.last() == Some(&json!("<...>"));
                let fixed = if repeat { &w[..w.len() - 1] } else { &w[..] };
                if repeat && g.len() < fixed.len() || !repeat && g.len() != fixed.len() {
                    return Err(format!(
                        "{at}: {} elements, want {}{}",
                        g.len(),
                        fixed.len(),
                        if repeat { "+" } else { "" }
                    ));
                }
                g.iter()
                    .enumerate()
                    .try_for_each(|(i, x)| self.matches(&fixed[i.min(fixed.len() - 1)], x, &format!("{at}[{i}]")))
            }
            _ if want == got => Ok(()),
            _ => Err(format!("{at}: {got}, want {want}")),
        }
    }

    fn match_string(&self, w: &str, got: &Value, at: &str) -> Result<(), String> {
        if let Some(names) = w.strip_prefix("<ref:").and_then(|r| r.strip_suffix('>')) {
            let mut errors = Vec::new();
            for n in names.split('|') {
                let def = self.defs.get(n).unwrap_or_else(|| panic!("{}: no $defs.{n}", self.name));
                match self.matches(def, got, at) {
                    Ok(()) => return Ok(()),
                    Err(e) => errors.push(format!("as {n}: {e}")),
                }
            }
            return Err(errors.join("; "));
        }
        let fail = || Err(format!("{at}: {got} does not match {w:?}"));
        match w {
            "<int>" => return if got.is_u64() { Ok(()) } else { fail() },
            "<bool>" => return if got.is_boolean() { Ok(()) } else { fail() },
            "<any>" => return Ok(()),
            "<audio-qualities>" => {
                let names: Option<Vec<&str>> = got.as_array().and_then(|a| a.iter().map(Value::as_str).collect());
                let ok = names.is_some_and(|n| {
                    n.first() == Some(&"SD")
                        && n.iter().all(|q| ["SD", "HD", "UHD", "ATMOS", "360RA"].contains(q))
                        && n.iter().collect::<BTreeSet<_>>().len() == n.len()
                });
                return if ok { Ok(()) } else { fail() };
            }
            _ => {}
        }
        match got.as_str() {
            Some(s) if template_match(&segments(w), s) => Ok(()),
            _ => fail(),
        }
    }
}

#[test]
fn the_shape_matcher_accepts_matching_shapes_and_rejects_others() {
    let g = Golden {
        name: "self-test",
        cases: Map::new(),
        defs: json!({"A": {"x": "<int>"}, "B": {"y": "<bool>"}}).as_object().unwrap().clone(),
        used: Mutex::new(BTreeSet::new()),
    };
    let yes = |w: Value, v: Value| assert!(g.matches(&w, &v, "$").is_ok(), "{w} should match {v}");
    let no = |w: Value, v: Value| assert!(g.matches(&w, &v, "$").is_err(), "{w} should not match {v}");
    yes(json!("https://x/<asin>/?t=<asin>&do=play"), json!("https://x/B0ABCDEFGH/?t=B012345678&do=play"));
    no(json!("https://x/<asin>"), json!("https://x/b0abcdefgh"));
    yes(json!("<digits>:<uuid>"), json!("1629502893999:3ae81437-0000-4000-8000-000000000000"));
    no(json!("<digits>:<uuid>"), json!(":3ae81437-0000-4000-8000-000000000000"));
    yes(json!("Send <LWA token>."), json!("Send <LWA token>."));
    yes(json!("<p><string></p>"), json!("<p>a</p><p>b</p>"));
    yes(json!({"a": 1, "b": "<string>"}), json!({"a": 1, "b": "x"}));
    no(json!({"a": 1, "b": "<string>"}), json!({"b": "x", "a": 1}));
    no(json!({"a": 1}), json!({"a": 1, "b": 2}));
    yes(json!(["<int>", "<...>"]), json!([1, 2, 3]));
    no(json!(["<int>", "<...>"]), json!([]));
    yes(json!(["<string>", "<int>", "<...>"]), json!(["a", 1, 2]));
    no(json!(["<string>", "<int>", "<...>"]), json!(["a", "b"]));
    no(json!(["<int>"]), json!([1, 2]));
    yes(json!("<ref:A|B>"), json!({"y": true}));
    no(json!("<ref:A|B>"), json!({"x": true}));
    yes(json!("<audio-qualities>"), json!(["SD", "HD", "360RA"]));
    no(json!("<audio-qualities>"), json!(["HD", "SD"]));
    no(json!("<int>"), json!("1"));
    no(json!(null), json!("x"));
}

// ---- errors -----------------------------------------------------------------------------------------

#[tokio::test]
async fn v1_errors_match_the_documented_envelope() {
    let g = Golden::load("errors.json");
    let app = TestApp::spawn().await;
    app.freeze().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let catalog_only = app.music_token(USER_UNLIMITED, "music::catalog").await;
    let expiring = app.music_token(USER_UNLIMITED, "music::catalog").await;
    let no_music = app.music_token(USER_NO_MUSIC, "music::catalog").await;
    let track = format!("/v1/tracks/{}", track_id(0));

    g.check("bad_request", &v1.get("/v1/tracks?ids=").await);
    g.check("invalid_auth_type", &app.v1_raw("GET", &track, &[("x-api-key", API_KEY)], None).await);
    g.check("invalid_auth_token", &app.v1_raw("GET", &track, &[("authorization", "Bearer ")], None).await);
    app.admin("POST", "/__admin/tokens/expire", json!({"token": expiring})).await;
    g.check("invalid_access_token", &app.v1(&expiring).get(&track).await);
    g.check("access_denied", &app.v1(&catalog_only).post("/v1/playlists", &json!({})).await);
    g.check("auth_no_music_account_found", &app.v1(&no_music).get(&track).await);
    g.check("resource_not_found", &v1.get("/v1/tracks/B000000000").await);
    g.check("method_not_allowed", &v1.delete(&track, None).await);
    app.admin("POST", "/__admin/faults", json!({"route": "*", "error": "THROTTLED", "retry_after": 7, "count": 1}))
        .await;
    g.check("throttled", &v1.get(&track).await);
    app.admin("POST", "/__admin/faults", json!({"route": "*", "error": "INTERNAL", "count": 1})).await;
    g.check("internal", &v1.get(&track).await);
    g.assert_all_used();
}

// ---- entities ---------------------------------------------------------------------------------------

#[tokio::test]
async fn entities_match_the_documented_shapes() {
    let g = Golden::load("entities.json");
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let ids = |f: fn(usize) -> String| (0..5).map(f).collect::<Vec<_>>().join(",");

    g.check("track", &v1.get(&format!("/v1/tracks/{}", track_id(0))).await);
    g.check("tracks", &v1.get(&format!("/v1/tracks?ids={}", ids(track_id))).await);
    g.check("album", &v1.get(&format!("/v1/albums/{}/", album_id(0))).await);
    g.check("albums", &v1.get(&format!("/v1/albums/?ids={}", ids(album_id))).await);
    g.check("artist", &v1.get(&format!("/v1/artists/{}", artist_id(0))).await);
    g.check("artists", &v1.get(&format!("/v1/artists/?ids={}", ids(artist_id))).await);
    for n in 0..catalog().playlists().len() {
        g.check("catalog_playlist", &v1.get(&format!("/v1/playlists/{}", catalog_playlist_id(n))).await);
    }
    let mine = node_ids(&v1.data("/v1/me/playlists").await["user"]["playlists"]);
    for id in &mine {
        g.check("user_playlist", &v1.get(&format!("/v1/playlists/{id}")).await);
    }
    g.check("me", &v1.get("/v1/me").await);
    let body = json!({"name": "Ava", "visibility": "PRIVATE", "playbackVisibility": "PUBLIC"});
    g.check("update_user", &v1.put("/v1/me", &body).await);
    g.check("podcast_show", &v1.get(&format!("/v1/podcasts/shows/{}?limit=2", show_id(0))).await);
    g.check("podcast_episode", &v1.get(&format!("/v1/podcasts/episodes/{}", episode_id(0))).await);
    let r = v1.post("/v1/playlists", &json!({"title": "Golden", "description": "", "visibility": "PRIVATE"})).await;
    g.check("create_playlist", &r);
    let created = ptr_str(&r.json(), "/data/createPlaylist/id").to_owned();
    g.check("user_playlist", &v1.get(&format!("/v1/playlists/{created}")).await);
    g.assert_all_used();
}

// ---- views and search -------------------------------------------------------------------------------

#[tokio::test]
async fn views_and_get_search_match_the_documented_view_shape() {
    let g = Golden::load("views.json");
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    g.check("home", &v1.get("/v1/views/home?limit=2").await);
    // The last see-all page of a group: nextPageToken null.
    let mut cursor = None::<String>;
    loop {
        let path = match &cursor {
            None => "/v1/views/home/home:newReleases".to_owned(),
            Some(c) => format!("/v1/views/home/home:newReleases?cursor={}", enc(c)),
        };
        let r = v1.get(&path).await;
        match ok(&r)["content"]["nextPageToken"].as_str() {
            Some(t) => cursor = Some(t.to_owned()),
            None => {
                g.check("home_group_last_page", &r);
                break;
            }
        }
    }
    for a in catalog().artists().iter().take(5) {
        g.check("search", &v1.get(&format!("/v1/search?query={}&limit=3", enc(&a.name))).await);
    }
    g.assert_all_used();
}

// ---- connections and pageInfo -----------------------------------------------------------------------

#[tokio::test]
async fn connections_carry_page_info_edge_count_and_edges_and_the_last_page_only_has_next_page_false() {
    let g = Golden::load("connections.json");
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    g.check("recent_track_playback", &v1.get("/v1/player/recentlyPlayed?limit=2").await);
    g.check("recent_track_playback_last_page", &v1.get("/v1/player/recentlyPlayed").await);
    let search = |body: Value| {
        let v1 = &v1;
        async move { v1.post("/v1/search/tracks", &body).await }
    };
    g.check("search_tracks", &search(json!({"searchFilters": [{"query": "love"}], "limit": 2})).await);
    let id = track_id(3);
    g.check("search_tracks_last_page", &search(json!({"searchFilters": [{"field": "id", "query": id}]})).await);
    let pl = ptr_str(&v1.data("/v1/me/playlists").await, "/user/playlists/edges/0/node/id").to_owned();
    g.check("playlist_tracks", &v1.get(&format!("/v1/playlists/{pl}/tracks?limit=2")).await);
    g.check("my_playlists", &v1.get("/v1/me/playlists?limit=1").await);
    g.check("library_tracks", &v1.get("/v1/me/library/tracks?limit=1").await);
    // Every list's last page: pageInfo is exactly {"hasNextPage": false}.
    let last = g.body("last_page_info").clone();
    for (path, pick) in [
        ("/v1/me/playlists", "/user/playlists"),
        ("/v1/me/library/tracks", "/user/libraryTracks"),
        ("/v1/me/library/albums", "/user/libraryAlbums"),
        ("/v1/me/tracks", "/user/likedTracks"),
        ("/v1/me/followed/artists", "/user/followedArtists"),
        ("/v1/me/recentlyPlayedEntities?limit=100", "/user/recentlyPlayedEntities"),
        ("/v1/player/recentlyPlayed", "/user/recentTrackPlayback"),
    ] {
        g.check_value(
            "last_page_info",
            &last,
            &v1.data(path).await.pointer(&format!("{pick}/pageInfo")).cloned().unwrap(),
        );
    }
    let data = v1.data(&format!("/v1/playlists/{pl}/tracks")).await;
    g.check_value("last_page_info", &last, &data["playlist"]["tracks"]["pageInfo"]);
    let data = v1.data(&format!("/v1/artists/{}/albums", artist_id(0))).await;
    g.check_value("last_page_info", &last, &data["artist"]["albums"]["pageInfo"]);
    g.assert_all_used();
}

// ---- playback --------------------------------------------------------------------------------------

#[tokio::test]
async fn playback_sessions_events_and_their_errors_match_the_golden_shapes() {
    let g = Golden::load("playback.json");
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_PRIME).await;
    const PHONE: &[(&str, &str)] = &[("x-amzn-device-id", "golden-phone"), ("x-amzn-audio-drmtype", "WIDEVINE")];
    let create = |body: Value, headers: &'static [(&'static str, &'static str)]| {
        let v1 = &v1;
        async move { v1.call_with("POST", "/v1/playback/sessions", headers, Some(&body)).await }
    };
    let album = json!({"playParams": {"id": "mrn:1.0:catalog:album:asin:B0064UPU4G"}, "limit": 2});
    g.check("missing_device_id", &create(album.clone(), &[]).await);
    let r = create(album.clone(), PHONE).await;
    g.check("create_session", &r);
    let session = ptr_str(&r.json(), "/data/sessionId").to_owned();
    let at = |op: &str| format!("/v1/playback/sessions/{session}/{op}");
    g.check("current", &v1.get(&at("current")).await);
    g.check("no_more_previous_entity", &v1.get(&at("previous")).await);
    g.check("queue", &v1.get(&at("queue")).await);
    g.check("active", &v1.get("/v1/playback/sessions/active").await);
    let metric = ptr_str(&r.json(), "/data/entities/0/metricId").to_owned();
    let start = json!({"metricId": metric, "event": {"type": "start", "clientTimestampInMilliseconds": 1}});
    g.check("event_recorded", &v1.post("/v1/playback/event", &start).await);
    let stop = json!({"metricId": metric, "event": {"type": "stop", "clientTimestampInMilliseconds": 2,
                      "terminationReason": "trackFinished", "entityProgressSeconds": 215}});
    g.check("events_recorded", &v1.post("/v1/playback/events", &json!({"events": [start, stop]})).await);
    g.check("next", &v1.get(&at("next")).await);
    g.check("next", &v1.get(&at("next")).await);
    g.check("no_more_next_entity", &v1.get(&at("next")).await);
    // Prime's skips run out (the first next above was free: the track had finished).
    let artist = catalog().artists().iter().find(|a| catalog().artist_tracks(a.idx).len() >= 8).unwrap().id;
    let r = create(json!({"playParams": {"id": format!("mrn:1.0:catalog:artist:asin:{artist}")}}), PHONE).await;
    let session = ptr_str(&r.json(), "/data/sessionId").to_owned();
    let next = format!("/v1/playback/sessions/{session}/next");
    while v1.get(&next).await.status == 200 {}
    g.check("no_more_skips", &v1.get(&next).await);
    let station = json!({"playParams": {"id": "mrn:1.0:catalog:album:asin:B0064UPU4G"},
                         "playbackOptions": {"startAsStation": true, "loopMode": "LOOP_ON"}});
    g.check("loop_not_available", &create(station, PHONE).await);
    g.check("max_concurrency_reached", &create(album, &[("x-amzn-device-id", "golden-tv")]).await);
    g.assert_all_used();
}

// ---- ids and URLs -----------------------------------------------------------------------------------

#[tokio::test]
async fn every_id_and_url_follows_the_documented_formats() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let cat = catalog();
    let web = "https://music.amazon.com";
    // Every track, album and artist of the catalog, through batch lookups.
    let all = |n: usize, f: fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>();
    for chunk in all(cat.tracks().len(), track_id).chunks(100) {
        for t in v1.data(&format!("/v1/tracks?ids={}", chunk.join(","))).await["tracks"].as_array().unwrap() {
            let id = ptr_str(t, "/id");
            assert!(is_asin(id) && t["globalAsin"] == id, "{t}");
            let album = ptr_str(t, "/album/id");
            assert!(is_asin(album));
            assert_eq!(t["album"]["url"], format!("{web}/albums/{album}"));
            for a in t["artists"].as_array().unwrap() {
                assert!(is_asin(ptr_str(a, "/id")));
                assert_eq!(a["url"], format!("{web}/artists/{}", ptr_str(a, "/id")));
            }
            assert!(is_iso_ms(ptr_str(t, "/releaseDate")));
            assert_eq!(t["audioQualities"][0], "SD");
        }
    }
    for chunk in all(cat.albums().len(), album_id).chunks(100) {
        for a in v1.data(&format!("/v1/albums?ids={}", chunk.join(","))).await["albums"].as_array().unwrap() {
            let id = ptr_str(a, "/id");
            assert!(is_asin(id) && a["globalAsin"] == id && a["url"] == format!("{web}/albums/{id}"), "{a}");
            for t in a["tracks"].as_array().unwrap() {
                assert_eq!(t["url"], format!("{web}/albums/{id}/?trackAsin={}&do=play", ptr_str(t, "/id")));
            }
        }
    }
    for a in v1.data(&format!("/v1/artists?ids={}", all(cat.artists().len(), artist_id).join(","))).await["artists"]
        .as_array()
        .unwrap()
    {
        let id = ptr_str(a, "/id");
        assert!(is_asin(id) && a["globalAsin"] == id && a["url"] == format!("{web}/artists/{id}"), "{a}");
    }
    for s in v1.data(&format!("/v1/podcasts/shows?ids={}", all(cat.podcast_shows().len(), show_id).join(","))).await
        ["podcastShows"]
        .as_array()
        .unwrap()
    {
        let show = ptr_str(s, "/id");
        assert!(is_uuid(show));
        for e in s["episodes"]["edges"].as_array().unwrap() {
            let ep = ptr_str(e, "/node/id");
            assert!(is_uuid(ep));
            assert_eq!(e["node"]["url"], format!("{web}/podcasts/{show}/episodes/{ep}"));
        }
    }
    // Customers: 26-character ids and profile URLs.
    for user in [USER_UNLIMITED, USER_PRIME, USER_FREE] {
        let me = app.music(user).await.data("/v1/me").await;
        let id = ptr_str(&me, "/user/id");
        assert!(is_user_id(id), "{id}");
        assert_eq!(me["user"]["url"], format!("{web}/profiles/{id}"));
    }
    // Views: playParams are mrn:1.0:catalog:<type>:asin:<id>.
    let home = v1.data("/v1/views/home").await;
    for g in home["content"]["entityGroups"].as_array().unwrap() {
        for e in g["content"]["entities"].as_array().unwrap() {
            let kind = match ptr_str(e, "/_type") {
                "Album" => "album",
                "Playlist" => "playlist",
                "Track" => "track",
                "Artist" => "artist",
                other => panic!("unexpected {other} on home"),
            };
            assert_eq!(e["playParams"]["id"], format!("mrn:1.0:catalog:{kind}:asin:{}", ptr_str(e, "/id")));
        }
    }
    // Playlists: UUIDs for customers', ASINs for catalog ones; entry ids are UUIDs, cursors <index>:<entryId>.
    let pl = ptr_str(&v1.data("/v1/me/playlists").await, "/user/playlists/edges/0/node/id").to_owned();
    assert!(is_uuid(&pl));
    for (i, e) in v1.data(&format!("/v1/playlists/{pl}/tracks")).await["playlist"]["tracks"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let (index, entry) = ptr_str(e, "/cursor").split_once(':').unwrap();
        assert_eq!(index, i.to_string());
        assert!(is_uuid(entry) && entry != ptr_str(e, "/node/id"));
    }
    for n in 0..cat.playlists().len() {
        assert!(is_asin(&catalog_playlist_id(n)));
    }
}

// ---- every route ------------------------------------------------------------------------------------

/// The path in one of its three spellings: `/v1/x`, `/x`, `/v1/x/` (query kept at the end).
fn spelling(path: &str, n: usize) -> String {
    let (p, q) = path.split_once('?').map_or((path, String::new()), |(p, q)| (p, format!("?{q}")));
    match n % 3 {
        0 => format!("/v1{p}{q}"),
        1 => format!("{p}{q}"),
        _ => format!("/v1{p}/{q}"),
    }
}

#[tokio::test]
async fn every_v1_route_answers_its_root_key_with_and_without_v1_and_a_trailing_slash() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let (t, a, r, s, e) = (track_id(0), album_id(0), artist_id(0), show_id(0), episode_id(0));
    let pl = ptr_str(&v1.data("/v1/me/playlists").await, "/user/playlists/edges/0/node/id").to_owned();
    let gets: Vec<(String, &[&str])> = vec![
        (format!("/tracks?ids={t}"), &["tracks"]),
        (format!("/tracks/{t}"), &["track"]),
        (format!("/albums?ids={a}"), &["albums"]),
        (format!("/albums/{a}"), &["album"]),
        (format!("/artists?ids={r}"), &["artists"]),
        (format!("/artists/{r}"), &["artist"]),
        (format!("/artists/{r}/albums"), &["artist"]),
        (format!("/artists/{r}/tracks"), &["artist"]),
        (format!("/artists/{r}/related"), &["artist"]),
        (format!("/artists/{r}/followers"), &["artist"]),
        (format!("/podcasts/shows?ids={s}"), &["podcastShows"]),
        (format!("/podcasts/shows/{s}"), &["podcastShow"]),
        (format!("/podcasts/episodes?ids={e}"), &["podcastEpisodes"]),
        (format!("/podcasts/episodes/{e}"), &["podcastEpisode"]),
        ("/me".into(), &["user"]),
        ("/me/playlists".into(), &["user"]),
        ("/me/library/tracks".into(), &["user"]),
        ("/me/library/albums".into(), &["user"]),
        ("/me/library/podcastEpisodes".into(), &["user"]),
        ("/me/tracks".into(), &["user"]),
        ("/me/followed/artists".into(), &["user"]),
        ("/me/followed/playlists".into(), &["user"]),
        ("/me/followed/podcastShows".into(), &["user"]),
        ("/me/recentlyPlayedEntities".into(), &["user"]),
        ("/player/recentlyPlayed?limit=60".into(), &["user"]),
        (format!("/playlists/{pl}"), &["playlist"]),
        (format!("/playlists/{pl}/tracks"), &["playlist"]),
        ("/views/home".into(), &["_type", "id", "images", "content"]),
        ("/views/home/newReleases".into(), &["_type", "id", "title", "viewType", "content"]),
        (format!("/views/artist/{r}"), &["_type", "id", "images", "content", "entity"]),
    ];
    for (path, root) in &gets {
        let first = v1.get(&spelling(path, 0)).await;
        assert_eq!(keys(&ok(&first)), *root, "{path}");
        for n in 1..3 {
            assert_eq!(v1.get(&spelling(path, n)).await.text, first.text, "{}", spelling(path, n));
        }
    }
    let search = v1.get("/search?query=love").await;
    assert!(ok(&search).is_array());
    assert_eq!(v1.get("/v1/search/?query=love").await.text, search.text);

    // Writes, each in one of the spellings.
    let entries = v1.data(&format!("/v1/playlists/{pl}/tracks")).await;
    let entry = |i: usize| {
        ptr_str(&entries, &format!("/playlist/tracks/edges/{i}/cursor")).split_once(':').unwrap().1.to_owned()
    };
    let fresh = (0..).map(track_id).find(|x| !entries.to_string().contains(x.as_str())).unwrap();
    let writes: Vec<(&str, String, Value, &str)> = vec![
        ("POST", "/search/tracks".into(), json!({"searchFilters": [{"query": "love"}]}), "searchTracks"),
        ("POST", "/search/albums".into(), json!({"searchFilters": [{"query": "love"}]}), "searchAlbums"),
        (
            "PUT",
            "/me".into(),
            json!({"name": "A", "visibility": "PUBLIC", "playbackVisibility": "PUBLIC"}),
            "updateUser",
        ),
        ("PUT", "/me/library/tracks".into(), json!({"trackIds": [&fresh]}), "addTracksToLibrary"),
        ("DELETE", "/me/library/tracks".into(), json!({"trackIds": [&fresh]}), "removeTracksFromLibrary"),
        ("PUT", format!("/me/followed/artists/{}", artist_id(1)), json!({}), "followArtists"),
        ("DELETE", format!("/me/followed/artists/{}", artist_id(1)), json!({}), "unfollowArtists"),
        ("PUT", format!("/playlists/{pl}"), json!({"description": "new"}), "updatePlaylist"),
        ("PUT", format!("/playlists/{pl}/tracks"), json!({"trackIds": [&fresh]}), "addTracksToPlaylist"),
        (
            "PATCH",
            format!("/playlists/{pl}/tracks"),
            json!({"entryIds": [entry(1)], "entryIdAbove": entry(0)}),
            "reorderPlaylistTracks",
        ),
        ("DELETE", format!("/playlists/{pl}/tracks"), json!({"entryIds": [entry(2)]}), "removeTracksFromPlaylist"),
        (
            "POST",
            "/playlists".into(),
            json!({"title": "t", "description": "", "visibility": "PUBLIC"}),
            "createPlaylist",
        ),
        ("DELETE", format!("/playlists/{pl}"), json!({}), "deletePlaylist"),
    ];
    for (i, (method, path, body, root)) in writes.iter().enumerate() {
        let p = spelling(path, i);
        let r = v1.call(method, &p, Some(body)).await;
        assert_eq!(keys(&ok(&r)), [*root], "{method} {p}");
    }
}

/// Every connection inside `v` (an object with `pageInfo`): exactly `{pageInfo, edgeCount, edges}`, `edgeCount`
/// is the number of edges, and `pageInfo` is `{"hasNextPage":false}` or `{"hasNextPage":true,"token":"…"}`.
fn check_connections(v: &Value, at: &str, found: &mut usize) {
    match v {
        Value::Object(o) => {
            if let Some(info) = o.get("pageInfo") {
                *found += 1;
                assert_eq!(keys(v), ["pageInfo", "edgeCount", "edges"], "{at}");
                let edges = o["edges"].as_array().unwrap_or_else(|| panic!("{at}: edges"));
                assert_eq!(o["edgeCount"], json!(edges.len()), "{at}: edgeCount");
                match info["hasNextPage"].as_bool() {
                    Some(false) => assert_eq!(*info, json!({"hasNextPage": false}), "{at}"),
                    Some(true) => {
                        assert_eq!(keys(info), ["hasNextPage", "token"], "{at}");
                        assert!(info["token"].as_str().is_some_and(|t| !t.is_empty()), "{at}");
                        assert!(!edges.is_empty(), "{at}: a next page after an empty one");
                    }
                    None => panic!("{at}: hasNextPage is not a boolean: {info}"),
                }
            }
            for (k, x) in o {
                check_connections(x, &format!("{at}.{k}"), found);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                check_connections(x, &format!("{at}[{i}]"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_connection_in_every_answer_is_consistent() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let (r, s) = (artist_id(0), show_id(0));
    let pl = ptr_str(&v1.data("/v1/me/playlists").await, "/user/playlists/edges/0/node/id").to_owned();
    let shows: Vec<String> = (0..catalog().podcast_shows().len()).map(show_id).collect();
    // Follow every show, so that the followed shows' nodes are checked.
    ok(&v1.put("/v1/me/followed/podcastShows", &json!({"showIds": shows})).await);
    let mut found = 0;
    for path in [
        format!("/v1/artists/{r}/albums?limit=1"),
        format!("/v1/artists/{r}/tracks?limit=2"),
        format!("/v1/artists/{r}/related?limit=2"),
        format!("/v1/artists/{r}/followers"),
        format!("/v1/podcasts/shows/{s}?limit=3"),
        format!("/v1/podcasts/shows?ids={}", shows.join(",")),
        "/v1/me/playlists?limit=1".to_owned(),
        "/v1/me/library/tracks?limit=5".to_owned(),
        "/v1/me/library/albums".to_owned(),
        "/v1/me/library/podcastEpisodes?limit=1".to_owned(),
        "/v1/me/tracks?limit=7".to_owned(),
        "/v1/me/followed/artists".to_owned(),
        "/v1/me/followed/playlists?limit=1".to_owned(),
        "/v1/me/followed/podcastShows?limit=2".to_owned(),
        "/v1/me/recentlyPlayedEntities?limit=3".to_owned(),
        "/v1/player/recentlyPlayed?limit=4".to_owned(),
        format!("/v1/playlists/{pl}/tracks?limit=3"),
    ] {
        check_connections(&v1.data(&path).await, &path, &mut found);
    }
    for kind in ["tracks", "albums", "artists", "playlists", "podcastShows", "podcastEpisodes"] {
        for q in ["the", "love", "podcast", "zzzqqq"] {
            let data = ok(&v1
                .post(&format!("/v1/search/{kind}"), &json!({"searchFilters": [{"query": q}], "limit": 2}))
                .await);
            check_connections(&data, &format!("search/{kind} {q}"), &mut found);
        }
    }
    assert!(found > 40, "{found} connections checked");
}
