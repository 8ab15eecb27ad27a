//! `docs/CONFORMANCE.md`: every MUST of the specs' mock-decision sections, with the scenarios that check it,
//! then the client rules (`crate::verdict`) with their sources and the client plans that judge them.
//!
//! Extraction is deliberately simple: in `lwa.md` every `### 13.x` section and in `music-api.md` the
//! `### 11.1` to `### 11.5` sections (general, V1, V2, Device API, streaming), each bullet (`- …` with its indented
//! continuation lines and nested bullets) that contains "MUST" is one requirement. They are numbered in order
//! within their section: `lwa§13.4-2` is the second MUST bullet of `lwa.md` §13.4. Ids move when the spec
//! inserts a bullet before others; the regeneration test then shows the difference.
//!
//! A scenario covers a MUST by citing its id in `checks`. Citing a whole section (`lwa.md §13.4`) lists the
//! scenario with the section but covers no single MUST, so coverage cannot be claimed wholesale.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::load::LoadedScenario;

/// A spec file and the sections whose MUSTs are listed.
struct SpecSource {
    key: &'static str,
    file: &'static str,
    wanted: fn(&str) -> bool,
    described: &'static str,
}

const SOURCES: &[SpecSource] = &[
    SpecSource { key: "lwa", file: "lwa.md", wanted: |s| s.starts_with("13."), described: "§13" },
    SpecSource {
        key: "music",
        file: "music-api.md",
        wanted: |s| matches!(s, "11.1" | "11.2" | "11.3" | "11.4" | "11.5"),
        described: "§11.1–§11.5",
    },
];

/// One MUST requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Must {
    /// `lwa§13.4-2`.
    pub id: String,
    /// The bullet's text, on one line.
    pub text: String,
}

/// A spec section with its MUSTs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// `lwa.md`.
    pub file: &'static str,
    /// `lwa`.
    pub key: &'static str,
    /// `13.4`.
    pub number: String,
    /// `Lifetimes and grant rules`.
    pub title: String,
    /// Its MUST bullets in order.
    pub musts: Vec<Must>,
}

impl Section {
    /// `lwa.md §13.4`, as scenarios cite it.
    pub fn citation(&self) -> String {
        format!("{} §{}", self.file, self.number)
    }
}

/// The wanted sections of one spec text, with their MUST bullets.
fn extract(src: &SpecSource, text: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let mut current: Option<Section> = None;
    let mut bullet: Option<String> = None;
    let mut bullet_indent = 0;
    let flush_bullet = |bullet: &mut Option<String>, sec: &mut Option<Section>| {
        if let (Some(b), Some(s)) = (bullet.take(), sec.as_mut()) {
            if b.contains("MUST") {
                let id = format!("{}§{}-{}", s.key, s.number, s.musts.len() + 1);
                s.musts.push(Must { id, text: b });
            }
        }
    };
    for line in text.lines() {
        if line.starts_with('#') {
            flush_bullet(&mut bullet, &mut current);
            sections.extend(current.take());
            if let Some(h) = line.strip_prefix("### ") {
                let (number, title) = h.split_once(' ').unwrap_or((h, ""));
                if (src.wanted)(number) {
                    current = Some(Section {
                        file: src.file,
                        key: src.key,
                        number: number.to_owned(),
                        title: title.trim().to_owned(),
                        musts: Vec::new(),
                    });
                }
            }
            continue;
        }
        if current.is_none() {
            continue;
        }
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(rest) = trimmed.strip_prefix("- ") {
            match bullet.as_mut() {
                // A nested bullet belongs to its parent's requirement.
                Some(b) if indent > bullet_indent => {
                    b.push(' ');
                    b.push_str(rest.trim());
                }
                _ => {
                    flush_bullet(&mut bullet, &mut current);
                    bullet = Some(rest.trim().to_owned());
                    bullet_indent = indent;
                }
            }
        } else if trimmed.is_empty() || line.len() == trimmed.len() {
            // A blank line or unindented prose ends the bullet.
            flush_bullet(&mut bullet, &mut current);
        } else if let Some(b) = bullet.as_mut() {
            b.push(' ');
            b.push_str(trimmed.trim_end());
        }
    }
    flush_bullet(&mut bullet, &mut current);
    sections.extend(current.take());
    sections
}

/// Reads the specs in `spec_dir` and extracts every listed section.
///
/// # Errors
/// A message naming a spec file that cannot be read or has none of the expected sections.
pub fn read_specs(spec_dir: &Path) -> Result<Vec<Section>, String> {
    let mut out = Vec::new();
    for src in SOURCES {
        let path = spec_dir.join(src.file);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let sections = extract(src, &text);
        if sections.is_empty() {
            return Err(format!("{}: no {} sections found (### headings)", path.display(), src.described));
        }
        out.extend(sections);
    }
    Ok(out)
}

/// A relative link from the directory of `out` to `file`.
fn link(out: &Path, file: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let from = abs(out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")));
    let to = abs(file);
    let norm = |p: &Path| -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for c in p.components() {
            match c {
                Component::ParentDir => {
                    v.pop();
                }
                Component::CurDir => {}
                other => v.push(other.as_os_str().to_string_lossy().into_owned()),
            }
        }
        v
    };
    let (f, t) = (norm(&from), norm(&to));
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); f.len() - common];
    parts.extend(t[common..].iter().cloned());
    parts.join("/")
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Renders `docs/CONFORMANCE.md` for the given scenarios, the spec sections, and the file it will be
/// written to (links are relative to it). `command` is the command line shown as the way to regenerate.
///
/// # Errors
/// Every citation that names no MUST id or section of the specs.
pub fn render(
    scenarios: &[LoadedScenario],
    sections: &[Section],
    out: &Path,
    command: &str,
) -> Result<String, Vec<String>> {
    let mut by_must: BTreeMap<&str, Vec<&LoadedScenario>> = BTreeMap::new();
    let mut by_section: BTreeMap<String, Vec<&LoadedScenario>> = BTreeMap::new();
    let mut errors = Vec::new();
    for s in scenarios {
        for c in &s.scenario.checks {
            if let Some(m) = sections.iter().flat_map(|sec| &sec.musts).find(|m| m.id == *c) {
                by_must.entry(m.id.as_str()).or_default().push(s);
            } else if sections.iter().any(|sec| sec.citation() == *c) {
                by_section.entry(c.clone()).or_default().push(s);
            } else {
                errors.push(format!(
                    "{}: checks {c:?} names no MUST id or section of the specs (see docs/CONFORMANCE.md for the ids)",
                    s.file_display()
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let total: usize = sections.iter().map(|s| s.musts.len()).sum();
    let covered = sections.iter().flat_map(|s| &s.musts).filter(|m| by_must.contains_key(m.id.as_str())).count();
    let refs = |list: &[&LoadedScenario]| -> String {
        list.iter()
            .map(|s| format!("[{}]({})", cell(&s.scenario.name), link(out, &s.file)))
            .collect::<Vec<_>>()
            .join(", ")
    };

    let mut md = String::new();
    md.push_str("# Conformance\n\n");
    md.push_str(&format!(
        "<!-- Generated by `{command}`; do not edit by hand. A test regenerates it and fails when it is stale. -->\n\n"
    ));
    md.push_str(
        "Every MUST of the mock decisions in the specs (`lwa.md` §13, `music-api.md` §11.1–§11.5), each with the \
         scenarios in `scenarios/` that check it. A MUST is one bullet containing \"MUST\"; its id is the spec, the \
         section and its position among the section's MUST bullets (`lwa§13.4-2`). A scenario covers a MUST by \
         citing its id in `checks`; a scenario citing a whole section (`lwa.md §13.4`) is listed with the section \
         but covers no single MUST.\n\n",
    );
    let pct = (covered * 100).checked_div(total).unwrap_or(0);
    md.push_str(&format!("**Coverage: {covered} of {total} MUSTs ({pct}%).** Uncovered ones are marked ❌.\n"));
    for sec in sections {
        md.push_str(&format!("\n## {} {}\n\n", sec.citation(), sec.title));
        if let Some(list) = by_section.get(&sec.citation()) {
            md.push_str(&format!("Cited for the whole section by: {}.\n\n", refs(list)));
        }
        if sec.musts.is_empty() {
            md.push_str("No MUSTs in this section.\n");
            continue;
        }
        md.push_str("| Id | Requirement | Scenarios |\n|---|---|---|\n");
        for m in &sec.musts {
            let who = match by_must.get(m.id.as_str()) {
                Some(list) => refs(list),
                None => "❌ **uncovered**".to_owned(),
            };
            md.push_str(&format!("| `{}` | {} | {} |\n", m.id, cell(&m.text), who));
        }
    }
    Ok(md)
}

/// The "Client rules" section: every rule of `crate::verdict` with how it is judged, its sources and the
/// plans that judge it (a plan without `rules` judges them all).
pub fn render_client_rules(plans: &[crate::plan::Plan], out: &Path) -> String {
    let mut md = String::from("\n## Client rules\n\n");
    md.push_str(
        "The rules `GET /__admin/verdict` and `amazon-music-mock verdict` judge from a session's request journal \
         (`src/verdict/rules.rs`), each PASS, FAIL or NOT EXERCISED with the journal entries behind it. Plans in \
         `scenarios/clients/` script the server and name the rules they judge (see `scenarios/clients/README.md`); \
         the reference clients (`examples/client_good.rs`, `examples/client_bad.rs`) show each rule passing and \
         failing (`tests/it/client_conformance.rs`).\n\n",
    );
    md.push_str("| Rule | A good client | How it is judged | Sources | Plans |\n|---|---|---|---|---|\n");
    for r in crate::verdict::RULES {
        let named: Vec<&crate::plan::Plan> = plans.iter().filter(|p| p.rules.iter().any(|x| x == r.id)).collect();
        let all: Vec<&crate::plan::Plan> = plans.iter().filter(|p| p.rules.is_empty()).collect();
        let refs = |list: &[&crate::plan::Plan]| -> Vec<String> {
            list.iter()
                .map(|p| match &p.file {
                    Some(f) => format!("[{}]({})", cell(&p.name), link(out, Path::new(f))),
                    None => cell(&p.name),
                })
                .collect()
        };
        let mut who = refs(&named);
        who.extend(refs(&all).into_iter().map(|x| format!("{x} (all rules)")));
        let who = if who.is_empty() { "❌ **no plan**".to_owned() } else { who.join(", ") };
        md.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            r.id,
            cell(r.title),
            cell(r.judged),
            cell(&r.sources.join(", ")),
            who
        ));
    }
    md
}

/// Loads, renders and returns the document for `paths`, `spec_dir` and `out`: the spec MUSTs with the
/// scenarios that check them, then the client rules with the plans (in each path's `clients/`) that judge them.
///
/// # Errors
/// Load errors (scenarios and plans), spec errors and unknown citations, as messages.
pub fn generate(paths: &[PathBuf], spec_dir: &Path, out: &Path, command: &str) -> Result<String, Vec<String>> {
    let (loaded, errors) = super::load::load_paths(paths);
    let (plans, plan_errors) = crate::plan::plans_under(paths);
    if !errors.is_empty() || !plan_errors.is_empty() {
        return Err(errors.iter().chain(&plan_errors).map(ToString::to_string).collect());
    }
    let sections = read_specs(spec_dir).map_err(|e| vec![e])?;
    let mut md = render(&loaded, &sections, out, command)?;
    md.push_str(&render_client_rules(&plans, out));
    Ok(md)
}

/// The command line that regenerates the committed document.
pub const COMMAND: &str = "amazon-music-mock conformance scenarios --spec-dir docs/spec --out docs/CONFORMANCE.md";

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "\
# Spec
## 12. Other
### 12.1 Not wanted
- MUST not be listed.
## 13. Mock decisions
Intro MUST prose is not a bullet.

### 13.1 Hosts
- MUST serve `/ap/oa` on any host (`a`,
  `b`).
- SHOULD also answer elsewhere.
- MUST NOT bind tokens | to hosts.
  - a nested bullet without the word
  - a nested MUST bullet counts
- SHOULD with nested
  - bullets that say MUST count for their parent
### 13.2 Empty
- SHOULD only.
## 14. After
- MUST not be listed either.
";

    fn src() -> &'static SpecSource {
        &SOURCES[0]
    }

    #[test]
    fn must_bullets_are_numbered_within_their_section_with_continuations() {
        let secs = extract(src(), SPEC);
        assert_eq!(secs.len(), 2);
        assert_eq!((secs[0].number.as_str(), secs[0].title.as_str()), ("13.1", "Hosts"));
        let ids: Vec<&str> = secs[0].musts.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["lwa§13.1-1", "lwa§13.1-2", "lwa§13.1-3"]);
        assert_eq!(secs[0].musts[0].text, "MUST serve `/ap/oa` on any host (`a`, `b`).");
        assert_eq!(
            secs[0].musts[1].text,
            "MUST NOT bind tokens | to hosts. a nested bullet without the word a nested MUST bullet counts"
        );
        assert!(secs[1].musts.is_empty());
    }

    #[test]
    fn links_are_relative_to_the_output_file() {
        assert_eq!(
            link(Path::new("docs/CONFORMANCE.md"), Path::new("scenarios/lwa/a.yaml")),
            "../scenarios/lwa/a.yaml"
        );
        assert_eq!(link(Path::new("CONFORMANCE.md"), Path::new("scenarios/a.yaml")), "scenarios/a.yaml");
    }

    #[test]
    fn the_real_specs_have_the_expected_sections() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/spec");
        let secs = read_specs(&dir).expect("docs/spec in the repository");
        assert!(secs.iter().any(|s| s.citation() == "lwa.md §13.5" && !s.musts.is_empty()));
        assert!(secs.iter().any(|s| s.citation() == "music-api.md §11.2" && !s.musts.is_empty()));
        assert!(secs.iter().any(|s| s.citation() == "music-api.md §11.3" && !s.musts.is_empty()));
        assert!(secs.iter().any(|s| s.citation() == "music-api.md §11.4" && !s.musts.is_empty()));
        assert!(secs.iter().any(|s| s.citation() == "music-api.md §11.5" && s.musts.len() == 4));
        // §11.6's only MUST is about the project's own contract tests, which no scenario can check.
        assert!(!secs.iter().any(|s| s.citation() == "music-api.md §11.6"));
    }

    #[test]
    fn the_committed_conformance_document_is_current() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        // Links are computed between absolute paths, so the document does not depend on the working directory.
        let fresh =
            generate(&[root.join("scenarios")], &root.join("docs/spec"), &root.join("docs/CONFORMANCE.md"), COMMAND)
                .unwrap_or_else(|e| panic!("{}", e.join("\n")));
        let committed = std::fs::read_to_string(root.join("docs/CONFORMANCE.md")).unwrap_or_default();
        assert!(committed == fresh, "docs/CONFORMANCE.md is stale: run `cargo run -- {}`", &COMMAND[18..]);
    }
}
