//! The first frames on every connection: each side states its protocol
//! version and build id, and both refuse a peer that differs.

use crate::ProtocolError;
use serde::{Deserialize, Serialize};

/// Bumped on every incompatible change of the wire format.
pub const PROTOCOL_VERSION: u32 = 3;
/// Package version plus a hash of the protocol and shared-memory sources.
pub const BUILD_ID: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "+",
    env!("BULKHEAD_PROTOCOL_HASH")
);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Hello {
    pub protocol: u32,
    pub build: String,
    pub pid: u32,
}

impl Hello {
    pub fn ours() -> Self {
        Self {
            protocol: PROTOCOL_VERSION,
            build: BUILD_ID.to_string(),
            pid: std::process::id(),
        }
    }

    /// Accepts the peer's hello only when it matches ours exactly.
    ///
    /// # Errors
    /// `VersionMismatch` naming both sides' versions.
    pub fn check(&self) -> Result<(), ProtocolError> {
        if self.protocol == PROTOCOL_VERSION && self.build == BUILD_ID {
            Ok(())
        } else {
            Err(ProtocolError::VersionMismatch {
                ours: PROTOCOL_VERSION,
                our_build: BUILD_ID.to_string(),
                theirs: self.protocol,
                their_build: self.build.clone(),
            })
        }
    }
}
