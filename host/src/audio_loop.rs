//! The format-neutral part of a host audio thread: wait on the doorbell (or
//! the sync socket), read and check the request once, let the format's
//! worker run it, publish the answer and ring back. The CLAP and VST3
//! workers only say how one checked request is served.
//! Nothing here allocates, locks or logs once the loop runs.

use crate::waiting::EarlyWake;
use bulkhead_common::alloc_audit::{self, AudioSection};
use bulkhead_common::shm::check::{self, RegionFault};
use bulkhead_common::shm::control::{status as op_status, AudioOp};
use bulkhead_common::shm::doorbell;
use bulkhead_common::shm::handoff::{self, HotWhileBusy};
use bulkhead_common::shm::{Control, ShmLayout, ShmRegion};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a sleeping audio thread looks at its quit flag.
const QUIT_POLL: Duration = Duration::from_millis(250);

/// One format's way of serving a block request.
pub trait BlockWorker {
    /// Runs one checked request; its status.
    fn serve(&mut self, req: check::Request) -> Result<i32, RegionFault>;
    /// Publishes per-block extras (tail, callback flags) after the status,
    /// still inside the audited section.
    fn after_request(&mut self, _c: &Control) {}
}

/// How the loop waits and when it stops.
pub struct LoopSetup<'a> {
    pub region: &'a ShmRegion,
    pub layout: &'a ShmLayout,
    pub quit: &'a AtomicBool,
    /// Socket-synchronised mode (see `Activate::socket_sync`).
    pub sync: Option<&'a UnixStream>,
    /// The sample rate, when the host should wake before blocks are due.
    pub early_wake: Option<f64>,
}

/// Serves requests until told to quit (or the sync socket closes).
pub fn serve_blocks(setup: LoopSetup<'_>, worker: &mut impl BlockWorker) {
    let c = setup.region.control();
    // What we answered last, not what is pending: the bridge may ring
    // before this thread first looks.
    let mut last = c.response_seq.load(Ordering::Acquire);
    let mut scheduling = (libc::SCHED_OTHER, 0);
    if let Some(s) = setup.sync {
        let _ = s.set_read_timeout(Some(QUIT_POLL));
    }
    let mut early = setup.early_wake.map(EarlyWake::new);
    let mut hot = HotWhileBusy::default();
    let quit = setup.quit;
    let _audio = AudioSection::enter();
    loop {
        match setup.sync {
            Some(s) => {
                let mut word = [0u8; 4];
                match std::io::Read::read_exact(&mut &*s, &mut word) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => break,
                }
            }
            None => {
                let done = |v| v != last || quit.load(Ordering::Relaxed);
                let until = Instant::now() + QUIT_POLL;
                match early.as_mut() {
                    Some(e) => e.wait(&c.request_seq, &c.host_sleeping, done, until),
                    None => hot.wait(&c.request_seq, &c.host_sleeping, done, until),
                };
            }
        }
        if quit.load(Ordering::Acquire) {
            break;
        }
        let seq = c.request_seq.load(Ordering::Acquire);
        if seq == last {
            continue;
        }
        last = seq;
        let served = AudioSection::enter();
        let arrived = Instant::now();
        c.arrived_ns
            .store(doorbell::monotonic_ns(), Ordering::Relaxed);
        handoff::note_arrival(c);
        hot.arrived(arrived);
        mirror_scheduling(c, &mut scheduling);
        // Every word is read once and checked before it is acted on: a
        // garbled request (a plugin scribbling into the region) is
        // refused and named, never run.
        let status = match check::request(c, setup.layout).and_then(|req| {
            if req.op == AudioOp::Process {
                if let Some(e) = early.as_mut() {
                    e.on_block(arrived, req.frames);
                }
            }
            worker.serve(req)
        }) {
            Ok(status) => status,
            Err(fault) => {
                c.fault.store(fault as u32, Ordering::Relaxed);
                c.out_events_len.store(0, Ordering::Relaxed);
                op_status::INVALID_REQUEST
            }
        };
        c.status.store(status, Ordering::Relaxed);
        worker.after_request(c);
        drop(served);
        c.host_sections
            .store(alloc_audit::sections(), Ordering::Relaxed);
        c.host_allocations
            .store(alloc_audit::allocations(), Ordering::Relaxed);
        c.answered_ns
            .store(doorbell::monotonic_ns(), Ordering::Relaxed);
        doorbell::ring(&c.response_seq, &c.bridge_sleeping, seq);
        hot.answered(Instant::now());
        if let Some(s) = setup.sync {
            if std::io::Write::write_all(&mut &*s, &seq.to_le_bytes()).is_err() {
                break;
            }
        }
    }
}

/// Wakes an audio thread sleeping on the doorbell so it sees its quit flag.
pub fn wake_to_quit(region: &ShmRegion, quit: &AtomicBool) {
    quit.store(true, Ordering::Release);
    let c = region.control();
    let _ = rustix::thread::futex::wake(&c.request_seq, rustix::thread::futex::Flags::empty(), 1);
}

/// The user's `realtime_priority` for this plugin (config.toml), 0 when
/// unset: it replaces the DAW's priority while the DAW runs realtime.
pub static REALTIME_PRIORITY: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Adopts the bridge's audio-thread scheduling (SCHED_FIFO/RR and priority
/// when the DAW runs realtime). Tried once per change; a refusal (no
/// privilege) silently leaves the thread as it is.
fn mirror_scheduling(c: &Control, applied: &mut (i32, i32)) {
    let policy = c.sched_policy.load(Ordering::Relaxed);
    let chosen = REALTIME_PRIORITY.load(Ordering::Relaxed);
    let wanted = (
        policy,
        if chosen > 0 && policy != libc::SCHED_OTHER {
            chosen
        } else {
            c.sched_priority.load(Ordering::Relaxed)
        },
    );
    if wanted == *applied {
        return;
    }
    *applied = wanted;
    let (policy, priority) = wanted;
    if ![libc::SCHED_OTHER, libc::SCHED_FIFO, libc::SCHED_RR].contains(&policy) {
        return;
    }
    let param = libc::sched_param {
        sched_priority: if policy == libc::SCHED_OTHER {
            0
        } else {
            priority
        },
    };
    // SAFETY: a plain syscall on the calling thread with a valid param.
    unsafe { libc::sched_setscheduler(0, policy, &param) };
}
