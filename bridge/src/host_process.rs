//! One host process and the socket to it: spawning, the handshake, calls
//! that wait for their reply while serving callbacks, and teardown.

use crate::error::BridgeError;
use bulkhead_common::handshake::Hello;
use bulkhead_common::protocol::clap::MainCallback;
use bulkhead_common::protocol::wire::{self, Callback, Message, Patience, Reply};
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

/// How long the host has to say hello after it starts, for the whole
/// exchange (a host that trickles a byte at a time gets no more).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Set in every host process's environment: a bridge loaded there (a
/// manifest naming a bridged copy) refuses to start hosts of its own.
pub const INSIDE_HOST_ENV: &str = "BULKHEAD_INSIDE_HOST";
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

/// Serves one callback on the reader thread.
pub type CallbackFn = dyn Fn(InstanceId, &MainCallback) + Send + Sync;

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

/// Starts host processes from one thread that lives as long as the bridge
/// library: the parent-death signal fires when the forking *thread* exits,
/// so forking from a DAW thread that may end would kill healthy hosts.
fn spawn_from_spawner_thread(cmd: Command) -> std::io::Result<Child> {
    type Job = (Command, crossbeam_channel::Sender<std::io::Result<Child>>);
    static SPAWNER: std::sync::OnceLock<Mutex<crossbeam_channel::Sender<Job>>> =
        std::sync::OnceLock::new();
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let _ = std::thread::Builder::new()
            .name("bulkhead-spawner".into())
            .spawn(move || {
                // Threads inherit scheduling: a spawner first started from a
                // realtime thread must not hand that to every host.
                let normal = libc::sched_param { sched_priority: 0 };
                // SAFETY: a plain syscall on this thread.
                unsafe { libc::sched_setscheduler(0, libc::SCHED_OTHER, &normal) };
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            });
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
    tx.lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((cmd, reply_tx))
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?
}

pub struct HostProcess {
    child: Mutex<Option<Child>>,
    pid: Option<u32>,
    stream: UnixStream,
    scratch: Mutex<Vec<u8>>,
    incoming: Receiver<Incoming>,
    stash: Mutex<HashMap<u64, Reply>>,
    next_seq: AtomicU64,
    /// Threads inside `call`; with more than one, a reply may sit in the
    /// stash for another, so waiters look there often.
    waiters: std::sync::atomic::AtomicUsize,
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

/// Closes every descriptor above 3 in a freshly forked child: the DAW's
/// files opened without close-on-exec must not reach the plugin. Only
/// async-signal-safe calls.
fn close_inherited_fds() {
    // SAFETY: plain syscalls on descriptors of this (child) process.
    unsafe {
        if libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32) == 0 {
            return;
        }
        // Kernels before 5.9: close one by one up to the descriptor limit.
        let max = match libc::sysconf(libc::_SC_OPEN_MAX) {
            n if n > 4 => n.min(1 << 20) as i32,
            _ => 65_536,
        };
        for fd in 4..max {
            libc::close(fd);
        }
    }
}

fn reader_loop(
    stream: UnixStream,
    tx: crossbeam_channel::Sender<Incoming>,
    hooks: Hooks,
    alive: Arc<AtomicBool>,
) {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        // Forever: a host that stops sending is found by the supervisor, whose
        // kill shuts this socket down.
        match wire::recv(&stream, &mut buf, Patience::Forever) {
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
                (hooks.on_callback)(instance, &cb);
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
    (hooks.on_death)();
}

impl HostProcess {
    /// Starts `host_binary` for `plugin`, checks its hello, and starts the
    /// reader thread.
    ///
    /// # Errors
    /// Spawning, handshake (including a version mismatch) or transport
    /// failure.
    pub fn spawn(host_binary: &Path, plugin: &Path, hooks: Hooks) -> Result<Self, BridgeError> {
        if let Some(v) = std::env::var_os(INSIDE_HOST_ENV) {
            return Err(BridgeError::InsideHost(v.to_string_lossy().into_owned()));
        }
        let (ours, theirs) = UnixStream::pair().map_err(ProtocolError::Io)?;
        let theirs_fd: RawFd = theirs.as_raw_fd();
        let mut cmd = Command::new(host_binary);
        cmd.arg("--socket-fd")
            .arg("3")
            .arg("--plugin")
            .arg(plugin)
            .env(INSIDE_HOST_ENV, std::process::id().to_string())
            .stdin(Stdio::null());
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: only async-signal-safe calls (sched_setscheduler, prctl,
        // getppid, dup2, fcntl, close_range, close) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                // Hosts start at normal priority; their audio thread mirrors
                // the DAW's once blocks flow.
                let normal = libc::sched_param { sched_priority: 0 };
                libc::sched_setscheduler(0, libc::SCHED_OTHER, &normal);
                // Die with the DAW: a host must never outlive its bridge.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) < 0
                    || libc::getppid() != parent
                {
                    return Err(std::io::Error::other("the DAW is already gone"));
                }
                if theirs_fd == 3 {
                    if libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(theirs_fd, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                close_inherited_fds();
                Ok(())
            });
        }
        let child = spawn_from_spawner_thread(cmd).map_err(|source| BridgeError::Spawn {
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
            .spawn(move || {
                let death = hooks.on_death.clone();
                let alive = Arc::clone(&reader_alive);
                let run = std::panic::AssertUnwindSafe(|| {
                    reader_loop(reader_stream, tx, hooks, reader_alive)
                });
                if std::panic::catch_unwind(run).is_err() {
                    // A reader that stopped is a host we no longer hear:
                    // the supervisor replaces it like a dead one.
                    tracing::error!(
                        pid,
                        "the reader thread panicked; treating the host as crashed"
                    );
                    alive.store(false, Ordering::Release);
                    death();
                }
            })
            .map_err(ProtocolError::Io)?;
        tracing::debug!(pid, plugin = %plugin.display(), "host process started");
        Ok(Self {
            child: Mutex::new(this_child),
            pid: Some(pid),
            stream: ours,
            scratch: Mutex::new(Vec::with_capacity(64 * 1024)),
            incoming: rx,
            stash: Mutex::new(HashMap::new()),
            next_seq: AtomicU64::new(1),
            waiters: std::sync::atomic::AtomicUsize::new(0),
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

    pub fn pid(&self) -> Option<u32> {
        self.pid
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
            // The timeout measures inactivity: a big state that keeps flowing is
            // never cut, a host that stopped reading is.
            wire::send(
                &self.stream,
                &msg,
                fds,
                &mut scratch,
                Patience::Idle(timeout),
            )?;
        }
        let deadline = Instant::now() + timeout;
        self.waiters.fetch_add(1, Ordering::AcqRel);
        let result = self.wait_reply::<R>(seq, deadline, timeout, on_callback);
        self.waiters.fetch_sub(1, Ordering::AcqRel);
        result
    }

    fn wait_reply<R: Request>(
        &self,
        seq: u64,
        deadline: Instant,
        timeout: Duration,
        on_callback: &mut dyn FnMut(InstanceId, MainCallback),
    ) -> Result<R::Response, BridgeError> {
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
            let slice = if self.waiters.load(Ordering::Acquire) > 1 {
                Duration::from_millis(1)
            } else {
                Duration::from_millis(100)
            };
            match self.incoming.recv_timeout(left.min(slice)) {
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
