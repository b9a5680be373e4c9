//! How long the DAW's audio thread waits for one block.
//!
//! The rule (documented in the README):
//! - rendering offline (the DAW said so through its render API): the
//!   policy's `slow_timeout_ms`, because a late block there is lost work,
//!   not an xrun;
//! - live, i.e. the DAW paces its blocks (each one starts at least half a
//!   block period after the previous one, as an audio device makes it do):
//!   twice the period of the block (frames / sample rate), at least
//!   [`MIN_LIVE`], at most the policy's `audio_timeout_ms`. A hung
//!   `process()` then costs the DAW about one block, never a second;
//! - otherwise (the first blocks after activation, or a host that renders
//!   faster than realtime without saying so, as test and Python hosts do):
//!   the policy's `audio_timeout_ms`.
//!
//! Blocks after a missed one return at once as silence until the host has
//! caught up (the handoff's own rule), so only the first missed block waits.
//! Nothing here allocates, locks or logs: it runs on the audio thread.

use std::time::{Duration, Instant};

/// The shortest live deadline: below this, scheduling noise alone would
/// drop blocks of tiny buffers.
pub const MIN_LIVE: Duration = Duration::from_millis(2);

/// The audio thread's view of the DAW's pace.
#[derive(Debug, Clone)]
pub struct BlockClock {
    sample_rate: f64,
    /// When the previous block began.
    last_start: Option<Instant>,
    /// The previous block began half a period or more after the one
    /// before it.
    paced: bool,
}

/// The limits a deadline is chosen within, in milliseconds (from the
/// policy and the render mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The deadline when the pace is unknown, and the most a live block
    /// gets.
    pub audio_ms: u64,
    /// Offline rendering: this, whatever the pace.
    pub offline_ms: Option<u64>,
}

impl BlockClock {
    pub fn new(sample_rate: f64) -> Self {
        Self {
            sample_rate: if sample_rate.is_finite() && sample_rate > 0.0 {
                sample_rate
            } else {
                48_000.0
            },
            last_start: None,
            paced: false,
        }
    }

    /// The period of a block of `frames`.
    pub fn period(&self, frames: u32) -> Duration {
        Duration::from_secs_f64(f64::from(frames.max(1)) / self.sample_rate)
    }

    /// Notes that a block of `frames` begins `now`, and returns how long to
    /// wait for it.
    pub fn begin(&mut self, now: Instant, frames: u32, limits: Limits) -> Duration {
        let period = self.period(frames);
        if let Some(last) = self.last_start {
            self.paced = now.saturating_duration_since(last) >= period / 2;
        }
        self.last_start = Some(now);
        let policy = Duration::from_millis(limits.audio_ms);
        if let Some(ms) = limits.offline_ms {
            return Duration::from_millis(ms);
        }
        if self.paced {
            (period * 2).max(MIN_LIVE).min(policy)
        } else {
            policy
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        audio_ms: 1_000,
        offline_ms: None,
    };

    #[test]
    fn a_paced_daw_gets_about_one_block() {
        let mut c = BlockClock::new(48_000.0);
        let t0 = Instant::now();
        let period = c.period(512);
        assert_eq!(c.begin(t0, 512, LIMITS), Duration::from_secs(1));
        let d = c.begin(t0 + period, 512, LIMITS);
        assert_eq!(d, period * 2);
        assert!(d < Duration::from_millis(25));
    }

    #[test]
    fn back_to_back_rendering_keeps_the_policy_deadline() {
        let mut c = BlockClock::new(48_000.0);
        let t0 = Instant::now();
        for i in 0..10 {
            let d = c.begin(t0 + Duration::from_micros(50 * i), 512, LIMITS);
            assert_eq!(d, Duration::from_secs(1));
        }
    }

    #[test]
    fn tiny_blocks_get_the_floor_and_offline_waits() {
        let mut c = BlockClock::new(48_000.0);
        let t0 = Instant::now();
        c.begin(t0, 16, LIMITS);
        assert_eq!(c.begin(t0 + c.period(16), 16, LIMITS), MIN_LIVE);
        let offline = Limits {
            audio_ms: 1_000,
            offline_ms: Some(60_000),
        };
        assert_eq!(
            c.begin(t0 + c.period(16) * 2, 16, offline),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn the_policy_caps_a_live_deadline() {
        let mut c = BlockClock::new(8_000.0);
        let t0 = Instant::now();
        let small = Limits {
            audio_ms: 5,
            offline_ms: None,
        };
        c.begin(t0, 4096, small);
        assert_eq!(
            c.begin(t0 + c.period(4096), 4096, small),
            Duration::from_millis(5)
        );
    }
}
