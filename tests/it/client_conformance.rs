//! Proof that the rules judge correctly: both reference clients (`examples/refclient`) against every shipped
//! plan (`scenarios/clients/`). The well-behaved client passes every rule each plan judges; the misbehaving
//! one fails them; and the well-behaved client with a single misbehaviour fails exactly that one rule. The
//! playback rules stay NOT EXERCISED until the playback and stream routes are served.

use std::path::{Path, PathBuf};

use amazon_music_mock::test_support::Plan;
use amazon_music_mock::verdict::{RULES, Status, Verdict};

use crate::refclient::{Config, Ending, Flow, Misbehaviours, Pace, run};
use crate::support::TestApp;

fn plans_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/clients")
}

/// Every shipped plan, with its text.
fn shipped() -> Vec<(Plan, String)> {
    let (plans, errors) = amazon_music_mock::test_support::load_dir(&plans_dir());
    assert!(errors.is_empty(), "{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"));
    assert!(plans.len() >= 8, "the plans are in scenarios/clients");
    plans
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(p.file.as_deref().expect("loaded from a file")).expect("plan text");
            (p, text)
        })
        .collect()
}

/// The client a plan is written for: its `flow:` tag and `playback` tag.
fn config_for(plan: &Plan, target: String, bad: Misbehaviours) -> Config {
    let flow = if plan.tags.iter().any(|t| t == "flow:code") { Flow::Code } else { Flow::Device };
    assert!(plan.tags.iter().any(|t| t.starts_with("flow:")), "{}: tag it flow:device or flow:code", plan.name);
    Config { target, flow, pace: Pace::Virtual, bad, playback: plan.tags.iter().any(|t| t == "playback"), calls: 6 }
}

/// Loads the plan into a fresh session, runs the client, and returns the session's verdict.
async fn verdict_of(app: &TestApp, session: &str, plan: &(Plan, String), bad: Misbehaviours) -> (Verdict, String) {
    let r = app
        .send(
            app.http
                .post(app.url(&format!("/s/{session}/__admin/plan")))
                .header("content-type", "application/yaml")
                .body(plan.1.clone()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cfg = config_for(&plan.0, app.url(&format!("/s/{session}")), bad);
    let outcome = run(cfg).await.unwrap_or_else(|e| panic!("{} in {session}: {e}", plan.0.name));
    let v = app.admin("GET", &format!("/s/{session}/__admin/verdict"), serde_json::json!({})).await;
    let verdict: Verdict = serde_json::from_value(v).expect("a verdict");
    (verdict, format!("ending {:?}\n{}", outcome.ending, outcome.log.join("\n")))
}

fn by_status(v: &Verdict, s: Status) -> Vec<&str> {
    v.rules.iter().filter(|r| r.status == s).map(|r| r.id.as_str()).collect()
}

fn explain(v: &Verdict, log: &str) -> String {
    let rules: Vec<String> =
        v.rules.iter().map(|r| format!("{} {}: {} {:?}", r.status.label(), r.id, r.message, r.evidence)).collect();
    format!("{}\n{log}", rules.join("\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_good_client_passes_every_rule_each_plan_judges() {
    let app = TestApp::spawn().await;
    for (i, plan) in shipped().iter().enumerate() {
        let (v, log) = verdict_of(&app, &format!("good-{i}"), plan, Misbehaviours::none()).await;
        let why = explain(&v, &log);
        assert_eq!(by_status(&v, Status::Fail), Vec::<&str>::new(), "{}: {why}", plan.0.name);
        let idle: Vec<&str> = by_status(&v, Status::NotExercised);
        let expected_idle: Vec<&str> = if plan.0.rules.is_empty() {
            // The journey judges every rule; it revokes nothing, serves no bad material and plays nothing.
            vec![
                "token-revoked-grant",
                "playback-events",
                "playback-fresh-url",
                "playback-one-stream",
                "bad-material-unused",
            ]
        } else {
            Vec::new()
        };
        assert_eq!(idle, expected_idle, "{}: every rule the plan names is exercised: {why}", plan.0.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bad_client_fails_every_rule_each_plan_judges() {
    let app = TestApp::spawn().await;
    for (i, plan) in shipped().iter().enumerate() {
        let (v, log) = verdict_of(&app, &format!("bad-{i}"), plan, Misbehaviours::all()).await;
        let why = explain(&v, &log);
        let expected: Vec<&str> = if plan.0.rules.is_empty() {
            // The journey revokes nothing, serves no bad material and plays nothing.
            let idle = [
                "token-revoked-grant",
                "bad-material-unused",
                "playback-events",
                "playback-fresh-url",
                "playback-one-stream",
            ];
            RULES.iter().map(|r| r.id).filter(|r| !idle.contains(r)).collect()
        } else {
            plan.0.rules.iter().map(String::as_str).collect()
        };
        let expected: Vec<&str> = RULES.iter().map(|r| r.id).filter(|r| expected.contains(r)).collect();
        assert_eq!(by_status(&v, Status::Fail), expected, "{}: {why}", plan.0.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_misbehaviour_fails_exactly_its_rule() {
    let app = TestApp::spawn().await;
    let plans = shipped();
    for (i, rule) in RULES.iter().map(|r| r.id).enumerate() {
        let plan = plans
            .iter()
            .find(|(p, _)| p.rules.iter().any(|r| r == rule))
            .unwrap_or_else(|| panic!("no plan names {rule}"));
        let bad = Misbehaviours::breaking(rule).expect("a flag per rule");
        let (v, log) = verdict_of(&app, &format!("one-{i}"), plan, bad).await;
        let why = explain(&v, &log);
        assert_eq!(by_status(&v, Status::Fail), [rule], "{} with only {rule} broken: {why}", plan.0.name);
        let r = v.rules.iter().find(|r| r.id == rule).expect("judged");
        assert!(!r.evidence.is_empty() && r.evidence.iter().all(|e| e.at.ends_with('Z')), "{why}");
    }
}

#[test]
fn every_rule_has_a_plan_that_names_it_and_a_misbehaviour_that_breaks_it() {
    let plans = shipped();
    for r in RULES {
        assert!(plans.iter().any(|(p, _)| p.rules.iter().any(|x| x == r.id)), "no plan names {}", r.id);
        assert!(Misbehaviours::breaking(r.id).is_some(), "the reference client cannot break {}", r.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_device_ends_the_journey_and_a_revoked_grant_ends_it_later() {
    let app = TestApp::spawn().await;
    let plans = shipped();
    let find = |name: &str| plans.iter().find(|(p, _)| p.name == name).expect("plan").clone();
    let denied = find("Customer denies the device");
    let r = app
        .send(
            app.http
                .post(app.url("/s/deny/__admin/plan"))
                .header("content-type", "application/yaml")
                .body(denied.1.clone()),
        )
        .await;
    assert_eq!(r.status, 200);
    let out = run(config_for(&denied.0, app.url("/s/deny"), Misbehaviours::none())).await.expect("runs");
    assert_eq!(out.ending, Ending::NotLinked("access_denied".into()));
    let revoked = find("Customer removes the app");
    let r = app
        .send(
            app.http
                .post(app.url("/s/revoke/__admin/plan"))
                .header("content-type", "application/yaml")
                .body(revoked.1.clone()),
        )
        .await;
    assert_eq!(r.status, 200);
    let out = run(config_for(&revoked.0, app.url("/s/revoke"), Misbehaviours::none())).await.expect("runs");
    assert_eq!(out.ending, Ending::Revoked, "{}", out.log.join("\n"));
}
