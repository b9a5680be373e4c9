//! Serving CLAP plugins: one server per host process, holding the plugin
//! file and the instances created from it.

mod audio_thread;
pub mod host_side;
mod main_loop;
mod note_ports_host;
pub mod plugin_calls;

use crate::outbox::Outbox;
use audio_thread::{AudioWorker, SendWorker};
use bulkhead_common::protocol::clap::ext::*;
use bulkhead_common::protocol::clap::plugin::*;
use bulkhead_common::protocol::clap::MainHandler;
use bulkhead_common::protocol::{Remote, RemoteError};
use bulkhead_common::shm::events::{EventWriter, PackedEvents};
use bulkhead_common::shm::layout::EVENT_AREA_LEN;
use bulkhead_common::shm::{ShmLayout, ShmRegion};
use bulkhead_common::InstanceId;
use clack_host::prelude::*;
use clack_host::process::PluginAudioProcessor;
use clap_sys::events::{clap_input_events, clap_output_events};
use host_side::{AudioHost, BulkheadHost, MainLoopRegistry, MainThreadHost, SharedHost};
use plugin_calls::{streams, PluginCalls};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

struct ActiveAudio {
    thread: JoinHandle<PluginAudioProcessor<BulkheadHost>>,
    quit: Arc<AtomicBool>,
    region: Arc<ShmRegion>,
}

pub struct Instance {
    plugin: PluginInstance<BulkheadHost>,
    calls: PluginCalls,
    pub registry: Rc<RefCell<MainLoopRegistry>>,
    callback_requested: Arc<AtomicBool>,
    audio_flags: Arc<AtomicU32>,
    audio: Option<ActiveAudio>,
}

pub struct ClapServer {
    plugin_path: Option<PathBuf>,
    entries: HashMap<PathBuf, PluginEntry>,
    outbox: Arc<Outbox>,
    pub wake: Arc<OwnedFd>,
    pub instances: HashMap<InstanceId, Instance>,
    next_id: InstanceId,
    /// Descriptors that came with the request being served.
    pub incoming_fds: Vec<OwnedFd>,
    /// Bulk bytes to send beside the reply being made.
    pub outgoing_blobs: Vec<bulkhead_common::bulk::Blob>,
}

fn text(s: Option<&CStr>) -> Option<String> {
    s.map(|s| s.to_string_lossy().into_owned())
}

impl ClapServer {
    pub fn new(plugin_path: Option<PathBuf>, outbox: Arc<Outbox>, wake: Arc<OwnedFd>) -> Self {
        Self {
            plugin_path,
            entries: HashMap::new(),
            outbox,
            wake,
            instances: HashMap::new(),
            next_id: 1,
            incoming_fds: Vec::new(),
            outgoing_blobs: Vec::new(),
        }
    }

    /// The entry of `path` (default: the file this process was started
    /// for), loaded once per file: a process serving a group holds several.
    fn entry(&mut self, path: Option<&Path>) -> Remote<&PluginEntry> {
        let path = match path.or(self.plugin_path.as_deref()) {
            Some(p) => p.to_path_buf(),
            None => return Err(RemoteError::new("no plugin file named")),
        };
        if !self.entries.contains_key(&path) {
            if !path.exists() {
                return Err(RemoteError::new(format!(
                    "plugin file {} does not exist",
                    path.display()
                )));
            }
            // A bridged copy would start hosts of its own, without bound.
            match bulkhead_common::manifest::bridged_copy_reason(&path) {
                Ok(None) => {}
                Ok(Some(reason)) => {
                    return Err(RemoteError::new(format!(
                        "refusing to load {}: it {reason}, not a real plugin",
                        path.display()
                    )))
                }
                Err(e) => {
                    return Err(RemoteError::new(format!(
                        "cannot read {}: {e}",
                        path.display()
                    )))
                }
            }
            // SAFETY: loading a plugin library runs its initialisers; that is
            // the point of this process, which exists to contain them.
            let entry = unsafe { PluginEntry::load(&path) }
                .map_err(|e| RemoteError::new(format!("cannot load {}: {e}", path.display())))?;
            self.entries.insert(path.clone(), entry);
        }
        Ok(&self.entries[&path])
    }

    fn instance(&mut self, id: InstanceId) -> Option<&mut Instance> {
        self.instances.get_mut(&id)
    }

    /// Runs `on_main_thread` for every instance that asked.
    pub fn run_requested_callbacks(&mut self) {
        for inst in self.instances.values_mut() {
            if inst.callback_requested.swap(false, Ordering::AcqRel) {
                inst.plugin.call_on_main_thread_callback();
            }
        }
    }

    pub fn calls(&self, id: InstanceId) -> Option<PluginCalls> {
        self.instances.get(&id).map(|i| i.calls)
    }

    fn stop_audio(inst: &mut Instance) {
        if let Some(active) = inst.audio.take() {
            crate::audio_loop::wake_to_quit(&active.region, &active.quit);
            match active.thread.join() {
                Ok(processor) => inst.plugin.deactivate(processor.into_stopped()),
                Err(_) => tracing::error!("audio thread panicked; plugin left active"),
            }
        }
    }
}

/// Reads an event list packed by the bridge and hands it to the plugin as
/// `clap_input_events`; collects the plugin's output the same way.
fn with_event_lists<R>(
    packed: &[u8],
    f: impl FnOnce(&clap_input_events, &clap_output_events) -> R,
) -> (R, Vec<u8>) {
    let mut events = PackedEvents::with_capacity(packed.len().max(8));
    if events.load(packed).is_err() {
        events.clear();
    }
    let mut area = vec![0u64; EVENT_AREA_LEN / 8];
    // SAFETY: the area is ours, 8-byte aligned and EVENT_AREA_LEN long.
    let mut writer = unsafe { EventWriter::new(area.as_mut_ptr().cast(), EVENT_AREA_LEN) };
    let r = f(&events.input_list(), &writer.output_list());
    let len = writer.len();
    // SAFETY: the writer filled `len` bytes of the area.
    let out = unsafe { std::slice::from_raw_parts(area.as_ptr().cast::<u8>(), len) }.to_vec();
    (r, out)
}

impl MainHandler for ClapServer {
    fn list_plugins(&mut self, _: InstanceId, _: ListPlugins) -> Remote<Vec<PluginDescriptor>> {
        let entry = self.entry(None)?;
        let factory = entry
            .get_plugin_factory()
            .ok_or_else(|| RemoteError::new("the plugin file has no plugin factory"))?;
        Ok(factory
            .plugin_descriptors()
            .filter_map(|d| {
                Some(PluginDescriptor {
                    id: text(d.id())?,
                    name: text(d.name()).unwrap_or_default(),
                    vendor: text(d.vendor()),
                    url: text(d.url()),
                    manual_url: text(d.manual_url()),
                    support_url: text(d.support_url()),
                    version: text(d.version()),
                    description: text(d.description()),
                    features: d
                        .features()
                        .map(|f| f.to_string_lossy().into_owned())
                        .collect(),
                })
            })
            .collect())
    }

    fn create_plugin(&mut self, _: InstanceId, req: CreatePlugin) -> Remote<CreatedPlugin> {
        let outbox = Arc::clone(&self.outbox);
        let wake = Arc::clone(&self.wake);
        let id = self.next_id;
        let plugin_id = CString::new(req.plugin_id.clone())
            .map_err(|_| RemoteError::new("plugin id contains a NUL byte"))?;
        let h = &req.host;
        let info = HostInfo::new(&h.name, &h.vendor, &h.url, &h.version)
            .map_err(|_| RemoteError::new("host identity contains a NUL byte"))?;
        let entry = self.entry(req.plugin.as_deref())?;
        let callback_requested = Arc::new(AtomicBool::new(false));
        let audio_flags = Arc::new(AtomicU32::new(0));
        let registry = Rc::new(RefCell::new(MainLoopRegistry::default()));
        let shared = SharedHost {
            instance: id,
            outbox,
            caps: req.caps,
            main_thread: std::thread::current().id(),
            callback_requested: Arc::clone(&callback_requested),
            wake,
            audio_flags: Arc::clone(&audio_flags),
            audio_ports_rescan_flags: AtomicU32::new(0),
            note_dialects: AtomicU32::new(0),
        };
        let reg = Rc::clone(&registry);
        let plugin = PluginInstance::<BulkheadHost>::new(
            move |_| shared,
            move |shared| MainThreadHost {
                shared,
                registry: reg,
            },
            entry,
            &plugin_id,
            &info,
        )
        .map_err(|e| RemoteError::new(format!("cannot create {}: {e}", req.plugin_id)))?;
        // SAFETY: the plugin is initialised and we are on its main thread.
        let calls = unsafe { PluginCalls::query(plugin.raw_instance()) };
        let extensions = calls.extensions();
        self.next_id += 1;
        self.instances.insert(
            id,
            Instance {
                plugin,
                calls,
                registry,
                callback_requested,
                audio_flags,
                audio: None,
            },
        );
        tracing::info!(instance = id, plugin = %req.plugin_id, "created");
        Ok(CreatedPlugin {
            instance: id,
            extensions,
        })
    }

    fn destroy_plugin(&mut self, id: InstanceId, _: DestroyPlugin) {
        if let Some(mut inst) = self.instances.remove(&id) {
            Self::stop_audio(&mut inst);
            drop(inst);
            tracing::info!(instance = id, "destroyed");
        }
    }

    fn set_host_answers(&mut self, id: InstanceId, req: SetHostAnswers) {
        if let Some(inst) = self.instances.get(&id) {
            inst.plugin.access_shared_handler(|s| {
                s.audio_ports_rescan_flags
                    .store(req.audio_ports_rescan_flags, Ordering::Relaxed);
                s.note_dialects.store(req.note_dialects, Ordering::Relaxed);
            });
        }
    }

    fn activate(&mut self, id: InstanceId, req: Activate) -> Remote<()> {
        let mut fds = std::mem::take(&mut self.incoming_fds).into_iter();
        let (fd, sync) = (fds.next(), fds.next());
        let inst = self
            .instance(id)
            .ok_or_else(|| RemoteError::new(format!("no instance {id}")))?;
        if inst.audio.is_some() {
            return Err(RemoteError::new("already active"));
        }
        let fd = fd.ok_or_else(|| RemoteError::new("activation without an audio region"))?;
        let sync = match (req.socket_sync, sync) {
            (true, Some(s)) => Some(std::os::unix::net::UnixStream::from(s)),
            (true, None) => return Err(RemoteError::new("socket sync without a socket")),
            (false, _) => None,
        };
        let layout =
            ShmLayout::compute(&req.layout).map_err(|e| RemoteError::new(e.to_string()))?;
        let region =
            Arc::new(ShmRegion::open(fd, &layout).map_err(|e| RemoteError::new(e.to_string()))?);
        let audio_flags = Arc::clone(&inst.audio_flags);
        let config = PluginAudioConfiguration {
            sample_rate: req.sample_rate,
            min_frames_count: req.min_frames,
            max_frames_count: req.max_frames,
        };
        let processor = inst
            .plugin
            .activate(|_, _| AudioHost { audio_flags }, config)
            .map_err(|e| RemoteError::new(format!("activation failed: {e}")))?;
        let quit = Arc::new(AtomicBool::new(false));
        let worker = SendWorker(AudioWorker {
            region: Arc::clone(&region),
            layout,
            calls: inst.calls,
            processor: processor.into(),
            quit: Arc::clone(&quit),
            audio_flags: Arc::clone(&inst.audio_flags),
            sync,
            early_wake: req.early_wake.then_some(req.sample_rate),
        });
        let thread = std::thread::Builder::new()
            .name(format!("bulkhead-audio-{id}"))
            .spawn(move || {
                let w = worker;
                w.0.run()
            })
            .map_err(|e| RemoteError::new(format!("cannot start the audio thread: {e}")))?;
        inst.audio = Some(ActiveAudio {
            thread,
            quit,
            region,
        });
        Ok(())
    }

    fn deactivate(&mut self, id: InstanceId, _: Deactivate) {
        if let Some(inst) = self.instance(id) {
            Self::stop_audio(inst);
        }
    }

    fn get_audio_ports(
        &mut self,
        id: InstanceId,
        _: audio_ports::GetAudioPorts,
    ) -> audio_ports::AudioPorts {
        self.calls(id).map(|c| c.audio_ports()).unwrap_or_default()
    }

    fn get_note_ports(
        &mut self,
        id: InstanceId,
        _: note_ports::GetNotePorts,
    ) -> note_ports::NotePorts {
        self.calls(id).map(|c| c.note_ports()).unwrap_or_default()
    }

    fn get_param_infos(
        &mut self,
        id: InstanceId,
        _: params::GetParamInfos,
    ) -> Vec<params::ParamInfo> {
        self.calls(id).map(|c| c.param_infos()).unwrap_or_default()
    }

    fn get_param_value(&mut self, id: InstanceId, r: params::GetParamValue) -> Option<f64> {
        self.calls(id)?.param_value(r.param_id)
    }

    fn value_to_text(&mut self, id: InstanceId, r: params::ValueToText) -> Option<String> {
        self.calls(id)?.value_to_text(r.param_id, r.value)
    }

    fn text_to_value(&mut self, id: InstanceId, r: params::TextToValue) -> Option<f64> {
        self.calls(id)?.text_to_value(r.param_id, &r.text)
    }

    fn params_flush(&mut self, id: InstanceId, r: params::Flush) -> params::FlushOutput {
        let Some(calls) = self.calls(id) else {
            return params::FlushOutput { events: Vec::new() };
        };
        // SAFETY: both lists are valid for the call; the plugin is inactive
        // (the bridge routes an active plugin's flush through the audio
        // thread), so the main thread is the right one.
        let ((), events) = with_event_lists(&r.events, |i, o| unsafe { calls.params_flush(i, o) });
        params::FlushOutput { events }
    }

    fn save_state(&mut self, id: InstanceId, _: state::Save) -> Remote<state::StateBytes> {
        let calls = self
            .calls(id)
            .ok_or_else(|| RemoteError::new(format!("no instance {id}")))?;
        let mut writer = streams::BlobOut::new()
            .map_err(|e| RemoteError::new(format!("no memory for the state: {e}")))?;
        let stream = writer.ostream();
        // SAFETY: the stream points at `writer`, alive for the call.
        let saved = unsafe { calls.save_state(&stream) };
        match saved {
            Some(true) => {
                let blob = writer
                    .finish()
                    .map_err(|e| RemoteError::new(format!("cannot keep the state: {e}")))?;
                let (bytes, fd) = bulkhead_common::bulk::Bulk::of(&blob);
                if fd.is_some() {
                    self.outgoing_blobs.push(blob);
                }
                Ok(state::StateBytes { bytes })
            }
            Some(false) => Err(RemoteError::new("the plugin failed to save its state")),
            None => Err(RemoteError::new("the plugin has no state extension")),
        }
    }

    fn load_state(&mut self, id: InstanceId, r: state::Load) -> Remote<()> {
        let calls = self
            .calls(id)
            .ok_or_else(|| RemoteError::new(format!("no instance {id}")))?;
        let blob = r
            .bytes
            .receive_from_bridge(&mut self.incoming_fds)
            .map_err(|e| RemoteError::new(format!("the state did not arrive: {e}")))?;
        let mut reader = streams::Reader {
            bytes: blob.as_slice(),
        };
        let stream = streams::istream(&mut reader);
        // SAFETY: the stream reads from `blob`, alive for the call.
        match unsafe { calls.load_state(&stream) } {
            Some(true) => Ok(()),
            Some(false) => Err(RemoteError::new("the plugin rejected the state")),
            None => Err(RemoteError::new("the plugin has no state extension")),
        }
    }

    fn get_latency(&mut self, id: InstanceId, _: latency::GetLatency) -> u32 {
        self.calls(id).map_or(0, |c| c.latency())
    }

    fn get_tail(&mut self, id: InstanceId, _: tail::GetTail) -> u32 {
        self.calls(id).map_or(0, |c| c.tail())
    }

    fn render_has_hard_realtime_requirement(
        &mut self,
        id: InstanceId,
        _: render::HasHardRealtimeRequirement,
    ) -> bool {
        self.calls(id)
            .is_some_and(|c| c.render_has_hard_realtime_requirement())
    }

    fn render_set(&mut self, id: InstanceId, r: render::Set) -> bool {
        self.calls(id).is_some_and(|c| c.render_set(r.mode))
    }

    fn get_voice_info(
        &mut self,
        id: InstanceId,
        _: voice_info::GetVoiceInfo,
    ) -> Option<voice_info::VoiceInfo> {
        self.calls(id)?.voice_info()
    }
}
