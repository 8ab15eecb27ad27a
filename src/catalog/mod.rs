//! The music catalog of the mock: a deterministic, generated set of artists, albums, tracks, curated playlists
//! and podcasts, with O(1) lookups, relation lists, an inverted-index search and the V1 JSON shapes of spec
//! `music-api.md` §3.4. Pure data: no HTTP, no locks, no clock.
//!
//! # What a web handler calls
//!
//! Build once at start-up, then share read-only (e.g. in an `Arc`):
//!
//! ```
//! # use amazon_music_mock::test_support::catalog;
//! use catalog::{Catalog, SearchFilter, SortBy, TrackField};
//!
//! let mut cat = Catalog::generate(42, 800); // same seed → same catalog
//! cat.extend_from_json(r#"{"artists":[{"id":"B0FIXTURE1","name":"Fixture Band"}]}"#)?;
//!
//! // GET /v1/tracks/{id}: `Catalog::track` + `track_json`, wrapped by the handler in {"data":{"track":…}}.
//! let some_id = cat.tracks()[0].id;
//! let track = cat.track(some_id.as_str()).expect("generated id");
//! let body = serde_json::json!({ "data": { "track": cat.track_json(track) } });
//! assert_eq!(body["data"]["track"]["globalAsin"], some_id.as_str());
//!
//! // POST /v1/search/tracks: deserialize `searchFilters` straight into `SearchFilter`s.
//! let filters = [SearchFilter::any("love"), SearchFilter::field(TrackField::CategoryId, "pop")];
//! let page = cat.search_tracks(&filters, SortBy::Popularity, 0, 20);
//! let nodes: Vec<_> = page.items.iter().map(|&t| cat.track_json(&cat[t])).collect();
//! assert!(nodes.len() <= 20 && page.total >= nodes.len());
//! # Ok::<(), catalog::CatalogError>(())
//! ```
//!
//! | Need | Call |
//! |---|---|
//! | build | [`Catalog::generate`]`(seed, tracks)`, [`Catalog::extend_from_json`] / [`Catalog::extend`] |
//! | lookup by id | [`Catalog::lookup`] (any kind → [`EntityRef`]), [`Catalog::track`], [`Catalog::album`], [`Catalog::artist`], [`Catalog::playlist`], [`Catalog::podcast_show`], [`Catalog::podcast_episode`], [`Catalog::track_by_isrc`] |
//! | by index | `catalog[idx]` for every `*Idx` type; [`Catalog::tracks`] etc. for whole lists |
//! | browse | [`Catalog::top_tracks`], [`Catalog::top_albums`], [`Catalog::top_playlists`], [`Catalog::new_releases`], [`Catalog::track_rank`] |
//! | relations | [`Catalog::album_tracks`], [`Catalog::artist_albums`], [`Catalog::artist_tracks`], [`Catalog::related_artists`], [`Catalog::show_episodes`], [`CatalogPlaylist::tracks`], [`Track::album`], [`Track::artists`] |
//! | search | [`Catalog::search_tracks`] (filters, sort, offset, limit), [`Catalog::search_albums`], [`Catalog::search_artists`], [`Catalog::search_playlists`], [`Catalog::search_podcast_shows`], [`Catalog::search_podcast_episodes`], [`Catalog::search_all`] |
//! | JSON | [`Catalog::track_json`], [`Catalog::album_json`], [`Catalog::artist_json`], [`Catalog::playlist_json`], [`Catalog::podcast_show_json`], [`Catalog::podcast_episode_json`], `*_ref_json`, [`Catalog::view_entity_json`], [`Catalog::search_view_json`] |
//!
//! Paging is offset-based (`offset`, `limit` → [`Page`] with `items` and `total`); the web layer encodes the
//! offset into its opaque cursor. Indices (`TrackIdx`, …) stay valid for the catalog's life, since catalogs
//! only grow.
//!
//! # Design
//!
//! - Entities are compact (`Box<str>` names, `u32` relations, inline ASIN/ISRC bytes); a million tracks take
//!   a few hundred MiB including every index ([`Catalog::heap_bytes`] estimates it).
//! - **Invariant:** everything derived (id maps, relation lists, orders, search indexes) is recomputed from the
//!   entity lists by one function after generation and after every extension.
//! - Search documents are numbered by popularity rank, so posting lists are sorted by popularity; see `text`.

mod browse;
mod cell;
mod derived;
mod extend;
mod generate;
mod ids;
mod json;
mod model;
mod search;
mod text;
mod words;

#[cfg(test)]
mod tests;

use std::ops::Index;

pub use self::cell::CatalogCell;
pub use self::extend::{AlbumSpec, ArtistSpec, CatalogError, CatalogExtension, ExtendSummary, PlaylistSpec, TrackSpec};
pub use self::generate::MAX_GENERATED_TRACKS;
pub use self::ids::{AlbumIdx, ArtistIdx, Asin, Date, EpisodeIdx, Isrc, PlaylistIdx, ShowIdx, TrackIdx};
pub use self::json::{
    album_url, artist_url, play_params_id, playlist_url, podcast_episode_url, podcast_show_url, track_url,
};
pub use self::model::{
    Album, Artist, AudioQualities, CatalogPlaylist, Genre, PlaylistTier, PodcastEpisode, PodcastShow, Track,
};
pub use self::search::{Page, SearchAll, SearchFilter, SearchTotals, SortBy, TrackField};
pub(crate) use self::text::text_matches;

/// A reference to any catalog entity, as returned by [`Catalog::lookup`] and [`SearchAll::top_hits`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum EntityRef {
    /// A track.
    Track(TrackIdx),
    /// An album.
    Album(AlbumIdx),
    /// An artist.
    Artist(ArtistIdx),
    /// A curated playlist.
    Playlist(PlaylistIdx),
    /// A podcast show.
    PodcastShow(ShowIdx),
    /// A podcast episode.
    PodcastEpisode(EpisodeIdx),
}

/// The catalog: entity lists plus everything derived from them. See the module docs for the API overview.
pub struct Catalog {
    seed: u64,
    artists: Vec<Artist>,
    albums: Vec<Album>,
    tracks: Vec<Track>,
    playlists: Vec<CatalogPlaylist>,
    shows: Vec<PodcastShow>,
    episodes: Vec<PodcastEpisode>,
    derived: derived::Derived,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("seed", &self.seed)
            .field("artists", &self.artists.len())
            .field("albums", &self.albums.len())
            .field("tracks", &self.tracks.len())
            .field("playlists", &self.playlists.len())
            .field("podcast_shows", &self.shows.len())
            .field("podcast_episodes", &self.episodes.len())
            .finish()
    }
}

impl Catalog {
    /// The seed the catalog was generated from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// All artists, in index order.
    pub fn artists(&self) -> &[Artist] {
        &self.artists
    }

    /// All albums, in index order.
    pub fn albums(&self) -> &[Album] {
        &self.albums
    }

    /// All tracks, in index order (grouped by album for generated ones).
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// All curated playlists.
    pub fn playlists(&self) -> &[CatalogPlaylist] {
        &self.playlists
    }

    /// All podcast shows.
    pub fn podcast_shows(&self) -> &[PodcastShow] {
        &self.shows
    }

    /// All podcast episodes.
    pub fn podcast_episodes(&self) -> &[PodcastEpisode] {
        &self.episodes
    }

    /// Finds any entity by its wire id: an ASIN (tracks, albums, artists, playlists) or a UUID (podcasts).
    /// Surrounding whitespace is ignored; ids are case-sensitive except UUIDs.
    pub fn lookup(&self, id: &str) -> Option<EntityRef> {
        let id = id.trim();
        if let Ok(asin) = Asin::parse(id) {
            return self.derived.asins.get(&asin).copied();
        }
        uuid::Uuid::try_parse(id).ok().and_then(|u| self.derived.uuids.get(&u).copied())
    }

    /// The track with this ASIN.
    pub fn track(&self, id: &str) -> Option<&Track> {
        match self.lookup(id)? {
            EntityRef::Track(i) => self.tracks.get(i.get()),
            _ => None,
        }
    }

    /// The album with this ASIN.
    pub fn album(&self, id: &str) -> Option<&Album> {
        match self.lookup(id)? {
            EntityRef::Album(i) => self.albums.get(i.get()),
            _ => None,
        }
    }

    /// The artist with this ASIN.
    pub fn artist(&self, id: &str) -> Option<&Artist> {
        match self.lookup(id)? {
            EntityRef::Artist(i) => self.artists.get(i.get()),
            _ => None,
        }
    }

    /// The curated playlist with this ASIN.
    pub fn playlist(&self, id: &str) -> Option<&CatalogPlaylist> {
        match self.lookup(id)? {
            EntityRef::Playlist(i) => self.playlists.get(i.get()),
            _ => None,
        }
    }

    /// The podcast show with this UUID.
    pub fn podcast_show(&self, id: &str) -> Option<&PodcastShow> {
        match self.lookup(id)? {
            EntityRef::PodcastShow(i) => self.shows.get(i.get()),
            _ => None,
        }
    }

    /// The podcast episode with this UUID.
    pub fn podcast_episode(&self, id: &str) -> Option<&PodcastEpisode> {
        match self.lookup(id)? {
            EntityRef::PodcastEpisode(i) => self.episodes.get(i.get()),
            _ => None,
        }
    }

    /// The tracks with this ISRC (hyphens and case ignored), lowest index first; normally at most one.
    pub fn track_by_isrc(&self, isrc: &str) -> Vec<TrackIdx> {
        let Ok(key) = Isrc::parse(isrc) else {
            return Vec::new();
        };
        let list = &self.derived.isrcs;
        let start = list.partition_point(|(i, _)| *i < key);
        list[start..].iter().take_while(|(i, _)| *i == key).map(|&(_, t)| t).collect()
    }

    /// The album's tracks in track-number order.
    pub fn album_tracks(&self, album: AlbumIdx) -> &[TrackIdx] {
        self.derived.album_tracks.get(album.get())
    }

    /// The artist's albums, newest first.
    pub fn artist_albums(&self, artist: ArtistIdx) -> &[AlbumIdx] {
        self.derived.artist_albums.get(artist.get())
    }

    /// Every track the artist is credited on (own and featured), most popular first.
    pub fn artist_tracks(&self, artist: ArtistIdx) -> &[TrackIdx] {
        self.derived.artist_tracks.get(artist.get())
    }

    /// Up to `limit` related artists: artists of the same genre closest in popularity, nearest first
    /// (alternating more and less popular). Deterministic; never contains the artist itself.
    pub fn related_artists(&self, artist: ArtistIdx, limit: usize) -> Vec<ArtistIdx> {
        let Some(a) = self.artists.get(artist.get()) else {
            return Vec::new();
        };
        let list = self.derived.genre_artists.get(usize::from(a.genre.0));
        let pos = self.derived.artist_genre_pos.get(artist.get()).map_or(0, |&p| p as usize);
        let mut out = Vec::with_capacity(limit.min(list.len()));
        let mut step = 1;
        while out.len() < limit && (pos + step < list.len() || step <= pos) {
            if let Some(&b) = list.get(pos + step) {
                out.push(b);
            }
            if out.len() < limit && step <= pos {
                out.push(list[pos - step]);
            }
            step += 1;
        }
        out
    }

    /// The show's episodes, newest first.
    pub fn show_episodes(&self, show: ShowIdx) -> &[EpisodeIdx] {
        self.derived.show_episodes.get(show.get())
    }

    /// Estimated heap bytes held by the catalog (entities, names and every derived structure).
    pub fn heap_bytes(&self) -> usize {
        fn vec<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        // Allocations carry some overhead; count at least 16 bytes per non-empty string.
        let s = |b: &str| if b.is_empty() { 0 } else { b.len().max(16) };
        let entities = vec(&self.tracks)
            + vec(&self.albums)
            + vec(&self.artists)
            + vec(&self.playlists)
            + vec(&self.shows)
            + vec(&self.episodes);
        let strings: usize = self.tracks.iter().map(|t| s(&t.title)).sum::<usize>()
            + self.albums.iter().map(|a| s(&a.title) + s(&a.label)).sum::<usize>()
            + self.artists.iter().map(|a| s(&a.name)).sum::<usize>()
            + self
                .playlists
                .iter()
                .map(|p| s(&p.title) + s(&p.description) + s(&p.curator) + p.tracks.len() * 4)
                .sum::<usize>()
            + self.shows.iter().map(|p| s(&p.title) + s(&p.description) + s(&p.publisher)).sum::<usize>()
            + self.episodes.iter().map(|e| s(&e.title)).sum::<usize>();
        entities + strings + self.derived.heap_bytes()
    }
}

macro_rules! index_impl {
    ($idx:ty, $out:ty, $field:ident) => {
        impl Index<$idx> for Catalog {
            type Output = $out;

            /// # Panics
            /// If the index comes from another catalog and is out of range.
            fn index(&self, i: $idx) -> &$out {
                &self.$field[i.get()]
            }
        }
    };
}

index_impl!(TrackIdx, Track, tracks);
index_impl!(AlbumIdx, Album, albums);
index_impl!(ArtistIdx, Artist, artists);
index_impl!(PlaylistIdx, CatalogPlaylist, playlists);
index_impl!(ShowIdx, PodcastShow, shows);
index_impl!(EpisodeIdx, PodcastEpisode, episodes);
