//! Supervision, format-neutral: a group is one host process and the
//! objects living in it; its supervisor restarts the process and restores
//! every object when it crashes or hangs.

pub mod bulk_pages;
pub mod group;
pub mod member;
pub mod supervisor;
#[cfg(test)]
mod tests;

pub use group::HostGroup;
pub use member::Member;
