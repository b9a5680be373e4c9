//! The proxy `clap_plugin`: every call becomes a message to the host
//! process (main thread) or a block in shared memory (audio thread). While
//! the host is down the proxy answers from what it last knew and outputs
//! silence; its supervisor brings the host back.

use super::audio::AudioState;
use super::callbacks::DawHost;
use super::entry::Bundle;
use super::ext;
use crate::guard::ffi_guard;
use crate::link::Link;
use crate::process::HostProcess;
use crate::supervision::{HostGroup, Member};
use crate::BridgeError;
use bulkhead_common::alloc_audit::AudioSection;
use bulkhead_common::bulk::Blob;
use bulkhead_common::manifest::Policy;
use bulkhead_common::protocol::clap::ext::*;
use bulkhead_common::protocol::clap::plugin::*;
use bulkhead_common::protocol::clap::MainCallback;
use bulkhead_common::protocol::wire::Callback;
use bulkhead_common::protocol::Request;
use bulkhead_common::shm::{AudioLayout, AudioOp, ShmLayout, ShmRegion};
use clap_sys::host::clap_host;
use clap_sys::plugin::clap_plugin;
use clap_sys::process::{clap_process, clap_process_status, CLAP_PROCESS_ERROR};
use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::ffi::{c_char, c_void, CStr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// Main-thread caches, refreshed when the plugin says they changed, and
/// the last answers, given while the host is down.
#[derive(Default)]
pub struct Caches {
    pub audio_ports: Option<(audio_ports::AudioPorts, Vec<Option<std::ffi::CString>>)>,
    pub note_ports: Option<note_ports::NotePorts>,
    pub params: Option<Vec<params::ParamInfo>>,
    pub param_values: HashMap<u32, f64>,
    pub latency: Option<u32>,
    pub tail: Option<u32>,
    pub voice_info: Option<voice_info::VoiceInfo>,
}

/// What an active plugin was activated with, to activate a restored host
/// the same way.
#[derive(Clone)]
pub struct ActiveConfig {
    pub sample_rate: f64,
    pub min_frames: u32,
    pub max_frames: u32,
    pub layout: AudioLayout,
    pub region: Arc<ShmRegion>,
}

/// Everything the supervisor shares with the proxy.
pub struct Inner {
    pub bundle: Arc<Bundle>,
    pub index: usize,
    pub daw: Arc<DawHost>,
    pub link: Arc<Link>,
    pub policy: Policy,
    pub extensions: OnceLock<PluginExtensions>,
    pub caches: Mutex<Caches>,
    /// The last state the plugin accepted or produced (a DAW load or save,
    /// or the background refresh): what a restarted plugin is restored from.
    pub last_state: Mutex<Option<Blob>>,
    /// Bytes the DAW loaded that never reached the plugin (it was down or
    /// died on them): returned untouched by saves the plugin cannot answer.
    pub unloaded_state: Mutex<Option<Blob>>,
    /// Bumped by every DAW save or load, so a background refresh that raced
    /// with one does not overwrite it.
    pub state_generation: AtomicU64,
    pub active: Mutex<Option<ActiveConfig>>,
    pub processing: AtomicBool,
    pub render_mode: Mutex<Option<i32>>,
    /// Main-thread callbacks that arrived on another thread.
    pub deferred: Mutex<Vec<MainCallback>>,
    /// Held by the DAW's activate/deactivate and by a restart, so that a
    /// restored host sees the activation state the DAW last set.
    pub lifecycle: Mutex<()>,
    /// The host flooded us with this many callbacks in a second.
    pub flood: Mutex<Option<u64>>,
}

pub struct Proxy {
    raw: clap_plugin,
    daw_host: *const clap_host,
    bundle: Arc<Bundle>,
    index: usize,
    inner: OnceLock<Arc<Inner>>,
    /// Only touched by the audio thread while active, and by the main thread
    /// while inactive (CLAP's threading rules make these exclusive).
    audio: UnsafeCell<Option<AudioState>>,
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

/// Runs `f` with the initialised proxy behind `plugin`, guarded; `failure`
/// when the pointer is null, the proxy is not initialised, or `f` panics.
pub fn with_proxy<T>(plugin: *const clap_plugin, failure: T, f: impl FnOnce(&Inner) -> T) -> T {
    // SAFETY: the DAW passes back the pointer we gave it.
    match unsafe { proxy(plugin) }.and_then(|p| p.inner.get()) {
        Some(inner) => ffi_guard(failure, || f(inner)),
        None => failure,
    }
}

impl Inner {
    pub fn real_id(&self) -> &str {
        &self.bundle.descriptors[self.index].real.id
    }

    pub fn caches(&self) -> MutexGuard<'_, Caches> {
        self.caches.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn timeout_main(&self) -> Duration {
        Policy::ms(self.policy.main_timeout_ms)
    }

    pub fn timeout_slow(&self) -> Duration {
        Policy::ms(self.policy.slow_timeout_ms)
    }

    /// Creates the plugin in `process` (which may hold other objects of the
    /// group); the caller decides what callbacks arriving meanwhile do.
    pub fn create_on(
        &self,
        process: &HostProcess,
        on_callback: &mut dyn FnMut(MainCallback),
    ) -> Result<CreatedPlugin, BridgeError> {
        let created = self.call_on(
            process,
            0,
            CreatePlugin {
                plugin_id: self.real_id().to_string(),
                plugin: Some(self.bundle.manifest.plugin.clone()),
                host: self.daw.identity(),
                caps: self.daw.capabilities(),
            },
            &[],
            self.timeout_slow(),
            on_callback,
        )??;
        // Known before the DAW is asked anything on the plugin's behalf: a
        // host may check that the plugin has the matching extension.
        let _ = self.extensions.set(created.extensions);
        self.call_on(
            process,
            created.instance,
            self.daw.answers(&created.extensions),
            &[],
            self.timeout_main(),
            on_callback,
        )?;
        Ok(created)
    }

    /// A call to the current host; `on_callback` serves callbacks that
    /// arrive meanwhile. A call that times out marks the host hung.
    pub fn call_with<R: Request>(
        &self,
        req: R,
        fds: &[std::os::fd::RawFd],
        timeout: Duration,
        on_callback: &mut dyn FnMut(MainCallback),
    ) -> Result<R::Response, BridgeError> {
        let process = self.link.process().ok_or(BridgeError::Disconnected)?;
        self.call_on(
            &process,
            self.link.instance(),
            req,
            fds,
            timeout,
            on_callback,
        )
    }

    /// A call to `process`, which may not be connected yet (a restart
    /// restores the plugin before any DAW call can reach it).
    pub fn call_on<R: Request>(
        &self,
        process: &HostProcess,
        instance: bulkhead_common::InstanceId,
        req: R,
        fds: &[std::os::fd::RawFd],
        timeout: Duration,
        on_callback: &mut dyn FnMut(MainCallback),
    ) -> Result<R::Response, BridgeError> {
        self.call_on_fds(process, instance, req, fds, timeout, on_callback)
            .map(|(r, _)| r)
    }

    /// [`Self::call_on`], also returning the descriptors that came with the
    /// reply (bulk bytes in a memfd).
    pub fn call_on_fds<R: Request>(
        &self,
        process: &HostProcess,
        instance: bulkhead_common::InstanceId,
        req: R,
        fds: &[std::os::fd::RawFd],
        timeout: Duration,
        on_callback: &mut dyn FnMut(MainCallback),
    ) -> Result<(R::Response, Vec<std::os::fd::OwnedFd>), BridgeError> {
        let group = &self.link.group;
        let r = process.call_fds(instance, req, fds, timeout, &mut |inst, cb| {
            // Callbacks of the object we created are ours before it has an
            // id (instance 0 asks for a new one).
            let waiting = if instance == 0 { inst } else { instance };
            if let Some(Callback::Clap(cb)) = group.route_elsewhere(waiting, inst, cb) {
                on_callback(cb)
            }
        });
        if let Err(BridgeError::Timeout(d)) = &r {
            tracing::error!(
                plugin = self.real_id(),
                "no answer within {d:?}; the host is hung"
            );
            group.hung.store(true, Ordering::Release);
            group.nudge();
        }
        r
    }

    /// A main-thread call from the DAW: callbacks are served on this thread.
    pub fn call<R: Request>(&self, req: R, timeout: Duration) -> Result<R::Response, BridgeError> {
        self.call_with(req, &[], timeout, &mut |cb| self.serve_callback(&cb))
    }

    /// A failure that changes what the user hears or keeps: to our log and
    /// the DAW's (its log is callable from any thread).
    pub fn warn_user(&self, message: &str) {
        tracing::warn!(plugin = self.real_id(), "{message}");
        self.daw.log(
            clap_sys::ext::log::CLAP_LOG_WARNING,
            &format!("bulkhead: {}: {message}", self.real_id()),
        );
    }

    /// A main-thread call whose failure the DAW can only see as a default.
    pub fn query<R: Request>(&self, req: R, default: R::Response) -> R::Response {
        match self.call(req, self.timeout_main()) {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!(plugin = self.real_id(), "call failed: {e}");
                default
            }
        }
    }

    /// A main-thread callback: caches first, then the DAW.
    pub fn serve_callback(&self, cb: &MainCallback) {
        {
            let mut caches = self.caches();
            match cb {
                MainCallback::ParamsRescan { .. } | MainCallback::ParamsClear { .. } => {
                    caches.params = None;
                    caches.param_values.clear();
                }
                MainCallback::AudioPortsRescan { .. } => caches.audio_ports = None,
                MainCallback::NotePortsRescan { .. } => caches.note_ports = None,
                MainCallback::LatencyChanged => caches.latency = None,
                MainCallback::TailChanged => caches.tail = None,
                MainCallback::VoiceInfoChanged => caches.voice_info = None,
                MainCallback::StateMarkDirty => {
                    self.link.state_dirty.store(true, Ordering::Release)
                }
                _ => {}
            }
        }
        self.daw.on_main_thread(cb);
    }

    /// Queues a main-thread callback that arrived on another thread.
    pub fn defer_callback(&self, cb: MainCallback) {
        Self::lock(&self.deferred).push(cb);
        self.daw.request_callback();
    }

    /// The cached ports, asked for when unknown.
    pub fn audio_ports(&self) -> audio_ports::AudioPorts {
        if let Some((p, _)) = &self.caches().audio_ports {
            return p.clone();
        }
        self.fresh_audio_ports()
    }

    /// The ports as the plugin says now; while the host is down, the last
    /// known ones (a plugin keeps its declared ports while it is down).
    pub fn fresh_audio_ports(&self) -> audio_ports::AudioPorts {
        let asked = self.call(audio_ports::GetAudioPorts, self.timeout_main());
        let Ok(ports) = asked.map(super::validate::audio_ports) else {
            return self
                .caches()
                .audio_ports
                .as_ref()
                .map(|(p, _)| p.clone())
                .unwrap_or_default();
        };
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

    /// The host's end of a new block socket, in socket-synchronised mode.
    pub fn sync_socket(&self) -> Result<Option<std::os::fd::OwnedFd>, BridgeError> {
        if !self.policy.socket_sync {
            return Ok(None);
        }
        let theirs = self
            .link
            .new_sync_socket()
            .map_err(bulkhead_common::ProtocolError::Io)?;
        Ok(Some(theirs))
    }

    /// The audio deadline for render `mode` (`None`: realtime).
    pub fn set_audio_timeout(&self, mode: Option<i32>) {
        let offline = mode == Some(clap_sys::ext::render::CLAP_RENDER_OFFLINE);
        let ms = if offline {
            self.policy.slow_timeout_ms
        } else {
            self.policy.audio_timeout_ms
        };
        self.link.audio_timeout_ms.store(ms, Ordering::Relaxed);
        self.link.offline.store(offline, Ordering::Relaxed);
    }

    /// An explicit act of the DAW on a plugin given up on (a state load, an
    /// activation): the supervisor tries once more with a fresh crash
    /// budget. Calls that settle wait for that attempt.
    pub fn revive(&self) {
        self.link.group.revive();
    }

    /// Lock-free: CLAP allows some callers of this on the audio thread.
    pub fn is_active(&self) -> bool {
        self.link.active.load(Ordering::Acquire)
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
            daw_host: host,
            bundle,
            index,
            inner: OnceLock::new(),
            audio: UnsafeCell::new(None),
        });
        let raw = Box::into_raw(proxy);
        // SAFETY: `raw` is the box we just leaked; it lives until `destroy`.
        unsafe {
            (*raw).raw.plugin_data = raw.cast();
            &(*raw).raw
        }
    }

    fn init(&self) -> Result<(), BridgeError> {
        // SAFETY: the DAW's host pointer, valid for our life; init runs on
        // the main thread.
        let daw = Arc::new(unsafe { DawHost::query(self.daw_host) });
        let group = HostGroup::join(
            self.bundle.manifest.group.as_deref(),
            &self.bundle.host_binary,
            &self.bundle.manifest.plugin,
        );
        let inner = Arc::new(Inner {
            bundle: Arc::clone(&self.bundle),
            index: self.index,
            daw,
            link: Arc::new(Link::new(group)),
            flood: Mutex::new(None),
            policy: self.bundle.manifest.policy,
            extensions: OnceLock::new(),
            caches: Mutex::new(Caches::default()),
            last_state: Mutex::new(None),
            unloaded_state: Mutex::new(None),
            state_generation: AtomicU64::new(0),
            active: Mutex::new(None),
            processing: AtomicBool::new(false),
            render_mode: Mutex::new(None),
            deferred: Mutex::new(Vec::new()),
            lifecycle: Mutex::new(()),
        });
        // Set first: the DAW may query our extensions while init runs.
        inner.set_audio_timeout(None);
        let _ = self.inner.set(Arc::clone(&inner));
        let member: Arc<dyn Member> = Arc::clone(&inner) as Arc<dyn Member>;
        inner.link.group.attach(member, |process| {
            let created = inner.create_on(process, &mut |cb| inner.serve_callback(&cb))?;
            Ok(created.instance)
        })?;
        // Known from the start, so a plugin that dies before the DAW asks
        // still answers with its real parameters and ports.
        if inner.extensions.get().is_some_and(|e| e.params) {
            if let Ok(infos) = inner.call(params::GetParamInfos, inner.timeout_main()) {
                inner.caches().params = Some(infos);
            }
        }
        if inner.extensions.get().is_some_and(|e| e.audio_ports) {
            inner.fresh_audio_ports();
        }
        if inner.extensions.get().is_some_and(|e| e.state) {
            // From the moment the instance exists, a save has bytes to
            // return, even if the host hangs before any background save.
            match ext::state::save_blob(&inner, None, inner.timeout_slow(), &mut |cb| {
                inner.serve_callback(&cb)
            }) {
                Ok(Ok(blob)) => *Inner::lock(&inner.last_state) = Some(blob),
                Ok(Err(e)) => tracing::warn!(
                    plugin = inner.real_id(),
                    "the plugin cannot save its initial state: {e}"
                ),
                Err(e) => tracing::warn!(plugin = inner.real_id(), "initial state save: {e}"),
            }
        }
        Ok(())
    }

    fn inner(&self) -> Option<&Arc<Inner>> {
        self.inner.get()
    }

    /// The audio state, reachable only with the proof of being where CLAP
    /// lets its user be: an audio-thread entry point, or activation on the
    /// main thread (the plugin is inactive then).
    #[allow(clippy::mut_from_ref)]
    fn audio<'a>(&'a self, _proof: &'a mut AudioAccess) -> &'a mut Option<AudioState> {
        // SAFETY: `AudioAccess` exists only inside audio-thread entry points
        // and activate/deactivate, and CLAP never runs an audio-thread call
        // concurrently with activate/deactivate, nor two audio calls at once.
        unsafe { &mut *self.audio.get() }
    }

    fn activate(
        &self,
        inner: &Inner,
        sample_rate: f64,
        min: u32,
        max: u32,
    ) -> Result<(), BridgeError> {
        inner.revive();
        let _lifecycle = Inner::lock(&inner.lifecycle);
        let ports = if inner.extensions.get().is_some_and(|e| e.audio_ports) {
            inner.fresh_audio_ports()
        } else {
            Default::default()
        };
        let layout = AudioLayout {
            inputs: ports.inputs.iter().map(|p| p.channel_count).collect(),
            outputs: ports.outputs.iter().map(|p| p.channel_count).collect(),
            max_frames: max,
        };
        let shm = ShmLayout::compute(&layout)?;
        inner.link.audio.clear();
        let state = AudioState::new(shm, Arc::clone(&inner.link), sample_rate)?;
        let config = ActiveConfig {
            sample_rate,
            min_frames: min,
            max_frames: max,
            layout: layout.clone(),
            region: Arc::clone(&state.region),
        };
        *Inner::lock(&inner.link.region) = Some(Arc::clone(&state.region));
        let sync = inner.sync_socket()?;
        let mut fds = vec![state.region.fd().as_raw_fd()];
        fds.extend(sync.as_ref().map(|s| s.as_raw_fd()));
        let result = inner.call_with(
            Activate {
                sample_rate,
                min_frames: min,
                max_frames: max,
                layout,
                socket_sync: sync.is_some(),
                early_wake: inner.policy.early_wake,
            },
            &fds,
            inner.timeout_slow(),
            &mut |cb| inner.serve_callback(&cb),
        );
        match result {
            Ok(Ok(())) => inner.link.up.store(true, Ordering::SeqCst),
            // The plugin refused: a real answer, passed on.
            Ok(Err(e)) => return Err(e.into()),
            // The host is down: the supervisor activates the restored one.
            Err(e) => tracing::warn!(plugin = inner.real_id(), "activating while down: {e}"),
        }
        *Inner::lock(&inner.active) = Some(config);
        inner.link.active.store(true, Ordering::Release);
        // Activation runs on the main thread while the plugin is inactive.
        *self.audio(&mut AudioAccess::granted()) = Some(state);
        Ok(())
    }

    fn deactivate(&self, inner: &Inner) {
        let _lifecycle = Inner::lock(&inner.lifecycle);
        if Inner::lock(&inner.active).take().is_none() {
            return;
        }
        inner.link.active.store(false, Ordering::Release);
        inner.link.mark_down();
        inner.link.quiesce();
        if let Err(e) = inner.call(Deactivate, inner.timeout_main()) {
            // The host is down or hung: the plugin is inactive on our side
            // either way, and a restart will not activate it.
            tracing::warn!(
                plugin = inner.real_id(),
                "deactivating while the host is down: {e}"
            );
        }
        *Inner::lock(&inner.link.region) = None;
        // Deactivation runs on the main thread, with no audio call running.
        *self.audio(&mut AudioAccess::granted()) = None;
        inner.link.audio.clear();
    }

    fn audio_op(&self, inner: &Inner, access: &mut AudioAccess, op: AudioOp) -> Option<i32> {
        self.audio(access).as_mut()?.op(op, &inner.daw)
    }
}

unsafe extern "C" fn init(plugin: *const clap_plugin) -> bool {
    ffi_guard(false, || {
        // SAFETY: the DAW passes back our pointer.
        let Some(p) = (unsafe { proxy(plugin) }) else {
            return false;
        };
        match p.init() {
            Ok(()) => true,
            Err(e) => {
                let msg = format!(
                    "bulkhead: cannot start {}: {e}",
                    p.bundle.descriptors[p.index].real.id
                );
                tracing::error!("{msg}");
                // SAFETY: the DAW's host pointer, valid during init.
                unsafe { DawHost::query(p.daw_host) }.log(clap_sys::ext::log::CLAP_LOG_ERROR, &msg);
                false
            }
        }
    })
}

unsafe extern "C" fn destroy(plugin: *const clap_plugin) {
    ffi_guard((), || {
        // SAFETY: the DAW hands back our pointer once, at the end of its life.
        let Some(p) = (unsafe { proxy(plugin) }) else {
            return;
        };
        if let Some(inner) = p.inner() {
            p.deactivate(inner);
            // Out of the group first, so no restart recreates it; then the
            // remote object goes (the process with it, if it was the last).
            let member: Arc<dyn Member> = Arc::clone(inner) as Arc<dyn Member>;
            let process = inner.link.group.detach(&member);
            if let (Some(process), Some(_)) = (process, inner.link.disconnect()) {
                let _ = inner.call_on(
                    &process,
                    inner.link.instance(),
                    DestroyPlugin,
                    &[],
                    inner.timeout_main(),
                    &mut |cb| inner.serve_callback(&cb),
                );
            }
        }
        // SAFETY: plugin_data is the box leaked in `create`; nothing uses it
        // after destroy.
        drop(unsafe { Box::from_raw((*plugin).plugin_data.cast::<Proxy>()) });
    })
}

/// Proof, held for the length of one entry point, that the caller is on a
/// thread CLAP lets touch the audio state (see [`Proxy::audio`]); made only
/// by [`on_audio`] and the activation entry points.
pub struct AudioAccess(std::marker::PhantomData<*const ()>);

impl AudioAccess {
    fn granted() -> Self {
        Self(std::marker::PhantomData)
    }
}

/// The proxy and its shared part, for the entry points below.
fn both<T>(plugin: *const clap_plugin, failure: T, f: impl FnOnce(&Proxy, &Inner) -> T) -> T {
    // SAFETY: the DAW passes back the pointer we gave it.
    match unsafe { proxy(plugin) } {
        Some(p) => match p.inner() {
            Some(i) => ffi_guard(failure, || f(p, i)),
            None => failure,
        },
        None => failure,
    }
}

/// [`both`] for the calls CLAP makes on the audio thread: they run inside
/// an audit section, so a test can prove they never allocate.
fn on_audio<T>(
    plugin: *const clap_plugin,
    failure: T,
    f: impl FnOnce(&Proxy, &Inner, &mut AudioAccess) -> T,
) -> T {
    both(plugin, failure, |p, inner| {
        let _audio = AudioSection::enter();
        f(p, inner, &mut AudioAccess::granted())
    })
}

unsafe extern "C" fn activate(
    plugin: *const clap_plugin,
    sample_rate: f64,
    min_frames: u32,
    max_frames: u32,
) -> bool {
    both(plugin, false, |p, inner| {
        match p.activate(inner, sample_rate, min_frames, max_frames) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(plugin = inner.real_id(), "activation failed: {e}");
                *Inner::lock(&inner.link.region) = None;
                *p.audio(&mut AudioAccess::granted()) = None;
                false
            }
        }
    })
}

unsafe extern "C" fn deactivate(plugin: *const clap_plugin) {
    both(plugin, (), |p, inner| p.deactivate(inner))
}

unsafe extern "C" fn start_processing(plugin: *const clap_plugin) -> bool {
    on_audio(plugin, false, |p, inner, access| {
        let ok = if inner.link.up.load(Ordering::SeqCst) {
            p.audio_op(inner, access, AudioOp::StartProcessing) == Some(1)
        } else {
            // Down: the restored host starts before its first block.
            inner.link.needs_start.store(true, Ordering::Release);
            p.audio(access).is_some()
        };
        inner.processing.store(ok, Ordering::Release);
        ok
    })
}

unsafe extern "C" fn stop_processing(plugin: *const clap_plugin) {
    on_audio(plugin, (), |p, inner, access| {
        inner.link.needs_start.store(false, Ordering::Release);
        p.audio_op(inner, access, AudioOp::StopProcessing);
        inner.processing.store(false, Ordering::Release);
    })
}

unsafe extern "C" fn reset(plugin: *const clap_plugin) {
    on_audio(plugin, (), |p, inner, access| {
        p.audio_op(inner, access, AudioOp::Reset);
    })
}

unsafe extern "C" fn process(
    plugin: *const clap_plugin,
    process: *const clap_process,
) -> clap_process_status {
    on_audio(plugin, CLAP_PROCESS_ERROR, |p, inner, access| {
        // SAFETY: the DAW's process struct is valid for the call.
        let (Some(a), Some(proc_)) = (p.audio(access).as_mut(), unsafe { process.as_ref() }) else {
            return CLAP_PROCESS_ERROR;
        };
        if !inner.processing.load(Ordering::Acquire) {
            return CLAP_PROCESS_ERROR;
        }
        // SAFETY: as above.
        unsafe { a.process(proc_, &inner.daw) }
    })
}

/// `params.flush` of an active plugin, on the audio thread.
pub fn flush_active(
    plugin: *const clap_plugin,
    input: *const clap_sys::events::clap_input_events,
    output: *const clap_sys::events::clap_output_events,
) {
    on_audio(plugin, (), |p, inner, access| {
        if let Some(a) = p.audio(access).as_mut() {
            a.flush(input, output, &inner.daw);
        }
    })
}

unsafe extern "C" fn get_extension(plugin: *const clap_plugin, id: *const c_char) -> *const c_void {
    with_proxy(plugin, std::ptr::null(), |inner| {
        if id.is_null() {
            return std::ptr::null();
        }
        let Some(exts) = inner.extensions.get() else {
            return std::ptr::null();
        };
        // SAFETY: the DAW passes a C string.
        ext::lookup(exts, unsafe { CStr::from_ptr(id) })
    })
}

unsafe extern "C" fn on_main_thread(plugin: *const clap_plugin) {
    with_proxy(plugin, (), |inner| {
        let deferred = std::mem::take(&mut *Inner::lock(&inner.deferred));
        for cb in &deferred {
            inner.serve_callback(cb);
        }
        if let Some(process) = inner.link.process() {
            let own = inner.link.instance();
            process.drain_callbacks(&mut |inst, cb| {
                if let Some(Callback::Clap(cb)) = inner.link.group.route_elsewhere(own, inst, cb) {
                    inner.serve_callback(&cb)
                }
            });
        }
        inner.daw.serve_pending_main();
    })
}
