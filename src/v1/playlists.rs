//! V1 playlists (spec `music-api.md` §4.4, §11.2): the routes over the core's playlists (`api::playlists`),
//! their bodies and their V1 shapes.
//!
//! Entries are `{entryId, trackId}` with UUID entry ids; track edges carry `cursor = <index>:<entryId>`.
//! Adds skip tracks already present unless `addDuplicateTracks` is true and are capped at 100 ids. Removal
//! takes `entryIds`; reordering (`PATCH`) takes `entryIds` plus exactly one of `entryIdAbove`/`entryIdBelow`.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::MusicError;
use super::page::{connection, edge, page_info};
use super::{V1Body, V1Ctx, V1Path, parse_body};
use crate::api::Requires;
use crate::api::library::Paged;
use crate::api::playlists::Readable;
use crate::api::playlists::{self, Added, MAX_ADD, NewPlaylist, Playlist, PlaylistEntry};
use crate::catalog::Catalog;
use crate::store::music::{Anchor, PlaylistPatch, Visibility};

/// The V1 Playlist shape of a customer's playlist: the keys of [`Catalog::playlist_json`], in the same order.
pub fn user_playlist_json(p: &Playlist) -> Value {
    json!({
        "id": p.id,
        "curator": { "id": p.owner_id },
        "duration": p.duration,
        "images": [{ "url": p.image, "imageType": "PRIMARY" }],
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
        "url": p.url,
        "visibility": p.visibility,
    })
}

/// A readable playlist in the V1 Playlist shape.
fn playlist_json(cat: &Catalog, p: &Readable<'_>) -> Value {
    match p {
        Readable::Mine(p) => user_playlist_json(&Playlist::customer(cat, p)),
        Readable::Catalog(p) => cat.playlist_json(p),
    }
}

/// `GET /v1/me/playlists` → `data.user.playlists`.
pub async fn my_playlists(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::LIBRARY_READ, async |c| {
        let p = ctx.page(100, 100)?;
        let owned = playlists::owned(&ctx, c.user_id(), p).await;
        let (page, version) = (&owned.page, owned.page.version);
        let edges =
            page.items.iter().enumerate().map(|(i, pl)| edge(p.offset + i + 1, version, user_playlist_json(pl)));
        let playlists = connection(p.offset, page.total, version, edges.collect());
        Ok(json!({ "user": { "id": owned.profile.id, "playlists": playlists } }))
    })
    .await
}

/// `GET /v1/playlists/{id}` → `data.playlist`, metadata only (scope `music::library`, spec §11.1).
pub async fn get_one(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let p = playlists::read(&ctx, c.user_id(), id.get()?).await?;
        Ok(json!({ "playlist": playlist_json(ctx.catalog(), &p) }))
    })
    .await
}

/// `{pageInfo, edgeCount, edges[{cursor: "<index>:<entryId>", node}]}` of a page of entries, each node the
/// track (or only its id).
fn entries_json(cat: &Catalog, page: &Paged<PlaylistEntry>) -> Value {
    let edges: Vec<Value> = (page.items.iter().enumerate())
        .map(|(i, e)| {
            let node = cat.track(&e.track_id).map_or_else(|| json!({ "id": e.track_id }), |t| cat.track_json(t));
            json!({ "cursor": format!("{}:{}", page.offset + i, e.entry_id), "node": node })
        })
        .collect();
    let (n, info) = (edges.len(), page_info(page.offset, edges.len(), page.total, page.version));
    json!({ "pageInfo": info, "edgeCount": n, "edges": edges })
}

/// `GET /v1/playlists/{id}/tracks?limit&cursor` → `data.playlist.tracks` with `<index>:<entryId>` cursors.
pub async fn tracks(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::LIBRARY_READ, async |c| {
        let id = id.get()?;
        let page = playlists::tracks(&ctx, c.user_id(), id, ctx.page(100, 100)?).await?;
        Ok(json!({ "playlist": { "id": id, "tracks": entries_json(ctx.catalog(), &page) } }))
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
    playlists::valid_title(t)
        .ok_or_else(|| MusicError::bad_request("Malformed request. title must be 1 to 256 characters."))
}

/// `POST /v1/playlists` with `title`, `description`, `visibility` → `data.createPlaylist{id,url}`.
pub async fn create(ctx: V1Ctx, body: V1Body) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let b: Create = parse_body(body.bytes()?)?;
        let new = NewPlaylist {
            title: check_title(&b.title)?,
            description: b.description,
            visibility: b.visibility,
            tracks: Vec::new(),
        };
        let p = playlists::create(&ctx, c.user_id(), new).await?;
        Ok(json!({ "createPlaylist": { "id": p.id, "url": playlists::customer_url(&p.id) } }))
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

/// The changes of an update body: at least one, the title checked.
fn patch_of(b: Update) -> Result<PlaylistPatch, MusicError> {
    if b.title.is_none() && b.description.is_none() && b.visibility.is_none() {
        return Err(MusicError::bad_request("Malformed request. Give at least one of title, description, visibility."));
    }
    let title = b.title.as_deref().map(check_title).transpose()?;
    Ok(PlaylistPatch { title, description: b.description, visibility: b.visibility })
}

/// `PUT /v1/playlists/{id}` with any of `title`, `description`, `visibility` → `data.updatePlaylist`.
pub async fn update(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.get()?;
        let patch = patch_of(parse_body(body.bytes()?)?)?;
        let p = playlists::update(&ctx, c.user_id(), id, patch).await?;
        Ok(json!({ "updatePlaylist": user_playlist_json(&p) }))
    })
    .await
}

/// `DELETE /v1/playlists/{id}` → `data.deletePlaylist{id}`.
pub async fn delete(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.get()?;
        playlists::delete(&ctx, c.user_id(), id).await?;
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

/// Checks an add body: 1 to [`MAX_ADD`] track ids.
fn check_add(b: &AddTracks) -> Result<(), MusicError> {
    if b.track_ids.is_empty() {
        return Err(MusicError::bad_request("Malformed request. trackIds must not be empty."));
    }
    if b.track_ids.len() > MAX_ADD {
        return Err(MusicError::bad_request(format!(
            "Malformed request. At most {MAX_ADD} trackIds per call; got {}.",
            b.track_ids.len()
        )));
    }
    Ok(())
}

/// `PUT /v1/playlists/{id}/tracks` with `trackIds` (≤100) and `addDuplicateTracks` (default false)
/// → `data.addTracksToPlaylist`.
pub async fn add_tracks(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.get()?;
        let b: AddTracks = parse_body(body.bytes()?)?;
        check_add(&b)?;
        let out = playlists::add_tracks(&ctx, c.user_id(), id, &b.track_ids, b.add_duplicate_tracks).await?;
        Ok(json!({ "addTracksToPlaylist": added_json(id, &out) }))
    })
    .await
}

/// `{id, trackCount, entries[{entryId, trackId}], skippedDuplicateTrackIds}` of an add.
fn added_json(id: &str, out: &Added) -> Value {
    let entries: Vec<Value> =
        out.entries.iter().map(|e| json!({ "entryId": e.entry_id, "trackId": e.track_id })).collect();
    json!({
        "id": id,
        "trackCount": out.playlist.track_count,
        "entries": entries,
        "skippedDuplicateTrackIds": out.skipped,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EntryIds {
    entry_ids: Vec<String>,
    entry_id_above: Option<String>,
    entry_id_below: Option<String>,
}

/// The entries and the anchor of a reorder body.
fn reorder_of(b: EntryIds) -> Result<(Vec<String>, Anchor), MusicError> {
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
    Ok((b.entry_ids, anchor))
}

/// `PATCH /v1/playlists/{id}/tracks` with `entryIds` and one of `entryIdAbove`/`entryIdBelow`
/// → `data.reorderPlaylistTracks`.
pub async fn reorder(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    ctx.handle(Requires::LIBRARY, async |c| {
        let id = id.get()?;
        let (entries, anchor) = reorder_of(parse_body(body.bytes()?)?)?;
        let p = playlists::reorder(&ctx, c.user_id(), id, &entries, anchor).await?;
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
        let p = playlists::remove_tracks(&ctx, c.user_id(), id, &b.entry_ids).await?;
        Ok(json!({ "removeTracksFromPlaylist": { "id": id, "trackCount": p.track_count, "removedEntryIds": b.entry_ids } }))
    })
    .await
}
