//! The Device API's navigation nodes (spec `music-api.md` §7, §11.4) as plain functions: each takes the
//! catalog, the request's [`Links`] and what else the node lists (the customer's playlists, for the root) and
//! returns the whole `Document`. The handlers in `browse.rs` only look up what the path names and call these.
//!
//! - [`root`]: `#root` holds two levels inline: the root and its five nodes ("Your Playlists", "Popular
//!   Playlists", "New Releases", "Stations", "Genres"), each item a reference to a container or a genre.
//! - [`genre`]: the genre's station, then its most popular albums.
//! - [`artist`]: the artist's albums, newest first.

use serde_json::Value;

use super::{Doc, Links};
use crate::catalog::{AlbumIdx, Artist, Catalog, Genre, SearchFilter, SortBy, TrackField};
use crate::store::music::PlaylistMeta;

/// Items listed in a node built from a whole-catalog list.
pub const NODE_ITEMS: usize = 20;

/// The root document: the customer's playlists (`mine`), the most popular catalog playlists, new releases,
/// one station per genre and the genres, each a node inlined under `#root`.
pub fn root(cat: &Catalog, links: &Links, mine: &[PlaylistMeta]) -> Value {
    let mut d = Doc::new("root");
    let mut nodes: Vec<(&str, &str, Vec<String>)> = Vec::new();

    let items = mine
        .iter()
        .enumerate()
        .map(|(i, p)| d.link(&format!("my_playlists_{i}"), &p.title, &links.url(&format!("playlist/{}", p.id))))
        .collect();
    nodes.push(("my_playlists", "Your Playlists", items));

    let items = cat
        .top_playlists(0, NODE_ITEMS)
        .items
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let p = &cat[p];
            d.link(&format!("popular_playlists_{i}"), &p.title, &links.url(&format!("playlist/{}", p.id)))
        })
        .collect();
    nodes.push(("popular_playlists", "Popular Playlists", items));

    let items = cat
        .new_releases(0, NODE_ITEMS)
        .items
        .iter()
        .enumerate()
        .map(|(i, &a)| album_link(&mut d, cat, links, &format!("new_releases_{i}"), a))
        .collect();
    nodes.push(("new_releases", "New Releases", items));

    let items = Genre::all()
        .enumerate()
        .map(|(i, g)| d.link(&format!("stations_{i}"), &station_title(g), &links.url(&format!("station/{}", g.id()))))
        .collect();
    nodes.push(("stations", "Stations", items));

    let items = Genre::all()
        .enumerate()
        .map(|(i, g)| d.link(&format!("genres_{i}"), g.name(), &links.url(&format!("nav/genre/{}", g.id()))))
        .collect();
    nodes.push(("genres", "Genres", items));

    let mut root_items = Vec::new();
    for (i, (name, title, items)) in nodes.into_iter().enumerate() {
        let summary = d.node(name, title, items);
        root_items.push(d.item(&format!("root_{i}"), title, &summary));
    }
    d.node("root", "Amazon Music", root_items);
    d.json()
}

/// A genre's node: its station, then the albums of its most popular tracks ([`genre_albums`]).
pub fn genre(cat: &Catalog, links: &Links, g: Genre) -> Value {
    let mut d = Doc::new("genre");
    let mut items = vec![d.link("genre_station", &station_title(g), &links.url(&format!("station/{}", g.id())))];
    for (i, a) in genre_albums(cat, g).into_iter().enumerate() {
        items.push(album_link(&mut d, cat, links, &format!("genre_album_{i}"), a));
    }
    d.node("genre", g.name(), items);
    d.json()
}

/// The first [`NODE_ITEMS`] albums of a genre's 500 most popular tracks, in the order their tracks rank.
pub fn genre_albums(cat: &Catalog, g: Genre) -> Vec<AlbumIdx> {
    let tracks = cat.search_tracks(&[SearchFilter::field(TrackField::CategoryId, g.id())], SortBy::Popularity, 0, 500);
    let mut albums = Vec::new();
    for t in tracks.items {
        let a = cat[t].album;
        if !albums.contains(&a) {
            albums.push(a);
            if albums.len() == NODE_ITEMS {
                break;
            }
        }
    }
    albums
}

/// An artist's node: the artist's albums, newest first.
pub fn artist(cat: &Catalog, links: &Links, a: &Artist) -> Value {
    let mut d = Doc::new("artist");
    let items = cat
        .artist_albums(a.idx)
        .iter()
        .enumerate()
        .map(|(i, &al)| album_link(&mut d, cat, links, &format!("artist_album_{i}"), al))
        .collect();
    d.node("artist", &a.name, items);
    d.json()
}

/// A genre's station as its items and containers name it.
pub fn station_title(g: Genre) -> String {
    format!("{} Station", g.name())
}

fn album_link(d: &mut Doc, cat: &Catalog, links: &Links, name: &str, a: AlbumIdx) -> String {
    let a = &cat[a];
    d.link(name, &a.title, &links.url(&format!("album/{}", a.id)))
}
