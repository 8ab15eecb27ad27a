//! Renditions (SD, HD, UHD), the `X-Amzn-Audio-Device-Capability` header and the rule that picks the
//! renditions a listener may get (spec §8, §11.5).

use std::fmt;

use crate::catalog::AudioQualities;
use crate::fixtures::Tier;

/// One rendition of a track.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Quality {
    /// Standard definition: MP3, 44.1 kHz, 16-bit source, 128 kbit/s CBR, stereo.
    Sd,
    /// High definition: FLAC, 44.1 kHz, 16-bit, stereo.
    Hd,
    /// Ultra high definition: FLAC, 96 kHz, 24-bit, stereo.
    Uhd,
}

/// The audio codec of a rendition.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Codec {
    /// MPEG-1 Layer III.
    Mp3,
    /// Free Lossless Audio Codec.
    Flac,
}

/// MP3 bit rate of [`Quality::Sd`], bits per second.
pub const SD_BITRATE: u32 = 128_000;

impl Quality {
    /// Every quality, lowest first.
    pub const ALL: [Quality; 3] = [Quality::Sd, Quality::Hd, Quality::Uhd];

    /// The `audioQualities` wire name: `SD`, `HD`, `UHD`.
    pub fn wire_name(self) -> &'static str {
        match self {
            Quality::Sd => "SD",
            Quality::Hd => "HD",
            Quality::Uhd => "UHD",
        }
    }

    /// The lower-case path segment: `sd`, `hd`, `uhd`.
    pub fn slug(self) -> &'static str {
        match self {
            Quality::Sd => "sd",
            Quality::Hd => "hd",
            Quality::Uhd => "uhd",
        }
    }

    /// Parses a wire name or slug, case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.slug().eq_ignore_ascii_case(s))
    }

    /// The codec.
    pub fn codec(self) -> Codec {
        match self {
            Quality::Sd => Codec::Mp3,
            Quality::Hd | Quality::Uhd => Codec::Flac,
        }
    }

    /// Sample rate, Hz.
    pub fn sample_rate(self) -> u32 {
        match self {
            Quality::Sd | Quality::Hd => 44_100,
            Quality::Uhd => 96_000,
        }
    }

    /// Bits per sample of the PCM fed to the encoder.
    pub fn bits(self) -> u8 {
        match self {
            Quality::Sd | Quality::Hd => 16,
            Quality::Uhd => 24,
        }
    }

    /// File extension of the progressive file: `mp3` or `flac`.
    pub fn extension(self) -> &'static str {
        match self.codec() {
            Codec::Mp3 => "mp3",
            Codec::Flac => "flac",
        }
    }

    /// `Content-Type` of the progressive file.
    pub fn content_type(self) -> &'static str {
        match self.codec() {
            Codec::Mp3 => "audio/mpeg",
            Codec::Flac => "audio/flac",
        }
    }

    /// The RFC 6381 `codecs` value of the DASH representation (MP3 in MP4 is object type 0x6B).
    pub fn dash_codecs(self) -> &'static str {
        match self.codec() {
            Codec::Mp3 => "mp4a.6B",
            Codec::Flac => "flac",
        }
    }

    /// Nominal bandwidth for the MPD, bits per second (for FLAC: the PCM rate halved, a typical ratio).
    pub fn nominal_bandwidth(self) -> u32 {
        match self.codec() {
            Codec::Mp3 => SD_BITRATE,
            Codec::Flac => self.sample_rate() * u32::from(self.bits()) * u32::from(super::signal::CHANNELS) / 2,
        }
    }

    /// Whether a track whose catalog entry lists `qualities` has this rendition.
    pub fn offered_in(self, qualities: AudioQualities) -> bool {
        qualities.contains(self.catalog_set())
    }

    fn catalog_set(self) -> AudioQualities {
        match self {
            Quality::Sd => AudioQualities::SD,
            Quality::Hd => AudioQualities::HD,
            Quality::Uhd => AudioQualities::UHD,
        }
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_name())
    }
}

/// What a device says it can play, from `X-Amzn-Audio-Device-Capability`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Capabilities {
    /// `STD_RES`.
    pub std_res: bool,
    /// `HI_FI`.
    pub hi_fi: bool,
    /// `HI_RES`.
    pub hi_res: bool,
    /// `THREE_DIMENSIONAL` (spatial; the mock serves no spatial rendition yet).
    pub three_dimensional: bool,
}

/// An unknown value in `X-Amzn-Audio-Device-Capability`; the HTTP layer answers 400.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("unknown X-Amzn-Audio-Device-Capability value {0:?}: expected STD_RES, HI_FI, HI_RES or THREE_DIMENSIONAL")]
pub struct CapabilityError(pub String);

impl Capabilities {
    /// Parses the header: comma-separated, case-insensitive, blanks around values and empty items ignored.
    /// No header (`None`) means standard resolution only.
    ///
    /// # Errors
    /// The first unknown value.
    pub fn parse(header: Option<&str>) -> Result<Self, CapabilityError> {
        let mut caps = Capabilities::default();
        for v in header.unwrap_or("").split(',').map(str::trim).filter(|v| !v.is_empty()) {
            let flag = match v.to_ascii_uppercase().as_str() {
                "STD_RES" => &mut caps.std_res,
                "HI_FI" => &mut caps.hi_fi,
                "HI_RES" => &mut caps.hi_res,
                "THREE_DIMENSIONAL" => &mut caps.three_dimensional,
                _ => return Err(CapabilityError(v.to_owned())),
            };
            *flag = true;
        }
        Ok(caps)
    }
}

/// The renditions a listener gets, lowest first; always starts with SD.
///
/// HD needs `HI_FI` or `HI_RES`, the Unlimited tier and a track with HD; UHD needs `HI_RES`, Unlimited and a
/// track with UHD. Free and Prime get SD only (spec §8, §11.2, §11.5).
pub fn allowed_qualities(tier: Tier, caps: Capabilities, track: AudioQualities) -> Vec<Quality> {
    let unlimited = tier == Tier::Unlimited;
    Quality::ALL
        .into_iter()
        .filter(|q| match q {
            Quality::Sd => true,
            Quality::Hd => unlimited && (caps.hi_fi || caps.hi_res) && q.offered_in(track),
            Quality::Uhd => unlimited && caps.hi_res && q.offered_in(track),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_header_parses_case_insensitively_and_rejects_unknown_values() {
        let c = Capabilities::parse(Some(" std_res, HI_FI ,,Hi_Res")).expect("known values");
        assert!(c.std_res && c.hi_fi && c.hi_res && !c.three_dimensional);
        assert_eq!(Capabilities::parse(None), Ok(Capabilities::default()));
        assert_eq!(Capabilities::parse(Some("HI_FI,LOSSLESS")), Err(CapabilityError("LOSSLESS".into())));
    }

    #[test]
    fn tiers_capabilities_and_track_formats_gate_renditions() {
        use Quality::*;
        let all = Capabilities::parse(Some("STD_RES,HI_FI,HI_RES")).expect("known");
        let hifi = Capabilities::parse(Some("HI_FI")).expect("known");
        let none = Capabilities::default();
        let uhd = AudioQualities::UHD;
        assert_eq!(allowed_qualities(Tier::Unlimited, all, uhd), [Sd, Hd, Uhd]);
        assert_eq!(allowed_qualities(Tier::Unlimited, hifi, uhd), [Sd, Hd]);
        assert_eq!(allowed_qualities(Tier::Unlimited, none, uhd), [Sd]);
        assert_eq!(allowed_qualities(Tier::Unlimited, all, AudioQualities::HD), [Sd, Hd]);
        assert_eq!(allowed_qualities(Tier::Unlimited, all, AudioQualities::SD), [Sd]);
        assert_eq!(allowed_qualities(Tier::Prime, all, uhd), [Sd]);
        assert_eq!(allowed_qualities(Tier::Free, all, uhd), [Sd]);
        // HI_RES alone also unlocks HD.
        let hires = Capabilities::parse(Some("HI_RES")).expect("known");
        assert_eq!(allowed_qualities(Tier::Unlimited, hires, uhd), [Sd, Hd, Uhd]);
    }

    #[test]
    fn names_round_trip() {
        for q in Quality::ALL {
            assert_eq!(Quality::parse(q.wire_name()), Some(q));
            assert_eq!(Quality::parse(q.slug()), Some(q));
        }
        assert_eq!(Quality::parse("360RA"), None);
    }
}
