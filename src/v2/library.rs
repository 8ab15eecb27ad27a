//! The customer's playlists and tracks in V2 (spec `music-api.md` §5.2, §11.3), on the same per-session
//! state as V1: `GET /v2/me/playlists/owned` (`music::library:read`), `/v2/me/playlists/followed`
//! (`music::favorites:read`), `/v2/me/tracks` (library tracks) and `/v2/me/tracks/liked`
//! (`music::library:read`), and with `music::library`: `POST /v2/playlists`, `GET|POST
//! /v2/playlists/{id}/tracks`, `DELETE /v2/playlists/{id}`.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::catalog::playlist_json;
use super::entities;
use super::error::V2Error;
use super::{Reply, V2Ctx, list, parse_body};
use crate::api::{ApiPath, Caller, Requires};
use crate::store::music::{Collection, PlaylistError, Visibility};
use crate::v1::playlists::{Readable, readable};

/// The most track ids one add (or a create's `trackAsins`) may carry (§11.3).
pub const MAX_ADD: usize = 100;

/// `GET /v2/me/playlists/owned?first&after` → `{items: Playlist[], nextToken}`, newest first.
pub async fn owned_playlists(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::LIBRARY_READ, async |c| {
        let p = ctx.page()?;
        let music = ctx.session.store.music();
        let page = music.user_playlists(c.user_id(), p.offset, p.limit).await;
        let name = music.music_profile(c.user_id()).await.name;
        let cat = ctx.catalog();
        let items = page.items.iter().map(|pl| entities::user_playlist(cat, pl, &name)).collect();
        Ok(list(items, p.offset, page.total, page.version).into())
    })
    .await
}

/// `GET /v2/me/playlists/followed?first&after` → `{items: Playlist[], nextToken}`, newest first. A followed
/// customer playlist that was deleted or made private shows only `{_type, id}`.
pub async fn followed_playlists(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::FAVORITES_READ, async |c| {
        let p = ctx.page()?;
        let page = ctx
            .session
            .store
            .music()
            .collection_page(c.user_id(), Collection::FollowedPlaylists, p.offset, p.limit)
            .await;
        let mut items = Vec::with_capacity(page.items.len());
        for item in &page.items {
            items.push(match readable(&ctx, c.user_id(), &item.id).await {
                Some(pl) => playlist_json(&ctx, pl).await,
                None => json!({ "_type": "Playlist", "id": item.id }),
            });
        }
        Ok(list(items, p.offset, page.total, page.version).into())
    })
    .await
}

async fn track_collection(ctx: &V2Ctx, c: &Caller, coll: Collection) -> Result<Reply, V2Error> {
    let p = ctx.page()?;
    let page = ctx.session.store.music().collection_page(c.user_id(), coll, p.offset, p.limit).await;
    let cat = ctx.catalog();
    let items = page.items.iter().filter_map(|i| cat.track(&i.id)).map(|t| entities::track(cat, t)).collect();
    Ok(list(items, p.offset, page.total, page.version).into())
}

/// `GET /v2/me/tracks?first&after` → `{items: Track[], nextToken}`: the library's tracks, newest first.
pub async fn library_tracks(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::LIBRARY_READ, async |c| track_collection(&ctx, c, Collection::LibraryTracks).await).await
}

/// `GET /v2/me/tracks/liked?first&after` → `{items: Track[], nextToken}`: liked tracks, newest first.
pub async fn liked_tracks(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::LIBRARY_READ, async |c| track_collection(&ctx, c, Collection::LikedTracks).await).await
}

/// Checks the ids of an add: 1 to 100, every one a catalog track.
fn check_tracks(ctx: &V2Ctx, key: &str, ids: &[String]) -> Result<(), V2Error> {
    if ids.len() > MAX_ADD {
        return Err(V2Error::bad_request(format!("{key} must hold at most {MAX_ADD} ids; got {}", ids.len())));
    }
    match ids.iter().find(|t| ctx.catalog().track(t).is_none()) {
        Some(bad) => Err(V2Error::not_found("Track", bad)),
        None => Ok(()),
    }
}

fn write_error(ctx: &V2Ctx, id: &str, e: PlaylistError) -> V2Error {
    if ctx.catalog().playlist(id).is_some() {
        return V2Error::forbidden("Catalog playlists cannot be modified.");
    }
    match e {
        PlaylistError::NotFound | PlaylistError::UnknownEntry(_) => V2Error::not_found("Playlist", id),
        PlaylistError::NotOwner => V2Error::forbidden("Only the playlist's owner can modify it."),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Create {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    visibility: Option<Visibility>,
    #[serde(default)]
    track_asins: Vec<String>,
}

/// `POST /v2/playlists` with `title` (required), `description`, `visibility` (default `PRIVATE`) and
/// `trackAsins` (at most 100) → 201 with the new Playlist.
pub async fn create_playlist(ctx: V2Ctx, body: crate::api::ApiBody) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let b: Create = parse_body(body.read()?)?;
        let title = b.title.trim();
        if title.is_empty() || title.chars().count() > 256 {
            return Err(V2Error::bad_request("title must be 1 to 256 characters"));
        }
        check_tracks(&ctx, "trackAsins", &b.track_asins)?;
        let music = ctx.session.store.music();
        let visibility = b.visibility.unwrap_or(Visibility::Private);
        let now = ctx.now_ms();
        let mut p = music.create_playlist(c.user_id(), title.to_owned(), b.description, visibility, now).await;
        if !b.track_asins.is_empty() {
            let out = music
                .add_to_playlist(c.user_id(), &p.id, &b.track_asins, false, now)
                .await
                .map_err(|e| write_error(&ctx, &p.id, e))?;
            p = out.playlist;
        }
        let name = music.music_profile(c.user_id()).await.name;
        Ok(Reply::Created(entities::user_playlist(ctx.catalog(), &p, &name)))
    })
    .await
}

/// `GET /v2/playlists/{id}/tracks?first&after` → `{items: Track[], nextToken}` of a catalog playlist or a
/// customer playlist the caller may read.
pub async fn playlist_tracks(ctx: V2Ctx, id: ApiPath<String>) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.value()?;
        let p = ctx.page()?;
        let cat = ctx.catalog();
        let (track_ids, total, version): (Vec<String>, usize, u64) =
            match readable(&ctx, c.user_id(), id).await.ok_or_else(|| V2Error::not_found("Playlist", id))? {
                Readable::Catalog(pl) => {
                    let ids = pl.tracks.iter().skip(p.offset).take(p.limit).map(|&t| cat[t].id.as_str().to_owned());
                    (ids.collect(), pl.tracks.len(), 0)
                }
                Readable::Mine(_) => {
                    let page = ctx
                        .session
                        .store
                        .music()
                        .playlist_entries(id, p.offset, p.limit)
                        .await
                        .ok_or_else(|| V2Error::not_found("Playlist", id))?;
                    (page.items.into_iter().map(|e| e.track_id).collect(), page.total, page.version)
                }
            };
        let items: Vec<Value> = track_ids
            .iter()
            .map(|t| cat.track(t).map_or_else(|| json!({ "_type": "Track", "id": t }), |t| entities::track(cat, t)))
            .collect();
        Ok(list(items, p.offset, total, version).into())
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddTracks {
    track_ids: Vec<String>,
}

/// `POST /v2/playlists/{id}/tracks` with `trackIds` (1 to 100) → the Playlist afterwards. Tracks already in the
/// playlist are skipped, as V1 does by default.
pub async fn add_tracks(ctx: V2Ctx, id: ApiPath<String>, body: crate::api::ApiBody) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.value()?;
        let b: AddTracks = parse_body(body.read()?)?;
        if b.track_ids.is_empty() {
            return Err(V2Error::bad_request("trackIds must not be empty"));
        }
        check_tracks(&ctx, "trackIds", &b.track_ids)?;
        let music = ctx.session.store.music();
        let out = music
            .add_to_playlist(c.user_id(), id, &b.track_ids, false, ctx.now_ms())
            .await
            .map_err(|e| write_error(&ctx, id, e))?;
        let name = music.music_profile(&out.playlist.owner).await.name;
        Ok(entities::user_playlist(ctx.catalog(), &out.playlist, &name).into())
    })
    .await
}

/// `DELETE /v2/playlists/{id}` → 204.
pub async fn delete_playlist(ctx: V2Ctx, id: ApiPath<String>) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.value()?;
        ctx.session.store.music().delete_playlist(c.user_id(), id).await.map_err(|e| write_error(&ctx, id, e))?;
        Ok(Reply::NoContent)
    })
    .await
}
