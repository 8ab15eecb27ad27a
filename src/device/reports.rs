//! What devices send back and ask besides documents (spec `music-api.md` §7 "Resource types", §11.4):
//! - `POST events/<token>`: the `PlaybackEventCollector` of one track instance. The JSON report (an object;
//!   its schema is not public) is recorded with the customer, container, index and track for tests
//!   (`GET /__admin/device/events`); 204. An error answer tells the device to stop playback.
//! - `POST rating/<asin>`: the `TrackRatingHandler` of station tracks. `TrackRatingRequest{thumbRating:
//!   "up"|"down"|"neutral"}` → `TrackRatingResponse{message, shouldSkip}` (skip after a thumbs down); the
//!   rating shows in later station chunks.
//! - `GET|HEAD availability?country=<ISO 3166 alpha-2>`: the `AvailabilityQuery` →
//!   `Document<AvailabilityResponse>` (`{country, available}` in `availabilityResponses`), no token needed.

use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::browse::parse_event_token;
use super::error::DeviceError;
use super::{DeviceCtx, Doc};
use crate::api::parse_json;
use crate::api::{ApiBody, ApiPath, Reply, Requires, json_response};
use crate::store::music::{DeviceEvent, Thumb};

/// Countries where Amazon Music is available, for the availability query: those of the documented
/// localizations (`music-api.md` §2.4).
pub const COUNTRIES: [&str; 13] = ["AU", "BR", "CA", "DE", "ES", "FR", "GB", "IN", "IT", "JP", "MX", "NZ", "US"];

/// `POST events/<token>`: records the report; 204.
pub async fn collect_event(ctx: DeviceCtx, token: ApiPath<String>, body: ApiBody) -> Response {
    ctx.handle(Requires::DEVICE, async |c| {
        let event = device_event(c.user_id(), token.value()?, &body)?;
        ctx.session.store.music().record_device_event(event).await;
        Ok(Reply::NoContent)
    })
    .await
}

/// The event a customer's device reports to the collector `token`: the token names the container, index and
/// track; the body is the report, a JSON object.
///
/// # Errors
/// 404 for a token that is not a collector's, then 413 for a body over the limit, then 400 for a body that is
/// not a JSON object.
pub fn device_event(user: &str, token: &str, body: &ApiBody) -> Result<DeviceEvent, DeviceError> {
    let (container, index, track_id) =
        parse_event_token(token).ok_or_else(|| DeviceError::not_found("No such playback event collector."))?;
    let report: serde_json::Value = parse_json(body.read()?).map_err(DeviceError::bad_request)?;
    if !report.is_object() {
        return Err(DeviceError::bad_request("A playback report is a JSON object."));
    }
    Ok(DeviceEvent { seq: 0, at_ms: 0, user_id: user.to_owned(), container, index, track_id, report })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RatingRequest {
    thumb_rating: Thumb,
}

/// `POST rating/<asin>` with `{"thumbRating": …}` → `{"message", "shouldSkip"}`.
pub async fn rate(ctx: DeviceCtx, track: ApiPath<String>, body: ApiBody) -> Response {
    ctx.handle(Requires::DEVICE, async |c| {
        let track = track.value()?;
        let t = ctx.catalog().track(track).ok_or_else(|| DeviceError::not_found(format!("No track {track}.")))?;
        let b: RatingRequest = parse_json(body.read()?).map_err(DeviceError::bad_request)?;
        ctx.session.store.music().rate_track(c.user_id(), t.id.as_str(), b.thumb_rating).await;
        let (message, skip) = match b.thumb_rating {
            Thumb::Up => ("Thanks! We'll play more songs like this.", false),
            Thumb::Down => ("Got it. We won't play this song on this station again.", true),
            Thumb::Neutral => ("Your rating was removed.", false),
        };
        Ok(Reply::Ok(json!({ "message": message, "shouldSkip": skip })))
    })
    .await
}

/// `GET|HEAD availability?country=XX`.
pub async fn availability(ctx: DeviceCtx) -> Response {
    let country = ctx.query_param("country").unwrap_or_default();
    if !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic())) {
        return DeviceError::bad_request("country must be an ISO 3166-1 alpha-2 code, such as US.").into_response();
    }
    let country = country.to_ascii_uppercase();
    let mut d = Doc::new("availability");
    let available = COUNTRIES.contains(&country.as_str());
    d.put("availabilityResponses", "availability", json!({ "country": country, "available": available }));
    json_response(axum::http::StatusCode::OK, &d.json())
}
