//! `amazon-music-mock check` and the exit code 2 of `run` for files that do not load: errors name file,
//! line and column and say what was expected.

use crate::scenario_support::*;

const BROKEN: &str =
    "name: broken\nsteps:\n  - request:\n      path: /auth/o2/token\n    expect:\n      statuss: 200\n";

#[tokio::test]
async fn check_names_file_line_and_column_of_a_broken_file_and_exits_2() {
    let dir = scratch("check-broken");
    write_files(
        &dir,
        &[("ok.yaml", "name: ok\nsteps:\n  - request: {path: /}\n    expect: {status: 404}\n"), ("bad.yaml", BROKEN)],
    );
    let bad = dir.join("bad.yaml");

    let out = bin(vec!["check".into(), dir.to_string_lossy().into_owned()]).await;

    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with(&format!("error: {}:6:7: ", bad.display())), "{stderr}");
    assert!(
        first.contains("unknown field `statuss`, expected one of status, headers"),
        "says what was expected: {stderr}"
    );
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test]
async fn check_accepts_the_suite_and_exits_0() {
    let out = bin(vec!["check".into(), suite_dir().to_string_lossy().into_owned()]).await;

    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(" files: ok\n") && stdout.ends_with(" client plans: ok\n"), "{stdout}");
}

#[tokio::test]
async fn check_validates_the_client_plans_beside_the_scenarios() {
    let dir = scratch("check-plans");
    write_files(&dir, &[("clients/p.yaml", "name: p\nrules: [device-poll-interval]\nnetwork: [{drop: false}]\n")]);
    let out = bin(vec!["check".into(), dir.to_string_lossy().into_owned()]).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("clients/p.yaml: network[0]: a network rule needs latency_ms, drop: true, or both"),
        "{stderr}"
    );
}

#[tokio::test]
async fn run_exits_2_without_running_anything_when_a_file_does_not_load() {
    let dir = scratch("run-broken");
    write_files(&dir, &[("bad.yaml", BROKEN)]);

    let out = bin(vec!["run".into(), dir.to_string_lossy().into_owned()]).await;

    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.yaml:6:7:"));
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn usage_errors_exit_2() {
    for args in [
        vec!["run", "--report", "xml:out.xml"],
        vec!["run", "--jobs", "0"],
        vec!["run", "--target", "ftp://x"],
        vec!["run", "does/not/exist"],
        vec!["run", "--mock"],
        vec!["run", concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"), "--filter", "no-such-tag-anywhere"],
    ] {
        let out = bin(args.iter().map(|s| (*s).to_owned()).collect()).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[tokio::test]
async fn an_unreachable_target_is_a_usage_error_not_a_failure() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let suite = suite_dir().to_string_lossy().into_owned();
    let out = bin(vec!["run".into(), suite, "--target".into(), format!("http://127.0.0.1:{port}")]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/__admin/health"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_request_step_without_expect_is_an_error_and_an_error_status_alone_a_warning() {
    let dir = scratch("check-expect");
    let file = |name: &str| dir.join(name).display().to_string();
    write_files(&dir, &[("loose.yaml", "name: loose\nsteps:\n  - request: {path: /auth/o2/token, method: POST}\n")]);
    let out = bin(vec!["check".into(), file("loose.yaml")]).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {}:3:5: step 1: a request step without `expect` passes on any answer, a 500 included: expected an \
             `expect` block (at least `status`)\nerror: 1 problem(s) found\n",
            file("loose.yaml")
        )
    );
    write_files(
        &dir,
        &[(
            "status-only.yaml",
            "name: status only\nsteps:\n  - request: {path: /auth/o2/token, method: POST}\n    expect:\n      status: 400\n  - request: {path: /auth/o2/token, method: POST}\n    expect:\n      status: 400\n      json: {error: invalid_request}\n",
        )],
    );
    let out = bin(vec!["check".into(), file("status-only.yaml")]).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "warning: {}:5:7: step 1: checks only the status of an error answer: also check its body (the error \
             code, e.g. `json: {{error: invalid_grant}}`), so that another error with the same status fails\n",
            file("status-only.yaml")
        )
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1 scenarios in 1 files: ok\n1 warning\n");
}
