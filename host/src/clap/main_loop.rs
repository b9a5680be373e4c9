//! The CLAP server as the main loop sees it: the plugins' timers and
//! descriptors (clack's `posix-fd` flags mapped to `poll`'s), the wake-ups
//! they request, and requests dispatched to the CLAP handlers.

use super::ClapServer;
use crate::format::FormatServer;
use bulkhead_common::bulk::Blob;
use bulkhead_common::protocol::wire::{Control, Reply};
use bulkhead_common::InstanceId;
use clack_extensions::posix_fd::FdFlags;
use rustix::event::PollFlags;
use std::os::fd::{OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Instant;

fn fd_flags_to_poll(flags: u32) -> PollFlags {
    let mut p = PollFlags::empty();
    if flags & FdFlags::READ.bits() != 0 {
        p |= PollFlags::IN;
    }
    if flags & FdFlags::WRITE.bits() != 0 {
        p |= PollFlags::OUT;
    }
    if flags & FdFlags::ERROR.bits() != 0 {
        p |= PollFlags::ERR;
    }
    p
}

fn poll_to_fd_flags(p: PollFlags) -> u32 {
    let mut f = 0;
    if p.contains(PollFlags::IN) {
        f |= FdFlags::READ.bits();
    }
    if p.contains(PollFlags::OUT) {
        f |= FdFlags::WRITE.bits();
    }
    if p.intersects(PollFlags::ERR | PollFlags::HUP) {
        f |= FdFlags::ERROR.bits();
    }
    f
}

impl FormatServer for ClapServer {
    fn wake(&self) -> Arc<OwnedFd> {
        Arc::clone(&self.wake)
    }

    fn watched_fds(&self) -> Vec<(InstanceId, RawFd, PollFlags)> {
        self.instances
            .iter()
            .flat_map(|(&id, inst)| {
                inst.registry
                    .borrow()
                    .fds
                    .iter()
                    .map(move |&(fd, fl)| (id, fd, fd_flags_to_poll(fl)))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn next_timer(&self) -> Option<Instant> {
        self.instances
            .values()
            .flat_map(|i| i.registry.borrow().timers.iter().map(|t| t.2).min())
            .min()
    }

    fn on_wake(&mut self) {
        self.run_requested_callbacks();
    }

    fn on_fd(&mut self, instance: InstanceId, fd: RawFd, events: PollFlags) {
        if let Some(calls) = self.calls(instance) {
            calls.on_fd(fd, poll_to_fd_flags(events));
        }
    }

    fn fire_due_timers(&mut self, now: Instant) {
        let due: Vec<(InstanceId, u32)> = self
            .instances
            .iter()
            .flat_map(|(&id, inst)| {
                let mut reg = inst.registry.borrow_mut();
                reg.timers
                    .iter_mut()
                    .filter(|t| t.2 <= now)
                    .map(|t| {
                        t.2 = now + t.1;
                        (id, t.0)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        for (id, timer) in due {
            if let Some(calls) = self.calls(id) {
                calls.on_timer(timer);
            }
        }
    }

    fn serve(
        &mut self,
        instance: InstanceId,
        body: Control,
        fds: Vec<OwnedFd>,
    ) -> Option<(Reply, Vec<Blob>)> {
        let Control::Clap(body) = body else {
            return None;
        };
        tracing::trace!(instance, "request {}", body.name());
        self.incoming_fds = fds;
        let reply = body.dispatch(instance, self);
        self.incoming_fds.clear();
        let blobs = std::mem::take(&mut self.outgoing_blobs);
        Some((Reply::Clap(reply), blobs))
    }
}
