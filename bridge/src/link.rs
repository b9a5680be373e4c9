//! One object's connection to its host process and its audio health,
//! shared by the DAW-facing proxy, the group's supervisor, the reader
//! thread and the audio thread. The process itself and its health belong
//! to the group ([`HostGroup`]).

use crate::process::HostProcess;
use crate::supervision::HostGroup;
use bulkhead_common::shm::ShmRegion;
use bulkhead_common::InstanceId;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Link {
    pub group: Arc<HostGroup>,
    /// The process this object is live in: set once it is fully restored,
    /// cleared when its host dies.
    process: Mutex<Option<Arc<HostProcess>>>,
    instance: AtomicU64,
    /// The audio thread may hand blocks to the host.
    pub up: AtomicBool,
    /// Set by the audio thread around a block handoff (see `quiesce`).
    pub in_flight: AtomicBool,
    /// The host must be told to start processing before the next block (a
    /// restored host; a VST3 `setProcessing(true)`).
    pub needs_start: AtomicBool,
    /// The host must be told to stop processing before the next block (a
    /// VST3 `setProcessing(false)`, which may come on the audio thread).
    pub needs_stop: AtomicBool,
    /// VST3: the DAW has the plugin processing (read by restores, written
    /// without a lock by `setProcessing`).
    pub processing: AtomicBool,
    /// The plugin called `state.mark_dirty` since the last saved state.
    pub state_dirty: AtomicBool,
    /// When the state was last saved in the background (the first look
    /// starts the clock).
    last_refresh: Mutex<Option<Instant>>,
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
    /// The DAW activated the plugin (and has not deactivated it): read by
    /// calls that CLAP allows on the audio thread, where no lock is taken.
    pub active: AtomicBool,
    /// The tail the host reported with the last block.
    pub last_tail: AtomicU32,
    /// An unanswered audio request and since when (the supervisor's).
    pub stuck: Mutex<Option<(u32, Instant)>>,
    /// Region hand-over on restarts and the audio thread's fault report
    /// (see `audio::RegionWatch`).
    pub audio: crate::audio::RegionWatch,
}

impl Link {
    pub fn new(group: Arc<HostGroup>) -> Self {
        Self {
            group,
            process: Mutex::default(),
            instance: AtomicU64::default(),
            up: AtomicBool::default(),
            in_flight: AtomicBool::default(),
            needs_start: AtomicBool::default(),
            needs_stop: AtomicBool::default(),
            processing: AtomicBool::default(),
            state_dirty: AtomicBool::default(),
            last_refresh: Mutex::default(),
            region: Mutex::default(),
            sync: Mutex::default(),
            sync_fd: AtomicI32::new(-1),
            audio_timeout_ms: AtomicU64::new(1_000),
            offline: AtomicBool::new(false),
            active: AtomicBool::new(false),
            last_tail: AtomicU32::new(0),
            stuck: Mutex::new(None),
            audio: Default::default(),
        }
    }

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

    pub fn set_instance(&self, instance: InstanceId) {
        self.instance.store(instance, Ordering::Release);
    }

    pub fn connect(&self, process: Arc<HostProcess>, instance: InstanceId) {
        self.instance.store(instance, Ordering::Release);
        *self.process.lock().unwrap_or_else(|p| p.into_inner()) = Some(process);
    }

    pub fn disconnect(&self) -> Option<Arc<HostProcess>> {
        self.process
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Stops audio handoffs and wakes an audio thread waiting on a host
    /// that will not answer. Called from the reader thread when the host
    /// dies, and by the supervisor.
    pub fn mark_down(&self) {
        self.up.store(false, Ordering::SeqCst);
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

    /// The host has not answered the pending audio request for longer than
    /// `hang_timeout_ms` (and the block's own deadline, long when offline).
    /// Called by the supervisor on every look.
    pub fn audio_stuck(&self, hang_timeout_ms: u64) -> bool {
        let region = self
            .region
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut stuck = self.stuck.lock().unwrap_or_else(|p| p.into_inner());
        let Some(region) = region else {
            *stuck = None;
            return false;
        };
        let c = region.control();
        let req = c.request_seq.load(Ordering::Acquire);
        if req == c.response_seq.load(Ordering::Acquire) {
            *stuck = None;
            return false;
        }
        match *stuck {
            Some((s, since)) if s == req => {
                let block_deadline =
                    Duration::from_millis(self.audio_timeout_ms.load(Ordering::Relaxed));
                since.elapsed() >= Duration::from_millis(hang_timeout_ms).max(block_deadline)
            }
            _ => {
                *stuck = Some((req, Instant::now()));
                false
            }
        }
    }

    /// The audit counts of this library and of the host serving this
    /// object (see `bulkhead_common::alloc_audit`); whether there were host
    /// counts (an active audio region).
    pub fn audit_counts(&self) -> (bulkhead_common::alloc_audit::AudioAuditCounts, bool) {
        use bulkhead_common::alloc_audit;
        let mut counts = alloc_audit::AudioAuditCounts {
            bridge_sections: alloc_audit::sections(),
            bridge_allocations: alloc_audit::allocations(),
            ..Default::default()
        };
        let region = self.region.lock().ok().and_then(|r| r.clone());
        if let Some(region) = &region {
            let c = region.control();
            counts.host_sections = c.host_sections.load(Ordering::Relaxed);
            counts.host_allocations = c.host_allocations.load(Ordering::Relaxed);
        }
        (counts, region.is_some())
    }

    /// Why the object gave up on its host, for the supervisor's log: a
    /// callback flood (`flood` callbacks in a second), else what the audio
    /// thread found in the region.
    pub fn fault_reason(&self, flood: Option<u64>) -> Option<String> {
        flood
            .map(|n| format!("{n} callbacks within one second"))
            .or_else(|| {
                self.audio
                    .take_fault()
                    .map(|f| format!("audio region: {f}"))
            })
    }
}

impl Link {
    /// Whether a background save of the state is due: every `every`, and
    /// sooner, though not more often than `debounce` (plugins may say so
    /// on every edit), after the plugin said its state changed. When due,
    /// the clock restarts and the change is taken as saved.
    pub fn save_due(&self, every: Duration, debounce: Duration) -> bool {
        let now = Instant::now();
        let mut last = self.last_refresh.lock().unwrap_or_else(|p| p.into_inner());
        let since = now.duration_since(*last.get_or_insert(now));
        let dirty = self.state_dirty.load(Ordering::Acquire);
        if since < every && !(dirty && since >= debounce.min(every)) {
            return false;
        }
        *last = Some(now);
        self.state_dirty.store(false, Ordering::Release);
        true
    }
}
