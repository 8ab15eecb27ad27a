//! V2 catalog routes (spec `music-api.md` §5.1, §11.3), scope `music::catalog`: batch lookups of albums,
//! tracks and playlists, the top and new-release album lists, and the customer's top tracks (the core's
//! `api::library::top_tracks`; playlists through `api::playlists`).
//!
//! Batch rules: `/v2/tracks` takes at most 20 ids and answers them in request order, **404 `NOT_FOUND` when
//! any id is unknown**; `/v2/playlists` and `/v2/albums` take at most 100 and leave unknown ids out. Over the
//! cap is 400.

use axum::response::Response;
use serde_json::Value;

use super::entities;
use super::error::V2Error;
use super::{Reply, V2Ctx, batch_ids, check_territory, list};
use crate::api::{Requires, library, playlists};
use crate::catalog::{AlbumIdx, Catalog, Page};

/// The `?ids=` cap of `/v2/tracks`.
pub const MAX_TRACK_IDS: usize = 20;
/// The `?ids=` cap of `/v2/playlists` and `/v2/albums`.
pub const MAX_IDS: usize = 100;

/// `GET /v2/albums?ids=…` → `Album[]`, unknown ids left out.
pub async fn albums(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let ids = batch_ids(ctx.query_param("ids"), MAX_IDS)?;
        let cat = ctx.catalog();
        let out: Vec<Value> = ids.iter().filter_map(|i| cat.album(i)).map(|a| entities::album(cat, a)).collect();
        Ok(Value::Array(out).into())
    })
    .await
}

/// `GET /v2/tracks?ids=…&territory=` → `Track[]` in request order; any unknown id is 404 for the whole call.
pub async fn tracks(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let ids = batch_ids(ctx.query_param("ids"), MAX_TRACK_IDS)?;
        check_territory(ctx.query_param("territory").as_deref())?;
        let cat = ctx.catalog();
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            let t = cat.track(id).ok_or_else(|| V2Error::not_found("Track", id))?;
            out.push(entities::track(cat, t));
        }
        Ok(Value::Array(out).into())
    })
    .await
}

/// `GET /v2/playlists?ids=…` → `Playlist[]`: catalog playlists and the customer playlists the caller may read
/// (their own, other customers' public ones); unknown ids left out.
pub async fn playlists(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |c| {
        let ids = batch_ids(ctx.query_param("ids"), MAX_IDS)?;
        let found = playlists::named_all(&ctx, c.user_id(), &ids).await;
        Ok(Value::Array(found.iter().flatten().map(entities::named_playlist).collect()).into())
    })
    .await
}

/// A page of a whole-catalog album list as `{items: Album[], nextToken}`.
async fn album_list(ctx: V2Ctx, page: fn(&Catalog, usize, usize) -> Page<AlbumIdx>) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let p = ctx.page()?;
        let cat = ctx.catalog();
        let found = page(cat, p.offset, p.limit);
        let items = found.items.iter().map(|&a| entities::album(cat, &cat[a])).collect();
        Ok(list(items, p.offset, found.total, 0).into())
    })
    .await
}

/// `GET /v2/albums/top?first&after` → `{items: Album[], nextToken}`, most popular first.
pub async fn top_albums(ctx: V2Ctx) -> Response {
    album_list(ctx, Catalog::top_albums).await
}

/// `GET /v2/albums/new-releases?first&after` → `{items: Album[], nextToken}`, newest release first.
pub async fn new_releases(ctx: V2Ctx) -> Response {
    album_list(ctx, Catalog::new_releases).await
}

/// `GET /v2/browse/tracks/top?first&after` → `{items: Track[], nextToken}`, personalised: the customer's most
/// played tracks (by plays in their history, then the most recent) lead, then every other track by
/// popularity.
pub async fn top_tracks(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |c| {
        let page = library::top_tracks(&ctx, c.user_id(), ctx.page()?).await;
        let cat = ctx.catalog();
        let items = page.items.iter().map(|&t| entities::track(cat, &cat[t])).collect();
        Ok(Reply::Ok(list(items, page.offset, page.total, page.version)))
    })
    .await
}
