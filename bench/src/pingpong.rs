//! The raw handoff: a shared-memory futex ping-pong between this process and
//! a child (this binary run with `--pingpong-child <fd>`), on the control
//! words of a real audio region and with the bridge's and the host's wait
//! strategies (`bulkhead_common::shm::handoff`: `Caller` here,
//! `HotWhileBusy` in the child). No audio is copied and no plugin runs: what is left is the
//! cost of one cross-process wake-up each way.

use bulkhead_common::shm::control::AudioOp;

/// Tells the ping-pong child to exit (an op the bridge never uses).
const QUIT: u32 = u32::MAX;
use bulkhead_common::shm::doorbell::{ring, wait_until, WaitStrategy};
use bulkhead_common::shm::handoff::{self, Caller, HotWhileBusy};
use bulkhead_common::shm::{AudioLayout, ShmLayout, ShmRegion};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The flag that turns this binary into the ping-pong child.
pub const CHILD_FLAG: &str = "--pingpong-child";

/// Catching up with a child that missed a deadline.
const CATCH_UP: WaitStrategy = WaitStrategy {
    spin: Duration::ZERO,
};
/// As the default `audio_timeout_ms` of the restart policy.
const BLOCK_TIMEOUT: Duration = Duration::from_millis(250);
/// How often the sleeping child checks that its parent is still there.
const CHILD_POLL: Duration = Duration::from_millis(250);

fn layout() -> ShmLayout {
    ShmLayout::compute(&AudioLayout {
        inputs: vec![2],
        outputs: vec![2],
        max_frames: 4096,
    })
    .expect("the stereo 4096-frame layout is valid")
}

/// The bridge-like end, owning the region and the child process.
pub struct PingPong {
    region: ShmRegion,
    child: Child,
    seq: u32,
    caller: Caller,
    /// Rounds, and rounds in which the child had said it sleeps when rung
    /// (so the ring made the wake syscall), since the last `take_counts`.
    rounds: usize,
    woke: usize,
}

impl PingPong {
    /// Creates the region and starts the child, which inherits a duplicate
    /// of the memfd (the region's own descriptor is close-on-exec).
    pub fn spawn() -> Result<Self, String> {
        let region =
            ShmRegion::create(&layout()).map_err(|e| format!("creating the shm region: {e}"))?;
        // `dup` leaves close-on-exec clear, so the child inherits this one.
        let inherited = rustix::io::dup(region.fd()).map_err(|e| format!("dup of memfd: {e}"))?;
        let exe = std::env::current_exe().map_err(|e| format!("locating this binary: {e}"))?;
        let child = Command::new(exe)
            .arg(CHILD_FLAG)
            .arg(inherited.as_raw_fd().to_string())
            .spawn()
            .map_err(|e| format!("starting the ping-pong child: {e}"))?;
        drop(inherited);
        let mut pp = Self {
            region,
            child,
            seq: 0,
            caller: Caller::default(),
            rounds: 0,
            woke: 0,
        };
        // The first round trip also waits for the child to start.
        pp.exchange(AudioOp::Process as u32, Duration::from_secs(10))
            .then_some(pp)
            .ok_or_else(|| "the ping-pong child did not answer".to_string())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// (rounds, rounds that had to wake the child) since the last call.
    pub fn take_counts(&mut self) -> (usize, usize) {
        let counts = (self.rounds, self.woke);
        (self.rounds, self.woke) = (0, 0);
        counts
    }

    /// One block's handoff; false when the child missed the deadline (the
    /// ping-pong then waits for it to catch up, so the next block is clean).
    /// Fails when the child is gone.
    pub fn round_trip(&mut self) -> Result<bool, String> {
        if self.exchange(AudioOp::Process as u32, BLOCK_TIMEOUT) {
            return Ok(true);
        }
        let c = self.region.control();
        let seq = self.seq;
        let caught_up = wait_until(
            &c.response_seq,
            &c.bridge_sleeping,
            |v| v == seq,
            CATCH_UP,
            Instant::now() + Duration::from_secs(10),
        );
        match self.child.try_wait() {
            Ok(None) if caught_up => Ok(false),
            Ok(None) => Err("the ping-pong child stopped answering".into()),
            Ok(Some(status)) => Err(format!("the ping-pong child exited: {status}")),
            Err(e) => Err(format!("checking the ping-pong child: {e}")),
        }
    }

    fn exchange(&mut self, op: u32, timeout: Duration) -> bool {
        let c = self.region.control();
        c.op.store(op, Ordering::Relaxed);
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        self.rounds += 1;
        self.woke += usize::from(self.caller.ring(c, seq));
        self.caller.wait(c, seq, || false, Instant::now() + timeout)
    }
}

impl Drop for PingPong {
    fn drop(&mut self) {
        if !self.exchange(QUIT, Duration::from_secs(1)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The host-like end: answers every request until told to quit or the
/// parent goes away.
pub fn child_main(fd_arg: &str) -> Result<(), String> {
    let raw: i32 = fd_arg
        .parse()
        .map_err(|_| format!("{CHILD_FLAG} needs a descriptor number, got {fd_arg:?}"))?;
    // SAFETY: F_GETFD on any number only reads descriptor flags.
    if unsafe { libc::fcntl(raw, libc::F_GETFD) } < 0 {
        return Err(format!("descriptor {raw} is not open"));
    }
    // SAFETY: the parent passed us this inherited descriptor for our sole
    // use, and it is open (checked above); nothing else in this process
    // owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let region = ShmRegion::open(fd, &layout()).map_err(|e| format!("opening the region: {e}"))?;
    let parent = rustix::process::getppid();
    let c = region.control();
    let mut last = c.response_seq.load(Ordering::Acquire);
    let mut hot = HotWhileBusy::default();
    loop {
        let rung = hot.wait(
            &c.request_seq,
            &c.host_sleeping,
            |v| v != last,
            Instant::now() + CHILD_POLL,
        );
        if !rung {
            if rustix::process::getppid() != parent {
                return Ok(());
            }
            continue;
        }
        let seq = c.request_seq.load(Ordering::Acquire);
        last = seq;
        hot.arrived(Instant::now());
        handoff::note_arrival(c);
        let quit = c.op.load(Ordering::Relaxed) == QUIT;
        ring(&c.response_seq, &c.bridge_sleeping, seq);
        hot.answered(Instant::now());
        if quit {
            return Ok(());
        }
    }
}
