//! The futex handshake on a sequence word. The waiter spins for a bounded
//! time (a reply often arrives within microseconds) and then sleeps; the
//! ringer only makes the wake syscall when the waiter said it sleeps.

use rustix::thread::futex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// CLOCK_MONOTONIC in nanoseconds (a vDSO call: no syscall, no allocation),
/// comparable between processes.
#[inline]
pub fn monotonic_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// Publishes `value` in `word` and wakes the other side if it sleeps.
/// Returns whether it made the wake call.
#[inline]
pub fn ring(word: &AtomicU32, sleeping: &AtomicU32, value: u32) -> bool {
    word.store(value, Ordering::SeqCst);
    let asleep = sleeping.load(Ordering::SeqCst) != 0;
    if asleep {
        let _ = futex::wake(word, futex::Flags::empty(), 1);
    }
    asleep
}

/// How a waiter behaves before it sleeps.
#[derive(Debug, Clone, Copy)]
pub struct WaitStrategy {
    pub spin: Duration,
}

/// Waits until `done(word)` holds, spinning first, then sleeping on the
/// futex, until `deadline`. Returns false when the deadline passed.
/// Allocates nothing and takes no lock.
#[inline]
pub fn wait_until(
    word: &AtomicU32,
    sleeping: &AtomicU32,
    done: impl Fn(u32) -> bool,
    strategy: WaitStrategy,
    deadline: Instant,
) -> bool {
    let start = Instant::now();
    loop {
        if done(word.load(Ordering::Acquire)) {
            return true;
        }
        if start.elapsed() >= strategy.spin {
            break;
        }
        std::hint::spin_loop();
    }
    loop {
        let now = Instant::now();
        if now >= deadline {
            return done(word.load(Ordering::Acquire));
        }
        sleeping.store(1, Ordering::SeqCst);
        let seen = word.load(Ordering::SeqCst);
        if done(seen) {
            sleeping.store(0, Ordering::SeqCst);
            return true;
        }
        let left = deadline - now;
        let ts = rustix::time::Timespec {
            tv_sec: left.as_secs() as i64,
            tv_nsec: left.subsec_nanos() as i64,
        };
        let _ = futex::wait(word, futex::Flags::empty(), seen, Some(&ts));
        sleeping.store(0, Ordering::SeqCst);
    }
}
