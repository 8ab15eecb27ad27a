//! The current customer (spec `music-api.md` §4.3, §11.1, §11.2): `GET/PUT /v1/me`, and every library,
//! likes and follows collection with `GET`, `PUT` and `DELETE` (body or `?ids=`), newest first with `addedAt`
//! on the virtual clock, their limits and scopes, what the admin API shows, and reset.

use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::support::*;

/// One collection of `src/music/me.rs`.
struct Coll {
    path: &'static str,
    key: &'static str,
    ids_key: &'static str,
    add_key: &'static str,
    remove_key: &'static str,
    /// The admin dump's name for it.
    admin: &'static str,
    read: &'static str,
    write: &'static str,
    kind: &'static str,
    /// How many the seeded customers start with.
    seeded: usize,
    /// The n-th id of the kind.
    id: fn(usize) -> String,
}

const COLLECTIONS: [Coll; 7] = [
    Coll {
        path: "/v1/me/library/tracks",
        key: "libraryTracks",
        ids_key: "trackIds",
        add_key: "addTracksToLibrary",
        remove_key: "removeTracksFromLibrary",
        admin: "libraryTracks",
        read: "music::library:read",
        write: "music::library",
        kind: "track",
        seeded: 25,
        id: track_id,
    },
    Coll {
        path: "/v1/me/library/albums",
        key: "libraryAlbums",
        ids_key: "albumIds",
        add_key: "addAlbumsToLibrary",
        remove_key: "removeAlbumsFromLibrary",
        admin: "libraryAlbums",
        read: "music::library:read",
        write: "music::library",
        kind: "album",
        seeded: 8,
        id: album_id,
    },
    Coll {
        path: "/v1/me/library/podcastEpisodes",
        key: "libraryPodcastEpisodes",
        ids_key: "episodeIds",
        add_key: "addPodcastEpisodesToLibrary",
        remove_key: "removePodcastEpisodesFromLibrary",
        admin: "libraryPodcastEpisodes",
        read: "music::library:read",
        write: "music::library",
        kind: "podcast episode",
        seeded: 3,
        id: episode_id,
    },
    Coll {
        path: "/v1/me/tracks",
        key: "likedTracks",
        ids_key: "trackIds",
        add_key: "likeTracks",
        remove_key: "unlikeTracks",
        admin: "likedTracks",
        read: "music::favorites:read",
        write: "music::favorites",
        kind: "track",
        seeded: 15,
        id: track_id,
    },
    Coll {
        path: "/v1/me/followed/artists",
        key: "followedArtists",
        ids_key: "artistIds",
        add_key: "followArtists",
        remove_key: "unfollowArtists",
        admin: "followedArtists",
        read: "music::favorites:read",
        write: "music::favorites",
        kind: "artist",
        seeded: 6,
        id: artist_id,
    },
    Coll {
        path: "/v1/me/followed/playlists",
        key: "followedPlaylists",
        ids_key: "playlistIds",
        add_key: "followPlaylists",
        remove_key: "unfollowPlaylists",
        admin: "followedPlaylists",
        read: "music::favorites:read",
        write: "music::favorites",
        kind: "playlist",
        seeded: 2,
        id: catalog_playlist_id,
    },
    Coll {
        path: "/v1/me/followed/podcastShows",
        key: "followedPodcastShows",
        ids_key: "showIds",
        add_key: "followPodcastShows",
        remove_key: "unfollowPodcastShows",
        admin: "followedPodcastShows",
        read: "music::favorites:read",
        write: "music::favorites",
        kind: "podcast show",
        seeded: 1,
        id: show_id,
    },
];

/// The collection's ids, newest first, and the connection of the first page.
async fn list(v1: &V1<'_>, c: &Coll) -> (Vec<String>, Value) {
    let data = v1.data(c.path).await;
    assert_eq!(keys(&data), ["user"], "{}", c.path);
    assert_eq!(keys(&data["user"]), ["id", c.key], "{}", c.path);
    assert!(is_user_id(ptr_str(&data, "/user/id")));
    let conn = data["user"][c.key].clone();
    assert_eq!(keys(&conn), ["pageInfo", "edgeCount", "edges"]);
    (node_ids(&conn), conn)
}

/// `count` ids of the kind that the customer does not have yet.
async fn fresh(v1: &V1<'_>, c: &Coll, count: usize) -> Vec<String> {
    let (have, _) = list(v1, c).await;
    (0..).map(c.id).filter(|i| !have.contains(i)).take(count).collect()
}

/// Moves the frozen clock a minute on; returns the new time as the API writes it.
async fn tick(app: &TestApp) -> String {
    let now = app.admin("POST", "/__admin/clock/advance", json!({"seconds": 60})).await["now"].as_i64().unwrap();
    let t = time::OffsetDateTime::from_unix_timestamp(now).unwrap();
    format!("{}.000Z", t.format(&time::format_description::well_known::Rfc3339).unwrap().trim_end_matches('Z'))
}

async fn frozen_at(app: &TestApp, now: i64) {
    app.freeze().await;
    app.admin("POST", "/__admin/clock/set", json!({"now": now})).await;
}

#[tokio::test]
async fn every_collection_starts_seeded_newest_first_with_added_at() {
    let app = TestApp::spawn().await;
    frozen_at(&app, 1_700_000_000).await;
    let v1 = app.music(USER_UNLIMITED).await;
    for c in &COLLECTIONS {
        let (ids, conn) = list(&v1, c).await;
        assert_eq!(ids.len(), c.seeded, "{}", c.path);
        assert_eq!(conn["pageInfo"], json!({"hasNextPage": false}));
        let mut last = String::from("9");
        for e in conn["edges"].as_array().unwrap() {
            assert_eq!(keys(e), ["cursor", "node", "addedAt"], "{}", c.path);
            let at = ptr_str(e, "/addedAt");
            assert!(is_iso_ms(at), "{at}");
            assert!(at < last.as_str(), "{}: newest first: {at} after {last}", c.path);
            last = at.to_owned();
        }
        // Seeded an hour apart, the newest an hour before the customer's first request.
        assert_eq!(conn["edges"][0]["addedAt"], "2023-11-14T21:13:20.000Z", "{}", c.path);
    }
}

#[tokio::test]
async fn put_adds_to_the_front_at_the_virtual_time_and_delete_removes_by_body_or_ids() {
    let app = TestApp::spawn().await;
    frozen_at(&app, 1_700_000_000).await;
    let v1 = app.music(USER_PRIME).await;
    for c in &COLLECTIONS {
        let (before, _) = list(&v1, c).await;
        let new = fresh(&v1, c, 2).await;
        let first = tick(&app).await;
        let r = ok(&v1.put(c.path, &json!({ c.ids_key: [&new[0]] })).await);
        assert_eq!(r, json!({ c.add_key: { c.ids_key: [&new[0]], "added": 1 } }), "{}", c.path);
        let second = tick(&app).await;
        // Adding again adds nothing and moves nothing.
        let r = ok(&v1.put(c.path, &json!({ c.ids_key: [&new[1], &new[0]] })).await);
        assert_eq!(r, json!({ c.add_key: { c.ids_key: [&new[1], &new[0]], "added": 1 } }), "{}", c.path);
        let (after, conn) = list(&v1, c).await;
        let mut want = vec![new[1].clone(), new[0].clone()];
        want.extend(before.iter().cloned());
        assert_eq!(after, want, "{}", c.path);
        assert_eq!(conn["edges"][0]["addedAt"], second);
        assert_eq!(conn["edges"][1]["addedAt"], first);

        // DELETE with a JSON body …
        let r = ok(&v1.delete(c.path, Some(&json!({ c.ids_key: [&new[0], &before[0]] }))).await);
        assert_eq!(r, json!({ c.remove_key: { c.ids_key: [&new[0], &before[0]], "removed": 2 } }), "{}", c.path);
        // … or with ?ids= and no body; an id not in the collection is not an error.
        let r = ok(&v1.delete(&format!("{}?ids={},{}", c.path, new[1], new[0]), None).await);
        assert_eq!(r, json!({ c.remove_key: { c.ids_key: [&new[1], &new[0]], "removed": 1 } }), "{}", c.path);
        assert_eq!(list(&v1, c).await.0, before[1..].to_vec(), "{}", c.path);
    }
}

#[tokio::test]
async fn follow_and_unfollow_one_artist_or_playlist_by_path() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_FREE).await;
    for c in [&COLLECTIONS[4], &COLLECTIONS[5]] {
        let id = fresh(&v1, c, 1).await.remove(0);
        let one = format!("{}/{id}", c.path);
        assert_eq!(ok(&v1.put(&one, &json!({})).await), json!({ c.add_key: { c.ids_key: [&id], "added": 1 } }));
        assert_eq!(list(&v1, c).await.0[0], id);
        assert_eq!(ok(&v1.delete(&one, None).await), json!({ c.remove_key: { c.ids_key: [&id], "removed": 1 } }));
        assert!(!list(&v1, c).await.0.contains(&id));
        assert_v1_error(
            &v1.put(&format!("{}/B000000000", c.path), &json!({})).await,
            404,
            "RESOURCE_NOT_FOUND",
            &format!("The requested {} B000000000 was not found.", c.kind),
        );
    }
}

#[tokio::test]
async fn unknown_ids_and_ids_of_another_kind_are_404_and_change_nothing() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    for c in &COLLECTIONS {
        let (before, _) = list(&v1, c).await;
        let good = fresh(&v1, c, 1).await.remove(0);
        // A wrong kind: an album for track collections, a track for the others.
        let wrong = if c.kind == "track" { album_id(0) } else { track_id(0) };
        for bad in ["B000000000".to_owned(), "00000000-0000-4000-8000-000000000000".to_owned(), wrong] {
            let message = format!("The requested {} {bad} was not found.", c.kind);
            let r = v1.put(c.path, &json!({ c.ids_key: [&good, &bad] })).await;
            assert_v1_error(&r, 404, "RESOURCE_NOT_FOUND", &message);
            let r = v1.delete(&format!("{}?ids={bad}", c.path), None).await;
            assert_v1_error(&r, 404, "RESOURCE_NOT_FOUND", &message);
        }
        assert_eq!(list(&v1, c).await.0, before, "{}", c.path);
    }
}

#[tokio::test]
async fn writes_take_at_most_100_ids_and_need_some() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let c = &COLLECTIONS[0];
    let hundred: Vec<String> = (0..100).map(track_id).collect();
    let mut more = hundred.clone();
    more.push(track_id(100));
    assert_v1_error(
        &v1.put(c.path, &json!({"trackIds": more})).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. At most 100 ids per call; got 101.",
    );
    assert_v1_error(
        &v1.delete(&format!("{}?ids={}", c.path, more.join(",")), None).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. At most 100 ids may be requested at once; got 101.",
    );
    let r = ok(&v1.put(c.path, &json!({"trackIds": hundred})).await);
    let added = r["addTracksToLibrary"]["added"].as_u64().unwrap();
    assert!((75..=100).contains(&added), "100 minus those already saved: {added}");
    assert_v1_error(
        &v1.put(c.path, &json!({"trackIds": []})).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. trackIds must not be empty.",
    );
    assert_v1_error(
        &v1.put(c.path, &json!({"albumIds": [album_id(0)]})).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. The body needs trackIds (an array of ids).",
    );
    assert_v1_error(
        &v1.put(c.path, &json!({"trackIds": [1, 2]})).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. trackIds must hold strings.",
    );
    assert_v1_error(&v1.delete(c.path, None).await, 400, "BAD_REQUEST", MALFORMED);
    assert_v1_error(
        &v1.put(c.path, &json!(null)).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. The body needs trackIds (an array of ids).",
    );
}

#[tokio::test]
async fn a_collection_walks_page_by_page_each_item_once() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let c = &COLLECTIONS[0];
    let (all, _) = list(&v1, c).await;
    for limit in [1, 4, 25, 100] {
        assert_eq!(v1.walk(c.path, limit, |d| d["user"][c.key].clone()).await, all, "limit {limit}");
    }
    for bad in ["0", "101", "x"] {
        assert_v1_error(
            &v1.get(&format!("{}?limit={bad}", c.path)).await,
            400,
            "BAD_REQUEST",
            "Malformed request. Check for missing query parameter. limit must be an integer from 1 to 100.",
        );
    }
}

#[tokio::test]
async fn each_collection_reads_with_its_read_scope_and_writes_with_the_full_one() {
    let app = TestApp::spawn().await;
    let read = app.music_token(USER_UNLIMITED, "music::library:read music::favorites:read").await;
    let write = app.music_token(USER_UNLIMITED, "music::library music::favorites").await;
    let other = app.music_token(USER_UNLIMITED, "music::catalog").await;
    for c in &COLLECTIONS {
        ok(&app.v1(&read).get(c.path).await);
        ok(&app.v1(&write).get(c.path).await);
        let r = app.v1(&other).get(c.path).await;
        assert_v1_error(
            &r,
            403,
            "ACCESS_DENIED",
            &format!(
                "Access denied: this operation requires the scope {}; the access token has: music::catalog. Ask the customer to consent to {} at /ap/oa.",
                c.read, c.read
            ),
        );
        let id = (c.id)(0);
        let r = app.v1(&read).put(c.path, &json!({ c.ids_key: [&id] })).await;
        assert_v1_error(
            &r,
            403,
            "ACCESS_DENIED",
            &format!(
                "Access denied: this operation requires the scope {}; the access token has: music::favorites:read music::library:read. Ask the customer to consent to {} at /ap/oa.",
                c.write, c.write
            ),
        );
        let r = app.v1(&read).delete(&format!("{}?ids={id}", c.path), None).await;
        assert!(v1_error_message(&r, 403, "ACCESS_DENIED").contains(c.write));
        ok(&app.v1(&write).put(c.path, &json!({ c.ids_key: [&id] })).await);
    }
}

#[tokio::test]
async fn the_admin_library_shows_api_writes_and_reset_restores_the_seeded_state() {
    let app = TestApp::spawn().await;
    frozen_at(&app, 1_700_000_000).await;
    let v1 = app.music(USER_UNLIMITED).await;
    let path = format!("/__admin/users/{USER_UNLIMITED}/library");
    let seeded = app.admin("GET", &path, json!({})).await;
    assert_eq!(keys(&seeded), ["profile", "collections", "playlists", "history", "ratings"]);
    for c in &COLLECTIONS {
        let admin: Vec<&str> =
            seeded["collections"][c.admin].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(admin, list(&v1, c).await.0, "{}", c.path);
    }
    let mut written = Vec::new();
    for c in &COLLECTIONS {
        let id = fresh(&v1, c, 1).await.remove(0);
        ok(&v1.put(c.path, &json!({ c.ids_key: [&id] })).await);
        written.push(id);
    }
    let pl = ptr_str(
        &ok(&v1
            .post("/v1/playlists", &json!({"title": "Admin sees me", "description": "", "visibility": "PRIVATE"}))
            .await),
        "/createPlaylist/id",
    )
    .to_owned();
    ok(&v1
        .put("/v1/me", &json!({"name": "Ava Renamed", "visibility": "PRIVATE", "playbackVisibility": "PRIVATE"}))
        .await);
    let now = app.admin("GET", &path, json!({})).await;
    for (c, id) in COLLECTIONS.iter().zip(&written) {
        assert_eq!(ptr_str(&now, &format!("/collections/{}/0/id", c.admin)), id, "{}", c.path);
    }
    assert_eq!(ptr_str(&now, "/playlists/0/playlist/id"), pl);
    assert_eq!(now["playlists"][0]["playlist"]["title"], "Admin sees me");
    assert_eq!(now["profile"]["name"], "Ava Renamed");

    app.admin("POST", "/__admin/reset", json!({})).await;
    // A reset restarts the clock too; stop it at the same instant so that the seeded times match.
    frozen_at(&app, 1_700_000_000).await;
    assert_eq!(app.admin("GET", &path, json!({})).await, seeded, "reset brings back exactly the seeded state");
    let v1 = app.music(USER_UNLIMITED).await;
    for c in &COLLECTIONS {
        assert_eq!(list(&v1, c).await.0.len(), c.seeded, "{}", c.path);
    }
    assert_eq!(v1.data("/v1/me").await["user"]["name"], "Ava Unlimited");
    let r = app.get(&format!("/__admin/users/{USER_NO_MUSIC}/library")).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn customers_have_separate_libraries() {
    let app = TestApp::spawn().await;
    let ava = app.music(USER_UNLIMITED).await;
    let ben = app.music(USER_PRIME).await;
    let c = &COLLECTIONS[0];
    let bens = list(&ben, c).await.0;
    let id = fresh(&ava, c, 1).await.remove(0);
    ok(&ava.put(c.path, &json!({"trackIds": [&id]})).await);
    assert_eq!(list(&ben, c).await.0, bens);
    assert_ne!(list(&ava, c).await.0, bens);
}

// ---- following customer playlists -------------------------------------------------------------------

#[tokio::test]
async fn a_public_customer_playlist_can_be_followed_and_a_private_one_is_404() {
    let app = TestApp::spawn().await;
    let ava = app.music(USER_UNLIMITED).await;
    let ben = app.music(USER_PRIME).await;
    let mk = |title: &'static str, visibility: &'static str| {
        let ben = &ben;
        async move {
            let d = ok(&ben
                .post("/v1/playlists", &json!({"title": title, "description": "", "visibility": visibility}))
                .await);
            ptr_str(&d, "/createPlaylist/id").to_owned()
        }
    };
    let public = mk("Open", "PUBLIC").await;
    let private = mk("Closed", "PRIVATE").await;
    let c = &COLLECTIONS[5];
    ok(&ava.put(&format!("{}/{public}", c.path), &json!({})).await);
    let (ids, conn) = list(&ava, c).await;
    assert_eq!(ids[0], public);
    assert_eq!(conn["edges"][0]["node"]["title"], "Open");
    assert_v1_error(
        &ava.put(&format!("{}/{private}", c.path), &json!({})).await,
        404,
        "RESOURCE_NOT_FOUND",
        &format!("The requested playlist {private} was not found."),
    );
    assert_v1_error(
        &ava.put(c.path, &json!({"playlistIds": [&private]})).await,
        404,
        "RESOURCE_NOT_FOUND",
        &format!("The requested playlist {private} was not found."),
    );
    // The owner may follow their own private playlist.
    ok(&ben.put(&format!("{}/{private}", c.path), &json!({})).await);
    // A followed playlist that turns private shows only its id to the follower.
    ok(&ben.put(&format!("/v1/playlists/{public}"), &json!({"visibility": "PRIVATE"})).await);
    let (ids, conn) = list(&ava, c).await;
    assert_eq!(ids[0], public);
    assert_eq!(conn["edges"][0]["node"], json!({"id": public}));
}

#[tokio::test]
async fn a_followed_playlist_that_is_deleted_or_made_private_can_still_be_unfollowed() {
    let app = TestApp::spawn().await;
    let ava = app.music(USER_UNLIMITED).await;
    let ben = app.music(USER_PRIME).await;
    let c = &COLLECTIONS[5];
    let mut made = Vec::new();
    for title in ["Soon private", "Soon gone"] {
        let d =
            ok(&ben.post("/v1/playlists", &json!({"title": title, "description": "", "visibility": "PUBLIC"})).await);
        let id = ptr_str(&d, "/createPlaylist/id").to_owned();
        ok(&ava.put(&format!("{}/{id}", c.path), &json!({})).await);
        made.push(id);
    }
    ok(&ben.put(&format!("/v1/playlists/{}", made[0]), &json!({"visibility": "PRIVATE"})).await);
    ok(&ben.delete(&format!("/v1/playlists/{}", made[1]), None).await);
    let (ids, conn) = list(&ava, c).await;
    assert_eq!(ids[..2], [made[1].clone(), made[0].clone()]);
    assert_eq!(conn["edges"][0]["node"], json!({"id": made[1]}));
    assert_eq!(conn["edges"][1]["node"], json!({"id": made[0]}));
    let r = ok(&ava.delete(&format!("{}/{}", c.path, made[0]), None).await);
    assert_eq!(r, json!({"unfollowPlaylists": {"playlistIds": [&made[0]], "removed": 1}}));
    let r = ok(&ava.delete(c.path, Some(&json!({"playlistIds": [&made[1]]}))).await);
    assert_eq!(r, json!({"unfollowPlaylists": {"playlistIds": [&made[1]], "removed": 1}}));
    let (ids, _) = list(&ava, c).await;
    assert!(!ids.contains(&made[0]) && !ids.contains(&made[1]));
    // Once unfollowed they are unknown again.
    assert_v1_error(
        &ava.delete(&format!("{}/{}", c.path, made[1]), None).await,
        404,
        "RESOURCE_NOT_FOUND",
        &format!("The requested playlist {} was not found.", made[1]),
    );
}

// ---- /v1/me -----------------------------------------------------------------------------------------

#[tokio::test]
async fn get_me_answers_the_user_with_its_subscription_tier() {
    let app = TestApp::spawn().await;
    for (user, name, tier) in [
        (USER_UNLIMITED, "Ava Unlimited", "UNLIMITED"),
        (USER_PRIME, "Ben Prime", "PRIME"),
        (USER_FREE, "Chloe Free", "FREE"),
    ] {
        let v1 = app.music(user).await;
        let data = v1.data("/v1/me").await;
        assert_eq!(keys(&data), ["user"]);
        let u = &data["user"];
        assert_eq!(keys(u), ["id", "name", "images", "url", "subscriptionTier"]);
        let id = ptr_str(u, "/id");
        assert!(is_user_id(id), "{id}");
        assert_eq!(u["name"], name);
        assert_eq!(u["url"], format!("https://music.amazon.com/profiles/{id}"));
        assert_eq!(keys(&u["images"][0]), ["height", "width", "url"]);
        assert_eq!(u["subscriptionTier"], tier);
    }
}

#[tokio::test]
async fn put_me_needs_all_three_fields_and_answers_update_user() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_PRIME).await;
    let me = v1.data("/v1/me").await["user"].clone();
    let body = json!({"name": "  Benjamin  ", "visibility": "PRIVATE", "playbackVisibility": "PUBLIC"});
    let data = ok(&v1.put("/v1/me", &body).await);
    assert_eq!(keys(&data), ["updateUser"]);
    let u = &data["updateUser"];
    assert_eq!(keys(u), ["id", "name", "images", "url", "visibility", "playbackVisibility"]);
    assert_eq!(
        (&u["id"], &u["name"], &u["visibility"], &u["playbackVisibility"]),
        (&me["id"], &json!("Benjamin"), &json!("PRIVATE"), &json!("PUBLIC"))
    );
    assert_eq!(v1.data("/v1/me").await["user"]["name"], "Benjamin");
    for bad in [
        json!({"name": "x", "visibility": "PRIVATE"}),
        json!({"name": "x", "playbackVisibility": "PRIVATE"}),
        json!({"visibility": "PRIVATE", "playbackVisibility": "PRIVATE"}),
        json!({"name": "x", "visibility": "FRIENDS", "playbackVisibility": "PRIVATE"}),
        json!({"name": "x", "visibility": "PRIVATE", "playbackVisibility": "PRIVATE", "age": 3}),
    ] {
        assert!(
            v1_error_message(&v1.put("/v1/me", &bad).await, 400, "BAD_REQUEST")
                .starts_with("Malformed request. Check for missing query parameter. Invalid JSON body: "),
            "{bad}"
        );
    }
    for name in ["", "   ", &"n".repeat(101)] {
        let r = v1.put("/v1/me", &json!({"name": name, "visibility": "PUBLIC", "playbackVisibility": "PUBLIC"})).await;
        assert_v1_error(
            &r,
            400,
            "BAD_REQUEST",
            "Malformed request. Check for missing query parameter. name must be 1 to 100 characters.",
        );
    }
    assert_eq!(v1.data("/v1/me").await["user"]["name"], "Benjamin", "failed updates change nothing");
}

// ---- request bodies ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_body_over_the_limit_is_413_in_the_v1_envelope_after_the_auth_chain() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let big = format!("{{\"trackIds\":[\"{}\"]}}", "x".repeat(3_000_000));
    let too_large = "The request body is larger than 1048576 bytes, or could not be read.";
    for (method, path) in
        [("PUT", "/v1/me/library/tracks"), ("POST", "/v1/playlists"), ("POST", "/v1/search/tracks"), ("PUT", "/v1/me")]
    {
        let auth = format!("Bearer {}", v1.token);
        let r = app.v1_raw(method, path, &[("authorization", &auth), ("x-api-key", API_KEY)], Some(&big)).await;
        assert_v1_error(&r, 413, "PAYLOAD_TOO_LARGE", too_large);
        // Just over the configured 1 MiB, too.
        let r = app
            .v1_raw(method, path, &[("authorization", &auth), ("x-api-key", API_KEY)], Some(&big[..1_048_577]))
            .await;
        assert_v1_error(&r, 413, "PAYLOAD_TOO_LARGE", too_large);
        // The auth chain answers first.
        let r = app.v1_raw(method, path, &[("x-api-key", API_KEY)], Some(&big)).await;
        assert_v1_error(
            &r,
            401,
            "INVALID_AUTH_TYPE",
            "Missing Authorization header. Send Authorization: Bearer <LWA access token>.",
        );
    }
}

#[tokio::test]
async fn the_configured_body_limit_applies_to_v1_bodies() {
    let mock = amazon_music_mock::MockAmazon::start_with(amazon_music_mock::ServerConfig {
        bind: ([127, 0, 0, 1], 0).into(),
        seed: Some(1),
        body_limit: 1024,
        ..amazon_music_mock::ServerConfig::default()
    })
    .await;
    let app = TestApp { mock, http: reqwest::Client::new() };
    let v1 = app.music(USER_UNLIMITED).await;
    let ids: Vec<String> = (0..100).map(track_id).collect();
    let r = v1.put("/v1/me/library/tracks", &json!({"trackIds": ids})).await;
    assert_v1_error(&r, 413, "PAYLOAD_TOO_LARGE", "The request body is larger than 1024 bytes, or could not be read.");
    ok(&v1.put("/v1/me/library/tracks", &json!({"trackIds": &ids[..10]})).await);
}
