use super::*;
use crate::scenario::model::{Number, RepresentationSelector};

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
    expect: {status: 200}
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
        "name: x\nsteps:\n  - name: nothing\n  - request: {path: /}\n    expect: {status: 200}\n    poll: {request: {path: /}, until: {}}\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("s.yaml:3:5: step 1: expected one of"), "{}", e[0]);
    assert!(e[1].starts_with("s.yaml:4:5: step 2: has more than one"), "{}", e[1]);
}

#[test]
fn control_steps_need_the_mock_only_tag() {
    let e = errors("name: x\nsteps:\n  - request: {path: /}\n    expect: {status: 200}\n  - control: reset\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("s.yaml:5:5: step 2: control steps need"), "{}", e[0]);
    assert!(e[0].contains("mock-only"), "{}", e[0]);
}

#[test]
fn variables_must_be_defined_before_use_and_point_at_the_reference() {
    let text = "name: x\nsteps:\n  - request:\n      path: /a\n      bearer: \"{{token}}\"\n    capture:\n      token: {pointer: /t}\n    expect: {status: 200}\n  - request: {path: \"/b/{{fixture.client.nope.id}}\"}\n    expect: {status: 200}\n";
    let e = errors(text);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("s.yaml:5:16: {{token}} is not defined here"), "{}", e[0]);
    assert!(e[1].starts_with("s.yaml:9:25: {{fixture.client.nope.id}} is not a fixture alias"), "{}", e[1]);
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
        "name: x\ntags: [\"two words\"]\nchecks: [\"lwa 13.4\", \"lwa§13.4-2\", \"music-api.md §11.2\"]\nsteps:\n  - request: {path: /}\n    expect: {status: 200}\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].contains("tag \"two words\""), "{}", e[0]);
    assert!(e[1].starts_with("s.yaml:3:11: check \"lwa 13.4\""), "{}", e[1]);
}

#[test]
fn reserved_and_malformed_capture_names_are_refused() {
    let e = errors(
        "name: x\nsteps:\n  - request: {path: /}\n    expect: {status: 200}\n    capture:\n      target: {header: x}\n      a.b: {header: y}\n",
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
    let steps = "steps:\n  - request: {path: /}\n    expect: {status: 200}\n";
    std::fs::write(dir.join("a.yaml"), format!("name: same\n{steps}")).unwrap();
    std::fs::write(dir.join("sub/b.yml"), format!("# c\nname: same\n{steps}")).unwrap();
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

const STREAMS: &str = "\
name: streams
steps:
  - request: {path: /track.json}
    expect: {status: 200}
    capture: {tone: {pointer: /tone}}
  - request: {path: /a.flac}
    expect:
      audio:
        codec: flac
        sample_rate: 96000
        channels: 2
        bits_per_sample: 24
        duration: {seconds: 7, tolerance: 0.05}
        frequency: {hz: \"{{tone}}\", tolerance: 1}
      range: [{header: \"bytes=0-99\"}, {header: \"bytes=-500\"}, {header: \"bytes=99999999-\", status: 416}]
  - request: {path: /m.mpd}
    expect:
      dash:
        duration: {seconds: 7}
        representations: [{id: SD, codecs: mp4a.6B}, {codecs: {regex: \"^(?i)flac$\"}, audio_sampling_rate: 96000}]
        fetch:
          - {representation: SD, audio: {codec: mp3}}
          - {representation: {audio_sampling_rate: 96000}, append_manifest_query: true}
          - {representation: 0, decode: false}
";

#[test]
fn the_stream_expectations_load() {
    assert_eq!(errors(STREAMS), Vec::<String>::new());
    let s = load_str("s.yaml", STREAMS).unwrap();
    let e = s.steps[1].value.expect.as_ref().unwrap();
    assert_eq!(e.range.as_ref().unwrap().0.len(), 3);
    assert_eq!(e.audio.as_ref().unwrap().frequency.as_ref().unwrap().hz, Number::Template("{{tone}}".into()));
    let d = s.steps[2].value.expect.as_ref().unwrap().dash.as_ref().unwrap();
    assert_eq!(d.fetch.0.len(), 3);
    assert!(!d.fetch.0[2].decode);
    assert!(matches!(d.fetch.0[1].representation, RepresentationSelector::Match(_)));
}

#[test]
fn a_misspelt_stream_key_names_its_line_and_column() {
    let e =
        errors("name: x\nsteps:\n  - request: {path: /a.flac}\n    expect:\n      audio:\n        sample_rte: 44100\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("s.yaml:6:9: "), "{}", e[0]);
    assert!(e[0].contains("sample_rte") && e[0].contains("sample_rate"), "{}", e[0]);
    let e = errors(
        "name: x\nsteps:\n  - request: {path: /m}\n    expect:\n      dash: {fetch: {representation: HD, expect: {}}}\n",
    );
    assert!(e[0].starts_with("s.yaml:5:"), "{}", e[0]);
    assert!(e[0].contains("unknown field `expect`"), "{}", e[0]);
}

#[test]
fn stream_numbers_must_be_numbers_in_range() {
    let e = errors("name: x\nsteps:\n  - request: {path: /a}\n    expect:\n      audio: {frequency: {hz: abc}}\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("s.yaml:5:"), "{}", e[0]);
    assert!(e[0].contains("\"abc\" is not a number"), "{}", e[0]);
    let text = "name: x\nsteps:\n  - request: {path: /a}\n    expect:\n      audio:\n        sample_rate: 0\n        \
                channels: 2.5\n        duration: {seconds: -1}\n        codec: flca\n";
    let e = errors(text);
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(
        e[0].starts_with("s.yaml:9:9: step 1: audio codec \"flca\": expected one this build decodes: "),
        "{}",
        e[0]
    );
    assert!(e[0].contains("flac") && e[0].contains("mp3") && e[0].contains("aac"), "{}", e[0]);
    assert!(e[1].starts_with("s.yaml:6:9: step 1: audio sample_rate 0: expected a positive"), "{}", e[1]);
    assert!(e[2].starts_with("s.yaml:7:9: step 1: audio channels 2.5: expected 1 to 255"), "{}", e[2]);
    assert!(e[3].starts_with("s.yaml:8:20: step 1: audio duration seconds -1"), "{}", e[3]);
}

#[test]
fn range_cases_must_be_sendable_and_only_on_requests() {
    let e = errors("name: x\nsteps:\n  - request: {path: /a}\n    expect:\n      range: {header: \"items=0-1\"}\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("s.yaml:5:24: step 1: range header \"items=0-1\" is not a byte-range set"), "{}", e[0]);
    assert!(e[0].contains("status: 200"), "{}", e[0]);
    assert_eq!(
        errors(
            "name: x\nsteps:\n  - request: {path: /a}\n    expect:\n      range: {header: \"items=0-1\", status: 200}\n"
        ),
        Vec::<String>::new()
    );
    let e = errors(
        "name: x\nsteps:\n  - request: {path: /a}\n    expect:\n      range: [{status: 206}, {header: \"bytes=0-1\", status: 201}]\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].contains("without `header`, and the request sends no `range` header"), "{}", e[0]);
    assert!(e[1].contains("range status 201: expected 206, 416, or 200"), "{}", e[1]);
    let e = errors(
        "name: x\nsteps:\n  - poll:\n      request: {path: /a}\n      until: {status: 200, audio: {}}\n    expect:\n      range: {header: \"bytes=0-1\"}\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("s.yaml:5:") && e[0].contains("`audio` in `until`"), "{}", e[0]);
    assert!(e[1].starts_with("s.yaml:7:7: step 1: `range` needs a `request` step"), "{}", e[1]);
}

#[test]
fn dash_fetch_options_must_fit_together_and_references_must_be_defined() {
    let e = errors(
        "name: x\nsteps:\n  - request: {path: /m}\n    expect:\n      dash:\n        fetch: {representation: \"{{rep}}\", decode: false, audio: {codec: flac}}\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].contains("dash fetch has `audio` but `decode: false`"), "{}", e[0]);
    assert!(e[1].starts_with("s.yaml:6:34: {{rep}} is not defined here"), "{}", e[1]);
    let e = errors(
        "name: x\nsteps:\n  - request: {path: /m}\n    expect:\n      dash: {representations: [{codecs: {regex: \"(\"}}]}\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("regex \"(\" does not compile"), "{}", e[0]);
}

#[test]
fn a_request_step_needs_expect_and_an_error_status_alone_is_a_warning() {
    let e = errors("name: x\nsteps:\n  - request: {path: /}\n");
    assert_eq!(
        e,
        ["s.yaml:3:5: step 1: a request step without `expect` passes on any answer, a 500 included: expected an \
          `expect` block (at least `status`)"]
    );
    let warnings = |text: &str| {
        load_str_with_warnings("s.yaml", text).unwrap().1.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    let w = warnings("name: x\nsteps:\n  - request: {path: /}\n    expect:\n      status: [400, 401]\n");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("s.yaml:5:7: step 1: checks only the status of an error answer"), "{}", w[0]);
    // A success status alone, or an error status with anything else checked, is no warning.
    for ok in [
        "name: x\nsteps:\n  - request: {path: /}\n    expect: {status: 200}\n",
        "name: x\nsteps:\n  - request: {path: /}\n    expect: {status: [200, 400]}\n",
        "name: x\nsteps:\n  - request: {path: /}\n    expect: {status: 400, json: {error: invalid_grant}}\n",
        "name: x\nsteps:\n  - request: {path: /}\n    expect: {status: 404, headers: {content-type: application/json}}\n",
    ] {
        assert_eq!(warnings(ok), Vec::<String>::new(), "{ok}");
    }
}
