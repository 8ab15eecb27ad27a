//! The deterministic test signal: one sine tone per track, its frequency derived from the track id.

use sha2::{Digest, Sha256};

/// Lowest tone frequency, Hz.
pub const MIN_HZ: f32 = 220.0;
/// Highest tone frequency, Hz (three octaves above [`MIN_HZ`]).
pub const MAX_HZ: f32 = 1760.0;
/// Peak amplitude as a fraction of full scale (-6 dBFS), far from clipping after lossy coding.
const AMPLITUDE: f64 = 0.5;

/// The tone frequency that identifies a track: 220–1760 Hz, spread log-uniformly by a SHA-256 of the id and
/// rounded to 0.1 Hz. Two ids land on the same frequency rarely (15,400 slots); a test tells tracks apart by
/// measuring the dominant frequency of the decoded audio.
pub fn tone_hz(track_id: &str) -> f32 {
    let digest = Sha256::digest(track_id.as_bytes());
    let mut word = [0u8; 8];
    word.copy_from_slice(&digest[..8]);
    let u = u64::from_be_bytes(word) as f64 / (u64::MAX as f64 + 1.0);
    let hz = f64::from(MIN_HZ) * 8f64.powf(u);
    ((hz * 10.0).round() / 10.0) as f32
}

/// A stereo sine tone at a fixed sample rate and bit depth: sample `n` depends only on `n`, so any slice of a
/// track (a segment, a chunk) can be generated on its own and matches the whole.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tone {
    /// Frequency, Hz.
    pub hz: f32,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Bits per sample (16 or 24).
    pub bits: u8,
}

/// Channels of every rendition: stereo, both channels carrying the tone.
pub const CHANNELS: u16 = 2;

impl Tone {
    /// The tone of `track_id` at this rate and depth.
    pub fn for_track(track_id: &str, sample_rate: u32, bits: u8) -> Self {
        Self { hz: tone_hz(track_id), sample_rate, bits }
    }

    /// The exact number of sample frames (per channel) of `duration_s` seconds.
    pub fn total_samples(&self, duration_s: u32) -> u64 {
        u64::from(duration_s) * u64::from(self.sample_rate)
    }

    /// Sample `n` (one channel), as a signed integer at the tone's bit depth.
    pub fn sample(&self, n: u64) -> i32 {
        let full = f64::from((1u32 << (self.bits - 1)) - 1);
        // Reduce the phase with integer arithmetic first so that precision does not decay along the track.
        let hz = f64::from(self.hz);
        let rate = u64::from(self.sample_rate);
        let cycles = (n % rate) as f64 * hz / rate as f64 + ((n / rate) as f64 * hz).fract();
        let phase = std::f64::consts::TAU * cycles.fract();
        (AMPLITUDE * full * phase.sin()).round() as i32
    }

    /// Fills `out` with interleaved stereo samples starting at sample frame `start`; `out.len()` must be even.
    pub fn fill_interleaved(&self, start: u64, out: &mut [i32]) {
        for (i, pair) in out.chunks_exact_mut(usize::from(CHANNELS)).enumerate() {
            let s = self.sample(start + i as u64);
            pair.fill(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_is_stable_in_range_and_distinct() {
        let a = tone_hz("B000000001");
        assert_eq!(a, tone_hz("B000000001"));
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..200 {
            let hz = tone_hz(&format!("B{i:09}"));
            assert!((MIN_HZ..=MAX_HZ).contains(&hz), "{hz}");
            seen.insert((hz * 10.0) as u32);
        }
        assert!(seen.len() > 190, "only {} distinct tones", seen.len());
    }

    #[test]
    fn slices_match_the_whole_and_sample_count_is_exact() {
        let t = Tone::for_track("B0TESTTONE", 44_100, 16);
        assert_eq!(t.total_samples(7), 308_700);
        let mut whole = vec![0; 2 * 1000];
        t.fill_interleaved(0, &mut whole);
        let mut part = vec![0; 2 * 300];
        t.fill_interleaved(700, &mut part);
        assert_eq!(&whole[1400..], &part[..]);
        assert!(whole.iter().all(|&s| s.abs() <= 16_384));
        assert_eq!(whole[0], 0);
    }
}
