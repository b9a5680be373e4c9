//! The error type of the support crate.

use std::path::PathBuf;

/// What can go wrong while loading a bundle or talking to its factory.
#[derive(Debug, thiserror::Error)]
pub enum Vst3Error {
    /// The bundle (or its binary inside `Contents/<arch>-linux/`) does not exist.
    #[error("VST3 binary not found: {}", path.display())]
    BinaryMissing {
        /// The path that was looked for.
        path: PathBuf,
    },
    /// `dlopen` refused the binary.
    #[error("dlopen {} failed: {reason}", path.display())]
    Dlopen {
        /// The binary.
        path: PathBuf,
        /// `dlerror()`'s text.
        reason: String,
    },
    /// A required export is missing.
    #[error("{} does not export {symbol}", path.display())]
    MissingExport {
        /// The binary.
        path: PathBuf,
        /// The symbol looked for.
        symbol: &'static str,
    },
    /// `ModuleEntry` returned false.
    #[error("ModuleEntry of {} returned false", path.display())]
    ModuleEntryFailed {
        /// The binary.
        path: PathBuf,
    },
    /// `GetPluginFactory` returned null.
    #[error("GetPluginFactory of {} returned null", path.display())]
    NoFactory {
        /// The binary.
        path: PathBuf,
    },
    /// `createInstance` failed.
    #[error("createInstance of class {cid} as {interface} failed (tresult {result})")]
    CreateInstance {
        /// The class id, as hex.
        cid: String,
        /// The interface asked for.
        interface: &'static str,
        /// The plugin's answer.
        result: i32,
    },
    /// A plugin call answered something other than success.
    #[error("{call} failed (tresult {result})")]
    Call {
        /// The call, e.g. `IComponent::setState`.
        call: &'static str,
        /// The plugin's answer.
        result: i32,
    },
    /// An object does not answer an interface it must have.
    #[error("object does not implement {0}")]
    NoInterface(&'static str),
    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}
