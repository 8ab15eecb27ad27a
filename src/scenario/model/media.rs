//! The stream expectations of an `expect` block: `audio` (the body decodes, with a real decoder, to audio
//! like this), `dash` (the body is an MPD with these representations, whose segments fetch and decode) and
//! `range` (the resource answers `Range` requests with exactly the right bytes).
//!
//! They describe the wire like every other expectation, so they work against any target. The checks are
//! in `expect/audio.rs`, `expect/dash.rs` and `expect/range.rs`; the extra requests they make (segments,
//! ranged and unranged copies of the step's request) in `run/media.rs`.

use std::borrow::Cow;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Matcher, Status};

/// Default tolerance of a `duration` check, seconds.
pub const DEFAULT_DURATION_TOLERANCE_S: f64 = 0.1;
/// Default tolerance of a `frequency` check, Hz.
pub const DEFAULT_FREQUENCY_TOLERANCE_HZ: f64 = 2.0;

/// A number, or a string with `{{…}}` references that comes to a number when the step runs (a captured
/// value, say).
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    /// A number written in the file.
    Value(f64),
    /// A template such as `"{{tone}}"`, interpolated when the step runs.
    Template(String),
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number, or a string with a {{variable}} that holds one")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number::Value(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number::Value(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number::Value(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Number, E> {
                if v.contains("{{") {
                    Ok(Number::Template(v.to_owned()))
                } else {
                    v.trim().parse::<f64>().map(Number::Value).map_err(|_| {
                        E::custom(format!(
                            "{v:?} is not a number: expected a number, or a string with a {{{{variable}}}}"
                        ))
                    })
                }
            }
        }
        d.deserialize_any(NumberVisitor)
    }
}

impl JsonSchema for Number {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Number".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A number, or a string with a {{variable}} that holds one.",
            "anyOf": [{"type": "number"}, {"type": "string", "pattern": "\\{\\{"}]
        })
    }
}

/// One value or a list of them, for keys where one is the common case (`range`, `dash.fetch`).
#[derive(Debug, Clone, PartialEq)]
pub struct OneOrList<T>(pub Vec<T>);

impl<T> Default for OneOrList<T> {
    fn default() -> Self {
        OneOrList(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = OneOrList<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map, or a list of maps")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Ok(OneOrList(vec![T::deserialize(de::value::MapAccessDeserializer::new(map))?]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<T>()? {
                    out.push(v);
                }
                Ok(OneOrList(out))
            }
        }
        d.deserialize_any(ListVisitor(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for OneOrList<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("OneOrList_{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let one = g.subschema_for::<T>();
        json_schema!({"anyOf": [one, {"type": "array", "items": one}]})
    }
}

/// `expect.audio`: the body decodes (Symphonia: MP3, FLAC, AAC, WAV/PCM, in their own files or in MP4) to
/// audio like this. Every key is optional; `audio: {}` only asks that the body decodes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AudioExpect {
    /// The codec, by Symphonia's short name: `mp3`, `flac`, `aac`, `pcm_s16le`, …;
    /// `pcm` matches every `pcm_…`.
    #[serde(default)]
    pub codec: Option<String>,
    /// Samples per second per channel, as the decoder reports it.
    #[serde(default)]
    pub sample_rate: Option<Number>,
    /// Number of channels.
    #[serde(default)]
    pub channels: Option<Number>,
    /// Bits per sample as the stream states it (FLAC, PCM); lossy codecs state none, which fails.
    #[serde(default)]
    pub bits_per_sample: Option<Number>,
    /// The decoded length: sample frames out of the decoder over the sample rate (gapless trimming on).
    #[serde(default)]
    pub duration: Option<DurationExpect>,
    /// The dominant frequency, measured with an FFT over one second from the middle of the audio (all
    /// channels mixed).
    #[serde(default)]
    pub frequency: Option<FrequencyExpect>,
}

/// A duration within a tolerance.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DurationExpect {
    /// Seconds.
    pub seconds: Number,
    /// Allowed difference, seconds (default 0.1).
    #[serde(default)]
    pub tolerance: Option<Number>,
}

/// A frequency within a tolerance.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FrequencyExpect {
    /// Hertz.
    pub hz: Number,
    /// Allowed difference, Hz (default 2).
    #[serde(default)]
    pub tolerance: Option<Number>,
}

/// `expect.dash`: the body is an MPEG-DASH manifest that `dash-mpd` parses, with these representations
/// (in the first `Period`); `fetch` downloads and decodes some of them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DashExpect {
    /// `MPD@mediaPresentationDuration` (or the Period's `duration`).
    #[serde(default)]
    pub duration: Option<DurationExpect>,
    /// Exactly these representations, in any order: each entry matches a representation of its own, and
    /// none is left over.
    #[serde(default)]
    pub representations: Option<Vec<RepresentationExpect>>,
    /// At least these: each entry matches a representation of its own; others may be there too.
    #[serde(default)]
    pub representations_include: Option<Vec<RepresentationExpect>>,
    /// Representations to download whole: init segment and every media segment, each answering 200.
    #[serde(default)]
    pub fetch: OneOrList<DashFetch>,
}

/// Checks on one representation. Attributes missing on the `Representation` are taken from its
/// `AdaptationSet`; numbers in the MPD (`audioSamplingRate="44100"`) compare as numbers.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepresentationExpect {
    /// `@id`.
    #[serde(default)]
    pub id: Option<Matcher>,
    /// `@codecs` (RFC 6381: `mp4a.40.2`, `mp4a.6B`, `flac`, `fLaC`, …; compared as written).
    #[serde(default)]
    pub codecs: Option<Matcher>,
    /// `@mimeType`.
    #[serde(default)]
    pub mime_type: Option<Matcher>,
    /// `@audioSamplingRate`.
    #[serde(default)]
    pub audio_sampling_rate: Option<Matcher>,
    /// `@bandwidth`.
    #[serde(default)]
    pub bandwidth: Option<Matcher>,
    /// The `AudioChannelConfiguration` value.
    #[serde(default)]
    pub channels: Option<Matcher>,
    /// The number of media segments its `SegmentTemplate` or `SegmentList` describes.
    #[serde(default)]
    pub segments: Option<Matcher>,
}

impl RepresentationExpect {
    /// The checks given, as (MPD key, matcher), in a fixed order.
    pub fn fields(&self) -> Vec<(&'static str, &Matcher)> {
        let all = [
            ("id", &self.id),
            ("codecs", &self.codecs),
            ("mime_type", &self.mime_type),
            ("audio_sampling_rate", &self.audio_sampling_rate),
            ("bandwidth", &self.bandwidth),
            ("channels", &self.channels),
            ("segments", &self.segments),
        ];
        all.into_iter().filter_map(|(k, m)| m.as_ref().map(|m| (k, m))).collect()
    }
}

/// Which representation a `fetch` downloads.
#[derive(Debug, Clone, PartialEq)]
pub enum RepresentationSelector {
    /// The one with this `@id`.
    Id(String),
    /// The one at this position (0-based, in document order).
    Index(u64),
    /// The first one that matches these checks.
    Match(Box<RepresentationExpect>),
}

impl<'de> Deserialize<'de> for RepresentationSelector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SelectorVisitor;
        impl<'de> Visitor<'de> for SelectorVisitor {
            type Value = RepresentationSelector;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a representation id, a 0-based index, or a map of checks ({codecs: flac, …})")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RepresentationSelector::Id(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(RepresentationSelector::Index(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .map(RepresentationSelector::Index)
                    .map_err(|_| E::custom(format!("index {v}: expected 0 or more")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let m = RepresentationExpect::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RepresentationSelector::Match(Box::new(m)))
            }
        }
        d.deserialize_any(SelectorVisitor)
    }
}

impl JsonSchema for RepresentationSelector {
    fn schema_name() -> Cow<'static, str> {
        "RepresentationSelector".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let m = g.subschema_for::<RepresentationExpect>();
        json_schema!({
            "description": "A representation id, a 0-based index, or a map of checks (the first match).",
            "anyOf": [{"type": "string"}, {"type": "integer", "minimum": 0}, m]
        })
    }
}

/// One representation to download: its `SegmentTemplate`, `SegmentList` or `BaseURL` is resolved
/// against the manifest's URL (RFC 3986), the init segment and every media segment are fetched with plain
/// GETs (no headers of the step), and each must answer 200.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DashFetch {
    /// Which one: an id (`UHD`), a 0-based index, or checks (`{codecs: flac, audio_sampling_rate: 96000}`).
    pub representation: RepresentationSelector,
    /// Decode the init segment and the media segments, concatenated, with Symphonia (default true).
    #[serde(default = "yes")]
    pub decode: bool,
    /// Checks on the decoded audio, as in `expect.audio`.
    #[serde(default)]
    pub audio: Option<AudioExpect>,
    /// Add the manifest URL's query parameters to every segment URL that lacks them (for services whose
    /// MPDs write bare relative URLs yet sign each request). Off: URLs resolve as RFC 3986 says, so a
    /// relative URL keeps only its own query.
    #[serde(default)]
    pub append_manifest_query: bool,
}

fn yes() -> bool {
    true
}

/// One `Range` request made from the step's request (`expect.range`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeCase {
    /// The `Range` value to send, e.g. `bytes=100-199`, `bytes=-500`, `bytes=0-9,50-59`. Absent: the
    /// step's own `range` request header.
    #[serde(default)]
    pub header: Option<String>,
    /// The status the answer must have, or a list of acceptable ones: 206, 416, or 200 for a server that
    /// may ignore this `Range` (more ranges than it serves, an unknown unit). Absent: what RFC 9110 §14
    /// prescribes, 206 for a satisfiable range set, 416 for an unsatisfiable one, 200 for one that does
    /// not parse.
    #[serde(default)]
    pub status: Option<Status>,
}
