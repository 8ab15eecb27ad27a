//! The mock's tokens: `Atza|` (access), `Atzr|` (refresh) and `Atc|` (app, client credentials).
//!
//! A token is a JWT signed with HS256 (`jsonwebtoken`) carried base64url-encoded after its prefix, so it
//! is made only of `[A-Za-z0-9_-]` after the `|` (safe in un-encoded forms, `lwa.md` §14) and is at least
//! 350 characters long (`lwa.md` §6, §13.3). Any replica that holds the key can verify a token; what can
//! change after issue (revocation, forced expiry) is state, checked through the store.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The three token families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenKind {
    /// `Atza|`: a customer's access token.
    #[serde(rename = "a")]
    Access,
    /// `Atzr|`: a refresh token.
    #[serde(rename = "r")]
    Refresh,
    /// `Atc|`: an app-only access token from `client_credentials`.
    #[serde(rename = "c")]
    App,
}

impl TokenKind {
    /// The wire prefix, `|` included.
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Access => "Atza|",
            TokenKind::Refresh => "Atzr|",
            TokenKind::App => "Atc|",
        }
    }
}

/// What a token says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Token family; must agree with the prefix.
    pub knd: TokenKind,
    /// The session that issued it: tokens do not cross sessions.
    pub sid: String,
    /// The customer (`amzn1.account.…`); none for app tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The client id.
    pub cid: String,
    /// The security profile id of the client.
    pub pid: String,
    /// Granted scopes, normalised and space-separated.
    pub scp: String,
    /// Issued at, virtual epoch seconds.
    pub iat: i64,
    /// Expiry, virtual epoch seconds; none for refresh tokens, which do not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Grant generation at issue; a revocation moves the grant to a later generation.
    pub gen_: u64,
    /// Token id (for forced expiry), 32 hex.
    pub jti: String,
    /// Refresh tokens: whether refreshing needs no client secret (CBL and PKCE-without-secret grants).
    #[serde(default)]
    pub pc: bool,
    /// Access tokens minted by a refresh: the refresh token's id (`jti`), so that revoking that refresh token
    /// alone (a replayed authorization code, `docs/ROUTES.md` A55) ends them too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rti: Option<String>,
}

/// Why a token string is not a token of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a known prefix, not base64url, not a JWT, or the prefix disagrees with the claims.
    #[error("malformed token")]
    Malformed,
    /// The signature does not verify (forged or from another key).
    #[error("bad signature")]
    BadSignature,
}

/// Signs and verifies tokens with one HS256 key.
#[derive(Clone)]
pub struct TokenCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Names the key in the cache of verified tokens.
    id: u64,
}

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCodec([redacted])")
    }
}

/// Minimum characters after the prefix (`lwa.md` §6: "350 characters or more").
const MIN_BODY_CHARS: usize = 350;

impl TokenCodec {
    /// A codec whose key is derived from `secret` (any length).
    pub fn new(secret: &[u8]) -> Self {
        let key = Sha256::digest(secret);
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the session's virtual clock by the caller, never the system clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        // Tells codecs apart in the per-thread cache of verified tokens (tests run servers with other keys
        // side by side): the first bytes of a hash of the key's hash, never the key.
        let id = u64::from_le_bytes(Sha256::digest(key)[..8].try_into().expect("8 bytes"));
        TokenCodec {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
            id,
        }
    }

    /// Signs the claims and returns the wire token.
    pub fn mint(&self, claims: &Claims) -> String {
        // HS256 over serialisable claims cannot fail; an empty token would be rejected everywhere anyway.
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding).unwrap_or_default();
        let body = URL_SAFE_NO_PAD.encode(jwt.as_bytes());
        // Claims always carry three long ids and a token id, so the body is ~600 characters; a unit test
        // pins the minimum.
        debug_assert!(body.len() >= MIN_BODY_CHARS);
        let prefix = claims.knd.prefix();
        let mut token = String::with_capacity(prefix.len() + body.len());
        token.push_str(prefix);
        token.push_str(&body);
        token
    }

    /// Verifies a wire token's prefix and signature and returns its claims. Expiry and revocation are
    /// the caller's checks.
    ///
    /// # Errors
    /// [`TokenError`].
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if let Some(claims) = recall(self.id, token) {
            return Ok(claims);
        }
        let claims = self.verify_anew(token)?;
        remember(self.id, token, &claims);
        Ok(claims)
    }

    fn verify_anew(&self, token: &str) -> Result<Claims, TokenError> {
        let (kind, body) = if let Some(b) = token.strip_prefix("Atza|") {
            (TokenKind::Access, b)
        } else if let Some(b) = token.strip_prefix("Atzr|") {
            (TokenKind::Refresh, b)
        } else if let Some(b) = token.strip_prefix("Atc|") {
            (TokenKind::App, b)
        } else {
            return Err(TokenError::Malformed);
        };
        let jwt = decode_body(body).ok_or(TokenError::Malformed)?;
        let data =
            jsonwebtoken::decode::<Claims>(&jwt, &self.decoding, &self.validation).map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
                _ => TokenError::Malformed,
            })?;
        if data.claims.knd != kind {
            return Err(TokenError::Malformed);
        }
        Ok(data.claims)
    }
}

/// Tokens a thread verified last, per codec, with their claims. A client sends one token many times, and
/// verifying it anew costs two base64 decodes, an HMAC and a JSON parse; the same bytes under the same key
/// always verify to the same claims, so this is exact. Per thread: no lock that connections share.
const RECALLED: usize = 8;

thread_local! {
    static VERIFIED: std::cell::RefCell<std::collections::VecDeque<(u64, Box<str>, Claims)>> =
        const { std::cell::RefCell::new(std::collections::VecDeque::new()) };
}

fn recall(codec: u64, token: &str) -> Option<Claims> {
    VERIFIED
        .with_borrow(|v| v.iter().find(|(c, t, _)| *c == codec && &**t == token).map(|(_, _, claims)| claims.clone()))
}

fn remember(codec: u64, token: &str, claims: &Claims) {
    VERIFIED.with_borrow_mut(|v| {
        if v.len() == RECALLED {
            v.pop_front();
        }
        v.push_back((codec, token.into(), claims.clone()));
    });
}

fn decode_body(body: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(body).ok()?;
    let s = String::from_utf8(bytes).ok()?;
    (s.matches('.').count() == 2).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(knd: TokenKind) -> Claims {
        Claims {
            knd,
            sid: "default".into(),
            sub: Some("amzn1.account.AGPCHSCJL6ZCTBHQTEU4CG67MHJQ".into()),
            cid: "amzn1.application-oa2-client.aad322b5faab44b980c8f87f94fbac56".into(),
            pid: "amzn1.application.30877432d1026706d7e805da846a32c3".into(),
            scp: "profile".into(),
            iat: 1_700_000_000,
            exp: Some(1_700_003_600),
            gen_: 0,
            jti: "0123456789abcdef0123456789abcdef".into(),
            pc: false,
            rti: None,
        }
    }

    #[test]
    fn tokens_round_trip_and_have_the_wire_shape() {
        let codec = TokenCodec::new(b"k");
        for kind in [TokenKind::Access, TokenKind::Refresh, TokenKind::App] {
            let c = claims(kind);
            let t = codec.mint(&c);
            assert!(t.starts_with(kind.prefix()));
            let body = &t[kind.prefix().len()..];
            assert!(body.len() >= 350 && t.len() <= 2048, "{}", t.len());
            assert!(body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert_eq!(codec.verify(&t).unwrap(), c);
        }
    }

    #[test]
    fn a_token_verified_once_is_recalled_for_its_key_only() {
        let a = TokenCodec::new(b"k");
        let b = TokenCodec::new(b"other");
        let t = a.mint(&claims(TokenKind::Access));
        for _ in 0..3 {
            assert_eq!(a.verify(&t), Ok(claims(TokenKind::Access)));
            // Recalled by `a` on this thread, yet still refused under another key.
            assert_eq!(b.verify(&t), Err(TokenError::BadSignature));
        }
        // Pushed out of the thread's few by other tokens, it verifies anew.
        for i in 0..RECALLED as i64 {
            let other = Claims { iat: i, ..claims(TokenKind::Access) };
            assert_eq!(a.verify(&a.mint(&other)), Ok(other));
        }
        assert_eq!(a.verify(&t), Ok(claims(TokenKind::Access)));
        let mut tampered = t.clone();
        tampered.pop();
        tampered.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert!(a.verify(&tampered).is_err(), "a changed token is not the one recalled");
    }

    #[test]
    fn forged_and_mislabelled_tokens_fail() {
        let a = TokenCodec::new(b"k");
        let b = TokenCodec::new(b"other");
        let t = a.mint(&claims(TokenKind::Access));
        assert_eq!(b.verify(&t), Err(TokenError::BadSignature));
        let relabelled = t.replacen("Atza|", "Atzr|", 1);
        assert_eq!(a.verify(&relabelled), Err(TokenError::Malformed));
        assert_eq!(a.verify("Atza|"), Err(TokenError::Malformed));
        assert_eq!(a.verify("Bearer x"), Err(TokenError::Malformed));
        // A cut-off token fails either way: `Malformed` when the body no longer decodes, `BadSignature` when
        // only the signature was shortened (which of the two depends on the length modulo 4).
        for cut in 1..=12 {
            assert!(a.verify(&t[..t.len() - cut]).is_err(), "cut {cut}");
        }
    }
}
