//! V1 JSON views of catalog entities (spec §3.4), with keys in the order of the doc examples, plus the public
//! URLs of §3.1 and the view entities of §3.4 "View (V1)" used by `GET /v1/search` and the views endpoints.
//!
//! Values the docs do not show are mock choices (🔶): the territory and market are the US; eligibility flags
//! are derived from the id (about 70% Prime-eligible, 90% purchasable); images are one 500×500 cover per album
//! (artists: a profile and a background image) with ids derived from the entity id.

use serde_json::{Value, json};

use super::Catalog;
use super::EntityRef;
use super::ids::{Asin, image_id, splitmix};
use super::model::{Album, Artist, AudioQualities, CatalogPlaylist, PlaylistTier, PodcastEpisode, PodcastShow, Track};
use super::search::SearchAll;

/// Base of every public web URL.
const WEB: &str = "https://music.amazon.com";
/// Base of every image URL.
const IMAGES: &str = "https://m.media-amazon.com/images/I/";

/// `https://music.amazon.com/albums/<asin>`.
pub fn album_url(album: Asin) -> String {
    format!("{WEB}/albums/{album}")
}

/// `https://music.amazon.com/artists/<asin>`.
pub fn artist_url(artist: Asin) -> String {
    format!("{WEB}/artists/{artist}")
}

/// `https://music.amazon.com/albums/<albumAsin>/?trackAsin=<asin>&do=play`.
pub fn track_url(album: Asin, track: Asin) -> String {
    format!("{WEB}/albums/{album}/?trackAsin={track}&do=play")
}

/// `https://music.amazon.com/playlists/<asin>` (🔶: §3.1 shows only the user-playlist form `/my/playlists/<uuid>`).
pub fn playlist_url(playlist: Asin) -> String {
    format!("{WEB}/playlists/{playlist}")
}

/// `https://music.amazon.com/podcasts/<show>` (🔶).
pub fn podcast_show_url(show: uuid::Uuid) -> String {
    format!("{WEB}/podcasts/{show}")
}

/// `https://music.amazon.com/podcasts/<show>/episodes/<episode>`.
pub fn podcast_episode_url(show: uuid::Uuid, episode: uuid::Uuid) -> String {
    format!("{WEB}/podcasts/{show}/episodes/{episode}")
}

/// `mrn:1.0:catalog:<kind>:asin:<id>` (§11.1; podcasts use the same form with their UUID).
pub fn play_params_id(kind: &str, id: &str) -> String {
    format!("mrn:1.0:catalog:{kind}:asin:{id}")
}

fn image_url(hash: u64) -> String {
    format!("{IMAGES}{}.jpg", image_id(hash))
}

fn qualities_json(q: AudioQualities) -> Value {
    Value::from(q.names().collect::<Vec<_>>())
}

fn us_territory() -> Value {
    json!({ "code": "US", "territoryName": "United States" })
}

fn us_market() -> Value {
    json!({ "id": "US", "name": "United States" })
}

/// Eligibility flags derived from the album id, shared by an album and its tracks.
fn eligibility(album: Asin) -> Value {
    let h = album.mix(0xE1);
    json!({
        "isDownloadable": true,
        "isPurchaseable": h % 10 != 0,
        "isPreviewable": true,
        "isPrimeEligible": (h >> 8) % 10 < 7,
    })
}

fn uuid_hash(u: uuid::Uuid) -> u64 {
    let (a, b) = u.as_u64_pair();
    splitmix(a ^ splitmix(b))
}

impl Catalog {
    fn album_asin(&self, t: &Track) -> Asin {
        self.albums.get(t.album.get()).map_or(t.id, |a| a.id)
    }

    /// `{id, title, url}` of a track.
    pub fn track_ref_json(&self, t: &Track) -> Value {
        json!({ "id": t.id.as_str(), "title": &*t.title, "url": track_url(self.album_asin(t), t.id) })
    }

    /// `{id, title, url}` of an album.
    pub fn album_ref_json(&self, a: &Album) -> Value {
        json!({ "id": a.id.as_str(), "title": &*a.title, "url": album_url(a.id) })
    }

    /// `{id, name, url}` of an artist.
    pub fn artist_ref_json(&self, a: &Artist) -> Value {
        json!({ "id": a.id.as_str(), "name": &*a.name, "url": artist_url(a.id) })
    }

    /// `{id, title, url}` of a podcast episode.
    pub fn podcast_episode_ref_json(&self, e: &PodcastEpisode) -> Value {
        let show = self.shows.get(e.show.get()).map_or(e.id, |s| s.id);
        json!({ "id": e.id.to_string(), "title": &*e.title, "url": podcast_episode_url(show, e.id) })
    }

    /// A track in the V1 shape of `GET /v1/tracks/{id}` (`data.track`).
    pub fn track_json(&self, t: &Track) -> Value {
        let album = self.albums.get(t.album.get());
        let artists: Vec<Value> =
            t.artists().filter_map(|a| self.artists.get(a.get())).map(|a| self.artist_ref_json(a)).collect();
        json!({
            "id": t.id.as_str(),
            "audioQualities": qualities_json(t.audio_qualities),
            "globalAsin": t.id.as_str(),
            "title": &*t.title,
            "shortTitle": t.short_title(),
            "duration": t.duration,
            "album": album.map_or(Value::Null, |a| self.album_ref_json(a)),
            "releaseDate": t.release_date.to_iso(),
            "isrc": t.isrc.as_str(),
            "artists": artists,
            "musicTerritory": us_territory(),
            "market": us_market(),
            "eligibility": eligibility(self.album_asin(t)),
        })
    }

    /// An album in the V1 shape of `GET /v1/albums/{id}` (`data.album`), with all its tracks as refs.
    pub fn album_json(&self, a: &Album) -> Value {
        let tracks: Vec<&Track> = self.album_tracks(a.idx).iter().filter_map(|t| self.tracks.get(t.get())).collect();
        let qualities = tracks.iter().fold(AudioQualities::SD, |q, t| q.with(t.audio_qualities));
        let duration: u64 = tracks.iter().map(|t| u64::from(t.duration)).sum();
        let explicit = tracks.iter().any(|t| t.explicit);
        let artists: Vec<Value> =
            self.artists.get(a.artist.get()).map(|ar| self.artist_ref_json(ar)).into_iter().collect();
        json!({
            "id": a.id.as_str(),
            "audioQualities": qualities_json(qualities),
            "globalAsin": a.id.as_str(),
            "title": &*a.title,
            "shortTitle": a.short_title(),
            "duration": duration,
            "url": album_url(a.id),
            "releaseDate": a.release_date.to_iso(),
            "availableMarkets": [us_market()],
            "artists": artists,
            "eligibility": eligibility(a.id),
            "parentalSettings": { "isKidFriendly": !explicit, "hasExplicitLanguage": explicit },
            "tracks": tracks.iter().map(|t| self.track_ref_json(t)).collect::<Vec<_>>(),
            "trackCount": tracks.len(),
            "images": [{ "height": 500, "width": 500, "url": image_url(a.id.mix(1)) }],
        })
    }

    /// An artist in the V1 shape of `GET /v1/artists/{id}` (`data.artist`).
    pub fn artist_json(&self, a: &Artist) -> Value {
        json!({
            "id": a.id.as_str(),
            "globalAsin": a.id.as_str(),
            "name": &*a.name,
            "url": artist_url(a.id),
            "images": [
                { "height": 500, "width": 500, "url": image_url(a.id.mix(2)), "imageType": "PROFILE" },
                { "height": 720, "width": 1920, "url": image_url(a.id.mix(3)), "imageType": "BACKGROUND" },
            ],
        })
    }

    /// A curated playlist in the V1 Playlist shape (§3.4); `visibility` is always `PUBLIC`. `description` (after
    /// `title`) is not in the doc's example: the mock adds it to every playlist, catalog and customer-owned alike,
    /// so that both kinds have one shape and a description written with `PUT /v1/playlists/{id}` can be read back.
    pub fn playlist_json(&self, p: &CatalogPlaylist) -> Value {
        let duration: u64 =
            p.tracks.iter().filter_map(|t| self.tracks.get(t.get())).map(|t| u64::from(t.duration)).sum();
        let tiers: &[&str] = match p.tier {
            PlaylistTier::Prime => &["PRIME", "UNLIMITED"],
            PlaylistTier::Unlimited => &["UNLIMITED"],
        };
        json!({
            "id": p.id.as_str(),
            "curator": { "id": &*p.curator },
            "duration": duration,
            "images": [{ "url": image_url(p.id.mix(4)), "imageType": "PRIMARY" }],
            "eligibility": {
                "playback": { "canPlayOnDemand": true, "shuffleType": "INLINE" },
                "playbackSubscriptionTiers": tiers,
                "isDownloadable": true,
                "isPurchaseable": false,
                "isPreviewable": true,
                "isPrimeEligible": p.tier == PlaylistTier::Prime,
            },
            "title": &*p.title,
            "description": &*p.description,
            "trackCount": p.tracks.len(),
            "url": playlist_url(p.id),
            "visibility": "PUBLIC",
        })
    }

    /// A podcast show in the V1 shape of `GET /v1/podcasts/shows/{id}` (`data.podcastShow`). `episodes` is the
    /// caller's page object (`{pageInfo, edgeCount, edges[{cursor, node}]}`), since cursors belong to the web
    /// layer; build its nodes with [`Catalog::podcast_episode_json`].
    pub fn podcast_show_json(&self, s: &PodcastShow, episodes: Value) -> Value {
        json!({ "id": s.id.to_string(), "title": &*s.title, "description": &*s.description, "episodes": episodes })
    }

    /// An episode node: `{id, title, url}` as documented, plus `duration` and `releaseDate` (🔶: the doc's `…`).
    pub fn podcast_episode_json(&self, e: &PodcastEpisode) -> Value {
        let show = self.shows.get(e.show.get()).map_or(e.id, |s| s.id);
        json!({
            "id": e.id.to_string(),
            "title": &*e.title,
            "url": podcast_episode_url(show, e.id),
            "duration": e.duration,
            "releaseDate": e.release_date.to_iso(),
        })
    }

    /// An entity as the V1 views show it: `{_type, id, title | name, artists[{id,name}]?, images[{url}],
    /// playParams{id}}` (§3.4 "View (V1)"); `None` for an index this catalog does not have.
    pub fn view_entity_json(&self, e: EntityRef) -> Option<Value> {
        let artists = |ids: &mut dyn Iterator<Item = super::ArtistIdx>| -> Vec<Value> {
            ids.filter_map(|a| self.artists.get(a.get()))
                .map(|a| json!({ "id": a.id.as_str(), "name": &*a.name }))
                .collect()
        };
        Some(match e {
            EntityRef::Track(i) => {
                let t = self.tracks.get(i.get())?;
                json!({
                    "_type": "Track",
                    "id": t.id.as_str(),
                    "title": &*t.title,
                    "artists": artists(&mut t.artists()),
                    "images": [{ "url": image_url(self.album_asin(t).mix(1)) }],
                    "playParams": { "id": play_params_id("track", t.id.as_str()) },
                })
            }
            EntityRef::Album(i) => {
                let a = self.albums.get(i.get())?;
                json!({
                    "_type": "Album",
                    "id": a.id.as_str(),
                    "title": &*a.title,
                    "artists": artists(&mut std::iter::once(a.artist)),
                    "images": [{ "url": image_url(a.id.mix(1)) }],
                    "playParams": { "id": play_params_id("album", a.id.as_str()) },
                })
            }
            EntityRef::Artist(i) => {
                let a = self.artists.get(i.get())?;
                json!({
                    "_type": "Artist",
                    "id": a.id.as_str(),
                    "name": &*a.name,
                    "images": [{ "url": image_url(a.id.mix(2)) }],
                    "playParams": { "id": play_params_id("artist", a.id.as_str()) },
                })
            }
            EntityRef::Playlist(i) => {
                let p = self.playlists.get(i.get())?;
                json!({
                    "_type": "Playlist",
                    "id": p.id.as_str(),
                    "title": &*p.title,
                    "images": [{ "url": image_url(p.id.mix(4)) }],
                    "playParams": { "id": play_params_id("playlist", p.id.as_str()) },
                })
            }
            EntityRef::PodcastShow(i) => {
                let s = self.shows.get(i.get())?;
                let id = s.id.to_string();
                json!({
                    "_type": "PodcastShow",
                    "id": &id,
                    "title": &*s.title,
                    "images": [{ "url": image_url(uuid_hash(s.id)) }],
                    "playParams": { "id": play_params_id("podcastShow", &id) },
                })
            }
            EntityRef::PodcastEpisode(i) => {
                let ep = self.episodes.get(i.get())?;
                let show = self.shows.get(ep.show.get())?;
                let id = ep.id.to_string();
                json!({
                    "_type": "PodcastEpisode",
                    "id": &id,
                    "title": &*ep.title,
                    "images": [{ "url": image_url(uuid_hash(show.id)) }],
                    "playParams": { "id": play_params_id("podcastEpisode", &id) },
                })
            }
        })
    }

    /// The `GET /v1/search` view for `data: [ … ]`: `{_type:"View", id:"catalog", title:"Catalog Data",
    /// content{_type:"ViewContent", nextPageToken, entityGroups[…]}}`. The first group is always "Top hits";
    /// other groups appear only when they have results. `nextPageToken`s are `null`.
    pub fn search_view_json(&self, r: &SearchAll) -> Value {
        self.search_view_json_paged(r, &|_| None)
    }

    /// [`Catalog::search_view_json`] with each group's `content.nextPageToken` from `next_token(group id)`
    /// (group ids: `topHits`, `tracks`, `albums`, `artists`, `playlists`, `podcastShows`, `podcastEpisodes`).
    pub fn search_view_json_paged(&self, r: &SearchAll, next_token: &dyn Fn(&str) -> Option<String>) -> Value {
        let mut groups = vec![self.entity_group_json("topHits", "Top hits", &r.top_hits, next_token("topHits"))];
        for (id, title, items) in search_groups(r) {
            if !items.is_empty() {
                groups.push(self.entity_group_json(id, title, &items, next_token(id)));
            }
        }
        json!({
            "_type": "View",
            "id": "catalog",
            "title": "Catalog Data",
            "content": { "_type": "ViewContent", "nextPageToken": null, "entityGroups": groups },
        })
    }
}

impl Catalog {
    /// A view group: `{_type:"EntityGroup", id, title, viewType:"LIST", content{_type:"EntityGroupContent",
    /// nextPageToken, entities[…]}}` with the entities in the views' form ([`Catalog::view_entity_json`]).
    pub fn entity_group_json(
        &self,
        id: &str,
        title: &str,
        entities: &[EntityRef],
        next_page_token: Option<String>,
    ) -> Value {
        let entities: Vec<Value> = entities.iter().filter_map(|&e| self.view_entity_json(e)).collect();
        json!({
            "_type": "EntityGroup",
            "id": id,
            "title": title,
            "viewType": "LIST",
            "content": { "_type": "EntityGroupContent", "nextPageToken": next_page_token, "entities": entities },
        })
    }
}

/// The per-type groups of a search view after "Top hits": `(id, title, entities)`.
fn search_groups(r: &SearchAll) -> [(&'static str, &'static str, Vec<EntityRef>); 6] {
    [
        ("tracks", "Songs", r.tracks.iter().map(|&i| EntityRef::Track(i)).collect()),
        ("albums", "Albums", r.albums.iter().map(|&i| EntityRef::Album(i)).collect()),
        ("artists", "Artists", r.artists.iter().map(|&i| EntityRef::Artist(i)).collect()),
        ("playlists", "Playlists", r.playlists.iter().map(|&i| EntityRef::Playlist(i)).collect()),
        ("podcastShows", "Podcasts", r.podcast_shows.iter().map(|&i| EntityRef::PodcastShow(i)).collect()),
        ("podcastEpisodes", "Episodes", r.podcast_episodes.iter().map(|&i| EntityRef::PodcastEpisode(i)).collect()),
    ]
}
