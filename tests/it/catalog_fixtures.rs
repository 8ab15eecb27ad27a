//! `fixtures/catalog.yaml`: the embedded catalog fixtures make the docs' example ids resolve, and a
//! fixture directory can extend or replace the generated catalog (issue: "Fixture files in `fixtures/` can
//! replace or extend it").

use amazon_music_mock::ServerConfig;
use serde_json::Value;

use crate::support::*;

async fn catalog_token(app: &TestApp) -> String {
    let t = app.device_tokens(DEVICE_CLIENT, "music::catalog").await;
    t["access_token"].as_str().unwrap().to_owned()
}

async fn v1(app: &TestApp, token: &str, path: &str) -> Resp {
    app.send(app.http.get(app.url(path)).bearer_auth(token).header("x-api-key", MUSIC_PROFILE)).await
}

fn dir_with(catalog: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("amm-catalog-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("catalog.yaml"), catalog).unwrap();
    dir
}

/// A server (seed 1) whose fixture directory holds only `catalog` as its `catalog.yaml` (read at start, then
/// removed).
pub(crate) async fn app_with_catalog(catalog: &str) -> TestApp {
    let dir = dir_with(catalog);
    let app = TestApp::spawn_with(ServerConfig {
        bind: ([127, 0, 0, 1], 0).into(),
        seed: Some(1),
        fixtures: Some(dir.clone()),
        ..ServerConfig::default()
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    app
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

#[tokio::test]
async fn the_docs_example_ids_resolve_in_the_embedded_catalog() {
    let app = TestApp::spawn().await;
    let token = catalog_token(&app).await;

    let r = v1(&app, &token, "/v1/tracks/B076YT2CBT").await;

    assert_eq!(r.status, 200, "{}", r.text);
    let t = &r.json()["data"]["track"];
    assert_eq!(t["id"], "B076YT2CBT");
    assert_eq!(t["globalAsin"], "B076YT2CBT");
    assert_eq!(t["title"], "Example Track");
    assert_eq!(t["duration"], 215);
    assert_eq!(t["isrc"], "USMK11700001");
    assert_eq!(t["audioQualities"], serde_json::json!(["SD", "HD", "UHD", "360RA"]));
    assert_eq!(t["album"]["id"], "B0064UPU4G");
    assert_eq!(t["artists"][0]["id"], "B01EJ9KLA6");
    let r = v1(&app, &token, "/v1/albums/?ids=B0064UPU4G,B091BHTFTZ,B0869N1S7F").await;
    let body = r.json();
    let ids: Vec<&str> = body["data"]["albums"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["B0064UPU4G", "B091BHTFTZ", "B0869N1S7F"]);
}

#[tokio::test]
async fn a_fixture_catalog_with_generate_false_replaces_the_generated_one() {
    let app = app_with_catalog(
        "generate: false\nartists: [{id: B0FIXART01, name: Only Band}]\nalbums: [{id: B0FIXALB01, title: Only Album, artistId: B0FIXART01, releaseDate: '2001-02-03'}]\ntracks: [{id: B0FIXTRK01, title: Only Song, albumId: B0FIXALB01, duration: 100, isrc: USAB20100001}]\n",
    )
    .await;
    let token = catalog_token(&app).await;

    let r = app
        .send(
            app.http
                .post(app.url("/v1/search/tracks"))
                .bearer_auth(&token)
                .header("x-api-key", MUSIC_PROFILE)
                .json(&serde_json::json!({"searchFilters": [{"field": "artistName", "query": "band"}]})),
        )
        .await;

    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    let edges: &Vec<Value> = body["data"]["searchTracks"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["id"], "B0FIXTRK01");
    assert_eq!(v1(&app, &token, "/v1/tracks/B076YT2CBT").await.status, 404, "the embedded fixtures are replaced too");
}

#[tokio::test]
async fn a_bad_catalog_fixture_stops_serve_with_exit_2_naming_the_file_and_entity() {
    let dir =
        dir_with("tracks: [{id: B0FIXTRK01, title: Orphan, albumId: B0NOALBUM1, duration: 100, isrc: USAB20100001}]\n");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_amazon-music-mock"))
        .args(["serve", "--bind", "127.0.0.1:0", "--fixtures"])
        .arg(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("catalog.yaml") && err.contains("tracks[0]"), "{err}");
}
