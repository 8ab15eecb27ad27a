//! Web Playback V1 (spec `music-api.md` §2.1, §3.4, §4.6, §5.3, §8, §11.2), scope `music::playback`: a
//! server-owned queue per playback session, tier-dependent actions, signed DASH URLs bound to the session,
//! start/stop events, and the concurrency rule. The rules themselves are `store::playback` (pure, run by the
//! store in one transaction each); this file reads headers and bodies, resolves MRNs against the catalog,
//! and renders playables.
//!
//! | Route (under `/v1`, also without it) | Does |
//! |---|---|
//! | `POST /playback/sessions` | create: device headers, `playParams`, `playbackOptions`, `limit` → a window |
//! | `GET /playback/sessions/active` | the customer's sessions that hold a slot |
//! | `GET /playback/sessions/{id}/current` | the current entity |
//! | `GET /playback/sessions/{id}/next?limit=`, `…/previous?limit=` | move one entity, answer a window |
//! | `GET /playback/sessions/{id}/queue` | the whole queue in play order |
//! | `POST /playback/sessions/{id}/next`, `…/last` | queue an MRN's tracks next or last |
//! | `PUT /playback/sessions/{id}/loop`, `…/shuffle` | modes |
//! | `POST /playback/sessions/{id}/restore` | take a slot again (device headers) |
//! | `POST /playback/event`, `POST /playback/events` | report start/stop events |
//!
//! The stream routes check a URL's `ps` with [`stream_permit`].

use axum::response::Response;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::error::{Code, MusicError};
use super::page::request;
use super::playlists::{Readable, readable};
use super::{V1Body, V1Ctx, V1Path, parse_body};
use crate::api::request::ApiRequest;
use crate::api::{Caller, Requires};
use crate::catalog::{ArtistIdx, Catalog, PlaylistTier, Track, play_params_id};
use crate::context::Session;
use crate::fixtures::Tier;
use crate::store::playback::{
    EventType, MAX_QUEUE, NewPlayback, NewPlaybackEvent, PlaybackError, PlaybackLimits, PlaybackOp, PlaybackSession,
    PlaybackState, PlaybackView, QueueTrack, StreamDenied,
};
use crate::stream::{Capabilities, allowed_qualities, query_param};

/// Window size when `limit` is absent (within every documented range: 1–5, 1–10, 1–11).
pub const DEFAULT_WINDOW: usize = 5;
/// The most events one `POST /v1/playback/events` may carry.
pub const MAX_EVENTS: usize = 100;
/// Tracks an artist MRN queues (most popular first).
pub const ARTIST_QUEUE: usize = 50;
/// Tracks in a station.
pub const STATION_SIZE: usize = 50;
/// Tracks appended when a queue with autoplay on runs out.
pub const AUTOPLAY_SIZE: usize = 25;

const DEVICE_ID: &str = "x-amzn-device-id";
const DRM_TYPE: &str = "x-amzn-audio-drmtype";
const CAPABILITY: &str = "x-amzn-audio-device-capability";

// ---- headers, settings, MRNs -------------------------------------------------------------------------

/// What the playback headers say about the device.
pub(crate) struct Device {
    pub(crate) id: String,
    pub(crate) capabilities: Capabilities,
}

fn header<'a>(ctx: &'a ApiRequest, name: &str, wire: &str) -> Result<Option<&'a str>, MusicError> {
    match ctx.headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.trim()))
            .map_err(|_| MusicError::bad_request(format!("Malformed request. The {wire} header is not valid text."))),
    }
}

/// `X-Amzn-Device-Id` (required), `X-Amzn-Audio-DRMType` (`WIDEVINE` or absent) and
/// `X-Amzn-Audio-Device-Capability` (§2.1), checked in that order.
pub(crate) fn device(ctx: &ApiRequest) -> Result<Device, MusicError> {
    let id = match header(ctx, DEVICE_ID, "X-Amzn-Device-Id")? {
        Some(id) if !id.is_empty() && id.len() <= 256 => id.to_owned(),
        Some(id) if !id.is_empty() => {
            return Err(MusicError::bad_request("Malformed request. X-Amzn-Device-Id must be at most 256 characters."));
        }
        _ => {
            return Err(MusicError::bad_request(
                "Malformed request. X-Amzn-Device-Id is required for playback: send a stable, unique id of the device.",
            ));
        }
    };
    if let Some(drm) = header(ctx, DRM_TYPE, "X-Amzn-Audio-DRMType")? {
        if !drm.eq_ignore_ascii_case("WIDEVINE") {
            return Err(MusicError::bad_request(format!(
                "Malformed request. X-Amzn-Audio-DRMType {drm:?} is not supported: the only supported value is WIDEVINE."
            )));
        }
    }
    let capabilities = Capabilities::parse(header(ctx, CAPABILITY, "X-Amzn-Audio-Device-Capability")?)
        .map_err(|e| MusicError::bad_request(format!("Malformed request. {e}.")))?;
    Ok(Device { id, capabilities })
}

/// What a playback request needs of the session's settings, read once per request.
pub(crate) struct PlaySettings {
    /// Slots and idle timeout.
    pub(crate) limits: PlaybackLimits,
    /// The largest window `limit`.
    pub(crate) max_window: usize,
    /// Lifetime of the stream URLs minted now, seconds.
    pub(crate) stream_ttl_s: i64,
    /// `playback_queue_restored`: V2 navigation always answers 206.
    pub(crate) queue_restored: bool,
}

/// The session's playback settings.
pub(crate) async fn settings(ctx: &ApiRequest) -> PlaySettings {
    let s = ctx.session.store.settings().await;
    PlaySettings {
        limits: PlaybackLimits {
            max_sessions: s.playback_max_sessions.max(1) as usize,
            idle_timeout_ms: i64::try_from(s.playback_idle_timeout_seconds.saturating_mul(1000)).unwrap_or(i64::MAX),
        },
        max_window: s.playback_limit_max.clamp(1, 11) as usize,
        stream_ttl_s: ctx.state.streams.ttl_for(s.stream_url_ttl_seconds),
        queue_restored: s.playback_queue_restored,
    }
}

pub(crate) fn tier(c: &Caller) -> Result<Tier, MusicError> {
    c.user.tier.ok_or_else(MusicError::no_music_account)
}

/// What an MRN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MrnKind {
    Track,
    Album,
    Playlist,
    Artist,
}

/// `mrn:1.0:catalog:<track|album|playlist|artist>:asin:<id>` (§3.1, §11.1); a user playlist's id is its UUID.
pub(crate) fn parse_mrn<'a>(field: &str, s: &'a str) -> Result<(MrnKind, &'a str), MusicError> {
    let bad = || {
        MusicError::bad_request(format!(
            "Malformed request. {field} must be an MRN such as mrn:1.0:catalog:album:asin:B0064UPU4G; got {s:?}."
        ))
    };
    let rest = s.strip_prefix("mrn:1.0:catalog:").ok_or_else(bad)?;
    let (kind, id) = rest.split_once(":asin:").ok_or_else(bad)?;
    if id.is_empty() || id.contains(':') {
        return Err(bad());
    }
    let kind = match kind {
        "track" => MrnKind::Track,
        "album" => MrnKind::Album,
        "playlist" => MrnKind::Playlist,
        "artist" => MrnKind::Artist,
        "podcastShow" | "podcastEpisode" => {
            return Err(MusicError::bad_request(format!(
                "Malformed request. {field} {s} is a podcast; playback sessions play tracks, albums, playlists and artists."
            )));
        }
        _ => return Err(bad()),
    };
    Ok((kind, id))
}

fn queue_track(t: &Track) -> QueueTrack {
    QueueTrack { track_id: t.id.as_str().to_owned(), duration_seconds: u32::from(t.duration) }
}

/// An MRN's tracks, in queue order, and the artists a station from it starts at.
pub(crate) struct Resolved {
    pub(crate) tracks: Vec<QueueTrack>,
    pub(crate) artists: Vec<ArtistIdx>,
}

/// Resolves an MRN to its tracks: a track, an album's tracks, a catalog or (readable) user playlist's tracks,
/// an artist's most popular tracks. A catalog playlist outside the tier's `playbackSubscriptionTiers` is 403
/// unless played as a station.
pub(crate) async fn resolve(
    ctx: &ApiRequest,
    c: &Caller,
    kind: MrnKind,
    id: &str,
    station: bool,
) -> Result<Resolved, MusicError> {
    let cat = ctx.catalog();
    let (tracks, artists): (Vec<&Track>, Vec<ArtistIdx>) = match kind {
        MrnKind::Track => {
            let t = cat.track(id).ok_or_else(|| MusicError::not_found("track", id))?;
            (vec![t], t.artists().collect())
        }
        MrnKind::Album => {
            let a = cat.album(id).ok_or_else(|| MusicError::not_found("album", id))?;
            let ts = cat.album_tracks(a.idx).iter().filter_map(|t| cat.tracks().get(t.get())).collect();
            (ts, vec![a.artist])
        }
        MrnKind::Artist => {
            let a = cat.artist(id).ok_or_else(|| MusicError::not_found("artist", id))?;
            let ts =
                cat.artist_tracks(a.idx).iter().take(ARTIST_QUEUE).filter_map(|t| cat.tracks().get(t.get())).collect();
            (ts, vec![a.idx])
        }
        MrnKind::Playlist => {
            let p = readable(ctx, c.user_id(), id).await.ok_or_else(|| MusicError::not_found("playlist", id))?;
            let ts: Vec<&Track> = match p {
                Readable::Catalog(p) => {
                    let t = tier(c)?;
                    let allowed = t == Tier::Unlimited || (t == Tier::Prime && p.tier == PlaylistTier::Prime);
                    if !allowed && !station {
                        let needs = match p.tier {
                            PlaylistTier::Prime => "an Amazon Music subscription (Prime or Unlimited)",
                            PlaylistTier::Unlimited => "Amazon Music Unlimited",
                        };
                        return Err(MusicError::new(
                            Code::Disabled(crate::store::playback::DisableType::NeedAmazonMusicUnlimitedCatalogAccess),
                            format!("Playing playlist {id} on demand needs {needs}; start it as a station instead."),
                        ));
                    }
                    p.tracks.iter().filter_map(|t| cat.tracks().get(t.get())).collect()
                }
                Readable::Mine(p) => p.track_ids.iter().filter_map(|t| cat.track(t)).collect(),
            };
            let mut artists: Vec<ArtistIdx> = Vec::new();
            for t in &ts {
                if artists.len() < 3 && !artists.contains(&t.primary_artist()) {
                    artists.push(t.primary_artist());
                }
            }
            (ts, artists)
        }
    };
    if tracks.is_empty() {
        return Err(MusicError::bad_request(format!("Malformed request. {id} has no tracks to play.")));
    }
    Ok(Resolved { tracks: tracks.into_iter().map(queue_track).collect(), artists })
}

/// A station: up to `size` tracks of the seed artists and the first one's related artists, five each, most
/// popular first, skipping `exclude`. The store shuffles it by session id.
fn station_tracks(cat: &Catalog, seeds: &[ArtistIdx], exclude: &[QueueTrack], size: usize) -> Vec<QueueTrack> {
    let mut artists = seeds.to_vec();
    if let Some(&first) = seeds.first() {
        artists.extend(cat.related_artists(first, 5));
    }
    let mut out: Vec<QueueTrack> = Vec::new();
    for a in artists {
        for t in cat.artist_tracks(a).iter().take(5).filter_map(|t| cat.tracks().get(t.get())) {
            let q = queue_track(t);
            if out.len() < size && !exclude.contains(&q) && !out.contains(&q) {
                out.push(q);
            }
        }
    }
    out
}

// ---- rendering ---------------------------------------------------------------------------------------

/// The V1 Playable of entity `item` of the session (§4.6 🟡 [NEX], with the old revision's `sessionId` and
/// `entityReferenceId`): its DASH manifest URL is signed with the session bound in (`ps`) and the qualities
/// the tier and the device's capabilities allow (`q`).
fn playable(ctx: &V1Ctx, mint: &Mint, v: &PlaybackView, item: usize) -> Value {
    let s = &v.session;
    let it = &s.items[item];
    let cat = ctx.catalog();
    let track = cat.track(&it.track_id);
    let url = stream_url(ctx, mint, s, &it.track_id);
    let artists: Vec<Value> = track
        .map(|t| {
            t.artists()
                .filter_map(|a| cat.artists().get(a.get()))
                .map(|a| json!({ "id": a.id.as_str(), "name": &*a.name }))
                .collect()
        })
        .unwrap_or_default();
    let album = track
        .and_then(|t| cat.albums().get(t.album.get()))
        .map_or(Value::Null, |a| json!({ "id": a.id.as_str(), "title": &*a.title }));
    json!({
        "_type": "Playable",
        "sessionId": s.session_id,
        "entityReferenceId": it.entity_reference_id,
        "metricId": it.metric_id,
        "id": it.track_id,
        "asin": it.track_id,
        "title": track.map_or("", |t| &*t.title),
        "artists": artists,
        "album": album,
        "durationSeconds": it.duration_seconds,
        "playParams": { "id": play_params_id("track", &it.track_id) },
        "mediaMetadata": { "url": url, "drmType": "NONE", "mediaType": "DASH" },
        "actions": v.actions,
    })
}

/// The signed DASH manifest URL of `track_id` in session `s`: the qualities its tier and device's capabilities
/// allow (`q`), the session bound in (`ps`), expiring at `mint.exp_s`.
pub(crate) fn stream_url(ctx: &ApiRequest, mint: &Mint, s: &PlaybackSession, track_id: &str) -> String {
    let track = ctx.catalog().track(track_id);
    let qualities = allowed_qualities(
        s.tier,
        s.capabilities,
        track.map_or(crate::catalog::AudioQualities::SD, |t| t.audio_qualities),
    );
    ctx.state.streams.dash_manifest_url_until(&mint.base, track_id, &qualities, Some(&s.session_id), mint.exp_s)
}

/// `queueState`: modes (the request's enums), whether it is a station, the slot state, and where the current
/// entity is in the play order.
fn queue_state(ctx: &V1Ctx, v: &PlaybackView) -> Value {
    let s = &v.session;
    let state = match s.state_at(ctx.now_ms()) {
        PlaybackState::Active => "PLAYING",
        PlaybackState::Preempted => "PREEMPTED",
        PlaybackState::Replaced => "REPLACED",
        PlaybackState::Stopped => "STOPPED",
        PlaybackState::Expired => "EXPIRED",
    };
    json!({
        "shuffleMode": if s.shuffle { "SHUFFLE_ON" } else { "SHUFFLE_OFF" },
        "loopMode": if s.loop_all { "LOOP_ON" } else { "LOOP_OFF" },
        "playbackContinuationMode": if s.autoplay { "AUTOPLAY_ON" } else { "AUTOPLAY_OFF" },
        "isStation": s.station,
        "playbackState": state,
        "position": s.position,
        "size": s.order.len(),
    })
}

/// `{sessionId, queueState, entities}` for the given entities (indices into the session's items).
fn render(ctx: &V1Ctx, mint: &Mint, v: &PlaybackView, items: &[usize]) -> Value {
    let entities: Vec<Value> = items.iter().map(|&i| playable(ctx, mint, v, i)).collect();
    json!({ "sessionId": v.session.session_id, "queueState": queue_state(ctx, v), "entities": entities })
}

fn window(ctx: &V1Ctx, mint: &Mint, v: &PlaybackView, limit: usize) -> Value {
    render(ctx, mint, v, &v.session.window(limit))
}

fn whole_queue(ctx: &V1Ctx, mint: &Mint, v: &PlaybackView) -> Value {
    render(ctx, mint, v, &v.session.order)
}

/// Where and until when the stream URLs of an answer are minted: the request's origin and session prefix,
/// and the session's `stream_url_ttl_seconds` (a client plan's early expiry) or the server's `--stream-ttl`.
pub(crate) struct Mint {
    pub(crate) base: String,
    pub(crate) exp_s: i64,
}

pub(crate) fn mint(ctx: &ApiRequest, ps: &PlaySettings) -> Mint {
    Mint {
        base: ctx.state.streams.base(&ctx.headers, &ctx.session.prefix),
        exp_s: ctx.now_ms().div_euclid(1000) + ps.stream_ttl_s,
    }
}

fn playback_error(session_id: &str, e: PlaybackError) -> MusicError {
    match e {
        PlaybackError::NotFound => MusicError::not_found("playback session", session_id),
        PlaybackError::NotAllowed(d, message) => MusicError::new(Code::Disabled(d), message),
        PlaybackError::NoMoreNext => {
            MusicError::new(Code::NoMoreNextEntity, "There is no next entity: the end of the queue was reached.")
        }
        PlaybackError::NoMorePrevious => {
            MusicError::new(Code::NoMorePreviousEntity, "There is no previous entity: this is the start of the queue.")
        }
        PlaybackError::MaxConcurrency => MusicError::max_concurrency(
            "The customer is already playing on another device; playback there has been stopped, so a retry plays here.",
        ),
        PlaybackError::Preempted => MusicError::max_concurrency(&format!(
            "Playback moved to another device; POST /v1/playback/sessions/{session_id}/restore to play here again."
        )),
        PlaybackError::QueueFull => {
            MusicError::bad_request(format!("Malformed request. A queue holds at most {MAX_QUEUE} entities."))
        }
        PlaybackError::UnknownMetric(m) => MusicError::not_found("metricId", &m),
    }
}

/// `limit` from the query (`next`, `previous`, `restore`): 1 to the `playback_limit_max` setting.
pub(crate) fn query_limit(ctx: &ApiRequest, max: usize) -> Result<usize, MusicError> {
    Ok(request(ctx.query_param("limit").as_deref(), None, DEFAULT_WINDOW.min(max), max)?.limit)
}

// ---- create ------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PlayParams {
    id: String,
    #[serde(default)]
    container_ids: Vec<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShuffleMode {
    #[serde(rename = "SHUFFLE_ON")]
    On,
    #[serde(rename = "SHUFFLE_OFF")]
    Off,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
enum LoopMode {
    #[serde(rename = "LOOP_ON")]
    On,
    #[serde(rename = "LOOP_OFF")]
    Off,
}

/// A family's `loopMode` values: V1's `LOOP_ON`/`LOOP_OFF`, V2's `LOOP_ALL`/`LOOP_OFF` (§5.3).
pub(crate) trait LoopWire: DeserializeOwned {
    /// Whether it turns looping on.
    fn on(&self) -> bool;
}

impl LoopWire for LoopMode {
    fn on(&self) -> bool {
        *self == LoopMode::On
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
enum Continuation {
    #[serde(rename = "AUTOPLAY_ON")]
    On,
    #[serde(rename = "AUTOPLAY_OFF")]
    Off,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PlaybackOptions<L> {
    shuffle_mode: Option<ShuffleMode>,
    loop_mode: Option<L>,
    #[serde(default)]
    start_as_station: bool,
    playback_continuation_mode: Option<Continuation>,
}

impl<L> Default for PlaybackOptions<L> {
    fn default() -> Self {
        PlaybackOptions {
            shuffle_mode: None,
            loop_mode: None,
            start_as_station: false,
            playback_continuation_mode: None,
        }
    }
}

/// The body that starts playback: V1's `POST /v1/playback/sessions`, and V2's `POST /v2/playback/queues/new`
/// with V2's loop modes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CreateBody<L> {
    play_params: PlayParams,
    #[serde(default = "PlaybackOptions::default")]
    playback_options: PlaybackOptions<L>,
    limit: Option<i64>,
}

/// `POST /v1/playback/sessions`. Checks, in order: the device headers, the body, the MRNs, the entities
/// (404), the tier (403), the concurrency rule (429).
pub async fn create(ctx: V1Ctx, body: V1Body) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let device = device(&ctx)?;
        let b: CreateBody<LoopMode> = parse_body(body.bytes()?)?;
        let ps = settings(&ctx).await;
        let (new, limit) = new_playback(&ctx, c, &ps, device, b).await?;
        let v = ctx
            .session
            .store
            .music()
            .playback_create(new, ps.limits, ctx.now_ms())
            .await
            .map_err(|e| playback_error("", e))?;
        Ok(window(&ctx, &mint(&ctx, &ps), &v, limit))
    })
    .await
}

/// What a create body asks for, checked in order: the tier, `limit`, the MRNs, the entities (404), the
/// tier's access to them (403). Returns the new session and the window size.
pub(crate) async fn new_playback<L: LoopWire>(
    ctx: &ApiRequest,
    c: &Caller,
    ps: &PlaySettings,
    device: Device,
    b: CreateBody<L>,
) -> Result<(NewPlayback, usize), MusicError> {
    let tier = tier(c)?;
    let max = ps.max_window;
    let limit = match b.limit {
        None => DEFAULT_WINDOW.min(max),
        Some(n) if n >= 1 && n <= max as i64 => n as usize,
        Some(_) => {
            return Err(MusicError::bad_request(format!(
                "Malformed request. limit must be an integer from 1 to {max}."
            )));
        }
    };
    let (kind, id) = parse_mrn("playParams.id", &b.play_params.id)?;
    let mut containers = Vec::new();
    for (n, cid) in b.play_params.container_ids.iter().enumerate() {
        let (ck, cid) = parse_mrn(&format!("playParams.containerIds[{n}]"), cid)?;
        if ck == MrnKind::Track {
            return Err(MusicError::bad_request(format!(
                "Malformed request. playParams.containerIds[{n}] is a track; a container is an album, playlist or artist."
            )));
        }
        containers.push((ck, cid));
    }
    let o = &b.playback_options;
    let station = o.start_as_station;
    let resolved = resolve(ctx, c, kind, id, station).await?;
    // A track played from a container: the container's tracks, starting at the track.
    let (tracks, start, artists) = match containers.first() {
        Some(&(ck, cid)) if kind == MrnKind::Track => {
            let from = resolve(ctx, c, ck, cid, station).await?;
            let at = from.tracks.iter().position(|t| t.track_id == id).ok_or_else(|| {
                MusicError::bad_request(format!("Malformed request. Track {id} is not in container {cid}."))
            })?;
            for &(k, i) in &containers[1..] {
                resolve(ctx, c, k, i, station).await?;
            }
            (from.tracks, Some(at), resolved.artists)
        }
        _ => {
            for &(k, i) in &containers {
                resolve(ctx, c, k, i, station).await?;
            }
            let start = (kind == MrnKind::Track).then_some(0);
            (resolved.tracks, start, resolved.artists)
        }
    };
    let cat = ctx.catalog();
    let (tracks, start) = if station {
        // A station starts with the track it was started from, if any, then related music.
        let lead: Vec<QueueTrack> = start.map(|s| tracks[s].clone()).into_iter().collect();
        let mut all = lead.clone();
        all.extend(station_tracks(cat, &artists, &lead, STATION_SIZE - lead.len()));
        (all, start.map(|_| 0))
    } else {
        (tracks, start)
    };
    let autoplay = o.playback_continuation_mode == Some(Continuation::On) && !station;
    let new = NewPlayback {
        user: c.user_id().to_owned(),
        device_id: device.id,
        tier,
        capabilities: device.capabilities,
        source: b.play_params.id.clone(),
        autoplay_tail: autoplay.then(|| station_tracks(cat, &artists, &tracks, AUTOPLAY_SIZE)),
        tracks,
        start,
        shuffle: o.shuffle_mode == Some(ShuffleMode::On),
        loop_all: o.loop_mode.as_ref().is_some_and(LoopWire::on),
        station,
    };
    Ok((new, limit))
}

// ---- navigation and modes ----------------------------------------------------------------------------

/// Runs `op` on the caller's session `id` under `ps` and renders the result with `out`.
async fn operate(
    ctx: &V1Ctx,
    c: &Caller,
    ps: &PlaySettings,
    id: &str,
    op: PlaybackOp,
    out: impl FnOnce(&V1Ctx, &Mint, &PlaybackView) -> Value,
) -> Result<Value, MusicError> {
    let v = ctx
        .session
        .store
        .music()
        .playback_apply(c.user_id(), id, op, ps.limits, ctx.now_ms())
        .await
        .map_err(|e| playback_error(id, e))?;
    Ok(out(ctx, &mint(ctx, ps), &v))
}

/// `GET /v1/playback/sessions/{id}/current` → the current entity.
pub async fn current(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let ps = settings(&ctx).await;
        operate(&ctx, c, &ps, id.get()?, PlaybackOp::Read, |x, m, v| window(x, m, v, 1)).await
    })
    .await
}

/// `GET /v1/playback/sessions/{id}/queue` → every entity in play order; `queueState.position` is the current.
pub async fn queue(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let ps = settings(&ctx).await;
        operate(&ctx, c, &ps, id.get()?, PlaybackOp::Read, whole_queue).await
    })
    .await
}

async fn step(ctx: V1Ctx, id: V1Path<String>, op: PlaybackOp) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.get()?;
        let ps = settings(&ctx).await;
        let limit = query_limit(&ctx, ps.max_window)?;
        operate(&ctx, c, &ps, id, op, |x, m, v| window(x, m, v, limit)).await
    })
    .await
}

/// `GET /v1/playback/sessions/{id}/next?limit=` → advances one entity; the window from the new current one.
pub async fn next(ctx: V1Ctx, id: V1Path<String>) -> Response {
    step(ctx, id, PlaybackOp::Next).await
}

/// `GET /v1/playback/sessions/{id}/previous?limit=` → goes back one entity; the window from there.
pub async fn previous(ctx: V1Ctx, id: V1Path<String>) -> Response {
    step(ctx, id, PlaybackOp::Previous).await
}

/// `POST /v1/playback/sessions/{id}/restore?limit=` with the device headers → takes a slot again.
pub async fn restore(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.get()?;
        let device = device(&ctx)?;
        let ps = settings(&ctx).await;
        let limit = query_limit(&ctx, ps.max_window)?;
        let op = PlaybackOp::Restore { device_id: device.id };
        operate(&ctx, c, &ps, id, op, |x, m, v| window(x, m, v, limit)).await
    })
    .await
}

/// `{"playParams":{"id": MRN}}`: what `…/next` and `…/last` queue (V1 and V2).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct EnqueueBody {
    play_params: EnqueueParams,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnqueueParams {
    id: String,
}

/// The tracks an enqueue body names.
pub(crate) async fn enqueued_tracks(
    ctx: &ApiRequest,
    c: &Caller,
    b: &EnqueueBody,
) -> Result<Vec<QueueTrack>, MusicError> {
    let (kind, eid) = parse_mrn("playParams.id", &b.play_params.id)?;
    Ok(resolve(ctx, c, kind, eid, false).await?.tracks)
}

async fn enqueue(ctx: V1Ctx, id: V1Path<String>, body: V1Body, next: bool) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.get()?;
        let b: EnqueueBody = parse_body(body.bytes()?)?;
        let tracks = enqueued_tracks(&ctx, c, &b).await?;
        let ps = settings(&ctx).await;
        operate(&ctx, c, &ps, id, PlaybackOp::Enqueue { tracks, next }, whole_queue).await
    })
    .await
}

/// `POST /v1/playback/sessions/{id}/next` with `{"playParams":{"id": MRN}}` → its tracks play next.
pub async fn queue_next(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    enqueue(ctx, id, body, true).await
}

/// `POST /v1/playback/sessions/{id}/last` with `{"playParams":{"id": MRN}}` → its tracks play last.
pub async fn queue_last(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    enqueue(ctx, id, body, false).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LoopBody {
    loop_mode: LoopMode,
}

/// `{"shuffleMode":"SHUFFLE_ON"|"SHUFFLE_OFF"}` (V1 and V2).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ShuffleBody {
    shuffle_mode: ShuffleMode,
}

impl ShuffleBody {
    /// Whether it turns shuffle on.
    pub(crate) fn on(&self) -> bool {
        self.shuffle_mode == ShuffleMode::On
    }
}

async fn set_mode<B: DeserializeOwned>(
    ctx: V1Ctx,
    id: V1Path<String>,
    body: V1Body,
    op: impl FnOnce(B) -> PlaybackOp,
) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.get()?;
        let b: B = parse_body(body.bytes()?)?;
        let ps = settings(&ctx).await;
        operate(&ctx, c, &ps, id, op(b), whole_queue).await
    })
    .await
}

/// `PUT /v1/playback/sessions/{id}/loop` with `{"loopMode":"LOOP_ON"|"LOOP_OFF"}` → the queue.
pub async fn set_loop(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    set_mode(ctx, id, body, |b: LoopBody| PlaybackOp::Loop(b.loop_mode == LoopMode::On)).await
}

/// `PUT /v1/playback/sessions/{id}/shuffle` with `{"shuffleMode":"SHUFFLE_ON"|"SHUFFLE_OFF"}` → the queue.
pub async fn set_shuffle(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    set_mode(ctx, id, body, |b: ShuffleBody| PlaybackOp::Shuffle(b.shuffle_mode == ShuffleMode::On)).await
}

/// `GET /v1/playback/sessions/active` → `{sessions: [{sessionId, deviceId, currentEntity, queueState}]}`.
pub async fn active(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let views = ctx.session.store.music().playback_active(c.user_id(), ctx.now_ms()).await;
        let mint = mint(&ctx, &settings(&ctx).await);
        let sessions: Vec<Value> = views
            .iter()
            .map(|v| {
                let current = v.session.order.get(v.session.position).map(|&i| playable(&ctx, &mint, v, i));
                json!({
                    "sessionId": v.session.session_id,
                    "deviceId": v.session.device_id,
                    "currentEntity": current,
                    "queueState": queue_state(&ctx, v),
                })
            })
            .collect();
        Ok(json!({ "sessions": sessions }))
    })
    .await
}

// ---- events ------------------------------------------------------------------------------------------

/// One reported event: `{metricId, event}` (V1 and V2).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct EventBody {
    metric_id: String,
    event: Map<String, Value>,
}

/// `{events: […]}` (V1 and V2).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsBody {
    pub(crate) events: Vec<EventBody>,
}

/// Checks one event (§4.6): `type` `start`|`stop`, `clientTimestampInMilliseconds` a whole number ≥ 0, the
/// documented numeric fields numbers ≥ 0 and the text fields strings when present; other keys are kept.
pub(crate) fn check_event(at: &str, b: EventBody) -> Result<NewPlaybackEvent, MusicError> {
    let bad = |detail: String| MusicError::bad_request(format!("Malformed request. {at}{detail}"));
    if b.metric_id.is_empty() {
        return Err(bad("metricId must be the metricId of a playable.".into()));
    }
    let e = &b.event;
    let kind = match e.get("type").and_then(Value::as_str) {
        Some("start") => EventType::Start,
        Some("stop") => EventType::Stop,
        other => {
            return Err(bad(format!("event.type must be \"start\" or \"stop\"; got {}.", show(other, e.get("type")))));
        }
    };
    let client_timestamp_ms = match e.get("clientTimestampInMilliseconds") {
        Some(v) if v.as_i64().is_some_and(|n| n >= 0) => v.as_i64().unwrap_or(0),
        _ => {
            return Err(bad(
                "event.clientTimestampInMilliseconds is required: epoch milliseconds on the device.".into()
            ));
        }
    };
    for key in [
        "initialPlaybackDelayMilliseconds",
        "playbackCurrentSpeed",
        "durationSeconds",
        "entityProgressSeconds",
        "rebufferCount",
    ] {
        if e.get(key).is_some_and(|v| !v.as_f64().is_some_and(|n| n >= 0.0)) {
            return Err(bad(format!("event.{key} must be a number of at least 0.")));
        }
    }
    for key in ["deviceTimezone", "terminationReason"] {
        if e.get(key).is_some_and(|v| !v.is_string()) {
            return Err(bad(format!("event.{key} must be a string.")));
        }
    }
    Ok(NewPlaybackEvent {
        metric_id: b.metric_id,
        kind,
        client_timestamp_ms,
        termination_reason: e.get("terminationReason").and_then(Value::as_str).map(str::to_owned),
        entity_progress_seconds: e.get("entityProgressSeconds").and_then(Value::as_f64),
        event: Value::Object(b.event),
    })
}

/// Checks a batch (V1 and V2): 1 to [`MAX_EVENTS`] events, each as [`check_event`], all or none.
pub(crate) fn check_events(b: EventsBody) -> Result<Vec<NewPlaybackEvent>, MusicError> {
    if b.events.is_empty() || b.events.len() > MAX_EVENTS {
        return Err(MusicError::bad_request(format!(
            "Malformed request. events must hold 1 to {MAX_EVENTS} events; got {}.",
            b.events.len()
        )));
    }
    b.events.into_iter().enumerate().map(|(i, e)| check_event(&format!("events[{i}]: "), e)).collect()
}

fn show(s: Option<&str>, v: Option<&Value>) -> String {
    match (s, v) {
        (Some(s), _) => format!("{s:?}"),
        (None, Some(v)) => v.to_string(),
        (None, None) => "nothing".into(),
    }
}

pub(crate) async fn report(ctx: &ApiRequest, c: &Caller, events: Vec<NewPlaybackEvent>) -> Result<Value, MusicError> {
    let limits = settings(ctx).await.limits;
    let n = events.len();
    ctx.session
        .store
        .music()
        .playback_report(c.user_id(), events, limits, ctx.now_ms())
        .await
        .map_err(|e| playback_error("", e))?;
    Ok(json!({ "recorded": n }))
}

/// `POST /v1/playback/event` with `{metricId, event{type, clientTimestampInMilliseconds, …}}` → `{recorded: 1}`.
pub async fn event(ctx: V1Ctx, body: V1Body) -> Response {
    let resp = ctx
        .handle(Requires::PLAYBACK, async |c| {
            let b: EventBody = parse_body(body.bytes()?)?;
            let e = check_event("", b)?;
            report(&ctx, c, vec![e]).await
        })
        .await;
    note_event_types(resp, &body, |b| serde_json::from_slice::<EventBody>(b).ok().map(|e| vec![e]))
}

/// `POST /v1/playback/events` with `{events: [{metricId, event}, …]}` (1–100, all or none) → `{recorded: n}`.
pub async fn events(ctx: V1Ctx, body: V1Body) -> Response {
    let resp = ctx
        .handle(Requires::PLAYBACK, async |c| {
            let b: EventsBody = parse_body(body.bytes()?)?;
            report(&ctx, c, check_events(b)?).await
        })
        .await;
    note_event_types(resp, &body, |b| serde_json::from_slice::<EventsBody>(b).ok().map(|b| b.events))
}

/// Notes an accepted report's event types (`start`, `stop`) in its journal entry, for the client rules
/// (`playback-events`); the body is read again only when the report was recorded.
pub(crate) fn note_event_types(
    mut resp: Response,
    body: &V1Body,
    parse: fn(&[u8]) -> Option<Vec<EventBody>>,
) -> Response {
    if !resp.status().is_success() {
        return resp;
    }
    if let Some(events) = body.bytes().ok().and_then(parse) {
        let kinds: Vec<String> =
            events.iter().filter_map(|e| e.event.get("type").and_then(Value::as_str).map(str::to_owned)).collect();
        crate::context::note(&mut resp, |n| n.facts.playback_events = kinds);
    }
    resp
}

// ---- for the stream routes ---------------------------------------------------------------------------

/// Whether a stream request with this signed query may be served, by the concurrency rule: a URL minted for
/// a playback session (`ps=` in the query) is served only while that session may stream (not ended,
/// pre-empted by another device, or idle past its timeout), and serving it counts as the session's activity.
/// A URL without `ps` is not bound to a session and is always permitted. Call it after `stream::verify`.
///
/// # Errors
/// [`StreamDenied`]; [`stream_denied_error`] turns it into the V1 error to answer.
pub async fn stream_permit(session: &Session, query: Option<&str>) -> Result<(), StreamDenied> {
    match query_param(query, "ps") {
        None => Ok(()),
        Some(ps) => session.store.music().stream_permit(ps, session.store.now_ms()).await,
    }
}

/// The V1 error for a refused stream: 429 `MAX_CONCURRENCY_REACHED` when another device took over, 403
/// `ACCESS_DENIED` when the session is unknown, ended or expired (restore it, or create a new one).
pub fn stream_denied_error(d: StreamDenied) -> MusicError {
    match d {
        StreamDenied::Preempted => MusicError::max_concurrency(
            "Playback was started on another device; restore the playback session to stream here.",
        ),
        other => MusicError::new(
            Code::AccessDenied,
            format!("{other}: restore the playback session or create a new one, then use its new URLs."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrns_name_a_kind_and_an_id() {
        assert_eq!(parse_mrn("f", "mrn:1.0:catalog:track:asin:B076YT2CBT").unwrap(), (MrnKind::Track, "B076YT2CBT"));
        assert_eq!(parse_mrn("f", "mrn:1.0:catalog:album:asin:B0064UPU4G").unwrap(), (MrnKind::Album, "B0064UPU4G"));
        let uuid = "mrn:1.0:catalog:playlist:asin:15e6a15f-4c2f-4b24-a2fd-286b37ad4fa3";
        assert_eq!(parse_mrn("f", uuid).unwrap().0, MrnKind::Playlist);
        assert_eq!(parse_mrn("f", "mrn:1.0:catalog:artist:asin:B01EJ9KLA6").unwrap().0, MrnKind::Artist);
        for bad in [
            "",
            "B076YT2CBT",
            "mrn:1.0:catalog:track:B076YT2CBT",
            "mrn:1.0:catalog:track:asin:",
            "mrn:2.0:catalog:track:asin:B076YT2CBT",
            "mrn:1.0:catalog:song:asin:B076YT2CBT",
            "mrn:1.0:catalog:track:asin:B076:YT2CBT",
        ] {
            let e = parse_mrn("playParams.id", bad).unwrap_err();
            assert_eq!(e.code, Code::BadRequest, "{bad}");
            assert!(e.message.contains("playParams.id must be an MRN"), "{bad}: {}", e.message);
        }
        let e = parse_mrn("playParams.id", "mrn:1.0:catalog:podcastEpisode:asin:x").unwrap_err();
        assert!(e.message.contains("is a podcast"), "{}", e.message);
    }
}
