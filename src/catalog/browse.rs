//! Whole-catalog lists for browse routes (V2 `albums/top`, `albums/new-releases`, `browse/tracks/top`, the
//! Device API's navigation nodes, the views' "New releases" and "Popular playlists"): pages in popularity
//! order straight from the derived rankings, and the newest albums by partial selection, so a page never
//! sorts the whole catalog.

use super::Catalog;
use super::ids::{AlbumIdx, PlaylistIdx, TrackIdx};
use super::search::Page;

fn ranked_page(by_rank: &[u32], offset: usize, limit: usize) -> Page<u32> {
    Page { items: by_rank.iter().skip(offset).take(limit).copied().collect(), total: by_rank.len() }
}

impl Catalog {
    /// Tracks, most popular first (ties by id), the page at `offset..offset + limit`.
    pub fn top_tracks(&self, offset: usize, limit: usize) -> Page<TrackIdx> {
        let p = ranked_page(&self.derived.tracks.by_rank, offset, limit);
        Page { items: p.items.into_iter().map(TrackIdx).collect(), total: p.total }
    }

    /// A track's position in [`Catalog::top_tracks`] order.
    pub fn track_rank(&self, track: TrackIdx) -> usize {
        self.derived.tracks.rank_of.get(track.get()).map_or(usize::MAX, |&r| r as usize)
    }

    /// Albums, most popular first (ties by id), the page at `offset..offset + limit`.
    pub fn top_albums(&self, offset: usize, limit: usize) -> Page<AlbumIdx> {
        let p = ranked_page(&self.derived.albums.by_rank, offset, limit);
        Page { items: p.items.into_iter().map(AlbumIdx).collect(), total: p.total }
    }

    /// Curated playlists, most popular first (ties by id), the page at `offset..offset + limit`.
    pub fn top_playlists(&self, offset: usize, limit: usize) -> Page<PlaylistIdx> {
        let p = ranked_page(&self.derived.playlists.by_rank, offset, limit);
        Page { items: p.items.into_iter().map(PlaylistIdx).collect(), total: p.total }
    }

    /// Albums, newest release first (ties by id), the page at `offset..offset + limit`: a partial selection of
    /// the first `offset + limit`, so early pages cost one pass over the albums.
    pub fn new_releases(&self, offset: usize, limit: usize) -> Page<AlbumIdx> {
        let total = self.albums.len();
        let n = offset.saturating_add(limit).min(total);
        if n == 0 {
            return Page { items: Vec::new(), total };
        }
        let order = |a: &AlbumIdx, b: &AlbumIdx| {
            let (x, y) = (&self.albums[a.get()], &self.albums[b.get()]);
            y.release_date.cmp(&x.release_date).then(x.id.as_str().cmp(y.id.as_str()))
        };
        let mut all: Vec<AlbumIdx> = self.albums.iter().map(|a| a.idx).collect();
        if all.len() > n {
            all.select_nth_unstable_by(n - 1, order);
            all.truncate(n);
        }
        all.sort_by(order);
        Page { items: all.into_iter().skip(offset).collect(), total }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Catalog;

    #[test]
    fn popularity_pages_follow_popularity_then_id() {
        let cat = Catalog::generate(7, 300);
        let all = cat.top_tracks(0, usize::MAX);
        assert_eq!(all.total, cat.tracks().len());
        for w in all.items.windows(2) {
            let (a, b) = (&cat[w[0]], &cat[w[1]]);
            assert!(a.popularity > b.popularity || (a.popularity == b.popularity && a.id.as_str() < b.id.as_str()));
        }
        assert_eq!(cat.top_tracks(5, 3).items, all.items[5..8]);
        assert_eq!(cat.track_rank(all.items[9]), 9);
        let albums = cat.top_albums(0, 4);
        assert_eq!(albums.total, cat.albums().len());
        assert!(cat[albums.items[0]].popularity >= cat[albums.items[3]].popularity);
        assert_eq!(cat.top_playlists(0, 100).items.len(), cat.playlists().len().min(100));
    }

    #[test]
    fn new_release_pages_agree_with_a_full_sort() {
        let cat = Catalog::generate(7, 300);
        let mut want: Vec<_> = cat.albums().iter().collect();
        want.sort_by(|a, b| b.release_date.cmp(&a.release_date).then(a.id.as_str().cmp(b.id.as_str())));
        let want: Vec<_> = want.iter().map(|a| a.idx).collect();
        assert_eq!(cat.new_releases(0, 10).items, want[..10]);
        assert_eq!(cat.new_releases(7, 5).items, want[7..12]);
        let past = cat.new_releases(want.len(), 5);
        assert!(past.items.is_empty());
        assert_eq!(past.total, want.len());
    }
}
