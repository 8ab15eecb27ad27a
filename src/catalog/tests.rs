//! Unit tests of the catalog as a whole: determinism, id formats, shape of the default catalog, relations,
//! JSON shapes, extensions, and search checked against a brute-force reference implementation.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::text::distinct_tokens;
use super::*;

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().expect("object").keys().map(String::as_str).collect()
}

fn is_generated_asin(s: &str) -> bool {
    s.len() == 10 && s.starts_with("B0") && s[2..].bytes().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

#[test]
fn same_seed_gives_the_same_catalog() {
    let a = Catalog::generate(7, 3000);
    let b = Catalog::generate(7, 3000);
    assert_eq!(a.artists, b.artists);
    assert_eq!(a.albums, b.albums);
    assert_eq!(a.tracks, b.tracks);
    assert_eq!(a.playlists, b.playlists);
    assert_eq!(a.shows, b.shows);
    assert_eq!(a.episodes, b.episodes);
    let q = [SearchFilter::any("love")];
    assert_eq!(a.search_tracks(&q, SortBy::Relevance, 0, 50), b.search_tracks(&q, SortBy::Relevance, 0, 50));
    assert_eq!(a.album_json(&a.albums[3]), b.album_json(&b.albums[3]));
    let c = Catalog::generate(8, 3000);
    assert_ne!(a.tracks[0].id, c.tracks[0].id);
}

#[test]
fn tiny_catalogs_are_valid() {
    for n in [0, 1, 5, 11, 79] {
        let cat = Catalog::generate(n as u64, n);
        assert_eq!(cat.tracks().len(), n);
        assert!(cat.podcast_shows().len() >= 3);
        for t in cat.tracks() {
            assert!(cat.album_tracks(t.album).contains(&t.idx));
        }
        let page = cat.search_tracks(&[SearchFilter::any("the")], SortBy::Relevance, 0, 10);
        assert!(page.items.len() <= page.total);
        let _ = cat.search_all("the", 10);
    }
}

#[test]
fn catalog_can_be_shared_between_threads() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<Catalog>();
}

#[test]
fn ids_have_the_documented_formats_and_are_unique() {
    let cat = Catalog::generate(1, 5000);
    let mut seen = HashSet::new();
    let asins = cat
        .artists
        .iter()
        .map(|a| a.id)
        .chain(cat.albums.iter().map(|a| a.id))
        .chain(cat.tracks.iter().map(|t| t.id))
        .chain(cat.playlists.iter().map(|p| p.id));
    for id in asins {
        assert!(is_generated_asin(id.as_str()), "{id}");
        assert!(seen.insert(id), "duplicate {id}");
    }
    let mut uuids = HashSet::new();
    for u in cat.shows.iter().map(|s| s.id).chain(cat.episodes.iter().map(|e| e.id)) {
        assert_eq!(u.get_version_num(), 4);
        assert!(uuids.insert(u));
    }
    let mut isrcs = HashSet::new();
    for t in &cat.tracks {
        let s = t.isrc.as_str();
        assert_eq!(s.len(), 12);
        assert!(s[..2].bytes().all(|c| c.is_ascii_uppercase()), "{s}");
        assert!(s[2..5].bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()), "{s}");
        assert!(s[5..].bytes().all(|c| c.is_ascii_digit()), "{s}");
        assert!(isrcs.insert(t.isrc), "duplicate ISRC {s}");
        assert_eq!(cat.track_by_isrc(s), [t.idx]);
    }
    for p in &cat.playlists {
        assert_eq!(p.curator.len(), 26);
    }
}

#[test]
fn default_catalog_has_the_promised_shape() {
    let cat = Catalog::generate(42, 800);
    assert_eq!(cat.tracks().len(), 800);
    assert!(cat.albums().len() >= 80, "{}", cat.albums().len());
    assert!(cat.artists().len() >= 30, "{}", cat.artists().len());
    assert!(cat.playlists().len() >= 5);
    assert!(cat.podcast_shows().len() >= 3);
    for s in cat.podcast_shows() {
        assert!(cat.show_episodes(s.idx).len() >= 5);
    }
    for p in cat.playlists() {
        assert!(p.tracks.len() >= 15);
        assert!(p.tracks.iter().all(|t| t.get() < cat.tracks().len()));
        assert_eq!(p.tracks.iter().collect::<HashSet<_>>().len(), p.tracks.len(), "no duplicates");
    }
    for a in cat.artists() {
        assert!(!cat.artist_albums(a.idx).is_empty(), "every artist has an album");
    }
}

#[test]
fn relations_are_consistent() {
    let cat = Catalog::generate(3, 4000);
    for t in cat.tracks() {
        let album = &cat[t.album];
        assert!(cat.album_tracks(album.idx).contains(&t.idx));
        assert_eq!(t.primary_artist(), album.artist);
        for a in t.artists() {
            assert!(a.get() < cat.artists().len());
            assert!(cat.artist_tracks(a).contains(&t.idx));
        }
        assert_eq!(cat.lookup(t.id.as_str()), Some(EntityRef::Track(t.idx)));
        assert_eq!(cat.track(t.id.as_str()).map(|x| x.idx), Some(t.idx));
        assert!(cat.album(t.id.as_str()).is_none());
    }
    let credited: usize = cat.artists().iter().map(|a| cat.artist_tracks(a.idx).len()).sum();
    assert_eq!(credited, cat.tracks().iter().map(|t| t.artists().count()).sum::<usize>());
    for a in cat.albums() {
        let nums: Vec<u16> = cat.album_tracks(a.idx).iter().map(|&t| cat[t].track_number).collect();
        assert_eq!(nums, (1..=nums.len() as u16).collect::<Vec<_>>());
        assert!(cat.artist_albums(a.artist).contains(&a.idx));
    }
    for e in cat.podcast_episodes() {
        assert!(cat.show_episodes(e.show).contains(&e.idx));
        let id = e.id.to_string();
        assert_eq!(cat.podcast_episode(&id).map(|x| x.idx), Some(e.idx));
        assert_eq!(cat.podcast_episode(&id.to_uppercase()).map(|x| x.idx), Some(e.idx));
    }
    let a = &cat.artists()[5];
    let related = cat.related_artists(a.idx, 10);
    assert!(!related.contains(&a.idx));
    assert!(related.iter().all(|&r| cat[r].genre == a.genre));
    assert_eq!(related, cat.related_artists(a.idx, 10));
    assert_eq!(related.iter().collect::<HashSet<_>>().len(), related.len());
    assert!(cat.lookup(Asin::UNKNOWN.as_str()).is_none());
    assert!(cat.lookup("not an id").is_none());
}

#[test]
fn the_reserved_id_is_in_no_generated_catalog() {
    // The tests use B000000000 as "a well-formed id that does not exist"; the generator reserves it.
    assert_eq!(Asin::UNKNOWN.as_str(), "B000000000");
    let sizes = (0..8).map(|seed| (seed, 800)).chain([(3, 20_000), (u64::MAX, 1)]);
    for (seed, tracks) in sizes {
        let cat = Catalog::generate(seed, tracks);
        assert!(cat.lookup("B000000000").is_none(), "seed {seed}, {tracks} tracks");
        let mut ids = cat.tracks().iter().map(|t| t.id).chain(cat.albums().iter().map(|a| a.id));
        assert!(ids.all(|id| id != Asin::UNKNOWN));
        let mut ids = cat.artists().iter().map(|a| a.id).chain(cat.playlists().iter().map(|p| p.id));
        assert!(ids.all(|id| id != Asin::UNKNOWN));
    }
}

#[test]
fn generated_values_follow_the_distributions() {
    let cat = Catalog::generate(11, 20_000);
    let n = cat.tracks().len() as f64;
    let share = |f: &dyn Fn(&Track) -> bool| cat.tracks().iter().filter(|t| f(t)).count() as f64 / n;
    assert!(cat.tracks().iter().all(|t| (120..=420).contains(&t.duration)));
    assert!(cat.tracks().iter().all(|t| t.audio_qualities.contains(AudioQualities::SD)));
    let hd = share(&|t| t.audio_qualities.contains(AudioQualities::HD));
    let uhd = share(&|t| t.audio_qualities.contains(AudioQualities::UHD));
    let spatial = share(&|t| {
        t.audio_qualities.contains(AudioQualities::ATMOS) || t.audio_qualities.contains(AudioQualities::RA360)
    });
    let explicit = share(&|t| t.explicit);
    assert!((0.5..0.7).contains(&hd), "HD {hd}");
    assert!((0.22..0.38).contains(&uhd), "UHD {uhd}");
    assert!((0.05..0.15).contains(&spatial), "spatial {spatial}");
    assert!((0.12..0.18).contains(&explicit), "explicit {explicit}");
    let years: Vec<i32> = cat.albums().iter().map(|a| a.release_date.year()).collect();
    assert!(years.iter().all(|y| (1960..=2025).contains(y)));
    assert!(years.iter().any(|&y| y < 1980) && years.iter().any(|&y| y >= 2015));
    assert!(cat.tracks().iter().any(|t| t.short_title() != &*t.title));
}

#[test]
fn json_views_have_the_v1_shapes() {
    let cat = Catalog::generate(42, 800);
    let t = cat.tracks().iter().find(|t| t.artists().count() > 1).expect("some featured track");
    let j = cat.track_json(t);
    assert_eq!(
        keys(&j),
        [
            "id",
            "audioQualities",
            "globalAsin",
            "title",
            "shortTitle",
            "duration",
            "album",
            "releaseDate",
            "isrc",
            "artists",
            "musicTerritory",
            "market",
            "eligibility"
        ]
    );
    assert_eq!(j["globalAsin"], j["id"]);
    assert_eq!(j["audioQualities"][0], "SD");
    assert_eq!(j["artists"].as_array().map(Vec::len), Some(2));
    assert_eq!(keys(&j["artists"][0]), ["id", "name", "url"]);
    assert_eq!(keys(&j["album"]), ["id", "title", "url"]);
    let album = &cat[t.album];
    assert_eq!(j["album"]["url"], format!("https://music.amazon.com/albums/{}", album.id));
    let date = j["releaseDate"].as_str().expect("string");
    assert!(date.len() == 24 && date.ends_with("T04:00:00.000Z"), "{date}");
    assert_eq!(keys(&j["musicTerritory"]), ["code", "territoryName"]);
    assert_eq!(keys(&j["market"]), ["id", "name"]);
    assert_eq!(keys(&j["eligibility"]), ["isDownloadable", "isPurchaseable", "isPreviewable", "isPrimeEligible"]);
    assert_eq!(
        cat.track_ref_json(t)["url"],
        format!("https://music.amazon.com/albums/{}/?trackAsin={}&do=play", album.id, t.id)
    );

    let a = cat.album_json(album);
    assert_eq!(
        keys(&a),
        [
            "id",
            "audioQualities",
            "globalAsin",
            "title",
            "shortTitle",
            "duration",
            "url",
            "releaseDate",
            "availableMarkets",
            "artists",
            "eligibility",
            "parentalSettings",
            "tracks",
            "trackCount",
            "images"
        ]
    );
    assert_eq!(a["trackCount"], cat.album_tracks(album.idx).len());
    assert_eq!(a["tracks"].as_array().map(Vec::len), Some(cat.album_tracks(album.idx).len()));
    assert_eq!(keys(&a["parentalSettings"]), ["isKidFriendly", "hasExplicitLanguage"]);
    assert_eq!(keys(&a["images"][0]), ["height", "width", "url"]);
    let img = a["images"][0]["url"].as_str().expect("url");
    assert!(img.starts_with("https://m.media-amazon.com/images/I/") && img.ends_with(".jpg"));

    let ar = cat.artist_json(&cat[album.artist]);
    assert_eq!(keys(&ar), ["id", "globalAsin", "name", "url", "images"]);
    assert_eq!(keys(&ar["images"][0]), ["height", "width", "url", "imageType"]);
    assert_eq!(ar["url"], format!("https://music.amazon.com/artists/{}", cat[album.artist].id));

    let p = cat.playlist_json(&cat.playlists()[0]);
    assert_eq!(
        keys(&p),
        [
            "id",
            "curator",
            "duration",
            "images",
            "eligibility",
            "title",
            "description",
            "trackCount",
            "url",
            "visibility"
        ]
    );
    assert_eq!(
        keys(&p["eligibility"]),
        [
            "playback",
            "playbackSubscriptionTiers",
            "isDownloadable",
            "isPurchaseable",
            "isPreviewable",
            "isPrimeEligible"
        ]
    );
    assert_eq!(keys(&p["images"][0]), ["url", "imageType"]);

    let show = &cat.podcast_shows()[0];
    let ep = &cat[cat.show_episodes(show.idx)[0]];
    let page = serde_json::json!({"pageInfo": {"hasNextPage": false}, "edgeCount": 1,
        "edges": [{"cursor": "x", "node": cat.podcast_episode_json(ep)}]});
    let s = cat.podcast_show_json(show, page);
    assert_eq!(keys(&s), ["id", "title", "description", "episodes"]);
    assert_eq!(
        s["episodes"]["edges"][0]["node"]["url"],
        format!("https://music.amazon.com/podcasts/{}/episodes/{}", show.id, ep.id)
    );
    assert!(s["description"].as_str().is_some_and(|d| d.starts_with("<p>")));

    let v = cat.view_entity_json(EntityRef::Album(album.idx)).expect("album");
    assert_eq!(keys(&v), ["_type", "id", "title", "artists", "images", "playParams"]);
    assert_eq!(v["playParams"]["id"], format!("mrn:1.0:catalog:album:asin:{}", album.id));
    assert_eq!(keys(&v["artists"][0]), ["id", "name"]);
}

#[test]
fn search_view_starts_with_top_hits() {
    let cat = Catalog::generate(42, 800);
    let artist = &cat.artists()[0];
    let r = cat.search_all(&artist.name, 10);
    assert_eq!(r.top_hits.first(), Some(&EntityRef::Artist(artist.idx)), "exact artist name is the top hit");
    assert!(r.top_hits.len() <= 10);
    let v = cat.search_view_json(&r);
    assert_eq!(keys(&v), ["_type", "id", "title", "content"]);
    assert_eq!(v["content"]["entityGroups"][0]["title"], "Top hits");
    assert_eq!(keys(&v["content"]["entityGroups"][0]["content"]), ["_type", "nextPageToken", "entities"]);
    assert!(cat.search_all("zzzzqqq", 10).top_hits.is_empty());
}

#[test]
fn generating_with_an_extension_builds_the_same_catalog_as_generating_then_extending() {
    let mut two_steps = Catalog::generate(7, 800);
    let existing_album = two_steps.albums()[3].id;
    let doc = format!(
        r#"{{"artists": [{{"id": "B0FIXART01", "name": "Quokka Parade"}}],
            "albums": [{{"id": "B0FIXALB01", "title": "Marsupial", "artistId": "B0FIXART01", "releaseDate": "2017-11-10"}}],
            "tracks": [{{"id": "B0FIXTRK01", "title": "Hop Along", "albumId": "{existing_album}", "duration": 215,
                         "isrc": "USAB21700123", "popularity": 999999}}]}}"#
    );
    two_steps.extend_from_json(&doc).expect("valid extension");
    let ext: CatalogExtension = serde_json::from_str(&doc).expect("valid extension");
    let one_step = Catalog::generate_extended(7, 800, ext).expect("valid extension");
    let json = |c: &Catalog| -> Vec<serde_json::Value> { c.tracks().iter().map(|t| c.track_json(t)).collect() };
    assert_eq!(json(&one_step), json(&two_steps));
    let album = one_step.album(existing_album.as_str()).expect("generated album").idx;
    assert_eq!(one_step.album_tracks(album), two_steps.album_tracks(album));
    for q in ["hop", "s", "quokka", "lov"] {
        let page = |c: &Catalog| c.search_tracks(&[SearchFilter::any(q)], SortBy::Relevance, 0, 20);
        assert_eq!(page(&one_step), page(&two_steps), "{q}");
        assert_eq!(one_step.search_all(q, 5), two_steps.search_all(q, 5), "{q}");
    }
    assert_eq!(one_step.search_tracks(&[SearchFilter::any("hop along")], SortBy::Relevance, 0, 1).items.len(), 1);
    let bad: CatalogExtension = serde_json::from_str(
        r#"{"albums":[{"id":"B0FIXALB02","title":"x","artistId":"B0NOSUCH00","releaseDate":"2017-11-10"}]}"#,
    )
    .expect("parses");
    assert!(matches!(
        Catalog::generate_extended(7, 800, bad),
        Err(CatalogError::Invalid { at, .. }) if at == "albums[0].artistId"
    ));
}

#[test]
fn extension_adds_searchable_entities_and_rejects_bad_input() {
    let mut cat = Catalog::generate(42, 800);
    let before = (cat.artists().len(), cat.albums().len(), cat.tracks().len());
    let existing_album = cat.albums()[0].id;
    let doc = format!(
        r#"{{
        "artists": [{{"id": "B0FIXART01", "name": "Quokka Parade", "genre": "indie"}}],
        "albums": [{{"id": "B0FIXALB01", "title": "Marsupial Sunrise", "artistId": "B0FIXART01",
                     "releaseDate": "2017-11-10"}}],
        "tracks": [
          {{"id": "B0FIXTRK01", "title": "Hop Along", "albumId": "B0FIXALB01", "duration": 215,
            "isrc": "US-AB2-17-00123", "audioQualities": ["HD", "360RA"], "explicit": true}},
          {{"id": "B0FIXTRK02", "title": "Bonus Hop", "albumId": "{existing_album}", "duration": 200,
            "isrc": "USAB21700124", "artistIds": ["B0FIXART01"]}}
        ],
        "playlists": [{{"id": "B0FIXPLS01", "title": "Quokka Mix", "trackIds": ["B0FIXTRK01", "B0FIXTRK02"]}}]
    }}"#
    );
    let summary = cat.extend_from_json(&doc).expect("valid extension");
    assert_eq!(summary, ExtendSummary { artists: 1, albums: 1, tracks: 2, playlists: 1 });
    assert_eq!(
        (cat.artists().len(), cat.albums().len(), cat.tracks().len()),
        (before.0 + 1, before.1 + 1, before.2 + 2)
    );
    let t = cat.track("B0FIXTRK01").expect("added");
    assert_eq!(t.track_number, 1);
    assert_eq!(cat.track_json(t)["audioQualities"], serde_json::json!(["SD", "HD", "360RA"]));
    assert_eq!(cat.track_json(t)["releaseDate"], "2017-11-10T04:00:00.000Z");
    let page = cat.search_tracks(&[SearchFilter::any("quokka hop")], SortBy::Relevance, 0, 10);
    assert_eq!(page.total, 2);
    let bonus = cat.track("B0FIXTRK02").expect("added");
    assert_eq!(usize::from(bonus.track_number), cat.album_tracks(bonus.album).len());
    let by_isrc = cat.search_tracks(&[SearchFilter::field(TrackField::Isrc, "USAB21700123")], SortBy::Name, 0, 5);
    assert_eq!(by_isrc.items, [t.idx]);
    assert_eq!(cat.search_artists("quokka", 0, 5).total, 1);
    assert_eq!(cat.playlist("B0FIXPLS01").map(|p| p.tracks.len()), Some(2));

    let n = cat.tracks().len();
    let bad = [
        (r#"{"artists":[{"id":"B0fixart02","name":"x"}]}"#, "artists[0].id"),
        (r#"{"artists":[{"id":"B0FIXART01","name":"dup"}]}"#, "artists[0].id"),
        (
            r#"{"albums":[{"id":"B0FIXALB02","title":"x","artistId":"B0NOSUCH00","releaseDate":"2017-11-10"}]}"#,
            "albums[0].artistId",
        ),
        (
            r#"{"tracks":[{"id":"B0FIXTRK09","title":"x","albumId":"B0FIXALB01","duration":1,"isrc":"nope"}]}"#,
            "tracks[0].isrc",
        ),
        (
            r#"{"tracks":[{"id":"B0FIXTRK09","title":"x","albumId":"B0FIXALB01","duration":0,"isrc":"USAB21700125"}]}"#,
            "tracks[0].duration",
        ),
        (r#"{"artists":[{"id":"B0FIXART03","name":"x","genre":"polka"}]}"#, "artists[0].genre"),
        (r#"{"playlists":[{"id":"B0FIXPLS02","title":"x","trackIds":["B0NOSUCH00"]}]}"#, "playlists[0].trackIds[0]"),
    ];
    for (doc, at) in bad {
        match cat.extend_from_json(doc) {
            Err(CatalogError::Invalid { at: got, .. }) => assert_eq!(got, at, "{doc}"),
            other => panic!("{doc}: expected Invalid at {at}, got {other:?}"),
        }
    }
    assert!(matches!(cat.extend_from_json(r#"{"artist":[]}"#), Err(CatalogError::Parse(_))));
    assert_eq!(cat.tracks().len(), n, "failed extensions change nothing");
}

// ---- search against a brute-force reference ----

/// Levenshtein distance over characters (reference for the typo automaton).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// How query word `w` matches the words of a field, by brute force: 0 = a word equals it, 1 = a word starts
/// with it, 2 = a word is one edit away (for words of five characters or more), `None` = no match.
fn word_quality(w: &str, field: &[String]) -> Option<u8> {
    field
        .iter()
        .filter_map(|f| {
            if f == w {
                Some(0)
            } else if f.starts_with(w) {
                Some(1)
            } else if w.chars().count() >= 5 && edit_distance(w, f) == 1 {
                Some(2)
            } else {
                None
            }
        })
        .min()
}

/// Brute-force evaluation of track search: scans every track.
fn reference_search(cat: &Catalog, filters: &[SearchFilter], sort: SortBy) -> Vec<TrackIdx> {
    let words = |s: &str| distinct_tokens(s);
    let field_words = |t: &Track| -> [Vec<String>; 3] {
        let artists: Vec<String> = t.artists().flat_map(|a| words(&cat[a].name)).collect();
        [words(&t.title), words(&cat[t.album].title), artists]
    };
    if filters.is_empty() {
        return Vec::new();
    }
    let mut match_words: Vec<String> = Vec::new();
    let mut text_words: Vec<String> = Vec::new();
    let mut all_words: Vec<String> = Vec::new();
    for f in filters {
        if matches!(f.field, None | Some(TrackField::Name | TrackField::AlbumName | TrackField::ArtistName)) {
            for w in words(&f.query) {
                if f.field.is_none() && !match_words.contains(&w) {
                    match_words.push(w.clone());
                }
                if matches!(f.field, None | Some(TrackField::Name)) && !text_words.contains(&w) {
                    text_words.push(w.clone());
                }
                if !all_words.contains(&w) {
                    all_words.push(w);
                }
            }
        }
    }
    let mut hits: Vec<(&Track, u8, u8, u32, u32)> = Vec::new();
    'tracks: for t in cat.tracks() {
        let fw = field_words(t);
        let has = |f: &[String], w: &String| word_quality(w, f).is_some();
        for f in filters {
            let q = f.query.trim();
            let ws = words(q);
            let ok = match f.field {
                None => !ws.is_empty() && ws.iter().all(|w| fw.iter().any(|f| has(f, w))),
                Some(TrackField::Name) => !ws.is_empty() && ws.iter().all(|w| has(&fw[0], w)),
                Some(TrackField::AlbumName) => !ws.is_empty() && ws.iter().all(|w| has(&fw[1], w)),
                Some(TrackField::ArtistName) => !ws.is_empty() && ws.iter().all(|w| has(&fw[2], w)),
                Some(TrackField::Id | TrackField::Asin) => t.id.as_str() == q,
                Some(TrackField::AlbumId) => cat[t.album].id.as_str() == q,
                Some(TrackField::ArtistId) => t.artists().any(|a| cat[a].id.as_str() == q),
                Some(TrackField::CategoryId) => t.genre.id() == q,
                Some(TrackField::Isrc) => t.isrc.as_str() == q,
            };
            if !ok {
                continue 'tracks;
            }
        }
        let quality = all_words
            .iter()
            .map(|w| fw.iter().filter_map(|f| word_quality(w, f)).min().unwrap_or(0))
            .max()
            .unwrap_or(0);
        let whole =
            !text_words.is_empty() && fw[0].len() == text_words.len() && text_words.iter().all(|w| has(&fw[0], w));
        let title = match (whole, quality) {
            (true, 0) => 0,
            (true, _) => 1,
            _ => 2,
        };
        let all = fw.iter().filter(|f| match_words.iter().all(|w| has(f, w))).count() as u32;
        let any = fw.iter().filter(|f| match_words.iter().any(|w| has(f, w))).count() as u32;
        let (all, any) = if match_words.is_empty() { (0, 0) } else { (all, any) };
        hits.push((t, title, quality, all, any));
    }
    match sort {
        SortBy::Relevance => hits.sort_by_key(|&(t, title, q, all, any)| {
            (title, q, Reverse(all), Reverse(any), Reverse(t.popularity), t.id)
        }),
        SortBy::Popularity => hits.sort_by_key(|&(t, ..)| (Reverse(t.popularity), t.id)),
        SortBy::Name => hits.sort_by(|a, b| derived::cmp_names(&a.0.title, &b.0.title).then(a.0.id.cmp(&b.0.id))),
        SortBy::Release => {
            hits.sort_by_key(|&(t, ..)| (Reverse(t.release_date), cat[t.album].id, t.track_number, t.id))
        }
    }
    hits.into_iter().map(|(t, ..)| t.idx).collect()
}

/// A random filter drawn from the catalog's own words and ids.
fn random_filter(cat: &Catalog, rng: &mut StdRng) -> SearchFilter {
    let t = &cat.tracks()[rng.random_range(0..cat.tracks().len())];
    let pick_word = |s: &str, rng: &mut StdRng| {
        let w = distinct_tokens(s);
        w[rng.random_range(0..w.len())].clone()
    };
    // A word cut short (search-as-you-type) or with one character dropped, doubled or replaced (a typo).
    let mangle = |w: String, rng: &mut StdRng| -> String {
        let mut c: Vec<char> = w.chars().collect();
        let i = rng.random_range(0..c.len());
        match rng.random_range(0..4) {
            0 => c.truncate(i.max(1)),
            1 if c.len() > 1 => {
                c.remove(i);
            }
            2 => c.insert(i, c[i]),
            _ => c[i] = 'q',
        }
        c.into_iter().collect()
    };
    match rng.random_range(0..18) {
        14 | 15 => SearchFilter::any(mangle(pick_word(&t.title, rng), rng)),
        16 => SearchFilter::any(format!(
            "{} {}",
            pick_word(&t.title, rng),
            mangle(pick_word(&cat[t.primary_artist()].name, rng), rng)
        )),
        17 => SearchFilter::field(TrackField::ArtistName, mangle(pick_word(&cat[t.primary_artist()].name, rng), rng)),
        0..=3 => SearchFilter::any(pick_word(&t.title, rng)),
        4 => {
            SearchFilter::any(format!("{} {}", pick_word(&t.title, rng), pick_word(&cat[t.primary_artist()].name, rng)))
        }
        5 => SearchFilter::any(t.title.to_string()),
        6 => SearchFilter::field(TrackField::Name, pick_word(&t.title, rng)),
        7 => SearchFilter::field(TrackField::AlbumName, pick_word(&cat[t.album].title, rng)),
        8 => SearchFilter::field(TrackField::ArtistName, pick_word(&cat[t.primary_artist()].name, rng)),
        9 => SearchFilter::field(TrackField::ArtistId, cat[t.primary_artist()].id.as_str()),
        10 => SearchFilter::field(TrackField::AlbumId, cat[t.album].id.as_str()),
        11 => SearchFilter::field(TrackField::CategoryId, t.genre.id()),
        12 => SearchFilter::field(TrackField::Isrc, t.isrc.as_str()),
        _ => SearchFilter::field(if rng.random_bool(0.5) { TrackField::Id } else { TrackField::Asin }, t.id.as_str()),
    }
}

#[test]
fn track_search_matches_the_brute_force_reference() {
    let cat = Catalog::generate(5, 3000);
    let mut rng = StdRng::seed_from_u64(99);
    let sorts = [SortBy::Relevance, SortBy::Popularity, SortBy::Name, SortBy::Release];
    let mut non_trivial = 0;
    for round in 0..300 {
        let n = rng.random_range(1..=3);
        let filters: Vec<SearchFilter> = (0..n).map(|_| random_filter(&cat, &mut rng)).collect();
        let sort = sorts[round % sorts.len()];
        let want = reference_search(&cat, &filters, sort);
        let got = cat.search_tracks(&filters, sort, 0, usize::MAX);
        assert_eq!(got.total, want.len(), "{filters:?} {sort:?}");
        assert_eq!(got.items, want, "{filters:?} {sort:?}");
        non_trivial += usize::from(want.len() > 1);
        // Paging: pages of a random size concatenate to the whole list.
        let size = rng.random_range(1..=7);
        let mut paged = Vec::new();
        let mut offset = 0;
        loop {
            let p = cat.search_tracks(&filters, sort, offset, size);
            assert_eq!(p.total, want.len());
            if p.items.is_empty() {
                break;
            }
            offset += p.items.len();
            paged.extend(p.items);
        }
        assert_eq!(paged, want, "paged {filters:?} {sort:?} size {size}");
    }
    assert!(non_trivial > 100, "only {non_trivial} queries had several hits");
}

#[test]
fn track_search_semantics_by_example() {
    let cat = Catalog::generate(42, 800);
    let t = &cat.tracks()[17];
    let album = &cat[t.album];
    let artist = &cat[t.primary_artist()];
    // An exact title query ranks a track with exactly that title first.
    let page = cat.search_tracks(&[SearchFilter::any(&*t.title)], SortBy::Relevance, 0, 5);
    assert!(page.items.first().is_some_and(|&i| distinct_tokens(&cat[i].title) == distinct_tokens(&t.title)));
    // Filters AND together.
    let both =
        [SearchFilter::field(TrackField::AlbumId, album.id.as_str()), SearchFilter::field(TrackField::Name, &*t.title)];
    assert!(cat.search_tracks(&both, SortBy::Name, 0, 100).items.contains(&t.idx));
    let none = [SearchFilter::field(TrackField::AlbumId, album.id.as_str()), SearchFilter::any("zzzzqqq")];
    assert_eq!(cat.search_tracks(&none, SortBy::Relevance, 0, 100).total, 0);
    // Artist id finds exactly the artist's credits.
    let by_artist = cat.search_tracks(
        &[SearchFilter::field(TrackField::ArtistId, artist.id.as_str())],
        SortBy::Popularity,
        0,
        1000,
    );
    assert_eq!(by_artist.items, cat.artist_tracks(artist.idx));
    // Unknown ids, empty queries and no filters match nothing.
    for f in [
        SearchFilter::field(TrackField::AlbumId, "B0NOSUCH00"),
        SearchFilter::field(TrackField::CategoryId, "polka"),
        SearchFilter::field(TrackField::Id, album.id.as_str()),
        SearchFilter::any("  !! "),
    ] {
        assert_eq!(cat.search_tracks(&[f], SortBy::Relevance, 0, 10).total, 0);
    }
    assert_eq!(cat.search_tracks(&[], SortBy::Relevance, 0, 10).total, 0);
    // Popularity order is descending popularity.
    let pop = cat.search_tracks(&[SearchFilter::field(TrackField::CategoryId, "pop")], SortBy::Popularity, 0, 100);
    assert!(pop.items.windows(2).all(|w| cat[w[0]].popularity >= cat[w[1]].popularity));
    // Filters deserialize from the V1 body shape.
    let body: Vec<SearchFilter> = serde_json::from_str(
        r#"[{"query":"love"},{"field":"albumName","query":"x"},{"field":"categoryId","query":"pop"}]"#,
    )
    .expect("V1 searchFilters");
    assert_eq!(body[1].field, Some(TrackField::AlbumName));
    let sort: SortBy = serde_json::from_str(r#""popularity""#).expect("sortBy");
    assert_eq!(sort, SortBy::Popularity);
    assert_eq!(TrackField::ALL.map(|f| TrackField::parse(f.as_str())), TrackField::ALL.map(Some));
}

#[test]
fn name_searches_find_entities_by_words() {
    let cat = Catalog::generate(42, 800);
    let album = &cat.albums()[4];
    let r = cat.search_albums(&album.title, 0, 100);
    assert!(r.items.contains(&album.idx));
    let first = &cat[r.items[0]];
    assert_eq!(distinct_tokens(&first.title).len(), distinct_tokens(&album.title).len(), "exact title first");
    let by_artist = cat.search_albums(&cat[album.artist].name, 0, 100);
    assert!(by_artist.items.contains(&album.idx), "albums are found by artist name");
    let show = &cat.podcast_shows()[1];
    assert!(cat.search_podcast_shows(&show.title, 0, 10).items.contains(&show.idx));
    let ep = &cat.podcast_episodes()[3];
    assert!(cat.search_podcast_episodes(&ep.title, 0, 50).items.contains(&ep.idx));
    let pl = &cat.playlists()[2];
    assert!(cat.search_playlists(&pl.title, 0, 50).items.contains(&pl.idx));
    assert_eq!(cat.search_artists("", 0, 10).total, 0);
    // Paging is consistent for name searches too.
    let all = cat.search_albums("the", 0, usize::MAX);
    let mut paged = Vec::new();
    for off in (0..all.total).step_by(3) {
        paged.extend(cat.search_albums("the", off, 3).items);
    }
    assert_eq!(paged, all.items);
}

#[test]
fn search_on_200k_tracks_is_indexed() {
    let t0 = Instant::now();
    let cat = Catalog::generate(2024, 200_000);
    let built = t0.elapsed();
    let mut timings = Vec::new();
    for (filters, sort, offset) in [
        (vec![SearchFilter::any("love")], SortBy::Relevance, 0),
        (vec![SearchFilter::any("the")], SortBy::Popularity, 0),
        (vec![SearchFilter::any("the")], SortBy::Name, 5000),
        (vec![SearchFilter::any("blue love")], SortBy::Release, 0),
        (vec![SearchFilter::field(TrackField::CategoryId, "pop"), SearchFilter::any("love")], SortBy::Relevance, 100),
    ] {
        let t = Instant::now();
        let page = cat.search_tracks(&filters, sort, offset, 20);
        timings.push((format!("{filters:?} {sort:?} @{offset}"), t.elapsed(), page.total));
        assert!(page.total > offset, "{filters:?}");
        assert_eq!(page.items.len(), 20);
    }
    let common = cat.search_tracks(&[SearchFilter::any("love")], SortBy::Popularity, 0, 10);
    assert!(common.total > 5000, "a common word has many hits: {}", common.total);
    assert!(common.items.windows(2).all(|w| cat[w[0]].popularity >= cat[w[1]].popularity));
    println!("generated 200k tracks in {built:?}; heap ≈ {} MiB", cat.heap_bytes() >> 20);
    for (q, d, total) in timings {
        println!("{d:>12?}  {total:>7} hits  {q}");
    }
}

// ---- search as users expect, on the catalog the server serves by default ----

/// The catalog `serve` builds without options: the embedded fixtures over the generated default catalog.
fn default_catalog() -> Catalog {
    let (file, spec) = crate::fixtures::CatalogFile::load(None).expect("embedded fixtures");
    spec.build(&file, 0, crate::server::DEFAULT_CATALOG_SIZE).expect("default catalog")
}

/// Track search with one match filter in relevance order: the total and the first `n` as `id title`.
fn tracks_for(cat: &Catalog, filters: &[SearchFilter], n: usize) -> (usize, Vec<String>) {
    let p = cat.search_tracks(filters, SortBy::Relevance, 0, n);
    (p.total, p.items.iter().map(|&i| format!("{} {}", cat[i].id, cat[i].title)).collect())
}

fn any(q: &str) -> [SearchFilter; 1] {
    [SearchFilter::any(q)]
}

#[test]
fn every_query_word_matches_as_a_prefix() {
    let cat = default_catalog();
    let love = ["B0UDH5VY3B Love", "B0QHXUAOQC Love", "B06TDZB6DC Love", "B029B8L5YG Love"];
    assert_eq!(tracks_for(&cat, &any("lov"), 4), (227, love.map(String::from).to_vec()));
    assert_eq!(tracks_for(&cat, &any("LOVE"), 4), (227, love.map(String::from).to_vec()));
    // Before, a word had to be whole: "lov" found nothing.
    let (total, _) = tracks_for(&cat, &any("strang"), 0);
    assert_eq!(total, tracks_for(&cat, &any("strange"), 0).0);
    // The other searches share the engine.
    let artists = cat.search_artists("may", 0, 5);
    assert_eq!(artists.items.iter().map(|&a| &*cat[a].name).collect::<Vec<_>>(), ["Maya Stone"]);
}

#[test]
fn a_single_letter_finds_things() {
    let cat = default_catalog();
    let (total, first) = tracks_for(&cat, &any("s"), 3);
    assert_eq!(
        (total, first),
        (563, vec!["B00D2J65VP Soul".into(), "B0GQ86Y3GF Storm".into(), "B0N6JN33Y2 Sunrise".into()])
    );
    // Paging through a large prefix union is stable.
    let all = cat.search_tracks(&any("s"), SortBy::Relevance, 0, usize::MAX);
    let mut paged = Vec::new();
    for off in (0..all.total).step_by(50) {
        paged.extend(cat.search_tracks(&any("s"), SortBy::Relevance, off, 50).items);
    }
    assert_eq!(paged, all.items);
}

#[test]
fn long_words_tolerate_one_typo_and_short_words_none() {
    let cat = default_catalog();
    let strange = vec!["B0VRA9OPJ3 Strange Love".to_owned(), "B0ZJEJR30M Strange Rose".to_owned()];
    assert_eq!(tracks_for(&cat, &any("strnge"), 5), (2, strange.clone())); // a letter dropped
    assert_eq!(tracks_for(&cat, &any("strsnge"), 5), (2, strange)); // a letter replaced
    assert_eq!(tracks_for(&cat, &any("strnge rose"), 5), (1, vec!["B0ZJEJR30M Strange Rose".into()]));
    assert_eq!(tracks_for(&cat, &any("rose"), 0).0, 7);
    // Four letters are too few for a typo.
    assert_eq!(tracks_for(&cat, &any("roze"), 5), (0, vec![]));
    assert_eq!(tracks_for(&cat, &any("lpve"), 5), (0, vec![]));
    // Two edits are too many.
    assert_eq!(tracks_for(&cat, &any("strnga"), 5), (0, vec![]));
}

#[test]
fn accents_and_case_fold_in_the_index_and_the_query() {
    let mut cat = default_catalog();
    cat.extend_from_json(
        r#"{"artists": [{"id": "B0FIXART01", "name": "Beyoncé", "genre": "pop"}],
            "albums": [{"id": "B0FIXALB01", "title": "Crème Brûlée", "artistId": "B0FIXART01",
                        "releaseDate": "2003-06-23"}],
            "tracks": [{"id": "B0FIXTRK01", "title": "Déjà Vu", "albumId": "B0FIXALB01", "duration": 240,
                        "isrc": "USSM10600001"}]}"#,
    )
    .expect("extension");
    for q in ["beyonce", "Beyoncé", "BEYONCE", "beyo", "deja vu", "DÉJÀ", "creme brulee", "brul"] {
        assert_eq!(tracks_for(&cat, &any(q), 5), (1, vec!["B0FIXTRK01 Déjà Vu".to_owned()]), "{q}");
    }
    let artists = cat.search_artists("beyonce", 0, 5);
    assert_eq!(artists.items.iter().map(|&a| &*cat[a].name).collect::<Vec<_>>(), ["Beyoncé"]);
    let by_field = [SearchFilter::field(TrackField::ArtistName, "beyonce")];
    assert_eq!(tracks_for(&cat, &by_field, 5).0, 1);
    // The cross-type search's top hits compare folded words: the artist first, then the exact-title track.
    let all = cat.search_all("beyonce", 3);
    assert_eq!(all.top_hits.first().map(|&e| cat.entity_name(e)), Some("Beyoncé"));
    let all = cat.search_all("deja vu", 3);
    assert_eq!(all.top_hits.first().map(|&e| cat.entity_name(e)), Some("Déjà Vu"));
}

#[test]
fn words_of_a_query_match_title_artist_and_album_together_and_the_last_may_be_partial() {
    let cat = default_catalog();
    let (total, first) = tracks_for(&cat, &any("maya st"), 2);
    assert_eq!((total, first), (46, vec!["B0GQ86Y3GF Storm".into(), "B0ZJEJR30M Strange Rose".into()]));
    // "rose" in the title, "maya" and "st(one)" in the artist name.
    let cross = vec!["B0ZJEJR30M Strange Rose".to_owned(), "B0F5Y4V6XQ Blue Rose".to_owned()];
    assert_eq!(tracks_for(&cat, &any("rose maya st"), 10), (2, cross.clone()));
    assert_eq!(tracks_for(&cat, &any("st rose ma"), 10), (2, cross));
    // Field filters use the same matching; exact-id fields stay exact.
    let fields =
        [SearchFilter::field(TrackField::ArtistName, "maya st"), SearchFilter::field(TrackField::Name, "stra")];
    assert_eq!(tracks_for(&cat, &fields, 5), (1, vec!["B0ZJEJR30M Strange Rose".into()]));
    let album = [SearchFilter::field(TrackField::AlbumName, "hear"), SearchFilter::any("rose")];
    assert_eq!(tracks_for(&cat, &album, 5).0, 2);
    for (field, q) in [(TrackField::Id, "B0ZJEJR30"), (TrackField::Id, "b0zjejr30m"), (TrackField::CategoryId, "po")] {
        assert_eq!(tracks_for(&cat, &[SearchFilter::field(field, q)], 5).0, 0, "{q}");
    }
}

#[test]
fn relevance_puts_exact_titles_then_exact_words_then_prefixes_and_typos_then_popularity() {
    let cat = default_catalog();
    // The exact title first, then the titles holding the word, by popularity.
    let rose = [
        "B0ESN3JA3X Rose",
        "B09MPPO56M Little Rose",
        "B0ZJEJR30M Strange Rose",
        "B0F5Y4V6XQ Blue Rose",
        "B0U6N2U6CF Sky of Rose",
        "B0NEQ44OYP Rose of Monsoon",
    ];
    assert_eq!(tracks_for(&cat, &any("rose"), 6), (7, rose.map(String::from).to_vec()));
    // Exact titles, then titles that are the word's completion ("Sunrise"), then the rest: all words exact
    // before prefixes, then more fields matched ("Golden Sunset" is on the album "Lucky Sun"), then popularity.
    let sun = [
        "B04VSVWD0U Sun",
        "B0XX1U53W8 Sun",
        "B0N6JN33Y2 Sunrise",
        "B0CEBX9O26 Sunrise",
        "B0T1DKUML9 Golden Sunset",
        "B097P5KSF3 Dark Sun",
        "B0PMKC45XJ Love Me Like Sun",
        "B02NYNWW20 Lazy Sun",
    ];
    assert_eq!(tracks_for(&cat, &any("sun"), 8).1, sun.map(String::from));
    assert_eq!(&*cat[cat.track("B0T1DKUML9").expect("track").album].title, "Lucky Sun");
    // "rosee" is one edit from "rose": the title matched whole, with a typo.
    assert_eq!(tracks_for(&cat, &any("strange rosee"), 3).1, ["B0ZJEJR30M Strange Rose"]);
    // Other sort orders keep their meaning over prefix matches.
    let by_name = cat.search_tracks(&any("lov"), SortBy::Name, 0, usize::MAX);
    assert!(by_name.items.windows(2).all(|w| derived::cmp_names(&cat[w[0]].title, &cat[w[1]].title).is_le()));
    let by_pop = cat.search_tracks(&any("lov"), SortBy::Popularity, 0, usize::MAX);
    assert!(by_pop.items.windows(2).all(|w| cat[w[0]].popularity >= cat[w[1]].popularity));
    assert_eq!((by_name.total, by_pop.total), (227, 227));
}
