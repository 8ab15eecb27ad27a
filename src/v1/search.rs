//! Search (spec `music-api.md` §4.2): `POST /v1/search/tracks` with `searchFilters`, `limit`, `token` and
//! `sortBy`; the other `POST /v1/search/<type>` routes; and `GET /v1/search?query=&limit=` across every
//! type. Scope `music::catalog`. The filters, sort orders and kinds are the core's (`api::search`), on the
//! catalog's inverted index, never a scan; this file reads V1's bodies and renders V1's shapes.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::MusicError;
use super::page::{page_info, request};
use super::{V1Body, V1Ctx, V1Path, parse_body};
use crate::api::library::Paged;
use crate::api::search::{self, FilterBody, Kind};
use crate::api::{Noun, Problem, Requires};
use crate::catalog::{Catalog, EntityRef};

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

/// A page of results: `{"search<Kind>": {pageInfo, edgeCount, edges[{node}]}}`, each node the entity's V1 shape.
fn results_json(cat: &Catalog, kind: Kind, found: &Paged<EntityRef>) -> Value {
    let node = |e: &EntityRef| match *e {
        EntityRef::Track(t) => cat.track_json(&cat[t]),
        EntityRef::Album(a) => cat.album_json(&cat[a]),
        EntityRef::Artist(a) => cat.artist_json(&cat[a]),
        EntityRef::Playlist(p) => cat.playlist_json(&cat[p]),
        EntityRef::PodcastShow(s) => super::catalog::show_with_first_episodes(cat, &cat[s]),
        EntityRef::PodcastEpisode(e) => cat.podcast_episode_json(&cat[e]),
    };
    let edges: Vec<Value> = found.items.iter().map(|e| json!({ "node": node(e) })).collect();
    let (n, info) = (edges.len(), page_info(found.offset, edges.len(), found.total, found.version));
    let name = kind.as_str();
    let key = format!("search{}{}", name[..1].to_ascii_uppercase(), &name[1..]);
    json!({ key: { "pageInfo": info, "edgeCount": n, "edges": edges } })
}

/// `POST /v1/search/{kind}`: `tracks` → `data.searchTracks`; `albums`, `artists`, `playlists`,
/// `podcastShows`, `podcastEpisodes` → `data.search<Kind>`. Edges are `{node}`; the next page's token is
/// `pageInfo.token`, sent back as `token` in the body.
pub async fn search_kind(ctx: V1Ctx, kind: V1Path<String>, body: V1Body) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let kind = kind.get()?;
        let b: SearchBody = parse_body(body.bytes()?)?;
        let filters = search::filters(b.search_filters.as_deref(), kind == "tracks")?;
        let limit = limit_text(&b.limit)?;
        let max = ctx.session.store.settings().await.search_limit_max.clamp(1, 100) as usize;
        let p = request(limit.as_deref(), b.token.as_deref(), max.min(100), max)?;
        let kind = Kind::parse(kind).ok_or_else(|| Problem::not_found(Noun::SearchType, kind))?;
        let found = search::search(ctx.catalog(), kind, &filters, search::sort_by(b.sort_by.as_deref())?, p);
        Ok(results_json(ctx.catalog(), kind, &found))
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
