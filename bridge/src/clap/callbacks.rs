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

/// The DAW's host pointers, fetched once in `init`, and what the plugin's
/// host process needs to know of the DAW, asked on the DAW's main thread and
/// kept: a restart runs on the supervisor thread, where the DAW's
/// main-thread functions must not be called.
pub struct DawHost {
    host: *const clap_host,
    /// The thread `init` ran on: the DAW's main thread.
    main_thread: std::thread::ThreadId,
    identity: HostIdentity,
    /// The DAW's answers, asked on the main thread for the plugin's
    /// extensions then; restarts reuse them.
    answers: std::sync::Mutex<Option<(PluginExtensions, SetHostAnswers)>>,
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
            main_thread: std::thread::current().id(),
            identity: HostIdentity {
                name: c_str(h.name),
                vendor: c_str(h.vendor),
                url: c_str(h.url),
                version: c_str(h.version),
            },
            answers: std::sync::Mutex::new(None),
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
        std::thread::current().id() == self.main_thread
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

    /// Serves a callback on the reader thread if CLAP allows it there;
    /// otherwise asks the DAW for a main-thread callback. Returns whether
    /// it was served.
    pub fn on_any_thread(&self, cb: &MainCallback) -> bool {
        match cb {
            MainCallback::Log { severity, message } => self.log(*severity, message),
            MainCallback::RequestRestart => self.request_restart(),
            MainCallback::RequestProcess => self.request_process(),
            MainCallback::ParamsRequestFlush => {
                call_ext!(self.params, request_flush, self.host);
            }
            _ => {
                self.request_callback();
                return false;
            }
        }
        true
    }

    /// Serves a main-thread callback; call on the DAW's main thread.
    pub fn on_main_thread(&self, cb: &MainCallback) {
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
