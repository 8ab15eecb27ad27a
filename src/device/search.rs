//! Device API search (spec `music-api.md` §7 "Search", §11.4), on the catalog's inverted index:
//! - `GET search/?keywords=&type=&hasExplicit=&count=`: a `Document` whose result `#search` is a navigation
//!   node with one item per non-empty category, each a node inlined in the document: catalog tracks (each
//!   linking to a one-track container), albums, artists (each linking to the artist's node) and the
//!   customer's library (library tracks and albums and own playlists whose title has every keyword).
//!   `type` keeps some categories (`track`, `album`, `artist`, `library`, comma-separated);
//!   `hasExplicit=false` leaves out explicit tracks and albums with an explicit track; `count` is per
//!   category (1–100, default 10).
//! - `GET flat_search/?keywords=&hasExplicit=&count=`: the matching tracks as one track container chunk
//!   (`#chunk`), ready to play.
//!
//! The handlers read the query ([`kinds`] for `type`), gather each category's entries (the catalog's, or the
//! customer's library) and render them ([`results`], or a [`Chunk`] for flat search).

use axum::response::Response;
use serde_json::Value;

use super::browse::{Chunk, chunk_doc};
use super::error::DeviceError;
use super::{DeviceCtx, Doc, Links};
use crate::api::{Caller, Reply, Requires};
use crate::catalog::{Catalog, SearchFilter, SortBy, TrackIdx};
use crate::store::music::Collection;

/// Results per category (search) or in all (flat search) when `count` is not given.
pub const DEFAULT_COUNT: usize = 10;
/// The largest `count`.
pub const MAX_COUNT: usize = 100;

/// A found entry: `(label, reference relative to the root)`.
pub type Entry = (String, String);

struct Query {
    keywords: String,
    explicit: bool,
    count: usize,
}

fn query(ctx: &DeviceCtx) -> Result<Query, DeviceError> {
    let keywords = ctx.query_param("keywords").unwrap_or_default().trim().to_owned();
    if keywords.is_empty() || keywords.chars().count() > 300 {
        return Err(DeviceError::bad_request("keywords must be 1 to 300 characters."));
    }
    let explicit = match ctx.query_param("hasExplicit").as_deref() {
        None | Some("") | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err(DeviceError::bad_request("hasExplicit must be true or false.")),
    };
    let count = match ctx.query_param("count").as_deref() {
        None | Some("") => DEFAULT_COUNT,
        Some(s) => s
            .parse()
            .ok()
            .filter(|n| (1..=MAX_COUNT).contains(n))
            .ok_or_else(|| DeviceError::bad_request(format!("count must be an integer from 1 to {MAX_COUNT}.")))?,
    };
    Ok(Query { keywords, explicit, count })
}

/// Whether an album has an explicit track.
fn explicit_album(cat: &Catalog, a: crate::catalog::AlbumIdx) -> bool {
    cat.album_tracks(a).iter().any(|&t| cat[t].explicit)
}

/// The best `q.count` tracks for the keywords (explicit ones left out when asked).
fn tracks(cat: &Catalog, q: &Query) -> Vec<TrackIdx> {
    let want = if q.explicit { q.count } else { q.count * 5 };
    let page = cat.search_tracks(&[SearchFilter::any(q.keywords.clone())], SortBy::Relevance, 0, want);
    page.items.into_iter().filter(|&t| q.explicit || !cat[t].explicit).take(q.count).collect()
}

/// Whether `title` has every keyword, matched as the catalog search matches words (folded, as a prefix, one
/// typo in long words).
fn title_matches(title: &str, keywords: &str) -> bool {
    crate::catalog::text_matches(title, keywords)
}

/// `(label, relative URL)` of the customer's library entries matching the keywords.
async fn library(ctx: &DeviceCtx, c: &Caller, q: &Query) -> Vec<Entry> {
    let cat = ctx.catalog();
    let music = ctx.session.store.music();
    let mut out = Vec::new();
    for p in music.user_playlists(c.user_id(), 0, usize::MAX).await.items {
        if title_matches(&p.title, &q.keywords) {
            out.push((p.title.clone(), format!("playlist/{}", p.id)));
        }
    }
    for item in music.collection_page(c.user_id(), Collection::LibraryAlbums, 0, usize::MAX).await.items {
        if let Some(a) = cat.album(&item.id) {
            if title_matches(&a.title, &q.keywords) && (q.explicit || !explicit_album(cat, a.idx)) {
                out.push((a.title.to_string(), format!("album/{}", a.id)));
            }
        }
    }
    for item in music.collection_page(c.user_id(), Collection::LibraryTracks, 0, usize::MAX).await.items {
        if let Some(t) = cat.track(&item.id) {
            if title_matches(&t.title, &q.keywords) && (q.explicit || !t.explicit) {
                out.push((t.title.to_string(), format!("track/{}", t.id)));
            }
        }
    }
    out.truncate(q.count);
    out
}

/// A category of search results (`type=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `track`: catalog tracks, each linking to a one-track container.
    Track,
    /// `album`: catalog albums.
    Album,
    /// `artist`: catalog artists, each linking to the artist's node.
    Artist,
    /// `library`: the customer's own playlists and library albums and tracks.
    Library,
}

impl Kind {
    /// Every category, in the order they are listed when `type` is not given.
    pub const ALL: [Kind; 4] = [Kind::Track, Kind::Album, Kind::Artist, Kind::Library];

    /// The `type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Track => "track",
            Kind::Album => "album",
            Kind::Artist => "artist",
            Kind::Library => "library",
        }
    }

    /// `(name, title)` of the category's node.
    fn node(self) -> (&'static str, &'static str) {
        match self {
            Kind::Track => ("tracks", "Songs"),
            Kind::Album => ("albums", "Albums"),
            Kind::Artist => ("artists", "Artists"),
            Kind::Library => ("library", "Your Library"),
        }
    }
}

/// The categories a `type` value keeps, in the order named, each once (names trimmed, any case); none or
/// empty is every category.
///
/// # Errors
/// 400 naming the first value that is not a category.
pub fn kinds(raw: Option<&str>) -> Result<Vec<Kind>, DeviceError> {
    let t = match raw.map(str::trim) {
        None | Some("") => return Ok(Kind::ALL.to_vec()),
        Some(t) => t,
    };
    let mut kinds = Vec::new();
    for k in t.split(',').map(|k| k.trim().to_ascii_lowercase()).filter(|k| !k.is_empty()) {
        let kind = Kind::ALL.into_iter().find(|kind| kind.as_str() == k).ok_or_else(|| {
            DeviceError::bad_request(format!("type {k} is not one of track, album, artist, library."))
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// The catalog's entries of a category for the keywords (none for [`Kind::Library`]: see [`library`]).
fn catalog_entries(cat: &Catalog, q: &Query, kind: Kind) -> Vec<Entry> {
    match kind {
        Kind::Track => {
            tracks(cat, q).into_iter().map(|t| (cat[t].title.to_string(), format!("track/{}", cat[t].id))).collect()
        }
        Kind::Album => {
            let want = if q.explicit { q.count } else { q.count * 5 };
            cat.search_albums(&q.keywords, 0, want)
                .items
                .into_iter()
                .filter(|&a| q.explicit || !explicit_album(cat, a))
                .take(q.count)
                .map(|a| (cat[a].title.to_string(), format!("album/{}", cat[a].id)))
                .collect()
        }
        Kind::Artist => cat
            .search_artists(&q.keywords, 0, q.count)
            .items
            .into_iter()
            .map(|a| (cat[a].name.to_string(), format!("nav/artist/{}", cat[a].id)))
            .collect(),
        Kind::Library => Vec::new(),
    }
}

/// Each category's entries for the query, in the order of `kinds`.
async fn found(ctx: &DeviceCtx, c: &Caller, q: &Query, kinds: Vec<Kind>) -> Vec<(Kind, Vec<Entry>)> {
    let mut buckets = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let entries = match kind {
            Kind::Library => library(ctx, c, q).await,
            kind => catalog_entries(ctx.catalog(), q, kind),
        };
        buckets.push((kind, entries));
    }
    buckets
}

/// The results document: `#search` (`Results for "<keywords>"`) with one item per non-empty category,
/// each a node inlined in the document whose items link to the entries.
pub fn results(links: &Links, keywords: &str, buckets: Vec<(Kind, Vec<Entry>)>) -> Value {
    let mut d = Doc::new("search");
    let mut items = Vec::new();
    for (kind, entries) in buckets {
        if entries.is_empty() {
            continue;
        }
        let (name, title) = kind.node();
        let refs = entries
            .iter()
            .enumerate()
            .map(|(i, (label, rel))| d.link(&format!("{name}_{i}"), label, &links.url(rel)))
            .collect();
        let summary = d.node(name, title, refs);
        items.push(d.item(&format!("search_{name}"), title, &summary));
    }
    d.node("search", &format!("Results for \"{keywords}\""), items);
    d.json()
}

/// `GET search/?keywords=&type=&hasExplicit=&count=`.
pub async fn search(ctx: DeviceCtx) -> Response {
    ctx.handle(Requires::DEVICE, async |c| {
        let q = query(&ctx)?;
        let kinds = kinds(ctx.query_param("type").as_deref())?;
        let buckets = found(&ctx, c, &q, kinds).await;
        Ok(Reply::Ok(results(&ctx.links(), &q.keywords, buckets)))
    })
    .await
}

/// `GET flat_search/?keywords=&hasExplicit=&count=`: the matching tracks as one chunk.
pub async fn flat_search(ctx: DeviceCtx) -> Response {
    ctx.handle(Requires::DEVICE, async |c| {
        let q = query(&ctx)?;
        let found = tracks(ctx.catalog(), &q);
        let chunk =
            Chunk::single(format!("Results for \"{}\"", q.keywords), format!("search:{}", q.keywords), found, None);
        chunk_doc(&ctx, c, chunk).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_titles_match_every_keyword_in_any_case() {
        assert!(title_matches("Ava's Road Trip", "road TRIP"));
        assert!(!title_matches("Ava's Road Trip", "road movie"));
        assert!(title_matches("Ava's Road Trip", "ava's ro"));
        assert!(!title_matches("Anything", "  "));
    }

    #[test]
    fn types_keep_their_first_order_once_and_name_the_first_unknown() {
        assert_eq!(kinds(None).unwrap(), Kind::ALL);
        assert_eq!(kinds(Some("  ")).unwrap(), Kind::ALL);
        assert_eq!(kinds(Some(" Artist, track,,ARTIST ")).unwrap(), [Kind::Artist, Kind::Track]);
        let e = kinds(Some("track,Songs,foo")).unwrap_err();
        assert_eq!(e.explanation, "<p>type songs is not one of track, album, artist, library.</p>");
    }
}
