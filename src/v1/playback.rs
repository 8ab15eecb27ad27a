//! Web Playback V1 (spec `music-api.md` §2.1, §3.4, §4.6, §5.3, §8, §11.2), scope `music::playback`: V1's wire
//! over the core's playback sessions (`api::playback`: the device headers, MRNs, the operations, with the
//! rules in `store::playback`). This file reads V1's requests (the bodies are the core's, with V1's loop
//! modes `LOOP_ON`/`LOOP_OFF`) and renders the core's answers as V1's JSON: `{sessionId, queueState,
//! entities}` with V1 Playables. A refusal is the core's `Problem`, in V1's words (`error.rs`).
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
//! The stream routes check a URL's `ps` with `api::playback::stream_permit` and answer its refusals themselves.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{V1Body, V1Ctx, V1Path, parse_body};
use crate::api::Requires;
use crate::api::playback::{
    self, CreateBody, Device, EnqueueBody, EventBody, EventsBody, LoopWire, Playable, Queue, Show, ShuffleBody,
    note_event_types,
};
use crate::catalog::play_params_id;
use crate::store::playback::{PlaybackOp, PlaybackState};

/// V1's `loopMode` (`LOOP_ON|LOOP_OFF`).
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
enum LoopMode {
    #[serde(rename = "LOOP_ON")]
    On,
    #[serde(rename = "LOOP_OFF")]
    Off,
}

impl LoopWire for LoopMode {
    fn on(&self) -> bool {
        *self == LoopMode::On
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LoopBody {
    loop_mode: LoopMode,
}

// ---- rendering ---------------------------------------------------------------------------------------

/// The V1 Playable of an entity of queue `q` (§4.6 🟡 [NEX], with the old revision's `sessionId` and
/// `entityReferenceId`): its DASH manifest URL is signed with the session bound in (`ps`) and the qualities
/// the tier and the device's capabilities allow (`q`).
fn playable(ctx: &V1Ctx, q: &Queue, p: &Playable) -> Value {
    let it = &p.item;
    let cat = ctx.catalog();
    let track = cat.track(&it.track_id);
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
        "sessionId": q.session.session_id,
        "entityReferenceId": it.entity_reference_id,
        "metricId": it.metric_id,
        "id": it.track_id,
        "asin": it.track_id,
        "title": track.map_or("", |t| &*t.title),
        "artists": artists,
        "album": album,
        "durationSeconds": it.duration_seconds,
        "playParams": { "id": play_params_id("track", &it.track_id) },
        "mediaMetadata": { "url": p.url, "drmType": "NONE", "mediaType": "DASH" },
        "actions": q.actions,
    })
}

/// `queueState`: modes (the request's enums), whether it is a station, the slot state, and where the current
/// entity is in the play order.
fn queue_state(q: &Queue) -> Value {
    let s = &q.session;
    let state = match q.state {
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
        "size": q.size(),
    })
}

/// `{sessionId, queueState, entities}`: the entities the core's answer shows.
fn render(ctx: &V1Ctx, q: &Queue) -> Value {
    let entities: Vec<Value> = q.entities.iter().map(|p| playable(ctx, q, p)).collect();
    json!({ "sessionId": q.session.session_id, "queueState": queue_state(q), "entities": entities })
}

/// A session of `GET /v1/playback/sessions/active`: `{sessionId, deviceId, currentEntity, queueState}`.
fn active_session(ctx: &V1Ctx, q: &Queue) -> Value {
    json!({
        "sessionId": q.session.session_id,
        "deviceId": q.session.device_id,
        "currentEntity": q.entities.first().map(|p| playable(ctx, q, p)),
        "queueState": queue_state(q),
    })
}

// ---- routes ------------------------------------------------------------------------------------------

/// `POST /v1/playback/sessions`. Checks, in order: the device headers, the body, the MRNs, the entities
/// (404), the tier (403), the concurrency rule (429).
pub async fn create(ctx: V1Ctx, body: V1Body) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let device = Device::from_headers(&ctx.headers)?;
        let b: CreateBody<LoopMode> = parse_body(body.bytes()?)?;
        Ok(render(&ctx, &playback::create(&ctx, c, device, b.into()).await?))
    })
    .await
}

/// `GET /v1/playback/sessions/active` → `{sessions: [{sessionId, deviceId, currentEntity, queueState}]}`.
pub async fn active(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let sessions: Vec<Value> = playback::active(&ctx, c).await.iter().map(|q| active_session(&ctx, q)).collect();
        Ok(json!({ "sessions": sessions }))
    })
    .await
}

/// `GET /v1/playback/sessions/{id}/current` → the current entity.
pub async fn current(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        Ok(render(&ctx, &playback::apply(&ctx, c, id.get()?, PlaybackOp::Read, Show::Current).await?))
    })
    .await
}

/// `GET /v1/playback/sessions/{id}/queue` → every entity in play order; `queueState.position` is the current.
pub async fn queue(ctx: V1Ctx, id: V1Path<String>) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        Ok(render(&ctx, &playback::apply(&ctx, c, id.get()?, PlaybackOp::Read, Show::Queue).await?))
    })
    .await
}

async fn step(ctx: V1Ctx, id: V1Path<String>, op: PlaybackOp) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let limit = ctx.query_param("limit");
        Ok(render(&ctx, &playback::apply(&ctx, c, id.get()?, op, Show::Window(limit.as_deref())).await?))
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
        let device = Device::from_headers(&ctx.headers)?;
        let limit = ctx.query_param("limit");
        Ok(render(&ctx, &playback::restore(&ctx, c, id, device, limit.as_deref()).await?))
    })
    .await
}

async fn enqueue(ctx: V1Ctx, id: V1Path<String>, body: V1Body, next: bool) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.get()?;
        let b: EnqueueBody = parse_body(body.bytes()?)?;
        Ok(render(&ctx, &playback::enqueue(&ctx, c, id, b.mrn(), next).await?))
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

/// `PUT /v1/playback/sessions/{id}/loop` with `{"loopMode":"LOOP_ON"|"LOOP_OFF"}` → the queue.
pub async fn set_loop(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.get()?;
        let b: LoopBody = parse_body(body.bytes()?)?;
        let op = PlaybackOp::Loop(b.loop_mode.on());
        Ok(render(&ctx, &playback::apply(&ctx, c, id, op, Show::Queue).await?))
    })
    .await
}

/// `PUT /v1/playback/sessions/{id}/shuffle` with `{"shuffleMode":"SHUFFLE_ON"|"SHUFFLE_OFF"}` → the queue.
pub async fn set_shuffle(ctx: V1Ctx, id: V1Path<String>, body: V1Body) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.get()?;
        let b: ShuffleBody = parse_body(body.bytes()?)?;
        let op = PlaybackOp::Shuffle(b.on());
        Ok(render(&ctx, &playback::apply(&ctx, c, id, op, Show::Queue).await?))
    })
    .await
}

/// `POST /v1/playback/event` with `{metricId, event{type, clientTimestampInMilliseconds, …}}` → `{recorded: 1}`.
pub async fn event(ctx: V1Ctx, body: V1Body) -> Response {
    let resp = ctx
        .handle(Requires::PLAYBACK, async |c| {
            let b: EventBody = parse_body(body.bytes()?)?;
            Ok(json!({ "recorded": playback::report_event(&ctx, c, b).await? }))
        })
        .await;
    note_event_types(resp, &body, |b| serde_json::from_slice::<EventBody>(b).ok().map(|e| vec![e]))
}

/// `POST /v1/playback/events` with `{events: [{metricId, event}, …]}` (1–100, all or none) → `{recorded: n}`.
pub async fn events(ctx: V1Ctx, body: V1Body) -> Response {
    let resp = ctx
        .handle(Requires::PLAYBACK, async |c| {
            let b: EventsBody = parse_body(body.bytes()?)?;
            Ok(json!({ "recorded": playback::report_events(&ctx, c, b).await? }))
        })
        .await;
    note_event_types(resp, &body, |b| serde_json::from_slice::<EventsBody>(b).ok().map(|b| b.events))
}
