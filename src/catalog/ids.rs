//! Compact identifier and value types of the catalog: ASINs, ISRCs, calendar dates, the typed indices that
//! address entities inside one [`Catalog`](super::Catalog), and the helpers that derive image ids, curator ids
//! and UUIDs deterministically.
//!
//! Formats follow spec `music-api.md` §3.1 and §11.1: catalog ids are ASIN-style (`^B[0-9A-Z]{9}$`; generated
//! ones are `B0` + 8 base-36 characters), podcast shows and episodes use UUIDs, curators 26 chars `[a-z0-9]`.

use std::fmt;

/// Digits of base 36 in ASCII order, so that byte order of an encoded id equals its numeric order.
const BASE36: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Number of distinct generated ASINs: `B0` followed by 8 base-36 characters.
pub(super) const ASIN_SPACE: u64 = 36u64.pow(8);

/// A catalog id in ASIN style (`^B[0-9A-Z]{9}$`), stored inline as 10 ASCII bytes.
///
/// Ordering is the byte order of the string, which is what the search tie-breaks use.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Asin([u8; 10]);

impl Asin {
    /// The reserved id `B000000000`: the catalog generator never emits it, so it is the id that is certainly
    /// absent from every generated catalog (the tests use it for "a well-formed id that does not exist").
    ///
    /// It is generated number 0 ([`Asin::from_number`]`(0)`), which the generator replaces (see
    /// `generate::AsinGen`). A catalog extension may still name it explicitly.
    pub const UNKNOWN: Self = Self(*b"B000000000");

    /// Parses an ASIN-style id: `B` followed by 9 characters of `[0-9A-Z]` (spec §3.1).
    ///
    /// # Errors
    /// A message naming the expected format.
    pub fn parse(s: &str) -> Result<Self, String> {
        let b = s.as_bytes();
        let ok = b.len() == 10 && b[0] == b'B' && b[1..].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
        if !ok {
            return Err(format!("{s:?} is not an ASIN: expected B followed by 9 characters of [0-9A-Z]"));
        }
        let mut out = [0u8; 10];
        out.copy_from_slice(b);
        Ok(Self(out))
    }

    /// The generated id number `n` (below [`ASIN_SPACE`]) as `B0` + 8 base-36 digits.
    pub(super) fn from_number(mut n: u64) -> Self {
        let mut out = *b"B000000000";
        for slot in out[2..].iter_mut().rev() {
            *slot = BASE36[(n % 36) as usize];
            n /= 36;
        }
        Self(out)
    }

    /// The id's 9 characters after `B` read as a base-36 number: orders like the string.
    pub(super) fn ordinal(&self) -> u64 {
        self.0[1..].iter().fold(0u64, |n, &c| {
            let digit = if c.is_ascii_digit() { c - b'0' } else { c - b'A' + 10 };
            n * 36 + u64::from(digit)
        })
    }

    /// The id as sent on the wire.
    pub fn as_str(&self) -> &str {
        // Invariant: both constructors only store ASCII, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// A 64-bit mix of the id, used to derive stable per-entity values such as image ids.
    pub(super) fn mix(&self, salt: u64) -> u64 {
        let mut h = salt ^ 0x9E37_79B9_7F4A_7C15;
        for &b in &self.0 {
            h = splitmix(h ^ u64::from(b));
        }
        h
    }
}

impl fmt::Display for Asin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Asin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Asin({})", self.as_str())
    }
}

/// An International Standard Recording Code, `CC` + 3 alphanumerics + 2-digit year + 5 digits (`USAB21700123`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Isrc([u8; 12]);

impl Isrc {
    /// Parses an ISRC, with or without the customary hyphens (`US-AB2-17-00123`); letters are upper-cased.
    ///
    /// # Errors
    /// A message naming the expected format.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut out = [0u8; 12];
        let mut n = 0;
        for c in s.trim().bytes().filter(|&c| c != b'-') {
            if n == 12 {
                n += 1;
                break;
            }
            out[n] = c.to_ascii_uppercase();
            n += 1;
        }
        let ok = n == 12
            && out[..2].iter().all(u8::is_ascii_uppercase)
            && out[2..5].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && out[5..].iter().all(u8::is_ascii_digit);
        if ok {
            Ok(Self(out))
        } else {
            Err(format!("{s:?} is not an ISRC: expected CC + 3 alphanumerics + 7 digits, e.g. USAB21700123"))
        }
    }

    /// Builds a generated ISRC from its parts; `registrant` and `designation` are reduced to their ranges.
    pub(super) fn generated(country: &[u8; 2], registrant: u32, year: i32, designation: u32) -> Self {
        let mut out = [0u8; 12];
        out[..2].copy_from_slice(country);
        let mut r = registrant % (36 * 36 * 36);
        for slot in out[2..5].iter_mut().rev() {
            *slot = BASE36[(r % 36) as usize];
            r /= 36;
        }
        let yy = year.rem_euclid(100) as u32;
        out[5] = b'0' + (yy / 10) as u8;
        out[6] = b'0' + (yy % 10) as u8;
        let mut d = designation % 100_000;
        for slot in out[7..].iter_mut().rev() {
            *slot = b'0' + (d % 10) as u8;
            d /= 10;
        }
        Self(out)
    }

    /// The ISRC without hyphens, as the V1 payloads carry it.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for Isrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Isrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Isrc({})", self.as_str())
    }
}

/// A calendar date, stored as days since 1970-01-01 (negative before).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Date(pub i32);

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

impl Date {
    fn from_time(d: time::Date) -> Self {
        Self(d.to_julian_day() - UNIX_EPOCH_JULIAN_DAY)
    }

    fn to_time(self) -> time::Date {
        time::Date::from_julian_day(self.0 + UNIX_EPOCH_JULIAN_DAY).unwrap_or(time::Date::MIN)
    }

    /// The date for a proleptic Gregorian year, month (1–12) and day (1–31); `None` when it does not exist.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Self> {
        let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
        time::Date::from_calendar_date(y, month, u8::try_from(d).ok()?).ok().map(Self::from_time)
    }

    /// Year, month and day of this date.
    pub fn ymd(self) -> (i32, u32, u32) {
        let (y, m, d) = self.to_time().to_calendar_date();
        (y, u32::from(u8::from(m)), u32::from(d))
    }

    /// Parses `YYYY-MM-DD`, optionally followed by a `T…` time part, which is ignored.
    ///
    /// # Errors
    /// A message naming the expected format.
    pub fn parse(s: &str) -> Result<Self, String> {
        const FORMAT: &[time::format_description::FormatItem<'static>] =
            time::macros::format_description!("[year]-[month]-[day]");
        let day = s.split('T').next().unwrap_or_default();
        time::Date::parse(day, FORMAT)
            .map(Self::from_time)
            .map_err(|_| format!("{s:?} is not a date: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.sssZ"))
    }

    /// The year of this date.
    pub fn year(self) -> i32 {
        self.to_time().year()
    }

    /// The V1 wire form, midnight US-Eastern as the doc examples show it: `2017-11-10T04:00:00.000Z`.
    pub fn to_iso(self) -> String {
        let (y, m, d) = self.ymd();
        format!("{y:04}-{m:02}-{d:02}T04:00:00.000Z")
    }
}

macro_rules! idx_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Valid only for the catalog that produced it; catalogs only grow, so it stays valid after
        /// [`Catalog::extend`](super::Catalog::extend).
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
        #[repr(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// The position as a `usize`, for indexing.
            pub fn get(self) -> usize {
                self.0 as usize
            }
        }
    };
}

idx_type!(
    /// Position of a [`Track`](super::Track) in its catalog.
    TrackIdx
);
idx_type!(
    /// Position of an [`Album`](super::Album) in its catalog.
    AlbumIdx
);
idx_type!(
    /// Position of an [`Artist`](super::Artist) in its catalog.
    ArtistIdx
);
idx_type!(
    /// Position of a [`CatalogPlaylist`](super::CatalogPlaylist) in its catalog.
    PlaylistIdx
);
idx_type!(
    /// Position of a [`PodcastShow`](super::PodcastShow) in its catalog.
    ShowIdx
);
idx_type!(
    /// Position of a [`PodcastEpisode`](super::PodcastEpisode) in its catalog.
    EpisodeIdx
);

/// SplitMix64 finaliser: a cheap, well-mixed bijection on `u64`.
pub(super) fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An Amazon-style image id (`61aB3cDeFgL`) derived from a hash: two digits, eight base-62 characters, `L`.
pub(super) fn image_id(hash: u64) -> String {
    const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut h = hash;
    let mut s = String::with_capacity(11);
    s.push(char::from(b'4' + (h % 6) as u8));
    s.push('1');
    h /= 6;
    for _ in 0..8 {
        s.push(char::from(B62[(h % 62) as usize]));
        h /= 62;
    }
    s.push('L');
    s
}

/// A 26-character `[a-z0-9]` id (curator and profile ids, spec §3.1) derived from a hash.
pub(super) fn profile_id(hash: u64) -> String {
    const B36L: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut h = hash;
    let mut s = String::with_capacity(26);
    for i in 0..26 {
        if i % 12 == 0 {
            h = splitmix(h ^ i as u64);
        }
        s.push(char::from(B36L[(h % 36) as usize]));
        h /= 36;
    }
    s
}

/// A version-4 UUID built from two 64-bit values (deterministic, for generated podcasts).
pub(super) fn uuid_from(a: u64, b: u64) -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_format() {
        for days in -40_000..40_000 {
            let (y, m, d) = Date(days).ymd();
            assert_eq!(Date::from_ymd(y, m, d), Some(Date(days)));
        }
        let d = Date::parse("2017-11-10").expect("valid");
        assert_eq!(d.to_iso(), "2017-11-10T04:00:00.000Z");
        assert_eq!(Date::parse("2017-11-10T04:00:00.000Z"), Ok(d));
        assert_eq!(Date::from_ymd(1970, 1, 1), Some(Date(0)));
        assert!(Date::parse("2017-02-30").is_err());
        assert!(Date::parse("17-02-03").is_err());
    }

    #[test]
    fn asins_are_ordered_like_their_strings() {
        let a = Asin::from_number(35);
        let b = Asin::from_number(36);
        assert_eq!(a.as_str(), "B00000000Z");
        assert_eq!(b.as_str(), "B000000010");
        assert!(a < b && a.as_str() < b.as_str());
        assert_eq!(Asin::from_number(ASIN_SPACE - 1).as_str(), "B0ZZZZZZZZ");
        assert!(Asin::parse("B076YT2CBT").is_ok());
        assert!(Asin::parse("B076yT2CBT").is_err());
        assert!(Asin::parse("A076YT2CBT").is_err());
        assert!(Asin::parse("B076YT2CB").is_err());
    }

    #[test]
    fn the_reserved_id_is_generated_number_zero() {
        assert_eq!(Asin::UNKNOWN.as_str(), "B000000000");
        assert_eq!(Asin::from_number(0), Asin::UNKNOWN);
        assert_eq!(Asin::parse("B000000000"), Ok(Asin::UNKNOWN));
        assert_eq!(Asin::UNKNOWN.ordinal(), 0);
    }

    #[test]
    fn isrcs_parse_and_generate() {
        assert_eq!(Isrc::parse("us-ab2-17-00123").map(|i| i.to_string()), Ok("USAB21700123".to_owned()));
        assert!(Isrc::parse("USAB2170012").is_err());
        assert!(Isrc::parse("USAB217001234").is_err());
        assert!(Isrc::parse("1SAB21700123").is_err());
        let g = Isrc::generated(b"GB", 36 * 36 * 36 - 1, 1999, 42);
        assert_eq!(g.as_str(), "GBZZZ9900042");
        assert_eq!(Isrc::parse(g.as_str()), Ok(g));
    }

    #[test]
    fn derived_ids_have_their_shapes() {
        for h in [0u64, 1, u64::MAX, 0xDEAD_BEEF] {
            let img = image_id(h);
            assert_eq!(img.len(), 11);
            assert!(img.ends_with('L') && img.bytes().all(|c| c.is_ascii_alphanumeric()));
            let p = profile_id(h);
            assert_eq!(p.len(), 26);
            assert!(p.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        }
        assert_eq!(uuid_from(1, 2).get_version_num(), 4);
    }
}
