//! The host's main thread: requests from the bridge, the plugin's
//! `request_callback`, its timers and its file descriptors, multiplexed with
//! `poll`. This thread created the plugin instances and makes every
//! main-thread call into them.

use crate::clap::ClapServer;
use crate::error::HostError;
use crate::outbox::Outbox;
use bulkhead_common::protocol::wire::{self, Control, Message, Reply};
use bulkhead_common::ProtocolError;
use clack_extensions::posix_fd::FdFlags;
use rustix::event::{poll, PollFd, PollFlags};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Longest sleep when no timer is due; bounds how late a liveness check runs.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// A frame the bridge started must keep moving; a bridge that stops
/// reading our replies or callbacks this long is gone.
pub const PEER_IDLE: Duration = Duration::from_secs(10);

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

/// Serves until the bridge disconnects (a normal end) or the connection
/// breaks.
///
/// # Errors
/// A transport failure other than disconnection.
pub fn run(stream: &UnixStream, outbox: &Outbox, server: &mut ClapServer) -> Result<(), HostError> {
    let mut buf = Vec::with_capacity(64 * 1024);
    let parent = rustix::process::getppid();
    loop {
        // Liveness: a host whose bridge's process is gone exits, even if
        // something else still holds the socket open.
        if rustix::process::getppid() != parent {
            return Err(HostError::Disconnected);
        }
        // Registered plugin fds, by instance.
        let plugin_fds: Vec<(u64, i32, u32)> = server
            .instances
            .iter()
            .flat_map(|(&id, inst)| {
                inst.registry
                    .borrow()
                    .fds
                    .iter()
                    .map(move |&(fd, fl)| (id, fd, fl))
                    .collect::<Vec<_>>()
            })
            .collect();
        let next_timer = server
            .instances
            .values()
            .flat_map(|i| i.registry.borrow().timers.iter().map(|t| t.2).min())
            .min();
        let timeout = next_timer
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(IDLE_POLL)
            .min(IDLE_POLL);
        let wake = std::sync::Arc::clone(&server.wake);
        let mut fds = vec![
            PollFd::new(stream, PollFlags::IN),
            PollFd::new(&*wake, PollFlags::IN),
        ];
        for &(_, fd, fl) in &plugin_fds {
            // SAFETY: the plugin registered this fd and keeps it open until it
            // unregisters it, which can only happen on this thread.
            let b = unsafe { BorrowedFd::borrow_raw(fd) };
            fds.push(PollFd::from_borrowed_fd(b, fd_flags_to_poll(fl)));
        }
        let ts = rustix::time::Timespec {
            tv_sec: timeout.as_secs() as i64,
            tv_nsec: timeout.subsec_nanos() as i64,
        };
        match poll(&mut fds, Some(&ts)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(ProtocolError::Io(e.into()).into()),
        }
        let sock_ready = fds[0].revents();
        let wake_ready = !fds[1].revents().is_empty();
        let fd_events: Vec<(u64, i32, u32)> = plugin_fds
            .iter()
            .zip(&fds[2..])
            .filter(|(_, p)| !p.revents().is_empty())
            .map(|(&(id, fd, _), p)| (id, fd, poll_to_fd_flags(p.revents())))
            .collect();
        drop(fds);

        if wake_ready {
            let _ = rustix::io::read(wake.as_fd(), &mut [0u8; 8]);
            server.run_requested_callbacks();
        }
        for (id, fd, flags) in fd_events {
            if let Some(calls) = server.calls(id) {
                calls.on_fd(fd, flags);
            }
        }
        fire_due_timers(server);
        if sock_ready.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
            serve_one(stream, outbox, server, &mut buf)?;
        }
    }
}

fn fire_due_timers(server: &mut ClapServer) {
    let now = Instant::now();
    let due: Vec<(u64, u32)> = server
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
        if let Some(calls) = server.calls(id) {
            calls.on_timer(timer);
        }
    }
}

fn serve_one(
    stream: &UnixStream,
    outbox: &Outbox,
    server: &mut ClapServer,
    buf: &mut Vec<u8>,
) -> Result<(), HostError> {
    // Readiness was seen: the frame is due, so a stalled one is cut.
    let (msg, fds) = wire::recv(stream, buf, wire::Patience::Idle(PEER_IDLE))?;
    // A spare that is put to work is a host like any other from now on.
    crate::name_process(c"bulkhead-host");
    match msg {
        Message::Request {
            seq,
            instance,
            body: Control::Clap(body),
        } => {
            tracing::trace!(seq, instance, "request {}", body.name());
            server.incoming_fds = fds;
            let reply = body.dispatch(instance, server);
            server.incoming_fds.clear();
            // Bulk bytes of the reply ride beside it; dropped once sent.
            let outgoing = std::mem::take(&mut server.outgoing_blobs);
            let fds: Vec<_> = outgoing.iter().map(|b| b.fd().as_raw_fd()).collect();
            outbox.send(
                &Message::Reply {
                    seq,
                    body: Reply::Clap(reply),
                },
                &fds,
            )?;
        }
        other => {
            tracing::warn!("ignoring unexpected message from the bridge: {other:?}");
        }
    }
    Ok(())
}
