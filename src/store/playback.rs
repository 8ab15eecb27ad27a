//! Playback sessions (spec `music-api.md` §3.4 Action, §4.6, §5.3, §8, §11.2): the server-owned queue, the
//! actions each subscription tier gets, the hourly skip budget, the concurrency slots and the recorded events.
//!
//! Pure data and rules: no locks, no clock, no randomness of its own. A store keeps one [`UserPlayback`] per
//! customer and runs one of its methods per transaction, passing the virtual time, the session's limits and a
//! source of fresh UUIDs; a file-backed or shared store would load, apply and save the same value.
//!
//! # States and the concurrency rule
//!
//! A session is `ACTIVE` while it holds one of the customer's playback slots (`PlaybackLimits::max_sessions`,
//! default 1). It stops holding it when another device's start-up conflicts with it (`PREEMPTED`), when the
//! same device starts a new session (`REPLACED`), after a `stop` event with a terminal reason (`STOPPED`), or
//! after `idle_timeout_ms` of the virtual clock without an operation, event or stream request (`EXPIRED`,
//! decided lazily whenever the customer's sessions are looked at). Starting playback when every slot is held
//! by other devices fails with [`PlaybackError::MaxConcurrency`] *and* pre-empts the least recently active of
//! them, so that its next stream request is refused ([`UserPlayback::permit`]).

use serde::Serialize;

use crate::fixtures::Tier;
use crate::stream::Capabilities;

/// Skips a Prime or Free customer gets per window (§3.4: "usually reset to the default of 6 … after 60 minutes").
pub const SKIPS_PER_WINDOW: u32 = 6;
/// How long after the first skip of a window the budget is refilled, virtual milliseconds.
pub const SKIP_WINDOW_MS: i64 = 60 * 60 * 1000;
/// The most entities a queue holds.
pub const MAX_QUEUE: usize = 500;
/// Sessions kept per customer; beyond it the oldest that hold no slot are forgotten.
pub const KEPT_SESSIONS: usize = 50;
/// Events kept per customer; beyond it the oldest are forgotten.
pub const KEPT_EVENTS: usize = 10_000;
/// `stop` reasons that end a session (it gives its slot up). Others (`userPause`, `userNext`, …) do not.
pub const TERMINAL_REASONS: [&str; 4] = ["userStop", "endOfQueue", "appClosed", "error"];
/// The `stop` reason that marks the entity as played to its end (its `next` is then not a skip).
pub const FINISHED_REASON: &str = "trackFinished";

/// Why an action is not allowed (§3.4 `disableType`). Also the code of the 403 a refused operation gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DisableType {
    /// The hourly skip budget is used up.
    NoMoreSkips,
    /// The tier has no on-demand access to the catalog.
    NeedAmazonMusicUnlimitedCatalogAccess,
    /// Shuffling anything but a station needs a subscription.
    NeedAmazonMusicSubscriptionToShuffleNonStation,
    /// The queue does not offer this (stations: loop, shuffle, queueing).
    FeatureNotAvailable,
}

impl DisableType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            DisableType::NoMoreSkips => "NO_MORE_SKIPS",
            DisableType::NeedAmazonMusicUnlimitedCatalogAccess => "NEED_AMAZON_MUSIC_UNLIMITED_CATALOG_ACCESS",
            DisableType::NeedAmazonMusicSubscriptionToShuffleNonStation => {
                "NEED_AMAZON_MUSIC_SUBSCRIPTION_TO_SHUFFLE_NON_STATION"
            }
            DisableType::FeatureNotAvailable => "FEATURE_NOT_AVAILABLE",
        }
    }
}

/// One action's permission (§3.4 Action): `{isAllowed, disableType?, remainingSkips?}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// Whether the client may offer it.
    pub is_allowed: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_type: Option<DisableType>,
    /// Skips left in the window, for tiers with a budget (on `next` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_skips: Option<u32>,
}

impl Action {
    const ALLOWED: Action = Action { is_allowed: true, disable_type: None, remaining_skips: None };

    fn denied(d: DisableType) -> Action {
        Action { is_allowed: false, disable_type: Some(d), remaining_skips: None }
    }
}

/// The actions of a playable (§3.4 Actions), in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actions {
    /// Skip to the next entity.
    pub next: Action,
    /// Go back.
    pub previous: Action,
    /// Seek forward within the entity.
    pub scrub_forward: Action,
    /// Seek backward.
    pub scrub_backward: Action,
    /// Loop the whole queue.
    pub loop_all: Action,
    /// Shuffle the queue.
    pub shuffle: Action,
}

/// What each tier may do. Unlimited: everything. Prime: everything, `next` within the hourly skip budget.
/// Free: skips as Prime; no `previous`, scrubbing or loop (no on-demand catalog access); no shuffle except
/// on a station. Stations never loop or shuffle (they are endless and already shuffled).
pub fn actions(tier: Tier, station: bool, skips_left: u32) -> Actions {
    let free = tier == Tier::Free;
    let next = match tier {
        Tier::Unlimited => Action::ALLOWED,
        _ if skips_left > 0 => Action { remaining_skips: Some(skips_left), ..Action::ALLOWED },
        _ => Action { remaining_skips: Some(0), ..Action::denied(DisableType::NoMoreSkips) },
    };
    let on_demand =
        if free { Action::denied(DisableType::NeedAmazonMusicUnlimitedCatalogAccess) } else { Action::ALLOWED };
    Actions {
        next,
        previous: on_demand,
        scrub_forward: on_demand,
        scrub_backward: on_demand,
        loop_all: if station { Action::denied(DisableType::FeatureNotAvailable) } else { on_demand },
        shuffle: match () {
            _ if station => Action::denied(DisableType::FeatureNotAvailable),
            _ if free => Action::denied(DisableType::NeedAmazonMusicSubscriptionToShuffleNonStation),
            _ => Action::ALLOWED,
        },
    }
}

/// A customer's hourly skip budget (shared by all their sessions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkipBudget {
    /// Skips used in the current window.
    pub used: u32,
    /// When the window's first skip happened; the budget refills [`SKIP_WINDOW_MS`] later.
    pub window_start_ms: Option<i64>,
}

impl SkipBudget {
    /// A full budget.
    pub const FULL: SkipBudget = SkipBudget { used: 0, window_start_ms: None };

    /// Skips left at `now`.
    pub fn left(&self, now_ms: i64) -> u32 {
        match self.window_start_ms {
            Some(start) if now_ms < start + SKIP_WINDOW_MS => SKIPS_PER_WINDOW.saturating_sub(self.used),
            _ => SKIPS_PER_WINDOW,
        }
    }

    fn spend(&mut self, now_ms: i64) {
        if self.left(now_ms) == SKIPS_PER_WINDOW {
            *self = SkipBudget { used: 0, window_start_ms: Some(now_ms) };
        }
        self.used += 1;
    }
}

/// A track to put in a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueTrack {
    /// The ASIN.
    pub track_id: String,
    /// Its length, seconds.
    pub duration_seconds: u32,
}

/// One entity of a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueItem {
    /// UUID naming this place in the queue (a track queued twice has two).
    pub entity_reference_id: String,
    /// UUID that events report against.
    pub metric_id: String,
    /// The ASIN.
    pub track_id: String,
    /// Its length, seconds.
    pub duration_seconds: u32,
    /// Played to its end since it last became current (a `stop` with [`FINISHED_REASON`] or full progress).
    pub finished: bool,
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlaybackState {
    /// Holds a slot (unless idle past its timeout; see [`PlaybackSession::holds_slot`]).
    Active,
    /// Another device's start-up conflicted with it.
    Preempted,
    /// The same device started another session.
    Replaced,
    /// A `stop` event with a terminal reason.
    Stopped,
    /// Idle past the timeout.
    Expired,
}

/// A playback session: the queue, its modes and its slot.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaybackSession {
    /// UUID.
    pub session_id: String,
    /// The customer.
    pub user: String,
    /// `X-Amzn-Device-Id` of the device that holds it.
    pub device_id: String,
    /// The customer's tier when it was created.
    pub tier: Tier,
    /// The device's `X-Amzn-Audio-Device-Capability`.
    #[serde(skip)]
    pub capabilities: Capabilities,
    /// `playParams.id` it was created from.
    pub source: String,
    /// Started as a station: endless (wraps around), no loop, shuffle or queueing.
    pub station: bool,
    /// `SHUFFLE_ON`.
    pub shuffle: bool,
    /// `LOOP_ON`.
    pub loop_all: bool,
    /// `AUTOPLAY_ON`.
    pub autoplay: bool,
    /// The entities in queue (unshuffled) order.
    pub items: Vec<QueueItem>,
    /// Play order: indices into `items`.
    pub order: Vec<usize>,
    /// The current entity: an index into `order`.
    pub position: usize,
    /// Appended once when the queue runs out with autoplay on.
    pub autoplay_tail: Vec<QueueTrack>,
    /// The slot state.
    pub state: PlaybackState,
    /// When the state last changed, virtual epoch ms.
    pub state_changed_at_ms: i64,
    /// The device that pre-empted it, or the `stop` reason that ended it.
    pub state_detail: Option<String>,
    /// Virtual epoch ms.
    pub created_at_ms: i64,
    /// The last operation, event or stream request while active, virtual epoch ms.
    pub last_activity_at_ms: i64,
    /// Idle time after which it gives its slot up, ms.
    pub idle_timeout_ms: i64,
}

impl PlaybackSession {
    /// Whether it holds a slot at `now`.
    pub fn holds_slot(&self, now_ms: i64) -> bool {
        self.state == PlaybackState::Active && now_ms < self.last_activity_at_ms + self.idle_timeout_ms
    }

    /// Its state at `now` (an active session idle past its timeout reads as expired).
    pub fn state_at(&self, now_ms: i64) -> PlaybackState {
        match self.state {
            PlaybackState::Active if !self.holds_slot(now_ms) => PlaybackState::Expired,
            s => s,
        }
    }

    /// The current entity.
    pub fn current(&self) -> Option<&QueueItem> {
        self.order.get(self.position).and_then(|&i| self.items.get(i))
    }

    /// Where the entity `entity_reference_id` is in the play order.
    pub fn position_of(&self, entity_reference_id: &str) -> Option<usize> {
        self.order
            .iter()
            .position(|&i| self.items.get(i).is_some_and(|it| it.entity_reference_id == entity_reference_id))
    }

    /// Up to `limit` entities (indices into `items`) from play-order position `from` on, wrapping around when
    /// the queue loops or is a station.
    pub fn window_from(&self, from: usize, limit: usize) -> Vec<usize> {
        let n = self.order.len();
        let wraps = self.loop_all || self.station;
        let take = if wraps { limit.min(n) } else { limit.min(n.saturating_sub(from)) };
        (0..take).map(|k| self.order[(from + k) % n]).collect()
    }

    /// Up to `limit` entities (indices into `items`) from the current one on, wrapping around when the queue
    /// loops or is a station.
    pub fn window(&self, limit: usize) -> Vec<usize> {
        self.window_from(self.position, limit)
    }

    fn set_state(&mut self, state: PlaybackState, detail: Option<String>, now_ms: i64) {
        self.state = state;
        self.state_detail = detail;
        self.state_changed_at_ms = now_ms;
    }

    fn land(&mut self, position: usize) {
        self.position = position;
        if let Some(&i) = self.order.get(position) {
            self.items[i].finished = false;
        }
    }

    /// Shuffle on: the current entity first, then every other one in an order fixed by the session id.
    fn reshuffle(&mut self) {
        let current = self.order.get(self.position).copied();
        self.order = shuffle_order(&self.session_id, self.items.len(), current);
        self.position = 0;
    }

    /// Shuffle off: queue order, staying on the current entity.
    fn unshuffle(&mut self) {
        let current = self.order.get(self.position).copied().unwrap_or(0);
        self.order = (0..self.items.len()).collect();
        self.position = current;
    }
}

/// A deterministic permutation of `0..len` seeded by `seed` (the session id): `first` (when given) leads,
/// the rest follow in a Fisher–Yates order driven by SplitMix64. Tests can recompute it.
pub fn shuffle_order(seed: &str, len: usize, first: Option<usize>) -> Vec<usize> {
    // FNV-1a of the seed, then SplitMix64.
    let mut state =
        seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut rest: Vec<usize> = (0..len).filter(|&i| Some(i) != first).collect();
    for i in (1..rest.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        rest.swap(i, j);
    }
    first.filter(|&f| f < len).into_iter().chain(rest).collect()
}

/// The settings a playback operation runs under (from the session's `Settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaybackLimits {
    /// Sessions that may hold a slot at once, per customer.
    pub max_sessions: usize,
    /// Idle time after which a session gives its slot up, ms.
    pub idle_timeout_ms: i64,
}

/// What a new session is made from; the store picks the ids.
#[derive(Debug, Clone)]
pub struct NewPlayback {
    /// The customer.
    pub user: String,
    /// `X-Amzn-Device-Id`.
    pub device_id: String,
    /// The customer's tier.
    pub tier: Tier,
    /// `X-Amzn-Audio-Device-Capability`.
    pub capabilities: Capabilities,
    /// `playParams.id`.
    pub source: String,
    /// The queue, in queue order.
    pub tracks: Vec<QueueTrack>,
    /// The entity to start at (it also leads a shuffled order); `None`: the first, or any when shuffled.
    pub start: Option<usize>,
    /// `SHUFFLE_ON`.
    pub shuffle: bool,
    /// `LOOP_ON`.
    pub loop_all: bool,
    /// `startAsStation`.
    pub station: bool,
    /// `AUTOPLAY_ON`: what to append when the queue runs out.
    pub autoplay_tail: Option<Vec<QueueTrack>>,
}

/// An operation on an existing session.
#[derive(Debug, Clone)]
pub enum PlaybackOp {
    /// Read it (current entity, window, queue).
    Read,
    /// Read it, first taking a slot again if it gave its slot up (idle, stopped, replaced), as V2's navigation
    /// endpoints do before answering 206 (`music-api.md` §5.3); a pre-empted session stays refused.
    Resume,
    /// Advance to the next entity (a skip for budgeted tiers unless the current one finished).
    Next,
    /// Go back one entity.
    Previous,
    /// Take a slot again, from any state; the device id moves the session to that device.
    Restore {
        /// The restoring device.
        device_id: String,
    },
    /// Insert tracks right after the current entity (`next`) or at the end.
    Enqueue {
        /// The tracks.
        tracks: Vec<QueueTrack>,
        /// Play next rather than last.
        next: bool,
    },
    /// `LOOP_ON` / `LOOP_OFF`.
    Loop(bool),
    /// `SHUFFLE_ON` / `SHUFFLE_OFF`.
    Shuffle(bool),
}

/// A session as an operation left it, with the actions its playables carry.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybackView {
    /// The session.
    pub session: PlaybackSession,
    /// Its actions now.
    pub actions: Actions,
    /// Whether it holds a slot now.
    pub holds_slot: bool,
    /// Whether this operation took a slot the session had given up (V2 answers such a navigation 206).
    pub restored: bool,
}

/// Why a playback operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaybackError {
    /// No such session for this customer.
    #[error("no such playback session")]
    NotFound,
    /// The action is not allowed; the message says why.
    #[error("{1}")]
    NotAllowed(DisableType, String),
    /// Past the end of the queue.
    #[error("no more next entity")]
    NoMoreNext,
    /// Before the start of the queue.
    #[error("no more previous entity")]
    NoMorePrevious,
    /// Every slot is held by other devices (the least recently active one was pre-empted).
    #[error("concurrent stream limit exceeded")]
    MaxConcurrency,
    /// The session was pre-empted by another device; only a restore takes it back.
    #[error("the session was pre-empted by another device")]
    Preempted,
    /// The queue would exceed [`MAX_QUEUE`].
    #[error("the queue would hold more than {MAX_QUEUE} entities")]
    QueueFull,
    /// An event names a metric id no session of the customer has.
    #[error("unknown metricId {0}")]
    UnknownMetric(String),
}

/// Why a stream request for a playback session is refused ([`UserPlayback::permit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamDenied {
    /// No such playback session (in this mock session).
    #[error("the stream URL names an unknown playback session")]
    Unknown,
    /// The session ended: a terminal `stop`, or the same device started another session.
    #[error("the playback session has ended")]
    Ended,
    /// Another device started playback for the customer.
    #[error("Concurrent stream limit exceeded: playback was started on another device")]
    Preempted,
    /// Idle past the timeout.
    #[error("the playback session expired after being idle")]
    Expired,
}

/// `start` or `stop` (§4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// Playback of the entity started.
    Start,
    /// Playback of the entity stopped.
    Stop,
}

/// A reported event, validated by the web layer.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlaybackEvent {
    /// The playable's `metricId`.
    pub metric_id: String,
    /// `event.type`.
    pub kind: EventType,
    /// `event.clientTimestampInMilliseconds`.
    pub client_timestamp_ms: i64,
    /// `event.terminationReason`.
    pub termination_reason: Option<String>,
    /// `event.entityProgressSeconds`.
    pub entity_progress_seconds: Option<f64>,
    /// The `event` object as sent.
    pub event: serde_json::Value,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaybackEvent {
    /// Arrival order within the store.
    pub seq: u64,
    /// Arrival on the virtual clock, epoch ms.
    pub received_at_ms: i64,
    /// The customer.
    pub user: String,
    /// The playback session.
    pub session_id: String,
    /// Its device.
    pub device_id: String,
    /// The reported metric id.
    pub metric_id: String,
    /// The queue entity it belongs to.
    pub entity_reference_id: String,
    /// The track.
    pub track_id: String,
    /// `start` or `stop`.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// `clientTimestampInMilliseconds`.
    #[serde(rename = "clientTimestampInMilliseconds")]
    pub client_timestamp_ms: i64,
    /// `terminationReason`.
    pub termination_reason: Option<String>,
    /// Whether this `stop` ended the session.
    pub terminal: bool,
    /// The `event` object as sent.
    pub event: serde_json::Value,
}

/// Everything playback-related the store keeps for one customer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserPlayback {
    /// Sessions, oldest first.
    pub sessions: Vec<PlaybackSession>,
    /// The skip budget.
    pub skips: Option<SkipBudget>,
    /// Recorded events, oldest first.
    pub events: Vec<PlaybackEvent>,
}

/// A state file keeps a customer's playback with each session's device capabilities, which the admin API's
/// view of a session leaves out.
impl Serialize for UserPlayback {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Saved<'a> {
            sessions: &'a [PlaybackSession],
            capabilities: Vec<Capabilities>,
            skips: &'a Option<SkipBudget>,
            events: &'a [PlaybackEvent],
        }
        Saved {
            sessions: &self.sessions,
            capabilities: self.sessions.iter().map(|p| p.capabilities).collect(),
            skips: &self.skips,
            events: &self.events,
        }
        .serialize(s)
    }
}

/// Read back as [`UserPlayback`]'s `Serialize` wrote it.
impl<'de> serde::Deserialize<'de> for UserPlayback {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Saved {
            sessions: Vec<PlaybackSession>,
            capabilities: Vec<Capabilities>,
            skips: Option<SkipBudget>,
            events: Vec<PlaybackEvent>,
        }
        let mut saved = Saved::deserialize(d)?;
        for (p, c) in saved.sessions.iter_mut().zip(saved.capabilities) {
            p.capabilities = c;
        }
        Ok(UserPlayback { sessions: saved.sessions, skips: saved.skips, events: saved.events })
    }
}

/// A source of fresh UUIDs.
pub type Ids<'a> = &'a mut dyn FnMut() -> String;

impl UserPlayback {
    fn budget(&self) -> SkipBudget {
        self.skips.unwrap_or(SkipBudget::FULL)
    }

    fn view(&self, i: usize, now_ms: i64) -> PlaybackView {
        let s = &self.sessions[i];
        PlaybackView {
            session: s.clone(),
            actions: actions(s.tier, s.station, self.budget().left(now_ms)),
            holds_slot: s.holds_slot(now_ms),
            restored: false,
        }
    }

    /// Applies the current limits and makes idle expiry explicit.
    fn refresh(&mut self, limits: PlaybackLimits, now_ms: i64) {
        for s in &mut self.sessions {
            s.idle_timeout_ms = limits.idle_timeout_ms;
            if s.state == PlaybackState::Active && !s.holds_slot(now_ms) {
                let at = s.last_activity_at_ms + s.idle_timeout_ms;
                s.set_state(PlaybackState::Expired, None, at.min(now_ms));
            }
        }
    }

    fn find(&self, session_id: &str) -> Result<usize, PlaybackError> {
        self.sessions.iter().position(|s| s.session_id == session_id).ok_or(PlaybackError::NotFound)
    }

    /// The concurrency rule for `device` starting playback (the session `me`, if it exists, does not count):
    /// when every slot is held by other devices, the least recently active of them is pre-empted and the
    /// start fails; otherwise the device's own other sessions are replaced. Call after [`Self::refresh`].
    fn acquire(
        &mut self,
        device: &str,
        me: Option<usize>,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<(), PlaybackError> {
        let others: Vec<usize> = (0..self.sessions.len())
            .filter(|&i| Some(i) != me && self.sessions[i].holds_slot(now_ms) && self.sessions[i].device_id != device)
            .collect();
        if others.len() >= limits.max_sessions.max(1) {
            if let Some(&victim) = others.iter().min_by_key(|&&i| self.sessions[i].last_activity_at_ms) {
                self.sessions[victim].set_state(PlaybackState::Preempted, Some(device.to_owned()), now_ms);
            }
            return Err(PlaybackError::MaxConcurrency);
        }
        for (i, s) in self.sessions.iter_mut().enumerate() {
            if Some(i) != me && s.device_id == device && s.state == PlaybackState::Active {
                s.set_state(PlaybackState::Replaced, None, now_ms);
            }
        }
        Ok(())
    }

    fn activate(&mut self, i: usize, now_ms: i64) {
        let s = &mut self.sessions[i];
        if s.state != PlaybackState::Active {
            s.set_state(PlaybackState::Active, None, now_ms);
        }
        s.last_activity_at_ms = now_ms;
    }

    fn items(tracks: Vec<QueueTrack>, ids: Ids<'_>) -> Vec<QueueItem> {
        tracks
            .into_iter()
            .map(|t| QueueItem {
                entity_reference_id: ids(),
                metric_id: ids(),
                track_id: t.track_id,
                duration_seconds: t.duration_seconds,
                finished: false,
            })
            .collect()
    }

    /// Creates a session and gives it a slot.
    ///
    /// # Errors
    /// [`PlaybackError::NotAllowed`] for a mode the tier or a station forbids (before anything changes),
    /// [`PlaybackError::MaxConcurrency`] (the least recently active other device is pre-empted),
    /// [`PlaybackError::QueueFull`].
    pub fn create(
        &mut self,
        new: NewPlayback,
        ids: Ids<'_>,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<PlaybackView, PlaybackError> {
        if new.tracks.len() > MAX_QUEUE {
            return Err(PlaybackError::QueueFull);
        }
        let a = actions(new.tier, new.station, self.budget().left(now_ms));
        if new.loop_all {
            check(a.loop_all, "Loop")?;
        }
        if new.shuffle && !new.station {
            check(a.shuffle, "Shuffle")?;
        }
        self.refresh(limits, now_ms);
        self.acquire(&new.device_id, None, limits, now_ms)?;
        let session_id = ids();
        let items = Self::items(new.tracks, ids);
        let start = new.start.filter(|&s| s < items.len());
        let shuffled = new.station || new.shuffle;
        let (order, position) = if shuffled {
            (shuffle_order(&session_id, items.len(), start), 0)
        } else {
            ((0..items.len()).collect(), start.unwrap_or(0))
        };
        self.sessions.push(PlaybackSession {
            session_id,
            user: new.user,
            device_id: new.device_id,
            tier: new.tier,
            capabilities: new.capabilities,
            source: new.source,
            station: new.station,
            shuffle: new.shuffle && !new.station,
            loop_all: new.loop_all,
            autoplay: new.autoplay_tail.is_some(),
            items,
            order,
            position,
            autoplay_tail: new.autoplay_tail.unwrap_or_default(),
            state: PlaybackState::Active,
            state_changed_at_ms: now_ms,
            state_detail: None,
            created_at_ms: now_ms,
            last_activity_at_ms: now_ms,
            idle_timeout_ms: limits.idle_timeout_ms,
        });
        let i = self.sessions.len() - 1;
        Ok(self.view(i, now_ms))
    }

    /// Runs an operation on one of the customer's sessions.
    ///
    /// # Errors
    /// [`PlaybackError::NotFound`]; for `Next`/`Previous` [`PlaybackError::Preempted`], the queue ends,
    /// [`PlaybackError::NotAllowed`] (no skips left, a tier without `previous`) and, for a session that
    /// gave its slot up, [`PlaybackError::MaxConcurrency`] from taking one again; for `Restore`
    /// [`PlaybackError::MaxConcurrency`]; for modes and queueing [`PlaybackError::NotAllowed`] and
    /// [`PlaybackError::QueueFull`]. Nothing changes on an error, except the pre-emption a concurrency
    /// conflict causes.
    pub fn apply(
        &mut self,
        session_id: &str,
        op: PlaybackOp,
        ids: Ids<'_>,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<PlaybackView, PlaybackError> {
        let i = self.find(session_id)?;
        self.refresh(limits, now_ms);
        let a = self.view(i, now_ms).actions;
        let holds = self.sessions[i].holds_slot(now_ms);
        let mut restored = false;
        match op {
            PlaybackOp::Read => {}
            PlaybackOp::Resume => {
                let s = &self.sessions[i];
                if s.state == PlaybackState::Preempted {
                    return Err(PlaybackError::Preempted);
                }
                if !holds {
                    let device = s.device_id.clone();
                    self.acquire(&device, Some(i), limits, now_ms)?;
                    self.activate(i, now_ms);
                    restored = true;
                }
            }
            PlaybackOp::Next | PlaybackOp::Previous => {
                let s = &self.sessions[i];
                if s.state == PlaybackState::Preempted {
                    return Err(PlaybackError::Preempted);
                }
                let forward = matches!(op, PlaybackOp::Next);
                let n = s.order.len();
                let wraps = s.loop_all || s.station;
                let target = if forward {
                    match () {
                        _ if s.position + 1 < n => Some(s.position + 1),
                        _ if wraps && n > 0 => Some(0),
                        _ if s.autoplay && !s.autoplay_tail.is_empty() => Some(n),
                        _ => None,
                    }
                } else {
                    match () {
                        _ if s.position > 0 => Some(s.position - 1),
                        _ if wraps && n > 0 => Some(n - 1),
                        _ => None,
                    }
                };
                let target =
                    target.ok_or(if forward { PlaybackError::NoMoreNext } else { PlaybackError::NoMorePrevious })?;
                let skip = forward && s.tier != Tier::Unlimited && !s.current().is_some_and(|c| c.finished);
                if forward {
                    if skip {
                        check(a.next, "Skipping")?;
                    }
                } else {
                    check(a.previous, "Going back to the previous track")?;
                }
                if !holds {
                    let device = s.device_id.clone();
                    self.acquire(&device, Some(i), limits, now_ms)?;
                    restored = true;
                }
                if skip {
                    let mut b = self.budget();
                    b.spend(now_ms);
                    self.skips = Some(b);
                }
                let s = &mut self.sessions[i];
                if target == n && forward {
                    let tail = std::mem::take(&mut s.autoplay_tail);
                    let start = s.items.len();
                    s.items.extend(Self::items(tail, ids));
                    s.order.extend(start..s.items.len());
                }
                s.land(target);
                self.activate(i, now_ms);
            }
            PlaybackOp::Restore { device_id } => {
                self.acquire(&device_id, Some(i), limits, now_ms)?;
                self.sessions[i].device_id = device_id;
                self.activate(i, now_ms);
            }
            PlaybackOp::Enqueue { tracks, next } => {
                let s = &self.sessions[i];
                let on_demand =
                    if s.station { Some(DisableType::FeatureNotAvailable) } else { a.previous.disable_type };
                if let Some(d) = on_demand {
                    return Err(refused(d, "Queueing tracks"));
                }
                if s.items.len() + tracks.len() > MAX_QUEUE {
                    return Err(PlaybackError::QueueFull);
                }
                let added = Self::items(tracks, ids);
                let s = &mut self.sessions[i];
                let k = added.len();
                // Queue order: right after the current entity, or at the end; play order likewise.
                let at_item =
                    if next { s.current().map_or(s.items.len(), |_| s.order[s.position] + 1) } else { s.items.len() };
                for o in &mut s.order {
                    if *o >= at_item {
                        *o += k;
                    }
                }
                s.items.splice(at_item..at_item, added);
                let at_order = if next { (s.position + 1).min(s.order.len()) } else { s.order.len() };
                s.order.splice(at_order..at_order, at_item..at_item + k);
            }
            PlaybackOp::Loop(on) => {
                if on {
                    check(a.loop_all, "Loop")?;
                }
                self.sessions[i].loop_all = on;
            }
            PlaybackOp::Shuffle(on) => {
                if on {
                    check(a.shuffle, "Shuffle")?;
                }
                let s = &mut self.sessions[i];
                if on && !s.shuffle {
                    s.reshuffle();
                } else if !on && s.shuffle {
                    s.unshuffle();
                }
                s.shuffle = on;
            }
        }
        if holds {
            self.activate(i, now_ms);
        }
        let mut v = self.view(i, now_ms);
        v.restored = restored;
        Ok(v)
    }

    /// The sessions that hold a slot, oldest first.
    pub fn active(&self, now_ms: i64) -> Vec<PlaybackView> {
        (0..self.sessions.len())
            .filter(|&i| self.sessions[i].holds_slot(now_ms))
            .map(|i| self.view(i, now_ms))
            .collect()
    }

    /// Records events, all or none: each must name a metric id of one of the customer's sessions. A `stop`
    /// with a terminal reason ends its session; a `stop` with [`FINISHED_REASON`] or progress to the end
    /// marks the entity finished; any event counts as activity of a session that holds a slot. Returns the
    /// recorded events (the caller adds a play to the history for each `start`).
    ///
    /// # Errors
    /// [`PlaybackError::UnknownMetric`] for the first unknown metric id.
    pub fn report(
        &mut self,
        user: &str,
        events: Vec<NewPlaybackEvent>,
        seq: &mut dyn FnMut() -> u64,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<Vec<PlaybackEvent>, PlaybackError> {
        let locate = |sessions: &[PlaybackSession], m: &str| {
            sessions
                .iter()
                .enumerate()
                .rev()
                .find_map(|(si, s)| s.items.iter().position(|it| it.metric_id == m).map(|ii| (si, ii)))
        };
        let mut places = Vec::with_capacity(events.len());
        for e in &events {
            places.push(
                locate(&self.sessions, &e.metric_id)
                    .ok_or_else(|| PlaybackError::UnknownMetric(e.metric_id.clone()))?,
            );
        }
        self.refresh(limits, now_ms);
        let mut out = Vec::with_capacity(events.len());
        for (e, (si, ii)) in events.into_iter().zip(places) {
            let s = &mut self.sessions[si];
            let item = &mut s.items[ii];
            let terminal = e.kind == EventType::Stop
                && e.termination_reason.as_deref().is_some_and(|r| TERMINAL_REASONS.contains(&r));
            let finished = e.kind == EventType::Stop
                && (e.termination_reason.as_deref() == Some(FINISHED_REASON)
                    || e.entity_progress_seconds.is_some_and(|p| p + 1.0 >= f64::from(item.duration_seconds)));
            if finished {
                item.finished = true;
            }
            let record = PlaybackEvent {
                seq: seq(),
                received_at_ms: now_ms,
                user: user.to_owned(),
                session_id: s.session_id.clone(),
                device_id: s.device_id.clone(),
                metric_id: e.metric_id,
                entity_reference_id: item.entity_reference_id.clone(),
                track_id: item.track_id.clone(),
                kind: e.kind,
                client_timestamp_ms: e.client_timestamp_ms,
                termination_reason: e.termination_reason.clone(),
                terminal: terminal && s.holds_slot(now_ms),
                event: e.event,
            };
            if s.holds_slot(now_ms) {
                if terminal {
                    s.set_state(PlaybackState::Stopped, e.termination_reason, now_ms);
                } else {
                    s.last_activity_at_ms = now_ms;
                }
            }
            out.push(record);
        }
        self.events.extend(out.iter().cloned());
        if self.events.len() > KEPT_EVENTS {
            let extra = self.events.len() - KEPT_EVENTS;
            self.events.drain(..extra);
        }
        Ok(out)
    }

    /// Whether a stream request for this session may go ahead; if so it counts as activity.
    ///
    /// # Errors
    /// [`StreamDenied`]: unknown, ended (stopped or replaced), pre-empted, or idle past the timeout.
    pub fn permit(&mut self, session_id: &str, now_ms: i64) -> Result<(), StreamDenied> {
        let s = self.sessions.iter_mut().find(|s| s.session_id == session_id).ok_or(StreamDenied::Unknown)?;
        match s.state_at(now_ms) {
            PlaybackState::Active => {
                s.last_activity_at_ms = now_ms;
                Ok(())
            }
            PlaybackState::Preempted => Err(StreamDenied::Preempted),
            PlaybackState::Replaced | PlaybackState::Stopped => Err(StreamDenied::Ended),
            PlaybackState::Expired => {
                if s.state == PlaybackState::Active {
                    let at = s.last_activity_at_ms + s.idle_timeout_ms;
                    s.set_state(PlaybackState::Expired, None, at);
                }
                Err(StreamDenied::Expired)
            }
        }
    }

    /// Forgets the oldest sessions that hold no slot beyond [`KEPT_SESSIONS`]; returns their ids.
    pub fn prune(&mut self, now_ms: i64) -> Vec<String> {
        let mut dropped = Vec::new();
        while self.sessions.len() > KEPT_SESSIONS {
            match self.sessions.iter().position(|s| !s.holds_slot(now_ms)) {
                Some(i) => dropped.push(self.sessions.remove(i).session_id),
                None => break,
            }
        }
        dropped
    }
}

/// The refusal of `what` (`"Loop"`, `"Skipping"`, …) for this reason; the station wording is V2's
/// documented "Loop is not available for this queue" (§5.3).
fn refused(d: DisableType, what: &str) -> PlaybackError {
    let message = match d {
        DisableType::NoMoreSkips => {
            "No more skips are allowed right now: the skip limit refills 60 minutes after the first skip.".to_owned()
        }
        DisableType::FeatureNotAvailable => format!("{what} is not available for this queue"),
        DisableType::NeedAmazonMusicUnlimitedCatalogAccess => format!("{what} needs Amazon Music Unlimited."),
        DisableType::NeedAmazonMusicSubscriptionToShuffleNonStation => {
            "Shuffling a queue that is not a station needs an Amazon Music subscription.".to_owned()
        }
    };
    PlaybackError::NotAllowed(d, message)
}

fn check(a: Action, what: &str) -> Result<(), PlaybackError> {
    match a.disable_type {
        Some(d) if !a.is_allowed => Err(refused(d, what)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
