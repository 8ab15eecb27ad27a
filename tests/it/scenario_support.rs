//! Helpers for the scenario-runner tests: scratch directories with scenario files, the binary as a process,
//! a JUnit reader, and a small server that answers deliberately wrong.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use amazon_music_mock::scenario::{self, RunOptions, RunReport, ScenarioResult};
use quick_xml::events::Event;

pub const BIN: &str = env!("CARGO_BIN_EXE_amazon-music-mock");

/// The suite, `scenarios/` at the repository root.
pub fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// A fresh scratch directory for one test, under Cargo's per-target temp dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scenario-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Writes `files` (name, text) into `dir`.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("dir");
        }
        std::fs::write(p, text).expect("write");
    }
}

/// Loads scenario paths; panics with every load error.
pub fn load(paths: &[PathBuf]) -> Vec<scenario::LoadedScenario> {
    let (loaded, errors) = scenario::load_paths(paths);
    assert!(
        errors.is_empty(),
        "load errors:\n{}",
        errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    );
    loaded
}

/// Runs loaded scenarios through the library.
pub async fn run_with(loaded: &[scenario::LoadedScenario], opts: RunOptions) -> RunReport {
    scenario::run(loaded, &opts, &mut |_: &ScenarioResult| {}).await.expect("the run starts")
}

/// Options for a run against a URL.
pub fn against(base: &str) -> RunOptions {
    RunOptions {
        target: scenario::Target::Url { base: base.to_owned(), mock: scenario::MockMode::Detect },
        jobs: 4,
        ..RunOptions::default()
    }
}

/// Every failure of a report, in full, for assertion messages.
pub fn failures(report: &RunReport) -> String {
    report
        .scenarios
        .iter()
        .filter_map(|r| r.failure.as_ref().map(|f| format!("{} ({}):\n{}", r.name, r.file, f.details(&r.file))))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the binary (no `AMM_*` variables inherited) and waits for it.
pub async fn bin(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(BIN);
        cmd.args(&args);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("AMM_") {
                cmd.env_remove(k);
            }
        }
        cmd.stdin(Stdio::null()).output().expect("the binary runs")
    })
    .await
    .expect("join")
}

/// Where [`run_reporting`] writes its reports.
pub struct Reports {
    pub junit: PathBuf,
    pub html: PathBuf,
    pub json: PathBuf,
}

/// Runs the binary on `dir` against `target`, writing JUnit, HTML and JSON reports under `dir/out/`.
pub async fn run_reporting(dir: &Path, target: &str) -> (Output, Reports) {
    let out_dir = dir.join("out");
    let r = Reports {
        junit: out_dir.join("junit.xml"),
        html: out_dir.join("report.html"),
        json: out_dir.join("report.json"),
    };
    let mut args = vec!["run".to_owned(), dir.to_string_lossy().into_owned(), "--target".into(), target.to_owned()];
    for (format, path) in [("junit", &r.junit), ("html", &r.html), ("json", &r.json)] {
        args.push("--report".into());
        args.push(format!("{format}:{}", path.display()));
    }
    (bin(args).await, r)
}

/// One `testcase` of a JUnit file.
#[derive(Debug, Default, Clone)]
pub struct TestCase {
    pub name: String,
    pub classname: String,
    /// `failure`, `error` or `skipped`, when present.
    pub result: Option<String>,
    /// Its `message` attribute.
    pub message: String,
    /// Its text.
    pub text: String,
}

/// Parses a JUnit XML document with quick-xml; panics when it is not well-formed or lacks `testsuites`.
pub fn junit_cases(xml: &str) -> Vec<TestCase> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut cases: Vec<TestCase> = Vec::new();
    let mut in_result = false;
    let mut saw_root = false;
    let attr = |e: &quick_xml::events::BytesStart, name: &str| -> String {
        e.attributes()
            .filter_map(Result::ok)
            .find(|a| a.key.as_ref() == name.as_bytes())
            .map(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).expect("attribute").into_owned())
            .unwrap_or_default()
    };
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{xml}")) {
            Event::Start(e) | Event::Empty(e) => {
                let tag = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match tag.as_str() {
                    "testsuites" => saw_root = true,
                    "testcase" => cases.push(TestCase {
                        name: attr(&e, "name"),
                        classname: attr(&e, "classname"),
                        ..TestCase::default()
                    }),
                    "failure" | "error" | "skipped" => {
                        let c = cases.last_mut().expect("a result inside a testcase");
                        c.result = Some(tag.clone());
                        c.message = attr(&e, "message");
                        in_result = true;
                    }
                    _ => {}
                }
            }
            Event::Text(t) if in_result => {
                cases.last_mut().expect("case").text.push_str(&t.decode().expect("utf-8"));
            }
            Event::GeneralRef(r) if in_result => {
                let raw = format!("&{};", r.decode().expect("utf-8"));
                let c = quick_xml::escape::unescape(&raw).expect("a known entity").into_owned();
                cases.last_mut().expect("case").text.push_str(&c);
            }
            Event::End(e) if matches!(e.name().as_ref(), b"failure" | b"error" | b"skipped") => in_result = false,
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(saw_root, "no <testsuites> root:\n{xml}");
    cases
}

/// A server that answers almost like the mock, but wrong in one detail per route:
/// - `POST /auth/o2/token`: status 201 instead of 200;
/// - `POST /auth/o2/create/codepair`: `"interval": "30"` (a string) instead of the integer 30;
/// - `GET /auth/o2/tokeninfo`: no `Cache-Control` header;
/// - `GET /ap/oa`: redirects with a `state` other than the one sent.
///
/// It has no `/__admin`, so runs against it treat it as a real (non-mock) target.
pub async fn start_wrong_server() -> (String, tokio::task::JoinHandle<()>) {
    use axum::Router;
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::IntoResponse;
    use axum::routing::{get, post};
    use serde_json::json;

    async fn token() -> impl IntoResponse {
        let body =
            json!({"access_token": "Atza|x", "refresh_token": "Atzr|y", "token_type": "bearer", "expires_in": 3600});
        (StatusCode::CREATED, [(header::CONTENT_TYPE, "application/json;charset=UTF-8")], body.to_string())
    }
    async fn codepair() -> impl IntoResponse {
        let body = json!({"user_code": "ABC123", "device_code": "d", "interval": "30",
            "verification_uri": "https://amazon.com/us/code", "expires_in": 600});
        (
            [(header::CONTENT_TYPE, "application/json;charset=UTF-8"), (header::CACHE_CONTROL, "no-store")],
            body.to_string(),
        )
    }
    async fn tokeninfo() -> impl IntoResponse {
        let body =
            json!({"aud": "c", "user_id": "u", "iss": "https://www.amazon.com", "exp": 3600, "app_id": "a", "iat": 1});
        ([(header::CONTENT_TYPE, "application/json;charset=UTF-8")], body.to_string())
    }
    async fn authorize(axum::extract::RawQuery(q): axum::extract::RawQuery) -> impl IntoResponse {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned().collect();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let location =
            format!("{}?code=ANabcdefghijklmnopqr&scope=profile&state=not-{}", get("redirect_uri"), get("state"));
        let mut h = HeaderMap::new();
        h.insert(header::LOCATION, location.parse().expect("header"));
        (StatusCode::FOUND, h)
    }
    let app = Router::new()
        .route("/auth/o2/token", post(token))
        .route("/auth/o2/create/codepair", post(codepair))
        .route("/auth/o2/tokeninfo", get(tokeninfo))
        .route("/ap/oa", get(authorize));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, task)
}

/// Scenarios each of which the wrong server fails in exactly one place (a right server would pass them),
/// plus one `mock-only` scenario that a target without an admin API must skip.
pub const WRONG_SERVER_SCENARIOS: &[(&str, &str)] = &[
    (
        "wrong-status.yaml",
        r#"name: wrong status
steps:
  - name: exchange
    request:
      method: POST
      path: /auth/o2/token
      form: {grant_type: refresh_token, refresh_token: "Atzr|y", client_id: "c"}
    expect:
      status: 200
"#,
    ),
    (
        "wrong-field.yaml",
        r#"name: wrong JSON field
steps:
  - name: code pair
    request:
      method: POST
      path: /auth/o2/create/codepair
      form: {response_type: device_code, client_id: "c", scope: profile}
    expect:
      status: 200
      json: {interval: 30, expires_in: 600}
"#,
    ),
    (
        "missing-header.yaml",
        r#"name: missing header
steps:
  - name: token info
    request:
      path: /auth/o2/tokeninfo
      query: {access_token: "Atza|x"}
    expect:
      status: 200
      headers:
        cache-control: no-store
"#,
    ),
    (
        "wrong-redirect.yaml",
        r#"name: wrong redirect parameter
steps:
  - name: authorize
    request:
      path: /ap/oa
      query: {client_id: c, scope: profile, response_type: code, redirect_uri: "http://127.0.0.1:9090/cb", state: xyz}
    expect:
      status: 302
      redirect:
        base: http://127.0.0.1:9090/cb
        query: {state: xyz, code: {regex: "^AN"}}
"#,
    ),
    (
        "needs-mock.yaml",
        r#"name: needs the mock
tags: [mock-only]
steps:
  - control: freeze_clock
"#,
    ),
];
