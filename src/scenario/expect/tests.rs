use serde_json::json;

use super::*;
use crate::scenario::model::Expect;

fn expect(yaml: &str) -> Expect {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn json_response(status: u16, body: Value) -> Response {
    Response {
        status,
        headers: vec![("content-type".into(), "application/json;charset=UTF-8".into())],
        body: body.to_string(),
        ..Response::default()
    }
}

fn vars() -> Vars {
    let mut v = Vars::new();
    v.set("token", json!("Atza|abc"));
    v.set("n", json!(3600));
    v
}

fn checks(e: &Expect, r: &Response) -> Vec<String> {
    check(e, r, &vars()).unwrap().mismatches.into_iter().map(|m| m.check).collect()
}

#[test]
fn a_json_subset_ignores_extra_keys_and_names_each_difference() {
    let r = json_response(400, json!({"error_description": "x", "error": "invalid_request", "extra": [1, 2]}));
    assert!(checks(&expect("json: {error: invalid_request}"), &r).is_empty());
    let v = check(&expect("json: {error: invalid_grant, missing: 1, extra: [1, 3]}"), &r, &vars()).unwrap();
    let found: Vec<(&str, &str, &str)> =
        v.mismatches.iter().map(|m| (m.check.as_str(), m.expected.as_str(), m.actual.as_str())).collect();
    assert_eq!(
        found,
        [
            ("json /error", "\"invalid_grant\"", "\"invalid_request\""),
            ("json /missing", "1", "(absent)"),
            ("json /extra/1", "3", "2"),
        ]
    );
    let diff = v.diff.expect("a diff");
    assert!(diff.contains("-  \"error\": \"invalid_grant\""), "{diff}");
    assert!(diff.contains("+  \"error\": \"invalid_request\""), "{diff}");
    assert!(!diff.contains("error_description"), "only the keys asked about: {diff}");
}

#[test]
fn arrays_in_a_subset_must_have_the_same_length() {
    let r = json_response(200, json!({"a": [1, 2, 3]}));
    assert_eq!(checks(&expect("json: {a: [1, 2]}"), &r), ["json /a (length)"]);
}

#[test]
fn numbers_compare_by_value_and_lone_references_keep_their_type() {
    let r = json_response(200, json!({"expires_in": 3600, "f": 1.0}));
    assert!(checks(&expect("json: {expires_in: \"{{n}}\", f: 1}"), &r).is_empty());
    assert_eq!(checks(&expect("json: {expires_in: \"3600\"}"), &r), ["json /expires_in"]);
}

#[test]
fn pointer_matchers_cover_equality_regex_type_length_ranges_and_presence() {
    let r = json_response(
        200,
        json!({"access_token": "Atza|abc", "expires_in": 3600, "list": [1, 2], "o": {"b": 1, "a": 2}, "n": null}),
    );
    let ok = expect(
        r#"
pointers:
  /access_token: {regex: "^Atza\\|", length: 8, type: string, equals: "{{token}}"}
  /expires_in: {type: integer, min: 3599, max: 3600, one_of: [1, 3600]}
  /list: {type: array, length: {min: 1, max: 2}, contains: 2}
  /o: {keys: [b, a]}
  /n: {type: null, exists: true}
  /nope: {absent: true}
  /list/0: 1
"#,
    );
    assert!(checks(&ok, &r).is_empty(), "{:?}", checks(&ok, &r));
    let bad = expect(
        r#"
pointers:
  /access_token: {regex: "^Atzr"}
  /expires_in: {min: 4000, type: string}
  /list: {length: 3, contains: 9}
  /o: {keys: [a, b]}
  /nope: {exists: true}
  /n: {absent: true}
  /missing: {regex: "x"}
  /expires_in/x: 1
"#,
    );
    assert_eq!(
        checks(&bad, &r),
        [
            "pointer /access_token (regex)",
            "pointer /expires_in (type)",
            "pointer /expires_in (min)",
            "pointer /list (contains)",
            "pointer /list (length)",
            "pointer /o (keys)",
            "pointer /nope (exists)",
            "pointer /n (absent)",
            "pointer /missing",
            "pointer /expires_in/x",
        ]
    );
}

#[test]
fn a_body_that_is_not_json_fails_json_checks_once() {
    let r = Response { status: 200, body: "<html>".into(), ..Response::default() };
    assert_eq!(checks(&expect("json: {a: 1}\npointers: {/a: 1}"), &r), ["body"]);
}

#[test]
fn status_and_headers_match_in_any_case() {
    let r = json_response(201, json!({}));
    assert!(
        checks(&expect("status: [200, 201]\nheaders: {Content-Type: {regex: '^application/json'}}"), &r).is_empty()
    );
    assert_eq!(
        checks(&expect("status: 200\nheaders: {pragma: no-cache, content-type: {absent: true}}"), &r),
        ["status", "header pragma", "header content-type (absent)"]
    );
}

#[test]
fn text_checks_contain_exclude_equal_and_match() {
    let r = Response { status: 400, body: "<h1>400 Bad Request</h1>".into(), ..Response::default() };
    assert!(checks(&expect("text: {contains: 400 Bad Request, not_contains: [Allow], regex: '^<h1>'}"), &r).is_empty());
    assert_eq!(
        checks(&expect("text: {contains: [x], not_contains: Bad, equals: y, regex: z$}"), &r),
        ["text equals", "text contains", "text not_contains", "text regex"]
    );
}

#[test]
fn redirects_are_parsed_as_sent_and_decoded() {
    let t = RedirectTarget::parse("http://127.0.0.1:9090/cb?code=AN1&scope=music%3A%3Alibrary+profile&state=a%26b#x=1");
    assert_eq!(t.base, "http://127.0.0.1:9090/cb");
    assert_eq!(
        t.query,
        [
            ("code".to_owned(), "AN1".to_owned()),
            ("scope".to_owned(), "music::library profile".to_owned()),
            ("state".to_owned(), "a&b".to_owned())
        ]
    );
    assert_eq!(t.fragment, [("x".to_owned(), "1".to_owned())]);
    let frag = RedirectTarget::parse("com.example://cb#access_token=Atza%7Cx&token_type=bearer");
    assert_eq!(frag.base, "com.example://cb");
    assert!(frag.query.is_empty());
    assert_eq!(frag.fragment[0], ("access_token".to_owned(), "Atza|x".to_owned()));
}

#[test]
fn redirect_expectations_check_base_parameters_and_location() {
    let r = Response {
        status: 302,
        headers: vec![(
            "location".into(),
            "http://h/cb?error_description=An+unknown+scope&state=s&error=invalid_scope".into(),
        )],
        ..Response::default()
    };
    let ok = expect(
        "redirect: {base: 'http://h/cb', query: {error: invalid_scope, state: s, code: {absent: true}}, \
         location: {regex: 'error_description=.*&state=s&error='}}",
    );
    assert!(checks(&ok, &r).is_empty());
    let bad = expect("redirect: {base: 'http://h/other', query: {state: t, code: {exists: true}}, fragment: {a: 1}}");
    assert_eq!(
        checks(&bad, &r),
        ["redirect base", "redirect query state", "redirect query code (exists)", "redirect fragment a"]
    );
    let not_a_redirect = json_response(200, json!({}));
    assert_eq!(checks(&expect("redirect: {query: {code: {exists: true}}}"), &not_a_redirect), ["status", "redirect"]);
}

#[test]
fn captures_read_pointers_headers_redirect_parameters_and_regex_groups() {
    let mut r = json_response(200, json!({"a": {"b": [10, "x"]}}));
    r.headers.push(("location".into(), "http://h/cb?code=AN2#t=Atza%7C1".into()));
    let c = |yaml: &str| capture(&serde_saphyr::from_str(yaml).unwrap(), &r, &vars()).unwrap();
    assert_eq!(c("pointer: /a/b/0"), Ok(json!(10)));
    assert_eq!(c("header: Location"), Ok(json!("http://h/cb?code=AN2#t=Atza%7C1")));
    assert_eq!(c("query: code"), Ok(json!("AN2")));
    assert_eq!(c("fragment: t"), Ok(json!("Atza|1")));
    assert_eq!(c("regex: '\"b\":\\[(\\d+)'"), Ok(json!("10")));
    assert!(c("pointer: /zzz").unwrap_err().contains("/zzz is not in the body"));
    assert!(c("query: nope").unwrap_err().contains("no nope in the query"));
}

#[test]
fn a_bad_regex_is_an_error_of_the_scenario_not_a_mismatch() {
    let r = json_response(200, json!({"a": "b"}));
    let e = check(&expect("pointers: {/a: {regex: '{{n}}('}}"), &r, &vars()).unwrap_err();
    assert!(matches!(e, CheckError::Regex { .. }), "{e}");
}

#[test]
fn the_line_diff_marks_removed_and_added_lines() {
    let d = line_diff("{\n  \"a\": 1,\n  \"b\": 2\n}", "{\n  \"a\": 1\n}");
    assert_eq!(d, "--- expected\n+++ actual\n {\n   \"a\": 1\n-  \"b\": 2\n }\n");
    let d = line_diff("x\ny", "x\nz");
    assert_eq!(d, "--- expected\n+++ actual\n x\n-y\n+z\n");
}
