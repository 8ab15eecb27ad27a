use super::*;

fn errors(text: &str) -> Vec<String> {
    match load_str("s.yaml", text) {
        Ok(_) => Vec::new(),
        Err(es) => es.iter().map(ToString::to_string).collect(),
    }
}

const OK: &str = "\
name: ok
tags: [mock-only]
vars:
  cid: \"{{fixture.client.web.id}}\"
steps:
  - request:
      method: POST
      path: /auth/o2/token
      form: {client_id: \"{{cid}}\"}
    capture:
      token: {pointer: /access_token}
  - control: {expire_token: {token: \"{{token}}\"}}
  - poll:
      request: {path: \"/x?t={{token}}\"}
      until: {status: 200}
";

#[test]
fn a_valid_file_loads() {
    assert_eq!(errors(OK), Vec::<String>::new());
    let s = load_str("s.yaml", OK).unwrap();
    assert_eq!(s.steps.len(), 3);
    assert_eq!((s.steps[0].line, s.steps[0].column), (6, 5));
    assert_eq!(s.steps[2].value.poll.as_ref().unwrap().every_seconds, 5);
}

#[test]
fn an_unknown_key_names_file_line_column_and_what_was_expected() {
    let e = errors("name: x\nsteps:\n  - request: {path: /}\n    expct: {status: 200}\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("s.yaml:4:5: "), "{}", e[0]);
    assert!(e[0].contains("expct") && e[0].contains("expect"), "{}", e[0]);
}

#[test]
fn broken_yaml_names_its_position() {
    let e = errors("name: x\nsteps: [\n  {request: \n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("s.yaml:"), "{}", e[0]);
    assert!(e[0].split(':').nth(1).is_some_and(|l| l.parse::<u64>().is_ok()), "{}", e[0]);
}

#[test]
fn a_matcher_with_an_unknown_check_is_refused_where_it_is() {
    let e = errors("name: x\nsteps:\n  - request: {path: /}\n    expect:\n      pointers:\n        /a: {regexp: x}\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("s.yaml:6:"), "{}", e[0]);
    assert!(e[0].contains("regexp"), "{}", e[0]);
}

#[test]
fn a_step_needs_exactly_one_kind() {
    let e = errors(
        "name: x\nsteps:\n  - name: nothing\n  - request: {path: /}\n    poll: {request: {path: /}, until: {}}\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("s.yaml:3:5: step 1: expected one of"), "{}", e[0]);
    assert!(e[1].starts_with("s.yaml:4:5: step 2: has more than one"), "{}", e[1]);
}

#[test]
fn control_steps_need_the_mock_only_tag() {
    let e = errors("name: x\nsteps:\n  - request: {path: /}\n  - control: reset\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("s.yaml:4:5: step 2: control steps need"), "{}", e[0]);
    assert!(e[0].contains("mock-only"), "{}", e[0]);
}

#[test]
fn variables_must_be_defined_before_use_and_point_at_the_reference() {
    let text = "name: x\nsteps:\n  - request:\n      path: /a\n      bearer: \"{{token}}\"\n    capture:\n      token: {pointer: /t}\n  - request: {path: \"/b/{{fixture.client.nope.id}}\"}\n";
    let e = errors(text);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("s.yaml:5:16: {{token}} is not defined here"), "{}", e[0]);
    assert!(e[1].starts_with("s.yaml:8:25: {{fixture.client.nope.id}} is not a fixture alias"), "{}", e[1]);
}

#[test]
fn malformed_references_regexes_pointers_and_methods_are_reported() {
    let text = "name: x\nsteps:\n  - request: {method: FETCH, path: \"/{{a b}}\"}\n    expect:\n      status: 99\n      pointers: {a: 1}\n      text: {regex: \"(\"}\n";
    let e = errors(text);
    let joined = e.join("\n");
    assert!(joined.contains("method \"FETCH\""), "{joined}");
    assert!(joined.contains("is not a variable name"), "{joined}");
    assert!(joined.contains("status 99"), "{joined}");
    assert!(joined.contains("JSON pointer \"a\""), "{joined}");
    assert!(joined.contains("regex \"(\" does not compile"), "{joined}");
}

#[test]
fn checks_and_tags_follow_their_grammar() {
    let e = errors(
        "name: x\ntags: [\"two words\"]\nchecks: [\"lwa 13.4\", \"lwa§13.4-2\", \"music-api.md §11.2\"]\nsteps:\n  - request: {path: /}\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].contains("tag \"two words\""), "{}", e[0]);
    assert!(e[1].starts_with("s.yaml:3:11: check \"lwa 13.4\""), "{}", e[1]);
}

#[test]
fn reserved_and_malformed_capture_names_are_refused() {
    let e = errors(
        "name: x\nsteps:\n  - request: {path: /}\n    capture:\n      target: {header: x}\n      a.b: {header: y}\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].contains("\"target\" is reserved"), "{}", e[0]);
    assert!(e[1].contains("capture name \"a.b\""), "{}", e[1]);
}

#[test]
fn duplicate_names_across_files_are_refused_and_baselines_are_not_scenarios() {
    let dir = std::env::temp_dir().join(format!("amm-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("a.yaml"), "name: same\nsteps:\n  - request: {path: /}\n").unwrap();
    std::fs::write(dir.join("sub/b.yml"), "# c\nname: same\nsteps:\n  - request: {path: /}\n").unwrap();
    std::fs::write(dir.join("x.baseline.yaml"), "expected_failures: []\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "not yaml").unwrap();
    let (loaded, errs) = load_paths(std::slice::from_ref(&dir));
    assert_eq!(loaded.len(), 2);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!((errs[0].line, errs[0].column), (Some(2), Some(1)));
    assert!(errs[0].message.contains("also the name of"), "{}", errs[0]);
    let (_, errs) = load_paths(&[dir.join("missing")]);
    assert!(errs[0].message.starts_with("cannot read"), "{}", errs[0]);
    let _ = std::fs::remove_dir_all(&dir);
}
