//! Search, for every family (spec `music-api.md` §4.2, §5.1), on the catalog's inverted index, never a scan:
//! the search filters and sort orders of search-by-body ([`filters`], [`sort_by`]), one page of one [`Kind`]
//! ([`search`]), the next page of a group of the search view ([`group`], [`next_token`]).

use serde::Deserialize;

use super::error::{Noun, Problem};
use super::library::Paged;
use super::page::{PageRequest, encode_cursor};
use super::views::GroupPage;
use crate::catalog::{Catalog, EntityRef, SearchAll, SearchFilter, SortBy, TrackField};

/// One element of `searchFilters` as sent: `{"field"?: …, "query": …}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterBody {
    #[serde(default)]
    field: Option<String>,
    query: String,
}

/// Checks `searchFilters`: at least one, each with a non-empty query; a `field` only in track search, and then
/// one of the `TrackFieldType` names.
///
/// # Errors
/// [`Problem::BadRequest`] saying what is wrong.
pub fn filters(raw: Option<&[FilterBody]>, tracks: bool) -> Result<Vec<SearchFilter>, Problem> {
    let raw = raw
        .filter(|f| !f.is_empty())
        .ok_or(Problem::bad_request("searchFilters is required: [{\"field\"?: …, \"query\": …}]."))?;
    let mut out = Vec::with_capacity(raw.len());
    for f in raw {
        if f.query.trim().is_empty() {
            return Err(Problem::bad_request("Every search filter needs a non-empty query."));
        }
        match f.field.as_deref() {
            None => out.push(SearchFilter::any(f.query.clone())),
            Some(name) if tracks => {
                let field = TrackField::parse(name).ok_or_else(|| {
                    Problem::bad_request(format!(
                        "Unknown field {name:?}; use one of id, asin, albumId, albumName, artistId, artistName, categoryId, name, isrc."
                    ))
                })?;
                out.push(SearchFilter::field(field, f.query.clone()));
            }
            Some(name) => {
                return Err(Problem::bad_request(format!("Field {name:?} is only supported by track search.")));
            }
        }
    }
    Ok(out)
}

/// Reads `sortBy` (relevance when absent).
///
/// # Errors
/// [`Problem::BadRequest`] for another value.
pub fn sort_by(s: Option<&str>) -> Result<SortBy, Problem> {
    match s {
        None | Some("relevance") => Ok(SortBy::Relevance),
        Some("release") => Ok(SortBy::Release),
        Some("popularity") => Ok(SortBy::Popularity),
        Some("name") => Ok(SortBy::Name),
        Some(other) => {
            Err(Problem::bad_request(format!("sortBy {other:?} is not one of relevance, release, popularity, name.")))
        }
    }
}

/// What a search looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `tracks`: the only kind whose filters may name a field, and that sorts.
    Tracks,
    /// `albums`.
    Albums,
    /// `artists`.
    Artists,
    /// `playlists`.
    Playlists,
    /// `podcastShows`.
    PodcastShows,
    /// `podcastEpisodes`.
    PodcastEpisodes,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 6] =
        [Kind::Tracks, Kind::Albums, Kind::Artists, Kind::Playlists, Kind::PodcastShows, Kind::PodcastEpisodes];

    /// The kind's name in paths and group ids (`tracks`, `podcastShows`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Tracks => "tracks",
            Kind::Albums => "albums",
            Kind::Artists => "artists",
            Kind::Playlists => "playlists",
            Kind::PodcastShows => "podcastShows",
            Kind::PodcastEpisodes => "podcastEpisodes",
        }
    }

    /// The kind a name names.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One page of search results of one kind. Tracks match every filter (and sort by `sort`); the other kinds
/// match the filters' queries as one text, by relevance.
pub fn search(cat: &Catalog, kind: Kind, filters: &[SearchFilter], sort: SortBy, p: PageRequest) -> Paged<EntityRef> {
    let text: String = filters.iter().map(|f| f.query.as_str()).collect::<Vec<_>>().join(" ");
    let (offset, limit) = (p.offset, p.limit);
    let (items, total): (Vec<EntityRef>, usize) = match kind {
        Kind::Tracks => {
            let r = cat.search_tracks(filters, sort, offset, limit);
            (r.items.into_iter().map(EntityRef::Track).collect(), r.total)
        }
        Kind::Albums => {
            let r = cat.search_albums(&text, offset, limit);
            (r.items.into_iter().map(EntityRef::Album).collect(), r.total)
        }
        Kind::Artists => {
            let r = cat.search_artists(&text, offset, limit);
            (r.items.into_iter().map(EntityRef::Artist).collect(), r.total)
        }
        Kind::Playlists => {
            let r = cat.search_playlists(&text, offset, limit);
            (r.items.into_iter().map(EntityRef::Playlist).collect(), r.total)
        }
        Kind::PodcastShows => {
            let r = cat.search_podcast_shows(&text, offset, limit);
            (r.items.into_iter().map(EntityRef::PodcastShow).collect(), r.total)
        }
        Kind::PodcastEpisodes => {
            let r = cat.search_podcast_episodes(&text, offset, limit);
            (r.items.into_iter().map(EntityRef::PodcastEpisode).collect(), r.total)
        }
    };
    Paged { items, offset, total, version: 0 }
}

/// The cursor of the next page of a group of the search view (`tracks`, …; `topHits` has one page only):
/// `None` when the view shows the whole group.
pub fn next_token(r: &SearchAll, group: &str) -> Option<String> {
    let t = &r.totals;
    let (shown, total) = match Kind::parse(group)? {
        Kind::Tracks => (r.tracks.len(), t.tracks),
        Kind::Albums => (r.albums.len(), t.albums),
        Kind::Artists => (r.artists.len(), t.artists),
        Kind::Playlists => (r.playlists.len(), t.playlists),
        Kind::PodcastShows => (r.podcast_shows.len(), t.podcast_shows),
        Kind::PodcastEpisodes => (r.podcast_episodes.len(), t.podcast_episodes),
    };
    (shown < total).then(|| encode_cursor(shown, 0))
}

/// One page of a group of the search view for `query`: `topHits` (one page only) or a kind, by relevance.
///
/// # Errors
/// [`Problem::NotFound`] for another group id.
pub fn group(cat: &Catalog, group: &str, query: String, p: PageRequest) -> Result<GroupPage, Problem> {
    let title = match group {
        "topHits" => "Top hits",
        "tracks" => "Songs",
        "albums" => "Albums",
        "artists" => "Artists",
        "playlists" => "Playlists",
        "podcastShows" => "Podcasts",
        "podcastEpisodes" => "Episodes",
        other => return Err(Problem::not_found(Noun::SearchGroup, other)),
    };
    let page = |entities, next_token| GroupPage { id: group.to_owned(), title: title.to_owned(), entities, next_token };
    let Some(kind) = Kind::parse(group) else {
        let top = cat.search_all(&query, p.limit).top_hits;
        return Ok(page(if p.offset == 0 { top } else { Vec::new() }, None));
    };
    let found = search(cat, kind, &[SearchFilter::any(query)], SortBy::Relevance, p);
    let next = found.offset + found.items.len();
    let token = (!found.items.is_empty() && next < found.total).then(|| encode_cursor(next, 0));
    Ok(page(found.items, token))
}
