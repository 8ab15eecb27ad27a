//! The runner fails when it should: against a deliberately wrong server (wrong status, wrong JSON field,
//! missing header, wrong redirect parameter) each scenario fails with a clear diff, in the report and in
//! the JUnit XML, and the run's exit code is 1. Baselines are tested both ways here too.

use amazon_music_mock::scenario::{Baseline, Outcome, report};

use crate::scenario_support::*;

fn result<'a>(
    r: &'a amazon_music_mock::scenario::RunReport,
    name: &str,
) -> &'a amazon_music_mock::scenario::ScenarioResult {
    r.scenarios.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no result for {name:?}"))
}

#[tokio::test]
async fn each_wrong_answer_fails_its_scenario_with_the_expectation_and_a_diff() {
    let (base, _server) = start_wrong_server().await;
    let dir = scratch("wrong-lib");
    write_files(&dir, WRONG_SERVER_SCENARIOS);

    let report = run_with(&load(&[dir]), against(&base)).await;

    assert!(!report.mock, "the wrong server has no admin API");
    assert_eq!(report.exit_code(), 1);
    assert_eq!(report.summary_line(), "0 passed, 4 failed, 1 skipped");

    let f = result(&report, "wrong status").failure.as_ref().expect("failure");
    assert_eq!(f.step, 1);
    assert_eq!(f.headline(), "step 1 (exchange): status: expected 200, got 201");

    let f = result(&report, "wrong JSON field").failure.as_ref().expect("failure");
    assert_eq!(f.headline(), "step 1 (code pair): json /interval: expected 30, got \"30\"");
    let diff = f.diff.as_deref().expect("a JSON diff");
    assert!(diff.contains("-  \"interval\": 30,") && diff.contains("+  \"interval\": \"30\","), "{diff}");
    assert!(diff.contains("   \"expires_in\": 600"), "unchanged lines are context: {diff}");

    let f = result(&report, "missing header").failure.as_ref().expect("failure");
    assert_eq!(f.headline(), "step 1 (token info): header cache-control: expected \"no-store\", got (absent)");

    let f = result(&report, "wrong redirect parameter").failure.as_ref().expect("failure");
    assert_eq!(f.headline(), "step 1 (authorize): redirect query state: expected \"xyz\", got \"not-xyz\"");
    assert_eq!(f.mismatches.len(), 1, "the code and the base were right: {:?}", f.mismatches);

    let skipped = result(&report, "needs the mock");
    assert_eq!(skipped.outcome, Outcome::Skipped);
    assert!(skipped.skip_reason.as_deref().is_some_and(|r| r.contains("needs a mock target")), "{skipped:?}");

    // The JUnit report carries the same: one testcase per scenario, the headline as the message, the
    // expectation and the diff in the text.
    let xml = report::render(&report, report::Format::Junit);
    let cases = junit_cases(&xml);
    assert_eq!(cases.len(), 5);
    let case = |name: &str| cases.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no testcase {name}"));
    let c = case("wrong JSON field");
    assert_eq!(c.result.as_deref(), Some("failure"));
    assert_eq!(c.message, "step 1 (code pair): json /interval: expected 30, got \"30\"");
    assert!(c.text.contains("POST /auth/o2/create/codepair -> 200"), "{}", c.text);
    assert!(c.text.contains("-  \"interval\": 30,\n+  \"interval\": \"30\","), "{}", c.text);
    assert!(c.classname.ends_with("wrong-field"), "{}", c.classname);
    assert_eq!(case("wrong status").result.as_deref(), Some("failure"));
    assert!(
        case("missing header")
            .text
            .contains("header cache-control:\n    expected: \"no-store\"\n    actual:   (absent)")
    );
    assert!(case("wrong redirect parameter").text.contains("actual:   \"not-xyz\""));
    assert_eq!(case("needs the mock").result.as_deref(), Some("skipped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_exits_1_and_writes_junit_xml_that_parses() {
    let (base, _server) = start_wrong_server().await;
    let dir = scratch("wrong-bin");
    write_files(&dir, WRONG_SERVER_SCENARIOS);
    let (out, Reports { junit, html, json }) = run_reporting(&dir, &base).await;

    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().last(), Some("0 passed, 4 failed, 1 skipped"), "{stdout}");
    assert!(stdout.contains("FAIL wrong status ("), "{stdout}");
    assert!(stdout.contains("SKIP needs the mock ("), "{stdout}");
    let cases = junit_cases(&std::fs::read_to_string(&junit).expect("junit written"));
    assert_eq!(cases.iter().filter(|c| c.result.as_deref() == Some("failure")).count(), 4);
    let page = std::fs::read_to_string(&html).expect("html written");
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("wrong redirect parameter"), "{page}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json written")).unwrap();
    assert_eq!(v["summary"]["failed"], 4);
}

#[tokio::test]
async fn a_baseline_listing_the_failures_passes_the_run() {
    let (base, _server) = start_wrong_server().await;
    let dir = scratch("baseline-pass");
    write_files(&dir, WRONG_SERVER_SCENARIOS);
    let loaded = load(&[dir]);
    let baseline = Baseline::parse(
        "known.baseline.yaml",
        "expected_failures:\n  - name: wrong status\n    reason: the service answers 201\n  - name: wrong JSON field\n  \
         - name: missing header\n  - name: wrong redirect parameter\n",
    )
    .unwrap();

    let report =
        run_with(&loaded, amazon_music_mock::scenario::RunOptions { baseline: Some(baseline), ..against(&base) }).await;

    assert_eq!(report.exit_code(), 0, "{}", failures(&report));
    assert_eq!(report.summary.expected_failures, 4);
    assert_eq!(result(&report, "wrong status").outcome, Outcome::ExpectedFailure);
    let cases = junit_cases(&report::render(&report, report::Format::Junit));
    let c = cases.iter().find(|c| c.name == "wrong status").unwrap();
    assert_eq!(c.result.as_deref(), Some("skipped"));
    assert_eq!(c.message, "expected failure (baseline): the service answers 201");
}

#[tokio::test]
async fn a_baseline_entry_that_passes_or_names_nothing_fails_the_run() {
    let mock = amazon_music_mock::MockAmazon::start().await;
    let dir = scratch("baseline-rot");
    write_files(
        &dir,
        &[(
            "ok.yaml",
            "name: health answers\ntags: [mock-only]\nsteps:\n  - request: {path: /__admin/health}\n    expect: {status: 200}\n",
        )],
    );
    let loaded = load(std::slice::from_ref(&dir));

    let listed = Baseline::parse("b.baseline.yaml", "expected_failures:\n  - name: health answers\n").unwrap();
    let report =
        run_with(&loaded, amazon_music_mock::scenario::RunOptions { baseline: Some(listed), ..against(&mock.uri()) })
            .await;
    assert_eq!(report.exit_code(), 1);
    assert_eq!(result(&report, "health answers").outcome, Outcome::UnexpectedPass);
    assert_eq!(report.summary_line(), "0 passed, 1 failed, 0 skipped");

    let stale = Baseline::parse("b.baseline.yaml", "expected_failures:\n  - name: renamed long ago\n").unwrap();
    let report =
        run_with(&loaded, amazon_music_mock::scenario::RunOptions { baseline: Some(stale), ..against(&mock.uri()) })
            .await;
    assert_eq!(report.exit_code(), 1);
    assert_eq!(report.stale_baseline.len(), 1);
    let cases = junit_cases(&report::render(&report, report::Format::Junit));
    assert!(cases.iter().any(|c| c.name.contains("renamed long ago") && c.result.as_deref() == Some("failure")));

    // The binary agrees: exit 1 for the stale entry.
    std::fs::write(dir.join("b.baseline.yaml"), "expected_failures:\n  - name: renamed long ago\n").unwrap();
    let out = bin(vec![
        "run".into(),
        dir.join("ok.yaml").to_string_lossy().into_owned(),
        "--target".into(),
        mock.uri(),
        "--baseline".into(),
        dir.join("b.baseline.yaml").to_string_lossy().into_owned(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("STALE"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test]
async fn a_target_that_is_not_a_mock_takes_fixture_aliases_from_vars() {
    let (base, _server) = start_wrong_server().await;
    let dir = scratch("vars");
    write_files(
        &dir,
        &[
            (
                "redirect.yaml",
                "name: the redirect goes to the configured return URL\nsteps:\n  - request:\n      path: /ap/oa\n      \
                 query: {client_id: \"{{fixture.client.web.id}}\", redirect_uri: \"{{fixture.client.web.redirect_uri}}\", \
                 state: s}\n    expect:\n      redirect: {base: \"{{fixture.client.web.redirect_uri}}\"}\n",
            ),
            (
                "staging.yaml",
                "fixture:\n  client:\n    web: {id: amzn1.application-oa2-client.x, redirect_uri: \"https://app.example/cb\"}\n",
            ),
        ],
    );
    let loaded = load(&[dir.join("redirect.yaml")]);

    let without = run_with(&loaded, against(&base)).await;
    let f = without.scenarios[0].failure.as_ref().expect("no value for the alias");
    assert_eq!(f.kind, amazon_music_mock::scenario::run::FailureKind::Error);
    assert!(f.message.contains("{{fixture.client.web.id}} has no value"), "{}", f.message);

    let vars = amazon_music_mock::scenario::run::load_vars(&dir.join("staging.yaml")).expect("vars load");
    let with = run_with(&loaded, amazon_music_mock::scenario::RunOptions { vars, ..against(&base) }).await;
    assert_eq!(with.exit_code(), 0, "{}", failures(&with));
}
