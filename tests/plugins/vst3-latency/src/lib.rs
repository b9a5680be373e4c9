//! Sample VST3 latency plugin (single-component): delays its input by a latency set through
//! parameter 0 ("Latency", 0…1000 samples, 1000 steps), and tells the host through
//! `IComponentHandler::restartComponent(kLatencyChanged)` whenever that changes on the
//! controller side (`setParamNormalized` or `setState`).
//!
//! The delay line is cleared on `setActive`, so a host that re-activates after the restart gets
//! a clean start. Component state: `BHL1` + latency (u32 LE); controller state: `BHLC`.

use std::cell::{Cell, RefCell};

use bulkhead_sample_vst3_common::vst3::Steinberg::Vst::*;
use bulkhead_sample_vst3_common::vst3::Steinberg::*;
use bulkhead_sample_vst3_common::vst3::{uid, Class, ComPtr};
use bulkhead_sample_vst3_common::*;

const CID: TUID = uid(0xB01C_0004, 0x6C61_7465, 0x0000_0000, 0x0000_0001);
const LATENCY: ParamID = 0;
const MAX: u32 = 1000;

static PARAMS: [ParamDef; 1] = [ParamDef {
    steps: MAX as i32,
    units: "samples",
    ..ParamDef::new(LATENCY, "Latency", 0.0, 0.0, MAX as f64)
}];
static BUSES: [BusDef; 2] = [STEREO_IN, STEREO_OUT];

struct Latency {
    params: Params,
    latency: Cell<u32>,
    handler: RefCell<Option<ComPtr<IComponentHandler>>>,
    /// Ring buffers per channel, MAX + 1 long.
    ring: RefCell<[Vec<f64>; 2]>,
    pos: Cell<usize>,
}

impl Class for Latency {
    type Interfaces = (
        IComponent,
        IAudioProcessor,
        IProcessContextRequirements,
        IEditController,
    );
}

impl Latency {
    fn change(&self, samples: u32) {
        let samples = samples.min(MAX);
        if samples == self.latency.get() {
            return;
        }
        self.latency.set(samples);
        self.params.set(LATENCY, samples as f64 / MAX as f64);
        if let Some(h) = &*self.handler.borrow() {
            // SAFETY: a live handler the host gave us; called from the main thread.
            unsafe { h.restartComponent(RestartFlags_::kLatencyChanged) };
        }
    }
}

impl Plugin for Latency {
    fn terminate(&self) {
        self.handler.borrow_mut().take();
    }
    fn buses(&self) -> &'static [BusDef] {
        &BUSES
    }
    fn set_active(&self, _active: bool) {
        for ch in self.ring.borrow_mut().iter_mut() {
            ch.iter_mut().for_each(|s| *s = 0.0);
        }
        self.pos.set(0);
    }
    fn latency(&self) -> u32 {
        self.latency.get()
    }
    fn component_state(&self) -> Vec<u8> {
        let mut v = b"BHL1".to_vec();
        v.extend_from_slice(&self.latency.get().to_le_bytes());
        v
    }
    fn set_component_state(&self, bytes: &[u8]) -> tresult {
        match bytes.strip_prefix(b"BHL1").and_then(|r| r.try_into().ok()) {
            Some(b) => {
                self.change(u32::from_le_bytes(b));
                kResultOk
            }
            None => kResultFalse,
        }
    }
    fn process(&self, call: &mut ProcessCall) -> tresult {
        let delay = self.latency.get() as usize;
        let mut ring = self.ring.borrow_mut();
        let len = MAX as usize + 1;
        let mut pos = self.pos.get();
        for i in 0..call.samples() {
            for (ch, buf) in ring.iter_mut().enumerate() {
                buf[pos] = call.input(0, ch, i);
                let y = buf[(pos + len - delay) % len];
                call.set_output(0, ch, i, y);
            }
            pos = (pos + 1) % len;
        }
        self.pos.set(pos);
        call.clear_silence_flags();
        kResultOk
    }
    fn params(&self) -> Option<&Params> {
        Some(&self.params)
    }
    fn controller_sync(&self, _state: &[u8]) -> tresult {
        // One object: the component's state already set the parameter.
        kResultOk
    }
    fn controller_state(&self) -> Vec<u8> {
        b"BHLC".to_vec()
    }
    fn set_controller_state(&self, bytes: &[u8]) -> tresult {
        if bytes == b"BHLC" {
            kResultOk
        } else {
            kResultFalse
        }
    }
    fn param_set(&self, id: ParamID, value: f64) {
        if id == LATENCY {
            self.change((value * MAX as f64).round() as u32);
        }
    }
    fn set_handler(&self, handler: Option<ComPtr<IComponentHandler>>) {
        *self.handler.borrow_mut() = handler;
    }
}

impl_plugin_base!(Latency);
impl_component!(Latency);
impl_processor!(Latency);
impl_controller!(Latency);

static CLASSES: [ClassDef; 1] = [ClassDef {
    cid: CID,
    category: "Audio Module Class",
    name: "Bulkhead VST3 Latency",
    sub_categories: "Fx|Delay",
    create: || {
        create(Latency {
            params: Params::new(&PARAMS),
            latency: Cell::new(0),
            handler: RefCell::new(None),
            ring: RefCell::new([vec![0.0; MAX as usize + 1], vec![0.0; MAX as usize + 1]]),
            pos: Cell::new(0),
        })
    },
}];

export_vst3!(&CLASSES);
