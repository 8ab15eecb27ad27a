//! `Range` requests on a file of known length (RFC 9110 §14): the plan, and the `multipart/byteranges` layout.
//!
//! The planner is pure. [`plan_ranges`] reads the header and answers what to send:
//!
//! | plan | status | headers |
//! |---|---|---|
//! | [`RangePlan::Full`] | 200 | `Accept-Ranges: bytes`, `Content-Length: len` |
//! | [`RangePlan::Single`] | 206 | `Content-Range: bytes a-b/len`, `Content-Length: b-a+1` |
//! | [`RangePlan::Multiple`] | 206 | `Content-Type: multipart/byteranges; boundary=…`, body from [`multipart_layout`] |
//! | [`RangePlan::Unsatisfiable`] | 416 | `Content-Range: bytes */len` |
//!
//! Decisions: a header in another unit or with a syntax error is ignored (200, full body), as RFC 9110
//! allows; overlapping or adjacent ranges are coalesced, in ascending order; more than [`MAX_RANGES`] ranges
//! are answered with the full body (a defence against many-small-ranges abuse, also allowed by the RFC).

/// More ranges than this in one request → the full body.
pub const MAX_RANGES: usize = 16;

/// What to answer to a `Range` header; bounds are inclusive byte offsets.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RangePlan {
    /// 200 with the whole file.
    Full,
    /// 206 with one range.
    Single(u64, u64),
    /// 206 `multipart/byteranges` with these ranges (at least two, ascending, disjoint, not adjacent).
    Multiple(Vec<(u64, u64)>),
    /// 416 `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// Plans the answer to `header` (the `Range` value, if any) for a representation of `len` bytes.
pub fn plan_ranges(header: Option<&str>, len: u64) -> RangePlan {
    let Some(h) = header else { return RangePlan::Full };
    let h = h.trim();
    let Some((unit, set)) = h.split_once('=') else { return RangePlan::Full };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangePlan::Full;
    }
    let mut ranges = Vec::new();
    let mut count = 0;
    for spec in set.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        count += 1;
        let Some((first, last)) = spec.split_once('-') else { return RangePlan::Full };
        let (first, last) = (first.trim(), last.trim());
        let parse = |s: &str| -> Option<u64> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) { None } else { s.parse().ok() }
        };
        if first.is_empty() {
            // Suffix range: the last N bytes.
            let Some(n) = parse(last) else { return RangePlan::Full };
            if n > 0 && len > 0 {
                ranges.push((len.saturating_sub(n), len - 1));
            }
        } else {
            let Some(a) = parse(first) else { return RangePlan::Full };
            let b = if last.is_empty() {
                u64::MAX
            } else {
                match parse(last) {
                    Some(b) if b >= a => b,
                    _ => return RangePlan::Full,
                }
            };
            if a < len {
                ranges.push((a, b.min(len - 1)));
            }
        }
    }
    if count == 0 || count > MAX_RANGES {
        return RangePlan::Full;
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    match merged.len() {
        0 => RangePlan::Unsatisfiable,
        1 => RangePlan::Single(merged[0].0, merged[0].1),
        _ => RangePlan::Multiple(merged),
    }
}

/// `Content-Range` of a single range.
pub fn content_range(start: u64, end: u64, len: u64) -> String {
    format!("bytes {start}-{end}/{len}")
}

/// `Content-Range` of a 416.
pub fn unsatisfied_range(len: u64) -> String {
    format!("bytes */{len}")
}

/// One piece of a `multipart/byteranges` body: literal bytes, or a byte range of the file.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Piece {
    /// Bytes to send as they are (a part's boundary line and headers, or the closing delimiter).
    Text(String),
    /// Inclusive range of the file to copy.
    File(u64, u64),
}

/// The body of a `multipart/byteranges` answer as pieces to send in order, and its total length for
/// `Content-Length`. The HTTP layer streams the pieces (file ranges in chunks, never whole).
pub fn multipart_layout(ranges: &[(u64, u64)], len: u64, content_type: &str, boundary: &str) -> (Vec<Piece>, u64) {
    let mut pieces = Vec::with_capacity(ranges.len() * 2 + 1);
    let mut total = 0u64;
    for (i, &(a, b)) in ranges.iter().enumerate() {
        let lead = if i == 0 { "" } else { "\r\n" };
        let head = format!(
            "{lead}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: {}\r\n\r\n",
            content_range(a, b, len)
        );
        total += head.len() as u64 + (b - a + 1);
        pieces.push(Piece::Text(head));
        pieces.push(Piece::File(a, b));
    }
    let tail = format!("\r\n--{boundary}--\r\n");
    total += tail.len() as u64;
    pieces.push(Piece::Text(tail));
    (pieces, total)
}

#[cfg(test)]
mod tests {
    use super::RangePlan::*;
    use super::*;

    #[test]
    fn single_ranges_follow_rfc_9110() {
        assert_eq!(plan_ranges(None, 100), Full);
        assert_eq!(plan_ranges(Some("bytes=0-9"), 100), Single(0, 9));
        assert_eq!(plan_ranges(Some("bytes=90-"), 100), Single(90, 99));
        assert_eq!(plan_ranges(Some("bytes=-10"), 100), Single(90, 99));
        assert_eq!(plan_ranges(Some("bytes=-500"), 100), Single(0, 99));
        assert_eq!(plan_ranges(Some("bytes=50-5000"), 100), Single(50, 99));
        assert_eq!(plan_ranges(Some("BYTES = 0-0"), 100), Single(0, 0));
    }

    #[test]
    fn past_the_end_is_unsatisfiable() {
        assert_eq!(plan_ranges(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(plan_ranges(Some("bytes=100-200, 300-"), 100), Unsatisfiable);
        assert_eq!(plan_ranges(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(plan_ranges(Some("bytes=0-"), 0), Unsatisfiable);
    }

    #[test]
    fn malformed_or_foreign_units_are_ignored() {
        for h in ["items=0-1", "bytes=5-1", "bytes=a-b", "bytes=", "bytes=1", "bytes=--1", "0-1", "bytes=+1-2"] {
            assert_eq!(plan_ranges(Some(h), 100), Full, "{h}");
        }
        let many = format!("bytes={}", (0..20).map(|i| format!("{}-{}", i * 3, i * 3)).collect::<Vec<_>>().join(","));
        assert_eq!(plan_ranges(Some(&many), 100), Full);
    }

    #[test]
    fn multiple_ranges_are_sorted_and_coalesced() {
        assert_eq!(plan_ranges(Some("bytes=50-59, 0-9"), 100), Multiple(vec![(0, 9), (50, 59)]));
        assert_eq!(plan_ranges(Some("bytes=0-9,5-19,20-29"), 100), Single(0, 29));
        assert_eq!(plan_ranges(Some("bytes=0-9,-5,200-"), 100), Multiple(vec![(0, 9), (95, 99)]));
    }

    #[test]
    fn multipart_length_matches_the_pieces() {
        let (pieces, total) = multipart_layout(&[(0, 9), (95, 99)], 100, "audio/flac", "B");
        let sum: u64 = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.len() as u64,
                Piece::File(a, b) => b - a + 1,
            })
            .sum();
        assert_eq!(sum, total);
        let Piece::Text(first) = &pieces[0] else { panic!("text first") };
        assert_eq!(first, "--B\r\nContent-Type: audio/flac\r\nContent-Range: bytes 0-9/100\r\n\r\n");
        assert_eq!(pieces.last(), Some(&Piece::Text("\r\n--B--\r\n".into())));
    }
}
