//! The cursor every family's paging uses: base64url of `o=<offset>;v=<version>`, the offset of the next item
//! and the version of the list it was read from (V1's `cursor` and `token`, V2's `after` and `nextToken`, the
//! views' `nextPageToken`). A cursor whose version is stale still works by offset (lists change between
//! pages in real clients too). Each family reads its own page parameters and says in its own words what is
//! wrong with them (`v1::page`, `v2::page_request`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items to skip.
    pub offset: usize,
    /// Items to return.
    pub limit: usize,
}

/// Encodes a cursor.
pub fn encode_cursor(offset: usize, version: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("o={offset};v={version}"))
}

/// The offset a cursor of [`encode_cursor`] holds; `None` when it is not one of ours. V1's `cursor` and
/// `token`, V2's `after` and the views' `nextPageToken` all use this format.
pub fn decode_offset(cursor: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim_end_matches('=')).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (o, v) = text.split_once(';')?;
    let version = v.strip_prefix("v=")?.parse::<u64>().ok()?;
    let offset = o.strip_prefix("o=")?.parse().ok()?;
    // Only our own spelling: `parse` also takes `+5` and `05`, which `encode_cursor` never writes.
    (text == format!("o={offset};v={version}")).then_some(offset)
}
