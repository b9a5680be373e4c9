use bulkhead_common::ProtocolError;

/// Errors that end the host process.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("the bridge disconnected")]
    Disconnected,
    #[error(transparent)]
    Protocol(ProtocolError),
    #[error("bad arguments: {0}")]
    Usage(String),
    #[error("{0}")]
    Scan(String),
}

impl From<ProtocolError> for HostError {
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::Disconnected => HostError::Disconnected,
            other => HostError::Protocol(other),
        }
    }
}
