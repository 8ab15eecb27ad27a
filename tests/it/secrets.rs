//! Redaction by value (`src/journal/secrets.rs`): each kind of secret, sent under ten names in a form field, a
//! JSON field, the query string and a header, reaches none of the journal, the dashboard, the verdict's and
//! the scenario runner's JUnit, JSON and HTML reports, or the log at trace level.

use std::io::Read;

use serde_json::{Value, json};

use crate::lwa_support::{TOKEN, VERIFIER, s};
use crate::scenario_support::{bin, run_reporting, scratch, write_files};
use crate::startup::{address_of, first_line, serve, signal};
use crate::support::*;

/// The names each secret is sent under: its own, its camel and kebab cases, and names that say nothing.
const NAMES: [&str; 10] = [
    "client_secret",
    "clientSecret",
    "client-secret",
    "secret",
    "x-secret",
    "refreshToken",
    "token",
    "auth",
    "value",
    "data",
];

/// A client, the server's address and a session, for requests to a served process.
struct Remote {
    http: reqwest::Client,
    base: String,
}

impl Remote {
    fn url(&self, path: &str) -> String {
        format!("{}/s/leak{path}", self.base)
    }

    async fn json(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let r = req.send().await.expect("sent");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn text(&self, path: &str) -> String {
        self.http.get(self.url(path)).send().await.expect("sent").text().await.expect("a body")
    }

    /// An authorization code for the web client (auto-consent), unused.
    async fn code(&self) -> String {
        let query =
            [("client_id", WEB_CLIENT), ("response_type", "code"), ("redirect_uri", WEB_RETURN), ("scope", "profile")];
        let r = self.http.get(self.url("/ap/oa")).query(&query).send().await.expect("sent");
        assert_eq!(r.status(), 302);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        crate::lwa_support::query_param(&location, "code").expect("a code")
    }
}

/// What must never show: each secret, and the parts of it a careless cut or encoding would leave.
fn leaks(secrets: &[(&str, String)], text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (kind, secret) in secrets {
        let body = secret.split_once('|').map_or(secret.as_str(), |(_, b)| b);
        let mut forms = vec![secret.clone(), secret.replace('|', "%7C"), body[..body.len().min(40)].to_owned()];
        forms.dedup();
        for f in forms {
            if text.contains(&f) {
                found.push(format!("{kind} ({f:.24}…)"));
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_under_any_name_reaches_the_journal_the_dashboard_the_reports_or_the_trace_log() {
    let mut child = serve(&["--log", "trace"]);
    let base = address_of(&first_line(&mut child));
    // The log is read while the server runs: a trace log fills a pipe long before the test ends.
    let mut stderr = child.stderr.take().expect("stderr piped");
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let remote =
        Remote { http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(), base };
    let (status, _) =
        remote.json(remote.http.put(remote.url("/__admin/settings")).json(&json!({"auto_consent": true}))).await;
    assert_eq!(status, 200);
    // Real material of this server: a token pair from a code exchange, and a fresh code nobody exchanged.
    let code = remote.code().await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", WEB_CLIENT),
        ("client_secret", WEB_SECRET),
    ];
    let (status, tokens) = remote.json(remote.http.post(remote.url(TOKEN)).form(&form)).await;
    assert_eq!(status, 200, "{tokens}");
    let secrets: Vec<(&str, String)> = vec![
        ("client secret", WEB_SECRET.to_owned()),
        ("legacy client secret", ASK_SECRET.to_owned()),
        ("refresh token", s(&tokens, "refresh_token").to_owned()),
        ("access token", s(&tokens, "access_token").to_owned()),
        ("authorization code", remote.code().await),
        ("PKCE verifier", VERIFIER.to_owned()),
    ];

    // Each secret under each name: a form field and a JSON field of a token request (with the query too),
    // and a query parameter and a header of a Music API call.
    for (_, secret) in &secrets {
        for name in NAMES {
            let form = [("grant_type", "refresh_token"), (name, secret.as_str())];
            remote.json(remote.http.post(remote.url(TOKEN)).query(&[(name, secret)]).form(&form)).await;
            let body = json!({"grant_type": "refresh_token", name: secret});
            remote.json(remote.http.post(remote.url(TOKEN)).json(&body)).await;
            let req = remote.http.get(remote.url("/v1/me")).query(&[(name, secret)]).header(name, secret.as_str());
            remote.json(req.header("x-api-key", "amzn1.application.30877432d1026706d7e805da846a32c3")).await;
        }
    }

    // The journal, as the admin API answers it.
    let journal = remote.text("/__admin/requests").await;
    assert_eq!(leaks(&secrets, &journal), Vec::<String>::new(), "the journal");
    let entries: Value = serde_json::from_str(&journal).unwrap();
    // Two `/ap/oa` and the code exchange, then three requests per secret and name.
    assert_eq!(entries.as_array().unwrap().len(), 3 + secrets.len() * NAMES.len() * 3);
    // The verdict saw them: every secret in a query string, a non-standard field or header is misplaced.
    let verdict: Value = serde_json::from_str(&remote.text("/__admin/verdict").await).unwrap();
    let rule = verdict["rules"].as_array().unwrap().iter().find(|r| r["id"] == "lwa-secret-placement").unwrap();
    assert_eq!(rule["status"], "fail", "{rule}");
    // The dashboard and its live part.
    for page in ["/__admin/ui", "/__admin/ui/live"] {
        let text = remote.text(page).await;
        assert!(text.contains("lwa-secret-placement"), "{page}");
        assert_eq!(leaks(&secrets, &text), Vec::<String>::new(), "{page}");
    }
    // The verdict command's reports.
    let dir = scratch("secrets-reports");
    let (junit, json_file, html) = (dir.join("v.xml"), dir.join("v.json"), dir.join("v.html"));
    let out = bin([
        "verdict",
        "--target",
        &remote.base,
        "--session",
        "leak",
        "--report",
        &format!("junit:{}", junit.display()),
        "--report",
        &format!("json:{}", json_file.display()),
        "--report",
        &format!("html:{}", html.display()),
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect())
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    for (what, text) in [
        ("verdict stdout", String::from_utf8_lossy(&out.stdout).into_owned()),
        ("verdict JUnit", std::fs::read_to_string(&junit).unwrap()),
        ("verdict JSON", std::fs::read_to_string(&json_file).unwrap()),
        ("verdict HTML", std::fs::read_to_string(&html).unwrap()),
    ] {
        assert_eq!(leaks(&secrets, &text), Vec::<String>::new(), "{what}");
    }

    // The scenario runner: a scenario that sends every secret and expects them back, so that its failure
    // shows the request line with its query, the mismatches, the diff and the answer.
    let mut query = String::new();
    let mut expected = String::new();
    for (i, (_, secret)) in secrets.iter().enumerate() {
        query.push_str(&format!("        {}: {:?}\n", NAMES[i], secret));
        expected.push_str(&format!("        {}: {:?}\n", NAMES[i], secret));
    }
    let scenario = format!(
        "name: sends every secret\nsteps:\n  - name: everything everywhere\n    request:\n      method: POST\n      path: /auth/o2/token\n      query:\n{query}      form:\n{query}      headers:\n        x-secret: {:?}\n    expect:\n      status: 200\n      json:\n{expected}",
        secrets[0].1
    );
    write_files(&dir, &[("leak.yaml", &scenario)]);
    let (out, reports) = run_reporting(&dir, &remote.base).await;
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let junit = std::fs::read_to_string(&reports.junit).unwrap();
    assert!(junit.contains("[redacted:"), "the failure is there, masked: {junit}");
    for (what, text) in [
        ("run stdout", String::from_utf8_lossy(&out.stdout).into_owned()),
        ("run stderr", String::from_utf8_lossy(&out.stderr).into_owned()),
        ("run JUnit", junit),
        ("run JSON", std::fs::read_to_string(&reports.json).unwrap()),
        ("run HTML", std::fs::read_to_string(&reports.html).unwrap()),
    ] {
        assert_eq!(leaks(&secrets, &text), Vec::<String>::new(), "{what}");
    }

    // The server's log at trace level.
    signal(&child, "-TERM");
    let status = child.wait().expect("exits");
    let log = log.join().expect("the log");
    assert!(status.success(), "{log:.2000}");
    assert!(log.contains("DEBUG") && log.lines().count() > 3 * NAMES.len(), "a log of every request: {log:.2000}");
    assert_eq!(leaks(&secrets, &log), Vec::<String>::new(), "the trace log");
    let _ = std::fs::remove_dir_all(&dir);
}
