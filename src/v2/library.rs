//! The customer's playlists and tracks in V2 (spec `music-api.md` §5.2, §11.3), on the same per-session
//! state as V1 through the core (`api::playlists`, `api::library`): `GET /v2/me/playlists/owned`
//! (`music::library:read`), `/v2/me/playlists/followed` (`music::favorites:read`), `/v2/me/tracks` (library
//! tracks) and `/v2/me/tracks/liked` (`music::library:read`), and with `music::library`: `POST /v2/playlists`,
//! `GET|POST /v2/playlists/{id}/tracks`, `DELETE /v2/playlists/{id}`.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::entities;
use super::error::V2Error;
use super::{Reply, V2Ctx, list, parse_body};
use crate::api::library;
use crate::api::playlists::{self, MAX_ADD, NewPlaylist};
use crate::api::{ApiBody, ApiPath, Caller, Requires};
use crate::store::music::{Collection, Visibility};

/// `GET /v2/me/playlists/owned?first&after` → `{items: Playlist[], nextToken}`, newest first.
pub async fn owned_playlists(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::LIBRARY_READ, async |c| {
        let owned = playlists::owned(&ctx, c.user_id(), ctx.page()?).await;
        let (page, name) = (owned.page, owned.profile.name);
        let items = page.items.iter().map(|pl| entities::playlist(pl, &name)).collect();
        Ok(list(items, page.offset, page.total, page.version).into())
    })
    .await
}

/// `GET /v2/me/playlists/followed?first&after` → `{items: Playlist[], nextToken}`, newest first. A followed
/// customer playlist that was deleted or made private shows only `{_type, id}`.
pub async fn followed_playlists(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::FAVORITES_READ, async |c| {
        let page = playlists::followed(&ctx, c.user_id(), ctx.page()?).await;
        let item = |(id, p): &(String, Option<playlists::Named>)| {
            p.as_ref().map_or_else(|| json!({ "_type": "Playlist", "id": id }), entities::named_playlist)
        };
        Ok(list(page.items.iter().map(item).collect(), page.offset, page.total, page.version).into())
    })
    .await
}

async fn track_collection(ctx: &V2Ctx, c: &Caller, coll: Collection) -> Result<Reply, V2Error> {
    let page = library::saved_tracks(ctx, c.user_id(), coll, ctx.page()?).await;
    let cat = ctx.catalog();
    let items = page.items.iter().map(|&t| entities::track(cat, &cat[t])).collect();
    Ok(list(items, page.offset, page.total, page.version).into())
}

/// `GET /v2/me/tracks?first&after` → `{items: Track[], nextToken}`: the library's tracks, newest first.
pub async fn library_tracks(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::LIBRARY_READ, async |c| track_collection(&ctx, c, Collection::LibraryTracks).await).await
}

/// `GET /v2/me/tracks/liked?first&after` → `{items: Track[], nextToken}`: liked tracks, newest first.
pub async fn liked_tracks(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::LIBRARY_READ, async |c| track_collection(&ctx, c, Collection::LikedTracks).await).await
}

/// Checks the size of an add: at most 100 ids (the core checks that each is a catalog track).
fn check_count(key: &str, ids: &[String]) -> Result<(), V2Error> {
    if ids.len() > MAX_ADD {
        return Err(V2Error::bad_request(format!("{key} must hold at most {MAX_ADD} ids; got {}", ids.len())));
    }
    Ok(())
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

/// The playlist a create body asks for: a title of 1 to 256 characters, at most 100 `trackAsins`, `PRIVATE`
/// unless said otherwise.
fn new_playlist(b: Create) -> Result<NewPlaylist, V2Error> {
    let title =
        playlists::valid_title(&b.title).ok_or_else(|| V2Error::bad_request("title must be 1 to 256 characters"))?;
    check_count("trackAsins", &b.track_asins)?;
    let visibility = b.visibility.unwrap_or(Visibility::Private);
    Ok(NewPlaylist { title, description: b.description, visibility, tracks: b.track_asins })
}

/// `POST /v2/playlists` with `title` (required), `description`, `visibility` (default `PRIVATE`) and
/// `trackAsins` (at most 100) → 201 with the new Playlist.
pub async fn create_playlist(ctx: V2Ctx, body: ApiBody) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let new = new_playlist(parse_body(body.read()?)?)?;
        let p = playlists::create_named(&ctx, c.user_id(), new).await?;
        Ok(Reply::Created(entities::named_playlist(&p)))
    })
    .await
}

/// `GET /v2/playlists/{id}/tracks?first&after` → `{items: Track[], nextToken}` of a catalog playlist or a
/// customer playlist the caller may read.
pub async fn playlist_tracks(ctx: V2Ctx, id: ApiPath<String>) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.value()?;
        let page = playlists::tracks(&ctx, c.user_id(), id, ctx.page()?).await?;
        let cat = ctx.catalog();
        let track =
            |t: &str| cat.track(t).map_or_else(|| json!({ "_type": "Track", "id": t }), |t| entities::track(cat, t));
        let items: Vec<Value> = page.items.iter().map(|e| track(&e.track_id)).collect();
        Ok(list(items, page.offset, page.total, page.version).into())
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
pub async fn add_tracks(ctx: V2Ctx, id: ApiPath<String>, body: ApiBody) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.value()?;
        let b: AddTracks = parse_body(body.read()?)?;
        if b.track_ids.is_empty() {
            return Err(V2Error::bad_request("trackIds must not be empty"));
        }
        check_count("trackIds", &b.track_ids)?;
        let p = playlists::add_tracks_named(&ctx, c.user_id(), id, &b.track_ids).await?;
        Ok(entities::named_playlist(&p).into())
    })
    .await
}

/// `DELETE /v2/playlists/{id}` → 204.
pub async fn delete_playlist(ctx: V2Ctx, id: ApiPath<String>) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        playlists::delete(&ctx, c.user_id(), id.value()?).await?;
        Ok(Reply::NoContent)
    })
    .await
}
