//! `expect.audio`: decode a body with Symphonia, measure it, compare with the expectation.
//!
//! [`analyse`] is the heavy part (demux, decode every packet, one FFT): it blocks, so the runner calls it
//! through `spawn_blocking`. It keeps only the facts and a one-second window of samples, never the
//! decoded track. [`resolve`] turns the expectation's numbers (which may be `{{…}}` templates) into
//! values, and [`compare`] lists what differs. No HTTP here.

use std::fmt;
use std::io::Cursor;

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{CheckError, Mismatch, number, number_text as num};
use crate::scenario::interp::Vars;
use crate::scenario::model::{AudioExpect, DEFAULT_DURATION_TOLERANCE_S, DEFAULT_FREQUENCY_TOLERANCE_HZ};

/// Frequencies below this are not considered for the dominant one (DC and rumble).
const MIN_HZ: f64 = 20.0;
/// The analysis window, seconds.
const WINDOW_S: f64 = 1.0;
/// Fewer samples than this cannot be measured meaningfully.
const MIN_WINDOW: usize = 2048;

/// What the decoder found.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioFacts {
    /// Symphonia's short codec name (`mp3`, `flac`, `aac`, `pcm_s16le`, …).
    pub codec: String,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u32,
    /// Bits per sample as the stream states it; `None` for codecs that state none (MP3, AAC).
    pub bits_per_sample: Option<u32>,
    /// Sample frames out of the decoder (after gapless trimming).
    pub frames: u64,
    /// The dominant frequency, when it was asked for and could be measured.
    pub dominant_hz: Option<f64>,
    /// Why the frequency could not be measured, when it was asked for.
    pub frequency_note: Option<String>,
    /// Packets the decoder refused (skipped, as a player would), and the first reason.
    pub bad_packets: u64,
    /// The first decoder error.
    pub first_error: Option<String>,
}

impl AudioFacts {
    /// The decoded duration, seconds.
    pub fn seconds(&self) -> f64 {
        if self.sample_rate == 0 { 0.0 } else { self.frames as f64 / f64::from(self.sample_rate) }
    }
}

impl fmt::Display for AudioFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {} Hz, {} channels", self.codec, self.sample_rate, self.channels)?;
        if let Some(b) = self.bits_per_sample {
            write!(f, ", {b}-bit")?;
        }
        write!(f, ", {:.3} s", self.seconds())?;
        if let Some(hz) = self.dominant_hz {
            write!(f, ", dominant {hz:.1} Hz")?;
        }
        Ok(())
    }
}

/// A container hint (a file extension) from the answer's `Content-Type` or URL path; Symphonia also
/// probes the bytes, so a missing or wrong hint costs nothing but a guess.
pub fn hint_for(content_type: Option<&str>, url: &str) -> Option<&'static str> {
    let ct = content_type.unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let by_type = match ct.as_str() {
        "audio/mpeg" | "audio/mp3" => Some("mp3"),
        "audio/flac" | "audio/x-flac" => Some("flac"),
        "audio/mp4" | "audio/m4a" | "audio/x-m4a" | "audio/aac" | "video/mp4" => Some("mp4"),
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => Some("wav"),
        _ => None,
    };
    by_type.or_else(|| {
        let path = url.split(['?', '#']).next().unwrap_or("");
        let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        match ext.as_str() {
            "mp3" => Some("mp3"),
            "flac" => Some("flac"),
            "mp4" | "m4a" | "m4s" | "aac" => Some("mp4"),
            "wav" => Some("wav"),
            _ => None,
        }
    })
}

/// The codec names `audio.codec` may use: those of the decoders this build has, and `pcm`.
pub fn known_codecs() -> Vec<&'static str> {
    use symphonia::core::codecs;
    let registry = symphonia::default::get_codecs();
    let mut names: Vec<&'static str> = [
        codecs::CODEC_TYPE_PCM_S32LE,
        codecs::CODEC_TYPE_PCM_S32BE,
        codecs::CODEC_TYPE_PCM_S24LE,
        codecs::CODEC_TYPE_PCM_S24BE,
        codecs::CODEC_TYPE_PCM_S16LE,
        codecs::CODEC_TYPE_PCM_S16BE,
        codecs::CODEC_TYPE_PCM_S8,
        codecs::CODEC_TYPE_PCM_U32LE,
        codecs::CODEC_TYPE_PCM_U32BE,
        codecs::CODEC_TYPE_PCM_U24LE,
        codecs::CODEC_TYPE_PCM_U24BE,
        codecs::CODEC_TYPE_PCM_U16LE,
        codecs::CODEC_TYPE_PCM_U16BE,
        codecs::CODEC_TYPE_PCM_U8,
        codecs::CODEC_TYPE_PCM_F32LE,
        codecs::CODEC_TYPE_PCM_F32BE,
        codecs::CODEC_TYPE_PCM_F64LE,
        codecs::CODEC_TYPE_PCM_F64BE,
        codecs::CODEC_TYPE_PCM_ALAW,
        codecs::CODEC_TYPE_PCM_MULAW,
        codecs::CODEC_TYPE_ADPCM_MS,
        codecs::CODEC_TYPE_ADPCM_IMA_WAV,
        codecs::CODEC_TYPE_VORBIS,
        codecs::CODEC_TYPE_MP1,
        codecs::CODEC_TYPE_MP2,
        codecs::CODEC_TYPE_MP3,
        codecs::CODEC_TYPE_AAC,
        codecs::CODEC_TYPE_OPUS,
        codecs::CODEC_TYPE_FLAC,
        codecs::CODEC_TYPE_ALAC,
    ]
    .into_iter()
    .filter_map(|c| registry.get_codec(c).map(|d| d.short_name))
    .collect();
    names.push("pcm");
    names.sort_unstable();
    names.dedup();
    names
}

/// Decodes `bytes` to the end and measures them; with `frequency`, also the dominant frequency.
/// Blocking and CPU-heavy: run it on a blocking thread.
///
/// # Errors
/// Why the bytes are not audio Symphonia can decode: the probe found no format, there is no audio
/// track, the codec is not supported, or the demuxer failed.
pub fn analyse<B>(bytes: B, hint: Option<&str>, frequency: bool) -> Result<AudioFacts, String>
where
    B: AsRef<[u8]> + Send + Sync + 'static,
{
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes)), MediaSourceStreamOptions::default());
    let mut h = Hint::new();
    if let Some(ext) = hint {
        h.with_extension(ext);
    }
    let opts = FormatOptions { enable_gapless: true, ..FormatOptions::default() };
    let probed = symphonia::default::get_probe()
        .format(&h, mss, &opts, &MetadataOptions::default())
        .map_err(|e| format!("no audio format recognised: {e}"))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| "no audio track".to_owned())?
        .clone();
    let params = &track.codec_params;
    let codecs = symphonia::default::get_codecs();
    let codec = codecs.get_codec(params.codec).map_or_else(|| format!("{:?}", params.codec), |d| d.short_name.into());
    let mut decoder =
        codecs.make(params, &DecoderOptions::default()).map_err(|e| format!("{codec}: no decoder: {e}"))?;
    let mut facts = AudioFacts {
        codec,
        sample_rate: params.sample_rate.unwrap_or(0),
        channels: params.channels.map_or(0, |c| c.count() as u32),
        bits_per_sample: params.bits_per_sample,
        frames: 0,
        dominant_hz: None,
        frequency_note: None,
        bad_packets: 0,
        first_error: None,
    };
    let mut window = Window::new(frequency, params.n_frames, facts.sample_rate);
    let mut samples: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(format!("demuxing failed after {} frames: {e}", facts.frames)),
        };
        if packet.track_id() != track.id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buf) => {
                let spec = *buf.spec();
                facts.sample_rate = spec.rate;
                facts.channels = spec.channels.count() as u32;
                let frames = buf.frames();
                if frames == 0 {
                    continue;
                }
                facts.frames += frames as u64;
                if window.wanted() {
                    let sb = match &mut samples {
                        Some(sb) if sb.capacity() >= buf.capacity() * spec.channels.count() => sb,
                        _ => samples.insert(SampleBuffer::new(buf.capacity() as u64, spec)),
                    };
                    sb.copy_interleaved_ref(buf);
                    window.push(sb.samples(), spec.channels.count(), spec.rate);
                }
            }
            Err(SymphoniaError::DecodeError(e)) => {
                facts.bad_packets += 1;
                facts.first_error.get_or_insert_with(|| e.to_owned());
            }
            Err(e) => return Err(format!("decoding failed after {} frames: {e}", facts.frames)),
        }
    }
    if frequency {
        match dominant_frequency(&window.finish(facts.sample_rate), facts.sample_rate) {
            Ok(hz) => facts.dominant_hz = Some(hz),
            Err(why) => facts.frequency_note = Some(why),
        }
    }
    Ok(facts)
}

/// The one-second mono window the frequency is measured on: from the middle when the length is known
/// up front, else from half a second in (or the end of a shorter track).
struct Window {
    wanted: bool,
    /// Sample frames to pass over first, when the length is known.
    skip: Option<u64>,
    seen: u64,
    samples: Vec<f32>,
}

impl Window {
    fn new(wanted: bool, n_frames: Option<u64>, rate: u32) -> Self {
        let skip = n_frames.map(|n| n.saturating_sub(Self::len(rate) as u64) / 2);
        Window { wanted, skip, seen: 0, samples: Vec::new() }
    }

    fn len(rate: u32) -> usize {
        (f64::from(rate.max(1)) * WINDOW_S) as usize
    }

    fn wanted(&self) -> bool {
        self.wanted
    }

    /// Takes interleaved samples; keeps what the window may need (at most `skip + len`, or `len`).
    fn push(&mut self, interleaved: &[f32], channels: usize, rate: u32) {
        let len = Self::len(rate);
        let (from, keep) = match self.skip {
            Some(skip) => (skip, len as u64),
            None => (0, u64::from(rate) / 2 + len as u64),
        };
        for frame in interleaved.chunks_exact(channels.max(1)) {
            let n = self.seen;
            self.seen += 1;
            if n >= from && n < from + keep {
                self.samples.push(frame.iter().sum::<f32>() / channels as f32);
            }
        }
    }

    /// The window: the last second of what was kept.
    fn finish(mut self, rate: u32) -> Vec<f32> {
        let len = Self::len(rate);
        if self.samples.len() > len {
            self.samples.drain(..self.samples.len() - len);
        }
        self.samples
    }
}

/// The strongest frequency above 20 Hz: a Hann-windowed FFT (rustfft) of the window, the peak bin refined
/// by parabolic interpolation of the log magnitudes of its neighbours.
///
/// # Errors
/// The window is too short or silent.
pub fn dominant_frequency(samples: &[f32], rate: u32) -> Result<f64, String> {
    let n = samples.len();
    if n < MIN_WINDOW || rate == 0 {
        return Err(format!("too little audio to measure ({n} samples)"));
    }
    let hann = |i: usize| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / (n - 1) as f64).cos();
    let mut buf: Vec<Complex<f64>> =
        samples.iter().enumerate().map(|(i, &x)| Complex::new(f64::from(x) * hann(i), 0.0)).collect();
    FftPlanner::<f64>::new().plan_fft_forward(n).process(&mut buf);
    let bin_hz = f64::from(rate) / n as f64;
    let first = ((MIN_HZ / bin_hz).ceil() as usize).max(1);
    let last = n / 2 - 1;
    let (peak, magnitude) = (first..last)
        .map(|k| (k, buf[k].norm()))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .ok_or_else(|| "too little audio to measure".to_owned())?;
    // A full-scale sine gives about n/4 at its peak; a thousandth of a percent of that is silence.
    if magnitude < n as f64 * 1e-5 {
        return Err("silence".into());
    }
    let ln = |k: usize| buf[k].norm().max(f64::MIN_POSITIVE).ln();
    let (a, b, c) = (ln(peak - 1), ln(peak), ln(peak + 1));
    let denom = a - 2.0 * b + c;
    let delta = if denom.abs() > f64::EPSILON { 0.5 * (a - c) / denom } else { 0.0 };
    Ok((peak as f64 + delta.clamp(-0.5, 0.5)) * bin_hz)
}

/// An audio expectation with its numbers resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AudioTargets {
    /// Codec short name, or `pcm` for any PCM.
    pub codec: Option<String>,
    /// Sample rate.
    pub sample_rate: Option<f64>,
    /// Channels.
    pub channels: Option<f64>,
    /// Bits per sample.
    pub bits_per_sample: Option<f64>,
    /// (seconds, tolerance).
    pub duration: Option<(f64, f64)>,
    /// (Hz, tolerance).
    pub frequency: Option<(f64, f64)>,
}

/// Interpolates an audio expectation's numbers and codec.
///
/// # Errors
/// A variable without a value, or one that is not a number.
pub fn resolve(e: &AudioExpect, vars: &Vars) -> Result<AudioTargets, CheckError> {
    let opt =
        |n: &Option<crate::scenario::model::Number>, what: &str| n.as_ref().map(|n| number(n, vars, what)).transpose();
    Ok(AudioTargets {
        codec: e.codec.as_ref().map(|c| vars.text(c)).transpose()?,
        sample_rate: opt(&e.sample_rate, "audio sample_rate")?,
        channels: opt(&e.channels, "audio channels")?,
        bits_per_sample: opt(&e.bits_per_sample, "audio bits_per_sample")?,
        duration: match &e.duration {
            Some(d) => Some((
                number(&d.seconds, vars, "audio duration seconds")?,
                opt(&d.tolerance, "audio duration tolerance")?.unwrap_or(DEFAULT_DURATION_TOLERANCE_S),
            )),
            None => None,
        },
        frequency: match &e.frequency {
            Some(f) => Some((
                number(&f.hz, vars, "audio frequency hz")?,
                opt(&f.tolerance, "audio frequency tolerance")?.unwrap_or(DEFAULT_FREQUENCY_TOLERANCE_HZ),
            )),
            None => None,
        },
    })
}

/// What differs between the targets and the facts; each check named `{prefix} codec`, `{prefix}
/// sample_rate`, … (`audio`, or `dash fetch UHD: audio`).
pub fn compare(t: &AudioTargets, f: &AudioFacts, prefix: &str) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if let Some(c) = &t.codec {
        let ok = f.codec.eq_ignore_ascii_case(c) || (c.eq_ignore_ascii_case("pcm") && f.codec.starts_with("pcm_"));
        if !ok {
            out.push(Mismatch::new(format!("{prefix} codec"), format!("{c:?}"), format!("{:?}", f.codec)));
        }
    }
    if let Some(r) = t.sample_rate.filter(|r| *r != f64::from(f.sample_rate)) {
        out.push(Mismatch::new(
            format!("{prefix} sample_rate"),
            format!("{} Hz", num(r)),
            format!("{} Hz", f.sample_rate),
        ));
    }
    if let Some(c) = t.channels.filter(|c| *c != f64::from(f.channels)) {
        out.push(Mismatch::new(format!("{prefix} channels"), num(c), f.channels.to_string()));
    }
    if let Some(b) = t.bits_per_sample {
        match f.bits_per_sample {
            Some(got) if f64::from(got) == b => {}
            Some(got) => out.push(Mismatch::new(format!("{prefix} bits_per_sample"), num(b), got.to_string())),
            None => out.push(Mismatch::new(
                format!("{prefix} bits_per_sample"),
                num(b),
                format!("none stated by the {} stream", f.codec),
            )),
        }
    }
    if let Some((s, tol)) = t.duration {
        let got = f.seconds();
        if (got - s).abs() > tol {
            out.push(Mismatch::new(
                format!("{prefix} duration"),
                format!("{} s ± {}", num(s), num(tol)),
                format!("{got:.3} s ({} frames at {} Hz)", f.frames, f.sample_rate),
            ));
        }
    }
    if let Some((hz, tol)) = t.frequency {
        match f.dominant_hz {
            Some(got) if (got - hz).abs() <= tol => {}
            Some(got) => out.push(Mismatch::new(
                format!("{prefix} frequency"),
                format!("{} Hz ± {}", num(hz), num(tol)),
                format!("{got:.1} Hz"),
            )),
            None => out.push(Mismatch::new(
                format!("{prefix} frequency"),
                format!("{} Hz ± {}", num(hz), num(tol)),
                f.frequency_note.clone().unwrap_or_else(|| "not measured".into()),
            )),
        }
    }
    if f.bad_packets > 0 {
        out.push(Mismatch::new(
            format!("{prefix} (decode)"),
            "every packet decodes",
            format!("{} packets refused, the first: {}", f.bad_packets, f.first_error.as_deref().unwrap_or("?")),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(hz: f64, rate: u32, n: usize) -> Vec<f32> {
        (0..n).map(|i| (0.5 * (std::f64::consts::TAU * hz * i as f64 / f64::from(rate)).sin()) as f32).collect()
    }

    #[test]
    fn the_dominant_frequency_of_a_sine_is_found_within_a_tenth_of_a_hertz() {
        for (hz, rate) in [(440.0, 44_100), (1234.5, 96_000), (221.3, 48_000), (1759.9, 44_100)] {
            let got = dominant_frequency(&sine(hz, rate, rate as usize), rate).unwrap();
            assert!((got - hz).abs() < 0.1, "{hz} Hz at {rate}: measured {got}");
        }
    }

    #[test]
    fn silence_and_short_windows_are_not_measured() {
        assert_eq!(dominant_frequency(&vec![0.0; 44_100], 44_100), Err("silence".into()));
        assert!(dominant_frequency(&[0.1; 100], 44_100).unwrap_err().contains("too little"));
    }

    #[test]
    fn hints_come_from_the_content_type_then_the_path() {
        assert_eq!(hint_for(Some("audio/flac"), "http://h/x"), Some("flac"));
        assert_eq!(hint_for(Some("application/octet-stream"), "http://h/a/1.m4s?sig=x.mp3"), Some("mp4"));
        assert_eq!(hint_for(None, "http://h/a/b.MP3"), Some("mp3"));
        assert_eq!(hint_for(None, "http://h/a/b"), None);
    }

    #[test]
    fn comparisons_name_each_difference() {
        let f = AudioFacts {
            codec: "pcm_s16le".into(),
            sample_rate: 48_000,
            channels: 2,
            bits_per_sample: Some(16),
            frames: 48_000 * 3,
            dominant_hz: Some(1000.04),
            frequency_note: None,
            bad_packets: 0,
            first_error: None,
        };
        let ok = AudioTargets {
            codec: Some("pcm".into()),
            sample_rate: Some(48_000.0),
            channels: Some(2.0),
            bits_per_sample: Some(16.0),
            duration: Some((3.05, 0.1)),
            frequency: Some((1000.0, 2.0)),
        };
        assert_eq!(compare(&ok, &f, "audio"), vec![]);
        let wrong = AudioTargets {
            codec: Some("flac".into()),
            sample_rate: Some(44_100.0),
            duration: Some((2.0, 0.1)),
            frequency: Some((440.0, 2.0)),
            ..AudioTargets::default()
        };
        let found: Vec<(String, String, String)> =
            compare(&wrong, &f, "audio").into_iter().map(|m| (m.check, m.expected, m.actual)).collect();
        assert_eq!(
            found,
            [
                ("audio codec".into(), "\"flac\"".into(), "\"pcm_s16le\"".into()),
                ("audio sample_rate".into(), "44100 Hz".into(), "48000 Hz".into()),
                ("audio duration".into(), "2 s ± 0.1".into(), "3.000 s (144000 frames at 48000 Hz)".into()),
                ("audio frequency".into(), "440 Hz ± 2".into(), "1000.0 Hz".into()),
            ]
        );
    }
}
