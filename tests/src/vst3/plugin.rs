//! [`Vst3Plugin`]: one plugin instance (component, processor, controller) with the host
//! objects a real host gives it.

use std::path::Path;

use bulkhead_vst3_support::com::{answered_interfaces, guid_from_tuid, query, Guid};
use bulkhead_vst3_support::factory::AUDIO_MODULE_CLASS;
use bulkhead_vst3_support::host_app::default_supported;
use bulkhead_vst3_support::strings::wstring_from_array;
use bulkhead_vst3_support::vst3::Steinberg::Vst::*;
use bulkhead_vst3_support::vst3::Steinberg::*;
use bulkhead_vst3_support::vst3::{ComPtr, ComWrapper};
use bulkhead_vst3_support::{
    ClassInfo, ComponentHandler, ConnectionProxy, HostApplication, MemoryStream, Module, Object,
    Vst3Error,
};

/// A parameter as the controller describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo3 {
    /// Id.
    pub id: u32,
    /// Title.
    pub title: String,
    /// Units.
    pub units: String,
    /// Steps (0 = continuous).
    pub steps: i32,
    /// Default, normalized.
    pub default: f64,
    /// `ParameterFlags`.
    pub flags: i32,
    /// Unit.
    pub unit: i32,
}

fn check(call: &'static str, result: tresult) -> Result<(), Vst3Error> {
    if result == kResultOk {
        Ok(())
    } else {
        Err(Vst3Error::Call { call, result })
    }
}

/// One instance of a VST3 plugin, created, initialised and (if split) connected.
pub struct Vst3Plugin {
    /// The class that was instantiated.
    pub class: ClassInfo,
    /// The component.
    pub component: Object<IComponent>,
    /// The component's `IAudioProcessor`.
    pub processor: ComPtr<IAudioProcessor>,
    /// The controller: the component itself for single-component plugins.
    pub controller: Option<Object<IEditController>>,
    /// True when component and controller are one object.
    pub single_component: bool,
    /// The host context both objects were initialised with.
    pub host: ComWrapper<HostApplication>,
    /// The controller's handler (records calls).
    pub handler: ComWrapper<ComponentHandler>,
    /// The proxies between component and controller (to component, to controller).
    pub proxies: Option<(ComWrapper<ConnectionProxy>, ComWrapper<ConnectionProxy>)>,
    pub(crate) active: bool,
    pub(crate) processing: bool,
    module: Module,
}

impl Vst3Plugin {
    /// Loads `bundle` and opens its first `Audio Module Class` (or the one named `name`).
    ///
    /// # Errors
    ///
    /// Any load, create or initialise failure.
    pub fn open(bundle: &Path, name: Option<&str>) -> Result<Vst3Plugin, Vst3Error> {
        let module = Module::load(bundle)?;
        let host = HostApplication::new("bulkhead test host", default_supported());
        let host_unknown = host
            .to_com_ptr::<FUnknown>()
            .ok_or(Vst3Error::NoInterface("FUnknown"))?;
        // Real hosts (the validator, JUCE) hand the factory their context first.
        module.set_host_context(&host_unknown);
        let class = module
            .classes()
            .into_iter()
            .find(|c| c.category == AUDIO_MODULE_CLASS && name.is_none_or(|n| c.name == n))
            .ok_or(Vst3Error::NoInterface("an Audio Module Class"))?;
        let component = module.create::<IComponent>(&class.cid)?;
        // SAFETY: live component; the context outlives the call (and is add-ref'ed if kept).
        check("IComponent::initialize", unsafe {
            component.initialize(host_unknown.as_ptr())
        })?;
        let processor = component
            .cast::<IAudioProcessor>()
            .ok_or(Vst3Error::NoInterface("IAudioProcessor"))?
            .ptr()
            .clone();
        let handler = ComponentHandler::new();
        let mut plugin = Vst3Plugin {
            class,
            component,
            processor,
            controller: None,
            single_component: false,
            host,
            handler,
            proxies: None,
            active: false,
            processing: false,
            module,
        };
        // Like every host: a component answering IEditController is a single-component plugin.
        if let Some(controller) = plugin.component.cast::<IEditController>() {
            plugin.single_component = true;
            plugin.controller = Some(controller);
        } else {
            let mut cid: TUID = [0; 16];
            // SAFETY: live component; `cid` is a valid out-parameter.
            let r = unsafe { plugin.component.getControllerClassId(&mut cid) };
            if r == kResultOk || r == kResultTrue {
                let controller = plugin
                    .module
                    .create::<IEditController>(&guid_from_tuid(&cid))?;
                // SAFETY: live controller; the context outlives the call.
                check("IEditController::initialize", unsafe {
                    controller.initialize(host_unknown.as_ptr())
                })?;
                plugin.controller = Some(controller);
                plugin.connect()?;
            }
        }
        if let Some(c) = &plugin.controller {
            let h = plugin
                .handler
                .to_com_ptr::<IComponentHandler>()
                .ok_or(Vst3Error::NoInterface("IComponentHandler"))?;
            // SAFETY: live controller; the handler is add-ref'ed by the plugin if kept.
            check("IEditController::setComponentHandler", unsafe {
                c.setComponentHandler(h.as_ptr())
            })?;
        }
        // Hosts sync the controller with the component's initial state.
        if !plugin.single_component && plugin.controller.is_some() {
            let state = plugin.component_state()?;
            plugin.sync_controller(&state)?;
        }
        Ok(plugin)
    }

    /// Connects a split component and controller through a host-side proxy pair.
    fn connect(&mut self) -> Result<(), Vst3Error> {
        let Some(controller) = &self.controller else {
            return Ok(());
        };
        // SAFETY: live objects; queries add-ref what they return.
        let (Some(cp_component), Some(cp_controller)) = (
            unsafe { query::<IConnectionPoint>(self.component.as_ptr() as *mut FUnknown) },
            unsafe { query::<IConnectionPoint>(controller.as_ptr() as *mut FUnknown) },
        ) else {
            return Ok(());
        };
        let to_component = ConnectionProxy::new(cp_component.clone());
        let to_controller = ConnectionProxy::new(cp_controller.clone());
        let p_component = to_component
            .to_com_ptr::<IConnectionPoint>()
            .ok_or(Vst3Error::NoInterface("IConnectionPoint"))?;
        let p_controller = to_controller
            .to_com_ptr::<IConnectionPoint>()
            .ok_or(Vst3Error::NoInterface("IConnectionPoint"))?;
        // SAFETY: live connection points; each side gets the proxy of the other.
        unsafe {
            check("IConnectionPoint::connect", {
                let r = cp_component.connect(p_controller.as_ptr());
                if r == kResultTrue {
                    kResultOk
                } else {
                    r
                }
            })?;
            check("IConnectionPoint::connect", {
                let r = cp_controller.connect(p_component.as_ptr());
                if r == kResultTrue {
                    kResultOk
                } else {
                    r
                }
            })?;
        }
        self.proxies = Some((to_component, to_controller));
        Ok(())
    }

    /// The names of the known interfaces the component answers.
    pub fn component_interfaces(&self) -> Vec<&'static str> {
        answered_interfaces(self.component.ptr())
    }

    /// The names of the known interfaces the controller answers (empty without one).
    pub fn controller_interfaces(&self) -> Vec<&'static str> {
        self.controller
            .as_ref()
            .map(|c| answered_interfaces(c.ptr()))
            .unwrap_or_default()
    }

    /// The class id.
    pub fn cid(&self) -> Guid {
        self.class.cid
    }

    /// Every parameter the controller lists.
    pub fn params(&self) -> Vec<ParamInfo3> {
        let Some(c) = &self.controller else {
            return Vec::new();
        };
        // SAFETY: live controller.
        let n = unsafe { c.getParameterCount() };
        (0..n)
            .filter_map(|i| {
                // SAFETY: plain data, all-zero valid; live controller; valid out-parameter.
                let mut info: ParameterInfo = unsafe { std::mem::zeroed() };
                // SAFETY: as above.
                (unsafe { c.getParameterInfo(i, &mut info) } == kResultOk).then(|| ParamInfo3 {
                    id: info.id,
                    title: wstring_from_array(&info.title),
                    units: wstring_from_array(&info.units),
                    steps: info.stepCount,
                    default: info.defaultNormalizedValue,
                    flags: info.flags,
                    unit: info.unitId,
                })
            })
            .collect()
    }

    /// The controller's normalized value of `id`.
    pub fn param_value(&self, id: u32) -> Option<f64> {
        // SAFETY: live controller.
        self.controller
            .as_ref()
            .map(|c| unsafe { c.getParamNormalized(id) })
    }

    /// Sets a value on the controller (what an editor or automation lane does).
    ///
    /// # Errors
    ///
    /// The controller's refusal.
    pub fn set_param_value(&self, id: u32, value: f64) -> Result<(), Vst3Error> {
        let c = self
            .controller
            .as_ref()
            .ok_or(Vst3Error::NoInterface("IEditController"))?;
        // SAFETY: live controller.
        check("IEditController::setParamNormalized", unsafe {
            c.setParamNormalized(id, value)
        })
    }

    /// `IComponent::getState`.
    ///
    /// # Errors
    ///
    /// The plugin's refusal.
    pub fn component_state(&self) -> Result<Vec<u8>, Vst3Error> {
        let s = MemoryStream::new();
        let p = MemoryStream::as_ibstream(&s);
        // SAFETY: live component and stream.
        check("IComponent::getState", unsafe {
            self.component.getState(p.as_ptr())
        })?;
        Ok(s.bytes())
    }

    /// `IComponent::setState`, then the controller's `setComponentState` (as hosts do).
    ///
    /// # Errors
    ///
    /// The plugin's refusal.
    pub fn set_component_state(&self, bytes: &[u8]) -> Result<(), Vst3Error> {
        let s = MemoryStream::from_bytes(bytes.to_vec());
        let p = MemoryStream::as_ibstream(&s);
        // SAFETY: live component and stream.
        check("IComponent::setState", unsafe {
            self.component.setState(p.as_ptr())
        })?;
        self.sync_controller(bytes)
    }

    /// `IEditController::setComponentState` alone.
    ///
    /// # Errors
    ///
    /// The plugin's refusal.
    pub fn sync_controller(&self, bytes: &[u8]) -> Result<(), Vst3Error> {
        let Some(c) = &self.controller else {
            return Ok(());
        };
        let s = MemoryStream::from_bytes(bytes.to_vec());
        let p = MemoryStream::as_ibstream(&s);
        // SAFETY: live controller and stream.
        check("IEditController::setComponentState", unsafe {
            c.setComponentState(p.as_ptr())
        })
    }

    /// `IEditController::getState` (empty without a controller).
    ///
    /// # Errors
    ///
    /// The plugin's refusal.
    pub fn controller_state(&self) -> Result<Vec<u8>, Vst3Error> {
        let Some(c) = &self.controller else {
            return Ok(Vec::new());
        };
        let s = MemoryStream::new();
        let p = MemoryStream::as_ibstream(&s);
        // SAFETY: live controller and stream.
        check("IEditController::getState", unsafe {
            c.getState(p.as_ptr())
        })?;
        Ok(s.bytes())
    }

    /// `IEditController::setState`.
    ///
    /// # Errors
    ///
    /// The plugin's refusal.
    pub fn set_controller_state(&self, bytes: &[u8]) -> Result<(), Vst3Error> {
        let Some(c) = &self.controller else {
            return Ok(());
        };
        let s = MemoryStream::from_bytes(bytes.to_vec());
        let p = MemoryStream::as_ibstream(&s);
        // SAFETY: live controller and stream.
        check("IEditController::setState", unsafe {
            c.setState(p.as_ptr())
        })
    }

    /// Channel counts of the audio buses in one direction.
    pub fn audio_buses(&self, output: bool) -> Vec<i32> {
        let dir = if output {
            BusDirections_::kOutput
        } else {
            BusDirections_::kInput
        } as BusDirection;
        let media = MediaTypes_::kAudio as MediaType;
        // SAFETY: live component.
        let n = unsafe { self.component.getBusCount(media, dir) };
        (0..n)
            .map(|i| {
                // SAFETY: plain data, all-zero valid.
                let mut info: BusInfo = unsafe { std::mem::zeroed() };
                // SAFETY: live component; valid out-parameter.
                if unsafe { self.component.getBusInfo(media, dir, i, &mut info) } == kResultOk {
                    info.channelCount
                } else {
                    0
                }
            })
            .collect()
    }

    /// Number of event buses in one direction.
    pub fn event_buses(&self, output: bool) -> i32 {
        let dir = if output {
            BusDirections_::kOutput
        } else {
            BusDirections_::kInput
        } as BusDirection;
        // SAFETY: live component.
        unsafe {
            self.component
                .getBusCount(MediaTypes_::kEvent as MediaType, dir)
        }
    }

    /// `setupProcessing`, every bus activated, `setActive(true)`, `setProcessing(true)`.
    ///
    /// # Errors
    ///
    /// The plugin's refusal of setup or activation.
    pub fn activate(
        &mut self,
        sample_rate: f64,
        max_block: i32,
        f64_samples: bool,
    ) -> Result<(), Vst3Error> {
        let size = if f64_samples {
            SymbolicSampleSizes_::kSample64
        } else {
            SymbolicSampleSizes_::kSample32
        };
        // SAFETY: live processor.
        check("IAudioProcessor::canProcessSampleSize", unsafe {
            self.processor.canProcessSampleSize(size as i32)
        })?;
        let mut setup = ProcessSetup {
            processMode: ProcessModes_::kOffline as i32,
            symbolicSampleSize: size as i32,
            maxSamplesPerBlock: max_block,
            sampleRate: sample_rate,
        };
        // SAFETY: live processor; `setup` outlives the call.
        check("IAudioProcessor::setupProcessing", unsafe {
            self.processor.setupProcessing(&mut setup)
        })?;
        for (media, output) in [
            (MediaTypes_::kAudio, false),
            (MediaTypes_::kAudio, true),
            (MediaTypes_::kEvent, false),
            (MediaTypes_::kEvent, true),
        ] {
            let dir = if output {
                BusDirections_::kOutput
            } else {
                BusDirections_::kInput
            } as BusDirection;
            // SAFETY: live component.
            let n = unsafe { self.component.getBusCount(media as MediaType, dir) };
            for i in 0..n {
                // SAFETY: live component.
                unsafe { self.component.activateBus(media as MediaType, dir, i, 1) };
            }
        }
        // SAFETY: live component.
        check("IComponent::setActive", unsafe {
            self.component.setActive(1)
        })?;
        self.active = true;
        // Some plugins answer kNotImplemented here; that is no failure.
        // SAFETY: live processor.
        unsafe { self.processor.setProcessing(1) };
        self.processing = true;
        Ok(())
    }

    /// `setProcessing(false)` and `setActive(false)`.
    pub fn deactivate(&mut self) {
        if self.processing {
            // SAFETY: live processor.
            unsafe { self.processor.setProcessing(0) };
            self.processing = false;
        }
        if self.active {
            // SAFETY: live component.
            unsafe { self.component.setActive(0) };
            self.active = false;
        }
    }

    /// `getLatencySamples`.
    pub fn latency(&self) -> u32 {
        // SAFETY: live processor.
        unsafe { self.processor.getLatencySamples() }
    }

    /// The module this instance came from.
    pub fn module(&self) -> &Module {
        &self.module
    }
}

impl Drop for Vst3Plugin {
    fn drop(&mut self) {
        self.deactivate();
        // Disconnect both sides and break the proxy cycles before terminating.
        if let (Some(controller), Some((to_component, to_controller))) =
            (&self.controller, &self.proxies)
        {
            // SAFETY: live objects; queries add-ref what they return.
            unsafe {
                if let (Some(a), Some(b)) = (
                    query::<IConnectionPoint>(self.component.as_ptr() as *mut FUnknown),
                    query::<IConnectionPoint>(controller.as_ptr() as *mut FUnknown),
                ) {
                    if let (Some(pa), Some(pb)) = (
                        to_controller.to_com_ptr::<IConnectionPoint>(),
                        to_component.to_com_ptr::<IConnectionPoint>(),
                    ) {
                        a.disconnect(pa.as_ptr());
                        b.disconnect(pb.as_ptr());
                    }
                }
            }
            to_component.clear();
            to_controller.clear();
        }
        if let Some(c) = &self.controller {
            if !self.single_component {
                // SAFETY: live controller, terminated once.
                unsafe { c.terminate() };
            }
        }
        // SAFETY: live component, terminated once.
        unsafe { self.component.terminate() };
    }
}
