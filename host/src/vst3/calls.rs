//! `Vst3Handler`: one real interface call per request. An object that does
//! not answer the interface a request needs gets `kNotImplemented`, `None`
//! or an empty list, as the request's type allows.

use super::audio::{SendAudio, Vst3Audio};
use super::forward::{Forwarder, OutsidePoint};
use super::{interfaces_of, ActiveAudio, Vst3Object, Vst3Server};
use bulkhead_common::bulk::{Blob, Bulk};
use bulkhead_common::protocol::vst3::types::results::{NOT_IMPLEMENTED, OK};
use bulkhead_common::protocol::vst3::types::*;
use bulkhead_common::protocol::vst3::*;
use bulkhead_common::protocol::{Remote, RemoteError};
use bulkhead_common::shm::{ShmLayout, ShmRegion};
use bulkhead_common::InstanceId;
use bulkhead_vst3_support::com::guid_from_tuid;
use bulkhead_vst3_support::records::{entries_of, message_of};
use bulkhead_vst3_support::strings::{copy_cstring, wstring_from_array};
use bulkhead_vst3_support::vst3::Steinberg::Vst::ChannelContext::*;
use bulkhead_vst3_support::vst3::Steinberg::Vst::*;
use bulkhead_vst3_support::vst3::Steinberg::*;
use bulkhead_vst3_support::vst3::{ComPtr, ComWrapper, Interface};
use bulkhead_vst3_support::{AttributeList, MemoryStream, Object};
use std::ffi::CString;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The units of a `String128` up to its NUL.
fn units(s: &String128) -> Vec<u16> {
    s.iter().copied().take_while(|&c| c != 0).collect()
}

fn no_object(id: InstanceId) -> RemoteError {
    RemoteError::new(format!("no object {id}"))
}

/// A zeroed SDK struct (all of them are plain data).
fn zeroed<T: Copy>() -> T {
    // SAFETY: only used for the SDK's plain C structs (numbers and arrays),
    // for which all-zero is a value.
    unsafe { std::mem::zeroed() }
}

fn terminated(units: &[u16]) -> Vec<u16> {
    let mut v = units.to_vec();
    v.push(0);
    v
}

fn bus_record(b: &BusInfo) -> BusRecord {
    BusRecord {
        media_type: b.mediaType,
        direction: b.direction,
        channel_count: b.channelCount,
        name: wstring_from_array(&b.name),
        bus_type: b.busType,
        flags: b.flags,
    }
}

/// Disconnects an object (taken out of the map) from whatever it was
/// connected to.
pub(super) fn disconnect_all(obj: &mut Vst3Object) -> TResult {
    let peers = std::mem::take(&mut obj.connected);
    obj.outside = None;
    disconnect_peers(&obj.unknown, peers)
}

/// Disconnects `unknown` from `peers` (no borrow of the server held).
fn disconnect_peers(unknown: &Object<FUnknown>, peers: Vec<ComPtr<IConnectionPoint>>) -> TResult {
    if peers.is_empty() {
        return results::FALSE;
    }
    let Some(point) = unknown.ptr().cast::<IConnectionPoint>() else {
        return NOT_IMPLEMENTED;
    };
    let mut result = OK;
    for peer in peers {
        // SAFETY: main-thread call on live objects.
        let r = unsafe { point.disconnect(peer.as_ptr()) };
        if r != kResultOk {
            result = r;
        }
    }
    result
}

impl Vst3Server {
    /// A stream as preset files give it: bytes (none, for a save; else
    /// read where the bridge's memfd is mapped), file name and attributes.
    fn stream(bytes: Option<Blob>, attrs: &StreamAttrs) -> ComWrapper<MemoryStream> {
        let list = AttributeList::from_entries(entries_of(&attrs.attributes));
        let name = attrs
            .file_name
            .as_ref()
            .map(|u| String::from_utf16_lossy(u));
        match bytes {
            Some(blob) => MemoryStream::lending(blob, name, list),
            None => MemoryStream::with_attributes(Vec::new(), name, list),
        }
    }

    /// The bytes a call wrote into a stream, as a reply's bulk.
    fn saved(&self, result: TResult, stream: &MemoryStream) -> Remote<Saved> {
        let bytes = stream.take_bytes();
        let blob = Blob::from_bytes(&bytes)
            .map_err(|e| RemoteError::new(format!("cannot keep the state: {e}")))?;
        drop(bytes);
        let (bytes, fd) = Bulk::of(&blob);
        if fd.is_some() {
            self.outgoing_blobs.borrow_mut().push(blob);
        }
        Ok(Saved { result, bytes })
    }

    /// Bytes that came with the request.
    fn received(&self, bytes: Bulk) -> Remote<Blob> {
        bytes
            .receive_from_bridge(&mut self.incoming_fds.borrow_mut())
            .map_err(|e| RemoteError::new(format!("the data did not arrive: {e}")))
    }

    /// Calls `f` on interface `I` of object `id`; `fail` when it has none.
    fn with<I: Interface, R>(&self, id: InstanceId, fail: R, f: impl FnOnce(&ComPtr<I>) -> R) -> R {
        match self.iface::<I>(id) {
            Some(i) => f(&i),
            None => fail,
        }
    }

    /// A stream call that writes (`get…`): the stream's bytes and the result.
    fn save_with<I: Interface>(
        &self,
        id: InstanceId,
        attrs: &StreamAttrs,
        f: impl FnOnce(&ComPtr<I>, *mut IBStream) -> tresult,
    ) -> Remote<Saved> {
        if !self.exists(id) {
            return Err(no_object(id));
        }
        let stream = Vst3Server::stream(None, attrs);
        let ib = MemoryStream::as_ibstream(&stream);
        let result = self.with::<I, _>(id, NOT_IMPLEMENTED, |i| f(i, ib.as_ptr()));
        drop(ib);
        self.saved(result, &stream)
    }

    /// A stream call that reads (`set…`).
    fn load_with<I: Interface>(
        &self,
        id: InstanceId,
        bytes: Bulk,
        attrs: &StreamAttrs,
        f: impl FnOnce(&ComPtr<I>, *mut IBStream) -> tresult,
    ) -> Remote<TResult> {
        if !self.exists(id) {
            return Err(no_object(id));
        }
        let bytes = self.received(bytes)?;
        let stream = Vst3Server::stream(Some(bytes), attrs);
        let ib = MemoryStream::as_ibstream(&stream);
        let result = self.with::<I, _>(id, NOT_IMPLEMENTED, |i| f(i, ib.as_ptr()));
        // The bridge writes the next state into these pages once it has
        // the answer: nothing here may still map them.
        stream.end_lending();
        Ok(result)
    }
}

// Every `unsafe` call below is a main-thread call on a live object's
// interface with arguments valid for the call; the per-call comments say
// what else holds.
impl Vst3Handler for &Vst3Server {
    fn list_classes(&mut self, _: InstanceId, _: ListClasses) -> Remote<ModuleClasses> {
        let (module, _) = self.module(None)?;
        Ok(bulkhead_vst3_support::bridged::module_classes(&module))
    }

    fn create_object(&mut self, _: InstanceId, req: CreateObject) -> Remote<Created> {
        let (module, path) = self.module(req.module.as_deref())?;
        // Factories answer the interface the class is made for; FUnknown last.
        let unknown: ComPtr<FUnknown> = match module.create::<IComponent>(&req.cid) {
            Ok(o) => o.ptr().clone().upcast(),
            Err(_) => match module.create::<IEditController>(&req.cid) {
                Ok(o) => o.ptr().clone().upcast(),
                Err(_) => module
                    .create::<FUnknown>(&req.cid)
                    .map_err(|e| RemoteError::new(e.to_string()))?
                    .ptr()
                    .clone(),
            },
        };
        let unknown = Rc::new(Object::new(unknown, module.keep()));
        drop(module);
        let interfaces = interfaces_of(unknown.ptr());
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.objects.borrow_mut().insert(
            id,
            Vst3Object {
                unknown,
                module: path,
                connected: Vec::new(),
                outside: None,
                handler: None,
                setup: None,
                audio: None,
            },
        );
        tracing::info!(instance = id, cid = %bulkhead_vst3_support::com::guid_hex(&req.cid), "created");
        Ok(Created {
            instance: id,
            interfaces,
        })
    }

    fn release_object(&mut self, id: InstanceId, _: ReleaseObject) {
        self.release(id);
    }

    fn initialize(&mut self, id: InstanceId, _: Initialize) -> Initialized {
        let Some(unknown) = self.unknown(id) else {
            return Initialized {
                result: results::INVALID_ARGUMENT,
                interfaces: Vec::new(),
            };
        };
        let context = self.context.to_com_ptr::<FUnknown>();
        let result = match (unknown.ptr().cast::<IPluginBase>(), context) {
            // SAFETY: the context stays alive (the server holds it).
            (Some(base), Some(ctx)) => unsafe { base.initialize(ctx.as_ptr()) },
            _ => NOT_IMPLEMENTED,
        };
        Initialized {
            result,
            interfaces: interfaces_of(unknown.ptr()),
        }
    }

    fn terminate(&mut self, id: InstanceId, _: Terminate) -> TResult {
        self.stop_audio_of(id);
        // SAFETY: see the impl's comment.
        self.with::<IPluginBase, _>(id, NOT_IMPLEMENTED, |b| unsafe { b.terminate() })
    }

    fn connect(&mut self, id: InstanceId, req: Connect) -> TResult {
        let (Some(point), Some(peer)) = (
            self.iface::<IConnectionPoint>(id),
            self.iface::<IConnectionPoint>(req.peer),
        ) else {
            return NOT_IMPLEMENTED;
        };
        // SAFETY: see the impl's comment; the peer stays alive while connected
        // (we keep a reference until disconnecting).
        let r = unsafe { point.connect(peer.as_ptr()) };
        if r == kResultOk {
            self.update(id, |obj| obj.connected.push(peer));
        }
        r
    }

    fn connect_outside(&mut self, id: InstanceId, _: ConnectOutside) -> TResult {
        let Some(point) = self.iface::<IConnectionPoint>(id) else {
            return NOT_IMPLEMENTED;
        };
        let outside = OutsidePoint::new(id, Arc::clone(&self.outbox), self.context.clone());
        let Some(peer) = outside.to_com_ptr::<IConnectionPoint>() else {
            return results::INTERNAL_ERROR;
        };
        // SAFETY: see the impl's comment.
        let r = unsafe { point.connect(peer.as_ptr()) };
        if r == kResultOk {
            let old = self
                .update(id, |obj| {
                    obj.connected.push(peer);
                    obj.outside.replace(outside)
                })
                .flatten();
            drop(old);
        }
        r
    }

    fn disconnect(&mut self, id: InstanceId, _: Disconnect) -> TResult {
        let taken = self.update(id, |obj| {
            (
                Rc::clone(&obj.unknown),
                std::mem::take(&mut obj.connected),
                obj.outside.take(),
            )
        });
        match taken {
            Some((unknown, peers, outside)) => {
                let r = disconnect_peers(&unknown, peers);
                drop(outside);
                r
            }
            None => results::INVALID_ARGUMENT,
        }
    }

    fn notify(&mut self, id: InstanceId, req: Notify) -> TResult {
        let message = message_of(&req.message);
        let Some(m) = message.to_com_ptr::<IMessage>() else {
            return results::INTERNAL_ERROR;
        };
        // SAFETY: see the impl's comment; the message outlives the call.
        self.with::<IConnectionPoint, _>(id, NOT_IMPLEMENTED, |p| unsafe { p.notify(m.as_ptr()) })
    }

    fn get_controller_class_id(&mut self, id: InstanceId, _: GetControllerClassId) -> Option<Guid> {
        self.with::<IComponent, _>(id, None, |c| {
            let mut cid: TUID = [0; 16];
            // SAFETY: see the impl's comment; `cid` is a valid out-parameter.
            (unsafe { c.getControllerClassId(&mut cid) } == kResultOk).then(|| guid_from_tuid(&cid))
        })
    }

    fn set_io_mode(&mut self, id: InstanceId, req: SetIoMode) -> TResult {
        // SAFETY: see the impl's comment.
        self.with::<IComponent, _>(id, NOT_IMPLEMENTED, |c| unsafe { c.setIoMode(req.mode) })
    }

    fn get_buses(&mut self, id: InstanceId, _: GetBuses) -> Buses {
        self.with::<IComponent, _>(id, Buses::default(), |c| {
            let list = |media: i32, dir: i32| -> Vec<BusRecord> {
                // SAFETY: see the impl's comment.
                let n = unsafe { c.getBusCount(media, dir) }.max(0);
                (0..n)
                    .filter_map(|i| {
                        let mut info: BusInfo = zeroed();
                        // SAFETY: `info` is a valid out-parameter.
                        (unsafe { c.getBusInfo(media, dir, i, &mut info) } == kResultOk)
                            .then(|| bus_record(&info))
                    })
                    .collect()
            };
            Buses {
                audio_in: list(0, 0),
                audio_out: list(0, 1),
                event_in: list(1, 0),
                event_out: list(1, 1),
            }
        })
    }

    fn get_routing_info(&mut self, id: InstanceId, req: GetRoutingInfo) -> Option<RoutingRecord> {
        self.with::<IComponent, _>(id, None, |c| {
            let mut input = RoutingInfo {
                mediaType: req.input.media_type,
                busIndex: req.input.bus_index,
                channel: req.input.channel,
            };
            let mut out: RoutingInfo = zeroed();
            // SAFETY: both are valid in/out parameters.
            (unsafe { c.getRoutingInfo(&mut input, &mut out) } == kResultOk).then_some(
                RoutingRecord {
                    media_type: out.mediaType,
                    bus_index: out.busIndex,
                    channel: out.channel,
                },
            )
        })
    }

    fn activate_bus(&mut self, id: InstanceId, r: ActivateBus) -> TResult {
        self.with::<IComponent, _>(id, NOT_IMPLEMENTED, |c| {
            // SAFETY: see the impl's comment.
            unsafe { c.activateBus(r.media_type, r.direction, r.index, u8::from(r.state)) }
        })
    }

    fn set_active(&mut self, id: InstanceId, req: SetActive) -> Remote<TResult> {
        let fd = self.incoming_fds.take().into_iter().next();
        let unknown = self.unknown(id).ok_or_else(|| no_object(id))?;
        let Some(component) = unknown.ptr().cast::<IComponent>() else {
            return Ok(NOT_IMPLEMENTED);
        };
        if !req.state {
            self.stop_audio_of(id);
            // SAFETY: see the impl's comment; the audio thread is gone.
            return Ok(unsafe { component.setActive(0) });
        }
        // Activated again without a deactivation (JUCE's prepareToPlay does so when the
        // sample rate or block size changed): the plugin gets `setActive(1)` again, as when
        // hosted directly, and processes from the new region.
        self.stop_audio_of(id);
        let prepared = match (req.layout, unknown.ptr().cast::<IAudioProcessor>()) {
            (Some(layout), Some(processor)) => {
                let fd =
                    fd.ok_or_else(|| RemoteError::new("activation without an audio region"))?;
                let layout =
                    ShmLayout::compute(&layout).map_err(|e| RemoteError::new(e.to_string()))?;
                let region = Arc::new(
                    ShmRegion::open(fd, &layout).map_err(|e| RemoteError::new(e.to_string()))?,
                );
                Some((layout, region, processor))
            }
            _ => None,
        };
        // SAFETY: see the impl's comment.
        let result = unsafe { component.setActive(1) };
        if result != kResultOk {
            return Ok(result);
        }
        if let Some((layout, region, processor)) = prepared {
            let setup = self.update(id, |obj| obj.setup).flatten();
            let quit = Arc::new(AtomicBool::new(false));
            let audio = SendAudio(Vst3Audio {
                region: Arc::clone(&region),
                layout,
                processor,
                process_mode: setup.map_or(0, |s| s.process_mode),
                sample_size: setup.map_or(0, |s| s.symbolic_sample_size),
                quit: Arc::clone(&quit),
            });
            let spawned = std::thread::Builder::new()
                .name(format!("bulkhead-audio-{id}"))
                .spawn(move || {
                    let a = audio;
                    a.0.run()
                });
            match spawned {
                Ok(thread) => {
                    let active = ActiveAudio {
                        thread,
                        quit,
                        region,
                    };
                    // The object may have been released by a request nested
                    // in `setActive`: then its thread stops at once.
                    let left = match self.objects.borrow_mut().get_mut(&id) {
                        Some(obj) => obj.audio.replace(active),
                        None => Some(active),
                    };
                    if let Some(left) = left {
                        Vst3Server::stop_audio(left);
                    }
                }
                Err(e) => {
                    // SAFETY: see the impl's comment.
                    unsafe { component.setActive(0) };
                    return Err(RemoteError::new(format!(
                        "cannot start the audio thread: {e}"
                    )));
                }
            }
        }
        Ok(result)
    }

    fn load_state(&mut self, id: InstanceId, r: LoadState) -> Remote<TResult> {
        match r.target {
            StateTarget::Component => {
                // SAFETY: see the impl's comment; the stream outlives the call.
                self.load_with::<IComponent>(id, r.bytes, &r.attrs, |c, s| unsafe { c.setState(s) })
            }
            StateTarget::Controller => self
                // SAFETY: as above.
                .load_with::<IEditController>(id, r.bytes, &r.attrs, |c, s| unsafe {
                    c.setState(s)
                }),
            StateTarget::ComponentIntoController => self
                // SAFETY: as above.
                .load_with::<IEditController>(id, r.bytes, &r.attrs, |c, s| unsafe {
                    c.setComponentState(s)
                }),
        }
    }

    fn save_state(&mut self, id: InstanceId, r: SaveState) -> Remote<Saved> {
        match r.target {
            StateTarget::Component => {
                // SAFETY: see the impl's comment; the stream outlives the call.
                self.save_with::<IComponent>(id, &r.attrs, |c, s| unsafe { c.getState(s) })
            }
            StateTarget::Controller => {
                // SAFETY: as above.
                self.save_with::<IEditController>(id, &r.attrs, |c, s| unsafe { c.getState(s) })
            }
            StateTarget::ComponentIntoController => Err(RemoteError::new(
                "setComponentState has no saving counterpart",
            )),
        }
    }

    fn set_bus_arrangements(&mut self, id: InstanceId, r: SetBusArrangements) -> TResult {
        let (mut ins, mut outs) = (r.inputs, r.outputs);
        self.with::<IAudioProcessor, _>(id, NOT_IMPLEMENTED, |p| {
            // SAFETY: see the impl's comment; both arrays hold the counts given.
            unsafe {
                p.setBusArrangements(
                    ins.as_mut_ptr(),
                    ins.len() as i32,
                    outs.as_mut_ptr(),
                    outs.len() as i32,
                )
            }
        })
    }

    fn get_bus_arrangement(&mut self, id: InstanceId, r: GetBusArrangement) -> Option<u64> {
        self.with::<IAudioProcessor, _>(id, None, |p| {
            let mut arr = 0u64;
            // SAFETY: see the impl's comment.
            (unsafe { p.getBusArrangement(r.direction, r.index, &mut arr) } == kResultOk)
                .then_some(arr)
        })
    }

    fn can_process_sample_size(&mut self, id: InstanceId, r: CanProcessSampleSize) -> TResult {
        self.with::<IAudioProcessor, _>(id, NOT_IMPLEMENTED, |p| {
            // SAFETY: see the impl's comment.
            unsafe { p.canProcessSampleSize(r.size) }
        })
    }

    fn get_latency_samples(&mut self, id: InstanceId, _: GetLatencySamples) -> u32 {
        // SAFETY: see the impl's comment.
        self.with::<IAudioProcessor, _>(id, 0, |p| unsafe { p.getLatencySamples() })
    }

    fn setup_processing(&mut self, id: InstanceId, r: SetupProcessing) -> TResult {
        let s = r.setup;
        let result = self.with::<IAudioProcessor, _>(id, NOT_IMPLEMENTED, |p| {
            let mut setup = ProcessSetup {
                processMode: s.process_mode,
                symbolicSampleSize: s.symbolic_sample_size,
                maxSamplesPerBlock: s.max_samples_per_block,
                sampleRate: s.sample_rate,
            };
            // SAFETY: see the impl's comment.
            unsafe { p.setupProcessing(&mut setup) }
        });
        if result == kResultOk {
            self.update(id, |obj| obj.setup = Some(s));
        }
        result
    }

    fn set_processing(&mut self, id: InstanceId, r: SetProcessing) -> TResult {
        self.with::<IAudioProcessor, _>(id, NOT_IMPLEMENTED, |p| {
            // SAFETY: see the impl's comment.
            unsafe { p.setProcessing(u8::from(r.state)) }
        })
    }

    fn get_tail_samples(&mut self, id: InstanceId, _: GetTailSamples) -> u32 {
        // SAFETY: see the impl's comment.
        self.with::<IAudioProcessor, _>(id, 0, |p| unsafe { p.getTailSamples() })
    }

    fn get_process_context_requirements(
        &mut self,
        id: InstanceId,
        _: GetProcessContextRequirements,
    ) -> u32 {
        self.with::<IProcessContextRequirements, _>(id, 0, |p| {
            // SAFETY: see the impl's comment.
            unsafe { p.getProcessContextRequirements() }
        })
    }

    fn set_audio_presentation_latency(
        &mut self,
        id: InstanceId,
        r: SetAudioPresentationLatency,
    ) -> TResult {
        self.with::<IAudioPresentationLatency, _>(id, NOT_IMPLEMENTED, |p| {
            // SAFETY: see the impl's comment.
            unsafe { p.setAudioPresentationLatencySamples(r.direction, r.bus, r.samples) }
        })
    }

    fn get_parameter_infos(&mut self, id: InstanceId, _: GetParameterInfos) -> Vec<ParamRecord> {
        self.with::<IEditController, _>(id, Vec::new(), |c| {
            // SAFETY: see the impl's comment.
            let n = unsafe { c.getParameterCount() }.max(0);
            (0..n)
                .filter_map(|i| {
                    let mut p: ParameterInfo = zeroed();
                    // SAFETY: `p` is a valid out-parameter.
                    (unsafe { c.getParameterInfo(i, &mut p) } == kResultOk).then(|| ParamRecord {
                        id: p.id,
                        title: wstring_from_array(&p.title),
                        short_title: wstring_from_array(&p.shortTitle),
                        units: wstring_from_array(&p.units),
                        step_count: p.stepCount,
                        default_normalized: p.defaultNormalizedValue,
                        unit_id: p.unitId,
                        flags: p.flags,
                    })
                })
                .collect()
        })
    }

    fn get_param_string_by_value(
        &mut self,
        id: InstanceId,
        r: GetParamStringByValue,
    ) -> Option<Vec<u16>> {
        self.with::<IEditController, _>(id, None, |c| {
            let mut s: String128 = [0; 128];
            // SAFETY: `s` is a valid String128 out-parameter.
            (unsafe { c.getParamStringByValue(r.id, r.value, &mut s) } == kResultOk)
                .then(|| units(&s))
        })
    }

    fn get_param_value_by_string(
        &mut self,
        id: InstanceId,
        r: GetParamValueByString,
    ) -> Option<f64> {
        self.with::<IEditController, _>(id, None, |c| {
            let mut text = terminated(&r.text);
            let mut v = 0.0;
            // SAFETY: `text` is NUL-terminated; `v` a valid out-parameter.
            (unsafe { c.getParamValueByString(r.id, text.as_mut_ptr(), &mut v) } == kResultOk)
                .then_some(v)
        })
    }

    fn normalized_param_to_plain(&mut self, id: InstanceId, r: NormalizedParamToPlain) -> f64 {
        self.with::<IEditController, _>(id, 0.0, |c| {
            // SAFETY: see the impl's comment.
            unsafe { c.normalizedParamToPlain(r.id, r.value) }
        })
    }

    fn plain_param_to_normalized(&mut self, id: InstanceId, r: PlainParamToNormalized) -> f64 {
        self.with::<IEditController, _>(id, 0.0, |c| {
            // SAFETY: see the impl's comment.
            unsafe { c.plainParamToNormalized(r.id, r.value) }
        })
    }

    fn get_param_normalized(&mut self, id: InstanceId, r: GetParamNormalized) -> f64 {
        // SAFETY: see the impl's comment.
        self.with::<IEditController, _>(id, 0.0, |c| unsafe { c.getParamNormalized(r.id) })
    }

    fn set_param_normalized(&mut self, id: InstanceId, r: SetParamNormalized) -> TResult {
        self.with::<IEditController, _>(id, NOT_IMPLEMENTED, |c| {
            // SAFETY: see the impl's comment.
            unsafe { c.setParamNormalized(r.id, r.value) }
        })
    }

    fn set_component_handler(&mut self, id: InstanceId, r: SetComponentHandler) -> TResult {
        let Some(controller) = self.iface::<IEditController>(id) else {
            return NOT_IMPLEMENTED;
        };
        let handler = r
            .present
            .then(|| Forwarder::new(id, Arc::clone(&self.outbox)));
        let ptr = handler
            .as_ref()
            .and_then(|h| h.as_com_ref::<IComponentHandler>())
            .map_or(std::ptr::null_mut(), |h| h.as_ptr());
        // SAFETY: see the impl's comment; the handler is kept alive with the
        // object (the plugin add-refs what it keeps).
        let result = unsafe { controller.setComponentHandler(ptr) };
        let old = self.update(id, |obj| std::mem::replace(&mut obj.handler, handler));
        drop(old);
        result
    }

    fn set_knob_mode(&mut self, id: InstanceId, r: SetKnobMode) -> TResult {
        // SAFETY: see the impl's comment.
        self.with::<IEditController2, _>(id, NOT_IMPLEMENTED, |c| unsafe { c.setKnobMode(r.mode) })
    }

    fn open_help(&mut self, id: InstanceId, r: OpenHelp) -> TResult {
        self.with::<IEditController2, _>(id, NOT_IMPLEMENTED, |c| {
            // SAFETY: see the impl's comment.
            unsafe { c.openHelp(u8::from(r.only_check)) }
        })
    }

    fn open_about_box(&mut self, id: InstanceId, r: OpenAboutBox) -> TResult {
        self.with::<IEditController2, _>(id, NOT_IMPLEMENTED, |c| {
            // SAFETY: see the impl's comment.
            unsafe { c.openAboutBox(u8::from(r.only_check)) }
        })
    }

    fn begin_edit_from_host(&mut self, id: InstanceId, r: BeginEditFromHost) -> TResult {
        self.with::<IEditControllerHostEditing, _>(id, NOT_IMPLEMENTED, |c| {
            // SAFETY: see the impl's comment.
            unsafe { c.beginEditFromHost(r.id) }
        })
    }

    fn end_edit_from_host(&mut self, id: InstanceId, r: EndEditFromHost) -> TResult {
        self.with::<IEditControllerHostEditing, _>(id, NOT_IMPLEMENTED, |c| {
            // SAFETY: see the impl's comment.
            unsafe { c.endEditFromHost(r.id) }
        })
    }

    fn get_midi_controller_assignment(
        &mut self,
        id: InstanceId,
        r: GetMidiControllerAssignment,
    ) -> Option<u32> {
        self.with::<IMidiMapping, _>(id, None, |m| {
            let mut param = 0;
            // SAFETY: see the impl's comment.
            (unsafe { m.getMidiControllerAssignment(r.bus, r.channel, r.controller, &mut param) }
                == kResultOk)
                .then_some(param)
        })
    }

    fn on_live_midi_controller_input(
        &mut self,
        id: InstanceId,
        r: OnLiveMidiControllerInput,
    ) -> TResult {
        self.with::<IMidiLearn, _>(id, NOT_IMPLEMENTED, |m| {
            // SAFETY: see the impl's comment.
            unsafe { m.onLiveMIDIControllerInput(r.bus, r.channel, r.controller) }
        })
    }

    fn get_units(&mut self, id: InstanceId, _: GetUnits) -> Vec<UnitRecord> {
        self.with::<IUnitInfo, _>(id, Vec::new(), |u| {
            // SAFETY: see the impl's comment.
            let n = unsafe { u.getUnitCount() }.max(0);
            (0..n)
                .filter_map(|i| {
                    let mut info: UnitInfo = zeroed();
                    // SAFETY: valid out-parameter.
                    (unsafe { u.getUnitInfo(i, &mut info) } == kResultOk).then(|| UnitRecord {
                        id: info.id,
                        parent_unit_id: info.parentUnitId,
                        name: wstring_from_array(&info.name),
                        program_list_id: info.programListId,
                    })
                })
                .collect()
        })
    }

    fn get_program_lists(&mut self, id: InstanceId, _: GetProgramLists) -> Vec<ProgramListRecord> {
        self.with::<IUnitInfo, _>(id, Vec::new(), |u| {
            // SAFETY: see the impl's comment.
            let n = unsafe { u.getProgramListCount() }.max(0);
            (0..n)
                .filter_map(|i| {
                    let mut info: ProgramListInfo = zeroed();
                    // SAFETY: valid out-parameter.
                    if unsafe { u.getProgramListInfo(i, &mut info) } != kResultOk {
                        return None;
                    }
                    let programs = (0..info.programCount.max(0))
                        .map(|p| {
                            let mut s: String128 = [0; 128];
                            // SAFETY: valid String128 out-parameter.
                            unsafe { u.getProgramName(info.id, p, &mut s) };
                            wstring_from_array(&s)
                        })
                        .collect();
                    Some(ProgramListRecord {
                        id: info.id,
                        name: wstring_from_array(&info.name),
                        programs,
                    })
                })
                .collect()
        })
    }

    fn get_program_info(&mut self, id: InstanceId, r: GetProgramInfo) -> Option<Vec<u16>> {
        let attribute = CString::new(r.attribute).ok()?;
        self.with::<IUnitInfo, _>(id, None, |u| {
            let mut s: String128 = [0; 128];
            // SAFETY: a C string id and a valid String128 out-parameter.
            (unsafe { u.getProgramInfo(r.list, r.program, attribute.as_ptr(), &mut s) }
                == kResultOk)
                .then(|| units(&s))
        })
    }

    fn has_program_pitch_names(&mut self, id: InstanceId, r: HasProgramPitchNames) -> TResult {
        self.with::<IUnitInfo, _>(id, NOT_IMPLEMENTED, |u| {
            // SAFETY: see the impl's comment.
            unsafe { u.hasProgramPitchNames(r.list, r.program) }
        })
    }

    fn get_program_pitch_name(
        &mut self,
        id: InstanceId,
        r: GetProgramPitchName,
    ) -> Option<Vec<u16>> {
        self.with::<IUnitInfo, _>(id, None, |u| {
            let mut s: String128 = [0; 128];
            // SAFETY: valid String128 out-parameter.
            (unsafe { u.getProgramPitchName(r.list, r.program, r.pitch, &mut s) } == kResultOk)
                .then(|| units(&s))
        })
    }

    fn get_selected_unit(&mut self, id: InstanceId, _: GetSelectedUnit) -> i32 {
        // SAFETY: see the impl's comment.
        self.with::<IUnitInfo, _>(id, 0, |u| unsafe { u.getSelectedUnit() })
    }

    fn select_unit(&mut self, id: InstanceId, r: SelectUnit) -> TResult {
        // SAFETY: see the impl's comment.
        self.with::<IUnitInfo, _>(id, NOT_IMPLEMENTED, |u| unsafe { u.selectUnit(r.unit) })
    }

    fn get_unit_by_bus(&mut self, id: InstanceId, r: GetUnitByBus) -> Option<i32> {
        self.with::<IUnitInfo, _>(id, None, |u| {
            let mut unit = 0;
            // SAFETY: valid out-parameter.
            (unsafe { u.getUnitByBus(r.media_type, r.direction, r.bus, r.channel, &mut unit) }
                == kResultOk)
                .then_some(unit)
        })
    }

    fn set_unit_program_data(&mut self, id: InstanceId, r: SetUnitProgramData) -> Remote<TResult> {
        let attrs = StreamAttrs::default();
        self.load_with::<IUnitInfo>(id, r.bytes, &attrs, |u, s| {
            // SAFETY: see the impl's comment; the stream outlives the call.
            unsafe { u.setUnitProgramData(r.list_or_unit, r.program, s) }
        })
    }

    fn program_data_supported(&mut self, id: InstanceId, r: ProgramDataSupported) -> TResult {
        self.with::<IProgramListData, _>(id, NOT_IMPLEMENTED, |p| {
            // SAFETY: see the impl's comment.
            unsafe { p.programDataSupported(r.list) }
        })
    }

    fn get_program_data(&mut self, id: InstanceId, r: GetProgramData) -> Remote<Saved> {
        let attrs = StreamAttrs::default();
        self.save_with::<IProgramListData>(id, &attrs, |p, s| {
            // SAFETY: see the impl's comment; the stream outlives the call.
            unsafe { p.getProgramData(r.list, r.program, s) }
        })
    }

    fn set_program_data(&mut self, id: InstanceId, r: SetProgramData) -> Remote<TResult> {
        let attrs = StreamAttrs::default();
        self.load_with::<IProgramListData>(id, r.bytes, &attrs, |p, s| {
            // SAFETY: see the impl's comment; the stream outlives the call.
            unsafe { p.setProgramData(r.list, r.program, s) }
        })
    }

    fn unit_data_supported(&mut self, id: InstanceId, r: UnitDataSupported) -> TResult {
        self.with::<IUnitData, _>(id, NOT_IMPLEMENTED, |u| {
            // SAFETY: see the impl's comment.
            unsafe { u.unitDataSupported(r.unit) }
        })
    }

    fn get_unit_data(&mut self, id: InstanceId, r: GetUnitData) -> Remote<Saved> {
        let attrs = StreamAttrs::default();
        self.save_with::<IUnitData>(id, &attrs, |u, s| {
            // SAFETY: see the impl's comment; the stream outlives the call.
            unsafe { u.getUnitData(r.unit, s) }
        })
    }

    fn set_unit_data(&mut self, id: InstanceId, r: SetUnitData) -> Remote<TResult> {
        let attrs = StreamAttrs::default();
        self.load_with::<IUnitData>(id, r.bytes, &attrs, |u, s| {
            // SAFETY: see the impl's comment; the stream outlives the call.
            unsafe { u.setUnitData(r.unit, s) }
        })
    }

    fn get_note_expression_infos(
        &mut self,
        id: InstanceId,
        r: GetNoteExpressionInfos,
    ) -> Vec<NoteExpressionRecord> {
        self.with::<INoteExpressionController, _>(id, Vec::new(), |c| {
            // SAFETY: see the impl's comment.
            let n = unsafe { c.getNoteExpressionCount(r.bus, r.channel) }.max(0);
            (0..n)
                .filter_map(|i| {
                    let mut info: NoteExpressionTypeInfo = zeroed();
                    // SAFETY: valid out-parameter.
                    (unsafe { c.getNoteExpressionInfo(r.bus, r.channel, i, &mut info) }
                        == kResultOk)
                        .then(|| NoteExpressionRecord {
                            type_id: info.typeId,
                            title: wstring_from_array(&info.title),
                            short_title: wstring_from_array(&info.shortTitle),
                            units: wstring_from_array(&info.units),
                            unit_id: info.unitId,
                            default_value: info.valueDesc.defaultValue,
                            minimum: info.valueDesc.minimum,
                            maximum: info.valueDesc.maximum,
                            step_count: info.valueDesc.stepCount,
                            associated_parameter_id: info.associatedParameterId,
                            flags: info.flags,
                        })
                })
                .collect()
        })
    }

    fn get_note_expression_string_by_value(
        &mut self,
        id: InstanceId,
        r: GetNoteExpressionStringByValue,
    ) -> Option<Vec<u16>> {
        self.with::<INoteExpressionController, _>(id, None, |c| {
            let mut s: String128 = [0; 128];
            // SAFETY: valid String128 out-parameter.
            (unsafe {
                c.getNoteExpressionStringByValue(r.bus, r.channel, r.type_id, r.value, &mut s)
            } == kResultOk)
                .then(|| units(&s))
        })
    }

    fn get_note_expression_value_by_string(
        &mut self,
        id: InstanceId,
        r: GetNoteExpressionValueByString,
    ) -> Option<f64> {
        self.with::<INoteExpressionController, _>(id, None, |c| {
            let text = terminated(&r.text);
            let mut v = 0.0;
            // SAFETY: `text` is NUL-terminated; `v` a valid out-parameter.
            (unsafe {
                c.getNoteExpressionValueByString(r.bus, r.channel, r.type_id, text.as_ptr(), &mut v)
            } == kResultOk)
                .then_some(v)
        })
    }

    fn get_physical_ui_mapping(
        &mut self,
        id: InstanceId,
        r: GetPhysicalUiMapping,
    ) -> Option<Vec<u32>> {
        self.with::<INoteExpressionPhysicalUIMapping, _>(id, None, |m| {
            let mut maps: Vec<PhysicalUIMap> = r
                .physical
                .iter()
                .map(|&p| PhysicalUIMap {
                    physicalUITypeID: p,
                    noteExpressionTypeID: u32::MAX,
                })
                .collect();
            let mut list = PhysicalUIMapList {
                count: maps.len() as u32,
                map: maps.as_mut_ptr(),
            };
            // SAFETY: the list points at `count` entries alive for the call.
            (unsafe { m.getPhysicalUIMapping(r.bus, r.channel, &mut list) } == kResultOk)
                .then(|| maps.iter().map(|m| m.noteExpressionTypeID).collect())
        })
    }

    fn get_keyswitch_infos(
        &mut self,
        id: InstanceId,
        r: GetKeyswitchInfos,
    ) -> Vec<KeyswitchRecord> {
        self.with::<IKeyswitchController, _>(id, Vec::new(), |k| {
            // SAFETY: see the impl's comment.
            let n = unsafe { k.getKeyswitchCount(r.bus, r.channel) }.max(0);
            (0..n)
                .filter_map(|i| {
                    let mut info: KeyswitchInfo = zeroed();
                    // SAFETY: valid out-parameter.
                    (unsafe { k.getKeyswitchInfo(r.bus, r.channel, i, &mut info) } == kResultOk)
                        .then(|| KeyswitchRecord {
                            type_id: info.typeId,
                            title: wstring_from_array(&info.title),
                            short_title: wstring_from_array(&info.shortTitle),
                            keyswitch_min: info.keyswitchMin,
                            keyswitch_max: info.keyswitchMax,
                            key_remapped: info.keyRemapped,
                            unit_id: info.unitId,
                            flags: info.flags,
                        })
                })
                .collect()
        })
    }

    fn set_automation_state(&mut self, id: InstanceId, r: SetAutomationState) -> TResult {
        self.with::<IAutomationState, _>(id, NOT_IMPLEMENTED, |a| {
            // SAFETY: see the impl's comment.
            unsafe { a.setAutomationState(r.state) }
        })
    }

    fn set_channel_context_infos(&mut self, id: InstanceId, r: SetChannelContextInfos) -> TResult {
        let list = AttributeList::from_entries(entries_of(&r.attributes));
        let Some(ptr) = list.to_com_ptr::<IAttributeList>() else {
            return results::INTERNAL_ERROR;
        };
        self.with::<IInfoListener, _>(id, NOT_IMPLEMENTED, |l| {
            // SAFETY: see the impl's comment; the list outlives the call.
            unsafe { l.setChannelContextInfos(ptr.as_ptr()) }
        })
    }

    fn get_parameter_id_from_function_name(
        &mut self,
        id: InstanceId,
        r: GetParameterIdFromFunctionName,
    ) -> Option<u32> {
        let name = CString::new(r.name).ok()?;
        self.with::<IParameterFunctionName, _>(id, None, |f| {
            let mut param = 0;
            // SAFETY: a C string and a valid out-parameter.
            (unsafe { f.getParameterIDFromFunctionName(r.unit, name.as_ptr(), &mut param) }
                == kResultOk)
                .then_some(param)
        })
    }

    fn get_prefetchable_support(
        &mut self,
        id: InstanceId,
        _: GetPrefetchableSupport,
    ) -> Option<u32> {
        self.with::<IPrefetchableSupport, _>(id, None, |p| {
            let mut v = 0;
            // SAFETY: valid out-parameter.
            (unsafe { p.getPrefetchableSupport(&mut v) } == kResultOk).then_some(v)
        })
    }

    fn get_xml_representation(&mut self, id: InstanceId, r: GetXmlRepresentation) -> Remote<Saved> {
        let mut info: RepresentationInfo = zeroed();
        copy_cstring(&r.name, &mut info.name);
        copy_cstring(&r.version, &mut info.version);
        // `unit` has no place in `RepresentationInfo`: the SDK call takes none.
        let attrs = StreamAttrs::default();
        self.save_with::<IXmlRepresentationController>(id, &attrs, |x, s| {
            // SAFETY: see the impl's comment; info and stream outlive the call.
            unsafe { x.getXmlRepresentationStream(&mut info, s) }
        })
    }
}
