use std::io;

/// Errors of the transport layer shared by the bridge and the host.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The other process closed its end or died.
    #[error("the peer process disconnected")]
    Disconnected,
    #[error("i/o error on the bulkhead socket: {0}")]
    Io(#[from] io::Error),
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge { len: usize, max: usize },
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("unexpected message: {0}")]
    Unexpected(&'static str),
    #[error(
        "version mismatch: this side speaks protocol {ours} (build {our_build}), \
         the peer speaks protocol {theirs} (build {their_build}); \
         install matching bulkhead bridge and host binaries"
    )]
    VersionMismatch {
        ours: u32,
        our_build: String,
        theirs: u32,
        their_build: String,
    },
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("peer credentials rejected: {0}")]
    BadPeer(String),
}

impl ProtocolError {
    /// Maps an I/O error to `Disconnected` when it means the peer is gone.
    pub fn from_io(err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted => ProtocolError::Disconnected,
            _ => ProtocolError::Io(err),
        }
    }
}
