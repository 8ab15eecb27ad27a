//! The stream routes (spec `music-api.md` §8, §11.5; mock behaviour throughout): the HTTP face of the pure
//! engine in `stream/`. Every answer carries `x-amm-mock: stream` (the licence stub: `license-stub`).
//!
//! | Route | Signed over | Serves |
//! |---|---|---|
//! | `GET\|HEAD /stream/{asin}/{sd\|hd\|uhd}.{mp3\|flac}?[ps=…&]exp=…&sig=…` | the path | the progressive file |
//! | `GET\|HEAD /dash/{asin}/manifest.mpd?q=SD,HD[&ps=…]&exp=…&sig=…` | `/dash/{asin}/` | the MPD of `q` ∩ the track's qualities |
//! | `GET\|HEAD /dash/{asin}/{sd\|hd\|uhd}/init.mp4?<same query>` | `/dash/{asin}/` | the fMP4 init segment |
//! | `GET\|HEAD /dash/{asin}/{sd\|hd\|uhd}/{n}.m4s?<same query>` | `/dash/{asin}/` | media segment `n` (from 1) |
//! | `POST /license` | none | an opaque stub licence |
//!
//! Order of checks on a stream request: the file name's shape (404), then [`authorize`] (403), then for a DASH
//! file its quality against `q` (403, [`Grant::allows`]), then the catalog (404 for an unknown track or a
//! quality it does not list; for a manifest, 404 when the track has none of `q`), then `If-None-Match`,
//! `Range` and `If-Range` (`serve.rs`). Errors are `{"error": "<code>", "message": "<text>"}`
//! ([`StreamError`]); the codes are listed in `docs/ROUTES.md`.
//!
//! Handlers are thin: the file names are parsed by plain functions (`slug`, `DashFile::parse`), the manifest
//! is `manifest_xml`, and `StreamRequest`'s methods find the track and the cached file.

mod serve;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use sha2::{Digest, Sha256};

use self::serve::{Source, respond};
use crate::api::ApiPath;
use crate::context::{AppState, Session, note};
use crate::stream::{
    CachedFile, MPD_CONTENT_TYPE, Quality, TrackAudio, UrlError, dash_dir, mpd, progressive_path, query_param, verify,
};

/// The stream routes and the licence stub, at the root.
pub fn router() -> Router<AppState> {
    let streams = Router::new()
        .route("/stream/{asin}/{file}", get(progressive))
        .route("/dash/{asin}/manifest.mpd", get(manifest))
        .route("/dash/{asin}/{quality}/{file}", get(dash_file))
        .layer(axum::middleware::map_response(|r: Response| label(r, "stream")));
    streams.route("/license", post(license))
}

async fn label(mut r: Response, what: &'static str) -> Response {
    r.headers_mut().entry("x-amm-mock").or_insert(HeaderValue::from_static(what));
    r
}

/// Why a stream request is refused.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The URL's `exp`/`sig` do not verify (403).
    #[error("{0}")]
    Url(UrlError),
    /// A DASH file of a quality the URL's `q` does not grant (403).
    #[error("the URL grants {granted}, not {asked}")]
    QualityNotGranted {
        /// The quality asked for.
        asked: Quality,
        /// The URL's `q`, as signed.
        granted: String,
    },
    /// The URL's playback session (`ps`) may no longer stream: pre-empted by another device (the
    /// one-stream-per-account rule), ended, idle past its timeout, or unknown (403).
    #[error("{0}")]
    PlaybackDenied(crate::store::playback::StreamDenied),
    /// No such track, rendition, segment or file name (404).
    #[error("{0}")]
    NotFound(String),
    /// A `Range` that no byte of the representation satisfies (416).
    #[error("no byte of the {0}-byte representation is in the requested range")]
    RangeNotSatisfiable(u64),
    /// A licence challenge over the body limit (413).
    #[error("the licence challenge is larger than {0} bytes")]
    TooLarge(usize),
    /// Encoding or reading the file failed (500).
    #[error("the stream could not be produced: {0}")]
    Internal(#[from] std::io::Error),
}

impl StreamError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            StreamError::Url(UrlError::Missing) => (StatusCode::FORBIDDEN, "missing_signature"),
            StreamError::Url(UrlError::BadSignature) => (StatusCode::FORBIDDEN, "bad_signature"),
            StreamError::Url(UrlError::Expired) => (StatusCode::FORBIDDEN, "expired"),
            StreamError::QualityNotGranted { .. } => (StatusCode::FORBIDDEN, "quality_not_granted"),
            StreamError::PlaybackDenied(d) => (
                StatusCode::FORBIDDEN,
                match d {
                    crate::store::playback::StreamDenied::Preempted => "playback_preempted",
                    crate::store::playback::StreamDenied::Ended => "playback_session_ended",
                    crate::store::playback::StreamDenied::Expired => "playback_session_expired",
                    crate::store::playback::StreamDenied::Unknown => "playback_session_unknown",
                },
            ),
            StreamError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            StreamError::RangeNotSatisfiable(_) => (StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable"),
            StreamError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            StreamError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        }
    }
}

impl From<UrlError> for StreamError {
    fn from(e: UrlError) -> Self {
        StreamError::Url(e)
    }
}

impl IntoResponse for StreamError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let StreamError::Internal(e) = &self {
            tracing::warn!(error = %e, "stream failed");
        }
        let mut r = (status, axum::Json(json!({"error": code, "message": self.to_string()}))).into_response();
        note(&mut r, |n| n.error = Some(code.to_owned()));
        r
    }
}

/// What a verified stream URL grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The URL's expiry, epoch seconds of the session's virtual clock.
    pub exp_s: i64,
    /// The session's virtual time when the request was checked.
    pub now_s: i64,
    /// The renditions the URL's `q` names, lowest first (DASH); empty for a progressive URL.
    pub qualities: Vec<Quality>,
    /// `q` as signed (for messages).
    pub q: String,
    /// The playback session the URL was minted for (`ps`), opaque here.
    pub playback_session: Option<String>,
}

impl Grant {
    /// `Cache-Control` of what the URL serves: private, until the URL expires.
    pub fn cache_control(&self) -> String {
        format!("private, max-age={}", (self.exp_s - self.now_s).max(0))
    }

    /// Whether the URL's `q` grants the DASH quality `q`.
    ///
    /// # Errors
    /// [`StreamError::QualityNotGranted`] (403) when it does not.
    pub fn allows(&self, q: Quality) -> Result<(), StreamError> {
        if self.qualities.contains(&q) {
            Ok(())
        } else {
            Err(StreamError::QualityNotGranted { asked: q, granted: self.q.clone() })
        }
    }
}

/// The one gate every stream request passes: the URL's signature over `signed_path` and its expiry on the
/// session's virtual clock.
///
/// Then, for a URL minted for a playback session (`ps`), the concurrency rule: the store says whether that
/// session may still stream (not pre-empted by another device, ended or idle past its timeout), and counts
/// the request as the session's activity (`music-api.md` §8, `docs/ROUTES.md` P14–P16).
///
/// # Errors
/// [`StreamError::Url`], [`StreamError::PlaybackDenied`] (403).
pub async fn authorize(
    state: &AppState,
    session: &Session,
    signed_path: &str,
    query: Option<&str>,
) -> Result<Grant, StreamError> {
    let now_s = session.store.now_ms().div_euclid(1000);
    let exp_s = verify(signed_path, query, now_s, &state.streams.key)?;
    let q = query_param(query, "q").unwrap_or("").to_owned();
    let qualities = Quality::ALL.into_iter().filter(|x| q.split(',').any(|n| n == x.wire_name())).collect();
    crate::api::playback::stream_permit(session, query).await.map_err(StreamError::PlaybackDenied)?;
    let playback_session = query_param(query, "ps").map(str::to_owned);
    Ok(Grant { exp_s, now_s, qualities, q, playback_session })
}

/// What every stream handler reads from the request.
struct StreamRequest {
    state: AppState,
    session: Session,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
}

impl FromRequestParts<AppState> for StreamRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = Session::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let (method, uri, headers) = (parts.method.clone(), parts.uri.clone(), parts.headers.clone());
        Ok(StreamRequest { state: state.clone(), session, method, uri, headers })
    }
}

impl StreamRequest {
    /// [`authorize`] with this request's query.
    async fn authorize(&self, signed_path: &str) -> Result<Grant, StreamError> {
        authorize(&self.state, &self.session, signed_path, self.uri.query()).await
    }

    /// The catalog track `asin` (by ASIN, not by UUID), which must list `quality` when one is given.
    fn track(&self, asin: &str, quality: Option<Quality>) -> Result<TrackAudio, StreamError> {
        let track = match self.state.catalog.track(asin) {
            Some(t) if t.id.as_str() == asin => TrackAudio::from(t),
            _ => return Err(StreamError::NotFound(format!("no track {asin:?} in the catalog"))),
        };
        match quality {
            Some(q) if !q.offered_in(track.qualities) => {
                Err(StreamError::NotFound(format!("track {asin} has no {q} rendition")))
            }
            _ => Ok(track),
        }
    }

    /// A DASH file of `track` in quality `q`, from the stream cache.
    ///
    /// # Errors
    /// [`StreamError::NotFound`] for a segment past the track's last (they start at 1); encoding errors.
    async fn dash_file(&self, track: &TrackAudio, q: Quality, kind: DashFile) -> Result<CachedFile, StreamError> {
        let cache = &self.state.streams.cache;
        Ok(match kind {
            DashFile::Init => cache.dash_init(track, q).await?,
            DashFile::Segment(n) => cache.dash_segment(track, q, n).await?.ok_or_else(|| {
                StreamError::NotFound(format!("track {} has no {q} segment {n} (segments start at 1)", track.id))
            })?,
        })
    }

    /// The answer to this GET or HEAD, from `src`, cacheable until the URL expires; errors in their shape.
    async fn serve(self, r: Result<(Source, Grant), StreamError>) -> Response {
        let r = match r {
            Ok((src, grant)) => respond(src, &self.method, &self.headers, &grant.cache_control()).await,
            Err(e) => Err(e),
        };
        r.unwrap_or_else(IntoResponse::into_response)
    }
}

/// A quality slug as the URLs spell it (`sd`, `hd`, `uhd`; lower case only, since the path is signed).
fn slug(s: &str) -> Option<Quality> {
    Quality::ALL.into_iter().find(|q| q.slug() == s)
}

/// A path segment that is not UTF-8 once percent-decoded names no track or file (404, in the stream error shape
/// rather than axum's plain-text rejection).
fn bad_path(_: crate::api::BadPathSegment) -> StreamError {
    StreamError::NotFound("a path segment is not valid UTF-8 once percent-decoded".to_owned())
}

/// `/stream/{asin}/{quality}.{ext}`.
async fn progressive(r: StreamRequest, path: ApiPath<(String, String)>) -> Response {
    let answer = async {
        let (asin, file) = path.value().map_err(bad_path)?;
        let q =
            file.split_once('.').and_then(|(s, ext)| slug(s).filter(|q| q.extension() == ext)).ok_or_else(|| {
                StreamError::NotFound(format!("no stream file {file:?}: use sd.mp3, hd.flac or uhd.flac"))
            })?;
        let grant = r.authorize(&progressive_path(asin, q)).await?;
        let track = r.track(asin, Some(q))?;
        Ok((Source::File(r.state.streams.cache.get_or_encode(&track, q).await?), grant))
    }
    .await;
    r.serve(answer).await
}

/// `/dash/{asin}/manifest.mpd`: one representation per quality in both `q` and the track.
async fn manifest(r: StreamRequest, path: ApiPath<String>) -> Response {
    let answer = async {
        let asin = path.value().map_err(bad_path)?;
        let grant = r.authorize(&dash_dir(asin)).await?;
        let track = r.track(asin, None)?;
        let xml = manifest_xml(&track, &grant, r.uri.query())?;
        Ok((Source::memory(xml, MPD_CONTENT_TYPE), grant))
    }
    .await;
    r.serve(answer).await
}

/// The MPD of `track` under a URL's `grant`: one representation per quality both grant and track have, its
/// segment URLs carrying the manifest's own `query`.
///
/// # Errors
/// [`StreamError::NotFound`] when the track has none of the granted qualities.
fn manifest_xml(track: &TrackAudio, grant: &Grant, query: Option<&str>) -> Result<String, StreamError> {
    let qualities: Vec<Quality> = grant.qualities.iter().copied().filter(|q| q.offered_in(track.qualities)).collect();
    if qualities.is_empty() {
        let message = format!("track {} has none of the qualities the URL grants ({:?})", track.id, grant.q);
        return Err(StreamError::NotFound(message));
    }
    Ok(mpd(track.duration_s, &qualities, query))
}

/// The file of a DASH representation: `init.mp4` or `{n}.m4s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DashFile {
    Init,
    Segment(u64),
}

impl DashFile {
    /// The quality and file a DASH path names: `{sd|hd|uhd}/init.mp4` or `{sd|hd|uhd}/{n}.m4s` (`n` in digits).
    ///
    /// # Errors
    /// [`StreamError::NotFound`] for any other name.
    fn parse(quality: &str, file: &str) -> Result<(Quality, DashFile), StreamError> {
        let not_found = || StreamError::NotFound(format!("no DASH file {quality}/{file}"));
        let q = slug(quality).ok_or_else(not_found)?;
        let number = |n: &str| n.bytes().all(|b| b.is_ascii_digit()).then(|| n.parse().ok()).flatten();
        let kind = match (file, file.strip_suffix(".m4s").and_then(number)) {
            ("init.mp4", _) => DashFile::Init,
            (_, Some(n)) => DashFile::Segment(n),
            _ => return Err(not_found()),
        };
        Ok((q, kind))
    }
}

/// `/dash/{asin}/{quality}/{init.mp4|n.m4s}`.
async fn dash_file(r: StreamRequest, path: ApiPath<(String, String, String)>) -> Response {
    let answer = async {
        let (asin, quality, file) = path.value().map_err(bad_path)?;
        let (q, kind) = DashFile::parse(quality, file)?;
        let grant = r.authorize(&dash_dir(asin)).await?;
        grant.allows(q)?;
        let track = r.track(asin, Some(q))?;
        Ok((Source::File(r.dash_file(&track, q, kind).await?), grant))
    }
    .await;
    r.serve(answer).await
}

/// What the licence stub answers before the digest of the challenge.
pub const LICENSE_PREFIX: &[u8] = b"AMM-MOCK-LICENSE-STUB\n";

/// `POST /license`: the stub licence server (spec §11.5). No DRM is applied to any stream, so nothing needs
/// the licence; it answers any challenge with `LICENSE_PREFIX` followed by the SHA-256 of the challenge.
async fn license(State(state): State<AppState>, req: Request) -> Response {
    let limit = state.limits.body_limit;
    let challenge = match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(b) => b,
        Err(_) => return label(StreamError::TooLarge(limit).into_response(), "license-stub").await,
    };
    let mut blob = LICENSE_PREFIX.to_vec();
    blob.extend_from_slice(&Sha256::digest(&challenge));
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream"),
        (header::CACHE_CONTROL, "no-store"),
        (header::HeaderName::from_static("x-amm-mock"), "license-stub"),
    ];
    (headers, Bytes::from(blob)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_file_names_are_a_lower_case_quality_and_init_or_a_numbered_segment() {
        assert_eq!(DashFile::parse("hd", "init.mp4").unwrap(), (Quality::Hd, DashFile::Init));
        assert_eq!(DashFile::parse("sd", "12.m4s").unwrap(), (Quality::Sd, DashFile::Segment(12)));
        for (q, file) in [("HD", "init.mp4"), ("hd", "+1.m4s"), ("hd", "1.mp4"), ("xx", "1.m4s"), ("hd", ".m4s")] {
            let e = DashFile::parse(q, file).unwrap_err();
            assert_eq!(e.to_string(), format!("no DASH file {q}/{file}"));
        }
    }
}
