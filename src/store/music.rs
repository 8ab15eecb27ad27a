//! The Music API's mutable state, per session and customer: library collections, follows and likes,
//! user-owned playlists with their entries, listening history, the music profile, playback sessions and
//! their events, injected faults and rate-limit buckets. As with [`super::SessionStore`], each method is one
//! transaction.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::playback::{
    NewPlayback, NewPlaybackEvent, PlaybackError, PlaybackEvent, PlaybackLimits, PlaybackOp, PlaybackSession,
    PlaybackView, StreamDenied,
};

/// A per-customer collection of ids, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Collection {
    /// Tracks saved to the library.
    LibraryTracks,
    /// Albums saved to the library.
    LibraryAlbums,
    /// Tracks marked as liked.
    LikedTracks,
    /// Followed artists.
    FollowedArtists,
    /// Followed playlists (catalog or other customers').
    FollowedPlaylists,
    /// Followed podcast shows.
    FollowedPodcastShows,
    /// Podcast episodes saved to the library.
    LibraryPodcastEpisodes,
}

impl Collection {
    /// Every collection.
    pub const ALL: [Collection; 7] = [
        Collection::LibraryTracks,
        Collection::LibraryAlbums,
        Collection::LikedTracks,
        Collection::FollowedArtists,
        Collection::FollowedPlaylists,
        Collection::FollowedPodcastShows,
        Collection::LibraryPodcastEpisodes,
    ];
}

/// One id in a collection, with when it was added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// The entity id.
    pub id: String,
    /// Virtual epoch ms.
    pub added_at_ms: i64,
}

/// A page of results and the size of the whole list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many there are in all.
    pub total: usize,
    /// The version of the list when the page was read (for cursors).
    pub version: u64,
}

/// `PUBLIC` or `PRIVATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Visibility {
    /// Anyone may read it.
    Public,
    /// Only its owner.
    Private,
}

/// One entry of a playlist: entry ids are UUIDs, never track ids (`music-api.md` §11.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The entry's UUID.
    pub entry_id: String,
    /// The track.
    pub track_id: String,
    /// Virtual epoch ms.
    pub added_at_ms: i64,
}

/// A user-owned playlist without its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistMeta {
    /// UUID.
    pub id: String,
    /// The owner's customer id.
    pub owner: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Visibility.
    pub visibility: Visibility,
    /// Number of entries.
    pub track_count: usize,
    /// Track ids of the entries, in order (for duration sums and artwork; cheap: ids only).
    pub track_ids: Vec<String>,
    /// Virtual epoch ms.
    pub created_at_ms: i64,
    /// Virtual epoch ms.
    pub updated_at_ms: i64,
    /// Bumped on every change.
    pub version: u64,
}

/// Changes to a playlist's metadata; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct PlaylistPatch {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New visibility.
    pub visibility: Option<Visibility>,
}

/// Where reordered entries go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// Directly above (before) this entry.
    Above(String),
    /// Directly below (after) this entry.
    Below(String),
}

/// Why a playlist operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaylistError {
    /// No such playlist in this session, or another customer's private one.
    #[error("playlist not found")]
    NotFound,
    /// Another customer's public playlist.
    #[error("the playlist belongs to another customer")]
    NotOwner,
    /// An entry id is not in the playlist.
    #[error("entry {0} is not in the playlist")]
    UnknownEntry(String),
}

/// The result of adding tracks.
#[derive(Debug, Clone)]
pub struct AddOutcome {
    /// The new entries.
    pub added: Vec<Entry>,
    /// Tracks skipped as duplicates.
    pub skipped: Vec<String>,
    /// The playlist afterwards.
    pub playlist: PlaylistMeta,
}

/// One play in the listening history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Play {
    /// Virtual epoch ms.
    pub played_at_ms: i64,
    /// The track.
    pub track_id: String,
}

/// The customer's music profile (`GET/PUT /v1/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MusicProfile {
    /// The 26-character music profile id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Profile visibility.
    pub visibility: Visibility,
    /// Whether plays are visible to others.
    pub playback_visibility: Visibility,
}

/// A seeded playlist.
#[derive(Debug, Clone)]
pub struct SeedPlaylist {
    /// Its UUID.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Visibility.
    pub visibility: Visibility,
    /// `(entry UUID, track id)` in order.
    pub entries: Vec<(String, String)>,
}

/// A customer's music state as the fixtures seed it (deterministic from the seed and the customer).
#[derive(Debug, Clone)]
pub struct SeedMusic {
    /// Collections, newest first.
    pub collections: Vec<(Collection, Vec<String>)>,
    /// Owned playlists.
    pub playlists: Vec<SeedPlaylist>,
    /// `(milliseconds before the first access, track id)`, newest first.
    pub history: Vec<(i64, String)>,
    /// The music profile.
    pub profile: MusicProfile,
}

/// What an injected fault does (`music-api.md` §11.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// `METHOD /path` pattern the fault applies to: exact path, a `*` segment wildcard, or `*` for all.
    pub route: String,
    /// The wire error code to answer (`THROTTLED`, `INTERNAL`, `AUTH_NO_MUSIC_ACCOUNT_FOUND`, …); none
    /// for a latency-only fault.
    #[serde(default)]
    pub error: Option<String>,
    /// `Retry-After` seconds for `THROTTLED`.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Added latency, milliseconds.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// How many matching requests it applies to; none for every one.
    #[serde(default)]
    pub count: Option<u64>,
    /// Matching requests to let through before it applies.
    #[serde(default)]
    pub after: Option<u64>,
}

/// A thumb rating of a station track (Device API `TrackRatingRequest.thumbRating`, spec §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Thumb {
    /// Not rated.
    #[default]
    Neutral,
    /// Thumbs up.
    Up,
    /// Thumbs down.
    Down,
}

/// A playback report POSTed to a Device API `PlaybackEventCollector` (spec §7, §11.4).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceEvent {
    /// Position among the session's reports, from 1.
    pub seq: u64,
    /// Arrival on the session's virtual clock, epoch ms.
    pub at_ms: i64,
    /// The customer whose token posted it.
    pub user_id: String,
    /// The track container the instance belongs to, e.g. `playlist:<id>`, `station:rock`.
    pub container: String,
    /// The instance's index in its container.
    pub index: usize,
    /// The track.
    pub track_id: String,
    /// The report as posted (a JSON object; its schema is not public).
    pub report: serde_json::Value,
}

/// Whether a fault's route pattern matches `METHOD /path`.
pub fn route_matches(pattern: &str, method: &str, path: &str) -> bool {
    let pattern = pattern.trim();
    if pattern == "*" {
        return true;
    }
    let (pm, pp) = match pattern.split_once(' ') {
        Some((m, p)) => (m, p.trim()),
        None => ("*", pattern),
    };
    if pm != "*" && !pm.eq_ignore_ascii_case(method) {
        return false;
    }
    let strip = |p: &'_ str| -> String {
        let p = p.trim_end_matches('/');
        p.strip_prefix("/v1").map_or_else(|| p.to_owned(), str::to_owned)
    };
    let (pp, path) = (strip(pp), strip(path));
    let mut a = pp.split('/');
    let mut b = path.split('/');
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some("**"), _) => return true,
            (Some(x), Some(y)) if x == "*" || x == y => {}
            _ => return false,
        }
    }
}

impl Fault {
    /// The checks `POST /__admin/faults` makes (and plans too). Which error codes exist is the API families'
    /// knowledge, above the store: the caller passes it as `known_code` (`crate::plan::known_fault_code`).
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn validate(&self, known_code: fn(&str) -> bool) -> Result<(), String> {
        if self.route.trim().is_empty() {
            return Err("route is required: \"METHOD /path\" with * wildcards, or \"*\"".into());
        }
        if let Some(code) = &self.error {
            if !known_code(code) {
                return Err(format!(
                    "unknown error code {code:?}: use THROTTLED, INTERNAL, AUTH_NO_MUSIC_ACCOUNT_FOUND or another V1 code, a V2 code such as MAX_CONCURRENCY_REACHED, or a Device API report: CONCURRENT_STREAMS, SUBSCRIPTION_REQUIRED, SERVICE_UNAVAILABLE"
                ));
            }
        } else if self.latency_ms.is_none() {
            return Err("a fault needs an error, a latency_ms, or both".into());
        }
        if self.latency_ms.is_some_and(|ms| ms > 120_000) {
            return Err("latency_ms must be at most 120000".into());
        }
        if self.count == Some(0) {
            return Err("count must be at least 1 (omit it for every matching request)".into());
        }
        Ok(())
    }
}

/// The Music API's session state.
#[async_trait]
pub trait MusicStore: Send + Sync {
    /// A page of a customer's collection, newest first.
    async fn collection_page(&self, user: &str, c: Collection, offset: usize, limit: usize) -> Page<Item>;
    /// Adds ids (already validated) to the front of a collection, skipping those present; returns how many were added.
    async fn collection_add(&self, user: &str, c: Collection, ids: &[String], now_ms: i64) -> usize;
    /// Removes ids from a collection; returns how many were removed.
    async fn collection_remove(&self, user: &str, c: Collection, ids: &[String]) -> usize;

    /// A page of the playlists a customer owns, newest first.
    async fn user_playlists(&self, user: &str, offset: usize, limit: usize) -> Page<PlaylistMeta>;
    /// A user-owned playlist's metadata.
    async fn playlist(&self, id: &str) -> Option<PlaylistMeta>;
    /// A page of a playlist's entries, in order.
    async fn playlist_entries(&self, id: &str, offset: usize, limit: usize) -> Option<Page<Entry>>;
    /// Creates a playlist owned by `user`.
    async fn create_playlist(
        &self,
        user: &str,
        title: String,
        description: String,
        visibility: Visibility,
        now_ms: i64,
    ) -> PlaylistMeta;
    /// Updates metadata.
    async fn update_playlist(
        &self,
        user: &str,
        id: &str,
        patch: PlaylistPatch,
        now_ms: i64,
    ) -> Result<PlaylistMeta, PlaylistError>;
    /// Appends tracks; with `allow_duplicates` false, tracks already present are skipped silently.
    async fn add_to_playlist(
        &self,
        user: &str,
        id: &str,
        track_ids: &[String],
        allow_duplicates: bool,
        now_ms: i64,
    ) -> Result<AddOutcome, PlaylistError>;
    /// Removes entries by entry id.
    async fn remove_from_playlist(
        &self,
        user: &str,
        id: &str,
        entry_ids: &[String],
        now_ms: i64,
    ) -> Result<PlaylistMeta, PlaylistError>;
    /// Moves entries (in the given order) next to an anchor entry.
    async fn reorder_playlist(
        &self,
        user: &str,
        id: &str,
        entry_ids: &[String],
        anchor: Anchor,
        now_ms: i64,
    ) -> Result<PlaylistMeta, PlaylistError>;
    /// Deletes a playlist.
    async fn delete_playlist(&self, user: &str, id: &str) -> Result<(), PlaylistError>;

    /// Records a play.
    async fn record_play(&self, user: &str, track_id: &str, at_ms: i64);
    /// A page of the listening history, newest first.
    async fn history(&self, user: &str, offset: usize, limit: usize) -> Page<Play>;

    /// The music profile.
    async fn music_profile(&self, user: &str) -> MusicProfile;
    /// Replaces name and visibilities.
    async fn update_music_profile(
        &self,
        user: &str,
        name: String,
        visibility: Visibility,
        playback_visibility: Visibility,
    ) -> MusicProfile;

    /// Everything the session holds for a customer, for the admin API.
    async fn dump(&self, user: &str) -> serde_json::Value;

    /// Adds a fault rule.
    async fn add_fault(&self, fault: Fault);
    /// The fault rules with their remaining counts.
    async fn faults(&self) -> Vec<Fault>;
    /// Removes every fault rule.
    async fn clear_faults(&self);
    /// The fault for this request, if a rule matches (counting it).
    async fn take_fault(&self, method: &str, path: &str) -> Option<Fault>;

    /// Token bucket per key (`music-api.md` §11.6): `Ok` to proceed, `Err(retry_after_ms)` when throttled.
    async fn rate_limit(&self, key: &str, tps: f64, now_ms: i64) -> Result<(), i64>;

    /// The track-level fault for a track (rules whose route is `TRACK <asin>` or `TRACK *`, counting it);
    /// `take_fault` never applies those rules to requests.
    async fn take_track_fault(&self, track_id: &str) -> Option<Fault>;

    /// Records a Device API playback report (its `seq` and `at_ms` are assigned here); returns it.
    async fn record_device_event(&self, event: DeviceEvent) -> DeviceEvent;
    /// The session's Device API playback reports, oldest first.
    async fn device_events(&self) -> Vec<DeviceEvent>;

    /// Sets a customer's thumb rating of a track (neutral clears it).
    async fn rate_track(&self, user: &str, track_id: &str, rating: Thumb);
    /// A customer's thumb rating of a track.
    async fn track_rating(&self, user: &str, track_id: &str) -> Thumb;
    /// Creates a playback session for `new.user` and gives it a slot (`music-api.md` §4.6, §8); the rules
    /// are [`super::playback::UserPlayback::create`].
    async fn playback_create(
        &self,
        new: NewPlayback,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<PlaybackView, PlaybackError>;
    /// Runs an operation on one of the customer's playback sessions
    /// ([`super::playback::UserPlayback::apply`]); another customer's session is
    /// [`PlaybackError::NotFound`].
    async fn playback_apply(
        &self,
        user: &str,
        session_id: &str,
        op: PlaybackOp,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<PlaybackView, PlaybackError>;
    /// The customer's sessions that hold a slot, oldest first.
    async fn playback_active(&self, user: &str, now_ms: i64) -> Vec<PlaybackView>;
    /// Records playback events, all or none, and adds a play to the history for each `start`
    /// ([`super::playback::UserPlayback::report`]).
    async fn playback_report(
        &self,
        user: &str,
        events: Vec<NewPlaybackEvent>,
        limits: PlaybackLimits,
        now_ms: i64,
    ) -> Result<Vec<PlaybackEvent>, PlaybackError>;
    /// Every playback session (of one customer, or all), for the admin API: customers in id order, each
    /// customer's sessions oldest first.
    async fn playback_sessions(&self, user: Option<&str>) -> Vec<PlaybackSession>;
    /// Every recorded playback event (of one customer, or all), in arrival order, for the admin API.
    async fn playback_events(&self, user: Option<&str>) -> Vec<PlaybackEvent>;
    /// Whether a stream URL minted for `playback_session_id` (its `ps`) may still be served at `now_ms`; when
    /// it may, the request counts as activity of the session. The stream routes call it before serving.
    ///
    /// # Errors
    /// [`StreamDenied`]: unknown session, ended (terminal `stop`, or replaced by the same device), pre-empted by
    /// another device (the concurrency rule), or idle past its timeout.
    async fn stream_permit(&self, playback_session_id: &str, now_ms: i64) -> Result<(), StreamDenied>;
}
