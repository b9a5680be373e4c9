//! How a block is handed over: the caller's side (the bridge, on the DAW's
//! audio thread) rings and waits for the answer with [`Caller`]; the host's
//! audio thread waits for the next request with [`HotWhileBusy`].
//!
//! It spins about twice the last round trip (bounded) before sleeping,
//! because the answer usually arrives within microseconds when the host
//! runs on another CPU. But a host that had to be woken is often put on
//! the very CPU that woke it (the scheduler does so whenever it sees no
//! idle CPU to use, and a VM's halted vCPUs never look idle): spinning
//! there only holds the CPU the host needs until the scheduler preempts the
//! spin. So when the last woken host ran on our CPU, the caller sleeps at
//! once after waking it, and the host runs straight away: one context
//! switch each way, as in a socket ping-pong, but with futexes.

use super::control::Control;
use super::doorbell::{ring, wait_until, WaitStrategy};
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Bounds of the spin: long enough to catch a host on another CPU, short
/// enough that a slow plugin does not cost the caller a core.
pub const MIN_SPIN: Duration = Duration::from_micros(50);
pub const MAX_SPIN: Duration = Duration::from_micros(400);

/// The CPU the calling thread runs on (a vDSO call: no syscall).
#[inline]
fn current_cpu() -> u32 {
    rustix::thread::sched_getcpu() as u32
}

/// Recorded by the host when it picks up a request, for [`Caller`].
#[inline]
pub fn note_arrival(c: &Control) {
    c.host_cpu.store(current_cpu(), Ordering::Relaxed);
}

/// The caller's wait state across blocks. Allocates nothing, takes no lock.
#[derive(Debug)]
pub struct Caller {
    spin: Duration,
    /// The CPU we rang from, when the ring had to wake the host.
    woke_from: Option<u32>,
    /// The last host we woke ran on the CPU that woke it.
    woken_host_shares_cpu: bool,
}

impl Default for Caller {
    fn default() -> Self {
        Self {
            spin: MIN_SPIN,
            woke_from: None,
            woken_host_shares_cpu: false,
        }
    }
}

impl Caller {
    /// Publishes request `seq` and wakes the host if it sleeps. Returns
    /// whether it had to.
    #[inline]
    pub fn ring(&mut self, c: &Control, seq: u32) -> bool {
        let woke = ring(&c.request_seq, &c.host_sleeping, seq);
        // Only a woken host's placement matters; an awake one is spinning
        // where it already runs, so back-to-back blocks skip the lookup.
        self.woke_from = woke.then(current_cpu);
        woke
    }

    /// Waits for the answer to `seq` until `deadline`, or until `give_up`
    /// holds. Returns whether the answer came.
    #[inline]
    pub fn wait(
        &mut self,
        c: &Control,
        seq: u32,
        give_up: impl Fn() -> bool,
        deadline: Instant,
    ) -> bool {
        let spin = if self.woke_from.is_some() && self.woken_host_shares_cpu {
            Duration::ZERO
        } else {
            self.spin
        };
        let start = Instant::now();
        wait_until(
            &c.response_seq,
            &c.bridge_sleeping,
            |v| v == seq || give_up(),
            WaitStrategy { spin },
            deadline,
        );
        self.spin = (start.elapsed() * 2).clamp(MIN_SPIN, MAX_SPIN);
        let answered = c.response_seq.load(Ordering::Acquire) == seq;
        if let (true, Some(cpu)) = (answered, self.woke_from) {
            self.woken_host_shares_cpu = c.host_cpu.load(Ordering::Relaxed) == cpu;
        }
        answered
    }
}

/// A gap this short between our answer and the next request means blocks
/// come back to back.
const BACK_TO_BACK_GAP: Duration = Duration::from_micros(100);
/// How long to stay awake while blocks come back to back.
const HOT_SPIN: Duration = Duration::from_micros(100);

/// The host's wait for the next request: it stays awake (spins) after a
/// block only while blocks come back to back, as in an offline render,
/// where the next one arrives within microseconds and a sleep would cost a
/// wake-up each time; paced like a DAW's callback, it sleeps at once and
/// costs no CPU between blocks.
#[derive(Default)]
pub struct HotWhileBusy {
    answered: Option<Instant>,
    hot: bool,
}

impl HotWhileBusy {
    pub fn answered(&mut self, at: Instant) {
        self.answered = Some(at);
    }

    pub fn arrived(&mut self, at: Instant) {
        self.hot = self
            .answered
            .is_some_and(|t| at.saturating_duration_since(t) < BACK_TO_BACK_GAP);
    }

    pub fn wait(
        &self,
        word: &AtomicU32,
        sleeping: &AtomicU32,
        done: impl Fn(u32) -> bool,
        until: Instant,
    ) -> bool {
        let spin = if self.hot { HOT_SPIN } else { Duration::ZERO };
        wait_until(word, sleeping, done, WaitStrategy { spin }, until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shm::{AudioLayout, ShmLayout, ShmRegion};

    fn region() -> ShmRegion {
        let layout = ShmLayout::compute(&AudioLayout {
            inputs: vec![2],
            outputs: vec![2],
            max_frames: 64,
        })
        .unwrap();
        ShmRegion::create(&layout).unwrap()
    }

    /// Plays the host: answers `seq` from `cpu` before the caller waits.
    fn answer(c: &Control, seq: u32, cpu: u32) {
        c.host_cpu.store(cpu, Ordering::Relaxed);
        c.response_seq.store(seq, Ordering::Release);
    }

    #[test]
    fn sleeps_at_once_only_after_a_woken_host_shared_our_cpu() {
        let r = region();
        let c = r.control();
        let soon = || Instant::now() + Duration::from_secs(1);
        let mut caller = Caller::default();

        // An awake host: no wake call, nothing learned.
        assert!(!caller.ring(c, 1));
        answer(c, 1, current_cpu());
        assert!(caller.wait(c, 1, || false, soon()));
        assert!(!caller.woken_host_shares_cpu);

        // A sleeping host woken from this CPU that ran on another one.
        c.host_sleeping.store(1, Ordering::SeqCst);
        assert!(caller.ring(c, 2));
        answer(c, 2, caller.woke_from.unwrap().wrapping_add(1));
        assert!(caller.wait(c, 2, || false, soon()));
        assert!(!caller.woken_host_shares_cpu);

        // One that ran where it was woken: next time the caller sleeps.
        assert!(caller.ring(c, 3));
        answer(c, 3, caller.woke_from.unwrap());
        assert!(caller.wait(c, 3, || false, soon()));
        assert!(caller.woken_host_shares_cpu);

        // An unanswered request teaches nothing and reports the miss.
        assert!(caller.ring(c, 4));
        assert!(!caller.wait(c, 4, || true, soon()));
        assert!(caller.woken_host_shares_cpu);
    }
}
