//! The error type of the test host.

use std::path::PathBuf;

/// Everything that can go wrong while loading, driving or rendering a plugin.
#[derive(Debug, thiserror::Error)]
pub enum TestHostError {
    /// The plugin file does not exist.
    #[error("plugin file not found: {}", path.display())]
    PluginFileMissing {
        /// The path that was given.
        path: PathBuf,
    },

    /// The dynamic library could not be loaded or its CLAP entry failed to initialise.
    #[error("failed to load CLAP library {}: {reason}", path.display())]
    LoadFailed {
        /// The library path.
        path: PathBuf,
        /// What the loader reported.
        reason: String,
    },

    /// The library's entry does not expose a plugin factory.
    #[error("CLAP library {} has no plugin factory", path.display())]
    NoPluginFactory {
        /// The library path.
        path: PathBuf,
    },

    /// No plugin with the requested id exists in the library.
    #[error("no plugin with id {id:?} in this library (available: {})", available.join(", "))]
    NoSuchPlugin {
        /// The requested id.
        id: String,
        /// The ids the library does expose.
        available: Vec<String>,
    },

    /// `create_plugin` or `init` failed.
    #[error("failed to instantiate plugin {id:?}: {reason}")]
    InstantiationFailed {
        /// The plugin id.
        id: String,
        /// Why.
        reason: String,
    },

    /// The plugin refused to activate.
    #[error("plugin activation failed: {0}")]
    ActivationFailed(String),

    /// The plugin refused to start processing.
    #[error("plugin refused to start processing")]
    StartProcessingFailed,

    /// The plugin returned `CLAP_PROCESS_ERROR` (or an unknown status).
    #[error("plugin process() returned an error status ({status})")]
    ProcessFailed {
        /// The raw status value returned by the plugin.
        status: i32,
    },

    /// An operation was attempted in the wrong lifecycle state.
    #[error("invalid plugin state: {0}")]
    InvalidState(&'static str),

    /// A caller-supplied argument is invalid (buffer layout, frame count, …).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The plugin does not implement an extension that the operation needs.
    #[error("plugin does not implement the {0} extension")]
    MissingExtension(&'static str),

    /// `clap_plugin_state.save` returned false.
    #[error("plugin failed to save its state")]
    StateSaveFailed,

    /// `clap_plugin_state.load` returned false.
    #[error("plugin rejected the state ({len} bytes)")]
    StateLoadRejected {
        /// Size of the state blob that was rejected.
        len: usize,
    },

    /// A parameter call failed (unknown id, conversion refused, …).
    #[error("parameter error: {0}")]
    Param(String),

    /// A raw event is malformed.
    #[error("invalid event: {0}")]
    InvalidEvent(String),

    /// A sample plugin built by the workspace could not be found.
    #[error("sample plugin {name:?} not found (looked for {}); build it with `cargo build -p bulkhead-sample-{name}`", searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    SamplePluginMissing {
        /// The short plugin name (e.g. `gain`).
        name: String,
        /// Every path that was tried.
        searched: Vec<PathBuf>,
    },

    /// An I/O error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Shorthand result type.
pub type Result<T, E = TestHostError> = std::result::Result<T, E>;
