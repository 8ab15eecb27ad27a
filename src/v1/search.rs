//! Search (spec `music-api.md` §4.2): `POST /v1/search/tracks` with `searchFilters`, `limit`, `token` and
//! `sortBy`; the other `POST /v1/search/<type>` routes; and `GET /v1/search?query=&limit=` across every
//! type. Scope `music::catalog`. Search runs on the catalog's inverted index, never a scan.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::MusicError;
use super::page::request;
use super::{V1Body, V1Ctx, V1Path, parse_body};
use crate::api::Requires;
use crate::catalog::{SearchFilter, SortBy, TrackField};

/// One element of `searchFilters` as sent: `{"field"?: …, "query": …}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterBody {
    #[serde(default)]
    field: Option<String>,
    query: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SearchBody {
    search_filters: Option<Vec<FilterBody>>,
    #[serde(default)]
    limit: Option<Value>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    sort_by: Option<String>,
}

fn limit_text(v: &Option<Value>) -> Result<Option<String>, MusicError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(MusicError::bad_request("Malformed request. limit must be an integer.")),
    }
}

/// Checks `searchFilters` (V1 and V2 search-by-body): at least one, each with a non-empty query; a `field` only
/// in track search, and then one of the `TrackFieldType` names. The error says what is wrong.
///
/// # Errors
/// A sentence for the family's 400 message.
pub fn search_filters(raw: Option<&[FilterBody]>, tracks: bool) -> Result<Vec<SearchFilter>, String> {
    let raw = raw.filter(|f| !f.is_empty()).ok_or("searchFilters is required: [{\"field\"?: …, \"query\": …}].")?;
    let mut out = Vec::with_capacity(raw.len());
    for f in raw {
        if f.query.trim().is_empty() {
            return Err("Every search filter needs a non-empty query.".to_owned());
        }
        match f.field.as_deref() {
            None => out.push(SearchFilter::any(f.query.clone())),
            Some(name) if tracks => {
                let field = TrackField::parse(name).ok_or_else(|| {
                    format!(
                        "Unknown field {name:?}; use one of id, asin, albumId, albumName, artistId, artistName, categoryId, name, isrc."
                    )
                })?;
                out.push(SearchFilter::field(field, f.query.clone()));
            }
            Some(name) => return Err(format!("Field {name:?} is only supported by track search.")),
        }
    }
    Ok(out)
}

/// Reads `sortBy` (V1 and V2 search-by-body); the error says what is wrong.
///
/// # Errors
/// A sentence for the family's 400 message.
pub fn sort_by(s: Option<&str>) -> Result<SortBy, String> {
    match s {
        None | Some("relevance") => Ok(SortBy::Relevance),
        Some("release") => Ok(SortBy::Release),
        Some("popularity") => Ok(SortBy::Popularity),
        Some("name") => Ok(SortBy::Name),
        Some(other) => Err(format!("sortBy {other:?} is not one of relevance, release, popularity, name.")),
    }
}

fn sort(s: Option<&str>) -> Result<SortBy, MusicError> {
    sort_by(s).map_err(MusicError::bad_request)
}

/// `POST /v1/search/{kind}`: `tracks` → `data.searchTracks`; `albums`, `artists`, `playlists`,
/// `podcastShows`, `podcastEpisodes` → `data.search<Kind>`. Edges are `{node}`; the next page's token is
/// `pageInfo.token`, sent back as `token` in the body.
pub async fn search_kind(ctx: V1Ctx, kind: V1Path<String>, body: V1Body) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let kind = kind.get()?;
        let b: SearchBody = parse_body(body.bytes()?)?;
        let tracks = kind == "tracks";
        let f = search_filters(b.search_filters.as_deref(), tracks).map_err(MusicError::bad_request)?;
        let limit = limit_text(&b.limit)?;
        let max = ctx.session.store.settings().await.search_limit_max.clamp(1, 100) as usize;
        let p = request(limit.as_deref(), b.token.as_deref(), max.min(100), max)?;
        let cat = ctx.catalog();
        let query: String = f.iter().map(|x| x.query.as_str()).collect::<Vec<_>>().join(" ");
        let (key, nodes, total): (&str, Vec<Value>, usize) = match kind.as_str() {
            "tracks" => {
                let r = cat.search_tracks(&f, sort(b.sort_by.as_deref())?, p.offset, p.limit);
                ("searchTracks", r.items.iter().map(|&t| cat.track_json(&cat[t])).collect(), r.total)
            }
            "albums" => {
                let r = cat.search_albums(&query, p.offset, p.limit);
                ("searchAlbums", r.items.iter().map(|&a| cat.album_json(&cat[a])).collect(), r.total)
            }
            "artists" => {
                let r = cat.search_artists(&query, p.offset, p.limit);
                ("searchArtists", r.items.iter().map(|&a| cat.artist_json(&cat[a])).collect(), r.total)
            }
            "playlists" => {
                let r = cat.search_playlists(&query, p.offset, p.limit);
                ("searchPlaylists", r.items.iter().map(|&x| cat.playlist_json(&cat[x])).collect(), r.total)
            }
            "podcastShows" => {
                let r = cat.search_podcast_shows(&query, p.offset, p.limit);
                let shows = r.items.iter().map(|&s| super::catalog::show_with_first_episodes(cat, &cat[s])).collect();
                ("searchPodcastShows", shows, r.total)
            }
            "podcastEpisodes" => {
                let r = cat.search_podcast_episodes(&query, p.offset, p.limit);
                ("searchPodcastEpisodes", r.items.iter().map(|&e| cat.podcast_episode_json(&cat[e])).collect(), r.total)
            }
            other => return Err(MusicError::not_found("search type", other)),
        };
        if !tracks && b.sort_by.is_some() {
            sort(b.sort_by.as_deref())?;
        }
        let n = nodes.len();
        let edges: Vec<Value> = nodes.into_iter().map(|node| json!({ "node": node })).collect();
        Ok(json!({ key: { "pageInfo": super::page::page_info(p.offset, n, total, 0), "edgeCount": n, "edges": edges } }))
    })
    .await
}

/// `GET /v1/search?query=&limit=` → `data: [View "catalog"]` whose first group is "Top hits"; `limit` is
/// per type (default 10). An empty query is a 400.
pub async fn search_all(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let query = ctx.query_param("query").unwrap_or_default();
        if query.trim().is_empty() {
            return Err(MusicError::bad_request("Malformed request. query must not be empty."));
        }
        let p = request(ctx.query_param("limit").as_deref(), None, 10, 100)?;
        let cat = ctx.catalog();
        let r = cat.search_all(query.trim(), p.limit);
        Ok(json!([cat.search_view_json(&r)]))
    })
    .await
}
