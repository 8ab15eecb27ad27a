//! The layering of `src/`, checked so it cannot drift (ARCHITECTURE.md "Layers").
//!
//! Every source file belongs to a layer ([`LAYERS`], bottom first). A file may use files of its own layer and
//! of the layers below, never above, and no two modules may use each other in a circle (a module here is a
//! top-level module's files within one layer: `v1/` is one, the scenario format and the scenario runner are
//! two; a parent `mod.rs` and its children use each other by Rust's design). Uses are read with `syn`
//! from the code itself: `use` trees and paths in expressions and types that start with `crate::`, `super::`,
//! `self::` or a child module, resolved to the file that defines the module they name. Module declarations
//! (`mod x;`) are structure, not uses; test code (`#[cfg(test)]` items, `tests.rs`, `testkit.rs`) is left out.
//!
//! Two invariants are checked the same way: the wall clock is read only in `clock.rs` (and the named
//! exceptions below, each with its reason), and locks live only in the store (and the stream cache).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use syn::visit::Visit;

/// The layers, bottom first: a name and the module paths (relative to `src/`, `/`-separated) it holds. A file
/// belongs to the layer of the longest path that is it or one of its parent modules.
const LAYERS: &[(&str, &[&str])] = &[
    ("foundation: ids, virtual clock, scopes, journal", &["ids", "clock", "scope", "journal"]),
    ("data: the catalog and the fixtures", &["catalog", "fixtures"]),
    ("state and engines: the store, the streaming engine, token signing", &["store", "stream", "lwa/tokens"]),
    (
        "the scenario format: model, loading, interpolation, expectations, results, reports",
        &[
            "scenario/model",
            "scenario/load",
            "scenario/interp",
            "scenario/expect",
            "scenario/outcome",
            "scenario/baseline",
            "scenario/report",
            "scenario/schema",
        ],
    ),
    (
        "the shared request context and the client rules",
        &["context", "verdict/index", "verdict/rules", "verdict/ui", "verdict"],
    ),
    ("Login With Amazon", &["lwa"]),
    ("the Music API core: request, gate, auth chain, paging, domain operations", &["api"]),
    ("the Music API families and the stream routes: V1, V2, the Device API", &["v1", "v2", "device", "stream_http"]),
    ("client plans (loading and checking)", &["plan"]),
    ("the admin API", &["admin"]),
    ("wiring: the router, the server, connections, TLS", &["app", "server", "conn", "tls"]),
    ("tools: the scenario runner and commands, the verdict command", &["scenario", "verdict/cmd"]),
    ("entry points", &["cli", "main", "lib"]),
];

/// Modules that share a layer but never use each other: the Music API families share the core below them, not
/// each other's code ("one core under three thin families").
const SIBLINGS_APART: &[&str] = &["v1", "v2", "device"];

/// Files that may read the wall clock, and why. Everything that decides an expiry reads the session's
/// virtual clock (`clock.rs`).
const CLOCK_EXCEPTIONS: &[(&str, &str)] = &[
    (
        "clock",
        "the virtual clock itself, and the named real-time readings (`real_now_secs`, `real_now_ms` for session \
         eviction, `real_age`)",
    ),
    (
        "app",
        "a request's duration for the journal and the log (Instant; it decides nothing), and the `Date` header's \
         epoch (UNIX_EPOCH, from the session's virtual time)",
    ),
    ("scenario/run", "how long a scenario and a run took (Instant; reports only)"),
    ("verdict/cmd", "how long asking for the verdict took (Instant; reports only)"),
    (
        "conn",
        "when a connection's phase began, for its header and idle timeouts (Instant; they close connections, which \
         no session's clock governs)",
    ),
    ("tls", "the validity period of the certificate made at start (real time, which TLS clients check)"),
    (
        "store/sqlite",
        "when the state file's writer takes the journals at the latest (Instant; how long an entry waits for the \
         file, which no client sees)",
    ),
];

/// Files that may hold a lock, and why. Handlers never touch a lock.
const LOCK_EXCEPTIONS: &[(&str, &str)] = &[
    ("store", "all mutable state lives behind the store's methods, each a whole read-check-write"),
    ("stream/cache", "the on-disk cache of encoded audio: one encode per file, shared by every session"),
];

/// What was found in one file.
#[derive(Debug, Default)]
struct Scan {
    /// Module paths this file uses (unresolved: the longest known prefix is taken later).
    uses: BTreeSet<Vec<String>>,
    /// Wall-clock reads, as written.
    clock: BTreeSet<String>,
    /// Lock types, as written.
    locks: BTreeSet<String>,
}

struct Scanner<'a> {
    module: Vec<String>,
    children: &'a BTreeSet<String>,
    scan: Scan,
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let p = a.path();
        (p.is_ident("cfg") && a.parse_args::<syn::Meta>().is_ok_and(|m| m.path().is_ident("test")))
            || p.is_ident("test")
    })
}

impl Scanner<'_> {
    /// The module a path names, from this file: `crate::…`, `super::…`, `self::…` or a child module's name.
    fn resolve(&self, segments: &[String]) -> Option<Vec<String>> {
        let first = segments.first()?;
        let (mut base, rest) = match first.as_str() {
            "crate" => (Vec::new(), &segments[1..]),
            "self" => (self.module.clone(), &segments[1..]),
            "super" => {
                let mut base = self.module.clone();
                let mut i = 0;
                while segments.get(i).is_some_and(|s| s == "super") {
                    base.pop();
                    i += 1;
                }
                (base, &segments[i..])
            }
            name if self.children.contains(name) => (self.module.clone(), segments),
            _ => return None,
        };
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn path(&mut self, segments: Vec<String>) {
        let text = segments.join("::");
        let last2: Vec<&str> = segments.iter().rev().take(2).map(String::as_str).collect();
        if matches!(last2.as_slice(), ["now", "SystemTime" | "Instant"] | ["now_utc" | "now_local", "OffsetDateTime"])
            || segments.iter().any(|s| s == "UNIX_EPOCH")
        {
            self.scan.clock.insert(text.clone());
        }
        if segments.iter().any(|s| matches!(s.as_str(), "Mutex" | "RwLock")) {
            self.scan.locks.insert(text);
        }
        if let Some(m) = self.resolve(&segments) {
            self.scan.uses.insert(m);
        }
    }
}

/// The paths a `use` tree names, flattened.
fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut v = prefix.clone();
            if n.ident != "self" {
                v.push(n.ident.to_string());
            }
            out.push(v);
        }
        syn::UseTree::Rename(r) => {
            let mut v = prefix.clone();
            v.push(r.ident.to_string());
            out.push(v);
        }
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_paths(t, prefix, out);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Scanner<'_> {
    fn visit_item(&mut self, i: &'ast syn::Item) {
        let attrs = match i {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(x) => &x.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Struct(s) => &s.attrs,
            _ => return syn::visit::visit_item(self, i),
        };
        if !is_test_only(attrs) {
            syn::visit::visit_item(self, i);
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut out = Vec::new();
        use_paths(&u.tree, &mut Vec::new(), &mut out);
        for p in out {
            self.path(p);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.path(p.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Paths inside macro calls (`tracing::debug!`, `json!`) are tokens: read the `crate::…` ones.
        let tokens: Vec<String> = m.tokens.clone().into_iter().map(|t| t.to_string()).collect();
        for (i, t) in tokens.iter().enumerate() {
            if t == "crate" {
                let segs: Vec<String> = tokens[i..]
                    .iter()
                    .step_by(2)
                    .take_while(|s| s.chars().all(|c| c.is_alphanumeric() || c == '_'))
                    .cloned()
                    .collect();
                let seps_ok =
                    tokens[i..].iter().skip(1).step_by(2).take(segs.len().saturating_sub(1)).all(|s| s == "::");
                if seps_ok {
                    self.path(segs);
                }
            }
        }
        syn::visit::visit_macro(self, m);
    }
}

/// A source tree: module path (`store/music`, `stream` for `stream/mod.rs`) → its text.
type Sources = BTreeMap<String, String>;

fn module_of(rel: &str) -> String {
    let m = rel.trim_end_matches(".rs");
    m.strip_suffix("/mod").unwrap_or(m).to_owned()
}

fn read_src(dir: &Path, rel: &str, out: &mut Sources) {
    for e in std::fs::read_dir(dir.join(rel)).expect("src/ is readable") {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        if e.file_type().unwrap().is_dir() {
            read_src(dir, &path, out);
        } else if name.ends_with(".rs") && name != "tests.rs" && name != "testkit.rs" && !path.contains("/tests/") {
            out.insert(module_of(&path), std::fs::read_to_string(e.path()).unwrap());
        }
    }
}

/// The layer of a module: the longest layer path that is it or a parent of it.
fn layer_of(module: &str) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, (_, paths)) in LAYERS.iter().enumerate() {
        for p in *paths {
            let hit = module == *p || module.starts_with(&format!("{p}/"));
            if hit && best.is_none_or(|(len, _)| p.len() > len) {
                best = Some((p.len(), i));
            }
        }
    }
    best.map(|(_, i)| i)
}

fn excepted(module: &str, list: &[(&str, &str)]) -> bool {
    list.iter().any(|(p, _)| module == *p || module.starts_with(&format!("{p}/")))
}

/// Every problem in a tree: upward uses, circles, unplaced files, clock reads and locks outside their places.
fn problems(sources: &Sources) -> Vec<String> {
    let modules: BTreeSet<&str> = sources.keys().map(String::as_str).collect();
    let mut out = Vec::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in sources {
        let file = syn::parse_file(text).unwrap_or_else(|e| panic!("src/{module}: {e}"));
        let prefix = if module == "lib" || module == "main" { String::new() } else { format!("{module}/") };
        let children: BTreeSet<String> = modules
            .iter()
            .filter_map(|m| m.strip_prefix(prefix.as_str()).filter(|c| !c.contains('/') && !c.is_empty()))
            .map(str::to_owned)
            .collect();
        let here: Vec<String> =
            if prefix.is_empty() { Vec::new() } else { module.split('/').map(str::to_owned).collect() };
        let mut s = Scanner { module: here, children: &children, scan: Scan::default() };
        s.visit_file(&file);
        let Some(from) = layer_of(module) else {
            out.push(format!("src/{module}: in no layer: add it to LAYERS in tests/architecture.rs"));
            continue;
        };
        for used in &s.scan.uses {
            // The longest prefix of the path that is a module is the file it uses.
            let target = (1..=used.len()).rev().map(|n| used[..n].join("/")).find(|m| modules.contains(m.as_str()));
            let Some(target) = target.filter(|t| t != module) else { continue };
            let (unit, target_unit) = (unit_of(module), unit_of(&target));
            if unit != target_unit {
                graph.entry(unit).or_default().insert(target_unit);
            }
            let top = |m: &str| m.split('/').next().unwrap_or(m).to_owned();
            let (a, b) = (top(module), top(&target));
            if a != b && SIBLINGS_APART.contains(&a.as_str()) && SIBLINGS_APART.contains(&b.as_str()) {
                out.push(format!("src/{module} uses src/{target}: a Music API family uses another's code; share it through the core (src/api/)"));
            }
            if let Some(to) = layer_of(&target) {
                if to > from {
                    out.push(format!(
                        "src/{module} ({}) uses src/{target} ({}), a layer above it",
                        LAYERS[from].0, LAYERS[to].0
                    ));
                }
            }
        }
        if !excepted(module, CLOCK_EXCEPTIONS) {
            for c in &s.scan.clock {
                out.push(format!("src/{module} reads the wall clock ({c}): read the session's virtual clock instead"));
            }
        }
        if !excepted(module, LOCK_EXCEPTIONS) {
            for l in &s.scan.locks {
                out.push(format!("src/{module} holds a lock ({l}): state lives behind the store's methods"));
            }
        }
    }
    out.extend(circles(&graph));
    out
}

/// A module for circles: the top-level module's files within one layer (`music@the API families…`).
fn unit_of(module: &str) -> String {
    let top = module.split('/').next().unwrap_or(module);
    match layer_of(module) {
        Some(l) => format!("{top} ({})", LAYERS[l].0.split(':').next().unwrap_or("")),
        None => top.to_owned(),
    }
}

/// Circles among modules (strongly connected components of more than one).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let nodes: BTreeSet<&str> =
        graph.keys().map(String::as_str).chain(graph.values().flatten().map(String::as_str)).collect();
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(n) = stack.pop() {
            for m in graph.get(n.as_str()).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    stack.push(m.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&str, BTreeSet<String>> = nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for n in &nodes {
        if done.contains(*n) {
            continue;
        }
        let circle: Vec<&str> =
            nodes.iter().copied().filter(|m| m == n || (reaches[n].contains(*m) && reaches[m].contains(*n))).collect();
        if circle.len() > 1 {
            out.push(format!("a circle of uses: {}", circle.join(", ")));
        }
        done.extend(circle);
    }
    out
}

#[test]
fn src_keeps_its_layers_its_clock_and_its_locks() {
    let mut sources = Sources::new();
    read_src(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "", &mut sources);
    assert!(sources.len() > 80, "read {} files", sources.len());
    let found = problems(&sources);
    assert!(found.is_empty(), "{} problems:\n{}", found.len(), found.join("\n"));
}

/// The name of the layer that lists `module`.
fn layer_name(module: &str) -> &'static str {
    LAYERS.iter().find(|(_, mods)| mods.contains(&module)).map(|(name, _)| *name).expect("a listed module")
}

/// The checker itself: a planted upward use, a circle, a clock read and a lock are each reported.
#[test]
fn a_planted_upward_use_a_circle_a_clock_read_and_a_lock_are_reported() {
    let tree = |extra: &[(&str, &str)]| {
        let mut s: Sources = [
            ("lib", "pub mod store; pub mod admin; pub mod clock;"),
            ("clock", "pub fn now() -> i64 { std::time::SystemTime::now(); 0 }"),
            ("store", "pub struct S; pub fn get() {}"),
            ("admin", "use crate::store::S; pub fn route() { crate::store::get(); }"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        s.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        s
    };
    assert_eq!(problems(&tree(&[])), Vec::<String>::new());
    let upward = tree(&[("store", "pub struct S; pub fn get() { crate::admin::route(); }")]);
    let found = problems(&upward);
    assert!(
        found.contains(&format!(
            "src/store ({}) uses src/admin ({}), a layer above it",
            layer_name("store"),
            layer_name("admin")
        )),
        "{found:#?}"
    );
    assert!(
        found.contains(&"a circle of uses: admin (the admin API), store (state and engines)".to_owned()),
        "{found:#?}"
    );
    let clock = tree(&[("store", "pub struct S; pub fn get() { let _ = std::time::Instant::now(); }")]);
    assert_eq!(
        problems(&clock),
        ["src/store reads the wall clock (std::time::Instant::now): read the session's virtual clock instead"]
    );
    let lock = tree(&[("admin", "use crate::store::S; static L: std::sync::Mutex<u8> = std::sync::Mutex::new(0);")]);
    assert_eq!(
        problems(&lock),
        [
            "src/admin holds a lock (std::sync::Mutex): state lives behind the store's methods",
            "src/admin holds a lock (std::sync::Mutex::new): state lives behind the store's methods"
        ]
    );
    let sibling = tree(&[("v1", "pub fn x() {}"), ("v2", "pub fn y() { crate::v1::x(); }")]);
    assert!(
        problems(&sibling).contains(
            &"src/v2 uses src/v1: a Music API family uses another's code; share it through the core (src/api/)"
                .to_owned()
        ),
        "{:#?}",
        problems(&sibling)
    );
    // Test code is not judged.
    let test_only = tree(&[(
        "store",
        "pub struct S; pub fn get() {} #[cfg(test)] mod tests { fn t() { crate::admin::route(); } }",
    )]);
    assert_eq!(problems(&test_only), Vec::<String>::new());
}
