//! Text search machinery: the tokenizer, the inverted index and the posting-list intersection that every
//! search in the catalog runs on.
//!
//! Documents are addressed by their *rank* (0 = most popular), not by their entity index, so every posting list
//! is sorted by popularity and an intersection yields hits in popularity order. Each posting packs
//! `rank << 3 | field_mask`, where the mask says in which of up to three fields (bit 0 = title or name) the token
//! occurs; one list per token then serves both "match" queries (any field) and field queries.
//!
//! Tokens are folded (NFKD, combining marks dropped, lowercase), so `Beyoncé` is indexed as `beyonce`. The
//! vocabulary is an [`fst::Map`] from token to token id ([`Vocab`]; a small one is built on its first search):
//! a query word is matched against it by automata, as a
//! prefix of any token (search-as-you-type) and, for words of [`TYPO_MIN_CHARS`] or more, within one edit
//! (Levenshtein distance 1). The word then stands for the union of the posting lists of every token it
//! matches, each carrying how well it matched ([`EXACT`], [`PREFIX`], [`TYPO`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use fst::automaton::{Automaton, Levenshtein, Str};
use fst::{IntoStreamer, Streamer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Field bit of the primary text field (track title, album title, artist name, …).
pub(super) const TITLE: u8 = 1;
/// Number of bits a posting reserves for the field mask.
const MASK_BITS: u32 = 3;
/// Largest number of documents one index can hold (ranks must fit next to the mask in a `u32`).
pub(super) const MAX_DOCS: usize = 1 << (32 - MASK_BITS);

/// Match quality of a query word: the word is a whole token.
pub(super) const EXACT: u8 = 0;
/// Match quality of a query word: the word is the start of a longer token.
pub(super) const PREFIX: u8 = 1;
/// Match quality of a query word: the word is one edit away from a token (and not a prefix of it).
pub(super) const TYPO: u8 = 2;
/// Query words of at least this many characters also match tokens one edit away.
pub(super) const TYPO_MIN_CHARS: usize = 5;

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

/// Splits `text` into folded alphanumeric words and calls `f` with each; `buf` is scratch space.
///
/// Every non-alphanumeric character separates words, so `"Don't Stop (Live)"` gives `don`, `t`, `stop`, `live`.
/// Words are folded: compatibility-decomposed (NFKD), stripped of combining marks and lowercased, so
/// `"Beyoncé"` and `"BEYONCE"` both give `beyonce` and `"ﬁre"` gives `fire`.
pub(super) fn for_each_token(text: &str, buf: &mut String, mut f: impl FnMut(&str)) {
    buf.clear();
    let mut flush = |buf: &mut String| {
        if !buf.is_empty() {
            f(buf);
            buf.clear();
        }
    };
    for c in text.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                buf.push(c.to_ascii_lowercase());
            } else {
                flush(buf);
            }
            continue;
        }
        for d in std::iter::once(c).nfkd() {
            if is_combining_mark(d) {
                continue;
            }
            if d.is_alphanumeric() {
                buf.extend(d.to_lowercase().filter(|&l| !is_combining_mark(l)));
            } else {
                flush(buf);
            }
        }
    }
    flush(buf);
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

/// Whether every word of `query` matches a word of `text` the way an indexed search matches it (folded; as a
/// prefix; within one edit for words of [`TYPO_MIN_CHARS`] or more), for the few texts that are not indexed
/// (a customer's own playlists in the Device API's library search). A query without words matches nothing.
pub(crate) fn text_matches(text: &str, query: &str) -> bool {
    let have = distinct_tokens(text);
    let want = distinct_tokens(query);
    let accepts = |aut: &dyn Fn(&str) -> bool| have.iter().any(|h| aut(h));
    !want.is_empty()
        && want.iter().all(|w| {
            let prefix = Str::new(w).starts_with();
            if accepts(&|h: &str| runs(&prefix, h)) {
                return true;
            }
            w.chars().count() >= TYPO_MIN_CHARS
                && Levenshtein::new(w, 1).is_ok_and(|lev| accepts(&|h: &str| runs(&lev, h)))
        })
}

/// Whether automaton `a` accepts the whole of `s`.
fn runs<A: Automaton>(a: &A, s: &str) -> bool {
    let mut state = a.start();
    for &b in s.as_bytes() {
        if !a.can_match(&state) {
            return false;
        }
        state = a.accept(&state, b);
    }
    a.is_match(&state)
}

/// The vocabulary of an index of fewer documents than this becomes its FST on its first search rather than at
/// build time. The FST builder starts with a table of 20,000 nodes (allocated, filled, freed: about a
/// megabyte), which for the six small indexes of the default catalog was a fifth of the server's start-up; a
/// server that is never asked to search never builds them. A large index (from the size at which the server
/// builds its catalog behind `listening on`, `BACKGROUND_CATALOG`) has its FST built at once, so that no search
/// waits for it.
const LAZY_VOCAB_DOCS: usize = 100_000;

/// Token → token id (the position of its posting list), as an FST, built at once or on first use
/// ([`LAZY_VOCAB_DOCS`]).
#[derive(Default)]
pub(super) struct Vocab {
    /// The sorted, distinct tokens with their ids, until the FST is built from them (empty once built at once).
    tokens: Box<[(Box<str>, u32)]>,
    map: std::sync::OnceLock<fst::Map<Vec<u8>>>,
}

impl Vocab {
    /// The dictionary of `tokens` (sorted, distinct) of an index of `docs` documents.
    fn new(tokens: Vec<(Box<str>, u32)>, docs: usize) -> Self {
        if docs < LAZY_VOCAB_DOCS {
            return Vocab { tokens: tokens.into_boxed_slice(), map: std::sync::OnceLock::new() };
        }
        Vocab { tokens: Box::default(), map: Self::build(&tokens).into() }
    }

    fn build(tokens: &[(Box<str>, u32)]) -> fst::Map<Vec<u8>> {
        // Keys are sorted and distinct, which is all the builder asks for.
        fst::Map::from_iter(tokens.iter().map(|(t, id)| (t.as_bytes(), u64::from(*id)))).unwrap_or_default()
    }

    /// The FST (built now if it was not).
    fn map(&self) -> &fst::Map<Vec<u8>> {
        self.map.get_or_init(|| Self::build(&self.tokens))
    }

    /// Bytes on the heap: the FST if built, the tokens it is built from if kept.
    fn heap_bytes(&self) -> usize {
        let tokens: usize = self.tokens.iter().map(|(t, _)| t.len() + 24).sum();
        tokens + self.map.get().map_or(0, |m| m.as_fst().as_bytes().len())
    }
}

/// An inverted index from tokens to posting lists of packed `rank << 3 | mask` values, sorted ascending.
#[derive(Default)]
pub(super) struct InvertedIndex {
    /// Token → token id (the position of its posting list).
    vocab: Vocab,
    postings: Vec<Vec<u32>>,
    /// Per rank: the number of distinct tokens in the title field (saturating), for exact-title detection.
    title_tokens: Vec<u8>,
    /// The union of the posting lists of every token starting with a short prefix that matches a large share
    /// of the documents ([`DenseUnions`]); empty below [`LAZY_VOCAB_DOCS`] documents.
    dense: DenseUnions,
}

/// Prefixes of up to this many characters whose tokens cover a large share of an index (1 / [`DENSE_SHARE`] of
/// its documents or more) have their union of postings precomputed. Longer query words also match tokens one
/// edit away (from [`TYPO_MIN_CHARS`]) or are rare enough to merge at query time.
const DENSE_PREFIX_CHARS: usize = TYPO_MIN_CHARS - 1;

/// The precomputed unions of a large index's dense prefixes. A one-letter word typed into a search box at a
/// million tracks matches some 600,000 of them through hundreds of tokens; merging those lists per query took
/// half of the query's time, and ranking the hits the other half.
#[derive(Default)]
struct DenseUnions {
    unions: FxMap<Box<str>, DenseUnion>,
}

/// The documents of one dense prefix.
struct DenseUnion {
    /// Sorted postings (`rank << 3 | mask`, the mask the fields of every token the prefix begins).
    union: Box<[u32]>,
    /// The ranks of the first [`TOP_RANKED`] documents of the prefix searched alone in any field, in relevance
    /// order ([`relevance_class`] of a one-word match query, then popularity).
    top: Box<[u32]>,
}

/// How many documents of a dense prefix searched alone are kept in relevance order: ten pages of the largest
/// page (100) a search returns.
const TOP_RANKED: usize = 1_000;

impl DenseUnions {
    /// The unions of every dense prefix of up to [`DENSE_PREFIX_CHARS`] characters of `tokens` (sorted,
    /// distinct, with their ids into `postings`) over the documents whose title token counts are `titles`.
    fn build(tokens: &[(Box<str>, u32)], postings: &[Vec<u32>], titles: &[u8]) -> Self {
        let docs = titles.len();
        let mut unions: FxMap<Box<str>, DenseUnion> = FxMap::default();
        // One byte per document: the fields of the tokens seen so far, with bit 3 marking presence. One array
        // for every prefix rather than `Postings::merge`'s new one per prefix: at a million tracks those
        // hundred-odd megabyte arrays left the process 14 MiB larger once ready.
        let mut seen = vec![0u8; docs];
        let list = |id: u32| postings.get(id as usize).map_or(&[][..], Vec::as_slice);
        for chars in 1..=DENSE_PREFIX_CHARS {
            let mut start = 0;
            while start < tokens.len() {
                let Some(prefix) = char_prefix(&tokens[start].0, chars) else {
                    start += 1;
                    continue;
                };
                // Sorted tokens sharing a prefix are consecutive, the prefix itself (if a token) first.
                let end = start + tokens[start..].partition_point(|(t, _)| t.starts_with(prefix));
                let group = &tokens[start..end];
                start = end;
                let size: usize = group.iter().map(|&(_, id)| list(id).len()).sum();
                // A prefix of one token only is that token's list already.
                if group.len() < 2 || size.saturating_mul(DENSE_SHARE) <= docs {
                    continue;
                }
                for &(_, id) in group {
                    for &p in list(id) {
                        if let Some(slot) = seen.get_mut(rank_of(p) as usize) {
                            *slot |= 0b1000 | (p & 0b111) as u8;
                        }
                    }
                }
                let mut union = Vec::with_capacity(size.min(docs));
                for (rank, slot) in seen.iter_mut().enumerate() {
                    if *slot != 0 {
                        union.push((rank as u32) << MASK_BITS | u32::from(*slot & 0b111));
                        *slot = 0;
                    }
                }
                let exact = group.first().filter(|(t, _)| **t == *prefix).map_or(&[][..], |&(_, id)| list(id));
                let top = ranked_alone(Postings::Prefix { union: &union, exact, top: &[] }, titles, TOP_RANKED);
                unions.insert(prefix.into(), DenseUnion { union: union.into_boxed_slice(), top: top.into() });
            }
        }
        DenseUnions { unions }
    }

    fn heap_bytes(&self) -> usize {
        self.unions.iter().map(|(k, u)| k.len() + (u.union.len() + u.top.len()) * 4 + 56).sum()
    }
}

/// The first `limit` ranks of the documents of one word searched alone in any field, in relevance order: the
/// query's own ranking ([`intersect`], [`title_class`], [`relevance_class`], [`ClassPager`]).
fn ranked_alone(list: Postings<'_>, titles: &[u8], limit: usize) -> Vec<u32> {
    let mut terms = [Term { list, must: 0, matched: true, text: true }];
    let mut pager = ClassPager::new(0, limit);
    intersect(&mut terms, titles.len(), |h| {
        let title = title_class(&h, 1, titles.get(h.rank as usize).copied().unwrap_or(0));
        pager.push(relevance_class(&h, title, true), h.rank);
    });
    pager.page()
}

/// When `terms` is one word searched alone in any field (a match query of one word, no field filters) and
/// that word is a dense prefix, the ranks at relevance positions `offset..offset + limit` and the number of
/// hits, from the order kept at build time; `None` otherwise (or past the kept order).
pub(super) fn ranked_page(terms: &[Term<'_>], offset: usize, limit: usize) -> Option<(Vec<u32>, usize)> {
    let [Term { list: Postings::Prefix { union, top, .. }, must: 0, matched: true, text: true }] = terms else {
        return None;
    };
    let end = offset.saturating_add(limit).min(union.len());
    if end > top.len() {
        return None;
    }
    Some((top.get(offset..end).unwrap_or_default().to_vec(), union.len()))
}

/// The first `chars` characters of `token`, if it has that many.
fn char_prefix(token: &str, chars: usize) -> Option<&str> {
    match token.char_indices().nth(chars) {
        Some((end, _)) => Some(&token[..end]),
        None => (token.chars().count() == chars).then_some(token),
    }
}

impl InvertedIndex {
    /// The non-empty posting lists of every token that the (folded) query `word` matches, with the match
    /// quality: tokens starting with `word` ([`EXACT`] when equal, else [`PREFIX`]) and, when `word` has at
    /// least [`TYPO_MIN_CHARS`] characters, tokens one edit away ([`TYPO`]). Sorted by quality.
    pub(super) fn matches(&self, word: &str) -> Vec<(&[u32], u8)> {
        let mut out: Vec<(&[u32], u8)> = Vec::new();
        let mut push = |id: u64, q: u8| {
            if let Some(list) = self.postings.get(id as usize).filter(|l| !l.is_empty()) {
                out.push((list, q));
            }
        };
        let vocab = self.vocab.map();
        let mut prefixed = vocab.search(Str::new(word).starts_with()).into_stream();
        while let Some((token, id)) = prefixed.next() {
            push(id, if token == word.as_bytes() { EXACT } else { PREFIX });
        }
        if word.chars().count() >= TYPO_MIN_CHARS {
            // A one-edit automaton of a short word is small; one that fails to build (too many states) only
            // loses the typo matches.
            if let Ok(lev) = Levenshtein::new(word, 1) {
                let mut near = vocab.search(lev).into_stream();
                while let Some((token, id)) = near.next() {
                    if !token.starts_with(word.as_bytes()) {
                        push(id, TYPO);
                    }
                }
            }
        }
        out.sort_by_key(|&(_, q)| q);
        out
    }

    /// The documents of the (folded) query `word`, with the quality of each match ([`Self::matches`]); `None`
    /// when it matches no token. A dense prefix comes precomputed ([`DenseUnions`]).
    pub(super) fn postings(&self, word: &str) -> Option<Postings<'_>> {
        if let Some(DenseUnion { union, top }) = self.dense.unions.get(word) {
            let exact = self.vocab.map().get(word).and_then(|id| self.postings.get(id as usize));
            return Some(Postings::Prefix { union, exact: exact.map_or(&[][..], Vec::as_slice), top });
        }
        let lists = self.matches(word);
        (!lists.is_empty()).then(|| Postings::of_matches(lists))
    }

    /// Number of documents.
    pub(super) fn docs(&self) -> usize {
        self.title_tokens.len()
    }

    /// Number of distinct title tokens of the document at `rank`.
    pub(super) fn title_tokens(&self, rank: u32) -> u8 {
        self.title_tokens.get(rank as usize).copied().unwrap_or(0)
    }

    /// Approximate heap size in bytes.
    pub(super) fn heap_bytes(&self) -> usize {
        let lists: usize = self.postings.iter().map(|p| p.capacity() * 4 + 24).sum();
        lists + self.vocab.heap_bytes() + self.title_tokens.capacity() + self.dense.heap_bytes()
    }
}

/// Builds an [`InvertedIndex`]; documents must be added in increasing rank order.
#[derive(Default)]
pub(super) struct IndexBuilder {
    vocab: FxMap<Box<str>, u32>,
    index: InvertedIndex,
    scratch: Vec<(u32, u8)>,
    buf: String,
}

impl IndexBuilder {
    /// Appends the token ids of `text` (with repeats) to `out`, adding unknown tokens to the vocabulary.
    pub(super) fn intern(&mut self, text: &str, out: &mut Vec<u32>) {
        let Self { vocab, index, buf, .. } = self;
        for_each_token(text, buf, |tok| {
            let id = match vocab.get(tok) {
                Some(&id) => id,
                None => {
                    let id = index.postings.len() as u32;
                    vocab.insert(tok.into(), id);
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

    /// Finishes the index: the vocabulary becomes an FST (now, or on its first search: [`Vocab`]), a large
    /// index's dense prefixes get their unions ([`DenseUnions`]), spare capacity is trimmed.
    pub(super) fn finish(self) -> InvertedIndex {
        self.finish_with_unions_from(LAZY_VOCAB_DOCS)
    }

    /// [`Self::finish`], precomputing dense prefix unions from `min_docs` documents.
    fn finish_with_unions_from(mut self, min_docs: usize) -> InvertedIndex {
        let mut tokens: Vec<(Box<str>, u32)> = self.vocab.into_iter().collect();
        tokens.sort_unstable();
        let docs = self.index.title_tokens.len();
        if docs >= min_docs {
            self.index.dense = DenseUnions::build(&tokens, &self.index.postings, &self.index.title_tokens);
        }
        self.index.vocab = Vocab::new(tokens, docs);
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

/// A posting's match code: `(quality + 1) << 3 | field_mask`; 0 means "not present".
fn code(quality: u8, p: u32) -> u8 {
    ((quality + 1) << MASK_BITS) | (p & 0b111) as u8
}

/// Two codes of one document for one query word: the fields of both, the better quality.
fn merge_codes(a: u8, b: u8) -> u8 {
    match (a, b) {
        (0, c) | (c, 0) => c,
        _ => ((a >> MASK_BITS).min(b >> MASK_BITS) << MASK_BITS) | ((a | b) & 0b111),
    }
}

/// Below this share of the documents (1 / `DENSE_SHARE`), a union of posting lists is merged into a sorted
/// list; above it, into a dense per-document array (a very short prefix can match most of the catalog, where a
/// byte per document beats sorting).
const DENSE_SHARE: usize = 32;

/// The documents of one query conjunct, with each document's match code.
pub(super) enum Postings<'a> {
    /// One sorted posting list whose postings all match with the given quality.
    List(Cow<'a, [u32]>, u8),
    /// Several sorted posting lists with their qualities, not yet merged (looked up one by one when the
    /// intersection has few candidates).
    Lists(Vec<(&'a [u32], u8)>),
    /// Merged lists: sorted `rank << 8 | code`, one entry per document.
    Merged(Vec<u64>),
    /// Merged lists: the code of every document by rank (0 = absent).
    Dense(Vec<u8>),
    /// A precomputed union of the lists of every token starting with a word ([`DenseUnions`]), and the word's
    /// own list: a document in both matches [`EXACT`]ly, in the union only as a [`PREFIX`]. `top`: the first
    /// ranks of the word searched alone, in relevance order ([`ranked_page`]).
    Prefix { union: &'a [u32], exact: &'a [u32], top: &'a [u32] },
}

impl<'a> Postings<'a> {
    /// The postings of a query word given the lists it matches ([`InvertedIndex::matches`]).
    pub(super) fn of_matches(mut lists: Vec<(&'a [u32], u8)>) -> Self {
        match lists.len() {
            1 => {
                let (l, q) = lists.swap_remove(0);
                Self::List(Cow::Borrowed(l), q)
            }
            _ => Self::Lists(lists),
        }
    }

    /// The postings as one sorted list, one posting per document, when they are one (`List`, `Prefix`).
    pub(super) fn as_one_list(&self) -> Option<&[u32]> {
        match self {
            Self::List(l, _) => Some(l),
            Self::Prefix { union, .. } => Some(union),
            Self::Lists(_) | Self::Merged(_) | Self::Dense(_) => None,
        }
    }

    /// Number of postings (an upper bound of the number of documents).
    fn size(&self) -> usize {
        match self {
            Self::List(l, _) => l.len(),
            Self::Lists(ls) => ls.iter().map(|(l, _)| l.len()).sum(),
            Self::Merged(v) => v.len(),
            Self::Dense(d) => d.len(),
            Self::Prefix { union, .. } => union.len(),
        }
    }

    /// Merges `Lists` into `Merged` or `Dense` (by how much of `docs` documents they cover).
    fn merge(&mut self, docs: usize) {
        let Self::Lists(lists) = self else {
            return;
        };
        let size: usize = lists.iter().map(|(l, _)| l.len()).sum();
        if size.saturating_mul(DENSE_SHARE) > docs {
            let mut dense = vec![0u8; docs];
            // Lists come best quality first, so the first code a document gets has its best quality.
            for &(list, q) in lists.iter() {
                let c = code(q, 0);
                for &p in list {
                    if let Some(slot) = dense.get_mut(rank_of(p) as usize) {
                        let m = (p & 0b111) as u8;
                        *slot = if *slot == 0 { c | m } else { *slot | m };
                    }
                }
            }
            *self = Self::Dense(dense);
        } else {
            let mut v: Vec<u64> = Vec::with_capacity(size);
            for &(list, q) in lists.iter() {
                v.extend(list.iter().map(|&p| u64::from(rank_of(p)) << 8 | u64::from(code(q, p))));
            }
            v.sort_unstable();
            let mut out: Vec<u64> = Vec::with_capacity(v.len());
            for x in v {
                match out.last_mut() {
                    Some(last) if *last >> 8 == x >> 8 => {
                        *last = (*last & !0xFF) | u64::from(merge_codes(*last as u8, x as u8));
                    }
                    _ => out.push(x),
                }
            }
            *self = Self::Merged(out);
        }
    }

    /// Turns the postings into a byte per document (`Dense`).
    fn densify(&mut self, docs: usize) {
        if let Self::Lists(_) = self {
            self.merge(docs);
        }
        if let Self::Dense(_) = self {
            return;
        }
        let mut dense = vec![0u8; docs];
        self.for_each(|rank, c| {
            if let Some(slot) = dense.get_mut(rank as usize) {
                *slot = c;
            }
            true
        });
        *self = Self::Dense(dense);
    }

    /// Calls `f` with `(rank, code)` of every document, in rank order (`Lists` must have been merged).
    fn for_each(&self, mut f: impl FnMut(u32, u8) -> bool) {
        match self {
            Self::List(l, q) => {
                for &p in l.iter() {
                    if !f(rank_of(p), code(*q, p)) {
                        return;
                    }
                }
            }
            Self::Merged(v) => {
                for &x in v {
                    if !f((x >> 8) as u32, x as u8) {
                        return;
                    }
                }
            }
            Self::Dense(d) => {
                // Eight documents at a time: most of a dense array can be empty.
                let mut chunks = d.chunks_exact(8);
                let mut base = 0u32;
                for c in &mut chunks {
                    if c.iter().any(|&b| b != 0) {
                        for (i, &b) in c.iter().enumerate() {
                            if b != 0 && !f(base + i as u32, b) {
                                return;
                            }
                        }
                    }
                    base += 8;
                }
                for (i, &b) in chunks.remainder().iter().enumerate() {
                    if b != 0 && !f(base + i as u32, b) {
                        return;
                    }
                }
            }
            Self::Prefix { union, exact, .. } => {
                let mut e = 0;
                for &p in union.iter() {
                    let rank = rank_of(p);
                    while exact.get(e).is_some_and(|&x| rank_of(x) < rank) {
                        e += 1;
                    }
                    let q = if exact.get(e).is_some_and(|&x| rank_of(x) == rank) { EXACT } else { PREFIX };
                    if !f(rank, code(q, p)) {
                        return;
                    }
                }
            }
            Self::Lists(ls) => {
                debug_assert!(false, "unmerged lists cannot drive an intersection");
                let _ = ls;
            }
        }
    }

    /// The code of the document at `rank` (0 = absent); lookups must come in increasing rank order, `cursors`
    /// keeps the positions (one per list).
    fn find(&self, cursors: &mut Vec<usize>, rank: u32) -> u8 {
        match self {
            Self::List(l, q) => {
                cursors.resize(1, 0);
                let pos = gallop(l, cursors[0], posting(rank));
                cursors[0] = pos;
                match l.get(pos) {
                    Some(&p) if rank_of(p) == rank => code(*q, p),
                    _ => 0,
                }
            }
            Self::Lists(ls) => {
                cursors.resize(ls.len(), 0);
                let mut c = 0;
                for (&(l, q), cur) in ls.iter().zip(cursors.iter_mut()) {
                    let pos = gallop(l, *cur, posting(rank));
                    *cur = pos;
                    if let Some(&p) = l.get(pos).filter(|&&p| rank_of(p) == rank) {
                        c = merge_codes(c, code(q, p));
                    }
                }
                c
            }
            Self::Merged(v) => {
                cursors.resize(1, 0);
                let pos = gallop(v, cursors[0], u64::from(rank) << 8);
                cursors[0] = pos;
                match v.get(pos) {
                    Some(&x) if x >> 8 == u64::from(rank) => x as u8,
                    _ => 0,
                }
            }
            Self::Dense(d) => d.get(rank as usize).copied().unwrap_or(0),
            Self::Prefix { union, exact, .. } => {
                cursors.resize(2, 0);
                let pos = gallop(union, cursors[0], posting(rank));
                cursors[0] = pos;
                let Some(&p) = union.get(pos).filter(|&&p| rank_of(p) == rank) else {
                    return 0;
                };
                let e = gallop(exact, cursors[1], posting(rank));
                cursors[1] = e;
                let q = if exact.get(e).is_some_and(|&x| rank_of(x) == rank) { EXACT } else { PREFIX };
                code(q, p)
            }
        }
    }
}

/// One conjunct of a query: the documents of a query word or id filter, and what a posting must satisfy.
pub(super) struct Term<'a> {
    /// The documents.
    pub list: Postings<'a>,
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
    /// The worst match quality of the words ([`EXACT`], [`PREFIX`] or [`TYPO`]).
    pub quality: u8,
}

/// First position at or after `from` whose value is `>= target` (exponential then binary search).
fn gallop<T: Copy + Ord>(list: &[T], from: usize, target: T) -> usize {
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

/// An upper bound of the number of hits of `terms` (the smallest term's size), for pre-sizing buffers.
pub(super) fn max_hits(terms: &[Term<'_>]) -> usize {
    terms.iter().map(|t| t.list.size()).min().unwrap_or(0)
}

/// Calls `visit` with every document present in all `terms`, in rank order. No terms means no hits.
///
/// The smallest term drives: its documents are looked up in the others. A word matching several tokens is
/// merged first when it drives or when looking up each of its lists would cost more than merging them; the
/// merge is a sorted list, or a byte per document when the union covers much of the catalog.
pub(super) fn intersect(terms: &mut [Term<'_>], docs: usize, mut visit: impl FnMut(Hit)) {
    terms.sort_by_key(|t| t.list.size());
    let Some((first, rest)) = terms.split_first_mut() else {
        return;
    };
    first.list.merge(docs);
    let candidates = first.list.size();
    for t in rest.iter_mut() {
        match &t.list {
            // Looking up each list costs about a binary search per candidate and list.
            Postings::Lists(ls) if candidates.saturating_mul(ls.len()).saturating_mul(8) > t.list.size() => {
                t.list.merge(docs);
            }
            // Dense candidates ("s l") looked up in a dense union: a byte per document is cheaper than searching.
            Postings::Prefix { .. } if candidates.saturating_mul(DENSE_SHARE) > docs => t.list.densify(docs),
            _ => {}
        }
    }
    let mut cursors: Vec<Vec<usize>> = vec![Vec::new(); rest.len()];
    first.list.for_each(|rank, c| {
        let mut hit = Hit { rank, all_fields: 0b111, any_field: 0, title_hits: 0, quality: EXACT };
        if !accept(first, c, &mut hit) {
            return true;
        }
        for (term, cur) in rest.iter().zip(cursors.iter_mut()) {
            let c = term.list.find(cur, rank);
            if c == 0 || !accept(term, c, &mut hit) {
                return true;
            }
        }
        visit(hit);
        true
    });
}

fn accept(term: &Term<'_>, c: u8, hit: &mut Hit) -> bool {
    let mask = c & 0b111;
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
    hit.quality = hit.quality.max((c >> MASK_BITS).saturating_sub(1));
    true
}

/// Number of distinct relevance classes ([`relevance_class`] is below this).
const CLASSES: usize = 256;

/// How a hit's title relates to the query: [`TITLE_EXACT`], [`TITLE_WHOLE`] or [`TITLE_OTHER`].
pub(super) fn title_class(h: &Hit, text_terms: usize, title_tokens: u8) -> u8 {
    let whole = text_terms > 0 && usize::from(h.title_hits) == text_terms && usize::from(title_tokens) == text_terms;
    match (whole, h.quality) {
        (true, EXACT) => TITLE_EXACT,
        (true, _) => TITLE_WHOLE,
        _ => TITLE_OTHER,
    }
}

/// The title is exactly the query's words (any order).
pub(super) const TITLE_EXACT: u8 = 0;
/// Every title word is matched by a query word, some as a prefix or with a typo ("lov" and "Love").
pub(super) const TITLE_WHOLE: u8 = 1;
/// The title has words the query does not match.
pub(super) const TITLE_OTHER: u8 = 2;

/// The relevance class of a hit (smaller sorts first): its [`title_class`], then the worst match quality of
/// its words (all exact, then some prefix, then some typo), then the number of fields holding every match
/// token, then the number of fields holding any. Within a class hits sort by popularity rank, which is the
/// order [`intersect`] produces them in.
pub(super) fn relevance_class(hit: &Hit, title: u8, has_match_terms: bool) -> u8 {
    let (all, any) =
        if has_match_terms { (hit.all_fields.count_ones() as u8, hit.any_field.count_ones() as u8) } else { (0, 0) };
    (title.min(3) << 6) | (hit.quality.min(3) << 4) | ((3 - all.min(3)) << 2) | (3 - any.min(3))
}

/// Gathers one page of hits sorted by relevance class then rank, from hits that come in rank order (as
/// [`intersect`] gives them): it counts every hit but keeps, per class, only the first `offset + limit` (no
/// later hit of a class can be on the page). A short prefix at a million documents has hundreds of thousands
/// of hits; this keeps at most a page per class of them.
pub(super) struct ClassPager {
    offset: usize,
    end: usize,
    counts: Vec<usize>,
    kept: Vec<Vec<u32>>,
}

impl ClassPager {
    /// A pager for the sorted positions `offset..offset + limit`.
    pub(super) fn new(offset: usize, limit: usize) -> Self {
        ClassPager {
            offset,
            end: offset.saturating_add(limit),
            counts: vec![0; CLASSES],
            kept: vec![Vec::new(); CLASSES],
        }
    }

    /// Takes the next hit (ranks must not decrease).
    pub(super) fn push(&mut self, class: u8, rank: u32) {
        let c = usize::from(class);
        self.counts[c] += 1;
        if self.kept[c].len() < self.end {
            self.kept[c].push(rank);
        }
    }

    /// How many hits were pushed.
    pub(super) fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// The ranks at sorted positions `offset..offset + limit`.
    pub(super) fn page(&self) -> Vec<u32> {
        let mut page = Vec::new();
        let mut start = 0;
        for (count, kept) in self.counts.iter().zip(&self.kept) {
            let (from, to) = (self.offset.max(start), self.end.min(start + count));
            if from < to {
                // Positions below `end` within a class are below `end` in it, so they were kept.
                page.extend_from_slice(&kept[from - start..to - start]);
            }
            start += count;
            if start >= self.end {
                break;
            }
        }
        page
    }
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

    #[test]
    fn a_small_vocabulary_becomes_its_fst_on_first_use_and_a_large_one_at_once_with_the_same_answers() {
        let tokens = |n: usize| -> Vec<(Box<str>, u32)> {
            let mut v: Vec<(Box<str>, u32)> = (0..n).map(|i| (format!("w{i:06}").into(), i as u32)).collect();
            v.sort_unstable();
            v
        };
        let prefixed = |v: &Vocab, p: &str| -> Vec<u64> {
            let mut out = Vec::new();
            let mut st = v.map().search(Str::new(p).starts_with()).into_stream();
            while let Some((_, id)) = st.next() {
                out.push(id);
            }
            out
        };
        let small = Vocab::new(tokens(1_000), LAZY_VOCAB_DOCS - 1);
        assert!(small.map.get().is_none(), "not built before its first search");
        assert_eq!(prefixed(&small, "w00099"), vec![990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
        assert!(small.map.get().is_some());
        let large = Vocab::new(tokens(5_000), LAZY_VOCAB_DOCS);
        assert!(large.map.get().is_some() && large.tokens.is_empty(), "built at once, its tokens dropped");
        assert_eq!(prefixed(&large, "w00099"), prefixed(&small, "w00099"));
        assert_eq!(prefixed(&large, "w0049").len(), 100);
    }

    fn tokens(s: &str) -> Vec<String> {
        let mut v = Vec::new();
        for_each_token(s, &mut String::new(), |t| v.push(t.to_owned()));
        v
    }

    #[test]
    fn tokenizer_lowercases_and_splits() {
        assert_eq!(tokens("Don't Stop (Live) — Beyoncé 2"), ["don", "t", "stop", "live", "beyonce", "2"]);
        // Decomposed input, compatibility forms and capitals fold the same way.
        assert_eq!(tokens("Beyonce\u{301} ÉCLAIR ﬁre Ⅻ Straße"), ["beyonce", "eclair", "fire", "xii", "straße"]);
        assert!(tokens("  !!  ").is_empty());
        assert_eq!(distinct_tokens("Love love LOVE me"), ["love", "me"]);
    }

    #[test]
    fn unindexed_texts_match_like_the_index() {
        assert!(text_matches("Ava's Road Trip", "road TRIP"));
        assert!(text_matches("Ava's Road Trip", "ava ro"));
        assert!(text_matches("Café Mornings", "cafe mornigs"));
        assert!(!text_matches("Ava's Road Trip", "road movie"));
        assert!(!text_matches("Ava's Road Trip", "raod"), "four letters: no typo");
        assert!(!text_matches("Anything", "  "));
    }

    #[test]
    fn matches_carry_their_quality() {
        let mut b = IndexBuilder::default();
        let mut ids = Vec::new();
        b.intern("strange stranger strand stage", &mut ids);
        b.add(0, &[(&ids, TITLE)]);
        let idx = b.finish();
        let got = |w: &str| idx.matches(w).into_iter().map(|(l, q)| (l.len(), q)).collect::<Vec<_>>();
        // "stranger" is one edit away but a prefix match first; "strand" is two edits away.
        assert_eq!(got("strange"), [(1, EXACT), (1, PREFIX)]);
        assert_eq!(got("stran"), [(1, PREFIX), (1, PREFIX), (1, PREFIX)]);
        assert_eq!(got("strnge"), [(1, TYPO)]);
        assert!(got("stge").is_empty(), "no typo under five letters");
        assert!(got("x").is_empty());
    }

    #[test]
    fn merged_and_dense_unions_agree_with_lookups() {
        // Three tokens over 200 documents; a word matching all three, merged both ways and looked up per list.
        let mut b = IndexBuilder::default();
        let (mut a, mut c, mut d) = (Vec::new(), Vec::new(), Vec::new());
        b.intern("rose", &mut a);
        b.intern("roses", &mut c);
        b.intern("rosy", &mut d);
        for rank in 0..200u32 {
            let mut fields: Vec<(&[u32], u8)> = Vec::new();
            if rank % 3 == 0 {
                fields.push((&a, TITLE));
            }
            if rank % 5 == 0 {
                fields.push((&c, 2));
            }
            if rank % 7 == 0 {
                fields.push((&d, 4));
            }
            b.add(rank, &fields);
        }
        let idx = b.finish();
        let lists = idx.matches("ros");
        let mut dense = Postings::Lists(lists.clone());
        dense.merge(200);
        assert!(matches!(dense, Postings::Dense(_)));
        let mut merged = Postings::Lists(lists.clone());
        merged.merge(usize::MAX);
        assert!(matches!(merged, Postings::Merged(_)));
        let per_list = Postings::Lists(lists);
        let mut seen = Vec::new();
        merged.for_each(|r, c| {
            seen.push((r, c));
            true
        });
        let mut from_dense = Vec::new();
        dense.for_each(|r, c| {
            from_dense.push((r, c));
            true
        });
        assert_eq!(seen, from_dense);
        let mut cur = Vec::new();
        let looked_up: Vec<(u32, u8)> =
            (0..200).map(|r| (r, per_list.find(&mut cur, r))).filter(|x| x.1 != 0).collect();
        assert_eq!(seen, looked_up);
        let want: Vec<(u32, u8)> = (0..200u32)
            .filter(|r| r % 3 == 0 || r % 5 == 0 || r % 7 == 0)
            .map(|r| {
                let mask = u8::from(r % 3 == 0) | u8::from(r % 5 == 0) << 1 | u8::from(r % 7 == 0) << 2;
                (r, ((PREFIX + 1) << 3) | mask)
            })
            .collect();
        assert_eq!(seen, want, "\"ros\" is a prefix of each");
    }

    #[test]
    fn precomputed_prefix_unions_answer_as_the_merged_lists() {
        // 400 documents over tokens sharing prefixes; some hold "s" itself, fields vary.
        let vocab = ["s", "sa", "sab", "sabc", "sb", "se", "t", "ta", "zé", "zee", "u"];
        let mut b = IndexBuilder::default();
        let ids: Vec<Vec<u32>> = vocab.iter().map(|w| b.intern_vec(w)).collect();
        for rank in 0..400u32 {
            let mut fields: Vec<(&[u32], u8)> = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                let h = rank.wrapping_mul(2_654_435_761).rotate_left(i as u32 * 3);
                if h % (3 + i as u32) == 0 {
                    fields.push((id, 1 << (h % 3)));
                }
            }
            b.add(rank, &fields);
        }
        let idx = b.finish_with_unions_from(0);
        let walk = |p: &Postings<'_>| {
            let mut out = Vec::new();
            p.for_each(|r, c| {
                out.push((r, c));
                true
            });
            out
        };
        for word in ["s", "sa", "sab", "sabc", "sb", "t", "ta", "z", "ze", "u"] {
            let pre = idx.postings(word).expect("a known prefix");
            // Prefixes of two tokens or more are precomputed; a prefix of one token is that token's list.
            let several = ["s", "sa", "sab", "t", "z", "ze"].contains(&word);
            assert_eq!(matches!(pre, Postings::Prefix { .. }), several, "{word}");
            let mut merged = Postings::of_matches(idx.matches(word));
            merged.merge(usize::MAX);
            let want = walk(&merged);
            assert!(!want.is_empty());
            assert_eq!(walk(&pre), want, "{word}: the same documents with the same codes");
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for rank in 0..400 {
                assert_eq!(pre.find(&mut a, rank), merged.find(&mut b, rank), "{word} at {rank}");
            }
            assert_eq!(pre.as_one_list().map(<[u32]>::len), Some(want.len()));
            let mut dense = idx.postings(word).unwrap();
            dense.densify(400);
            assert!(matches!(dense, Postings::Dense(_)));
            assert_eq!(walk(&dense), want, "{word}: densified");
        }
        assert!(walk(&idx.postings("s").unwrap()).iter().any(|&(_, c)| c >> MASK_BITS == EXACT + 1));
        // The order kept for a word searched alone is the query's own ranking, as far as it is kept.
        for word in ["s", "sa", "sab", "t"] {
            let query = |list| [Term { list, must: 0, matched: true, text: true }];
            let mut merged = Postings::of_matches(idx.matches(word));
            merged.merge(usize::MAX);
            let all = ranked_alone(merged, &idx.title_tokens, usize::MAX);
            let total = all.len();
            let kept = query(idx.postings(word).unwrap());
            for (off, lim) in [(0, 10), (7, 20), (total - 3, 10), (total, 5)] {
                let want = all.iter().skip(off).take(lim).copied().collect::<Vec<_>>();
                assert_eq!(ranked_page(&kept, off, lim), Some((want, total)), "{word} {off} {lim}");
            }
            assert!(all.windows(2).any(|w| w[0] > w[1]), "{word}: relevance is not popularity alone here");
            // A field filter (`must`) or a page past the kept order asks the query itself.
            let mut field = query(idx.postings(word).unwrap());
            field[0].must = TITLE;
            assert_eq!(ranked_page(&field, 0, 10), None);
        }
        let mut short = IndexBuilder::default();
        let id = short.intern_vec("sun sea");
        for rank in 0..(TOP_RANKED as u32 + 10) {
            short.add(rank, &[(&id, TITLE)]);
        }
        let short = short.finish_with_unions_from(0);
        let kept = [Term { list: short.postings("s").unwrap(), must: 0, matched: true, text: true }];
        assert_eq!(ranked_page(&kept, 0, 10).map(|p| p.1), Some(TOP_RANKED + 10));
        assert_eq!(ranked_page(&kept, TOP_RANKED - 5, 10), None, "past the kept order");
        assert!(idx.postings("x").is_none() && idx.postings("sabcde").is_none());
        // Below the threshold nothing is precomputed; the answers are the lists merged at query time.
        let mut b = IndexBuilder::default();
        let id = b.intern_vec("sun");
        b.add(0, &[(&id, TITLE)]);
        assert!(matches!(b.finish().postings("s"), Some(Postings::List(_, PREFIX))));
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
    fn the_class_pager_matches_a_full_sort() {
        let hits: Vec<(u8, u32)> = (0..300u32).map(|r| ((r.wrapping_mul(2_654_435_761) >> 7) as u8, r)).collect();
        let mut sorted = hits.clone();
        sorted.sort_unstable();
        for (off, lim) in [(0, 10), (5, 10), (290, 50), (0, 500), (300, 5), (299, 1)] {
            let want: Vec<u32> = sorted.iter().skip(off).take(lim).map(|h| h.1).collect();
            let mut pager = ClassPager::new(off, lim);
            for &(c, r) in &hits {
                pager.push(c, r);
            }
            assert_eq!(pager.page(), want, "{off} {lim}");
            assert_eq!(pager.total(), hits.len());
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
                Term { list: Postings::of_matches(idx.matches("red")), must, matched: false, text: true },
                Term { list: Postings::of_matches(idx.matches("fox")), must: 0, matched: true, text: false },
            ];
            let mut out = Vec::new();
            intersect(&mut terms, idx.docs(), |h| out.push(h.rank));
            out
        };
        assert_eq!(run(0), [0, 1]);
        assert_eq!(run(TITLE), [0]);
        assert_eq!(run(2), [1]);
        assert_eq!(idx.title_tokens(0), 2);
        assert_eq!(idx.title_tokens(1), 1);
    }
}
