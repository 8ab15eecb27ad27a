//! Catalog routes (spec `music-api.md` §4.1): tracks, albums, artists and their sub-resources, podcasts;
//! single lookups and `?ids=` batches (at most 100 ids; unknown ids are left out, found ones keep the
//! request order). Scope `music::catalog`. An artist's followers come from the core (`api::library`).

use axum::response::Response;
use serde_json::{Value, json};

use super::error::MusicError;
use super::page::{connection, edge, request};
use super::{V1Ctx, V1Path, batch_ids};
use crate::api::{Requires, library};
use crate::catalog::Catalog;

/// The `?ids=` cap for V1 batch lookups.
pub const MAX_BATCH: usize = 100;

fn found<'a, T>(ids: &'a [String], get: impl Fn(&str) -> Option<T> + 'a) -> impl Iterator<Item = T> + 'a {
    ids.iter().filter_map(move |id| get(id))
}

/// `GET /v1/tracks/{id}[?mediaType=AUDIO|VIDEO]` → `data.track`.
pub async fn track(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let id = id.get()?;
        match ctx.query_param("mediaType").as_deref() {
            None | Some("AUDIO") => {}
            Some("VIDEO") => return Err(MusicError::not_found("video track", id)),
            Some(_) => return Err(MusicError::bad_request("Malformed request. mediaType must be AUDIO or VIDEO.")),
        }
        let cat = ctx.catalog();
        let t = cat.track(id).ok_or_else(|| MusicError::not_found("track", id))?;
        Ok(json!({ "track": cat.track_json(t) }))
    })
    .await
}

/// `GET /v1/tracks?ids=…` → `data.tracks`.
pub async fn tracks(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let ids = batch_ids(ctx.query_param("ids"), MAX_BATCH)?;
        let cat = ctx.catalog();
        Ok(json!({ "tracks": found(&ids, |i| cat.track(i).map(|t| cat.track_json(t))).collect::<Vec<_>>() }))
    })
    .await
}

/// `GET /v1/albums/{id}` → `data.album`.
pub async fn album(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let id = id.get()?;
        let cat = ctx.catalog();
        let a = cat.album(id).ok_or_else(|| MusicError::not_found("album", id))?;
        Ok(json!({ "album": cat.album_json(a) }))
    })
    .await
}

/// `GET /v1/albums?ids=…` → `data.albums`.
pub async fn albums(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let ids = batch_ids(ctx.query_param("ids"), MAX_BATCH)?;
        let cat = ctx.catalog();
        Ok(json!({ "albums": found(&ids, |i| cat.album(i).map(|a| cat.album_json(a))).collect::<Vec<_>>() }))
    })
    .await
}

/// `GET /v1/artists/{id}` → `data.artist`.
pub async fn artist(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let id = id.get()?;
        let cat = ctx.catalog();
        let a = cat.artist(id).ok_or_else(|| MusicError::not_found("artist", id))?;
        Ok(json!({ "artist": cat.artist_json(a) }))
    })
    .await
}

/// `GET /v1/artists?ids=…` → `data.artists`.
pub async fn artists(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let ids = batch_ids(ctx.query_param("ids"), MAX_BATCH)?;
        let cat = ctx.catalog();
        Ok(json!({ "artists": found(&ids, |i| cat.artist(i).map(|a| cat.artist_json(a))).collect::<Vec<_>>() }))
    })
    .await
}

/// A paginated list under an artist: `data.artist{id, <key>{pageInfo, edgeCount, edges[{cursor, node}]}}`.
fn artist_list(
    ctx: &V1Ctx,
    id: &str,
    key: &str,
    nodes: impl Fn(&Catalog, &crate::catalog::Artist) -> Vec<Value>,
) -> Result<Value, MusicError> {
    let p = request(ctx.query_param("limit").as_deref(), ctx.query_param("cursor").as_deref(), 100, 100)?;
    let cat = ctx.catalog();
    let a = cat.artist(id).ok_or_else(|| MusicError::not_found("artist", id))?;
    let all = nodes(cat, a);
    let total = all.len();
    let edges = all.into_iter().enumerate().skip(p.offset).take(p.limit).map(|(i, n)| edge(i + 1, 0, n)).collect();
    Ok(json!({ "artist": { "id": a.id.as_str(), key: connection(p.offset, total, 0, edges) } }))
}

/// `GET /v1/artists/{id}/albums` (assumed path, spec §4.1).
pub async fn artist_albums(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let id = id.get()?;
        artist_list(&ctx, id, "albums", |cat, a| {
            cat.artist_albums(a.idx).iter().map(|&i| cat.album_json(&cat[i])).collect()
        })
    })
    .await
}

/// `GET /v1/artists/{id}/tracks` (assumed path, spec §4.1).
pub async fn artist_tracks(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let id = id.get()?;
        artist_list(&ctx, id, "tracks", |cat, a| {
            cat.artist_tracks(a.idx).iter().map(|&i| cat.track_json(&cat[i])).collect()
        })
    })
    .await
}

/// `GET /v1/artists/{id}/related` (assumed path, spec §4.1).
pub async fn related_artists(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let id = id.get()?;
        artist_list(&ctx, id, "relatedArtists", |cat, a| {
            cat.related_artists(a.idx, 20).into_iter().map(|i| cat.artist_json(&cat[i])).collect()
        })
    })
    .await
}

/// `GET /v1/artists/{id}/followers` (assumed path, spec §4.1): the session's customers who follow the artist.
pub async fn artist_followers(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let id = id.get()?;
        let followers: Vec<Value> = library::followers(&ctx, id).await?.iter().map(user_json).collect();
        artist_list(&ctx, id, "followers", |_, _| followers.clone())
    })
    .await
}

fn episodes_connection(ctx: &V1Ctx, cat: &Catalog, show: &crate::catalog::PodcastShow) -> Result<Value, MusicError> {
    let p = request(ctx.query_param("limit").as_deref(), ctx.query_param("cursor").as_deref(), 100, 100)?;
    let all = cat.show_episodes(show.idx);
    let edges = all
        .iter()
        .enumerate()
        .skip(p.offset)
        .take(p.limit)
        .map(|(i, &e)| edge(i + 1, 0, cat.podcast_episode_json(&cat[e])))
        .collect();
    Ok(connection(p.offset, all.len(), 0, edges))
}

/// `GET /v1/podcasts/shows/{id}?limit&cursor` → `data.podcastShow` with a page of episodes.
pub async fn show(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let id = id.get()?;
        let cat = ctx.catalog();
        let s = cat.podcast_show(id).ok_or_else(|| MusicError::not_found("podcast show", id))?;
        let episodes = episodes_connection(&ctx, cat, s)?;
        Ok(json!({ "podcastShow": cat.podcast_show_json(s, episodes) }))
    })
    .await
}

/// A podcast show with the first page of its episodes (10, the next page's token as from
/// `GET /v1/podcasts/shows/{id}`): the shape wherever a show appears without its own `limit`/`cursor`
/// (batch lookups, search results, followed shows).
pub fn show_with_first_episodes(cat: &Catalog, s: &crate::catalog::PodcastShow) -> Value {
    let eps = cat.show_episodes(s.idx);
    let edges =
        eps.iter().take(10).enumerate().map(|(i, &e)| edge(i + 1, 0, cat.podcast_episode_json(&cat[e]))).collect();
    cat.podcast_show_json(s, connection(0, eps.len(), 0, edges))
}

/// `GET /v1/podcasts/shows?ids=…` → `data.podcastShows` (each with its first 10 episodes).
pub async fn shows(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let ids = batch_ids(ctx.query_param("ids"), MAX_BATCH)?;
        let cat = ctx.catalog();
        let shows: Vec<Value> =
            found(&ids, |i| cat.podcast_show(i)).map(|s| show_with_first_episodes(cat, s)).collect();
        Ok(json!({ "podcastShows": shows }))
    })
    .await
}

/// `GET /v1/podcasts/episodes/{id}` → `data.podcastEpisode`.
pub async fn episode(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let id = id.get()?;
        let cat = ctx.catalog();
        let e = cat.podcast_episode(id).ok_or_else(|| MusicError::not_found("podcast episode", id))?;
        Ok(json!({ "podcastEpisode": cat.podcast_episode_json(e) }))
    })
    .await
}

/// `GET /v1/podcasts/episodes?ids=…` → `data.podcastEpisodes`.
pub async fn episodes(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |_| {
        let ids = batch_ids(ctx.query_param("ids"), MAX_BATCH)?;
        let cat = ctx.catalog();
        let eps: Vec<Value> = found(&ids, |i| cat.podcast_episode(i).map(|e| cat.podcast_episode_json(e))).collect();
        Ok(json!({ "podcastEpisodes": eps }))
    })
    .await
}

/// The V1 User shape (§3.4): `{id, name, images, url}`.
pub fn user_json(p: &crate::store::music::MusicProfile) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "images": [{"height": 160, "width": 160, "url": format!("https://m.media-amazon.com/images/I/{}.jpg", &p.id[..p.id.len().min(11)])}],
        "url": format!("https://music.amazon.com/profiles/{}", p.id),
    })
}
