//! Identifier newtypes whose constructors enforce LWA's formats (spec `lwa.md` §11, §13.8), and the
//! generators for the opaque values the mock hands out (authorization codes, user codes, UUIDs).
//!
//! Invalid values cannot exist: fixture files are parsed straight into these types, so a malformed id is
//! reported with its file, line and column.

use std::fmt;

use rand::Rng;

fn all_bytes(s: &str, ok: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(ok)
}

fn lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $check:expr, $expect:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and validates the id.
            ///
            /// # Errors
            /// A message saying which format was expected.
            pub fn parse(s: &str) -> Result<Self, String> {
                let check: fn(&str) -> bool = $check;
                if check(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(format!("{:?} is not a valid {}: expected {}", s, stringify!($name), $expect))
                }
            }

            /// The id as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

id_type!(
    /// An LWA client id: `amzn1.application-oa2-client.` + 32 lowercase hex.
    ClientId,
    |s| s.strip_prefix("amzn1.application-oa2-client.").is_some_and(|h| h.len() == 32 && all_bytes(h, lower_hex)),
    "amzn1.application-oa2-client. followed by 32 lowercase hex digits"
);

id_type!(
    /// A security profile id (the Music API's `x-api-key`): `amzn1.application.` + 32 hex.
    SecurityProfileId,
    |s| s
        .strip_prefix("amzn1.application.")
        .is_some_and(|h| h.len() == 32 && all_bytes(h, |b| b.is_ascii_hexdigit())),
    "amzn1.application. followed by 32 hex digits"
);

id_type!(
    /// A customer id: `amzn1.account.` + 28 chars of base32 (`[A-Z2-7]`).
    UserId,
    |s| s
        .strip_prefix("amzn1.account.")
        .is_some_and(|b| b.len() == 28 && all_bytes(b, |c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c))),
    "amzn1.account. followed by 28 characters A-Z or 2-7"
);

/// A client secret. `Debug` never prints the value, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Parses a secret: `amzn1.oa2-cs.v1.` + 64 lowercase hex, or a legacy secret of 64 lowercase hex.
    ///
    /// # Errors
    /// A message naming the expected formats (the value itself is not repeated).
    pub fn parse(s: &str) -> Result<Self, String> {
        let hex64 = |h: &str| h.len() == 64 && all_bytes(h, lower_hex);
        if s.strip_prefix("amzn1.oa2-cs.v1.").is_some_and(hex64) || hex64(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err("not a valid client secret: expected amzn1.oa2-cs.v1. followed by 64 lowercase hex digits, \
                 or a legacy secret of 64 lowercase hex digits"
                .to_owned())
        }
    }

    /// The secret. Callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares in time independent of where the strings differ.
    pub fn matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), candidate.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl TryFrom<String> for ClientSecret {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<ClientSecret> for String {
    fn from(v: ClientSecret) -> String {
        v.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const USER_CODE_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// An authorization code: 20 letters starting `AN`, as real codes look (`lwa.md` §3.2, §13.3).
pub fn authorization_code(rng: &mut impl Rng) -> String {
    let mut s = String::with_capacity(20);
    s.push_str("AN");
    for _ in 0..18 {
        s.push(LETTERS[rng.random_range(0..LETTERS.len())] as char);
    }
    s
}

/// A code-pair user code: 6 chars `[A-Z0-9]` (`lwa.md` §5).
pub fn user_code(rng: &mut impl Rng) -> String {
    (0..6).map(|_| USER_CODE_CHARS[rng.random_range(0..USER_CODE_CHARS.len())] as char).collect()
}

/// A UUID-4 in its 36-character text form, from 128 random bits.
pub fn uuid_from_u128(bits: u128) -> String {
    uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid().hyphenated().to_string()
}

/// A UUID-4 in its 36-character text form, from the given random source.
pub fn uuid(rng: &mut impl Rng) -> String {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid().hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn formats_are_enforced() {
        assert!(ClientId::parse("amzn1.application-oa2-client.aad322b5faab44b980c8f87f94fbac56").is_ok());
        assert!(ClientId::parse("amzn1.application-oa2-client.AAD322b5faab44b980c8f87f94fbac56").is_err());
        assert!(SecurityProfileId::parse("amzn1.application.30877432d1026706d7e805da846a32c3").is_ok());
        assert!(SecurityProfileId::parse("amzn1.application-oa2-client.30877432d1026706d7e805da846a32c3").is_err());
        assert!(UserId::parse("amzn1.account.AGPCHSCJL6ZCTBHQTEU4CG67MHJQ").is_ok());
        assert!(UserId::parse("amznl.account.K2LI23KL2LK2").is_err());
        assert!(ClientSecret::parse("1642d8869b829dda3311d6c6539f3ead55192e3fc767b9071c888e60ef151cf9").is_ok());
        assert!(ClientSecret::parse("hunter2").is_err());
    }

    #[test]
    fn secrets_never_print() {
        let s = ClientSecret::parse(&"a".repeat(64)).unwrap();
        assert_eq!(format!("{s:?}"), "ClientSecret([redacted])");
        assert!(s.matches(&"a".repeat(64)));
        assert!(!s.matches(&"a".repeat(63)));
    }

    #[test]
    fn generated_codes_have_the_real_shapes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let code = authorization_code(&mut rng);
        assert_eq!(code.len(), 20);
        assert!(code.starts_with("AN") && code.bytes().all(|b| b.is_ascii_alphabetic()));
        let uc = user_code(&mut rng);
        assert!(uc.len() == 6 && uc.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        let u = uuid(&mut rng);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
