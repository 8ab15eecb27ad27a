//! Answers a GET or HEAD for one representation (an encoded file of the stream cache, or a manifest held in
//! memory): validators, conditional requests and `Range` (RFC 9110 §13, §14), bodies streamed in chunks.
//!
//! The order of evaluation (RFC 9110 §13.2.2): `If-None-Match` (304 when a tag matches, weak comparison;
//! `*` matches), then `Range`, which `If-Range` may veto (strong comparison with our `ETag`; a date or a
//! malformed value vetoes it too, since we send no `Last-Modified`). `If-Match` and `If-Modified-Since`
//! are not evaluated (the mock sends no `Last-Modified`, and no client of a read-only stream needs them).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use headers::{ETag, HeaderMapExt, IfNoneMatch, IfRange};
use sha2::{Digest, Sha256};
use tokio_util::io::ReaderStream;

use super::StreamError;
use crate::stream::{CachedFile, Piece, RangePlan, content_range, multipart_layout, plan_ranges, unsatisfied_range};

/// Bytes read from the file per body chunk: the memory a listener costs while its body is sent.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// What a response is made of.
pub enum Source {
    /// A file of the stream cache (progressive files, init and media segments).
    File(CachedFile),
    /// Bytes built per request (the manifest), with their strong `ETag`.
    Memory {
        /// The representation.
        bytes: Bytes,
        /// Quoted strong entity tag.
        etag: String,
        /// `Content-Type`.
        content_type: &'static str,
    },
}

impl Source {
    /// An in-memory representation whose `ETag` is a digest of its bytes.
    pub fn memory(bytes: impl Into<Bytes>, content_type: &'static str) -> Self {
        let bytes = bytes.into();
        let etag = format!("\"{}\"", hex(&Sha256::digest(&bytes)[..12]));
        Source::Memory { bytes, etag, content_type }
    }

    fn len(&self) -> u64 {
        match self {
            Source::File(f) => f.len,
            Source::Memory { bytes, .. } => bytes.len() as u64,
        }
    }

    fn etag(&self) -> &str {
        match self {
            Source::File(f) => &f.etag,
            Source::Memory { etag, .. } => etag,
        }
    }

    fn content_type(&self) -> &'static str {
        match self {
            Source::File(f) => f.content_type,
            Source::Memory { content_type, .. } => content_type,
        }
    }

    /// Bytes `start..=end` as a stream of chunks; a file is read [`CHUNK_BYTES`] at a time.
    async fn chunks(
        self: Arc<Self>,
        start: u64,
        end: u64,
    ) -> std::io::Result<BoxStream<'static, std::io::Result<Bytes>>> {
        match &*self {
            Source::File(f) => Ok(ReaderStream::with_capacity(f.open_range(start, end).await?, CHUNK_BYTES).boxed()),
            Source::Memory { bytes, .. } => {
                let part = bytes.slice(start as usize..=end as usize);
                Ok(stream::once(async move { Ok(part) }).boxed())
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What to answer, decided from the request headers alone.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Answer {
    /// 304: `If-None-Match` matched.
    NotModified,
    /// 200 with the whole representation.
    Full,
    /// 206 with one range (inclusive bounds).
    Single(u64, u64),
    /// 206 `multipart/byteranges`.
    Multiple(Vec<(u64, u64)>),
    /// 416 `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// Decides the answer for a representation of `len` bytes whose strong tag is `etag`.
pub fn decide(req: &HeaderMap, etag: &str, len: u64) -> Answer {
    let tag: Option<ETag> = etag.parse().ok();
    if let (Some(inm), Some(tag)) = (req.typed_get::<IfNoneMatch>(), &tag) {
        if !inm.precondition_passes(tag) {
            return Answer::NotModified;
        }
    }
    let range = req.get(header::RANGE).and_then(|v| v.to_str().ok());
    if range.is_some() && req.contains_key(header::IF_RANGE) {
        let current = req.typed_get::<IfRange>().is_some_and(|ir| !ir.is_modified(tag.as_ref(), None));
        if !current {
            return Answer::Full;
        }
    }
    match plan_ranges(range, len) {
        RangePlan::Full => Answer::Full,
        RangePlan::Single(a, b) => Answer::Single(a, b),
        RangePlan::Multiple(r) => Answer::Multiple(r),
        RangePlan::Unsatisfiable => Answer::Unsatisfiable,
    }
}

/// The boundary of a `multipart/byteranges` body: derived from the tag and the ranges, so the same request
/// gets the same bytes, and 32 hex digits that an audio file will not contain by chance.
fn boundary(etag: &str, ranges: &[(u64, u64)]) -> String {
    let mut h = Sha256::new();
    h.update(etag.as_bytes());
    for (a, b) in ranges {
        h.update(a.to_be_bytes());
        h.update(b.to_be_bytes());
    }
    format!("amm-{}", hex(&h.finalize()[..16]))
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: impl AsRef<str>) {
    if let Ok(v) = HeaderValue::from_str(value.as_ref()) {
        headers.insert(name, v);
    }
}

/// The response to a GET or HEAD for `src`, with `cache_control` on every answer but errors.
///
/// # Errors
/// Opening the file for the body failed (the caller answers 500).
pub async fn respond(
    src: Source,
    method: &Method,
    req: &HeaderMap,
    cache_control: &str,
) -> Result<Response, StreamError> {
    let (len, etag, content_type) = (src.len(), src.etag().to_owned(), src.content_type());
    let answer = decide(req, &etag, len);
    let head = method == Method::HEAD;
    let src = Arc::new(src);
    let (status, body_type, length, body) = match &answer {
        Answer::NotModified => {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            set(r.headers_mut(), header::ETAG, &etag);
            set(r.headers_mut(), header::CACHE_CONTROL, cache_control);
            return Ok(r);
        }
        Answer::Unsatisfiable => {
            let mut r = StreamError::RangeNotSatisfiable(len).into_response();
            set(r.headers_mut(), header::CONTENT_RANGE, unsatisfied_range(len));
            set(r.headers_mut(), header::ACCEPT_RANGES, "bytes");
            set(r.headers_mut(), header::ETAG, &etag);
            return Ok(r);
        }
        Answer::Full => {
            let body = if head || len == 0 { Body::empty() } else { Body::from_stream(src.chunks(0, len - 1).await?) };
            (StatusCode::OK, content_type.to_owned(), len, body)
        }
        &Answer::Single(a, b) => {
            let body = if head { Body::empty() } else { Body::from_stream(src.chunks(a, b).await?) };
            (StatusCode::PARTIAL_CONTENT, content_type.to_owned(), b - a + 1, body)
        }
        Answer::Multiple(ranges) => {
            let boundary = boundary(&etag, ranges);
            let (pieces, total) = multipart_layout(ranges, len, content_type, &boundary);
            let body = if head { Body::empty() } else { Body::from_stream(multipart(src, pieces)) };
            (StatusCode::PARTIAL_CONTENT, format!("multipart/byteranges; boundary={boundary}"), total, body)
        }
    };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    set(h, header::CONTENT_TYPE, body_type);
    set(h, header::CONTENT_LENGTH, length.to_string());
    set(h, header::ACCEPT_RANGES, "bytes");
    set(h, header::ETAG, &etag);
    set(h, header::CACHE_CONTROL, cache_control);
    if let Answer::Single(a, b) = answer {
        set(h, header::CONTENT_RANGE, content_range(a, b, len));
    }
    Ok(r)
}

/// The pieces of a multipart body in order; each file range is opened only when the previous piece has been
/// sent (the readers of one [`CachedFile`] share a file offset).
fn multipart(src: Arc<Source>, pieces: Vec<Piece>) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    stream::iter(pieces)
        .then(move |piece| {
            let src = src.clone();
            async move {
                match piece {
                    Piece::Text(t) => Ok(stream::once(async move { Ok(Bytes::from(t)) }).boxed()),
                    Piece::File(a, b) => src.chunks(a, b).await,
                }
            }
        })
        .try_flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "\"0123abcd\"";

    fn req(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).expect("ascii"));
        }
        h
    }

    #[test]
    fn if_none_match_compares_weakly_and_wins_over_range() {
        use header::{IF_NONE_MATCH, RANGE};
        for v in [TAG, "W/\"0123abcd\"", "*", "\"zz\", \"0123abcd\""] {
            assert_eq!(decide(&req(&[(IF_NONE_MATCH, v), (RANGE, "bytes=0-1")]), TAG, 10), Answer::NotModified, "{v}");
        }
        assert_eq!(decide(&req(&[(IF_NONE_MATCH, "\"other\"")]), TAG, 10), Answer::Full);
        assert_eq!(decide(&req(&[(IF_NONE_MATCH, "\"other\""), (RANGE, "bytes=0-1")]), TAG, 10), Answer::Single(0, 1));
    }

    #[test]
    fn if_range_honours_the_range_only_for_the_current_strong_tag() {
        use header::{IF_RANGE, RANGE};
        assert_eq!(decide(&req(&[(IF_RANGE, TAG), (RANGE, "bytes=2-3")]), TAG, 10), Answer::Single(2, 3));
        for v in ["\"other\"", "W/\"0123abcd\"", "Sun, 06 Nov 1994 08:49:37 GMT", "garbage"] {
            assert_eq!(decide(&req(&[(IF_RANGE, v), (RANGE, "bytes=2-3")]), TAG, 10), Answer::Full, "{v}");
        }
        // Without Range, If-Range means nothing.
        assert_eq!(decide(&req(&[(IF_RANGE, "\"other\"")]), TAG, 10), Answer::Full);
        assert_eq!(decide(&req(&[(RANGE, "bytes=20-")]), TAG, 10), Answer::Unsatisfiable);
        assert_eq!(decide(&req(&[(RANGE, "bytes=0-0,5-")]), TAG, 10), Answer::Multiple(vec![(0, 0), (5, 9)]));
    }

    #[test]
    fn boundaries_are_stable_and_depend_on_the_ranges() {
        let a = boundary(TAG, &[(0, 1), (5, 6)]);
        assert_eq!(a, boundary(TAG, &[(0, 1), (5, 6)]));
        assert_ne!(a, boundary(TAG, &[(0, 1), (5, 7)]));
        assert_eq!(a.len(), 4 + 32);
    }
}
