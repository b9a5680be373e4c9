//! Sample VST3 gain: separate component and controller classes connected through
//! `IConnectionPoint`, a sample-accurate gain parameter and a read-only readout reported as
//! output parameter changes.
//!
//! Gain = 2 × normalized value (default 0.5 = unity). Component state: `BHG1` + gain (f64 LE).
//! Controller state: `BHGC` + any bytes, kept byte for byte. When the component's state is set
//! it tells the controller through a `GainChanged` message (attribute `gain`).

use std::cell::{Cell, RefCell};

use bulkhead_sample_vst3_common::vst3::Steinberg::Vst::*;
use bulkhead_sample_vst3_common::vst3::Steinberg::*;
use bulkhead_sample_vst3_common::vst3::{uid, Class, ComPtr};
use bulkhead_sample_vst3_common::*;

const PROCESSOR_CID: TUID = uid(0xB01C_0001, 0x6761_696E, 0x0000_0000, 0x0000_0001);
const CONTROLLER_CID: TUID = uid(0xB01C_0001, 0x6761_696E, 0x0000_0000, 0x0000_0002);
const GAIN: ParamID = 0;
const READOUT: ParamID = 1;
const MAX_POINTS: usize = 256;

static PARAMS: [ParamDef; 2] = [
    ParamDef::new(GAIN, "Gain", 0.5, 0.0, 2.0),
    ParamDef {
        flags: ParameterInfo_::ParameterFlags_::kIsReadOnly,
        ..ParamDef::new(READOUT, "Readout", 0.5, 0.0, 2.0)
    },
];
static BUSES: [BusDef; 2] = [STEREO_IN, STEREO_OUT];

struct GainProcessor {
    gain: Cell<f64>,
    host: RefCell<Option<ComPtr<IHostApplication>>>,
    peer: RefCell<Option<ComPtr<IConnectionPoint>>>,
}

impl Class for GainProcessor {
    type Interfaces = (
        IComponent,
        IAudioProcessor,
        IProcessContextRequirements,
        IConnectionPoint,
    );
}

fn parse_state(bytes: &[u8]) -> Option<f64> {
    let rest = bytes.strip_prefix(b"BHG1")?;
    Some(f64::from_le_bytes(rest.try_into().ok()?))
}

impl Plugin for GainProcessor {
    fn initialize(&self, host: Option<ComPtr<IHostApplication>>) -> tresult {
        *self.host.borrow_mut() = host;
        kResultOk
    }
    fn terminate(&self) {
        self.host.borrow_mut().take();
        self.peer.borrow_mut().take();
    }
    fn buses(&self) -> &'static [BusDef] {
        &BUSES
    }
    fn controller_cid(&self) -> Option<TUID> {
        Some(CONTROLLER_CID)
    }
    fn component_state(&self) -> Vec<u8> {
        let mut v = b"BHG1".to_vec();
        v.extend_from_slice(&self.gain.get().to_le_bytes());
        v
    }
    fn set_component_state(&self, bytes: &[u8]) -> tresult {
        let Some(gain) = parse_state(bytes) else {
            return kResultFalse;
        };
        self.gain.set(gain);
        if let (Some(host), Some(peer)) = (&*self.host.borrow(), &*self.peer.borrow()) {
            send_message(host, peer, c"GainChanged", (c"gain", gain));
        }
        kResultOk
    }
    fn process(&self, call: &mut ProcessCall) -> tresult {
        let mut points = [(0i32, 0f64); MAX_POINTS];
        let mut count = 0;
        call.for_each_param_point(|id, offset, value| {
            if id == GAIN && count < MAX_POINTS {
                points[count] = (offset, value);
                count += 1;
            }
        });
        let mut next = 0;
        let mut gain = self.gain.get();
        for i in 0..call.samples() {
            while next < count && points[next].0 as usize <= i {
                gain = points[next].1;
                call.output_param(READOUT, points[next].0, gain);
                next += 1;
            }
            for ch in 0..call.output_channels(0) {
                let x = call.input(0, ch, i);
                call.set_output(0, ch, i, x * 2.0 * gain);
            }
        }
        // Points past the block's end still take effect (a zero-sample flush carries them).
        while next < count {
            gain = points[next].1;
            call.output_param(READOUT, points[next].0, gain);
            next += 1;
        }
        self.gain.set(gain);
        call.clear_silence_flags();
        kResultOk
    }
    fn connected(&self, peer: Option<ComPtr<IConnectionPoint>>) {
        *self.peer.borrow_mut() = peer;
    }
}

struct GainController {
    params: Params,
    extra: RefCell<Vec<u8>>,
    peer: RefCell<Option<ComPtr<IConnectionPoint>>>,
}

impl Class for GainController {
    type Interfaces = (IEditController, IConnectionPoint);
}

impl Plugin for GainController {
    fn terminate(&self) {
        self.peer.borrow_mut().take();
    }
    fn params(&self) -> Option<&Params> {
        Some(&self.params)
    }
    fn controller_sync(&self, component_state: &[u8]) -> tresult {
        match parse_state(component_state) {
            Some(g) => {
                self.params.set(GAIN, g);
                self.params.set(READOUT, g);
                kResultOk
            }
            None => kResultFalse,
        }
    }
    fn controller_state(&self) -> Vec<u8> {
        let mut v = b"BHGC".to_vec();
        v.extend_from_slice(&self.extra.borrow());
        v
    }
    fn set_controller_state(&self, bytes: &[u8]) -> tresult {
        match bytes.strip_prefix(b"BHGC") {
            Some(rest) => {
                *self.extra.borrow_mut() = rest.to_vec();
                kResultOk
            }
            None => kResultFalse,
        }
    }
    fn connected(&self, peer: Option<ComPtr<IConnectionPoint>>) {
        *self.peer.borrow_mut() = peer;
    }
    fn message(&self, message: &ComPtr<IMessage>) -> tresult {
        match message_float(message, c"GainChanged", c"gain") {
            Some(g) => {
                self.params.set(GAIN, g);
                self.params.set(READOUT, g);
                kResultOk
            }
            None => kResultFalse,
        }
    }
}

impl_plugin_base!(GainProcessor);
impl_component!(GainProcessor);
impl_processor!(GainProcessor);
impl_connection!(GainProcessor);
impl_plugin_base!(GainController);
impl_controller!(GainController);
impl_connection!(GainController);

static CLASSES: [ClassDef; 2] = [
    ClassDef {
        cid: PROCESSOR_CID,
        category: "Audio Module Class",
        name: "Bulkhead VST3 Gain",
        sub_categories: "Fx",
        create: || {
            create(GainProcessor {
                gain: Cell::new(0.5),
                host: RefCell::new(None),
                peer: RefCell::new(None),
            })
        },
    },
    ClassDef {
        cid: CONTROLLER_CID,
        category: "Component Controller Class",
        name: "Bulkhead VST3 Gain",
        sub_categories: "Fx",
        create: || {
            create(GainController {
                params: Params::new(&PARAMS),
                extra: RefCell::new(Vec::new()),
                peer: RefCell::new(None),
            })
        },
    },
];

export_vst3!(&CLASSES);
