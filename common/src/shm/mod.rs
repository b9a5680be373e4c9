//! The shared-memory audio block: one memfd per plugin instance holding the
//! control words, transport, events and audio of a block, and the futex
//! doorbell that hands a block from the bridge to the host and back.

pub mod check;
pub mod control;
pub mod deadline;
pub mod doorbell;
pub mod events;
pub mod handoff;
pub mod layout;
pub mod region;

pub use control::{AudioOp, Control, MAX_PORTS};
pub use layout::{AudioLayout, ShmLayout};
pub use region::ShmRegion;
