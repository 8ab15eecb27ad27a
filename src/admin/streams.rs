//! `POST /__admin/streams/sign`: mints stream URLs for tests and scenario authors, signed like the ones the
//! playback routes hand out (`stream::Streams`), for the session the call is made in.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AdminJson, err};
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
    let Some(track) = state.catalog.track(&b.asin).filter(|t| t.id.as_str() == b.asin) else {
        return err(StatusCode::NOT_FOUND, format!("no track {:?} in the catalog", b.asin));
    };
    let mut qualities = match &b.qualities {
        None => Quality::ALL.into_iter().filter(|q| q.offered_in(track.audio_qualities)).collect(),
        Some(names) if names.is_empty() => {
            return err(StatusCode::BAD_REQUEST, "qualities must name at least one of SD, HD, UHD (or be left out)");
        }
        Some(names) => {
            let mut qs = Vec::with_capacity(names.len());
            for n in names {
                match Quality::parse(n) {
                    Some(q) => qs.push(q),
                    None => return err(StatusCode::BAD_REQUEST, format!("unknown quality {n:?}: use SD, HD or UHD")),
                }
            }
            qs
        }
    };
    qualities.sort_unstable();
    qualities.dedup();
    let ttl = match b.ttl_seconds {
        Some(t) => t,
        None => state.streams.ttl_for(session.store.settings().await.stream_url_ttl_seconds),
    };
    if !(0..=MAX_TTL_SECONDS).contains(&ttl) {
        return err(StatusCode::BAD_REQUEST, format!("ttlSeconds must be between 0 and {MAX_TTL_SECONDS}"));
    }
    let ps = b.playback_session.as_deref();
    let url_safe = |s: &str| s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._~".contains(&c));
    if ps.is_some_and(|s| s.is_empty() || s.len() > 128 || !url_safe(s)) {
        return err(StatusCode::BAD_REQUEST, "playbackSession must be 1-128 characters of A-Z a-z 0-9 - . _ ~");
    }
    let exp = session.store.now_ms().div_euclid(1000) + ttl;
    let streams = &state.streams;
    let base = streams.base(&headers, &session.prefix);
    let progressive: Map<String, Value> = qualities
        .iter()
        .map(|&q| (q.wire_name().to_owned(), streams.progressive_url_until(&base, &b.asin, q, ps, exp).into()))
        .collect();
    let dash = streams.dash_manifest_url_until(&base, &b.asin, &qualities, ps, exp);
    axum::Json(json!({"dash": dash, "progressive": progressive, "exp": exp})).into_response()
}
