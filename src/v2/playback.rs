//! Web Playback V2 (spec `music-api.md` §5.3, §6.2, §11.3), scope `music::playback`: queues. A V2 queue is a
//! playback session of the core (`api::playback`, over `store::playback`: the same rules as V1's sessions:
//! tiers, skips, the concurrency slots shared with V1 sessions, idle expiry, events feeding the history); its
//! `id` is the session id, and the stream URLs of its entities are bound to it. This file reads V2 requests
//! (the bodies are the core's, with V2's loop modes `LOOP_ALL`/`LOOP_OFF`) and renders the core's answers as
//! V2 JSON; a refusal is the core's `Problem` in V2's words (`error.rs`).
//!
//! | Route (under `/v2`) | Does |
//! |---|---|
//! | `GET /playback/queues/active` | `{"data":{"queues":[{id, currentEntity{_type,id,title}, queueState}]}}` (the documented envelope) |
//! | `POST /playback/queues/new` | create: device headers, `playParams`, `playbackOptions`, `limit` → 201 and the first entries |
//! | `GET /playback/queues/{id}/current` | the current entity |
//! | `GET /playback/queues/{id}/next?limit=`, `…/previous?limit=` | move one entity, answer a window |
//! | `GET /playback/queues/{id}/view` | the whole queue in play order |
//! | `GET /playback/queues/{id}/entities/{entityReferenceId}?limit=` | a window from that entity (nothing moves) |
//! | `POST /playback/queues/{id}/next`, `…/last` | queue an MRN's tracks next or last |
//! | `PUT /playback/queues/{id}/loop`, `…/shuffle` | modes |
//! | `POST /playback/events`, `POST /playback/events/batch` | report start/stop events |
//!
//! The five navigation routes answer **206** ("Queue was restored before returning") when they took a slot
//! again for a queue that had given it up (idle past the timeout, stopped, or replaced by the same device),
//! and always while the session setting `playback_queue_restored` is on; a queue pre-empted by another device
//! is not restored (429 `MAX_CONCURRENCY_REACHED`; create a new queue to play here).

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::entities;
use super::error::{Code, V2Error};
use super::{Reply, V2Ctx, parse_body};
use crate::api::playback::{
    self, CreateBody, Device, EnqueueBody, EventBody, EventsBody, LoopWire, Playable, Queue, Show, ShuffleBody,
    note_event_types,
};
use crate::api::{ApiBody, ApiPath, Noun, Problem, Requires};
use crate::store::playback::{PlaybackOp, PlaybackState};

/// V2's `loopMode` (§5.3: `LOOP_OFF|LOOP_ALL`).
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
enum LoopMode {
    #[serde(rename = "LOOP_ALL")]
    All,
    #[serde(rename = "LOOP_OFF")]
    Off,
}

impl LoopWire for LoopMode {
    fn on(&self) -> bool {
        *self == LoopMode::All
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LoopBody {
    loop_mode: LoopMode,
}

/// The core's problem in V2's words, but for an MRN that names nothing (creating a queue, queueing next or
/// last): V2's queues answer that 404 `NOT_FOUND` in V1's words ("The requested track … was not found."), as
/// they always have.
fn mrn_problem(p: Problem) -> V2Error {
    match p {
        Problem::NotFound(noun @ (Noun::Track | Noun::Album | Noun::Artist | Noun::Playlist), id) => {
            V2Error::new(Code::NotFound, format!("The requested {} {id} was not found.", noun.v1()))
        }
        p => p.into(),
    }
}

// ---- rendering ---------------------------------------------------------------------------------------

/// An entity of queue `q`: `{_type:"Playable", queueId, entityReferenceId, metricId, entity: Track,
/// durationSeconds, mediaMetadata{url, drmType, mediaType}, actions}`.
fn playable(ctx: &V2Ctx, q: &Queue, p: &Playable) -> Value {
    let it = &p.item;
    let cat = ctx.catalog();
    let entity = cat
        .track(&it.track_id)
        .map_or_else(|| json!({ "_type": "Track", "id": it.track_id }), |t| entities::track(cat, t));
    json!({
        "_type": "Playable",
        "queueId": q.session.session_id,
        "entityReferenceId": it.entity_reference_id,
        "metricId": it.metric_id,
        "entity": entity,
        "durationSeconds": it.duration_seconds,
        "mediaMetadata": { "url": p.url, "drmType": "NONE", "mediaType": "DASH" },
        "actions": q.actions,
    })
}

fn playback_state(q: &Queue) -> &'static str {
    match q.state {
        PlaybackState::Active => "PLAYING",
        PlaybackState::Preempted => "PREEMPTED",
        PlaybackState::Replaced => "REPLACED",
        PlaybackState::Stopped => "STOPPED",
        PlaybackState::Expired => "EXPIRED",
    }
}

fn loop_mode(q: &Queue) -> &'static str {
    if q.session.loop_all { "LOOP_ALL" } else { "LOOP_OFF" }
}

fn shuffle_mode(q: &Queue) -> &'static str {
    if q.session.shuffle { "SHUFFLE_ON" } else { "SHUFFLE_OFF" }
}

/// The `QueueState` of the queue answers: the documented three keys, then whether it is a station, where the
/// current entity is in the play order and how long that is.
fn queue_state(q: &Queue) -> Value {
    json!({
        "shuffleMode": shuffle_mode(q),
        "loopMode": loop_mode(q),
        "playbackState": playback_state(q),
        "playbackContinuationMode": if q.session.autoplay { "AUTOPLAY_ON" } else { "AUTOPLAY_OFF" },
        "isStation": q.session.station,
        "position": q.session.position,
        "size": q.size(),
    })
}

/// `{id, queueState, entities}`: the entities the core's answer shows.
fn render(ctx: &V2Ctx, q: &Queue) -> Value {
    let entities: Vec<Value> = q.entities.iter().map(|p| playable(ctx, q, p)).collect();
    json!({ "id": q.session.session_id, "queueState": queue_state(q), "entities": entities })
}

/// A queue of `GET /v2/playback/queues/active`: `{id, currentEntity{_type, id, title}, queueState}` with the
/// documented three keys of the queue state.
fn active_queue(ctx: &V2Ctx, q: &Queue) -> Value {
    let current = q.entities.first().map(|p| {
        let title = ctx.catalog().track(&p.item.track_id).map_or("", |t| &*t.title);
        json!({ "_type": "Track", "id": p.item.track_id, "title": title })
    });
    let state = json!({ "shuffleMode": shuffle_mode(q), "loopMode": loop_mode(q), "playbackState": playback_state(q) });
    json!({ "id": q.session.session_id, "currentEntity": current, "queueState": state })
}

/// A navigation's answer: 206 when it restored the queue or the session says every navigation does.
fn navigated(ctx: &V2Ctx, q: &Queue) -> Reply {
    if q.restored { Reply::Restored(render(ctx, q)) } else { Reply::Ok(render(ctx, q)) }
}

// ---- routes ------------------------------------------------------------------------------------------

/// `GET /v2/playback/queues/active` → the customer's queues (and V1 sessions) that hold a slot, in the
/// documented `{"data":{"queues":[…]}}` envelope.
pub async fn active(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let queues: Vec<Value> = playback::active(&ctx, c).await.iter().map(|q| active_queue(&ctx, q)).collect();
        Ok(json!({ "data": { "queues": queues } }).into())
    })
    .await
}

/// `POST /v2/playback/queues/new` with V1's create body (V2 loop modes) → 201 `{id, queueState, entities}`,
/// the window from the first entity. Checks, in order: the device headers, the body, the MRNs, the entities
/// (404), the tier (403), the concurrency rule (429).
pub async fn create(ctx: V2Ctx, body: ApiBody) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let device = Device::from_headers(&ctx.headers)?;
        let b: CreateBody<LoopMode> = parse_body(body.read()?)?;
        let q = playback::create(&ctx, c, device, b.into()).await.map_err(mrn_problem)?;
        Ok(Reply::Created(render(&ctx, &q)))
    })
    .await
}

/// `GET /v2/playback/queues/{id}/current` → the current entity.
pub async fn current(ctx: V2Ctx, id: ApiPath<String>) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        Ok(navigated(&ctx, &playback::apply(&ctx, c, id.value()?, PlaybackOp::Resume, Show::Current).await?))
    })
    .await
}

async fn step(ctx: V2Ctx, id: ApiPath<String>, op: PlaybackOp) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let limit = ctx.query_param("limit");
        Ok(navigated(&ctx, &playback::apply(&ctx, c, id.value()?, op, Show::Window(limit.as_deref())).await?))
    })
    .await
}

/// `GET /v2/playback/queues/{id}/next?limit=` → advances one entity; the window from the new current one.
pub async fn next(ctx: V2Ctx, id: ApiPath<String>) -> Response {
    step(ctx, id, PlaybackOp::Next).await
}

/// `GET /v2/playback/queues/{id}/previous?limit=` → goes back one entity; the window from there.
pub async fn previous(ctx: V2Ctx, id: ApiPath<String>) -> Response {
    step(ctx, id, PlaybackOp::Previous).await
}

/// `GET /v2/playback/queues/{id}/view` → every entity in play order; `queueState.position` is the current.
pub async fn view(ctx: V2Ctx, id: ApiPath<String>) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        Ok(navigated(&ctx, &playback::apply(&ctx, c, id.value()?, PlaybackOp::Resume, Show::Queue).await?))
    })
    .await
}

/// `GET /v2/playback/queues/{id}/entities/{entityReferenceId}?limit=` → the window from that entity in play
/// order; the current entity stays where it is. An unknown reference is 404 `NOT_FOUND`.
pub async fn entities(ctx: V2Ctx, path: ApiPath<(String, String)>) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let (id, entity) = path.value()?;
        let limit = ctx.query_param("limit");
        let show = Show::From(entity, limit.as_deref());
        Ok(navigated(&ctx, &playback::apply(&ctx, c, id, PlaybackOp::Resume, show).await?))
    })
    .await
}

async fn enqueue(ctx: V2Ctx, id: ApiPath<String>, body: ApiBody, next: bool) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.value()?;
        let b: EnqueueBody = parse_body(body.read()?)?;
        let q = playback::enqueue(&ctx, c, id, b.mrn(), next).await.map_err(mrn_problem)?;
        Ok(render(&ctx, &q).into())
    })
    .await
}

/// `POST /v2/playback/queues/{id}/next` with `{"playParams":{"id": MRN}}` → its tracks play next; the queue.
pub async fn queue_next(ctx: V2Ctx, id: ApiPath<String>, body: ApiBody) -> Response {
    enqueue(ctx, id, body, true).await
}

/// `POST /v2/playback/queues/{id}/last` with `{"playParams":{"id": MRN}}` → its tracks play last; the queue.
pub async fn queue_last(ctx: V2Ctx, id: ApiPath<String>, body: ApiBody) -> Response {
    enqueue(ctx, id, body, false).await
}

/// `PUT /v2/playback/queues/{id}/loop` with `{"loopMode":"LOOP_ALL"|"LOOP_OFF"}` → the queue; a station (or a
/// tier without loop) is 403 `FORBIDDEN` "Loop is not available for this queue".
pub async fn set_loop(ctx: V2Ctx, id: ApiPath<String>, body: ApiBody) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.value()?;
        let b: LoopBody = parse_body(body.read()?)?;
        let op = PlaybackOp::Loop(b.loop_mode.on());
        Ok(render(&ctx, &playback::apply(&ctx, c, id, op, Show::Queue).await?).into())
    })
    .await
}

/// `PUT /v2/playback/queues/{id}/shuffle` with `{"shuffleMode":"SHUFFLE_ON"|"SHUFFLE_OFF"}` → the queue.
pub async fn set_shuffle(ctx: V2Ctx, id: ApiPath<String>, body: ApiBody) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.value()?;
        let b: ShuffleBody = parse_body(body.read()?)?;
        let op = PlaybackOp::Shuffle(b.on());
        Ok(render(&ctx, &playback::apply(&ctx, c, id, op, Show::Queue).await?).into())
    })
    .await
}

/// `POST /v2/playback/events` with `{metricId, event{type, clientTimestampInMilliseconds, …}}` →
/// `{"recorded":1}`.
pub async fn event(ctx: V2Ctx, body: ApiBody) -> Response {
    let resp = ctx
        .handle(Requires::PLAYBACK, async |c| {
            let b: EventBody = parse_body(body.read()?)?;
            Ok(json!({ "recorded": playback::report_event(&ctx, c, b).await? }).into())
        })
        .await;
    note_event_types(resp, &body, |b| serde_json::from_slice::<EventBody>(b).ok().map(|e| vec![e]))
}

/// `POST /v2/playback/events/batch` with `{events: [{metricId, event}, …]}` (1–100, all or none) →
/// `{"recorded": n}`.
pub async fn events(ctx: V2Ctx, body: ApiBody) -> Response {
    let resp = ctx
        .handle(Requires::PLAYBACK, async |c| {
            let b: EventsBody = parse_body(body.read()?)?;
            Ok(json!({ "recorded": playback::report_events(&ctx, c, b).await? }).into())
        })
        .await;
    note_event_types(resp, &body, |b| serde_json::from_slice::<EventsBody>(b).ok().map(|b| b.events))
}
