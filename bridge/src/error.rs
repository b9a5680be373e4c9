use bulkhead_common::manifest::ManifestError;
use bulkhead_common::protocol::RemoteError;
use bulkhead_common::ProtocolError;
use std::path::PathBuf;

/// Errors of the bridge layer.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The host process closed its socket or died.
    #[error("the host process disconnected")]
    Disconnected,
    #[error(transparent)]
    Protocol(ProtocolError),
    #[error("the plugin refused: {0}")]
    Remote(#[from] RemoteError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(
        "cannot find the bulkhead-host binary (looked at {0}); \
         install it next to the bridge, in ~/.local/lib/bulkhead, or on PATH, \
         or set BULKHEAD_HOST"
    )]
    HostBinaryMissing(String),
    #[error("cannot start the host process {path}: {source}")]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the host answered with the wrong reply type")]
    WrongReply,
    #[error("no answer from the host process within {0:?}")]
    Timeout(std::time::Duration),
    /// Calls between bridge and host nested deeper than the protocol allows.
    #[error("calls between bridge and host nested deeper than {0}")]
    TooDeep(usize),
    /// A bridge loaded inside a bulkhead host process would start hosts
    /// without bound.
    #[error(
        "bulkhead refuses to bridge from inside its own host process (pid {0}): \
         the plugin it was asked to load is itself a bridged copy"
    )]
    InsideHost(String),
}

impl From<ProtocolError> for BridgeError {
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::Disconnected => BridgeError::Disconnected,
            ProtocolError::Timeout(d) => BridgeError::Timeout(d),
            other => BridgeError::Protocol(other),
        }
    }
}
