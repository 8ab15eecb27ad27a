//! Playlists, for every family (spec `music-api.md` §4.4, §5.2, §11.2): the customer's own (UUID ids, stored
//! per session) and curated catalog playlists (ASIN ids, read-only).
//!
//! - who may read one ([`readable`]: their own, another customer's PUBLIC one, any catalog playlist);
//! - what one is, as every family describes it ([`Playlist`], with its owner's name where a family shows it:
//!   [`Named`]);
//! - its tracks a page at a time ([`tracks`]: entries `{entryId, trackId}`, stable UUIDs for catalog entries);
//! - the customer's edits: [`create`], [`update`], [`delete`], [`add_tracks`], [`remove_tracks`], [`reorder`].
//!   A write to one playlist is serialised by the store, so parallel adds lose nothing. Catalog playlists
//!   cannot be modified; another customer's PUBLIC playlist is forbidden, a PRIVATE one not found.
//!
//! The families check the shape of their bodies and word those errors themselves; what is decided here
//! (unknown tracks, who may write, unknown entries) is a [`Problem`].

use sha2::{Digest, Sha256};

use super::error::{Noun, Problem};
use super::library::Paged;
use super::page::PageRequest;
use super::request::ApiRequest;
use crate::catalog::{Catalog, CatalogPlaylist, EntityRef};
use crate::store::music::{Anchor, Entry, MusicProfile, PlaylistError, PlaylistMeta, PlaylistPatch, Visibility};

/// The most track ids one add (or a create's tracks) may carry (§11.2, §11.3).
pub const MAX_ADD: usize = 100;

/// The owner name of curated playlists (V2's `owner.name`).
pub const CURATOR_NAME: &str = "Amazon Music";

/// The artwork of a customer's playlist while it is empty.
const PLACEHOLDER_IMAGE: &str = "https://m.media-amazon.com/images/I/51mockPlaylist.jpg";

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
    readable_once(req, user, id, &mut false).await
}

/// [`readable`], touching the customer's state (which seeds their playlists) at most once per request:
/// `touched` says whether it was done.
async fn readable_once<'a>(req: &'a ApiRequest, user: &str, id: &str, touched: &mut bool) -> Option<Readable<'a>> {
    if let Some(p) = req.catalog().playlist(id) {
        return Some(Readable::Catalog(p));
    }
    let music = req.session.store.music();
    match music.playlist(id).await {
        Some(p) if p.owner == user || p.visibility == Visibility::Public => Some(Readable::Mine(p)),
        // Once the customer's state was touched, the read above already saw their seeded playlists.
        _ if *touched => None,
        _ => {
            // The customer's seeded playlists exist once their state is touched.
            let _ = music.user_playlists(user, 0, 0).await;
            *touched = true;
            match music.playlist(id).await {
                Some(p) if p.owner == user => Some(Readable::Mine(p)),
                _ => None,
            }
        }
    }
}

/// [`readable`], or 404 for the playlist.
///
/// # Errors
/// [`Problem::NotFound`] when `user` may not read it.
pub async fn read<'a>(req: &'a ApiRequest, user: &str, id: &str) -> Result<Readable<'a>, Problem> {
    readable(req, user, id).await.ok_or_else(|| Problem::not_found(Noun::Playlist, id))
}

/// A customer playlist `user` may see without touching their state: their own, or another customer's PUBLIC
/// one (what a followed playlist shows).
pub async fn visible(req: &ApiRequest, user: &str, id: &str) -> Option<PlaylistMeta> {
    req.session.store.music().playlist(id).await.filter(|p| p.owner == user || p.visibility == Visibility::Public)
}

/// The web URL of a customer's playlist (§3.1): `https://music.amazon.com/my/playlists/<uuid>`.
pub fn customer_url(id: &str) -> String {
    format!("https://music.amazon.com/my/playlists/{id}")
}

/// A playlist as every family describes it (its metadata, not its tracks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playlist {
    /// ASIN (catalog) or UUID (customer).
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Catalog playlists are PUBLIC.
    pub visibility: Visibility,
    /// Number of entries.
    pub track_count: usize,
    /// Total duration, seconds.
    pub duration: u64,
    /// The web URL.
    pub url: String,
    /// The artwork: a catalog playlist's own, a customer playlist's first track's cover (a placeholder while
    /// it is empty).
    pub image: String,
    /// Whether any track is explicit.
    pub explicit: bool,
    /// The owner's id: a customer's music profile id, a catalog playlist's curator id.
    pub owner_id: String,
}

impl Playlist {
    /// A curated catalog playlist.
    pub fn catalog(cat: &Catalog, p: &CatalogPlaylist) -> Self {
        let tracks = || p.tracks.iter().filter_map(|t| cat.tracks().get(t.get()));
        Playlist {
            id: p.id.as_str().to_owned(),
            title: p.title.to_string(),
            description: p.description.to_string(),
            visibility: Visibility::Public,
            track_count: p.tracks.len(),
            duration: tracks().map(|t| u64::from(t.duration)).sum(),
            url: crate::catalog::playlist_url(p.id),
            image: image_of(cat, EntityRef::Playlist(p.idx)).unwrap_or_default(),
            explicit: tracks().any(|t| t.explicit),
            owner_id: p.curator.to_string(),
        }
    }

    /// A customer's playlist.
    pub fn customer(cat: &Catalog, p: &PlaylistMeta) -> Self {
        let tracks = || p.track_ids.iter().filter_map(|t| cat.track(t));
        Playlist {
            id: p.id.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            visibility: p.visibility,
            track_count: p.track_count,
            duration: tracks().map(|t| u64::from(t.duration)).sum(),
            url: customer_url(&p.id),
            image: (p.track_ids.first().and_then(|t| cat.track(t)))
                .and_then(|t| image_of(cat, EntityRef::Track(t.idx)))
                .unwrap_or_else(|| PLACEHOLDER_IMAGE.to_owned()),
            explicit: tracks().any(|t| t.explicit),
            owner_id: super::seed::music_profile_id(&p.owner),
        }
    }
}

/// The cover of an entity, as the views show it.
fn image_of(cat: &Catalog, e: EntityRef) -> Option<String> {
    cat.view_entity_json(e).and_then(|v| v["images"][0]["url"].as_str().map(str::to_owned))
}

/// A playlist with its owner's name (V2 shows `owner{id, name}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The playlist.
    pub playlist: Playlist,
    /// The owner's music profile name; [`CURATOR_NAME`] for catalog playlists.
    pub owner_name: String,
}

/// The music profile names of playlist owners, each read once per request.
#[derive(Default)]
struct Owners(Vec<(String, String)>);

impl Owners {
    async fn name(&mut self, req: &ApiRequest, owner: &str) -> String {
        if let Some((_, name)) = self.0.iter().find(|(o, _)| o == owner) {
            return name.clone();
        }
        let name = req.session.store.music().music_profile(owner).await.name;
        self.0.push((owner.to_owned(), name.clone()));
        name
    }

    async fn named(&mut self, req: &ApiRequest, p: Readable<'_>) -> Named {
        let cat = req.catalog();
        match p {
            Readable::Catalog(p) => Named { playlist: Playlist::catalog(cat, p), owner_name: CURATOR_NAME.to_owned() },
            Readable::Mine(p) => {
                Named { owner_name: self.name(req, &p.owner).await, playlist: Playlist::customer(cat, &p) }
            }
        }
    }
}

/// The playlists `ids` that `user` may read, named, in request order (unknown ones `None`): one music profile
/// read per owner, and the customer's state touched at most once.
pub async fn named_all(req: &ApiRequest, user: &str, ids: &[String]) -> Vec<Option<Named>> {
    let (mut owners, mut touched) = (Owners::default(), false);
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(match readable_once(req, user, id, &mut touched).await {
            Some(p) => Some(owners.named(req, p).await),
            None => None,
        });
    }
    out
}

/// A page of the playlists `user` follows, each named, or `None` for one they may no longer read (deleted, or
/// made private): `(id, playlist)`, newest first.
pub async fn followed(req: &ApiRequest, user: &str, p: PageRequest) -> Paged<(String, Option<Named>)> {
    let coll = crate::store::music::Collection::FollowedPlaylists;
    let page = req.session.store.music().collection_page(user, coll, p.offset, p.limit).await;
    let ids: Vec<String> = page.items.into_iter().map(|i| i.id).collect();
    let named = named_all(req, user, &ids).await;
    Paged { items: ids.into_iter().zip(named).collect(), offset: p.offset, total: page.total, version: page.version }
}

/// The customer's own playlists, a page of them newest first, with their music profile (whose name is the
/// owner's name of every one of them).
pub struct Owned {
    /// The customer's music profile.
    pub profile: MusicProfile,
    /// The page.
    pub page: Paged<Playlist>,
}

/// A page of `user`'s own playlists, newest first.
pub async fn owned(req: &ApiRequest, user: &str, p: PageRequest) -> Owned {
    let music = req.session.store.music();
    let page = music.user_playlists(user, p.offset, p.limit).await;
    let profile = music.music_profile(user).await;
    let cat = req.catalog();
    let items = page.items.iter().map(|pl| Playlist::customer(cat, pl)).collect();
    Owned { profile, page: Paged { items, offset: p.offset, total: page.total, version: page.version } }
}

/// One entry of a playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaylistEntry {
    /// The entry's UUID (a stable one for catalog playlists, which have no stored entries).
    pub entry_id: String,
    /// The track.
    pub track_id: String,
}

/// A stable UUID for the n-th entry of a catalog playlist (catalog playlists have no stored entries).
fn catalog_entry_id(playlist: &str, index: usize) -> String {
    let d = Sha256::digest(format!("{playlist}:{index}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().hyphenated().to_string()
}

/// A page of the entries of a playlist `user` may read.
///
/// # Errors
/// [`Problem::NotFound`] for a playlist they may not read.
pub async fn tracks(req: &ApiRequest, user: &str, id: &str, p: PageRequest) -> Result<Paged<PlaylistEntry>, Problem> {
    let (items, total, version) = match read(req, user, id).await? {
        Readable::Catalog(pl) => {
            let cat = req.catalog();
            let entry = |(i, &t): (usize, &crate::catalog::TrackIdx)| PlaylistEntry {
                entry_id: catalog_entry_id(id, i),
                track_id: cat[t].id.as_str().to_owned(),
            };
            (pl.tracks.iter().enumerate().skip(p.offset).take(p.limit).map(entry).collect(), pl.tracks.len(), 0)
        }
        Readable::Mine(_) => {
            let page = req.session.store.music().playlist_entries(id, p.offset, p.limit).await;
            let page = page.ok_or_else(|| Problem::not_found(Noun::Playlist, id))?;
            let entries = page.items.into_iter().map(|e| PlaylistEntry { entry_id: e.entry_id, track_id: e.track_id });
            (entries.collect(), page.total, page.version)
        }
    };
    Ok(Paged { items, offset: p.offset, total, version })
}

/// A title as stored: trimmed; `None` unless it is 1 to 256 characters (each family words the refusal).
pub fn valid_title(t: &str) -> Option<String> {
    let t = t.trim();
    (!t.is_empty() && t.chars().count() <= 256).then(|| t.to_owned())
}

/// The refusal of a write, in the core's words.
fn write_error(cat: &Catalog, id: &str, e: PlaylistError) -> Problem {
    match e {
        _ if cat.playlist(id).is_some() => Problem::Forbidden("Catalog playlists cannot be modified.".into()),
        PlaylistError::NotFound => Problem::not_found(Noun::Playlist, id),
        PlaylistError::NotOwner => Problem::Forbidden("Only the playlist's owner can modify it.".into()),
        PlaylistError::UnknownEntry(e) => Problem::bad_request(format!(
            "Entry {e} is not in playlist {id}; use the entryId from the playlist's track edges."
        )),
    }
}

/// 404 for the first id that is not a catalog track.
fn check_tracks(cat: &Catalog, ids: &[String]) -> Result<(), Problem> {
    match ids.iter().find(|t| cat.track(t).is_none()) {
        Some(bad) => Err(Problem::not_found(Noun::Track, bad)),
        None => Ok(()),
    }
}

/// A playlist to create.
pub struct NewPlaylist {
    /// The title, already checked ([`valid_title`]).
    pub title: String,
    /// The description.
    pub description: String,
    /// The visibility.
    pub visibility: Visibility,
    /// Tracks to start with (each family caps them).
    pub tracks: Vec<String>,
}

/// Creates a playlist owned by `user`, with its first tracks.
///
/// # Errors
/// [`Problem::NotFound`] for a track that is not in the catalog (nothing is created).
pub async fn create(req: &ApiRequest, user: &str, new: NewPlaylist) -> Result<PlaylistMeta, Problem> {
    check_tracks(req.catalog(), &new.tracks)?;
    let music = req.session.store.music();
    let now = req.now_ms();
    let p = music.create_playlist(user, new.title, new.description, new.visibility, now).await;
    if new.tracks.is_empty() {
        return Ok(p);
    }
    let out = music.add_to_playlist(user, &p.id, &new.tracks, false, now).await;
    Ok(out.map_err(|e| write_error(req.catalog(), &p.id, e))?.playlist)
}

/// [`create`], the playlist named after its owner.
///
/// # Errors
/// As [`create`].
pub async fn create_named(req: &ApiRequest, user: &str, new: NewPlaylist) -> Result<Named, Problem> {
    let p = create(req, user, new).await?;
    Ok(Owners::default().named(req, Readable::Mine(p)).await)
}

/// Changes a playlist's title, description or visibility.
///
/// # Errors
/// Not the owner's, or a catalog playlist.
pub async fn update(req: &ApiRequest, user: &str, id: &str, patch: PlaylistPatch) -> Result<Playlist, Problem> {
    let p = req.session.store.music().update_playlist(user, id, patch, req.now_ms()).await;
    Ok(Playlist::customer(req.catalog(), &p.map_err(|e| write_error(req.catalog(), id, e))?))
}

/// Deletes a playlist.
///
/// # Errors
/// Not the owner's, or a catalog playlist.
pub async fn delete(req: &ApiRequest, user: &str, id: &str) -> Result<(), Problem> {
    req.session.store.music().delete_playlist(user, id).await.map_err(|e| write_error(req.catalog(), id, e))
}

/// What an add did.
pub struct Added {
    /// The new entries.
    pub entries: Vec<Entry>,
    /// Tracks skipped as already present.
    pub skipped: Vec<String>,
    /// The playlist afterwards, with its owner (the caller).
    pub playlist: PlaylistMeta,
}

/// Adds catalog tracks to a playlist; tracks already in it are skipped unless `duplicates`.
///
/// # Errors
/// [`Problem::NotFound`] for a track that is not in the catalog (nothing is added), or the playlist is not the
/// caller's to write.
pub async fn add_tracks(
    req: &ApiRequest,
    user: &str,
    id: &str,
    track_ids: &[String],
    duplicates: bool,
) -> Result<Added, Problem> {
    let cat = req.catalog();
    check_tracks(cat, track_ids)?;
    let out = req.session.store.music().add_to_playlist(user, id, track_ids, duplicates, req.now_ms()).await;
    let out = out.map_err(|e| write_error(cat, id, e))?;
    Ok(Added { entries: out.added, skipped: out.skipped, playlist: out.playlist })
}

/// [`add_tracks`] without duplicates, the playlist afterwards named after its owner.
///
/// # Errors
/// As [`add_tracks`].
pub async fn add_tracks_named(req: &ApiRequest, user: &str, id: &str, track_ids: &[String]) -> Result<Named, Problem> {
    let out = add_tracks(req, user, id, track_ids, false).await?;
    Ok(Owners::default().named(req, Readable::Mine(out.playlist)).await)
}

/// Moves entries above or below an anchor entry.
///
/// # Errors
/// An unknown entry, or the playlist is not the caller's to write.
pub async fn reorder(
    req: &ApiRequest,
    user: &str,
    id: &str,
    entry_ids: &[String],
    anchor: Anchor,
) -> Result<PlaylistMeta, Problem> {
    let p = req.session.store.music().reorder_playlist(user, id, entry_ids, anchor, req.now_ms()).await;
    p.map_err(|e| write_error(req.catalog(), id, e))
}

/// Removes entries.
///
/// # Errors
/// An unknown entry, or the playlist is not the caller's to write.
pub async fn remove_tracks(
    req: &ApiRequest,
    user: &str,
    id: &str,
    entry_ids: &[String],
) -> Result<PlaylistMeta, Problem> {
    let p = req.session.store.music().remove_from_playlist(user, id, entry_ids, req.now_ms()).await;
    p.map_err(|e| write_error(req.catalog(), id, e))
}
