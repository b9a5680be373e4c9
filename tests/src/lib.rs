//! A small CLAP test host for bulkhead's integration tests.
//!
//! It loads any `.clap` file (a plugin directly, or a bridged copy of it — both are plain CLAP
//! libraries here), drives instances through their whole lifecycle on the calling thread, records
//! every host callback the plugin makes, and renders deterministic sessions whose results can be
//! compared bit for bit.
//!
//! ```no_run
//! use bulkhead_tests::*;
//!
//! # fn main() -> Result<(), TestHostError> {
//! let lib = PluginLibrary::load(sample_plugin_path("gain")?)?;
//! let spec = RenderSpec {
//!     block_sizes: vec![1, 7, 64, 4096, 33],
//!     events: vec![TimedEvent::new(100, Event::param_value(0, 0.5))],
//!     ..RenderSpec::default()
//! };
//! let a = render(&lib, "org.bulkhead.sample.gain", &spec)?;
//! let b = render(&lib, "org.bulkhead.sample.gain", &spec)?;
//! a.compare(&b).expect("renders differ");
//! # Ok(()) }
//! ```
//!
//! Threading: the thread that creates an [`Instance`] is both its main thread and its audio
//! thread. The host's `thread-check` answers "audio thread" only while the host is inside an
//! audio-thread call and "main thread" otherwise; callbacks made from the wrong thread are recorded
//! in [`HostRecord::thread_violations`].

mod bridged;
mod cli;
mod error;
mod events;
mod host;
mod instance;
mod library;
mod paths;
#[cfg(test)]
mod probe;
mod render;
#[cfg(test)]
mod selftest;
mod streams;

pub use bridged::{
    bridged_copy, bridged_sample, bridged_sample_with_policy, built_artifact, host_processes_of,
    scratch_dir, shim_copy, Leaks,
};
pub use cli::{
    copy_tree, snapshot_diff, CliRig, CLI_SAMPLES, CLI_VST3_SAMPLES, CRASHING, FAULT_AT_INIT_ENV,
    NOT_A_PLUGIN, VST3_BUNDLE, VST3_FAULTING, VST3_FAULT_ENV, VST3_NOT_A_PLUGIN,
};
pub mod block_rig;
pub mod fault_plugin;
pub use error::{Result, TestHostError};
pub use events::{
    Event, EventData, InEvent, NoteKind, NoteTarget, OutEvent, TimedEvent, Transport, HEADER_SIZE,
    MAX_EVENT_SIZE, MAX_SYSEX_SIZE,
};
pub use host::{HostCall, HostConfig, HostRecord, LogMessage};
pub use instance::{
    AudioBuffers, AudioPortInfo, AudioPortLayout, InPlace, Instance, NotePortInfo, ParamInfo,
    ProcessResult, ProcessStatus, RenderMode, Sample, StreamStats, VoiceInfo,
};
pub use library::{Descriptor, PluginLibrary};
pub use paths::{plugin_search_dirs, sample_plugin_file_name, sample_plugin_path};
pub use render::{
    render, render_instance, InputSignal, Precision, RenderOutput, RenderSpec, TransportSpec,
};

/// What the bridge's audio-path allocation audit reports.
pub use bulkhead_common::alloc_audit::AudioAuditCounts;
/// Raw CLAP definitions, for tests that need constants such as `CLAP_EVENT_*`.
pub use bulkhead_common::manifest::Policy;
/// Log severity of [`LogMessage`] (re-exported from clack-extensions).
pub use clack_extensions::log::LogSeverity;
pub use clap_sys;

/// The VST3 test host.
pub mod vst3;
