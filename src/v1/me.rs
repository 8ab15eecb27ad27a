//! The current customer (spec `music-api.md` §4.3): `GET/PUT /v1/me`, library tracks, albums and podcast
//! episodes, liked tracks, followed artists, playlists and podcast shows.
//!
//! Every collection has the same three operations: `GET` a page (`data.user.<key>` connection, newest
//! first), `PUT` ids to add, `DELETE` ids to remove (ids in the JSON body, or `?ids=` since some HTTP
//! clients send no body with DELETE). Ids are checked against the catalog (404 for an unknown one) and
//! capped at 100 per call. Reads need the family's `:read` scope, writes the full scope. The collections, the
//! profile and the checks of ids are the core's (`api::library`); this file reads V1's bodies and renders V1's
//! shapes, each list under `data.user` with the customer's music profile id.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::catalog::{show_with_first_episodes, user_json};
use super::error::MusicError;
use super::history::iso_ms;
use super::page::{connection, edge};
use super::playlists::user_playlist_json;
use super::{V1Body, V1Ctx, V1Path, batch_ids, parse_body};
use crate::api::library::{self, Held, MAX_IDS, Saved};
use crate::api::{Caller, Requires};
use crate::catalog::{Catalog, EntityRef};
use crate::store::music::{Collection, Visibility};

/// `GET /v1/me` → `data.user` (plus `subscriptionTier`, an assumption: the doc says the call returns the
/// tier but its example shows no field).
pub async fn get_me(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::PROFILE_EITHER, async |c| {
        let p = library::profile(&ctx, c.user_id()).await;
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
        let p = library::update_profile(&ctx, c.user_id(), &b.name, b.visibility, b.playback_visibility).await?;
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
}

const LIBRARY_TRACKS: Spec = Spec {
    coll: Collection::LibraryTracks,
    key: "libraryTracks",
    ids_key: "trackIds",
    add_key: "addTracksToLibrary",
    remove_key: "removeTracksFromLibrary",
    read: Requires::LIBRARY_READ,
    write: Requires::LIBRARY,
};
const LIBRARY_ALBUMS: Spec = Spec {
    coll: Collection::LibraryAlbums,
    key: "libraryAlbums",
    ids_key: "albumIds",
    add_key: "addAlbumsToLibrary",
    remove_key: "removeAlbumsFromLibrary",
    read: Requires::LIBRARY_READ,
    write: Requires::LIBRARY,
};
const LIBRARY_EPISODES: Spec = Spec {
    coll: Collection::LibraryPodcastEpisodes,
    key: "libraryPodcastEpisodes",
    ids_key: "episodeIds",
    add_key: "addPodcastEpisodesToLibrary",
    remove_key: "removePodcastEpisodesFromLibrary",
    read: Requires::LIBRARY_READ,
    write: Requires::LIBRARY,
};
const LIKED_TRACKS: Spec = Spec {
    coll: Collection::LikedTracks,
    key: "likedTracks",
    ids_key: "trackIds",
    add_key: "likeTracks",
    remove_key: "unlikeTracks",
    read: Requires::FAVORITES_READ,
    write: Requires::FAVORITES,
};
const FOLLOWED_ARTISTS: Spec = Spec {
    coll: Collection::FollowedArtists,
    key: "followedArtists",
    ids_key: "artistIds",
    add_key: "followArtists",
    remove_key: "unfollowArtists",
    read: Requires::FAVORITES_READ,
    write: Requires::FAVORITES,
};
const FOLLOWED_PLAYLISTS: Spec = Spec {
    coll: Collection::FollowedPlaylists,
    key: "followedPlaylists",
    ids_key: "playlistIds",
    add_key: "followPlaylists",
    remove_key: "unfollowPlaylists",
    read: Requires::FAVORITES_READ,
    write: Requires::FAVORITES,
};
const FOLLOWED_SHOWS: Spec = Spec {
    coll: Collection::FollowedPodcastShows,
    key: "followedPodcastShows",
    ids_key: "showIds",
    add_key: "followPodcastShows",
    remove_key: "unfollowPodcastShows",
    read: Requires::FAVORITES_READ,
    write: Requires::FAVORITES,
};

/// The V1 node of a catalog entity in a collection.
fn node(cat: &Catalog, e: EntityRef) -> Value {
    match e {
        EntityRef::Track(i) => cat.track_json(&cat[i]),
        EntityRef::Album(i) => cat.album_json(&cat[i]),
        EntityRef::Artist(i) => cat.artist_json(&cat[i]),
        EntityRef::Playlist(i) => cat.playlist_json(&cat[i]),
        EntityRef::PodcastShow(i) => show_with_first_episodes(cat, &cat[i]),
        EntityRef::PodcastEpisode(i) => cat.podcast_episode_json(&cat[i]),
    }
}

/// A collection item's edge: the entity, a customer playlist's V1 shape, or only its id once it is gone; then
/// `addedAt`.
fn saved_edge(cat: &Catalog, offset_of_next: usize, version: u64, s: &Saved) -> Value {
    let n = match &s.held {
        Held::Entity(e) => node(cat, *e),
        Held::Playlist(p) => user_playlist_json(p),
        Held::Gone => json!({ "id": s.id }),
    };
    let mut e = edge(offset_of_next, version, n);
    if let Some(o) = e.as_object_mut() {
        o.insert("addedAt".into(), json!(iso_ms(s.added_at_ms)));
    }
    e
}

/// `{"user": {"id": <music profile id>, <key>: value}}`: how V1 answers with the customer's lists.
pub(super) async fn user_data(ctx: &V1Ctx, c: &Caller, key: &str, value: Value) -> Value {
    let profile = library::profile(ctx, c.user_id()).await;
    let mut user = Map::new();
    user.insert("id".into(), json!(profile.id));
    user.insert(key.into(), value);
    json!({ "user": user })
}

async fn list(ctx: &V1Ctx, c: &Caller, spec: &Spec) -> Result<Value, MusicError> {
    let page = library::collection(ctx, c.user_id(), spec.coll, ctx.page(100, 100)?).await;
    let cat = ctx.catalog();
    let edges = page.items.iter().enumerate().map(|(i, s)| saved_edge(cat, page.offset + i + 1, page.version, s));
    let conn = connection(page.offset, page.total, page.version, edges.collect());
    Ok(user_data(ctx, c, spec.key, conn).await)
}

/// Reads the ids of a write: body `{"<idsKey>": [...]}` or, for DELETE without a body, `?ids=`; 1 to 100.
fn ids_of(ctx: &V1Ctx, spec: &Spec, body: &[u8]) -> Result<Vec<String>, MusicError> {
    let ids: Vec<String> = if body.iter().all(u8::is_ascii_whitespace) {
        batch_ids(ctx.query_param("ids"), MAX_IDS)?
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
    if ids.len() > MAX_IDS {
        return Err(MusicError::bad_request(format!(
            "Malformed request. At most {MAX_IDS} ids per call; got {}.",
            ids.len()
        )));
    }
    Ok(ids)
}

async fn add(ctx: &V1Ctx, c: &Caller, spec: &Spec, ids: Vec<String>) -> Result<Value, MusicError> {
    let n = library::add(ctx, c.user_id(), spec.coll, &ids).await?;
    Ok(json!({ spec.add_key: { spec.ids_key: ids, "added": n } }))
}

async fn remove(ctx: &V1Ctx, c: &Caller, spec: &Spec, ids: Vec<String>) -> Result<Value, MusicError> {
    let n = library::remove(ctx, c.user_id(), spec.coll, &ids).await?;
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
            ctx.handle($spec.write, async |c| add(&ctx, c, &$spec, ids_of(&ctx, &$spec, body.bytes()?)?).await).await
        }
        /// `DELETE` ids from the collection.
        pub async fn $delete(ctx: V1Ctx, body: V1Body) -> Response {
            ctx.handle($spec.write, async |c| remove(&ctx, c, &$spec, ids_of(&ctx, &$spec, body.bytes()?)?).await).await
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

/// Follows or unfollows one id of the path, as a body `{"<idsKey>": [id]}` would (trimmed).
async fn follow_one(ctx: &V1Ctx, c: &Caller, spec: &Spec, id: &str, on: bool) -> Result<Value, MusicError> {
    let ids = vec![id.trim().to_owned()];
    if on { add(ctx, c, spec, ids).await } else { remove(ctx, c, spec, ids).await }
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
