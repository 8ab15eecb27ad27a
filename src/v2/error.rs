//! `V2Error`: the Web API V2 error shape (spec `music-api.md` §6.2, §11.3):
//! `{"error":{"code":…,"message":…,"traceId":"1-<8 hex>-<24 hex>"}}`.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::api::auth::{AuthError, Denial};
use crate::api::{BadPathSegment, BodyTooLarge, Noun, Problem};
use crate::journal::JournalNote;
use crate::store::playback::{MAX_QUEUE, PlaybackError};

/// The V2 error codes the mock answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 400.
    BadRequest,
    /// 401: no usable access token.
    Unauthorized,
    /// 401: no `X-Amzn-Device-Id` header.
    MissingDeviceId,
    /// 403: the security profile, the scope, or the account.
    Forbidden,
    /// 404.
    NotFound,
    /// 404: no entity after the queue's last (§6.2; for injected faults until V2 queues exist).
    NoMoreNextEntity,
    /// 404: no entity before the queue's first.
    NoMorePreviousEntity,
    /// 405 (a known path with another method).
    MethodNotAllowed,
    /// 413.
    PayloadTooLarge,
    /// 429: over the rate limit.
    Throttled,
    /// 429: too many concurrent streams.
    MaxConcurrencyReached,
    /// 500.
    Internal,
}

impl Code {
    const ALL: [Code; 12] = [
        Code::BadRequest,
        Code::Unauthorized,
        Code::MissingDeviceId,
        Code::Forbidden,
        Code::NotFound,
        Code::NoMoreNextEntity,
        Code::NoMorePreviousEntity,
        Code::MethodNotAllowed,
        Code::PayloadTooLarge,
        Code::Throttled,
        Code::MaxConcurrencyReached,
        Code::Internal,
    ];

    /// The wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadRequest => "BAD_REQUEST",
            Code::Unauthorized => "UNAUTHORIZED",
            Code::MissingDeviceId => "MISSING_DEVICE_ID",
            Code::Forbidden => "FORBIDDEN",
            Code::NotFound => "NOT_FOUND",
            Code::NoMoreNextEntity => "NO_MORE_NEXT_ENTITY",
            Code::NoMorePreviousEntity => "NO_MORE_PREVIOUS_ENTITY",
            Code::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Code::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Code::Throttled => "THROTTLED",
            Code::MaxConcurrencyReached => "MAX_CONCURRENCY_REACHED",
            Code::Internal => "INTERNAL",
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Code::BadRequest => StatusCode::BAD_REQUEST,
            Code::Unauthorized | Code::MissingDeviceId => StatusCode::UNAUTHORIZED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound | Code::NoMoreNextEntity | Code::NoMorePreviousEntity => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::Throttled | Code::MaxConcurrencyReached => StatusCode::TOO_MANY_REQUESTS,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Parses a wire code (for fault injection).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The documented message of 429 `MAX_CONCURRENCY_REACHED` (§5.3, §6.2).
pub const CONCURRENT_STREAMS: &str = "Concurrent stream limit exceeded";

/// The documented message of `UNAUTHORIZED` (§6.2); the mock adds what exactly is wrong after it.
pub const AUTHENTICATION_REQUIRED: &str = "Authentication required";

/// A V2 error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Error {
    /// The code (and so the status).
    pub code: Code,
    /// The message.
    pub message: Cow<'static, str>,
    /// `Retry-After` seconds for 429.
    pub retry_after: Option<u64>,
    /// The `traceId`, filled in by the handler layer from the session's clock and random source.
    pub trace_id: Option<String>,
    /// What the journal notes besides the code.
    pub note: Option<Box<JournalNote>>,
}

impl V2Error {
    /// An error with this code and message.
    pub fn new(code: Code, message: impl Into<Cow<'static, str>>) -> Self {
        V2Error { code, message: message.into(), retry_after: None, trace_id: None, note: None }
    }

    /// 400 `BAD_REQUEST`.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Code::BadRequest, message)
    }

    /// 404 `NOT_FOUND` for an entity, in the documented form ("Album not found"): `"<Kind> not found: <id>"`.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(Code::NotFound, format!("{kind} not found: {id}"))
    }

    /// 403 `FORBIDDEN`.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Code::Forbidden, message)
    }

    /// 500 `INTERNAL`.
    pub fn internal() -> Self {
        Self::new(Code::Internal, "An unexpected error occurred. Please retry the request.")
    }

    /// 429 `THROTTLED`.
    pub fn throttled(retry_after: Option<u64>) -> Self {
        let mut e = Self::new(Code::Throttled, "Too Many Requests. Rate limiting has been applied.");
        e.retry_after = retry_after;
        e
    }

    /// Sets what the journal notes about this error.
    pub fn with_note(mut self, note: impl Into<Box<JournalNote>>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// The V2 error for a refused auth chain (§11.3): token problems are 401 `UNAUTHORIZED` "Authentication
    /// required" (then the detail); profile, scope and account problems 403 `FORBIDDEN`.
    pub fn from_auth(e: AuthError) -> Self {
        let out = match e.denial {
            Denial::NotBearer | Denial::EmptyToken | Denial::BadToken => {
                Self::new(Code::Unauthorized, format!("{AUTHENTICATION_REQUIRED}. {}", e.message))
            }
            Denial::Forbidden | Denial::NoMusicAccount => Self::forbidden(e.message),
        };
        out.with_note(e.note)
    }

    /// The V2 error an injected fault with `code` answers: a V2 code as itself, a V1 code as its V2
    /// counterpart, anything else as 500 `INTERNAL`.
    pub fn injected(code: &str, retry_after: Option<u64>) -> Self {
        let code = Code::parse(code).or_else(|| v1_counterpart(code)).unwrap_or(Code::Internal);
        match code {
            Code::Throttled => Self::throttled(retry_after),
            Code::Internal => Self::internal(),
            Code::MaxConcurrencyReached => Self::new(code, "Concurrent stream limit exceeded"),
            c => Self::new(c, format!("Injected fault: {}", c.as_str())),
        }
    }
}

impl From<Problem> for V2Error {
    /// The core's problem in V2's words.
    fn from(p: Problem) -> Self {
        match p {
            Problem::BadRequest(detail) => Self::bad_request(detail),
            Problem::BadPath => BadPathSegment.into(),
            Problem::TooLarge(limit) => BodyTooLarge(limit).into(),
            Problem::NotFound(noun, id) => Self::not_found(noun.v2(), &id),
            Problem::Forbidden(message) | Problem::Disabled(_, message) => Self::forbidden(message),
            Problem::Internal => Self::internal(),
            Problem::NoMusicAccount => Self::forbidden(crate::api::auth::NO_MUSIC_ACCOUNT),
            Problem::Playback(e, queue) => Self::playback(&queue, e),
        }
    }
}

impl V2Error {
    /// V2's words for a refusal of the playback rules on queue `queue` (§5.3, §6.2; empty for a new one).
    fn playback(queue: &str, e: PlaybackError) -> Self {
        match e {
            PlaybackError::NotFound => Problem::not_found(Noun::PlaybackSession, queue).into(),
            PlaybackError::NotAllowed(d, message) => Problem::Disabled(d, message.into()).into(),
            PlaybackError::NoMoreNext => {
                Self::new(Code::NoMoreNextEntity, "No more next entity: the end of the queue was reached")
            }
            PlaybackError::NoMorePrevious => {
                Self::new(Code::NoMorePreviousEntity, "No more previous entity: this is the start of the queue")
            }
            PlaybackError::MaxConcurrency => Self::new(Code::MaxConcurrencyReached, CONCURRENT_STREAMS),
            PlaybackError::Preempted => Self::new(
                Code::MaxConcurrencyReached,
                format!("{CONCURRENT_STREAMS}. Playback moved to another device: create a new queue to play here"),
            ),
            PlaybackError::QueueFull => Self::bad_request(format!("A queue holds at most {MAX_QUEUE} entities")),
            PlaybackError::UnknownMetric(m) => {
                Self::new(Code::NotFound, format!("The requested metricId {m} was not found."))
            }
        }
    }
}

impl From<BodyTooLarge> for V2Error {
    fn from(BodyTooLarge(limit): BodyTooLarge) -> Self {
        Self::new(
            Code::PayloadTooLarge,
            format!("The request body is larger than {limit} bytes, or could not be read."),
        )
    }
}

impl From<BadPathSegment> for V2Error {
    fn from(_: BadPathSegment) -> Self {
        Self::bad_request("A path segment is not valid UTF-8 once percent-decoded.")
    }
}

/// The V2 code that answers a fault naming one of V1's codes (`music-api.md` §11.2), so one fault list serves
/// every family: V1's wire codes, spelled here as the wire spells them.
fn v1_counterpart(code: &str) -> Option<Code> {
    Some(match code {
        "INVALID_AUTH_TYPE" | "INVALID_AUTH_TOKEN" | "INVALID_ACCESS_TOKEN" => Code::Unauthorized,
        "ACCESS_DENIED" | "AUTH_NO_MUSIC_ACCOUNT_FOUND" => Code::Forbidden,
        "NO_MORE_SKIPS"
        | "NEED_AMAZON_MUSIC_UNLIMITED_CATALOG_ACCESS"
        | "NEED_AMAZON_MUSIC_SUBSCRIPTION_TO_SHUFFLE_NON_STATION"
        | "FEATURE_NOT_AVAILABLE" => Code::Forbidden,
        "RESOURCE_NOT_FOUND" => Code::NotFound,
        _ => return None,
    })
}

/// A trace id in the documented form (`1-abc-def`, AWS X-Ray style): `1-<epoch seconds, 8 hex>-<24 hex>`.
pub fn trace_id(now_s: i64, random: u128) -> String {
    format!("1-{:08x}-{:024x}", now_s.max(0) as u32, random & ((1u128 << 96) - 1))
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Inner<'a> {
    code: &'static str,
    message: &'a str,
    trace_id: &'a str,
}

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        let status = self.code.status();
        // Handlers fill `traceId` from the session; errors raised outside a handler take a fresh random one.
        let trace = self.trace_id.unwrap_or_else(|| {
            let now = crate::clock::real_now_secs();
            trace_id(now, uuid::Uuid::new_v4().as_u128())
        });
        let body = Envelope { error: Inner { code: self.code.as_str(), message: &self.message, trace_id: &trace } };
        crate::context::error_response(status, &body, self.code.as_str(), self.retry_after, self.note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_have_the_xray_form() {
        let t = trace_id(0x5f00_0000, u128::MAX);
        assert_eq!(t, "1-5f000000-ffffffffffffffffffffffff");
        assert_eq!(trace_id(1, 0).len(), 35);
    }

    #[test]
    fn injected_v1_codes_map_to_v2_codes() {
        assert_eq!(V2Error::injected("AUTH_NO_MUSIC_ACCOUNT_FOUND", None).code, Code::Forbidden);
        assert_eq!(V2Error::injected("THROTTLED", Some(3)).retry_after, Some(3));
        assert_eq!(V2Error::injected("MAX_CONCURRENCY_REACHED", None).message, "Concurrent stream limit exceeded");
        assert_eq!(V2Error::injected("SOMETHING_ELSE", None).code, Code::Internal);
        for (v1, v2) in [
            ("BAD_REQUEST", Code::BadRequest),
            ("INVALID_AUTH_TYPE", Code::Unauthorized),
            ("INVALID_AUTH_TOKEN", Code::Unauthorized),
            ("INVALID_ACCESS_TOKEN", Code::Unauthorized),
            ("ACCESS_DENIED", Code::Forbidden),
            ("NO_MORE_SKIPS", Code::Forbidden),
            ("FEATURE_NOT_AVAILABLE", Code::Forbidden),
            ("RESOURCE_NOT_FOUND", Code::NotFound),
            ("NO_MORE_NEXT_ENTITY", Code::NoMoreNextEntity),
            ("NO_MORE_PREVIOUS_ENTITY", Code::NoMorePreviousEntity),
            ("METHOD_NOT_ALLOWED", Code::MethodNotAllowed),
            ("PAYLOAD_TOO_LARGE", Code::PayloadTooLarge),
            ("INTERNAL", Code::Internal),
        ] {
            assert_eq!(V2Error::injected(v1, None).code, v2, "{v1}");
        }
    }
}
