//! The on-disk cache of encoded files (progressive files, init and media segments), bounded in bytes with
//! least-recently-used eviction. Encoding runs on a blocking thread; concurrent requests for the same file
//! wait for one encode. A [`CachedFile`] holds an open handle, so an eviction never breaks a response that
//! is being streamed (the file's blocks are freed when the last handle closes).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};

use super::TrackAudio;
use super::dash::{SEGMENT_CONTENT_TYPE, SegmentLayout, init_segment, media_segment};
use super::encode::{ENCODER_VERSION, MP3_FRAME_SAMPLES, encode_flac_frames, encode_progressive, mp3_frames};
use super::quality::{Codec, Quality};

/// Default bound of the cache, bytes (1 GiB).
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// An encoded file ready to serve: one open handle per [`StreamCache`] call, so one per request. Not `Clone`:
/// the readers of [`CachedFile::open_range`] share the handle's file offset, so use them one after another
/// (as a multipart body does), and take another `CachedFile` from the cache for another request.
#[derive(Debug)]
pub struct CachedFile {
    /// Where it lives (may be evicted later; use [`CachedFile::open_range`], which reads the held handle).
    pub path: PathBuf,
    /// Length in bytes, for `Content-Length` and range planning.
    pub len: u64,
    /// Strong `ETag`, quoted.
    pub etag: String,
    /// `Content-Type`.
    pub content_type: &'static str,
    file: Arc<File>,
}

impl CachedFile {
    /// An async reader of bytes `start..=end` of the file, for streaming a body in chunks (e.g. with
    /// `tokio_util::io::ReaderStream`); memory stays at the caller's chunk size.
    ///
    /// # Errors
    /// I/O errors duplicating or seeking the handle.
    pub async fn open_range(&self, start: u64, end: u64) -> io::Result<impl AsyncRead + Send + Unpin + 'static> {
        let mut f = tokio::fs::File::from_std(self.file.try_clone()?);
        f.seek(SeekFrom::Start(start)).await?;
        Ok(f.take(end.saturating_sub(start) + 1))
    }

    /// Reads bytes `start..start+buf.len()` (blocking; for tests and blocking callers).
    ///
    /// # Errors
    /// I/O errors.
    pub fn read_at(&self, start: u64, buf: &mut [u8]) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.file.read_exact_at(buf, start)
    }
}

#[derive(Default)]
struct State {
    entries: HashMap<String, (u64, u64)>, // key → (len, last use tick)
    total: u64,
    tick: u64,
}

/// The cache. Share it in an `Arc`.
pub struct StreamCache {
    dir: PathBuf,
    max_bytes: u64,
    state: Mutex<State>,
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

fn etag_of(key: &str) -> String {
    let d = Sha256::digest(key.as_bytes());
    let hex: String = d[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Age after which an unfinished temporary file is a leftover of a crashed run rather than another
/// process's encode in progress (encodes write continuously and take seconds).
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(15 * 60);

impl StreamCache {
    /// A cache in `dir` (created if missing) holding at most `max_bytes`. Files left by an earlier run in
    /// the same directory are adopted (oldest first in the LRU order); unfinished temporary files untouched for
    /// 15 minutes are removed (younger ones may be another process's encode in progress).
    ///
    /// # Errors
    /// The directory cannot be created or listed.
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        let mut found = Vec::new();
        for e in fs::read_dir(&dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let meta = e.metadata()?;
            if name.contains(".tmp-") {
                // Another process sharing the directory may be writing it right now: only a file nobody has
                // written for a while is a leftover of a crashed run.
                let stale = meta.modified().ok().and_then(crate::clock::real_age).is_some_and(|age| age > STALE_TMP);
                if stale {
                    let _ = fs::remove_file(e.path());
                }
            } else if meta.is_file() {
                found.push((meta.modified().ok(), name, meta.len()));
            }
        }
        found.sort();
        let mut state = State::default();
        for (_, name, len) in found {
            state.tick += 1;
            state.total += len;
            state.entries.insert(name, (len, state.tick));
        }
        let cache = Self { dir, max_bytes, state: Mutex::new(state), inflight: Mutex::default() };
        cache.evict(None);
        Ok(cache)
    }

    /// A cache under the system temporary directory (`amazon-music-mock-stream/`), bounded by
    /// [`DEFAULT_MAX_BYTES`].
    ///
    /// # Errors
    /// As [`StreamCache::new`].
    pub fn in_temp_dir() -> io::Result<Self> {
        Self::new(std::env::temp_dir().join("amazon-music-mock-stream"), DEFAULT_MAX_BYTES)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes currently held.
    pub fn total_bytes(&self) -> u64 {
        self.state.lock().expect("cache lock").total
    }

    fn base_key(track: &TrackAudio, q: Quality) -> String {
        format!("{}-{}s-{}-v{ENCODER_VERSION}", track.id, track.duration_s, q.slug())
    }

    /// The progressive file of `track` at `q`, encoding it on first use.
    ///
    /// # Errors
    /// Encoder or I/O errors.
    pub async fn get_or_encode(&self, track: &TrackAudio, q: Quality) -> io::Result<CachedFile> {
        let key = format!("{}.{}", Self::base_key(track, q), q.extension());
        let (id, dur) = (track.id.clone(), track.duration_s);
        self.get_or_create(key, q.content_type(), move |out| {
            let mut w = BufWriter::with_capacity(64 * 1024, out);
            encode_progressive(&id, dur, q, &mut w)?;
            w.flush()
        })
        .await
    }

    /// The DASH initialization segment of `track` at `q`.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn dash_init(&self, track: &TrackAudio, q: Quality) -> io::Result<CachedFile> {
        let key = format!("{}.init.mp4", Self::base_key(track, q));
        let dur = track.duration_s;
        self.get_or_create(key, SEGMENT_CONTENT_TYPE, move |out| out.write_all(&init_segment(q, dur))).await
    }

    /// DASH media segment `number` (from 1) of `track` at `q`; `Ok(None)` past the last segment (404).
    /// FLAC segments are encoded on their own; SD segments are cut from the progressive MP3.
    ///
    /// # Errors
    /// Encoder or I/O errors.
    pub async fn dash_segment(&self, track: &TrackAudio, q: Quality, number: u64) -> io::Result<Option<CachedFile>> {
        let layout = SegmentLayout::new(q, track.duration_s);
        if number == 0 || number > layout.count {
            return Ok(None);
        }
        let key = format!("{}.{number}.m4s", Self::base_key(track, q));
        let base = (number - 1) * layout.samples_per_segment;
        let first_frame = (number - 1) * layout.frames_per_segment;
        let file = match q.codec() {
            Codec::Flac => {
                let (id, dur) = (track.id.clone(), track.duration_s);
                let frames = first_frame..first_frame + layout.frames_per_segment;
                self.get_or_create(key, SEGMENT_CONTENT_TYPE, move |out| {
                    let mut data = Vec::new();
                    let mut sizes = Vec::new();
                    encode_flac_frames(&id, dur, q, frames, &mut data, |d, s| sizes.push((d, s)))?;
                    out.write_all(&media_segment(number, base, &sizes, data))
                })
                .await?
            }
            Codec::Mp3 => {
                let mp3 = self.get_or_encode(track, q).await?;
                let last = number == layout.count;
                self.get_or_create(key, SEGMENT_CONTENT_TYPE, move |out| {
                    let mut f = mp3.file.try_clone()?;
                    let all = mp3_frames(&mut f, mp3.len)?;
                    let from = (first_frame as usize).min(all.len());
                    let to = if last { all.len() } else { (from + layout.frames_per_segment as usize).min(all.len()) };
                    let frames = &all[from..to];
                    let mut data = vec![0u8; frames.iter().map(|f| f.1 as usize).sum()];
                    if let (Some(first), false) = (frames.first(), data.is_empty()) {
                        mp3.read_at(first.0, &mut data)?;
                    }
                    let sizes: Vec<(u32, u32)> = frames.iter().map(|f| (MP3_FRAME_SAMPLES as u32, f.1)).collect();
                    out.write_all(&media_segment(number, base, &sizes, data))
                })
                .await?
            }
        };
        Ok(Some(file))
    }

    async fn get_or_create(
        &self,
        key: String,
        content_type: &'static str,
        make: impl FnOnce(&mut File) -> io::Result<()> + Send + 'static,
    ) -> io::Result<CachedFile> {
        if let Some(f) = self.lookup(&key, content_type) {
            return Ok(f);
        }
        let gate = self.inflight.lock().expect("inflight lock").entry(key.clone()).or_default().clone();
        let _guard = gate.lock().await;
        let result = match self.lookup(&key, content_type) {
            Some(f) => Ok(f),
            None => self.create(&key, content_type, make).await,
        };
        drop(_guard);
        let mut inflight = self.inflight.lock().expect("inflight lock");
        if Arc::strong_count(&gate) <= 2 {
            inflight.remove(&key);
        }
        result
    }

    fn lookup(&self, key: &str, content_type: &'static str) -> Option<CachedFile> {
        let mut st = self.state.lock().expect("cache lock");
        let len = st.entries.get(key)?.0;
        let path = self.dir.join(key);
        match File::open(&path) {
            Ok(file) => {
                st.tick += 1;
                let tick = st.tick;
                st.entries.insert(key.to_owned(), (len, tick));
                Some(CachedFile { path, len, etag: etag_of(key), content_type, file: Arc::new(file) })
            }
            Err(_) => {
                st.entries.remove(key);
                st.total -= len;
                None
            }
        }
    }

    async fn create(
        &self,
        key: &str,
        content_type: &'static str,
        make: impl FnOnce(&mut File) -> io::Result<()> + Send + 'static,
    ) -> io::Result<CachedFile> {
        let path = self.dir.join(key);
        let tmp = self.dir.join(format!("{key}.tmp-{}", uuid::Uuid::new_v4().simple()));
        let (p, t) = (path.clone(), tmp.clone());
        let file = tokio::task::spawn_blocking(move || -> io::Result<File> {
            let mut f = fs::OpenOptions::new().read(true).write(true).create_new(true).open(&t)?;
            if let Err(e) = make(&mut f) {
                let _ = fs::remove_file(&t);
                return Err(e);
            }
            f.flush()?;
            fs::rename(&t, &p)?;
            Ok(f)
        })
        .await
        .map_err(io::Error::other)??;
        let len = file.metadata()?.len();
        {
            let mut st = self.state.lock().expect("cache lock");
            st.tick += 1;
            let tick = st.tick;
            if let Some((old, _)) = st.entries.insert(key.to_owned(), (len, tick)) {
                st.total -= old;
            }
            st.total += len;
        }
        self.evict(Some(key));
        Ok(CachedFile { path, len, etag: etag_of(key), content_type, file: Arc::new(file) })
    }

    fn evict(&self, keep: Option<&str>) {
        let mut st = self.state.lock().expect("cache lock");
        while st.total > self.max_bytes {
            let victim = st
                .entries
                .iter()
                .filter(|(k, _)| Some(k.as_str()) != keep)
                .min_by_key(|(_, (_, tick))| *tick)
                .map(|(k, (len, _))| (k.clone(), *len));
            let Some((k, len)) = victim else { break };
            st.entries.remove(&k);
            st.total -= len;
            let _ = fs::remove_file(self.dir.join(&k));
        }
    }
}

#[cfg(test)]
mod leftover_tests {
    use super::*;

    #[test]
    fn only_stale_temporary_files_are_removed_at_start() {
        let dir = std::env::temp_dir().join(format!("amm-cache-leftovers-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).unwrap();
        let fresh = dir.join("B000000001-5s-sd-v1.tmp-aaaa");
        let stale = dir.join("B000000002-5s-sd-v1.tmp-bbbb");
        fs::write(&fresh, b"being written").unwrap();
        fs::write(&stale, b"crashed").unwrap();
        let old = std::time::SystemTime::now() - STALE_TMP - std::time::Duration::from_secs(60);
        fs::File::options().write(true).open(&stale).unwrap().set_modified(old).unwrap();

        let cache = StreamCache::new(&dir, DEFAULT_MAX_BYTES).unwrap();

        assert!(fresh.exists(), "another process's encode in progress must survive");
        assert!(!stale.exists(), "a crashed run's leftover is removed");
        assert_eq!(cache.total_bytes(), 0, "temporary files are never adopted");
        fs::remove_dir_all(&dir).unwrap();
    }
}
