//! The runner against the mock: small scenario files pass in process, every scenario of the suite passes
//! (one data-driven test), sessions keep parallel scenarios apart, and a run against a separately started
//! `serve` gives the same results as the in-process run.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use amazon_music_mock::scenario::{Outcome, RunOptions, Target};

use crate::scenario_support::*;

fn in_process() -> RunOptions {
    RunOptions { jobs: 4, ..RunOptions::default() }
}

const SMALL: &[(&str, &str)] = &[
    (
        "clock.yaml",
        r#"name: the virtual clock moves for control steps
tags: [mock-only]
steps:
  - control: {set_clock: 1700000000}
  - control: freeze_clock
  - control: {advance_clock: 60}
    capture: {now: {pointer: /now}}
  - request: {path: /__admin/clock}
    expect:
      json: {now: 1700000060, frozen: true}
      pointers: {/now: "{{now}}"}
"#,
    ),
    (
        "tokeninfo.yaml",
        r#"name: a bad token at tokeninfo is invalid_token
tags: [lwa]
steps:
  - request:
      path: /auth/o2/tokeninfo
      query: {access_token: "Atza|not-a-token"}
    expect:
      status: 400
      json:
        error_description: "The request has an invalid parameter : access_token"
        error: invalid_token
      headers:
        content-type: application/json;charset=UTF-8
        x-amzn-requestid: {regex: "^[0-9a-f]{8}-"}
"#,
    ),
    (
        "fault.yaml",
        r#"name: an injected fault answers THROTTLED once
tags: [mock-only, music]
vars:
  redirect_uri: "{{fixture.client.web.redirect_uri}}"
steps:
  - control: {settings: {auto_consent: true}}
  - request:
      path: /ap/oa
      query: {client_id: "{{fixture.client.web.id}}", scope: music::profile, response_type: code, redirect_uri: "{{redirect_uri}}"}
    expect: {status: 302}
    capture: {code: {query: code}}
  - request:
      method: POST
      path: /auth/o2/token
      form: {grant_type: authorization_code, code: "{{code}}", client_id: "{{fixture.client.web.id}}", client_secret: "{{fixture.client.web.secret}}"}
    expect: {status: 200}
    capture: {token: {pointer: /access_token}}
  - control: {fault: {route: "GET /v1/me", error: THROTTLED, retry_after: 5, count: 1}}
  - request: {path: /v1/me, bearer: "{{token}}", headers: {x-api-key: "{{fixture.profile.music.id}}"}}
    expect: {status: 429, headers: {retry-after: "5"}, json: {error: {code: THROTTLED}}}
  - request: {path: /v1/me, bearer: "{{token}}", headers: {x-api-key: "{{fixture.profile.music.id}}"}}
    expect: {status: 200}
"#,
    ),
];

#[tokio::test]
async fn small_scenarios_pass_against_the_in_process_mock() {
    let dir = scratch("small");
    write_files(&dir, SMALL);

    let report = run_with(&load(&[dir]), in_process()).await;

    assert!(report.in_process && report.mock);
    assert_eq!(report.exit_code(), 0, "{}", failures(&report));
    assert_eq!(report.summary_line(), "3 passed, 0 failed, 0 skipped");
    let sessions: Vec<&str> = report.scenarios.iter().filter_map(|r| r.session.as_deref()).collect();
    assert_eq!(sessions, ["000-clock", "001-fault", "002-tokeninfo"]);
}

#[tokio::test]
async fn every_scenario_of_the_suite_passes_in_process() {
    let suite = load(&[suite_dir()]);
    assert!(suite.len() >= 5, "the suite is in scenarios/");

    let report = run_with(&suite, in_process()).await;

    assert_eq!(report.exit_code(), 0, "{}", failures(&report));
    assert!(report.scenarios.iter().all(|r| r.outcome == Outcome::Passed), "{:?}", report.summary);
}

#[tokio::test]
async fn parallel_scenarios_do_not_see_each_others_settings_or_clocks() {
    // Forty scenarios: half turn auto-consent on, set their clock to the year 2103 and expect the redirect;
    // half expect the sign-in page and a clock before 2100. Run 8 at a time, any leak fails one of them.
    let dir = scratch("isolation");
    let mut files = Vec::new();
    for i in 0..20 {
        files.push((
            format!("on-{i:02}.yaml"),
            format!(
                "name: consent on {i}\ntags: [mock-only]\nsteps:\n  - control: {{settings: {{auto_consent: true}}}}\n  \
                 - control: {{set_clock: 4200000000}}\n  - request:\n      path: /ap/oa\n      query: {{client_id: \
                 \"{{{{fixture.client.web.id}}}}\", scope: profile, response_type: code, redirect_uri: \
                 \"{{{{fixture.client.web.redirect_uri}}}}\"}}\n    expect: {{status: 302}}\n"
            ),
        ));
        files.push((
            format!("off-{i:02}.yaml"),
            format!(
                "name: consent off {i}\ntags: [mock-only]\nsteps:\n  - request:\n      path: /ap/oa\n      query: \
                 {{client_id: \"{{{{fixture.client.web.id}}}}\", scope: profile, response_type: code, redirect_uri: \
                 \"{{{{fixture.client.web.redirect_uri}}}}\"}}\n    expect: {{status: 200, text: {{contains: \
                 <form}}}}\n  - request: {{path: /__admin/clock}}\n    expect: {{pointers: {{/now: {{max: \
                 4102444800}}}}}}\n"
            ),
        ));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    write_files(&dir, &refs);

    let report = run_with(&load(&[dir]), RunOptions { jobs: 8, ..in_process() }).await;

    assert_eq!(report.exit_code(), 0, "{}", failures(&report));
    assert_eq!(report.summary.passed, 40);
}

/// `serve --bind 127.0.0.1:0` as a process (random seed, as an operator would start it), killed on drop.
struct Served {
    child: std::process::Child,
    base: String,
}

impl Served {
    fn start() -> Self {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--bind", "127.0.0.1:0", "--log", "warn"]);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("AMM_") {
                cmd.env_remove(k);
            }
        }
        let mut child =
            cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("a `listening on` line");
        let base =
            line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line {line:?}")).to_owned();
        Served { child, base }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_run_against_a_separately_started_serve_gives_the_same_results_as_in_process() {
    let served = Served::start();
    let suite = load(&[suite_dir()]);

    let local = run_with(&suite, in_process()).await;
    let remote = run_with(&suite, against(&served.base)).await;

    assert!(remote.mock && !remote.in_process, "serve is detected as a mock");
    let outcomes = |r: &amazon_music_mock::scenario::RunReport| {
        r.scenarios.iter().map(|s| (s.name.clone(), s.outcome)).collect::<Vec<_>>()
    };
    assert_eq!(outcomes(&remote), outcomes(&local), "remote failures:\n{}", failures(&remote));
    assert_eq!(remote.exit_code(), 0, "{}", failures(&remote));
    // Sessions on a shared server carry a run prefix, so a second run cannot collide with the first.
    let again = run_with(&suite, against(&served.base)).await;
    assert_eq!(outcomes(&again), outcomes(&local));
    assert_ne!(again.scenarios[0].session, remote.scenarios[0].session);
}

#[tokio::test]
async fn a_target_that_is_not_a_mock_skips_mock_only_scenarios_with_the_reason() {
    let (base, _server) = start_wrong_server().await;
    let suite = load(&[suite_dir()]);

    let report = run_with(&suite, against(&base)).await;

    for r in report.scenarios.iter().filter(|r| r.tags.iter().any(|t| t == "mock-only")) {
        assert_eq!(r.outcome, Outcome::Skipped, "{}", r.name);
        assert!(r.skip_reason.as_deref().is_some_and(|s| s.contains("tagged mock-only") && s.contains(&base)));
    }
}

#[tokio::test]
async fn mock_required_refuses_a_target_without_an_admin_api() {
    let (base, _server) = start_wrong_server().await;
    let opts = RunOptions {
        target: Target::Url { base: base.clone(), mock: amazon_music_mock::scenario::MockMode::Required },
        ..RunOptions::default()
    };
    let err = amazon_music_mock::scenario::run(&[], &opts, &mut |_| {}).await.expect_err("not a mock");
    assert!(err.to_string().contains("--mock was given"), "{err}");
}

#[test]
fn filters_match_paths_below_the_given_directory_only() {
    // The checkout's own directory names (here "music") must not select every scenario under it.
    let dir = scratch("music-checkout");
    write_files(&dir, &[("clock.yaml", SMALL[0].1), ("sub/tokeninfo.yaml", SMALL[1].1)]);
    let loaded = load(std::slice::from_ref(&dir));
    let picked = |f: &str| {
        let mut names: Vec<String> = loaded
            .iter()
            .filter(|s| amazon_music_mock::scenario::selected(s, &[f.to_owned()]))
            .map(|s| s.found_as.clone())
            .collect();
        names.sort();
        names
    };
    assert_eq!(picked("music"), Vec::<String>::new());
    assert_eq!(picked("sub/"), ["sub/tokeninfo.yaml"]);
    assert_eq!(picked("CLOCK.yaml"), ["clock.yaml"]);
    let one = load(&[dir.join("sub/tokeninfo.yaml")]);
    assert_eq!(one[0].found_as, "tokeninfo.yaml");
}

#[tokio::test]
async fn filters_select_by_tag_or_name() {
    let dir = scratch("filters");
    write_files(&dir, SMALL);
    let loaded = load(&[dir]);

    let by_tag = run_with(&loaded, RunOptions { filters: vec!["music".into()], ..in_process() }).await;
    let by_name = run_with(&loaded, RunOptions { filters: vec!["CLOCK MOVES".into()], ..in_process() }).await;

    let names =
        |r: &amazon_music_mock::scenario::RunReport| r.scenarios.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&by_tag), ["an injected fault answers THROTTLED once"]);
    assert_eq!(names(&by_name), ["the virtual clock moves for control steps"]);
}
