//! The bridge's end of the shared-memory block, for every format: ring,
//! wait (spin briefly, then sleep, until a deadline), check the answer;
//! region hand-over on restarts. The formats copy their blocks in and out
//! around [`Handoff::roundtrip`] (`clap::audio`, `vst3::audio`).
//! Runs on the DAW's audio thread: nothing here allocates, locks or logs.
//! Everything the host wrote is validated before use.

use crate::link::Link;
use bulkhead_common::shm::check::{self, RegionFault};
use bulkhead_common::shm::control::AudioOp;
use bulkhead_common::shm::deadline::{self, Limits};
use bulkhead_common::shm::doorbell;
use bulkhead_common::shm::handoff::Caller;
use bulkhead_common::shm::{ShmLayout, ShmRegion};
use bulkhead_common::ProtocolError;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Handoff {
    pub region: Arc<ShmRegion>,
    pub link: Arc<Link>,
    pub layout: ShmLayout,
    seq: u32,
    /// False after a missed deadline, until the host catches up.
    in_sync: bool,
    /// Blocks handed over, to re-read our scheduling now and then.
    blocks: u64,
    /// How we wait for the host's answers (spin or sleep at once).
    caller: Caller,
    sample_rate: f64,
    /// The DAW's audio thread runs with realtime scheduling (re-read with
    /// the scheduling now and then): blocks get live deadlines.
    realtime_thread: bool,
    /// The host answered a block since it started: until then its audio
    /// thread is cold (page faults, first wake-up) and a block gets the
    /// policy's deadline, not a live one.
    warm: bool,
    /// The wait chosen for the block being handed over (other operations
    /// get the policy's).
    block_wait: Option<Duration>,
    /// The host answered nonsense: nothing more is read from or rung in
    /// this region; blocks are silent until a restart hands over a fresh one.
    pub faulted: bool,
}

/// The audio thread's side of restarts, without locks: a restart hands over
/// a fresh region (the old one may hold anything a broken host wrote), the
/// audio thread gives the old one back to be unmapped elsewhere (never on
/// the audio thread), and reports why it gave up on a host.
#[derive(Default)]
pub struct RegionWatch {
    /// A region from a restart, not yet adopted (`Arc::into_raw`).
    fresh: AtomicPtr<ShmRegion>,
    /// A region the audio thread stopped using, to be dropped off it.
    stale: AtomicPtr<ShmRegion>,
    /// What the audio thread found: a [`RegionFault`] in the low byte, the
    /// host's own reason (when it refused a request) in the next.
    fault: AtomicU32,
}

impl RegionWatch {
    /// Offers `region` to the audio thread (replacing one it never took).
    pub fn publish(&self, region: Arc<ShmRegion>) {
        let old = self
            .fresh
            .swap(Arc::into_raw(region).cast_mut(), Ordering::SeqCst);
        // SAFETY: every non-null pointer in the slots came from
        // `Arc::into_raw`, and swapping it out made it ours.
        drop(unsafe { from_slot(old) });
    }

    /// Drops a region the audio thread gave back. Not on the audio thread.
    pub fn drain(&self) {
        let old = self.stale.swap(std::ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: as in `publish`.
        drop(unsafe { from_slot(old) });
    }

    /// Forgets any hand-over (a new activation makes its own region). Not
    /// on the audio thread, and not while it runs.
    pub fn clear(&self) {
        self.drain();
        let old = self.fresh.swap(std::ptr::null_mut(), Ordering::SeqCst);
        // SAFETY: as in `publish`.
        drop(unsafe { from_slot(old) });
        self.fault.store(0, Ordering::Relaxed);
    }

    /// A restart's region is waiting to be adopted.
    pub fn pending(&self) -> bool {
        !self.fresh.load(Ordering::SeqCst).is_null()
    }

    /// Audio thread: the fresh region, if any, once the previous stale one
    /// was dropped (so one slot is always enough).
    fn take_fresh(&self) -> Option<Arc<ShmRegion>> {
        if !self.stale.load(Ordering::Acquire).is_null() {
            return None;
        }
        let p = self.fresh.swap(std::ptr::null_mut(), Ordering::SeqCst);
        // SAFETY: as in `publish`.
        unsafe { from_slot(p) }
    }

    /// Audio thread: hands the old region back; `stale` is empty (checked
    /// by `take_fresh`, and only this thread fills it).
    fn retire(&self, old: Arc<ShmRegion>) {
        self.stale
            .store(Arc::into_raw(old).cast_mut(), Ordering::Release);
    }

    /// Audio thread: the first fault found since the last look.
    fn report(&self, fault: RegionFault, host_reason: u32) {
        let code = fault as u32 | (host_reason & 0xff) << 8;
        let _ = self
            .fault
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Relaxed);
    }

    /// Why the audio thread gave up on the host, for the log (and forgets it).
    pub fn take_fault(&self) -> Option<String> {
        let code = self.fault.swap(0, Ordering::AcqRel);
        let fault = RegionFault::from_u32(code & 0xff)?;
        Some(match RegionFault::from_u32(code >> 8) {
            Some(seen) if fault == RegionFault::Refused => {
                format!("{} (it read {})", fault.describe(), seen.describe())
            }
            _ => fault.describe().to_string(),
        })
    }
}

impl Drop for RegionWatch {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A fresh region for a restarted host: the old one may hold anything the
/// host that died wrote into it, and the new host must not inherit that.
///
/// # Errors
/// The layout no longer computes, or the kernel refused the memory.
pub fn fresh_region(layout: &bulkhead_common::shm::AudioLayout) -> Result<Arc<ShmRegion>, String> {
    let shm = ShmLayout::compute(layout).map_err(|e| e.to_string())?;
    ShmRegion::create(&shm)
        .map(Arc::new)
        .map_err(|e| format!("cannot make a fresh audio region: {e}"))
}

/// # Safety
/// `p` is null or a pointer from `Arc::into_raw` that nothing else owns.
unsafe fn from_slot(p: *mut ShmRegion) -> Option<Arc<ShmRegion>> {
    // SAFETY: per the contract.
    (!p.is_null()).then(|| unsafe { Arc::from_raw(p.cast_const()) })
}

/// The calling thread's scheduling policy and priority (two syscalls, no
/// allocation), so the host's audio thread can mirror a realtime DAW.
fn current_scheduling() -> (i32, i32) {
    // SAFETY: plain syscalls on the calling thread with a local out-param.
    unsafe {
        let policy = libc::sched_getscheduler(0) & !libc::SCHED_RESET_ON_FORK;
        let mut param: libc::sched_param = std::mem::zeroed();
        libc::sched_getparam(0, &mut param);
        (policy, param.sched_priority)
    }
}

impl Handoff {
    /// # Errors
    /// The kernel refused the memory.
    pub fn new(
        layout: ShmLayout,
        link: Arc<Link>,
        sample_rate: f64,
    ) -> Result<Self, ProtocolError> {
        let region = Arc::new(ShmRegion::create(&layout)?);
        Ok(Self {
            region,
            link,
            layout,
            seq: 0,
            in_sync: true,
            blocks: 0,
            caller: Caller::default(),
            sample_rate,
            realtime_thread: false,
            warm: false,
            block_wait: None,
            faulted: false,
        })
    }

    /// Switches to the fresh region a restart handed over, if any, and gives
    /// the old one back (dropping it here would unmap on the audio thread).
    pub fn adopt_fresh_region(&mut self) {
        if let Some(fresh) = self.link.audio.take_fresh() {
            let old = std::mem::replace(&mut self.region, fresh);
            self.link.audio.retire(old);
            let c = self.region.control();
            self.seq = c.request_seq.load(Ordering::Acquire);
            self.in_sync = true;
            self.faulted = false;
            self.caller = Caller::default();
        }
    }

    /// The host answered nonsense: stop using this region, say why, and let
    /// the supervisor end the host (it logs, restarts, and hands over a
    /// fresh region). No lock, no allocation: flags only.
    pub fn fault(&mut self, fault: RegionFault) {
        let host_reason = if fault == RegionFault::Refused {
            self.region.control().fault.load(Ordering::Relaxed)
        } else {
            0
        };
        self.faulted = true;
        self.in_sync = false;
        self.link.audio.report(fault, host_reason);
        self.link.group.broken.store(true, Ordering::Release);
    }

    /// Hands the prepared request to the host and waits for it. The status
    /// the host answered (checked against what `op` can return); `None`
    /// when the host missed the deadline (now or on an earlier block it has
    /// not finished yet), is down, or answered nonsense.
    pub fn roundtrip(&mut self, op: AudioOp) -> Option<i32> {
        // `in_flight` before `up` (both SeqCst): a supervisor that cleared
        // `up` and then sees `in_flight` clear knows we will not ring. A
        // restart publishes its region before it sets `up`: seeing `up`
        // means seeing the region too, which the next call adopts.
        self.link.in_flight.store(true, Ordering::SeqCst);
        let ok = !self.faulted && self.link.up.load(Ordering::SeqCst) && !self.link.audio.pending();
        let status = if ok { self.handoff(op) } else { None };
        self.link.in_flight.store(false, Ordering::SeqCst);
        status
    }

    fn handoff(&mut self, op: AudioOp) -> Option<i32> {
        // Asked for outside a block, delivered before it, in order.
        if self.link.needs_stop.swap(false, Ordering::AcqRel) && op != AudioOp::StopProcessing {
            self.exchange(AudioOp::StopProcessing)?;
        }
        if self.link.needs_start.swap(false, Ordering::AcqRel) && op != AudioOp::StartProcessing {
            // A restored host: its audio thread is cold again.
            self.warm = false;
            // A restored host starts processing before its first block.
            self.exchange(AudioOp::StartProcessing)?;
        }
        self.exchange(op)
    }

    fn exchange(&mut self, op: AudioOp) -> Option<i32> {
        let answered = self.ring_and_wait(op);
        if !answered || self.faulted {
            return None;
        }
        match check::answer(self.region.control(), op) {
            Ok(status) => Some(status),
            Err(fault) => {
                self.fault(fault);
                None
            }
        }
    }

    fn ring_and_wait(&mut self, op: AudioOp) -> bool {
        let c = self.region.control();
        let response = c.response_seq.load(Ordering::Acquire);
        if !self.in_sync {
            if response != self.seq {
                if check::plausible_response(response, self.seq) {
                    self.missed();
                } else {
                    self.fault(RegionFault::ResponseSeq);
                }
                return false;
            }
            self.in_sync = true;
        } else if response != self.seq || c.request_seq.load(Ordering::Acquire) != self.seq {
            // Between blocks both words hold the last sequence number; the
            // host never writes either out of turn.
            self.fault(RegionFault::ResponseSeq);
            return false;
        }
        c.op.store(op as u32, Ordering::Relaxed);
        c.callbacks.store(0, Ordering::Relaxed);
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        c.rung_ns.store(doorbell::monotonic_ns(), Ordering::Relaxed);
        self.caller.ring(c, seq);
        let wait = self.block_wait.take().unwrap_or_else(|| self.timeout());
        let sync_fd = self.link.sync_fd.load(Ordering::Relaxed);
        if sync_fd >= 0 {
            return self.socket_exchange(sync_fd, seq, wait);
        }
        let link = &self.link;
        let now = Instant::now();
        // A wait too long to represent is as good as forever.
        let deadline = now
            .checked_add(wait)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365));
        let ok = self
            .caller
            .wait(c, seq, || !link.up.load(Ordering::Relaxed), deadline);
        if !ok {
            self.in_sync = false;
            if check::plausible_response(c.response_seq.load(Ordering::Acquire), seq) {
                self.missed();
            } else {
                self.fault(RegionFault::ResponseSeq);
            }
        }
        ok
    }

    /// Counts a block the host did not answer in time (kept in the region,
    /// where diagnostics can read it).
    fn missed(&self) {
        self.region
            .control()
            .missed_blocks
            .fetch_add(1, Ordering::Relaxed);
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.link.audio_timeout_ms.load(Ordering::Relaxed))
    }

    /// The comparison mode: the same handoff, synchronised by a message
    /// each way on a socket (as other bridges do) instead of the futex.
    fn socket_exchange(&mut self, fd: i32, seq: u32, wait: Duration) -> bool {
        let word = seq.to_le_bytes();
        // SAFETY: `fd` is our open socket end (kept alive by the link while
        // up); the buffer is a local array.
        let sent = unsafe { libc::send(fd, word.as_ptr().cast(), 4, libc::MSG_NOSIGNAL) };
        let mut ok = sent == 4;
        if ok {
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = wait.as_millis().min(i32::MAX as u128) as i32;
            let mut reply = [0u8; 4];
            // SAFETY: as above; `pfd` and `reply` are locals.
            ok = unsafe {
                libc::poll(&mut pfd, 1, ms) == 1
                    && libc::recv(fd, reply.as_mut_ptr().cast(), 4, 0) == 4
            } && u32::from_le_bytes(reply) == seq;
        }
        if !ok {
            self.in_sync = false;
            self.missed();
        }
        ok
    }

    /// Before a block: re-reads the calling thread's scheduling now and
    /// then (for the host to mirror), and picks the block's deadline.
    pub fn prepare_block(&mut self, frames: u32) {
        let c = self.region.control();
        if self.blocks.is_multiple_of(4096) {
            let (policy, priority) = current_scheduling();
            c.sched_policy.store(policy, Ordering::Relaxed);
            self.realtime_thread = deadline::is_realtime_policy(policy);
            c.sched_priority.store(priority, Ordering::Relaxed);
        }
        self.blocks += 1;
        c.frames.store(frames, Ordering::Relaxed);
        let audio_ms = self.link.audio_timeout_ms.load(Ordering::Relaxed);
        let limits = Limits {
            audio_ms,
            offline_ms: self
                .link
                .offline
                .load(Ordering::Relaxed)
                .then_some(audio_ms),
            realtime_thread: self.realtime_thread && self.warm,
            sample_rate: self.sample_rate,
        };
        self.block_wait = Some(deadline::block_wait(frames, &limits));
    }

    /// After a block: whether the host answered it usably; a block that
    /// was answered warms the deadline up.
    pub fn block_done(&mut self, answered: bool) -> bool {
        if !answered {
            self.block_wait = None;
            return false;
        }
        if self.faulted {
            return false;
        }
        self.warm = true;
        true
    }
}
