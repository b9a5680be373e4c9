//! The proxy `clap_plugin`: every call becomes a message to the host
//! process (main thread) or a block in shared memory (audio thread).

use super::audio::AudioState;
use super::callbacks::DawHost;
use super::entry::Bundle;
use super::ext;
use crate::config::Timeouts;
use crate::guard::ffi_guard;
use crate::host_process::HostProcess;
use crate::BridgeError;
use bulkhead_common::protocol::clap::ext::*;
use bulkhead_common::protocol::clap::plugin::*;
use bulkhead_common::protocol::clap::MainCallback;
use bulkhead_common::protocol::Request;
use bulkhead_common::shm::{AudioLayout, AudioOp, ShmLayout};
use bulkhead_common::InstanceId;
use clap_sys::host::clap_host;
use clap_sys::plugin::clap_plugin;
use clap_sys::process::{clap_process, clap_process_status, CLAP_PROCESS_ERROR};
use std::cell::UnsafeCell;
use std::ffi::{c_char, c_void, CStr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Main-thread caches, refreshed when the plugin says they changed.
#[derive(Default)]
pub struct Caches {
    pub audio_ports: Option<(audio_ports::AudioPorts, Vec<Option<std::ffi::CString>>)>,
    pub note_ports: Option<note_ports::NotePorts>,
    pub params: Option<Vec<params::ParamInfo>>,
}

pub struct Proxy {
    raw: clap_plugin,
    bundle: Arc<Bundle>,
    index: usize,
    daw_host: *const clap_host,
    pub daw: OnceLock<Arc<DawHost>>,
    process: Mutex<Option<Arc<HostProcess>>>,
    instance: AtomicU64,
    pub extensions: OnceLock<PluginExtensions>,
    pub caches: Mutex<Caches>,
    /// The last state the DAW loaded or saved; never lost.
    pub last_state: Mutex<Option<Vec<u8>>>,
    pub active: AtomicBool,
    processing: AtomicBool,
    /// Only touched by the audio thread while active, and by the main thread
    /// while inactive (CLAP's threading rules make these exclusive).
    audio: UnsafeCell<Option<AudioState>>,
    pub timeouts: Timeouts,
}

// SAFETY: shared fields are behind locks or atomics; `audio` follows CLAP's
// activation rules (see its comment); raw pointers are the DAW's, used on the
// threads CLAP allows.
unsafe impl Send for Proxy {}
// SAFETY: see `Send`.
unsafe impl Sync for Proxy {}

/// The proxy behind a `clap_plugin` we created.
///
/// # Safety
/// `plugin` must be null or a pointer handed out by [`Proxy::create`] and
/// not yet destroyed.
pub unsafe fn proxy<'a>(plugin: *const clap_plugin) -> Option<&'a Proxy> {
    // SAFETY: per the contract, plugin_data is our boxed proxy.
    unsafe { plugin.as_ref()?.plugin_data.cast::<Proxy>().as_ref() }
}

/// Runs `f` with the proxy behind `plugin`, guarded; `failure` when the
/// pointer is null or `f` panics.
pub fn with_proxy<T>(plugin: *const clap_plugin, failure: T, f: impl FnOnce(&Proxy) -> T) -> T {
    // SAFETY: the DAW passes back the pointer we gave it.
    match unsafe { proxy(plugin) } {
        Some(p) => ffi_guard(failure, || f(p)),
        None => failure,
    }
}

impl Proxy {
    pub fn create(bundle: Arc<Bundle>, index: usize, host: *const clap_host) -> *const clap_plugin {
        let desc: *const _ = &bundle.descriptors[index].raw;
        let proxy = Box::new(Proxy {
            raw: clap_plugin {
                desc,
                plugin_data: std::ptr::null_mut(),
                init: Some(init),
                destroy: Some(destroy),
                activate: Some(activate),
                deactivate: Some(deactivate),
                start_processing: Some(start_processing),
                stop_processing: Some(stop_processing),
                reset: Some(reset),
                process: Some(process),
                get_extension: Some(get_extension),
                on_main_thread: Some(on_main_thread),
            },
            bundle,
            index,
            daw_host: host,
            daw: OnceLock::new(),
            process: Mutex::new(None),
            instance: AtomicU64::new(0),
            extensions: OnceLock::new(),
            caches: Mutex::new(Caches::default()),
            last_state: Mutex::new(None),
            active: AtomicBool::new(false),
            processing: AtomicBool::new(false),
            audio: UnsafeCell::new(None),
            timeouts: Timeouts::default(),
        });
        let raw = Box::into_raw(proxy);
        // SAFETY: `raw` is the box we just leaked; it lives until `destroy`.
        unsafe {
            (*raw).raw.plugin_data = raw.cast();
            &(*raw).raw
        }
    }

    fn real_id(&self) -> &str {
        &self.bundle.descriptors[self.index].real.id
    }

    fn daw(&self) -> Option<&DawHost> {
        self.daw.get().map(|d| &**d)
    }

    pub fn caches(&self) -> std::sync::MutexGuard<'_, Caches> {
        self.caches.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn init(&self) -> Result<(), BridgeError> {
        // SAFETY: the DAW's host pointer, valid for our life; init runs on
        // the main thread.
        let daw = Arc::new(unsafe { DawHost::query(self.daw_host) });
        let _ = self.daw.set(Arc::clone(&daw));
        let hook_daw = Arc::clone(&daw);
        let process = HostProcess::spawn(
            &self.bundle.host_binary,
            &self.bundle.manifest.plugin,
            Arc::new(move |_, cb: &MainCallback| {
                hook_daw.on_any_thread(cb);
            }),
        )?;
        *self.process.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(process));
        let created = self.call(
            CreatePlugin {
                plugin_id: self.real_id().to_string(),
                host: daw.identity(),
                caps: daw.capabilities(),
            },
            self.timeouts.slow,
        )??;
        self.instance.store(created.instance, Ordering::Release);
        let _ = self.extensions.set(created.extensions);
        self.call(daw.answers(&created.extensions), self.timeouts.main)?;
        Ok(())
    }

    fn host_process(&self) -> Result<Arc<HostProcess>, BridgeError> {
        self.process
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(BridgeError::Disconnected)
    }

    fn instance(&self) -> InstanceId {
        self.instance.load(Ordering::Acquire)
    }

    /// A main-thread call; callbacks arriving meanwhile are served here.
    pub fn call<R: Request>(&self, req: R, timeout: Duration) -> Result<R::Response, BridgeError> {
        self.call_with_fds(req, &[], timeout)
    }

    fn call_with_fds<R: Request>(
        &self,
        req: R,
        fds: &[std::os::fd::RawFd],
        timeout: Duration,
    ) -> Result<R::Response, BridgeError> {
        let process = self.host_process()?;
        process.call(self.instance(), req, fds, timeout, &mut |_, cb| {
            self.serve_callback(&cb)
        })
    }

    /// A main-thread call whose failure the DAW can only see as a default.
    pub fn query<R: Request>(&self, req: R, default: R::Response) -> R::Response {
        match self.call(req, self.timeouts.main) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(plugin = self.real_id(), "call failed: {e}");
                default
            }
        }
    }

    /// A main-thread callback: caches first, then the DAW.
    fn serve_callback(&self, cb: &MainCallback) {
        {
            let mut caches = self.caches();
            match cb {
                MainCallback::ParamsRescan { .. } | MainCallback::ParamsClear { .. } => {
                    caches.params = None
                }
                MainCallback::AudioPortsRescan { .. } => caches.audio_ports = None,
                MainCallback::NotePortsRescan { .. } => caches.note_ports = None,
                _ => {}
            }
        }
        if let Some(daw) = self.daw() {
            daw.on_main_thread(cb);
        }
    }

    /// The audio state. Callers follow CLAP's threading rules: the audio
    /// thread while active, the main thread while inactive.
    #[allow(clippy::mut_from_ref)]
    fn audio(&self) -> &mut Option<AudioState> {
        // SAFETY: see the field's comment; CLAP never runs an audio-thread
        // call concurrently with activate/deactivate, nor two audio calls at
        // once.
        unsafe { &mut *self.audio.get() }
    }

    pub fn audio_ports(&self) -> audio_ports::AudioPorts {
        if let Some((p, _)) = &self.caches().audio_ports {
            return p.clone();
        }
        let ports = self.query(audio_ports::GetAudioPorts, Default::default());
        let types = ports
            .inputs
            .iter()
            .chain(&ports.outputs)
            .map(|p| {
                p.port_type
                    .as_ref()
                    .and_then(|t| std::ffi::CString::new(t.clone()).ok())
            })
            .collect();
        self.caches().audio_ports = Some((ports.clone(), types));
        ports
    }

    fn activate(&self, sample_rate: f64, min: u32, max: u32) -> Result<(), BridgeError> {
        let ports = if self.extensions.get().is_some_and(|e| e.audio_ports) {
            self.caches().audio_ports = None;
            self.audio_ports()
        } else {
            Default::default()
        };
        let layout = AudioLayout {
            inputs: ports.inputs.iter().map(|p| p.channel_count).collect(),
            outputs: ports.outputs.iter().map(|p| p.channel_count).collect(),
            max_frames: max,
        };
        let shm = ShmLayout::compute(&layout)?;
        let state = AudioState::new(shm, self.timeouts.audio)?;
        let fd = state.region.fd().as_raw_fd();
        self.call_with_fds(
            Activate {
                sample_rate,
                min_frames: min,
                max_frames: max,
                layout,
            },
            &[fd],
            self.timeouts.slow,
        )??;
        *self.audio() = Some(state);
        self.active.store(true, Ordering::Release);
        Ok(())
    }

    fn deactivate(&self) {
        if !self.active.swap(false, Ordering::AcqRel) {
            return;
        }
        if let Err(e) = self.call(Deactivate, self.timeouts.main) {
            tracing::warn!(plugin = self.real_id(), "deactivate failed: {e}");
        }
        *self.audio() = None;
    }

    fn audio_op(&self, op: AudioOp) -> Option<i32> {
        let daw = self.daw()?;
        self.audio().as_mut()?.op(op, daw)
    }

    /// `tail.get` from the audio thread reads the last block's value.
    pub fn tail_on_audio_thread(&self) -> Option<u32> {
        self.audio().as_ref().map(AudioState::tail)
    }

    /// `params.flush` of an active plugin, on the audio thread.
    pub fn flush_active(
        &self,
        input: *const clap_sys::events::clap_input_events,
        output: *const clap_sys::events::clap_output_events,
    ) {
        if let (Some(daw), Some(a)) = (self.daw(), self.audio().as_mut()) {
            a.flush(input, output, daw);
        }
    }
}

unsafe extern "C" fn init(plugin: *const clap_plugin) -> bool {
    with_proxy(plugin, false, |p| match p.init() {
        Ok(()) => true,
        Err(e) => {
            let msg = format!("bulkhead: cannot start {}: {e}", p.real_id());
            tracing::error!("{msg}");
            if let Some(d) = p.daw() {
                d.log(clap_sys::ext::log::CLAP_LOG_ERROR, &msg);
            }
            false
        }
    })
}

unsafe extern "C" fn destroy(plugin: *const clap_plugin) {
    ffi_guard((), || {
        // SAFETY: the DAW hands back our pointer once, at the end of its life.
        let Some(p) = (unsafe { proxy(plugin) }) else {
            return;
        };
        p.deactivate();
        if p.instance() != 0 {
            let _ = p.call(DestroyPlugin, p.timeouts.main);
        }
        let process = p.process.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(process);
        // SAFETY: plugin_data is the box leaked in `create`; nothing uses it
        // after destroy.
        drop(unsafe { Box::from_raw((*plugin).plugin_data.cast::<Proxy>()) });
    })
}

unsafe extern "C" fn activate(
    plugin: *const clap_plugin,
    sample_rate: f64,
    min_frames: u32,
    max_frames: u32,
) -> bool {
    with_proxy(plugin, false, |p| {
        match p.activate(sample_rate, min_frames, max_frames) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(plugin = p.real_id(), "activation failed: {e}");
                *p.audio() = None;
                false
            }
        }
    })
}

unsafe extern "C" fn deactivate(plugin: *const clap_plugin) {
    with_proxy(plugin, (), |p| p.deactivate())
}

unsafe extern "C" fn start_processing(plugin: *const clap_plugin) -> bool {
    with_proxy(plugin, false, |p| {
        let ok = p.audio_op(AudioOp::StartProcessing) == Some(1);
        p.processing.store(ok, Ordering::Release);
        ok
    })
}

unsafe extern "C" fn stop_processing(plugin: *const clap_plugin) {
    with_proxy(plugin, (), |p| {
        p.audio_op(AudioOp::StopProcessing);
        p.processing.store(false, Ordering::Release);
    })
}

unsafe extern "C" fn reset(plugin: *const clap_plugin) {
    with_proxy(plugin, (), |p| {
        p.audio_op(AudioOp::Reset);
    })
}

unsafe extern "C" fn process(
    plugin: *const clap_plugin,
    process: *const clap_process,
) -> clap_process_status {
    with_proxy(plugin, CLAP_PROCESS_ERROR, |p| {
        // SAFETY: the DAW's process struct is valid for the call.
        let (Some(daw), Some(a), Some(proc_)) =
            (p.daw(), p.audio().as_mut(), unsafe { process.as_ref() })
        else {
            return CLAP_PROCESS_ERROR;
        };
        if !p.processing.load(Ordering::Acquire) {
            return CLAP_PROCESS_ERROR;
        }
        // SAFETY: as above.
        unsafe { a.process(proc_, daw) }
    })
}

unsafe extern "C" fn get_extension(plugin: *const clap_plugin, id: *const c_char) -> *const c_void {
    with_proxy(plugin, std::ptr::null(), |p| {
        if id.is_null() {
            return std::ptr::null();
        }
        let Some(exts) = p.extensions.get() else {
            return std::ptr::null();
        };
        // SAFETY: the DAW passes a C string.
        ext::lookup(exts, unsafe { CStr::from_ptr(id) })
    })
}

unsafe extern "C" fn on_main_thread(plugin: *const clap_plugin) {
    with_proxy(plugin, (), |p| {
        if let Ok(process) = p.host_process() {
            process.drain_callbacks(&mut |_, cb| p.serve_callback(&cb));
        }
    })
}
