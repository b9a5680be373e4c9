//! Macros mapping the VST3 interfaces onto [`crate::Plugin`]: each generated method is one
//! guarded entry that checks pointers and delegates.

/// `IPluginBase` for a [`crate::Plugin`].
#[macro_export]
macro_rules! impl_plugin_base {
    ($t:ty) => {
        const _: () = {
            use $crate::vst3::Steinberg::*;
            impl IPluginBaseTrait for $t {
                unsafe fn initialize(&self, context: *mut FUnknown) -> tresult {
                    $crate::guard(kInternalError, || {
                        // SAFETY: null or the host's live context for the call.
                        let host = unsafe {
                            $crate::__query::<$crate::vst3::Steinberg::Vst::IHostApplication>(
                                context,
                            )
                        };
                        $crate::Plugin::initialize(self, host)
                    })
                }
                unsafe fn terminate(&self) -> tresult {
                    $crate::guard(kInternalError, || {
                        $crate::Plugin::terminate(self);
                        kResultOk
                    })
                }
            }
        };
    };
}

/// `IComponent` for a [`crate::Plugin`].
#[macro_export]
macro_rules! impl_component {
    ($t:ty) => {
        const _: () = {
            use $crate::vst3::Steinberg::Vst::*;
            use $crate::vst3::Steinberg::*;
            impl IComponentTrait for $t {
                unsafe fn getControllerClassId(&self, class_id: *mut TUID) -> tresult {
                    $crate::guard(kInternalError, || {
                        match $crate::Plugin::controller_cid(self) {
                            // SAFETY: out-parameter, null checked by write_out.
                            Some(cid) if unsafe { $crate::__write_out(class_id, cid) } => {
                                kResultTrue
                            }
                            _ => kResultFalse,
                        }
                    })
                }
                unsafe fn setIoMode(&self, _mode: IoMode) -> tresult {
                    $crate::guard(kInternalError, || kNotImplemented)
                }
                unsafe fn getBusCount(&self, media: MediaType, dir: BusDirection) -> int32 {
                    $crate::guard(0, || {
                        $crate::Plugin::buses(self)
                            .iter()
                            .filter(|b| b.media == media && b.dir == dir)
                            .count() as int32
                    })
                }
                unsafe fn getBusInfo(
                    &self,
                    media: MediaType,
                    dir: BusDirection,
                    index: int32,
                    bus: *mut BusInfo,
                ) -> tresult {
                    $crate::guard(kInternalError, || {
                        let found = $crate::Plugin::buses(self)
                            .iter()
                            .filter(|b| b.media == media && b.dir == dir)
                            .nth(index.max(0) as usize);
                        // SAFETY: null or the caller's out-parameter.
                        let (Some(def), Some(bus)) = (found, unsafe { bus.as_mut() }) else {
                            return kInvalidArgument;
                        };
                        if index < 0 {
                            return kInvalidArgument;
                        }
                        bus.mediaType = def.media;
                        bus.direction = def.dir;
                        bus.channelCount = def.channels;
                        $crate::copy_wstring(def.name, &mut bus.name);
                        bus.busType = BusTypes_::kMain as BusType;
                        bus.flags = BusInfo_::BusFlags_::kDefaultActive as u32;
                        kResultOk
                    })
                }
                unsafe fn getRoutingInfo(
                    &self,
                    _i: *mut RoutingInfo,
                    _o: *mut RoutingInfo,
                ) -> tresult {
                    $crate::guard(kInternalError, || kNotImplemented)
                }
                unsafe fn activateBus(
                    &self,
                    _media: MediaType,
                    _dir: BusDirection,
                    _index: int32,
                    _state: TBool,
                ) -> tresult {
                    $crate::guard(kInternalError, || kResultOk)
                }
                unsafe fn setActive(&self, state: TBool) -> tresult {
                    $crate::guard(kInternalError, || {
                        $crate::Plugin::set_active(self, state != 0);
                        kResultOk
                    })
                }
                unsafe fn setState(&self, state: *mut IBStream) -> tresult {
                    $crate::guard(kInternalError, || {
                        // SAFETY: null or the host's live stream for the call.
                        match unsafe { $crate::read_stream(state) } {
                            Some(bytes) => $crate::Plugin::set_component_state(self, &bytes),
                            None => kInvalidArgument,
                        }
                    })
                }
                unsafe fn getState(&self, state: *mut IBStream) -> tresult {
                    $crate::guard(kInternalError, || {
                        let bytes = $crate::Plugin::component_state(self);
                        // SAFETY: null or the host's live stream for the call.
                        if unsafe { $crate::write_stream(state, &bytes) } {
                            kResultOk
                        } else {
                            kResultFalse
                        }
                    })
                }
            }
        };
    };
}

/// `IAudioProcessor` and `IProcessContextRequirements` for a [`crate::Plugin`] whose buses are
/// fixed (arrangements follow the channel counts; 32- and 64-bit samples).
#[macro_export]
macro_rules! impl_processor {
    ($t:ty) => {
        const _: () = {
            use $crate::vst3::Steinberg::Vst::*;
            use $crate::vst3::Steinberg::*;
            fn arrangement(channels: i32) -> SpeakerArrangement {
                match channels {
                    1 => SpeakerArr::kMono,
                    _ => SpeakerArr::kStereo,
                }
            }
            impl IAudioProcessorTrait for $t {
                unsafe fn setBusArrangements(
                    &self,
                    inputs: *mut SpeakerArrangement,
                    num_ins: int32,
                    outputs: *mut SpeakerArrangement,
                    num_outs: int32,
                ) -> tresult {
                    $crate::guard(kInternalError, || {
                        let audio = |dir: BusDirections| {
                            $crate::Plugin::buses(self)
                                .iter()
                                .filter(move |b| {
                                    b.media == MediaTypes_::kAudio as MediaType && b.dir == dir as BusDirection
                                })
                                .map(|b| arrangement(b.channels))
                                .collect::<Vec<_>>()
                        };
                        let ins = audio(BusDirections_::kInput);
                        let outs = audio(BusDirections_::kOutput);
                        let same = |want: &[SpeakerArrangement], ptr: *mut SpeakerArrangement, n: int32| {
                            n as usize == want.len()
                                && (n == 0
                                    || (!ptr.is_null()
                                        // SAFETY: the host passes `n` arrangements at `ptr`.
                                        && unsafe { std::slice::from_raw_parts(ptr, n as usize) } == want))
                        };
                        if same(&ins, inputs, num_ins) && same(&outs, outputs, num_outs) {
                            kResultTrue
                        } else {
                            kResultFalse
                        }
                    })
                }
                unsafe fn getBusArrangement(
                    &self,
                    dir: BusDirection,
                    index: int32,
                    arr: *mut SpeakerArrangement,
                ) -> tresult {
                    $crate::guard(kInternalError, || {
                        let bus = $crate::Plugin::buses(self)
                            .iter()
                            .filter(|b| b.media == MediaTypes_::kAudio as MediaType && b.dir == dir)
                            .nth(index.max(0) as usize);
                        match bus {
                            // SAFETY: out-parameter, null checked by write_out.
                            Some(b) if index >= 0 && unsafe { $crate::__write_out(arr, arrangement(b.channels)) } => kResultOk,
                            _ => kInvalidArgument,
                        }
                    })
                }
                unsafe fn canProcessSampleSize(&self, size: int32) -> tresult {
                    $crate::guard(kInternalError, || {
                        if size == SymbolicSampleSizes_::kSample32 as int32
                            || size == SymbolicSampleSizes_::kSample64 as int32
                        {
                            kResultTrue
                        } else {
                            kResultFalse
                        }
                    })
                }
                unsafe fn getLatencySamples(&self) -> uint32 {
                    $crate::guard(0, || $crate::Plugin::latency(self))
                }
                unsafe fn setupProcessing(&self, setup: *mut ProcessSetup) -> tresult {
                    $crate::guard(kInternalError, || {
                        // SAFETY: null or the host's setup for the call.
                        match unsafe { setup.as_ref() } {
                            Some(s) => {
                                $crate::Plugin::setup(self, s);
                                kResultOk
                            }
                            None => kInvalidArgument,
                        }
                    })
                }
                unsafe fn setProcessing(&self, _state: TBool) -> tresult {
                    $crate::guard(kInternalError, || kResultOk)
                }
                unsafe fn process(&self, data: *mut ProcessData) -> tresult {
                    $crate::guard(kInternalError, || {
                        // SAFETY: null or the host's ProcessData for this call.
                        match unsafe { $crate::ProcessCall::new(data) } {
                            Some(mut call) => $crate::Plugin::process(self, &mut call),
                            None => kInvalidArgument,
                        }
                    })
                }
                unsafe fn getTailSamples(&self) -> uint32 {
                    $crate::guard(0, || $crate::Plugin::tail(self))
                }
            }
            impl IProcessContextRequirementsTrait for $t {
                unsafe fn getProcessContextRequirements(&self) -> uint32 {
                    // The samples read no process context.
                    $crate::guard(0, || 0)
                }
            }
        };
    };
}

/// `IEditController` for a [`crate::Plugin`] with [`crate::Plugin::params`].
#[macro_export]
macro_rules! impl_controller {
    ($t:ty) => {
        const _: () = {
            use $crate::vst3::Steinberg::Vst::*;
            use $crate::vst3::Steinberg::*;
            impl IEditControllerTrait for $t {
                unsafe fn setComponentState(&self, state: *mut IBStream) -> tresult {
                    $crate::guard(kInternalError, || {
                        // SAFETY: null or the host's live stream for the call.
                        match unsafe { $crate::read_stream(state) } {
                            Some(bytes) => $crate::Plugin::controller_sync(self, &bytes),
                            None => kInvalidArgument,
                        }
                    })
                }
                unsafe fn setState(&self, state: *mut IBStream) -> tresult {
                    $crate::guard(kInternalError, || {
                        // SAFETY: null or the host's live stream for the call.
                        match unsafe { $crate::read_stream(state) } {
                            Some(bytes) => $crate::Plugin::set_controller_state(self, &bytes),
                            None => kInvalidArgument,
                        }
                    })
                }
                unsafe fn getState(&self, state: *mut IBStream) -> tresult {
                    $crate::guard(kInternalError, || {
                        let bytes = $crate::Plugin::controller_state(self);
                        // SAFETY: null or the host's live stream for the call.
                        if unsafe { $crate::write_stream(state, &bytes) } {
                            kResultOk
                        } else {
                            kResultFalse
                        }
                    })
                }
                unsafe fn getParameterCount(&self) -> int32 {
                    $crate::guard(0, || $crate::Plugin::params(self).map_or(0, |p| p.count()))
                }
                unsafe fn getParameterInfo(
                    &self,
                    index: int32,
                    info: *mut ParameterInfo,
                ) -> tresult {
                    $crate::guard(kInternalError, || {
                        // SAFETY: null or the caller's out-parameter.
                        let (Some(p), Some(info)) =
                            ($crate::Plugin::params(self), unsafe { info.as_mut() })
                        else {
                            return kInvalidArgument;
                        };
                        if p.info(index, info) {
                            kResultOk
                        } else {
                            kInvalidArgument
                        }
                    })
                }
                unsafe fn getParamStringByValue(
                    &self,
                    id: ParamID,
                    value: ParamValue,
                    string: *mut String128,
                ) -> tresult {
                    $crate::guard(kInternalError, || {
                        // SAFETY: null or the caller's out-parameter.
                        let (Some(p), Some(out)) =
                            ($crate::Plugin::params(self), unsafe { string.as_mut() })
                        else {
                            return kInvalidArgument;
                        };
                        if p.def(id).is_none() {
                            return kInvalidArgument;
                        }
                        $crate::copy_wstring(&p.display(id, value), out);
                        kResultOk
                    })
                }
                unsafe fn getParamValueByString(
                    &self,
                    id: ParamID,
                    string: *mut TChar,
                    value: *mut ParamValue,
                ) -> tresult {
                    $crate::guard(kInternalError, || {
                        // SAFETY: a NUL-terminated UTF-16 string or null (API contract).
                        let text = unsafe { $crate::__wstring(string) };
                        let (Some(p), Some(text)) = ($crate::Plugin::params(self), text) else {
                            return kInvalidArgument;
                        };
                        match text.trim().parse::<f64>() {
                            // SAFETY: out-parameter, null checked by write_out.
                            Ok(plain)
                                if p.def(id).is_some()
                                    && unsafe {
                                        $crate::__write_out(value, p.to_normalized(id, plain))
                                    } =>
                            {
                                kResultOk
                            }
                            _ => kInvalidArgument,
                        }
                    })
                }
                unsafe fn normalizedParamToPlain(
                    &self,
                    id: ParamID,
                    value: ParamValue,
                ) -> ParamValue {
                    $crate::guard(0.0, || {
                        $crate::Plugin::params(self).map_or(value, |p| p.to_plain(id, value))
                    })
                }
                unsafe fn plainParamToNormalized(
                    &self,
                    id: ParamID,
                    plain: ParamValue,
                ) -> ParamValue {
                    $crate::guard(0.0, || {
                        $crate::Plugin::params(self).map_or(plain, |p| p.to_normalized(id, plain))
                    })
                }
                unsafe fn getParamNormalized(&self, id: ParamID) -> ParamValue {
                    $crate::guard(0.0, || {
                        $crate::Plugin::params(self).map_or(0.0, |p| p.get(id))
                    })
                }
                unsafe fn setParamNormalized(&self, id: ParamID, value: ParamValue) -> tresult {
                    $crate::guard(kInternalError, || match $crate::Plugin::params(self) {
                        Some(p) if p.set(id, value) => {
                            $crate::Plugin::param_set(self, id, p.get(id));
                            kResultOk
                        }
                        _ => kInvalidArgument,
                    })
                }
                unsafe fn setComponentHandler(&self, handler: *mut IComponentHandler) -> tresult {
                    $crate::guard(kInternalError, || {
                        // SAFETY: null or a live handler; upgraded to an owned reference.
                        let handler = unsafe { $crate::vst3::ComRef::from_raw(handler) }
                            .map(|h| h.to_com_ptr());
                        $crate::Plugin::set_handler(self, handler);
                        kResultOk
                    })
                }
                unsafe fn createView(&self, _name: FIDString) -> *mut IPlugView {
                    // Editors come with a later issue; the samples have none.
                    $crate::guard(std::ptr::null_mut(), std::ptr::null_mut)
                }
            }
        };
    };
}

/// `IConnectionPoint` for a [`crate::Plugin`].
#[macro_export]
macro_rules! impl_connection {
    ($t:ty) => {
        const _: () = {
            use $crate::vst3::Steinberg::Vst::*;
            use $crate::vst3::Steinberg::*;
            impl IConnectionPointTrait for $t {
                unsafe fn connect(&self, other: *mut IConnectionPoint) -> tresult {
                    $crate::guard(kInternalError, || {
                        // SAFETY: null or a live connection point; upgraded to an owned reference.
                        match unsafe { $crate::vst3::ComRef::from_raw(other) } {
                            Some(o) => {
                                $crate::Plugin::connected(self, Some(o.to_com_ptr()));
                                kResultTrue
                            }
                            None => kInvalidArgument,
                        }
                    })
                }
                unsafe fn disconnect(&self, _other: *mut IConnectionPoint) -> tresult {
                    $crate::guard(kInternalError, || {
                        $crate::Plugin::connected(self, None);
                        kResultTrue
                    })
                }
                unsafe fn notify(&self, message: *mut IMessage) -> tresult {
                    $crate::guard(kInternalError, || {
                        // SAFETY: null or a live message for the call.
                        match unsafe { $crate::vst3::ComRef::from_raw(message) } {
                            Some(m) => $crate::Plugin::message(self, &m.to_com_ptr()),
                            None => kInvalidArgument,
                        }
                    })
                }
            }
        };
    };
}

/// The module exports: `GetPluginFactory`, `ModuleEntry`, `ModuleExit` over a class table.
#[macro_export]
macro_rules! export_vst3 {
    ($classes:expr) => {
        /// The factory (a new reference per call, as hosts release what they get).
        #[no_mangle]
        pub extern "system" fn GetPluginFactory() -> *mut $crate::vst3::Steinberg::IPluginFactory {
            $crate::guard(std::ptr::null_mut(), || {
                $crate::vst3::ComWrapper::new($crate::PluginFactory { classes: $classes })
                    .to_com_ptr::<$crate::vst3::Steinberg::IPluginFactory>()
                    .map_or(std::ptr::null_mut(), |p| p.into_raw())
            })
        }
        /// Nothing to set up: the samples keep no module state.
        #[no_mangle]
        pub extern "C" fn ModuleEntry(_handle: *mut std::ffi::c_void) -> bool {
            true
        }
        /// Nothing to tear down.
        #[no_mangle]
        pub extern "C" fn ModuleExit() -> bool {
            true
        }
    };
}
