//! Encoders: the tone of a track as MP3 (LAME, through `mp3lame-encoder`) or FLAC (`flacenc`), written in
//! chunks to a file, and FLAC frames for any block range (for DASH segments).
//!
//! Layout decisions that the DASH side relies on:
//! - FLAC uses a fixed block size that divides the 4-second segment exactly ([`flac_block_size`]), so the
//!   frames of a segment are the same frames as in the progressive file and segments encode independently.
//! - MP3 is CBR at [`SD_BITRATE`] with a LAME "Info" tag in the first frame (encoder delay and padding, so
//!   players trim to the exact sample count). DASH SD segments are groups of [`MP3_FRAMES_PER_SEGMENT`]
//!   frames cut from the progressive file; see [`mp3_frames`].

use std::io::{self, Read, Seek, SeekFrom, Write};

use flacenc::bitsink::MemSink;
use flacenc::component::{BitRepr, Stream};
use flacenc::error::Verify;
use flacenc::source::{Fill, FrameBuf};

use super::quality::{Codec, Quality, SD_BITRATE};
use super::signal::{CHANNELS, Tone};

/// Bumped whenever encoded bytes change; part of cache keys and ETags.
pub const ENCODER_VERSION: u32 = 1;

/// Samples per MP3 frame (MPEG-1 Layer III).
pub const MP3_FRAME_SAMPLES: u64 = 1152;
/// MP3 frames per DASH segment: 153 × 1152 = 176,256 samples ≈ 3.997 s at 44.1 kHz.
pub const MP3_FRAMES_PER_SEGMENT: u64 = 153;
/// FLAC blocks per 4-second DASH segment.
pub const FLAC_BLOCKS_PER_SEGMENT: u64 = 40;

/// The FLAC block size of a quality: a 40th of 4 s (4,410 at 44.1 kHz, 9,600 at 96 kHz).
pub fn flac_block_size(q: Quality) -> usize {
    (q.sample_rate() as usize * 4) / FLAC_BLOCKS_PER_SEGMENT as usize
}

fn io_err(e: impl std::fmt::Debug) -> io::Error {
    io::Error::other(format!("{e:?}"))
}

/// Writes the complete progressive file of a track's tone at `q`, returning its length in bytes.
///
/// # Errors
/// I/O errors of `out`, or an encoder error (as `io::ErrorKind::Other`).
pub fn encode_progressive<W: Write + Seek>(
    track_id: &str,
    duration_s: u32,
    q: Quality,
    out: &mut W,
) -> io::Result<u64> {
    match q.codec() {
        Codec::Mp3 => encode_mp3(track_id, duration_s, out),
        Codec::Flac => encode_flac(track_id, duration_s, q, out),
    }
}

fn encode_mp3<W: Write + Seek>(track_id: &str, duration_s: u32, out: &mut W) -> io::Result<u64> {
    use mp3lame_encoder::{Bitrate, Builder, FlushGap, InterleavedPcm, Quality as LameQuality};
    let q = Quality::Sd;
    let tone = Tone::for_track(track_id, q.sample_rate(), q.bits());
    let mut b = Builder::new().ok_or_else(|| io_err("lame_init failed"))?;
    b.set_num_channels(CHANNELS as u8).map_err(io_err)?;
    b.set_sample_rate(q.sample_rate()).map_err(io_err)?;
    b.set_brate(Bitrate::Kbps128).map_err(io_err)?;
    debug_assert_eq!(SD_BITRATE, 128_000);
    b.set_quality(LameQuality::Good).map_err(io_err)?;
    b.set_to_write_vbr_tag(true).map_err(io_err)?;
    let mut enc = b.build().map_err(io_err)?;

    let total = tone.total_samples(duration_s);
    const CHUNK: u64 = 11_025;
    let mut pcm32 = vec![0i32; CHUNK as usize * 2];
    let mut pcm16 = vec![0i16; CHUNK as usize * 2];
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK as usize * 5 / 4 + 7200);
    let mut written = 0u64;
    let mut pos = 0u64;
    while pos < total {
        let n = (total - pos).min(CHUNK) as usize;
        tone.fill_interleaved(pos, &mut pcm32[..n * 2]);
        for (d, s) in pcm16.iter_mut().zip(&pcm32[..n * 2]) {
            *d = *s as i16;
        }
        buf.clear();
        enc.encode_to_vec(InterleavedPcm(&pcm16[..n * 2]), &mut buf).map_err(io_err)?;
        out.write_all(&buf)?;
        written += buf.len() as u64;
        pos += n as u64;
    }
    buf.clear();
    enc.flush_to_vec::<FlushGap>(&mut buf).map_err(io_err)?;
    out.write_all(&buf)?;
    written += buf.len() as u64;
    // The LAME tag replaces the placeholder first frame.
    let mut tag: Vec<u8> = Vec::with_capacity(enc.lame_tag_size().max(1));
    if enc.lame_tag_encode_to_vec(&mut tag).is_some() {
        out.seek(SeekFrom::Start(0))?;
        out.write_all(&tag)?;
        out.seek(SeekFrom::End(0))?;
    }
    out.flush()?;
    Ok(written)
}

fn flac_config() -> io::Result<flacenc::error::Verified<flacenc::config::Encoder>> {
    flacenc::config::Encoder::default().into_verified().map_err(|(_, e)| io_err(e))
}

fn flac_header(q: Quality, total: u64) -> io::Result<Vec<u8>> {
    let mut stream = Stream::new(q.sample_rate() as usize, CHANNELS as usize, q.bits() as usize).map_err(io_err)?;
    let bs = flac_block_size(q);
    let last = (total % bs as u64) as usize;
    let min = if last == 0 { bs } else { last.min(bs) };
    stream.stream_info_mut().set_block_sizes(min.max(16).min(bs), bs).map_err(io_err)?;
    stream.stream_info_mut().set_total_samples(total as usize);
    let mut sink = MemSink::<u8>::new();
    stream.write(&mut sink).map_err(io_err)?;
    Ok(sink.into_inner())
}

/// Encodes FLAC frames `first..end` (frame numbers, fixed block size) of a track's tone, appending each
/// frame's bytes to `out` and calling `on_frame(samples_in_frame, frame_bytes_len)`.
///
/// # Errors
/// An encoder error.
pub fn encode_flac_frames(
    track_id: &str,
    duration_s: u32,
    q: Quality,
    frames: std::ops::Range<u64>,
    out: &mut Vec<u8>,
    mut on_frame: impl FnMut(u32, u32),
) -> io::Result<()> {
    let tone = Tone::for_track(track_id, q.sample_rate(), q.bits());
    let total = tone.total_samples(duration_s);
    let bs = flac_block_size(q) as u64;
    let cfg = flac_config()?;
    let stream = Stream::new(q.sample_rate() as usize, CHANNELS as usize, q.bits() as usize).map_err(io_err)?;
    let mut pcm = vec![0i32; bs as usize * 2];
    let mut fb = FrameBuf::with_size(CHANNELS as usize, bs as usize).map_err(io_err)?;
    let mut sink = MemSink::<u8>::new();
    for f in frames {
        let start = f * bs;
        if start >= total {
            break;
        }
        let n = (total - start).min(bs) as usize;
        if n != fb.size() {
            fb = FrameBuf::with_size(CHANNELS as usize, n).map_err(io_err)?;
        }
        tone.fill_interleaved(start, &mut pcm[..n * 2]);
        fb.fill_interleaved(&pcm[..n * 2]).map_err(io_err)?;
        let frame = flacenc::encode_fixed_size_frame(&cfg, &fb, f as usize, stream.stream_info()).map_err(io_err)?;
        sink.clear();
        frame.write(&mut sink).map_err(io_err)?;
        out.extend_from_slice(sink.as_slice());
        on_frame(n as u32, sink.as_slice().len() as u32);
    }
    Ok(())
}

fn encode_flac<W: Write>(track_id: &str, duration_s: u32, q: Quality, out: &mut W) -> io::Result<u64> {
    let total = u64::from(duration_s) * u64::from(q.sample_rate());
    let header = flac_header(q, total)?;
    out.write_all(&header)?;
    let mut written = header.len() as u64;
    let bs = flac_block_size(q) as u64;
    let frames = total.div_ceil(bs);
    let mut buf = Vec::new();
    let mut f = 0;
    while f < frames {
        let end = (f + FLAC_BLOCKS_PER_SEGMENT).min(frames);
        buf.clear();
        encode_flac_frames(track_id, duration_s, q, f..end, &mut buf, |_, _| {})?;
        out.write_all(&buf)?;
        written += buf.len() as u64;
        f = end;
    }
    out.flush()?;
    Ok(written)
}

/// The audio frames of a CBR MP3 file as `(offset, length)`, skipping a leading Xing/Info tag frame.
/// Reads only the 4-byte frame headers (and the tag frame's start).
///
/// # Errors
/// I/O errors, or bytes that are not MPEG-1 Layer III frames.
pub fn mp3_frames<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Vec<(u64, u32)>> {
    const KBPS: [u32; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
    const RATES: [u32; 3] = [44_100, 48_000, 32_000];
    let mut frames = Vec::new();
    let mut pos = 0u64;
    let mut head = [0u8; 40];
    while pos + 4 <= len {
        r.seek(SeekFrom::Start(pos))?;
        let n = (len - pos).min(head.len() as u64) as usize;
        r.read_exact(&mut head[..n])?;
        let h = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let sync = h >> 21 == 0x7FF;
        let mpeg1_l3 = (h >> 19) & 3 == 3 && (h >> 17) & 3 == 1;
        let (bi, si) = (((h >> 12) & 0xF) as usize, ((h >> 10) & 3) as usize);
        if !sync || !mpeg1_l3 || bi == 0 || bi == 15 || si == 3 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("no MP3 frame at byte {pos}")));
        }
        let padding = (h >> 9) & 1;
        let size = 144 * KBPS[bi] * 1000 / RATES[si] + padding;
        let is_tag = frames.is_empty() && pos == 0 && n >= 40 && (&head[36..40] == b"Info" || &head[36..40] == b"Xing");
        if !is_tag {
            frames.push((pos, size));
        }
        pos += u64::from(size);
    }
    Ok(frames)
}
