//! Checking an answer against an `expect` block, and taking `capture`s from it.
//!
//! Everything here is plain data in, plain data out: a [`Response`] already read to the end, the
//! scenario's [`Vars`], and a list of [`Mismatch`]es, each saying what was checked, what was expected and
//! what came, plus a line diff for JSON bodies. No I/O, no HTTP client.
//!
//! The stream expectations have a module each: [`audio`] (decode with Symphonia, measure), [`dash`] (the
//! MPD's representations and segment URLs) and [`range`] (RFC 9110 byte ranges). [`check`] leaves them
//! out: they need more requests or a blocking decoder, and `run/media.rs` drives them.

pub mod audio;
pub mod dash;
pub mod range;

use bytes::Bytes;
use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use super::interp::{InterpError, Vars, value_as_text};
use super::model::{Capture, Expect, JsonType, Length, Matcher, MatcherSpec, Number, RedirectExpect};

/// A body that is not UTF-8 and longer than this keeps only its first [`BINARY_TEXT_BYTES`] in
/// [`Response::body`] (an audio file as text is neither readable nor worth three times its size).
const BINARY_TEXT_LIMIT: usize = 1 << 20;
/// See [`BINARY_TEXT_LIMIT`].
const BINARY_TEXT_BYTES: usize = 64 << 10;

/// An answer, read to the end.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers with lower-case names, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced; a binary body over 1 MiB only its first 64 KiB).
    pub body: String,
    /// The body as received.
    pub raw: Bytes,
    /// The URL the request went to (DASH segment URLs resolve against it).
    pub url: String,
}

impl Response {
    /// An answer from its parts; `body` is derived from `raw`.
    pub fn new(status: u16, headers: Vec<(String, String)>, raw: Bytes, url: String) -> Self {
        let body = match std::str::from_utf8(&raw) {
            Ok(text) => text.to_owned(),
            Err(_) if raw.len() > BINARY_TEXT_LIMIT => String::from_utf8_lossy(&raw[..BINARY_TEXT_BYTES]).into_owned(),
            Err(_) => String::from_utf8_lossy(&raw).into_owned(),
        };
        Response { status, headers, body, raw, url }
    }

    /// The body for a report: its text, or `(N bytes of binary data)` when it is not UTF-8.
    pub fn body_for_report(&self, max: usize) -> String {
        if std::str::from_utf8(&self.raw).is_err() {
            let ct = self.header("content-type").map(|c| format!(", {c}")).unwrap_or_default();
            format!("({} bytes of binary data{ct})", self.raw.len())
        } else {
            excerpt(&self.body, max)
        }
    }
}

impl Response {
    /// A header's value; repeated headers joined with `, `.
    pub fn header(&self, name: &str) -> Option<String> {
        let name = name.to_ascii_lowercase();
        let values: Vec<&str> = self.headers.iter().filter(|(k, _)| *k == name).map(|(_, v)| v.as_str()).collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// One check that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// What was checked: `status`, `header content-type`, `json /error`, `pointer /expires_in (min)`,
    /// `redirect query state`, `text contains`.
    pub check: String,
    /// What the scenario expected.
    pub expected: String,
    /// What came instead.
    pub actual: String,
}

impl Mismatch {
    fn new(check: impl Into<String>, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Mismatch { check: check.into(), expected: expected.into(), actual: actual.into() }
    }
}

/// The result of checking one answer.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// The checks that failed; empty means the answer matched.
    pub mismatches: Vec<Mismatch>,
    /// A line diff of the expected JSON against the same parts of the actual body, when `json` failed.
    pub diff: Option<String>,
}

impl Verdict {
    /// Whether every check held.
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// A problem in the scenario itself found while checking (a bad regex, a variable without a value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// Interpolation failed.
    #[error(transparent)]
    Interp(#[from] InterpError),
    /// A regular expression does not compile.
    #[error("invalid regex {pattern:?}: {message}")]
    Regex {
        /// The pattern after interpolation.
        pattern: String,
        /// The compiler's message.
        message: String,
    },
    /// A value that must be a number is not one.
    #[error("{what}: expected a number, got {value}")]
    NotANumber {
        /// Which value (`audio frequency hz`).
        what: String,
        /// What it came to after interpolation.
        value: String,
    },
}

/// The value of a [`Number`]: as written, or its template interpolated (a number, or text that parses
/// as one).
///
/// # Errors
/// Interpolation fails, or the value is not a number.
pub fn number(n: &Number, vars: &Vars, what: &str) -> Result<f64, CheckError> {
    match n {
        Number::Value(v) => Ok(*v),
        Number::Template(t) => {
            let v = vars.value(&Value::String(t.clone()))?;
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| CheckError::NotANumber { what: what.to_owned(), value: compact(&v, 100) })
        }
    }
}

fn compile(pattern: &str) -> Result<Regex, CheckError> {
    Regex::new(pattern).map_err(|e| CheckError::Regex { pattern: pattern.to_owned(), message: e.to_string() })
}

/// Checks an answer against an `expect` block.
///
/// # Errors
/// [`CheckError`] when the block itself cannot be evaluated.
pub fn check(expect: &Expect, resp: &Response, vars: &Vars) -> Result<Verdict, CheckError> {
    let mut v = Verdict::default();
    match (&expect.status, &expect.redirect) {
        (Some(s), _) if !s.accepts(resp.status) => {
            v.mismatches.push(Mismatch::new("status", s.to_string(), resp.status.to_string()));
        }
        (None, Some(_)) if !(300..400).contains(&resp.status) => {
            v.mismatches.push(Mismatch::new("status", "a redirect (3xx)", resp.status.to_string()));
        }
        _ => {}
    }
    for (name, m) in &expect.headers {
        let actual = resp.header(name).map(Value::String);
        for (what, exp, act) in eval(m, actual.as_ref(), vars)? {
            v.mismatches.push(Mismatch::new(format!("header {}{what}", name.to_ascii_lowercase()), exp, act));
        }
    }
    let needs_json = expect.json.is_some() || !expect.pointers.is_empty();
    let json = if needs_json { resp.json() } else { None };
    if needs_json && json.is_none() {
        v.mismatches.push(Mismatch::new("body", "a JSON body", excerpt(&resp.body, 300)));
    }
    if let (Some(expected), Some(actual)) = (&expect.json, &json) {
        let expected = vars.value(expected)?;
        let mut found = Vec::new();
        subset("", &expected, actual, &mut found);
        if !found.is_empty() {
            let projected = project(&expected, actual);
            v.diff = Some(line_diff(&pretty(&expected), &pretty(&projected)));
            v.mismatches.extend(found);
        }
    }
    if let Some(actual) = &json {
        for (ptr, m) in &expect.pointers {
            let ptr_i = vars.text(ptr)?;
            for (what, exp, act) in eval(m, actual.pointer(&ptr_i), vars)? {
                v.mismatches.push(Mismatch::new(format!("pointer {ptr_i}{what}"), exp, act));
            }
        }
    }
    if let Some(t) = &expect.text {
        if let Some(eq) = &t.equals {
            let eq = vars.text(eq)?;
            if resp.body != eq {
                v.mismatches.push(Mismatch::new("text equals", quote(&eq), quote(&excerpt(&resp.body, 2000))));
                v.diff = Some(line_diff(&eq, &resp.body));
            }
        }
        for c in &t.contains.0 {
            let c = vars.text(c)?;
            if !resp.body.contains(&c) {
                v.mismatches.push(Mismatch::new("text contains", quote(&c), body_summary(&resp.body)));
            }
        }
        for c in &t.not_contains.0 {
            let c = vars.text(c)?;
            if resp.body.contains(&c) {
                v.mismatches.push(Mismatch::new("text not_contains", format!("no {}", quote(&c)), "it occurs"));
            }
        }
        if let Some(re) = &t.regex {
            let re = vars.text(re)?;
            if !compile(&re)?.is_match(&resp.body) {
                v.mismatches.push(Mismatch::new("text regex", format!("/{re}/"), body_summary(&resp.body)));
            }
        }
    }
    if let Some(r) = &expect.redirect {
        check_redirect(r, resp, vars, &mut v.mismatches)?;
    }
    Ok(v)
}

fn check_redirect(r: &RedirectExpect, resp: &Response, vars: &Vars, out: &mut Vec<Mismatch>) -> Result<(), CheckError> {
    let Some(location) = resp.header("location") else {
        out.push(Mismatch::new("redirect", "a Location header", "none"));
        return Ok(());
    };
    let loc = RedirectTarget::parse(&location);
    if let Some(m) = &r.location {
        for (what, exp, act) in eval(m, Some(&Value::String(location.clone())), vars)? {
            out.push(Mismatch::new(format!("redirect location{what}"), exp, act));
        }
    }
    if let Some(base) = &r.base {
        let base = vars.text(base)?;
        if loc.base != base {
            out.push(Mismatch::new("redirect base", quote(&base), quote(&loc.base)));
        }
    }
    for (part, expected, actual) in [("query", &r.query, &loc.query), ("fragment", &r.fragment, &loc.fragment)] {
        for (name, m) in expected {
            let value = actual.iter().find(|(k, _)| k == name).map(|(_, v)| Value::String(v.clone()));
            for (what, exp, act) in eval(m, value.as_ref(), vars)? {
                out.push(Mismatch::new(format!("redirect {part} {name}{what}"), exp, act));
            }
        }
    }
    Ok(())
}

/// A redirect target split as sent: everything before `?`/`#`, and the decoded parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectTarget {
    /// The target without query and fragment.
    pub base: String,
    /// Query parameters, decoded (`+` is a space), in order.
    pub query: Vec<(String, String)>,
    /// Fragment parameters, decoded, in order.
    pub fragment: Vec<(String, String)>,
}

impl RedirectTarget {
    /// Splits a `Location` value.
    pub fn parse(location: &str) -> Self {
        let (before_fragment, fragment) = location.split_once('#').unwrap_or((location, ""));
        let (base, query) = before_fragment.split_once('?').unwrap_or((before_fragment, ""));
        let decode = |s: &str| form_urlencoded::parse(s.as_bytes()).into_owned().collect::<Vec<_>>();
        RedirectTarget { base: base.to_owned(), query: decode(query), fragment: decode(fragment) }
    }
}

/// Takes a captured value from an answer.
///
/// # Errors
/// A message saying what was not found, or a [`CheckError`] for a bad regex.
pub fn capture(c: &Capture, resp: &Response, vars: &Vars) -> Result<Result<Value, String>, CheckError> {
    Ok(match c {
        Capture::Pointer(p) => {
            let p = vars.text(p)?;
            match resp.json() {
                None => Err(format!("the body is not JSON: {}", body_summary(&resp.body))),
                Some(j) => j.pointer(&p).cloned().ok_or_else(|| format!("{p} is not in the body {}", compact(&j, 300))),
            }
        }
        Capture::Header(h) => {
            resp.header(h).map(Value::String).ok_or_else(|| format!("no {} header", h.to_ascii_lowercase()))
        }
        Capture::Query(name) | Capture::Fragment(name) => match resp.header("location") {
            None => Err("no Location header".to_owned()),
            Some(loc) => {
                let t = RedirectTarget::parse(&loc);
                let (part, params) =
                    if matches!(c, Capture::Query(_)) { ("query", &t.query) } else { ("fragment", &t.fragment) };
                params
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| Value::String(v.clone()))
                    .ok_or_else(|| format!("no {name} in the {part} of {loc}"))
            }
        },
        Capture::Regex(re) => {
            let re = compile(&vars.text(re)?)?;
            match re.captures(&resp.body) {
                None => Err(format!("/{}/ does not match {}", re.as_str(), body_summary(&resp.body))),
                Some(caps) => {
                    let m = caps.get(1).or_else(|| caps.get(0)).map(|m| m.as_str()).unwrap_or_default();
                    Ok(Value::String(m.to_owned()))
                }
            }
        }
    })
}

/// Evaluates a matcher; returns (check suffix, expected, actual) for each failing part.
fn eval(m: &Matcher, actual: Option<&Value>, vars: &Vars) -> Result<Vec<(String, String, String)>, CheckError> {
    let shown = |a: Option<&Value>| a.map_or_else(|| "(absent)".to_owned(), |v| compact(v, 300));
    let mut out = Vec::new();
    let spec = match m {
        Matcher::Literal(expected) => {
            let expected = vars.value(expected)?;
            if !actual.is_some_and(|a| json_eq(&expected, a)) {
                out.push((String::new(), compact(&expected, 300), shown(actual)));
            }
            return Ok(out);
        }
        Matcher::Spec(s) => s,
    };
    let MatcherSpec { equals, not_equals, regex, contains, one_of, kind, length, min, max, keys, exists, absent } =
        spec.as_ref();
    let must_exist = match (exists, absent) {
        (Some(false), _) | (_, Some(true)) => Some(false),
        (Some(true), _) | (_, Some(false)) => Some(true),
        _ => None,
    };
    match (must_exist, actual) {
        (Some(false), Some(a)) => out.push((" (absent)".into(), "absent".into(), compact(a, 300))),
        (Some(true), None) => out.push((" (exists)".into(), "present".into(), "(absent)".into())),
        _ => {}
    }
    let has_value_checks = equals.is_some()
        || regex.is_some()
        || contains.is_some()
        || one_of.is_some()
        || kind.is_some()
        || length.is_some()
        || min.is_some()
        || max.is_some()
        || keys.is_some();
    let Some(a) = actual else {
        if has_value_checks && must_exist != Some(true) {
            out.push((String::new(), describe(spec), "(absent)".into()));
        }
        // An absent value differs from everything, so `not_equals` holds.
        return Ok(out);
    };
    if let Some(e) = equals {
        let e = vars.value(e)?;
        if !json_eq(&e, a) {
            out.push((" (equals)".into(), compact(&e, 300), compact(a, 300)));
        }
    }
    if let Some(ne) = not_equals {
        let ne = vars.value(ne)?;
        if json_eq(&ne, a) {
            out.push((" (not_equals)".into(), format!("not {}", compact(&ne, 300)), compact(a, 300)));
        }
    }
    if let Some(re) = regex {
        let re = vars.text(re)?;
        if !compile(&re)?.is_match(&value_as_text(a)) {
            out.push((" (regex)".into(), format!("/{re}/"), compact(a, 300)));
        }
    }
    if let Some(c) = contains {
        let c = vars.value(c)?;
        let ok = match (a, &c) {
            (Value::String(s), Value::String(sub)) => s.contains(sub.as_str()),
            (Value::Array(items), x) => items.iter().any(|i| json_eq(x, i)),
            _ => false,
        };
        if !ok {
            out.push((" (contains)".into(), format!("containing {}", compact(&c, 300)), compact(a, 300)));
        }
    }
    if let Some(options) = one_of {
        let options = options.iter().map(|o| vars.value(o)).collect::<Result<Vec<_>, _>>()?;
        if !options.iter().any(|o| json_eq(o, a)) {
            out.push((" (one_of)".into(), format!("one of {}", compact(&Value::Array(options), 300)), compact(a, 300)));
        }
    }
    if let Some(t) = kind {
        if !has_type(a, *t) {
            out.push((" (type)".into(), type_name(*t).into(), format!("{} {}", value_type(a), compact(a, 100))));
        }
    }
    if let Some(l) = length {
        let n = match a {
            Value::String(s) => Some(s.chars().count() as u64),
            Value::Array(x) => Some(x.len() as u64),
            Value::Object(x) => Some(x.len() as u64),
            _ => None,
        };
        let ok = match (n, l) {
            (Some(n), Length::Exact(e)) => n == *e,
            (Some(n), Length::Range { min, max }) => min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m),
            (None, _) => false,
        };
        if !ok {
            let got = n.map_or_else(|| format!("{} (no length)", value_type(a)), |n| format!("length {n}"));
            out.push((" (length)".into(), length_text(l), got));
        }
    }
    if min.is_some() || max.is_some() {
        match a.as_f64() {
            Some(n) => {
                if let Some(lo) = min.filter(|lo| n < *lo) {
                    out.push((" (min)".into(), format!(">= {lo}"), compact(a, 100)));
                }
                if let Some(hi) = max.filter(|hi| n > *hi) {
                    out.push((" (max)".into(), format!("<= {hi}"), compact(a, 100)));
                }
            }
            None => out.push((" (min/max)".into(), "a number".into(), compact(a, 100))),
        }
    }
    if let Some(k) = keys {
        let got: Option<Vec<&str>> = a.as_object().map(|o| o.keys().map(String::as_str).collect());
        if got.as_deref() != Some(&k.iter().map(String::as_str).collect::<Vec<_>>()[..]) {
            let got = got.map_or_else(|| format!("{} (no keys)", value_type(a)), |g| format!("{g:?}"));
            out.push((" (keys)".into(), format!("{k:?}"), got));
        }
    }
    Ok(out)
}

/// A one-line description of a matcher spec, for "expected … got (absent)".
fn describe(s: &MatcherSpec) -> String {
    let mut parts = Vec::new();
    if let Some(e) = &s.equals {
        parts.push(format!("equals {}", compact(e, 100)));
    }
    if let Some(r) = &s.regex {
        parts.push(format!("/{r}/"));
    }
    if let Some(c) = &s.contains {
        parts.push(format!("containing {}", compact(c, 100)));
    }
    if let Some(o) = &s.one_of {
        parts.push(format!("one of {}", compact(&Value::Array(o.clone()), 100)));
    }
    if let Some(t) = s.kind {
        parts.push(type_name(t).to_owned());
    }
    if let Some(l) = &s.length {
        parts.push(length_text(l));
    }
    if let Some(m) = s.min {
        parts.push(format!(">= {m}"));
    }
    if let Some(m) = s.max {
        parts.push(format!("<= {m}"));
    }
    if let Some(k) = &s.keys {
        parts.push(format!("keys {k:?}"));
    }
    if parts.is_empty() { "a value".to_owned() } else { parts.join(", ") }
}

fn length_text(l: &Length) -> String {
    match l {
        Length::Exact(n) => format!("length {n}"),
        Length::Range { min: Some(a), max: Some(b) } => format!("length {a}..={b}"),
        Length::Range { min: Some(a), max: None } => format!("length >= {a}"),
        Length::Range { min: None, max: Some(b) } => format!("length <= {b}"),
        Length::Range { min: None, max: None } => "any length".to_owned(),
    }
}

fn type_name(t: JsonType) -> &'static str {
    match t {
        JsonType::String => "string",
        JsonType::Number => "number",
        JsonType::Integer => "integer",
        JsonType::Boolean => "boolean",
        JsonType::Null => "null",
        JsonType::Array => "array",
        JsonType::Object => "object",
    }
}

fn value_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Null => "null",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn has_type(v: &Value, t: JsonType) -> bool {
    match t {
        JsonType::String => v.is_string(),
        JsonType::Number => v.is_number(),
        JsonType::Integer => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        JsonType::Boolean => v.is_boolean(),
        JsonType::Null => v.is_null(),
        JsonType::Array => v.is_array(),
        JsonType::Object => v.is_object(),
    }
}

/// JSON equality with numbers compared by value (`3600` equals `3600.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                x == y
            } else if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                x == y
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Collects where `actual` does not contain `expected`: objects need every expected key (extra keys are
/// fine), arrays the same length with each element contained, anything else equality.
pub fn subset(path: &str, expected: &Value, actual: &Value, out: &mut Vec<Mismatch>) {
    let here = if path.is_empty() { "/".to_owned() } else { path.to_owned() };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                match a.get(k) {
                    Some(av) => subset(&p, ev, av, out),
                    None => out.push(Mismatch::new(format!("json {p}"), compact(ev, 200), "(absent)")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(Mismatch::new(
                    format!("json {here} (length)"),
                    format!("{} elements", e.len()),
                    format!("{} elements", a.len()),
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                subset(&format!("{path}/{i}"), ev, av, out);
            }
        }
        (e, a) => {
            if !json_eq(e, a) {
                out.push(Mismatch::new(format!("json {here}"), compact(e, 200), compact(a, 200)));
            }
        }
    }
}

/// The parts of `actual` that `expected` talks about, in `expected`'s shape, so that a line diff of the two
/// shows only what matters. Keys missing from `actual` are left out.
pub fn project(expected: &Value, actual: &Value) -> Value {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let mut m = serde_json::Map::new();
            for (k, ev) in e {
                if let Some(av) = a.get(k) {
                    m.insert(k.clone(), project(ev, av));
                }
            }
            Value::Object(m)
        }
        (Value::Array(e), Value::Array(a)) => Value::Array(
            a.iter().enumerate().map(|(i, av)| e.get(i).map_or_else(|| av.clone(), |ev| project(ev, av))).collect(),
        ),
        (_, a) => a.clone(),
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A number for a message: whole numbers without a fraction, others to at most four decimals (an `f32`
/// that went through JSON reads `871.3`, not `871.2999877929688`).
pub fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Compact JSON, cut to about `max` characters.
pub fn compact(v: &Value, max: usize) -> String {
    excerpt(&v.to_string(), max)
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

fn body_summary(body: &str) -> String {
    if body.is_empty() { "an empty body".to_owned() } else { format!("body {}", quote(&excerpt(body, 300))) }
}

/// The first `max` characters of a text, with `…` when cut.
pub fn excerpt(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// A line diff: `-` for lines only in `expected`, `+` for lines only in `actual`, two spaces for both.
/// Longest common subsequence; texts over 400 lines are shown whole, one after the other.
pub fn line_diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut out = String::from("--- expected\n+++ actual\n");
    if e.len() > 400 || a.len() > 400 {
        for l in &e {
            out.push_str(&format!("-{l}\n"));
        }
        for l in &a {
            out.push_str(&format!("+{l}\n"));
        }
        return out;
    }
    // Lines compare without a trailing comma, so that a JSON member that merely became the last one is
    // not shown as changed.
    let same = |x: &str, y: &str| x.trim_end_matches(',') == y.trim_end_matches(',');
    // lcs[i][j]: the LCS length of e[i..] and a[j..].
    let mut lcs = vec![vec![0u32; a.len() + 1]; e.len() + 1];
    for i in (0..e.len()).rev() {
        for j in (0..a.len()).rev() {
            lcs[i][j] = if same(e[i], a[j]) { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < e.len() || j < a.len() {
        if i < e.len() && j < a.len() && same(e[i], a[j]) {
            out.push_str(&format!(" {}\n", a[j]));
            i += 1;
            j += 1;
        } else if i < e.len() && (j == a.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("-{}\n", e[i]));
            i += 1;
        } else {
            out.push_str(&format!("+{}\n", a[j]));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests;
