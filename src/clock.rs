//! The virtual clock: the only place in the crate that reads the system time.
//!
//! Every expiry (codes, code pairs, access tokens, stream URLs, skip refills) and the `Date` response
//! header read a session's [`Clock`]. It follows real time by default; the admin API can freeze it, set it
//! or move it forward, so a test can skip an hour of token lifetime without sleeping.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch on the real system clock.
fn system_now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Real epoch seconds, for the few things that belong to no session and so have no virtual clock to read: the
/// trace id of an error raised before any handler ran, and the age of a crashed encode's temporary file in
/// the stream cache (file times are real times). Nothing that decides an expiry reads it.
pub fn real_now_secs() -> i64 {
    system_now_ms() / 1000
}

/// Real now, epoch milliseconds: for what belongs to no session (when a session was last used, for idle
/// eviction), never for an expiry.
pub fn real_now_ms() -> i64 {
    system_now_ms()
}

/// How long ago a file time was, on the real clock (`None` when it lies in the future).
pub fn real_age(t: SystemTime) -> Option<std::time::Duration> {
    SystemTime::now().duration_since(t).ok()
}

/// A lock-free virtual clock.
///
/// While running it is `system time + offset`; while frozen it stands at `frozen_at`. Setting or advancing
/// a running clock changes the offset, so it keeps ticking from the new time.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
    frozen: AtomicBool,
    frozen_at_ms: AtomicI64,
}

/// What `GET /__admin/clock` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ClockState {
    /// Virtual now, epoch seconds.
    pub now: i64,
    /// Whether the clock stands still.
    pub frozen: bool,
}

/// A clock as a state file keeps it (see [`Clock::saved`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedClock {
    /// Virtual minus real time, ms (while running).
    pub offset_ms: i64,
    /// Whether it stands still.
    pub frozen: bool,
    /// Where it stands, epoch ms (while frozen).
    pub frozen_at_ms: i64,
}

impl Clock {
    /// Virtual now in epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        if self.frozen.load(Ordering::Acquire) {
            self.frozen_at_ms.load(Ordering::Acquire)
        } else {
            system_now_ms() + self.offset_ms.load(Ordering::Acquire)
        }
    }

    /// Virtual now in epoch seconds.
    pub fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// The clock's state as the admin API shows it.
    pub fn state(&self) -> ClockState {
        ClockState { now: self.now(), frozen: self.frozen.load(Ordering::Acquire) }
    }

    /// Stops the clock at the current virtual time.
    pub fn freeze(&self) {
        if !self.frozen.load(Ordering::Acquire) {
            self.frozen_at_ms.store(self.now_ms(), Ordering::Release);
            self.frozen.store(true, Ordering::Release);
        }
    }

    /// Lets a frozen clock run again from the time it stood at.
    pub fn unfreeze(&self) {
        if self.frozen.load(Ordering::Acquire) {
            let at = self.frozen_at_ms.load(Ordering::Acquire);
            self.offset_ms.store(at - system_now_ms(), Ordering::Release);
            self.frozen.store(false, Ordering::Release);
        }
    }

    /// Sets virtual now to `epoch_ms`, keeping the frozen/running state.
    pub fn set_ms(&self, epoch_ms: i64) {
        if self.frozen.load(Ordering::Acquire) {
            self.frozen_at_ms.store(epoch_ms, Ordering::Release);
        } else {
            self.offset_ms.store(epoch_ms - system_now_ms(), Ordering::Release);
        }
    }

    /// Moves virtual time forward (or back, for a negative value) by `ms`.
    pub fn advance_ms(&self, ms: i64) {
        if self.frozen.load(Ordering::Acquire) {
            self.frozen_at_ms.fetch_add(ms, Ordering::AcqRel);
        } else {
            self.offset_ms.fetch_add(ms, Ordering::AcqRel);
        }
    }

    /// What a state file keeps of the clock: the offset from real time, and where it stands when frozen.
    pub fn saved(&self) -> SavedClock {
        SavedClock {
            offset_ms: self.offset_ms.load(Ordering::Acquire),
            frozen: self.frozen.load(Ordering::Acquire),
            frozen_at_ms: self.frozen_at_ms.load(Ordering::Acquire),
        }
    }

    /// Sets the clock as a state file kept it: a running one keeps its offset from real time (it went on
    /// ticking while the server was down), a frozen one stands where it stood.
    pub fn load(&self, saved: SavedClock) {
        self.offset_ms.store(saved.offset_ms, Ordering::Release);
        self.frozen_at_ms.store(saved.frozen_at_ms, Ordering::Release);
        self.frozen.store(saved.frozen, Ordering::Release);
    }

    /// Back to real time, running.
    pub fn reset(&self) {
        self.frozen.store(false, Ordering::Release);
        self.offset_ms.store(0, Ordering::Release);
        self.frozen_at_ms.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_stands_still_and_moves_only_when_told() {
        let c = Clock::default();
        c.freeze();
        let t = c.now_ms();
        assert_eq!(c.now_ms(), t);
        c.advance_ms(3_600_000);
        assert_eq!(c.now_ms(), t + 3_600_000);
        c.set_ms(1_000_000);
        assert_eq!(c.state(), ClockState { now: 1000, frozen: true });
    }

    #[test]
    fn running_clock_keeps_an_offset_after_set() {
        let c = Clock::default();
        c.set_ms(1_000_000_000);
        let now = c.now_ms();
        assert!((1_000_000_000..1_000_000_000 + 5_000).contains(&now));
        c.freeze();
        c.unfreeze();
        assert!(c.now_ms() >= now);
        c.reset();
        assert!(c.now_ms() > 1_600_000_000_000);
    }
}
