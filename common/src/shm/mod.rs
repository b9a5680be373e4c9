//! The shared-memory audio block: one memfd per plugin instance holding the
//! control words, transport, events and audio of a block, and the futex
//! doorbell that hands a block from the bridge to the host and back.
//!
//! Everything here is format-neutral (ports and channels, 32/64-bit flags,
//! constant/silence masks, a transport area and two event areas of bytes
//! whose lengths travel in the control block); the formats put their own
//! records in the areas: CLAP's codec is [`events`], VST3's is
//! `bulkhead_vst3_support::block`.

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
