//! The control block at the start of the region. Every field is atomic:
//! the other process may write at any time, and atomics make that a value
//! to validate rather than undefined behaviour.

use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64};

/// Most audio ports per direction a bridged plugin may have.
pub const MAX_PORTS: usize = 32;
/// Identifies a region laid out by this version of bulkhead.
pub const MAGIC: u64 = u64::from_le_bytes(*b"BLKHD001");

/// What the bridge asks the host's audio thread to do with a block.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioOp {
    Process = 1,
    StartProcessing = 2,
    StopProcessing = 3,
    Reset = 4,
    ParamsFlush = 5,
}

impl AudioOp {
    pub fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            1 => Self::Process,
            2 => Self::StartProcessing,
            3 => Self::StopProcessing,
            4 => Self::Reset,
            5 => Self::ParamsFlush,
            _ => return None,
        })
    }
}

/// Values of [`Control::status`] beyond what the operation itself returns.
pub mod status {
    /// The host found the request garbled (see [`super::Control::fault`])
    /// and did not act on it. No format's block result nor a bool.
    pub const INVALID_REQUEST: i32 = -1;
}

/// Bits of [`Control::port_flags_in`] and [`Control::port_flags_out`].
pub mod port_flags {
    /// The port's buffers hold `f64` samples this block.
    pub const F64: u32 = 1;
}

/// Bits of [`Control::callbacks`]: host calls made on the plugin's audio
/// thread, raised here instead of going through the socket.
pub mod callback_flags {
    pub const REQUEST_RESTART: u32 = 1;
    pub const REQUEST_PROCESS: u32 = 2;
    pub const REQUEST_CALLBACK: u32 = 4;
    pub const PARAMS_REQUEST_FLUSH: u32 = 8;
    pub const TAIL_CHANGED: u32 = 16;
}

#[repr(C, align(64))]
pub struct Control {
    pub magic: AtomicU64,
    /// Bumped by the bridge when a request is ready; the host waits on it.
    pub request_seq: AtomicU32,
    /// Set by the host to the request's sequence number when it is done.
    pub response_seq: AtomicU32,
    /// Non-zero while the host sleeps on `request_seq`.
    pub host_sleeping: AtomicU32,
    /// Non-zero while the bridge sleeps on `response_seq`.
    pub bridge_sleeping: AtomicU32,
    pub op: AtomicU32,
    pub frames: AtomicU32,
    pub steady_time: AtomicU64,
    pub has_transport: AtomicU32,
    pub in_events_len: AtomicU32,
    pub out_events_len: AtomicU32,
    /// The block's result in the plugin's format (a `clap_process_status`;
    /// a VST3 `tresult` in 0..=4), or a bool for other ops.
    pub status: AtomicI32,
    pub callbacks: AtomicU32,
    /// The plugin's tail in frames, refreshed after every block.
    pub tail: AtomicU32,
    pub port_flags_in: [AtomicU32; MAX_PORTS],
    pub port_flags_out: [AtomicU32; MAX_PORTS],
    pub constant_mask_in: [AtomicU64; MAX_PORTS],
    pub constant_mask_out: [AtomicU64; MAX_PORTS],
    pub latency_in: [AtomicU32; MAX_PORTS],
    pub latency_out: [AtomicU32; MAX_PORTS],
    /// The calling audio thread's scheduling policy and priority, so the
    /// host's audio thread can mirror them.
    pub sched_policy: AtomicI32,
    pub sched_priority: AtomicI32,
    /// Blocks the bridge gave up waiting for (counted on the bridge side).
    pub missed_blocks: AtomicU64,
    /// CLOCK_MONOTONIC nanoseconds of the last handoff: when the bridge
    /// rang, when the host saw it, and when the host answered. For
    /// benchmarks and diagnostics; nothing depends on them.
    pub rung_ns: AtomicU64,
    pub arrived_ns: AtomicU64,
    pub answered_ns: AtomicU64,
    /// The host binary's audio-section counts
    /// ([`crate::alloc_audit`]), refreshed after every operation.
    pub host_sections: AtomicU64,
    pub host_allocations: AtomicU64,
    /// The CPU the host's audio thread picked the last request up on
    /// (see [`crate::shm::handoff`]).
    pub host_cpu: AtomicU32,
    /// Why the host refused the last request ([`crate::shm::check::RegionFault`]
    /// as a number), when it answered with [`status::INVALID_REQUEST`].
    pub fault: AtomicU32,
}
