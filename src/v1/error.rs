//! `MusicError`: the Web API V1 error envelope (spec `music-api.md` §6.1, §11.2):
//! `{"error":{"status":"<HTTP status as a string>","code":…,"message":…,"reference":"<uuid>"}}`, with
//! `url` and `payload` when they help.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::api::BodyTooLarge;
use crate::api::auth::{AuthError, Denial};
use crate::api::error::{Noun, PATH_NOT_UTF8, Problem};
use crate::journal::JournalNote;
use crate::store::playback::{MAX_QUEUE, PlaybackError};

/// The V1 error codes the mock answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 400.
    BadRequest,
    /// 401: no `Authorization` header or no bearer token in it.
    InvalidAuthType,
    /// 401: `Bearer ` with an empty token.
    InvalidAuthToken,
    /// 401: unknown, expired, revoked or forged token.
    InvalidAccessToken,
    /// 403: `x-api-key` or scope problems.
    AccessDenied,
    /// 403: the customer has no Amazon Music account.
    NoMusicAccount,
    /// 404.
    ResourceNotFound,
    /// 404: past the end of a playback queue (V2's code, §5.3).
    NoMoreNextEntity,
    /// 404: before the start of a playback queue (V2's code, §5.3).
    NoMorePreviousEntity,
    /// 403: a playback action the tier or queue does not allow; the code is the action's `disableType`.
    Disabled(crate::store::playback::DisableType),
    /// 429: every playback slot of the customer is held by other devices (V2's code, §5.3).
    MaxConcurrencyReached,
    /// 405 (a known path with another method).
    MethodNotAllowed,
    /// 413.
    PayloadTooLarge,
    /// 429.
    Throttled,
    /// 500.
    Internal,
}

impl Code {
    /// The wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadRequest => "BAD_REQUEST",
            Code::InvalidAuthType => "INVALID_AUTH_TYPE",
            Code::InvalidAuthToken => "INVALID_AUTH_TOKEN",
            Code::InvalidAccessToken => "INVALID_ACCESS_TOKEN",
            Code::AccessDenied => "ACCESS_DENIED",
            Code::NoMusicAccount => "AUTH_NO_MUSIC_ACCOUNT_FOUND",
            Code::ResourceNotFound => "RESOURCE_NOT_FOUND",
            Code::NoMoreNextEntity => "NO_MORE_NEXT_ENTITY",
            Code::NoMorePreviousEntity => "NO_MORE_PREVIOUS_ENTITY",
            Code::Disabled(d) => d.as_str(),
            Code::MaxConcurrencyReached => "MAX_CONCURRENCY_REACHED",
            Code::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Code::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Code::Throttled => "THROTTLED",
            Code::Internal => "INTERNAL",
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Code::BadRequest => StatusCode::BAD_REQUEST,
            Code::InvalidAuthType | Code::InvalidAuthToken | Code::InvalidAccessToken => StatusCode::UNAUTHORIZED,
            Code::AccessDenied | Code::NoMusicAccount | Code::Disabled(_) => StatusCode::FORBIDDEN,
            Code::ResourceNotFound | Code::NoMoreNextEntity | Code::NoMorePreviousEntity => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::Throttled | Code::MaxConcurrencyReached => StatusCode::TOO_MANY_REQUESTS,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Parses a wire code (for fault injection).
    pub fn parse(s: &str) -> Option<Self> {
        use crate::store::playback::DisableType as D;
        [
            Code::BadRequest,
            Code::InvalidAuthType,
            Code::InvalidAuthToken,
            Code::InvalidAccessToken,
            Code::AccessDenied,
            Code::NoMusicAccount,
            Code::ResourceNotFound,
            Code::NoMoreNextEntity,
            Code::NoMorePreviousEntity,
            Code::Disabled(D::NoMoreSkips),
            Code::Disabled(D::NeedAmazonMusicUnlimitedCatalogAccess),
            Code::Disabled(D::NeedAmazonMusicSubscriptionToShuffleNonStation),
            Code::Disabled(D::FeatureNotAvailable),
            Code::MaxConcurrencyReached,
            Code::MethodNotAllowed,
            Code::PayloadTooLarge,
            Code::Throttled,
            Code::Internal,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// The documented `BAD_REQUEST` message (`music-api.md` §6.1).
pub const MALFORMED: &str = "Malformed request. Check for missing query parameter.";

/// A V1 error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MusicError {
    /// The code (and so the status).
    pub code: Code,
    /// The message.
    pub message: Cow<'static, str>,
    /// An optional URL for the client to show (QR codes).
    pub url: Option<&'static str>,
    /// `Retry-After` seconds for 429.
    pub retry_after: Option<u64>,
    /// The `reference`, filled in by the handler layer from the session's random source.
    pub reference: Option<String>,
    /// What the journal should note besides the code (the caller, the missing scope, the token problem).
    pub note: Option<Box<JournalNote>>,
}

impl MusicError {
    /// An error with this code and message.
    pub fn new(code: Code, message: impl Into<Cow<'static, str>>) -> Self {
        MusicError { code, message: message.into(), url: None, retry_after: None, reference: None, note: None }
    }

    /// Sets what the journal notes about this error.
    pub fn with_note(mut self, note: impl Into<Box<JournalNote>>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// 400 with the documented message.
    pub fn malformed() -> Self {
        Self::new(Code::BadRequest, MALFORMED)
    }

    /// 400 with the documented message followed by what exactly is wrong (`music-api.md` §11.2: bad
    /// parameters answer "Malformed request. Check for missing query parameter."; the detail helps).
    pub fn bad_request(detail: impl Into<Cow<'static, str>>) -> Self {
        let detail = detail.into();
        let detail = detail.strip_prefix("Malformed request. ").unwrap_or(&detail);
        Self::new(Code::BadRequest, format!("{MALFORMED} {detail}"))
    }

    /// 404 for an entity.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(Code::ResourceNotFound, format!("The requested {kind} {id} was not found."))
    }

    /// The message of `AUTH_NO_MUSIC_ACCOUNT_FOUND` (the documented start, then what to do).
    pub const NO_MUSIC_ACCOUNT: &'static str = crate::api::auth::NO_MUSIC_ACCOUNT;

    /// 403 `AUTH_NO_MUSIC_ACCOUNT_FOUND` as documented, with the sign-up URL.
    pub fn no_music_account() -> Self {
        let mut e = Self::new(Code::NoMusicAccount, Self::NO_MUSIC_ACCOUNT);
        e.url = Some("https://music.amazon.com");
        e
    }

    /// 429 `THROTTLED` with the documented message.
    pub fn throttled(retry_after: Option<u64>) -> Self {
        let mut e = Self::new(Code::Throttled, "Too Many Requests. Rate limiting has been applied.");
        e.retry_after = retry_after;
        e
    }

    /// 429 `MAX_CONCURRENCY_REACHED` with V2's documented message (§5.3), then `detail`.
    pub fn max_concurrency(detail: &str) -> Self {
        Self::new(Code::MaxConcurrencyReached, format!("Concurrent stream limit exceeded. {detail}"))
    }

    /// 500 `INTERNAL`.
    pub fn internal() -> Self {
        Self::new(Code::Internal, "An unexpected error occurred. Please retry the request.")
    }

    /// The V1 error for a refused auth chain (§11.2): 401 `INVALID_AUTH_TYPE`, `INVALID_AUTH_TOKEN` or
    /// `INVALID_ACCESS_TOKEN`, 403 `ACCESS_DENIED` or `AUTH_NO_MUSIC_ACCOUNT_FOUND`.
    pub fn from_auth(e: AuthError) -> Self {
        let out = match e.denial {
            Denial::NotBearer => MusicError::new(Code::InvalidAuthType, e.message),
            Denial::EmptyToken => MusicError::new(Code::InvalidAuthToken, e.message),
            Denial::BadToken => MusicError::new(Code::InvalidAccessToken, e.message),
            Denial::Forbidden => MusicError::new(Code::AccessDenied, e.message),
            Denial::NoMusicAccount => MusicError::no_music_account(),
        };
        out.with_note(e.note)
    }
}

impl From<Problem> for MusicError {
    /// The core's problem in V1's words: bad requests after the documented "Malformed request." sentence.
    fn from(p: Problem) -> Self {
        match p {
            Problem::BadRequest(detail) => Self::bad_request(detail),
            Problem::BadPath => Self::bad_request(PATH_NOT_UTF8),
            Problem::TooLarge(limit) => Self::new(
                Code::PayloadTooLarge,
                format!("The request body is larger than {limit} bytes, or could not be read."),
            ),
            Problem::NotFound(noun, id) => Self::not_found(noun.v1(), &id),
            Problem::Forbidden(message) => Self::new(Code::AccessDenied, message),
            Problem::Disabled(d, message) => Self::new(Code::Disabled(d), message),
            Problem::Internal => Self::internal(),
            Problem::NoMusicAccount => Self::no_music_account(),
            Problem::Playback(e, session) => Self::playback(&session, e),
        }
    }
}

impl MusicError {
    /// V1's words for a refusal of the playback rules on session `session` (empty for a new one).
    fn playback(session: &str, e: PlaybackError) -> Self {
        match e {
            PlaybackError::NotFound => Problem::not_found(Noun::PlaybackSession, session).into(),
            PlaybackError::NotAllowed(d, message) => Problem::Disabled(d, message.into()).into(),
            PlaybackError::NoMoreNext => {
                Self::new(Code::NoMoreNextEntity, "There is no next entity: the end of the queue was reached.")
            }
            PlaybackError::NoMorePrevious => {
                Self::new(Code::NoMorePreviousEntity, "There is no previous entity: this is the start of the queue.")
            }
            PlaybackError::MaxConcurrency => Self::max_concurrency(
                "The customer is already playing on another device; playback there has been stopped, so a retry plays here.",
            ),
            PlaybackError::Preempted => Self::max_concurrency(&format!(
                "Playback moved to another device; POST /v1/playback/sessions/{session}/restore to play here again."
            )),
            PlaybackError::QueueFull => Self::bad_request(format!("A queue holds at most {MAX_QUEUE} entities.")),
            PlaybackError::UnknownMetric(m) => Self::not_found("metricId", &m),
        }
    }
}

impl From<BodyTooLarge> for MusicError {
    fn from(e: BodyTooLarge) -> Self {
        Problem::from(e).into()
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    status: &'a str,
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    reference: &'a str,
}

impl IntoResponse for MusicError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        // Handlers fill `reference` from the session's seeded source; errors raised outside a handler
        // (unknown paths, wrong methods) take a fresh random one.
        let fallback;
        let reference = match self.reference.as_deref() {
            Some(r) => r,
            None => {
                fallback = uuid::Uuid::new_v4().hyphenated().to_string();
                &fallback
            }
        };
        let body = Envelope {
            error: Inner {
                status: status.as_str(),
                code: self.code.as_str(),
                message: &self.message,
                url: self.url,
                reference,
            },
        };
        crate::context::error_response(status, &body, self.code.as_str(), self.retry_after, self.note)
    }
}
