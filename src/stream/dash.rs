//! MPEG-DASH: a static MPD (one audio `AdaptationSet`, one `Representation` per allowed quality,
//! `SegmentTemplate` with `$Number$` and a `SegmentTimeline`), fMP4 init segments and media segments (`mp4-atom` boxes).
//!
//! | quality | sample entry | segment | timescale |
//! |---|---|---|---|
//! | SD | `mp4a`, `esds` objectTypeIndication 0x6B (MP3) | 153 MP3 frames (176,256 samples, ≈3.997 s) | 44,100 |
//! | HD | `fLaC` + `dfLa` | 40 FLAC frames of 4,410 (4 s) | 44,100 |
//! | UHD | `fLaC` + `dfLa` (sample entry rate 0: 96 kHz does not fit 16.16) | 40 frames of 9,600 (4 s) | 96,000 |
//!
//! Segment numbers start at 1. The last segment is shorter; for SD it also carries the MP3 frames past the
//! nominal end (LAME's encoder delay and padding, about 2 frames), so SD segment durations add up to the
//! track duration plus at most 2,304 samples. No edit list trims the delay in the fMP4 (a known gap).

use std::fmt::Write as _;

use mp4_atom::esds::{DecoderConfig, EsDescriptor, SLConfig};
use mp4_atom::{
    Audio, Codec, Dfla, Dinf, Dref, Encode, Esds, Flac, FlacMetadataBlock, Ftyp, Hdlr, Mdat, Mdhd, Mdia, Mfhd, Minf,
    Moof, Moov, Mp4a, Mvex, Mvhd, Smhd, Stbl, Stco, Stsc, Stsd, Stsz, Stts, Styp, Tfdt, Tfhd, Tkhd, Traf, Trak, Trex,
    Trun, TrunEntry, Url,
};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};

use super::encode::{FLAC_BLOCKS_PER_SEGMENT, MP3_FRAME_SAMPLES, MP3_FRAMES_PER_SEGMENT, flac_block_size};
use super::quality::{Codec as AudioCodec, Quality, SD_BITRATE};
use super::signal::CHANNELS;

/// `Content-Type` of init and media segments.
pub const SEGMENT_CONTENT_TYPE: &str = "audio/mp4";
/// `Content-Type` of the manifest.
pub const MPD_CONTENT_TYPE: &str = "application/dash+xml";

/// How a track's rendition is cut into segments.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SegmentLayout {
    /// Media timescale: the sample rate.
    pub timescale: u32,
    /// Nominal samples per segment (all but the last).
    pub samples_per_segment: u64,
    /// Codec frames per segment.
    pub frames_per_segment: u64,
    /// Number of segments, numbered from 1.
    pub count: u64,
}

impl SegmentLayout {
    /// The layout of `q` for a track of `duration_s` seconds.
    pub fn new(q: Quality, duration_s: u32) -> Self {
        let timescale = q.sample_rate();
        let (frame, frames_per_segment) = match q.codec() {
            AudioCodec::Mp3 => (MP3_FRAME_SAMPLES, MP3_FRAMES_PER_SEGMENT),
            AudioCodec::Flac => (flac_block_size(q) as u64, FLAC_BLOCKS_PER_SEGMENT),
        };
        let samples_per_segment = frame * frames_per_segment;
        let total = u64::from(duration_s) * u64::from(timescale);
        Self { timescale, samples_per_segment, frames_per_segment, count: total.div_ceil(samples_per_segment).max(1) }
    }
}

fn iso_duration(seconds: u32) -> String {
    format!("PT{seconds}S")
}

/// The MPD of a track for the given qualities (normally [`super::allowed_qualities`]).
///
/// Segment URLs are relative to the MPD: `{quality}/init.mp4` and `{quality}/$Number$.m4s` (quality as
/// [`Quality::slug`]); `query` (e.g. the signed `exp=…&sig=…`) is appended to each when given.
pub fn mpd(duration_s: u32, qualities: &[Quality], query: Option<&str>) -> String {
    let suffix = query.map(|q| format!("?{q}")).unwrap_or_default();
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let dur = iso_duration(duration_s);
    let min_buffer = "PT4S";
    let write = |w: &mut Writer<Vec<u8>>, e: Event<'_>| w.write_event(e).expect("writing to a Vec cannot fail");
    write(&mut w, Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let mut root = BytesStart::new("MPD");
    root.push_attribute(("xmlns", "urn:mpeg:dash:schema:mpd:2011"));
    root.push_attribute(("profiles", "urn:mpeg:dash:profile:isoff-live:2011"));
    root.push_attribute(("type", "static"));
    root.push_attribute(("mediaPresentationDuration", dur.as_str()));
    root.push_attribute(("minBufferTime", min_buffer));
    write(&mut w, Event::Start(root));
    let mut period = BytesStart::new("Period");
    period.push_attribute(("id", "0"));
    period.push_attribute(("start", "PT0S"));
    period.push_attribute(("duration", dur.as_str()));
    write(&mut w, Event::Start(period));
    let mut set = BytesStart::new("AdaptationSet");
    set.push_attribute(("id", "0"));
    set.push_attribute(("contentType", "audio"));
    set.push_attribute(("mimeType", SEGMENT_CONTENT_TYPE));
    set.push_attribute(("lang", "und"));
    set.push_attribute(("startWithSAP", "1"));
    write(&mut w, Event::Start(set));
    for &q in qualities {
        let layout = SegmentLayout::new(q, duration_s);
        let mut rep = BytesStart::new("Representation");
        let bandwidth = q.nominal_bandwidth().to_string();
        let rate = q.sample_rate().to_string();
        rep.push_attribute(("id", q.wire_name()));
        rep.push_attribute(("codecs", q.dash_codecs()));
        rep.push_attribute(("bandwidth", bandwidth.as_str()));
        rep.push_attribute(("audioSamplingRate", rate.as_str()));
        write(&mut w, Event::Start(rep));
        let mut acc = BytesStart::new("AudioChannelConfiguration");
        acc.push_attribute(("schemeIdUri", "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"));
        acc.push_attribute(("value", CHANNELS.to_string().as_str()));
        write(&mut w, Event::Empty(acc));
        let mut tpl = BytesStart::new("SegmentTemplate");
        let (init, media) = (format!("{}/init.mp4{suffix}", q.slug()), format!("{}/$Number$.m4s{suffix}", q.slug()));
        tpl.push_attribute(("timescale", layout.timescale.to_string().as_str()));
        tpl.push_attribute(("startNumber", "1"));
        tpl.push_attribute(("initialization", init.as_str()));
        tpl.push_attribute(("media", media.as_str()));
        write(&mut w, Event::Start(tpl));
        // An explicit timeline: players (ffmpeg among them) then know the exact count and the short last one.
        write(&mut w, Event::Start(BytesStart::new("SegmentTimeline")));
        let total = u64::from(duration_s) * u64::from(layout.timescale);
        let full = layout.count - 1;
        let last = total - full * layout.samples_per_segment;
        if full > 0 {
            let mut s = BytesStart::new("S");
            s.push_attribute(("t", "0"));
            s.push_attribute(("d", layout.samples_per_segment.to_string().as_str()));
            if full > 1 {
                s.push_attribute(("r", (full - 1).to_string().as_str()));
            }
            write(&mut w, Event::Empty(s));
        }
        let mut s = BytesStart::new("S");
        s.push_attribute(("t", (full * layout.samples_per_segment).to_string().as_str()));
        s.push_attribute(("d", last.to_string().as_str()));
        write(&mut w, Event::Empty(s));
        write(&mut w, Event::End(BytesEnd::new("SegmentTimeline")));
        write(&mut w, Event::End(BytesEnd::new("SegmentTemplate")));
        write(&mut w, Event::End(BytesEnd::new("Representation")));
    }
    write(&mut w, Event::End(BytesEnd::new("AdaptationSet")));
    write(&mut w, Event::End(BytesEnd::new("Period")));
    write(&mut w, Event::End(BytesEnd::new("MPD")));
    let mut s = String::from_utf8(w.into_inner()).expect("the writer emits UTF-8");
    let _ = writeln!(s);
    s
}

/// Writes one box into a buffer.
type BoxWriter<'a> = &'a dyn Fn(&mut Vec<u8>) -> mp4_atom::Result<()>;

fn encode_atoms(atoms: &[BoxWriter<'_>]) -> Vec<u8> {
    let mut buf = Vec::new();
    for a in atoms {
        a(&mut buf).expect("in-memory boxes encode");
    }
    buf
}

/// The fMP4 initialization segment (`ftyp` + `moov` with `mvex`) of `q`.
pub fn init_segment(q: Quality, duration_s: u32) -> Vec<u8> {
    let rate = q.sample_rate();
    let audio = Audio {
        data_reference_index: 1,
        channel_count: CHANNELS,
        sample_size: u16::from(q.bits()),
        sample_rate: if rate <= 0xFFFF { (rate as u16).into() } else { 0u16.into() },
    };
    let codec: Codec = match q.codec() {
        AudioCodec::Mp3 => Mp4a {
            audio,
            esds: Esds {
                es_desc: EsDescriptor {
                    es_id: 1,
                    dec_config: DecoderConfig {
                        object_type_indication: 0x6B,
                        stream_type: 5,
                        up_stream: 0,
                        buffer_size_db: 0u32.try_into().expect("fits u24"),
                        max_bitrate: SD_BITRATE,
                        avg_bitrate: SD_BITRATE,
                        dec_specific: None,
                    },
                    sl_config: SLConfig::default(),
                },
            },
            btrt: None,
            taic: None,
        }
        .into(),
        AudioCodec::Flac => {
            let bs = flac_block_size(q) as u16;
            Flac {
                audio,
                dfla: Dfla {
                    blocks: vec![FlacMetadataBlock::StreamInfo {
                        minimum_block_size: 16,
                        maximum_block_size: bs,
                        minimum_frame_size: 0u32.try_into().expect("fits u24"),
                        maximum_frame_size: 0u32.try_into().expect("fits u24"),
                        sample_rate: rate,
                        num_channels_minus_one: (CHANNELS - 1) as u8,
                        bits_per_sample_minus_one: q.bits() - 1,
                        number_of_interchannel_samples: u64::from(duration_s) * u64::from(rate),
                        md5_checksum: vec![0; 16],
                    }],
                },
            }
            .into()
        }
    };
    let ftyp = Ftyp {
        major_brand: b"iso6".into(),
        minor_version: 0,
        compatible_brands: vec![b"iso6".into(), b"dash".into(), b"cmfc".into()],
    };
    let moov = Moov {
        mvhd: Mvhd { timescale: rate, duration: 0, next_track_id: 2, ..Default::default() },
        mvex: Some(Mvex {
            mehd: None,
            trex: vec![Trex { track_id: 1, default_sample_description_index: 1, ..Default::default() }],
        }),
        trak: vec![Trak {
            tkhd: Tkhd { track_id: 1, enabled: true, in_movie: true, volume: 1.into(), ..Default::default() },
            mdia: Mdia {
                mdhd: Mdhd { timescale: rate, duration: 0, language: "und".into(), ..Default::default() },
                hdlr: Hdlr { handler: b"soun".into(), name: "SoundHandler".into() },
                minf: Minf {
                    smhd: Some(Smhd::default()),
                    dinf: Dinf { dref: Dref { urls: vec![Url { location: String::new() }] } },
                    stbl: Stbl {
                        stsd: Stsd { codecs: vec![codec] },
                        stts: Stts::default(),
                        stsc: Stsc::default(),
                        stsz: Stsz::default(),
                        stco: Some(Stco::default()),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            },
            ..Default::default()
        }],
        ..Default::default()
    };
    encode_atoms(&[&|b| ftyp.encode(b), &|b| moov.encode(b)])
}

/// A media segment (`styp` + `moof` + `mdat`) numbered `number` (from 1) whose first sample is at
/// `base_time` (media timescale), holding `data` made of frames of the given `(samples, bytes)` sizes.
pub fn media_segment(number: u64, base_time: u64, frames: &[(u32, u32)], data: Vec<u8>) -> Vec<u8> {
    let styp =
        Styp { major_brand: b"msdh".into(), minor_version: 0, compatible_brands: vec![b"msdh".into(), b"msix".into()] };
    let mut moof = Moof {
        mfhd: Mfhd { sequence_number: number as u32 },
        traf: vec![Traf {
            tfhd: Tfhd { track_id: 1, default_base_is_moof: true, ..Default::default() },
            tfdt: Some(Tfdt { base_media_decode_time: base_time }),
            trun: vec![Trun {
                data_offset: Some(0),
                entries: frames
                    .iter()
                    .map(|&(d, s)| TrunEntry { duration: Some(d), size: Some(s), ..Default::default() })
                    .collect(),
            }],
            ..Default::default()
        }],
    };
    let mut probe = Vec::new();
    moof.encode(&mut probe).expect("in-memory boxes encode");
    moof.traf[0].trun[0].data_offset = Some(probe.len() as i32 + 8);
    let mdat = Mdat { data };
    encode_atoms(&[&|b| styp.encode(b), &|b| moof.encode(b), &|b| mdat.encode(b)])
}
