//! Playback, below the families (spec `music-api.md` §2.1, §3.4, §4.6, §5.3, §8, §11.2, §11.3), scope
//! `music::playback`: a server-owned queue per playback session (V2 calls it a queue), tier-dependent
//! actions, signed DASH URLs bound to the session, start/stop events, and the concurrency rule. The rules
//! themselves are `store::playback` (pure, run by the store in one transaction each); this module reads the
//! device headers, resolves MRNs against the catalog ([`resolve`]), checks the shared bodies ([`body`]),
//! reads the session's playback settings, runs one store operation per call and answers a [`Queue`]: the
//! session as the operation left it and the [`Playable`]s to show, each with its signed stream URL. V1
//! (`v1::playback`) and V2 (`v2::playback`) render these in their own JSON; a refusal is a [`Problem`], the
//! playback rules' own ones as [`Problem::Playback`], which each family words.
//!
//! | Operation | Does |
//! |---|---|
//! | [`Device::from_headers`] | `X-Amzn-Device-Id`, `X-Amzn-Audio-DRMType`, `X-Amzn-Audio-Device-Capability` |
//! | [`create`] | a new session from a [`Play`] (MRNs, containers, modes, station, autoplay), its first window |
//! | [`active`] | the customer's sessions that hold a slot, each with its current entity |
//! | [`apply`] | a [`PlaybackOp`] on a session (read, resume, next, previous, restore, loop, shuffle), answered as [`Show`] says |
//! | [`enqueue`] | an MRN's tracks queued next or last |
//! | [`report_event`], [`report_events`] | start/stop events checked and recorded |
//! | [`stream_permit`] | whether a stream URL minted for a session (`ps`) may still be served |

pub mod body;
pub mod resolve;

use axum::http::HeaderMap;
use axum::response::Response;
pub use body::{
    CreateBody, EnqueueBody, EventBody, EventsBody, LoopWire, Play, ShuffleBody, check_event, check_events,
};
pub use resolve::{MrnKind, parse_mrn};
use resolve::{resolve, station_tracks, tier};

use super::auth::Caller;
use super::error::{Noun, Problem};
use super::request::{ApiBody, ApiRequest};
use crate::context::Session;
use crate::store::playback::{
    Actions, NewPlayback, NewPlaybackEvent, PlaybackLimits, PlaybackOp, PlaybackSession, PlaybackState, PlaybackView,
    QueueItem, QueueTrack, StreamDenied,
};
use crate::stream::{Capabilities, allowed_qualities, query_param};

/// Window size when `limit` is absent (within every documented range: 1–5, 1–10, 1–11).
pub const DEFAULT_WINDOW: usize = 5;
/// The most events one report may carry.
pub const MAX_EVENTS: usize = 100;
/// Tracks in a station.
pub const STATION_SIZE: usize = 50;
/// Tracks appended when a queue with autoplay on runs out.
pub const AUTOPLAY_SIZE: usize = 25;

const DEVICE_ID: &str = "x-amzn-device-id";
const DRM_TYPE: &str = "x-amzn-audio-drmtype";
const CAPABILITY: &str = "x-amzn-audio-device-capability";

// ---- the device ------------------------------------------------------------------------------------

/// What the playback headers say about the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// `X-Amzn-Device-Id`.
    pub id: String,
    /// What `X-Amzn-Audio-Device-Capability` says the device plays.
    pub capabilities: Capabilities,
}

fn header<'a>(headers: &'a HeaderMap, name: &str, wire: &str) -> Result<Option<&'a str>, Problem> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.trim()))
            .map_err(|_| Problem::bad_request(format!("The {wire} header is not valid text."))),
    }
}

impl Device {
    /// `X-Amzn-Device-Id` (required), `X-Amzn-Audio-DRMType` (`WIDEVINE` or absent) and
    /// `X-Amzn-Audio-Device-Capability` (§2.1), checked in that order.
    ///
    /// # Errors
    /// [`Problem::BadRequest`] for the first header that is missing or wrong.
    pub fn from_headers(headers: &HeaderMap) -> Result<Device, Problem> {
        let id = match header(headers, DEVICE_ID, "X-Amzn-Device-Id")? {
            Some(id) if !id.is_empty() && id.len() <= 256 => id.to_owned(),
            Some(id) if !id.is_empty() => {
                return Err(Problem::bad_request("X-Amzn-Device-Id must be at most 256 characters."));
            }
            _ => {
                return Err(Problem::bad_request(
                    "X-Amzn-Device-Id is required for playback: send a stable, unique id of the device.",
                ));
            }
        };
        if let Some(drm) = header(headers, DRM_TYPE, "X-Amzn-Audio-DRMType")? {
            if !drm.eq_ignore_ascii_case("WIDEVINE") {
                return Err(Problem::bad_request(format!(
                    "X-Amzn-Audio-DRMType {drm:?} is not supported: the only supported value is WIDEVINE."
                )));
            }
        }
        let capabilities = Capabilities::parse(header(headers, CAPABILITY, "X-Amzn-Audio-Device-Capability")?)
            .map_err(|e| Problem::bad_request(format!("{e}.")))?;
        Ok(Device { id, capabilities })
    }
}

// ---- settings and stream URLs ------------------------------------------------------------------------

/// What a playback request needs of the session's settings, read once per request.
struct PlaySettings {
    /// Slots and idle timeout.
    limits: PlaybackLimits,
    /// The largest window `limit`.
    max_window: usize,
    /// Lifetime of the stream URLs minted now, seconds.
    stream_ttl_s: i64,
    /// `playback_queue_restored`: every navigation answers as restored (V2: 206).
    queue_restored: bool,
}

async fn settings(req: &ApiRequest) -> PlaySettings {
    let s = req.session.store.settings().await;
    PlaySettings {
        limits: PlaybackLimits {
            max_sessions: s.playback_max_sessions.max(1) as usize,
            idle_timeout_ms: i64::try_from(s.playback_idle_timeout_seconds.saturating_mul(1000)).unwrap_or(i64::MAX),
        },
        max_window: s.playback_limit_max.clamp(1, 11) as usize,
        stream_ttl_s: req.state.streams.ttl_for(s.stream_url_ttl_seconds),
        queue_restored: s.playback_queue_restored,
    }
}

/// The signed DASH manifest URL of `track_id` in session `s`, as an answer made now hands it out: the
/// request's origin and session prefix; the qualities the session's tier and device capabilities allow (`q`);
/// the session bound in (`ps`); expiring after the session's `stream_url_ttl_seconds` (a client plan's early
/// expiry) or the server's `--stream-ttl`.
fn stream_url(req: &ApiRequest, ps: &PlaySettings, s: &PlaybackSession, track_id: &str) -> String {
    let base = req.state.streams.base(&req.headers, &req.session.prefix);
    let exp_s = req.now_ms().div_euclid(1000) + ps.stream_ttl_s;
    let track = req.catalog().track(track_id);
    let qualities = allowed_qualities(
        s.tier,
        s.capabilities,
        track.map_or(crate::catalog::AudioQualities::SD, |t| t.audio_qualities),
    );
    req.state.streams.dash_manifest_url_until(&base, track_id, &qualities, Some(&s.session_id), exp_s)
}

/// `limit` from the query: 1 to the `playback_limit_max` setting, [`DEFAULT_WINDOW`] (at most that) when
/// absent or empty.
fn query_limit(raw: Option<&str>, max: usize) -> Result<usize, Problem> {
    match raw {
        None | Some("") => Ok(DEFAULT_WINDOW.min(max)),
        Some(s) => match s.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(Problem::bad_request(format!("limit must be an integer from 1 to {max}."))),
        },
    }
}

// ---- what operations answer ----------------------------------------------------------------------------

/// An entity of a queue as an answer shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Playable {
    /// The entity (its references, its track, its duration).
    pub item: QueueItem,
    /// Its signed DASH manifest URL, bound to the session.
    pub url: String,
}

/// A playback session (V2: a queue) as an operation left it, with the entities the answer shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    /// The session: modes, station, play order and position, device.
    pub session: PlaybackSession,
    /// The actions its playables carry.
    pub actions: Actions,
    /// Its state when answered (an active session idle past its timeout reads as expired).
    pub state: PlaybackState,
    /// Whether the operation took a slot the session had given up, or the session's `playback_queue_restored`
    /// setting says to answer every navigation as if it had (V2 answers its navigation 206 then).
    pub restored: bool,
    /// The entities to show, in order.
    pub entities: Vec<Playable>,
}

impl Queue {
    /// The session `v` showing `items` (indices into its items).
    fn new(req: &ApiRequest, ps: &PlaySettings, v: PlaybackView, items: &[usize]) -> Self {
        let s = &v.session;
        let entities = items
            .iter()
            .map(|&i| Playable { item: s.items[i].clone(), url: stream_url(req, ps, s, &s.items[i].track_id) })
            .collect();
        Queue {
            state: s.state_at(req.now_ms()),
            restored: v.restored || ps.queue_restored,
            actions: v.actions,
            session: v.session,
            entities,
        }
    }

    /// How many entities the queue holds.
    pub fn size(&self) -> usize {
        self.session.order.len()
    }
}

/// Which entities an answer about a session shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show<'a> {
    /// The current entity.
    Current,
    /// A window from the current entity; the query's `limit` as sent.
    Window(Option<&'a str>),
    /// A window from the entity with this `entityReferenceId` (nothing moves); the query's `limit` as sent.
    From(&'a str, Option<&'a str>),
    /// The whole queue in play order.
    Queue,
}

// ---- operations ----------------------------------------------------------------------------------------

/// Starts playback: checks, in order, the tier, `limit`, the MRNs, the entities (not found), the tier's
/// access to them (disabled), then the concurrency rule (the store); answers the window from the first
/// entity.
///
/// # Errors
/// [`Problem::BadRequest`], [`Problem::NotFound`], [`Problem::Disabled`], [`Problem::Playback`].
pub async fn create(req: &ApiRequest, c: &Caller, device: Device, play: Play) -> Result<Queue, Problem> {
    let ps = settings(req).await;
    let (new, limit) = new_playback(req, c, &ps, device, play).await?;
    let v = req
        .session
        .store
        .music()
        .playback_create(new, ps.limits, req.now_ms())
        .await
        .map_err(|e| Problem::Playback(e, String::new()))?;
    let window = v.session.window(limit);
    Ok(Queue::new(req, &ps, v, &window))
}

/// What a [`Play`] asks for, checked in order: the tier, `limit`, the MRNs, the entities, the tier's access
/// to them. Returns the new session and the window size.
async fn new_playback(
    req: &ApiRequest,
    c: &Caller,
    ps: &PlaySettings,
    device: Device,
    play: Play,
) -> Result<(NewPlayback, usize), Problem> {
    let tier = tier(c)?;
    let max = ps.max_window;
    let limit = match play.limit {
        None => DEFAULT_WINDOW.min(max),
        Some(n) if n >= 1 && n <= max as i64 => n as usize,
        Some(_) => return Err(Problem::bad_request(format!("limit must be an integer from 1 to {max}."))),
    };
    let (kind, id) = parse_mrn("playParams.id", &play.mrn)?;
    let mut containers = Vec::new();
    for (n, cid) in play.containers.iter().enumerate() {
        let (ck, cid) = parse_mrn(&format!("playParams.containerIds[{n}]"), cid)?;
        if ck == MrnKind::Track {
            return Err(Problem::bad_request(format!(
                "playParams.containerIds[{n}] is a track; a container is an album, playlist or artist."
            )));
        }
        containers.push((ck, cid));
    }
    let station = play.station;
    let resolved = resolve(req, c, kind, id, station).await?;
    // A track played from a container: the container's tracks, starting at the track.
    let (tracks, start, artists) = match containers.first() {
        Some(&(ck, cid)) if kind == MrnKind::Track => {
            let from = resolve(req, c, ck, cid, station).await?;
            let at = from
                .tracks
                .iter()
                .position(|t| t.track_id == id)
                .ok_or_else(|| Problem::bad_request(format!("Track {id} is not in container {cid}.")))?;
            for &(k, i) in &containers[1..] {
                resolve(req, c, k, i, station).await?;
            }
            (from.tracks, Some(at), resolved.artists)
        }
        _ => {
            for &(k, i) in &containers {
                resolve(req, c, k, i, station).await?;
            }
            let start = (kind == MrnKind::Track).then_some(0);
            (resolved.tracks, start, resolved.artists)
        }
    };
    let cat = req.catalog();
    let (tracks, start) = if station {
        // A station starts with the track it was started from, if any, then related music.
        let lead: Vec<QueueTrack> = start.map(|s| tracks[s].clone()).into_iter().collect();
        let mut all = lead.clone();
        all.extend(station_tracks(cat, &artists, &lead, STATION_SIZE - lead.len()));
        (all, start.map(|_| 0))
    } else {
        (tracks, start)
    };
    let autoplay = play.autoplay && !station;
    let new = NewPlayback {
        user: c.user_id().to_owned(),
        device_id: device.id,
        tier,
        capabilities: device.capabilities,
        source: play.mrn.clone(),
        autoplay_tail: autoplay.then(|| station_tracks(cat, &artists, &tracks, AUTOPLAY_SIZE)),
        tracks,
        start,
        shuffle: play.shuffle,
        loop_all: play.loop_all,
        station,
    };
    Ok((new, limit))
}

/// The caller's sessions that hold a slot (V1's and V2's alike), each showing its current entity.
pub async fn active(req: &ApiRequest, c: &Caller) -> Vec<Queue> {
    let views = req.session.store.music().playback_active(c.user_id(), req.now_ms()).await;
    let ps = settings(req).await;
    views
        .into_iter()
        .map(|v| {
            let current: Vec<usize> = v.session.order.get(v.session.position).copied().into_iter().collect();
            Queue::new(req, &ps, v, &current)
        })
        .collect()
}

/// Runs `op` on the caller's session `id` and shows what `show` says. A `limit` is checked before the
/// operation runs; the entity of [`Show::From`] is looked up after it.
///
/// # Errors
/// [`Problem::BadRequest`] for `limit`; [`Problem::Playback`] when the rules refuse `op`;
/// [`Problem::NotFound`] ([`Noun::QueueEntity`]) for an entity the queue does not hold.
pub async fn apply(req: &ApiRequest, c: &Caller, id: &str, op: PlaybackOp, show: Show<'_>) -> Result<Queue, Problem> {
    let ps = settings(req).await;
    let limit = match show {
        Show::Window(raw) | Show::From(_, raw) => query_limit(raw, ps.max_window)?,
        // The current entity is a window of one; the whole queue takes no limit.
        Show::Current | Show::Queue => 1,
    };
    let v = req
        .session
        .store
        .music()
        .playback_apply(c.user_id(), id, op, ps.limits, req.now_ms())
        .await
        .map_err(|e| Problem::Playback(e, id.to_owned()))?;
    let items = match show {
        Show::Current | Show::Window(_) => v.session.window(limit),
        Show::From(entity, _) => {
            let at = v.session.position_of(entity).ok_or_else(|| Problem::not_found(Noun::QueueEntity, entity))?;
            v.session.window_from(at, limit)
        }
        Show::Queue => v.session.order.clone(),
    };
    Ok(Queue::new(req, &ps, v, &items))
}

/// Takes a slot again for session `id` on `device` (from any state; the session moves to that device) and
/// shows the window from the current entity.
///
/// # Errors
/// As [`apply`].
pub async fn restore(
    req: &ApiRequest,
    c: &Caller,
    id: &str,
    device: Device,
    limit: Option<&str>,
) -> Result<Queue, Problem> {
    apply(req, c, id, PlaybackOp::Restore { device_id: device.id }, Show::Window(limit)).await
}

/// Queues the tracks of `mrn` (an [`EnqueueBody`]'s) right after the current entity (`next`) or last; shows
/// the whole queue.
///
/// # Errors
/// [`Problem::BadRequest`] for the MRN, [`Problem::NotFound`] for its entity, [`Problem::Disabled`] for a
/// catalog playlist outside the tier, then as [`apply`].
pub async fn enqueue(req: &ApiRequest, c: &Caller, id: &str, mrn: &str, next: bool) -> Result<Queue, Problem> {
    let (kind, eid) = parse_mrn("playParams.id", mrn)?;
    let tracks = resolve(req, c, kind, eid, false).await?.tracks;
    apply(req, c, id, PlaybackOp::Enqueue { tracks, next }, Show::Queue).await
}

/// Checks one event ([`check_event`]) and records it; answers how many were recorded (1).
///
/// # Errors
/// [`Problem::BadRequest`] for the event; [`Problem::Playback`] for a `metricId` no session has.
pub async fn report_event(req: &ApiRequest, c: &Caller, b: EventBody) -> Result<usize, Problem> {
    let e = check_event("", b)?;
    report(req, c, vec![e]).await
}

/// Checks a batch ([`check_events`]) and records it, all or none; answers how many were recorded.
///
/// # Errors
/// As [`report_event`].
pub async fn report_events(req: &ApiRequest, c: &Caller, b: EventsBody) -> Result<usize, Problem> {
    report(req, c, check_events(b)?).await
}

async fn report(req: &ApiRequest, c: &Caller, events: Vec<NewPlaybackEvent>) -> Result<usize, Problem> {
    let limits = settings(req).await.limits;
    let n = events.len();
    req.session
        .store
        .music()
        .playback_report(c.user_id(), events, limits, req.now_ms())
        .await
        .map_err(|e| Problem::Playback(e, String::new()))?;
    Ok(n)
}

/// Notes an accepted report's event types (`start`, `stop`) in its journal entry, for the client rules
/// (`playback-events`); the body is read again (with `parse`: one event or a batch) only when the report was
/// recorded.
pub fn note_event_types(mut resp: Response, body: &ApiBody, parse: fn(&[u8]) -> Option<Vec<EventBody>>) -> Response {
    if !resp.status().is_success() {
        return resp;
    }
    if let Some(events) = body.read().ok().and_then(parse) {
        let kinds: Vec<String> = events.iter().filter_map(|e| e.kind().map(str::to_owned)).collect();
        crate::context::note(&mut resp, |n| n.facts.playback_events = kinds);
    }
    resp
}

// ---- for the stream routes -------------------------------------------------------------------------------

/// Whether a stream request with this signed query may be served, by the concurrency rule: a URL minted for
/// a playback session (`ps=` in the query) is served only while that session may stream (not ended,
/// pre-empted by another device, or idle past its timeout), and serving it counts as the session's activity.
/// A URL without `ps` is not bound to a session and is always permitted. Call it after `stream::verify`.
///
/// # Errors
/// [`StreamDenied`], which the stream routes answer in their own shape.
pub async fn stream_permit(session: &Session, query: Option<&str>) -> Result<(), StreamDenied> {
    match query_param(query, "ps") {
        None => Ok(()),
        Some(ps) => session.store.music().stream_permit(ps, session.store.now_ms()).await,
    }
}
