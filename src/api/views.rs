//! Views, for every family (spec `music-api.md` §3.4, §4.5, §5.2): the groups of entities a named view holds
//! (`home`, `podcasts`, `my-library`, `recently-played`, and the entity views `artist/{id}`, `album/{id}`,
//! `playlist/{id}`, `podcast-show/{id}`), and pages of them. A group's id on the wire is `<view>:<group>`; a
//! page of a group or of a view's groups carries the cursor of the next page, if there is one.

use super::error::{Noun, Problem};
use super::page::{PageRequest, encode_cursor};
use super::request::ApiRequest;
use crate::catalog::EntityRef;
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

/// A page of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPage {
    /// The group's id on the wire (`<view>:<group>`).
    pub id: String,
    /// The title.
    pub title: String,
    /// The entities of the page.
    pub entities: Vec<EntityRef>,
    /// The cursor of the next page; `None` on the last.
    pub next_token: Option<String>,
}

impl Group {
    /// The entities at `offset..offset + limit`, in the view `view`.
    pub fn page(&self, view: &str, offset: usize, limit: usize) -> GroupPage {
        let n = self.entities.len();
        let entities = self.entities[offset.min(n)..offset.saturating_add(limit).min(n)].to_vec();
        let next = offset.saturating_add(limit);
        let next_token = (next < n).then(|| encode_cursor(next, 0));
        GroupPage { id: format!("{view}:{}", self.id), title: self.title.clone(), entities, next_token }
    }
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

async fn ids_in(req: &ApiRequest, user: &str, coll: Collection, n: usize) -> Vec<String> {
    req.session.store.music().collection_page(user, coll, 0, n).await.items.into_iter().map(|i| i.id).collect()
}

/// A named view's groups (every group, empty ones included): `id` is the entity of an entity view.
///
/// # Errors
/// [`Problem::NotFound`] for an unknown view or entity.
pub async fn groups(req: &ApiRequest, user: &str, name: &str, id: Option<&str>) -> Result<Vec<Group>, Problem> {
    let cat = req.catalog();
    let lookup = |ids: Vec<String>| -> Vec<EntityRef> { ids.iter().filter_map(|i| cat.lookup(i)).collect() };
    let g = |id: &str, title: &str, entities: Vec<EntityRef>| Group {
        id: id.to_owned(),
        title: title.to_owned(),
        entities,
    };
    Ok(match (name, id) {
        ("home", None) => {
            let history = req.session.store.music().history(user, 0, 200).await;
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
            let followed = lookup(ids_in(req, user, Collection::FollowedArtists, 20).await);
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
            let a = cat.artist(id).ok_or_else(|| Problem::not_found(Noun::Artist, id))?;
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
            let a = cat.album(id).ok_or_else(|| Problem::not_found(Noun::Album, id))?;
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
            let p = cat.playlist(id).ok_or_else(|| Problem::not_found(Noun::Playlist, id))?;
            vec![g("tracks", "Songs", p.tracks.iter().map(|&t| EntityRef::Track(t)).collect())]
        }
        ("podcast-show", Some(id)) => {
            let s = cat.podcast_show(id).ok_or_else(|| Problem::not_found(Noun::Show, id))?;
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
            g("albums", "Albums", lookup(ids_in(req, user, Collection::LibraryAlbums, 200).await)),
            g("songs", "Songs", lookup(ids_in(req, user, Collection::LibraryTracks, 200).await)),
            g("artists", "Artists", lookup(ids_in(req, user, Collection::FollowedArtists, 200).await)),
            g("playlists", "Playlists", lookup(ids_in(req, user, Collection::FollowedPlaylists, 200).await)),
            g("podcasts", "Podcasts", lookup(ids_in(req, user, Collection::FollowedPodcastShows, 200).await)),
        ],
        ("recently-played", None) => {
            let history = req.session.store.music().history(user, 0, 200).await;
            let tracks: Vec<EntityRef> =
                history.items.iter().filter_map(|p| cat.track(&p.track_id).map(|t| EntityRef::Track(t.idx))).collect();
            vec![g("tracks", "Recently played", tracks)]
        }
        _ => {
            let id = id.map_or_else(|| name.to_owned(), |i| format!("{name}/{i}"));
            return Err(Problem::not_found(Noun::View, id));
        }
    })
}

/// A page of a view: its id (`home`, `artist/<id>`), a page of its groups that have entities, each with its
/// first `per_group` entities, and the cursor of the next page of groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewPage {
    /// The view's id: the name, or `<name>/<entity id>` for an entity view.
    pub id: String,
    /// The groups of the page.
    pub groups: Vec<GroupPage>,
    /// The cursor of the next page of groups; `None` on the last.
    pub next_token: Option<String>,
}

/// The page `p` of the non-empty groups of the view `name` (of the entity `id`), each with its first
/// `per_group` entities.
///
/// # Errors
/// As [`groups`].
pub async fn view(
    req: &ApiRequest,
    user: &str,
    name: &str,
    id: Option<&str>,
    p: PageRequest,
    per_group: usize,
) -> Result<ViewPage, Problem> {
    let view_id = id.map_or_else(|| name.to_owned(), |i| format!("{name}/{i}"));
    let all: Vec<Group> = groups(req, user, name, id).await?.into_iter().filter(|g| !g.entities.is_empty()).collect();
    let page: Vec<GroupPage> =
        all.iter().skip(p.offset).take(p.limit).map(|g| g.page(&view_id, 0, per_group)).collect();
    let next = p.offset + page.len();
    let next_token = (!page.is_empty() && next < all.len()).then(|| encode_cursor(next, 0));
    Ok(ViewPage { id: view_id, groups: page, next_token })
}

/// The page `p` of the group `group_id` (`<view>:<group>`, or the group's short id alone) of the view `name`.
///
/// # Errors
/// As [`groups`], or [`Problem::NotFound`] for an unknown group.
pub async fn group(
    req: &ApiRequest,
    user: &str,
    name: &str,
    group_id: &str,
    p: PageRequest,
) -> Result<GroupPage, Problem> {
    let all = groups(req, user, name, None).await?;
    let short = group_id.strip_prefix(&format!("{name}:")).unwrap_or(group_id);
    let g = all.iter().find(|g| g.id == short).ok_or_else(|| Problem::not_found(Noun::ViewGroup, group_id))?;
    Ok(g.page(name, p.offset, p.limit))
}
