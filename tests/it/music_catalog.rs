//! Catalog and search routes of the Music API V1 (spec `music-api.md` §3.2, §3.4, §4.1, §4.2, §11.2):
//! envelopes and entity shapes, 404s, batch lookups, path variants, 405 and unknown paths, pagination, and
//! track search (filters, AND semantics, sort orders, body tokens, limits).

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::support::*;

async fn catalog_client(app: &TestApp) -> V1<'_> {
    let t = app.music_token(USER_UNLIMITED, "music::catalog").await;
    app.v1(&t)
}

fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

// ---- single lookups ---------------------------------------------------------------------------------

#[tokio::test]
async fn get_track_answers_data_track_in_the_documented_shape() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let t = &catalog().tracks()[3];
    let id = t.id.as_str();
    let data = v1.data(&format!("/v1/tracks/{id}")).await;
    assert_eq!(keys(&data), ["track"]);
    let track = &data["track"];
    assert_eq!(keys(track), TRACK_KEYS);
    assert_eq!(track["id"], id);
    assert_eq!(track["globalAsin"], id);
    assert_eq!(track["title"], &*t.title);
    assert_eq!(track["duration"], json!(t.duration));
    assert_eq!(keys(&track["album"]), ["id", "title", "url"]);
    let album = ptr_str(track, "/album/id");
    assert_eq!(ptr_str(track, "/album/url"), format!("https://music.amazon.com/albums/{album}"));
    assert!(is_iso_ms(ptr_str(track, "/releaseDate")) && ptr_str(track, "/releaseDate").ends_with("T04:00:00.000Z"));
    assert_eq!(track["isrc"].as_str().unwrap().len(), 12);
    for a in track["artists"].as_array().unwrap() {
        assert_eq!(keys(a), ["id", "name", "url"]);
        assert_eq!(a["url"], format!("https://music.amazon.com/artists/{}", a["id"].as_str().unwrap()));
    }
    assert_eq!(track["musicTerritory"], json!({"code": "US", "territoryName": "United States"}));
    assert_eq!(track["market"], json!({"id": "US", "name": "United States"}));
    assert_eq!(keys(&track["eligibility"]), ["isDownloadable", "isPurchaseable", "isPreviewable", "isPrimeEligible"]);
    let q = track["audioQualities"].as_array().unwrap();
    assert_eq!(q[0], "SD", "SD always comes first");
    // mediaType=AUDIO is the same track; VIDEO is not found; anything else is a 400.
    assert_eq!(v1.data(&format!("/v1/tracks/{id}?mediaType=AUDIO")).await, data);
    assert_v1_error(
        &v1.get(&format!("/v1/tracks/{id}?mediaType=VIDEO")).await,
        404,
        "RESOURCE_NOT_FOUND",
        &format!("The requested video track {id} was not found."),
    );
    assert_v1_error(
        &v1.get(&format!("/v1/tracks/{id}?mediaType=LOUD")).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. mediaType must be AUDIO or VIDEO.",
    );
}

#[tokio::test]
async fn get_album_answers_data_album_in_the_documented_shape() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let a = &catalog().albums()[5];
    let id = a.id.as_str();
    let data = v1.data(&format!("/v1/albums/{id}/")).await;
    assert_eq!(keys(&data), ["album"]);
    let album = &data["album"];
    assert_eq!(keys(album), ALBUM_KEYS);
    assert_eq!(album["globalAsin"], id);
    assert_eq!(album["url"], format!("https://music.amazon.com/albums/{id}"));
    assert_eq!(album["availableMarkets"], json!([{"id": "US", "name": "United States"}]));
    assert_eq!(keys(&album["parentalSettings"]), ["isKidFriendly", "hasExplicitLanguage"]);
    let tracks = album["tracks"].as_array().unwrap();
    assert_eq!(album["trackCount"], json!(tracks.len()));
    let want: Vec<String> =
        catalog().album_tracks(a.idx).iter().map(|&t| catalog()[t].id.as_str().to_owned()).collect();
    assert_eq!(ids_of(&album["tracks"]), want, "tracks in track-number order");
    for t in tracks {
        assert_eq!(keys(t), ["id", "title", "url"]);
        assert_eq!(
            t["url"],
            format!("https://music.amazon.com/albums/{id}/?trackAsin={}&do=play", t["id"].as_str().unwrap())
        );
    }
    let img = &album["images"][0];
    assert_eq!(keys(img), ["height", "width", "url"]);
    assert!(
        ptr_str(img, "/url").starts_with("https://m.media-amazon.com/images/I/")
            && ptr_str(img, "/url").ends_with(".jpg")
    );
}

#[tokio::test]
async fn get_artist_answers_data_artist_with_profile_and_background_images() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let a = &catalog().artists()[2];
    let id = a.id.as_str();
    let data = v1.data(&format!("/v1/artists/{id}")).await;
    assert_eq!(keys(&data), ["artist"]);
    let artist = &data["artist"];
    assert_eq!(keys(artist), ARTIST_KEYS);
    assert_eq!(artist["name"], &*a.name);
    assert_eq!(artist["url"], format!("https://music.amazon.com/artists/{id}"));
    let types: Vec<&str> =
        artist["images"].as_array().unwrap().iter().map(|i| i["imageType"].as_str().unwrap()).collect();
    assert_eq!(types, ["PROFILE", "BACKGROUND"]);
    for i in artist["images"].as_array().unwrap() {
        assert_eq!(keys(i), ["height", "width", "url", "imageType"]);
    }
}

#[tokio::test]
async fn podcast_show_and_episode_lookups_answer_their_root_keys() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let show = &catalog().podcast_shows()[0];
    let id = show.id.to_string();
    let data = v1.data(&format!("/v1/podcasts/shows/{id}")).await;
    assert_eq!(keys(&data), ["podcastShow"]);
    let s = &data["podcastShow"];
    assert_eq!(keys(s), ["id", "title", "description", "episodes"]);
    assert_eq!(keys(&s["episodes"]), ["pageInfo", "edgeCount", "edges"]);
    let first = &s["episodes"]["edges"][0];
    assert_eq!(keys(first), ["cursor", "node"]);
    assert_eq!(keys(&first["node"]), ["id", "title", "url", "duration", "releaseDate"]);
    let ep = ptr_str(first, "/node/id");
    assert!(is_uuid(ep));
    assert_eq!(ptr_str(first, "/node/url"), format!("https://music.amazon.com/podcasts/{id}/episodes/{ep}"));

    let data = v1.data(&format!("/v1/podcasts/episodes/{ep}")).await;
    assert_eq!(keys(&data), ["podcastEpisode"]);
    assert_eq!(data["podcastEpisode"], first["node"]);

    let all_eps = catalog().show_episodes(show.idx).len();
    let walked = v1.walk(&format!("/v1/podcasts/shows/{id}"), 3, |d| d["podcastShow"]["episodes"].clone()).await;
    assert_eq!(walked.len(), all_eps);
    assert_eq!(walked.iter().collect::<HashSet<_>>().len(), all_eps, "each episode once");
}

#[tokio::test]
async fn artist_sub_resources_answer_paginated_lists_under_data_artist() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let a = &catalog().artists()[0];
    let id = a.id.as_str();
    for (sub, key, kinds) in [
        ("albums", "albums", ALBUM_KEYS.as_slice()),
        ("tracks", "tracks", TRACK_KEYS.as_slice()),
        ("related", "relatedArtists", ARTIST_KEYS.as_slice()),
        ("followers", "followers", ["id", "name", "images", "url"].as_slice()),
    ] {
        let data = v1.data(&format!("/v1/artists/{id}/{sub}")).await;
        assert_eq!(keys(&data), ["artist"], "{sub}");
        assert_eq!(keys(&data["artist"]), ["id", key], "{sub}");
        let conn = &data["artist"][key];
        assert_eq!(keys(conn), ["pageInfo", "edgeCount", "edges"], "{sub}");
        if let Some(e) = conn["edges"].get(0) {
            assert_eq!(keys(e), ["cursor", "node"]);
            assert_eq!(keys(&e["node"]), kinds, "{sub}");
        }
        assert_v1_error(
            &v1.get(&format!("/v1/artists/B000000000/{sub}")).await,
            404,
            "RESOURCE_NOT_FOUND",
            "The requested artist B000000000 was not found.",
        );
    }
    let want: Vec<String> =
        catalog().artist_tracks(a.idx).iter().map(|&t| catalog()[t].id.as_str().to_owned()).collect();
    assert!(want.len() > 10, "the first artist has {} tracks", want.len());
    assert_eq!(v1.walk(&format!("/v1/artists/{id}/tracks"), 4, |d| d["artist"]["tracks"].clone()).await, want);
}

#[tokio::test]
async fn the_followers_of_an_artist_are_the_sessions_customers_who_follow_it() {
    let app = TestApp::spawn().await;
    let ava = app.music(USER_UNLIMITED).await;
    let ben = app.music(USER_PRIME).await;
    let followed = node_ids(&ben.data("/v1/me/followed/artists").await["user"]["followedArtists"]);
    let artist = (0..30).map(artist_id).find(|a| !followed.contains(a)).unwrap();
    let before = node_ids(&ava.data(&format!("/v1/artists/{artist}/followers")).await["artist"]["followers"]);
    ok(&ben.put(&format!("/v1/me/followed/artists/{artist}"), &json!({})).await);
    let after = node_ids(&ava.data(&format!("/v1/artists/{artist}/followers")).await["artist"]["followers"]);
    let ben_id = ptr_str(&ben.data("/v1/me").await, "/user/id").to_owned();
    assert!(!before.contains(&ben_id) && after.contains(&ben_id), "{before:?} → {after:?}");
}

#[tokio::test]
async fn unknown_ids_are_404_resource_not_found_on_every_lookup() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let unknown_uuid = "00000000-0000-4000-8000-000000000000";
    for (path, kind, id) in [
        ("/v1/tracks/B000000000", "track", "B000000000"),
        ("/v1/tracks/not-an-asin", "track", "not-an-asin"),
        ("/v1/albums/B000000000", "album", "B000000000"),
        ("/v1/artists/B000000000", "artist", "B000000000"),
        (&format!("/v1/podcasts/shows/{unknown_uuid}") as &str, "podcast show", unknown_uuid),
        (&format!("/v1/podcasts/episodes/{unknown_uuid}") as &str, "podcast episode", unknown_uuid),
    ] {
        assert_v1_error(
            &v1.get(path).await,
            404,
            "RESOURCE_NOT_FOUND",
            &format!("The requested {kind} {id} was not found."),
        );
    }
    // An album id is not a track.
    let album = album_id(0);
    assert_v1_error(
        &v1.get(&format!("/v1/tracks/{album}")).await,
        404,
        "RESOURCE_NOT_FOUND",
        &format!("The requested track {album} was not found."),
    );
}

// ---- batch lookups ----------------------------------------------------------------------------------

#[tokio::test]
async fn batch_lookups_keep_request_order_and_leave_out_unknown_ids() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let cases: [(&str, &str, Vec<String>); 5] = [
        ("/v1/tracks", "tracks", vec![track_id(9), track_id(2), track_id(5)]),
        ("/v1/albums/", "albums", vec![album_id(3), album_id(1)]),
        ("/v1/artists", "artists", vec![artist_id(4), artist_id(0)]),
        ("/v1/podcasts/shows", "podcastShows", vec![show_id(1), show_id(0)]),
        ("/v1/podcasts/episodes", "podcastEpisodes", vec![episode_id(4), episode_id(2)]),
    ];
    for (path, key, ids) in cases {
        let mut asked = ids.clone();
        asked.insert(1, "B000000000".into());
        let data = v1.data(&format!("{path}?ids={}", asked.join(","))).await;
        assert_eq!(keys(&data), [key]);
        assert_eq!(ids_of(&data[key]), ids, "{path}");
    }
    // Nothing found is an empty list, not a 404.
    assert_eq!(v1.data("/v1/tracks?ids=B000000000").await, json!({"tracks": []}));
}

#[tokio::test]
async fn batch_lookups_take_up_to_100_ids_and_reject_101() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let hundred: Vec<String> = (0..100).map(track_id).collect();
    let data = v1.data(&format!("/v1/tracks?ids={}", hundred.join(","))).await;
    assert_eq!(ids_of(&data["tracks"]), hundred);
    let mut more = hundred.clone();
    more.push(track_id(100));
    for path in ["/v1/tracks", "/v1/albums", "/v1/artists", "/v1/podcasts/shows", "/v1/podcasts/episodes"] {
        assert_v1_error(
            &v1.get(&format!("{path}?ids={}", more.join(","))).await,
            400,
            "BAD_REQUEST",
            "Malformed request. Check for missing query parameter. At most 100 ids may be requested at once; got 101.",
        );
    }
}

#[tokio::test]
async fn an_empty_or_missing_ids_parameter_is_400_with_the_documented_message() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    for path in ["/v1/tracks?ids=", "/v1/tracks", "/v1/albums?ids=,,", "/v1/artists?ids=%20", "/v1/podcasts/shows?ids="]
    {
        assert_v1_error(&v1.get(path).await, 400, "BAD_REQUEST", MALFORMED);
    }
}

// ---- paths and methods ------------------------------------------------------------------------------

#[tokio::test]
async fn paths_with_and_without_v1_and_a_trailing_slash_give_the_same_answer() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let id = track_id(1);
    let want = v1.get(&format!("/v1/tracks/{id}")).await.text;
    for path in [format!("/v1/tracks/{id}/"), format!("/tracks/{id}"), format!("/tracks/{id}/")] {
        let r = v1.get(&path).await;
        ok(&r);
        assert_eq!(r.text, want, "{path}");
    }
    let a = album_id(0);
    let want = v1.get(&format!("/v1/albums?ids={a}")).await.text;
    for path in [format!("/v1/albums/?ids={a}"), format!("/albums?ids={a}"), format!("/albums/?ids={a}")] {
        assert_eq!(v1.get(&path).await.text, want, "{path}");
    }
    // Errors too (apart from the reference).
    for path in ["/v1/tracks/B000000000", "/v1/tracks/B000000000/", "/tracks/B000000000", "/tracks/B000000000/"] {
        assert_v1_error(
            &v1.get(path).await,
            404,
            "RESOURCE_NOT_FOUND",
            "The requested track B000000000 was not found.",
        );
    }
}

#[tokio::test]
async fn a_wrong_method_is_405_in_the_v1_envelope() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let id = track_id(0);
    for (method, path) in [
        ("DELETE", format!("/v1/tracks/{id}")),
        ("POST", format!("/tracks/{id}/")),
        ("GET", "/v1/playlists".to_owned()),
        ("PATCH", "/v1/me".to_owned()),
        ("GET", "/v1/search/tracks".to_owned()),
        ("POST", "/v1/search".to_owned()),
    ] {
        let r = v1.call(method, &path, None).await;
        assert_v1_error(&r, 405, "METHOD_NOT_ALLOWED", &format!("{method} is not supported on this resource."));
    }
}

#[tokio::test]
async fn an_unknown_v1_path_is_404_in_the_v1_envelope() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    for path in ["/v1/nope", "/v1/tracks/B076YT2CBT/lyrics", "/v1", "/v1/"] {
        let canonical = path.trim_end_matches('/');
        assert_v1_error(&v1.get(path).await, 404, "RESOURCE_NOT_FOUND", &format!("No such resource: {canonical}"));
    }
    // Without a token too: an unknown path is not an auth question.
    let r = app.v1_raw("GET", "/v1/nope", &[], None).await;
    assert_v1_error(&r, 404, "RESOURCE_NOT_FOUND", "No such resource: /v1/nope");
}

#[tokio::test]
async fn a_path_or_query_that_does_not_decode_to_utf8_is_400_in_the_v1_envelope_after_the_auth_chain() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let bad_path =
        "Malformed request. Check for missing query parameter. A path segment is not valid UTF-8 once percent-decoded.";
    let bad_query = "Malformed request. Check for missing query parameter. The query string is not valid UTF-8 once percent-decoded.";
    for (method, path, message) in [
        ("GET", "/v1/tracks/%FF", bad_path),
        ("GET", "/albums/%C3%28", bad_path),
        ("GET", "/v1/artists/%FF/tracks", bad_path),
        ("GET", "/v1/views/artist/%FF", bad_path),
        ("GET", "/v1/views/%FF", bad_path),
        ("GET", "/v1/playlists/%FF/tracks", bad_path),
        ("DELETE", "/v1/me/followed/artists/%FF", bad_path),
        ("POST", "/v1/search/%FF", bad_path),
        ("GET", "/v1/me/playlists?limit=%FF", bad_query),
        ("GET", "/v1/tracks?ids=B000000000&x=%FF", bad_query),
        ("GET", "/v1/search?query=%FF", bad_query),
    ] {
        let body = json!({"searchFilters": [{"query": "x"}]});
        let r = v1.call(method, path, (method == "POST").then_some(&body)).await;
        assert_v1_error(&r, 400, "BAD_REQUEST", message);
        // Without a token the auth chain answers first.
        let r = app.v1_raw(method, path, &[("x-api-key", API_KEY)], None).await;
        assert_eq!(
            v1_error_message(&r, 401, "INVALID_AUTH_TYPE"),
            "Missing Authorization header. Send Authorization: Bearer <LWA access token>."
        );
    }
}

// ---- pagination -------------------------------------------------------------------------------------

#[tokio::test]
async fn limit_must_be_an_integer_from_1_to_100() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let a = artist_id(0);
    let show = show_id(0);
    for path in [format!("/v1/artists/{a}/tracks"), format!("/v1/podcasts/shows/{show}")] {
        for bad in ["0", "101", "-1", "ten", "1.5", "%20"] {
            assert_v1_error(
                &v1.get(&format!("{path}?limit={bad}")).await,
                400,
                "BAD_REQUEST",
                "Malformed request. Check for missing query parameter. limit must be an integer from 1 to 100.",
            );
        }
        ok(&v1.get(&format!("{path}?limit=1")).await);
        ok(&v1.get(&format!("{path}?limit=100")).await);
    }
}

#[tokio::test]
async fn a_garbage_cursor_is_400() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let a = artist_id(0);
    for bad in ["nope", "bz1h", "%7B%7D", "bz14O3Y9MQ"] {
        assert_v1_error(
            &v1.get(&format!("/v1/artists/{a}/tracks?cursor={bad}")).await,
            400,
            "BAD_REQUEST",
            "Malformed request. Check for missing query parameter. The cursor (token) is not valid; use pageInfo.token from the previous page.",
        );
    }
}

#[tokio::test]
async fn the_default_limit_is_100_and_walking_pages_yields_each_item_once() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    // The most prolific artist.
    let a = catalog().artists().iter().max_by_key(|a| catalog().artist_tracks(a.idx).len()).unwrap();
    let n = catalog().artist_tracks(a.idx).len();
    let data = v1.data(&format!("/v1/artists/{}/tracks", a.id.as_str())).await;
    assert_eq!(data["artist"]["tracks"]["edgeCount"], json!(n.min(100)));
    for limit in [1, 7, n] {
        let ids =
            v1.walk(&format!("/v1/artists/{}/tracks", a.id.as_str()), limit, |d| d["artist"]["tracks"].clone()).await;
        assert_eq!(ids.len(), n, "limit {limit}");
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), n, "limit {limit}: each item exactly once");
    }
}

// ---- search by body ---------------------------------------------------------------------------------

async fn search(v1: &V1<'_>, body: Value) -> Value {
    let data = ok(&v1.post("/v1/search/tracks", &body).await);
    assert_eq!(keys(&data), ["searchTracks"]);
    let s = data["searchTracks"].clone();
    assert_eq!(keys(&s), ["pageInfo", "edgeCount", "edges"]);
    for e in s["edges"].as_array().unwrap() {
        assert_eq!(keys(e), ["node"], "search edges are {{node}}");
        assert_eq!(keys(&e["node"]), TRACK_KEYS);
    }
    s
}

async fn search_ids(v1: &V1<'_>, body: Value) -> Vec<String> {
    node_ids(&search(v1, body).await)
}

/// Every result of a search, walking `token`s in the body.
async fn search_all(v1: &V1<'_>, mut body: Value, limit: usize) -> Vec<Value> {
    body["limit"] = json!(limit);
    let mut out = Vec::new();
    loop {
        let s = search(v1, body.clone()).await;
        out.extend(s["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()));
        if s["pageInfo"]["hasNextPage"] == json!(true) {
            body["token"] = s["pageInfo"]["token"].clone();
        } else {
            assert_eq!(s["pageInfo"], json!({"hasNextPage": false}));
            return out;
        }
    }
}

#[tokio::test]
async fn search_tracks_by_each_field() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let cat = catalog();
    let t = &cat.tracks()[42];
    let album = &cat[t.album];
    let artist = &cat[t.primary_artist()];
    let id = t.id.as_str();
    let f = |field: &str, q: &str| json!({"searchFilters": [{"field": field, "query": q}]});

    assert_eq!(search_ids(&v1, f("id", id)).await, [id]);
    assert_eq!(search_ids(&v1, f("asin", id)).await, [id]);
    assert_eq!(search_ids(&v1, f("isrc", t.isrc.as_str())).await, [id]);
    let want: HashSet<String> = cat.album_tracks(album.idx).iter().map(|&x| cat[x].id.as_str().to_owned()).collect();
    assert_eq!(search_ids(&v1, f("albumId", album.id.as_str())).await.into_iter().collect::<HashSet<_>>(), want);
    let by_artist = search_all(&v1, f("artistId", artist.id.as_str()), 100).await;
    assert_eq!(by_artist.len(), cat.artist_tracks(artist.idx).len());
    for n in &by_artist {
        assert!(n["artists"].as_array().unwrap().iter().any(|a| a["id"] == artist.id.as_str()), "{n}");
    }
    for n in search_all(&v1, f("albumName", &album.title), 100).await {
        let words = |s: &str| {
            s.to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect::<HashSet<_>>()
        };
        assert!(words(&album.title).is_subset(&words(ptr_str(&n, "/album/title"))), "{n}");
    }
    for n in search_all(&v1, f("artistName", &artist.name), 100).await {
        let names: Vec<String> =
            n["artists"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_lowercase()).collect();
        let first_word = artist.name.split_whitespace().next().unwrap().to_lowercase();
        assert!(names.iter().any(|x| x.contains(&first_word)), "{names:?}");
    }
    let title_word = t.title.split_whitespace().next().unwrap().to_lowercase();
    let named = search_all(&v1, f("name", &title_word), 100).await;
    assert!(named.iter().any(|n| n["id"] == id));
    for n in &named {
        assert!(ptr_str(n, "/title").to_lowercase().contains(&title_word), "{n}");
    }
    let genre = t.genre.id();
    let in_genre = search_all(&v1, f("categoryId", genre), 100).await;
    let want = cat.tracks().iter().filter(|x| x.genre == t.genre).count();
    assert_eq!(in_genre.len(), want, "every {genre} track");
    // Unknown ids and words match nothing.
    assert!(search_ids(&v1, f("id", "B000000000")).await.is_empty());
    assert!(search_ids(&v1, f("name", "zzzqqqxxx")).await.is_empty());
}

#[tokio::test]
async fn search_filters_and_together() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let cat = catalog();
    let t = &cat.tracks()[10];
    let artist = &cat[t.primary_artist()];
    let genre = t.genre.id();
    let by_artist: HashSet<String> =
        search_all(&v1, json!({"searchFilters": [{"field": "artistId", "query": artist.id.as_str()}]}), 100)
            .await
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect();
    let by_genre: HashSet<String> =
        search_all(&v1, json!({"searchFilters": [{"field": "categoryId", "query": genre}]}), 100)
            .await
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect();
    let both: HashSet<String> = search_all(
        &v1,
        json!({"searchFilters": [{"field": "artistId", "query": artist.id.as_str()}, {"field": "categoryId", "query": genre}]}),
        100,
    )
    .await
    .iter()
    .map(|n| n["id"].as_str().unwrap().to_owned())
    .collect();
    assert!(!both.is_empty());
    assert_eq!(both, by_artist.intersection(&by_genre).cloned().collect::<HashSet<_>>());
    // A contradiction matches nothing.
    let none = search_ids(
        &v1,
        json!({"searchFilters": [{"field": "id", "query": t.id.as_str()}, {"field": "id", "query": cat.tracks()[11].id.as_str()}]}),
    )
    .await;
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_match_query_without_field_searches_title_album_and_artist() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let cat = catalog();
    let t = &cat.tracks()[77];
    let found = search_all(&v1, json!({"searchFilters": [{"query": &*t.title}]}), 100).await;
    assert!(found.iter().any(|n| n["id"] == t.id.as_str()), "the track is found by its title");
    let artist = &cat[t.primary_artist()];
    let found = search_all(&v1, json!({"searchFilters": [{"query": &*artist.name}]}), 100).await;
    assert!(found.iter().any(|n| n["id"] == t.id.as_str()), "and by its artist's name");
    // Relevance: an exact title match comes first.
    let first = search_ids(&v1, json!({"searchFilters": [{"query": &*t.title}], "limit": 5})).await;
    let first_title = catalog().track(&first[0]).unwrap().title.to_lowercase();
    assert_eq!(first_title, t.title.to_lowercase());
}

#[tokio::test]
async fn each_sort_by_orders_results_as_defined() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let cat = catalog();
    let body = |sort: &str| json!({"searchFilters": [{"field": "categoryId", "query": "rock"}], "sortBy": sort});
    let by = |sort: &'static str| {
        let v1 = &v1;
        async move { search_all(v1, body(sort), 100).await }
    };
    let release = by("release").await;
    assert!(release.len() > 20);
    let id_of = |n: &Value| n["id"].as_str().unwrap().to_owned();
    // Newest first; ties by album id, track number, then id (src/catalog/derived.rs).
    let release_key = |n: &Value| {
        let t = cat.track(n["id"].as_str().unwrap()).unwrap();
        (
            std::cmp::Reverse(ptr_str(n, "/releaseDate").to_owned()),
            ptr_str(n, "/album/id").to_owned(),
            t.track_number,
            id_of(n),
        )
    };
    for w in release.windows(2) {
        assert!(release_key(&w[0]) < release_key(&w[1]), "release order: {} then {}", w[0]["id"], w[1]["id"]);
    }
    let name = by("name").await;
    for w in name.windows(2) {
        let (a, b) = (ptr_str(&w[0], "/title").to_lowercase(), ptr_str(&w[1], "/title").to_lowercase());
        assert!(
            a < b || (a == b && id_of(&w[0]) < id_of(&w[1])),
            "name: A→Z case-insensitive, ties by id: {a:?} {b:?}"
        );
    }
    let popularity = by("popularity").await;
    for w in popularity.windows(2) {
        let (a, b) = (cat.track(&id_of(&w[0])).unwrap().popularity, cat.track(&id_of(&w[1])).unwrap().popularity);
        assert!(
            a > b || (a == b && id_of(&w[0]) < id_of(&w[1])),
            "popularity: most popular first, ties by id: {a} {b}"
        );
    }
    let relevance = by("relevance").await;
    let default = search_all(&v1, json!({"searchFilters": [{"field": "categoryId", "query": "rock"}]}), 100).await;
    assert_eq!(relevance, default, "relevance is the default");
    // Every order holds the same set.
    let set = |v: &[Value]| v.iter().map(id_of).collect::<HashSet<_>>();
    assert_eq!(set(&release), set(&name));
    assert_eq!(set(&release), set(&popularity));
    assert_eq!(set(&release), set(&relevance));
    assert_eq!(release.len(), set(&release).len(), "each result once across pages");
}

#[tokio::test]
async fn bad_search_bodies_are_400() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let unknown_field = "Malformed request. Check for missing query parameter. Unknown field \"genre\"; use one of id, asin, albumId, albumName, artistId, artistName, categoryId, name, isrc.";
    let missing = "Malformed request. Check for missing query parameter. searchFilters is required: [{\"field\"?: …, \"query\": …}].";
    let cases: Vec<(Value, String)> = vec![
        (json!({"searchFilters": [{"field": "genre", "query": "rock"}]}), unknown_field.into()),
        (
            json!({"searchFilters": [{"query": "love"}], "sortBy": "date"}),
            "Malformed request. Check for missing query parameter. sortBy \"date\" is not one of relevance, release, popularity, name.".into(),
        ),
        (json!({"limit": 5}), missing.into()),
        (json!({"searchFilters": []}), missing.into()),
        (
            json!({"searchFilters": [{"query": ""}]}),
            "Malformed request. Check for missing query parameter. Every search filter needs a non-empty query.".into(),
        ),
        (
            json!({"searchFilters": [{"query": "   "}]}),
            "Malformed request. Check for missing query parameter. Every search filter needs a non-empty query.".into(),
        ),
        (
            json!({"searchFilters": [{"query": "x"}], "limit": 0}),
            "Malformed request. Check for missing query parameter. limit must be an integer from 1 to 100.".into(),
        ),
        (
            json!({"searchFilters": [{"query": "x"}], "limit": 101}),
            "Malformed request. Check for missing query parameter. limit must be an integer from 1 to 100.".into(),
        ),
        (
            json!({"searchFilters": [{"query": "x"}], "limit": true}),
            "Malformed request. Check for missing query parameter. limit must be an integer.".into(),
        ),
        (
            json!({"searchFilters": [{"query": "x"}], "token": "garbage"}),
            "Malformed request. Check for missing query parameter. The cursor (token) is not valid; use pageInfo.token from the previous page.".into(),
        ),
    ];
    for (body, message) in cases {
        assert_v1_error(&v1.post("/v1/search/tracks", &body).await, 400, "BAD_REQUEST", &message);
    }
    let r =
        app.send(app.http.post(app.url("/v1/search/tracks")).bearer_auth(&v1.token).header("x-api-key", API_KEY)).await;
    assert_v1_error(
        &r,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. A JSON body is required.",
    );
    let r = v1
        .app
        .v1_raw(
            "POST",
            "/v1/search/tracks",
            &[("authorization", &format!("Bearer {}", v1.token)), ("x-api-key", API_KEY)],
            Some("{\"searchFilters\": ["),
        )
        .await;
    assert!(
        v1_error_message(&r, 400, "BAD_REQUEST")
            .starts_with("Malformed request. Check for missing query parameter. Invalid JSON body: ")
    );
}

#[tokio::test]
async fn search_limit_defaults_to_100_and_the_setting_narrows_it_to_20() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let body = json!({"searchFilters": [{"field": "categoryId", "query": "pop"}]});
    let total = search_all(&v1, body.clone(), 100).await.len();
    assert!(total > 100, "pop has {total} tracks");
    assert_eq!(search(&v1, body.clone()).await["edgeCount"], json!(100));
    app.settings("", json!({"search_limit_max": 20})).await;
    assert_eq!(search(&v1, body.clone()).await["edgeCount"], json!(20), "the default follows the narrower max");
    let mut b = body.clone();
    b["limit"] = json!(21);
    assert_v1_error(
        &v1.post("/v1/search/tracks", &b).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. limit must be an integer from 1 to 20.",
    );
    assert_eq!(search_all(&v1, body, 20).await.len(), total);
}

#[tokio::test]
async fn the_other_search_kinds_answer_search_kind_with_node_edges() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let cat = catalog();
    let cases: [(&str, &str, String, &[&str]); 5] = [
        ("albums", "searchAlbums", cat.albums()[0].title.to_string(), &ALBUM_KEYS),
        ("artists", "searchArtists", cat.artists()[0].name.to_string(), &ARTIST_KEYS),
        (
            "playlists",
            "searchPlaylists",
            cat.playlists()[0].title.to_string(),
            &[
                "id",
                "curator",
                "duration",
                "images",
                "eligibility",
                "title",
                "description",
                "trackCount",
                "url",
                "visibility",
            ],
        ),
        (
            "podcastShows",
            "searchPodcastShows",
            cat.podcast_shows()[0].title.to_string(),
            &["id", "title", "description", "episodes"],
        ),
        (
            "podcastEpisodes",
            "searchPodcastEpisodes",
            cat.podcast_episodes()[0].title.to_string(),
            &["id", "title", "url", "duration", "releaseDate"],
        ),
    ];
    for (kind, key, query, node_keys) in cases {
        let data = ok(&v1
            .post(&format!("/v1/search/{kind}"), &json!({"searchFilters": [{"query": query}], "limit": 3}))
            .await);
        assert_eq!(keys(&data), [key]);
        let conn = &data[key];
        assert_eq!(keys(conn), ["pageInfo", "edgeCount", "edges"]);
        assert!(conn["edgeCount"].as_u64().unwrap() >= 1, "{kind} {query}: {conn}");
        assert_eq!(keys(&conn["edges"][0]), ["node"]);
        assert_eq!(keys(&conn["edges"][0]["node"]), node_keys, "{kind}");
        // Fields are for track search only.
        let r =
            v1.post(&format!("/v1/search/{kind}"), &json!({"searchFilters": [{"field": "name", "query": "x"}]})).await;
        assert_v1_error(
            &r,
            400,
            "BAD_REQUEST",
            "Malformed request. Check for missing query parameter. Field \"name\" is only supported by track search.",
        );
    }
    assert_v1_error(
        &v1.post("/v1/search/stations", &json!({"searchFilters": [{"query": "x"}]})).await,
        404,
        "RESOURCE_NOT_FOUND",
        "The requested search type stations was not found.",
    );
}

// ---- GET /v1/search ---------------------------------------------------------------------------------

#[tokio::test]
async fn get_search_answers_one_catalog_view_whose_first_group_is_top_hits() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    let artist = &catalog().artists()[0];
    let data = v1.data(&format!("/v1/search?query={}", enc(&artist.name))).await;
    let views = data.as_array().expect("data is an array of views");
    assert_eq!(views.len(), 1);
    let view = &views[0];
    assert_eq!(keys(view), ["_type", "id", "title", "content"]);
    assert_eq!(
        (&view["_type"], &view["id"], &view["title"]),
        (&json!("View"), &json!("catalog"), &json!("Catalog Data"))
    );
    assert_eq!(keys(&view["content"]), ["_type", "nextPageToken", "entityGroups"]);
    let groups = view["content"]["entityGroups"].as_array().unwrap();
    assert_eq!(groups[0]["title"], "Top hits");
    assert_eq!(groups[0]["id"], "topHits");
    // The artist's exact name makes the artist the first top hit.
    assert_eq!(groups[0]["content"]["entities"][0]["id"], artist.id.as_str());
    for g in groups {
        assert_eq!(keys(g), ["_type", "id", "title", "viewType", "content"]);
        assert_eq!(g["viewType"], "LIST");
        assert_eq!(keys(&g["content"]), ["_type", "nextPageToken", "entities"]);
        let n = g["content"]["entities"].as_array().unwrap().len();
        assert!((1..=10).contains(&n), "default 10 per type: {n}");
    }
    // The default is 10 per type: a common word fills the songs group.
    let data = v1.data("/v1/search?query=love").await;
    let songs = data[0]["content"]["entityGroups"].as_array().unwrap().iter().find(|g| g["id"] == "tracks").unwrap();
    assert_eq!(songs["content"]["entities"].as_array().unwrap().len(), 10);
    assert_eq!(
        data[0]["content"]["entityGroups"][0]["content"]["entities"].as_array().unwrap().len(),
        10,
        "top hits too"
    );
    // limit is per type.
    let data = v1.data("/v1/search?query=the&limit=2").await;
    for g in data[0]["content"]["entityGroups"].as_array().unwrap() {
        assert!(g["content"]["entities"].as_array().unwrap().len() <= 2, "{g}");
    }
}

#[tokio::test]
async fn get_search_with_an_empty_query_or_bad_limit_is_400() {
    let app = TestApp::spawn().await;
    let v1 = catalog_client(&app).await;
    for path in ["/v1/search", "/v1/search?query=", "/v1/search?query=%20%20", "/search/?query="] {
        assert_v1_error(
            &v1.get(path).await,
            400,
            "BAD_REQUEST",
            "Malformed request. Check for missing query parameter. query must not be empty.",
        );
    }
    for bad in ["0", "101", "x"] {
        assert_v1_error(
            &v1.get(&format!("/v1/search?query=love&limit={bad}")).await,
            400,
            "BAD_REQUEST",
            "Malformed request. Check for missing query parameter. limit must be an integer from 1 to 100.",
        );
    }
}
