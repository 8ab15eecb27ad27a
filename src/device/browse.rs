//! Browsing the Device API (spec `music-api.md` §7, §11.4): the root, navigation nodes and track containers.
//!
//! The root `GET /` is a `Document` whose result `#root` is a `NavigationNodeDescription` holding two levels
//! inline (the root and its five nodes: "Your Playlists", "Popular Playlists", "New Releases", "Stations",
//! "Genres"); a genre is a third level, reached by reference (`nav/genre/<id>`), as are an artist's node
//! (`nav/artist/<asin>`, linked from search) and every track container.
//!
//! A track container (`playlist/<id>`, `album/<asin>`, `track/<asin>`, `station/<genre>`) is a `Document`
//! whose result `#chunk` is one `TrackContainerChunkDescription`. Playlists, albums and single tracks are one
//! chunk: `firstTrackPointer`/`lastTrackPointer` set, `nextTrackPointer`/`prevTrackPointer` `null`. Stations
//! are unbounded: chunks of ten tracks (`?chunk=<n>`) chained by remote next/prev pointers. Each
//! `trackInstances` entry names its `trackDefinition` and a relative `playbackEventCollector`; each definition
//! has `title`, the mock's stream URL in `x-amm-mockStreamUrl` (an invented field), `autoSkipOnError`, and
//! for station tracks a `trackRating {thumbRating, ratingURI}`. A track that cannot play has `error` (a local
//! reference to a `GeneralErrorReport` in `generalErrorReports`) and no stream URL: every track of a playlist
//! reserved to Amazon Music Unlimited for other tiers, or a track named by a `TRACK <asin>` fault.
//!
//! The handlers are thin: each looks up what its path names and makes one call. The navigation nodes are
//! built by `nodes.rs`; a container handler gets its [`Chunk`] (`playlist_chunk`, `station_page`, or
//! [`Chunk::single`] of an album's or a track's tracks), which [`chunk_doc`] puts in a document with
//! [`put_chunk`].

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::error::{DeviceError, Report};
use super::nodes::{self, station_title};
use super::{DeviceCtx, Doc};
use crate::api::playlists::{Readable, readable};
use crate::api::{ApiPath, Caller, Reply, Requires};
use crate::catalog::{Catalog, Genre, PlaylistTier, SearchFilter, SortBy, TrackField, TrackIdx};
use crate::fixtures::Tier;
use crate::stream::{Capabilities, allowed_qualities};

/// Tracks in one station chunk.
pub const STATION_CHUNK: usize = 10;

/// `GET /`: the root document.
pub async fn root(ctx: DeviceCtx) -> Response {
    ctx.handle(Requires::DEVICE, async |c| {
        let mine = ctx.session.store.music().user_playlists(c.user_id(), 0, 50).await;
        Ok(Reply::Ok(nodes::root(ctx.catalog(), &ctx.links(), &mine.items)))
    })
    .await
}

/// `GET nav/genre/<genre>`: the genre's station, then its most popular albums.
pub async fn genre(ctx: DeviceCtx, genre: ApiPath<String>) -> Response {
    ctx.handle(Requires::DEVICE, async |_| {
        let slug = genre.value()?;
        let g = Genre::from_id(slug).ok_or_else(|| DeviceError::not_found(format!("No genre {slug}.")))?;
        Ok(Reply::Ok(nodes::genre(ctx.catalog(), &ctx.links(), g)))
    })
    .await
}

/// `GET nav/artist/<asin>`: the artist's albums, newest first.
pub async fn artist(ctx: DeviceCtx, id: ApiPath<String>) -> Response {
    ctx.handle(Requires::DEVICE, async |_| {
        let id = id.value()?;
        let a = ctx.catalog().artist(id).ok_or_else(|| DeviceError::not_found(format!("No artist {id}.")))?;
        Ok(Reply::Ok(nodes::artist(ctx.catalog(), &ctx.links(), a)))
    })
    .await
}

/// One track container chunk to put in a document.
pub struct Chunk {
    /// `title`.
    pub title: String,
    /// The container as the event collector records it: `playlist:<id>`, `album:<asin>`, `station:<genre>`, ….
    pub container: String,
    /// Its tracks, each with its index in the container (the event collector records it).
    pub tracks: Vec<(usize, TrackIdx)>,
    /// A problem every track has (a playlist the customer's tier may not play).
    pub blocked: Option<Report>,
    /// Whether the tracks are station tracks (rated).
    pub station: bool,
    /// `nextTrackPointer` (`null` for single-chunk containers).
    pub next: Value,
    /// `prevTrackPointer`.
    pub prev: Value,
}

/// The opaque token of an event collector: base64url of `<container>|<index>|<asin>`.
pub fn event_token(container: &str, index: usize, asin: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{container}|{index}|{asin}"))
}

/// Reads an event collector token back: `(container, index, asin)`.
pub fn parse_event_token(token: &str) -> Option<(String, usize, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = text.rsplitn(3, '|');
    let asin = parts.next()?.to_owned();
    let index = parts.next()?.parse().ok()?;
    let container = parts.next()?.to_owned();
    Some((container, index, asin))
}

/// Puts `chunk` as `#chunk` with its instances, definitions and error reports.
///
/// # Errors
/// 400 for an `X-Amzn-Audio-Device-Capability` value that is not known.
pub async fn put_chunk(ctx: &DeviceCtx, c: &Caller, d: &mut Doc, chunk: Chunk) -> Result<(), DeviceError> {
    // The chunk description comes first in the document; it is filled in at the end.
    d.put("trackContainerChunkDescriptions", "chunk", Value::Null);
    let caps = Capabilities::parse(ctx.header("x-amzn-audio-device-capability"))
        .map_err(|e| DeviceError::bad_request(e.to_string()))?;
    let tier = c.user.tier.unwrap_or(Tier::Free);
    let cat = ctx.catalog();
    let streams = &ctx.state.streams;
    let stream_base = streams.base(&ctx.headers, &ctx.session.prefix);
    // URLs live for the session's `stream_url_ttl_seconds` (a client plan's early expiry) or `--stream-ttl`.
    let exp_s =
        ctx.now_ms().div_euclid(1000) + streams.ttl_for(ctx.session.store.settings().await.stream_url_ttl_seconds);
    let music = ctx.session.store.music();
    let mut instances = Vec::with_capacity(chunk.tracks.len());
    for (i, &(index, t)) in chunk.tracks.iter().enumerate() {
        let track = &cat[t];
        let asin = track.id.as_str();
        let problem = match chunk.blocked {
            Some(r) => Some(r),
            None => music.take_track_fault(asin).await.map(|f| Report::for_fault(f.error.as_deref().unwrap_or(""))),
        };
        let mut def = serde_json::Map::new();
        def.insert("title".into(), json!(&*track.title));
        if problem.is_none() {
            let q = allowed_qualities(tier, caps, track.audio_qualities);
            def.insert(
                "x-amm-mockStreamUrl".into(),
                json!(streams.dash_manifest_url_until(&stream_base, asin, &q, None, exp_s)),
            );
        }
        if chunk.station {
            let thumb = music.track_rating(c.user_id(), asin).await;
            def.insert("trackRating".into(), json!({ "thumbRating": thumb, "ratingURI": format!("../rating/{asin}") }));
        }
        if let Some(r) = problem {
            let err = d.put("generalErrorReports", &format!("track_err_{i}"), r.json());
            def.insert("error".into(), json!(err));
        }
        def.insert("autoSkipOnError".into(), json!(problem.is_some_and(Report::auto_skip)));
        let def = d.put("trackDefinitions", &format!("track_def_{i}"), Value::Object(def));
        let token = event_token(&chunk.container, index, asin);
        instances.push(d.put(
            "trackInstances",
            &format!("track_inst_{i}"),
            json!({ "trackDefinition": def, "playbackEventCollector": format!("../events/{token}") }),
        ));
    }
    let pointer = |i: usize| json!({ "chunk": "#chunk", "indexWithinChunk": i });
    let n = instances.len();
    let description = json!({
        "firstTrackPointer": if n > 0 { pointer(0) } else { Value::Null },
        "lastTrackPointer": if n > 0 { pointer(n - 1) } else { Value::Null },
        "nextTrackPointer": chunk.next,
        "prevTrackPointer": chunk.prev,
        "title": chunk.title,
        "trackInstances": instances,
    });
    d.put("trackContainerChunkDescriptions", "chunk", description);
    Ok(())
}

impl Chunk {
    /// A single-chunk container: its tracks numbered from 0, no next or previous chunk.
    pub fn single(title: String, container: String, tracks: Vec<TrackIdx>, blocked: Option<Report>) -> Self {
        let tracks = tracks.into_iter().enumerate().collect();
        Chunk { title, container, tracks, blocked, station: false, next: Value::Null, prev: Value::Null }
    }
}

/// The document of one container chunk (`#chunk`).
///
/// # Errors
/// As [`put_chunk`].
pub async fn chunk_doc(ctx: &DeviceCtx, c: &Caller, chunk: Chunk) -> Result<Reply, DeviceError> {
    let mut d = Doc::new("chunk");
    put_chunk(ctx, c, &mut d, chunk).await?;
    Ok(Reply::Ok(d.json()))
}

/// `GET playlist/<id>`: a catalog playlist or a customer playlist the caller may read, as one chunk.
pub async fn playlist(ctx: DeviceCtx, id: ApiPath<String>) -> Response {
    ctx.handle(Requires::DEVICE, async |c| {
        let id = id.value()?;
        let chunk = playlist_chunk(&ctx, c, id).await?;
        chunk_doc(&ctx, c, chunk).await
    })
    .await
}

/// The chunk of playlist `id`, if the caller may read it: a catalog playlist's tracks (every one blocked with
/// a subscription report when the playlist is reserved to Amazon Music Unlimited and the caller's tier is
/// another), or the tracks of a customer playlist's entries.
///
/// # Errors
/// 404 for a playlist that does not exist or that the caller may not read.
async fn playlist_chunk(ctx: &DeviceCtx, c: &Caller, id: &str) -> Result<Chunk, DeviceError> {
    let cat = ctx.catalog();
    let p = readable(ctx, c.user_id(), id).await.ok_or_else(|| DeviceError::not_found(format!("No playlist {id}.")))?;
    let (title, tracks, blocked) = match p {
        Readable::Catalog(p) => {
            let blocked = (p.tier == PlaylistTier::Unlimited && c.user.tier != Some(Tier::Unlimited))
                .then_some(Report::SubscriptionRequired);
            (p.title.to_string(), p.tracks.to_vec(), blocked)
        }
        Readable::Mine(p) => {
            let entries = ctx.session.store.music().playlist_entries(id, 0, usize::MAX).await;
            let entries = entries.map(|p| p.items).unwrap_or_default();
            let tracks = entries.iter().filter_map(|e| cat.track(&e.track_id)).map(|t| t.idx).collect();
            (p.title, tracks, None)
        }
    };
    Ok(Chunk::single(title, format!("playlist:{id}"), tracks, blocked))
}

/// `GET album/<asin>`: the album's tracks as one chunk.
pub async fn album(ctx: DeviceCtx, id: ApiPath<String>) -> Response {
    ctx.handle(Requires::DEVICE, async |c| {
        let id = id.value()?;
        let cat = ctx.catalog();
        let a = cat.album(id).ok_or_else(|| DeviceError::not_found(format!("No album {id}.")))?;
        let tracks = cat.album_tracks(a.idx).to_vec();
        chunk_doc(&ctx, c, Chunk::single(a.title.to_string(), format!("album:{id}"), tracks, None)).await
    })
    .await
}

/// `GET track/<asin>`: one track as a chunk of one (what search results link to).
pub async fn track(ctx: DeviceCtx, id: ApiPath<String>) -> Response {
    ctx.handle(Requires::DEVICE, async |c| {
        let id = id.value()?;
        let t = ctx.catalog().track(id).ok_or_else(|| DeviceError::not_found(format!("No track {id}.")))?;
        chunk_doc(&ctx, c, Chunk::single(t.title.to_string(), format!("track:{id}"), vec![t.idx], None)).await
    })
    .await
}

/// `GET station/<genre>[?chunk=<n>]`: chunk `n` (from 0) of the genre's endless station: the genre's tracks
/// by popularity, ten a chunk, starting over after the last, without the tracks the customer rated thumbs
/// down; `nextTrackPointer` points into chunk `n + 1`, `prevTrackPointer` (from chunk 1 on) into chunk `n - 1`.
pub async fn station(ctx: DeviceCtx, genre: ApiPath<String>) -> Response {
    ctx.handle(Requires::DEVICE, async |c| {
        let slug = genre.value()?;
        let g = Genre::from_id(slug).ok_or_else(|| DeviceError::not_found(format!("No station {slug}.")))?;
        let n = chunk_number(ctx.query_param("chunk").as_deref())?;
        let chunk = station_page(&ctx, c, g, n).await;
        chunk_doc(&ctx, c, chunk).await
    })
    .await
}

/// The station chunk a `?chunk=` value names: none or empty is chunk 0.
///
/// # Errors
/// 400 for anything but an integer from 0 to 1000000.
pub fn chunk_number(raw: Option<&str>) -> Result<usize, DeviceError> {
    match raw {
        None | Some("") => Ok(0),
        Some(s) => s
            .parse()
            .ok()
            .filter(|&n: &usize| n <= 1_000_000)
            .ok_or_else(|| DeviceError::bad_request("chunk must be an integer from 0 to 1000000.")),
    }
}

/// Chunk `n` of a genre's station with its remote pointers: `next` into chunk `n + 1`, `prev` (from chunk 1
/// on) at the last track of chunk `n - 1`; both `null` for a genre without tracks.
async fn station_page(ctx: &DeviceCtx, c: &Caller, g: Genre, n: usize) -> Chunk {
    let tracks = station_chunk(ctx, c, g, n).await;
    let total = station_size(ctx.catalog(), g);
    let url = ctx.links().url(&format!("station/{}", g.id()));
    let at = |chunk: usize, index: usize| json!({ "chunk": format!("{url}?chunk={chunk}#chunk"), "indexWithinChunk": index });
    let next = if total == 0 { Value::Null } else { at(n + 1, 0) };
    let prev = if n == 0 || total == 0 {
        Value::Null
    } else {
        at(n - 1, station_chunk(ctx, c, g, n - 1).await.len().saturating_sub(1))
    };
    Chunk {
        title: station_title(g),
        container: format!("station:{}", g.id()),
        tracks,
        blocked: None,
        station: true,
        next,
        prev,
    }
}

fn station_filter(g: Genre) -> [SearchFilter; 1] {
    [SearchFilter::field(TrackField::CategoryId, g.id())]
}

/// How many tracks a genre's station cycles through.
fn station_size(cat: &Catalog, g: Genre) -> usize {
    cat.search_tracks(&station_filter(g), SortBy::Popularity, 0, 0).total
}

/// Chunk `n` of a station: positions `10n..10n + 10` of the endless cycle through the genre's tracks (by
/// popularity), without those the customer rated thumbs down, each with its position.
async fn station_chunk(ctx: &DeviceCtx, c: &Caller, g: Genre, n: usize) -> Vec<(usize, TrackIdx)> {
    let cat = ctx.catalog();
    let total = station_size(cat, g);
    let mut cycle = Vec::with_capacity(STATION_CHUNK);
    if total > 0 {
        let mut offset = (n * STATION_CHUNK) % total;
        while cycle.len() < STATION_CHUNK {
            let page = cat.search_tracks(&station_filter(g), SortBy::Popularity, offset, STATION_CHUNK - cycle.len());
            cycle.extend(page.items);
            offset = 0;
        }
    }
    let music = ctx.session.store.music();
    let mut out = Vec::with_capacity(cycle.len());
    for (i, t) in cycle.into_iter().enumerate() {
        if music.track_rating(c.user_id(), cat[t].id.as_str()).await != crate::store::music::Thumb::Down {
            out.push((n * STATION_CHUNK + i, t));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_chunks_are_numbered_from_0_to_a_million() {
        assert_eq!(chunk_number(None).unwrap(), 0);
        assert_eq!(chunk_number(Some("")).unwrap(), 0);
        assert_eq!(chunk_number(Some("1000000")).unwrap(), 1_000_000);
        for bad in ["-1", "1000001", "x", " 1"] {
            let e = chunk_number(Some(bad)).unwrap_err();
            assert_eq!(e.explanation, "<p>chunk must be an integer from 0 to 1000000.</p>");
        }
    }

    #[test]
    fn event_tokens_round_trip_with_bars_in_the_container() {
        let t = event_token("playlist:a|b", 12, "B012345678");
        assert_eq!(parse_event_token(&t), Some(("playlist:a|b".to_owned(), 12, "B012345678".to_owned())));
        assert_eq!(parse_event_token("nope!"), None);
    }
}
