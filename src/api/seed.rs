//! What fixture customers start with in every session: a library, likes, follows, two playlists and some
//! listening history, all picked from the catalog deterministically from the seed and the customer id.
//! Customers without a music account start empty.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use crate::catalog::{Catalog, CatalogCell, Track};
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

/// `n` distinct ids of `items` (fewer when there are fewer), picked by `rng`.
fn sample<T>(rng: &mut StdRng, items: &[T], n: usize, id: impl Fn(&T) -> String) -> Vec<String> {
    items.choose_multiple(rng, n.min(items.len())).map(id).collect()
}

/// Builds the seed function for a catalog and fixtures. The catalog is read when a customer is first seeded
/// (after it is built, when it builds in the background), never copied.
pub fn seed_fn(catalog: Arc<CatalogCell>, fixtures: Arc<Fixtures>, seed: u64) -> MusicSeed {
    let customers = Arc::new(
        fixtures.users().iter().filter(|u| u.has_music_account).map(|u| u.user_id.as_str().to_owned()).collect(),
    );
    let track = |t: &Track| t.id.as_str().to_owned();
    let build: crate::store::memory_music::SeedFn = Arc::new(move |user: &str| {
        let u = fixtures.user(user)?;
        if !u.has_music_account {
            return None;
        }
        let catalog: &Catalog = &catalog;
        let tracks = catalog.tracks();
        let mut rng = rng_for(seed, user, "library");
        let collections = vec![
            (Collection::LibraryTracks, sample(&mut rng, tracks, 25, track)),
            (Collection::LibraryAlbums, sample(&mut rng, catalog.albums(), 8, |a| a.id.as_str().to_owned())),
            (Collection::LikedTracks, sample(&mut rng, tracks, 15, track)),
            (Collection::FollowedArtists, sample(&mut rng, catalog.artists(), 6, |a| a.id.as_str().to_owned())),
            (Collection::FollowedPlaylists, sample(&mut rng, catalog.playlists(), 2, |p| p.id.as_str().to_owned())),
            (Collection::FollowedPodcastShows, sample(&mut rng, catalog.podcast_shows(), 1, |s| s.id.to_string())),
            (Collection::LibraryPodcastEpisodes, sample(&mut rng, catalog.podcast_episodes(), 3, |e| e.id.to_string())),
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
                    entries: sample(&mut prng, tracks, n, track)
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
                tracks.choose(&mut hrng).map(|t| (ago, track(t)))
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
