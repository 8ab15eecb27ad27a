//! The playback rules on their own (queue, tiers, skips, concurrency, events), then `stream_permit` through
//! the in-memory store.

use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::clock::Clock;
use crate::store::memory_music::{MemoryMusic, MusicSeed};
use crate::store::music::MusicStore;

const L1: PlaybackLimits = PlaybackLimits { max_sessions: 1, idle_timeout_ms: 600_000 };
const T0: i64 = 1_700_000_000_000;

fn counter() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("id-{n}")
    }
}

fn tracks(n: usize) -> Vec<QueueTrack> {
    (0..n).map(|i| QueueTrack { track_id: format!("B0TRACK{i:03}"), duration_seconds: 200 }).collect()
}

fn new(device: &str, tier: Tier, n: usize) -> NewPlayback {
    NewPlayback {
        user: "u".into(),
        device_id: device.into(),
        tier,
        capabilities: Capabilities::default(),
        source: "mrn:1.0:catalog:album:asin:B0ALBUM000".into(),
        tracks: tracks(n),
        start: None,
        shuffle: false,
        loop_all: false,
        station: false,
        autoplay_tail: None,
    }
}

/// The track ids of a view's whole play order.
fn order(v: &PlaybackView) -> Vec<String> {
    v.session.order.iter().map(|&i| v.session.items[i].track_id.clone()).collect()
}

fn current(v: &PlaybackView) -> &str {
    &v.session.current().expect("a current entity").track_id
}

struct Fixture {
    p: UserPlayback,
    ids: Box<dyn FnMut() -> String>,
}

impl Fixture {
    fn new() -> Self {
        Fixture { p: UserPlayback::default(), ids: Box::new(counter()) }
    }

    fn create(&mut self, n: NewPlayback, limits: PlaybackLimits, now: i64) -> Result<PlaybackView, PlaybackError> {
        self.p.create(n, &mut *self.ids, limits, now)
    }

    fn op(&mut self, sid: &str, op: PlaybackOp, now: i64) -> Result<PlaybackView, PlaybackError> {
        self.p.apply(sid, op, &mut *self.ids, L1, now)
    }

    fn op_with(
        &mut self,
        sid: &str,
        op: PlaybackOp,
        l: PlaybackLimits,
        now: i64,
    ) -> Result<PlaybackView, PlaybackError> {
        self.p.apply(sid, op, &mut *self.ids, l, now)
    }

    fn stop(&mut self, metric: &str, reason: &str, now: i64) -> Result<Vec<PlaybackEvent>, PlaybackError> {
        let mut seq = 0;
        let e = NewPlaybackEvent {
            metric_id: metric.into(),
            kind: EventType::Stop,
            client_timestamp_ms: now,
            termination_reason: Some(reason.into()),
            entity_progress_seconds: None,
            event: serde_json::json!({}),
        };
        self.p.report(
            "u",
            vec![e],
            &mut || {
                seq += 1;
                seq
            },
            L1,
            now,
        )
    }
}

#[test]
fn each_tier_gets_its_actions() {
    let a = actions(Tier::Unlimited, false, 6);
    assert!(
        [a.next, a.previous, a.scrub_forward, a.scrub_backward, a.loop_all, a.shuffle]
            .iter()
            .all(|x| *x == Action::ALLOWED)
    );
    let a = actions(Tier::Prime, false, 4);
    assert_eq!(a.next, Action { is_allowed: true, disable_type: None, remaining_skips: Some(4) });
    assert!(
        [a.previous, a.scrub_forward, a.scrub_backward, a.loop_all, a.shuffle].iter().all(|x| *x == Action::ALLOWED)
    );
    let a = actions(Tier::Prime, false, 0);
    assert_eq!(
        a.next,
        Action { is_allowed: false, disable_type: Some(DisableType::NoMoreSkips), remaining_skips: Some(0) }
    );
    let a = actions(Tier::Free, false, 6);
    assert_eq!(a.next.remaining_skips, Some(6));
    let need = Action::denied(DisableType::NeedAmazonMusicUnlimitedCatalogAccess);
    assert_eq!([a.previous, a.scrub_forward, a.scrub_backward, a.loop_all], [need; 4]);
    assert_eq!(a.shuffle, Action::denied(DisableType::NeedAmazonMusicSubscriptionToShuffleNonStation));
    for t in [Tier::Free, Tier::Prime, Tier::Unlimited] {
        let a = actions(t, true, 6);
        assert_eq!(a.loop_all, Action::denied(DisableType::FeatureNotAvailable), "{t:?}");
        assert_eq!(a.shuffle, Action::denied(DisableType::FeatureNotAvailable), "{t:?}");
    }
    let json = serde_json::to_value(actions(Tier::Prime, false, 0)).unwrap();
    assert_eq!(
        json["next"],
        serde_json::json!({"isAllowed": false, "disableType": "NO_MORE_SKIPS", "remainingSkips": 0})
    );
    assert_eq!(json["loopAll"], serde_json::json!({"isAllowed": true}));
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["next", "previous", "scrubForward", "scrubBackward", "loopAll", "shuffle"]);
}

#[test]
fn queues_end_loop_and_wrap() {
    let mut f = Fixture::new();
    let v = f.create(new("d1", Tier::Unlimited, 3), L1, T0).unwrap();
    let sid = v.session.session_id.clone();
    assert_eq!(v.session.window(5).len(), 3);
    assert_eq!(f.op(&sid, PlaybackOp::Previous, T0), Err(PlaybackError::NoMorePrevious));
    f.op(&sid, PlaybackOp::Next, T0).unwrap();
    let v = f.op(&sid, PlaybackOp::Next, T0).unwrap();
    assert_eq!(current(&v), "B0TRACK002");
    assert_eq!(v.session.window(5), [2]);
    assert_eq!(f.op(&sid, PlaybackOp::Next, T0), Err(PlaybackError::NoMoreNext));
    // Loop on: the window and next wrap around.
    let v = f.op(&sid, PlaybackOp::Loop(true), T0).unwrap();
    assert_eq!(v.session.window(5), [2, 0, 1]);
    assert_eq!(current(&f.op(&sid, PlaybackOp::Next, T0).unwrap()), "B0TRACK000");
    assert_eq!(current(&f.op(&sid, PlaybackOp::Previous, T0).unwrap()), "B0TRACK002");
}

#[test]
fn stations_are_endless_and_refuse_loop_shuffle_and_queueing() {
    let mut f = Fixture::new();
    let mut n = new("d1", Tier::Unlimited, 4);
    n.station = true;
    n.start = Some(0);
    let v = f.create(n, L1, T0).unwrap();
    let sid = v.session.session_id.clone();
    assert_eq!(current(&v), "B0TRACK000", "a station from a track starts with it");
    for _ in 0..4 {
        f.op(&sid, PlaybackOp::Next, T0).unwrap();
    }
    assert_eq!(current(&f.op(&sid, PlaybackOp::Read, T0).unwrap()), "B0TRACK000", "it wrapped around");
    let refused = |e: Result<PlaybackView, PlaybackError>| match e {
        Err(PlaybackError::NotAllowed(d, m)) => (d, m),
        other => panic!("{other:?}"),
    };
    let (d, m) = refused(f.op(&sid, PlaybackOp::Loop(true), T0));
    assert_eq!((d, m.as_str()), (DisableType::FeatureNotAvailable, "Loop is not available for this queue"));
    let (d, _) = refused(f.op(&sid, PlaybackOp::Shuffle(true), T0));
    assert_eq!(d, DisableType::FeatureNotAvailable);
    let (d, _) = refused(f.op(&sid, PlaybackOp::Enqueue { tracks: tracks(1), next: true }, T0));
    assert_eq!(d, DisableType::FeatureNotAvailable);
    // Turning loop off is always allowed (it is off).
    assert!(f.op(&sid, PlaybackOp::Loop(false), T0).is_ok());
    // A station with LOOP_ON is refused at creation, before any slot changes hands.
    let mut n = new("d1", Tier::Unlimited, 4);
    n.station = true;
    n.loop_all = true;
    assert!(matches!(f.create(n, L1, T0), Err(PlaybackError::NotAllowed(DisableType::FeatureNotAvailable, _))));
}

#[test]
fn prime_skips_run_out_after_six_and_refill_an_hour_after_the_first() {
    let mut f = Fixture::new();
    let v = f.create(new("d1", Tier::Prime, 20), L1, T0).unwrap();
    let sid = v.session.session_id.clone();
    assert_eq!(v.actions.next.remaining_skips, Some(6));
    for left in (0..6).rev() {
        let v = f.op(&sid, PlaybackOp::Next, T0 + 1000).unwrap();
        assert_eq!(v.actions.next.remaining_skips, Some(left));
    }
    let e = f.op(&sid, PlaybackOp::Next, T0 + 2000).unwrap_err();
    assert!(matches!(e, PlaybackError::NotAllowed(DisableType::NoMoreSkips, _)), "{e:?}");
    assert_eq!(
        current(&f.op(&sid, PlaybackOp::Read, T0 + 2000).unwrap()),
        "B0TRACK006",
        "the refused skip moved nothing"
    );
    // A track played to its end is not skipped: next after its finished stop is free.
    let metric = f.op(&sid, PlaybackOp::Read, T0 + 3000).unwrap().session.current().unwrap().metric_id.clone();
    f.stop(&metric, FINISHED_REASON, T0 + 3000).unwrap();
    let v = f.op(&sid, PlaybackOp::Next, T0 + 3000).unwrap();
    assert_eq!((current(&v), v.actions.next.remaining_skips), ("B0TRACK007", Some(0)));
    // 60 virtual minutes after the first skip (at T0 + 1 s) the budget is full again.
    let later = T0 + 1000 + SKIP_WINDOW_MS;
    let v = f.op(&sid, PlaybackOp::Read, later - 1).unwrap();
    assert_eq!(v.actions.next.remaining_skips, Some(0));
    let v = f.op(&sid, PlaybackOp::Read, later).unwrap();
    assert_eq!(v.actions.next.remaining_skips, Some(6));
    assert_eq!(f.op(&sid, PlaybackOp::Next, later).unwrap().actions.next.remaining_skips, Some(5));
}

#[test]
fn free_customers_cannot_go_back_loop_shuffle_or_queue() {
    let mut f = Fixture::new();
    let mut n = new("d1", Tier::Free, 5);
    n.shuffle = true;
    let e = f.create(n, L1, T0).unwrap_err();
    assert!(matches!(e, PlaybackError::NotAllowed(DisableType::NeedAmazonMusicSubscriptionToShuffleNonStation, _)));
    let v = f.create(new("d1", Tier::Free, 5), L1, T0).unwrap();
    let sid = v.session.session_id.clone();
    f.op(&sid, PlaybackOp::Next, T0).unwrap();
    let need = DisableType::NeedAmazonMusicUnlimitedCatalogAccess;
    for op in [PlaybackOp::Previous, PlaybackOp::Loop(true), PlaybackOp::Enqueue { tracks: tracks(1), next: false }] {
        match f.op(&sid, op.clone(), T0) {
            Err(PlaybackError::NotAllowed(d, _)) => assert_eq!(d, need, "{op:?}"),
            other => panic!("{op:?}: {other:?}"),
        }
    }
    assert_eq!(f.op(&sid, PlaybackOp::Read, T0).unwrap().actions.next.remaining_skips, Some(5));
}

#[test]
fn shuffle_is_fixed_by_the_session_id_and_unshuffle_stays_on_the_current_entity() {
    assert_eq!(shuffle_order("abc", 10, Some(3)), shuffle_order("abc", 10, Some(3)));
    assert_ne!(shuffle_order("abc", 10, None), shuffle_order("abd", 10, None));
    let o = shuffle_order("abc", 10, Some(3));
    assert_eq!(o[0], 3);
    let mut sorted = o.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..10).collect::<Vec<_>>());

    let mut f = Fixture::new();
    let v = f.create(new("d1", Tier::Unlimited, 8), L1, T0).unwrap();
    let sid = v.session.session_id.clone();
    f.op(&sid, PlaybackOp::Next, T0).unwrap();
    let v = f.op(&sid, PlaybackOp::Shuffle(true), T0).unwrap();
    assert_eq!(v.session.order, shuffle_order(&sid, 8, Some(1)));
    assert_eq!((v.session.position, current(&v)), (0, "B0TRACK001"));
    assert_eq!(f.op(&sid, PlaybackOp::Shuffle(true), T0).unwrap().session.order, v.session.order, "no reshuffle");
    let v = f.op(&sid, PlaybackOp::Next, T0).unwrap();
    let now_on = current(&v).to_owned();
    let v = f.op(&sid, PlaybackOp::Shuffle(false), T0).unwrap();
    assert_eq!(v.session.order, (0..8).collect::<Vec<_>>());
    assert_eq!(current(&v), now_on);
}

#[test]
fn queued_tracks_play_next_or_last_in_both_orders() {
    let mut f = Fixture::new();
    let v = f.create(new("d1", Tier::Prime, 3), L1, T0).unwrap();
    let sid = v.session.session_id.clone();
    let extra = |n: &str| vec![QueueTrack { track_id: n.into(), duration_seconds: 100 }];
    f.op(&sid, PlaybackOp::Enqueue { tracks: extra("B0LAST0000"), next: false }, T0).unwrap();
    let v = f.op(&sid, PlaybackOp::Enqueue { tracks: extra("B0NEXT0000"), next: true }, T0).unwrap();
    assert_eq!(order(&v), ["B0TRACK000", "B0NEXT0000", "B0TRACK001", "B0TRACK002", "B0LAST0000"]);
    let v = f.op(&sid, PlaybackOp::Shuffle(true), T0).unwrap();
    let v2 = f.op(&sid, PlaybackOp::Enqueue { tracks: extra("B0NEXT0001"), next: true }, T0).unwrap();
    let mut want = order(&v);
    want.insert(1, "B0NEXT0001".into());
    assert_eq!(order(&v2), want);
    // Back in queue order, it sits right after the entity that was current when it was queued.
    let v = f.op(&sid, PlaybackOp::Shuffle(false), T0).unwrap();
    assert_eq!(order(&v), ["B0TRACK000", "B0NEXT0001", "B0NEXT0000", "B0TRACK001", "B0TRACK002", "B0LAST0000"]);
    let e = f.op(&sid, PlaybackOp::Enqueue { tracks: tracks(MAX_QUEUE), next: true }, T0).unwrap_err();
    assert_eq!(e, PlaybackError::QueueFull);
}

#[test]
fn autoplay_appends_its_tail_once_when_the_queue_runs_out() {
    let mut f = Fixture::new();
    let mut n = new("d1", Tier::Unlimited, 1);
    n.autoplay_tail = Some(vec![QueueTrack { track_id: "B0AUTO0000".into(), duration_seconds: 100 }]);
    let v = f.create(n, L1, T0).unwrap();
    let sid = v.session.session_id.clone();
    assert_eq!(current(&f.op(&sid, PlaybackOp::Next, T0).unwrap()), "B0AUTO0000");
    assert_eq!(f.op(&sid, PlaybackOp::Next, T0), Err(PlaybackError::NoMoreNext));
}

#[test]
fn a_second_device_is_refused_and_preempts_the_first() {
    let mut f = Fixture::new();
    let a = f.create(new("phone", Tier::Unlimited, 3), L1, T0).unwrap().session.session_id;
    assert_eq!(f.create(new("tv", Tier::Unlimited, 3), L1, T0 + 10).unwrap_err(), PlaybackError::MaxConcurrency);
    assert_eq!(f.p.sessions.len(), 1, "no session for the refused device");
    assert_eq!(f.p.sessions[0].state, PlaybackState::Preempted);
    assert_eq!(f.p.sessions[0].state_detail.as_deref(), Some("tv"));
    assert_eq!(f.p.permit(&a, T0 + 20), Err(StreamDenied::Preempted));
    assert_eq!(f.op(&a, PlaybackOp::Next, T0 + 20), Err(PlaybackError::Preempted));
    // The slot is free now: the retry plays.
    let b = f.create(new("tv", Tier::Unlimited, 3), L1, T0 + 30).unwrap().session.session_id;
    assert_eq!(f.p.permit(&b, T0 + 40), Ok(()));
    // The first device restores: that conflicts again, and the tv is pre-empted in turn.
    assert_eq!(
        f.op(&a, PlaybackOp::Restore { device_id: "phone".into() }, T0 + 50),
        Err(PlaybackError::MaxConcurrency)
    );
    assert_eq!(f.p.permit(&b, T0 + 60), Err(StreamDenied::Preempted));
    let v = f.op(&a, PlaybackOp::Restore { device_id: "phone".into() }, T0 + 70).unwrap();
    assert!(v.holds_slot);
    assert_eq!(f.p.permit(&a, T0 + 80), Ok(()));
}

#[test]
fn the_same_device_replaces_its_own_session_and_two_slots_hold_two_devices() {
    let mut f = Fixture::new();
    let a = f.create(new("phone", Tier::Unlimited, 3), L1, T0).unwrap().session.session_id;
    let a2 = f.create(new("phone", Tier::Unlimited, 3), L1, T0 + 1).unwrap().session.session_id;
    assert_eq!(f.p.permit(&a, T0 + 2), Err(StreamDenied::Ended));
    assert_eq!(f.p.permit(&a2, T0 + 2), Ok(()));
    assert_eq!(f.p.sessions[0].state, PlaybackState::Replaced);
    let l2 = PlaybackLimits { max_sessions: 2, ..L1 };
    let b = f.create(new("tv", Tier::Unlimited, 3), l2, T0 + 3).unwrap().session.session_id;
    assert_eq!(f.p.active(T0 + 4).len(), 2);
    // A third device: the least recently active (the tv, if the phone streamed since) is pre-empted.
    assert_eq!(f.p.permit(&a2, T0 + 5), Ok(()));
    assert_eq!(f.create(new("car", Tier::Unlimited, 3), l2, T0 + 6).unwrap_err(), PlaybackError::MaxConcurrency);
    assert_eq!(f.p.permit(&b, T0 + 7), Err(StreamDenied::Preempted));
    assert_eq!(f.p.permit(&a2, T0 + 7), Ok(()));
    assert!(f.create(new("car", Tier::Unlimited, 3), l2, T0 + 8).is_ok());
}

#[test]
fn idle_sessions_and_terminal_stops_give_the_slot_up() {
    let mut f = Fixture::new();
    let v = f.create(new("phone", Tier::Unlimited, 3), L1, T0).unwrap();
    let a = v.session.session_id.clone();
    // Activity (a stream request) keeps it; 10 idle minutes end it.
    assert_eq!(f.p.permit(&a, T0 + 500_000), Ok(()));
    assert_eq!(f.p.permit(&a, T0 + 500_000 + 599_999), Ok(()));
    let idle_from = T0 + 500_000 + 599_999;
    assert_eq!(f.p.permit(&a, idle_from + 600_000), Err(StreamDenied::Expired));
    // Another device may now start; the idle session comes back by navigating (the slot is free again
    // after the tv stops with a terminal reason).
    let b = f.create(new("tv", Tier::Unlimited, 3), L1, idle_from + 600_001).unwrap();
    let metric = b.session.current().unwrap().metric_id.clone();
    let recorded = f.stop(&metric, "userStop", idle_from + 600_002).unwrap();
    assert!(recorded[0].terminal);
    assert_eq!(f.p.permit(&b.session.session_id, idle_from + 600_003), Err(StreamDenied::Ended));
    let v = f.op(&a, PlaybackOp::Next, idle_from + 600_004).unwrap();
    assert!(v.holds_slot);
    assert_eq!(f.p.permit(&a, idle_from + 600_005), Ok(()));
    // A shorter timeout applies from the next operation on.
    let short = PlaybackLimits { idle_timeout_ms: 1000, ..L1 };
    f.op_with(&a, PlaybackOp::Read, short, idle_from + 600_006).unwrap();
    assert_eq!(f.p.permit(&a, idle_from + 601_006), Err(StreamDenied::Expired));
    assert_eq!(f.p.permit("no-such-session", T0), Err(StreamDenied::Unknown));
}

#[test]
fn resume_takes_a_given_up_slot_again_and_says_so_but_not_a_preempted_one() {
    let mut f = Fixture::new();
    let a = f.create(new("phone", Tier::Unlimited, 3), L1, T0).unwrap().session.session_id;
    // Holding its slot: a resume is a plain read.
    let v = f.op(&a, PlaybackOp::Resume, T0 + 1).unwrap();
    assert!(v.holds_slot && !v.restored);
    assert_eq!(v.session.state, PlaybackState::Active);
    // Idle past the timeout: the resume takes the slot again and reports it.
    let later = T0 + 1 + 600_000;
    assert!(!f.op(&a, PlaybackOp::Read, later).unwrap().holds_slot, "a read does not restore");
    let v = f.op(&a, PlaybackOp::Resume, later + 1).unwrap();
    assert!(v.holds_slot && v.restored);
    assert_eq!(current(&v), "B0TRACK000", "a resume does not move");
    assert_eq!(f.p.permit(&a, later + 2), Ok(()));
    // A next on a session that gave its slot up restores it too.
    let m = v.session.current().unwrap().metric_id.clone();
    f.stop(&m, "userStop", later + 3).unwrap();
    let v = f.op(&a, PlaybackOp::Next, later + 4).unwrap();
    assert!(v.holds_slot && v.restored);
    assert!(!f.op(&a, PlaybackOp::Next, later + 5).unwrap().restored);
    // Pre-empted by another device: refused, and nothing changes.
    assert_eq!(f.create(new("tv", Tier::Unlimited, 3), L1, later + 6).unwrap_err(), PlaybackError::MaxConcurrency);
    assert_eq!(f.op(&a, PlaybackOp::Resume, later + 7).unwrap_err(), PlaybackError::Preempted);
    assert_eq!(f.p.sessions[0].state, PlaybackState::Preempted);
    // Another device holds the only slot: resuming a stopped session fails with the concurrency error and
    // pre-empts it.
    let b = f.create(new("tv", Tier::Unlimited, 3), L1, later + 8).unwrap().session.session_id;
    let c = f.create(new("car", Tier::Unlimited, 3), L1, later + 9);
    assert_eq!(c.unwrap_err(), PlaybackError::MaxConcurrency);
    assert_eq!(f.p.permit(&b, later + 10), Err(StreamDenied::Preempted));
}

#[test]
fn entities_are_found_by_reference_and_windows_start_anywhere() {
    let mut f = Fixture::new();
    let v = f.create(new("phone", Tier::Unlimited, 4), L1, T0).unwrap();
    let s = &v.session;
    let third = s.items[2].entity_reference_id.clone();
    assert_eq!(s.position_of(&third), Some(2));
    assert_eq!(s.position_of("nope"), None);
    assert_eq!(s.window_from(2, 5), vec![2, 3]);
    let v = f.op(&s.session_id.clone(), PlaybackOp::Loop(true), T0).unwrap();
    assert_eq!(v.session.window_from(2, 3), vec![2, 3, 0], "a looping queue wraps");
}

#[test]
fn events_are_all_or_none_and_mark_finished_and_terminal_stops() {
    let mut f = Fixture::new();
    let v = f.create(new("phone", Tier::Prime, 2), L1, T0).unwrap();
    let m0 = v.session.items[0].metric_id.clone();
    let ev = |m: &str, kind: EventType, reason: Option<&str>, progress: Option<f64>| NewPlaybackEvent {
        metric_id: m.into(),
        kind,
        client_timestamp_ms: 5,
        termination_reason: reason.map(str::to_owned),
        entity_progress_seconds: progress,
        event: serde_json::json!({"type": "x"}),
    };
    let mut seq = 0;
    let mut next_seq = || {
        seq += 1;
        seq
    };
    let bad = vec![ev(&m0, EventType::Start, None, None), ev("nope", EventType::Start, None, None)];
    assert_eq!(f.p.report("u", bad, &mut next_seq, L1, T0), Err(PlaybackError::UnknownMetric("nope".into())));
    assert!(f.p.events.is_empty());
    // A userPause stop is neither terminal nor finished; progress to within a second of the end finishes.
    let out =
        f.p.report(
            "u",
            vec![ev(&m0, EventType::Start, None, None), ev(&m0, EventType::Stop, Some("userPause"), Some(50.0))],
            &mut next_seq,
            L1,
            T0,
        )
        .unwrap();
    assert_eq!(out.iter().map(|e| (e.seq, e.terminal)).collect::<Vec<_>>(), [(1, false), (2, false)]);
    assert!(!f.p.sessions[0].items[0].finished);
    f.p.report("u", vec![ev(&m0, EventType::Stop, Some("userNext"), Some(199.0))], &mut next_seq, L1, T0).unwrap();
    assert!(f.p.sessions[0].items[0].finished);
    assert!(f.p.sessions[0].holds_slot(T0));
    f.p.report("u", vec![ev(&m0, EventType::Stop, Some("appClosed"), None)], &mut next_seq, L1, T0).unwrap();
    assert_eq!(f.p.sessions[0].state, PlaybackState::Stopped);
    assert_eq!(f.p.sessions[0].state_detail.as_deref(), Some("appClosed"));
    assert_eq!(f.p.events.len(), 4);
}

// ---- through the in-memory store --------------------------------------------------------------------

fn store() -> MemoryMusic {
    MemoryMusic::new(MusicSeed::empty(), Arc::new(Clock::default()), StdRng::seed_from_u64(7), true)
}

#[tokio::test]
async fn the_store_permits_streams_by_playback_session_state() {
    let s = store();
    let mut n = new("phone", Tier::Unlimited, 2);
    n.user = "amzn1.account.A".into();
    let a = s.playback_create(n.clone(), L1, T0).await.unwrap().session.session_id;
    assert_eq!(s.stream_permit(&a, T0 + 1).await, Ok(()));
    assert_eq!(s.stream_permit("00000000-0000-4000-8000-000000000000", T0).await, Err(StreamDenied::Unknown));
    // Another customer's devices do not count.
    let mut other = new("tv", Tier::Unlimited, 2);
    other.user = "amzn1.account.B".into();
    assert!(s.playback_create(other, L1, T0 + 2).await.is_ok());
    // The same customer on another device: refused, and the phone's next stream request too.
    let mut tv = n.clone();
    tv.device_id = "tv".into();
    assert_eq!(s.playback_create(tv.clone(), L1, T0 + 3).await.unwrap_err(), PlaybackError::MaxConcurrency);
    assert_eq!(s.stream_permit(&a, T0 + 4).await, Err(StreamDenied::Preempted));
    let b = s.playback_create(tv, L1, T0 + 5).await.unwrap().session.session_id;
    assert_eq!(s.stream_permit(&b, T0 + 6).await, Ok(()));
    assert_eq!(s.stream_permit(&b, T0 + 6 + 600_000).await, Err(StreamDenied::Expired));
    // Another customer's session id is unknown to this one's operations.
    assert_eq!(
        s.playback_apply("amzn1.account.B", &b, PlaybackOp::Read, L1, T0).await.unwrap_err(),
        PlaybackError::NotFound
    );
    assert_eq!(s.playback_sessions(Some("amzn1.account.A")).await.len(), 2);
    assert_eq!(s.playback_sessions(None).await.len(), 3);
    let _ = s.reset(Vec::new());
    assert_eq!(s.stream_permit(&b, T0).await, Err(StreamDenied::Unknown));
}

#[tokio::test]
async fn start_events_add_plays_to_the_history_in_the_same_write() {
    let s = store();
    let mut n = new("phone", Tier::Unlimited, 2);
    n.user = "amzn1.account.A".into();
    let v = s.playback_create(n, L1, T0).await.unwrap();
    let start = |i: usize| NewPlaybackEvent {
        metric_id: v.session.items[i].metric_id.clone(),
        kind: EventType::Start,
        client_timestamp_ms: 1,
        termination_reason: None,
        entity_progress_seconds: None,
        event: serde_json::json!({"type": "start", "clientTimestampInMilliseconds": 1}),
    };
    let recorded = s.playback_report("amzn1.account.A", vec![start(0), start(1)], L1, T0 + 10).await.unwrap();
    assert_eq!(recorded.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    let h = s.history("amzn1.account.A", 0, 10).await;
    let ids: Vec<&str> = h.items.iter().map(|p| p.track_id.as_str()).collect();
    assert_eq!(ids, ["B0TRACK001", "B0TRACK000"], "newest first");
    assert_eq!(s.playback_events(None).await.len(), 2);
    assert!(s.playback_events(Some("amzn1.account.B")).await.is_empty());
    // Another customer cannot report against these metric ids.
    let e = s.playback_report("amzn1.account.B", vec![start(0)], L1, T0).await.unwrap_err();
    assert!(matches!(e, PlaybackError::UnknownMetric(_)));
}
