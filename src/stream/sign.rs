//! Signed, expiring stream URLs: `…?<params>&exp=<epoch s>&sig=<base64url HMAC-SHA256>`.
//!
//! The signature covers the path and every query parameter before `sig` (in order), `exp` included, so
//! the HTTP layer may bind more to a URL (a quality list, a user) by adding parameters before signing.
//! Expiry is read on the session's virtual clock by the caller, who passes `now`.
//!
//! For DASH, sign the directory (`/dash/{asin}/`) once and append the same query to the manifest, the init
//! and every segment URL; the HTTP layer then verifies each request against that directory prefix.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Default lifetime of a stream URL, seconds (spec §11.5).
pub const DEFAULT_TTL_S: i64 = 300;

/// Why a URL does not verify; the HTTP layer answers 403 to each.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum UrlError {
    /// No `exp` or no `sig`, or `exp` is not an integer.
    #[error("the stream URL has no valid exp and sig parameters")]
    Missing,
    /// The signature does not match the path and parameters.
    #[error("the stream URL signature does not match")]
    BadSignature,
    /// The signature is good but `exp` is past.
    #[error("the stream URL has expired")]
    Expired,
}

fn mac(key: &[u8], path: &str, params: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(path.as_bytes());
    m.update(b"?");
    m.update(params.as_bytes());
    m
}

/// The query string to append to `path`: `extra` (already encoded, may be empty) then `exp` and `sig`.
pub fn sign(path: &str, extra: &str, exp_epoch_s: i64, key: &[u8]) -> String {
    let params = if extra.is_empty() { format!("exp={exp_epoch_s}") } else { format!("{extra}&exp={exp_epoch_s}") };
    let sig = URL_SAFE_NO_PAD.encode(mac(key, path, &params).finalize().into_bytes());
    format!("{params}&sig={sig}")
}

/// Checks a request's path and raw query against its signature, then its `exp` against `now` (epoch s),
/// and returns the verified `exp`. A URL is valid while `now < exp`. The comparison is constant-time.
///
/// # Errors
/// [`UrlError`]: missing parameters, a bad signature (checked first, so a tampered `exp` is a bad
/// signature), or expiry.
pub fn verify(path: &str, query: Option<&str>, now: i64, key: &[u8]) -> Result<i64, UrlError> {
    let query = query.unwrap_or("");
    let (params, sig) = query.rsplit_once("&sig=").ok_or(UrlError::Missing)?;
    let exp = params
        .split('&')
        .filter_map(|p| p.strip_prefix("exp="))
        .next_back()
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or(UrlError::Missing)?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| UrlError::BadSignature)?;
    mac(key, path, params).verify_slice(&sig).map_err(|_| UrlError::BadSignature)?;
    if now >= exp { Err(UrlError::Expired) } else { Ok(exp) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"test key";

    #[test]
    fn a_signed_url_verifies_until_it_expires() {
        let q = sign("/stream/B000000001/sd.mp3", "", 1_000 + DEFAULT_TTL_S, KEY);
        assert!(q.starts_with("exp=1300&sig="));
        assert_eq!(verify("/stream/B000000001/sd.mp3", Some(&q), 1_000, KEY), Ok(1_300));
        assert_eq!(verify("/stream/B000000001/sd.mp3", Some(&q), 1_299, KEY), Ok(1_300));
        assert_eq!(verify("/stream/B000000001/sd.mp3", Some(&q), 1_300, KEY), Err(UrlError::Expired));
    }

    #[test]
    fn tampering_is_a_bad_signature() {
        let q = sign("/dash/B000000001/", "q=SD,HD", 2_000, KEY);
        assert_eq!(verify("/dash/B000000001/", Some(&q), 1_000, KEY), Ok(2_000));
        assert_eq!(verify("/dash/B000000002/", Some(&q), 1_000, KEY), Err(UrlError::BadSignature));
        let longer = q.replace("exp=2000", "exp=9000");
        assert_eq!(verify("/dash/B000000001/", Some(&longer), 1_000, KEY), Err(UrlError::BadSignature));
        let more = q.replace("q=SD,HD", "q=SD,HD,UHD");
        assert_eq!(verify("/dash/B000000001/", Some(&more), 1_000, KEY), Err(UrlError::BadSignature));
        assert_eq!(verify("/dash/B000000001/", Some(&q), 1_000, b"other key"), Err(UrlError::BadSignature));
        let garbled = format!("{}x", q);
        assert_eq!(verify("/dash/B000000001/", Some(&garbled), 1_000, KEY), Err(UrlError::BadSignature));
    }

    #[test]
    fn missing_parameters() {
        assert_eq!(verify("/p", None, 0, KEY), Err(UrlError::Missing));
        assert_eq!(verify("/p", Some("exp=5"), 0, KEY), Err(UrlError::Missing));
        assert_eq!(verify("/p", Some("a=1&sig=abc"), 0, KEY), Err(UrlError::Missing));
    }
}
