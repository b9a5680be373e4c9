//! The parts both sides of bulkhead share: the wire protocol, its codec and
//! framing, the handshake, the shared-memory audio block, bridged-copy
//! manifests, the user's config file, plugin scan reports and logging setup.

pub mod alloc_audit;
pub mod bulk;
pub mod codec;
pub mod config;
pub mod error;
pub mod framing;
pub mod fuzzing;
pub mod handshake;
pub mod logging;
pub mod manifest;
pub mod protocol;
pub mod scan;
pub mod shm;

pub use error::ProtocolError;

/// Identifies one plugin object inside one host process. Handed out by the
/// host and never reused within that process.
pub type InstanceId = u64;
