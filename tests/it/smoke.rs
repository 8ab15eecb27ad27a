//! The outer contract: health, the listening address, the Date header on the virtual clock.

use crate::support::TestApp;
use serde_json::json;

#[tokio::test]
async fn health_answers_200_with_the_session_name() {
    let app = TestApp::spawn().await;
    let r = app.get("/__admin/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"status": "ok", "session": "default"}));
    let r = app.get("/s/t-1/__admin/health").await;
    assert_eq!(r.json(), json!({"status": "ok", "session": "t-1"}));
}

#[tokio::test]
async fn date_header_follows_the_virtual_clock() {
    let app = TestApp::spawn().await;
    app.admin("POST", "/__admin/clock/freeze", json!({})).await;
    app.admin("POST", "/__admin/clock/set", json!({"now": 1_000_000_000})).await;
    let r = app.get("/__admin/health").await;
    assert_eq!(r.header("date"), Some("Sun, 09 Sep 2001 01:46:40 GMT"));
    // Another session keeps real time.
    let r = app.get("/s/other/__admin/health").await;
    assert_ne!(r.header("date"), Some("Sun, 09 Sep 2001 01:46:40 GMT"));
}
