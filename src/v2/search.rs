//! V2 search (spec `music-api.md` §5.1, §11.3), scope `music::catalog`, on the same core as V1 (`api::search`:
//! filters, sort orders, kinds, search groups) and the same inverted index:
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
use super::{MAX_FIRST, PageRequest, Reply, V2Ctx, check_territory, entities, list, page_request};
use crate::api::playlists::{CURATOR_NAME, Playlist};
use crate::api::search::{self, FilterBody, Kind};
use crate::api::{ApiBody, ApiPath, Requires};
use crate::catalog::{Catalog, EntityRef, SearchFilter};

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

/// `limit` of `GET /v2/search`: 1 to 100, [`DEFAULT_LIMIT`] when not given.
fn limit_of(raw: Option<String>) -> Result<usize, V2Error> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_FIRST).contains(n))
            .ok_or_else(|| V2Error::bad_request("limit parameter must be between 1 and 100")),
    }
}

/// The search view with `entity` (the seed of a seeded view; none for search) right after `id`, as §5.1
/// lists it.
fn with_entity(view: Value) -> Value {
    let mut out = Map::new();
    for (k, v) in view.as_object().cloned().unwrap_or_default() {
        let after_id = k == "id";
        out.insert(k, v);
        if after_id {
            out.insert("entity".into(), Value::Null);
        }
    }
    Value::Object(out)
}

/// `GET /v2/search?query=&limit=&territory=` → the `catalog` View.
pub async fn search(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let query = query_of(ctx.query_param("query"))?;
        let limit = limit_of(ctx.query_param("limit"))?;
        check_territory(ctx.query_param("territory").as_deref())?;
        let cat = ctx.catalog();
        let r = cat.search_all(&query, limit);
        Ok(with_entity(cat.search_view_json_paged(&r, &|group| search::next_token(&r, group))).into())
    })
    .await
}

/// `GET /v2/search/{groupId}?query=&first=&after=` → one EntityGroup page of a `GET /v2/search` group
/// (`topHits` has one page only).
pub async fn search_group(ctx: V2Ctx, group: ApiPath<String>) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let group = group.value()?;
        let query = query_of(ctx.query_param("query"))?;
        let g = search::group(ctx.catalog(), group, query, ctx.page()?)?;
        Ok(ctx.catalog().entity_group_json(&g.id, &g.title, &g.entities, g.next_token).into())
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

/// The page of a search body: `first` and `after` from the body, or else from the query string.
fn page_of(ctx: &V2Ctx, b: &SearchBody) -> Result<PageRequest, V2Error> {
    let first = match &b.first {
        None | Some(Value::Null) => ctx.query_param("first"),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(V2Error::bad_request(super::FIRST_RANGE)),
    };
    let after = b.after.clone().or_else(|| ctx.query_param("after"));
    page_request(first.as_deref(), after.as_deref())
}

/// The filters of a search body: its `searchFilters`, and its `query` as one more.
fn filters_of(b: &SearchBody, tracks: bool) -> Result<Vec<SearchFilter>, V2Error> {
    let mut filters = match b.search_filters.as_deref() {
        Some(raw) => search::filters(Some(raw), tracks)?,
        None => Vec::new(),
    };
    match b.query.as_deref().map(str::trim) {
        Some("") => return Err(V2Error::bad_request("query must not be empty")),
        Some(q) => filters.push(SearchFilter::any(q)),
        None if filters.is_empty() => return Err(V2Error::bad_request("query or searchFilters is required")),
        None => {}
    }
    Ok(filters)
}

/// A search result in its V2 shape (the kinds V2 searches: tracks, albums, artists, playlists).
fn entity_json(cat: &Catalog, e: EntityRef) -> Option<Value> {
    match e {
        EntityRef::Track(i) => Some(entities::track(cat, &cat[i])),
        EntityRef::Album(i) => Some(entities::album(cat, &cat[i])),
        EntityRef::Artist(i) => Some(entities::artist(cat, &cat[i])),
        EntityRef::Playlist(i) => Some(entities::playlist(&Playlist::catalog(cat, &cat[i]), CURATOR_NAME)),
        _ => None,
    }
}

/// The kinds V2 searches by body: tracks, albums, artists, playlists.
fn kind_of(kind: &str) -> Result<Kind, V2Error> {
    Kind::parse(kind)
        .filter(|k| matches!(k, Kind::Tracks | Kind::Albums | Kind::Artists | Kind::Playlists))
        .ok_or_else(|| V2Error::not_found("Search type", kind))
}

/// `POST /v2/search/tracks|albums|artists|playlists` → `{items, nextToken}` of full V2 entities. `first` and
/// `after` may come in the body or the query string.
pub async fn search_kind(ctx: V2Ctx, kind: ApiPath<String>, body: ApiBody) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let kind = kind_of(kind.value()?)?;
        let b: SearchBody = super::parse_body(body.read()?)?;
        let p = page_of(&ctx, &b)?;
        check_territory(b.territory.as_deref())?;
        let sort = search::sort_by(b.sort_by.as_deref())?;
        let found = search::search(ctx.catalog(), kind, &filters_of(&b, kind == Kind::Tracks)?, sort, p);
        let items = found.items.iter().filter_map(|&e| entity_json(ctx.catalog(), e)).collect();
        Ok(Reply::Ok(list(items, found.offset, found.total, found.version)))
    })
    .await
}
