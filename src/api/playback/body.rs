//! The JSON bodies of the playback routes, which V1 and V2 share (spec `music-api.md` §4.6, §5.3): what starts
//! playback (each family with its own `loopMode` words, [`LoopWire`]), what queues an MRN, the modes, and
//! the events, with the checks serde cannot make ([`check_event`], [`check_events`]). The type names are the
//! ones serde's messages quote ("expected struct CreateBody"), so they stay.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::MAX_EVENTS;
use crate::api::error::Problem;
use crate::store::playback::{EventType, NewPlaybackEvent};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PlayParams {
    id: String,
    #[serde(default)]
    container_ids: Vec<String>,
}

/// `shuffleMode`: `SHUFFLE_ON` or `SHUFFLE_OFF` (V1 and V2).
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
enum ShuffleMode {
    #[serde(rename = "SHUFFLE_ON")]
    On,
    #[serde(rename = "SHUFFLE_OFF")]
    Off,
}

/// A family's `loopMode` values: V1's `LOOP_ON`/`LOOP_OFF`, V2's `LOOP_ALL`/`LOOP_OFF` (§5.3).
pub trait LoopWire: DeserializeOwned {
    /// Whether it turns looping on.
    fn on(&self) -> bool;
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
struct PlaybackOptions<L> {
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
/// with V2's loop modes; [`Play`] is what it asks for.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBody<L> {
    play_params: PlayParams,
    #[serde(default = "PlaybackOptions::default")]
    playback_options: PlaybackOptions<L>,
    limit: Option<i64>,
}

/// What a request to start playback asks for, in no family's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Play {
    /// The MRN to play (`playParams.id`).
    pub mrn: String,
    /// The MRNs of the containers it is played from (`playParams.containerIds`).
    pub containers: Vec<String>,
    /// Start shuffled.
    pub shuffle: bool,
    /// Start looping the queue.
    pub loop_all: bool,
    /// Start as a station (`startAsStation`).
    pub station: bool,
    /// Autoplay asked for (`AUTOPLAY_ON`; a station has none).
    pub autoplay: bool,
    /// The window size asked for, unchecked.
    pub limit: Option<i64>,
}

impl<L: LoopWire> From<CreateBody<L>> for Play {
    fn from(b: CreateBody<L>) -> Self {
        let o = b.playback_options;
        Play {
            mrn: b.play_params.id,
            containers: b.play_params.container_ids,
            shuffle: o.shuffle_mode == Some(ShuffleMode::On),
            loop_all: o.loop_mode.as_ref().is_some_and(LoopWire::on),
            station: o.start_as_station,
            autoplay: o.playback_continuation_mode == Some(Continuation::On),
            limit: b.limit,
        }
    }
}

/// `{"playParams":{"id": MRN}}`: what `…/next` and `…/last` queue (V1 and V2).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnqueueBody {
    play_params: EnqueueParams,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnqueueParams {
    id: String,
}

impl EnqueueBody {
    /// The MRN to queue.
    pub fn mrn(&self) -> &str {
        &self.play_params.id
    }
}

/// `{"shuffleMode":"SHUFFLE_ON"|"SHUFFLE_OFF"}` (V1 and V2).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShuffleBody {
    shuffle_mode: ShuffleMode,
}

impl ShuffleBody {
    /// Whether it turns shuffle on.
    pub fn on(&self) -> bool {
        self.shuffle_mode == ShuffleMode::On
    }
}

/// One reported event: `{metricId, event}` (V1 and V2).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventBody {
    metric_id: String,
    event: Map<String, Value>,
}

impl EventBody {
    /// The event's `type` as sent, when it is text.
    pub fn kind(&self) -> Option<&str> {
        self.event.get("type").and_then(Value::as_str)
    }
}

/// `{events: […]}` (V1 and V2).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsBody {
    /// The events, in order.
    pub events: Vec<EventBody>,
}

/// Checks one event (§4.6): `type` `start`|`stop`, `clientTimestampInMilliseconds` a whole number ≥ 0, the
/// documented numeric fields numbers ≥ 0 and the text fields strings when present; other keys are kept.
/// `at` starts the detail of a refusal (`events[2]: ` in a batch).
///
/// # Errors
/// [`Problem::BadRequest`] naming the first field that is wrong.
pub fn check_event(at: &str, b: EventBody) -> Result<NewPlaybackEvent, Problem> {
    let bad = |detail: String| Problem::bad_request(format!("{at}{detail}"));
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

/// Checks a batch: 1 to [`MAX_EVENTS`] events, each as [`check_event`], all or none.
///
/// # Errors
/// [`Problem::BadRequest`] for a batch out of range or the first event that is wrong.
pub fn check_events(b: EventsBody) -> Result<Vec<NewPlaybackEvent>, Problem> {
    if b.events.is_empty() || b.events.len() > MAX_EVENTS {
        return Err(Problem::bad_request(format!(
            "events must hold 1 to {MAX_EVENTS} events; got {}.",
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
