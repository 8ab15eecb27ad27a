//! V2 catalog routes (spec `music-api.md` §5.1, §11.3), scope `music::catalog`: batch lookups of albums,
//! tracks and playlists, the top and new-release album lists, and the customer's top tracks.
//!
//! Batch rules: `/v2/tracks` takes at most 20 ids and answers them in request order, **404 `NOT_FOUND` when
//! any id is unknown**; `/v2/playlists` and `/v2/albums` take at most 100 and leave unknown ids out. Over the
//! cap is 400.

use axum::response::Response;
use serde_json::Value;

use super::entities;
use super::error::V2Error;
use super::{PageRequest, Reply, V2Ctx, batch_ids, check_territory, list};
use crate::api::Requires;
use crate::catalog::{AlbumIdx, Catalog, Page, TrackIdx};
use crate::v1::playlists::{Readable, readable};

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
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(p) = readable(&ctx, c.user_id(), id).await {
                out.push(playlist_json(&ctx, p).await);
            }
        }
        Ok(Value::Array(out).into())
    })
    .await
}

/// A readable playlist in the V2 shape (a customer playlist's owner named from their music profile).
pub async fn playlist_json(ctx: &V2Ctx, p: Readable<'_>) -> Value {
    let cat = ctx.catalog();
    match p {
        Readable::Catalog(p) => entities::catalog_playlist(cat, p),
        Readable::Mine(p) => {
            let owner = ctx.session.store.music().music_profile(&p.owner).await;
            entities::user_playlist(cat, &p, &owner.name)
        }
    }
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

/// How many of the customer's most played tracks lead their top tracks.
pub const PERSONAL_TOP: usize = 10;

/// `GET /v2/browse/tracks/top?first&after` → `{items: Track[], nextToken}`, personalised: the customer's most
/// played tracks (by plays in their history, then the most recent) lead, then every other track by
/// popularity.
pub async fn top_tracks(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |c| {
        let p = ctx.page()?;
        let cat = ctx.catalog();
        let history = ctx.session.store.music().history(c.user_id(), 0, usize::MAX).await;
        let mut counts: Vec<(TrackIdx, usize)> = Vec::new();
        for play in &history.items {
            if let Some(t) = cat.track(&play.track_id) {
                match counts.iter_mut().find(|(x, _)| *x == t.idx) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((t.idx, 1)),
                }
            }
        }
        // A stable sort keeps the most recent first among equal counts.
        counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        let personal: Vec<TrackIdx> = counts.into_iter().take(PERSONAL_TOP).map(|(t, _)| t).collect();
        let page = personalised_page(cat, &personal, p);
        let items = page.iter().map(|&t| entities::track(cat, &cat[t])).collect();
        Ok(Reply::Ok(list(items, p.offset, cat.tracks().len(), history.version)))
    })
    .await
}

/// The page `p` of `personal` followed by every other track in popularity order.
fn personalised_page(cat: &Catalog, personal: &[TrackIdx], p: PageRequest) -> Vec<TrackIdx> {
    let mut out: Vec<TrackIdx> = personal.iter().skip(p.offset).take(p.limit).copied().collect();
    let need = p.limit - out.len();
    if need == 0 {
        return out;
    }
    // The j-th track of the popularity order without `personal` sits at rank j plus the personal tracks
    // ranked at or before it.
    let mut ranks: Vec<usize> = personal.iter().map(|&t| cat.track_rank(t)).collect();
    ranks.sort_unstable();
    let mut rank = p.offset.saturating_sub(personal.len());
    for r in ranks {
        if r <= rank {
            rank += 1;
        }
    }
    let rest = cat.top_tracks(rank, need + personal.len());
    out.extend(rest.items.into_iter().filter(|t| !personal.contains(t)).take(need));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personalised_pages_put_the_personal_tracks_first_and_never_repeat_one() {
        let cat = crate::catalog::Catalog::generate(3, 200);
        let all = cat.top_tracks(0, usize::MAX).items;
        let personal = vec![all[150], all[2], all[40]];
        let mut want = personal.clone();
        want.extend(all.iter().filter(|t| !personal.contains(t)));
        for limit in [1, 2, 7, 50] {
            let mut seen = Vec::new();
            let mut offset = 0;
            while offset < want.len() {
                seen.extend(personalised_page(&cat, &personal, PageRequest { offset, limit }));
                offset += limit;
            }
            assert_eq!(seen, want, "limit {limit}");
        }
    }
}
