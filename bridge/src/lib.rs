//! The bulkhead bridge: a CLAP plugin library whose plugins are proxies for
//! the plugins of a real `.clap` file, each running in its own
//! `bulkhead-host` process. A bridged copy is this library under another
//! name with a manifest beside it ([`bulkhead_common::manifest`]).

pub mod audio;
pub mod clap;
pub mod error;
pub mod guard;
pub mod launcher;
pub mod link;
pub mod process;
pub mod supervision;
pub mod vst3;

pub use error::BridgeError;

/// Counts allocations on the DAW's audio thread inside the bridge, so tests
/// can prove there are none (see `bulkhead_common::alloc_audit`).
#[global_allocator]
static ALLOCATOR: bulkhead_common::alloc_audit::AuditedAllocator =
    bulkhead_common::alloc_audit::AuditedAllocator;
