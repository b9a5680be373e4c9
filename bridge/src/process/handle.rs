//! One host process and the socket to it: spawning, the handshake, calls
//! that wait for their reply while serving callbacks, and teardown.

use super::spawn;
use crate::error::BridgeError;
use bulkhead_common::handshake::Hello;
use bulkhead_common::protocol::wire::{
    self, Answer, Callback, Message, Patience, Reply, MAX_NESTING,
};
use bulkhead_common::protocol::Request;
use bulkhead_common::{InstanceId, ProtocolError};
use std::collections::HashMap;
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the host has to say hello after it starts, for the whole
/// exchange (a host that trickles a byte at a time gets no more).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a host may take to exit after its socket closed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// Something that arrived from the host.
pub enum Incoming {
    Reply {
        seq: u64,
        body: Reply,
        fds: Vec<OwnedFd>,
    },
    Callback {
        instance: InstanceId,
        body: Callback,
    },
    /// A host call waiting for its answer (see [`HostProcess::call_fds_with`]).
    Call {
        seq: u64,
        instance: InstanceId,
        body: Callback,
    },
}

/// Answers a host call on the thread that waits in a call to that host.
pub type CallFn<'a> = dyn FnMut(InstanceId, Callback) -> Answer + 'a;

thread_local! {
    /// How deep this thread is in calls to hosts (nested through host calls).
    static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Writes a frame under the writer lock, so frames from the DAW's threads
/// and the reader thread never interleave.
fn send_locked(
    stream: &UnixStream,
    writer: &Mutex<Vec<u8>>,
    msg: &Message,
    fds: &[RawFd],
    patience: Patience,
) -> Result<(), ProtocolError> {
    let mut scratch = writer.lock().unwrap_or_else(|p| p.into_inner());
    wire::send(stream, msg, fds, &mut scratch, patience)
}

/// How long an answer may take to write: the host waits for it.
const ANSWER_PATIENCE: Duration = Duration::from_secs(10);

/// Serves one callback on the reader thread.
pub type CallbackFn = dyn Fn(InstanceId, &Callback) + Send + Sync;

/// What the reader thread tells its owner, on the reader thread.
#[derive(Clone)]
pub struct Hooks {
    /// Every callback as soon as it arrives: thread-safe calls are made
    /// right there; main-thread calls ask the DAW for a main-thread callback.
    pub on_callback: Arc<CallbackFn>,
    /// The connection ended: the host exited, crashed or broke the protocol.
    pub on_death: Arc<dyn Fn() + Send + Sync>,
}

impl Hooks {
    pub fn none() -> Self {
        Self {
            on_callback: Arc::new(|_, _| {}),
            on_death: Arc::new(|| {}),
        }
    }
}

pub struct HostProcess {
    child: Mutex<Option<Child>>,
    pid: Option<u32>,
    stream: UnixStream,
    scratch: Arc<Mutex<Vec<u8>>>,
    incoming: Arc<Inbox>,
    stash: Mutex<HashMap<u64, (Reply, Vec<OwnedFd>)>>,
    /// Calls that gave up waiting: their late replies are dropped.
    abandoned: Mutex<std::collections::HashSet<u64>>,
    next_seq: AtomicU64,
    /// Threads inside `call`; with more than one, a reply may sit in the
    /// stash for another, so waiters look there often.
    waiters: Arc<std::sync::atomic::AtomicUsize>,
    alive: Arc<AtomicBool>,
    reader: Mutex<Option<JoinHandle<()>>>,
}

/// What the reader thread received, for the threads waiting in calls: a
/// queue under a plain mutex and condition variable, because a channel's
/// blocking receive would register a thread-local destructor on the DAW's
/// thread and pin the bridge library (see `crate::launcher`).
#[derive(Default)]
pub struct Inbox {
    queue: Mutex<(std::collections::VecDeque<Incoming>, bool)>,
    arrived: std::sync::Condvar,
}

/// Why [`Inbox::recv_timeout`] returned nothing.
enum Empty {
    Timeout,
    Closed,
}

impl Inbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, (std::collections::VecDeque<Incoming>, bool)> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, item: Incoming) {
        self.lock().0.push_back(item);
        self.arrived.notify_all();
    }

    /// No more will come (the reader ended).
    fn close(&self) {
        self.lock().1 = true;
        self.arrived.notify_all();
    }

    fn try_recv(&self) -> Option<Incoming> {
        self.lock().0.pop_front()
    }

    /// Host calls waiting in the queue, taken out (the rest stays in order).
    fn take_calls(&self) -> Vec<(u64, InstanceId, Callback)> {
        let mut q = self.lock();
        let mut calls = Vec::new();
        let mut rest = std::collections::VecDeque::with_capacity(q.0.len());
        for item in q.0.drain(..) {
            match item {
                Incoming::Call {
                    seq,
                    instance,
                    body,
                } => calls.push((seq, instance, body)),
                other => rest.push_back(other),
            }
        }
        q.0 = rest;
        calls
    }

    fn recv_timeout(&self, timeout: Duration) -> Result<Incoming, Empty> {
        let deadline = Instant::now() + timeout;
        let mut q = self.lock();
        loop {
            if let Some(item) = q.0.pop_front() {
                return Ok(item);
            }
            if q.1 {
                return Err(Empty::Closed);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Empty::Timeout);
            }
            q = self
                .arrived
                .wait_timeout(q, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

fn reader_loop(
    stream: UnixStream,
    inbox: &Inbox,
    hooks: Hooks,
    alive: Arc<AtomicBool>,
    writer: Arc<Mutex<Vec<u8>>>,
    waiters: Arc<std::sync::atomic::AtomicUsize>,
) {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        // Forever: a host that stops sending is found by the supervisor, whose
        // kill shuts this socket down.
        match wire::recv(&stream, &mut buf, Patience::Forever) {
            Ok((Message::Reply { seq, body }, fds)) => {
                inbox.push(Incoming::Reply { seq, body, fds });
            }
            Ok((Message::Callback { instance, body }, _)) => {
                (hooks.on_callback)(instance, &body);
                inbox.push(Incoming::Callback { instance, body });
            }
            Ok((
                Message::Call {
                    seq,
                    instance,
                    body,
                },
                _,
            )) => {
                (hooks.on_callback)(instance, &body);
                if waiters.load(Ordering::Acquire) == 0 {
                    // No DAW thread waits on this host, so none can take
                    // the call to the DAW now: it goes as a plain callback.
                    let answer = Message::Answer {
                        seq,
                        body: Answer::Deferred,
                    };
                    let sent = send_locked(
                        &stream,
                        &writer,
                        &answer,
                        &[],
                        Patience::Idle(ANSWER_PATIENCE),
                    );
                    if let Err(e) = sent {
                        tracing::error!("cannot answer the host: {e}");
                        break;
                    }
                    inbox.push(Incoming::Callback { instance, body });
                } else {
                    inbox.push(Incoming::Call {
                        seq,
                        instance,
                        body,
                    });
                }
            }
            Ok((other, _)) => {
                // A host that breaks the protocol is treated like one that
                // crashed: stop listening to it.
                tracing::error!("host sent an unexpected message: {other:?}; dropping it");
                break;
            }
            Err(ProtocolError::Disconnected) => break,
            Err(e) => {
                tracing::error!("host connection failed: {e}");
                break;
            }
        }
    }
    alive.store(false, Ordering::Release);
    inbox.close();
    let _ = stream.shutdown(std::net::Shutdown::Both);
    (hooks.on_death)();
}

impl HostProcess {
    /// Starts `host_binary` for `plugin`, checks its hello, and starts the
    /// reader thread.
    ///
    /// # Errors
    /// Spawning, handshake (including a version mismatch) or transport
    /// failure.
    pub fn spawn(
        host_binary: &Path,
        plugin: Option<&Path>,
        group: Option<&str>,
        spare: bool,
        hooks: Hooks,
    ) -> Result<Self, BridgeError> {
        let (child, ours) = spawn::start(host_binary, plugin, group, spare)?;
        let pid = child.id();
        let mut this_child = Some(child);
        let result = Self::handshake(&ours);
        if let Err(e) = result {
            Self::reap(&mut this_child, Duration::from_millis(500));
            return Err(e);
        }
        tracing::debug!(pid, plugin = ?plugin, "host process started");
        Self::serve(this_child, Some(pid), ours, hooks)
    }

    /// A peer that is no child of ours, already greeted: for the
    /// supervisor's tests, which drive a group without processes.
    ///
    /// # Errors
    /// The reader thread could not start.
    pub fn over_stream(stream: UnixStream, hooks: Hooks) -> Result<Self, BridgeError> {
        Self::serve(None, None, stream, hooks)
    }

    fn serve(
        this_child: Option<Child>,
        pid: Option<u32>,
        ours: UnixStream,
        hooks: Hooks,
    ) -> Result<Self, BridgeError> {
        let inbox = Arc::new(Inbox::default());
        let reader_inbox = Arc::clone(&inbox);
        let alive = Arc::new(AtomicBool::new(true));
        let reader_stream = ours.try_clone().map_err(ProtocolError::Io)?;
        let reader_alive = Arc::clone(&alive);
        let writer = Arc::new(Mutex::new(Vec::with_capacity(64 * 1024)));
        let reader_writer = Arc::clone(&writer);
        let waiters = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let reader_waiters = Arc::clone(&waiters);
        let reader = crate::launcher::spawn_thread(
            format!("bulkhead-reader-{}", pid.unwrap_or(0)),
            move || {
                let death = hooks.on_death.clone();
                let alive = Arc::clone(&reader_alive);
                let run = std::panic::AssertUnwindSafe(|| {
                    reader_loop(
                        reader_stream,
                        &reader_inbox,
                        hooks,
                        reader_alive,
                        reader_writer,
                        reader_waiters,
                    )
                });
                if std::panic::catch_unwind(run).is_err() {
                    // A reader that stopped is a host we no longer hear:
                    // the supervisor replaces it like a dead one.
                    tracing::error!(
                        pid = ?pid,
                        "the reader thread panicked; treating the host as crashed"
                    );
                    alive.store(false, Ordering::Release);
                    reader_inbox.close();
                    death();
                }
            },
        )
        .map_err(ProtocolError::Io)?;
        Ok(Self {
            child: Mutex::new(this_child),
            pid,
            stream: ours,
            scratch: writer,
            incoming: inbox,
            stash: Mutex::new(HashMap::new()),
            abandoned: Mutex::new(std::collections::HashSet::new()),
            next_seq: AtomicU64::new(1),
            waiters,
            alive,
            reader: Mutex::new(Some(reader)),
        })
    }

    fn handshake(stream: &UnixStream) -> Result<(), BridgeError> {
        let mut buf = Vec::new();
        let by = Patience::Until(Instant::now() + HANDSHAKE_TIMEOUT);
        let (msg, _) = wire::recv(stream, &mut buf, by)?;
        // Say hello in any case so that the host can report a mismatch too.
        wire::send(stream, &Message::Hello(Hello::ours()), &[], &mut buf, by)?;
        match msg {
            Message::Hello(h) => h.check()?,
            _ => return Err(ProtocolError::Unexpected("expected the host's hello").into()),
        }
        Ok(())
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// The process is stopped (SIGSTOP, or a debugger): it cannot answer
    /// anything, whatever its threads were doing. Read from the kernel, so
    /// it holds independently of the plugin's threads.
    pub fn is_stopped(&self) -> bool {
        let Some(pid) = self.pid else { return false };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // The state follows the parenthesised name, which may hold spaces.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "T" || state == "t")
    }

    /// Ends a host that stopped answering.
    pub fn kill(&self) {
        if let Some(c) = self
            .child
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            let _ = c.kill();
        }
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    /// How the process ended, for the log ("killed by signal 11 (SIGSEGV)").
    /// Why a call to this process failed, for the log: a process that died
    /// says so better than its socket.
    pub fn explain(&self, e: BridgeError) -> String {
        if self.is_alive() {
            e.to_string()
        } else {
            format!(
                "the new host {} during the restore",
                self.exit_description()
            )
        }
    }

    pub fn exit_description(&self) -> String {
        use std::os::unix::process::ExitStatusExt;
        let mut guard = self.child.lock().unwrap_or_else(|p| p.into_inner());
        let Some(c) = guard.as_mut() else {
            return "already reaped".into();
        };
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            match c.try_wait() {
                Ok(Some(status)) => {
                    return match (status.signal(), status.code()) {
                        (Some(sig), _) => format!(
                            "killed by signal {sig} ({})",
                            nix::sys::signal::Signal::try_from(sig)
                                .map_or("unknown", |s| s.as_str())
                        ),
                        (None, Some(code)) => format!("exited with code {code}"),
                        _ => format!("ended ({status})"),
                    };
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                Ok(None) => return "stopped answering (still running)".into(),
                Err(e) => return format!("unknown ({e})"),
            }
        }
    }

    /// Sends `req` and waits for its reply, serving callbacks that arrive
    /// meanwhile on this thread through `on_callback` (a plugin calling
    /// `rescan` inside `load` reaches the DAW inside the DAW's `load`).
    ///
    /// # Errors
    /// `Disconnected`, `Timeout`, or a transport failure.
    pub fn call<R: Request>(
        &self,
        instance: InstanceId,
        req: R,
        fds: &[RawFd],
        timeout: Duration,
        on_callback: &mut dyn FnMut(InstanceId, Callback),
    ) -> Result<R::Response, BridgeError> {
        self.call_fds(instance, req, fds, timeout, on_callback)
            .map(|(r, _)| r)
    }

    /// [`Self::call`], also returning the descriptors that came with the
    /// reply (bulk bytes in a memfd).
    ///
    /// # Errors
    /// As [`Self::call`].
    pub fn call_fds<R: Request>(
        &self,
        instance: InstanceId,
        req: R,
        fds: &[RawFd],
        timeout: Duration,
        on_callback: &mut dyn FnMut(InstanceId, Callback),
    ) -> Result<(R::Response, Vec<OwnedFd>), BridgeError> {
        self.call_fds_with(instance, req, fds, timeout, on_callback, None)
    }

    /// [`Self::call_fds`], answering host calls that arrive meanwhile with
    /// `on_call` on this thread (it may call the DAW, which may call this
    /// host again: calls nest both ways, up to [`MAX_NESTING`]). Without
    /// `on_call` they are answered [`Answer::Deferred`] and served as plain
    /// callbacks.
    ///
    /// # Errors
    /// As [`Self::call`]; `TooDeep` past the nesting bound.
    pub fn call_fds_with<R: Request>(
        &self,
        instance: InstanceId,
        req: R,
        fds: &[RawFd],
        timeout: Duration,
        on_callback: &mut dyn FnMut(InstanceId, Callback),
        on_call: Option<&mut CallFn<'_>>,
    ) -> Result<(R::Response, Vec<OwnedFd>), BridgeError> {
        if !self.is_alive() {
            return Err(BridgeError::Disconnected);
        }
        let depth = DEPTH.with(|d| d.get());
        if depth >= MAX_NESTING {
            tracing::error!("calls nested deeper than {MAX_NESTING}; refusing one");
            return Err(BridgeError::TooDeep(MAX_NESTING));
        }
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        // Counted before the request leaves: a host call it causes must
        // find a waiter (the reader answers calls nobody waits for).
        self.waiters.fetch_add(1, Ordering::AcqRel);
        let msg = Message::Request {
            seq,
            instance,
            body: req.into_control(),
        };
        // The timeout measures inactivity: a big state that keeps flowing is
        // never cut, a host that stopped reading is.
        let sent = send_locked(
            &self.stream,
            &self.scratch,
            &msg,
            fds,
            Patience::Idle(timeout),
        );
        let result = match sent {
            Ok(()) => {
                let deadline = Instant::now() + timeout;
                DEPTH.with(|d| d.set(depth + 1));
                let r = self.wait_reply(seq, deadline, timeout, on_callback, on_call);
                DEPTH.with(|d| d.set(depth));
                r
            }
            Err(e) => Err(e.into()),
        };
        self.waiters.fetch_sub(1, Ordering::AcqRel);
        // Host calls nobody will take now get their answer.
        self.defer_calls(on_callback);
        if result.is_err() {
            self.lock_abandoned().insert(seq);
        }
        let (body, fds) = result?;
        Ok((R::from_reply(body).ok_or(BridgeError::WrongReply)?, fds))
    }

    /// Sends the answer to host call `seq`.
    fn answer(&self, seq: u64, body: Answer) {
        let msg = Message::Answer { seq, body };
        if let Err(e) = send_locked(
            &self.stream,
            &self.scratch,
            &msg,
            &[],
            Patience::Idle(ANSWER_PATIENCE),
        ) {
            tracing::warn!("cannot answer the host: {e}");
        }
    }

    /// Answers every queued host call [`Answer::Deferred`] and hands it to
    /// `on_callback` as a plain callback.
    fn defer_calls(&self, on_callback: &mut dyn FnMut(InstanceId, Callback)) {
        if self.waiters.load(Ordering::Acquire) > 0 {
            // Another waiting thread may still take them.
            return;
        }
        for (seq, instance, body) in self.incoming.take_calls() {
            self.answer(seq, Answer::Deferred);
            on_callback(instance, body);
        }
    }

    fn lock_abandoned(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<u64>> {
        self.abandoned.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps a reply for the thread that waits for it, unless its call gave
    /// up (then the reply and its descriptors are dropped).
    fn keep(&self, seq: u64, body: Reply, fds: Vec<OwnedFd>) {
        if seq >= self.next_seq.load(Ordering::Relaxed) || self.lock_abandoned().remove(&seq) {
            return;
        }
        self.stash
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(seq, (body, fds));
    }

    fn wait_reply(
        &self,
        seq: u64,
        deadline: Instant,
        timeout: Duration,
        on_callback: &mut dyn FnMut(InstanceId, Callback),
        mut on_call: Option<&mut CallFn<'_>>,
    ) -> Result<(Reply, Vec<OwnedFd>), BridgeError> {
        loop {
            if let Some(reply) = self
                .stash
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&seq)
            {
                return Ok(reply);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(BridgeError::Timeout(timeout));
            }
            let slice = if self.waiters.load(Ordering::Acquire) > 1 {
                Duration::from_millis(1)
            } else {
                Duration::from_millis(100)
            };
            match self.incoming.recv_timeout(left.min(slice)) {
                Ok(Incoming::Reply { seq: s, body, fds }) if s == seq => return Ok((body, fds)),
                // Another (outer or concurrent) call's reply, or a stale one
                // of a call that timed out.
                Ok(Incoming::Reply { seq: s, body, fds }) => self.keep(s, body, fds),
                Ok(Incoming::Callback { instance, body }) => on_callback(instance, body),
                Ok(Incoming::Call {
                    seq: call,
                    instance,
                    body,
                }) => match on_call.as_mut() {
                    Some(serve) => {
                        let answer = serve(instance, body);
                        self.answer(call, answer);
                    }
                    None => {
                        self.answer(call, Answer::Deferred);
                        on_callback(instance, body);
                    }
                },
                Err(Empty::Timeout) => {}
                Err(Empty::Closed) => return Err(BridgeError::Disconnected),
            }
        }
    }

    /// Callbacks that arrived while nobody was waiting.
    pub fn drain_callbacks(&self, on_callback: &mut dyn FnMut(InstanceId, Callback)) {
        while let Some(item) = self.incoming.try_recv() {
            match item {
                Incoming::Callback { instance, body } => on_callback(instance, body),
                Incoming::Reply { seq, body, fds } => self.keep(seq, body, fds),
                Incoming::Call {
                    seq,
                    instance,
                    body,
                } => {
                    self.answer(seq, Answer::Deferred);
                    on_callback(instance, body);
                }
            }
        }
    }

    fn reap(child: &mut Option<Child>, grace: Duration) {
        let Some(mut c) = child.take() else { return };
        let deadline = Instant::now() + grace;
        loop {
            match c.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = c.kill();
                    let _ = c.wait();
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            }
        }
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        // Closing our end tells the host to exit; give it a moment to clean
        // up, then make sure.
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        if let Some(r) = self.reader.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = r.join();
        }
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        Self::reap(&mut child, EXIT_GRACE);
    }
}
