//! Everything the catalog computes from its entity lists: id maps, relation lists (album → tracks, artist →
//! albums and tracks, genre → artists, show → episodes), popularity/name/release orders and the search indexes.
//!
//! **Invariant:** derived data is a pure function of the entity lists; [`Catalog::rebuild`] recomputes all of it,
//! so generation and [`Catalog::extend`](super::Catalog::extend) cannot leave it stale.

use std::cmp::{Ordering, Reverse};

use super::Catalog;
use super::EntityRef;
use super::ids::{AlbumIdx, ArtistIdx, Asin, EpisodeIdx, Isrc, TrackIdx};
use super::model::GENRES;
use super::text::{FxMap, IndexBuilder, InvertedIndex, TITLE, posting};

/// Second field bit: album title (tracks), artist name (albums), publisher (shows), show title (episodes).
pub(super) const FIELD2: u8 = 2;
/// Third field bit: artist names (tracks).
pub(super) const FIELD3: u8 = 4;

/// A compressed list of lists: `items[offsets[i]..offsets[i + 1]]` belongs to key `i`.
#[derive(Default)]
pub(super) struct Csr<T> {
    offsets: Vec<u32>,
    items: Vec<T>,
}

impl<T: Copy + Default> Csr<T> {
    /// Groups `(key, item)` pairs by key (keys below `keys`), keeping the pairs' order within a key.
    fn build(keys: usize, pairs: impl Iterator<Item = (usize, T)> + Clone) -> Self {
        let mut offsets = vec![0u32; keys + 1];
        for (k, _) in pairs.clone() {
            offsets[k + 1] += 1;
        }
        for i in 0..keys {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut items = vec![T::default(); offsets[keys] as usize];
        for (k, v) in pairs {
            items[fill[k] as usize] = v;
            fill[k] += 1;
        }
        Self { offsets, items }
    }

    /// Packs a sequence of lists, list `i` becoming key `i`.
    fn from_lists(lists: impl Iterator<Item = Vec<T>>) -> Self {
        let mut offsets = vec![0u32];
        let mut items = Vec::new();
        for l in lists {
            items.extend(l);
            offsets.push(items.len() as u32);
        }
        Self { offsets, items }
    }

    /// The items of key `i`; empty for an unknown key.
    pub(super) fn get(&self, i: usize) -> &[T] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.items[a as usize..b as usize],
            _ => &[],
        }
    }

    fn sort_each_by(&mut self, mut cmp: impl FnMut(&T, &T) -> Ordering) {
        for w in self.offsets.windows(2) {
            self.items[w[0] as usize..w[1] as usize].sort_by(&mut cmp);
        }
    }

    fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 4 + self.items.capacity() * std::mem::size_of::<T>()
    }
}

/// A text index over one entity type plus the popularity order its ranks refer to.
#[derive(Default)]
pub(super) struct RankedIndex {
    pub index: InvertedIndex,
    /// Rank → entity index, most popular first.
    pub by_rank: Vec<u32>,
    /// Entity index → rank.
    pub rank_of: Vec<u32>,
}

impl RankedIndex {
    fn heap_bytes(&self) -> usize {
        self.index.heap_bytes() + (self.by_rank.capacity() + self.rank_of.capacity()) * 4
    }
}

/// Track search: the text index plus the alternative sort orders, all in popularity-rank space.
#[derive(Default)]
pub(super) struct TrackOrders {
    /// Popularity rank (position in `text.by_rank`) → rank in name order.
    pub name_rank: Vec<u32>,
    /// Name rank → track index.
    pub by_name: Vec<u32>,
    /// Popularity rank → rank in release order (newest first).
    pub release_rank: Vec<u32>,
    /// Release rank → track index.
    pub by_release: Vec<u32>,
    /// Per genre: postings of its tracks' popularity ranks, sorted.
    pub genre_postings: Vec<Vec<u32>>,
}

/// Derived data of a [`Catalog`]; see the module docs.
#[derive(Default)]
pub(super) struct Derived {
    pub asins: FxMap<Asin, EntityRef>,
    pub uuids: FxMap<uuid::Uuid, EntityRef>,
    /// `(isrc, track)` sorted, for binary search.
    pub isrcs: Vec<(Isrc, TrackIdx)>,
    pub album_tracks: Csr<TrackIdx>,
    pub artist_albums: Csr<AlbumIdx>,
    pub artist_tracks: Csr<TrackIdx>,
    /// Per genre, artists by popularity; `artist_genre_pos[a]` is artist `a`'s position in its genre's list.
    pub genre_artists: Csr<ArtistIdx>,
    pub artist_genre_pos: Vec<u32>,
    pub show_episodes: Csr<EpisodeIdx>,
    pub tracks: RankedIndex,
    pub track_orders: TrackOrders,
    pub albums: RankedIndex,
    pub artists: RankedIndex,
    pub playlists: RankedIndex,
    pub shows: RankedIndex,
    pub episodes: RankedIndex,
}

impl Derived {
    /// Approximate heap size of the derived data in bytes.
    pub(super) fn heap_bytes(&self) -> usize {
        let maps = (self.asins.capacity() * (std::mem::size_of::<(Asin, EntityRef)>() + 1))
            + self.uuids.capacity() * (std::mem::size_of::<(uuid::Uuid, EntityRef)>() + 1)
            + self.isrcs.capacity() * std::mem::size_of::<(Isrc, TrackIdx)>();
        let rel = self.album_tracks.heap_bytes()
            + self.artist_albums.heap_bytes()
            + self.artist_tracks.heap_bytes()
            + self.genre_artists.heap_bytes()
            + self.show_episodes.heap_bytes()
            + self.artist_genre_pos.capacity() * 4;
        let o = &self.track_orders;
        let orders = (o.name_rank.capacity() + o.by_name.capacity() + o.release_rank.capacity()) * 4
            + o.by_release.capacity() * 4
            + o.genre_postings.iter().map(|g| g.capacity() * 4).sum::<usize>();
        let idx = [&self.tracks, &self.albums, &self.artists, &self.playlists, &self.shows, &self.episodes]
            .iter()
            .map(|r| r.heap_bytes())
            .sum::<usize>();
        maps + rel + orders + idx
    }
}

/// Indices `0..n` sorted by `key`; keys are computed once and sorted in one contiguous array, which is much
/// faster on big catalogs than comparing through the entity lists. The index breaks any remaining tie.
fn order_by<K: Ord + Copy>(n: usize, key: impl Fn(usize) -> K) -> Vec<u32> {
    let mut keyed: Vec<(K, u32)> = (0..n).map(|i| (key(i), i as u32)).collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Calls `f` with the index range of every run of at least two consecutive elements of `sorted` that
/// `same(previous, next)` links.
fn for_each_run<T>(sorted: &[T], same: impl Fn(&T, &T) -> bool, mut f: impl FnMut(std::ops::Range<usize>)) {
    let mut start = 0;
    for i in 1..=sorted.len() {
        if i == sorted.len() || !same(&sorted[i - 1], &sorted[i]) {
            if i - start > 1 {
                f(start..i);
            }
            start = i;
        }
    }
}

/// The inverse permutation of `order`.
fn inverse(order: &[u32]) -> Vec<u32> {
    let mut inv = vec![0u32; order.len()];
    for (r, &i) in order.iter().enumerate() {
        inv[i as usize] = r as u32;
    }
    inv
}

/// Indices `0..n` sorted by popularity descending, then id ascending, and the inverse (index → rank).
/// `key` gives the popularity and the id as a number ordered like the id.
fn popularity_order(n: usize, key: impl Fn(usize) -> (u32, u128)) -> (Vec<u32>, Vec<u32>) {
    let by_rank = order_by(n, |i| {
        let (pop, id) = key(i);
        (Reverse(pop), id)
    });
    let rank_of = inverse(&by_rank);
    (by_rank, rank_of)
}

/// The first 16 bytes of `s`, ASCII-lowercased, as a big-endian number: ordering by it agrees with
/// [`cmp_names`] except on ties.
fn name_prefix(s: &str) -> u128 {
    let mut w = [0u8; 16];
    for (slot, b) in w.iter_mut().zip(s.bytes()) {
        *slot = b.to_ascii_lowercase();
    }
    u128::from_be_bytes(w)
}

/// Case-insensitive (ASCII) comparison of two names.
pub(super) fn cmp_names(a: &str, b: &str) -> Ordering {
    a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

impl Catalog {
    /// Recomputes all derived data from the entity lists.
    pub(super) fn rebuild(&mut self) {
        self.rebuild_lookups();
        let mut d = std::mem::take(&mut self.derived);
        self.build_track_search(&mut d);
        self.build_other_search(&mut d);
        self.derived = d;
    }

    /// Recomputes the id maps and relations only, leaving the search indexes empty (for a catalog about to be
    /// extended, which rebuilds everything).
    pub(super) fn rebuild_lookups(&mut self) {
        let mut d = Derived::default();
        self.build_id_maps(&mut d);
        self.build_relations(&mut d);
        self.derived = d;
    }

    fn build_id_maps(&self, d: &mut Derived) {
        let asin_count = self.tracks.len() + self.albums.len() + self.artists.len() + self.playlists.len();
        d.asins.reserve(asin_count);
        d.asins.extend(self.artists.iter().map(|a| (a.id, EntityRef::Artist(a.idx))));
        d.asins.extend(self.albums.iter().map(|a| (a.id, EntityRef::Album(a.idx))));
        d.asins.extend(self.tracks.iter().map(|t| (t.id, EntityRef::Track(t.idx))));
        d.asins.extend(self.playlists.iter().map(|p| (p.id, EntityRef::Playlist(p.idx))));
        d.uuids.extend(self.shows.iter().map(|s| (s.id, EntityRef::PodcastShow(s.idx))));
        d.uuids.extend(self.episodes.iter().map(|e| (e.id, EntityRef::PodcastEpisode(e.idx))));
        d.isrcs = self.tracks.iter().map(|t| (t.isrc, t.idx)).collect();
        d.isrcs.sort_unstable();
    }

    fn build_relations(&self, d: &mut Derived) {
        let tracks = &self.tracks;
        let albums = &self.albums;
        d.album_tracks = Csr::build(albums.len(), tracks.iter().map(|t| (t.album.get(), t.idx)));
        d.album_tracks.sort_each_by(|a, b| {
            let (ta, tb) = (&tracks[a.get()], &tracks[b.get()]);
            ta.track_number.cmp(&tb.track_number).then(a.cmp(b))
        });
        d.artist_albums = Csr::build(self.artists.len(), albums.iter().map(|a| (a.artist.get(), a.idx)));
        d.artist_albums.sort_each_by(|a, b| {
            let (x, y) = (&albums[a.get()], &albums[b.get()]);
            y.release_date.cmp(&x.release_date).then(x.id.cmp(&y.id))
        });
        let credits = tracks.iter().flat_map(|t| t.artists().map(move |a| (a.get(), t.idx)));
        d.artist_tracks = Csr::build(self.artists.len(), credits);
        d.artist_tracks.sort_each_by(|a, b| {
            let (x, y) = (&tracks[a.get()], &tracks[b.get()]);
            y.popularity.cmp(&x.popularity).then(x.id.cmp(&y.id))
        });
        let artists = &self.artists;
        d.genre_artists = Csr::build(GENRES.len(), artists.iter().map(|a| (usize::from(a.genre.0), a.idx)));
        d.genre_artists.sort_each_by(|a, b| {
            let (x, y) = (&artists[a.get()], &artists[b.get()]);
            y.popularity.cmp(&x.popularity).then(x.id.cmp(&y.id))
        });
        d.artist_genre_pos = vec![0; artists.len()];
        for g in 0..GENRES.len() {
            for (pos, a) in d.genre_artists.get(g).iter().enumerate() {
                d.artist_genre_pos[a.get()] = pos as u32;
            }
        }
        let eps = &self.episodes;
        d.show_episodes = Csr::build(self.shows.len(), eps.iter().map(|e| (e.show.get(), e.idx)));
        d.show_episodes.sort_each_by(|a, b| {
            let (x, y) = (&eps[a.get()], &eps[b.get()]);
            y.release_date.cmp(&x.release_date).then(y.number.cmp(&x.number)).then(x.id.cmp(&y.id))
        });
    }

    fn build_track_search(&self, d: &mut Derived) {
        let tracks = &self.tracks;
        let albums = &self.albums;
        let n = tracks.len();
        // Popularity order: one packed key per track, `!popularity | id | index`, sorted as plain integers.
        let mut keys: Vec<u128> = tracks
            .iter()
            .enumerate()
            .map(|(i, t)| (u128::from(!t.popularity) << 96) | (u128::from(t.id.ordinal()) << 32) | i as u128)
            .collect();
        keys.sort_unstable();
        let by_rank: Vec<u32> = keys.iter().map(|&k| k as u32).collect();
        let rank_of = inverse(&by_rank);

        // Tokens: titles in track order (sequential memory), album titles and artist names once each.
        let mut b = IndexBuilder::default();
        let album_tokens = Csr::from_lists(albums.iter().map(|a| b.intern_vec(&a.title)));
        let artist_tokens = Csr::from_lists(self.artists.iter().map(|a| b.intern_vec(&a.name)));
        let title_tokens = {
            let mut offsets = Vec::with_capacity(n + 1);
            let mut items = Vec::with_capacity(n * 3);
            offsets.push(0u32);
            for t in tracks {
                b.intern(&t.title, &mut items);
                offsets.push(items.len() as u32);
            }
            Csr { offsets, items }
        };
        let mut names = Vec::new();
        let mut genre_postings = vec![Vec::new(); GENRES.len()];
        for (rank, &ti) in by_rank.iter().enumerate() {
            let t = &tracks[ti as usize];
            names.clear();
            for a in t.artists() {
                names.extend_from_slice(artist_tokens.get(a.get()));
            }
            let fields = [
                (title_tokens.get(ti as usize), TITLE),
                (album_tokens.get(t.album.get()), FIELD2),
                (&names[..], FIELD3),
            ];
            b.add(rank as u32, &fields);
            if let Some(g) = genre_postings.get_mut(usize::from(t.genre.0)) {
                g.push(posting(rank as u32));
            }
        }
        drop(title_tokens);
        for g in &mut genre_postings {
            g.shrink_to_fit();
        }

        // Name order: case-insensitive title, then id. The key holds a 16-byte lowercase prefix and, for titles
        // that fit in it, settles ties by id; titles longer than the prefix are flagged (they sort after the
        // 16-byte title with the same prefix) and runs of them are finished with the full comparison.
        const LONG: u64 = 1 << 63;
        let mut name_keys: Vec<(u128, u64, u32)> = tracks
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let long = if t.title.len() > 16 { LONG } else { 0 };
                (name_prefix(&t.title), long | t.id.ordinal(), i as u32)
            })
            .collect();
        name_keys.sort_unstable();
        let mut by_name: Vec<u32> = name_keys.iter().map(|k| k.2).collect();
        for_each_run(
            &name_keys,
            |a, b| a.0 == b.0 && a.1 & b.1 & LONG != 0,
            |run| {
                by_name[run].sort_unstable_by(|&a, &b| {
                    let (x, y) = (&tracks[a as usize], &tracks[b as usize]);
                    cmp_names(&x.title, &y.title).then_with(|| x.id.cmp(&y.id))
                });
            },
        );
        drop(name_keys);

        // Release order: newest first, then album id, track number, id. The packed key holds everything but
        // the id, so runs of equal keys (a duplicated track number) are finished by id.
        let mut rel_keys: Vec<u128> = tracks
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let newest_first = (i64::from(i32::MAX) - i64::from(t.release_date.0)) as u32;
                let album = albums.get(t.album.get()).map_or(0, |a| a.id.ordinal());
                (u128::from(newest_first) << 96)
                    | (u128::from(album) << 48)
                    | (u128::from(t.track_number) << 32)
                    | i as u128
            })
            .collect();
        rel_keys.sort_unstable();
        let mut by_release: Vec<u32> = rel_keys.iter().map(|&k| k as u32).collect();
        for_each_run(
            &rel_keys,
            |a, b| a >> 32 == b >> 32,
            |run| {
                by_release[run].sort_unstable_by_key(|&i| tracks[i as usize].id);
            },
        );
        drop(rel_keys);

        let mut name_rank = vec![0u32; n];
        for (nr, &ti) in by_name.iter().enumerate() {
            name_rank[rank_of[ti as usize] as usize] = nr as u32;
        }
        let mut release_rank = vec![0u32; n];
        for (rr, &ti) in by_release.iter().enumerate() {
            release_rank[rank_of[ti as usize] as usize] = rr as u32;
        }
        d.tracks = RankedIndex { index: b.finish(), by_rank, rank_of };
        d.track_orders = TrackOrders { name_rank, by_name, release_rank, by_release, genre_postings };
    }

    fn build_other_search(&self, d: &mut Derived) {
        let albums = &self.albums;
        let artists = &self.artists;
        d.albums = ranked(
            albums.len(),
            |i| (albums[i].popularity, albums[i].id.ordinal().into()),
            |i, out| {
                let a = &albums[i];
                out.push((a.title.to_string(), TITLE));
                if let Some(ar) = artists.get(a.artist.get()) {
                    out.push((ar.name.to_string(), FIELD2));
                }
            },
        );
        d.artists = ranked(
            artists.len(),
            |i| (artists[i].popularity, artists[i].id.ordinal().into()),
            |i, out| {
                out.push((artists[i].name.to_string(), TITLE));
            },
        );
        let pls = &self.playlists;
        d.playlists = ranked(
            pls.len(),
            |i| (pls[i].popularity, pls[i].id.ordinal().into()),
            |i, out| {
                out.push((pls[i].title.to_string(), TITLE));
                out.push((pls[i].description.to_string(), FIELD2));
            },
        );
        let shows = &self.shows;
        d.shows = ranked(
            shows.len(),
            |i| (shows[i].popularity, shows[i].id.as_u128()),
            |i, out| {
                out.push((shows[i].title.to_string(), TITLE));
                out.push((shows[i].publisher.to_string(), FIELD2));
            },
        );
        let eps = &self.episodes;
        d.episodes = ranked(
            eps.len(),
            |i| (eps[i].popularity, eps[i].id.as_u128()),
            |i, out| {
                out.push((eps[i].title.to_string(), TITLE));
                if let Some(s) = shows.get(eps[i].show.get()) {
                    out.push((s.title.to_string(), FIELD2));
                }
            },
        );
    }
}

/// Builds a [`RankedIndex`] for `n` entities given their popularity key and their `(text, field bit)` fields.
fn ranked(n: usize, key: impl Fn(usize) -> (u32, u128), fields: impl Fn(usize, &mut Vec<(String, u8)>)) -> RankedIndex {
    let (by_rank, rank_of) = popularity_order(n, key);
    let mut b = IndexBuilder::default();
    let mut texts = Vec::new();
    let mut ids: Vec<Vec<u32>> = Vec::new();
    for (rank, &i) in by_rank.iter().enumerate() {
        texts.clear();
        fields(i as usize, &mut texts);
        ids.resize(texts.len(), Vec::new());
        for ((text, _), v) in texts.iter().zip(ids.iter_mut()) {
            v.clear();
            b.intern(text, v);
        }
        let f: Vec<(&[u32], u8)> = ids.iter().zip(&texts).map(|(v, (_, bit))| (v.as_slice(), *bit)).collect();
        b.add(rank as u32, &f);
    }
    RankedIndex { index: b.finish(), by_rank, rank_of }
}
