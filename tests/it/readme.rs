//! The README is executed: every ```sh block of README.md runs, in order, in one bash process (so the shell
//! variables one example sets carry over to the next, as for a reader in one terminal) against a fresh
//! `serve` started as the README says, with `http://127.0.0.1:8080` replaced by the address it printed.
//! Under each command, the `#` lines are its printed answer; the command's actual output must have the
//! printed answer's shape (see [`matches`]); a command with no printed answer must print nothing. A failure
//! names the README line and shows the printed answer and the actual output.
//!
//! Blocks whose info string is `sh no-run` are not run; [`NOT_RUN`] lists each with the reason, and the test
//! fails when the README has a `no-run` block that list does not explain (or the list one the README lacks).
//!
//! The examples need curl and python3 (and bash). When one is missing the test prints one line,
//! `skipped: <tool> is not installed (<how to install>)`, and passes, unless `AMM_REQUIRE_TOOLS=1` (CI),
//! where it panics with that line instead (`testkit::skip_without`, as the other tests that need a tool).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::TempDir;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_amazon-music-mock");
/// The address the README's examples are written for (the `serve` default).
const README_URL: &str = "http://127.0.0.1:8080";
/// The whole README must run within this.
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// The `sh no-run` blocks, each by the start of its first line (the longest start that fits wins), and why the
/// test leaves it out. Keep this short.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo run --release -- serve ",
        "the set-up commands: a server that runs until stopped, and `cargo test`, which is what runs this test",
    ),
    (
        "ffprobe ",
        "needs ffmpeg, which nothing else in the README needs; the stream tests already probe these URLs with ffprobe",
    ),
    (
        "cargo run --release -- run scenarios/",
        "builds the release binary and runs the whole scenario suite, which CI runs as a step of its own",
    ),
    (
        "cargo run --release -- serve --plan",
        "starts a server that runs until stopped (in the background) and builds the example clients",
    ),
    ("docker build", "needs Docker and builds an image"),
    (
        "cargo run --release -- serve --state",
        "starts a server that runs until stopped; tests/it/state.rs runs this journey (restart, export, import)",
    ),
    (
        "docker compose ",
        "needs Docker: builds the image and starts Valkey, two replicas and nginx; tests/it/replicas.rs runs two \
         replicas on one redis-server",
    ),
    (
        "redis-server ",
        "starts Redis and two servers that run until stopped; tests/it/replicas.rs runs two replicas on one \
         redis-server",
    ),
];

/// Tools the examples may call, and how to get each (Debian).
const TOOLS: &[(&str, &str)] = &[
    ("bash", "apt-get install -y bash"),
    ("curl", "apt-get install -y curl"),
    ("python3", "apt-get install -y python3"),
    ("ffprobe", "apt-get install -y ffmpeg"),
];

// ---------------------------------------------------------------------------------------------------------
// The README's blocks and examples.

/// A fenced block: the line of its opening fence, its info string, and its lines with their line numbers.
#[derive(Debug)]
struct Block {
    line: usize,
    info: String,
    lines: Vec<(usize, String)>,
}

impl Block {
    fn is_sh(&self) -> bool {
        self.info.split_whitespace().next() == Some("sh")
    }

    fn is_no_run(&self) -> bool {
        self.info.split_whitespace().any(|w| w == "no-run")
    }
}

/// One command of a block with the answer printed under it.
#[derive(Debug, Clone)]
struct Example {
    /// README line of the command's first line.
    line: usize,
    /// The command as written (continuation lines included).
    command: String,
    /// README line of the printed answer's first line, and the answer (`#` and one space stripped per line).
    answer: Option<(usize, String)>,
}

/// The fenced blocks of a Markdown text.
fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(rest) = line.strip_prefix("```") {
            match open.take() {
                Some(b) => out.push(b),
                None => open = Some(Block { line: n, info: rest.trim().to_string(), lines: Vec::new() }),
            }
        } else if let Some(b) = open.as_mut() {
            b.lines.push((n, line.to_string()));
        }
    }
    assert!(open.is_none(), "README.md: a code block opened and never closed");
    out
}

/// The commands of a block, each with the `#` lines under it as its printed answer.
fn examples(block: &Block) -> Result<Vec<Example>, String> {
    let mut out: Vec<Example> = Vec::new();
    let mut lines = block.lines.iter();
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            let Some(last) = out.last_mut() else {
                return Err(format!(
                    "README.md:{n}: a `#` line before any command of the block; put remarks in the prose"
                ));
            };
            let text = comment.strip_prefix(' ').unwrap_or(comment);
            match &mut last.answer {
                Some((_, answer)) => {
                    answer.push('\n');
                    answer.push_str(text);
                }
                None => last.answer = Some((*n, text.to_string())),
            }
            continue;
        }
        let mut command = line.clone();
        while command.ends_with('\\') {
            let Some((_, next)) = lines.next() else {
                return Err(format!("README.md:{n}: the block ends inside a continued command"));
            };
            command.push('\n');
            command.push_str(next);
        }
        out.push(Example { line: *n, command, answer: None });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------------------
// The matcher: a printed answer against an actual output.

/// A printed JSON value: like JSON, plus `…`.
#[derive(Debug, Clone, PartialEq)]
enum Pat {
    /// A bare `…` or the string `"…"`: any value.
    Any,
    /// A string with `…` in it: a string whose text fits, `…` standing for any text.
    Glob(String),
    /// `null`, a boolean, a number or a string without `…`: exactly that value.
    Exact(Value),
    Array(Vec<Elem>),
    Object(Vec<Member>),
}

#[derive(Debug, Clone, PartialEq)]
enum Elem {
    One(Pat),
    /// A bare `…` among the elements: any number of elements (none included).
    Rest,
}

#[derive(Debug, Clone, PartialEq)]
enum Member {
    Key(String, Pat),
    /// A bare `…` among the members: any number of members (none included).
    Rest,
}

/// Parses a printed JSON value. A line break inside a string (a long string wrapped over `#` lines) stands
/// for one space; the indentation after it is dropped.
fn parse_pat(text: &str) -> Result<Pat, String> {
    let mut p = PatParser { s: text.as_bytes(), text, i: 0 };
    let pat = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected text after the value: {:?}", &text[p.i..]));
    }
    Ok(pat)
}

struct PatParser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

const ELLIPSIS: &str = "…";

impl PatParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn ellipsis(&mut self) -> bool {
        self.ws();
        if self.text[self.i..].starts_with(ELLIPSIS) {
            self.i += ELLIPSIS.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected `{}` at {:?}", c as char, self.rest()))
        }
    }

    fn rest(&self) -> &str {
        let end = (self.i + 30).min(self.text.len());
        let end = (end..=self.text.len()).find(|&e| self.text.is_char_boundary(e)).unwrap_or(self.text.len());
        &self.text[self.i..end]
    }

    fn value(&mut self) -> Result<Pat, String> {
        if self.ellipsis() {
            return Ok(Pat::Any);
        }
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => {
                let s = self.string()?;
                Ok(if s == ELLIPSIS {
                    Pat::Any
                } else if s.contains(ELLIPSIS) {
                    Pat::Glob(s)
                } else {
                    Pat::Exact(Value::String(s))
                })
            }
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(self.s[self.i], b'-' | b'+' | b'.' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
                {
                    self.i += 1;
                }
                let word = &self.text[start..self.i];
                serde_json::from_str::<Value>(word)
                    .ok()
                    .filter(|v| !v.is_object() && !v.is_array() && !v.is_string())
                    .map(Pat::Exact)
                    .ok_or_else(|| format!("not a JSON value at {:?}", &self.text[start..]))
            }
            None => Err("the printed answer ends where a value was expected".to_string()),
        }
    }

    /// A string literal, decoded; a line break and the indentation after it become one space.
    fn string(&mut self) -> Result<String, String> {
        let start = self.i;
        self.i += 1; // the opening quote
        let mut raw = String::from("\"");
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err(format!("a string that never ends: {:?}", &self.text[start..]));
            };
            match c {
                b'"' => {
                    self.i += 1;
                    raw.push('"');
                    break;
                }
                b'\\' => {
                    let end = (self.i + 2).min(self.s.len());
                    raw.push_str(&self.text[self.i..end]);
                    self.i = end;
                }
                b'\n' => {
                    self.i += 1;
                    self.ws();
                    raw.push(' ');
                }
                _ => {
                    let ch = self.text[self.i..].chars().next().expect("a char");
                    raw.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
        serde_json::from_str::<String>(&raw).map_err(|e| format!("bad string {raw}: {e}"))
    }

    fn array(&mut self) -> Result<Pat, String> {
        self.expect(b'[')?;
        let mut elems = Vec::new();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Pat::Array(elems));
        }
        loop {
            let before = self.i;
            let elem = match self.value()? {
                // A bare `…` (not the string "…") stands for any number of elements.
                Pat::Any if self.text[before..self.i].trim_start().starts_with(ELLIPSIS) => Elem::Rest,
                p => Elem::One(p),
            };
            elems.push(elem);
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Pat::Array(elems));
                }
                _ => return Err(format!("expected `,` or `]` at {:?}", self.rest())),
            }
        }
    }

    fn object(&mut self) -> Result<Pat, String> {
        self.expect(b'{')?;
        let mut members = Vec::new();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Pat::Object(members));
        }
        loop {
            if self.ellipsis() {
                members.push(Member::Rest);
            } else {
                if self.peek() != Some(b'"') {
                    return Err(format!("expected a key or `…` at {:?}", self.rest()));
                }
                let key = self.string()?;
                self.expect(b':')?;
                members.push(Member::Key(key, self.value()?));
            }
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Pat::Object(members));
                }
                _ => return Err(format!("expected `,` or `}}` at {:?}", self.rest())),
            }
        }
    }
}

/// Whether `text` fits `pattern`, where each `…` in the pattern stands for any text (none included).
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split(ELLIPSIS).collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A mismatch: where (a JSON path like `$.data.user`) and what.
fn at(path: &str, what: String) -> String {
    format!("at {path}: {what}")
}

fn match_value(pat: &Pat, v: &Value, path: &str) -> Result<(), String> {
    match (pat, v) {
        (Pat::Any, _) => Ok(()),
        (Pat::Glob(g), Value::String(s)) if glob(g, s) => Ok(()),
        (Pat::Glob(g), Value::String(s)) => Err(at(path, format!("printed \"{g}\", got {s:?}"))),
        (Pat::Exact(e), _) if e == v => Ok(()),
        (Pat::Exact(e), _) if type_name(e) != type_name(v) => {
            Err(at(path, format!("printed {} ({e}), got {} ({v})", type_name(e), type_name(v))))
        }
        (Pat::Exact(e), _) => Err(at(path, format!("printed {e}, got {v}"))),
        (Pat::Array(elems), Value::Array(vals)) => match_elems(elems, vals, path, 0),
        (Pat::Object(members), Value::Object(map)) => {
            let actual: Vec<(&String, &Value)> = map.iter().collect();
            match_members(members, &actual, path)
        }
        (p, _) => {
            let printed = match p {
                Pat::Array(_) => "an array",
                Pat::Object(_) => "an object",
                _ => "a string",
            };
            Err(at(path, format!("printed {printed}, got {} ({})", type_name(v), short(&v.to_string()))))
        }
    }
}

/// Elements in order; a `…` element takes any number of actual elements (tried shortest first). Of several
/// failed tries, the mismatch reported is the deepest one.
fn match_elems(elems: &[Elem], vals: &[Value], path: &str, index: usize) -> Result<(), String> {
    match elems.split_first() {
        None if vals.is_empty() => Ok(()),
        None => Err(at(path, format!("{} more element(s) than printed, from [{index}]", vals.len()))),
        Some((Elem::One(p), rest)) => {
            let Some((v, vals)) = vals.split_first() else {
                return Err(at(path, format!("an element printed at [{index}] is missing")));
            };
            match_value(p, v, &format!("{path}[{index}]"))?;
            match_elems(rest, vals, path, index + 1)
        }
        Some((Elem::Rest, rest)) => {
            let mut deepest: Option<String> = None;
            for skip in 0..=vals.len() {
                match match_elems(rest, &vals[skip..], path, index + skip) {
                    Ok(()) => return Ok(()),
                    Err(e) => {
                        if deepest.as_ref().is_none_or(|d| e.len() > d.len()) {
                            deepest = Some(e);
                        }
                    }
                }
            }
            Err(deepest.expect("at least one try"))
        }
    }
}

/// Members in order. Keys are unique, so each printed key is looked for where it must be: right at the
/// current position, or anywhere further on after a `…`.
fn match_members(members: &[Member], actual: &[(&String, &Value)], path: &str) -> Result<(), String> {
    let mut i = 0;
    let mut gap = false;
    for m in members {
        match m {
            Member::Rest => gap = true,
            Member::Key(key, pat) => {
                let found = if gap {
                    actual[i..].iter().position(|(k, _)| *k == key).map(|p| i + p)
                } else {
                    actual.get(i).filter(|(k, _)| *k == key).map(|_| i)
                };
                let Some(j) = found else {
                    let what = if actual[..i].iter().any(|(k, _)| *k == key) {
                        format!("key \"{key}\" comes earlier than printed")
                    } else if !gap && let Some((k, _)) = actual.get(i) {
                        if actual.iter().any(|(k2, _)| *k2 == key) {
                            format!("key \"{k}\" where \"{key}\" was printed (the order differs)")
                        } else {
                            format!("key \"{k}\" where \"{key}\" was printed")
                        }
                    } else {
                        format!("key \"{key}\" is missing")
                    };
                    return Err(at(path, what));
                };
                match_value(pat, actual[j].1, &format!("{path}.{key}"))?;
                i = j + 1;
                gap = false;
            }
        }
    }
    if !gap && i < actual.len() {
        let extra: Vec<&str> = actual[i..].iter().map(|(k, _)| k.as_str()).collect();
        return Err(at(path, format!("key(s) not printed: {}", extra.join(", "))));
    }
    Ok(())
}

/// One item of an answer: a JSON value (possibly over several lines) or one line of text.
#[derive(Debug)]
enum Printed {
    Json(Pat),
    Line(String),
}

#[derive(Debug)]
enum Actual {
    Json(Value),
    Line(String),
}

/// Splits a printed answer into items: a line that starts with `{` or `[` starts a JSON value, which takes
/// as many lines as it needs; any other line is a line of text.
fn printed_items(text: &str) -> Result<Vec<Printed>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            let mut last_err = String::new();
            let mut parsed = None;
            for j in i..lines.len() {
                match parse_pat(&lines[i..=j].join("\n")) {
                    Ok(p) => {
                        parsed = Some((p, j));
                        break;
                    }
                    Err(e) => last_err = e,
                }
            }
            let (p, j) = parsed.ok_or_else(|| format!("the printed JSON does not parse: {last_err}"))?;
            out.push(Printed::Json(p));
            i = j + 1;
        } else {
            out.push(Printed::Line(lines[i].to_string()));
            i += 1;
        }
    }
    Ok(out)
}

/// Splits an actual output the same way; text that looks like JSON but is not stays text.
fn actual_items(text: &str) -> Vec<Actual> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            let parsed = (i..lines.len())
                .find_map(|j| serde_json::from_str::<Value>(&lines[i..=j].join("\n")).ok().map(|v| (v, j)));
            if let Some((v, j)) = parsed {
                out.push(Actual::Json(v));
                i = j + 1;
                continue;
            }
        }
        out.push(Actual::Line(lines[i].to_string()));
        i += 1;
    }
    out
}

/// Whether an actual output has the printed answer's shape.
///
/// - The answer is a sequence of items: JSON values (a line starting with `{` or `[` starts one, which may
///   go on over several lines) and lines of text. The output must have the same items in the same order.
/// - JSON: objects have the same keys in the same order, arrays the same number of elements, recursively,
///   and every value the printed type; a value printed in full (`"bearer"`, `3600`, `true`) must also be
///   that value. A bare `…` or the string `"…"` matches any value; a bare `…` among an object's members or
///   an array's elements matches any number of them (none included), so `{…}` is any object and `[…]` any
///   array; `…` inside a string stands for any text there (`"Atza|…"`). A string wrapped over two `#` lines
///   reads as one with a space at the break.
/// - Text: the line as printed, `…` standing for any text.
fn matches(printed: &str, actual: &str) -> Result<(), String> {
    let printed = printed_items(printed)?;
    let actual = actual_items(actual);
    for (n, pair) in printed.iter().zip(actual.iter()).enumerate() {
        let item = n + 1;
        match pair {
            (Printed::Json(p), Actual::Json(v)) => {
                match_value(p, v, "$").map_err(|e| format!("item {item} (JSON): {e}"))?;
            }
            (Printed::Line(p), Actual::Line(l)) => {
                if !glob(p, l) {
                    return Err(format!("item {item} (line): printed {p:?}, got {l:?}"));
                }
            }
            (Printed::Json(_), Actual::Line(l)) => {
                return Err(format!("item {item}: printed JSON, got the line {:?}", short(l)));
            }
            (Printed::Line(p), Actual::Json(v)) => {
                return Err(format!("item {item}: printed the line {p:?}, got JSON {}", short(&v.to_string())));
            }
        }
    }
    if printed.len() != actual.len() {
        return Err(format!("printed {} item(s) (JSON values or lines), got {}", printed.len(), actual.len()));
    }
    Ok(())
}

fn short(s: &str) -> String {
    const MAX: usize = 120;
    match s.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// The failure message for one example's output, if it does not fit the printed answer.
fn judge(example: &Example, actual: &str) -> Option<String> {
    let actual = actual.trim_end_matches('\n');
    let first = example.command.lines().next().unwrap_or_default();
    match &example.answer {
        None if actual.is_empty() => None,
        None => Some(format!(
            "README.md:{}: `{first}` prints output but the README prints no answer under it\n  actual:\n{}",
            example.line,
            indent(actual)
        )),
        Some((line, printed)) => matches(printed, actual).err().map(|why| {
            format!(
                "README.md:{}: `{first}`: the output does not fit the answer printed at README.md:{line}: {why}\n  printed:\n{}\n  actual:\n{}",
                example.line,
                indent(printed),
                indent(actual)
            )
        }),
    }
}

/// Indents text for a failure message, cutting lines over 1000 characters.
fn indent(s: &str) -> String {
    const MAX: usize = 1000;
    let cut = |l: &str| match l.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}… ({} more bytes)", &l[..at], l.len() - at),
        None => l.to_string(),
    };
    s.lines().map(|l| format!("    {}", cut(l))).collect::<Vec<_>>().join("\n")
}

// ---------------------------------------------------------------------------------------------------------
// Running it.

/// Kills (by id) and reaps the process when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `serve --bind 127.0.0.1:0` with no `AMM_*` variable inherited; returns the process and its URL.
fn serve() -> (Running, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--bind", "127.0.0.1:0"]);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AMM_") {
            cmd.env_remove(k);
        }
    }
    let mut child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("serve starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).expect("a `listening on` line within 30 s");
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("serve's first line is not `listening on URL`: {line:?}"))
        .to_string();
    (running, url)
}

/// The tools the commands use, each as a word (bash always: it runs them), in [`TOOLS`]' order.
fn needed_tools(commands: &[&str]) -> Vec<(&'static str, &'static str)> {
    let used = |tool: &str| {
        commands.iter().any(|c| c.split(|ch: char| !ch.is_ascii_alphanumeric() && ch != '_').any(|w| w == tool))
    };
    TOOLS.iter().copied().filter(|(tool, _)| *tool == "bash" || used(tool)).collect()
}

/// What the script's `printf '\036i\036'` writes before command `i`'s output (the record separator never
/// appears in the output).
fn marker(i: &str) -> String {
    format!("\u{1e}{i}\u{1e}")
}

/// The script: the examples in order, each preceded by a marker, so stdout splits into their outputs.
fn script(examples: &[Example], url: &str) -> String {
    let mut s = String::from("set -euo pipefail\n");
    for (i, e) in examples.iter().enumerate() {
        let _ = writeln!(s, "printf '\\036{i}\\036'");
        s.push_str(&e.command.replace(README_URL, url));
        s.push('\n');
    }
    s.push_str("printf '\\036end\\036'\n");
    s
}

/// Each example's output, by index, and whether the script got to its end.
fn split_outputs(stdout: &str, n: usize) -> (Vec<Option<String>>, bool) {
    let mut outputs = vec![None; n];
    let mut finished = false;
    let mut parts = stdout.split('\u{1e}').skip(1);
    while let Some(id) = parts.next() {
        let text = parts.next().unwrap_or_default();
        match id.parse::<usize>() {
            Ok(i) if i < n => outputs[i] = Some(text.to_string()),
            _ if id == "end" => finished = true,
            _ => panic!("unexpected marker {id:?} in the output"),
        }
    }
    (outputs, finished)
}

fn readme_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")
}

#[test]
fn readme_opens_with_its_title_and_the_two_set_up_commands() {
    let text = std::fs::read_to_string(readme_path()).expect("README.md");
    assert_eq!(text.lines().next(), Some("# amazon-music-mock"), "README.md must open with its title line");
    let first = &blocks(&text)[0];
    assert!(first.line <= 3, "the set-up block comes right after the title, not at line {}", first.line);
    let commands: Vec<&str> = first.lines.iter().map(|(_, l)| l.split('#').next().unwrap_or_default().trim()).collect();
    assert_eq!(commands, ["cargo run --release -- serve", "cargo test"], "README.md:{}", first.line);
}

#[test]
fn readme_examples_run_as_printed() {
    let text = std::fs::read_to_string(readme_path()).expect("README.md");
    let sh: Vec<Block> = blocks(&text).into_iter().filter(Block::is_sh).collect();

    // Every block left out is one NOT_RUN explains, and every explanation is still needed.
    let mut explained = vec![false; NOT_RUN.len()];
    for b in sh.iter().filter(|b| b.is_no_run()) {
        let first = b.lines.iter().map(|(_, l)| l.as_str()).find(|l| !l.trim().is_empty()).unwrap_or_default();
        let Some(k) = NOT_RUN
            .iter()
            .enumerate()
            .filter(|(_, (start, _))| first.starts_with(start))
            .max_by_key(|(_, (start, _))| start.len())
            .map(|(k, _)| k)
        else {
            panic!(
                "README.md:{}: a `no-run` block that NOT_RUN in tests/it/readme.rs does not explain: {first:?}",
                b.line
            );
        };
        explained[k] = true;
    }
    for ((start, _), used) in NOT_RUN.iter().zip(&explained) {
        assert!(used, "NOT_RUN lists {start:?}, but README.md has no `no-run` block starting so: drop it");
    }

    let mut all: Vec<Example> = Vec::new();
    for b in sh.iter().filter(|b| !b.is_no_run()) {
        all.extend(examples(b).unwrap_or_else(|e| panic!("{e}")));
    }
    assert!(all.len() >= 20, "only {} commands found in README.md's sh blocks", all.len());

    let commands: Vec<&str> = all.iter().map(|e| e.command.as_str()).collect();
    // A missing tool: the one line `skipped: TOOL is not installed (INSTALL)`, or a panic with it under
    // AMM_REQUIRE_TOOLS=1.
    for (tool, install) in needed_tools(&commands) {
        if crate::testkit::skip_without(tool, install) {
            return;
        }
    }

    let (_server, url) = serve();
    // The printed answers name the README's address too (stream URLs, references).
    for e in &mut all {
        if let Some((_, answer)) = &mut e.answer {
            *answer = answer.replace(README_URL, &url);
        }
    }

    let dir = TempDir::new("readme");
    let script_path = dir.0.join("readme.sh");
    std::fs::write(&script_path, script(&all, &url)).expect("script written");
    let stdout_path = dir.0.join("stdout");
    let stderr_path = dir.0.join("stderr");
    let mut cmd = Command::new("bash");
    cmd.arg(&script_path)
        .current_dir(&dir.0)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"));
    for proxy in ["http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        cmd.env_remove(proxy);
    }
    let mut bash = Running(cmd.spawn().expect("bash starts"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = bash.0.try_wait().expect("wait for bash") {
            break Some(status);
        }
        if started.elapsed() > RUN_LIMIT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(bash);
    let stdout = String::from_utf8_lossy(&std::fs::read(&stdout_path).expect("stdout")).into_owned();
    let stderr = String::from_utf8_lossy(&std::fs::read(&stderr_path).expect("stderr")).into_owned();

    let (outputs, finished) = split_outputs(&stdout, all.len());
    let mut failures: Vec<String> =
        all.iter().zip(&outputs).filter_map(|(e, out)| out.as_ref().and_then(|o| judge(e, o))).collect();
    if !finished || status.is_none_or(|s| !s.success()) {
        let last = outputs.iter().rposition(Option::is_some);
        let what = match status {
            None => format!("did not finish within {RUN_LIMIT:?}"),
            Some(s) => format!("stopped ({s})"),
        };
        let at = match last {
            Some(i) => format!("at README.md:{}: `{}`", all[i].line, all[i].command.lines().next().unwrap_or_default()),
            None => "before the first command".to_string(),
        };
        failures.push(format!("the README's commands {what} {at}\n  stderr:\n{}", indent(&stderr)));
    }
    assert!(failures.is_empty(), "{} README example(s) fail:\n\n{}", failures.len(), failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------------------
// The matcher's own tests.

const TOKENS: &str =
    r#"{"access_token":"Atza|abc","refresh_token":"Atzr|def","token_type":"bearer","expires_in":3600}"#;

#[test]
fn the_same_shape_matches_with_ellipses_for_what_varies() {
    assert_eq!(
        matches(
            r#"{"access_token":"Atza|…","refresh_token":"Atzr|…","token_type":"bearer","expires_in":3600}"#,
            TOKENS
        ),
        Ok(())
    );
    assert_eq!(
        matches(r#"{"access_token":"…","refresh_token":…,"token_type":"bearer","expires_in":…}"#, TOKENS),
        Ok(())
    );
    assert_eq!(matches(r#"{"access_token":"Atza|…",…}"#, TOKENS), Ok(()));
    assert_eq!(matches(r#"{…,"token_type":"bearer",…}"#, TOKENS), Ok(()));
    assert_eq!(matches("{…}", TOKENS), Ok(()));
    assert_eq!(matches("…", "anything at all"), Ok(()));
    assert_eq!(matches(r#"{"a":[…],"b":{…},"c":"…"}"#, r#"{"a":[1,2],"b":{"x":null},"c":[true]}"#), Ok(()));
    assert_eq!(matches(r#"{"a":[]}"#, r#"{"a":[]}"#), Ok(()));
    assert_eq!(matches(r#"[{"id":"B0…",…},…]"#, r#"[{"id":"B0X","n":1},{"id":"C"}]"#), Ok(()));
    assert_eq!(matches(r#"[…,{"id":"C"}]"#, r#"[{"id":"B0X","n":1},{"id":"C"}]"#), Ok(()));
}

#[test]
fn a_changed_key_fails() {
    let err = matches(r#"{"access_token":"…","refresh_token":"…","token_kind":"bearer","expires_in":3600}"#, TOKENS)
        .unwrap_err();
    assert!(err.contains(r#"key "token_type" where "token_kind" was printed"#), "{err}");
}

#[test]
fn a_changed_type_fails() {
    let err = matches(r#"{"access_token":"…","refresh_token":"…","token_type":"bearer","expires_in":"3600"}"#, TOKENS)
        .unwrap_err();
    assert!(err.contains("at $.expires_in: printed a string (\"3600\"), got a number (3600)"), "{err}");
    let err = matches(r#"{"a":{…}}"#, r#"{"a":[1]}"#).unwrap_err();
    assert!(err.contains("at $.a: printed an object, got an array"), "{err}");
    let err = matches(r#"{"a":"x…"}"#, r#"{"a":1}"#).unwrap_err();
    assert!(err.contains("at $.a"), "{err}");
}

#[test]
fn a_missing_key_fails() {
    let err = matches(r#"{"a":1,"b":2,"c":3}"#, r#"{"a":1,"b":2}"#).unwrap_err();
    assert!(err.contains(r#"key "c" is missing"#), "{err}");
    let err = matches(r#"{"a":1,…,"z":3}"#, r#"{"a":1,"b":2}"#).unwrap_err();
    assert!(err.contains(r#"key "z" is missing"#), "{err}");
}

#[test]
fn an_extra_key_fails() {
    let err = matches(r#"{"a":1,"b":2}"#, r#"{"a":1,"b":2,"c":3}"#).unwrap_err();
    assert!(err.contains("key(s) not printed: c"), "{err}");
    let err = matches(r#"{"a":1,"c":3}"#, r#"{"a":1,"b":2,"c":3}"#).unwrap_err();
    assert!(err.contains(r#"key "b" where "c" was printed"#), "{err}");
}

#[test]
fn a_different_order_fails() {
    let err = matches(r#"{"b":2,"a":1}"#, r#"{"a":1,"b":2}"#).unwrap_err();
    assert!(err.contains("the order differs"), "{err}");
    let err = matches(r#"{…,"b":2,"a":1}"#, r#"{"a":1,"b":2}"#).unwrap_err();
    assert!(err.contains(r#"key "a" comes earlier than printed"#), "{err}");
}

#[test]
fn a_changed_value_or_array_length_fails() {
    let err = matches(r#"{"error":"authorization_pending"}"#, r#"{"error":"slow_down"}"#).unwrap_err();
    assert!(err.contains(r#"printed "authorization_pending", got "slow_down""#), "{err}");
    assert!(matches(r#"{"a":"Atza|…"}"#, r#"{"a":"Atzr|x"}"#).is_err());
    assert!(matches("[1,2]", "[1,2,3]").unwrap_err().contains("more element"));
    assert!(matches("[1,2,3]", "[1,2]").unwrap_err().contains("missing"));
    assert!(matches(r#"[{"id":"B0…",…},…]"#, "[]").is_err());
}

#[test]
fn text_lines_match_with_ellipsis_as_a_wildcard() {
    let url = "http://127.0.0.1:9090/cb?code=ANabcdef&scope=music%3A%3Alibrary+profile&state=xyz";
    assert_eq!(matches("http://127.0.0.1:9090/cb?code=AN…&scope=music%3A%3Alibrary+profile&state=xyz", url), Ok(()));
    assert!(matches("http://127.0.0.1:9090/cb?code=AN…&state=abc", url).is_err());
    assert_eq!(matches("206", "206"), Ok(()));
    assert!(matches("206", "200").unwrap_err().contains(r#"printed "206", got "200""#));
    assert!(matches("a\nb", "a").unwrap_err().contains("printed 2 item(s)"));
    assert!(matches("a", "a\nb").unwrap_err().contains("got 2"));
}

#[test]
fn answers_mix_json_and_lines_and_wrap_long_strings() {
    let printed = "{\"message\":\"Access denied: this operation\n requires the scope\",\n \"n\":1}\nHTTP 403";
    assert_eq!(
        matches(printed, "{\"message\":\"Access denied: this operation requires the scope\",\"n\":1}\nHTTP 403"),
        Ok(())
    );
    assert!(
        matches(printed, "{\"message\":\"Access denied: this operation requires the scope\",\"n\":1}\nHTTP 200")
            .is_err()
    );
    assert!(matches(printed, "HTTP 403").unwrap_err().contains("printed JSON, got the line"));
    assert!(matches("{\"a\":", "{}").unwrap_err().contains("does not parse"));
}

#[test]
fn examples_are_split_into_commands_and_printed_answers() {
    let block =
        &blocks("```sh\nA=$(curl -s x \\\n  -d y)\necho \"$A\"\n# {\"a\":1,\n#  \"b\":\"…\"}\n\ncurl z\n```\n")[0];
    let ex = examples(block).unwrap();
    assert_eq!(ex.len(), 3);
    assert_eq!((ex[0].line, ex[0].command.as_str(), &ex[0].answer), (2, "A=$(curl -s x \\\n  -d y)", &None));
    assert_eq!(ex[1].answer, Some((5, "{\"a\":1,\n \"b\":\"…\"}".to_string())));
    assert_eq!((ex[2].line, ex[2].answer.is_none()), (8, true));
    assert!(examples(&blocks("```sh\n# a remark\ncurl z\n```\n")[0]).unwrap_err().contains("README.md:2"));
}

/// The test fails when an example's output changes: the README's own printed answer for the approval,
/// modified, against the output the mock gives, names the README line and shows both.
#[test]
fn a_modified_printed_answer_fails_naming_the_readme_line() {
    let text = std::fs::read_to_string(readme_path()).expect("README.md");
    let approve = blocks(&text)
        .iter()
        .filter(|b| b.is_sh() && !b.is_no_run())
        .flat_map(|b| examples(b).unwrap())
        .find(|e| e.command.contains("/__admin/device/approve") && e.command.contains("content-type"))
        .expect("the README approves a code pair through the admin API");
    let output = r#"{"user_code":"EM28JN","status":"approved","user_id":"amzn1.account.I7GAS664VLDQ6HEZ7EDJJTFPH2OY","client_id":"amzn1.application-oa2-client.d58e72e310275dff6c15c0c8e9df4696"}"#;
    assert_eq!(judge(&approve, output), None, "the printed answer fits the mock's output");

    let (line, printed) = approve.answer.clone().expect("a printed answer");
    for (from, to) in [("\"status\"", "\"state\""), ("\"approved\"", "\"denied\""), (",\"status\":\"approved\"", "")] {
        assert!(printed.contains(from), "{printed}");
        let modified = Example { answer: Some((line, printed.replacen(from, to, 1))), ..approve.clone() };
        let msg = judge(&modified, output).expect("a modified printed answer fails");
        assert!(msg.starts_with(&format!("README.md:{}: `curl -s", approve.line)), "{msg}");
        assert!(msg.contains(&format!("printed at README.md:{line}")), "{msg}");
        assert!(msg.contains("printed:\n") && msg.contains("actual:\n    {\"user_code\":\"EM28JN\""), "{msg}");
    }

    let silent = Example { answer: None, ..approve };
    assert!(judge(&silent, output).expect("output where none is printed fails").contains("prints no answer"));
    assert_eq!(judge(&silent, "\n"), None);
}

#[test]
fn outputs_split_at_the_markers() {
    let stdout = format!("{}{{\"a\":1}}{}{}x\n{}", marker("0"), marker("1"), marker("2"), marker("end"));
    let (outs, finished) = split_outputs(&stdout, 3);
    assert_eq!(outs, [Some("{\"a\":1}".to_string()), Some(String::new()), Some("x\n".to_string())]);
    assert!(finished);
    let (outs, finished) = split_outputs(&format!("{}ok", marker("0")), 2);
    assert_eq!((outs, finished), (vec![Some("ok".to_string()), None], false));
}

#[test]
fn the_tools_needed_are_those_the_commands_name() {
    let names = |tools: Vec<(&'static str, &'static str)>| tools.into_iter().map(|(t, _)| t).collect::<Vec<_>>();
    let commands = ["X=$(curl -s u | python3 -c 'print(1)')", "echo ffprobe_like curlish"];
    assert_eq!(names(needed_tools(&commands)), ["bash", "curl", "python3"]);
    assert_eq!(names(needed_tools(&["true"])), ["bash"]);
    assert_eq!(needed_tools(&["ffprobe \"$DASH\""])[1], ("ffprobe", "apt-get install -y ffmpeg"));
}
