//! The host's optional way of waiting for the next block ([`EarlyWake`],
//! policy `early_wake`): it wakes shortly before a paced block is due and
//! spins the rest, trading CPU for the wake-up latency of an idle CPU. The
//! default is `bulkhead_common::shm::handoff::HotWhileBusy`.

use bulkhead_common::shm::doorbell::{self, WaitStrategy};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Spinning beyond this per block costs more CPU than it saves.
const TARGET_SPIN: Duration = Duration::from_micros(10);
const MIN_MARGIN: Duration = Duration::from_micros(5);
const MAX_MARGIN: Duration = Duration::from_micros(300);
const SLEEP: WaitStrategy = WaitStrategy {
    spin: Duration::ZERO,
};

pub struct EarlyWake {
    sample_rate: f64,
    margin: Duration,
    /// When the next block should arrive, after a processed block.
    expected: Option<Instant>,
}

impl EarlyWake {
    pub fn new(sample_rate: f64) -> Self {
        // Precise timer wake-ups for this thread (the default slack is 50 µs).
        // SAFETY: a plain prctl on the calling thread.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1u64) };
        Self {
            sample_rate,
            margin: Duration::from_micros(60),
            expected: None,
        }
    }

    /// A block of `frames` arrived at `arrived`: the next is due one period
    /// later.
    pub fn on_block(&mut self, arrived: Instant, frames: u32) {
        if self.sample_rate > 0.0 && frames > 0 {
            let period = Duration::from_secs_f64(f64::from(frames) / self.sample_rate);
            self.expected = Some(arrived + period);
        }
    }

    /// Waits until `done(word)` or `until`. Returns whether `done` holds.
    pub fn wait(
        &mut self,
        word: &AtomicU32,
        sleeping: &AtomicU32,
        done: impl Fn(u32) -> bool,
        until: Instant,
    ) -> bool {
        let Some(expected) = self.expected.take() else {
            return doorbell::wait_until(word, sleeping, done, SLEEP, until);
        };
        let wake_at = expected.checked_sub(self.margin).unwrap_or(expected);
        if doorbell::wait_until(word, sleeping, &done, SLEEP, wake_at.min(until)) {
            // The block came while we slept: wake earlier next time.
            self.margin = (self.margin + Duration::from_micros(5)).min(MAX_MARGIN);
            return true;
        }
        let spin_from = Instant::now();
        let spin_limit = self.margin * 2 + Duration::from_micros(50);
        while spin_from.elapsed() < spin_limit {
            if done(word.load(Ordering::Acquire)) {
                let spun = spin_from.elapsed();
                if spun > TARGET_SPIN {
                    self.margin = self
                        .margin
                        .saturating_sub((spun - TARGET_SPIN) / 2)
                        .max(MIN_MARGIN);
                }
                return true;
            }
            std::hint::spin_loop();
        }
        // Not paced like a DAW after all (stopped, or offline): sleep.
        doorbell::wait_until(word, sleeping, done, SLEEP, until)
    }
}
