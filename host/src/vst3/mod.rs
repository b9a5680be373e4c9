//! Serving VST3 modules: one server per host process, holding the loaded
//! bundles and the objects created from them, keyed by an `InstanceId`
//! that is never reused. The bridge answers reference counting and
//! `queryInterface` itself; here each request is one call on the real
//! interface (`calls`), the host context serves the plugins' run loop
//! (`host_context`), and an active component's audio runs on its own
//! thread (`audio`).

mod audio;
mod calls;
mod forward;
mod host_context;

use crate::outbox::Outbox;
use bulkhead_common::bulk::Blob;
use bulkhead_common::protocol::vst3::types::{Guid, SetupRecord};
use bulkhead_common::protocol::wire::{Control, Reply};
use bulkhead_common::protocol::{Remote, RemoteError};
use bulkhead_common::shm::ShmRegion;
use bulkhead_common::InstanceId;
use bulkhead_vst3_support::com::{answered_interfaces, KNOWN_INTERFACES};
use bulkhead_vst3_support::vst3::Steinberg::FUnknown;
use bulkhead_vst3_support::vst3::Steinberg::Vst::IConnectionPoint;
use bulkhead_vst3_support::vst3::{ComPtr, ComWrapper, Interface};
use bulkhead_vst3_support::{Module, Object};
use forward::{Forwarder, OutsidePoint};
use host_context::HostContext;
use rustix::event::PollFlags;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::os::fd::{OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

struct ActiveAudio {
    thread: JoinHandle<()>,
    quit: Arc<AtomicBool>,
    region: Arc<ShmRegion>,
}

struct Vst3Object {
    /// Shared so it can be taken out of the map without a call into the
    /// plugin (no `addRef` while the map is borrowed).
    unknown: Rc<Object<FUnknown>>,
    module: PathBuf,
    /// What `Connect`/`ConnectOutside` connected this object to.
    connected: Vec<ComPtr<IConnectionPoint>>,
    outside: Option<ComWrapper<OutsidePoint>>,
    handler: Option<ComWrapper<Forwarder>>,
    setup: Option<SetupRecord>,
    audio: Option<ActiveAudio>,
}

/// Serves VST3 requests through `&self`: a request may arrive while an
/// outer one is still in the plugin (the plugin called its handler, whose
/// call to the bridge serves the bridge's requests meanwhile, see
/// `calls_out`). State lives in cells; no borrow of them is held across a
/// call into the plugin (what a call needs is taken out of the map first).
pub struct Vst3Server {
    plugin_path: Option<PathBuf>,
    modules: RefCell<HashMap<PathBuf, Rc<Module>>>,
    outbox: Arc<Outbox>,
    wake: Arc<OwnedFd>,
    context: ComWrapper<HostContext>,
    objects: RefCell<HashMap<InstanceId, Vst3Object>>,
    next_id: Cell<InstanceId>,
    /// Descriptors that came with the request being served (the innermost).
    incoming_fds: RefCell<Vec<OwnedFd>>,
    /// Bulk bytes to send beside the reply being made (the innermost).
    outgoing_blobs: RefCell<Vec<Blob>>,
}

/// The GUIDs of the known interfaces an object answers.
fn interfaces_of(unknown: &ComPtr<FUnknown>) -> Vec<Guid> {
    let names = answered_interfaces(unknown);
    KNOWN_INTERFACES
        .iter()
        .filter(|(n, _)| names.contains(n))
        .map(|(_, g)| *g)
        .collect()
}

/// Refuses bundles that are bridged copies (they would start hosts of
/// their own, without bound).
pub fn check_not_bridged(bundle: &Path) -> Result<(), String> {
    let binary = bulkhead_vst3_support::bundle_binary(bundle);
    match bulkhead_common::manifest::bridged_copy_reason(&binary) {
        Ok(None) => Ok(()),
        Ok(Some(reason)) => Err(format!(
            "refusing to load {}: it {reason}, not a real plugin",
            bundle.display()
        )),
        Err(e) => Err(format!("cannot read {}: {e}", binary.display())),
    }
}

impl Vst3Server {
    pub fn new(plugin_path: Option<PathBuf>, outbox: Arc<Outbox>, wake: Arc<OwnedFd>) -> Self {
        Self {
            plugin_path,
            modules: RefCell::new(HashMap::new()),
            outbox,
            wake,
            context: HostContext::new("bulkhead"),
            objects: RefCell::new(HashMap::new()),
            next_id: Cell::new(1),
            incoming_fds: RefCell::new(Vec::new()),
            outgoing_blobs: RefCell::new(Vec::new()),
        }
    }

    /// The module of `path` (default: the bundle this process was started
    /// for), loaded once per bundle.
    fn module(&self, path: Option<&Path>) -> Remote<(Rc<Module>, PathBuf)> {
        let path = match path.or(self.plugin_path.as_deref()) {
            Some(p) => p.to_path_buf(),
            None => return Err(RemoteError::new("no plugin bundle named")),
        };
        if let Some(m) = self.modules.borrow().get(&path) {
            return Ok((Rc::clone(m), path));
        }
        if !path.exists() {
            return Err(RemoteError::new(format!(
                "plugin bundle {} does not exist",
                path.display()
            )));
        }
        check_not_bridged(&path).map_err(RemoteError::new)?;
        // Loading runs the plugin's code: no borrow held.
        let module = Module::load(&path)
            .map_err(|e| RemoteError::new(format!("cannot load {}: {e}", path.display())))?;
        if let Some(ctx) = self.context.to_com_ptr::<FUnknown>() {
            module.set_host_context(&ctx);
        }
        tracing::info!(bundle = %path.display(), "module loaded");
        let module = Rc::clone(
            self.modules
                .borrow_mut()
                .entry(path.clone())
                .or_insert_with(|| Rc::new(module)),
        );
        Ok((module, path))
    }

    fn exists(&self, id: InstanceId) -> bool {
        self.objects.borrow().contains_key(&id)
    }

    /// The object's `FUnknown`, out of the map.
    fn unknown(&self, id: InstanceId) -> Option<Rc<Object<FUnknown>>> {
        self.objects
            .borrow()
            .get(&id)
            .map(|o| Rc::clone(&o.unknown))
    }

    fn iface<I: Interface>(&self, id: InstanceId) -> Option<ComPtr<I>> {
        self.unknown(id)?.ptr().cast::<I>()
    }

    /// Changes an object's entry (no call into the plugin in `f`).
    fn update<R>(&self, id: InstanceId, f: impl FnOnce(&mut Vst3Object) -> R) -> Option<R> {
        self.objects.borrow_mut().get_mut(&id).map(f)
    }

    fn stop_audio(active: ActiveAudio) {
        crate::audio_loop::wake_to_quit(&active.region, &active.quit);
        if active.thread.join().is_err() {
            tracing::error!("audio thread panicked");
        }
    }

    /// Stops the object's audio thread, if it runs.
    fn stop_audio_of(&self, id: InstanceId) {
        if let Some(active) = self.update(id, |o| o.audio.take()).flatten() {
            Self::stop_audio(active);
        }
    }

    /// Drops an object (disconnecting it first); the module goes with its
    /// last object.
    fn release(&self, id: InstanceId) {
        let Some(mut obj) = self.objects.borrow_mut().remove(&id) else {
            return;
        };
        if let Some(active) = obj.audio.take() {
            Self::stop_audio(active);
        }
        calls::disconnect_all(&mut obj);
        let module = obj.module.clone();
        drop(obj);
        tracing::info!(instance = id, "released");
        let unused = !self.objects.borrow().values().any(|o| o.module == module);
        if unused {
            let removed = self.modules.borrow_mut().remove(&module);
            if removed.is_some() {
                // Unloaded once no caller below still holds it.
                drop(removed);
                tracing::info!(bundle = %module.display(), "module unloaded");
            }
        }
    }

    /// Serves one request (the event loop's, or one nested in a call to the
    /// bridge): the reply and the bulk bytes to send beside it.
    pub fn serve_request(
        &self,
        instance: InstanceId,
        body: Control,
        fds: Vec<OwnedFd>,
    ) -> Option<(Reply, Vec<Blob>)> {
        let Control::Vst3(body) = body else {
            return None;
        };
        tracing::trace!(instance, "request {}", body.name());
        // A nested request has descriptors and bulk of its own; the outer
        // request's are put back after it.
        let outer_in = self.incoming_fds.replace(fds);
        let outer_out = self.outgoing_blobs.take();
        let mut handler = self;
        let reply = body.dispatch(instance, &mut handler);
        drop(self.incoming_fds.replace(outer_in));
        let blobs = self.outgoing_blobs.replace(outer_out);
        Some((Reply::Vst3(reply), blobs))
    }
}

impl Drop for Vst3Server {
    fn drop(&mut self) {
        let ids: Vec<_> = self.objects.borrow().keys().copied().collect();
        for id in ids {
            self.release(id);
        }
    }
}

impl crate::calls_out::NestedServer for Vst3Server {
    fn serve_nested(
        &self,
        instance: InstanceId,
        body: Control,
        fds: Vec<OwnedFd>,
    ) -> Option<(Reply, Vec<Blob>)> {
        self.serve_request(instance, body, fds)
    }
}

/// The event loop's handle on the VST3 server: the server itself is shared
/// (`Rc`) with the calls made to the bridge, which serve nested requests.
pub struct Vst3Serving {
    server: Rc<Vst3Server>,
}

impl Vst3Serving {
    pub fn new(server: Rc<Vst3Server>) -> Self {
        Self { server }
    }
}

impl crate::format::FormatServer for Vst3Serving {
    fn wake(&self) -> Arc<OwnedFd> {
        Arc::clone(&self.server.wake)
    }

    fn watched_fds(&self) -> Vec<(InstanceId, RawFd, PollFlags)> {
        self.server
            .context
            .run_loop()
            .fds
            .iter()
            .map(|(_, fd)| (0, *fd, PollFlags::IN))
            .collect()
    }

    fn next_timer(&self) -> Option<Instant> {
        self.server
            .context
            .run_loop()
            .timers
            .iter()
            .map(|t| t.2)
            .min()
    }

    fn on_wake(&mut self) {}

    fn on_fd(&mut self, _instance: InstanceId, fd: RawFd, _events: PollFlags) {
        host_context::fire_fd(&self.server.context, fd);
    }

    fn fire_due_timers(&mut self, now: Instant) {
        host_context::fire_timers(&self.server.context, now);
    }

    fn serve(
        &mut self,
        instance: InstanceId,
        body: Control,
        fds: Vec<OwnedFd>,
    ) -> Option<(Reply, Vec<Blob>)> {
        self.server.serve_request(instance, body, fds)
    }
}
