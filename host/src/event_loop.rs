//! The host's main thread: requests from the bridge, the plugin's
//! `request_callback`, its timers and its file descriptors, multiplexed with
//! `poll`. This thread created the plugin instances and makes every
//! main-thread call into them.

use crate::error::HostError;
use crate::format::FormatServer;
use crate::outbox::Outbox;
use bulkhead_common::protocol::wire::{self, Message};
use bulkhead_common::ProtocolError;
use rustix::event::{poll, PollFd, PollFlags};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Longest sleep when no timer is due; bounds how late a liveness check runs.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// A frame the bridge started must keep moving; a bridge that stops
/// reading our replies or callbacks this long is gone.
pub const PEER_IDLE: Duration = Duration::from_secs(10);

/// Serves until the bridge disconnects (a normal end) or the connection
/// breaks.
///
/// # Errors
/// A transport failure other than disconnection.
pub fn run(
    stream: &UnixStream,
    outbox: &Outbox,
    server: &mut dyn FormatServer,
) -> Result<(), HostError> {
    let mut buf = Vec::with_capacity(64 * 1024);
    let parent = rustix::process::getppid();
    loop {
        // Liveness: a host whose bridge's process is gone exits, even if
        // something else still holds the socket open.
        if rustix::process::getppid() != parent {
            return Err(HostError::Disconnected);
        }
        let watched = server.watched_fds();
        let timeout = server
            .next_timer()
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(IDLE_POLL)
            .min(IDLE_POLL);
        let wake = server.wake();
        let mut fds = vec![
            PollFd::new(stream, PollFlags::IN),
            PollFd::new(&*wake, PollFlags::IN),
        ];
        for &(_, fd, events) in &watched {
            // SAFETY: the plugin registered this fd and keeps it open until it
            // unregisters it, which can only happen on this thread.
            let b = unsafe { BorrowedFd::borrow_raw(fd) };
            fds.push(PollFd::from_borrowed_fd(b, events));
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
        let fd_events: Vec<(u64, i32, PollFlags)> = watched
            .iter()
            .zip(&fds[2..])
            .filter(|(_, p)| !p.revents().is_empty())
            .map(|(&(id, fd, _), p)| (id, fd, p.revents()))
            .collect();
        drop(fds);

        if wake_ready {
            let _ = rustix::io::read(wake.as_fd(), &mut [0u8; 8]);
            server.on_wake();
        }
        for (id, fd, events) in fd_events {
            server.on_fd(id, fd, events);
        }
        server.fire_due_timers(Instant::now());
        if sock_ready.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
            serve_one(stream, outbox, server, &mut buf)?;
        }
    }
}

fn serve_one(
    stream: &UnixStream,
    outbox: &Outbox,
    server: &mut dyn FormatServer,
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
            body,
        } => {
            let Some((reply, blobs)) = server.serve(instance, body, fds) else {
                tracing::warn!(seq, "a request of a format this process does not serve");
                return Ok(());
            };
            // Bulk bytes of the reply ride beside it; dropped once sent.
            let fds: Vec<_> = blobs.iter().map(|b| b.fd().as_raw_fd()).collect();
            outbox.send(&Message::Reply { seq, body: reply }, &fds)?;
        }
        Message::Answer { seq, body } => {
            // A call that gave up waiting (see `calls_out`).
            tracing::debug!(seq, "a late answer to a call given up: {body:?}");
        }
        other => {
            tracing::warn!("ignoring unexpected message from the bridge: {other:?}");
        }
    }
    Ok(())
}
