//! The live dashboard at `/__admin/ui`: server-rendered HTML (maud, escaped) with a small inline script that
//! polls `ui/live` (JSON holding the re-rendered live part and its version) and swaps it in when it changed.
//! No build step, no framework; it works from `file://`-less plain HTTP in any browser.
//!
//! The live part shows the verdict (each rule with its status, message, sources and evidence) and, per
//! client, the timeline of its requests: virtual time, request, answer, token fingerprints, scopes, what the
//! plan injected, and the rules each entry is evidence for.

use std::collections::{BTreeMap, HashMap};

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::index::{Index, presented_token};
use super::{Status, Verdict, rfc3339_ms, secs};
use crate::journal::JournalEntry;
use crate::store::Plan;

/// Entries shown per client (the newest).
const TIMELINE_MAX: usize = 200;

/// The whole page.
pub fn page(verdict: &Verdict, journal: &[JournalEntry], plan: Option<&Plan>) -> Markup {
    let live_part = live(verdict, journal, plan);
    let version = version_of(&live_part);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Client verdicts: " (verdict.session) }
                style { (PreEscaped(CSS)) }
            }
            body data-polls="0" {
                header {
                    h1 { "Client verdicts" }
                    p.sub { "Session " code { (verdict.session) } " — updates while the client runs." }
                }
                div #live data-version=(version) { (live_part) }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

/// The part the script replaces: plan, verdict and timelines.
pub fn live(verdict: &Verdict, journal: &[JournalEntry], plan: Option<&Plan>) -> Markup {
    let ix = Index::new(journal);
    // Which rules cite each entry, and how.
    let mut cited: HashMap<u64, Vec<(&str, Status)>> = HashMap::new();
    for r in &verdict.rules {
        for e in &r.evidence {
            cited.entry(e.seq).or_default().push((r.id.as_str(), r.status));
        }
    }
    let mut clients: BTreeMap<String, Vec<&JournalEntry>> = BTreeMap::new();
    for e in &ix.entries {
        clients.entry(ix.client_key(e)).or_default().push(e);
    }
    let t0 = ix.entries.first().map_or(0, |e| e.at_ms);
    let s = &verdict.summary;
    html! {
        section.plan {
            @match plan {
                Some(p) => {
                    h2 { "Plan: " (p.name) }
                    @if let Some(d) = &p.description { p { (d) } }
                    @if let Some(f) = &p.file { p.sub { "From " code { (f) } } }
                }
                None => { h2 { "No plan" } p.sub { "Every rule is judged: a running lint of client traffic." } }
            }
        }
        section.verdict {
            h2 { "Verdict" }
            @if verdict.entries == 0 {
                p.summary { "Nothing judged yet: this session has no journal entries. Run the client against it; this page updates." }
            } @else {
            p.summary {
                span.pass { (s.pass) " passed" } ", " span.fail { (s.fail) " failed" } ", "
                span.not_exercised { (s.not_exercised) " not exercised" }
                " — " (verdict.entries) " journal entries"
                @if let Some(last) = ix.entries.last() { ", the last at " (rfc3339_ms(last.at_ms)) }
            }
            table.rules {
                colgroup { col style="width:9em"; col style="width:16em"; col; col style="width:16em"; }
                thead { tr { th { "Status" } th { "Rule" } th { "What was seen" } th { "Sources" } } }
                tbody {
                    @for r in &verdict.rules {
                        tr class=(status_class(r.status)) id=(format!("rule-{}", r.id)) {
                            td { span.chip { (r.status.label()) } }
                            td { code { (r.id) } br; span.sub { (r.title) } }
                            td {
                                (r.message)
                                @if !r.evidence.is_empty() {
                                    details {
                                        summary { (r.evidence_total) " evidence " @if r.evidence_total == 1 { "entry" } @else { "entries" } }
                                        ul.evidence {
                                            @for e in &r.evidence {
                                                li { "#" (e.seq) " " (e.at) " " code { (e.request) } " → " (e.status) ": " (e.note) }
                                            }
                                        }
                                    }
                                }
                            }
                            td.sub { (r.sources.join(", ")) }
                        }
                    }
                }
            }
            }
        }
        section.timelines {
            h2 { "Timelines" }
            @if clients.is_empty() { p.sub { "No client request yet." } }
            @for (client, entries) in &clients {
                div.client {
                    h3 { "Client " code { (client) } span.sub { " — " (entries.len()) " requests" } }
                    @if entries.len() > TIMELINE_MAX { p.sub { "Older entries hidden; the newest " (TIMELINE_MAX) " are shown." } }
                    table.timeline {
                        colgroup { col style="width:6em"; col style="width:4em"; col style="width:26%"; col style="width:8em"; col; col style="width:18%"; }
                        thead { tr { th { "Time" } th { "#" } th { "Request" } th { "Answer" } th { "Tokens and scopes" } th { "Rules" } } }
                        tbody {
                            @for e in entries.iter().skip(entries.len().saturating_sub(TIMELINE_MAX)) {
                                @let marks = cited.get(&e.seq);
                                @let failed = marks.is_some_and(|m| m.iter().any(|(_, st)| *st == Status::Fail));
                                tr class=(if failed { "fail" } else { "" }) {
                                    td.num title=(rfc3339_ms(e.at_ms)) { "+" (secs(e.at_ms - t0)) }
                                    td.num { (e.seq) }
                                    td { code { (e.method) " " (e.path) } (facts_line(e)) }
                                    td { (e.status) @if let Some(err) = &e.error { br; span.err { (err) } } }
                                    td.tok { (token_line(e)) }
                                    td {
                                        @if let Some(m) = marks {
                                            @for (id, st) in m { span class=(format!("mark {}", status_class(*st))) { (id) } " " }
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
}

fn facts_line(e: &JournalEntry) -> Markup {
    let f = &e.facts;
    html! {
        @for i in &f.injected { br; span.injected { (i) } }
        @if let Some(b) = &f.bad_material { br; span.injected { "bad material: " (b.kind.as_str()) } }
        @if let Some(q) = &f.token_in_query { br; span.err { "token in query: " (q) } }
        @if !f.playback_events.is_empty() { br; span.sub { "events: " (f.playback_events.join(", ")) } }
    }
}

fn token_line(e: &JournalEntry) -> Markup {
    let f = &e.facts;
    let presented = presented_token(e);
    html! {
        @if let Some(t) = presented { span.sub { "presented " } code { (short(t)) } br; }
        @else if let Some(t) = &e.token { span.sub { "issued " } code { (short(t)) } br; }
        @if let Some(r) = &f.refresh_token { span.sub { "refresh " } code { (short(r)) } br; }
        @if let Some(s) = &f.scopes { span.sub { "scopes " } (s) br; }
        @if let Some(s) = &f.scope_used { span.sub { "used " } (s) br; }
        @if let Some(s) = &f.scope_missing { span.err { "missing " (s) } br; }
        @if let Some(p) = &f.token_problem { span.err { "token " (p) } br; }
        @if let Some(n) = f.expires_in { span.sub { "expires_in " (n) } br; }
        @if let Some(n) = f.interval { span.sub { "interval " (n) } br; }
        @if let Some(n) = f.retry_after { span.sub { "Retry-After " (n) } }
    }
}

/// `[redacted:1a2b3c4d]` → `1a2b3c4d`.
fn short(fp: &str) -> &str {
    fp.strip_prefix("[redacted:").and_then(|s| s.strip_suffix(']')).unwrap_or(fp)
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::NotExercised => "not_exercised",
    }
}

/// A short version of the live part: the script swaps it in only when this changed.
pub fn version_of(live: &Markup) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(live.0.as_bytes());
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Polls `ui/live` (relative, so it works under `/s/{session}/__admin/ui` too) once a second.
const SCRIPT: &str = r#"(function () {
  var live = document.getElementById('live');
  var polls = 0;
  function tick() {
    fetch('ui/live', {cache: 'no-store'})
      .then(function (r) { return r.json(); })
      .then(function (d) {
        polls += 1;
        document.body.setAttribute('data-polls', String(polls));
        if (d.version !== live.getAttribute('data-version')) {
          var open = Array.prototype.map.call(live.querySelectorAll('details[open]'), function (x) {
            return x.closest('tr') ? x.closest('tr').id : '';
          });
          live.innerHTML = d.html;
          live.setAttribute('data-version', d.version);
          open.forEach(function (id) {
            var row = id && document.getElementById(id);
            var det = row && row.querySelector('details');
            if (det) { det.open = true; }
          });
        }
      })
      .catch(function () {})
      .then(function () { setTimeout(tick, 1000); });
  }
  setTimeout(tick, 1000);
})();"#;

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222;font-size:14px}\
h1{margin:0}h2{margin:1.2em 0 .4em}h3{margin:1em 0 .3em;font-size:1.05em}.sub{color:#666}\
table{border-collapse:collapse;width:100%;table-layout:fixed;margin-bottom:1em}\
th,td{text-align:left;vertical-align:top;padding:.25em .5em;border-bottom:1px solid #e3e3e3;overflow-wrap:anywhere}\
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}code{font-size:.95em}\
.chip{display:inline-block;padding:.1em .5em;border-radius:.8em;font-weight:600;font-size:.85em}\
tr.pass .chip{background:#dafbe1;color:#1a7f37}tr.fail .chip{background:#ffebe9;color:#cf222e}\
tr.not_exercised .chip{background:#eee;color:#666}span.pass{color:#1a7f37}span.fail{color:#cf222e}\
span.not_exercised{color:#777}table.timeline tr.fail td{background:#fff5f5}\
.mark{display:inline-block;font-size:.8em;padding:0 .35em;border-radius:.3em;margin:.1em 0}\
.mark.pass{background:#dafbe1}.mark.fail{background:#ffebe9;color:#cf222e}.mark.not_exercised{background:#eee}\
.err{color:#cf222e}.injected{color:#9a6700}.tok{font-size:.9em}ul.evidence{margin:.3em 0;padding-left:1.2em}\
details summary{cursor:pointer;color:#0969da}";
