//! Reading scenario files: YAML through serde-saphyr into [`Scenario`], then the checks serde cannot make
//! (one step kind per step, variables defined before use, regexes that compile, control steps only in
//! `mock-only` scenarios, unique names). Every problem is a [`LoadError`] naming file, line and column.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;

use super::expect::{audio, range};
use super::interp::{self, is_builtin, is_fixture_alias, is_var_name};
use super::model::{
    AudioExpect, Capture, Control, DashExpect, DurationExpect, Expect, Matcher, Number, OneOrList, RangeCase,
    RepresentationExpect, RepresentationSelector, Request, Scenario, Status, Step,
};

/// The directory name that holds client plans (`scenarios/clients/`): directories of that name are left out
/// when scenarios are searched for, and checked as plans by `check`.
pub const CLIENT_PLANS_DIR: &str = "clients";

/// The tag a scenario needs for control steps; scenarios with it are skipped on a target that is not a mock.
pub const MOCK_ONLY: &str = "mock-only";

/// A scenario file, read and checked.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    /// The file, as found (relative when the path given was relative).
    pub file: PathBuf,
    /// The file relative to the path it was found under (its name when a file was given): what `--filter`
    /// matches, so a checkout's own directory names never select scenarios.
    pub found_as: String,
    /// Its contents.
    pub scenario: Scenario,
    /// What `check` warns about (the scenario runs, but may pass more than it should).
    pub warnings: Vec<LoadError>,
}

impl LoadedScenario {
    /// Whether the scenario needs the mock's admin API.
    pub fn mock_only(&self) -> bool {
        self.scenario.tags.iter().any(|t| t == MOCK_ONLY)
    }

    /// The file as text for reports (`/` separators).
    pub fn file_display(&self) -> String {
        self.file.to_string_lossy().replace('\\', "/")
    }
}

/// A problem with a scenario file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl LoadError {
    /// A problem with the whole file (no position).
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        LoadError { file: file.to_owned(), line: None, column: None, message: message.into() }
    }

    /// A YAML or type error from serde-saphyr: its position, and the first line of its message without the
    /// position it repeats.
    pub fn yaml(file: &str, e: &serde_saphyr::Error) -> Self {
        let loc = e.location();
        let message = e.to_string();
        LoadError {
            file: file.to_owned(),
            line: loc.map(|l| l.line()).filter(|l| *l > 0),
            column: loc.map(|l| l.column()).filter(|c| *c > 0),
            message: strip_position(message.lines().next().unwrap_or_default()),
        }
    }
}

/// Reads a file's text for loading; `what` names it in the error (`the baseline`).
///
/// # Errors
/// A [`LoadError`] naming the file.
pub fn read_text(path: &Path, what: &str) -> Result<(String, String), LoadError> {
    let file = path.to_string_lossy().replace('\\', "/");
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((file, text)),
        Err(e) => Err(LoadError::file(&file, format!("cannot read {what}: {e}"))),
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Reads every scenario under `paths` (files, or directories searched recursively for `*.yaml` and `*.yml`,
/// leaving out `*.baseline.yaml`, hidden entries and `clients/` directories of plans), in path order, and checks them, names included.
/// Returns what loaded and every problem found.
pub fn load_paths(paths: &[PathBuf]) -> (Vec<LoadedScenario>, Vec<LoadError>) {
    let mut files = Vec::new();
    let mut roots = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if let Err(e) = collect(p, &mut files) {
            errors.push(e);
        }
        roots.resize(files.len(), p.as_path());
    }
    let mut loaded = Vec::new();
    for (f, root) in files.into_iter().zip(roots) {
        let found_as = match f.strip_prefix(root) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().replace('\\', "/"),
            _ => f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        };
        let shown = f.to_string_lossy().replace('\\', "/");
        match std::fs::read_to_string(&f) {
            Ok(text) => match load_str_with_warnings(&shown, &text) {
                Ok((s, warnings)) => loaded.push(LoadedScenario { file: f, found_as, scenario: s, warnings }),
                Err(es) => errors.extend(es),
            },
            Err(e) => errors.push(LoadError { file: shown, line: None, column: None, message: e.to_string() }),
        }
    }
    errors.extend(check_names(&loaded));
    (loaded, errors)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let err = |m: String| LoadError { file: path.to_string_lossy().into_owned(), line: None, column: None, message: m };
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
    if meta.is_file() {
        out.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| err(format!("cannot read the directory: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        let name = e.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if e.is_dir() && name == CLIENT_PLANS_DIR {
            // Client plans (`crate::plan`), not scenarios.
            continue;
        }
        if e.is_dir() {
            collect(&e, out)?;
        } else if (name.ends_with(".yaml") || name.ends_with(".yml")) && !name.ends_with(".baseline.yaml") {
            out.push(e);
        }
    }
    Ok(())
}

fn check_names(loaded: &[LoadedScenario]) -> Vec<LoadError> {
    let mut seen: std::collections::HashMap<&str, &LoadedScenario> = std::collections::HashMap::new();
    let mut errors = Vec::new();
    for s in loaded {
        if let Some(first) = seen.get(s.scenario.name.as_str()) {
            errors.push(LoadError {
                file: s.file_display(),
                line: None,
                column: None,
                message: format!(
                    "the name {:?} is also the name of {}: names must be unique (reports and baselines use them)",
                    s.scenario.name,
                    first.file_display()
                ),
            });
        } else {
            seen.insert(&s.scenario.name, s);
        }
    }
    let name_key = Regex::new(r"(?m)^name\s*:").expect("valid");
    for e in &mut errors {
        // Point at the `name:` line of the second file.
        if let Ok(text) = std::fs::read_to_string(&e.file) {
            if let Some((l, c)) = find(&text, 1, 1, &name_key) {
                e.line = Some(l);
                e.column = Some(c);
            }
        }
    }
    errors
}

/// Parses and checks one scenario file's text.
///
/// # Errors
/// Every problem found, each with the file and, where known, line and column.
pub fn load_str(file: &str, text: &str) -> Result<Scenario, Vec<LoadError>> {
    load_str_with_warnings(file, text).map(|(s, _)| s)
}

/// [`load_str`], with the warnings of a scenario that loads.
///
/// # Errors
/// As [`load_str`].
pub fn load_str_with_warnings(file: &str, text: &str) -> Result<(Scenario, Vec<LoadError>), Vec<LoadError>> {
    // serde-saphyr's message repeats the position and quotes the source; `yaml` keeps its first line.
    let scenario: Scenario = serde_saphyr::from_str(text).map_err(|e| vec![LoadError::yaml(file, &e)])?;
    let mut c = Checker { file, text, errors: Vec::new(), warnings: Vec::new() };
    c.scenario(&scenario);
    if c.errors.is_empty() { Ok((scenario, c.warnings)) } else { Err(c.errors) }
}

/// serde-saphyr starts some messages with "error: line L column C: " and ends others with " at line L column
/// C"; the position is reported separately.
fn strip_position(m: &str) -> String {
    let prefix = Regex::new(r"^(error: )?line \d+,? column \d+:\s*").expect("valid");
    let suffix = Regex::new(r"\s*(,\s*)?at line \d+,? column \d+\s*$").expect("valid");
    suffix.replace(&prefix.replace(m, ""), "").into_owned()
}

/// The line and column of the first match of `re` at or after (line, column).
fn find(text: &str, line: u64, column: u64, re: &Regex) -> Option<(u64, u64)> {
    let start = offset_of(text, line, column)?;
    let m = re.find(&text[start..])?;
    Some(position_of(text, start + m.start()))
}

fn offset_of(text: &str, line: u64, column: u64) -> Option<usize> {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as u64 + 1 == line.max(1) {
            let col = l.char_indices().nth(column.saturating_sub(1) as usize).map_or(l.len(), |(b, _)| b);
            return Some(off + col);
        }
        off += l.len();
    }
    None
}

fn position_of(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset];
    let line = before.matches('\n').count() as u64 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    (line, col)
}

/// A whole-number key of `audio`: its name, value, the rule it must follow and that rule in words.
type CountCheck<'a> = (&'static str, &'a Option<Number>, fn(f64) -> bool, &'static str);

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<LoadError>,
    warnings: Vec<LoadError>,
}

/// Where a problem is: a step's position, refined by searching the text from there.
#[derive(Clone, Copy)]
struct At {
    line: u64,
    column: u64,
}

fn check_id_re() -> Regex {
    Regex::new(r"^(lwa|music)§\d+(\.\d+)*-\d+$|^(lwa|music-api)\.md §\d+(\.\d+)*$").expect("valid")
}

impl Checker<'_> {
    fn warn(&mut self, at: Option<At>, message: impl Into<String>) {
        self.warnings.push(LoadError {
            file: self.file.to_owned(),
            line: at.map(|a| a.line),
            column: at.map(|a| a.column),
            message: message.into(),
        });
    }

    fn error(&mut self, at: Option<At>, message: impl Into<String>) {
        self.errors.push(LoadError {
            file: self.file.to_owned(),
            line: at.map(|a| a.line),
            column: at.map(|a| a.column),
            message: message.into(),
        });
    }

    /// The position of `needle` (a regex) at or after `at`, or `at` itself.
    fn near(&self, at: At, needle: &str) -> At {
        Regex::new(needle)
            .ok()
            .and_then(|re| find(self.text, at.line, at.column, &re))
            .map_or(at, |(line, column)| At { line, column })
    }

    fn top_key(&self, key: &str) -> Option<At> {
        let re = Regex::new(&format!(r"(?m)^{key}\s*:")).ok()?;
        find(self.text, 1, 1, &re).map(|(line, column)| At { line, column })
    }

    fn scenario(&mut self, s: &Scenario) {
        if s.name.trim().is_empty() {
            let at = self.top_key("name");
            self.error(at, "the name is empty: expected a short unique name");
        }
        let tag_re = Regex::new(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$").expect("valid");
        for t in &s.tags {
            if !tag_re.is_match(t) {
                let at = self.top_key("tags");
                self.error(at, format!("tag {t:?}: expected letters, digits, `-`, `_` or `.`, no spaces"));
            }
        }
        let check_re = check_id_re();
        for c in &s.checks {
            if !check_re.is_match(c) {
                let at = self.top_key("checks").map(|a| self.near(a, &regex::escape(c)));
                self.error(
                    at,
                    format!(
                        "check {c:?}: expected a MUST id like \"lwa§13.4-2\" or \"music§11.2-1\", or a section like \
                         \"lwa.md §13.4\" or \"music-api.md §11.2\""
                    ),
                );
            }
        }
        let mut known: HashSet<String> = HashSet::new();
        let vars_at = self.top_key("vars");
        for (name, value) in &s.vars {
            let at = vars_at.map(|a| self.near(a, &format!(r"(?m)^\s+{}\s*:", regex::escape(name))));
            self.capture_name(at, name, "variable");
            let mut strings = Vec::new();
            json_strings(value, &mut strings);
            for st in strings {
                self.references(at, st, &known);
            }
            known.insert(name.clone());
        }
        if s.steps.is_empty() {
            let at = self.top_key("steps");
            self.error(at, "no steps: expected at least one request, poll or control step");
        }
        let mock_only = s.tags.iter().any(|t| t == super::load::MOCK_ONLY);
        for (i, step) in s.steps.iter().enumerate() {
            let at = At { line: step.line, column: step.column };
            let at = (step.line > 0).then_some(at);
            self.step(i + 1, at, &step.value, &known, mock_only);
            for name in step.value.capture.keys() {
                known.insert(name.clone());
            }
        }
    }

    fn capture_name(&mut self, at: Option<At>, name: &str, what: &str) {
        let ok = is_var_name(name) && !name.contains('.');
        if !ok {
            self.error(at, format!("{what} name {name:?}: expected letters, digits and `_`, starting with a letter"));
        } else if is_builtin(name) || name == "fixture" {
            self.error(at, format!("{what} name {name:?} is reserved: choose another"));
        }
    }

    fn references(&mut self, at: Option<At>, s: &str, known: &HashSet<String>) {
        match interp::references(s) {
            Err(e) => {
                let at = at.map(|a| self.near(a, r"\{\{"));
                self.error(at, format!("{e} in {s:?}"));
            }
            Ok(names) => {
                for n in names {
                    if known.contains(n) || is_builtin(n) || is_fixture_alias(n) {
                        continue;
                    }
                    let at = at.map(|a| self.near(a, &format!(r"\{{\{{\s*{}\s*\}}\}}", regex::escape(n))));
                    let msg = if n.starts_with("fixture.") {
                        format!("{{{{{n}}}}} is not a fixture alias: expected one of those in scenarios/README.md")
                    } else {
                        format!(
                            "{{{{{n}}}}} is not defined here: expected a `vars` entry, a capture of an earlier step, \
                             a fixture alias or a built-in (target, session)"
                        )
                    };
                    self.error(at, msg);
                }
            }
        }
    }

    fn step(&mut self, n: usize, at: Option<At>, step: &Step, known: &HashSet<String>, mock_only: bool) {
        let kinds = [step.request.is_some(), step.poll.is_some(), step.control.is_some()];
        match kinds.iter().filter(|k| **k).count() {
            0 => self.error(at, format!("step {n}: expected one of `request`, `poll` or `control`")),
            1 => {}
            _ => self.error(at, format!("step {n}: has more than one of `request`, `poll`, `control`: expected one")),
        }
        if step.request.is_some() && step.expect.is_none() {
            self.error(
                at,
                format!(
                    "step {n}: a request step without `expect` passes on any answer, a 500 included: expected an \
                     `expect` block (at least `status`)"
                ),
            );
        }
        if let (Some(_), Some(e)) = (&step.request, &step.expect) {
            if checks_only_an_error_status(e) {
                let at = at.map(|a| self.near(a, r"status\s*:"));
                self.warn(
                    at,
                    format!(
                        "step {n}: checks only the status of an error answer: also check its body (the error code, \
                         e.g. `json: {{error: invalid_grant}}`), so that another error with the same status fails"
                    ),
                );
            }
        }
        if step.control.is_some() && step.expect.is_some() {
            let at = at.map(|a| self.near(a, r"expect\s*:"));
            self.error(at, format!("step {n}: a control step takes no `expect` (it fails on any non-2xx answer)"));
        }
        if step.control.is_some() && !mock_only {
            let at = at.map(|a| self.near(a, r"control\s*:"));
            self.error(
                at,
                format!(
                    "step {n}: control steps need the mock's admin API: expected the tag `{MOCK_ONLY}` in `tags`, so \
                     that a run against another target skips the scenario"
                ),
            );
        }
        let mut strings: Vec<&str> = Vec::new();
        if let Some(r) = &step.request {
            self.request(n, at, r);
            request_strings(r, &mut strings);
        }
        if let Some(p) = &step.poll {
            self.request(n, at, &p.request);
            request_strings(&p.request, &mut strings);
            if p.max_attempts == 0 {
                let at = at.map(|a| self.near(a, r"max_attempts\s*:"));
                self.error(at, format!("step {n}: max_attempts is 0: expected at least 1"));
            }
            self.expect(n, at, &p.until, &mut strings);
            self.not_in_poll(n, at, &p.until, "until");
            if let Some(w) = &p.while_ {
                self.expect(n, at, w, &mut strings);
                self.not_in_poll(n, at, w, "while");
            }
        }
        if let Some(c) = &step.control {
            control_strings(c, &mut strings);
            if let Control::Admin(a) = c {
                if !a.path.starts_with('/') {
                    self.error(
                        at,
                        format!("step {n}: admin path {:?}: expected a path below /__admin, like /clock", a.path),
                    );
                }
                self.method(n, at, &a.method);
            }
        }
        if let Some(e) = &step.expect {
            self.expect(n, at, e, &mut strings);
            self.media(n, at, e, step.request.as_ref());
        }
        for (name, c) in &step.capture {
            let cat = at.map(|a| self.near(a, &format!(r"(?m)^\s+{}\s*:", regex::escape(name))));
            self.capture_name(cat, name, "capture");
            match c {
                Capture::Pointer(p) => {
                    self.pointer(n, cat, p);
                    strings.push(p);
                }
                Capture::Regex(r) => {
                    self.regex(n, cat, r);
                    strings.push(r);
                }
                Capture::Header(h) | Capture::Query(h) | Capture::Fragment(h) => strings.push(h),
            }
        }
        for s in strings {
            self.references(at, s, known);
        }
    }

    fn method(&mut self, n: usize, at: Option<At>, m: &str) {
        const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
        if !METHODS.contains(&m) {
            let at = at.map(|a| self.near(a, &regex::escape(m)));
            self.error(at, format!("step {n}: method {m:?}: expected one of {}", METHODS.join(", ")));
        }
    }

    fn request(&mut self, n: usize, at: Option<At>, r: &Request) {
        self.method(n, at, &r.method);
        let absolute = r.path.starts_with("http://") || r.path.starts_with("https://");
        if !r.path.starts_with('/') && !r.path.starts_with("{{") && !absolute {
            let at = at.map(|a| self.near(a, r"path\s*:"));
            self.error(
                at,
                format!("step {n}: path {:?}: expected a path starting with `/`, or an http(s) URL", r.path),
            );
        }
        let bodies = [r.form.is_some(), r.json.is_some(), r.body.is_some()].iter().filter(|b| **b).count();
        if bodies > 1 {
            self.error(at, format!("step {n}: more than one of `form`, `json`, `body`: expected at most one body"));
        }
        for h in r.headers.keys() {
            if reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_err() {
                let at = at.map(|a| self.near(a, &regex::escape(h)));
                self.error(at, format!("step {n}: header name {h:?}: expected an HTTP token (letters, digits, `-`)"));
            }
        }
    }

    fn expect<'s>(&mut self, n: usize, at: Option<At>, e: &'s Expect, strings: &mut Vec<&'s str>) {
        let statuses: Vec<u16> = match &e.status {
            Some(super::model::Status::One(c)) => vec![*c],
            Some(super::model::Status::Any(cs)) => cs.clone(),
            None => vec![],
        };
        for c in statuses {
            if !(100..=599).contains(&c) {
                let at = at.map(|a| self.near(a, r"status\s*:"));
                self.error(at, format!("step {n}: status {c}: expected an HTTP status between 100 and 599"));
            }
        }
        expect_strings(e, strings);
        for m in e.headers.values() {
            self.matcher(n, at, m);
        }
        for (p, m) in &e.pointers {
            let pat = at.map(|a| self.near(a, &regex::escape(p)));
            self.pointer(n, pat, p);
            self.matcher(n, pat, m);
        }
        if let Some(t) = &e.text {
            if let Some(r) = &t.regex {
                self.regex(n, at, r);
            }
        }
        if let Some(r) = &e.redirect {
            if let Some(m) = &r.location {
                self.matcher(n, at, m);
            }
            for m in r.query.values().chain(r.fragment.values()) {
                self.matcher(n, at, m);
            }
        }
    }

    fn not_in_poll(&mut self, n: usize, at: Option<At>, e: &Expect, part: &str) {
        for (key, given) in [("audio", e.audio.is_some()), ("dash", e.dash.is_some()), ("range", e.range.is_some())] {
            if given {
                let at = at.map(|a| self.near(a, &format!(r"{key}\s*:")));
                self.error(
                    at,
                    format!(
                        "step {n}: `{key}` in `{part}`: expected it in the step's `expect`, which checks the last \
                         answer once (it decodes, or sends more requests)"
                    ),
                );
            }
        }
    }

    /// The stream expectations: numbers in range, codec names this build decodes, `range` cases that a
    /// request can carry, `fetch` options that fit together.
    fn media(&mut self, n: usize, at: Option<At>, e: &Expect, request: Option<&Request>) {
        if let Some(a) = &e.audio {
            let aat = at.map(|x| self.near(x, r"audio\s*:"));
            self.audio(n, aat, a, "audio");
        }
        if let Some(d) = &e.dash {
            let dat = at.map(|x| self.near(x, r"dash\s*:"));
            self.dash(n, dat, d);
        }
        if let Some(cases) = &e.range {
            let rat = at.map(|x| self.near(x, r"range\s*:"));
            self.range(n, rat, cases, request);
        }
    }

    fn number(&mut self, n: usize, at: Option<At>, what: &str, v: &Number, ok: fn(f64) -> bool, expected: &str) {
        if let Number::Value(x) = v {
            if !ok(*x) {
                let key = what.rsplit(' ').next().unwrap_or(what);
                let at = at.map(|a| self.near(a, &format!(r"{}\s*:", regex::escape(key))));
                self.error(at, format!("step {n}: {what} {x}: expected {expected}"));
            }
        }
    }

    fn duration(&mut self, n: usize, at: Option<At>, what: &str, d: &DurationExpect) {
        let dat = at.map(|x| self.near(x, r"duration\s*:"));
        self.number(n, dat, &format!("{what} duration seconds"), &d.seconds, |x| x >= 0.0, "0 or more seconds");
        if let Some(t) = &d.tolerance {
            self.number(n, dat, &format!("{what} duration tolerance"), t, |x| x >= 0.0, "0 or more seconds");
        }
    }

    fn audio(&mut self, n: usize, at: Option<At>, a: &AudioExpect, what: &str) {
        if let Some(c) = a.codec.as_deref().filter(|c| !c.contains("{{")) {
            let known = audio::known_codecs();
            if !known.iter().any(|k| k.eq_ignore_ascii_case(c)) {
                let at = at.map(|x| self.near(x, r"codec\s*:"));
                self.error(
                    at,
                    format!("step {n}: {what} codec {c:?}: expected one this build decodes: {}", known.join(", ")),
                );
            }
        }
        let counts: [CountCheck<'_>; 3] = [
            ("sample_rate", &a.sample_rate, |x| x > 0.0 && x.fract() == 0.0, "a positive whole number of Hz"),
            ("channels", &a.channels, |x| (1.0..=255.0).contains(&x) && x.fract() == 0.0, "1 to 255"),
            ("bits_per_sample", &a.bits_per_sample, |x| (1.0..=64.0).contains(&x) && x.fract() == 0.0, "1 to 64"),
        ];
        for (key, value, ok, expected) in counts {
            if let Some(v) = value {
                self.number(n, at, &format!("{what} {key}"), v, ok, expected);
            }
        }
        if let Some(d) = &a.duration {
            self.duration(n, at, what, d);
        }
        if let Some(f) = &a.frequency {
            let fat = at.map(|x| self.near(x, r"frequency\s*:"));
            self.number(n, fat, &format!("{what} frequency hz"), &f.hz, |x| x > 0.0, "a positive number of Hz");
            if let Some(t) = &f.tolerance {
                self.number(n, fat, &format!("{what} frequency tolerance"), t, |x| x >= 0.0, "0 or more Hz");
            }
        }
    }

    fn representation(&mut self, n: usize, at: Option<At>, r: &RepresentationExpect) {
        for (_, m) in r.fields() {
            self.matcher(n, at, m);
        }
    }

    fn dash(&mut self, n: usize, at: Option<At>, d: &DashExpect) {
        if let Some(dur) = &d.duration {
            self.duration(n, at, "dash", dur);
        }
        for r in d.representations.iter().chain(&d.representations_include).flatten() {
            self.representation(n, at, r);
        }
        for f in &d.fetch.0 {
            let fat = at.map(|x| self.near(x, r"fetch\s*:"));
            if let RepresentationSelector::Match(r) = &f.representation {
                self.representation(n, fat, r);
            }
            if let Some(a) = &f.audio {
                if !f.decode {
                    let at = fat.map(|x| self.near(x, r"decode\s*:"));
                    self.error(
                        at,
                        format!("step {n}: dash fetch has `audio` but `decode: false`: expected one of them"),
                    );
                }
                self.audio(n, fat, a, "dash fetch audio");
            }
        }
    }

    fn range(&mut self, n: usize, at: Option<At>, cases: &OneOrList<RangeCase>, request: Option<&Request>) {
        let Some(request) = request else {
            self.error(at, format!("step {n}: `range` needs a `request` step: it sends the request again"));
            return;
        };
        if cases.0.is_empty() {
            self.error(at, format!("step {n}: `range` is empty: expected a case like {{header: \"bytes=0-99\"}}"));
        }
        let own = request.headers.keys().any(|k| k.eq_ignore_ascii_case("range"));
        for c in &cases.0 {
            let statuses = match &c.status {
                Some(Status::One(s)) => vec![*s],
                Some(Status::Any(list)) => list.clone(),
                None => vec![],
            };
            for s in statuses.into_iter().filter(|s| ![200, 206, 416].contains(s)) {
                let at = at.map(|x| self.near(x, r"status\s*:"));
                self.error(at, format!("step {n}: range status {s}: expected 206, 416, or 200 (the Range is ignored)"));
            }
            match &c.header {
                Some(h) if !h.contains("{{") && c.status.is_none() && !range::is_valid(h) => {
                    let at = at.map(|x| self.near(x, &regex::escape(h)));
                    self.error(
                        at,
                        format!(
                            "step {n}: range header {h:?} is not a byte-range set (RFC 9110 §14.1.1): expected \
                             bytes=0-99, bytes=500-, bytes=-500 or a comma-separated list; add `status: 200` to check \
                             that a server ignores it"
                        ),
                    );
                }
                None if !own => self.error(
                    at,
                    format!("step {n}: a range case without `header`, and the request sends no `range` header"),
                ),
                _ => {}
            }
        }
    }

    fn pointer(&mut self, n: usize, at: Option<At>, p: &str) {
        if !p.is_empty() && !p.starts_with('/') && !p.starts_with("{{") {
            self.error(
                at,
                format!("step {n}: JSON pointer {p:?}: expected \"\" (the whole body) or a pointer starting with `/`"),
            );
        }
    }

    fn regex(&mut self, n: usize, at: Option<At>, r: &str) {
        if r.contains("{{") {
            return; // Compiled after interpolation.
        }
        if let Err(e) = Regex::new(r) {
            let at = at.map(|a| self.near(a, r"regex\s*:"));
            let first = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
            self.error(at, format!("step {n}: regex {r:?} does not compile: {first}"));
        }
    }

    fn matcher(&mut self, n: usize, at: Option<At>, m: &Matcher) {
        if let Matcher::Spec(s) = m {
            if let Some(r) = &s.regex {
                self.regex(n, at, r);
            }
            if s.exists == Some(false) && s.absent == Some(false) || s.exists == Some(true) && s.absent == Some(true) {
                self.error(at, format!("step {n}: a matcher says both exists and absent: expected one of them"));
            }
        }
    }
}

fn json_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                out.push(k);
                json_strings(x, out);
            }
        }
        _ => {}
    }
}

fn request_strings<'a>(r: &'a Request, out: &mut Vec<&'a str>) {
    out.push(&r.path);
    for (k, p) in &r.query {
        out.push(k);
        out.extend(p.0.iter().map(String::as_str));
    }
    for v in r.headers.values() {
        out.push(&v.0);
    }
    if let Some(f) = &r.form {
        for (k, p) in f {
            out.push(k);
            out.extend(p.0.iter().map(String::as_str));
        }
    }
    if let Some(j) = &r.json {
        json_strings(j, out);
    }
    if let Some(b) = &r.body {
        out.push(b);
    }
    if let Some(b) = &r.basic_auth {
        out.push(&b.user);
        out.push(&b.password);
    }
    if let Some(b) = &r.bearer {
        out.push(b);
    }
}

fn matcher_strings<'a>(m: &'a Matcher, out: &mut Vec<&'a str>) {
    match m {
        Matcher::Literal(v) => json_strings(v, out),
        Matcher::Spec(s) => {
            for v in [&s.equals, &s.not_equals, &s.contains].into_iter().flatten() {
                json_strings(v, out);
            }
            for v in s.one_of.iter().flatten() {
                json_strings(v, out);
            }
            if let Some(r) = &s.regex {
                out.push(r);
            }
        }
    }
}

/// Whether an `expect` block checks an error status (4xx or 5xx, every one listed) and nothing else.
fn checks_only_an_error_status(e: &Expect) -> bool {
    let codes: Vec<u16> = match &e.status {
        Some(Status::One(c)) => vec![*c],
        Some(Status::Any(cs)) => cs.clone(),
        None => return false,
    };
    !codes.is_empty()
        && codes.iter().all(|c| *c >= 400)
        && e.headers.is_empty()
        && e.json.is_none()
        && e.pointers.is_empty()
        && e.text.is_none()
        && e.redirect.is_none()
        && e.audio.is_none()
        && e.dash.is_none()
        && e.range.is_none()
}

/// Every string of an `expect` block that may hold references.
fn expect_strings<'a>(e: &'a Expect, out: &mut Vec<&'a str>) {
    e.headers.values().for_each(|m| matcher_strings(m, out));
    if let Some(j) = &e.json {
        json_strings(j, out);
    }
    for (p, m) in &e.pointers {
        out.push(p);
        matcher_strings(m, out);
    }
    if let Some(t) = &e.text {
        out.extend(t.equals.iter().map(String::as_str));
        out.extend(t.contains.0.iter().map(String::as_str));
        out.extend(t.not_contains.0.iter().map(String::as_str));
        out.extend(t.regex.iter().map(String::as_str));
    }
    if let Some(r) = &e.redirect {
        if let Some(m) = &r.location {
            matcher_strings(m, out);
        }
        out.extend(r.base.iter().map(String::as_str));
        r.query.values().chain(r.fragment.values()).for_each(|m| matcher_strings(m, out));
    }
    if let Some(a) = &e.audio {
        audio_strings(a, out);
    }
    if let Some(d) = &e.dash {
        if let Some(dur) = &d.duration {
            duration_strings(dur, out);
        }
        for r in d.representations.iter().chain(&d.representations_include).flatten() {
            r.fields().into_iter().for_each(|(_, m)| matcher_strings(m, out));
        }
        for f in &d.fetch.0 {
            match &f.representation {
                RepresentationSelector::Id(id) => out.push(id),
                RepresentationSelector::Index(_) => {}
                RepresentationSelector::Match(r) => r.fields().into_iter().for_each(|(_, m)| matcher_strings(m, out)),
            }
            if let Some(a) = &f.audio {
                audio_strings(a, out);
            }
        }
    }
    if let Some(cases) = &e.range {
        out.extend(cases.0.iter().filter_map(|c| c.header.as_deref()));
    }
}

fn number_strings<'a>(n: &'a Number, out: &mut Vec<&'a str>) {
    if let Number::Template(t) = n {
        out.push(t);
    }
}

fn duration_strings<'a>(d: &'a DurationExpect, out: &mut Vec<&'a str>) {
    number_strings(&d.seconds, out);
    d.tolerance.iter().for_each(|t| number_strings(t, out));
}

fn audio_strings<'a>(a: &'a AudioExpect, out: &mut Vec<&'a str>) {
    out.extend(a.codec.as_deref());
    for n in [&a.sample_rate, &a.channels, &a.bits_per_sample].into_iter().flatten() {
        number_strings(n, out);
    }
    if let Some(d) = &a.duration {
        duration_strings(d, out);
    }
    if let Some(f) = &a.frequency {
        number_strings(&f.hz, out);
        f.tolerance.iter().for_each(|t| number_strings(t, out));
    }
}

fn control_strings<'a>(c: &'a Control, out: &mut Vec<&'a str>) {
    match c {
        Control::ApproveCode(a) => {
            out.push(&a.user_code);
            out.extend(a.user_id.iter().map(String::as_str));
        }
        Control::DenyCode(u) | Control::ExpireCode(u) => out.push(&u.user_code),
        Control::ExpireToken(t) => out.push(&t.token),
        Control::RevokeGrant(r) => {
            out.push(&r.user_id);
            out.push(&r.client_id);
        }
        Control::Settings(m) | Control::Fault(m) => m.values().for_each(|v| json_strings(v, out)),
        Control::Admin(a) => {
            out.push(&a.path);
            if let Some(j) = &a.json {
                json_strings(j, out);
            }
        }
        Control::Reset
        | Control::FreezeClock
        | Control::UnfreezeClock
        | Control::AdvanceClock(_)
        | Control::SetClock(_)
        | Control::ClearFaults => {}
    }
}

#[cfg(test)]
mod tests;
