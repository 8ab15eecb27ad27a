//! V2 search (spec `music-api.md` §5.1, §11.3), scope `music::catalog`, on the same inverted index as V1:
//! - `GET /v2/search?query=&limit=&territory=`: one `catalog` View (`{_type, id, entity, title, content{…,
//!   entityGroups}}`) whose first group is "Top hits" (a single page), then one group per type with results,
//!   each with its own `content.nextPageToken`;
//! - `GET /v2/search/{groupId}?query=&first=&after=`: the next pages of one group (the group's `id` is the
//!   `groupId`, its `nextPageToken` the `after`), as views page their groups;
//! - `POST /v2/search/tracks|albums|artists|playlists` with `query` and/or `searchFilters` (track filters may
//!   name a `field`, `isrc` included), `first`, `after`, `territory`, `sortBy` → `{items, nextToken}`.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::V2Error;
use super::{MAX_FIRST, Reply, V2Ctx, check_territory, entities, list, page_request};
use crate::api::{ApiBody, ApiPath, Requires};
use crate::catalog::{Catalog, EntityRef, SearchFilter};
use crate::v1::page::encode_cursor;
use crate::v1::search::{FilterBody, search_filters, sort_by};

/// Per-type results of `GET /v2/search` when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 10;

fn query_of(raw: Option<String>) -> Result<String, V2Error> {
    let q = raw.unwrap_or_default();
    let q = q.trim();
    if q.is_empty() || q.chars().count() > 300 {
        return Err(V2Error::bad_request("query parameter must be 1 to 300 characters"));
    }
    Ok(q.to_owned())
}

/// `GET /v2/search?query=&limit=&territory=` → the `catalog` View.
pub async fn search(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let query = query_of(ctx.query_param("query"))?;
        let limit = match ctx.query_param("limit").as_deref().map(str::trim) {
            None | Some("") => DEFAULT_LIMIT,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_FIRST).contains(n))
                .ok_or_else(|| V2Error::bad_request("limit parameter must be between 1 and 100"))?,
        };
        check_territory(ctx.query_param("territory").as_deref())?;
        let cat = ctx.catalog();
        let r = cat.search_all(&query, limit);
        let t = r.totals;
        let next = |id: &str| -> Option<String> {
            let (shown, total) = match id {
                "tracks" => (r.tracks.len(), t.tracks),
                "albums" => (r.albums.len(), t.albums),
                "artists" => (r.artists.len(), t.artists),
                "playlists" => (r.playlists.len(), t.playlists),
                "podcastShows" => (r.podcast_shows.len(), t.podcast_shows),
                "podcastEpisodes" => (r.podcast_episodes.len(), t.podcast_episodes),
                _ => return None,
            };
            (shown < total).then(|| encode_cursor(shown, 0))
        };
        let view = cat.search_view_json_paged(&r, &next);
        // §5.1 lists `entity` (the seed of a seeded view; none for search) right after `id`.
        let mut out = Map::new();
        for (k, v) in view.as_object().cloned().unwrap_or_default() {
            let after_id = k == "id";
            out.insert(k, v);
            if after_id {
                out.insert("entity".into(), Value::Null);
            }
        }
        Ok(Value::Object(out).into())
    })
    .await
}

/// One page of a search type: the entities and the total.
fn search_page(
    cat: &Catalog,
    kind: &str,
    filters: &[SearchFilter],
    sort: crate::catalog::SortBy,
    offset: usize,
    limit: usize,
) -> Option<(Vec<EntityRef>, usize)> {
    let text: String = filters.iter().map(|f| f.query.as_str()).collect::<Vec<_>>().join(" ");
    Some(match kind {
        "tracks" => {
            let p = cat.search_tracks(filters, sort, offset, limit);
            (p.items.into_iter().map(EntityRef::Track).collect(), p.total)
        }
        "albums" => {
            let p = cat.search_albums(&text, offset, limit);
            (p.items.into_iter().map(EntityRef::Album).collect(), p.total)
        }
        "artists" => {
            let p = cat.search_artists(&text, offset, limit);
            (p.items.into_iter().map(EntityRef::Artist).collect(), p.total)
        }
        "playlists" => {
            let p = cat.search_playlists(&text, offset, limit);
            (p.items.into_iter().map(EntityRef::Playlist).collect(), p.total)
        }
        "podcastShows" => {
            let p = cat.search_podcast_shows(&text, offset, limit);
            (p.items.into_iter().map(EntityRef::PodcastShow).collect(), p.total)
        }
        "podcastEpisodes" => {
            let p = cat.search_podcast_episodes(&text, offset, limit);
            (p.items.into_iter().map(EntityRef::PodcastEpisode).collect(), p.total)
        }
        _ => return None,
    })
}

/// `GET /v2/search/{groupId}?query=&first=&after=` → one EntityGroup page of a `GET /v2/search` group
/// (`topHits` has one page only).
pub async fn search_group(ctx: V2Ctx, group: ApiPath<String>) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let group = group.value()?;
        let query = query_of(ctx.query_param("query"))?;
        let p = ctx.page()?;
        let cat = ctx.catalog();
        let title = match group.as_str() {
            "topHits" => "Top hits",
            "tracks" => "Songs",
            "albums" => "Albums",
            "artists" => "Artists",
            "playlists" => "Playlists",
            "podcastShows" => "Podcasts",
            "podcastEpisodes" => "Episodes",
            other => return Err(V2Error::not_found("Search group", other)),
        };
        if group == "topHits" {
            let top = cat.search_all(&query, p.limit).top_hits;
            let page: Vec<EntityRef> = if p.offset == 0 { top } else { Vec::new() };
            return Ok(cat.entity_group_json(group, title, &page, None).into());
        }
        let filters = [SearchFilter::any(query)];
        let (items, total) = search_page(cat, group, &filters, crate::catalog::SortBy::Relevance, p.offset, p.limit)
            .ok_or_else(|| V2Error::not_found("Search group", group))?;
        let next = p.offset + items.len();
        let token = (!items.is_empty() && next < total).then(|| encode_cursor(next, 0));
        Ok(cat.entity_group_json(group, title, &items, token).into())
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SearchBody {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    search_filters: Option<Vec<FilterBody>>,
    #[serde(default)]
    first: Option<Value>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    territory: Option<String>,
    #[serde(default)]
    sort_by: Option<String>,
}

/// `POST /v2/search/tracks|albums|artists|playlists` → `{items, nextToken}` of full V2 entities. `first` and
/// `after` may come in the body or the query string.
pub async fn search_kind(ctx: V2Ctx, kind: ApiPath<String>, body: ApiBody) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let kind = kind.value()?;
        if !matches!(kind.as_str(), "tracks" | "albums" | "artists" | "playlists") {
            return Err(V2Error::not_found("Search type", kind));
        }
        let b: SearchBody = super::parse_body(body.read()?)?;
        let first = match &b.first {
            None | Some(Value::Null) => ctx.query_param("first"),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(V2Error::bad_request(super::FIRST_RANGE)),
        };
        let after = b.after.clone().or_else(|| ctx.query_param("after"));
        let p = page_request(first.as_deref(), after.as_deref())?;
        check_territory(b.territory.as_deref())?;
        let sort = sort_by(b.sort_by.as_deref()).map_err(V2Error::bad_request)?;
        let mut filters = match b.search_filters.as_deref() {
            Some(raw) => search_filters(Some(raw), kind == "tracks").map_err(V2Error::bad_request)?,
            None => Vec::new(),
        };
        match b.query.as_deref().map(str::trim) {
            Some("") => return Err(V2Error::bad_request("query must not be empty")),
            Some(q) => filters.push(SearchFilter::any(q)),
            None if filters.is_empty() => {
                return Err(V2Error::bad_request("query or searchFilters is required"));
            }
            None => {}
        }
        let cat = ctx.catalog();
        let (refs, total) = search_page(cat, kind, &filters, sort, p.offset, p.limit)
            .ok_or_else(|| V2Error::not_found("Search type", kind))?;
        let items = refs
            .into_iter()
            .filter_map(|e| match e {
                EntityRef::Track(i) => Some(entities::track(cat, &cat[i])),
                EntityRef::Album(i) => Some(entities::album(cat, &cat[i])),
                EntityRef::Artist(i) => Some(entities::artist(cat, &cat[i])),
                EntityRef::Playlist(i) => Some(entities::catalog_playlist(cat, &cat[i])),
                _ => None,
            })
            .collect();
        Ok(Reply::Ok(list(items, p.offset, total, 0)))
    })
    .await
}
