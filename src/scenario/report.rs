//! Reports of a run: JSON (the [`RunReport`] as is), JUnit XML (one `testcase` per scenario, for CI
//! systems) and a static HTML page. XML goes through quick-xml and HTML through maud, which escape; nothing
//! here escapes by hand.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use maud::{DOCTYPE, Markup, html};
use quick_xml::Writer;
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::outcome::{FailureKind, Outcome, RunReport, ScenarioResult};

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The run as JSON.
    Json,
    /// JUnit XML.
    Junit,
    /// A static HTML page.
    Html,
}

/// A `--report FORMAT:FILE` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    /// The format.
    pub format: Format,
    /// Where to write it.
    pub path: PathBuf,
}

impl std::str::FromStr for ReportSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (f, path) =
            s.split_once(':').ok_or_else(|| format!("{s:?}: expected FORMAT:FILE, e.g. junit:report.xml"))?;
        let format = match f {
            "json" => Format::Json,
            "junit" => Format::Junit,
            "html" => Format::Html,
            other => return Err(format!("unknown report format {other:?}: expected json, junit or html")),
        };
        if path.is_empty() {
            return Err(format!("{s:?}: the file name is missing after `{f}:`"));
        }
        Ok(ReportSpec { format, path: PathBuf::from(path) })
    }
}

/// What a report is about: its JUnit `testsuites` name and its HTML heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A scenario run (`run`).
    Scenarios,
    /// A client verdict (`verdict`): one test case per rule.
    Verdict,
}

impl Kind {
    fn suites(self) -> &'static str {
        match self {
            Kind::Scenarios => "amazon-music-mock scenarios",
            Kind::Verdict => "amazon-music-mock client verdict",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Kind::Scenarios => "Scenario run",
            Kind::Verdict => "Client verdict",
        }
    }
}

/// Renders a report in a format.
pub fn render(report: &RunReport, format: Format) -> String {
    render_as(report, format, Kind::Scenarios)
}

/// Renders a report of a kind in a format.
pub fn render_as(report: &RunReport, format: Format, kind: Kind) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
        Format::Junit => junit_as(report, kind),
        Format::Html => html_page_as(report, kind).into_string(),
    }
}

/// Writes a report, creating the parent directory.
///
/// # Errors
/// The I/O error, with the file named.
pub fn write(report: &RunReport, spec: &ReportSpec) -> Result<(), String> {
    write_text(&render(report, spec.format), spec)
}

/// Writes rendered text where a report spec says, creating the parent directory.
///
/// # Errors
/// The I/O error, with the file named.
pub fn write_text(text: &str, spec: &ReportSpec) -> Result<(), String> {
    if let Some(dir) = spec.path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&spec.path, text).map_err(|e| format!("{}: {e}", spec.path.display()))
}

/// Characters XML 1.0 cannot carry at all (most C0 controls) become U+FFFD; escaping is quick-xml's.
fn xml_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// Element text: only `<`, `>` and `&` escaped (by quick-xml), so quotes stay readable in the file.
fn xml_text(s: &str) -> BytesText<'static> {
    BytesText::from_escaped(partial_escape(xml_safe(s)).into_owned())
}

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// The directory of a scenario file, as a JUnit suite name (`scenarios/lwa`).
fn suite_of(file: &str) -> String {
    Path::new(file)
        .parent()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| ".".into())
}

/// `scenarios.lwa.device-flow`: the file without extension, dotted, as JUnit's classname.
fn classname_of(file: &str) -> String {
    let p = Path::new(file);
    let stem = p.with_extension("");
    stem.to_string_lossy().replace(['\\', '/'], ".").trim_start_matches('.').to_owned()
}

/// The JUnit XML of a run: `testsuites` > one `testsuite` per directory > one `testcase` per scenario.
/// Failures carry the step, the expectation and the diff; expected failures are `skipped` with the failure
/// in `system-out`; stale baseline entries are failing test cases of their own.
pub fn junit(report: &RunReport) -> String {
    junit_as(report, Kind::Scenarios)
}

/// [`junit`] for a kind of report.
pub fn junit_as(report: &RunReport, kind: Kind) -> String {
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    let result: std::io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut suites: Vec<(String, Vec<&ScenarioResult>)> = Vec::new();
        for r in &report.scenarios {
            let s = suite_of(&r.file);
            match suites.iter_mut().find(|(n, _)| *n == s) {
                Some((_, v)) => v.push(r),
                None => suites.push((s, vec![r])),
            }
        }
        let failures = |rs: &[&ScenarioResult]| {
            rs.iter()
                .filter(|r| {
                    matches!(r.outcome, Outcome::Failed | Outcome::UnexpectedPass)
                        && r.failure.as_ref().is_none_or(|f| f.kind == FailureKind::Assertion)
                })
                .count()
        };
        let errors = |rs: &[&ScenarioResult]| {
            rs.iter()
                .filter(|r| {
                    r.outcome == Outcome::Failed && r.failure.as_ref().is_some_and(|f| f.kind == FailureKind::Error)
                })
                .count()
        };
        let skipped = |rs: &[&ScenarioResult]| {
            rs.iter().filter(|r| matches!(r.outcome, Outcome::Skipped | Outcome::ExpectedFailure)).count()
        };
        let all: Vec<&ScenarioResult> = report.scenarios.iter().collect();
        let stale = report.stale_baseline.len();
        w.create_element("testsuites")
            .with_attribute(("name", kind.suites()))
            .with_attribute(("tests", (all.len() + stale).to_string().as_str()))
            .with_attribute(("failures", (failures(&all) + stale).to_string().as_str()))
            .with_attribute(("errors", errors(&all).to_string().as_str()))
            .with_attribute(("skipped", skipped(&all).to_string().as_str()))
            .with_attribute(("time", secs(report.duration_ms).as_str()))
            .write_inner_content(|w| {
                for (suite, rs) in &suites {
                    let time: u64 = rs.iter().map(|r| r.duration_ms).sum();
                    w.create_element("testsuite")
                        .with_attribute(("name", xml_safe(suite).as_str()))
                        .with_attribute(("tests", rs.len().to_string().as_str()))
                        .with_attribute(("failures", failures(rs).to_string().as_str()))
                        .with_attribute(("errors", errors(rs).to_string().as_str()))
                        .with_attribute(("skipped", skipped(rs).to_string().as_str()))
                        .with_attribute(("time", secs(time).as_str()))
                        .write_inner_content(|w| {
                            for r in rs {
                                testcase(w, r)?;
                            }
                            Ok(())
                        })?;
                }
                if stale > 0 {
                    w.create_element("testsuite")
                        .with_attribute(("name", "baseline"))
                        .with_attribute(("tests", stale.to_string().as_str()))
                        .with_attribute(("failures", stale.to_string().as_str()))
                        .with_attribute(("errors", "0"))
                        .with_attribute(("skipped", "0"))
                        .write_inner_content(|w| {
                            for e in &report.stale_baseline {
                                w.create_element("testcase")
                                    .with_attribute((
                                        "name",
                                        xml_safe(&format!("baseline entry {:?}", e.name)).as_str(),
                                    ))
                                    .with_attribute(("classname", "baseline"))
                                    .write_inner_content(|w| {
                                        w.create_element("failure")
                                            .with_attribute(("message", xml_safe(&e.message).as_str()))
                                            .with_attribute(("type", "stale_baseline_entry"))
                                            .write_text_content(xml_text(&e.message))?;
                                        Ok(())
                                    })?;
                            }
                            Ok(())
                        })?;
                }
                Ok(())
            })?;
        Ok(())
    })();
    if let Err(e) = result {
        // Writing into memory cannot fail; keep the signature simple.
        return format!("<!-- cannot render: {e} -->");
    }
    let mut out = String::from_utf8(w.into_inner().into_inner()).unwrap_or_default();
    out.push('\n');
    out
}

fn testcase(w: &mut Writer<Cursor<Vec<u8>>>, r: &ScenarioResult) -> std::io::Result<()> {
    let el = w
        .create_element("testcase")
        .with_attribute(("name", xml_safe(&r.name).as_str()))
        .with_attribute(("classname", xml_safe(&classname_of(&r.file)).as_str()))
        .with_attribute(("file", xml_safe(&r.file).as_str()))
        .with_attribute(("time", secs(r.duration_ms).as_str()));
    match r.outcome {
        Outcome::Passed => {
            el.write_empty()?;
        }
        Outcome::Skipped => {
            el.write_inner_content(|w| {
                let reason = r.skip_reason.clone().unwrap_or_default();
                w.create_element("skipped").with_attribute(("message", xml_safe(&reason).as_str())).write_empty()?;
                Ok(())
            })?;
        }
        Outcome::ExpectedFailure => {
            el.write_inner_content(|w| {
                let reason = r.baseline_reason.clone().unwrap_or_default();
                let msg = format!("expected failure (baseline): {reason}");
                w.create_element("skipped").with_attribute(("message", xml_safe(&msg).as_str())).write_empty()?;
                if let Some(f) = &r.failure {
                    w.create_element("system-out").write_text_content(xml_text(&f.details(&r.file)))?;
                }
                Ok(())
            })?;
        }
        Outcome::Failed | Outcome::UnexpectedPass => {
            el.write_inner_content(|w| {
                let (tag, kind, headline, details) = match &r.failure {
                    Some(f) => {
                        let tag = if f.kind == FailureKind::Error { "error" } else { "failure" };
                        let kind = if r.outcome == Outcome::UnexpectedPass {
                            "unexpected_pass"
                        } else if f.kind == FailureKind::Error {
                            "error"
                        } else {
                            "assertion"
                        };
                        (tag, kind, f.headline(), f.details(&r.file))
                    }
                    None => ("failure", "assertion", "failed".to_owned(), String::new()),
                };
                w.create_element(tag)
                    .with_attribute(("message", xml_safe(&headline).as_str()))
                    .with_attribute(("type", kind))
                    .write_text_content(xml_text(&details))?;
                Ok(())
            })?;
        }
    }
    Ok(())
}

fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
        Outcome::ExpectedFailure => "expected failure",
        Outcome::UnexpectedPass => "unexpected pass",
    }
}

/// The HTML page of a run: a summary, then one row per scenario, failures unfolded below their row.
pub fn html_page(report: &RunReport) -> Markup {
    html_page_as(report, Kind::Scenarios)
}

/// [`html_page`] for a kind of report.
pub fn html_page_as(report: &RunReport, kind: Kind) -> Markup {
    let s = &report.summary;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (kind.heading()) ": " (report.summary_line()) }
                style { (CSS) }
            }
            body {
                h1 { (kind.heading()) }
                p.summary {
                    span.passed { (s.passed) " passed" } ", "
                    span.failed { (s.failed + s.unexpected_passes) " failed" } ", "
                    span.skipped { (s.skipped) " skipped" }
                    @if s.expected_failures > 0 { ", " span.expected { (s.expected_failures) " expected failures" } }
                    " — target " code { (report.target) }
                    @if report.in_process { " (in process)" } @else if report.mock { " (mock)" } @else { " (not a mock)" }
                    ", " (secs(report.duration_ms)) " s"
                }
                @if !report.stale_baseline.is_empty() {
                    h2 { "Stale baseline entries" }
                    ul { @for e in &report.stale_baseline { li.failed { (e.message) } } }
                }
                table {
                    colgroup { col style="width:38%"; col style="width:36%"; col style="width:14%"; col style="width:12%"; }
                    thead { tr { th { @if kind == Kind::Verdict { "Rule" } @else { "Scenario" } } th { "File" } th { "Result" } th { "Time" } } }
                    tbody {
                        @for r in &report.scenarios {
                            @let class = outcome_label(r.outcome).replace(' ', "-");
                            tr class=(class) {
                                td { (r.name) }
                                td { code { (r.file) } }
                                td { (outcome_label(r.outcome)) }
                                td.num { (secs(r.duration_ms)) " s" }
                            }
                            @if let Some(reason) = &r.skip_reason {
                                tr.detail { td colspan="4" { (reason) } }
                            }
                            @if let Some(f) = &r.failure {
                                tr.detail {
                                    td colspan="4" {
                                        @if let Some(reason) = r.baseline_reason.as_ref().filter(|x| !x.is_empty()) {
                                            p { "Baseline: " (reason) }
                                        }
                                        (detail_block(&f.details(&r.file)))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A failure's text, with the diff's removed and added lines marked.
fn detail_block(text: &str) -> Markup {
    html! {
        pre {
            @for line in text.lines() {
                @if line.starts_with('-') && !line.starts_with("---") {
                    span.del { (line) } "\n"
                } @else if line.starts_with('+') && !line.starts_with("+++") {
                    span.ins { (line) } "\n"
                } @else {
                    (line) "\n"
                }
            }
        }
    }
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;width:100%;table-layout:fixed}\
th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #ddd;overflow-wrap:anywhere}\
td.num{text-align:right}pre{background:#f6f6f6;padding:.8em;white-space:pre-wrap;overflow-wrap:anywhere;margin:0}\
.del{color:#cf222e;background:#ffebe9}.ins{color:#1a7f37;background:#dafbe1}\
.passed{color:#1a7f37}.failed,.unexpected-pass{color:#cf222e}.skipped{color:#777}.expected-failure,.expected{color:#9a6700}\
tr.failed td,tr.unexpected-pass td{background:#fff5f5}tr.detail td{border-bottom:2px solid #ddd}";
