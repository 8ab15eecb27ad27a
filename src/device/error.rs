//! Device API errors (spec `music-api.md` §6.3, §7, §11.4): every error is a `Document` whose result is a
//! `GeneralErrorReport{terse, brief, explanation}` (`explanation` an HTML fragment), held in the dictionary
//! `generalErrorReports` (the dictionary's name is the mock's). General errors (subscription, concurrent
//! streams, outages, and every injected fault) are **409 Conflict**; the statuses of the other errors are
//! the mock's choices (`docs/ROUTES.md` D-assumptions): 401 for a missing or bad token, 403 for a scope or
//! security profile that does not allow the Device API, 400 for bad parameters, 404 for an unknown path.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::api::Problem;
use crate::api::auth::{AuthError, Denial};
use crate::api::error::PATH_NOT_UTF8;
use crate::journal::JournalNote;

/// The kinds of general error report the mock gives (the fault codes the admin API accepts for the Device
/// API, next to the V1 and V2 codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// The customer's subscription does not cover what was asked (`SUBSCRIPTION_REQUIRED`).
    SubscriptionRequired,
    /// Another device is streaming on the account (`CONCURRENT_STREAMS`).
    ConcurrentStreams,
    /// An outage (`SERVICE_UNAVAILABLE`; every other injected code too).
    ServiceUnavailable,
}

impl Report {
    const ALL: [Report; 3] = [Report::SubscriptionRequired, Report::ConcurrentStreams, Report::ServiceUnavailable];

    /// The fault code.
    pub fn as_str(self) -> &'static str {
        match self {
            Report::SubscriptionRequired => "SUBSCRIPTION_REQUIRED",
            Report::ConcurrentStreams => "CONCURRENT_STREAMS",
            Report::ServiceUnavailable => "SERVICE_UNAVAILABLE",
        }
    }

    /// Parses a fault code of the Device API.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// The report an injected fault code gives on the Device API: its own kinds as themselves, V1's
    /// `AUTH_NO_MUSIC_ACCOUNT_FOUND` as a subscription problem, V2's `MAX_CONCURRENCY_REACHED` as concurrent
    /// streams, anything else as an outage.
    pub fn for_fault(code: &str) -> Self {
        match code {
            "AUTH_NO_MUSIC_ACCOUNT_FOUND" => Report::SubscriptionRequired,
            "MAX_CONCURRENCY_REACHED" => Report::ConcurrentStreams,
            c => Report::parse(c).unwrap_or(Report::ServiceUnavailable),
        }
    }

    /// `(terse, brief, explanation)`.
    pub fn text(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Report::SubscriptionRequired => (
                "Subscription required",
                "Your Amazon Music subscription does not include this.",
                "<p>Upgrade to Amazon Music Unlimited in the Amazon Music app or at <b>music.amazon.com</b> to play it.</p>",
            ),
            Report::ConcurrentStreams => (
                "Playing on another device",
                "Your Amazon Music account is being used on another device.",
                "<p>Your subscription lets you stream on one device at a time. Stop playback on the other device, then try again.</p>",
            ),
            Report::ServiceUnavailable => (
                "Amazon Music is unavailable",
                "Amazon Music is having trouble right now.",
                "<p>Please try again in a few minutes.</p>",
            ),
        }
    }

    /// Whether a track with this problem may be skipped without asking the listener
    /// (`TrackDefinition.autoSkipOnError`): an outage may, a subscription or concurrency problem needs the
    /// listener's choice.
    pub fn auto_skip(self) -> bool {
        self == Report::ServiceUnavailable
    }

    /// The report as JSON.
    pub fn json(self) -> Value {
        let (terse, brief, explanation) = self.text();
        report_json(terse, brief, explanation)
    }
}

/// A `GeneralErrorReport`.
pub fn report_json(terse: &str, brief: &str, explanation: &str) -> Value {
    json!({ "terse": terse, "brief": brief, "explanation": explanation })
}

/// Escapes text for an HTML fragment.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A Device API error: a status and the `GeneralErrorReport` document it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A short code for the journal (`UNAUTHORIZED`, `SUBSCRIPTION_REQUIRED`, …); not on the wire.
    pub code: &'static str,
    /// `terse`.
    pub terse: Cow<'static, str>,
    /// `brief`.
    pub brief: Cow<'static, str>,
    /// `explanation` (HTML).
    pub explanation: String,
    /// What the journal notes besides the code.
    pub note: Option<Box<JournalNote>>,
}

impl DeviceError {
    fn new(
        status: StatusCode,
        code: &'static str,
        terse: &'static str,
        brief: impl Into<Cow<'static, str>>,
        detail: &str,
    ) -> Self {
        DeviceError {
            status,
            code,
            terse: terse.into(),
            brief: brief.into(),
            explanation: format!("<p>{}</p>", escape_html(detail)),
            note: None,
        }
    }

    /// A general error: 409 with the report of `kind`.
    pub fn general(kind: Report) -> Self {
        let (terse, brief, explanation) = kind.text();
        DeviceError {
            status: StatusCode::CONFLICT,
            code: kind.as_str(),
            terse: terse.into(),
            brief: brief.into(),
            explanation: explanation.to_owned(),
            note: None,
        }
    }

    /// 400: a bad parameter or body; `detail` says which.
    pub fn bad_request(detail: impl AsRef<str>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "Bad request",
            "The request could not be understood.",
            detail.as_ref(),
        )
    }

    /// 404: nothing at this reference.
    pub fn not_found(detail: impl AsRef<str>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "Not found", "This item is not available.", detail.as_ref())
    }

    /// 413: a body over `--body-limit`.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "Bad request",
            "The request could not be understood.",
            &format!("The request body is larger than {limit} bytes, or could not be read."),
        )
    }

    /// The error for a refused auth chain: 401 for the token, 403 for the profile or scope, 409 (a general
    /// subscription error) for a customer without Amazon Music.
    pub fn from_auth(e: AuthError) -> Self {
        let mut out = match e.denial {
            Denial::NotBearer | Denial::EmptyToken | Denial::BadToken => Self::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "Sign-in required",
                "Sign in to Amazon Music on this device again.",
                &e.message,
            ),
            Denial::Forbidden => Self::new(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "Not authorized",
                "This device is not authorized to use Amazon Music.",
                &e.message,
            ),
            Denial::NoMusicAccount => {
                let mut out = Self::general(Report::SubscriptionRequired);
                out.brief = "No Amazon Music account was found for this customer.".into();
                out.explanation = format!("<p>{}</p>", escape_html(&e.message));
                out
            }
        };
        out.note = Some(e.note);
        out
    }

    /// Sets what the journal notes about this error.
    pub fn with_note(mut self, note: impl Into<Box<JournalNote>>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// The error document: `{"result":"#error","generalErrorReports":{"error":{terse,brief,explanation}}}`.
    pub fn document(&self) -> Value {
        json!({
            "result": "#error",
            "generalErrorReports": { "error": report_json(&self.terse, &self.brief, &self.explanation) },
        })
    }
}

impl From<Problem> for DeviceError {
    /// The core's problem as a Device API error document.
    fn from(p: Problem) -> Self {
        match p {
            Problem::BadRequest(detail) => Self::bad_request(detail),
            Problem::BadPath => Self::bad_request(PATH_NOT_UTF8),
            Problem::TooLarge(limit) => Self::too_large(limit),
            Problem::NotFound(noun, id) => Self::not_found(format!("No {} {id}.", noun.v1())),
            Problem::Forbidden(message) => {
                Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", "Not authorized", "This item is not available.", &message)
            }
            Problem::Disabled(_, message) => Self::bad_request(message),
            Problem::Internal => Self::general(Report::ServiceUnavailable),
            Problem::NoMusicAccount => {
                let mut out = Self::general(Report::SubscriptionRequired);
                out.brief = "No Amazon Music account was found for this customer.".into();
                out.explanation = format!("<p>{}</p>", escape_html(crate::api::auth::NO_MUSIC_ACCOUNT));
                out
            }
            Problem::Playback(crate::store::playback::PlaybackError::NotFound, id) => {
                Problem::not_found(crate::api::Noun::PlaybackSession, id).into()
            }
            Problem::Playback(e, _) => Self::bad_request(e.to_string()),
        }
    }
}

impl From<crate::api::BodyTooLarge> for DeviceError {
    fn from(e: crate::api::BodyTooLarge) -> Self {
        Self::too_large(e.0)
    }
}

impl From<crate::api::BadPathSegment> for DeviceError {
    fn from(_: crate::api::BadPathSegment) -> Self {
        Self::bad_request("A path segment is not valid UTF-8 once percent-decoded.")
    }
}

impl IntoResponse for DeviceError {
    fn into_response(self) -> Response {
        let document = self.document();
        crate::context::error_response(self.status, &document, self.code, None, self.note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanations_are_escaped_html() {
        let e = DeviceError::bad_request("count must be <= 100 & > 0");
        assert_eq!(e.explanation, "<p>count must be &lt;= 100 &amp; &gt; 0</p>");
        assert_eq!(e.document()["result"], "#error");
    }

    #[test]
    fn fault_codes_pick_their_reports() {
        assert_eq!(Report::for_fault("CONCURRENT_STREAMS"), Report::ConcurrentStreams);
        assert_eq!(Report::for_fault("MAX_CONCURRENCY_REACHED"), Report::ConcurrentStreams);
        assert_eq!(Report::for_fault("AUTH_NO_MUSIC_ACCOUNT_FOUND"), Report::SubscriptionRequired);
        assert_eq!(Report::for_fault("INTERNAL"), Report::ServiceUnavailable);
        assert!(Report::ServiceUnavailable.auto_skip() && !Report::SubscriptionRequired.auto_skip());
        assert_eq!(DeviceError::general(Report::ConcurrentStreams).status, StatusCode::CONFLICT);
    }
}
