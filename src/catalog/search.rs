//! Catalog search: V1 `POST /v1/search/tracks` filters and sort orders, the name searches behind the other
//! search endpoints, and the cross-type `GET /v1/search`.
//!
//! Every search runs on the inverted indexes built once per catalog (see `text`); a query intersects posting
//! lists and never scans the catalog. Results come as a [`Page`] of indices plus the total hit count.
//!
//! Semantics (spec §4.2; details 🔶/💡 where the docs are silent):
//! - Filters AND together; the words of one filter AND together. Words are alphanumeric runs, folded: NFKD,
//!   combining marks dropped, lowercase (`Beyoncé` and `BEYONCE` are both `beyonce`), in the index and the query.
//! - A query word matches every indexed word it begins (search as you type: `lov` finds `love` and `lovers`,
//!   one letter finds the words starting with it); a query word of five letters or more also matches words
//!   one edit away (Levenshtein distance 1: `strnge` finds `strange`; `roze` finds nothing). A word matching
//!   several indexed words stands for the union of their documents.
//! - A filter without `field` matches words in the title, album title or artist names, each word in any of
//!   them (`rose maya st`: `rose` in the title, `maya` and `st(one)` in the artist name).
//! - `name`, `albumName`, `artistName` require each word in that field, matched the same way; `id`/`asin`,
//!   `albumId`, `artistId` (own or featured), `categoryId` (genre slug) and `isrc` are exact lookups.
//! - A filter whose query has no words, a word matching no indexed word or an unknown id matches nothing; no
//!   filters match nothing.
//! - `relevance`: exact title first (the title's words are exactly the query's); then titles matched whole
//!   through a prefix or typo (`lov` → "Love"); then hits whose words all match exactly, then with a prefix,
//!   then with a typo (a document's word quality is the worst over the query's words, each taking its best
//!   match); then the number of fields holding every match word, then the number holding any; then popularity.
//!   `popularity`: most popular first. `name`: title A→Z (case-insensitive). `release`: newest first. Every
//!   order breaks ties by id, so paging is stable.
//! - The name searches (albums, artists, playlists, shows, episodes) and `GET /v1/search` match the same way;
//!   its top hits are the entities whose name has exactly the query's folded words.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::derived::{FIELD2, FIELD3, RankedIndex};
use super::ids::{AlbumIdx, ArtistIdx, EpisodeIdx, PlaylistIdx, ShowIdx, TrackIdx};
use super::model::Genre;
use super::text::{
    ClassPager, EXACT, InvertedIndex, Postings, TITLE, Term, distinct_tokens, intersect, max_hits, posting, rank_of,
    ranked_page, relevance_class, select_page, title_class,
};
use super::{Catalog, EntityRef};

/// `TrackFieldType` of V1 track search (spec §4.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TrackField {
    /// Track ASIN.
    Id,
    /// Track ASIN (same as `id`).
    Asin,
    /// Album ASIN.
    AlbumId,
    /// Words of the album title.
    AlbumName,
    /// Artist ASIN (primary or featured).
    ArtistId,
    /// Words of an artist name.
    ArtistName,
    /// Genre slug, e.g. `rock`.
    CategoryId,
    /// Words of the track title.
    Name,
    /// ISRC, hyphens optional.
    Isrc,
}

impl TrackField {
    /// Every field, in the spec's order.
    pub const ALL: [TrackField; 9] = [
        Self::Id,
        Self::Asin,
        Self::AlbumId,
        Self::AlbumName,
        Self::ArtistId,
        Self::ArtistName,
        Self::CategoryId,
        Self::Name,
        Self::Isrc,
    ];

    /// The wire name, e.g. `albumName`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Asin => "asin",
            Self::AlbumId => "albumId",
            Self::AlbumName => "albumName",
            Self::ArtistId => "artistId",
            Self::ArtistName => "artistName",
            Self::CategoryId => "categoryId",
            Self::Name => "name",
            Self::Isrc => "isrc",
        }
    }

    /// Parses a wire name (exact spelling).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// One element of V1 `searchFilters`: `{"field"?: TrackField, "query": "…"}`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SearchFilter {
    /// The field to match; `None` is a "match query" over title, album and artist names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<TrackField>,
    /// The words or id to look for.
    pub query: String,
}

impl SearchFilter {
    /// A match query (no field).
    pub fn any(query: impl Into<String>) -> Self {
        Self { field: None, query: query.into() }
    }

    /// A query on one field.
    pub fn field(field: TrackField, query: impl Into<String>) -> Self {
        Self { field: Some(field), query: query.into() }
    }
}

/// V1 `sortBy` of track search.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortBy {
    /// Best match first (the default).
    #[default]
    Relevance,
    /// Newest release first.
    Release,
    /// Most popular first.
    Popularity,
    /// Title A→Z.
    Name,
}

/// One page of results: the items at `offset..offset + limit` and the total number of hits.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Page<T> {
    /// The page's items, in result order.
    pub items: Vec<T>,
    /// How many results the query has in all.
    pub total: usize,
}

impl<T> Page<T> {
    fn empty() -> Self {
        Self { items: Vec::new(), total: 0 }
    }
}

/// Results of [`Catalog::search_all`]: top hits plus the best results of each type (`GET /v1/search`).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct SearchAll {
    /// Best hits across types: exact-name matches first, then the types' leaders in turn.
    pub top_hits: Vec<EntityRef>,
    /// Best tracks.
    pub tracks: Vec<TrackIdx>,
    /// Best albums.
    pub albums: Vec<AlbumIdx>,
    /// Best artists.
    pub artists: Vec<ArtistIdx>,
    /// Best curated playlists.
    pub playlists: Vec<PlaylistIdx>,
    /// Best podcast shows.
    pub podcast_shows: Vec<ShowIdx>,
    /// Best podcast episodes.
    pub podcast_episodes: Vec<EpisodeIdx>,
    /// How many results each type has in all (for a "see all" page).
    pub totals: SearchTotals,
}

/// The number of results of each type behind a [`SearchAll`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SearchTotals {
    /// Tracks.
    pub tracks: usize,
    /// Albums.
    pub albums: usize,
    /// Artists.
    pub artists: usize,
    /// Curated playlists.
    pub playlists: usize,
    /// Podcast shows.
    pub podcast_shows: usize,
    /// Podcast episodes.
    pub podcast_episodes: usize,
}

/// A query word and what is required of it, merged over all filters that use it.
struct WordTerm {
    word: String,
    must: u8,
    matched: bool,
    text: bool,
}

fn add_words(words: &mut Vec<WordTerm>, query: &str, must: u8, matched: bool, text: bool) -> bool {
    let toks = distinct_tokens(query);
    for t in &toks {
        match words.iter_mut().find(|w| w.word == *t) {
            Some(w) => {
                w.must |= must;
                w.matched |= matched;
                w.text |= text;
            }
            None => words.push(WordTerm { word: t.clone(), must, matched, text }),
        }
    }
    !toks.is_empty()
}

impl Catalog {
    /// V1 track search: `filters` AND together; returns the page at `offset..offset + limit` in `sort` order
    /// and the total number of matching tracks. See the module docs for the exact semantics.
    pub fn search_tracks(&self, filters: &[SearchFilter], sort: SortBy, offset: usize, limit: usize) -> Page<TrackIdx> {
        let ranked = &self.derived.tracks;
        let mut words: Vec<WordTerm> = Vec::new();
        let mut id_lists: Vec<Cow<'_, [u32]>> = Vec::new();
        for f in filters {
            let q = f.query.trim();
            let ok = match f.field {
                None => add_words(&mut words, q, 0, true, true),
                Some(TrackField::Name) => add_words(&mut words, q, TITLE, false, true),
                Some(TrackField::AlbumName) => add_words(&mut words, q, FIELD2, false, false),
                Some(TrackField::ArtistName) => add_words(&mut words, q, FIELD3, false, false),
                Some(field) => match self.id_postings(field, q) {
                    Some(list) if !list.is_empty() => {
                        id_lists.push(list);
                        true
                    }
                    _ => false,
                },
            };
            if !ok {
                return Page::empty();
            }
        }
        let Some(mut terms) = word_terms(&ranked.index, &words) else {
            return Page::empty();
        };
        terms.extend(id_lists.into_iter().map(|list| Term {
            list: Postings::List(list, EXACT),
            must: 0,
            matched: false,
            text: false,
        }));
        let text_terms = words.iter().filter(|w| w.text).count();
        let has_match = words.iter().any(|w| w.matched);
        // Relevance without words degenerates to popularity order.
        let sort = if sort == SortBy::Relevance && text_terms == 0 { SortBy::Popularity } else { sort };
        let to_track = |rank: u32| TrackIdx(ranked.by_rank[rank as usize]);
        let docs = ranked.index.docs();

        if sort == SortBy::Popularity {
            // A single list needing no field check is already the answer, in order.
            if let [Term { list, must: 0, .. }] = terms.as_slice() {
                if let Some(list) = list.as_one_list() {
                    let items = list.iter().skip(offset).take(limit).map(|&p| to_track(rank_of(p))).collect();
                    return Page { items, total: list.len() };
                }
            }
            let end = offset.saturating_add(limit);
            let mut total = 0;
            let mut items = Vec::new();
            intersect(&mut terms, docs, |h| {
                if (offset..end).contains(&total) {
                    items.push(to_track(h.rank));
                }
                total += 1;
            });
            return Page { items, total };
        }
        let orders = &self.derived.track_orders;
        match sort {
            SortBy::Name | SortBy::Release => {
                let (ranks, perm) = if sort == SortBy::Name {
                    (&orders.name_rank, &orders.by_name)
                } else {
                    (&orders.release_rank, &orders.by_release)
                };
                let mut keys = Vec::with_capacity(max_hits(&terms));
                intersect(&mut terms, docs, |h| keys.push(ranks[h.rank as usize]));
                let total = keys.len();
                let items = select_page(&mut keys, offset, limit).iter().map(|&k| TrackIdx(perm[k as usize])).collect();
                Page { items, total }
            }
            _ => {
                if let Some((ranks, total)) = ranked_page(&terms, offset, limit) {
                    return Page { items: ranks.into_iter().map(to_track).collect(), total };
                }
                let mut pager = ClassPager::new(offset, limit);
                let index = &ranked.index;
                intersect(&mut terms, docs, |h| {
                    let title = title_class(&h, text_terms, index.title_tokens(h.rank));
                    pager.push(relevance_class(&h, title, has_match), h.rank);
                });
                let items = pager.page().into_iter().map(to_track).collect();
                Page { items, total: pager.total() }
            }
        }
    }

    /// Postings (sorted popularity ranks) of an exact-id filter; `None` when the id is unknown.
    fn id_postings(&self, field: TrackField, q: &str) -> Option<Cow<'_, [u32]>> {
        let rank_of = &self.derived.tracks.rank_of;
        let from_tracks = |tracks: &[TrackIdx]| {
            let mut v: Vec<u32> = tracks.iter().map(|t| posting(rank_of[t.get()])).collect();
            v.sort_unstable();
            v.dedup();
            Cow::Owned(v)
        };
        match field {
            TrackField::Id | TrackField::Asin => self.track(q).map(|t| from_tracks(&[t.idx])),
            TrackField::AlbumId => self.album(q).map(|a| from_tracks(self.album_tracks(a.idx))),
            TrackField::ArtistId => self.artist(q).map(|a| from_tracks(self.artist_tracks(a.idx))),
            TrackField::Isrc => Some(from_tracks(&self.track_by_isrc(q))),
            TrackField::CategoryId => Genre::from_id(q)
                .and_then(|g| self.derived.track_orders.genre_postings.get(usize::from(g.0)))
                .map(|l| Cow::Borrowed(l.as_slice())),
            TrackField::AlbumName | TrackField::ArtistName | TrackField::Name => None,
        }
    }

    /// Albums whose title or artist name has every word of `query`; relevance order.
    pub fn search_albums(&self, query: &str, offset: usize, limit: usize) -> Page<AlbumIdx> {
        map_page(name_search(&self.derived.albums, query, offset, limit), AlbumIdx)
    }

    /// Artists whose name has every word of `query`; relevance order.
    pub fn search_artists(&self, query: &str, offset: usize, limit: usize) -> Page<ArtistIdx> {
        map_page(name_search(&self.derived.artists, query, offset, limit), ArtistIdx)
    }

    /// Curated playlists whose title or description has every word of `query`; relevance order.
    pub fn search_playlists(&self, query: &str, offset: usize, limit: usize) -> Page<PlaylistIdx> {
        map_page(name_search(&self.derived.playlists, query, offset, limit), PlaylistIdx)
    }

    /// Podcast shows whose title or publisher has every word of `query`; relevance order.
    pub fn search_podcast_shows(&self, query: &str, offset: usize, limit: usize) -> Page<ShowIdx> {
        map_page(name_search(&self.derived.shows, query, offset, limit), ShowIdx)
    }

    /// Podcast episodes whose title or show title has every word of `query`; relevance order.
    pub fn search_podcast_episodes(&self, query: &str, offset: usize, limit: usize) -> Page<EpisodeIdx> {
        map_page(name_search(&self.derived.episodes, query, offset, limit), EpisodeIdx)
    }

    /// `GET /v1/search`: up to `per_type` results of each type plus up to `per_type` top hits.
    ///
    /// Top hits: entities whose name equals the query (same words, any order) come first, in the type order
    /// artist, track, album, playlist, show, episode; then the types' best results take turns in that order.
    /// No auto-correction (💡 left out).
    pub fn search_all(&self, query: &str, per_type: usize) -> SearchAll {
        let tracks = self.search_tracks(&[SearchFilter::any(query)], SortBy::Relevance, 0, per_type);
        let albums = self.search_albums(query, 0, per_type);
        let artists = self.search_artists(query, 0, per_type);
        let playlists = self.search_playlists(query, 0, per_type);
        let podcast_shows = self.search_podcast_shows(query, 0, per_type);
        let podcast_episodes = self.search_podcast_episodes(query, 0, per_type);
        let totals = SearchTotals {
            tracks: tracks.total,
            albums: albums.total,
            artists: artists.total,
            playlists: playlists.total,
            podcast_shows: podcast_shows.total,
            podcast_episodes: podcast_episodes.total,
        };
        let (tracks, albums, artists) = (tracks.items, albums.items, artists.items);
        let (playlists, podcast_shows, podcast_episodes) =
            (playlists.items, podcast_shows.items, podcast_episodes.items);
        let groups: [Vec<EntityRef>; 6] = [
            artists.iter().map(|&i| EntityRef::Artist(i)).collect(),
            tracks.iter().map(|&i| EntityRef::Track(i)).collect(),
            albums.iter().map(|&i| EntityRef::Album(i)).collect(),
            playlists.iter().map(|&i| EntityRef::Playlist(i)).collect(),
            podcast_shows.iter().map(|&i| EntityRef::PodcastShow(i)).collect(),
            podcast_episodes.iter().map(|&i| EntityRef::PodcastEpisode(i)).collect(),
        ];
        let want = distinct_tokens(query);
        let mut top_hits: Vec<EntityRef> = Vec::new();
        for g in &groups {
            for &e in g {
                if top_hits.len() < per_type && same_words(&distinct_tokens(self.entity_name(e)), &want) {
                    top_hits.push(e);
                }
            }
        }
        let longest = groups.iter().map(Vec::len).max().unwrap_or(0);
        'fill: for i in 0..longest {
            for g in &groups {
                if top_hits.len() >= per_type {
                    break 'fill;
                }
                if let Some(&e) = g.get(i) {
                    if !top_hits.contains(&e) {
                        top_hits.push(e);
                    }
                }
            }
        }
        SearchAll { top_hits, tracks, albums, artists, playlists, podcast_shows, podcast_episodes, totals }
    }

    /// The display name or title of any entity.
    pub fn entity_name(&self, e: EntityRef) -> &str {
        let name = match e {
            EntityRef::Track(i) => self.tracks.get(i.get()).map(|t| &t.title),
            EntityRef::Album(i) => self.albums.get(i.get()).map(|a| &a.title),
            EntityRef::Artist(i) => self.artists.get(i.get()).map(|a| &a.name),
            EntityRef::Playlist(i) => self.playlists.get(i.get()).map(|p| &p.title),
            EntityRef::PodcastShow(i) => self.shows.get(i.get()).map(|s| &s.title),
            EntityRef::PodcastEpisode(i) => self.episodes.get(i.get()).map(|e| &e.title),
        };
        name.map_or("", |n| n)
    }
}

fn same_words(a: &[String], b: &[String]) -> bool {
    !a.is_empty() && a.len() == b.len() && a.iter().all(|w| b.contains(w))
}

/// One term per query word: the union of the posting lists of the tokens it matches; `None` when a word
/// matches no token (so the query has no hits).
fn word_terms<'a>(index: &'a InvertedIndex, words: &[WordTerm]) -> Option<Vec<Term<'a>>> {
    let mut terms = Vec::with_capacity(words.len() + 1);
    for w in words {
        let list = index.postings(&w.word)?;
        terms.push(Term { list, must: w.must, matched: w.matched, text: w.text });
    }
    Some(terms)
}

fn map_page<T>(p: Page<u32>, f: impl Fn(u32) -> T) -> Page<T> {
    Page { items: p.items.into_iter().map(f).collect(), total: p.total }
}

/// Relevance-ordered search of one [`RankedIndex`] for documents having every word of `query` in any field.
fn name_search(r: &RankedIndex, query: &str, offset: usize, limit: usize) -> Page<u32> {
    let mut words = Vec::new();
    if !add_words(&mut words, query, 0, true, true) {
        return Page::empty();
    }
    let Some(mut terms) = word_terms(&r.index, &words) else {
        return Page::empty();
    };
    if let Some((ranks, total)) = ranked_page(&terms, offset, limit) {
        return Page { items: ranks.into_iter().map(|rank| r.by_rank[rank as usize]).collect(), total };
    }
    let mut pager = ClassPager::new(offset, limit);
    intersect(&mut terms, r.index.docs(), |h| {
        let title = title_class(&h, words.len(), r.index.title_tokens(h.rank));
        pager.push(relevance_class(&h, title, true), h.rank);
    });
    let items = pager.page().into_iter().map(|rank| r.by_rank[rank as usize]).collect();
    Page { items, total: pager.total() }
}
