//! Host→bridge calls that wait for the DAW's answer ([`Message::Call`] →
//! [`Message::Answer`]), made on the host's main thread while the event
//! loop is suspended below the caller (a plugin calling its component
//! handler inside a request, or from a timer).
//!
//! The waiting thread reads the socket itself (nobody else reads it: the
//! loop runs on this thread): the matching answer ends the wait; a request
//! of the bridge that arrives first (the DAW asking the plugin something
//! inside its handler, e.g. `getParamNormalized` inside `performEdit`) is
//! served right there and replied, nested; anything else is logged.
//!
//! Bounds: at most [`MAX_NESTING`] calls of this host wait at once (the
//! next is refused here and the caller falls back to a one-way callback);
//! a bridge silent for [`CALL_PATIENCE`] (counted afresh after each nested
//! request served) gets no more waiting. On any other thread, or before the
//! event loop registered a [`Link`], [`call_bridge`] returns `None` at once
//! without allocating, locking or logging (the plugin's audio thread may
//! call its handler).

use crate::outbox::Outbox;
use bulkhead_common::bulk::Blob;
pub use bulkhead_common::protocol::wire::MAX_NESTING;
use bulkhead_common::protocol::wire::{self, Answer, Callback, Control, Message, Reply};
use bulkhead_common::{InstanceId, ProtocolError};
use rustix::event::{poll, PollFd, PollFlags};
use std::cell::{Cell, RefCell};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a call waits for the bridge to say anything (its answer or a
/// nested request); then the call is given up.
pub const CALL_PATIENCE: Duration = crate::event_loop::PEER_IDLE;

/// What serves the bridge's requests that arrive while a call waits: the
/// format server, entered again (through `&self`) while an outer request
/// may be on the stack.
pub trait NestedServer {
    /// As [`crate::format::FormatServer::serve`].
    fn serve_nested(
        &self,
        instance: InstanceId,
        body: Control,
        fds: Vec<OwnedFd>,
    ) -> Option<(Reply, Vec<Blob>)>;
}

/// Why a call got no answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("calls nested deeper than {MAX_NESTING}")]
    TooDeep,
    #[error("the call could not be sent: {0}")]
    NotSent(ProtocolError),
    #[error("no answer from the bridge within {0:?}")]
    NoAnswer(Duration),
    #[error("the bridge disconnected")]
    Disconnected,
    #[error("the connection broke while waiting: {0}")]
    Broken(ProtocolError),
    #[error("the reply to a nested request could not be sent: {0}")]
    ReplyNotSent(ProtocolError),
    #[error("the server is gone")]
    ServerGone,
}

/// The main thread's connection, as calls need it.
pub struct Link {
    /// A reading handle on the bridge's socket.
    stream: UnixStream,
    outbox: Arc<Outbox>,
    server: Weak<dyn NestedServer>,
    /// Our own sequence numbers (the bridge's requests have theirs).
    next_seq: Cell<u64>,
    /// Calls of this host waiting on this thread now.
    depth: Cell<usize>,
    patience: Duration,
}

thread_local! {
    /// Whether this thread runs the event loop (no destructor: reading it
    /// never allocates, even on a thread that never touched it).
    static LOOP_THREAD: Cell<bool> = const { Cell::new(false) };
    static LINK: RefCell<Option<Rc<Link>>> = const { RefCell::new(None) };
}

/// Calls are made through the link while this lives (dropped: one-way
/// callbacks again).
pub struct Registration {
    _not_send: std::marker::PhantomData<Rc<()>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        LOOP_THREAD.with(|t| t.set(false));
        let link = LINK.with(|l| l.borrow_mut().take());
        drop(link);
    }
}

/// Makes this thread (the one about to run the event loop) the one that
/// calls the bridge, reading `stream` and serving nested requests with
/// `server`.
pub fn register(
    stream: UnixStream,
    outbox: Arc<Outbox>,
    server: Weak<dyn NestedServer>,
) -> Registration {
    register_link(Link::new(stream, outbox, server, CALL_PATIENCE))
}

fn register_link(link: Link) -> Registration {
    let old = LINK.with(|l| l.borrow_mut().replace(Rc::new(link)));
    drop(old);
    LOOP_THREAD.with(|t| t.set(true));
    Registration {
        _not_send: std::marker::PhantomData,
    }
}

/// Whether calls can be made from this thread (cheap: one thread-local
/// read, nothing allocated).
pub fn on_loop_thread() -> bool {
    LOOP_THREAD.with(Cell::get)
}

/// Calls the bridge and waits for its answer, serving its requests
/// meanwhile. `None` when not on the loop's thread, nested too deep, timed
/// out, or the bridge is gone (logged): the caller falls back to a one-way
/// callback.
pub fn call_bridge(instance: InstanceId, body: Callback) -> Option<Answer> {
    if !on_loop_thread() {
        return None;
    }
    let link = LINK.with(|l| l.borrow().clone())?;
    match link.call(instance, body) {
        Ok(answer) => Some(answer),
        Err(e @ (CallError::Disconnected | CallError::ServerGone)) => {
            tracing::debug!(instance, "call not answered: {e}");
            None
        }
        Err(e) => {
            tracing::warn!(instance, "call not answered: {e}");
            None
        }
    }
}

/// Undoes a depth step when the call ends, however it ends.
struct Nested<'a>(&'a Cell<usize>);

impl Drop for Nested<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

impl Link {
    pub fn new(
        stream: UnixStream,
        outbox: Arc<Outbox>,
        server: Weak<dyn NestedServer>,
        patience: Duration,
    ) -> Self {
        Self {
            stream,
            outbox,
            server,
            next_seq: Cell::new(1),
            depth: Cell::new(0),
            patience,
        }
    }

    /// Calls waiting on this thread now.
    #[cfg(test)]
    pub fn depth(&self) -> usize {
        self.depth.get()
    }

    /// One call: sent, then frames read until its answer.
    ///
    /// # Errors
    /// [`CallError`]: too deep, not sent, no answer in time, or the
    /// connection gone.
    pub fn call(&self, instance: InstanceId, body: Callback) -> Result<Answer, CallError> {
        let depth = self.depth.get();
        if depth >= MAX_NESTING {
            return Err(CallError::TooDeep);
        }
        self.depth.set(depth + 1);
        let _nested = Nested(&self.depth);
        let seq = self.next_seq.get();
        self.next_seq.set(seq.wrapping_add(1));
        tracing::trace!(seq, instance, depth = depth + 1, "calling the bridge");
        self.outbox
            .send(
                &Message::Call {
                    seq,
                    instance,
                    body,
                },
                &[],
            )
            .map_err(|e| match e {
                ProtocolError::Disconnected => CallError::Disconnected,
                e => CallError::NotSent(e),
            })?;
        // Each level reads into its own buffer: the levels below still
        // hold theirs.
        let mut buf = Vec::new();
        let mut deadline = Instant::now() + self.patience;
        loop {
            self.wait_readable(deadline)?;
            // Readiness was seen: the frame is due, so a stalled one is cut.
            let received = wire::recv(
                &self.stream,
                &mut buf,
                wire::Patience::Idle(crate::event_loop::PEER_IDLE),
            );
            let (msg, fds) = match received {
                Ok(m) => m,
                Err(ProtocolError::Disconnected) => return Err(CallError::Disconnected),
                Err(e) => {
                    // The stream may be out of step now: end the
                    // connection, so the event loop ends too.
                    let _ = self.stream.shutdown(std::net::Shutdown::Both);
                    return Err(CallError::Broken(e));
                }
            };
            match msg {
                Message::Answer { seq: s, body } if s == seq => {
                    tracing::trace!(seq, "answered: {body:?}");
                    return Ok(body);
                }
                Message::Answer { seq: s, body } => {
                    tracing::debug!(seq = s, "a late answer to a call given up: {body:?}");
                }
                Message::Request {
                    seq: rseq,
                    instance,
                    body,
                } => {
                    let server = self.server.upgrade().ok_or(CallError::ServerGone)?;
                    let served = server.serve_nested(instance, body, fds);
                    drop(server);
                    match served {
                        Some((reply, blobs)) => {
                            let fds: Vec<_> = blobs.iter().map(|b| b.fd().as_raw_fd()).collect();
                            self.outbox
                                .send(
                                    &Message::Reply {
                                        seq: rseq,
                                        body: reply,
                                    },
                                    &fds,
                                )
                                .map_err(|e| match e {
                                    ProtocolError::Disconnected => CallError::Disconnected,
                                    e => CallError::ReplyNotSent(e),
                                })?;
                        }
                        None => tracing::warn!(
                            seq = rseq,
                            "a request of a format this process does not serve"
                        ),
                    }
                    // The bridge is working on it: patience again.
                    deadline = Instant::now() + self.patience;
                }
                other => {
                    tracing::warn!("ignoring unexpected message while waiting: {other:?}");
                }
            }
        }
    }

    /// Waits until the socket has something to read (or has closed).
    fn wait_readable(&self, deadline: Instant) -> Result<(), CallError> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(CallError::NoAnswer(self.patience));
            }
            let ts = rustix::time::Timespec {
                tv_sec: left.as_secs() as i64,
                tv_nsec: left.subsec_nanos() as i64,
            };
            let mut fds = [PollFd::new(&self.stream, PollFlags::IN)];
            match poll(&mut fds, Some(&ts)) {
                Ok(0) | Err(rustix::io::Errno::INTR) => {}
                Ok(_) => return Ok(()),
                Err(e) => return Err(CallError::Broken(ProtocolError::Io(e.into()))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulkhead_common::protocol::vst3::Vst3Callback;

    /// Serves nothing; counts what it was asked.
    struct Nobody(Cell<usize>);

    impl NestedServer for Nobody {
        fn serve_nested(
            &self,
            _: InstanceId,
            _: Control,
            _: Vec<OwnedFd>,
        ) -> Option<(Reply, Vec<Blob>)> {
            self.0.set(self.0.get() + 1);
            None
        }
    }

    fn link(patience: Duration) -> (Link, UnixStream, Rc<Nobody>) {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let outbox = Arc::new(Outbox::new(ours.try_clone().unwrap()));
        let server = Rc::new(Nobody(Cell::new(0)));
        let weak: Weak<dyn NestedServer> = Rc::downgrade(&server) as Weak<dyn NestedServer>;
        (Link::new(ours, outbox, weak, patience), theirs, server)
    }

    fn body() -> Callback {
        Callback::Vst3(Vst3Callback::RestartComponent { flags: 1 })
    }

    #[test]
    fn off_the_loop_thread_nothing_is_called() {
        // This test thread never registered.
        assert!(!on_loop_thread());
        assert_eq!(call_bridge(1, body()), None);
    }

    #[test]
    fn the_depth_bound_refuses_without_sending() {
        let (link, theirs, _server) = link(Duration::from_millis(50));
        link.depth.set(MAX_NESTING);
        assert!(matches!(link.call(1, body()), Err(CallError::TooDeep)));
        assert_eq!(link.depth(), MAX_NESTING, "a refused call leaves the depth");
        theirs.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        assert!(
            std::io::Read::read(&mut &theirs, &mut b).is_err(),
            "nothing was sent"
        );
        // One below the bound still calls (and times out: nobody answers).
        link.depth.set(MAX_NESTING - 1);
        let started = Instant::now();
        assert!(matches!(link.call(1, body()), Err(CallError::NoAnswer(_))));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(link.depth(), MAX_NESTING - 1, "the depth is restored");
    }

    #[test]
    fn an_answer_ends_the_wait_and_a_stale_one_is_skipped() {
        let (link, theirs, server) = link(Duration::from_secs(10));
        let peer = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let by = wire::Patience::Until(Instant::now() + Duration::from_secs(10));
            let (msg, _) = wire::recv(&theirs, &mut buf, by).unwrap();
            let Message::Call { seq, instance, .. } = msg else {
                panic!("{msg:?}")
            };
            assert_eq!(instance, 7);
            let mut s = Vec::new();
            for m in [
                Message::Answer {
                    seq: seq + 100,
                    body: Answer::Deferred,
                },
                Message::Request {
                    seq: 1,
                    instance: 7,
                    body: Control::Vst3(
                        bulkhead_common::protocol::vst3::Vst3Control::GetLatencySamples(
                            bulkhead_common::protocol::vst3::GetLatencySamples {},
                        ),
                    ),
                },
                Message::Answer {
                    seq,
                    body: Answer::Vst3 { result: 3 },
                },
            ] {
                wire::send(&theirs, &m, &[], &mut s, by).unwrap();
            }
            theirs
        });
        assert_eq!(link.call(7, body()).unwrap(), Answer::Vst3 { result: 3 });
        assert_eq!(server.0.get(), 1, "the nested request reached the server");
        assert_eq!(link.depth(), 0);
        let theirs = peer.join().unwrap();
        // The bridge gone: no waiting.
        drop(theirs);
        assert!(matches!(link.call(7, body()), Err(CallError::Disconnected)));
    }
}
