//! What fixture customers start with in every session: a library, likes, follows, two playlists and some
//! listening history, all picked from the catalog deterministically from the seed and the customer id.
//! Customers without a music account start empty.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::fixtures::Fixtures;
use crate::store::memory_music::MusicSeed;
use crate::store::music::{Collection, MusicProfile, SeedMusic, SeedPlaylist, Visibility};

fn rng_for(seed: u64, user: &str, salt: &str) -> StdRng {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(user.as_bytes());
    h.update(salt.as_bytes());
    StdRng::from_seed(h.finalize().into())
}

/// The customer's 26-character music profile id (`[a-z0-9]`, spec §3.1), derived from the account id.
pub fn music_profile_id(user: &str) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let d = Sha256::digest(user.as_bytes());
    d.iter().take(26).map(|b| CHARS[usize::from(*b) % CHARS.len()] as char).collect()
}

fn sample(rng: &mut StdRng, ids: &[String], n: usize) -> Vec<String> {
    ids.choose_multiple(rng, n.min(ids.len())).cloned().collect()
}

/// Builds the seed function for a catalog and fixtures.
pub fn seed_fn(catalog: Arc<Catalog>, fixtures: Arc<Fixtures>, seed: u64) -> MusicSeed {
    let customers = Arc::new(
        fixtures.users().iter().filter(|u| u.has_music_account).map(|u| u.user_id.as_str().to_owned()).collect(),
    );
    let tracks: Arc<Vec<String>> = Arc::new(catalog.tracks().iter().map(|t| t.id.as_str().to_owned()).collect());
    let albums: Arc<Vec<String>> = Arc::new(catalog.albums().iter().map(|a| a.id.as_str().to_owned()).collect());
    let artists: Arc<Vec<String>> = Arc::new(catalog.artists().iter().map(|a| a.id.as_str().to_owned()).collect());
    let playlists: Arc<Vec<String>> = Arc::new(catalog.playlists().iter().map(|p| p.id.as_str().to_owned()).collect());
    let shows: Arc<Vec<String>> = Arc::new(catalog.podcast_shows().iter().map(|s| s.id.to_string()).collect());
    let episodes: Arc<Vec<String>> = Arc::new(catalog.podcast_episodes().iter().map(|e| e.id.to_string()).collect());
    let build: crate::store::memory_music::SeedFn = Arc::new(move |user: &str| {
        let u = fixtures.user(user)?;
        if !u.has_music_account {
            return None;
        }
        let mut rng = rng_for(seed, user, "library");
        let collections = vec![
            (Collection::LibraryTracks, sample(&mut rng, &tracks, 25)),
            (Collection::LibraryAlbums, sample(&mut rng, &albums, 8)),
            (Collection::LikedTracks, sample(&mut rng, &tracks, 15)),
            (Collection::FollowedArtists, sample(&mut rng, &artists, 6)),
            (Collection::FollowedPlaylists, sample(&mut rng, &playlists, 2)),
            (Collection::FollowedPodcastShows, sample(&mut rng, &shows, 1)),
            (Collection::LibraryPodcastEpisodes, sample(&mut rng, &episodes, 3)),
        ];
        let first = u.name.split_whitespace().next().unwrap_or("My");
        let owned = [("Favourites", Visibility::Private, 12), ("Road Trip", Visibility::Public, 15)]
            .into_iter()
            .enumerate()
            .map(|(i, (title, visibility, n))| {
                let mut prng = rng_for(seed, user, &format!("playlist{i}"));
                SeedPlaylist {
                    id: crate::ids::uuid(&mut prng),
                    title: format!("{first}'s {title}"),
                    description: format!("{title} picked by {first}"),
                    visibility,
                    entries: sample(&mut prng, &tracks, n)
                        .into_iter()
                        .map(|t| (crate::ids::uuid(&mut prng), t))
                        .collect(),
                }
            })
            .collect();
        let mut hrng = rng_for(seed, user, "history");
        let mut ago = 0i64;
        let history = (0..40)
            .filter_map(|_| {
                ago += hrng.random_range(180_000..5_400_000);
                tracks.choose(&mut hrng).map(|t| (ago, t.clone()))
            })
            .collect();
        let profile = MusicProfile {
            id: music_profile_id(user),
            name: u.name.clone(),
            visibility: Visibility::Public,
            playback_visibility: Visibility::Private,
        };
        Some(SeedMusic { collections, playlists: owned, history, profile })
    });
    MusicSeed { customers, build }
}
