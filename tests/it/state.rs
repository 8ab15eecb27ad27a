//! State that outlives the process (`serve --state PATH`): the developer's restart journey, the file's
//! lock and format checks, export and import, and answered writes surviving SIGKILL.

use std::net::SocketAddr;
use std::path::Path;

use amazon_music_mock::ServerConfig;
use serde_json::{Value, json};

use crate::lwa_support::*;
use crate::music_support::*;
use crate::support::*;

fn config(state: Option<&Path>, import: Option<&Path>) -> ServerConfig {
    ServerConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        seed: Some(7),
        state: state.map(Path::to_owned),
        import: import.map(Path::to_owned),
        ..ServerConfig::default()
    }
}

async fn spawn(state: &Path) -> TestApp {
    TestApp::spawn_with(config(Some(state), None)).await
}

/// Titles of the customer's playlists, newest first.
pub(crate) async fn titles(v1: &V1<'_>) -> Vec<String> {
    let data = v1.data("/v1/me/playlists").await;
    data["user"]["playlists"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["title"].as_str().expect("title").to_owned())
        .collect()
}

/// Creates a private playlist; the `createPlaylist` answer.
async fn create_playlist(v1: &V1<'_>, title: &str) -> Value {
    ok(&v1.post("/v1/playlists", &json!({"title": title, "description": "", "visibility": "PRIVATE"})).await)
}

#[tokio::test]
async fn a_linked_device_its_playlist_a_revocation_and_the_clock_survive_a_restart() {
    let dir = TempDir::new("state-journey");
    let file = dir.0.join("mock.db");

    let app = spawn(&file).await;
    // A device linked by the customer, and a second grant (the web client) that the customer revokes.
    let device = app.music_tokens(USER_PRIME, ALL_MUSIC).await;
    let web = app.web_tokens("profile").await;
    let v1 = app.v1(s(&device, "access_token"));
    let created = create_playlist(&v1, "Persist me").await;
    let id = ptr_str(&created, "/createPlaylist/id").to_owned();
    app.admin("POST", "/__admin/grants/revoke", json!({"user_id": USER_UNLIMITED, "client_id": WEB_CLIENT})).await;
    app.admin("POST", "/__admin/clock/advance", json!({"seconds": 600})).await;
    let clock = app.admin("POST", "/__admin/clock/freeze", json!({})).await;
    let before = titles(&v1).await;
    assert_eq!(before[0], "Persist me");
    app.mock.stop().await;

    let app = spawn(&file).await;
    // The clock stands where it stood.
    assert_eq!(app.admin("GET", "/__admin/clock", Value::Null).await, clock);
    // The playlist is there, and the device's token still works: the signing key is the state file's own.
    let v1 = app.v1(s(&device, "access_token"));
    assert_eq!(titles(&v1).await, before);
    let p = v1.data(&format!("/v1/playlists/{id}")).await;
    assert_eq!(p["playlist"]["title"], "Persist me");
    // The revoked grant stays revoked: its access token is refused, its refresh token does not refresh.
    let r = app.profile(s(&web, "access_token")).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = app.refresh_web(s(&web, "refresh_token")).await;
    assert_lwa_error(
        &r,
        400,
        "invalid_grant",
        "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.",
    );
    app.mock.stop().await;
}

#[tokio::test]
async fn the_built_in_token_key_is_not_used_with_a_state_file_and_the_file_keeps_its_own() {
    let dir = TempDir::new("state-key");
    let file = dir.0.join("mock.db");
    let in_memory = TestApp::spawn_with(config(None, None)).await;
    let foreign = in_memory.music_token(USER_PRIME, ALL_MUSIC).await;
    let app = spawn(&file).await;
    let r = app.v1(&foreign).get("/v1/me").await;
    assert_eq!(r.status, 401, "a token signed with the built-in key is not this state's: {}", r.text);
    let own = app.music_token(USER_PRIME, ALL_MUSIC).await;
    app.mock.stop().await;
    let app = spawn(&file).await;
    assert_eq!(app.v1(&own).get("/v1/me").await.status, 200);
    app.mock.stop().await;
}

#[tokio::test]
async fn a_second_server_on_the_same_file_is_refused_and_a_foreign_or_newer_file_is_never_misread() {
    let dir = TempDir::new("state-refuse");
    let file = dir.0.join("mock.db");
    let app = spawn(&file).await;
    let second = amazon_music_mock::start(&config(Some(&file), None)).await.err().expect("refused");
    assert_eq!(
        second.to_string(),
        format!(
            "state file {} is in use by another amazon-music-mock server; stop it first, or give this one its own --state file",
            file.display()
        )
    );
    app.mock.stop().await;

    let foreign = dir.0.join("other.db");
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);").unwrap();
    drop(conn);
    let err = amazon_music_mock::start(&config(Some(&foreign), None)).await.err().expect("refused");
    assert_eq!(
        err.to_string(),
        format!(
            "{} is an SQLite database but not an amazon-music-mock state file; give --state a new path or a state file",
            foreign.display()
        )
    );

    let newer = dir.0.join("newer.db");
    spawn(&newer).await.mock.stop().await;
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'format'", []).unwrap();
    drop(conn);
    let err = amazon_music_mock::start(&config(Some(&newer), None)).await.err().expect("refused");
    assert_eq!(
        err.to_string(),
        format!(
            "state file {} has format 99, newer than this build's format 1: run the version that wrote it, or `state export` with it and `serve --import` here",
            newer.display()
        )
    );

    let text = dir.0.join("notes.txt");
    std::fs::write(&text, "not a database, just some text that is long enough to fill a header ".repeat(20)).unwrap();
    let err = amazon_music_mock::start(&config(Some(&text), None)).await.err().expect("refused");
    assert_eq!(err.to_string(), format!("state file {}: file is not a database", text.display()));
}

#[tokio::test]
async fn an_exported_snapshot_starts_another_server_with_the_same_state_with_or_without_a_file() {
    let dir = TempDir::new("state-export");
    let file = dir.0.join("mock.db");
    let app = spawn(&file).await;
    let token = app.music_token(USER_PRIME, ALL_MUSIC).await;
    let v1 = app.v1(&token);
    create_playlist(&v1, "Hand over").await;
    let expected = titles(&v1).await;
    app.mock.stop().await;

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_amazon-music-mock"))
        .args(["state", "export", "--state"])
        .arg(&file)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let snapshot: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(snapshot["format"], "amazon-music-mock-state");
    assert_eq!(snapshot["version"], 1);
    assert!(snapshot["sessions"]["default"]["playlist"].as_object().is_some_and(|m| !m.is_empty()), "{snapshot}");
    let snap_file = dir.0.join("snapshot.json");
    std::fs::write(&snap_file, &out.stdout).unwrap();

    // Into a new state file.
    let other = dir.0.join("colleague.db");
    let app = TestApp::spawn_with(config(Some(&other), Some(&snap_file))).await;
    assert_eq!(titles(&app.v1(&token)).await, expected);
    app.mock.stop().await;
    // Into memory only.
    let app = TestApp::spawn_with(config(None, Some(&snap_file))).await;
    assert_eq!(titles(&app.v1(&token)).await, expected);

    // A snapshot that is not one is refused with one line.
    std::fs::write(&snap_file, r#"{"format":"something-else","version":1,"sessions":{}}"#).unwrap();
    let err = amazon_music_mock::start(&config(None, Some(&snap_file))).await.err().expect("refused");
    assert_eq!(
        err.to_string(),
        format!(
            "snapshot {}: format is \"something-else\", expected \"amazon-music-mock-state\" (made by `amazon-music-mock state export`)",
            snap_file.display()
        )
    );
}

#[test]
fn state_export_of_a_file_a_server_holds_or_of_no_file_exits_2_with_one_line() {
    let dir = TempDir::new("state-export-missing");
    let file = dir.0.join("missing.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_amazon-music-mock"))
        .args(["state", "export", "--state"])
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr), format!("error: state file {}: no such file\n", file.display()));
    assert!(out.stdout.is_empty());
}

/// One `serve --seed 1 --state STATE` process (a file, or a Redis URL) and its base URL.
fn serve_on(state: &str) -> (std::process::Child, String) {
    let mut child = crate::startup::serve(&["--seed", "1", "--state", state]);
    let line = crate::startup::first_line(&mut child);
    (child, crate::startup::address_of(&line))
}

/// An access token with every music scope, through the device flow over HTTP.
async fn token_over_http(http: &reqwest::Client, base: &str) -> String {
    let pair: Value = http
        .post(format!("{base}/auth/O2/create/codepair"))
        .form(&[("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", ALL_MUSIC)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let approve = json!({"user_code": pair["user_code"], "user_id": USER_PRIME});
    let r = http.post(format!("{base}/__admin/device/approve")).json(&approve).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let tokens: Value = http
        .post(format!("{base}/auth/O2/token"))
        .form(&[("grant_type", "device_code"), ("device_code", pair["device_code"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"].as_str().expect("access token").to_owned()
}

/// Every track id in a playlist, through the V1 API.
async fn playlist_tracks(http: &reqwest::Client, base: &str, token: &str, playlist: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/playlists/{playlist}/tracks?limit=100");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={}", enc(c)));
        }
        let r = http.get(url).bearer_auth(token).header(V1_HEADER.0, V1_HEADER.1).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        let tracks = &v["data"]["playlist"]["tracks"];
        out.extend(tracks["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].as_str().unwrap().to_owned()));
        match tracks["pageInfo"]["token"].as_str() {
            Some(t) if tracks["pageInfo"]["hasNextPage"] == json!(true) => cursor = Some(t.to_owned()),
            _ => return out,
        }
    }
}

/// The paths of the journal a server on `base` holds, oldest first.
async fn journal_paths(http: &reqwest::Client, base: &str) -> Vec<String> {
    let r = http.get(format!("{base}/__admin/requests")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let entries: Vec<Value> = r.json().await.unwrap();
    entries.iter().map(|e| e["path"].as_str().expect("path").to_owned()).collect()
}

/// SIGKILLs a server and waits for it to go.
fn sigkill(child: std::process::Child) {
    let _ = std::process::Command::new("kill").args(["-KILL", &child.id().to_string()]).status();
    let (status, _) = crate::startup::wait_with_limit(child, std::time::Duration::from_secs(10));
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9), "killed");
}

/// A read's journal entry is not written on the read's way: the writer takes the entries a file lacks with
/// its next commit, or 250 ms after the first of them when nothing else is written. So a SIGKILL half a
/// second after a burst of reads loses none of their entries, nor does a SIGKILL right after an answered
/// write lose the reads before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_entries_of_reads_reach_the_file_within_a_quarter_second_or_with_the_next_write() {
    let dir = TempDir::new("state-journal");
    let file = dir.0.join("journal.db").to_str().expect("UTF-8 path").to_owned();
    let http = reqwest::Client::new();
    let me = |base: &str, token: &str| {
        http.get(format!("{base}/v1/me")).bearer_auth(token).header(V1_HEADER.0, V1_HEADER.1).send()
    };

    let (child, base) = serve_on(&file);
    let token = token_over_http(&http, &base).await;
    let before = journal_paths(&http, &base).await.len();
    for _ in 0..40 {
        assert_eq!(me(&base, &token).await.unwrap().status(), 200);
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    sigkill(child);
    let (child, base) = serve_on(&file);
    let paths = journal_paths(&http, &base).await;
    assert_eq!(paths.len(), before + 40, "{paths:?}");
    assert!(paths[before..].iter().all(|p| p == "/v1/me"), "{paths:?}");

    for _ in 0..30 {
        assert_eq!(me(&base, &token).await.unwrap().status(), 200);
    }
    let r = http
        .post(format!("{base}/v1/playlists"))
        .bearer_auth(&token)
        .header(V1_HEADER.0, V1_HEADER.1)
        .json(&json!({"title": "after the reads", "description": "", "visibility": "PRIVATE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    sigkill(child);
    let (mut child, base) = serve_on(&file);
    let paths = journal_paths(&http, &base).await;
    assert_eq!(paths.iter().filter(|p| *p == "/v1/me").count(), 70, "{paths:?}");
    let _ = child.kill();
    let _ = child.wait();
}

/// SIGKILL in the middle of 1,000 playlist writes (eight at a time), at a different point each time, twenty
/// times: every write that was answered 200 is in the file after a restart, and the file opens cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_write_burst_loses_no_answered_write_twenty_times_over() {
    let dir = TempDir::new("state-crash");
    let file = |rep: u64| dir.0.join(format!("crash-{rep}.db")).to_str().expect("UTF-8 path").to_owned();
    sigkill_during_write_bursts(20, file).await;
}

/// `reps` times: a server on the state `state(rep)` names, SIGKILLed in the middle of 1,000 playlist writes
/// (eight at a time) at a different point each time, then a new server on the same state, which must hold
/// every write that was answered 200.
pub(crate) async fn sigkill_during_write_bursts(reps: u64, state: impl Fn(u64) -> String) {
    let http = reqwest::Client::new();
    let tracks: Vec<String> = (0..500).map(track_id).collect();
    for rep in 0..reps {
        let file = state(rep);
        let (child, base) = serve_on(&file);
        let token = token_over_http(&http, &base).await;
        let mut playlists = Vec::new();
        for title in ["A", "B"] {
            let r = http
                .post(format!("{base}/v1/playlists"))
                .bearer_auth(&token)
                .header(V1_HEADER.0, V1_HEADER.1)
                .json(&json!({"title": title, "description": "", "visibility": "PRIVATE"}))
                .send()
                .await
                .unwrap();
            let v: Value = r.json().await.unwrap();
            playlists.push(v["data"]["createPlaylist"]["id"].as_str().expect("created").to_owned());
        }
        // Kill after this many answers: from 50 to 950, a different point each repetition.
        let kill_after = 50 + (rep * 47) % 900;
        let answered = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(usize, String)>::new()));
        let pid = child.id();
        let killed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writes: Vec<(usize, String)> = (0..1000).map(|i| (i % 2, tracks[i / 2].clone())).collect::<Vec<_>>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(writes.into_iter()));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (http, base, token, playlists) = (http.clone(), base.clone(), token.clone(), playlists.clone());
            let (answered, killed, queue) = (answered.clone(), killed.clone(), queue.clone());
            workers.spawn(async move {
                loop {
                    let next = queue.lock().unwrap().next();
                    let Some((p, track)) = next else { return };
                    let r = http
                        .put(format!("{base}/v1/playlists/{}/tracks", playlists[p]))
                        .bearer_auth(&token)
                        .header(V1_HEADER.0, V1_HEADER.1)
                        .json(&json!({"trackIds": [track]}))
                        .send()
                        .await;
                    let Ok(r) = r else { return };
                    if r.status() != 200 {
                        return;
                    }
                    let mut a = answered.lock().unwrap();
                    a.push((p, track));
                    if a.len() as u64 == kill_after && !killed.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
                    }
                }
            });
        }
        while workers.join_next().await.is_some() {}
        let (status, _) = crate::startup::wait_with_limit(child, std::time::Duration::from_secs(10));
        assert!(killed.load(std::sync::atomic::Ordering::SeqCst), "rep {rep}: the burst ended before the kill");
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9), "rep {rep}: killed");

        let (mut child, base) = serve_on(&file);
        let answered = answered.lock().unwrap().clone();
        assert!(answered.len() as u64 >= kill_after, "rep {rep}");
        for (p, playlist) in playlists.iter().enumerate() {
            let kept: std::collections::HashSet<String> =
                playlist_tracks(&http, &base, &token, playlist).await.into_iter().collect();
            let lost: Vec<&String> =
                answered.iter().filter(|(q, _)| *q == p).map(|(_, t)| t).filter(|t| !kept.contains(*t)).collect();
            assert!(lost.is_empty(), "rep {rep}: answered writes lost after SIGKILL: {lost:?}");
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[tokio::test]
async fn a_file_whose_documents_table_is_without_rowid_is_moved_to_a_rowid_table_with_every_document() {
    let dir = TempDir::new("state-layout");
    let file = dir.0.join("mock.db");
    let app = spawn(&file).await;
    let device = app.music_tokens(USER_PRIME, ALL_MUSIC).await;
    let v1 = app.v1(s(&device, "access_token"));
    create_playlist(&v1, "Kept in the old layout").await;
    let before = titles(&v1).await;
    app.mock.stop().await;
    // The layout files had before the table became a rowid one.
    let conn = rusqlite::Connection::open(&file).unwrap();
    let count =
        |conn: &rusqlite::Connection| -> i64 { conn.query_row("SELECT count(*) FROM docs", [], |r| r.get(0)).unwrap() };
    let documents = count(&conn);
    conn.execute_batch(
        "CREATE TABLE old (session TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
                           PRIMARY KEY (session, kind, key)) WITHOUT ROWID;
         INSERT INTO old SELECT * FROM docs; DROP TABLE docs; ALTER TABLE old RENAME TO docs;",
    )
    .unwrap();
    drop(conn);

    let app = spawn(&file).await;
    assert_eq!(titles(&app.v1(s(&device, "access_token"))).await, before);
    app.mock.stop().await;
    let conn = rusqlite::Connection::open(&file).unwrap();
    let sql: String = conn
        .query_row("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'docs'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        sql,
        "CREATE TABLE \"docs\" (session TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (session, kind, key))"
    );
    assert!(count(&conn) >= documents, "every document moved, and the second run's journal added");
}
