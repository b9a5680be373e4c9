//! The DAW's side: its `clap_host` and host extensions, and how the
//! plugin's host calls (arriving from the host process) reach them.

use bulkhead_common::protocol::clap::plugin::{
    HostCapabilities, HostIdentity, PluginExtensions, SetHostAnswers,
};
use bulkhead_common::protocol::clap::MainCallback;
use bulkhead_common::shm::control::callback_flags;
use clap_sys::ext::audio_ports::*;
use clap_sys::ext::latency::*;
use clap_sys::ext::log::*;
use clap_sys::ext::note_ports::*;
use clap_sys::ext::params::*;
use clap_sys::ext::state::*;
use clap_sys::ext::tail::*;
use clap_sys::ext::voice_info::*;
use clap_sys::host::clap_host;
use std::ffi::{CStr, CString};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Plugin log lines passed on at once, then [`LOG_PER_SECOND`] a second.
const LOG_BURST: f64 = 200.0;
const LOG_PER_SECOND: f64 = 100.0;
/// The same request (`request_restart`, `request_process`,
/// `params.request_flush`, `request_callback`) reaches the DAW at most once
/// per interval; repeats in between are coalesced into one delivered later,
/// never dropped.
const REQUEST_INTERVAL: Duration = Duration::from_millis(10);
/// An identical main-thread callback (a rescan, `latency.changed`) within
/// this interval of the last is coalesced into one delivered later.
const MAIN_INTERVAL: Duration = Duration::from_millis(10);
/// Distinct main-thread callbacks kept for later delivery.
const MAIN_PENDING_MAX: usize = 64;
/// Callbacks in one second beyond which a host is not rate-limited but
/// treated as broken: no plugin has a reason to send that many.
pub const FLOOD_LIMIT: u64 = 50_000;

/// The thread-safe requests, as bits of [`Gate::pending`].
#[derive(Clone, Copy)]
enum Req {
    Restart = 0,
    Process = 1,
    Flush = 2,
    Callback = 3,
}

/// What a host's callbacks may make us do to the DAW (issue 9, finding 10):
/// log lines are rate-limited (the drop is counted and said), repeated
/// requests and main-thread callbacks are coalesced (never lost), and a
/// host sending more than [`FLOOD_LIMIT`] a second is reported as broken.
struct Gate {
    log_tokens: f64,
    log_refilled: Instant,
    logs_dropped: u64,
    last_request: [Option<Instant>; 4],
    pending: u8,
    main_recent: Vec<(MainCallback, Instant)>,
    main_pending: Vec<MainCallback>,
    window: Instant,
    in_window: u64,
    flooded: Option<u64>,
}

impl Gate {
    fn new() -> Self {
        Self {
            log_tokens: LOG_BURST,
            log_refilled: Instant::now(),
            logs_dropped: 0,
            last_request: [None; 4],
            pending: 0,
            main_recent: Vec::new(),
            main_pending: Vec::new(),
            window: Instant::now(),
            in_window: 0,
            flooded: None,
        }
    }

    /// Counts an arrival; notes a flood.
    fn arrive(&mut self, now: Instant) {
        if now.duration_since(self.window) >= Duration::from_secs(1) {
            self.window = now;
            self.in_window = 0;
        }
        self.in_window += 1;
        if self.in_window > FLOOD_LIMIT && self.flooded.is_none() {
            self.flooded = Some(self.in_window);
        }
    }

    /// Whether a log line may pass; the number dropped before it, if any.
    fn admit_log(&mut self, now: Instant) -> Option<u64> {
        let elapsed = now.duration_since(self.log_refilled).as_secs_f64();
        self.log_refilled = now;
        self.log_tokens = (self.log_tokens + elapsed * LOG_PER_SECOND).min(LOG_BURST);
        if self.log_tokens < 1.0 {
            self.logs_dropped += 1;
            return None;
        }
        self.log_tokens -= 1.0;
        Some(std::mem::take(&mut self.logs_dropped))
    }

    /// Whether request `r` may reach the DAW now; otherwise it is pending.
    fn admit_request(&mut self, r: Req, now: Instant) -> bool {
        let i = r as usize;
        if self.last_request[i].is_some_and(|t| now.duration_since(t) < REQUEST_INTERVAL) {
            self.pending |= 1 << i;
            return false;
        }
        self.last_request[i] = Some(now);
        self.pending &= !(1 << i);
        true
    }

    /// Pending requests whose interval passed (they are then delivered).
    fn due_requests(&mut self, now: Instant) -> Vec<Req> {
        [Req::Restart, Req::Process, Req::Flush, Req::Callback]
            .into_iter()
            .filter(|&r| self.pending & (1 << r as usize) != 0 && self.admit_request(r, now))
            .collect()
    }

    /// Whether main-thread callback `cb` may reach the DAW now; otherwise
    /// it is kept (once) for later.
    fn admit_main(&mut self, cb: &MainCallback, now: Instant) -> bool {
        self.main_recent
            .retain(|(_, t)| now.duration_since(*t) < MAIN_INTERVAL);
        if self.main_recent.iter().any(|(c, _)| c == cb) {
            if !self.main_pending.contains(cb) {
                if self.main_pending.len() < MAIN_PENDING_MAX {
                    self.main_pending.push(cb.clone());
                } else {
                    tracing::warn!(
                        "bulkhead: a flood of distinct callbacks; one was dropped: {cb:?}"
                    );
                }
            }
            return false;
        }
        self.main_pending.retain(|c| c != cb);
        self.main_recent.push((cb.clone(), now));
        true
    }
}

/// The DAW's host pointers, fetched once in `init`, and what the plugin's
/// host process needs to know of the DAW, asked on the DAW's main thread and
/// kept: a restart runs on the supervisor thread, where the DAW's
/// main-thread functions must not be called.
pub struct DawHost {
    host: *const clap_host,
    /// The thread `init` ran on: the DAW's main thread.
    /// The kernel's id of the DAW's main thread: not std's thread handle,
    /// which would leave a destructor on the DAW's thread that outlives an
    /// unloaded bridge (see `crate::launcher`).
    main_thread: rustix::thread::Pid,
    identity: HostIdentity,
    /// The DAW's answers, asked on the main thread for the plugin's
    /// extensions then; restarts reuse them.
    answers: std::sync::Mutex<Option<(PluginExtensions, SetHostAnswers)>>,
    /// Bounds what the host's callbacks make us do to the DAW.
    gate: Mutex<Gate>,
    log: *const clap_host_log,
    params: *const clap_host_params,
    state: *const clap_host_state,
    latency: *const clap_host_latency,
    tail: *const clap_host_tail,
    audio_ports: *const clap_host_audio_ports,
    note_ports: *const clap_host_note_ports,
    voice_info: *const clap_host_voice_info,
}

// SAFETY: the pointers are the DAW's; each is only called on the thread its
// function's CLAP contract allows (thread-safe functions from any thread).
unsafe impl Send for DawHost {}
// SAFETY: see `Send`.
unsafe impl Sync for DawHost {}

fn c_str(p: *const std::ffi::c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: the DAW's clap_host strings are C strings.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// Calls an optional function of an optional vtable, if both exist.
macro_rules! call_ext {
    ($vt:expr, $f:ident, $($arg:expr),*) => {{
        // SAFETY: a non-null vtable came from the DAW's get_extension; the
        // caller picked the thread the function allows.
        if let Some(f) = unsafe { $vt.as_ref() }.and_then(|v| v.$f) {
            // SAFETY: as above.
            Some(unsafe { f($($arg),*) })
        } else {
            None
        }
    }};
}

impl DawHost {
    /// # Safety
    /// `host` must be the DAW's `clap_host`, valid for the plugin's life;
    /// call on the main thread.
    pub unsafe fn query(host: *const clap_host) -> Self {
        let get = |id: &CStr| {
            // SAFETY: per the caller's contract.
            unsafe {
                match (*host).get_extension {
                    Some(f) => f(host, id.as_ptr()),
                    None => std::ptr::null(),
                }
            }
        };
        // SAFETY: per the caller's contract.
        let h = unsafe { &*host };
        Self {
            host,
            main_thread: rustix::thread::gettid(),
            identity: HostIdentity {
                name: c_str(h.name),
                vendor: c_str(h.vendor),
                url: c_str(h.url),
                version: c_str(h.version),
            },
            answers: std::sync::Mutex::new(None),
            gate: Mutex::new(Gate::new()),
            log: get(CLAP_EXT_LOG).cast(),
            params: get(CLAP_EXT_PARAMS).cast(),
            state: get(CLAP_EXT_STATE).cast(),
            latency: get(CLAP_EXT_LATENCY).cast(),
            tail: get(CLAP_EXT_TAIL).cast(),
            audio_ports: get(CLAP_EXT_AUDIO_PORTS).cast(),
            note_ports: get(CLAP_EXT_NOTE_PORTS).cast(),
            voice_info: get(CLAP_EXT_VOICE_INFO).cast(),
        }
    }

    /// Read once in `init`; any thread.
    pub fn identity(&self) -> HostIdentity {
        self.identity.clone()
    }

    /// Whether the calling thread is the DAW's main thread (the one `init`
    /// ran on).
    pub fn on_main_thread_now(&self) -> bool {
        rustix::thread::gettid() == self.main_thread
    }

    /// Which host extensions the DAW offers.
    pub fn capabilities(&self) -> HostCapabilities {
        HostCapabilities {
            log: !self.log.is_null(),
            params: !self.params.is_null(),
            state: !self.state.is_null(),
            latency: !self.latency.is_null(),
            tail: !self.tail.is_null(),
            audio_ports: !self.audio_ports.is_null(),
            note_ports: !self.note_ports.is_null(),
            voice_info: !self.voice_info.is_null(),
        }
    }

    /// The DAW's answers to synchronous questions. On the main thread they
    /// are asked and kept; on any other thread (a restart) the kept ones are
    /// given, narrowed to the extensions the plugin has now: the DAW's
    /// main-thread functions are never called from elsewhere.
    pub fn answers(&self, plugin: &PluginExtensions) -> SetHostAnswers {
        let mut kept = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        if self.on_main_thread_now() {
            let fresh = self.ask_answers(plugin);
            *kept = Some((*plugin, fresh));
            return fresh;
        }
        let Some((asked, answers)) = *kept else {
            tracing::warn!("the DAW's answers were never asked on its main thread; none given");
            return SetHostAnswers::default();
        };
        if (plugin.audio_ports && !asked.audio_ports) || (plugin.note_ports && !asked.note_ports) {
            tracing::warn!(
                "the restarted plugin has port extensions it lacked at init; the DAW's \
                 answers for them cannot be asked off its main thread"
            );
        }
        SetHostAnswers {
            audio_ports_rescan_flags: if plugin.audio_ports {
                answers.audio_ports_rescan_flags
            } else {
                0
            },
            note_dialects: if plugin.note_ports {
                answers.note_dialects
            } else {
                0
            },
        }
    }

    /// Asks the DAW; main thread only. Asked only for the extensions the
    /// plugin has: a host may check that a plugin using
    /// `clap_host_audio_ports` implements `clap_plugin_audio_ports`.
    fn ask_answers(&self, plugin: &PluginExtensions) -> SetHostAnswers {
        let mut rescan_flags = 0;
        if plugin.audio_ports {
            // The flags CLAP defines (names … list).
            for bit in 0..6 {
                let flag = 1u32 << bit;
                if call_ext!(self.audio_ports, is_rescan_flag_supported, self.host, flag)
                    == Some(true)
                {
                    rescan_flags |= flag;
                }
            }
        }
        let note_dialects = if plugin.note_ports {
            call_ext!(self.note_ports, supported_dialects, self.host).unwrap_or(0)
        } else {
            0
        };
        SetHostAnswers {
            audio_ports_rescan_flags: rescan_flags,
            note_dialects,
        }
    }

    /// Logs through the DAW's log extension (thread-safe).
    pub fn log(&self, severity: i32, message: &str) {
        let msg = CString::new(message.replace('\0', "")).unwrap_or_default();
        call_ext!(self.log, log, self.host, severity, msg.as_ptr());
    }

    pub fn request_callback(&self) {
        // SAFETY: thread-safe host function.
        if let Some(f) = unsafe { (*self.host).request_callback } {
            // SAFETY: as above.
            unsafe { f(self.host) }
        }
    }

    pub fn request_restart(&self) {
        // SAFETY: thread-safe host function.
        if let Some(f) = unsafe { (*self.host).request_restart } {
            // SAFETY: as above.
            unsafe { f(self.host) }
        }
    }

    pub fn request_process(&self) {
        // SAFETY: thread-safe host function.
        if let Some(f) = unsafe { (*self.host).request_process } {
            // SAFETY: as above.
            unsafe { f(self.host) }
        }
    }

    /// Host calls the plugin made on its audio thread, replayed on ours.
    /// `params.request_flush` is `[!audio-thread]` (the plugin is inside
    /// `process` or `flush` already): it is not passed on from here.
    pub fn on_audio_flags(&self, flags: u32) {
        if flags & callback_flags::REQUEST_RESTART != 0 {
            self.request_restart();
        }
        if flags & callback_flags::REQUEST_PROCESS != 0 {
            self.request_process();
        }
        if flags & callback_flags::TAIL_CHANGED != 0 {
            call_ext!(self.tail, changed, self.host);
        }
        if flags & callback_flags::REQUEST_CALLBACK != 0 {
            self.request_callback();
        }
    }

    fn gate(&self) -> std::sync::MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes thread-safe request `r` of the DAW.
    fn request(&self, r: Req) {
        match r {
            Req::Restart => self.request_restart(),
            Req::Process => self.request_process(),
            Req::Flush => {
                call_ext!(self.params, request_flush, self.host);
            }
            Req::Callback => self.request_callback(),
        }
    }

    /// Serves a callback on the reader thread if CLAP allows it there;
    /// otherwise asks the DAW for a main-thread callback. Returns whether
    /// it was served. Log lines are rate-limited, repeated requests
    /// coalesced (see [`Gate`]).
    pub fn on_any_thread(&self, cb: &MainCallback) -> bool {
        let now = Instant::now();
        let (req, served) = {
            let mut g = self.gate();
            g.arrive(now);
            match cb {
                MainCallback::Log { severity, message } => {
                    if let Some(dropped) = g.admit_log(now) {
                        drop(g);
                        if dropped > 0 {
                            let msg = format!(
                                "bulkhead: {dropped} log messages of the plugin were dropped \
                                 (more than {LOG_PER_SECOND} a second)"
                            );
                            tracing::warn!("{msg}");
                            self.log(CLAP_LOG_WARNING, &msg);
                        }
                        self.log(*severity, message);
                    }
                    return true;
                }
                MainCallback::RequestRestart => (Req::Restart, true),
                MainCallback::RequestProcess => (Req::Process, true),
                MainCallback::ParamsRequestFlush => (Req::Flush, true),
                _ => (Req::Callback, false),
            }
        };
        if self.gate().admit_request(req, now) {
            self.request(req);
        }
        served
    }

    /// Delivers coalesced requests whose interval passed, and asks for a
    /// main-thread turn when main-thread callbacks wait. Any thread but the
    /// audio thread (the supervisor calls it every tick).
    pub fn deliver_pending(&self) {
        let (due, main_waiting) = {
            let mut g = self.gate();
            (g.due_requests(Instant::now()), !g.main_pending.is_empty())
        };
        for r in due {
            self.request(r);
        }
        if main_waiting {
            self.request_callback();
        }
    }

    /// Serves coalesced main-thread callbacks whose interval passed; on the
    /// DAW's main thread.
    pub fn serve_pending_main(&self) {
        let pending = std::mem::take(&mut self.gate().main_pending);
        for cb in &pending {
            self.on_main_thread(cb);
        }
    }

    /// A flood seen on the reader thread: how many callbacks arrived in one
    /// second (asked once).
    pub fn take_flood(&self) -> Option<u64> {
        self.gate().flooded.take()
    }

    /// Serves a main-thread callback; call on the DAW's main thread.
    /// Identical callbacks in quick succession are coalesced.
    pub fn on_main_thread(&self, cb: &MainCallback) {
        if !self.gate().admit_main(cb, Instant::now()) {
            return;
        }
        let h = self.host;
        match *cb {
            MainCallback::ParamsRescan { flags } => {
                call_ext!(self.params, rescan, h, flags);
            }
            MainCallback::ParamsClear { param_id, flags } => {
                call_ext!(self.params, clear, h, param_id, flags);
            }
            MainCallback::StateMarkDirty => {
                call_ext!(self.state, mark_dirty, h);
            }
            MainCallback::LatencyChanged => {
                call_ext!(self.latency, changed, h);
            }
            MainCallback::TailChanged => {
                call_ext!(self.tail, changed, h);
            }
            MainCallback::AudioPortsRescan { flags } => {
                call_ext!(self.audio_ports, rescan, h, flags);
            }
            MainCallback::NotePortsRescan { flags } => {
                call_ext!(self.note_ports, rescan, h, flags);
            }
            MainCallback::VoiceInfoChanged => {
                call_ext!(self.voice_info, changed, h);
            }
            // Served on the reader thread already.
            MainCallback::Log { .. }
            | MainCallback::RequestRestart
            | MainCallback::RequestProcess
            | MainCallback::ParamsRequestFlush => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_rate_limited_and_the_drop_counted() {
        let mut g = Gate::new();
        let t = Instant::now();
        let passed = (0..10_000).filter(|_| g.admit_log(t).is_some()).count();
        assert_eq!(passed, LOG_BURST as usize);
        // A second later, the next line passes and says how many were dropped.
        let later = t + Duration::from_secs(1);
        assert_eq!(g.admit_log(later), Some(10_000 - LOG_BURST as u64));
    }

    #[test]
    fn repeated_requests_are_coalesced_not_lost() {
        let mut g = Gate::new();
        let t = Instant::now();
        let passed = (0..1_000)
            .filter(|_| g.admit_request(Req::Restart, t))
            .count();
        assert_eq!(passed, 1);
        assert!(g.due_requests(t).is_empty(), "not before the interval");
        let due = g.due_requests(t + REQUEST_INTERVAL);
        assert_eq!(due.len(), 1, "the repeats become one later request");
        assert!(g.due_requests(t + REQUEST_INTERVAL * 3).is_empty());
    }

    #[test]
    fn repeated_main_thread_callbacks_are_coalesced_not_lost() {
        let mut g = Gate::new();
        let t = Instant::now();
        let rescan = MainCallback::ParamsRescan { flags: 1 };
        let passed = (0..1_000).filter(|_| g.admit_main(&rescan, t)).count();
        assert_eq!(passed, 1);
        assert!(
            g.admit_main(&MainCallback::LatencyChanged, t),
            "another kind passes"
        );
        assert_eq!(g.main_pending, vec![rescan.clone()], "kept once for later");
        assert!(g.admit_main(&rescan, t + MAIN_INTERVAL));
        assert!(g.main_pending.is_empty());
    }

    #[test]
    fn a_flood_is_noticed() {
        let mut g = Gate::new();
        let t = Instant::now();
        for _ in 0..=FLOOD_LIMIT {
            g.arrive(t);
        }
        assert_eq!(g.flooded, Some(FLOOD_LIMIT + 1));
    }
}
