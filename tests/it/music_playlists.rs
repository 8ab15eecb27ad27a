//! Playlists (spec `music-api.md` §3.1, §3.4, §4.4, §11.2): the "Done when" journey through LWA, entry ids
//! and `<index>:<entryId>` cursors, duplicates, the 100-id cap, reorder and removal, catalog playlists,
//! other customers' playlists, pagination, and parallel adds.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::support::*;

/// The V1 Playlist keys: §3.4's list with `description` after `title` (the mock's addition, on every playlist).
const PLAYLIST_KEYS: [&str; 10] =
    ["id", "curator", "duration", "images", "eligibility", "title", "description", "trackCount", "url", "visibility"];

/// `(entryId, trackId)` of every entry, in order, reading pages of 100.
async fn entries(v1: &V1<'_>, playlist: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("/v1/playlists/{playlist}/tracks"),
            Some(c) => format!("/v1/playlists/{playlist}/tracks?cursor={}", enc(c)),
        };
        let data = v1.data(&path).await;
        assert_eq!(keys(&data), ["playlist"]);
        assert_eq!(keys(&data["playlist"]), ["id", "tracks"]);
        assert_eq!(data["playlist"]["id"], playlist);
        let tracks = &data["playlist"]["tracks"];
        assert_eq!(keys(tracks), ["pageInfo", "edgeCount", "edges"]);
        for e in tracks["edges"].as_array().unwrap() {
            assert_eq!(keys(e), ["cursor", "node"]);
            let (index, entry) = ptr_str(e, "/cursor").split_once(':').expect("cursor is <index>:<entryId>");
            assert_eq!(index.parse::<usize>().unwrap(), out.len(), "the cursor's index is the entry's position");
            assert!(is_uuid(entry), "entry id {entry} is a UUID");
            out.push((entry.to_owned(), ptr_str(e, "/node/id").to_owned()));
        }
        if tracks["pageInfo"]["hasNextPage"] == json!(true) {
            cursor = Some(ptr_str(tracks, "/pageInfo/token").to_owned());
        } else {
            assert_eq!(tracks["pageInfo"], json!({"hasNextPage": false}));
            return out;
        }
    }
}

async fn track_order(v1: &V1<'_>, playlist: &str) -> Vec<String> {
    entries(v1, playlist).await.into_iter().map(|(_, t)| t).collect()
}

async fn create(v1: &V1<'_>, title: &str, visibility: &str) -> String {
    let data =
        ok(&v1.post("/v1/playlists", &json!({"title": title, "description": "d", "visibility": visibility})).await);
    assert_eq!(keys(&data), ["createPlaylist"]);
    assert_eq!(keys(&data["createPlaylist"]), ["id", "url"]);
    let id = ptr_str(&data, "/createPlaylist/id").to_owned();
    assert!(is_uuid(&id), "{id}");
    assert_eq!(data["createPlaylist"]["url"], format!("https://music.amazon.com/my/playlists/{id}"));
    id
}

async fn add(v1: &V1<'_>, playlist: &str, tracks: &[String]) -> Value {
    let data = ok(&v1.put(&format!("/v1/playlists/{playlist}/tracks"), &json!({"trackIds": tracks})).await);
    assert_eq!(keys(&data), ["addTracksToPlaylist"]);
    data["addTracksToPlaylist"].clone()
}

fn tracks(ns: &[usize]) -> Vec<String> {
    ns.iter().map(|&n| track_id(n)).collect()
}

// ---- the journey ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_read_token_reads_playlists_then_a_reconsented_library_token_edits_one_from_creation_to_deletion() {
    let app = TestApp::spawn().await;

    // A token from /ap/oa with music::library:read reads the customer's playlists and their tracks.
    let read = app.web_tokens("music::library:read").await;
    let reader = app.v1(s(&read, "access_token"));
    let mine = reader.data("/v1/me/playlists").await;
    assert_eq!(keys(&mine), ["user"]);
    assert_eq!(keys(&mine["user"]), ["id", "playlists"]);
    assert!(is_user_id(ptr_str(&mine, "/user/id")));
    let seeded = node_ids(&mine["user"]["playlists"]);
    assert_eq!(seeded.len(), 2, "two seeded playlists");
    let seeded_tracks = entries(&reader, &seeded[0]).await;
    assert!(!seeded_tracks.is_empty());

    // It may not create one: 403 naming the scope it lacks.
    let body = json!({"title": "Journey", "description": "made in a test", "visibility": "PRIVATE"});
    let r = reader.post("/v1/playlists", &body).await;
    assert_v1_error(
        &r,
        403,
        "ACCESS_DENIED",
        "Access denied: this operation requires the scope music::library; the access token has: music::library:read. Ask the customer to consent to music::library at /ap/oa.",
    );

    // The same customer consents again, to music::library.
    let write = app.web_tokens("music::library").await;
    let v1 = app.v1(s(&write, "access_token"));
    assert_eq!(ptr_str(&v1.data("/v1/me/playlists").await, "/user/id"), ptr_str(&mine, "/user/id"), "same customer");

    // Create.
    let data = ok(&v1.post("/v1/playlists", &body).await);
    let id = ptr_str(&data, "/createPlaylist/id").to_owned();
    assert_eq!(
        data,
        json!({"createPlaylist": {"id": id, "url": format!("https://music.amazon.com/my/playlists/{id}")}})
    );
    let meta = v1.data(&format!("/v1/playlists/{id}")).await;
    assert_eq!(keys(&meta["playlist"]), PLAYLIST_KEYS);
    assert_eq!(meta["playlist"]["trackCount"], json!(0));
    assert_eq!(meta["playlist"]["title"], "Journey");
    assert_eq!(node_ids(&v1.data("/v1/me/playlists").await["user"]["playlists"])[0], id, "newest first");

    // Add four tracks: entries in order, entry ids are fresh UUIDs, not track ids.
    let t = tracks(&[11, 22, 33, 44]);
    let added = add(&v1, &id, &t).await;
    assert_eq!(keys(&added), ["id", "trackCount", "entries", "skippedDuplicateTrackIds"]);
    assert_eq!(added["trackCount"], json!(4));
    assert_eq!(added["skippedDuplicateTrackIds"], json!([]));
    let e = entries(&v1, &id).await;
    assert_eq!(e.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(), t);
    let ids: Vec<String> = e.iter().map(|(e, _)| e.clone()).collect();
    assert_eq!(added["entries"], json!(e.iter().map(|(e, t)| json!({"entryId": e, "trackId": t})).collect::<Vec<_>>()));
    assert!(ids.iter().all(|x| !t.contains(x)));
    let (e1, e2, e3, e4) = (&ids[0], &ids[1], &ids[2], &ids[3]);

    // Reorder: the fourth entry above the first …
    let r = ok(&v1.patch(&format!("/v1/playlists/{id}/tracks"), &json!({"entryIds": [e4], "entryIdAbove": e1})).await);
    assert_eq!(r, json!({"reorderPlaylistTracks": {"id": id, "trackCount": 4}}));
    assert_eq!(track_order(&v1, &id).await, vec![t[3].clone(), t[0].clone(), t[1].clone(), t[2].clone()]);
    // … then the second and the fourth entries, in the order given, below the third.
    v1.patch(&format!("/v1/playlists/{id}/tracks"), &json!({"entryIds": [e2, e4], "entryIdBelow": e3})).await;
    assert_eq!(track_order(&v1, &id).await, vec![t[0].clone(), t[2].clone(), t[1].clone(), t[3].clone()]);
    // Entry ids stay with their tracks.
    let after: Vec<(String, String)> = entries(&v1, &id).await;
    assert_eq!(after, [&e[0], &e[2], &e[1], &e[3]].map(Clone::clone));

    // Remove two entries.
    let r = ok(&v1.delete(&format!("/v1/playlists/{id}/tracks"), Some(&json!({"entryIds": [e3, e1]}))).await);
    assert_eq!(r, json!({"removeTracksFromPlaylist": {"id": id, "trackCount": 2, "removedEntryIds": [e3, e1]}}));
    assert_eq!(track_order(&v1, &id).await, vec![t[1].clone(), t[3].clone()]);
    assert_eq!(v1.data(&format!("/v1/playlists/{id}")).await["playlist"]["trackCount"], json!(2));

    // Delete the playlist.
    assert_eq!(ok(&v1.delete(&format!("/v1/playlists/{id}"), None).await), json!({"deletePlaylist": {"id": id}}));
    let gone = format!("The requested playlist {id} was not found.");
    assert_v1_error(&v1.get(&format!("/v1/playlists/{id}")).await, 404, "RESOURCE_NOT_FOUND", &gone);
    assert_v1_error(&v1.get(&format!("/v1/playlists/{id}/tracks")).await, 404, "RESOURCE_NOT_FOUND", &gone);
    assert_eq!(node_ids(&v1.data("/v1/me/playlists").await["user"]["playlists"]), seeded);
}

// ---- entries ----------------------------------------------------------------------------------------

#[tokio::test]
async fn duplicates_are_skipped_silently_by_default_and_added_with_add_duplicate_tracks() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let id = create(&v1, "Dups", "PRIVATE").await;
    add(&v1, &id, &tracks(&[1, 2])).await;
    let r = add(&v1, &id, &tracks(&[2, 3, 1, 3])).await;
    assert_eq!(r["trackCount"], json!(3));
    assert_eq!(r["skippedDuplicateTrackIds"], json!(tracks(&[2, 1, 3])));
    assert_eq!(r["entries"].as_array().unwrap().len(), 1);
    let body = json!({"trackIds": tracks(&[1, 1]), "addDuplicateTracks": false});
    let r = ok(&v1.put(&format!("/v1/playlists/{id}/tracks"), &body).await);
    assert_eq!(r["addTracksToPlaylist"]["trackCount"], json!(3));
    let body = json!({"trackIds": tracks(&[1, 1]), "addDuplicateTracks": true});
    let r = ok(&v1.put(&format!("/v1/playlists/{id}/tracks"), &body).await);
    assert_eq!(r["addTracksToPlaylist"]["trackCount"], json!(5));
    assert_eq!(r["addTracksToPlaylist"]["skippedDuplicateTrackIds"], json!([]));
    let e = entries(&v1, &id).await;
    assert_eq!(e.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(), tracks(&[1, 2, 3, 1, 1]));
    assert_eq!(e.iter().map(|(e, _)| e).collect::<HashSet<_>>().len(), 5, "each duplicate has its own entry id");
}

#[tokio::test]
async fn an_add_takes_at_most_100_track_ids_and_only_known_tracks() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let id = create(&v1, "Cap", "PRIVATE").await;
    let path = format!("/v1/playlists/{id}/tracks");
    let hundred: Vec<String> = (0..100).map(track_id).collect();
    let mut more = hundred.clone();
    more.push(track_id(100));
    assert_v1_error(
        &v1.put(&path, &json!({"trackIds": more})).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. At most 100 trackIds per call; got 101.",
    );
    assert_eq!(add(&v1, &id, &hundred).await["trackCount"], json!(100));
    assert_v1_error(
        &v1.put(&path, &json!({"trackIds": [track_id(200), "B000000000"]})).await,
        404,
        "RESOURCE_NOT_FOUND",
        "The requested track B000000000 was not found.",
    );
    assert_v1_error(
        &v1.put(&path, &json!({"trackIds": []})).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. trackIds must not be empty.",
    );
    let r = v1.put(&path, &json!({"tracks": [track_id(1)]})).await;
    assert!(
        v1_error_message(&r, 400, "BAD_REQUEST")
            .starts_with("Malformed request. Check for missing query parameter. Invalid JSON body: ")
    );
    assert_eq!(entries(&v1, &id).await.len(), 100, "failed adds change nothing");
}

#[tokio::test]
async fn removal_and_reorder_take_entry_ids_not_track_ids() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let id = create(&v1, "Entries", "PRIVATE").await;
    let t = tracks(&[5, 6, 7]);
    add(&v1, &id, &t).await;
    let e: Vec<String> = entries(&v1, &id).await.into_iter().map(|(e, _)| e).collect();
    let path = format!("/v1/playlists/{id}/tracks");
    let not_in = |x: &str| {
        format!(
            "Malformed request. Check for missing query parameter. Entry {x} is not in playlist {id}; use the entryId from the playlist's track edges."
        )
    };
    assert_v1_error(&v1.delete(&path, Some(&json!({"entryIds": [&t[0]]}))).await, 400, "BAD_REQUEST", &not_in(&t[0]));
    assert_v1_error(
        &v1.patch(&path, &json!({"entryIds": [&t[0]], "entryIdAbove": &e[1]})).await,
        400,
        "BAD_REQUEST",
        &not_in(&t[0]),
    );
    assert_v1_error(
        &v1.patch(&path, &json!({"entryIds": [&e[0]], "entryIdBelow": &t[2]})).await,
        400,
        "BAD_REQUEST",
        &not_in(&t[2]),
    );
    let one_anchor =
        "Malformed request. Check for missing query parameter. Give exactly one of entryIdAbove and entryIdBelow.";
    assert_v1_error(&v1.patch(&path, &json!({"entryIds": [&e[0]]})).await, 400, "BAD_REQUEST", one_anchor);
    assert_v1_error(
        &v1.patch(&path, &json!({"entryIds": [&e[0]], "entryIdAbove": &e[1], "entryIdBelow": &e[2]})).await,
        400,
        "BAD_REQUEST",
        one_anchor,
    );
    assert_v1_error(
        &v1.patch(&path, &json!({"entryIds": [], "entryIdAbove": &e[1]})).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. entryIds must not be empty.",
    );
    let shape = "Malformed request. Check for missing query parameter. The body is {\"entryIds\": [...]}.";
    assert_v1_error(&v1.delete(&path, Some(&json!({"entryIds": []}))).await, 400, "BAD_REQUEST", shape);
    assert_v1_error(
        &v1.delete(&path, Some(&json!({"entryIds": [&e[0]], "entryIdAbove": &e[1]}))).await,
        400,
        "BAD_REQUEST",
        shape,
    );
    assert_v1_error(
        &v1.delete(&path, None).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. A JSON body is required.",
    );
    assert_eq!(track_order(&v1, &id).await, t, "nothing changed");
    // An anchor among the moved entries is a 400: there is no place next to it once it moves.
    assert_v1_error(
        &v1.patch(&path, &json!({"entryIds": [&e[0], &e[1]], "entryIdBelow": &e[0]})).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. The anchor entry cannot be one of the entries being moved.",
    );
    assert_eq!(track_order(&v1, &id).await, t, "nothing changed");
    // An entry named twice moves once.
    ok(&v1.patch(&path, &json!({"entryIds": [&e[2], &e[2]], "entryIdAbove": &e[0]})).await);
    let after = entries(&v1, &id).await;
    assert_eq!(after, vec![(e[2].clone(), t[2].clone()), (e[0].clone(), t[0].clone()), (e[1].clone(), t[1].clone())]);
}

#[tokio::test]
async fn playlist_tracks_paginate_with_index_entry_cursors_across_pages() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let id = create(&v1, "Long", "PUBLIC").await;
    let t: Vec<String> = (0..130).map(track_id).collect();
    add(&v1, &id, &t[..100]).await;
    add(&v1, &id, &t[100..]).await;
    // The default page is 100.
    let first = v1.data(&format!("/v1/playlists/{id}/tracks")).await;
    assert_eq!(first["playlist"]["tracks"]["edgeCount"], json!(100));
    // `entries` walks the pages and checks each edge's index.
    assert_eq!(track_order(&v1, &id).await, t);
    let walked = v1.walk(&format!("/v1/playlists/{id}/tracks"), 17, |d| d["playlist"]["tracks"].clone()).await;
    assert_eq!(walked, t);
    for bad in ["0", "101", "x"] {
        assert_v1_error(
            &v1.get(&format!("/v1/playlists/{id}/tracks?limit={bad}")).await,
            400,
            "BAD_REQUEST",
            "Malformed request. Check for missing query parameter. limit must be an integer from 1 to 100.",
        );
    }
    assert_v1_error(
        &v1.get(&format!("/v1/playlists/{id}/tracks?cursor=garbage")).await,
        400,
        "BAD_REQUEST",
        "Malformed request. Check for missing query parameter. The cursor (token) is not valid; use pageInfo.token from the previous page.",
    );
}

#[tokio::test]
async fn my_playlists_are_newest_first_and_paginate() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_PRIME).await;
    let seeded = node_ids(&v1.data("/v1/me/playlists").await["user"]["playlists"]);
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(create(&v1, &format!("P{i}"), "PRIVATE").await);
    }
    made.reverse();
    let mut want = made.clone();
    want.extend(seeded);
    assert_eq!(v1.walk("/v1/me/playlists", 2, |d| d["user"]["playlists"].clone()).await, want);
    let data = v1.data("/v1/me/playlists").await;
    for e in data["user"]["playlists"]["edges"].as_array().unwrap() {
        assert_eq!(keys(e), ["cursor", "node"]);
        assert_eq!(keys(&e["node"]), PLAYLIST_KEYS);
    }
}

// ---- metadata ---------------------------------------------------------------------------------------

#[tokio::test]
async fn playlist_metadata_is_updated_with_put_and_validated() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let id = create(&v1, "Before", "PRIVATE").await;
    add(&v1, &id, &tracks(&[3])).await;
    let path = format!("/v1/playlists/{id}");
    let data = ok(&v1.put(&path, &json!({"title": "After", "visibility": "PUBLIC"})).await);
    assert_eq!(keys(&data), ["updatePlaylist"]);
    let p = &data["updatePlaylist"];
    assert_eq!(keys(p), PLAYLIST_KEYS);
    assert_eq!(
        (&p["title"], &p["description"], &p["visibility"], &p["trackCount"]),
        (&json!("After"), &json!("d"), &json!("PUBLIC"), &json!(1))
    );
    assert_eq!(v1.data(&path).await["playlist"], *p);
    let t = catalog().track(&track_id(3)).unwrap();
    assert_eq!(p["duration"], json!(t.duration));
    assert!(is_user_id(ptr_str(p, "/curator/id")));
    assert_eq!(p["url"], format!("https://music.amazon.com/my/playlists/{id}"));
    for (body, message) in [
        (
            json!({}),
            "Malformed request. Check for missing query parameter. Give at least one of title, description, visibility.",
        ),
        (
            json!({"title": "  "}),
            "Malformed request. Check for missing query parameter. title must be 1 to 256 characters.",
        ),
        (
            json!({"title": "x".repeat(257)}),
            "Malformed request. Check for missing query parameter. title must be 1 to 256 characters.",
        ),
    ] {
        assert_v1_error(&v1.put(&path, &body).await, 400, "BAD_REQUEST", message);
    }
    for body in [json!({"visibility": "SECRET"}), json!({"title": "t", "colour": "red"})] {
        assert!(
            v1_error_message(&v1.put(&path, &body).await, 400, "BAD_REQUEST")
                .starts_with("Malformed request. Check for missing query parameter. Invalid JSON body: ")
        );
    }
    for body in [
        json!({"title": "t", "description": "d"}),
        json!({"title": "t", "visibility": "PRIVATE"}),
        json!({"title": "", "description": "", "visibility": "PUBLIC"}),
    ] {
        let r = v1.post("/v1/playlists", &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(v1_error_message(&r, 400, "BAD_REQUEST").starts_with("Malformed request."));
    }
}

#[tokio::test]
async fn unknown_playlists_are_404_on_every_playlist_route() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let id = "15e6a15f-4c2f-4b24-a2fd-286b37ad4fa3";
    let message = format!("The requested playlist {id} was not found.");
    let entry = json!({"entryIds": ["e"], "entryIdAbove": "f"});
    for (method, path, body) in [
        ("GET", format!("/v1/playlists/{id}"), None),
        ("PUT", format!("/v1/playlists/{id}"), Some(json!({"title": "x"}))),
        ("DELETE", format!("/v1/playlists/{id}"), None),
        ("GET", format!("/v1/playlists/{id}/tracks"), None),
        ("PUT", format!("/v1/playlists/{id}/tracks"), Some(json!({"trackIds": [track_id(0)]}))),
        ("PATCH", format!("/v1/playlists/{id}/tracks"), Some(entry)),
        ("DELETE", format!("/v1/playlists/{id}/tracks"), Some(json!({"entryIds": ["e"]}))),
        ("GET", "/v1/playlists/B000000000".to_owned(), None),
    ] {
        let want =
            if path.contains("B000000000") { "The requested playlist B000000000 was not found." } else { &message };
        assert_v1_error(&v1.call(method, &path, body.as_ref()).await, 404, "RESOURCE_NOT_FOUND", want);
    }
}

// ---- catalog and other customers' playlists ---------------------------------------------------------

#[tokio::test]
async fn catalog_playlists_are_readable_and_not_writable() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_FREE).await;
    let cp = &catalog().playlists()[0];
    let id = cp.id.as_str();
    assert!(is_asin(id));
    let data = v1.data(&format!("/v1/playlists/{id}")).await;
    let p = &data["playlist"];
    assert_eq!(keys(p), PLAYLIST_KEYS);
    assert_eq!(p["visibility"], "PUBLIC");
    assert_eq!(p["trackCount"], json!(cp.tracks.len()));
    let e = entries(&v1, id).await;
    let want: Vec<String> = cp.tracks.iter().map(|&t| catalog()[t].id.as_str().to_owned()).collect();
    assert_eq!(e.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(), want);
    assert_eq!(entries(&v1, id).await, e, "catalog entry ids are stable");
    let denied = "Catalog playlists cannot be modified.";
    let entry = &e[0].0;
    for (method, path, body) in [
        ("PUT", format!("/v1/playlists/{id}"), Some(json!({"title": "Mine now"}))),
        ("DELETE", format!("/v1/playlists/{id}"), None),
        ("PUT", format!("/v1/playlists/{id}/tracks"), Some(json!({"trackIds": [track_id(0)]}))),
        ("PATCH", format!("/v1/playlists/{id}/tracks"), Some(json!({"entryIds": [entry], "entryIdBelow": &e[1].0}))),
        ("DELETE", format!("/v1/playlists/{id}/tracks"), Some(json!({"entryIds": [entry]}))),
    ] {
        assert_v1_error(&v1.call(method, &path, body.as_ref()).await, 403, "ACCESS_DENIED", denied);
    }
    assert_eq!(entries(&v1, id).await, e);
}

#[tokio::test]
async fn another_customers_private_playlist_is_404_and_a_public_one_readable_but_not_writable() {
    let app = TestApp::spawn().await;
    let ava = app.music(USER_UNLIMITED).await;
    let ben = app.music(USER_PRIME).await;
    let private = create(&ben, "Ben's secret", "PRIVATE").await;
    let public = create(&ben, "Ben's party", "PUBLIC").await;
    add(&ben, &private, &tracks(&[1, 2])).await;
    add(&ben, &public, &tracks(&[3, 4])).await;
    let private_entry = entries(&ben, &private).await[0].0.clone();
    let public_entries = entries(&ben, &public).await;

    // Private: it does not exist for anyone else, for reads and writes alike.
    let missing = format!("The requested playlist {private} was not found.");
    for (method, path, body) in [
        ("GET", format!("/v1/playlists/{private}"), None),
        ("GET", format!("/v1/playlists/{private}/tracks"), None),
        ("PUT", format!("/v1/playlists/{private}"), Some(json!({"title": "x"}))),
        ("DELETE", format!("/v1/playlists/{private}"), None),
        ("PUT", format!("/v1/playlists/{private}/tracks"), Some(json!({"trackIds": [track_id(9)]}))),
        (
            "PATCH",
            format!("/v1/playlists/{private}/tracks"),
            Some(json!({"entryIds": [&private_entry], "entryIdAbove": "another-entry"})),
        ),
        ("DELETE", format!("/v1/playlists/{private}/tracks"), Some(json!({"entryIds": [&private_entry]}))),
    ] {
        assert_v1_error(&ava.call(method, &path, body.as_ref()).await, 404, "RESOURCE_NOT_FOUND", &missing);
    }
    // Public: readable, not writable.
    assert_eq!(ava.data(&format!("/v1/playlists/{public}")).await, ben.data(&format!("/v1/playlists/{public}")).await);
    assert_eq!(entries(&ava, &public).await, public_entries);
    let owner_only = "Only the playlist's owner can modify it.";
    for (method, path, body) in [
        ("PUT", format!("/v1/playlists/{public}"), Some(json!({"title": "x"}))),
        ("DELETE", format!("/v1/playlists/{public}"), None),
        ("PUT", format!("/v1/playlists/{public}/tracks"), Some(json!({"trackIds": [track_id(9)]}))),
        (
            "PATCH",
            format!("/v1/playlists/{public}/tracks"),
            Some(json!({"entryIds": [&public_entries[1].0], "entryIdAbove": &public_entries[0].0})),
        ),
        ("DELETE", format!("/v1/playlists/{public}/tracks"), Some(json!({"entryIds": [&public_entries[0].0]}))),
    ] {
        assert_v1_error(&ava.call(method, &path, body.as_ref()).await, 403, "ACCESS_DENIED", owner_only);
    }
    assert_eq!(entries(&ben, &public).await, public_entries, "nothing changed");
    assert_eq!(entries(&ben, &private).await.len(), 2);
    // Neither shows in Ava's list.
    let avas = node_ids(&ava.data("/v1/me/playlists").await["user"]["playlists"]);
    assert!(!avas.contains(&private) && !avas.contains(&public));
}

// ---- concurrency ------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_adds_to_one_playlist_lose_nothing() {
    let app = TestApp::spawn().await;
    let v1 = app.music(USER_UNLIMITED).await;
    let id = create(&v1, "Parallel", "PRIVATE").await;
    const CALLS: usize = 80;
    const PER_CALL: usize = 5;
    let path = format!("/v1/playlists/{id}/tracks");
    let calls = (0..CALLS).map(|i| {
        let body = json!({"trackIds": (0..PER_CALL).map(|j| track_id(i * PER_CALL + j)).collect::<Vec<_>>()});
        let v1 = &v1;
        let path = &path;
        async move { v1.put(path, &body).await }
    });
    let results = futures_util::future::join_all(calls).await;
    let mut counts = HashSet::new();
    for r in &results {
        let d = ok(r);
        assert_eq!(d["addTracksToPlaylist"]["entries"].as_array().unwrap().len(), PER_CALL);
        counts.insert(d["addTracksToPlaylist"]["trackCount"].as_u64().unwrap());
    }
    assert_eq!(counts.len(), CALLS, "every call saw a different count: the adds were serialised");
    let e = entries(&v1, &id).await;
    assert_eq!(e.len(), CALLS * PER_CALL);
    assert_eq!(e.iter().map(|(e, _)| e).collect::<HashSet<_>>().len(), CALLS * PER_CALL, "entry ids are unique");
    let want: HashSet<String> = (0..CALLS * PER_CALL).map(track_id).collect();
    assert_eq!(e.iter().map(|(_, t)| t.clone()).collect::<HashSet<_>>(), want);
    // Each call's tracks stay together, in its order.
    for chunk in e.chunks(PER_CALL) {
        let first = (0..CALLS * PER_CALL).find(|&n| track_id(n) == chunk[0].1).unwrap();
        assert_eq!(first % PER_CALL, 0);
        assert_eq!(
            chunk.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(),
            (first..first + PER_CALL).map(track_id).collect::<Vec<_>>()
        );
    }
    assert_eq!(v1.data(&format!("/v1/playlists/{id}")).await["playlist"]["trackCount"], json!(CALLS * PER_CALL));
}

#[tokio::test]
async fn another_customers_public_playlist_is_readable_before_that_customer_made_any_request() {
    // The seeded ids are deterministic from the seed and the customer, so a look in another session
    // tells which playlist Ava will own here, without touching Ava in this session.
    let app = TestApp::spawn().await;
    let ava = app.admin("GET", &format!("/s/probe/__admin/users/{USER_UNLIMITED}/library"), json!({})).await;
    let public = ava["playlists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["playlist"]["visibility"] == "PUBLIC")
        .expect("Ava has a public seeded playlist");
    let id = public["playlist"]["id"].as_str().unwrap().to_owned();

    // Ben, in a fresh default session where Ava never made a request, reads it.
    let v1 = app.music(USER_PRIME).await;
    let data = ok(&v1.get(&format!("/v1/playlists/{id}")).await);

    assert_eq!(data["playlist"]["id"], id.as_str());
    assert_eq!(data["playlist"]["visibility"], "PUBLIC");
}
