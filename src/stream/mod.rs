//! The streaming engine (spec `music-api.md` §8, §11.5): a deterministic tone per track, encoded as MP3
//! (SD) or FLAC (HD, UHD), served as progressive files with `Range` support and as clear MPEG-DASH
//! (static MPD, fMP4 segments), behind signed expiring URLs. Pure engine: no axum, no routes.
//!
//! # What a web handler calls
//!
//! | Need | Call |
//! |---|---|
//! | the track's audio facts | [`TrackAudio::from`]`(&catalog::Track)` |
//! | which renditions a listener gets | [`Capabilities::parse`]`(header)` (error → 400), then [`allowed_qualities`]`(tier, caps, track.qualities)` |
//! | sign a URL (TTL [`DEFAULT_TTL_S`] on the virtual clock) | [`sign`]`(path, extra_query, now + ttl, key)` → query string |
//! | check a URL (→ 403 on error) | [`verify`]`(path, query, clock.now(), key)` → `Result<exp, `[`UrlError`]`>` |
//! | progressive file | [`StreamCache::get_or_encode`]`(track, quality)` → [`CachedFile`] `{path, len, etag, content_type}` |
//! | `Range` | [`plan_ranges`]`(header, len)` → [`RangePlan`]; [`content_range`], [`unsatisfied_range`], [`multipart_layout`] |
//! | body bytes | [`CachedFile::open_range`]`(start, end)` → `AsyncRead` to stream in chunks |
//! | DASH manifest | [`mpd`]`(duration_s, &qualities, Some(signed_query))` ([`MPD_CONTENT_TYPE`]) |
//! | DASH init / segment | [`StreamCache::dash_init`], [`StreamCache::dash_segment`] (`None` past the end → 404) |
//! | identify a tone | [`tone_hz`]`(track_id)` |
//!
//! Suggested routes: `/stream/{asin}/{quality}.{mp3|flac}?exp=&sig=`, `/dash/{asin}/manifest.mpd?exp=&sig=`,
//! `/dash/{asin}/{quality}/init.mp4?…`, `/dash/{asin}/{quality}/{n}.m4s?…` with the DASH query signed once
//! over the directory `/dash/{asin}/` (and the allowed qualities bound in, e.g. `q=SD,HD`), since the MPD's
//! relative segment URLs all carry the same query.
//!
//! # Renditions
//!
//! | quality | codec | rate / depth | container (progressive, DASH) |
//! |---|---|---|---|
//! | SD | MP3 (LAME) CBR 128 kbit/s, LAME tag for gapless | 44.1 kHz / 16-bit | `.mp3`; fMP4 `mp4a.6B` |
//! | HD | FLAC (`flacenc`) | 44.1 kHz / 16-bit | `.flac`; fMP4 `fLaC` |
//! | UHD | FLAC | 96 kHz / 24-bit | `.flac`; fMP4 `fLaC` |
//!
//! All are stereo, the same sine tone on both channels, exactly `duration × rate` samples.
//!
//! # Design
//!
//! - Encoded bytes are deterministic and cached on disk ([`StreamCache`], LRU bounded in bytes); responses
//!   read ranges of the cached file in chunks, so memory per listener is the chunk size, not the track.
//! - FLAC frames never depend on one another, and the block size divides a segment, so a DASH FLAC segment
//!   is encoded on its own. MP3 frames use LAME's bit reservoir, so SD segments are cut from the encoded
//!   progressive file at frame boundaries instead.

mod cache;
mod dash;
mod encode;
mod quality;
mod range;
mod sign;
mod signal;
mod urls;

#[cfg(test)]
mod tests;

pub use self::cache::{CachedFile, DEFAULT_MAX_BYTES, StreamCache};
pub use self::dash::{MPD_CONTENT_TYPE, SEGMENT_CONTENT_TYPE, SegmentLayout, init_segment, media_segment, mpd};
pub use self::encode::{ENCODER_VERSION, encode_progressive, flac_block_size, mp3_frames};
pub use self::quality::{Capabilities, CapabilityError, Codec, Quality, SD_BITRATE, allowed_qualities};
pub use self::range::{MAX_RANGES, Piece, RangePlan, content_range, multipart_layout, plan_ranges, unsatisfied_range};
pub use self::sign::{DEFAULT_TTL_S, UrlError, sign, verify};
pub use self::signal::{CHANNELS, MAX_HZ, MIN_HZ, Tone, tone_hz};
pub use self::urls::{
    DEFAULT_STREAM_KEY, RequestOrigin, Streams, dash_dir, in_request_origin, progressive_path, query_param,
    request_origin, with_request_origin,
};

use crate::catalog::{AudioQualities, Track};

/// What the engine needs to know about a track.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackAudio {
    /// The ASIN; it chooses the tone.
    pub id: String,
    /// Duration, whole seconds (the catalog's `duration`).
    pub duration_s: u32,
    /// The formats the catalog lists.
    pub qualities: AudioQualities,
}

impl From<&Track> for TrackAudio {
    fn from(t: &Track) -> Self {
        Self { id: t.id.as_str().to_owned(), duration_s: u32::from(t.duration), qualities: t.audio_qualities }
    }
}
