//! Adding fixture entities to a catalog from a JSON (or YAML, via any serde front end) document.
//!
//! Format ([`CatalogExtension`]; keys camelCase, unknown keys rejected, every list optional):
//!
//! ```json
//! {
//!   "artists":   [{"id": "B0FIXART01", "name": "Fixture Band", "genre": "rock", "popularity": 900000}],
//!   "albums":    [{"id": "B0FIXALB01", "title": "First Light", "artistId": "B0FIXART01",
//!                  "releaseDate": "2017-11-10", "genre": "rock", "label": "Mock Records"}],
//!   "tracks":    [{"id": "B0FIXTRK01", "title": "Opening", "albumId": "B0FIXALB01", "duration": 215,
//!                  "isrc": "USAB21700123", "trackNumber": 1, "explicit": false,
//!                  "audioQualities": ["SD", "HD"], "artistIds": ["B0FIXART01"]}],
//!   "playlists": [{"id": "B0FIXPLS01", "title": "Fixture Mix", "trackIds": ["B0FIXTRK01"], "tier": "PRIME"}]
//! }
//! ```
//!
//! Ids must be ASIN-style (`^B[0-9A-Z]{9}$`) and new; references may point at generated entities or at ones
//! earlier in the same document's lists. Defaults: genre `pop` (albums: the artist's, tracks: the album's),
//! popularity 500000, release date and artists from the album, track number = next free on the album,
//! audio qualities `["SD"]` (`SD` is always added), tier `PRIME`. Everything is validated before anything is
//! added, so a failed extension leaves the catalog unchanged.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;

use super::Catalog;
use super::EntityRef;
use super::ids::{AlbumIdx, ArtistIdx, Asin, Date, Isrc, PlaylistIdx, TrackIdx};
use super::model::{Album, Artist, AudioQualities, CatalogPlaylist, Genre, PlaylistTier, Track};
use super::text::MAX_DOCS;

/// Default popularity of fixture entities: mid-table.
const DEFAULT_POPULARITY: u32 = 500_000;

/// Why an extension was rejected.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum CatalogError {
    /// The document is not valid JSON or does not have the extension's shape.
    Parse(String),
    /// A value is invalid; `at` locates it, e.g. `tracks[3].isrc`.
    Invalid {
        /// Where the bad value is.
        at: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parse(m) => write!(f, "catalog extension is not valid: {m}"),
            Self::Invalid { at, reason } => write!(f, "catalog extension: {at}: {reason}"),
        }
    }
}

impl std::error::Error for CatalogError {}

/// A fixture document adding entities to a catalog; see the module docs for the format.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogExtension {
    /// Artists to add.
    #[serde(default)]
    pub artists: Vec<ArtistSpec>,
    /// Albums to add.
    #[serde(default)]
    pub albums: Vec<AlbumSpec>,
    /// Tracks to add.
    #[serde(default)]
    pub tracks: Vec<TrackSpec>,
    /// Curated playlists to add.
    #[serde(default)]
    pub playlists: Vec<PlaylistSpec>,
}

/// An artist of a [`CatalogExtension`].
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArtistSpec {
    /// ASIN-style id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Genre slug (`categoryId`), default `pop`.
    #[serde(default)]
    pub genre: Option<String>,
    /// Popularity, default 500000.
    #[serde(default)]
    pub popularity: Option<u32>,
}

/// An album of a [`CatalogExtension`].
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlbumSpec {
    /// ASIN-style id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Album artist's id.
    pub artist_id: String,
    /// `YYYY-MM-DD` (a full ISO timestamp is accepted).
    pub release_date: String,
    /// Genre slug, default the artist's.
    #[serde(default)]
    pub genre: Option<String>,
    /// Label name.
    #[serde(default)]
    pub label: Option<String>,
    /// Popularity, default 500000.
    #[serde(default)]
    pub popularity: Option<u32>,
}

/// A track of a [`CatalogExtension`].
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrackSpec {
    /// ASIN-style id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Album id.
    pub album_id: String,
    /// Length in seconds (1–65535).
    pub duration: u32,
    /// ISRC.
    pub isrc: String,
    /// Artist ids, primary first (1–3); default the album artist.
    #[serde(default)]
    pub artist_ids: Option<Vec<String>>,
    /// Position on the album; default the next free one.
    #[serde(default)]
    pub track_number: Option<u16>,
    /// Explicit lyrics, default `false`.
    #[serde(default)]
    pub explicit: bool,
    /// Audio qualities, default `["SD"]`.
    #[serde(default)]
    pub audio_qualities: Option<Vec<String>>,
    /// Release date, default the album's.
    #[serde(default)]
    pub release_date: Option<String>,
    /// Genre slug (`categoryId`), default the album's.
    #[serde(default)]
    pub genre: Option<String>,
    /// Popularity, default 500000.
    #[serde(default)]
    pub popularity: Option<u32>,
}

/// A curated playlist of a [`CatalogExtension`].
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaylistSpec {
    /// ASIN-style id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description, default empty.
    #[serde(default)]
    pub description: Option<String>,
    /// Track ids in order.
    pub track_ids: Vec<String>,
    /// `PRIME` (default) or `UNLIMITED`.
    #[serde(default)]
    pub tier: Option<String>,
    /// Curator id, 26 chars `[a-z0-9]`; default a fixed mock curator.
    #[serde(default)]
    pub curator: Option<String>,
    /// Popularity, default 500000.
    #[serde(default)]
    pub popularity: Option<u32>,
}

/// What an extension added.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ExtendSummary {
    /// Artists added.
    pub artists: usize,
    /// Albums added.
    pub albums: usize,
    /// Tracks added.
    pub tracks: usize,
    /// Playlists added.
    pub playlists: usize,
}

fn invalid(at: String, reason: impl Into<String>) -> CatalogError {
    CatalogError::Invalid { at, reason: reason.into() }
}

fn non_empty(at: impl Fn() -> String, s: &str) -> Result<Box<str>, CatalogError> {
    let s = s.trim();
    if s.is_empty() { Err(invalid(at(), "must not be empty")) } else { Ok(s.into()) }
}

fn genre(at: impl Fn() -> String, g: Option<&str>, default: Genre) -> Result<Genre, CatalogError> {
    match g {
        None => Ok(default),
        Some(s) => Genre::from_id(s).ok_or_else(|| {
            let known: Vec<&str> = Genre::all().map(Genre::id).collect();
            invalid(at(), format!("unknown genre {s:?}: expected one of {known:?}"))
        }),
    }
}

impl Catalog {
    /// Parses a JSON [`CatalogExtension`] and adds its entities; see [`Catalog::extend`].
    ///
    /// # Errors
    /// [`CatalogError::Parse`] for malformed JSON, [`CatalogError::Invalid`] for a bad value.
    pub fn extend_from_json(&mut self, text: &str) -> Result<ExtendSummary, CatalogError> {
        let ext: CatalogExtension = serde_json::from_str(text).map_err(|e| CatalogError::Parse(e.to_string()))?;
        self.extend(ext)
    }

    /// Validates the extension as a whole, then adds its entities and rebuilds every index.
    /// A failed extension changes nothing. Rebuilding costs about as much as generating the catalog.
    ///
    /// # Errors
    /// [`CatalogError::Invalid`] naming the first bad value (bad or duplicate id, unknown reference, …).
    pub fn extend(&mut self, ext: CatalogExtension) -> Result<ExtendSummary, CatalogError> {
        let mut seen: HashSet<Asin> = HashSet::new();
        let mut new_id = |at: &dyn Fn() -> String, s: &str, cat: &Catalog| -> Result<Asin, CatalogError> {
            let id = Asin::parse(s.trim()).map_err(|e| invalid(at(), e))?;
            if cat.derived.asins.contains_key(&id) || !seen.insert(id) {
                return Err(invalid(at(), format!("id {id} is already in the catalog")));
            }
            Ok(id)
        };

        let mut artists: Vec<Artist> = Vec::new();
        for (i, a) in ext.artists.iter().enumerate() {
            let at = |f: &str| format!("artists[{i}].{f}");
            artists.push(Artist {
                idx: ArtistIdx((self.artists.len() + i) as u32),
                id: new_id(&|| at("id"), &a.id, self)?,
                name: non_empty(|| at("name"), &a.name)?,
                genre: genre(|| at("genre"), a.genre.as_deref(), Genre(0))?,
                popularity: a.popularity.unwrap_or(DEFAULT_POPULARITY),
            });
        }
        let find_artist = |s: &str| -> Option<&Artist> {
            self.artist(s).or_else(|| artists.iter().find(|a| a.id.as_str() == s.trim()))
        };

        let mut albums: Vec<Album> = Vec::new();
        for (i, a) in ext.albums.iter().enumerate() {
            let at = |f: &str| format!("albums[{i}].{f}");
            let id = new_id(&|| at("id"), &a.id, self)?;
            let artist = find_artist(&a.artist_id)
                .ok_or_else(|| invalid(at("artistId"), format!("no artist {:?}", a.artist_id)))?;
            albums.push(Album {
                idx: AlbumIdx((self.albums.len() + i) as u32),
                id,
                title: non_empty(|| at("title"), &a.title)?,
                artist: artist.idx,
                release_date: Date::parse(a.release_date.trim()).map_err(|e| invalid(at("releaseDate"), e))?,
                genre: genre(|| at("genre"), a.genre.as_deref(), artist.genre)?,
                label: a.label.as_deref().unwrap_or("").trim().into(),
                popularity: a.popularity.unwrap_or(DEFAULT_POPULARITY),
            });
        }
        let find_album =
            |s: &str| -> Option<&Album> { self.album(s).or_else(|| albums.iter().find(|a| a.id.as_str() == s.trim())) };

        let mut tracks: Vec<Track> = Vec::new();
        let mut next_number: std::collections::HashMap<AlbumIdx, u16> = std::collections::HashMap::new();
        for (i, t) in ext.tracks.iter().enumerate() {
            let at = |f: &str| format!("tracks[{i}].{f}");
            let id = new_id(&|| at("id"), &t.id, self)?;
            let album =
                find_album(&t.album_id).ok_or_else(|| invalid(at("albumId"), format!("no album {:?}", t.album_id)))?;
            let mut slots = [u32::MAX; 3];
            match &t.artist_ids {
                None => slots[0] = album.artist.0,
                Some(list) if list.is_empty() || list.len() > 3 => {
                    return Err(invalid(at("artistIds"), "expected 1 to 3 artist ids"));
                }
                Some(list) => {
                    for (slot, s) in slots.iter_mut().zip(list) {
                        *slot =
                            find_artist(s).ok_or_else(|| invalid(at("artistIds"), format!("no artist {s:?}")))?.idx.0;
                    }
                }
            }
            let duration = u16::try_from(t.duration)
                .ok()
                .filter(|&d| d > 0)
                .ok_or_else(|| invalid(at("duration"), "expected 1 to 65535 seconds"))?;
            let existing = u16::try_from(self.album_tracks(album.idx).len()).unwrap_or(u16::MAX);
            let next = next_number.entry(album.idx).or_insert(existing);
            let track_number = t.track_number.unwrap_or(next.saturating_add(1));
            *next = (*next).max(track_number);
            let qualities = match &t.audio_qualities {
                None => AudioQualities::SD,
                Some(q) => {
                    AudioQualities::parse(q.iter().map(String::as_str)).map_err(|e| invalid(at("audioQualities"), e))?
                }
            };
            let release_date = match &t.release_date {
                None => album.release_date,
                Some(s) => Date::parse(s.trim()).map_err(|e| invalid(at("releaseDate"), e))?,
            };
            tracks.push(Track {
                idx: TrackIdx((self.tracks.len() + i) as u32),
                id,
                title: non_empty(|| at("title"), &t.title)?,
                album: album.idx,
                artists: slots,
                isrc: Isrc::parse(&t.isrc).map_err(|e| invalid(at("isrc"), e))?,
                release_date,
                duration,
                track_number,
                genre: genre(|| at("genre"), t.genre.as_deref(), album.genre)?,
                audio_qualities: qualities,
                explicit: t.explicit,
                popularity: t.popularity.unwrap_or(DEFAULT_POPULARITY),
            });
        }

        let mut playlists: Vec<CatalogPlaylist> = Vec::new();
        for (i, p) in ext.playlists.iter().enumerate() {
            let at = |f: &str| format!("playlists[{i}].{f}");
            let id = new_id(&|| at("id"), &p.id, self)?;
            let mut list = Vec::with_capacity(p.track_ids.len());
            for (j, s) in p.track_ids.iter().enumerate() {
                let found = match self.lookup(s) {
                    Some(EntityRef::Track(t)) => Some(t),
                    _ => tracks.iter().find(|t| t.id.as_str() == s.trim()).map(|t| t.idx),
                };
                list.push(found.ok_or_else(|| invalid(at(&format!("trackIds[{j}]")), format!("no track {s:?}")))?);
            }
            let tier = match p.tier.as_deref().map(str::trim) {
                None => PlaylistTier::Prime,
                Some(t) if t.eq_ignore_ascii_case("PRIME") => PlaylistTier::Prime,
                Some(t) if t.eq_ignore_ascii_case("UNLIMITED") => PlaylistTier::Unlimited,
                Some(t) => {
                    return Err(invalid(at("tier"), format!("unknown tier {t:?}: expected PRIME or UNLIMITED")));
                }
            };
            let curator = p.curator.as_deref().unwrap_or("mockmusiccurator0000000000").trim();
            if curator.len() != 26 || !curator.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
                return Err(invalid(at("curator"), "expected 26 characters of [a-z0-9]"));
            }
            playlists.push(CatalogPlaylist {
                idx: PlaylistIdx((self.playlists.len() + i) as u32),
                id,
                title: non_empty(|| at("title"), &p.title)?,
                description: p.description.as_deref().unwrap_or("").trim().into(),
                curator: curator.into(),
                tracks: list.into(),
                tier,
                popularity: p.popularity.unwrap_or(DEFAULT_POPULARITY),
            });
        }

        if self.tracks.len() + tracks.len() > MAX_DOCS {
            return Err(invalid("tracks".to_owned(), format!("a catalog holds at most {MAX_DOCS} tracks")));
        }
        let summary = ExtendSummary {
            artists: artists.len(),
            albums: albums.len(),
            tracks: tracks.len(),
            playlists: playlists.len(),
        };
        self.artists.extend(artists);
        self.albums.extend(albums);
        self.tracks.extend(tracks);
        self.playlists.extend(playlists);
        self.rebuild();
        Ok(summary)
    }
}
