//! Views (spec `music-api.md` §3.4 "View (V1)", §4.5): `GET /v1/views/home`, `/v1/views/home/{groupId}`
//! and the other named views (paths beyond `home` and `artist/{id}` are assumptions).
//!
//! A view is `{_type:"View", id, images, content{_type:"ViewContent", nextPageToken, entityGroups[…]}}`;
//! each group is `{_type:"EntityGroup", id, title, viewType:"LIST", content{_type:"EntityGroupContent",
//! nextPageToken, entities[…]}}`. Groups hold at most 10 entities a page (`limit` 1–10); a group's next
//! page is `GET /v1/views/<view>/<groupId>?cursor=<nextPageToken>`.

use axum::response::Response;
use serde_json::{Value, json};

use super::error::MusicError;
use super::page::{encode_cursor, request};
use super::{V1Ctx, V1Path};
use crate::api::{ApiRequest, Caller, Requires};
use crate::catalog::{Catalog, EntityRef};
use crate::store::music::Collection;

/// Entities per group page: default and maximum (§11.2).
pub const GROUP_LIMIT: usize = 10;

/// One group of a view: its short id (`recentlyPlayed`), title and every entity it lists.
pub struct Group {
    /// The short id; on the wire it is `<view>:<id>`.
    pub id: String,
    /// The title.
    pub title: String,
    /// Every entity of the group, in order.
    pub entities: Vec<EntityRef>,
}

/// `{_type:"EntityGroup", id:"<view>:<group>", title, viewType:"LIST", content{_type:"EntityGroupContent",
/// nextPageToken, entities}}` for the entities at `offset..offset + limit`; the token is the cursor of the next
/// page, `null` on the last.
pub fn group_json(cat: &Catalog, view: &str, g: &Group, offset: usize, limit: usize) -> Value {
    let n = g.entities.len();
    let page = &g.entities[offset.min(n)..offset.saturating_add(limit).min(n)];
    let next = offset.saturating_add(limit);
    let token = (next < n).then(|| encode_cursor(next, 0));
    cat.entity_group_json(&format!("{view}:{}", g.id), &g.title, page, token)
}

fn view_json(cat: &Catalog, id: &str, groups: &[Group], limit: usize) -> Value {
    let gs: Vec<Value> =
        groups.iter().filter(|g| !g.entities.is_empty()).map(|g| group_json(cat, id, g, 0, limit)).collect();
    json!({
        "_type": "View",
        "id": id,
        "images": [],
        "content": { "_type": "ViewContent", "nextPageToken": null, "entityGroups": gs },
    })
}

/// The first `n` items in `order`, sorted: a partial selection, so a view over a million-track catalog does
/// not sort every entity on each request.
fn top<T>(mut items: Vec<T>, n: usize, order: impl Fn(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    if n == 0 {
        return Vec::new();
    }
    if items.len() > n {
        items.select_nth_unstable_by(n - 1, &order);
        items.truncate(n);
    }
    items.sort_by(order);
    items
}

async fn ids_in(ctx: &ApiRequest, c: &Caller, coll: Collection, n: usize) -> Vec<String> {
    ctx.session.store.music().collection_page(c.user_id(), coll, 0, n).await.items.into_iter().map(|i| i.id).collect()
}

/// Builds a named view's groups (every group, empty ones included); 404 for an unknown view or entity.
///
/// # Errors
/// 404 `RESOURCE_NOT_FOUND` for an unknown view or entity.
pub async fn groups(ctx: &ApiRequest, c: &Caller, name: &str, id: Option<&str>) -> Result<Vec<Group>, MusicError> {
    let cat = ctx.catalog();
    let lookup = |ids: Vec<String>| -> Vec<EntityRef> { ids.iter().filter_map(|i| cat.lookup(i)).collect() };
    let g = |id: &str, title: &str, entities: Vec<EntityRef>| Group {
        id: id.to_owned(),
        title: title.to_owned(),
        entities,
    };
    Ok(match (name, id) {
        ("home", None) => {
            let history = ctx.session.store.music().history(c.user_id(), 0, 200).await;
            let mut recent = Vec::new();
            for p in &history.items {
                if let Some(t) = cat.track(&p.track_id) {
                    let e = EntityRef::Album(t.album);
                    if !recent.contains(&e) {
                        recent.push(e);
                    }
                }
            }
            let new_releases = cat.new_releases(0, 50).items;
            let followed = lookup(ids_in(ctx, c, Collection::FollowedArtists, 20).await);
            let mut for_you = Vec::new();
            for e in &followed {
                if let EntityRef::Artist(a) = e {
                    for r in cat.related_artists(*a, 5) {
                        for &al in cat.artist_albums(r).iter().take(2) {
                            if !for_you.contains(&EntityRef::Album(al)) {
                                for_you.push(EntityRef::Album(al));
                            }
                        }
                    }
                }
            }
            let playlists = cat.top_playlists(0, 50).items;
            vec![
                g("recentlyPlayed", "Recently played", recent.into_iter().take(50).collect()),
                g("recommendedForYou", "Recommended for you", for_you.into_iter().take(50).collect()),
                g("newReleases", "New releases", new_releases.into_iter().map(EntityRef::Album).collect()),
                g("popularPlaylists", "Popular playlists", playlists.into_iter().map(EntityRef::Playlist).collect()),
            ]
        }
        ("artist", Some(id)) => {
            let a = cat.artist(id).ok_or_else(|| MusicError::not_found("artist", id))?;
            vec![
                g(
                    "topSongs",
                    "Top songs",
                    cat.artist_tracks(a.idx).iter().take(50).map(|&t| EntityRef::Track(t)).collect(),
                ),
                g("albums", "Albums", cat.artist_albums(a.idx).iter().map(|&x| EntityRef::Album(x)).collect()),
                g(
                    "relatedArtists",
                    "Fans also like",
                    cat.related_artists(a.idx, 20).into_iter().map(EntityRef::Artist).collect(),
                ),
            ]
        }
        ("album", Some(id)) => {
            let a = cat.album(id).ok_or_else(|| MusicError::not_found("album", id))?;
            vec![
                g("tracks", "Songs", cat.album_tracks(a.idx).iter().map(|&t| EntityRef::Track(t)).collect()),
                g(
                    "moreByArtist",
                    "More by this artist",
                    cat.artist_albums(a.artist).iter().filter(|&&x| x != a.idx).map(|&x| EntityRef::Album(x)).collect(),
                ),
            ]
        }
        ("playlist", Some(id)) => {
            let p = cat.playlist(id).ok_or_else(|| MusicError::not_found("playlist", id))?;
            vec![g("tracks", "Songs", p.tracks.iter().map(|&t| EntityRef::Track(t)).collect())]
        }
        ("podcast-show", Some(id)) => {
            let s = cat.podcast_show(id).ok_or_else(|| MusicError::not_found("podcast show", id))?;
            vec![g(
                "episodes",
                "Episodes",
                cat.show_episodes(s.idx).iter().map(|&e| EntityRef::PodcastEpisode(e)).collect(),
            )]
        }
        ("podcasts", None) => {
            let shows = top(cat.podcast_shows().iter().collect(), 200, |a, b| {
                b.popularity.cmp(&a.popularity).then(a.id.cmp(&b.id))
            });
            vec![g("topShows", "Top podcasts", shows.iter().map(|s| EntityRef::PodcastShow(s.idx)).collect())]
        }
        ("my-library", None) => vec![
            g("albums", "Albums", lookup(ids_in(ctx, c, Collection::LibraryAlbums, 200).await)),
            g("songs", "Songs", lookup(ids_in(ctx, c, Collection::LibraryTracks, 200).await)),
            g("artists", "Artists", lookup(ids_in(ctx, c, Collection::FollowedArtists, 200).await)),
            g("playlists", "Playlists", lookup(ids_in(ctx, c, Collection::FollowedPlaylists, 200).await)),
            g("podcasts", "Podcasts", lookup(ids_in(ctx, c, Collection::FollowedPodcastShows, 200).await)),
        ],
        ("recently-played", None) => {
            let history = ctx.session.store.music().history(c.user_id(), 0, 200).await;
            let tracks: Vec<EntityRef> =
                history.items.iter().filter_map(|p| cat.track(&p.track_id).map(|t| EntityRef::Track(t.idx))).collect();
            vec![g("tracks", "Recently played", tracks)]
        }
        _ => return Err(MusicError::not_found("view", &id.map_or_else(|| name.to_owned(), |i| format!("{name}/{i}")))),
    })
}

/// The scope a view path needs before its groups are built (the auth chain runs with it).
fn scope_of(name: &str) -> Requires {
    match name {
        "home" => Requires::RECOMMENDATION,
        "my-library" => Requires::LIBRARY_READ,
        "recently-played" => Requires::HISTORY,
        _ => Requires::CATALOG,
    }
}

/// `GET /v1/views/{name}` (home, podcasts, my-library, recently-played).
pub async fn view(ctx: V1Ctx, name: V1Path<String>) -> Response {
    let scope = name.get().map_or(Requires::CATALOG, |n| scope_of(n));
    ctx.handle(scope, async |c| {
        let name = name.get()?;
        let limit = request(ctx.query_param("limit").as_deref(), None, GROUP_LIMIT, GROUP_LIMIT)?.limit;
        let gs = groups(&ctx, c, name, None).await?;
        Ok(view_json(ctx.catalog(), name, &gs, limit))
    })
    .await
}

/// `GET /v1/views/{name}/{id}`: an entity's view (artist, album, playlist, podcast-show) or, for views
/// without an entity, one group's page (`/v1/views/home/{groupId}?cursor&limit`).
pub async fn view_with_id(ctx: V1Ctx, params: V1Path<(String, String)>) -> Response {
    let scope = params.get().map_or(Requires::CATALOG, |(n, _)| scope_of(n));
    ctx.handle(scope, async |c| {
        let (name, id) = params.get()?;
        let p = request(
            ctx.query_param("limit").as_deref(),
            ctx.query_param("cursor").as_deref(),
            GROUP_LIMIT,
            GROUP_LIMIT,
        )?;
        let cat = ctx.catalog();
        if matches!(name.as_str(), "home" | "podcasts" | "my-library" | "recently-played") {
            let gs = groups(&ctx, c, name, None).await?;
            let short = id.strip_prefix(&format!("{name}:")).unwrap_or(id);
            let g = gs.iter().find(|g| g.id == short).ok_or_else(|| MusicError::not_found("view group", id))?;
            return Ok(group_json(cat, name, g, p.offset, p.limit));
        }
        let gs = groups(&ctx, c, name, Some(id)).await?;
        let mut v = view_json(cat, &format!("{name}/{id}"), &gs, p.limit);
        if let Some(o) = v.as_object_mut() {
            o.insert("entity".into(), cat.lookup(id).and_then(|e| cat.view_entity_json(e)).unwrap_or(Value::Null));
        }
        Ok(v)
    })
    .await
}
