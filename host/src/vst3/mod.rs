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
use std::collections::HashMap;
use std::os::fd::{OwnedFd, RawFd};
use std::path::{Path, PathBuf};
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
    unknown: Object<FUnknown>,
    module: PathBuf,
    /// What `Connect`/`ConnectOutside` connected this object to.
    connected: Vec<ComPtr<IConnectionPoint>>,
    outside: Option<ComWrapper<OutsidePoint>>,
    handler: Option<ComWrapper<Forwarder>>,
    setup: Option<SetupRecord>,
    audio: Option<ActiveAudio>,
}

impl Vst3Object {
    fn cast<I: Interface>(&self) -> Option<ComPtr<I>> {
        self.unknown.ptr().cast::<I>()
    }
}

pub struct Vst3Server {
    plugin_path: Option<PathBuf>,
    modules: HashMap<PathBuf, Module>,
    outbox: Arc<Outbox>,
    wake: Arc<OwnedFd>,
    context: ComWrapper<HostContext>,
    objects: HashMap<InstanceId, Vst3Object>,
    next_id: InstanceId,
    /// Descriptors that came with the request being served.
    incoming_fds: Vec<OwnedFd>,
    /// Bulk bytes to send beside the reply being made.
    outgoing_blobs: Vec<Blob>,
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
            modules: HashMap::new(),
            outbox,
            wake,
            context: HostContext::new("bulkhead"),
            objects: HashMap::new(),
            next_id: 1,
            incoming_fds: Vec::new(),
            outgoing_blobs: Vec::new(),
        }
    }

    /// The module of `path` (default: the bundle this process was started
    /// for), loaded once per bundle.
    fn module(&mut self, path: Option<&Path>) -> Remote<(&Module, PathBuf)> {
        let path = match path.or(self.plugin_path.as_deref()) {
            Some(p) => p.to_path_buf(),
            None => return Err(RemoteError::new("no plugin bundle named")),
        };
        if !self.modules.contains_key(&path) {
            if !path.exists() {
                return Err(RemoteError::new(format!(
                    "plugin bundle {} does not exist",
                    path.display()
                )));
            }
            check_not_bridged(&path).map_err(RemoteError::new)?;
            let module = Module::load(&path)
                .map_err(|e| RemoteError::new(format!("cannot load {}: {e}", path.display())))?;
            if let Some(ctx) = self.context.to_com_ptr::<FUnknown>() {
                module.set_host_context(&ctx);
            }
            tracing::info!(bundle = %path.display(), "module loaded");
            self.modules.insert(path.clone(), module);
        }
        Ok((&self.modules[&path], path))
    }

    fn object(&self, id: InstanceId) -> Option<&Vst3Object> {
        self.objects.get(&id)
    }

    fn iface<I: Interface>(&self, id: InstanceId) -> Option<ComPtr<I>> {
        self.objects.get(&id)?.cast::<I>()
    }

    fn stop_audio(obj: &mut Vst3Object) {
        if let Some(active) = obj.audio.take() {
            crate::audio_loop::wake_to_quit(&active.region, &active.quit);
            if active.thread.join().is_err() {
                tracing::error!("audio thread panicked");
            }
        }
    }

    /// Drops an object (disconnecting it first); the module goes with its
    /// last object.
    fn release(&mut self, id: InstanceId) {
        let Some(mut obj) = self.objects.remove(&id) else {
            return;
        };
        Self::stop_audio(&mut obj);
        calls::disconnect_all(&mut obj);
        let module = obj.module.clone();
        drop(obj);
        tracing::info!(instance = id, "released");
        if !self.objects.values().any(|o| o.module == module)
            && self.modules.remove(&module).is_some()
        {
            tracing::info!(bundle = %module.display(), "module unloaded");
        }
    }
}

impl Drop for Vst3Server {
    fn drop(&mut self) {
        let ids: Vec<_> = self.objects.keys().copied().collect();
        for id in ids {
            self.release(id);
        }
    }
}

impl crate::format::FormatServer for Vst3Server {
    fn wake(&self) -> Arc<OwnedFd> {
        Arc::clone(&self.wake)
    }

    fn watched_fds(&self) -> Vec<(InstanceId, RawFd, PollFlags)> {
        self.context
            .run_loop()
            .fds
            .iter()
            .map(|(_, fd)| (0, *fd, PollFlags::IN))
            .collect()
    }

    fn next_timer(&self) -> Option<Instant> {
        self.context.run_loop().timers.iter().map(|t| t.2).min()
    }

    fn on_wake(&mut self) {}

    fn on_fd(&mut self, _instance: InstanceId, fd: RawFd, _events: PollFlags) {
        host_context::fire_fd(&self.context, fd);
    }

    fn fire_due_timers(&mut self, now: Instant) {
        host_context::fire_timers(&self.context, now);
    }

    fn serve(
        &mut self,
        instance: InstanceId,
        body: Control,
        fds: Vec<OwnedFd>,
    ) -> Option<(Reply, Vec<Blob>)> {
        let Control::Vst3(body) = body else {
            return None;
        };
        tracing::trace!(instance, "request {}", body.name());
        self.incoming_fds = fds;
        let reply = body.dispatch(instance, self);
        self.incoming_fds.clear();
        let blobs = std::mem::take(&mut self.outgoing_blobs);
        Some((Reply::Vst3(reply), blobs))
    }
}
