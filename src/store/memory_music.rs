//! In-memory [`MusicStore`]: customers and playlists in sharded maps (a write to one playlist locks only
//! that playlist), customers seeded lazily from the fixtures on first access, so a new session costs
//! nothing until it is used. A customer's playback sessions and events live with the rest of their state,
//! so an event and the play it adds to the history are one write. Lock order, where two are held: customer,
//! then playlist or the playback-session index; the random source is taken last and alone.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use dashmap::DashMap;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;

use super::music::*;
use super::persist::{Ack, SessionDocs, Sink, Write, behind_if, journal_key, kind, send_if};
use super::playback::{
    NewPlayback, NewPlaybackEvent, PlaybackError, PlaybackEvent, PlaybackLimits, PlaybackOp, PlaybackSession,
    PlaybackView, StreamDenied, UserPlayback,
};
use crate::clock::Clock;
use crate::ids;

/// Builds a customer's initial music state; `None` for an unknown customer (who starts empty).
pub type SeedFn = Arc<dyn Fn(&str) -> Option<SeedMusic> + Send + Sync>;

/// How a session's customers start: who has seeded state, and how to build it.
#[derive(Clone)]
pub struct MusicSeed {
    /// Customers with seeded state (fixture customers with a music account). A lookup of a playlist that
    /// is not there yet seeds them all first, so one customer sees another's public playlists even before
    /// that customer made a request in the session.
    pub customers: Arc<Vec<String>>,
    /// Builds one customer's state.
    pub build: SeedFn,
}

impl MusicSeed {
    /// Nobody starts with anything.
    pub fn empty() -> Self {
        MusicSeed { customers: Arc::new(Vec::new()), build: Arc::new(|_| None) }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(serde::Serialize, serde::Deserialize)]
struct UserMusic {
    /// Oldest first; read newest first.
    collections: HashMap<Collection, Vec<Item>>,
    /// Owned playlist ids, oldest first.
    playlists: Vec<String>,
    /// Oldest first.
    history: Vec<Play>,
    profile: MusicProfile,
    /// Thumb ratings of station tracks (neutral ones are not kept).
    ratings: HashMap<String, Thumb>,
    version: u64,
    playback: UserPlayback,
    /// Whether the state file has this customer (seeding on first access is not written until a change).
    #[serde(skip)]
    saved: bool,
}

impl UserMusic {
    fn add_play(&mut self, track_id: &str, at_ms: i64) {
        let pos = self.history.partition_point(|p| p.played_at_ms <= at_ms);
        self.history.insert(pos, Play { played_at_ms: at_ms, track_id: track_id.to_owned() });
        self.version += 1;
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PlaylistState {
    meta: PlaylistMeta,
    entries: Vec<Entry>,
}

impl PlaylistState {
    fn refresh_meta(&mut self, now_ms: i64) {
        self.meta.track_count = self.entries.len();
        self.meta.track_ids = self.entries.iter().map(|e| e.track_id.clone()).collect();
        self.meta.updated_at_ms = now_ms;
        self.meta.version += 1;
    }
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct FaultState {
    fault: Fault,
    seen: u64,
}

struct Bucket {
    tokens: f64,
    last_ms: i64,
}

/// The in-memory music state of one session.
pub struct MemoryMusic {
    seed: MusicSeed,
    clock: Arc<Clock>,
    rng: Mutex<StdRng>,
    /// Replayed on reset when the server runs with a seed; otherwise a reset draws a fresh sequence.
    initial_rng: Option<StdRng>,
    users: DashMap<String, UserMusic>,
    playlists: DashMap<String, PlaylistState>,
    faults: Mutex<Vec<FaultState>>,
    buckets: DashMap<String, Bucket>,
    device_events: Mutex<DeviceEvents>,
    /// Playback session id → its customer.
    playback_owner: DashMap<String, String>,
    /// Arrival order of playback events.
    event_seq: AtomicU64,
    /// Where changes are written through, with a state file.
    sink: Option<Sink>,
}

/// Device API playback reports, oldest first, at most [`MAX_DEVICE_EVENTS`], and the last `seq` given.
#[derive(Default)]
struct DeviceEvents {
    seq: u64,
    list: VecDeque<DeviceEvent>,
}

/// Device API playback reports kept per session; the oldest go first.
pub const MAX_DEVICE_EVENTS: usize = 10_000;

impl MemoryMusic {
    /// A session's music state.
    pub fn new(seed: MusicSeed, clock: Arc<Clock>, rng: StdRng, seeded: bool) -> Self {
        MemoryMusic {
            seed,
            clock,
            rng: Mutex::new(rng.clone()),
            initial_rng: seeded.then_some(rng),
            users: DashMap::new(),
            playlists: DashMap::new(),
            faults: Mutex::new(Vec::new()),
            buckets: DashMap::new(),
            device_events: Mutex::new(DeviceEvents::default()),
            playback_owner: DashMap::new(),
            event_seq: AtomicU64::new(1),
            sink: None,
        }
    }

    /// Writes changes through to `sink` from now on.
    pub fn with_sink(mut self, sink: Option<Sink>) -> Self {
        self.sink = sink;
        self
    }

    /// Takes back what a state file kept: customers, playlists, faults and the Device API's reports.
    ///
    /// # Errors
    /// The first document that does not decode.
    pub fn restore(&self, docs: &SessionDocs) -> Result<(), String> {
        let mut last_event = 0;
        for (user, mut u) in docs.all::<UserMusic>(kind::USER)? {
            u.saved = true;
            for s in &u.playback.sessions {
                self.playback_owner.insert(s.session_id.clone(), user.clone());
            }
            last_event = u.playback.events.iter().map(|e| e.seq).fold(last_event, u64::max);
            self.users.insert(user, u);
        }
        self.event_seq.store(last_event + 1, Ordering::Relaxed);
        for (id, p) in docs.all::<PlaylistState>(kind::PLAYLIST)? {
            self.playlists.insert(id, p);
        }
        *lock(&self.faults) = docs.get(kind::FAULTS, "")?.unwrap_or_default();
        let mut events = lock(&self.device_events);
        for (_, e) in docs.all::<DeviceEvent>(kind::DEVICE_EVENTS)? {
            events.seq = events.seq.max(e.seq);
            events.list.push_back(e);
        }
        Ok(())
    }

    /// Back to the fixtures, with these faults; the writes that empty the state file's music documents
    /// (for the caller to send with the rest of the reset, as one transaction).
    pub fn reset(&self, faults: Vec<Fault>) -> Vec<Write> {
        self.users.clear();
        self.playlists.clear();
        *lock(&self.faults) = faults.into_iter().map(|fault| FaultState { fault, seen: 0 }).collect();
        self.buckets.clear();
        *lock(&self.device_events) = DeviceEvents::default();
        self.playback_owner.clear();
        self.event_seq.store(1, Ordering::Relaxed);
        *lock(&self.rng) = self.initial_rng.clone().unwrap_or_else(StdRng::from_os_rng);
        if self.sink.is_none() {
            return Vec::new();
        }
        let mut writes: Vec<Write> = [kind::USER, kind::PLAYLIST, kind::DEVICE_EVENTS]
            .into_iter()
            .map(|kind| Write::DeleteKind { kind, upto: None })
            .collect();
        writes.push(self.faults_doc(&lock(&self.faults)));
        writes
    }

    fn faults_doc(&self, faults: &[FaultState]) -> Write {
        Write::put(kind::FAULTS, "", &faults)
    }

    /// Runs `f` on the faults; writes them through when `f` says they changed.
    fn with_faults<R>(&self, f: impl FnOnce(&mut Vec<FaultState>) -> (R, bool)) -> (R, Ack) {
        let mut faults = lock(&self.faults);
        let (r, changed) = f(&mut faults);
        let ack = if changed { send_if(self.sink.as_ref(), || vec![self.faults_doc(&faults)]) } else { Ack::none() };
        (r, ack)
    }

    /// Runs `f` on the customer's state and writes it through (with the writes `f` adds, such as a playlist
    /// it created), as one transaction.
    fn with_user_mut<R>(
        &self,
        user: &str,
        f: impl FnOnce(&mut UserMusic, &DashMap<String, PlaylistState>, &mut Vec<Write>) -> R,
    ) -> (R, Ack) {
        self.with_user(user, |u, playlists| {
            let mut writes = Vec::new();
            let r = f(u, playlists, &mut writes);
            let ack = send_if(self.sink.as_ref(), || {
                let mut all = Self::user_writes(user, u, playlists);
                all.append(&mut writes);
                all
            });
            (r, ack)
        })
    }

    /// The customer's document, and, the first time it is written, their playlists as seeded (so that a
    /// restart does not seed them again).
    fn user_writes(user: &str, u: &mut UserMusic, playlists: &DashMap<String, PlaylistState>) -> Vec<Write> {
        let mut writes = vec![Write::put(kind::USER, user, &*u)];
        if !u.saved {
            u.saved = true;
            for pid in &u.playlists {
                if let Some(p) = playlists.get(pid) {
                    writes.push(Write::put(kind::PLAYLIST, pid.as_str(), &*p));
                }
            }
        }
        writes
    }

    fn uuid(&self) -> String {
        ids::uuid(&mut *lock(&self.rng))
    }

    /// Runs `f` on the customer's state, seeding it first if needed. Holds the customer's shard lock.
    fn with_user<R>(&self, user: &str, f: impl FnOnce(&mut UserMusic, &DashMap<String, PlaylistState>) -> R) -> R {
        let mut entry = self.users.entry(user.to_owned()).or_insert_with(|| self.seeded(user));
        f(entry.value_mut(), &self.playlists)
    }

    fn seeded(&self, user: &str) -> UserMusic {
        let now = self.clock.now_ms();
        let Some(seed) = (self.seed.build)(user) else {
            return UserMusic {
                collections: HashMap::new(),
                playlists: Vec::new(),
                history: Vec::new(),
                profile: MusicProfile {
                    id: String::new(),
                    name: String::new(),
                    visibility: Visibility::Private,
                    playback_visibility: Visibility::Private,
                },
                ratings: HashMap::new(),
                version: 0,
                playback: UserPlayback::default(),
                saved: false,
            };
        };
        let mut collections = HashMap::new();
        for (c, ids) in seed.collections {
            // Seeded newest first, an hour apart; stored oldest first.
            let n = ids.len() as i64;
            let items = ids
                .into_iter()
                .enumerate()
                .rev()
                .map(|(i, id)| Item { id, added_at_ms: now - (i as i64 + 1) * 3_600_000 })
                .collect::<Vec<_>>();
            debug_assert_eq!(items.len() as i64, n);
            collections.insert(c, items);
        }
        let mut owned = Vec::new();
        for (i, p) in seed.playlists.into_iter().enumerate() {
            let created = now - (30 - i as i64).max(1) * 86_400_000;
            let entries: Vec<Entry> = p
                .entries
                .into_iter()
                .map(|(entry_id, track_id)| Entry { entry_id, track_id, added_at_ms: created })
                .collect();
            let meta = PlaylistMeta {
                id: p.id.clone(),
                owner: user.to_owned(),
                title: p.title,
                description: p.description,
                visibility: p.visibility,
                track_count: entries.len(),
                track_ids: entries.iter().map(|e| e.track_id.clone()).collect(),
                created_at_ms: created,
                updated_at_ms: created,
                version: 1,
            };
            owned.push(p.id.clone());
            self.playlists.insert(p.id, PlaylistState { meta, entries });
        }
        let mut history: Vec<Play> =
            seed.history.into_iter().map(|(ago, track_id)| Play { played_at_ms: now - ago, track_id }).collect();
        history.sort_by_key(|p| p.played_at_ms);
        UserMusic {
            collections,
            playlists: owned,
            history,
            profile: seed.profile,
            ratings: HashMap::new(),
            version: 1,
            playback: UserPlayback::default(),
            saved: false,
        }
    }

    /// Seeds every fixture customer when `playlist_id` is not (yet) known: their seeded playlists then exist.
    fn seed_all_unless_present(&self, playlist_id: &str) {
        if self.playlists.contains_key(playlist_id) {
            return;
        }
        for c in self.seed.customers.iter() {
            self.with_user(c, |_, _| ());
        }
    }

    /// Runs `f` on a playlist the customer owns and writes it through. A customer the state file does not
    /// have yet is written first (seeded on first access, their seeded playlists included), so that a restart
    /// does not seed them again over the changed playlist.
    async fn owned_playlist<R>(
        &self,
        user: &str,
        id: &str,
        f: impl FnOnce(&mut PlaylistState) -> Result<R, PlaylistError>,
    ) -> Result<R, PlaylistError> {
        // Seed the customer first (their seeded playlists may be the one asked for).
        let first = self.with_user(user, |u, playlists| {
            if u.saved {
                return Ack::none();
            }
            send_if(self.sink.as_ref(), || Self::user_writes(user, u, playlists))
        });
        let (r, ack) = {
            let mut p = self.playlists.get_mut(id).ok_or(PlaylistError::NotFound)?;
            not_owner(&p.meta, user)?;
            let r = f(&mut p)?;
            (r, send_if(self.sink.as_ref(), || vec![Write::put(kind::PLAYLIST, id, &*p)]))
        };
        first.done().await;
        ack.done().await;
        Ok(r)
    }
}

/// Whether `user` may write the playlist: another customer's PUBLIC playlist is [`PlaylistError::NotOwner`], a
/// PRIVATE one [`PlaylistError::NotFound`], as it is for reads (its existence is not revealed).
fn not_owner(meta: &PlaylistMeta, user: &str) -> Result<(), PlaylistError> {
    match meta.visibility {
        _ if meta.owner == user => Ok(()),
        Visibility::Public => Err(PlaylistError::NotOwner),
        Visibility::Private => Err(PlaylistError::NotFound),
    }
}

fn page<T: Clone>(
    items: impl DoubleEndedIterator<Item = T> + ExactSizeIterator,
    offset: usize,
    limit: usize,
    version: u64,
) -> Page<T> {
    let total = items.len();
    Page { items: items.skip(offset).take(limit).collect(), total, version }
}

/// The track a track-level fault rule (`TRACK <asin>` or `TRACK *`) names; `None` for a request rule.
fn track_rule_target(route: &str) -> Option<&str> {
    let t = route.trim();
    t.get(..6).filter(|m| m.eq_ignore_ascii_case("TRACK ")).map(|_| t[6..].trim())
}

fn is_track_rule(route: &str) -> bool {
    track_rule_target(route).is_some()
}

/// Takes the first rule of `faults` that `matches` and is past its `after`, and uses up one of its `count`
/// (removing it when none is left). Every rule that matches counts the request, so that `after` (and a plan's
/// `nth`) counts matching requests even when an earlier rule answered one of them.
fn take_first(faults: &mut Vec<FaultState>, matches: impl Fn(&Fault) -> bool) -> Option<Fault> {
    let mut hit = None;
    for (i, f) in faults.iter_mut().enumerate() {
        if !matches(&f.fault) {
            continue;
        }
        f.seen += 1;
        if hit.is_none() && f.seen > f.fault.after.unwrap_or(0) {
            hit = Some(i);
        }
    }
    let idx = hit?;
    let f = &mut faults[idx];
    let hit = f.fault.clone();
    if let Some(n) = f.fault.count.as_mut() {
        *n = n.saturating_sub(1);
        if *n == 0 {
            faults.remove(idx);
        }
    }
    Some(hit)
}

#[async_trait]
impl MusicStore for MemoryMusic {
    async fn collection_page(&self, user: &str, c: Collection, offset: usize, limit: usize) -> Page<Item> {
        self.with_user(user, |u, _| {
            let items = u.collections.get(&c).map(Vec::as_slice).unwrap_or(&[]);
            page(items.iter().rev().cloned(), offset, limit, u.version)
        })
    }

    async fn collection_add(&self, user: &str, c: Collection, ids: &[String], now_ms: i64) -> usize {
        let (added, ack) = self.with_user_mut(user, |u, _, _| {
            let items = u.collections.entry(c).or_default();
            let mut added = 0;
            for id in ids {
                if !items.iter().any(|i| &i.id == id) {
                    items.push(Item { id: id.clone(), added_at_ms: now_ms });
                    added += 1;
                }
            }
            u.version += 1;
            added
        });
        ack.done().await;
        added
    }

    async fn collection_remove(&self, user: &str, c: Collection, ids: &[String]) -> usize {
        let (removed, ack) = self.with_user_mut(user, |u, _, _| {
            let items = u.collections.entry(c).or_default();
            let before = items.len();
            items.retain(|i| !ids.contains(&i.id));
            u.version += 1;
            before - items.len()
        });
        ack.done().await;
        removed
    }

    async fn user_playlists(&self, user: &str, offset: usize, limit: usize) -> Page<PlaylistMeta> {
        self.with_user(user, |u, playlists| {
            let metas: Vec<PlaylistMeta> =
                u.playlists.iter().rev().filter_map(|id| playlists.get(id).map(|p| p.meta.clone())).collect();
            page(metas.into_iter(), offset, limit, u.version)
        })
    }

    async fn playlist(&self, id: &str) -> Option<PlaylistMeta> {
        self.seed_all_unless_present(id);
        self.playlists.get(id).map(|p| p.meta.clone())
    }

    async fn playlist_entries(&self, id: &str, offset: usize, limit: usize) -> Option<Page<Entry>> {
        self.seed_all_unless_present(id);
        let p = self.playlists.get(id)?;
        Some(page(p.entries.iter().cloned(), offset, limit, p.meta.version))
    }

    async fn create_playlist(
        &self,
        user: &str,
        title: String,
        description: String,
        visibility: Visibility,
        now_ms: i64,
    ) -> PlaylistMeta {
        let id = self.uuid();
        let (meta, ack) = self.with_user_mut(user, |u, playlists, writes| {
            let meta = PlaylistMeta {
                id: id.clone(),
                owner: user.to_owned(),
                title,
                description,
                visibility,
                track_count: 0,
                track_ids: Vec::new(),
                created_at_ms: now_ms,
                updated_at_ms: now_ms,
                version: 1,
            };
            let p = PlaylistState { meta: meta.clone(), entries: Vec::new() };
            if self.sink.is_some() {
                writes.push(Write::put(kind::PLAYLIST, id.as_str(), &p));
            }
            playlists.insert(id.clone(), p);
            u.playlists.push(id);
            u.version += 1;
            meta
        });
        ack.done().await;
        meta
    }

    async fn update_playlist(
        &self,
        user: &str,
        id: &str,
        patch: PlaylistPatch,
        now_ms: i64,
    ) -> Result<PlaylistMeta, PlaylistError> {
        self.owned_playlist(user, id, |p| {
            if let Some(t) = patch.title {
                p.meta.title = t;
            }
            if let Some(d) = patch.description {
                p.meta.description = d;
            }
            if let Some(v) = patch.visibility {
                p.meta.visibility = v;
            }
            p.refresh_meta(now_ms);
            Ok(p.meta.clone())
        })
        .await
    }

    async fn add_to_playlist(
        &self,
        user: &str,
        id: &str,
        track_ids: &[String],
        allow_duplicates: bool,
        now_ms: i64,
    ) -> Result<AddOutcome, PlaylistError> {
        // Entry ids are drawn before taking the playlist lock, so the lock is held only for the append.
        let fresh: Vec<String> = (0..track_ids.len()).map(|_| self.uuid()).collect();
        self.owned_playlist(user, id, |p| {
            let mut added = Vec::new();
            let mut skipped = Vec::new();
            for (t, entry_id) in track_ids.iter().zip(fresh) {
                if !allow_duplicates && p.entries.iter().any(|e| &e.track_id == t) {
                    skipped.push(t.clone());
                    continue;
                }
                let e = Entry { entry_id, track_id: t.clone(), added_at_ms: now_ms };
                p.entries.push(e.clone());
                added.push(e);
            }
            p.refresh_meta(now_ms);
            Ok(AddOutcome { added, skipped, playlist: p.meta.clone() })
        })
        .await
    }

    async fn remove_from_playlist(
        &self,
        user: &str,
        id: &str,
        entry_ids: &[String],
        now_ms: i64,
    ) -> Result<PlaylistMeta, PlaylistError> {
        self.owned_playlist(user, id, |p| {
            if let Some(missing) = entry_ids.iter().find(|e| !p.entries.iter().any(|x| &x.entry_id == *e)) {
                return Err(PlaylistError::UnknownEntry(missing.clone()));
            }
            p.entries.retain(|e| !entry_ids.contains(&e.entry_id));
            p.refresh_meta(now_ms);
            Ok(p.meta.clone())
        })
        .await
    }

    async fn reorder_playlist(
        &self,
        user: &str,
        id: &str,
        entry_ids: &[String],
        anchor: Anchor,
        now_ms: i64,
    ) -> Result<PlaylistMeta, PlaylistError> {
        self.owned_playlist(user, id, |p| {
            let anchor_id = match &anchor {
                Anchor::Above(a) | Anchor::Below(a) => a,
            };
            for e in entry_ids.iter().chain(std::iter::once(anchor_id)) {
                if !p.entries.iter().any(|x| &x.entry_id == e) {
                    return Err(PlaylistError::UnknownEntry(e.clone()));
                }
            }
            // Each entry moves once, however often it is named.
            let mut moving: Vec<Entry> = Vec::with_capacity(entry_ids.len());
            for e in entry_ids {
                if !moving.iter().any(|m| &m.entry_id == e) {
                    moving.extend(p.entries.iter().find(|x| &x.entry_id == e).cloned());
                }
            }
            p.entries.retain(|e| !entry_ids.contains(&e.entry_id));
            // An anchor that is itself being moved keeps its old neighbours' position: fall back to the end.
            let at = match &anchor {
                Anchor::Above(a) => p.entries.iter().position(|x| &x.entry_id == a),
                Anchor::Below(a) => p.entries.iter().position(|x| &x.entry_id == a).map(|i| i + 1),
            }
            .unwrap_or(p.entries.len());
            p.entries.splice(at..at, moving);
            p.refresh_meta(now_ms);
            Ok(p.meta.clone())
        })
        .await
    }

    async fn delete_playlist(&self, user: &str, id: &str) -> Result<(), PlaylistError> {
        let (r, ack) = self.with_user_mut(user, |u, playlists, writes| {
            playlists.get(id).ok_or(PlaylistError::NotFound).and_then(|p| not_owner(&p.meta, user))?;
            playlists.remove(id);
            writes.push(Write::delete(kind::PLAYLIST, id));
            u.playlists.retain(|p| p != id);
            u.version += 1;
            Ok(())
        });
        ack.done().await;
        r
    }

    async fn record_play(&self, user: &str, track_id: &str, at_ms: i64) {
        self.with_user_mut(user, |u, _, _| u.add_play(track_id, at_ms)).1.done().await;
    }

    async fn history(&self, user: &str, offset: usize, limit: usize) -> Page<Play> {
        self.with_user(user, |u, _| page(u.history.iter().rev().cloned(), offset, limit, u.version))
    }

    async fn music_profile(&self, user: &str) -> MusicProfile {
        self.with_user(user, |u, _| u.profile.clone())
    }

    async fn update_music_profile(
        &self,
        user: &str,
        name: String,
        visibility: Visibility,
        playback_visibility: Visibility,
    ) -> MusicProfile {
        let (profile, ack) = self.with_user_mut(user, |u, _, _| {
            u.profile.name = name;
            u.profile.visibility = visibility;
            u.profile.playback_visibility = playback_visibility;
            u.version += 1;
            u.profile.clone()
        });
        ack.done().await;
        profile
    }

    async fn dump(&self, user: &str) -> serde_json::Value {
        self.with_user(user, |u, playlists| {
            let mut cols = serde_json::Map::new();
            for c in Collection::ALL {
                let items: Vec<&Item> = u.collections.get(&c).map(|v| v.iter().rev().collect()).unwrap_or_default();
                cols.insert(
                    serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                    json!(items),
                );
            }
            let owned: Vec<serde_json::Value> = u
                .playlists
                .iter()
                .rev()
                .filter_map(|id| playlists.get(id).map(|p| json!({"playlist": p.meta, "entries": p.entries})))
                .collect();
            let history: Vec<&Play> = u.history.iter().rev().collect();
            let mut ratings: Vec<(&String, &Thumb)> = u.ratings.iter().collect();
            ratings.sort_by(|a, b| a.0.cmp(b.0));
            let ratings: serde_json::Map<String, serde_json::Value> =
                ratings.into_iter().map(|(t, r)| (t.clone(), json!(r))).collect();
            json!({"profile": u.profile, "collections": cols, "playlists": owned, "history": history, "ratings": ratings})
        })
    }

    async fn add_fault(&self, fault: Fault) {
        self.with_faults(|f| (f.push(FaultState { fault, seen: 0 }), true)).1.done().await;
    }

    async fn faults(&self) -> Vec<Fault> {
        lock(&self.faults).iter().map(|f| f.fault.clone()).collect()
    }

    async fn clear_faults(&self) {
        self.with_faults(|f| (f.clear(), true)).1.done().await;
    }

    async fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let (hit, ack) = self.with_faults(|f| {
            if f.is_empty() {
                return (None, false);
            }
            (take_first(f, |f| !is_track_rule(&f.route) && route_matches(&f.route, method, path)), true)
        });
        ack.done().await;
        hit
    }

    async fn rate_limit(&self, key: &str, tps: f64, now_ms: i64) -> Result<(), i64> {
        if tps <= 0.0 {
            return Ok(());
        }
        let burst = tps.max(1.0);
        let mut b = self.buckets.entry(key.to_owned()).or_insert(Bucket { tokens: burst, last_ms: now_ms });
        let elapsed = (now_ms - b.last_ms).max(0) as f64 / 1000.0;
        b.tokens = (b.tokens + elapsed * tps).min(burst);
        b.last_ms = now_ms;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - b.tokens) / tps) * 1000.0).ceil() as i64)
        }
    }

    async fn take_track_fault(&self, track_id: &str) -> Option<Fault> {
        let (hit, ack) = self.with_faults(|f| {
            if f.is_empty() {
                return (None, false);
            }
            (take_first(f, |f| track_rule_target(&f.route).is_some_and(|t| t == "*" || t == track_id)), true)
        });
        ack.done().await;
        hit
    }

    async fn record_device_event(&self, mut event: DeviceEvent) -> DeviceEvent {
        let ack = {
            let mut events = lock(&self.device_events);
            events.seq += 1;
            event.seq = events.seq;
            event.at_ms = self.clock.now_ms();
            let mut writes = vec![Write::put(kind::DEVICE_EVENTS, journal_key(event.seq), &event)];
            if events.list.len() >= MAX_DEVICE_EVENTS {
                if let Some(old) = events.list.pop_front() {
                    writes.push(Write::DeleteKind { kind: kind::DEVICE_EVENTS, upto: Some(journal_key(old.seq)) });
                }
            }
            events.list.push_back(event.clone());
            send_if(self.sink.as_ref(), || writes)
        };
        ack.done().await;
        event
    }

    async fn device_events(&self) -> Vec<DeviceEvent> {
        lock(&self.device_events).list.iter().cloned().collect()
    }

    async fn rate_track(&self, user: &str, track_id: &str, rating: Thumb) {
        self.with_user_mut(user, |u, _, _| {
            match rating {
                Thumb::Neutral => u.ratings.remove(track_id),
                r => u.ratings.insert(track_id.to_owned(), r),
            };
            u.version += 1;
        })
        .1
        .done()
        .await;
    }

    async fn track_rating(&self, user: &str, track_id: &str) -> Thumb {
        self.with_user(user, |u, _| u.ratings.get(track_id).copied().unwrap_or_default())
    }

    async fn playback_create(
        &self,
        new: NewPlayback,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<PlaybackView, PlaybackError> {
        let user = new.user.clone();
        let (view, ack) = self.with_user_mut(&user, |u, _, _| {
            let view = u.playback.create(new, &mut || self.uuid(), limits, now_ms)?;
            self.playback_owner.insert(view.session.session_id.clone(), user.clone());
            for gone in u.playback.prune(now_ms) {
                self.playback_owner.remove(&gone);
            }
            Ok(view)
        });
        ack.done().await;
        view
    }

    async fn playback_apply(
        &self,
        user: &str,
        session_id: &str,
        op: PlaybackOp,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<PlaybackView, PlaybackError> {
        let (view, ack) =
            self.with_user_mut(user, |u, _, _| u.playback.apply(session_id, op, &mut || self.uuid(), limits, now_ms));
        ack.done().await;
        view
    }

    async fn playback_active(&self, user: &str, now_ms: i64) -> Vec<PlaybackView> {
        self.with_user(user, |u, _| u.playback.active(now_ms))
    }

    async fn playback_report(
        &self,
        user: &str,
        events: Vec<NewPlaybackEvent>,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<Vec<PlaybackEvent>, PlaybackError> {
        let (recorded, ack) = self.with_user_mut(user, |u, _, _| {
            let seq = &mut || self.event_seq.fetch_add(1, Ordering::Relaxed);
            let recorded = u.playback.report(user, events, seq, limits, now_ms)?;
            for e in recorded.iter().filter(|e| e.kind == super::playback::EventType::Start) {
                u.add_play(&e.track_id, now_ms);
            }
            Ok(recorded)
        });
        ack.done().await;
        recorded
    }

    async fn playback_sessions(&self, user: Option<&str>) -> Vec<PlaybackSession> {
        let mut all: Vec<(String, Vec<PlaybackSession>)> = self
            .users
            .iter()
            .filter(|e| user.is_none_or(|u| e.key() == u))
            .map(|e| (e.key().clone(), e.value().playback.sessions.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.into_iter().flat_map(|(_, s)| s).collect()
    }

    async fn playback_events(&self, user: Option<&str>) -> Vec<PlaybackEvent> {
        let mut all: Vec<PlaybackEvent> = self
            .users
            .iter()
            .filter(|e| user.is_none_or(|u| e.key() == u))
            .flat_map(|e| e.value().playback.events.clone())
            .collect();
        all.sort_by_key(|e| e.seq);
        all
    }

    async fn stream_permit(&self, playback_session_id: &str, now_ms: i64) -> Result<(), StreamDenied> {
        let owner = self.playback_owner.get(playback_session_id).map(|o| o.value().clone());
        let Some(owner) = owner else {
            return Err(StreamDenied::Unknown);
        };
        match self.users.get_mut(&owner) {
            Some(mut u) => {
                let permit = u.playback.permit(playback_session_id, now_ms);
                // A stream request only moves the session's idle timer: written behind, not waited for.
                behind_if(self.sink.as_ref(), || vec![Write::put(kind::USER, owner.as_str(), &*u)]);
                permit
            }
            None => Err(StreamDenied::Unknown),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_rules_are_told_apart_from_request_rules() {
        assert!(is_track_rule("TRACK B0123456789"));
        assert!(is_track_rule(" track *"));
        assert!(!is_track_rule("*"));
        assert!(!is_track_rule("GET /device/track/B0"));
    }

    #[test]
    fn fault_routes_match_with_wildcards_and_optional_v1() {
        assert!(route_matches("*", "GET", "/v1/tracks/B0"));
        assert!(route_matches("GET /v1/tracks/*", "GET", "/tracks/B012345678"));
        assert!(route_matches("/me/playlists", "POST", "/v1/me/playlists/"));
        assert!(!route_matches("POST /v1/playlists", "GET", "/v1/playlists"));
        assert!(route_matches("* /v1/playlists/**", "DELETE", "/v1/playlists/x/tracks"));
        assert!(!route_matches("GET /v1/tracks/*", "GET", "/v1/tracks/a/b"));
    }
}
