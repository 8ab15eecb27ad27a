//! V1 pagination (spec `music-api.md` §3.2, §11.2): `limit` + opaque `cursor` in the query (or `token` in
//! a search body), answered with `pageInfo {hasNextPage, token}`, `edgeCount` and `edges`. On the last
//! page `pageInfo` is only `{"hasNextPage":false}`.
//!
//! A cursor is base64url of `o=<offset>;v=<version>`: the offset of the next item and the version of the
//! list it was read from. A cursor whose version is stale still works by offset (lists change between
//! pages in real clients too); a cursor that does not decode is a 400.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::error::MusicError;

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
    v.strip_prefix("v=")?.parse::<u64>().ok()?;
    o.strip_prefix("o=")?.parse().ok()
}

/// Decodes a cursor to its offset.
///
/// # Errors
/// 400 `BAD_REQUEST` when it is not one of ours.
pub fn decode_cursor(cursor: &str) -> Result<usize, MusicError> {
    decode_offset(cursor).ok_or_else(|| {
        MusicError::bad_request(
            "Malformed request. The cursor (token) is not valid; use pageInfo.token from the previous page.",
        )
    })
}

/// Reads `limit` and `cursor` (already extracted from the query or body).
///
/// # Errors
/// 400 when `limit` is not an integer in `1..=max` or the cursor is not valid.
pub fn request(
    limit: Option<&str>,
    cursor: Option<&str>,
    default: usize,
    max: usize,
) -> Result<PageRequest, MusicError> {
    let limit = match limit {
        None | Some("") => default,
        Some(s) => match s.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                return Err(MusicError::bad_request(format!(
                    "Malformed request. limit must be an integer from 1 to {max}."
                )));
            }
        },
    };
    let offset = match cursor {
        None | Some("") => 0,
        Some(c) => decode_cursor(c)?,
    };
    Ok(PageRequest { offset, limit })
}

/// `pageInfo` for a page of `returned` items starting at `offset` in a list of `total`.
pub fn page_info(offset: usize, returned: usize, total: usize, version: u64) -> Value {
    let next = offset + returned;
    if returned > 0 && next < total {
        json!({"hasNextPage": true, "token": encode_cursor(next, version)})
    } else {
        json!({"hasNextPage": false})
    }
}

/// A connection object: `{pageInfo, edgeCount, edges}` where edges are given.
pub fn connection(offset: usize, total: usize, version: u64, edges: Vec<Value>) -> Value {
    json!({
        "pageInfo": page_info(offset, edges.len(), total, version),
        "edgeCount": edges.len(),
        "edges": edges,
    })
}

/// An edge with a cursor pointing after it, as list pages in the docs carry.
pub fn edge(offset_of_next: usize, version: u64, node: Value) -> Value {
    json!({"cursor": encode_cursor(offset_of_next, version), "node": node})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(40, 7)).unwrap(), 40);
        assert!(decode_cursor("nope").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("o=x;v=1")).is_err());
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(request(None, None, 100, 100).unwrap(), PageRequest { offset: 0, limit: 100 });
        assert!(request(Some("0"), None, 100, 100).is_err());
        assert!(request(Some("101"), None, 100, 100).is_err());
        assert!(request(Some("ten"), None, 100, 100).is_err());
        assert_eq!(request(Some("60"), None, 60, 60).unwrap().limit, 60);
    }

    #[test]
    fn last_page_has_only_has_next_page() {
        assert_eq!(page_info(90, 10, 100, 1), json!({"hasNextPage": false}));
        let p = page_info(0, 10, 100, 1);
        assert_eq!(p["hasNextPage"], true);
        assert_eq!(decode_cursor(p["token"].as_str().unwrap()).unwrap(), 10);
    }
}
