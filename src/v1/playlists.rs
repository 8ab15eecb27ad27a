//! Playlists (spec `music-api.md` §4.4, §11.2): the customer's own (UUID ids, stored per session) and
//! curated catalog playlists (ASIN ids, read-only).
//!
//! Entries are `{entryId, trackId}` with UUID entry ids; track edges carry `cursor = <index>:<entryId>`.
//! Adds skip tracks already present unless `addDuplicateTracks` is true, are capped at 100 ids, and a
//! write to one playlist is serialised by the store, so parallel adds lose nothing. Removal takes
//! `entryIds`; reordering (`PATCH`) takes `entryIds` plus exactly one of `entryIdAbove`/`entryIdBelow`.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::error::{Code, MusicError};
use super::page::{connection, edge, page_info, request};
use super::{V1Body, V1Ctx, V1Path, parse_body};
use crate::api::{ApiRequest, Caller, Requires};
use crate::catalog::{Catalog, CatalogPlaylist};
use crate::store::music::{Anchor, PlaylistError, PlaylistMeta, PlaylistPatch, Visibility};

/// The most track ids one add may carry.
pub const MAX_ADD: usize = 100;

/// The total duration of a customer's playlist, seconds.
pub fn user_playlist_duration(cat: &Catalog, p: &PlaylistMeta) -> u64 {
    p.track_ids.iter().filter_map(|t| cat.track(t)).map(|t| u64::from(t.duration)).sum()
}

/// The artwork of a customer's playlist: its first track's cover, or a fixed placeholder while it is empty.
pub fn user_playlist_image(cat: &Catalog, p: &PlaylistMeta) -> String {
    p.track_ids
        .first()
        .and_then(|t| cat.track(t))
        .and_then(|t| cat.view_entity_json(crate::catalog::EntityRef::Track(t.idx)))
        .and_then(|v| v["images"][0]["url"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "https://m.media-amazon.com/images/I/51mockPlaylist.jpg".to_owned())
}

/// The V1 Playlist shape of a customer's playlist: the keys of [`Catalog::playlist_json`], in the same order.
pub fn user_playlist_json(cat: &Catalog, p: &PlaylistMeta) -> Value {
    json!({
        "id": p.id,
        "curator": { "id": crate::api::seed::music_profile_id(&p.owner) },
        "duration": user_playlist_duration(cat, p),
        "images": [{ "url": user_playlist_image(cat, p), "imageType": "PRIMARY" }],
        "eligibility": {
            "playback": { "canPlayOnDemand": true, "shuffleType": "INLINE" },
            "playbackSubscriptionTiers": ["PRIME", "UNLIMITED"],
            "isDownloadable": false,
            "isPurchaseable": false,
            "isPreviewable": true,
            "isPrimeEligible": true,
        },
        "title": p.title,
        "description": p.description,
        "trackCount": p.track_count,
        "url": format!("https://music.amazon.com/my/playlists/{}", p.id),
        "visibility": p.visibility,
    })
}

/// A playlist a customer may read: their own or another customer's PUBLIC one, or a catalog playlist.
pub enum Readable<'a> {
    /// A customer's playlist.
    Mine(PlaylistMeta),
    /// A curated catalog playlist.
    Catalog(&'a CatalogPlaylist),
}

/// The playlist `id` as `user` may read it; `None` when it does not exist for them (another customer's private
/// playlist included). Every family reads playlists through this.
pub async fn readable<'a>(req: &'a ApiRequest, user: &str, id: &str) -> Option<Readable<'a>> {
    if let Some(p) = req.catalog().playlist(id) {
        return Some(Readable::Catalog(p));
    }
    match req.session.store.music().playlist(id).await {
        Some(p) if p.owner == user || p.visibility == Visibility::Public => Some(Readable::Mine(p)),
        _ => {
            // The customer's seeded playlists exist once their state is touched.
            let _ = req.session.store.music().user_playlists(user, 0, 0).await;
            match req.session.store.music().playlist(id).await {
                Some(p) if p.owner == user => Some(Readable::Mine(p)),
                _ => None,
            }
        }
    }
}

/// [`readable`] for V1: the playlist `id` (catalog ASIN, or a user playlist UUID the caller owns or that is
/// public).
///
/// # Errors
/// 404 `RESOURCE_NOT_FOUND` otherwise.
pub(super) async fn readable_v1<'a>(ctx: &'a V1Ctx, c: &Caller, id: &str) -> Result<Readable<'a>, MusicError> {
    readable(ctx, c.user_id(), id).await.ok_or_else(|| MusicError::not_found("playlist", id))
}

fn write_error(id: &str, e: PlaylistError, catalog: bool) -> MusicError {
    match e {
        _ if catalog => MusicError::new(Code::AccessDenied, "Catalog playlists cannot be modified."),
        PlaylistError::NotFound => MusicError::not_found("playlist", id),
        PlaylistError::NotOwner => MusicError::new(Code::AccessDenied, "Only the playlist's owner can modify it."),
        PlaylistError::UnknownEntry(e) => MusicError::bad_request(format!(
            "Malformed request. Entry {e} is not in playlist {id}; use the entryId from the playlist's track edges."
        )),
    }
}

/// `GET /v1/me/playlists` → `data.user.playlists`.
pub async fn my_playlists(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::LIBRARY_READ, async |c| {
        let p = request(ctx.query_param("limit").as_deref(), ctx.query_param("cursor").as_deref(), 100, 100)?;
        let music = ctx.session.store.music();
        let page = music.user_playlists(c.user_id(), p.offset, p.limit).await;
        let cat = ctx.catalog();
        let edges = page
            .items
            .iter()
            .enumerate()
            .map(|(i, pl)| edge(p.offset + i + 1, page.version, user_playlist_json(cat, pl)))
            .collect();
        let profile = music.music_profile(c.user_id()).await;
        Ok(json!({ "user": { "id": profile.id, "playlists": connection(p.offset, page.total, page.version, edges) } }))
    })
    .await
}

/// `GET /v1/playlists/{id}` → `data.playlist`, metadata only (scope `music::library`, spec §11.1).
pub async fn get_one(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.get()?;
        Ok(match readable_v1(&ctx, c, id).await? {
            Readable::Mine(p) => json!({ "playlist": user_playlist_json(ctx.catalog(), &p) }),
            Readable::Catalog(p) => json!({ "playlist": ctx.catalog().playlist_json(p) }),
        })
    })
    .await
}

/// A stable UUID for the n-th entry of a catalog playlist (catalog playlists have no stored entries).
fn catalog_entry_id(playlist: &str, index: usize) -> String {
    let d = Sha256::digest(format!("{playlist}:{index}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().hyphenated().to_string()
}

/// `GET /v1/playlists/{id}/tracks?limit&cursor` → `data.playlist.tracks` with `<index>:<entryId>` cursors.
pub async fn tracks(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::LIBRARY_READ, async |c| {
        let id = id.get()?;
        let p = request(ctx.query_param("limit").as_deref(), ctx.query_param("cursor").as_deref(), 100, 100)?;
        let cat = ctx.catalog();
        let (entries, total, version): (Vec<(String, String)>, usize, u64) = match readable_v1(&ctx, c, id).await? {
            Readable::Catalog(pl) => {
                let items = pl
                    .tracks
                    .iter()
                    .enumerate()
                    .skip(p.offset)
                    .take(p.limit)
                    .map(|(i, &t)| (catalog_entry_id(id, i), cat[t].id.as_str().to_owned()))
                    .collect();
                (items, pl.tracks.len(), 0)
            }
            Readable::Mine(_) => {
                let page = ctx.session.store.music().playlist_entries(id, p.offset, p.limit).await.ok_or_else(|| MusicError::not_found("playlist", id))?;
                (page.items.into_iter().map(|e| (e.entry_id, e.track_id)).collect(), page.total, page.version)
            }
        };
        let edges: Vec<Value> = entries
            .iter()
            .enumerate()
            .map(|(i, (entry, track))| {
                let node = cat.track(track).map_or_else(|| json!({ "id": track }), |t| cat.track_json(t));
                json!({ "cursor": format!("{}:{entry}", p.offset + i), "node": node })
            })
            .collect();
        let n = edges.len();
        Ok(json!({ "playlist": { "id": id, "tracks": { "pageInfo": page_info(p.offset, n, total, version), "edgeCount": n, "edges": edges } } }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Create {
    title: String,
    description: String,
    visibility: Visibility,
}

fn check_title(t: &str) -> Result<String, MusicError> {
    let t = t.trim();
    if t.is_empty() || t.chars().count() > 256 {
        return Err(MusicError::bad_request("Malformed request. title must be 1 to 256 characters."));
    }
    Ok(t.to_owned())
}

/// `POST /v1/playlists` with `title`, `description`, `visibility` → `data.createPlaylist{id,url}`.
pub async fn create(ctx: V1Ctx, body: V1Body) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let b: Create = parse_body(body.bytes()?)?;
        let title = check_title(&b.title)?;
        let p = ctx.session.store.music().create_playlist(c.user_id(), title, b.description, b.visibility, ctx.now_ms()).await;
        Ok(json!({ "createPlaylist": { "id": p.id, "url": format!("https://music.amazon.com/my/playlists/{}", p.id) } }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Update {
    title: Option<String>,
    description: Option<String>,
    visibility: Option<Visibility>,
}

/// `PUT /v1/playlists/{id}` with any of `title`, `description`, `visibility` → `data.updatePlaylist`.
pub async fn update(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.get()?;
        let b: Update = parse_body(body.bytes()?)?;
        if b.title.is_none() && b.description.is_none() && b.visibility.is_none() {
            return Err(MusicError::bad_request(
                "Malformed request. Give at least one of title, description, visibility.",
            ));
        }
        let title = b.title.as_deref().map(check_title).transpose()?;
        let patch = PlaylistPatch { title, description: b.description, visibility: b.visibility };
        let is_catalog = ctx.catalog().playlist(id).is_some();
        let p = ctx
            .session
            .store
            .music()
            .update_playlist(c.user_id(), id, patch, ctx.now_ms())
            .await
            .map_err(|e| write_error(id, e, is_catalog))?;
        Ok(json!({ "updatePlaylist": user_playlist_json(ctx.catalog(), &p) }))
    })
    .await
}

/// `DELETE /v1/playlists/{id}` → `data.deletePlaylist{id}`.
pub async fn delete(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.get()?;
        let is_catalog = ctx.catalog().playlist(id).is_some();
        ctx.session.store.music().delete_playlist(c.user_id(), id).await.map_err(|e| write_error(id, e, is_catalog))?;
        Ok(json!({ "deletePlaylist": { "id": id } }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddTracks {
    track_ids: Vec<String>,
    #[serde(default)]
    add_duplicate_tracks: bool,
}

/// `PUT /v1/playlists/{id}/tracks` with `trackIds` (≤100) and `addDuplicateTracks` (default false)
/// → `data.addTracksToPlaylist`.
pub async fn add_tracks(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.get()?;
        let b: AddTracks = parse_body(body.bytes()?)?;
        if b.track_ids.is_empty() {
            return Err(MusicError::bad_request("Malformed request. trackIds must not be empty."));
        }
        if b.track_ids.len() > MAX_ADD {
            return Err(MusicError::bad_request(format!(
                "Malformed request. At most {MAX_ADD} trackIds per call; got {}.",
                b.track_ids.len()
            )));
        }
        let cat = ctx.catalog();
        if let Some(bad) = b.track_ids.iter().find(|t| cat.track(t).is_none()) {
            return Err(MusicError::not_found("track", bad));
        }
        let is_catalog = cat.playlist(id).is_some();
        let out = ctx
            .session
            .store
            .music()
            .add_to_playlist(c.user_id(), id, &b.track_ids, b.add_duplicate_tracks, ctx.now_ms())
            .await
            .map_err(|e| write_error(id, e, is_catalog))?;
        let entries: Vec<Value> =
            out.added.iter().map(|e| json!({ "entryId": e.entry_id, "trackId": e.track_id })).collect();
        Ok(json!({ "addTracksToPlaylist": {
            "id": id,
            "trackCount": out.playlist.track_count,
            "entries": entries,
            "skippedDuplicateTrackIds": out.skipped,
        } }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EntryIds {
    entry_ids: Vec<String>,
    entry_id_above: Option<String>,
    entry_id_below: Option<String>,
}

/// `PATCH /v1/playlists/{id}/tracks` with `entryIds` and one of `entryIdAbove`/`entryIdBelow`
/// → `data.reorderPlaylistTracks`.
pub async fn reorder(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.get()?;
        let b: EntryIds = parse_body(body.bytes()?)?;
        if b.entry_ids.is_empty() {
            return Err(MusicError::bad_request("Malformed request. entryIds must not be empty."));
        }
        if [&b.entry_id_above, &b.entry_id_below].into_iter().flatten().any(|a| b.entry_ids.contains(a)) {
            return Err(MusicError::bad_request(
                "Malformed request. The anchor entry cannot be one of the entries being moved.",
            ));
        }
        let anchor = match (b.entry_id_above, b.entry_id_below) {
            (Some(a), None) => Anchor::Above(a),
            (None, Some(b)) => Anchor::Below(b),
            _ => {
                return Err(MusicError::bad_request(
                    "Malformed request. Give exactly one of entryIdAbove and entryIdBelow.",
                ));
            }
        };
        let is_catalog = ctx.catalog().playlist(id).is_some();
        let p = ctx
            .session
            .store
            .music()
            .reorder_playlist(c.user_id(), id, &b.entry_ids, anchor, ctx.now_ms())
            .await
            .map_err(|e| write_error(id, e, is_catalog))?;
        Ok(json!({ "reorderPlaylistTracks": { "id": id, "trackCount": p.track_count } }))
    })
    .await
}

/// `DELETE /v1/playlists/{id}/tracks` with `entryIds` → `data.removeTracksFromPlaylist`.
pub async fn remove_tracks(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.get()?;
        let b: EntryIds = parse_body(body.bytes()?)?;
        if b.entry_ids.is_empty() || b.entry_id_above.is_some() || b.entry_id_below.is_some() {
            return Err(MusicError::bad_request("Malformed request. The body is {\"entryIds\": [...]}."));
        }
        let is_catalog = ctx.catalog().playlist(id).is_some();
        let p = ctx
            .session
            .store
            .music()
            .remove_from_playlist(c.user_id(), id, &b.entry_ids, ctx.now_ms())
            .await
            .map_err(|e| write_error(id, e, is_catalog))?;
        Ok(json!({ "removeTracksFromPlaylist": { "id": id, "trackCount": p.track_count, "removedEntryIds": b.entry_ids } }))
    })
    .await
}
