//! Web Playback V2 (spec `music-api.md` §5.3, §6.2, §11.3), scope `music::playback`: queues. A V2 queue is a
//! playback session of `store::playback` (the same rules as V1: tiers, skips, the concurrency slots shared
//! with V1 sessions, idle expiry, events feeding the history); its `id` is the session id, and the stream
//! URLs of its entities are bound to it. This file reads V2 requests and renders V2 answers; the request
//! bodies and headers are V1's (`music::playback`), with V2's loop modes `LOOP_ALL`/`LOOP_OFF`.
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
use crate::api::{ApiBody, ApiPath, Caller, Requires};
use crate::store::playback::{MAX_QUEUE, PlaybackError, PlaybackOp, PlaybackState, PlaybackView};
use crate::v1::playback::{
    CreateBody, EnqueueBody, EventBody, EventsBody, LoopWire, Mint, PlaySettings, ShuffleBody, check_event,
    check_events, device, enqueued_tracks, mint, new_playback, note_event_types, query_limit, report, settings,
    stream_url,
};

/// The documented message of 429 `MAX_CONCURRENCY_REACHED` (§5.3, §6.2).
pub const CONCURRENT_STREAMS: &str = "Concurrent stream limit exceeded";

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

// ---- rendering ---------------------------------------------------------------------------------------

/// Entity `item` of the queue: `{_type:"Playable", queueId, entityReferenceId, metricId, entity: Track,
/// durationSeconds, mediaMetadata{url, drmType, mediaType}, actions}`.
fn playable(ctx: &V2Ctx, mint: &Mint, v: &PlaybackView, item: usize) -> Value {
    let s = &v.session;
    let it = &s.items[item];
    let cat = ctx.catalog();
    let entity = cat
        .track(&it.track_id)
        .map_or_else(|| json!({ "_type": "Track", "id": it.track_id }), |t| entities::track(cat, t));
    json!({
        "_type": "Playable",
        "queueId": s.session_id,
        "entityReferenceId": it.entity_reference_id,
        "metricId": it.metric_id,
        "entity": entity,
        "durationSeconds": it.duration_seconds,
        "mediaMetadata": { "url": stream_url(ctx, mint, s, &it.track_id), "drmType": "NONE", "mediaType": "DASH" },
        "actions": v.actions,
    })
}

fn playback_state(ctx: &V2Ctx, v: &PlaybackView) -> &'static str {
    match v.session.state_at(ctx.now_ms()) {
        PlaybackState::Active => "PLAYING",
        PlaybackState::Preempted => "PREEMPTED",
        PlaybackState::Replaced => "REPLACED",
        PlaybackState::Stopped => "STOPPED",
        PlaybackState::Expired => "EXPIRED",
    }
}

fn loop_mode(v: &PlaybackView) -> &'static str {
    if v.session.loop_all { "LOOP_ALL" } else { "LOOP_OFF" }
}

fn shuffle_mode(v: &PlaybackView) -> &'static str {
    if v.session.shuffle { "SHUFFLE_ON" } else { "SHUFFLE_OFF" }
}

/// The `QueueState` of the queue answers: the documented three keys, then whether it is a station, where the
/// current entity is in the play order and how long that is.
fn queue_state(ctx: &V2Ctx, v: &PlaybackView) -> Value {
    let s = &v.session;
    json!({
        "shuffleMode": shuffle_mode(v),
        "loopMode": loop_mode(v),
        "playbackState": playback_state(ctx, v),
        "playbackContinuationMode": if s.autoplay { "AUTOPLAY_ON" } else { "AUTOPLAY_OFF" },
        "isStation": s.station,
        "position": s.position,
        "size": s.order.len(),
    })
}

/// `{id, queueState, entities}` for the given entities (indices into the queue's items).
fn render(ctx: &V2Ctx, mint: &Mint, v: &PlaybackView, items: &[usize]) -> Value {
    let entities: Vec<Value> = items.iter().map(|&i| playable(ctx, mint, v, i)).collect();
    json!({ "id": v.session.session_id, "queueState": queue_state(ctx, v), "entities": entities })
}

fn whole_queue(ctx: &V2Ctx, mint: &Mint, v: &PlaybackView) -> Value {
    render(ctx, mint, v, &v.session.order)
}

/// The V2 error of a refused queue operation (§5.3, §6.2).
fn queue_error(id: &str, e: PlaybackError) -> V2Error {
    match e {
        PlaybackError::NotFound => V2Error::not_found("Queue", id),
        PlaybackError::NotAllowed(_, message) => V2Error::forbidden(message),
        PlaybackError::NoMoreNext => {
            V2Error::new(Code::NoMoreNextEntity, "No more next entity: the end of the queue was reached")
        }
        PlaybackError::NoMorePrevious => {
            V2Error::new(Code::NoMorePreviousEntity, "No more previous entity: this is the start of the queue")
        }
        PlaybackError::MaxConcurrency => V2Error::new(Code::MaxConcurrencyReached, CONCURRENT_STREAMS),
        PlaybackError::Preempted => V2Error::new(
            Code::MaxConcurrencyReached,
            format!("{CONCURRENT_STREAMS}. Playback moved to another device: create a new queue to play here"),
        ),
        PlaybackError::QueueFull => V2Error::bad_request(format!("A queue holds at most {MAX_QUEUE} entities")),
        PlaybackError::UnknownMetric(m) => {
            V2Error::new(Code::NotFound, format!("The requested metricId {m} was not found."))
        }
    }
}

// ---- routes ------------------------------------------------------------------------------------------

/// `GET /v2/playback/queues/active` → the customer's queues (and V1 sessions) that hold a slot, in the
/// documented `{"data":{"queues":[…]}}` envelope.
pub async fn active(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let views = ctx.session.store.music().playback_active(c.user_id(), ctx.now_ms()).await;
        let cat = ctx.catalog();
        let queues: Vec<Value> = views
            .iter()
            .map(|v| {
                let current = v.session.current().map(|it| {
                    let title = cat.track(&it.track_id).map_or("", |t| &*t.title);
                    json!({ "_type": "Track", "id": it.track_id, "title": title })
                });
                json!({
                    "id": v.session.session_id,
                    "currentEntity": current,
                    "queueState": {
                        "shuffleMode": shuffle_mode(v),
                        "loopMode": loop_mode(v),
                        "playbackState": playback_state(&ctx, v),
                    },
                })
            })
            .collect();
        Ok(json!({ "data": { "queues": queues } }).into())
    })
    .await
}

/// `POST /v2/playback/queues/new` with V1's create body (V2 loop modes) → 201 `{id, queueState, entities}`,
/// the window from the first entity. Checks, in order: the device headers, the body, the MRNs, the entities
/// (404), the tier (403), the concurrency rule (429).
pub async fn create(ctx: V2Ctx, body: ApiBody) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let device = device(&ctx)?;
        let b: CreateBody<LoopMode> = parse_body(body.read()?)?;
        let ps = settings(&ctx).await;
        let (new, limit) = new_playback(&ctx, c, &ps, device, b).await?;
        let v = ctx
            .session
            .store
            .music()
            .playback_create(new, ps.limits, ctx.now_ms())
            .await
            .map_err(|e| queue_error("", e))?;
        Ok(Reply::Created(render(&ctx, &mint(&ctx, &ps), &v, &v.session.window(limit))))
    })
    .await
}

/// Runs `op` on the caller's queue `id` under `ps` and renders the result with `out`.
async fn operate(
    ctx: &V2Ctx,
    c: &Caller,
    ps: &PlaySettings,
    id: &str,
    op: PlaybackOp,
    out: impl FnOnce(&V2Ctx, &Mint, &PlaybackView) -> Result<Value, V2Error>,
) -> Result<(PlaybackView, Value), V2Error> {
    let v = ctx
        .session
        .store
        .music()
        .playback_apply(c.user_id(), id, op, ps.limits, ctx.now_ms())
        .await
        .map_err(|e| queue_error(id, e))?;
    let body = out(ctx, &mint(ctx, ps), &v)?;
    Ok((v, body))
}

/// A navigation route: `op`, then 206 when it restored the queue or the session says every navigation does.
async fn navigate(
    ctx: &V2Ctx,
    c: &Caller,
    ps: &PlaySettings,
    id: &str,
    op: PlaybackOp,
    out: impl FnOnce(&V2Ctx, &Mint, &PlaybackView) -> Result<Value, V2Error>,
) -> Result<Reply, V2Error> {
    let (v, body) = operate(ctx, c, ps, id, op, out).await?;
    Ok(if v.restored || ps.queue_restored { Reply::Restored(body) } else { Reply::Ok(body) })
}

/// `GET /v2/playback/queues/{id}/current` → the current entity.
pub async fn current(ctx: V2Ctx, id: ApiPath<String>) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let ps = settings(&ctx).await;
        navigate(&ctx, c, &ps, id.value()?, PlaybackOp::Resume, |x, m, v| Ok(render(x, m, v, &v.session.window(1))))
            .await
    })
    .await
}

async fn step(ctx: V2Ctx, id: ApiPath<String>, op: PlaybackOp) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.value()?;
        let ps = settings(&ctx).await;
        let n = query_limit(&ctx, ps.max_window)?;
        navigate(&ctx, c, &ps, id, op, |x, m, v| Ok(render(x, m, v, &v.session.window(n)))).await
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
        let ps = settings(&ctx).await;
        navigate(&ctx, c, &ps, id.value()?, PlaybackOp::Resume, |x, m, v| Ok(whole_queue(x, m, v))).await
    })
    .await
}

/// `GET /v2/playback/queues/{id}/entities/{entityReferenceId}?limit=` → the window from that entity in play
/// order; the current entity stays where it is. An unknown reference is 404 `NOT_FOUND`.
pub async fn entities(ctx: V2Ctx, path: ApiPath<(String, String)>) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let (id, entity) = path.value()?;
        let ps = settings(&ctx).await;
        let n = query_limit(&ctx, ps.max_window)?;
        navigate(&ctx, c, &ps, id, PlaybackOp::Resume, |x, m, v| {
            let at = v.session.position_of(entity).ok_or_else(|| V2Error::not_found("Queue entity", entity))?;
            Ok(render(x, m, v, &v.session.window_from(at, n)))
        })
        .await
    })
    .await
}

async fn enqueue(ctx: V2Ctx, id: ApiPath<String>, body: ApiBody, next: bool) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.value()?;
        let b: EnqueueBody = parse_body(body.read()?)?;
        let tracks = enqueued_tracks(&ctx, c, &b).await?;
        let (_, out) = operate(&ctx, c, &settings(&ctx).await, id, PlaybackOp::Enqueue { tracks, next }, |x, m, v| {
            Ok(whole_queue(x, m, v))
        })
        .await?;
        Ok(out.into())
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LoopBody {
    loop_mode: LoopMode,
}

/// `PUT /v2/playback/queues/{id}/loop` with `{"loopMode":"LOOP_ALL"|"LOOP_OFF"}` → the queue; a station (or a
/// tier without loop) is 403 `FORBIDDEN` "Loop is not available for this queue".
pub async fn set_loop(ctx: V2Ctx, id: ApiPath<String>, body: ApiBody) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.value()?;
        let b: LoopBody = parse_body(body.read()?)?;
        let op = PlaybackOp::Loop(b.loop_mode.on());
        Ok(operate(&ctx, c, &settings(&ctx).await, id, op, |x, m, v| Ok(whole_queue(x, m, v))).await?.1.into())
    })
    .await
}

/// `PUT /v2/playback/queues/{id}/shuffle` with `{"shuffleMode":"SHUFFLE_ON"|"SHUFFLE_OFF"}` → the queue.
pub async fn set_shuffle(ctx: V2Ctx, id: ApiPath<String>, body: ApiBody) -> Response {
    ctx.handle(Requires::PLAYBACK, async |c| {
        let id = id.value()?;
        let b: ShuffleBody = parse_body(body.read()?)?;
        let op = PlaybackOp::Shuffle(b.on());
        Ok(operate(&ctx, c, &settings(&ctx).await, id, op, |x, m, v| Ok(whole_queue(x, m, v))).await?.1.into())
    })
    .await
}

/// `POST /v2/playback/events` with `{metricId, event{type, clientTimestampInMilliseconds, …}}` →
/// `{"recorded":1}`.
pub async fn event(ctx: V2Ctx, body: ApiBody) -> Response {
    let resp = ctx
        .handle(Requires::PLAYBACK, async |c| {
            let b: EventBody = parse_body(body.read()?)?;
            let e = check_event("", b)?;
            Ok(report(&ctx, c, vec![e]).await?.into())
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
            Ok(report(&ctx, c, check_events(b)?).await?.into())
        })
        .await;
    note_event_types(resp, &body, |b| serde_json::from_slice::<EventsBody>(b).ok().map(|b| b.events))
}
