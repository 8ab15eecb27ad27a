//! The catalog's entity types: artists, albums, tracks, curated playlists, podcast shows and episodes, plus the
//! small value types they share (audio-quality sets, genres).
//!
//! Entities are stored compactly (one heap string each, relations as `u32` indices) so that a catalog of a
//! million tracks stays small; the derived views (album track lists, artist tracks, …) live in the catalog.

use super::ids::{AlbumIdx, ArtistIdx, Asin, Date, EpisodeIdx, Isrc, PlaylistIdx, ShowIdx, TrackIdx};

/// The set of audio qualities a track or album is available in (spec §3.4 `audioQualities`); always has `SD`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct AudioQualities(u8);

impl AudioQualities {
    /// Wire names in the order the payloads list them; bit `i` of the set stands for `NAMES[i]`.
    pub const NAMES: [&'static str; 5] = ["SD", "HD", "UHD", "ATMOS", "360RA"];
    /// Standard definition only.
    pub const SD: Self = Self(1);
    /// Standard and high definition.
    pub const HD: Self = Self(0b11);
    /// Standard, high and ultra-high definition.
    pub const UHD: Self = Self(0b111);
    /// Dolby Atmos (add to one of the above with [`AudioQualities::with`]).
    pub const ATMOS: Self = Self(0b1000);
    /// Sony 360 Reality Audio.
    pub const RA360: Self = Self(0b1_0000);

    /// The union of two sets.
    pub fn with(self, other: Self) -> Self {
        Self(self.0 | other.0 | 1)
    }

    /// Whether every quality of `other` is in this set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Parses wire names (`"SD"`, `"HD"`, `"UHD"`, `"ATMOS"`, `"360RA"`); `SD` is always added.
    ///
    /// # Errors
    /// The first unknown name.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut bits = 1u8;
        for n in names {
            let i = Self::NAMES
                .iter()
                .position(|k| k.eq_ignore_ascii_case(n))
                .ok_or_else(|| format!("unknown audio quality {n:?}: expected one of {:?}", Self::NAMES))?;
            bits |= 1 << i;
        }
        Ok(Self(bits))
    }

    /// The wire names in this set, `SD` first.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        let bits = self.0 | 1;
        Self::NAMES.iter().enumerate().filter(move |(i, _)| bits & (1 << i) != 0).map(|(_, n)| *n)
    }
}

/// A music genre, used as the V1 `categoryId` (🔶: the real id format is not documented; the mock uses slugs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Genre(pub(super) u8);

/// `(categoryId, display name)` of every genre; a [`Genre`] indexes this table.
pub(super) const GENRES: [(&str, &str); 20] = [
    ("pop", "Pop"),
    ("rock", "Rock"),
    ("hip-hop", "Hip-Hop"),
    ("rnb", "R&B"),
    ("country", "Country"),
    ("electronic", "Electronic"),
    ("jazz", "Jazz"),
    ("classical", "Classical"),
    ("latin", "Latin"),
    ("metal", "Metal"),
    ("folk", "Folk"),
    ("blues", "Blues"),
    ("reggae", "Reggae"),
    ("soul", "Soul"),
    ("indie", "Indie"),
    ("alternative", "Alternative"),
    ("dance", "Dance"),
    ("k-pop", "K-Pop"),
    ("soundtrack", "Soundtrack"),
    ("world", "World"),
];

impl Genre {
    /// Every genre, in table order.
    pub fn all() -> impl Iterator<Item = Genre> {
        (0..GENRES.len() as u8).map(Genre)
    }

    /// Looks a genre up by its category id (case-insensitive), e.g. `"hip-hop"`.
    pub fn from_id(id: &str) -> Option<Self> {
        GENRES.iter().position(|(k, _)| k.eq_ignore_ascii_case(id.trim())).map(|i| Genre(i as u8))
    }

    /// The V1 `categoryId` of this genre.
    pub fn id(self) -> &'static str {
        GENRES.get(usize::from(self.0)).map_or("pop", |g| g.0)
    }

    /// The display name, e.g. `"Hip-Hop"`.
    pub fn name(self) -> &'static str {
        GENRES.get(usize::from(self.0)).map_or("Pop", |g| g.1)
    }
}

/// A performing artist (spec §3.4 Artist).
#[derive(Clone, PartialEq, Debug)]
pub struct Artist {
    /// Own position in the catalog.
    pub idx: ArtistIdx,
    /// ASIN-style id; `globalAsin` repeats it.
    pub id: Asin,
    /// Display name.
    pub name: Box<str>,
    /// Main genre; related artists share it.
    pub genre: Genre,
    /// Popularity score, higher is more popular.
    pub popularity: u32,
}

/// An album or single (spec §3.4 Album). Its tracks are [`Catalog::album_tracks`](super::Catalog::album_tracks).
#[derive(Clone, PartialEq, Debug)]
pub struct Album {
    /// Own position in the catalog.
    pub idx: AlbumIdx,
    /// ASIN-style id; `globalAsin` repeats it.
    pub id: Asin,
    /// Full title, possibly with an edition suffix such as `(Deluxe Edition)`.
    pub title: Box<str>,
    /// The album artist.
    pub artist: ArtistIdx,
    /// Original release date.
    pub release_date: Date,
    /// Genre, the `categoryId` of its tracks unless a track says otherwise.
    pub genre: Genre,
    /// Record label name (for V2's `label`).
    pub label: Box<str>,
    /// Popularity score, higher is more popular.
    pub popularity: u32,
}

/// A track (spec §3.4 Track). Up to three artists; the first is the primary one.
#[derive(Clone, PartialEq, Debug)]
pub struct Track {
    /// Own position in the catalog.
    pub idx: TrackIdx,
    /// ASIN-style id; `globalAsin` repeats it.
    pub id: Asin,
    /// Full title, possibly with a suffix such as `(Remastered 2011)` that `shortTitle` drops.
    pub title: Box<str>,
    /// The album it appears on.
    pub album: AlbumIdx,
    /// Artist slots; unused ones hold `u32::MAX`. Read them with [`Track::artists`].
    pub(super) artists: [u32; 3],
    /// International Standard Recording Code.
    pub isrc: Isrc,
    /// Release date (normally the album's).
    pub release_date: Date,
    /// Length in whole seconds.
    pub duration: u16,
    /// Position on the album, from 1.
    pub track_number: u16,
    /// Genre, the V1 `categoryId`.
    pub genre: Genre,
    /// Available audio qualities.
    pub audio_qualities: AudioQualities,
    /// Whether the lyrics are explicit.
    pub explicit: bool,
    /// Popularity score, higher is more popular; drives the `popularity` sort.
    pub popularity: u32,
}

impl Track {
    /// The track's artists, primary artist first (one to three).
    pub fn artists(&self) -> impl Iterator<Item = ArtistIdx> + Clone + '_ {
        self.artists.iter().copied().filter(|&a| a != u32::MAX).map(ArtistIdx)
    }

    /// The primary artist.
    pub fn primary_artist(&self) -> ArtistIdx {
        ArtistIdx(self.artists[0])
    }

    /// The title without a trailing parenthesised or bracketed suffix (`shortTitle`).
    pub fn short_title(&self) -> &str {
        short_title(&self.title)
    }
}

impl Album {
    /// The title without a trailing edition suffix (`shortTitle`).
    pub fn short_title(&self) -> &str {
        short_title(&self.title)
    }
}

/// Drops one trailing `( … )` or `[ … ]` group, e.g. `"Blue (Remastered)"` → `"Blue"`.
pub(super) fn short_title(title: &str) -> &str {
    let t = title.trim_end();
    let open = match t.as_bytes().last() {
        Some(b')') => '(',
        Some(b']') => '[',
        _ => return t,
    };
    match t.rfind(open) {
        Some(i) if i > 0 => t[..i].trim_end(),
        _ => t,
    }
}

/// Which subscription tiers may play a curated playlist.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PlaylistTier {
    /// Prime and Unlimited members.
    Prime,
    /// Unlimited members only.
    Unlimited,
}

/// A curated catalog playlist, ASIN-style id (spec §3.1 "Catalog playlist").
#[derive(Clone, PartialEq, Debug)]
pub struct CatalogPlaylist {
    /// Own position in the catalog.
    pub idx: PlaylistIdx,
    /// ASIN-style id.
    pub id: Asin,
    /// Title, e.g. `"Chill Jazz Evenings"`.
    pub title: Box<str>,
    /// Plain-text description.
    pub description: Box<str>,
    /// Curator id, 26 chars `[a-z0-9]`.
    pub curator: Box<str>,
    /// The tracks, in playlist order.
    pub tracks: Box<[TrackIdx]>,
    /// Which tiers may play it on demand.
    pub tier: PlaylistTier,
    /// Popularity score, higher is more popular.
    pub popularity: u32,
}

/// A podcast show, UUID id (spec §3.4 PodcastShow). Its episodes are
/// [`Catalog::show_episodes`](super::Catalog::show_episodes).
#[derive(Clone, PartialEq, Debug)]
pub struct PodcastShow {
    /// Own position in the catalog.
    pub idx: ShowIdx,
    /// UUID id.
    pub id: uuid::Uuid,
    /// Title.
    pub title: Box<str>,
    /// Publisher or host name.
    pub publisher: Box<str>,
    /// HTML description.
    pub description: Box<str>,
    /// Popularity score, higher is more popular.
    pub popularity: u32,
}

/// One episode of a podcast show, UUID id.
#[derive(Clone, PartialEq, Debug)]
pub struct PodcastEpisode {
    /// Own position in the catalog.
    pub idx: EpisodeIdx,
    /// UUID id.
    pub id: uuid::Uuid,
    /// The show it belongs to.
    pub show: ShowIdx,
    /// Title.
    pub title: Box<str>,
    /// Episode number within the show, from 1.
    pub number: u32,
    /// Publication date.
    pub release_date: Date,
    /// Length in whole seconds.
    pub duration: u32,
    /// Popularity score, higher is more popular.
    pub popularity: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_titles_drop_one_trailing_group() {
        assert_eq!(short_title("Blue (Remastered 2011)"), "Blue");
        assert_eq!(short_title("Blue [Live]"), "Blue");
        assert_eq!(short_title("(Blue)"), "(Blue)");
        assert_eq!(short_title("Blue"), "Blue");
    }

    #[test]
    fn audio_qualities_always_have_sd() {
        let q = AudioQualities::parse(["hd", "360RA"]).expect("known names");
        assert_eq!(q.names().collect::<Vec<_>>(), ["SD", "HD", "360RA"]);
        assert!(AudioQualities::parse(["HiFi"]).is_err());
        assert_eq!(AudioQualities::UHD.with(AudioQualities::RA360).names().count(), 4);
        assert_eq!(AudioQualities::default().names().collect::<Vec<_>>(), ["SD"]);
    }

    #[test]
    fn genres_round_trip() {
        for g in Genre::all() {
            assert_eq!(Genre::from_id(g.id()), Some(g));
        }
        assert_eq!(Genre::from_id("HIP-HOP").map(Genre::name), Some("Hip-Hop"));
    }
}
