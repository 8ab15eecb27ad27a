//! Views and listening history (spec `music-api.md` §3.4 "View (V1)", §4.5, §11.1, §11.2): the home view and
//! its groups' see-all pages (limit 1–10), the entity views, `GET /v1/player/recentlyPlayed` (limit 1–60,
//! `<epochMillis>:<uuid>` tokens) and `GET /v1/me/recentlyPlayedEntities`.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::support::*;

const ENTITY_TYPES: [&str; 6] = ["Track", "Album", "Artist", "Playlist", "PodcastShow", "PodcastEpisode"];

/// Checks a view entity (§3.4): `_type`, `id`, `title` or `name`, `artists[{id,name}]` on tracks and albums,
/// `images[{url}]`, `playParams{id: mrn:1.0:catalog:<type>:asin:<id>}`.
fn check_entity(e: &Value) {
    let t = ptr_str(e, "/_type");
    assert!(ENTITY_TYPES.contains(&t), "{e}");
    let want: &[&str] = match t {
        "Track" | "Album" => &["_type", "id", "title", "artists", "images", "playParams"],
        "Artist" => &["_type", "id", "name", "images", "playParams"],
        _ => &["_type", "id", "title", "images", "playParams"],
    };
    assert_eq!(keys(e), want, "{e}");
    let id = ptr_str(e, "/id");
    match t {
        "PodcastShow" | "PodcastEpisode" => assert!(is_uuid(id), "{e}"),
        _ => assert!(is_asin(id), "{e}"),
    }
    if let Some(artists) = e.get("artists") {
        for a in artists.as_array().unwrap() {
            assert_eq!(keys(a), ["id", "name"]);
        }
    }
    assert_eq!(keys(&e["images"][0]), ["url"]);
    let mut kind = t.to_owned();
    kind[..1].make_ascii_lowercase();
    assert_eq!(e["playParams"], json!({"id": format!("mrn:1.0:catalog:{kind}:asin:{id}")}), "{e}");
}

/// Checks a group's shape; returns its entity ids.
fn check_group(g: &Value, limit: usize) -> Vec<String> {
    assert_eq!(keys(g), ["_type", "id", "title", "viewType", "content"], "{g}");
    assert_eq!(g["_type"], "EntityGroup");
    assert_eq!(g["viewType"], "LIST");
    assert_eq!(keys(&g["content"]), ["_type", "nextPageToken", "entities"]);
    assert_eq!(g["content"]["_type"], "EntityGroupContent");
    let entities = g["content"]["entities"].as_array().unwrap();
    assert!(!entities.is_empty() && entities.len() <= limit, "{} entities, limit {limit}", entities.len());
    if g["content"]["nextPageToken"].is_string() {
        assert_eq!(entities.len(), limit, "a page with a next page is full");
    } else {
        assert!(g["content"]["nextPageToken"].is_null());
    }
    entities.iter().inspect(|e| check_entity(e)).map(|e| ptr_str(e, "/id").to_owned()).collect()
}

/// Checks a view's shape; returns its groups.
fn check_view(v: &Value, id: &str, limit: usize) -> Vec<Value> {
    assert_eq!(v["_type"], "View");
    assert_eq!(v["id"], id);
    assert_eq!(v["images"], json!([]));
    assert_eq!(keys(&v["content"]), ["_type", "nextPageToken", "entityGroups"]);
    assert_eq!(v["content"]["_type"], "ViewContent");
    assert_eq!(v["content"]["nextPageToken"], Value::Null);
    let groups = v["content"]["entityGroups"].as_array().unwrap().clone();
    for g in &groups {
        check_group(g, limit);
    }
    groups
}

#[tokio::test]
async fn the_home_view_has_the_documented_shape_and_ten_entities_per_group() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let view = v1.data("/v1/views/home").await;
    assert_eq!(keys(&view), ["_type", "id", "images", "content"]);
    let groups = check_view(&view, "home", 10);
    let ids: Vec<&str> = groups.iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["home:recentlyPlayed", "home:recommendedForYou", "home:newReleases", "home:popularPlaylists"]);
    let titles: Vec<&str> = groups.iter().map(|g| g["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Recently played", "Recommended for you", "New releases", "Popular playlists"]);
    // limit narrows every group.
    for g in check_view(&v1.data("/v1/views/home?limit=3").await, "home", 3) {
        assert!(g["content"]["entities"].as_array().unwrap().len() <= 3);
    }
    for bad in ["0", "11", "x"] {
        assert_v1_error(
            &v1.get(&format!("/v1/views/home?limit={bad}")).await,
            400,
            "BAD_REQUEST",
            "Malformed request. Check for missing query parameter. limit must be an integer from 1 to 10.",
        );
    }
}

#[tokio::test]
async fn a_groups_see_all_pages_walk_every_entity_once() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let view = v1.data("/v1/views/home").await;
    let group = view["content"]["entityGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "home:newReleases")
        .unwrap()
        .clone();
    let first_page = check_group(&group, 10);
    for limit in [10, 3] {
        let mut all: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => format!("/v1/views/home/home:newReleases?limit={limit}"),
                Some(c) => format!("/v1/views/home/home:newReleases?limit={limit}&cursor={}", enc(c)),
            };
            let g = v1.data(&path).await;
            assert_eq!(g["id"], "home:newReleases");
            all.extend(check_group(&g, limit));
            match g["content"]["nextPageToken"].as_str() {
                Some(t) => cursor = Some(t.to_owned()),
                None => break,
            }
        }
        assert_eq!(all.len(), 50, "limit {limit}");
        assert_eq!(all.iter().collect::<HashSet<_>>().len(), 50, "each once");
        assert_eq!(all[..10], first_page[..], "the see-all pages start with the view's page");
    }
    // The short group id works too; an unknown group or a bad cursor does not.
    let short = v1.data("/v1/views/home/newReleases").await;
    assert_eq!(short, v1.data("/v1/views/home/home:newReleases").await);
    assert_v1_error(
        &v1.get("/v1/views/home/home:nope").await,
        404,
        "RESOURCE_NOT_FOUND",
        "The requested view group home:nope was not found.",
    );
    assert_v1_error(
        &v1.get("/v1/views/home/newReleases?cursor=garbage").await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. The cursor (token) is not valid; use pageInfo.token from the previous page.",
    );
    assert_v1_error(
        &v1.get("/v1/views/home/newReleases?limit=11").await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. limit must be an integer from 1 to 10.",
    );
}

#[tokio::test]
async fn new_releases_are_newest_first_and_recently_played_follows_history() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_PRIME).await;
    let g = v1.data("/v1/views/home/newReleases").await;
    let dates: Vec<String> =
        check_group(&g, 10).iter().map(|id| catalog().album(id).unwrap().release_date.to_iso()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    // Recently played: the albums of the history, most recent first, each once.
    let plays = v1.data("/v1/player/recentlyPlayed").await;
    let mut albums: Vec<String> = Vec::new();
    for e in plays["user"]["recentTrackPlayback"]["edges"].as_array().unwrap() {
        let album = catalog()[catalog().track(ptr_str(e, "/node/id")).unwrap().album].id.as_str().to_owned();
        if !albums.contains(&album) {
            albums.push(album);
        }
    }
    let g = v1.data("/v1/views/home/recentlyPlayed?limit=10").await;
    assert_eq!(check_group(&g, 10), albums[..10]);
}

#[tokio::test]
async fn entity_views_answer_with_their_entity_and_groups() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let artist = artist_id(0);
    let album = album_id(0);
    let playlist = catalog_playlist_id(0);
    let show = show_id(0);
    for (name, id, groups) in [
        ("artist", &artist, vec!["topSongs", "albums", "relatedArtists"]),
        ("album", &album, vec!["tracks", "moreByArtist"]),
        ("playlist", &playlist, vec!["tracks"]),
        ("podcast-show", &show, vec!["episodes"]),
    ] {
        let view_id = format!("{name}/{id}");
        let v = v1.data(&format!("/v1/views/{view_id}")).await;
        assert_eq!(keys(&v), ["_type", "id", "images", "content", "entity"], "{name}");
        let gs = check_view(&v, &view_id, 10);
        let ids: Vec<String> = gs.iter().map(|g| g["id"].as_str().unwrap().to_owned()).collect();
        let want: Vec<String> = groups.iter().map(|g| format!("{view_id}:{g}")).collect();
        // Empty groups are left out.
        assert!(ids.iter().all(|i| want.contains(i)) && ids.contains(&want[0]), "{ids:?}");
        check_entity(&v["entity"]);
        assert_eq!(v["entity"]["id"], id.as_str());
        assert_v1_error(
            &v1.get(&format!("/v1/views/{name}/B000000000")).await,
            404,
            "RESOURCE_NOT_FOUND",
            &format!("The requested {} B000000000 was not found.", name.replace('-', " ")),
        );
    }
    for name in ["podcasts", "my-library", "recently-played"] {
        let v = v1.data(&format!("/v1/views/{name}")).await;
        assert_eq!(keys(&v), ["_type", "id", "images", "content"]);
        assert!(!check_view(&v, name, 10).is_empty(), "{name}");
    }
    assert_v1_error(
        &v1.get("/v1/views/charts").await,
        404,
        "RESOURCE_NOT_FOUND",
        "The requested view charts was not found.",
    );
}

#[tokio::test]
async fn each_view_needs_its_scope() {
    let app = TestApp::spawn().await;
    let catalog_only = app.music_token(USER_UNLIMITED, "music::catalog").await;
    let v1 = app.v1(&catalog_only);
    ok(&v1.get(&format!("/v1/views/artist/{}", artist_id(0))).await);
    ok(&v1.get("/v1/views/podcasts").await);
    for (path, scope) in [
        ("/v1/views/home", "music::recommendation"),
        ("/v1/views/home/newReleases", "music::recommendation"),
        ("/v1/views/my-library", "music::library:read"),
        ("/v1/views/recently-played", "music::history"),
    ] {
        assert_v1_error(
            &v1.get(path).await,
            403,
            "ACCESS_DENIED",
            &format!(
                "Access denied: this operation requires the scope {scope}; the access token has: music::catalog. Ask the customer to consent to {scope} at /ap/oa."
            ),
        );
    }
}

// ---- history ----------------------------------------------------------------------------------------

fn check_history_token(t: &str) -> i64 {
    let (ms, id) = t.split_once(':').unwrap_or_else(|| panic!("history token {t} is <epochMillis>:<uuid>"));
    assert!(is_uuid(id), "{t}");
    ms.parse().unwrap_or_else(|_| panic!("{t}"))
}

#[tokio::test]
async fn recently_played_answers_played_at_and_track_refs_newest_first() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let data = v1.data("/v1/player/recentlyPlayed").await;
    assert_eq!(keys(&data), ["user"]);
    assert_eq!(keys(&data["user"]), ["id", "recentTrackPlayback"]);
    let r = &data["user"]["recentTrackPlayback"];
    assert_eq!(keys(r), ["pageInfo", "edgeCount", "edges"]);
    assert_eq!(r["edgeCount"], json!(40), "the 40 seeded plays fit the default page of 60");
    assert_eq!(r["pageInfo"], json!({"hasNextPage": false}));
    let mut last = String::from("9");
    for e in r["edges"].as_array().unwrap() {
        assert_eq!(keys(e), ["playedAt", "node"]);
        assert_eq!(keys(&e["node"]), ["id", "title", "url"]);
        let at = ptr_str(e, "/playedAt");
        assert!(is_iso_ms(at) && at < last.as_str(), "{at} after {last}");
        last = at.to_owned();
        let id = ptr_str(e, "/node/id");
        let album = catalog()[catalog().track(id).unwrap().album].id.as_str();
        assert_eq!(e["node"]["url"], format!("https://music.amazon.com/albums/{album}/?trackAsin={id}&do=play"));
    }
}

#[tokio::test]
async fn recently_played_pages_with_epoch_millis_uuid_tokens() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let all = node_ids(&v1.data("/v1/player/recentlyPlayed").await["user"]["recentTrackPlayback"]);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/v1/player/recentlyPlayed?limit=15".to_owned(),
            Some(c) => format!("/v1/player/recentlyPlayed?limit=15&cursor={}", enc(c)),
        };
        let r = v1.data(&path).await["user"]["recentTrackPlayback"].clone();
        let page = r["edges"].as_array().unwrap().clone();
        seen.extend(node_ids(&r));
        if r["pageInfo"]["hasNextPage"] == json!(true) {
            assert_eq!(page.len(), 15);
            let t = ptr_str(&r, "/pageInfo/token");
            let ms = check_history_token(t);
            // The token holds the time of the page's last play.
            let last = ptr_str(page.last().unwrap(), "/playedAt");
            let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
            assert_eq!(&t.format(&time::format_description::well_known::Rfc3339).unwrap()[..19], &last[..19]);
            cursor = Some(ptr_str(&r, "/pageInfo/token").to_owned());
        } else {
            assert_eq!(r["pageInfo"], json!({"hasNextPage": false}));
            break;
        }
    }
    assert_eq!(seen, all, "every play once, in order");
    for bad in ["0", "61", "x"] {
        assert_v1_error(
            &v1.get(&format!("/v1/player/recentlyPlayed?limit={bad}")).await,
            400,
            "BAD_REQUEST",
            "Malformed request. Check for missing query parameter. limit must be an integer from 1 to 60.",
        );
    }
    ok(&v1.get("/v1/player/recentlyPlayed?limit=60").await);
    for bad in ["garbage", "123", "abc:00000000-0000-4000-8000-000000000000", "123:not-a-uuid"] {
        assert_v1_error(
            &v1.get(&format!("/v1/player/recentlyPlayed?cursor={}", enc(bad))).await,
            400,
            "BAD_REQUEST",
            "Malformed request. Check for missing query parameter. The cursor is not a history token (<epochMillis>:<uuid>).",
        );
    }
    // Paths without /v1 answer the same (the doc's `<base url>/player/recentlyPlayed`).
    assert_eq!(v1.data("/player/recentlyPlayed").await, v1.data("/v1/player/recentlyPlayed").await);
}

#[tokio::test]
async fn recently_played_entities_are_the_albums_of_recent_plays_each_once() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_FREE).await;
    let data = v1.data("/v1/me/recentlyPlayedEntities").await;
    assert_eq!(keys(&data["user"]), ["id", "recentlyPlayedEntities"]);
    let conn = &data["user"]["recentlyPlayedEntities"];
    assert_eq!(keys(conn), ["pageInfo", "edgeCount", "edges"]);
    for e in conn["edges"].as_array().unwrap() {
        assert_eq!(keys(e), ["cursor", "node"]);
        check_entity(&e["node"]);
        assert_eq!(e["node"]["_type"], "Album");
    }
    let first = node_ids(conn);
    assert_eq!(first.len(), 20, "default 20");
    let all = v1.walk("/v1/me/recentlyPlayedEntities", 7, |d| d["user"]["recentlyPlayedEntities"].clone()).await;
    assert_eq!(all[..20], first[..]);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), all.len());
}
