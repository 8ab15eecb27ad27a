//! The current customer (spec `music-api.md` §4.3): `GET/PUT /v1/me`, library tracks, albums and podcast
//! episodes, liked tracks, followed artists, playlists and podcast shows.
//!
//! Every collection has the same three operations: `GET` a page (`data.user.<key>` connection, newest
//! first), `PUT` ids to add, `DELETE` ids to remove (ids in the JSON body, or `?ids=` since some HTTP
//! clients send no body with DELETE). Ids are checked against the catalog (404 for an unknown one) and
//! capped at 100 per call. Reads need the family's `:read` scope, writes the full scope.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::catalog::exists_for;
use super::catalog::user_json;
use super::error::MusicError;
use super::page::{connection, edge, request};
use super::{V1Body, V1Ctx, V1Path, batch_ids, parse_body};
use crate::api::{ApiRequest, Caller, Requires};
use crate::catalog::{Catalog, EntityRef};
use crate::store::music::{Collection, PlaylistMeta, Visibility};

/// `GET /v1/me` → `data.user` (plus `subscriptionTier`, an assumption: the doc says the call returns the
/// tier but its example shows no field).
pub async fn get_me(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::PROFILE_EITHER, async |c| {
        let p = ctx.session.store.music().music_profile(c.user_id()).await;
        let mut u = user_json(&p);
        if let (Some(obj), Some(tier)) = (u.as_object_mut(), c.user.tier) {
            obj.insert("subscriptionTier".into(), serde_json::to_value(tier).unwrap_or(Value::Null));
        }
        Ok(json!({ "user": u }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PutMe {
    name: String,
    visibility: Visibility,
    playback_visibility: Visibility,
}

/// `PUT /v1/me` with `name`, `visibility`, `playbackVisibility` (all required) → `data.updateUser`.
pub async fn put_me(ctx: V1Ctx, body: V1Body) -> Response {
    ctx.handle(Requires::PROFILE_EITHER, async |c| {
        let b: PutMe = parse_body(body.bytes()?)?;
        let name = b.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(MusicError::bad_request("Malformed request. name must be 1 to 100 characters."));
        }
        let p = ctx
            .session
            .store
            .music()
            .update_music_profile(c.user_id(), name.to_owned(), b.visibility, b.playback_visibility)
            .await;
        let mut u = user_json(&p);
        if let Some(obj) = u.as_object_mut() {
            obj.insert("visibility".into(), json!(p.visibility));
            obj.insert("playbackVisibility".into(), json!(p.playback_visibility));
        }
        Ok(json!({ "updateUser": u }))
    })
    .await
}

/// How one collection appears on the wire.
struct Spec {
    coll: Collection,
    /// Key under `data.user` for `GET`.
    key: &'static str,
    /// Body key holding the ids.
    ids_key: &'static str,
    add_key: &'static str,
    remove_key: &'static str,
    read: Requires,
    write: Requires,
    kind: &'static str,
}

const LIBRARY_TRACKS: Spec = Spec {
    coll: Collection::LibraryTracks,
    key: "libraryTracks",
    ids_key: "trackIds",
    add_key: "addTracksToLibrary",
    remove_key: "removeTracksFromLibrary",
    read: Requires::LIBRARY_READ,
    write: Requires::LIBRARY,
    kind: "track",
};
const LIBRARY_ALBUMS: Spec = Spec {
    coll: Collection::LibraryAlbums,
    key: "libraryAlbums",
    ids_key: "albumIds",
    add_key: "addAlbumsToLibrary",
    remove_key: "removeAlbumsFromLibrary",
    read: Requires::LIBRARY_READ,
    write: Requires::LIBRARY,
    kind: "album",
};
const LIBRARY_EPISODES: Spec = Spec {
    coll: Collection::LibraryPodcastEpisodes,
    key: "libraryPodcastEpisodes",
    ids_key: "episodeIds",
    add_key: "addPodcastEpisodesToLibrary",
    remove_key: "removePodcastEpisodesFromLibrary",
    read: Requires::LIBRARY_READ,
    write: Requires::LIBRARY,
    kind: "podcast episode",
};
const LIKED_TRACKS: Spec = Spec {
    coll: Collection::LikedTracks,
    key: "likedTracks",
    ids_key: "trackIds",
    add_key: "likeTracks",
    remove_key: "unlikeTracks",
    read: Requires::FAVORITES_READ,
    write: Requires::FAVORITES,
    kind: "track",
};
const FOLLOWED_ARTISTS: Spec = Spec {
    coll: Collection::FollowedArtists,
    key: "followedArtists",
    ids_key: "artistIds",
    add_key: "followArtists",
    remove_key: "unfollowArtists",
    read: Requires::FAVORITES_READ,
    write: Requires::FAVORITES,
    kind: "artist",
};
const FOLLOWED_PLAYLISTS: Spec = Spec {
    coll: Collection::FollowedPlaylists,
    key: "followedPlaylists",
    ids_key: "playlistIds",
    add_key: "followPlaylists",
    remove_key: "unfollowPlaylists",
    read: Requires::FAVORITES_READ,
    write: Requires::FAVORITES,
    kind: "playlist",
};
const FOLLOWED_SHOWS: Spec = Spec {
    coll: Collection::FollowedPodcastShows,
    key: "followedPodcastShows",
    ids_key: "showIds",
    add_key: "followPodcastShows",
    remove_key: "unfollowPodcastShows",
    read: Requires::FAVORITES_READ,
    write: Requires::FAVORITES,
    kind: "podcast show",
};

/// The node of a collection item: the full entity for catalog ids, the playlist shape for user playlists.
async fn node(ctx: &V1Ctx, cat: &Catalog, id: &str) -> Option<Value> {
    match cat.lookup(id)? {
        EntityRef::Track(i) => Some(cat.track_json(&cat[i])),
        EntityRef::Album(i) => Some(cat.album_json(&cat[i])),
        EntityRef::Artist(i) => Some(cat.artist_json(&cat[i])),
        EntityRef::Playlist(i) => Some(cat.playlist_json(&cat[i])),
        EntityRef::PodcastShow(i) => Some(super::catalog::show_with_first_episodes(cat, &cat[i])),
        EntityRef::PodcastEpisode(i) => {
            let _ = ctx;
            Some(cat.podcast_episode_json(&cat[i]))
        }
    }
}

async fn list(ctx: &V1Ctx, c: &Caller, spec: &Spec) -> Result<Value, MusicError> {
    let p = request(ctx.query_param("limit").as_deref(), ctx.query_param("cursor").as_deref(), 100, 100)?;
    let music = ctx.session.store.music();
    let page = music.collection_page(c.user_id(), spec.coll, p.offset, p.limit).await;
    let cat = ctx.catalog();
    let mut edges = Vec::with_capacity(page.items.len());
    for (i, item) in page.items.iter().enumerate() {
        let n = match node(ctx, cat, &item.id).await {
            Some(n) => n,
            // A followed customer playlist shows only its id once it is deleted or made private.
            None => match visible_playlist(ctx, c.user_id(), &item.id).await {
                Some(pl) => super::playlists::user_playlist_json(cat, &pl),
                None => json!({ "id": item.id }),
            },
        };
        let mut e = edge(p.offset + i + 1, page.version, n);
        if let Some(o) = e.as_object_mut() {
            o.insert("addedAt".into(), json!(super::history::iso_ms(item.added_at_ms)));
        }
        edges.push(e);
    }
    let profile = music.music_profile(c.user_id()).await;
    let mut user = Map::new();
    user.insert("id".into(), json!(profile.id));
    user.insert(spec.key.into(), connection(p.offset, page.total, page.version, edges));
    Ok(json!({ "user": user }))
}

/// A customer playlist `user` may see: their own, or another customer's PUBLIC one.
pub async fn visible_playlist(req: &ApiRequest, user: &str, id: &str) -> Option<PlaylistMeta> {
    req.session.store.music().playlist(id).await.filter(|p| p.owner == user || p.visibility == Visibility::Public)
}

/// Reads the ids of a write: body `{"<idsKey>": [...]}` or, for DELETE without a body, `?ids=`.
async fn ids_of(ctx: &V1Ctx, c: &Caller, spec: &Spec, body: &[u8], removing: bool) -> Result<Vec<String>, MusicError> {
    let ids: Vec<String> = if body.iter().all(u8::is_ascii_whitespace) {
        batch_ids(ctx.query_param("ids"), 100)?
    } else {
        let v: Value = parse_body(body)?;
        let arr = v.get(spec.ids_key).and_then(Value::as_array).ok_or_else(|| {
            MusicError::bad_request(format!("Malformed request. The body needs {} (an array of ids).", spec.ids_key))
        })?;
        let mut out = Vec::with_capacity(arr.len());
        for x in arr {
            let s = x.as_str().ok_or_else(|| {
                MusicError::bad_request(format!("Malformed request. {} must hold strings.", spec.ids_key))
            })?;
            out.push(s.trim().to_owned());
        }
        out
    };
    if ids.is_empty() {
        return Err(MusicError::bad_request(format!("Malformed request. {} must not be empty.", spec.ids_key)));
    }
    if ids.len() > 100 {
        return Err(MusicError::bad_request(format!(
            "Malformed request. At most 100 ids per call; got {}.",
            ids.len()
        )));
    }
    // A removal may name what the collection holds even if it no longer resolves (a followed playlist that was
    // deleted or made private), so that it can be cleaned up.
    let held: Vec<String> = if removing {
        let page = ctx.session.store.music().collection_page(c.user_id(), spec.coll, 0, usize::MAX).await;
        page.items.into_iter().map(|i| i.id).collect()
    } else {
        Vec::new()
    };
    let cat = ctx.catalog();
    for id in &ids {
        if held.contains(id) || exists_for(cat, spec.coll, id) {
            continue;
        }
        if spec.coll == Collection::FollowedPlaylists && visible_playlist(ctx, c.user_id(), id).await.is_some() {
            continue;
        }
        return Err(MusicError::not_found(spec.kind, id));
    }
    Ok(ids)
}

async fn add(ctx: &V1Ctx, c: &Caller, spec: &Spec, body: &[u8]) -> Result<Value, MusicError> {
    let ids = ids_of(ctx, c, spec, body, false).await?;
    let n = ctx.session.store.music().collection_add(c.user_id(), spec.coll, &ids, ctx.now_ms()).await;
    Ok(json!({ spec.add_key: { spec.ids_key: ids, "added": n } }))
}

async fn remove(ctx: &V1Ctx, c: &Caller, spec: &Spec, body: &[u8]) -> Result<Value, MusicError> {
    let ids = ids_of(ctx, c, spec, body, true).await?;
    let n = ctx.session.store.music().collection_remove(c.user_id(), spec.coll, &ids).await;
    Ok(json!({ spec.remove_key: { spec.ids_key: ids, "removed": n } }))
}

macro_rules! collection_routes {
    ($spec:ident, $get:ident, $put:ident, $delete:ident) => {
        /// `GET` a page of the collection.
        pub async fn $get(ctx: V1Ctx) -> Response {
            ctx.handle($spec.read, async |c| list(&ctx, c, &$spec).await).await
        }
        /// `PUT` ids into the collection.
        pub async fn $put(ctx: V1Ctx, body: V1Body) -> Response {
            ctx.handle($spec.write, async |c| add(&ctx, c, &$spec, body.bytes()?).await).await
        }
        /// `DELETE` ids from the collection.
        pub async fn $delete(ctx: V1Ctx, body: V1Body) -> Response {
            ctx.handle($spec.write, async |c| remove(&ctx, c, &$spec, body.bytes()?).await).await
        }
    };
}

collection_routes!(LIBRARY_TRACKS, library_tracks, add_library_tracks, remove_library_tracks);
collection_routes!(LIBRARY_ALBUMS, library_albums, add_library_albums, remove_library_albums);
collection_routes!(LIBRARY_EPISODES, library_episodes, add_library_episodes, remove_library_episodes);
collection_routes!(LIKED_TRACKS, liked_tracks, like_tracks, unlike_tracks);
collection_routes!(FOLLOWED_ARTISTS, followed_artists, follow_artists, unfollow_artists);
collection_routes!(FOLLOWED_PLAYLISTS, followed_playlists, follow_playlists, unfollow_playlists);
collection_routes!(FOLLOWED_SHOWS, followed_shows, follow_shows, unfollow_shows);

async fn follow_one(ctx: &V1Ctx, c: &Caller, spec: &Spec, id: &str, on: bool) -> Result<Value, MusicError> {
    let body = serde_json::to_vec(&json!({ spec.ids_key: [id] })).unwrap_or_default();
    if on { add(ctx, c, spec, &body).await } else { remove(ctx, c, spec, &body).await }
}

/// `PUT /v1/me/followed/artists/{id}`.
pub async fn follow_artist(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(FOLLOWED_ARTISTS.write, async |c| follow_one(&ctx, c, &FOLLOWED_ARTISTS, id.get()?, true).await).await
}

/// `DELETE /v1/me/followed/artists/{id}`.
pub async fn unfollow_artist(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(FOLLOWED_ARTISTS.write, async |c| follow_one(&ctx, c, &FOLLOWED_ARTISTS, id.get()?, false).await).await
}

/// `PUT /v1/me/followed/playlists/{id}`.
pub async fn follow_playlist(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(FOLLOWED_PLAYLISTS.write, async |c| follow_one(&ctx, c, &FOLLOWED_PLAYLISTS, id.get()?, true).await)
        .await
}

/// `DELETE /v1/me/followed/playlists/{id}` (unfollow, spec §4.3 🟡).
pub async fn unfollow_playlist(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(FOLLOWED_PLAYLISTS.write, async |c| follow_one(&ctx, c, &FOLLOWED_PLAYLISTS, id.get()?, false).await)
        .await
}
