//! The customer's library, for every family (spec `music-api.md` §4.3, §4.5, §5.1, §5.2): the music profile;
//! the collections (library tracks, albums and podcast episodes, liked tracks, followed artists, playlists
//! and podcast shows), what their items are now, adds and removals; the listening history a page at a time,
//! the albums of recent plays and the personalised top tracks; who follows an artist.
//!
//! Reads answer a [`Paged`] page (items, offset, total, and the list's version for cursors); each family
//! reads its own page parameters and renders the items in its own shape.

use super::error::{Noun, Problem};
use super::page::PageRequest;
use super::playlists::{Playlist, visible};
use super::request::ApiRequest;
use crate::catalog::{AlbumIdx, Catalog, EntityRef, TrackIdx};
use crate::store::music::{Collection, MusicProfile, Play, Visibility};

/// A page of a list: its items, where it starts, how long the whole list is, and the version of the list it
/// was read from (for cursors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The position of the first item in the list.
    pub offset: usize,
    /// How many items the whole list has.
    pub total: usize,
    /// The list's version when the page was read.
    pub version: u64,
}

/// The most ids one collection write may carry (§11.2).
pub const MAX_IDS: usize = 100;

/// The customer's music profile.
pub async fn profile(req: &ApiRequest, user: &str) -> MusicProfile {
    req.session.store.music().music_profile(user).await
}

/// Changes the customer's profile name and visibilities.
///
/// # Errors
/// [`Problem::BadRequest`] unless the trimmed name is 1 to 100 characters.
pub async fn update_profile(
    req: &ApiRequest,
    user: &str,
    name: &str,
    visibility: Visibility,
    playback_visibility: Visibility,
) -> Result<MusicProfile, Problem> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Problem::bad_request("name must be 1 to 100 characters."));
    }
    Ok(req.session.store.music().update_music_profile(user, name.to_owned(), visibility, playback_visibility).await)
}

/// What a collection holds, named for its 404s.
pub fn noun(c: Collection) -> Noun {
    match c {
        Collection::LibraryTracks | Collection::LikedTracks => Noun::Track,
        Collection::LibraryAlbums => Noun::Album,
        Collection::LibraryPodcastEpisodes => Noun::Episode,
        Collection::FollowedArtists => Noun::Artist,
        Collection::FollowedPlaylists => Noun::Playlist,
        Collection::FollowedPodcastShows => Noun::Show,
    }
}

/// Whether an id names an entity of the kind a collection holds.
pub fn exists_for(cat: &Catalog, c: Collection, id: &str) -> bool {
    matches!(
        (c, cat.lookup(id)),
        (Collection::LibraryTracks | Collection::LikedTracks, Some(EntityRef::Track(_)))
            | (Collection::LibraryAlbums, Some(EntityRef::Album(_)))
            | (Collection::FollowedArtists, Some(EntityRef::Artist(_)))
            | (Collection::FollowedPlaylists, Some(EntityRef::Playlist(_)))
            | (Collection::FollowedPodcastShows, Some(EntityRef::PodcastShow(_)))
            | (Collection::LibraryPodcastEpisodes, Some(EntityRef::PodcastEpisode(_)))
    )
}

/// What a collection item is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// A catalog entity.
    Entity(EntityRef),
    /// A customer playlist the customer may see (their own, or another customer's PUBLIC one).
    Playlist(Playlist),
    /// Neither any more (a followed customer playlist that was deleted or made private): only its id is left.
    Gone,
}

/// One item of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// The id saved.
    pub id: String,
    /// When, virtual epoch ms.
    pub added_at_ms: i64,
    /// What it is now.
    pub held: Held,
}

/// A page of a collection, newest first, each item resolved.
pub async fn collection(req: &ApiRequest, user: &str, c: Collection, p: PageRequest) -> Paged<Saved> {
    let page = req.session.store.music().collection_page(user, c, p.offset, p.limit).await;
    let cat = req.catalog();
    let mut items = Vec::with_capacity(page.items.len());
    for item in page.items {
        let held = match cat.lookup(&item.id) {
            Some(e) => Held::Entity(e),
            None => match visible(req, user, &item.id).await {
                Some(pl) => Held::Playlist(Playlist::customer(cat, &pl)),
                None => Held::Gone,
            },
        };
        items.push(Saved { id: item.id, added_at_ms: item.added_at_ms, held });
    }
    Paged { items, offset: p.offset, total: page.total, version: page.version }
}

/// A page of a track collection (library or liked tracks), newest first: the tracks the catalog has (the total
/// counts every item).
pub async fn saved_tracks(req: &ApiRequest, user: &str, c: Collection, p: PageRequest) -> Paged<TrackIdx> {
    let page = req.session.store.music().collection_page(user, c, p.offset, p.limit).await;
    let cat = req.catalog();
    let items = page.items.iter().filter_map(|i| cat.track(&i.id)).map(|t| t.idx).collect();
    Paged { items, offset: p.offset, total: page.total, version: page.version }
}

/// Checks the ids of a write: each a catalog entity of the collection's kind, or (followed playlists) a customer
/// playlist the customer may see; a removal may also name what the collection holds even if it no longer
/// resolves (a followed playlist that was deleted or made private), so that it can be cleaned up.
async fn check_ids(req: &ApiRequest, user: &str, c: Collection, ids: &[String], removing: bool) -> Result<(), Problem> {
    let held: Vec<String> = if removing {
        let page = req.session.store.music().collection_page(user, c, 0, usize::MAX).await;
        page.items.into_iter().map(|i| i.id).collect()
    } else {
        Vec::new()
    };
    let cat = req.catalog();
    for id in ids {
        if held.contains(id) || exists_for(cat, c, id) {
            continue;
        }
        if c == Collection::FollowedPlaylists && visible(req, user, id).await.is_some() {
            continue;
        }
        return Err(Problem::not_found(noun(c), id));
    }
    Ok(())
}

/// Adds ids to a collection; answers how many were new.
///
/// # Errors
/// [`Problem::NotFound`] for the first id that is not of the collection's kind (nothing is added).
pub async fn add(req: &ApiRequest, user: &str, c: Collection, ids: &[String]) -> Result<usize, Problem> {
    check_ids(req, user, c, ids, false).await?;
    Ok(req.session.store.music().collection_add(user, c, ids, req.now_ms()).await)
}

/// Removes ids from a collection; answers how many were held.
///
/// # Errors
/// [`Problem::NotFound`] for the first id that is neither held nor of the collection's kind.
pub async fn remove(req: &ApiRequest, user: &str, c: Collection, ids: &[String]) -> Result<usize, Problem> {
    check_ids(req, user, c, ids, true).await?;
    Ok(req.session.store.music().collection_remove(user, c, ids).await)
}

/// The session's customers (with a music account) who follow the artist `id`, in fixture order.
///
/// # Errors
/// [`Problem::NotFound`] for an unknown artist.
pub async fn followers(req: &ApiRequest, id: &str) -> Result<Vec<MusicProfile>, Problem> {
    if req.catalog().artist(id).is_none() {
        return Err(Problem::not_found(Noun::Artist, id));
    }
    let music = req.session.store.music();
    let mut out = Vec::new();
    for u in req.state.fixtures.users().iter().filter(|u| u.has_music_account) {
        let uid = u.user_id.as_str();
        let page = music.collection_page(uid, Collection::FollowedArtists, 0, usize::MAX).await;
        if page.items.iter().any(|i| i.id == id) {
            out.push(music.music_profile(uid).await);
        }
    }
    Ok(out)
}

/// A position in the history, newest first: after the plays newer than `ms` and the first `seen` plays at `ms`
/// (plays that share a millisecond, under a frozen virtual clock, are neither skipped nor repeated across
/// pages). Families carry it in their own tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    /// Epoch milliseconds of the last play returned.
    pub ms: i64,
    /// How many plays of that millisecond the pages so far held.
    pub seen: u32,
}

/// The page of `plays` (newest first) after `after`, and where the next page starts if there is one.
pub fn history_page(plays: &[Play], after: Option<After>, limit: usize) -> (&[Play], Option<After>) {
    let newer = |ms: i64| plays.partition_point(|p| p.played_at_ms > ms);
    let start = after.map_or(0, |a| {
        let at_ms = plays[newer(a.ms)..].iter().take_while(|p| p.played_at_ms == a.ms).count();
        newer(a.ms) + (a.seen as usize).min(at_ms)
    });
    let start = start.min(plays.len());
    let end = start.saturating_add(limit).min(plays.len());
    let page = &plays[start..end];
    let next = match page.last() {
        Some(last) if end < plays.len() => {
            Some(After { ms: last.played_at_ms, seen: (end - newer(last.played_at_ms)) as u32 })
        }
        _ => None,
    };
    (page, next)
}

/// A page of the listening history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plays {
    /// The plays, newest first.
    pub plays: Vec<Play>,
    /// Where the next page starts, if there is one.
    pub next: Option<After>,
}

/// The plays of `user` after `after`, at most `limit`, newest first.
pub async fn recently_played(req: &ApiRequest, user: &str, after: Option<After>, limit: usize) -> Plays {
    let all = req.session.store.music().history(user, 0, usize::MAX).await;
    let (page, next) = history_page(&all.items, after, limit);
    Plays { plays: page.to_vec(), next }
}

/// A page of the albums of `user`'s recent plays, most recent first, each once.
pub async fn recent_albums(req: &ApiRequest, user: &str, p: PageRequest) -> Paged<AlbumIdx> {
    let all = req.session.store.music().history(user, 0, usize::MAX).await;
    let cat = req.catalog();
    let mut albums = Vec::new();
    for t in all.items.iter().filter_map(|pl| cat.track(&pl.track_id)) {
        if !albums.contains(&t.album) {
            albums.push(t.album);
        }
    }
    let total = albums.len();
    let items = albums.into_iter().skip(p.offset).take(p.limit).collect();
    Paged { items, offset: p.offset, total, version: all.version }
}

/// How many of the customer's most played tracks lead their top tracks.
pub const PERSONAL_TOP: usize = 10;

/// A page of `user`'s top tracks: their most played tracks (by plays in their history, then the most recent)
/// lead, then every other track by popularity; the version is the history's.
pub async fn top_tracks(req: &ApiRequest, user: &str, p: PageRequest) -> Paged<TrackIdx> {
    let cat = req.catalog();
    let history = req.session.store.music().history(user, 0, usize::MAX).await;
    let mut counts: Vec<(TrackIdx, usize)> = Vec::new();
    for t in history.items.iter().filter_map(|play| cat.track(&play.track_id)) {
        match counts.iter_mut().find(|(x, _)| *x == t.idx) {
            Some((_, n)) => *n += 1,
            None => counts.push((t.idx, 1)),
        }
    }
    // A stable sort keeps the most recent first among equal counts.
    counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    let personal: Vec<TrackIdx> = counts.into_iter().take(PERSONAL_TOP).map(|(t, _)| t).collect();
    let items = personalised_page(cat, &personal, p);
    Paged { items, offset: p.offset, total: cat.tracks().len(), version: history.version }
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
