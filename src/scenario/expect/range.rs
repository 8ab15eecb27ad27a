//! `expect.range`: what RFC 9110 §14 says a server answers to a `Range` request, and whether an answer
//! does it: the 206 body is exactly those bytes of the whole representation (fetched without `Range`),
//! `Content-Range` names them, a multi-range answer is `multipart/byteranges` (read with `multer`) whose
//! parts cover the ranges asked for, and an unsatisfiable set gets 416 with `Content-Range: bytes */len`.
//!
//! The range set is evaluated here, from the RFC's text, not with the mock's own `stream::plan_ranges`:
//! the runner is the independent judge of every target, the mock included. (The range-header crates
//! looked at, `http-range-header` and `headers`, refuse a suffix longer than the file, which RFC 9110
//! §14.1.2 says selects the whole file.)

use regex::Regex;

use super::{Mismatch, Response, line_diff};

/// What a server must do with a `Range` header, per RFC 9110 §14.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranged {
    /// Not a valid byte-range set (or another unit): the header is ignored, 200 with the whole body.
    Ignored,
    /// 206 with these ranges (inclusive, clamped to the length, in the order asked), and how many
    /// range specs the header had.
    Partial {
        /// The satisfiable ranges.
        ranges: Vec<(u64, u64)>,
        /// Range specs in the header (a single spec must not get a multipart answer).
        specs: usize,
    },
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// Evaluates `header` (a `Range` value) for a representation of `len` bytes (RFC 9110 §14.1.1 grammar,
/// §14.1.2 satisfiability): `bytes=a-b`, `bytes=a-`, `bytes=-n`, comma-separated with optional
/// whitespace; the unit is case-insensitive; `b < a` makes the whole set invalid.
pub fn evaluate(header: &str, len: u64) -> Ranged {
    let Some((unit, set)) = header.split_once('=') else { return Ranged::Ignored };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Ranged::Ignored;
    }
    let digits =
        |s: &str| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u64>().ok()).flatten();
    let mut ranges = Vec::new();
    let mut specs = 0;
    for spec in set.split(',').map(|s| s.trim_matches([' ', '\t'])).filter(|s| !s.is_empty()) {
        specs += 1;
        let Some((first, last)) = spec.split_once('-') else { return Ranged::Ignored };
        if first.is_empty() {
            let Some(n) = digits(last) else { return Ranged::Ignored };
            if n > 0 && len > 0 {
                ranges.push((len.saturating_sub(n), len - 1));
            }
            continue;
        }
        let Some(a) = digits(first) else { return Ranged::Ignored };
        let b = if last.is_empty() {
            None
        } else {
            match digits(last) {
                Some(b) if b >= a => Some(b),
                _ => return Ranged::Ignored,
            }
        };
        if a < len {
            ranges.push((a, b.map_or(len - 1, |b| b.min(len - 1))));
        }
    }
    match (specs, ranges.is_empty()) {
        (0, _) => Ranged::Ignored,
        (_, true) => Ranged::Unsatisfiable,
        _ => Ranged::Partial { ranges, specs },
    }
}

/// Whether `header` is one a client may send (a valid byte-range set), for `check`.
pub fn is_valid(header: &str) -> bool {
    evaluate(header, u64::MAX) != Ranged::Ignored
}

/// The status [`evaluate`] leads to.
pub fn status_of(r: &Ranged) -> u16 {
    match r {
        Ranged::Ignored => 200,
        Ranged::Partial { .. } => 206,
        Ranged::Unsatisfiable => 416,
    }
}

/// The checks on one ranged answer. `check` names the case (`range bytes=0-99`); `accepted` lists the
/// statuses it may have (the scenario's, or [`status_of`]), and the answer is then checked as its own
/// status requires; `full` is the whole representation. Returns the mismatches and, for wrong bytes, a
/// hex diff.
pub async fn check_answer(
    check: &str,
    header: &str,
    accepted: &[u16],
    full: &[u8],
    answer: &Response,
) -> (Vec<Mismatch>, Option<String>) {
    let mut f = Findings { check, out: Vec::new(), diff: None };
    f.answer(header, accepted, full, answer).await;
    (f.out, f.diff)
}

/// What one case found so far.
struct Findings<'a> {
    check: &'a str,
    out: Vec<Mismatch>,
    diff: Option<String>,
}

impl Findings<'_> {
    fn push(&mut self, what: &str, expected: impl Into<String>, actual: impl Into<String>) {
        self.out.push(Mismatch::new(format!("{}: {what}", self.check), expected, actual));
    }

    fn content_range(&mut self, want: String, got: Option<&str>) {
        if got != Some(want.as_str()) {
            self.push("content-range", quote(&want), shown(got));
        }
    }

    /// `actual` must be bytes `a..=b` of `full`; the first wrong bytes get the diff.
    fn bytes(&mut self, what: &str, full: &[u8], (a, b): (u64, u64), actual: &[u8]) {
        let expected = &full[a as usize..=b as usize];
        if actual != expected {
            let want = if expected.len() == full.len() {
                format!("the whole {} bytes", full.len())
            } else {
                format!("bytes {a}-{b} of the whole ({} bytes)", b - a + 1)
            };
            self.push(what, want, differs(expected, actual));
            self.diff.get_or_insert_with(|| hex_diff(expected, actual, a));
        }
    }

    async fn answer(&mut self, header: &str, accepted: &[u16], full: &[u8], answer: &Response) {
        let len = full.len() as u64;
        if !accepted.contains(&answer.status) {
            let why = match answer.status {
                200 if answer.raw.as_ref() == full => {
                    "200 with the whole body (the Range header was ignored)".to_owned()
                }
                s => s.to_string(),
            };
            let want: Vec<String> = accepted.iter().map(u16::to_string).collect();
            let want = if want.len() == 1 { want.join("") } else { format!("one of {}", want.join(", ")) };
            self.push("status", want, why);
            return;
        }
        let content_range = answer.header("content-range");
        match answer.status {
            200 if full.is_empty() => {}
            200 => self.bytes("body", full, (0, len - 1), &answer.raw),
            416 => self.content_range(format!("bytes */{len}"), content_range.as_deref()),
            _ => {
                let Ranged::Partial { ranges, specs } = evaluate(header, len) else {
                    // The scenario accepts 206 for a set that is not satisfiable: no bytes to compare with.
                    self.push(
                        "ranges",
                        "a satisfiable byte-range set in the request",
                        format!("{header:?} selects nothing of {len} bytes"),
                    );
                    return;
                };
                let parts = match parts_of(answer, len).await {
                    Ok(p) => p,
                    Err((what, expected, actual)) => return self.push(&what, expected, actual),
                };
                if specs == 1 && parts.multipart {
                    let ct = answer.header("content-type");
                    self.push(
                        "content-type",
                        "a single part for a single range (RFC 9110 §14.6)",
                        shown(ct.as_deref()),
                    );
                }
                if specs == 1 && !parts.multipart {
                    let (a, b) = ranges[0];
                    self.content_range(format!("bytes {a}-{b}/{len}"), content_range.as_deref());
                    self.bytes("body", full, (a, b), &answer.raw);
                    return;
                }
                for p in &parts.parts {
                    if let Some(r) = p.range {
                        self.bytes(&format!("part {}", p.label), full, r, &p.bytes);
                    }
                }
                let got: Vec<(u64, u64)> = parts.parts.iter().filter_map(|p| p.range).collect();
                for &(a, b) in &ranges {
                    if !covered(a, b, &got) {
                        self.push("ranges", format!("bytes {a}-{b} in the answer"), format!("parts {}", list(&got)));
                    }
                }
                for &(a, b) in &got {
                    if !ranges.iter().any(|&(x, y)| a <= y && x <= b) {
                        self.push(
                            "ranges",
                            format!("only parts that overlap {}", list(&ranges)),
                            format!("a part with bytes {a}-{b}"),
                        );
                    }
                }
            }
        }
    }
}

/// One part of a 206 answer.
struct Part {
    /// `content-range`, or `content-range of part 2`.
    label: String,
    /// The range its `Content-Range` names, when it names one of the right length.
    range: Option<(u64, u64)>,
    bytes: Vec<u8>,
}

struct Parts {
    multipart: bool,
    parts: Vec<Part>,
}

type Problem = (String, String, String);

/// Reads the parts of a 206 answer: one (the body and its `Content-Range`) or, for
/// `multipart/byteranges`, each part with its own `Content-Range`.
async fn parts_of(answer: &Response, len: u64) -> Result<Parts, Problem> {
    let content_type = answer.header("content-type").unwrap_or_default();
    if !content_type.to_ascii_lowercase().starts_with("multipart/byteranges") {
        let cr = answer.header("content-range");
        let range = cr.as_deref().and_then(|v| parse_content_range(v, len));
        return Ok(Parts {
            multipart: false,
            parts: vec![Part { label: "content-range".into(), range, bytes: answer.raw.to_vec() }],
        });
    }
    let boundary = content_type
        .parse::<mime::Mime>()
        .ok()
        .and_then(|m| m.get_param(mime::BOUNDARY).map(|b| b.as_str().to_owned()))
        .ok_or_else(|| ("content-type".into(), "a boundary parameter".into(), format!("{content_type:?}")))?;
    let body = answer.raw.clone();
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let n = parts.len() + 1;
                return Err((
                    "multipart body".into(),
                    "a well-formed multipart/byteranges body".into(),
                    format!("part {n}: {e}"),
                ));
            }
        };
        let n = parts.len() + 1;
        let cr = field.headers().get("content-range").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| {
                ("multipart body".into(), "a well-formed multipart/byteranges body".into(), format!("part {n}: {e}"))
            })?
            .to_vec();
        let range = cr.as_deref().and_then(|v| parse_content_range(v, len));
        if range.is_none() {
            return Err((
                format!("content-range of part {n}"),
                format!("bytes FIRST-LAST/{len}"),
                shown(cr.as_deref()),
            ));
        }
        parts.push(Part { label: format!("{n} ({})", cr.unwrap_or_default()), range, bytes });
    }
    if parts.is_empty() {
        return Err(("multipart body".into(), "at least one part".into(), "none".into()));
    }
    Ok(Parts { multipart: true, parts })
}

/// `bytes a-b/len` with `a <= b < len` and the given total, else `None`.
fn parse_content_range(v: &str, len: u64) -> Option<(u64, u64)> {
    let re = Regex::new(r"^(?i:bytes) (\d+)-(\d+)/(\d+)$").expect("valid");
    let c = re.captures(v.trim())?;
    let (a, b, total): (u64, u64, u64) = (c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
    (a <= b && b < len && total == len).then_some((a, b))
}

fn covered(a: u64, b: u64, parts: &[(u64, u64)]) -> bool {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let mut next = a;
    for (x, y) in sorted {
        if x <= next && y >= next {
            if y >= b {
                return true;
            }
            next = y + 1;
        }
    }
    false
}

fn list(ranges: &[(u64, u64)]) -> String {
    let v: Vec<String> = ranges.iter().map(|(a, b)| format!("{a}-{b}")).collect();
    if v.is_empty() { "none".into() } else { v.join(", ") }
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

fn shown(v: Option<&str>) -> String {
    v.map_or_else(|| "(absent)".to_owned(), quote)
}

/// `120 bytes, the first difference at byte 17 (0x3f, expected 0x41)`.
fn differs(expected: &[u8], actual: &[u8]) -> String {
    match expected.iter().zip(actual).position(|(e, a)| e != a) {
        Some(i) => format!(
            "{} bytes, the first difference at byte {i} (0x{:02x}, expected 0x{:02x})",
            actual.len(),
            actual[i],
            expected[i]
        ),
        None => format!("{} bytes (the first {} equal)", actual.len(), expected.len().min(actual.len())),
    }
}

/// A line diff of hex dumps (16 bytes a row, offsets counted from `base`) around the first difference.
pub fn hex_diff(expected: &[u8], actual: &[u8], base: u64) -> String {
    let first = expected.iter().zip(actual).position(|(e, a)| e != a).unwrap_or(expected.len().min(actual.len()));
    let from = (first / 16).saturating_sub(2) * 16;
    let rows = |b: &[u8]| -> String {
        let end = b.len().min(from + 6 * 16);
        let mut s = String::new();
        let mut i = from;
        while i < end {
            let row = &b[i..(i + 16).min(end)];
            let hex: Vec<String> = row.iter().map(|x| format!("{x:02x}")).collect();
            s.push_str(&format!("{:08x}  {}\n", base + i as u64, hex.join(" ")));
            i += 16;
        }
        if b.len() > end {
            s.push_str(&format!("… {} more bytes\n", b.len() - end));
        }
        s
    };
    line_diff(&rows(expected), &rows(actual))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ranges_follow_rfc_9110() {
        let p = |ranges: Vec<(u64, u64)>| Ranged::Partial { ranges, specs: 1 };
        assert_eq!(evaluate("bytes=0-9", 100), p(vec![(0, 9)]));
        assert_eq!(evaluate("bytes=90-", 100), p(vec![(90, 99)]));
        assert_eq!(evaluate("bytes=-10", 100), p(vec![(90, 99)]));
        assert_eq!(evaluate("bytes=-500", 100), p(vec![(0, 99)]), "a suffix longer than the file is the file");
        assert_eq!(evaluate("bytes=50-5000", 100), p(vec![(50, 99)]));
        assert_eq!(evaluate("Bytes=0-0", 100), p(vec![(0, 0)]));
    }

    #[test]
    fn unsatisfiable_and_invalid_sets_are_told_apart() {
        assert_eq!(evaluate("bytes=100-", 100), Ranged::Unsatisfiable);
        assert_eq!(evaluate("bytes=-0", 100), Ranged::Unsatisfiable);
        assert_eq!(evaluate("bytes=100-200, 300-", 100), Ranged::Unsatisfiable);
        for h in ["items=0-1", "bytes=5-1", "bytes=a-b", "bytes=", "bytes=1", "0-1", "bytes=+1-2", "bytes=--1"] {
            assert_eq!(evaluate(h, 100), Ranged::Ignored, "{h}");
            assert!(!is_valid(h), "{h}");
        }
        assert!(is_valid("bytes=0-9, 20-"));
    }

    #[test]
    fn multiple_ranges_keep_the_order_asked_and_drop_unsatisfiable_ones() {
        assert_eq!(
            evaluate("bytes=50-59, 0-9,200-", 100),
            Ranged::Partial { ranges: vec![(50, 59), (0, 9)], specs: 3 }
        );
    }

    #[test]
    fn content_ranges_must_name_the_total() {
        assert_eq!(parse_content_range("bytes 0-9/100", 100), Some((0, 9)));
        assert_eq!(parse_content_range("bytes 0-9/99", 100), None);
        assert_eq!(parse_content_range("bytes 9-0/100", 100), None);
        assert_eq!(parse_content_range("bytes */100", 100), None);
    }

    #[test]
    fn coverage_joins_adjacent_parts() {
        assert!(covered(0, 19, &[(10, 19), (0, 9)]));
        assert!(!covered(0, 19, &[(0, 9), (11, 19)]));
        assert!(covered(5, 6, &[(0, 99)]));
    }

    #[test]
    fn the_hex_diff_shows_the_rows_around_the_first_difference() {
        let a: Vec<u8> = (0..=255).collect();
        let mut b = a.clone();
        b[100] = 0;
        let d = hex_diff(&a, &b, 1000);
        assert!(d.contains("-00000448  60 61 62 63 64"), "{d}");
        assert!(d.contains("+00000448  60 61 62 63 00"), "{d}");
        assert!(d.contains(" 00000438  50"), "unchanged rows are context: {d}");
    }
}
