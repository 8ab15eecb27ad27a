//! Text search machinery: the tokenizer, the inverted index and the posting-list intersection that every
//! search in the catalog runs on.
//!
//! Documents are addressed by their *rank* (0 = most popular), not by their entity index, so every posting list
//! is sorted by popularity and an intersection yields hits in popularity order. Each posting packs
//! `rank << 3 | field_mask`, where the mask says in which of up to three fields (bit 0 = title or name) the token
//! occurs; one list per token then serves both "match" queries (any field) and field queries.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Field bit of the primary text field (track title, album title, artist name, …).
pub(super) const TITLE: u8 = 1;
/// Number of bits a posting reserves for the field mask.
const MASK_BITS: u32 = 3;
/// Largest number of documents one index can hold (ranks must fit next to the mask in a `u32`).
pub(super) const MAX_DOCS: usize = 1 << (32 - MASK_BITS);

/// FxHash (as in rustc): a fast, non-cryptographic hasher for in-memory maps whose keys are not attacker chosen.
#[derive(Default, Clone, Copy)]
pub(super) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ (rest.len() as u64) << 59);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        // The multiply only carries entropy upwards, and hashbrown picks buckets from the low bits: fold the
        // high half down so that keys differing early (e.g. ids sharing their last bytes) spread out.
        let h = self.0;
        (h ^ (h >> 32) ^ (h >> 47)).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (h >> 29)
    }
}

/// A `HashMap` with [`FxHasher`].
pub(super) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Splits `text` into lowercase alphanumeric words and calls `f` with each; `buf` is scratch space.
///
/// Every non-alphanumeric character separates words, so `"Don't Stop (Live)"` gives `don`, `t`, `stop`, `live`.
pub(super) fn for_each_token(text: &str, buf: &mut String, mut f: impl FnMut(&str)) {
    buf.clear();
    for c in text.chars() {
        if c.is_alphanumeric() {
            if c.is_ascii() {
                buf.push(c.to_ascii_lowercase());
            } else {
                buf.extend(c.to_lowercase());
            }
        } else if !buf.is_empty() {
            f(buf);
            buf.clear();
        }
    }
    if !buf.is_empty() {
        f(buf);
        buf.clear();
    }
}

/// The distinct tokens of `text`, in first-occurrence order.
pub(super) fn distinct_tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut buf = String::new();
    for_each_token(text, &mut buf, |t| {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    });
    out
}

/// An inverted index from tokens to posting lists of packed `rank << 3 | mask` values, sorted ascending.
#[derive(Default)]
pub(super) struct InvertedIndex {
    vocab: FxMap<Box<str>, u32>,
    postings: Vec<Vec<u32>>,
    /// Per rank: the number of distinct tokens in the title field (saturating), for exact-title detection.
    title_tokens: Vec<u8>,
}

impl InvertedIndex {
    /// The posting list of `token` (already lowercase), empty when the token is unknown.
    pub(super) fn postings(&self, token: &str) -> &[u32] {
        self.vocab.get(token).and_then(|&t| self.postings.get(t as usize)).map_or(&[], Vec::as_slice)
    }

    /// Number of distinct title tokens of the document at `rank`.
    pub(super) fn title_tokens(&self, rank: u32) -> u8 {
        self.title_tokens.get(rank as usize).copied().unwrap_or(0)
    }

    /// Approximate heap size in bytes.
    pub(super) fn heap_bytes(&self) -> usize {
        let lists: usize = self.postings.iter().map(|p| p.capacity() * 4 + 24).sum();
        let vocab: usize = self.vocab.keys().map(|k| k.len() + 16 + 4 + 8).sum();
        lists + vocab + self.title_tokens.capacity()
    }
}

/// Builds an [`InvertedIndex`]; documents must be added in increasing rank order.
#[derive(Default)]
pub(super) struct IndexBuilder {
    index: InvertedIndex,
    scratch: Vec<(u32, u8)>,
    buf: String,
}

impl IndexBuilder {
    /// Appends the token ids of `text` (with repeats) to `out`, adding unknown tokens to the vocabulary.
    pub(super) fn intern(&mut self, text: &str, out: &mut Vec<u32>) {
        let Self { index, buf, .. } = self;
        for_each_token(text, buf, |tok| {
            let id = match index.vocab.get(tok) {
                Some(&id) => id,
                None => {
                    let id = index.postings.len() as u32;
                    index.vocab.insert(tok.into(), id);
                    index.postings.push(Vec::new());
                    id
                }
            };
            out.push(id);
        });
    }

    /// The token ids of `text` (with repeats), adding unknown tokens to the vocabulary.
    pub(super) fn intern_vec(&mut self, text: &str) -> Vec<u32> {
        let mut v = Vec::new();
        self.intern(text, &mut v);
        v
    }

    /// Adds the document at `rank` (the next rank in order) with its fields: token ids and the field's bit.
    pub(super) fn add(&mut self, rank: u32, fields: &[(&[u32], u8)]) {
        debug_assert_eq!(rank as usize, self.index.title_tokens.len(), "documents must come in rank order");
        self.scratch.clear();
        for &(ids, bit) in fields {
            for &id in ids {
                match self.scratch.iter_mut().find(|(t, _)| *t == id) {
                    Some((_, m)) => *m |= bit,
                    None => self.scratch.push((id, bit)),
                }
            }
        }
        let mut titles = 0u8;
        for &(id, m) in &self.scratch {
            if m & TITLE != 0 {
                titles = titles.saturating_add(1);
            }
            if let Some(list) = self.index.postings.get_mut(id as usize) {
                list.push(rank << MASK_BITS | u32::from(m));
            }
        }
        self.index.title_tokens.push(titles);
    }

    /// Finishes the index, trimming spare capacity.
    pub(super) fn finish(mut self) -> InvertedIndex {
        for p in &mut self.index.postings {
            p.shrink_to_fit();
        }
        self.index.title_tokens.shrink_to_fit();
        self.index
    }
}

/// Packs a rank as a posting with an empty field mask (for id-based term lists).
pub(super) fn posting(rank: u32) -> u32 {
    rank << MASK_BITS
}

/// The rank stored in a posting.
pub(super) fn rank_of(p: u32) -> u32 {
    p >> MASK_BITS
}

/// One conjunct of a query: a sorted posting list and what a posting must satisfy.
pub(super) struct Term<'a> {
    /// Sorted postings.
    pub list: Cow<'a, [u32]>,
    /// Field bits that must all be set in the posting's mask (0 = any field).
    pub must: u8,
    /// Whether the term comes from a match query (counts towards the matched-field relevance).
    pub matched: bool,
    /// Whether the term is a text token whose presence in the title counts towards an exact-title match.
    pub text: bool,
}

/// A document that satisfies every term, with what relevance needs to know about it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Hit {
    pub rank: u32,
    /// Fields that contain every match-query token.
    pub all_fields: u8,
    /// Fields that contain at least one match-query token.
    pub any_field: u8,
    /// Number of text terms found in the title.
    pub title_hits: u8,
}

/// First position at or after `from` whose value is `>= target` (exponential then binary search).
fn gallop(list: &[u32], from: usize, target: u32) -> usize {
    let mut lo = from;
    let mut hi = from;
    let mut step = 1;
    while hi < list.len() && list[hi] < target {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    let hi = hi.min(list.len());
    lo + list[lo..hi].partition_point(|&x| x < target)
}

/// An upper bound of the number of hits of `terms` (the shortest list's length), for pre-sizing buffers.
pub(super) fn max_hits(terms: &[Term<'_>]) -> usize {
    terms.iter().map(|t| t.list.len()).min().unwrap_or(0)
}

/// Calls `visit` with every document present in all `terms`, in rank order. No terms means no hits.
///
/// Runs in time proportional to the shortest list times the log of the others.
pub(super) fn intersect(terms: &mut [Term<'_>], mut visit: impl FnMut(Hit)) {
    terms.sort_by_key(|t| t.list.len());
    let Some((first, rest)) = terms.split_first() else {
        return;
    };
    let mut cursors = vec![0usize; rest.len()];
    'docs: for &p in first.list.iter() {
        let rank = rank_of(p);
        let mut hit = Hit { rank, all_fields: 0b111, any_field: 0, title_hits: 0 };
        if !accept(first, p, &mut hit) {
            continue;
        }
        let target = posting(rank);
        for (term, cursor) in rest.iter().zip(cursors.iter_mut()) {
            let pos = gallop(&term.list, *cursor, target);
            *cursor = pos;
            match term.list.get(pos) {
                None => break 'docs,
                Some(&q) if rank_of(q) != rank || !accept(term, q, &mut hit) => continue 'docs,
                Some(_) => {}
            }
        }
        visit(hit);
    }
}

fn accept(term: &Term<'_>, p: u32, hit: &mut Hit) -> bool {
    let mask = (p & 0b111) as u8;
    if mask & term.must != term.must {
        return false;
    }
    if term.matched {
        hit.all_fields &= mask;
        hit.any_field |= mask;
    }
    if term.text && mask & TITLE != 0 {
        hit.title_hits += 1;
    }
    true
}

/// Number of distinct relevance classes ([`relevance_class`] is below this).
const CLASSES: usize = 32;

/// The relevance class of a hit (smaller sorts first): exact title match, then the number of fields holding
/// every match token, then the number of fields holding any. Within a class hits sort by popularity rank, which
/// is the order [`intersect`] produces them in.
pub(super) fn relevance_class(hit: &Hit, exact: bool, has_match_terms: bool) -> u8 {
    let (all, any) =
        if has_match_terms { (hit.all_fields.count_ones() as u8, hit.any_field.count_ones() as u8) } else { (0, 0) };
    (u8::from(!exact) << 4) | ((3 - all.min(3)) << 2) | (3 - any.min(3))
}

/// The ranks at sorted positions `offset..offset + limit` of `hits` (`(class, rank)` in rank order), sorting
/// by class then rank. Two linear passes and no sort: a class's hits are already in rank order.
pub(super) fn page_by_class(hits: &[(u8, u32)], offset: usize, limit: usize) -> Vec<u32> {
    let end = offset.saturating_add(limit).min(hits.len());
    if offset >= end {
        return Vec::new();
    }
    let mut next = [0usize; CLASSES];
    for &(c, _) in hits {
        next[usize::from(c) % CLASSES] += 1;
    }
    let mut start = 0;
    for slot in &mut next {
        let count = *slot;
        *slot = start;
        start += count;
    }
    let mut page = vec![0u32; end - offset];
    for &(c, rank) in hits {
        let slot = &mut next[usize::from(c) % CLASSES];
        if (offset..end).contains(slot) {
            page[*slot - offset] = rank;
        }
        *slot += 1;
    }
    page
}

/// Sorts just enough of `keys` to return the elements at sorted positions `offset..offset + limit`, in order.
/// Linear in `keys.len()` plus `limit · log limit`.
pub(super) fn select_page<K: Ord + Copy>(keys: &mut [K], offset: usize, limit: usize) -> &[K] {
    let n = keys.len();
    let start = offset.min(n);
    let end = offset.saturating_add(limit).min(n);
    if start >= end {
        return &[];
    }
    if end < n {
        keys.select_nth_unstable(end);
    }
    let head = &mut keys[..end];
    if start > 0 {
        head.select_nth_unstable(start);
    }
    let page = &mut head[start..];
    page.sort_unstable();
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<String> {
        let mut v = Vec::new();
        for_each_token(s, &mut String::new(), |t| v.push(t.to_owned()));
        v
    }

    #[test]
    fn tokenizer_lowercases_and_splits() {
        assert_eq!(tokens("Don't Stop (Live) — Beyoncé 2"), ["don", "t", "stop", "live", "beyoncé", "2"]);
        assert!(tokens("  !!  ").is_empty());
        assert_eq!(distinct_tokens("Love love LOVE me"), ["love", "me"]);
    }

    #[test]
    fn gallop_finds_lower_bound() {
        let l = [1, 3, 5, 7, 9, 11, 13];
        for target in 0..15 {
            for from in 0..l.len() {
                let want = from + l[from..].partition_point(|&x| x < target);
                assert_eq!(gallop(&l, from, target), want, "target {target} from {from}");
            }
        }
    }

    #[test]
    fn page_by_class_matches_full_sort() {
        let hits: Vec<(u8, u32)> = (0..300u32).map(|r| ((r.wrapping_mul(2_654_435_761) >> 7) as u8 % 32, r)).collect();
        let mut sorted = hits.clone();
        sorted.sort_unstable();
        for (off, lim) in [(0, 10), (5, 10), (290, 50), (0, 500), (300, 5), (299, 1)] {
            let want: Vec<u32> = sorted.iter().skip(off).take(lim).map(|h| h.1).collect();
            assert_eq!(page_by_class(&hits, off, lim), want);
        }
    }

    #[test]
    fn select_page_matches_full_sort() {
        let base: Vec<u32> = (0..200u32).map(|i| i.wrapping_mul(2_654_435_761) % 1000).collect();
        let mut sorted = base.clone();
        sorted.sort_unstable();
        for (off, lim) in [(0, 10), (5, 10), (190, 50), (0, 500), (300, 5), (199, 1)] {
            let mut k = base.clone();
            let want: Vec<u32> = sorted.iter().skip(off).take(lim).copied().collect();
            assert_eq!(select_page(&mut k, off, lim), want.as_slice());
        }
    }

    #[test]
    fn intersection_checks_fields() {
        let mut b = IndexBuilder::default();
        let (mut a, mut c) = (Vec::new(), Vec::new());
        b.intern("red fox", &mut a);
        b.intern("fox", &mut c);
        b.add(0, &[(&a, TITLE), (&c, 2)]);
        b.add(1, &[(&c, TITLE), (&a, 2)]);
        let idx = b.finish();
        let run = |must: u8| {
            let mut terms = [
                Term { list: Cow::Borrowed(idx.postings("red")), must, matched: false, text: true },
                Term { list: Cow::Borrowed(idx.postings("fox")), must: 0, matched: true, text: false },
            ];
            let mut out = Vec::new();
            intersect(&mut terms, |h| out.push(h.rank));
            out
        };
        assert_eq!(run(0), [0, 1]);
        assert_eq!(run(TITLE), [0]);
        assert_eq!(run(2), [1]);
        assert_eq!(idx.title_tokens(0), 2);
        assert_eq!(idx.title_tokens(1), 1);
    }
}
