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

use axum::response::Response;

use super::browse::{Chunk, put_chunk};
use super::error::DeviceError;
use super::{DeviceCtx, Doc};
use crate::api::{Caller, Reply, Requires};
use crate::catalog::{Catalog, SearchFilter, SortBy, TrackIdx};
use crate::store::music::Collection;

/// Results per category (search) or in all (flat search) when `count` is not given.
pub const DEFAULT_COUNT: usize = 10;
/// The largest `count`.
pub const MAX_COUNT: usize = 100;

/// A found entry: `(label, reference relative to the root)`.
type Entry = (String, String);

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

/// Whether `title` has every keyword (words compared in lower case).
fn title_matches(title: &str, keywords: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
    };
    let have = words(title);
    let want = words(keywords);
    !want.is_empty() && want.iter().all(|w| have.contains(w))
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

/// `GET search/?keywords=&type=&hasExplicit=&count=`.
pub async fn search(ctx: DeviceCtx) -> Response {
    ctx.handle(Requires::DEVICE, async |c| {
        let q = query(&ctx)?;
        let mut kinds: Vec<String> = Vec::new();
        match ctx.query_param("type").as_deref().map(str::trim) {
            None | Some("") => kinds.extend(["track", "album", "artist", "library"].map(str::to_owned)),
            Some(t) => {
                for k in t.split(',').map(|k| k.trim().to_ascii_lowercase()).filter(|k| !k.is_empty()) {
                    if !kinds.contains(&k) {
                        kinds.push(k);
                    }
                }
            }
        }
        if let Some(bad) = kinds.iter().find(|k| !matches!(k.as_str(), "track" | "album" | "artist" | "library")) {
            return Err(DeviceError::bad_request(format!("type {bad} is not one of track, album, artist, library.")));
        }
        let cat = ctx.catalog();
        let links = ctx.links();
        let mut buckets: Vec<(&str, &str, Vec<Entry>)> = Vec::new();
        for kind in &kinds {
            match kind.as_str() {
                "track" => {
                    let items = tracks(cat, &q)
                        .into_iter()
                        .map(|t| (cat[t].title.to_string(), format!("track/{}", cat[t].id)))
                        .collect();
                    buckets.push(("tracks", "Songs", items));
                }
                "album" => {
                    let want = if q.explicit { q.count } else { q.count * 5 };
                    let items = cat
                        .search_albums(&q.keywords, 0, want)
                        .items
                        .into_iter()
                        .filter(|&a| q.explicit || !explicit_album(cat, a))
                        .take(q.count)
                        .map(|a| (cat[a].title.to_string(), format!("album/{}", cat[a].id)))
                        .collect();
                    buckets.push(("albums", "Albums", items));
                }
                "artist" => {
                    let items = cat
                        .search_artists(&q.keywords, 0, q.count)
                        .items
                        .into_iter()
                        .map(|a| (cat[a].name.to_string(), format!("nav/artist/{}", cat[a].id)))
                        .collect();
                    buckets.push(("artists", "Artists", items));
                }
                _ => buckets.push(("library", "Your Library", library(&ctx, c, &q).await)),
            }
        }
        let mut d = Doc::new("search");
        let mut items = Vec::new();
        for (name, title, entries) in buckets {
            if entries.is_empty() {
                continue;
            }
            let refs = entries
                .iter()
                .enumerate()
                .map(|(i, (label, rel))| d.link(&format!("{name}_{i}"), label, &links.url(rel)))
                .collect();
            let summary = d.node(name, title, refs);
            items.push(d.item(&format!("search_{name}"), title, &summary));
        }
        d.node("search", &format!("Results for \"{}\"", q.keywords), items);
        Ok(Reply::Ok(d.json()))
    })
    .await
}

/// `GET flat_search/?keywords=&hasExplicit=&count=`: the matching tracks as one chunk.
pub async fn flat_search(ctx: DeviceCtx) -> Response {
    ctx.handle(Requires::DEVICE, async |c| {
        let q = query(&ctx)?;
        let found = tracks(ctx.catalog(), &q);
        let mut d = Doc::new("chunk");
        let chunk = Chunk {
            title: format!("Results for \"{}\"", q.keywords),
            container: format!("search:{}", q.keywords),
            tracks: found.into_iter().enumerate().collect(),
            blocked: None,
            station: false,
            next: serde_json::Value::Null,
            prev: serde_json::Value::Null,
        };
        put_chunk(&ctx, c, &mut d, chunk).await?;
        Ok(Reply::Ok(d.json()))
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
        assert!(!title_matches("Anything", "  "));
    }
}
