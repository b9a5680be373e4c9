//! What the host's main loop needs of a plugin format's server. The loop
//! (`event_loop`) is format-neutral; `clap::ClapServer` implements this
//! and `vst3::Vst3Server` beside it.

use bulkhead_common::bulk::Blob;
use bulkhead_common::protocol::wire::{Control, Reply};
use bulkhead_common::InstanceId;
use rustix::event::PollFlags;
use std::os::fd::{OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Instant;

/// The formats a host process can serve, as the bridge names them on the
/// command line (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Clap,
    Vst3,
}

impl Format {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "clap" => Some(Self::Clap),
            "vst3" => Some(Self::Vst3),
            _ => None,
        }
    }
}

pub trait FormatServer {
    /// Written to (by any plugin thread) when a plugin wants the main
    /// thread; the loop then calls [`FormatServer::on_wake`].
    fn wake(&self) -> Arc<OwnedFd>;
    /// The descriptors the plugins asked to have watched.
    fn watched_fds(&self) -> Vec<(InstanceId, RawFd, PollFlags)>;
    /// When the next plugin timer is due.
    fn next_timer(&self) -> Option<Instant>;
    fn on_wake(&mut self);
    fn on_fd(&mut self, instance: InstanceId, fd: RawFd, events: PollFlags);
    fn fire_due_timers(&mut self, now: Instant);
    /// Serves one request with the descriptors that came with it; the reply
    /// and the bulk bytes to send beside it. `None` for a request of another
    /// format.
    fn serve(
        &mut self,
        instance: InstanceId,
        body: Control,
        fds: Vec<OwnedFd>,
    ) -> Option<(Reply, Vec<Blob>)>;
}
