//! `POST /__admin/streams/sign`: mints stream URLs for tests and scenario authors, signed like the ones the
//! playback routes hand out (`stream::Streams`), for the session the call is made in.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AdminError, AdminJson};
use crate::context::{AppState, Session};
use crate::stream::Quality;

/// Longest lifetime a minted URL may have: one year.
pub const MAX_TTL_SECONDS: i64 = 365 * 24 * 3600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Sign {
    asin: String,
    #[serde(default)]
    qualities: Option<Vec<String>>,
    #[serde(default)]
    ttl_seconds: Option<i64>,
    #[serde(default)]
    playback_session: Option<String>,
}

/// `{"asin": "B076YT2CBT", "qualities": ["SD","HD"], "ttlSeconds": 300, "playbackSession": "ps-1"}` →
/// `{"dash": url, "progressive": {"SD": url, …}, "exp": epoch s}`. Qualities default to the track's
/// (among SD, HD, UHD); a quality the track does not list is signed anyway, so that tests can see the
/// stream routes' 404. `ttlSeconds` defaults to the session's `stream_url_ttl_seconds`, else `--stream-ttl`; 0 mints an already expired URL.
pub(super) async fn sign(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    AdminJson(b): AdminJson<Sign>,
) -> Response {
    let default_ttl = state.streams.ttl_for(session.store.settings().await.stream_url_ttl_seconds);
    match checked(&state, &b, default_ttl) {
        Ok((qualities, ttl)) => {
            let exp = session.store.now_ms().div_euclid(1000) + ttl;
            axum::Json(minted(&state, &headers, &session, &b, &qualities, exp)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

fn bad(message: impl Into<String>) -> AdminError {
    AdminError(StatusCode::BAD_REQUEST, message.into())
}

/// The request's checks, in order: the track, the qualities (sorted, without repeats), the lifetime, the
/// playback session's spelling.
fn checked(state: &AppState, b: &Sign, default_ttl: i64) -> Result<(Vec<Quality>, i64), AdminError> {
    let Some(track) = state.catalog.track(&b.asin).filter(|t| t.id.as_str() == b.asin) else {
        return Err(AdminError(StatusCode::NOT_FOUND, format!("no track {:?} in the catalog", b.asin)));
    };
    let mut qualities = match &b.qualities {
        None => Quality::ALL.into_iter().filter(|q| q.offered_in(track.audio_qualities)).collect(),
        Some(names) if names.is_empty() => {
            return Err(bad("qualities must name at least one of SD, HD, UHD (or be left out)"));
        }
        Some(names) => names
            .iter()
            .map(|n| Quality::parse(n).ok_or_else(|| bad(format!("unknown quality {n:?}: use SD, HD or UHD"))))
            .collect::<Result<Vec<_>, _>>()?,
    };
    qualities.sort_unstable();
    qualities.dedup();
    let ttl = b.ttl_seconds.unwrap_or(default_ttl);
    if !(0..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(bad(format!("ttlSeconds must be between 0 and {MAX_TTL_SECONDS}")));
    }
    let url_safe = |s: &str| s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._~".contains(&c));
    if b.playback_session.as_deref().is_some_and(|s| s.is_empty() || s.len() > 128 || !url_safe(s)) {
        return Err(bad("playbackSession must be 1-128 characters of A-Z a-z 0-9 - . _ ~"));
    }
    Ok((qualities, ttl))
}

/// `{"dash": url, "progressive": {"SD": url, …}, "exp": exp}`.
fn minted(
    state: &AppState,
    headers: &HeaderMap,
    session: &Session,
    b: &Sign,
    qualities: &[Quality],
    exp: i64,
) -> Value {
    let streams = &state.streams;
    let ps = b.playback_session.as_deref();
    let base = streams.base(headers, &session.prefix);
    let progressive: Map<String, Value> = qualities
        .iter()
        .map(|&q| (q.wire_name().to_owned(), streams.progressive_url_until(&base, &b.asin, q, ps, exp).into()))
        .collect();
    let dash = streams.dash_manifest_url_until(&base, &b.asin, qualities, ps, exp);
    json!({"dash": dash, "progressive": progressive, "exp": exp})
}
