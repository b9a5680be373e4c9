//! What the plugin sees as its host: `clap_host` and the host extensions.
//! Calls the DAW must hear about are forwarded as callbacks; questions
//! (thread checks, dialects, rescan flags) are answered here from the
//! capabilities the bridge sent, and timers and fds run in this process's
//! main loop.

use super::note_ports_host::HostNotePortsBridged;
use crate::outbox::Outbox;
use bulkhead_common::protocol::clap::plugin::HostCapabilities;
use bulkhead_common::protocol::clap::MainCallback;
use bulkhead_common::shm::control::callback_flags;
use bulkhead_common::InstanceId;
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
use clack_host::prelude::*;
use std::cell::{Cell, RefCell};
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

thread_local! {
    /// Set on the threads that run the plugin's audio processing.
    pub static IS_AUDIO_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn on_audio_thread() -> bool {
    IS_AUDIO_THREAD.with(Cell::get)
}

pub struct BulkheadHost;

impl HostHandlers for BulkheadHost {
    type Shared<'a> = SharedHost;
    type MainThread<'a> = MainThreadHost<'a>;
    type AudioProcessor<'a> = AudioHost;

    fn declare_extensions(builder: &mut HostExtensions<Self>, shared: &SharedHost) {
        builder
            .register::<HostThreadCheck>()
            .register::<HostTimer>()
            .register::<HostPosixFd>()
            .register::<HostLog>();
        let caps = &shared.caps;
        if caps.params {
            builder.register::<HostParams>();
        }
        if caps.state {
            builder.register::<HostState>();
        }
        if caps.latency {
            builder.register::<HostLatency>();
        }
        if caps.tail {
            builder.register::<HostTail>();
        }
        if caps.audio_ports {
            builder.register::<HostAudioPorts>();
        }
        if caps.note_ports {
            builder.register::<HostNotePortsBridged>();
        }
        if caps.voice_info {
            builder.register::<HostVoiceInfo>();
        }
    }
}

/// Thread-safe host state of one instance.
pub struct SharedHost {
    pub instance: InstanceId,
    pub outbox: Arc<Outbox>,
    pub caps: HostCapabilities,
    pub main_thread: std::thread::ThreadId,
    /// Raised by `request_callback`; the main loop calls `on_main_thread`.
    pub callback_requested: Arc<AtomicBool>,
    pub wake: Arc<rustix::fd::OwnedFd>,
    /// Host calls made on the audio thread, published after each block.
    pub audio_flags: Arc<AtomicU32>,
    /// The DAW's answers, sent after creation (see `SetHostAnswers`).
    pub audio_ports_rescan_flags: AtomicU32,
    pub note_dialects: AtomicU32,
}

impl SharedHost {
    fn forward_or_flag(&self, cb: MainCallback, flag: u32) {
        if on_audio_thread() {
            self.audio_flags.fetch_or(flag, Ordering::Relaxed);
        } else {
            self.outbox.callback(self.instance, cb);
        }
    }
}

impl<'a> SharedHandler<'a> for SharedHost {
    fn request_restart(&self) {
        self.forward_or_flag(
            MainCallback::RequestRestart,
            callback_flags::REQUEST_RESTART,
        );
    }

    fn request_process(&self) {
        self.forward_or_flag(
            MainCallback::RequestProcess,
            callback_flags::REQUEST_PROCESS,
        );
    }

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::Release);
        let _ = rustix::io::write(&*self.wake, &1u64.to_ne_bytes());
    }
}

impl HostLogImpl for SharedHost {
    fn log(&self, severity: LogSeverity, message: &str) {
        tracing::info!(
            instance = self.instance,
            "plugin log [{severity}]: {message}"
        );
        if self.caps.log {
            self.outbox.callback(
                self.instance,
                MainCallback::Log {
                    severity: severity.to_raw(),
                    message: message.to_string(),
                },
            );
        }
    }
}

impl HostThreadCheckImpl for SharedHost {
    fn is_main_thread(&self) -> bool {
        std::thread::current().id() == self.main_thread
    }

    fn is_audio_thread(&self) -> bool {
        on_audio_thread()
    }
}

impl HostParamsImplShared for SharedHost {
    fn request_flush(&self) {
        self.forward_or_flag(
            MainCallback::ParamsRequestFlush,
            callback_flags::PARAMS_REQUEST_FLUSH,
        );
    }
}

/// A timer or fd the plugin registered; served by the main loop.
#[derive(Default)]
pub struct MainLoopRegistry {
    next_timer: u32,
    pub timers: Vec<(u32, Duration, Instant)>,
    pub fds: Vec<(RawFd, u32)>,
}

/// Main-thread host state of one instance.
pub struct MainThreadHost<'a> {
    pub shared: &'a SharedHost,
    pub registry: Rc<RefCell<MainLoopRegistry>>,
}

impl<'a> MainThreadHandler<'a> for MainThreadHost<'a> {}

impl MainThreadHost<'_> {
    fn forward(&self, cb: MainCallback) {
        self.shared.outbox.callback(self.shared.instance, cb);
    }
}

impl HostParamsImplMainThread for MainThreadHost<'_> {
    fn rescan(&self, flags: ParamRescanFlags) {
        self.forward(MainCallback::ParamsRescan {
            flags: flags.bits(),
        });
    }

    fn clear(&self, param_id: ClapId, flags: ParamClearFlags) {
        self.forward(MainCallback::ParamsClear {
            param_id: param_id.into(),
            flags: flags.bits(),
        });
    }
}

impl HostStateImpl for MainThreadHost<'_> {
    fn mark_dirty(&self) {
        self.forward(MainCallback::StateMarkDirty);
    }
}

impl HostLatencyImpl for MainThreadHost<'_> {
    fn changed(&self) {
        self.forward(MainCallback::LatencyChanged);
    }
}

impl HostAudioPortsImpl for MainThreadHost<'_> {
    fn is_rescan_flag_supported(&self, flag: AudioPortRescanFlags) -> bool {
        let supported = self.shared.audio_ports_rescan_flags.load(Ordering::Relaxed);
        supported & flag.bits() == flag.bits()
    }

    fn rescan(&self, flags: AudioPortRescanFlags) {
        self.forward(MainCallback::AudioPortsRescan {
            flags: flags.bits(),
        });
    }
}

impl HostVoiceInfoImpl for MainThreadHost<'_> {
    fn changed(&self) {
        self.forward(MainCallback::VoiceInfoChanged);
    }
}

impl HostTimerImpl for MainThreadHost<'_> {
    fn register_timer(&self, period_ms: u32) -> Result<TimerId, HostError> {
        let mut r = self.registry.borrow_mut();
        r.next_timer += 1;
        let id = r.next_timer;
        // CLAP allows the host to adjust the period; never spin faster than 1 ms.
        let period = Duration::from_millis(u64::from(period_ms.max(1)));
        r.timers.push((id, period, Instant::now() + period));
        Ok(TimerId(id))
    }

    fn unregister_timer(&self, timer_id: TimerId) -> Result<(), HostError> {
        let mut r = self.registry.borrow_mut();
        let before = r.timers.len();
        r.timers.retain(|t| t.0 != timer_id.0);
        if r.timers.len() == before {
            return Err(HostError::Message("no such timer"));
        }
        Ok(())
    }
}

impl HostPosixFdImpl for MainThreadHost<'_> {
    fn register_fd(&self, fd: RawFd, flags: FdFlags) -> Result<(), HostError> {
        let mut r = self.registry.borrow_mut();
        if r.fds.iter().any(|f| f.0 == fd) {
            return Err(HostError::Message("fd already registered"));
        }
        r.fds.push((fd, flags.bits()));
        Ok(())
    }

    fn modify_fd(&self, fd: RawFd, flags: FdFlags) -> Result<(), HostError> {
        let mut r = self.registry.borrow_mut();
        let entry = r
            .fds
            .iter_mut()
            .find(|f| f.0 == fd)
            .ok_or(HostError::Message("fd not registered"))?;
        entry.1 = flags.bits();
        Ok(())
    }

    fn unregister_fd(&self, fd: RawFd) -> Result<(), HostError> {
        let mut r = self.registry.borrow_mut();
        let before = r.fds.len();
        r.fds.retain(|f| f.0 != fd);
        if r.fds.len() == before {
            return Err(HostError::Message("fd not registered"));
        }
        Ok(())
    }
}

/// Audio-thread host state of one instance.
pub struct AudioHost {
    pub audio_flags: Arc<AtomicU32>,
}

impl<'a> AudioProcessorHandler<'a> for AudioHost {}

impl HostTailImpl for AudioHost {
    fn changed(&mut self) {
        self.audio_flags
            .fetch_or(callback_flags::TAIL_CHANGED, Ordering::Relaxed);
    }
}
