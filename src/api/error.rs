//! [`Problem`]: why a domain operation of the core refused a request, with no family's wording. Each family
//! turns it into its own wire error (`From<Problem>` for `v1::error::MusicError`, `v2::error::V2Error`,
//! `device::error::DeviceError`), so one check answers in three shapes.

use std::borrow::Cow;

use crate::store::playback::{DisableType, PlaybackError};

/// What was not found, named the way each family names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noun {
    /// A catalog track.
    Track,
    /// A catalog album.
    Album,
    /// A catalog artist.
    Artist,
    /// A playlist (catalog or customer).
    Playlist,
    /// A podcast show.
    Show,
    /// A podcast episode.
    Episode,
    /// A view group.
    ViewGroup,
    /// A playback session (V2: a queue).
    PlaybackSession,
    /// A named view (`home`, `artist/{id}`, …).
    View,
    /// A search type (`tracks`, `albums`, …).
    SearchType,
    /// A group of a search view (`topHits`, `tracks`, …).
    SearchGroup,
    /// An entity of a playback queue, by its `entityReferenceId`.
    QueueEntity,
}

impl Noun {
    /// V1's word ("The requested {word} {id} was not found."); the Device API uses it too ("No {word} {id}.").
    pub fn v1(self) -> &'static str {
        match self {
            Noun::Track => "track",
            Noun::Album => "album",
            Noun::Artist => "artist",
            Noun::Playlist => "playlist",
            Noun::Show => "podcast show",
            Noun::Episode => "podcast episode",
            Noun::ViewGroup => "view group",
            Noun::PlaybackSession => "playback session",
            Noun::View => "view",
            Noun::SearchType => "search type",
            Noun::SearchGroup => "search group",
            Noun::QueueEntity => "queue entity",
        }
    }

    /// V2's word ("{Word} not found: {id}").
    pub fn v2(self) -> &'static str {
        match self {
            Noun::Track => "Track",
            Noun::Album => "Album",
            Noun::Artist => "Artist",
            Noun::Playlist => "Playlist",
            Noun::Show => "Podcast show",
            Noun::Episode => "Podcast episode",
            Noun::ViewGroup => "View group",
            Noun::PlaybackSession => "Queue",
            Noun::View => "View",
            Noun::SearchType => "Search type",
            Noun::SearchGroup => "Search group",
            Noun::QueueEntity => "Queue entity",
        }
    }
}

/// Why the core refused a request, before any family's wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A parameter, header or body is wrong; the detail says which and what to send (no "Malformed request."
    /// prefix: V1 adds its documented one).
    BadRequest(Cow<'static, str>),
    /// A path parameter did not decode to UTF-8.
    BadPath,
    /// The body is over `--body-limit` (the limit), or could not be read.
    TooLarge(usize),
    /// No such entity.
    NotFound(Noun, String),
    /// The customer may not do this (a private playlist, another customer's playlist).
    Forbidden(Cow<'static, str>),
    /// A playback action the tier or queue does not allow.
    Disabled(DisableType, Cow<'static, str>),
    /// Something the mock could not do.
    Internal,
    /// The caller has no Amazon Music account (no subscription tier), which a playback operation needs.
    NoMusicAccount,
    /// The playback rules (`store::playback`) refused an operation on the playback session (V2: queue) named
    /// (empty when creating one or reporting events). Each family words it: V1 and V2 answer the end of a
    /// queue, concurrency, pre-emption and a full queue in words of their own.
    Playback(PlaybackError, String),
}

impl Problem {
    /// A bad parameter, header or body.
    pub fn bad_request(detail: impl Into<Cow<'static, str>>) -> Self {
        Problem::BadRequest(detail.into())
    }

    /// No such entity.
    pub fn not_found(noun: Noun, id: impl Into<String>) -> Self {
        Problem::NotFound(noun, id.into())
    }
}

/// The detail of a query string that does not decode (every family, after the gate).
pub const QUERY_NOT_UTF8: &str = "The query string is not valid UTF-8 once percent-decoded.";

/// The detail of a path segment that does not decode (every family, after the gate).
pub const PATH_NOT_UTF8: &str = "A path segment is not valid UTF-8 once percent-decoded.";

impl From<super::BodyTooLarge> for Problem {
    fn from(e: super::BodyTooLarge) -> Self {
        Problem::TooLarge(e.0)
    }
}

impl From<super::BadPathSegment> for Problem {
    fn from(_: super::BadPathSegment) -> Self {
        Problem::BadPath
    }
}
