//! Deterministic catalog generation from a seed.
//!
//! Shape: about 10 tracks per album and 8 albums per 3 artists (so 800 tracks give 80 albums and 30 artists),
//! one curated playlist per 200 tracks (at least 6) and one podcast show per 400 tracks (at least 4, each with
//! 5–20 episodes). Names combine word lists; durations are 120–420 s; releases span 1960–2025; every track has
//! `SD`, about 60% `HD`, 30% `UHD` and 10% a spatial format (`ATMOS` or `360RA`); about 15% are explicit.
//! Generation draws from one seeded [`StdRng`], so the same seed and size always give the same catalog.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Catalog;
use super::extend::{CatalogError, CatalogExtension};
use super::ids::{
    ASIN_SPACE, AlbumIdx, ArtistIdx, Asin, Date, EpisodeIdx, Isrc, PlaylistIdx, ShowIdx, TrackIdx, profile_id,
    splitmix, uuid_from,
};
use super::model::{
    Album, Artist, AudioQualities, CatalogPlaylist, GENRES, Genre, PlaylistTier, PodcastEpisode, PodcastShow, Track,
};
use super::text::MAX_DOCS;
use super::words::{
    ADJECTIVES, ALBUM_SUFFIXES, BAND_NOUNS, FIRST_NAMES, ISRC_COUNTRIES, LABELS, LAST_NAMES, NOUNS, PLAYLIST_MOODS,
    PODCAST_TOPICS, TRACK_SUFFIXES, VERBS,
};

/// Largest number of tracks [`Catalog::generate`] produces; larger requests are capped.
pub const MAX_GENERATED_TRACKS: usize = MAX_DOCS;

/// Hands out unique ASINs: an affine bijection of a counter over the `B0` + 8 base-36 id space, minus the
/// reserved [`Asin::UNKNOWN`] (number 0).
///
/// The counter position that maps to number 0 gets the permutation's value at the last position,
/// `ASIN_SPACE - 1`, instead; the counter never gets there (a catalog holds far fewer than 36^8 ids), so ids stay
/// unique, and every other position keeps the id it had before the reservation: catalogs that never drew
/// number 0 are unchanged, and a catalog that did differs in that one id only.
struct AsinGen {
    next: u64,
    mul: u64,
    add: u64,
}

impl AsinGen {
    fn new(rng: &mut StdRng) -> Self {
        // A multiplier coprime to 36^8 = 2^16 · 3^16 makes `n ↦ n·mul + add` a permutation of the id space.
        let mut mul = rng.random_range(ASIN_SPACE / 3..ASIN_SPACE) | 1;
        while mul % 3 == 0 {
            mul += 2;
        }
        Self { next: 0, mul, add: rng.random_range(0..ASIN_SPACE) }
    }

    fn next(&mut self) -> Asin {
        debug_assert!(self.next < ASIN_SPACE - 1, "the last position is the reserved id's stand-in");
        let mut n = self.at(self.next);
        if n == 0 {
            n = self.at(ASIN_SPACE - 1);
        }
        self.next += 1;
        Asin::from_number(n)
    }

    /// The permutation's value at counter position `i`.
    fn at(&self, i: u64) -> u64 {
        ((u128::from(i) * u128::from(self.mul) + u128::from(self.add)) % u128::from(ASIN_SPACE)) as u64
    }
}

/// Picks from `list`, favouring early entries (`u²` skew), so later words are rarer.
fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    let u: f64 = rng.random();
    let i = ((u * u) * list.len() as f64) as usize;
    list.get(i.min(list.len().saturating_sub(1))).copied().unwrap_or("")
}

/// Picks uniformly from `list`.
fn pick_flat<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list.get(rng.random_range(0..list.len().max(1))).copied().unwrap_or("")
}

fn artist_name(rng: &mut StdRng) -> String {
    match rng.random_range(0..100) {
        0..45 => format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)),
        45..70 => format!("The {} {}", pick(rng, ADJECTIVES), pick(rng, BAND_NOUNS)),
        70..85 => format!("{} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
        85..95 => format!("{} & The {}", pick(rng, FIRST_NAMES), pick(rng, BAND_NOUNS)),
        _ => format!("DJ {}", pick(rng, NOUNS)),
    }
}

fn track_title(rng: &mut StdRng) -> String {
    const PREPS: &[&str] = &["in the", "on the", "to the", "through the", "under the", "with the", "into the"];
    let mut t = match rng.random_range(0..100) {
        0..25 => format!("{} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
        25..40 => pick(rng, NOUNS).to_owned(),
        40..50 => format!("The {}", pick(rng, NOUNS)),
        50..62 => format!("{} {} {}", pick(rng, VERBS), pick_flat(rng, PREPS), pick(rng, NOUNS)),
        62..72 => format!("{} of {}", pick(rng, NOUNS), pick(rng, NOUNS)),
        72..82 => format!("My {} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
        82..92 => format!("{} {}", pick(rng, VERBS), pick(rng, NOUNS)),
        _ => format!("Love Me Like {}", pick(rng, NOUNS)),
    };
    if rng.random_bool(0.06) {
        t.push(' ');
        t.push_str(pick_flat(rng, TRACK_SUFFIXES));
    }
    t
}

fn album_title(rng: &mut StdRng) -> String {
    let mut t = match rng.random_range(0..100) {
        0..30 => format!("{} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
        30..45 => pick(rng, NOUNS).to_owned(),
        45..60 => format!("The {} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
        60..70 => format!("{} Sessions", pick(rng, NOUNS)),
        70..80 => format!("Songs from the {}", pick(rng, NOUNS)),
        80..90 => format!("{} & {}", pick(rng, NOUNS), pick(rng, NOUNS)),
        _ => format!("Live at the {}", pick(rng, NOUNS)),
    };
    if rng.random_bool(0.08) {
        t.push(' ');
        t.push_str(pick_flat(rng, ALBUM_SUFFIXES));
    }
    t
}

/// A date in `year`, uniformly over its days.
fn date_in_year(rng: &mut StdRng, year: i32) -> Date {
    let start = Date::from_ymd(year, 1, 1).map_or(0, |d| d.0);
    let end = Date::from_ymd(year + 1, 1, 1).map_or(start + 365, |d| d.0);
    Date(rng.random_range(start..end))
}

/// Popularity in `0..=1_000_000` from a skewed draw (`u^power`).
fn popularity(rng: &mut StdRng, power: i32) -> u32 {
    let u: f64 = rng.random();
    (u.powi(power) * 1_000_000.0) as u32
}

impl Catalog {
    /// Generates a catalog of `tracks` tracks (capped at [`MAX_GENERATED_TRACKS`]) from `seed`.
    ///
    /// Deterministic: the same `(seed, tracks)` always yields the same catalog. The default size of the mock
    /// is 800 tracks: 80 albums, 30 artists, 6 curated playlists, 4 podcast shows of 5–20 episodes.
    /// A million tracks take a few seconds in a release build.
    pub fn generate(seed: u64, tracks: usize) -> Catalog {
        let mut cat = Self::generate_entities(seed, tracks);
        cat.rebuild();
        cat
    }

    /// [`Catalog::generate`], then [`Catalog::extend`] with `ext`: the search indexes are built once, after the
    /// extension (generating them first and again after the extension took as long again at a million tracks).
    ///
    /// # Errors
    /// As [`Catalog::extend`].
    pub fn generate_extended(seed: u64, tracks: usize, ext: CatalogExtension) -> Result<Catalog, CatalogError> {
        let mut cat = Self::generate_entities(seed, tracks);
        // The extension looks up ids and album track lists; it rebuilds everything when done.
        cat.rebuild_lookups();
        cat.extend(ext)?;
        Ok(cat)
    }

    /// The entities of [`Catalog::generate`], without derived data.
    fn generate_entities(seed: u64, tracks: usize) -> Catalog {
        let n_tracks = tracks.min(MAX_GENERATED_TRACKS);
        let n_albums = n_tracks.div_ceil(10);
        let n_artists = (n_albums * 3).div_ceil(8);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut ids = AsinGen::new(&mut rng);
        let isrc_base = rng.random_range(0..36u32 * 36 * 36);

        // Artists: a career start year each, skewed towards recent decades.
        let mut artists = Vec::with_capacity(n_artists);
        let mut career = Vec::with_capacity(n_artists);
        for i in 0..n_artists {
            let name = artist_name(&mut rng);
            let genre = Genre(pick_index(&mut rng, GENRES.len()) as u8);
            let start = 2024 - (rng.random::<f64>().powf(1.6) * 62.0) as i32;
            career.push(start);
            artists.push(Artist {
                idx: ArtistIdx(i as u32),
                id: ids.next(),
                name: name.into(),
                genre,
                popularity: popularity(&mut rng, 3),
            });
        }

        // Albums: every artist gets one, the rest go to artists at random. Each gets an audio-quality profile.
        let mut albums = Vec::with_capacity(n_albums);
        let mut profiles = Vec::with_capacity(n_albums);
        for i in 0..n_albums {
            let artist = if i < n_artists { i } else { rng.random_range(0..n_artists) };
            let a = &artists[artist];
            let start = career[artist];
            let year = rng.random_range(start..=2025.max(start));
            let genre = if rng.random_bool(0.9) { a.genre } else { Genre(rng.random_range(0..GENRES.len()) as u8) };
            let q: f64 = rng.random();
            let mut qualities = if q < 0.3 {
                AudioQualities::UHD
            } else if q < 0.6 {
                AudioQualities::HD
            } else {
                AudioQualities::SD
            };
            if rng.random_bool(0.1) {
                qualities =
                    qualities.with(if rng.random_bool(0.5) { AudioQualities::ATMOS } else { AudioQualities::RA360 });
            }
            profiles.push(qualities);
            let pop = (f64::from(a.popularity) * rng.random_range(0.3..1.0)) as u32;
            albums.push(Album {
                idx: AlbumIdx(i as u32),
                id: ids.next(),
                title: album_title(&mut rng).into(),
                artist: a.idx,
                release_date: date_in_year(&mut rng, year),
                genre,
                label: pick_flat(&mut rng, LABELS).into(),
                popularity: pop,
            });
        }

        // Track counts: 6–14 per album, then nudged until they add up to exactly `n_tracks`.
        let mut counts: Vec<u32> = (0..n_albums).map(|_| rng.random_range(6..=14)).collect();
        let mut sum: usize = counts.iter().map(|&c| c as usize).sum();
        while sum != n_tracks {
            let i = rng.random_range(0..n_albums);
            if sum > n_tracks && counts[i] > 1 {
                counts[i] -= 1;
                sum -= 1;
            } else if sum < n_tracks && counts[i] < 40 {
                counts[i] += 1;
                sum += 1;
            }
        }

        let mut track_list = Vec::with_capacity(n_tracks);
        let mut genre_tracks: Vec<Vec<u32>> = vec![Vec::new(); GENRES.len()];
        for (album, &count) in albums.iter().zip(&counts) {
            let artist = album.artist;
            let country = ISRC_COUNTRIES[pick_index(&mut rng, ISRC_COUNTRIES.len())];
            for n in 1..=count {
                let i = track_list.len();
                let mut slots = [artist.0, u32::MAX, u32::MAX];
                if n_artists > 1 && rng.random_bool(0.1) {
                    let other = rng.random_range(0..n_artists as u32 - 1);
                    slots[1] = if other >= artist.0 { other + 1 } else { other };
                }
                // Early tracks (the singles) are a little more popular.
                let boost = if n <= 2 { 1.0 } else { rng.random_range(0.2..0.9) };
                let pop = (f64::from(album.popularity) * boost) as u32 + rng.random_range(0..1000);
                let seq = i as u32;
                genre_tracks[usize::from(album.genre.0)].push(seq);
                track_list.push(Track {
                    idx: TrackIdx(seq),
                    id: ids.next(),
                    title: track_title(&mut rng).into(),
                    album: album.idx,
                    artists: slots,
                    isrc: Isrc::generated(country, isrc_base + seq / 100_000, album.release_date.year(), seq % 100_000),
                    release_date: album.release_date,
                    duration: rng.random_range(120..=420),
                    track_number: n as u16,
                    genre: album.genre,
                    audio_qualities: profiles[album.idx.get()],
                    explicit: rng.random_bool(0.15),
                    popularity: pop,
                });
            }
        }

        let playlists =
            if n_tracks == 0 { Vec::new() } else { gen_playlists(&mut rng, &mut ids, n_tracks, &genre_tracks) };
        let (shows, episodes) = gen_podcasts(&mut rng, (n_tracks / 400).clamp(4, 2500));

        Catalog { seed, artists, albums, tracks: track_list, playlists, shows, episodes, derived: Default::default() }
    }
}

/// An index below `len` skewed towards 0 (`u²`).
fn pick_index(rng: &mut StdRng, len: usize) -> usize {
    let u: f64 = rng.random();
    (((u * u) * len as f64) as usize).min(len.saturating_sub(1))
}

fn gen_playlists(
    rng: &mut StdRng,
    ids: &mut AsinGen,
    n_tracks: usize,
    genre_tracks: &[Vec<u32>],
) -> Vec<CatalogPlaylist> {
    let curators: Vec<String> = (0..3).map(|_| profile_id(rng.random())).collect();
    let n = (n_tracks / 200).clamp(6, 5000);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let g = Genre(rng.random_range(0..GENRES.len()) as u8);
        let mood = pick_flat(rng, PLAYLIST_MOODS);
        let decade = 1960 + 10 * rng.random_range(0..7);
        let title = match rng.random_range(0..4) {
            0 => format!("{mood} {}", g.name()),
            1 => format!("{} Hits", g.name()),
            2 => format!("{}s {}", decade % 100, g.name()),
            _ => format!("{mood} {}", pick(rng, NOUNS)),
        };
        let description = format!("{} {} tracks our editors keep coming back to.", mood, g.name());
        let pool = genre_tracks.get(usize::from(g.0)).filter(|p| !p.is_empty());
        let len = rng.random_range(15..=50).min(n_tracks);
        let mut tracks: Vec<TrackIdx> = Vec::with_capacity(len);
        let mut attempts = 0;
        while tracks.len() < len && attempts < len * 4 {
            attempts += 1;
            let t = match pool {
                Some(p) if rng.random_bool(0.8) => p[rng.random_range(0..p.len())],
                _ => rng.random_range(0..n_tracks as u32),
            };
            if !tracks.contains(&TrackIdx(t)) {
                tracks.push(TrackIdx(t));
            }
        }
        out.push(CatalogPlaylist {
            idx: PlaylistIdx(i as u32),
            id: ids.next(),
            title: title.into(),
            description: description.into(),
            curator: curators[rng.random_range(0..curators.len())].as_str().into(),
            tracks: tracks.into(),
            tier: if rng.random_bool(0.6) { PlaylistTier::Prime } else { PlaylistTier::Unlimited },
            popularity: popularity(rng, 2),
        });
    }
    out
}

fn gen_podcasts(rng: &mut StdRng, n_shows: usize) -> (Vec<PodcastShow>, Vec<PodcastEpisode>) {
    const DAYS: &[&str] = &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];
    let mut shows = Vec::with_capacity(n_shows);
    let mut episodes = Vec::new();
    for s in 0..n_shows {
        let topic = pick_flat(rng, PODCAST_TOPICS);
        let host = format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES));
        let title = match rng.random_range(0..5) {
            0 => format!("The {topic} Hour"),
            1 => format!("{} {topic}", pick(rng, ADJECTIVES)),
            2 => format!("{host} on {topic}"),
            3 => format!("{} & {}: A {topic} Podcast", pick(rng, NOUNS), pick(rng, NOUNS)),
            _ => format!("Inside {topic}"),
        };
        let description = format!(
            "<p><b>{title}</b> is a weekly {} podcast hosted by {host}.</p><p>New episodes every {}.</p>",
            topic.to_lowercase(),
            pick_flat(rng, DAYS)
        );
        let show_pop = popularity(rng, 2);
        let show = ShowIdx(s as u32);
        let n_eps = rng.random_range(5..=20u32);
        let first = Date(Date::from_ymd(2015, 1, 1).map_or(16_436, |d| d.0) + rng.random_range(0..3000));
        for n in 1..=n_eps {
            let title = match rng.random_range(0..3) {
                0 => format!("Episode {n}: The {} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
                1 => format!("{n}. {} {}", pick(rng, VERBS), pick(rng, NOUNS)),
                _ => format!("{}, {} and {}", pick(rng, NOUNS), pick(rng, NOUNS), pick(rng, NOUNS)),
            };
            let (a, b) = (rng.random::<u64>(), rng.random::<u64>());
            episodes.push(PodcastEpisode {
                idx: EpisodeIdx(episodes.len() as u32),
                id: uuid_from(a, b),
                show,
                title: title.into(),
                number: n,
                release_date: Date(first.0 + 7 * n as i32),
                duration: rng.random_range(900..=5400),
                popularity: (f64::from(show_pop) * rng.random_range(0.2..1.0)) as u32,
            });
        }
        let (a, b) = (rng.random::<u64>(), rng.random::<u64>());
        shows.push(PodcastShow {
            idx: show,
            id: uuid_from(splitmix(a), b),
            title: title.into(),
            publisher: host.into(),
            description: description.into(),
            popularity: show_pop,
        });
    }
    (shows, episodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_never_hands_out_the_reserved_id() {
        // `add = ASIN_SPACE - 3·mul` puts number 0 (B000000000) at counter position 3.
        let mul = 7;
        let mut ids = AsinGen { next: 0, mul, add: ASIN_SPACE - 3 * mul };
        assert_eq!(ids.at(3), 0, "position 3 is where the unreserved permutation emits B000000000");
        let drawn: Vec<Asin> = (0..6).map(|_| ids.next()).collect();
        assert!(!drawn.contains(&Asin::UNKNOWN));
        // Every other position keeps its id; position 3 gets the value of the never-reached last position.
        let expected = [ids.at(0), ids.at(1), ids.at(2), ids.at(ASIN_SPACE - 1), ids.at(4), ids.at(5)];
        assert_eq!(drawn, expected.map(Asin::from_number));
        assert_eq!(drawn[3].as_str(), "B0ZZZZZZZ8");
        assert_eq!(drawn.iter().collect::<std::collections::HashSet<_>>().len(), drawn.len());
        // Identity permutation: position 0 would be B000000000.
        let mut ids = AsinGen { next: 0, mul: 1, add: 0 };
        assert_eq!(ids.next().as_str(), "B0ZZZZZZZZ");
        assert_eq!(ids.next().as_str(), "B000000001");
    }
}
