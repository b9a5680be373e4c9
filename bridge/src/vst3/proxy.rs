//! What a VST3 proxy object holds: its module (the bridged bundle), its
//! remote object in the group's host process, what the DAW configured (to
//! restore it after a crash), the last answers (given while the host is
//! down) and the last states.

use super::audio::Vst3Audio;
use super::object::interface_bits;
use crate::link::Link;
use crate::process::HostProcess;
use crate::supervision::{HostGroup, Member};
use crate::BridgeError;
use bulkhead_common::bulk::Blob;
use bulkhead_common::manifest::{Manifest, Policy};
use bulkhead_common::protocol::vst3::types::*;

use bulkhead_common::protocol::vst3::{self as proto, Vst3Callback};
use bulkhead_common::protocol::wire::{Answer, Callback};
use bulkhead_common::protocol::Request;
use bulkhead_common::InstanceId;
use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::os::fd::{OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread::ThreadId;
use std::time::Duration;
use vst3::ComPtr;
use vst3::Steinberg::Vst::{IComponentHandler, IConnectionPoint};

/// A bridged bundle as loaded in the DAW's process.
pub struct Module {
    pub manifest: Manifest,
    pub host_binary: PathBuf,
    /// The real module's factory and classes.
    pub classes: ModuleClasses,
    /// Components created here whose controller was not created yet: a
    /// controller joins its component's process (VST3 lets them talk there
    /// directly), whatever the grouping.
    pub unpaired: Mutex<Vec<Weak<Remote>>>,
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the DAW connected this object to.
#[derive(Default)]
pub enum Peer {
    #[default]
    None,
    /// Another proxy of this bridge: connected inside the host process.
    Ours(Weak<Remote>),
    /// An object of the DAW (often its connection proxy): messages travel
    /// through the bridge.
    Outside(ComPtr<IConnectionPoint>),
}

/// What the DAW set up, in the order a restored object is given it again.
#[derive(Default, Clone)]
pub struct Config {
    pub initialized: bool,
    pub io_mode: Option<i32>,
    pub handler: bool,
    /// `(media type, direction, index) → active`.
    pub bus_states: Vec<((i32, i32, i32), bool)>,
    pub arrangements: Option<(Vec<u64>, Vec<u64>)>,
    pub setup: Option<SetupRecord>,
    pub active: bool,
    pub knob_mode: Option<i32>,
    pub automation_state: Option<i32>,
    /// `(direction, bus) → samples`.
    pub presentation_latency: Vec<((i32, i32), u32)>,
    /// Parameter values the DAW set on a controller.
    pub param_values: Vec<(u32, f64)>,
}

/// The last answers, given while the host is down.
#[derive(Default)]
pub struct Caches {
    pub buses: Option<Buses>,
    pub params: Option<Vec<ParamRecord>>,
    pub param_values: HashMap<u32, f64>,
    pub latency: Option<u32>,
    pub tail: Option<u32>,
    pub controller_cid: Option<Option<Guid>>,
    pub context_requirements: Option<u32>,
    pub units: Option<Vec<UnitRecord>>,
    pub program_lists: Option<Vec<ProgramListRecord>>,
    pub midi: HashMap<(i32, i16, i16), Option<u32>>,
}

/// The last state bytes of each kind, as a memfd (a restart hands the same
/// one over).
#[derive(Default)]
pub struct States {
    pub component: Option<Blob>,
    pub controller: Option<Blob>,
    /// What the DAW last gave the controller through `setComponentState`.
    pub component_in_controller: Option<Blob>,
    /// A DAW load that never reached the plugin: returned by saves until
    /// one does.
    pub unloaded_component: bool,
    pub unloaded_controller: bool,
    /// Bumped by every DAW save or load, so a background save that raced
    /// with one does not overwrite it.
    pub generation: u64,
}

pub struct Remote {
    /// Ourselves, to join the group when the object is first needed.
    me: Weak<Remote>,
    /// What a scan found the class to answer: until the DAW asks something
    /// it does not hold, the object exists only here (no host process).
    pub profile: Option<ClassProfile>,
    /// The real object exists in a host process (it was needed once).
    born: AtomicBool,
    /// Held while the real object is made.
    birth: Mutex<()>,
    pub module: Arc<Module>,
    /// The real class.
    pub class: ClassRecord,
    pub link: Arc<Link>,
    pub policy: Policy,
    interfaces: AtomicU64,
    /// The DAW's main thread: the one that created the object.
    pub main_thread: ThreadId,
    pub handler: Mutex<Option<ComPtr<IComponentHandler>>>,
    pub peer: Mutex<Peer>,
    pub config: Mutex<Config>,
    pub caches: Mutex<Caches>,
    pub states: Mutex<States>,
    /// Callbacks kept for the next main-thread entry.
    pub deferred: Mutex<Vec<Vst3Callback>>,
    /// The instance a restart made, before it goes live (a peer restored
    /// after this one connects to it).
    pub restored_instance: AtomicU64,
    /// Held by the DAW's activation calls and by a restart.
    pub lifecycle: Mutex<()>,
    /// The DAW must re-read parameter values (after a restart).
    pub needs_rescan: AtomicBool,
    /// Ids of `IProgress` runs, the plugin's to the DAW's.
    pub progress: Mutex<HashMap<u64, u64>>,
    /// Only the DAW's audio thread touches it while active, and the main
    /// thread while inactive (`setActive` is not called during `process`).
    pub audio: UnsafeCell<Option<Vst3Audio>>,
    pub flood: Mutex<Option<u64>>,
}

// SAFETY: shared state is behind locks or atomics; `audio` follows VST3's
// activation rules (see its comment); the DAW's interface pointers are used
// on the threads VST3 allows.
unsafe impl Send for Remote {}
// SAFETY: see `Send`.
unsafe impl Sync for Remote {}

impl Remote {
    /// A new object of `class`, in `group` (its component's, for a
    /// controller) or in the group its manifest names. With a profile it
    /// answers from it until it is needed ([`Self::ensure_born`]).
    pub fn new(
        module: Arc<Module>,
        class: ClassRecord,
        group: Option<Arc<HostGroup>>,
        profile: Option<ClassProfile>,
    ) -> Arc<Self> {
        let group = group.unwrap_or_else(|| {
            HostGroup::join(
                module.manifest.group.as_deref(),
                &module.host_binary,
                &module.manifest.plugin,
            )
        });
        let policy = module.manifest.policy;
        let link = Arc::new(Link::new(group));
        link.audio_timeout_ms
            .store(policy.audio_timeout_ms, Ordering::Relaxed);
        let remote = Arc::new_cyclic(|me| Self {
            me: me.clone(),
            profile,
            born: AtomicBool::new(false),
            birth: Mutex::new(()),
            module,
            class,
            link,
            policy,
            interfaces: AtomicU64::new(0),
            main_thread: std::thread::current().id(),
            handler: Mutex::new(None),
            peer: Mutex::new(Peer::None),
            config: Mutex::new(Config::default()),
            caches: Mutex::new(Caches::default()),
            states: Mutex::new(States::default()),
            deferred: Mutex::new(Vec::new()),
            restored_instance: AtomicU64::new(0),
            lifecycle: Mutex::new(()),
            needs_rescan: AtomicBool::new(false),
            progress: Mutex::new(HashMap::new()),
            audio: UnsafeCell::new(None),
            flood: Mutex::new(None),
        });
        if let Some(p) = &remote.profile {
            remote.set_interfaces(&p.interfaces);
            let mut c = lock(&remote.caches);
            c.buses = Some(p.buses.clone());
            c.controller_cid = Some(p.controller_cid);
        }
        remote
    }

    pub fn is_born(&self) -> bool {
        self.born.load(Ordering::Acquire)
    }

    /// Makes the real object if it does not exist yet: joins the group
    /// (starting its process if none runs) and creates it there with what
    /// the DAW configured so far, as a restart would.
    ///
    /// # Errors
    /// The process could not start or the object not be made.
    pub fn ensure_born(&self) -> Result<(), BridgeError> {
        if self.is_born() {
            return Ok(());
        }
        let _birth = lock(&self.birth);
        if self.is_born() {
            return Ok(());
        }
        let me = self.me.upgrade().ok_or(BridgeError::Disconnected)?;
        let member = me.as_member();
        let made = self.link.group.attach(member, |process| {
            if self.profile.is_some() {
                self.replay(process).map_err(|e| {
                    BridgeError::Remote(bulkhead_common::protocol::RemoteError::new(e))
                })
            } else {
                self.create_on(process)
            }
        });
        if made.is_ok() {
            self.born.store(true, Ordering::Release);
        }
        made
    }

    pub fn name(&self) -> &str {
        &self.class.name
    }

    pub fn interface_bits(&self) -> u64 {
        self.interfaces.load(Ordering::Acquire)
    }

    pub fn set_interfaces(&self, iids: &[Guid]) {
        self.interfaces
            .store(interface_bits(iids), Ordering::Release);
    }

    pub fn answers<I: vst3::Interface>(&self) -> bool {
        super::object::TABLE
            .iter()
            .position(|(g, _)| *g == I::IID)
            .is_some_and(|i| self.interface_bits() & 1 << i != 0)
    }

    pub fn timeout_main(&self) -> Duration {
        Policy::ms(self.policy.main_timeout_ms)
    }

    pub fn timeout_slow(&self) -> Duration {
        Policy::ms(self.policy.slow_timeout_ms)
    }

    pub fn on_main_thread(&self) -> bool {
        std::thread::current().id() == self.main_thread
    }

    /// Creates the real object in `process` (initialised if the DAW had
    /// initialised it); its instance id and interfaces.
    pub fn create_on(&self, process: &HostProcess) -> Result<InstanceId, BridgeError> {
        let created = self.call_on(
            process,
            0,
            proto::CreateObject {
                module: Some(self.module.manifest.plugin.clone()),
                cid: self.class.cid,
            },
            &[],
            self.timeout_slow(),
        )??;
        self.set_interfaces(&created.interfaces);
        Ok(created.instance)
    }

    /// A call to `process`, which may not be live yet (a restart restores
    /// objects before the DAW's calls can reach them). Callbacks arriving
    /// meanwhile are served on this thread when they are ours and this is
    /// the main thread, else kept for their object.
    pub fn call_on<R: Request>(
        &self,
        process: &HostProcess,
        instance: InstanceId,
        req: R,
        fds: &[RawFd],
        timeout: Duration,
    ) -> Result<R::Response, BridgeError> {
        self.call_on_fds(process, instance, req, fds, timeout)
            .map(|(r, _)| r)
    }

    /// [`Self::call_on`], also returning the descriptors of the reply.
    pub fn call_on_fds<R: Request>(
        &self,
        process: &HostProcess,
        instance: InstanceId,
        req: R,
        fds: &[RawFd],
        timeout: Duration,
    ) -> Result<(R::Response, Vec<OwnedFd>), BridgeError> {
        let group = &self.link.group;
        let main = self.on_main_thread();
        let mut on_callback = |inst, cb| {
            let waiting = if instance == 0 { inst } else { instance };
            if let Some(Callback::Vst3(cb)) = group.route_elsewhere(waiting, inst, cb) {
                if main {
                    self.serve_callback(cb);
                } else {
                    lock(&self.deferred).push(cb);
                }
            }
        };
        // A host call is the plugin waiting for the DAW's answer: taken to
        // the DAW from its main thread, by the object it is for.
        let mut on_call = |inst: InstanceId, cb: Callback| -> Answer {
            let ours = inst == instance || instance == 0 && group.is_creating();
            match cb {
                Callback::Vst3(cb) if ours => self.answer_call(cb),
                cb => group.answer_call(inst, cb),
            }
        };
        let r = process.call_fds_with(
            instance,
            req,
            fds,
            timeout,
            &mut on_callback,
            Some(&mut on_call),
        );
        if let Err(BridgeError::Timeout(d)) = &r {
            tracing::error!(
                plugin = self.name(),
                "no answer within {d:?}; the host is hung"
            );
            group.hung.store(true, Ordering::Release);
            group.nudge();
        }
        r
    }

    /// A call to the live object.
    pub fn call_fds<R: Request>(
        &self,
        req: R,
        fds: &[RawFd],
        timeout: Duration,
    ) -> Result<(R::Response, Vec<OwnedFd>), BridgeError> {
        self.ensure_born()?;
        let process = self.link.process().ok_or(BridgeError::Disconnected)?;
        self.call_on_fds(&process, self.link.instance(), req, fds, timeout)
    }

    pub fn call<R: Request>(&self, req: R) -> Result<R::Response, BridgeError> {
        self.call_fds(req, &[], self.timeout_main()).map(|(r, _)| r)
    }

    /// The answer kept in `slot`, else `req`'s (kept there when the call
    /// succeeds): what does not change between calls is asked once.
    pub fn cached<R: Request>(
        &self,
        slot: fn(&mut Caches) -> &mut Option<R::Response>,
        req: R,
    ) -> Option<R::Response>
    where
        R::Response: Clone,
    {
        if let Some(v) = slot(&mut lock(&self.caches)).clone() {
            return Some(v);
        }
        let v = self.call(req).ok()?;
        *slot(&mut lock(&self.caches)) = Some(v.clone());
        Some(v)
    }

    /// A call whose failure the DAW can only see as `default`.
    pub fn query<R: Request>(&self, req: R, default: R::Response) -> R::Response {
        match self.call(req) {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!(plugin = self.name(), "call failed: {e}");
                default
            }
        }
    }

    /// At every main-thread entry: callbacks kept for this thread, and
    /// those that arrived while nobody waited.
    pub fn main_thread_turn(&self) {
        if !self.on_main_thread() {
            return;
        }
        if let Some(process) = self.link.process() {
            let group = &self.link.group;
            process.drain_callbacks(&mut |inst, cb| {
                if let Some(Callback::Vst3(cb)) =
                    group.route_elsewhere(self.link.instance(), inst, cb)
                {
                    lock(&self.deferred).push(cb);
                }
            });
        }
        let pending = std::mem::take(&mut *lock(&self.deferred));
        for cb in pending {
            self.serve_callback(cb);
        }
        if self.needs_rescan.swap(false, Ordering::AcqRel) {
            // A restarted plugin: the DAW re-reads what it shows.
            self.to_daw(|h| {
                // SAFETY: the DAW's live handler, on its main thread.
                unsafe {
                    vst3::Steinberg::Vst::IComponentHandlerTrait::restartComponent(
                        h,
                        vst3::Steinberg::Vst::RestartFlags_::kParamValuesChanged,
                    )
                };
            });
        }
    }

    /// Runs `f` with the DAW's component handler, if it gave one.
    pub fn to_daw(&self, f: impl FnOnce(&ComPtr<IComponentHandler>)) {
        let handler = lock(&self.handler).clone();
        if let Some(h) = handler {
            f(&h)
        }
    }

    /// Caches first, then the DAW.
    pub fn serve_callback(&self, cb: Vst3Callback) {
        super::callbacks::serve(self, cb);
    }

    /// A host call for this object: the DAW's answer when this is its main
    /// thread, else kept for it.
    pub fn answer_call(&self, cb: Vst3Callback) -> Answer {
        if self.on_main_thread() {
            Answer::Vst3 {
                result: super::callbacks::serve(self, cb),
            }
        } else {
            lock(&self.deferred).push(cb);
            Answer::Deferred
        }
    }

    /// Records a state the plugin accepted or produced.
    pub fn keep_state(&self, target: proto::StateTarget, blob: Blob) {
        let mut s = lock(&self.states);
        let old = match target {
            proto::StateTarget::Component => {
                s.unloaded_component = false;
                s.component.replace(blob)
            }
            proto::StateTarget::Controller => {
                s.unloaded_controller = false;
                s.controller.replace(blob)
            }
            proto::StateTarget::ComponentIntoController => s.component_in_controller.replace(blob),
        };
        drop(s);
        self.link.group.retire(old);
    }

    /// The real class id of this component's controller, if it has one.
    pub fn controller_cid(&self) -> Option<Guid> {
        self.cached(|c| &mut c.controller_cid, proto::GetControllerClassId {})
            .flatten()
    }

    /// The instance a peer restored just before us has, or its live one.
    pub fn current_or_restored_instance(&self) -> InstanceId {
        match self.restored_instance.load(Ordering::Acquire) {
            0 => self.link.instance(),
            n => n,
        }
    }

    pub fn as_member(self: &Arc<Self>) -> Arc<dyn Member> {
        Arc::clone(self) as Arc<dyn Member>
    }
}

/// The data of a proxy object.
pub struct Object {
    pub remote: Arc<Remote>,
}

impl Object {
    pub fn interface_bits(&self) -> u64 {
        self.remote.interface_bits()
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        let remote = &self.remote;
        crate::guard::ffi_guard((), || {
            super::component::deactivate_audio(remote);
            let member = remote.as_member();
            let process = remote.link.group.detach(&member);
            if let (Some(process), Some(_)) = (process, remote.link.disconnect()) {
                let _ = remote.call_on(
                    &process,
                    remote.link.instance(),
                    proto::ReleaseObject {},
                    &[],
                    remote.timeout_main(),
                );
            }
            *lock(&remote.peer) = Peer::None;
            *lock(&remote.handler) = None;
            super::entry::object_gone();
        })
    }
}
