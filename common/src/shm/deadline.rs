//! How long the DAW's audio thread waits for one block.
//!
//! The rule (documented in the README):
//! - rendering offline (the DAW said so through its render API): the
//!   policy's `slow_timeout_ms`, because a late block there is lost work,
//!   not an xrun;
//! - live, i.e. the DAW's audio thread runs with realtime scheduling
//!   (`SCHED_FIFO` or `SCHED_RR`, as JACK, PipeWire and DAWs given rtkit
//!   or rtprio run it): twice the period of the block (frames / sample
//!   rate), at least [`MIN_LIVE`], at most the policy's `audio_timeout_ms`.
//!   A hung `process()` then costs the DAW about one block, never a second.
//!   The first block a host answers after it starts gets the policy's
//!   deadline: its audio thread is cold then (first wake-up, page faults);
//! - otherwise (a thread of normal priority: Python and test hosts that
//!   render as fast as they can, where a block lost to a short deadline
//!   would be lost audio): the policy's `audio_timeout_ms`.
//!
//! Blocks after a missed one return at once as silence until the host has
//! caught up (the handoff's own rule), so only the first missed block waits.
//! Nothing here allocates, locks or logs: it runs on the audio thread.

use std::time::Duration;

/// The shortest live deadline: below this, scheduling noise alone would
/// drop blocks of tiny buffers.
pub const MIN_LIVE: Duration = Duration::from_millis(2);

/// What a block's deadline is chosen from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// The policy's `audio_timeout_ms`: the deadline of a thread of normal
    /// priority, and the most a live block gets.
    pub audio_ms: u64,
    /// Offline rendering: this, whatever else holds.
    pub offline_ms: Option<u64>,
    /// The DAW's audio thread runs with realtime scheduling.
    pub realtime_thread: bool,
    pub sample_rate: f64,
}

/// Whether a scheduling policy (as `sched_getscheduler` returns it) is a
/// realtime one.
pub fn is_realtime_policy(policy: i32) -> bool {
    policy == libc::SCHED_FIFO || policy == libc::SCHED_RR
}

/// How long to wait for a block of `frames`.
pub fn block_wait(frames: u32, limits: &Limits) -> Duration {
    if let Some(ms) = limits.offline_ms {
        return Duration::from_millis(ms);
    }
    let policy = Duration::from_millis(limits.audio_ms);
    if !limits.realtime_thread {
        return policy;
    }
    let rate = if limits.sample_rate.is_finite() && limits.sample_rate >= 1.0 {
        limits.sample_rate
    } else {
        48_000.0
    };
    let period = Duration::from_secs_f64(f64::from(frames.max(1)) / rate);
    (period * 2).max(MIN_LIVE).min(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(audio_ms: u64) -> Limits {
        Limits {
            audio_ms,
            offline_ms: None,
            realtime_thread: true,
            sample_rate: 48_000.0,
        }
    }

    #[test]
    fn a_realtime_daw_waits_about_one_block() {
        let d = block_wait(512, &live(1_000));
        assert_eq!(d, Duration::from_secs_f64(512.0 / 48_000.0) * 2);
        assert_eq!(block_wait(16, &live(1_000)), MIN_LIVE);
        assert_eq!(block_wait(4096, &live(5)), Duration::from_millis(5));
    }

    #[test]
    fn normal_priority_and_offline_keep_the_long_deadlines() {
        let normal = Limits {
            realtime_thread: false,
            ..live(1_000)
        };
        assert_eq!(block_wait(512, &normal), Duration::from_secs(1));
        let offline = Limits {
            offline_ms: Some(60_000),
            ..live(1_000)
        };
        assert_eq!(block_wait(512, &offline), Duration::from_secs(60));
    }

    #[test]
    fn realtime_policies() {
        assert!(is_realtime_policy(libc::SCHED_FIFO));
        assert!(is_realtime_policy(libc::SCHED_RR));
        assert!(!is_realtime_policy(libc::SCHED_OTHER));
    }
}
