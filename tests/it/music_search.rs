//! Search as users expect (issue 17 part 2) over HTTP: prefix matching on every word, one typo in words of
//! five letters or more, accents and case folded, multi-word queries whose last word is partial and whose words
//! match title, album and artist together, and relevance that puts exact and whole-title matches first; the
//! same engine behind V1 (`POST /v1/search/tracks`, `GET /v1/search`), V2 (`GET /v2/search`,
//! `POST /v2/search/tracks`) and the Device API (`/device/search/`). Ids are those of the test catalog
//! (`catalog()`: embedded fixtures, seed 1).

use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::support::*;

/// `id title` of each track node of the first page (5) of a V1 `searchTracks` answer, in order.
async fn v1_tracks(v1: &V1<'_>, filters: Value) -> Vec<String> {
    let data = ok(&v1.post("/v1/search/tracks", &json!({"searchFilters": filters, "limit": 5})).await);
    let s = &data["searchTracks"];
    s["edges"].as_array().expect("edges").iter().map(|e| id_title(&e["node"])).collect()
}

fn id_title(v: &Value) -> String {
    format!("{} {}", ptr_str(v, "/id"), v["title"].as_str().or(v["name"].as_str()).unwrap_or("?"))
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// The entities of the group `id` of a catalog view, as `id title`.
fn group(view: &Value, id: &str) -> Vec<String> {
    let groups = view["content"]["entityGroups"].as_array().expect("entityGroups");
    let g = groups.iter().find(|g| g["id"] == id).unwrap_or_else(|| panic!("no group {id} in {view}"));
    g["content"]["entities"].as_array().expect("entities").iter().map(id_title).collect()
}

#[tokio::test]
async fn v1_track_search_matches_prefixes_typos_and_words_across_fields() {
    let app = TestApp::spawn().await;
    let v1 = app.v1(&app.music_token(USER_UNLIMITED, "music::catalog").await);

    // Search as you type: "lov" finds the titles "Love" first ("The Shining Lovers" matches "lov" too).
    let lov = v1_tracks(&v1, json!([{"query": "lov"}])).await;
    assert_eq!(lov[..3], strings(&["B0BU09Q662 Love", "B0E0B9U5PE Love", "B05JTEEG6O Love"]));
    // One letter finds things; whole titles first.
    let s = v1_tracks(&v1, json!([{"query": "s"}])).await;
    assert_eq!(s[..3], strings(&["B0F3GRW5H2 Sun", "B09CZWIU6M Satellite", "B0YQ70Z54K Sunset"]));
    // A typo in a long word, the title matched best first.
    let typo = v1_tracks(&v1, json!([{"query": "midnigt"}])).await;
    assert_eq!(typo[0], "B0FV2JQNOZ My Midnight Dream");
    // ... but not in a four-letter word.
    assert_eq!(v1_tracks(&v1, json!([{"query": "roze"}])).await, Vec::<String>::new());
    // Words across title and artist, the last one partial.
    let cross = v1_tracks(&v1, json!([{"query": "rose harper g"}])).await;
    assert_eq!(cross, strings(&["B0H3KQCBOP Wild Rose", "B0AMCG8N9Z Lonely Rose"]));
    // Text field filters use the same matching; id fields stay exact.
    let fields = json!([{"field": "artistName", "query": "harp garc"}, {"field": "name", "query": "ros"}]);
    assert_eq!(v1_tracks(&v1, fields).await, strings(&["B0H3KQCBOP Wild Rose", "B0AMCG8N9Z Lonely Rose"]));
    let album = json!([{"field": "albumName", "query": "strnge nigh"}, {"field": "albumId", "query": "B0NLNDK57"}]);
    assert_eq!(v1_tracks(&v1, album).await, Vec::<String>::new(), "an id prefix is not an id");
    // The same answer the catalog gives, in the same order.
    let want: Vec<String> = catalog()
        .search_tracks(
            &[amazon_music_mock::test_support::catalog::SearchFilter::any("strnge nigh")],
            Default::default(),
            0,
            5,
        )
        .items
        .iter()
        .map(|&t| format!("{} {}", catalog()[t].id, catalog()[t].title))
        .collect();
    let got = v1_tracks(&v1, json!([{"query": "strnge nigh"}])).await;
    // "Night" first: its title holds "nigh(t)" too, on the album "The Strange Night".
    assert_eq!(got[0], "B0LQW3NN7H Night");
    assert_eq!(got, want);
}

#[tokio::test]
async fn v1_search_all_ranks_prefix_and_typo_matches() {
    let app = TestApp::spawn().await;
    let v1 = app.v1(&app.music_token(USER_UNLIMITED, "music::catalog").await);

    // "harpr" is one edit from "harper", "garc" the start of "garcia": the artist leads the top hits.
    let data = ok(&v1.get("/v1/search?query=harpr%20garc&limit=3").await);
    let view = &data[0];
    assert_eq!(group(view, "artists"), strings(&[&format!("{} Harper Garcia", artist_id("Harper Garcia"))]));
    assert_eq!(group(view, "topHits")[0], format!("{} Harper Garcia", artist_id("Harper Garcia")));
    // An exact name is a top hit even when typed in capitals.
    let data = ok(&v1.get("/v1/search?query=WILD%20ROSE&limit=3").await);
    assert_eq!(group(&data[0], "topHits")[0], "B0H3KQCBOP Wild Rose");
    assert_eq!(group(&data[0], "tracks")[0], "B0H3KQCBOP Wild Rose");
}

fn artist_id(name: &str) -> String {
    let a = catalog().artists().iter().find(|a| &*a.name == name).unwrap_or_else(|| panic!("no artist {name}"));
    a.id.as_str().to_owned()
}

#[tokio::test]
async fn v2_search_view_and_track_search_use_the_same_matching() {
    let app = TestApp::spawn().await;
    let v2 = app.v2(&app.music_token(USER_UNLIMITED, ALL_MUSIC).await);

    let view = v2.ok("/v2/search?query=lov&limit=3").await;
    assert_eq!(group(&view, "tracks"), strings(&["B0BU09Q662 Love", "B0E0B9U5PE Love", "B05JTEEG6O Love"]));
    let r = v2.post("/v2/search/tracks", &json!({"searchFilters": [{"query": "rose harper g"}]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items: Vec<String> = r.json()["items"].as_array().expect("items").iter().map(id_title).collect();
    assert_eq!(items, strings(&["B0H3KQCBOP Wild Rose", "B0AMCG8N9Z Lonely Rose"]));
    let r = v2.post("/v2/search/tracks", &json!({"query": "midnigt"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(id_title(&r.json()["items"][0]), "B0FV2JQNOZ My Midnight Dream");
}

#[tokio::test]
async fn device_search_finds_songs_by_prefix_and_typo() {
    let app = TestApp::spawn().await;
    let token = app.music_token(USER_UNLIMITED, "amazon_music:access").await;
    let get = |q: &str| {
        let url = app.url(&format!("/device/search/?keywords={}&count=2&type=track", enc(q)));
        app.send(app.http.get(url).bearer_auth(&token))
    };
    for (q, want) in [("rose harper g", ["Wild Rose", "Lonely Rose"]), ("lov", ["Love", "Love"])] {
        let r = get(q).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let d = r.json();
        let node = &d["navigationNodeDescriptions"][d["result"].as_str().unwrap().trim_start_matches('#')];
        let songs_ref = &d["itemDescriptions"][node["items"][0].as_str().unwrap().trim_start_matches('#')];
        assert_eq!(songs_ref["itemLabel"], "Songs");
        let songs_node =
            &d["navigationNodeSummaries"][songs_ref["navigationNodeSummary"].as_str().unwrap().trim_start_matches('#')];
        let songs =
            &d["navigationNodeDescriptions"][songs_node["description"].as_str().unwrap().trim_start_matches('#')];
        let labels: Vec<&str> = songs["items"]
            .as_array()
            .expect("songs")
            .iter()
            .map(|i| d["itemDescriptions"][i.as_str().unwrap().trim_start_matches('#')]["itemLabel"].as_str().unwrap())
            .collect();
        assert_eq!(labels, want, "{q}");
    }
}

#[tokio::test]
async fn accents_fold_in_a_fixture_catalog() {
    let app = crate::catalog_fixtures::app_with_catalog(
        "generate: false\nartists: [{id: B0FIXART01, name: Beyoncé}]\nalbums: [{id: B0FIXALB01, title: Crème Brûlée, artistId: B0FIXART01, releaseDate: '2003-06-23'}]\ntracks: [{id: B0FIXTRK01, title: Déjà Vu, albumId: B0FIXALB01, duration: 240, isrc: USSM10600001}, {id: B0FIXTRK02, title: Naïve, albumId: B0FIXALB01, duration: 200, isrc: USSM10600002}]\n",
    )
    .await;
    let v1 = app.v1(&app.music_token(USER_UNLIMITED, "music::catalog").await);
    assert_eq!(v1_tracks(&v1, json!([{"query": "deja vu"}])).await, strings(&["B0FIXTRK01 Déjà Vu"]));
    assert_eq!(v1_tracks(&v1, json!([{"query": "NAIVE"}])).await, strings(&["B0FIXTRK02 Naïve"]));
    let both = v1_tracks(&v1, json!([{"field": "artistName", "query": "beyonce"}])).await;
    assert_eq!(both.len(), 2, "{both:?}");
    let data = ok(&v1.get("/v1/search?query=beyonce&limit=3").await);
    assert_eq!(group(&data[0], "topHits")[0], "B0FIXART01 Beyoncé");
    let data = ok(&v1.get("/v1/search?query=creme%20brulee&limit=3").await);
    assert_eq!(group(&data[0], "topHits")[0], "B0FIXALB01 Crème Brûlée");
}
