//! The Web API V2 (spec `music-api.md` §2.2, §3.3, §3.4, §5.1, §5.2, §6.2, §11.3): the device-id and auth
//! errors, the unwrapped envelope and the V2 error shape, `first`/`after` pages, batch lookups, search, the
//! customer's library and playlists (the same state V1 reads), views, sparse fieldsets, unknown paths and
//! injected faults. Exact wire shapes throughout.

use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::support::*;

/// A V2 entity's keys: `_type`, the V1 keys, then `tail` (§3.4).
fn v2_keys(v1: &[&'static str], tail: &[&'static str]) -> Vec<&'static str> {
    let mut k = vec!["_type"];
    k.extend_from_slice(v1);
    k.extend_from_slice(tail);
    k
}

fn track_keys() -> Vec<&'static str> {
    v2_keys(&TRACK_KEYS, &["mediaType", "label"])
}

const PLAYLIST_KEYS: [&str; 11] = [
    "_type",
    "id",
    "title",
    "description",
    "visibility",
    "trackCount",
    "duration",
    "url",
    "owner",
    "images",
    "parentalSettings",
];

fn playlist_keys() -> &'static [&'static str] {
    &PLAYLIST_KEYS
}

fn ids_of(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(|i| ptr_str(i, "/id").to_owned())
        .collect()
}

async fn v2_all<'a>(app: &'a TestApp, user: &str) -> V2<'a> {
    let t = app.music_token(user, ALL_MUSIC).await;
    app.v2(&t)
}

// ---- headers and auth (§2.2, §11.3) -----------------------------------------------------------------

#[tokio::test]
async fn a_v2_call_without_x_amzn_device_id_is_401_missing_device_id() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    let message = "Missing X-Amzn-Device-Id header: send a stable, unique id of the device (for example a hash of its MAC address).";
    let r = app.send(app.http.get(app.url("/v2/albums/top")).bearer_auth(&token)).await;
    assert_v2_error(&r, 401, "MISSING_DEVICE_ID", message);
    // The device id is checked first: no token at all gives the same answer.
    assert_v2_error(&app.get("/v2/albums/top").await, 401, "MISSING_DEVICE_ID", message);
    // An empty value counts as missing.
    let r = app.send(app.http.get(app.url("/v2/albums/top")).bearer_auth(&token).header("x-amzn-device-id", " ")).await;
    assert_v2_error(&r, 401, "MISSING_DEVICE_ID", message);
}

#[tokio::test]
async fn token_failures_are_401_unauthorized_authentication_required() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    let call = |auth: Option<String>| {
        let mut req = app.http.get(app.url("/v2/albums/top")).header("x-amzn-device-id", DEVICE_ID);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        app.send(req)
    };
    let cases = [
        (None, "Authentication required. Missing Authorization header. Send Authorization: Bearer <LWA access token>."),
        (
            Some("Basic dXNlcjpwYXNz".to_owned()),
            "Authentication required. The Authorization header does not carry a bearer token. Send Authorization: Bearer <LWA access token>.",
        ),
        (Some("Bearer ".to_owned()), "Authentication required. The bearer token is empty."),
        (Some("Bearer Atza|nonsense".to_owned()), "Authentication required. The access token is invalid."),
    ];
    for (auth, message) in cases {
        assert_v2_error(&call(auth).await, 401, "UNAUTHORIZED", message);
    }
    app.advance(3600).await;
    let r = call(Some(format!("Bearer {token}"))).await;
    assert_v2_error(
        &r,
        401,
        "UNAUTHORIZED",
        "Authentication required. The access token has expired. Refresh it and retry.",
    );
}

#[tokio::test]
async fn x_api_key_is_ignored_and_scope_and_account_failures_are_403_forbidden() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "music::catalog").await;
    // Any x-api-key, even a client id or nonsense, changes nothing.
    for key in [API_KEY, WEB_CLIENT, "nonsense"] {
        let r = app
            .send(
                app.http
                    .get(app.url("/v2/albums/top?first=1"))
                    .bearer_auth(&token)
                    .header("x-amzn-device-id", DEVICE_ID)
                    .header("x-api-key", key),
            )
            .await;
        assert_eq!(r.status, 200, "{key}: {}", r.text);
    }
    // A catalog-only token cannot read the library.
    let r = app.v2(&token).get("/v2/me/playlists/owned").await;
    assert_v2_error(
        &r,
        403,
        "FORBIDDEN",
        "Access denied: this operation requires the scope music::library:read; the access token has: music::catalog. Ask the customer to consent to music::library:read at /ap/oa.",
    );
    // A customer without Amazon Music.
    let none = app.music_token(USER_NO_MUSIC, "music::catalog").await;
    assert_v2_error(
        &app.v2(&none).get("/v2/albums/top").await,
        403,
        "FORBIDDEN",
        "No Amazon Music account found. The customer must sign up for Amazon Music before using this API.",
    );
}

// ---- batch lookups (§5.1, §11.3) ----------------------------------------------------------------------

#[tokio::test]
async fn tracks_by_id_are_a_bare_array_in_request_order_and_any_unknown_id_is_404() {
    let app = TestApp::spawn().await;
    let v2 = v2_all(&app, USER_UNLIMITED).await;
    let ids = [track_id(30), track_id(2), track_id(17)];
    let body = v2.ok(&format!("/v2/tracks?ids={}&territory=US", ids.join("%2C"))).await;
    assert_eq!(ids_of(&body), ids);
    let t = &body[1];
    assert_eq!(keys(t), track_keys());
    let cat = catalog();
    let want = &cat.tracks()[2];
    assert_eq!(t["_type"], "Track");
    assert_eq!(t["mediaType"], "audio");
    assert_eq!(t["label"], &*cat[want.album].label);
    assert_eq!(t["isrc"], want.isrc.as_str());
    assert_eq!(t["globalAsin"], t["id"]);
    assert_eq!(keys(&t["album"]), ["id", "title", "url"]);

    let r = v2.get(&format!("/v2/tracks?ids={},B0ZZZZZZZZ", ids[0])).await;
    assert_v2_error(&r, 404, "NOT_FOUND", "Track not found: B0ZZZZZZZZ");
    let twenty: Vec<String> = (0..20).map(track_id).collect();
    assert_eq!(ids_of(&v2.ok(&format!("/v2/tracks?ids={}", twenty.join(","))).await), twenty);
    let r = v2.get(&format!("/v2/tracks?ids={},{}", twenty.join(","), track_id(20))).await;
    assert_v2_error(&r, 400, "BAD_REQUEST", "ids parameter must hold at most 20 ids; got 21");
    assert_v2_error(
        &v2.get("/v2/tracks").await,
        400,
        "BAD_REQUEST",
        "ids parameter is required: a comma-separated list of ids",
    );
    let r = v2.get(&format!("/v2/tracks?ids={}&territory=USA", ids[0])).await;
    assert_v2_error(
        &r,
        400,
        "BAD_REQUEST",
        "territory parameter must be an ISO 3166-1 alpha-2 country code, such as US",
    );
}

#[tokio::test]
async fn albums_and_playlists_by_id_leave_unknown_ids_out_and_cap_at_100() {
    let app = TestApp::spawn().await;
    let v2 = v2_all(&app, USER_UNLIMITED).await;
    let albums = v2.ok(&format!("/v2/albums?ids={},B0ZZZZZZZZ,{}", album_id(3), album_id(0))).await;
    assert_eq!(ids_of(&albums), [album_id(3), album_id(0)]);
    assert_eq!(keys(&albums[0]), v2_keys(&ALBUM_KEYS, &[]));
    assert_eq!(albums[0]["_type"], "Album");
    let hundred: Vec<String> = (0..100).map(|i| format!("B0ZZZZZ{i:03}")).collect();
    assert_eq!(v2.ok(&format!("/v2/albums?ids={}", hundred.join(","))).await, json!([]));
    let r = v2.get(&format!("/v2/playlists?ids={},B0ZZZZZ100", hundred.join(","))).await;
    assert_v2_error(&r, 400, "BAD_REQUEST", "ids parameter must hold at most 100 ids; got 101");

    // A catalog playlist and the customer's own (seeded) playlist, in the V2 Playlist shape.
    let owned = v2.ok("/v2/me/playlists/owned").await;
    let mine = ptr_str(&owned, "/items/0/id").to_owned();
    let cp = catalog_playlist_id(0);
    let lists = v2.ok(&format!("/v2/playlists?ids={cp},00000000-0000-4000-8000-000000000000,{mine}")).await;
    assert_eq!(ids_of(&lists), [cp.clone(), mine.clone()]);
    for p in lists.as_array().unwrap() {
        assert_eq!(keys(p), playlist_keys());
        assert_eq!(keys(&p["owner"]), ["id", "name"]);
        assert_eq!(keys(&p["images"][0]), ["url", "width", "height", "imageType"]);
        assert_eq!(keys(&p["parentalSettings"]), ["hasExplicitLanguage"]);
    }
    let c = &catalog().playlists()[0];
    assert_eq!(lists[0]["owner"], json!({"id": &*c.curator, "name": "Amazon Music"}));
    assert_eq!(lists[0]["url"], format!("https://music.amazon.com/playlists/{cp}"));
    assert_eq!(lists[0]["visibility"], "PUBLIC");
    assert_eq!(lists[0]["trackCount"], json!(c.tracks.len()));
    assert_eq!(lists[1]["owner"]["name"], "Ava Unlimited");
    assert_eq!(lists[1]["url"], format!("https://music.amazon.com/my/playlists/{mine}"));
}

// ---- pagination (§3.3, §11.3) -----------------------------------------------------------------------

#[tokio::test]
async fn first_out_of_range_is_400_with_the_documented_message_on_every_list() {
    let app = TestApp::spawn().await;
    let v2 = v2_all(&app, USER_UNLIMITED).await;
    for path in [
        "/v2/albums/top",
        "/v2/albums/new-releases",
        "/v2/browse/tracks/top",
        "/v2/me/tracks",
        "/v2/me/tracks/liked",
        "/v2/me/playlists/owned",
        "/v2/me/playlists/followed",
        "/v2/views/home",
    ] {
        for first in ["0", "101", "-3", "many"] {
            let r = v2.get(&format!("{path}?first={first}")).await;
            assert_v2_error(&r, 400, "BAD_REQUEST", "first parameter must be between 1 and 100");
        }
        assert_eq!(v2.get(&format!("{path}?first=100")).await.status, 200, "{path}");
    }
    let r = v2.get("/v2/albums/top?after=not-a-token").await;
    assert_v2_error(
        &r,
        400,
        "BAD_REQUEST",
        "after parameter is not a valid token: use nextToken from the previous page",
    );
}

#[tokio::test]
async fn lists_default_to_20_and_page_with_after_until_next_token_is_absent() {
    let app = TestApp::spawn().await;
    let v2 = v2_all(&app, USER_UNLIMITED).await;
    let first = v2.ok("/v2/albums/top").await;
    assert_eq!(keys(&first), ["items", "nextToken"]);
    assert_eq!(first["items"].as_array().unwrap().len(), 20);
    let cat = catalog();
    let walked = v2.walk_items("/v2/albums/top", 7).await;
    let want: Vec<String> =
        cat.top_albums(0, usize::MAX).items.iter().map(|&a| cat[a].id.as_str().to_owned()).collect();
    assert_eq!(walked, want);
    let newest = v2.walk_items("/v2/albums/new-releases", 50).await;
    let want: Vec<String> =
        cat.new_releases(0, usize::MAX).items.iter().map(|&a| cat[a].id.as_str().to_owned()).collect();
    assert_eq!(newest, want);
    let date = |id: &String| cat.album(id).unwrap().release_date;
    assert!(newest.windows(2).all(|w| date(&w[0]) >= date(&w[1])), "newest first");
    // A library list: every library track once, newest first.
    assert_eq!(v2.walk_items("/v2/me/tracks", 4).await.len(), 25);
}

// ---- search (§5.1) --------------------------------------------------------------------------------

#[tokio::test]
async fn search_answers_one_catalog_view_whose_groups_page_by_their_next_page_token() {
    let app = TestApp::spawn().await;
    let v2 = v2_all(&app, USER_UNLIMITED).await;
    let artist = &catalog().artists()[0];
    let q = enc(&artist.name);
    let view = v2.ok(&format!("/v2/search?query={q}&limit=2")).await;
    assert_eq!(keys(&view), ["_type", "id", "entity", "title", "content"]);
    assert_eq!((&view["_type"], &view["id"], &view["entity"]), (&json!("View"), &json!("catalog"), &Value::Null));
    let groups = view["content"]["entityGroups"].as_array().unwrap();
    assert_eq!(groups[0]["id"], "topHits");
    assert_eq!(groups[0]["content"]["nextPageToken"], Value::Null, "top hits are a single page");
    let tracks = groups.iter().find(|g| g["id"] == "tracks").expect("a tracks group");
    assert_eq!(keys(tracks), ["_type", "id", "title", "viewType", "content"]);
    assert_eq!(tracks["content"]["entities"].as_array().unwrap().len(), 2);
    assert_eq!(tracks["content"]["entities"][0]["_type"], "Track");
    let token = ptr_str(tracks, "/content/nextPageToken").to_owned();
    // The group's id is the groupId of its see-all page, its token the `after`.
    let next = v2.ok(&format!("/v2/search/tracks?query={q}&after={}&first=2", enc(&token))).await;
    assert_eq!(keys(&next), ["_type", "id", "title", "viewType", "content"]);
    let want: Vec<String> = catalog()
        .search_tracks(
            &[amazon_music_mock::test_support::catalog::SearchFilter::any(&*artist.name)],
            Default::default(),
            2,
            2,
        )
        .items
        .iter()
        .map(|&t| catalog()[t].id.as_str().to_owned())
        .collect();
    assert_eq!(ids_of(&next["content"]["entities"]), want);

    assert_v2_error(
        &v2.get("/v2/search?query=").await,
        400,
        "BAD_REQUEST",
        "query parameter must be 1 to 300 characters",
    );
    let long = "a".repeat(301);
    assert_v2_error(
        &v2.get(&format!("/v2/search?query={long}")).await,
        400,
        "BAD_REQUEST",
        "query parameter must be 1 to 300 characters",
    );
    assert_v2_error(
        &v2.get(&format!("/v2/search?query={q}&limit=101")).await,
        400,
        "BAD_REQUEST",
        "limit parameter must be between 1 and 100",
    );
}

#[tokio::test]
async fn search_by_body_answers_items_and_next_token_and_finds_tracks_by_isrc() {
    let app = TestApp::spawn().await;
    let v2 = v2_all(&app, USER_UNLIMITED).await;
    let t = &catalog().tracks()[5];
    let r =
        v2.post("/v2/search/tracks", &json!({"searchFilters": [{"field": "isrc", "query": t.isrc.as_str()}]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(keys(&v), ["items"]);
    assert_eq!(ids_of(&v["items"]), [t.id.as_str()]);
    assert_eq!(keys(&v["items"][0]), track_keys());

    let album = &catalog().albums()[0];
    let page = v2.post("/v2/search/albums?first=1", &json!({"query": &*album.title})).await.json();
    assert_eq!(page["items"][0]["_type"], "Album");
    let r = v2.post("/v2/search/albums", &json!({"query": &*album.title, "first": 0})).await;
    assert_v2_error(&r, 400, "BAD_REQUEST", "first parameter must be between 1 and 100");
    let r = v2.post("/v2/search/stations", &json!({"query": "rock"})).await;
    assert_v2_error(&r, 404, "NOT_FOUND", "Search type not found: stations");
    let r = v2.post("/v2/search/tracks", &json!({})).await;
    assert_v2_error(&r, 400, "BAD_REQUEST", "query or searchFilters is required");
}

// ---- browse, library, playlists (§5.1, §5.2) --------------------------------------------------------------

#[tokio::test]
async fn top_tracks_lead_with_the_customers_most_played_then_follow_popularity() {
    let app = TestApp::spawn().await;
    let v2 = v2_all(&app, USER_UNLIMITED).await;
    let history = app.admin("GET", &format!("/__admin/users/{USER_UNLIMITED}/library"), json!({})).await;
    let first_played = ptr_str(&history, "/history/0/trackId").to_owned();
    let all = v2.walk_items("/v2/browse/tracks/top", 100).await;
    assert_eq!(all.len(), catalog().tracks().len(), "every track once");
    assert!(all[..10].contains(&first_played), "the customer's plays lead");
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), all.len(), "no track twice");
}

#[tokio::test]
async fn a_playlist_created_in_v2_is_the_one_v1_reads_and_edits() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, ALL_MUSIC).await;
    let (v1, v2) = (app.v1(&token), app.v2(&token));
    let r = v2
        .post(
            "/v2/playlists",
            &json!({"title": "Shared", "description": "made in V2", "trackAsins": [track_id(1), track_id(2)]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let created = r.json();
    assert_eq!(keys(&created), playlist_keys());
    assert_eq!(created["visibility"], "PRIVATE");
    assert_eq!(created["trackCount"], 2);
    let id = ptr_str(&created, "/id").to_owned();
    assert!(is_uuid(&id));

    // V1 sees it, with its tracks.
    let meta = v1.data(&format!("/v1/playlists/{id}")).await;
    assert_eq!(meta["playlist"]["title"], "Shared");
    let v1_tracks = v1.data(&format!("/v1/playlists/{id}/tracks")).await;
    assert_eq!(node_ids(&v1_tracks["playlist"]["tracks"]), [track_id(1), track_id(2)]);
    // V1 adds one; V2 adds two (one already there: skipped).
    ok(&v1.put(&format!("/v1/playlists/{id}/tracks"), &json!({"trackIds": [track_id(3)]})).await);
    let after = v2.post(&format!("/v2/playlists/{id}/tracks"), &json!({"trackIds": [track_id(4), track_id(1)]})).await;
    assert_eq!(after.status, 200, "{}", after.text);
    assert_eq!(after.json()["trackCount"], 4);
    assert_eq!(
        v2.walk_items(&format!("/v2/playlists/{id}/tracks"), 3).await,
        [track_id(1), track_id(2), track_id(3), track_id(4)]
    );
    assert_eq!(v2.ok("/v2/me/playlists/owned").await["items"][0]["id"], id.as_str());

    // Errors: an unknown track, too many, a catalog playlist, an unknown playlist.
    let r = v2.post(&format!("/v2/playlists/{id}/tracks"), &json!({"trackIds": ["B0ZZZZZZZZ"]})).await;
    assert_v2_error(&r, 404, "NOT_FOUND", "Track not found: B0ZZZZZZZZ");
    let many: Vec<String> = (0..101).map(track_id).collect();
    let r = v2.post(&format!("/v2/playlists/{id}/tracks"), &json!({"trackIds": many})).await;
    assert_v2_error(&r, 400, "BAD_REQUEST", "trackIds must hold at most 100 ids; got 101");
    let cp = catalog_playlist_id(0);
    let r = v2.post(&format!("/v2/playlists/{cp}/tracks"), &json!({"trackIds": [track_id(1)]})).await;
    assert_v2_error(&r, 403, "FORBIDDEN", "Catalog playlists cannot be modified.");
    let r = v2.post("/v2/playlists", &json!({"description": "no title"})).await;
    let body_len = r#"{"description":"no title"}"#.len();
    assert_v2_error(
        &r,
        400,
        "BAD_REQUEST",
        &format!("Invalid JSON body: missing field `title` at line 1 column {body_len}."),
    );

    // DELETE answers 204 and V1 no longer finds it.
    let r = v2.delete(&format!("/v2/playlists/{id}"), None).await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    assert_v1_error(
        &v1.get(&format!("/v1/playlists/{id}")).await,
        404,
        "RESOURCE_NOT_FOUND",
        &format!("The requested playlist {id} was not found."),
    );
    assert_v2_error(
        &v2.get(&format!("/v2/playlists/{id}/tracks")).await,
        404,
        "NOT_FOUND",
        &format!("Playlist not found: {id}"),
    );
}

#[tokio::test]
async fn the_customers_playlists_and_tracks_follow_the_v2_scopes() {
    let app = TestApp::spawn().await;
    let read = app.music_token(USER_UNLIMITED, "music::library:read music::favorites:read").await;
    let v2 = app.v2(&read);
    let owned = v2.ok("/v2/me/playlists/owned").await;
    assert_eq!(owned["items"].as_array().unwrap().len(), 2);
    assert_eq!(owned["items"][0]["title"], "Ava's Road Trip");
    let followed = v2.ok("/v2/me/playlists/followed").await;
    assert_eq!(followed["items"].as_array().unwrap().len(), 2);
    assert_eq!(keys(&followed["items"][0]), playlist_keys());
    assert_eq!(v2.ok("/v2/me/tracks/liked?first=100").await["items"].as_array().unwrap().len(), 15);
    // Writes need music::library.
    let r = v2.post("/v2/playlists", &json!({"title": "x"})).await;
    assert_v2_error(
        &r,
        403,
        "FORBIDDEN",
        "Access denied: this operation requires the scope music::library; the access token has: music::favorites:read music::library:read. Ask the customer to consent to music::library at /ap/oa.",
    );
}

// ---- views (§3.3, §5.2) ---------------------------------------------------------------------------

#[tokio::test]
async fn the_home_view_pages_its_groups_and_each_group_in_content_next_page_token() {
    let app = TestApp::spawn().await;
    let v2 = v2_all(&app, USER_UNLIMITED).await;
    let view = v2.ok("/v2/views/home?first=2").await;
    assert_eq!(keys(&view), ["_type", "id", "images", "content"]);
    assert_eq!(keys(&view["content"]), ["_type", "nextPageToken", "entityGroups"]);
    assert!(view.get("nextToken").is_none() && view.get("items").is_none());
    let groups = view["content"]["entityGroups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    let token = ptr_str(&view, "/content/nextPageToken").to_owned();
    let rest = v2.ok(&format!("/v2/views/home?first=2&after={}", enc(&token))).await;
    let rest_ids = ids_of(&rest["content"]["entityGroups"]);
    assert!(rest_ids.contains(&"home:newReleases".to_owned()), "{rest_ids:?}");
    assert_eq!(rest["content"]["nextPageToken"], Value::Null);

    let all = v2.ok("/v2/views/home").await;
    let nr = all["content"]["entityGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "home:newReleases")
        .unwrap()
        .clone();
    assert_eq!(nr["content"]["entities"].as_array().unwrap().len(), 10);
    let token = ptr_str(&nr, "/content/nextPageToken");
    let page = v2.ok(&format!("/v2/views/home/home:newReleases?after={}&first=30", enc(token))).await;
    assert_eq!(keys(&page), ["_type", "id", "title", "viewType", "content"]);
    let want: Vec<String> =
        catalog().new_releases(10, 30).items.iter().map(|&a| catalog()[a].id.as_str().to_owned()).collect();
    assert_eq!(ids_of(&page["content"]["entities"]), want);
    assert_v2_error(&v2.get("/v2/views/home/nope").await, 404, "NOT_FOUND", "View group not found: nope");
}

// ---- fieldsets, unknown paths, faults ------------------------------------------------------------------

#[tokio::test]
async fn sparse_fieldsets_shape_every_entity_of_their_type() {
    let app = TestApp::spawn().await;
    let v2 = v2_all(&app, USER_UNLIMITED).await;
    let body = v2
        .ok(&format!(
            "/v2/tracks?ids={}&fields%5Btrack%5D=title,album,artists&fields[album]=title&fields[artist]=name",
            track_id(0)
        ))
        .await;
    let t = &body[0];
    assert_eq!(keys(t), ["_type", "id", "title", "album", "artists"]);
    assert_eq!(keys(&t["album"]), ["id", "title"]);
    assert_eq!(keys(&t["artists"][0]), ["id", "name"]);
    let page = v2.ok("/v2/albums/top?first=1&fields[album]=title").await;
    assert_eq!(keys(&page["items"][0]), ["_type", "id", "title"]);
    assert_eq!(keys(&page), ["items", "nextToken"], "lists keep their own keys");
    let r = v2.get("/v2/albums/top?fields[song]=title").await;
    let message = v2_error_message(&r, 400, "BAD_REQUEST");
    assert!(message.starts_with("fields[song] names an unknown type"), "{message}");
}

#[tokio::test]
async fn unknown_v2_paths_are_404_and_wrong_methods_405_in_the_v2_shape() {
    let app = TestApp::spawn().await;
    let v2 = v2_all(&app, USER_UNLIMITED).await;
    for path in ["/v2/nope", "/v2/playback/queues", "/v2/playback/queues/x/rewind", "/v2"] {
        assert_v2_error(&v2.get(path).await, 404, "NOT_FOUND", &format!("No such resource: {path}"));
    }
    assert_v2_error(
        &v2.delete("/v2/albums/top", None).await,
        405,
        "METHOD_NOT_ALLOWED",
        "DELETE is not supported on this resource.",
    );
}

#[tokio::test]
async fn injected_faults_answer_in_the_v2_shape() {
    let app = TestApp::spawn().await;
    let v2 = v2_all(&app, USER_UNLIMITED).await;
    app.admin(
        "POST",
        "/__admin/faults",
        json!({"route": "GET /v2/albums/top", "error": "THROTTLED", "retry_after": 7, "count": 1}),
    )
    .await;
    app.admin(
        "POST",
        "/__admin/faults",
        json!({"route": "GET /v2/tracks", "error": "MAX_CONCURRENCY_REACHED", "count": 1}),
    )
    .await;
    let r = v2.get("/v2/albums/top").await;
    assert_v2_error(&r, 429, "THROTTLED", "Too Many Requests. Rate limiting has been applied.");
    assert_eq!(r.header("retry-after"), Some("7"));
    assert_eq!(v2.get("/v2/albums/top").await.status, 200, "count 1");
    let r = v2.get(&format!("/v2/tracks?ids={}", track_id(0))).await;
    assert_v2_error(&r, 429, "MAX_CONCURRENCY_REACHED", "Concurrent stream limit exceeded");
}
