//! Host side: the callbacks a plugin can make into the test host, and their recording.
//!
//! All host extensions except note-ports are implemented through clack's handler traits. The
//! host note-ports extension of clack-extensions 0.2.0 hands the plugin a pointer to a pointer
//! (`&&clap_host_note_ports`), so a plugin calling `supported_dialects` crashes; we register our
//! own raw `clap_host_note_ports` vtable instead ([`RawHostNotePorts`]).

use clack_extensions::audio_ports::{AudioPortRescanFlags, HostAudioPorts, HostAudioPortsImpl};
use clack_extensions::latency::{HostLatency, HostLatencyImpl};
use clack_extensions::log::{HostLog, HostLogImpl, LogSeverity};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamRescanFlags,
};
use clack_extensions::posix_fd::{FdFlags, HostPosixFd, HostPosixFdImpl};
use clack_extensions::state::{HostState, HostStateImpl};
use clack_extensions::tail::{HostTail, HostTailImpl};
use clack_extensions::thread_check::{HostThreadCheck, HostThreadCheckImpl};
use clack_extensions::timer::{HostTimer, HostTimerImpl, TimerId};
use clack_extensions::voice_info::{HostVoiceInfo, HostVoiceInfoImpl};
use clack_host::extensions::prelude::*;
use clack_host::prelude::{
    AudioProcessorHandler, HostExtensions, MainThreadHandler, SharedHandler,
};
use clap_sys::ext::note_ports::{
    clap_host_note_ports, CLAP_EXT_NOTE_PORTS, CLAP_NOTE_DIALECT_CLAP, CLAP_NOTE_DIALECT_MIDI,
    CLAP_NOTE_DIALECT_MIDI2, CLAP_NOTE_DIALECT_MIDI_MPE,
};
use std::collections::BTreeMap;
use std::ffi::CStr;
use std::os::unix::io::RawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// Host-side configuration of a test instance.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// `clap_host.name`.
    pub name: String,
    /// `clap_host.vendor`.
    pub vendor: String,
    /// `clap_host.url`.
    pub url: String,
    /// `clap_host.version`.
    pub version: String,
    /// Value returned by the host note-ports `supported_dialects` callback.
    pub note_dialects: u32,
    /// Host extension ids (e.g. `"clap.timer-support"`) hidden from the plugin.
    pub disabled_extensions: Vec<String>,
    /// Also print plugin log messages to stderr (they are always recorded).
    /// Defaults to true when the `BULKHEAD_TESTHOST_LOG` environment variable is set.
    pub echo_logs: bool,
    /// Maximum bytes per `read`/`write` call of the state streams (`None`: unlimited).
    pub stream_chunk_size: Option<usize>,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            name: "bulkhead-testhost".into(),
            vendor: "bulkhead".into(),
            url: "https://example.invalid/bulkhead".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            note_dialects: CLAP_NOTE_DIALECT_CLAP
                | CLAP_NOTE_DIALECT_MIDI
                | CLAP_NOTE_DIALECT_MIDI_MPE
                | CLAP_NOTE_DIALECT_MIDI2,
            disabled_extensions: Vec::new(),
            echo_logs: std::env::var_os("BULKHEAD_TESTHOST_LOG").is_some(),
            stream_chunk_size: None,
        }
    }
}

impl HostConfig {
    fn enabled(&self, id: &CStr) -> bool {
        let id = id.to_bytes();
        !self.disabled_extensions.iter().any(|d| d.as_bytes() == id)
    }
}

/// A message the plugin logged through `clap_host_log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMessage {
    /// Severity as decoded by clack (unknown raw levels become `Warning` plus a second message).
    pub severity: LogSeverity,
    /// The message text (lossy UTF-8).
    pub message: String,
}

/// One host callback made by the plugin, in call order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostCall {
    /// `clap_host.request_restart`
    RequestRestart,
    /// `clap_host.request_process`
    RequestProcess,
    /// `clap_host.request_callback`
    RequestCallback,
    /// `clap_host_log.log`
    Log(LogSeverity),
    /// `clap_host_params.rescan(flags)`
    ParamsRescan(u32),
    /// `clap_host_params.clear(param_id, flags)`
    ParamsClear(u32, u32),
    /// `clap_host_params.request_flush`
    ParamsRequestFlush,
    /// `clap_host_state.mark_dirty`
    StateMarkDirty,
    /// `clap_host_latency.changed`
    LatencyChanged,
    /// `clap_host_tail.changed`
    TailChanged,
    /// `clap_host_audio_ports.rescan(flags)`
    AudioPortsRescan(u32),
    /// `clap_host_note_ports.supported_dialects`
    NotePortsSupportedDialects,
    /// `clap_host_note_ports.rescan(flags)`
    NotePortsRescan(u32),
    /// `clap_host_voice_info.changed`
    VoiceInfoChanged,
    /// `clap_host_timer_support.register_timer(period_ms)` → id
    TimerRegister {
        /// Requested period.
        period_ms: u32,
        /// Assigned id.
        id: u32,
    },
    /// `clap_host_timer_support.unregister_timer(id)`
    TimerUnregister(u32),
    /// `clap_host_posix_fd_support.register_fd(fd, flags)`
    FdRegister(i32, u32),
    /// `clap_host_posix_fd_support.modify_fd(fd, flags)`
    FdModify(i32, u32),
    /// `clap_host_posix_fd_support.unregister_fd(fd)`
    FdUnregister(i32),
}

/// Everything the plugin asked of the host, as recorded by the test host.
///
/// Obtain it with [`Instance::record`](crate::Instance::record) (snapshot) or
/// [`Instance::take_record`](crate::Instance::take_record) (snapshot and reset). Counters and lists
/// are redundant with [`HostRecord::calls`], which keeps the chronological order.
#[derive(Debug, Clone, Default)]
pub struct HostRecord {
    /// All callbacks in call order.
    pub calls: Vec<HostCall>,
    /// Log messages.
    pub logs: Vec<LogMessage>,
    /// Callbacks made from a thread the CLAP spec does not allow (description strings).
    pub thread_violations: Vec<String>,
    /// `request_restart` count.
    pub request_restart: usize,
    /// `request_process` count.
    pub request_process: usize,
    /// `request_callback` count.
    pub request_callback: usize,
    /// Flags of each `params.rescan` call.
    pub params_rescan: Vec<u32>,
    /// `(param_id, flags)` of each `params.clear` call.
    pub params_clear: Vec<(u32, u32)>,
    /// `params.request_flush` count.
    pub params_request_flush: usize,
    /// `state.mark_dirty` count.
    pub state_mark_dirty: usize,
    /// `latency.changed` count.
    pub latency_changed: usize,
    /// `tail.changed` count.
    pub tail_changed: usize,
    /// Flags of each `audio_ports.rescan` call.
    pub audio_ports_rescan: Vec<u32>,
    /// Flags of each `note_ports.rescan` call.
    pub note_ports_rescan: Vec<u32>,
    /// `note_ports.supported_dialects` count.
    pub note_ports_supported_dialects: usize,
    /// `voice_info.changed` count.
    pub voice_info_changed: usize,
    /// `(id, period_ms)` of each successful timer registration.
    pub timers_registered: Vec<(u32, u32)>,
    /// Ids of each successful timer unregistration.
    pub timers_unregistered: Vec<u32>,
    /// `(fd, flags)` of each successful fd registration.
    pub fds_registered: Vec<(i32, u32)>,
    /// `(fd, flags)` of each successful fd modification.
    pub fds_modified: Vec<(i32, u32)>,
    /// Each successfully unregistered fd.
    pub fds_unregistered: Vec<i32>,
    /// Number of `on_timer` calls made by the host.
    pub timer_fires: usize,
    /// Number of `on_fd` calls made by the host.
    pub fd_fires: usize,
    /// Number of `on_main_thread` calls made by the host.
    pub on_main_thread_calls: usize,
    /// Number of events the plugin tried to push that the host rejected (malformed).
    pub rejected_out_events: usize,
}

#[derive(Debug)]
struct Timer {
    period: Duration,
    next_due: Instant,
}

#[derive(Debug, Default)]
struct Timers {
    next_id: u32,
    entries: BTreeMap<u32, Timer>,
}

/// State shared by every handler of one instance (and by [`crate::Instance`]).
pub(crate) struct HostInner {
    pub(crate) config: HostConfig,
    main_thread: ThreadId,
    in_audio: AtomicBool,
    audio_thread: Mutex<Option<ThreadId>>,
    record: Mutex<HostRecord>,
    pub(crate) callback_requested: AtomicBool,
    pub(crate) restart_requested: AtomicBool,
    pub(crate) process_requested: AtomicBool,
    timers: Mutex<Timers>,
    fds: Mutex<BTreeMap<RawFd, u32>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl HostInner {
    /// Creates the shared state; the calling thread becomes the main thread.
    pub(crate) fn new(config: HostConfig) -> Arc<Self> {
        Arc::new(Self {
            config,
            main_thread: std::thread::current().id(),
            in_audio: AtomicBool::new(false),
            audio_thread: Mutex::new(None),
            record: Mutex::new(HostRecord::default()),
            callback_requested: AtomicBool::new(false),
            restart_requested: AtomicBool::new(false),
            process_requested: AtomicBool::new(false),
            timers: Mutex::new(Timers::default()),
            fds: Mutex::new(BTreeMap::new()),
        })
    }

    pub(crate) fn record(&self) -> HostRecord {
        lock(&self.record).clone()
    }

    pub(crate) fn take_record(&self) -> HostRecord {
        std::mem::take(&mut *lock(&self.record))
    }

    pub(crate) fn with_record(&self, f: impl FnOnce(&mut HostRecord)) {
        f(&mut lock(&self.record));
    }

    fn push(&self, call: HostCall, f: impl FnOnce(&mut HostRecord)) {
        let mut r = lock(&self.record);
        r.calls.push(call);
        f(&mut r);
    }

    /// True on the creating thread, except while it is acting as the audio thread.
    pub(crate) fn is_main_thread(&self) -> bool {
        std::thread::current().id() == self.main_thread && !self.is_audio_thread()
    }

    /// True while the host is inside an audio-thread call on the current thread.
    pub(crate) fn is_audio_thread(&self) -> bool {
        self.in_audio.load(Ordering::SeqCst)
            && *lock(&self.audio_thread) == Some(std::thread::current().id())
    }

    fn check_main_thread(&self, what: &str) {
        if !self.is_main_thread() {
            let msg = format!("{what} called off the main thread");
            lock(&self.record).thread_violations.push(msg);
        }
    }

    fn check_audio_thread(&self, what: &str) {
        if !self.is_audio_thread() {
            let msg = format!("{what} called off the audio thread");
            lock(&self.record).thread_violations.push(msg);
        }
    }

    /// Marks the current thread as the audio thread until the guard is dropped.
    pub(crate) fn enter_audio(self: &Arc<Self>) -> AudioGuard {
        let previous = self.in_audio.swap(true, Ordering::SeqCst);
        *lock(&self.audio_thread) = Some(std::thread::current().id());
        AudioGuard {
            host: self.clone(),
            previous,
        }
    }

    /// Ids of timers whose deadline has passed (or of all timers if `all`), rescheduling them.
    pub(crate) fn due_timers(&self, all: bool) -> Vec<u32> {
        let now = Instant::now();
        let mut timers = lock(&self.timers);
        let mut due = Vec::new();
        for (id, t) in timers.entries.iter_mut() {
            if all || now >= t.next_due {
                due.push(*id);
                t.next_due = now + t.period;
            }
        }
        due
    }

    pub(crate) fn timer_registered(&self, id: u32) -> bool {
        lock(&self.timers).entries.contains_key(&id)
    }

    /// Registered timers as `(id, period_ms)`.
    pub(crate) fn timers(&self) -> Vec<(u32, u32)> {
        lock(&self.timers)
            .entries
            .iter()
            .map(|(id, t)| (*id, t.period.as_millis() as u32))
            .collect()
    }

    /// Registered fds as `(fd, flags)`.
    pub(crate) fn fds(&self) -> Vec<(RawFd, u32)> {
        lock(&self.fds).iter().map(|(fd, f)| (*fd, *f)).collect()
    }

    pub(crate) fn fd_registered(&self, fd: RawFd) -> bool {
        lock(&self.fds).contains_key(&fd)
    }

    fn note_ports_supported_dialects(&self) -> u32 {
        self.check_main_thread("note_ports.supported_dialects");
        self.push(HostCall::NotePortsSupportedDialects, |r| {
            r.note_ports_supported_dialects += 1
        });
        self.config.note_dialects
    }

    fn note_ports_rescan(&self, flags: u32) {
        self.check_main_thread("note_ports.rescan");
        self.push(HostCall::NotePortsRescan(flags), |r| {
            r.note_ports_rescan.push(flags)
        });
    }
}

/// Resets the audio-thread marker on drop.
pub(crate) struct AudioGuard {
    host: Arc<HostInner>,
    previous: bool,
}

impl Drop for AudioGuard {
    fn drop(&mut self) {
        self.host.in_audio.store(self.previous, Ordering::SeqCst);
        if !self.previous {
            *lock(&self.host.audio_thread) = None;
        }
    }
}

/// The clack host type tying the handlers together.
pub(crate) struct TestHost;

/// `[thread-safe]` handler.
pub(crate) struct HostShared(pub(crate) Arc<HostInner>);
/// `[main-thread]` handler.
pub(crate) struct HostMain(pub(crate) Arc<HostInner>);
/// `[audio-thread]` handler.
pub(crate) struct HostAudio(pub(crate) Arc<HostInner>);

impl HostHandlers for TestHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMain;
    type AudioProcessor<'a> = HostAudio;

    fn declare_extensions(builder: &mut HostExtensions<Self>, shared: &HostShared) {
        use clap_sys::ext::{
            audio_ports::CLAP_EXT_AUDIO_PORTS, latency::CLAP_EXT_LATENCY, log::CLAP_EXT_LOG,
            params::CLAP_EXT_PARAMS, posix_fd_support::CLAP_EXT_POSIX_FD_SUPPORT,
            state::CLAP_EXT_STATE, tail::CLAP_EXT_TAIL, thread_check::CLAP_EXT_THREAD_CHECK,
            timer_support::CLAP_EXT_TIMER_SUPPORT, voice_info::CLAP_EXT_VOICE_INFO,
        };
        let cfg = &shared.0.config;
        if cfg.enabled(CLAP_EXT_LOG) {
            builder.register::<HostLog>();
        }
        if cfg.enabled(CLAP_EXT_THREAD_CHECK) {
            builder.register::<HostThreadCheck>();
        }
        if cfg.enabled(CLAP_EXT_PARAMS) {
            builder.register::<HostParams>();
        }
        if cfg.enabled(CLAP_EXT_STATE) {
            builder.register::<HostState>();
        }
        if cfg.enabled(CLAP_EXT_LATENCY) {
            builder.register::<HostLatency>();
        }
        if cfg.enabled(CLAP_EXT_TAIL) {
            builder.register::<HostTail>();
        }
        if cfg.enabled(CLAP_EXT_AUDIO_PORTS) {
            builder.register::<HostAudioPorts>();
        }
        if cfg.enabled(CLAP_EXT_NOTE_PORTS) {
            builder.register::<RawHostNotePorts>();
        }
        if cfg.enabled(CLAP_EXT_VOICE_INFO) {
            builder.register::<HostVoiceInfo>();
        }
        if cfg.enabled(CLAP_EXT_TIMER_SUPPORT) {
            builder.register::<HostTimer>();
        }
        if cfg.enabled(CLAP_EXT_POSIX_FD_SUPPORT) {
            builder.register::<HostPosixFd>();
        }
    }
}

impl SharedHandler<'_> for HostShared {
    fn request_restart(&self) {
        self.0.restart_requested.store(true, Ordering::SeqCst);
        self.0
            .push(HostCall::RequestRestart, |r| r.request_restart += 1);
    }

    fn request_process(&self) {
        self.0.process_requested.store(true, Ordering::SeqCst);
        self.0
            .push(HostCall::RequestProcess, |r| r.request_process += 1);
    }

    fn request_callback(&self) {
        self.0.callback_requested.store(true, Ordering::SeqCst);
        self.0
            .push(HostCall::RequestCallback, |r| r.request_callback += 1);
    }
}

impl MainThreadHandler<'_> for HostMain {}
impl AudioProcessorHandler<'_> for HostAudio {}

impl HostLogImpl for HostShared {
    fn log(&self, severity: LogSeverity, message: &str) {
        if self.0.config.echo_logs {
            eprintln!("[plugin {severity}] {message}");
        }
        self.0.push(HostCall::Log(severity), |r| {
            r.logs.push(LogMessage {
                severity,
                message: message.to_owned(),
            })
        });
    }
}

impl HostThreadCheckImpl for HostShared {
    fn is_main_thread(&self) -> bool {
        self.0.is_main_thread()
    }

    fn is_audio_thread(&self) -> bool {
        self.0.is_audio_thread()
    }
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        self.0.push(HostCall::ParamsRequestFlush, |r| {
            r.params_request_flush += 1
        });
    }
}

impl HostParamsImplMainThread for HostMain {
    fn rescan(&self, flags: ParamRescanFlags) {
        self.0.check_main_thread("params.rescan");
        let bits = flags.bits();
        self.0
            .push(HostCall::ParamsRescan(bits), |r| r.params_rescan.push(bits));
    }

    fn clear(&self, param_id: ClapId, flags: ParamClearFlags) {
        self.0.check_main_thread("params.clear");
        let (id, bits) = (param_id.get(), flags.bits());
        self.0.push(HostCall::ParamsClear(id, bits), |r| {
            r.params_clear.push((id, bits))
        });
    }
}

impl HostStateImpl for HostMain {
    fn mark_dirty(&self) {
        self.0.check_main_thread("state.mark_dirty");
        self.0
            .push(HostCall::StateMarkDirty, |r| r.state_mark_dirty += 1);
    }
}

impl HostLatencyImpl for HostMain {
    fn changed(&self) {
        self.0.check_main_thread("latency.changed");
        self.0
            .push(HostCall::LatencyChanged, |r| r.latency_changed += 1);
    }
}

impl HostTailImpl for HostAudio {
    fn changed(&mut self) {
        self.0.check_audio_thread("tail.changed");
        self.0.push(HostCall::TailChanged, |r| r.tail_changed += 1);
    }
}

impl HostAudioPortsImpl for HostMain {
    fn is_rescan_flag_supported(&self, _flag: AudioPortRescanFlags) -> bool {
        self.0
            .check_main_thread("audio_ports.is_rescan_flag_supported");
        true
    }

    fn rescan(&self, flags: AudioPortRescanFlags) {
        self.0.check_main_thread("audio_ports.rescan");
        let bits = flags.bits();
        self.0.push(HostCall::AudioPortsRescan(bits), |r| {
            r.audio_ports_rescan.push(bits)
        });
    }
}

impl HostVoiceInfoImpl for HostMain {
    fn changed(&self) {
        self.0.check_main_thread("voice_info.changed");
        self.0
            .push(HostCall::VoiceInfoChanged, |r| r.voice_info_changed += 1);
    }
}

impl HostTimerImpl for HostMain {
    fn register_timer(&self, period_ms: u32) -> Result<TimerId, HostError> {
        self.0.check_main_thread("timer_support.register_timer");
        let id = {
            let mut timers = lock(&self.0.timers);
            let id = timers.next_id;
            timers.next_id = timers.next_id.wrapping_add(1);
            let period = Duration::from_millis(u64::from(period_ms.max(1)));
            timers.entries.insert(
                id,
                Timer {
                    period,
                    next_due: Instant::now() + period,
                },
            );
            id
        };
        self.0.push(HostCall::TimerRegister { period_ms, id }, |r| {
            r.timers_registered.push((id, period_ms))
        });
        Ok(TimerId(id))
    }

    fn unregister_timer(&self, timer_id: TimerId) -> Result<(), HostError> {
        self.0.check_main_thread("timer_support.unregister_timer");
        if lock(&self.0.timers).entries.remove(&timer_id.0).is_none() {
            return Err(HostError::Message("unknown timer id"));
        }
        self.0.push(HostCall::TimerUnregister(timer_id.0), |r| {
            r.timers_unregistered.push(timer_id.0)
        });
        Ok(())
    }
}

impl HostPosixFdImpl for HostMain {
    fn register_fd(&self, fd: RawFd, flags: FdFlags) -> Result<(), HostError> {
        self.0.check_main_thread("posix_fd_support.register_fd");
        if fd < 0 {
            return Err(HostError::Message("negative fd"));
        }
        {
            let mut fds = lock(&self.0.fds);
            if fds.contains_key(&fd) {
                return Err(HostError::Message("fd already registered"));
            }
            fds.insert(fd, flags.bits());
        }
        let bits = flags.bits();
        self.0.push(HostCall::FdRegister(fd, bits), |r| {
            r.fds_registered.push((fd, bits))
        });
        Ok(())
    }

    fn modify_fd(&self, fd: RawFd, flags: FdFlags) -> Result<(), HostError> {
        self.0.check_main_thread("posix_fd_support.modify_fd");
        match lock(&self.0.fds).get_mut(&fd) {
            Some(f) => *f = flags.bits(),
            None => return Err(HostError::Message("fd not registered")),
        }
        let bits = flags.bits();
        self.0.push(HostCall::FdModify(fd, bits), |r| {
            r.fds_modified.push((fd, bits))
        });
        Ok(())
    }

    fn unregister_fd(&self, fd: RawFd) -> Result<(), HostError> {
        self.0.check_main_thread("posix_fd_support.unregister_fd");
        if lock(&self.0.fds).remove(&fd).is_none() {
            return Err(HostError::Message("fd not registered"));
        }
        self.0
            .push(HostCall::FdUnregister(fd), |r| r.fds_unregistered.push(fd));
        Ok(())
    }
}

// ---- raw host note-ports extension ----

/// Our own host note-ports extension (see the module docs for why clack's is not used).
#[derive(Copy, Clone)]
pub(crate) struct RawHostNotePorts;

// SAFETY: the identifier is the official note-ports id and the extension side is the host side;
// `from_raw` does not interpret the pointer at all.
unsafe impl Extension for RawHostNotePorts {
    const IDENTIFIERS: &'static [&'static CStr] = &[CLAP_EXT_NOTE_PORTS];
    type ExtensionSide = HostExtensionSide;

    unsafe fn from_raw(_raw: RawExtension<Self::ExtensionSide>) -> Self {
        Self
    }
}

// SAFETY: IMPLEMENTATION points to a `clap_host_note_ports` static (repr(C), from clap-sys), which
// is exactly what a plugin expects for CLAP_EXT_NOTE_PORTS.
unsafe impl ExtensionImplementation<TestHost> for RawHostNotePorts {
    const IMPLEMENTATION: RawExtensionImplementation =
        RawExtensionImplementation::new(&HOST_NOTE_PORTS);
}

static HOST_NOTE_PORTS: clap_host_note_ports = clap_host_note_ports {
    supported_dialects: Some(host_note_ports_supported_dialects),
    rescan: Some(host_note_ports_rescan),
};

unsafe extern "C" fn host_note_ports_supported_dialects(host: *const clap_host) -> u32 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `host` is the clap_host clack created for a TestHost instance (the only host
        // type exposing this vtable); HostWrapper::handle checks it and its host_data for null.
        unsafe {
            HostWrapper::<TestHost>::handle(host, |w| {
                Ok(w.shared().0.note_ports_supported_dialects())
            })
        }
        .unwrap_or(0)
    }))
    .unwrap_or(0)
}

unsafe extern "C" fn host_note_ports_rescan(host: *const clap_host, flags: u32) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as in host_note_ports_supported_dialects.
        unsafe {
            HostWrapper::<TestHost>::handle(host, |w| {
                w.shared().0.note_ports_rescan(flags);
                Ok(())
            })
        };
    }));
}
