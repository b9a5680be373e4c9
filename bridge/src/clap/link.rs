//! The current host connection of one proxy and its health, shared by the
//! DAW-facing proxy, its supervisor, the reader thread and the audio thread.

use crate::host_process::HostProcess;
use bulkhead_common::shm::ShmRegion;
use bulkhead_common::InstanceId;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct Link {
    process: Mutex<Option<Arc<HostProcess>>>,
    instance: AtomicU64,
    /// The audio thread may hand blocks to the host.
    pub up: AtomicBool,
    /// Set by the audio thread around a block handoff (see `quiesce`).
    pub in_flight: AtomicBool,
    /// The restored host must be told to start processing before the next
    /// block.
    pub needs_start: AtomicBool,
    /// A call went unanswered: the supervisor treats the host as hung.
    pub hung: AtomicBool,
    /// The host broke the protocol (a message it had no business sending):
    /// the supervisor ends it as if it had crashed.
    pub broken: AtomicBool,
    /// The plugin called `state.mark_dirty` since the last saved state.
    pub state_dirty: AtomicBool,
    /// Too many crashes: the plugin stays silent.
    pub failed: AtomicBool,
    /// The DAW acted on a failed plugin (loaded a state, activated it): the
    /// supervisor tries once more with a fresh crash budget.
    pub revive: AtomicBool,
    /// A restart is under way; DAW calls that must see the restored plugin
    /// (state save and load) wait for it.
    restoring: Mutex<bool>,
    restored: std::sync::Condvar,
    /// The active audio region, so a dying host's waiter can be woken.
    pub region: Mutex<Option<Arc<ShmRegion>>>,
    /// Socket-synchronised mode: our end of the block socket, and its
    /// number for the audio thread (-1: futex mode).
    sync: Mutex<Option<OwnedFd>>,
    pub sync_fd: AtomicI32,
    /// How long an audio block may take before it is output as silence, in
    /// ms: the policy's `audio_timeout_ms`, or the patient `slow_timeout_ms`
    /// while the DAW renders offline (a late block there is not an xrun but
    /// lost work).
    pub audio_timeout_ms: AtomicU64,
    /// The DAW renders offline: every block is waited for
    /// `audio_timeout_ms`, however the DAW paces them.
    pub offline: AtomicBool,
    /// Wakes the supervisor when something happened (a host died).
    nudge: (
        crossbeam_channel::Sender<()>,
        crossbeam_channel::Receiver<()>,
    ),
}

impl Default for Link {
    fn default() -> Self {
        Self {
            process: Mutex::default(),
            instance: AtomicU64::default(),
            up: AtomicBool::default(),
            in_flight: AtomicBool::default(),
            needs_start: AtomicBool::default(),
            hung: AtomicBool::default(),
            broken: AtomicBool::default(),
            state_dirty: AtomicBool::default(),
            failed: AtomicBool::default(),
            revive: AtomicBool::default(),
            restoring: Mutex::new(false),
            restored: std::sync::Condvar::new(),
            region: Mutex::default(),
            sync: Mutex::default(),
            sync_fd: AtomicI32::new(-1),
            audio_timeout_ms: AtomicU64::new(1_000),
            offline: AtomicBool::new(false),
            nudge: crossbeam_channel::bounded(1),
        }
    }
}

impl Link {
    /// A fresh block socket for an activation in socket-synchronised mode;
    /// keeps our end (closing any previous one) and returns the host's.
    /// Call while the audio thread is quiet (down, or not yet active).
    pub fn new_sync_socket(&self) -> std::io::Result<OwnedFd> {
        use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        self.sync_fd.store(ours.as_raw_fd(), Ordering::SeqCst);
        *self.sync.lock().unwrap_or_else(|p| p.into_inner()) = Some(ours);
        Ok(theirs)
    }

    pub fn process(&self) -> Option<Arc<HostProcess>> {
        self.process
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn instance(&self) -> InstanceId {
        self.instance.load(Ordering::Acquire)
    }

    pub fn connect(&self, process: Arc<HostProcess>, instance: InstanceId) {
        self.instance.store(instance, Ordering::Release);
        *self.process.lock().unwrap_or_else(|p| p.into_inner()) = Some(process);
    }

    /// Accepts a callback only if it names our instance; anything else is a
    /// broken host.
    pub fn check_instance(&self, instance: InstanceId) -> bool {
        let ok = instance == self.instance();
        if !ok {
            tracing::error!(instance, "host sent a callback for an unknown instance");
            self.broken.store(true, Ordering::Release);
        }
        ok
    }

    /// Marks a restart as under way (`true`) or over (`false`, waking the
    /// calls that wait for it).
    pub fn set_restoring(&self, on: bool) {
        *self.restoring.lock().unwrap_or_else(|p| p.into_inner()) = on;
        if !on {
            self.restored.notify_all();
        }
    }

    /// Waits, at most `timeout`, until the plugin is either running on a
    /// live host with no restart under way, or given up on: a host that
    /// just died is about to be restarted, and a state call made now must
    /// see the restored plugin, not answer from the dead one and then
    /// differently a moment later. True when a live host serves.
    pub fn settle(&self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let restoring = *self.restoring.lock().unwrap_or_else(|p| p.into_inner());
            let live = self.process().is_some_and(|p| p.is_alive());
            if !restoring && (live || self.failed.load(Ordering::Acquire)) {
                return live;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            let guard = self.restoring.lock().unwrap_or_else(|p| p.into_inner());
            // Woken at the end of a restart; a death not yet seen by the
            // supervisor is looked at again shortly.
            let _ = self
                .restored
                .wait_timeout(guard, left.min(std::time::Duration::from_millis(10)));
        }
    }

    /// Asks the supervisor to look now.
    pub fn nudge(&self) {
        let _ = self.nudge.0.try_send(());
    }

    pub fn take_process(&self) -> Option<Arc<HostProcess>> {
        self.process
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Stops audio handoffs and wakes an audio thread waiting on a host
    /// that will not answer. Called from the reader thread when the host
    /// dies, and by the supervisor.
    /// The supervisor's end of the nudges.
    pub fn nudges(&self) -> crossbeam_channel::Receiver<()> {
        self.nudge.1.clone()
    }

    pub fn mark_down(&self) {
        self.up.store(false, Ordering::SeqCst);
        let _ = self.nudge.0.try_send(());
        if let Some(r) = self
            .region
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            let _ = rustix::thread::futex::wake(
                &r.control().response_seq,
                rustix::thread::futex::Flags::empty(),
                1,
            );
        }
    }

    /// Waits until the audio thread is outside any handoff, after `mark_down`;
    /// from then on it will not touch the control words until `up` is set.
    pub fn quiesce(&self) {
        while self.in_flight.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
    }
}
