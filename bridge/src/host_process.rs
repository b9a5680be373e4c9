//! One host process and the socket to it: spawning, the handshake, calls
//! that wait for their reply while serving callbacks, and teardown.

use crate::error::BridgeError;
use bulkhead_common::handshake::Hello;
use bulkhead_common::protocol::clap::MainCallback;
use bulkhead_common::protocol::wire::{self, Callback, Message, Reply};
use bulkhead_common::protocol::Request;
use bulkhead_common::{InstanceId, ProtocolError};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the host has to say hello after it starts.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a host may take to exit after its socket closed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// Something that arrived from the host.
pub enum Incoming {
    Reply {
        seq: u64,
        body: Reply,
    },
    Callback {
        instance: InstanceId,
        body: MainCallback,
    },
}

/// Told about every callback as soon as the reader thread sees it (on that
/// thread): thread-safe calls are made right there; main-thread calls ask
/// the DAW for a main-thread callback.
pub type CallbackHook = Arc<dyn Fn(InstanceId, &MainCallback) + Send + Sync>;

pub struct HostProcess {
    pid: u32,
    child: Mutex<Option<Child>>,
    stream: UnixStream,
    scratch: Mutex<Vec<u8>>,
    incoming: Receiver<Incoming>,
    stash: Mutex<HashMap<u64, Reply>>,
    next_seq: AtomicU64,
    alive: Arc<AtomicBool>,
    reader: Mutex<Option<JoinHandle<()>>>,
}

/// Where to look for `bulkhead-host`, in order.
pub fn host_candidates(manifest_host: Option<&Path>, bridge_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut c = Vec::new();
    if let Some(p) = std::env::var_os("BULKHEAD_HOST") {
        c.push(PathBuf::from(p));
    }
    if let Some(p) = manifest_host {
        c.push(p.to_path_buf());
    }
    if let Some(d) = bridge_dir {
        c.push(d.join("bulkhead-host"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        c.push(Path::new(&home).join(".local/lib/bulkhead/bulkhead-host"));
    }
    c.push(PathBuf::from("/usr/local/lib/bulkhead/bulkhead-host"));
    c.push(PathBuf::from("/usr/lib/bulkhead/bulkhead-host"));
    if let Some(path) = std::env::var_os("PATH") {
        c.extend(std::env::split_paths(&path).map(|d| d.join("bulkhead-host")));
    }
    c
}

/// The first candidate that is an executable file.
///
/// # Errors
/// `HostBinaryMissing` listing where it looked.
pub fn find_host(candidates: &[PathBuf]) -> Result<PathBuf, BridgeError> {
    use std::os::unix::fs::PermissionsExt;
    candidates
        .iter()
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .cloned()
        .ok_or_else(|| {
            BridgeError::HostBinaryMissing(
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
}

fn reader_loop(
    stream: UnixStream,
    tx: crossbeam_channel::Sender<Incoming>,
    hook: CallbackHook,
    alive: Arc<AtomicBool>,
) {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        match wire::recv(&stream, &mut buf) {
            Ok((Message::Reply { seq, body }, _)) => {
                if tx.send(Incoming::Reply { seq, body }).is_err() {
                    break;
                }
            }
            Ok((
                Message::Callback {
                    instance,
                    body: Callback::Clap(cb),
                },
                _,
            )) => {
                hook(instance, &cb);
                if tx.send(Incoming::Callback { instance, body: cb }).is_err() {
                    break;
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
    let _ = stream.shutdown(std::net::Shutdown::Both);
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
        plugin: &Path,
        hook: CallbackHook,
    ) -> Result<Self, BridgeError> {
        let (ours, theirs) = UnixStream::pair().map_err(ProtocolError::Io)?;
        let theirs_fd: RawFd = theirs.as_raw_fd();
        let mut cmd = Command::new(host_binary);
        cmd.arg("--socket-fd")
            .arg("3")
            .arg("--plugin")
            .arg(plugin)
            .stdin(Stdio::null());
        // SAFETY: only async-signal-safe calls (dup2, fcntl) between fork and
        // exec.
        unsafe {
            cmd.pre_exec(move || {
                if theirs_fd == 3 {
                    if libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(theirs_fd, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|source| BridgeError::Spawn {
            path: host_binary.to_path_buf(),
            source,
        })?;
        drop(theirs);
        let pid = child.id();
        let mut this_child = Some(child);
        let result = Self::handshake(&ours);
        if let Err(e) = result {
            Self::reap(&mut this_child, Duration::from_millis(500));
            return Err(e);
        }
        let (tx, rx) = crossbeam_channel::unbounded();
        let alive = Arc::new(AtomicBool::new(true));
        let reader_stream = ours.try_clone().map_err(ProtocolError::Io)?;
        let reader_alive = Arc::clone(&alive);
        let reader = std::thread::Builder::new()
            .name(format!("bulkhead-reader-{pid}"))
            .spawn(move || reader_loop(reader_stream, tx, hook, reader_alive))
            .map_err(ProtocolError::Io)?;
        tracing::debug!(pid, plugin = %plugin.display(), "host process started");
        Ok(Self {
            pid,
            child: Mutex::new(this_child),
            stream: ours,
            scratch: Mutex::new(Vec::with_capacity(64 * 1024)),
            incoming: rx,
            stash: Mutex::new(HashMap::new()),
            next_seq: AtomicU64::new(1),
            alive,
            reader: Mutex::new(Some(reader)),
        })
    }

    fn handshake(stream: &UnixStream) -> Result<(), BridgeError> {
        stream
            .set_read_timeout(Some(HANDSHAKE_TIMEOUT))
            .map_err(ProtocolError::Io)?;
        let mut buf = Vec::new();
        let (msg, _) = wire::recv(stream, &mut buf).map_err(|e| match e {
            ProtocolError::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => {
                ProtocolError::Timeout(HANDSHAKE_TIMEOUT)
            }
            other => other,
        })?;
        // Say hello in any case so that the host can report a mismatch too.
        wire::send(stream, &Message::Hello(Hello::ours()), &[], &mut buf)?;
        match msg {
            Message::Hello(h) => h.check()?,
            _ => return Err(ProtocolError::Unexpected("expected the host's hello").into()),
        }
        stream.set_read_timeout(None).map_err(ProtocolError::Io)?;
        Ok(())
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
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
        on_callback: &mut dyn FnMut(InstanceId, MainCallback),
    ) -> Result<R::Response, BridgeError> {
        if !self.is_alive() {
            return Err(BridgeError::Disconnected);
        }
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        {
            let mut scratch = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
            let msg = Message::Request {
                seq,
                instance,
                body: req.into_control(),
            };
            wire::send(&self.stream, &msg, fds, &mut scratch)?;
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(body) = self
                .stash
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&seq)
            {
                return R::from_reply(body).ok_or(BridgeError::WrongReply);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(BridgeError::Timeout(timeout));
            }
            match self
                .incoming
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                Ok(Incoming::Reply { seq: s, body }) if s == seq => {
                    return R::from_reply(body).ok_or(BridgeError::WrongReply);
                }
                Ok(Incoming::Reply { seq: s, body }) => {
                    // Another (outer or concurrent) call's reply, or a stale one
                    // of a call that timed out: keep it for its waiter.
                    if s < self.next_seq.load(Ordering::Relaxed) {
                        self.stash
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(s, body);
                    }
                }
                Ok(Incoming::Callback { instance, body }) => on_callback(instance, body),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(BridgeError::Disconnected),
            }
        }
    }

    /// Callbacks that arrived while nobody was waiting.
    pub fn drain_callbacks(&self, on_callback: &mut dyn FnMut(InstanceId, MainCallback)) {
        while let Ok(item) = self.incoming.try_recv() {
            match item {
                Incoming::Callback { instance, body } => on_callback(instance, body),
                Incoming::Reply { seq, body } => {
                    self.stash
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(seq, body);
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
