//! Sample VST3 fault plugin (single-component): crashes, hangs or exits on demand, so the
//! bridge's crash handling can be tested.
//!
//! - parameter 0 "Fault" (4 steps: none, crash, hang, exit) acts in `process` at the frame its
//!   change arrives (after passing input through up to that frame);
//! - a component state `FAULT:<what>` acts in `setState`; `ARM:<what>` is stored and acts in
//!   the next `getState` (so a save can be made to fail);
//! - the environment variable `BULKHEAD_VST3_FAULT_INIT=<what>` acts in `initialize` (nothing
//!   else exists before initialize).
//!
//! `<what>` is `crash` (SIGSEGV), `hang` (sleeps forever) or `exit` (exit status 3). Any other
//! state is kept and returned byte for byte; audio is passed through unchanged.

use std::cell::RefCell;

use bulkhead_sample_vst3_common::vst3::Steinberg::Vst::*;
use bulkhead_sample_vst3_common::vst3::Steinberg::*;
use bulkhead_sample_vst3_common::vst3::{uid, Class, ComPtr};
use bulkhead_sample_vst3_common::*;

const CID: TUID = uid(0xB01C_0005, 0x6661_756C, 0x0000_0000, 0x0000_0001);
const FAULT: ParamID = 0;

static PARAMS: [ParamDef; 1] = [ParamDef {
    steps: 3,
    ..ParamDef::new(FAULT, "Fault", 0.0, 0.0, 3.0)
}];
static BUSES: [BusDef; 2] = [STEREO_IN, STEREO_OUT];

fn fault(what: &[u8]) {
    match what {
        b"crash" => {
            // A real fault, not `raise`: a Rust host's own SIGSEGV handler
            // (stack overflow detection) swallows one raised signal.
            let null = std::hint::black_box(std::ptr::null_mut::<u32>());
            // SAFETY: faulting is the point: the process must die like a crashing plugin.
            unsafe { std::ptr::write_volatile(null, 1) };
        }
        b"hang" => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        b"exit" => std::process::exit(3),
        _ => {}
    }
}

struct Fault {
    params: Params,
    state: RefCell<Vec<u8>>,
}

impl Class for Fault {
    type Interfaces = (
        IComponent,
        IAudioProcessor,
        IProcessContextRequirements,
        IEditController,
    );
}

impl Plugin for Fault {
    fn initialize(&self, _host: Option<ComPtr<IHostApplication>>) -> tresult {
        if let Some(what) = std::env::var_os("BULKHEAD_VST3_FAULT_INIT") {
            fault(what.as_encoded_bytes());
        }
        kResultOk
    }
    fn buses(&self) -> &'static [BusDef] {
        &BUSES
    }
    fn component_state(&self) -> Vec<u8> {
        let state = self.state.borrow().clone();
        if let Some(what) = state.strip_prefix(b"ARM:") {
            fault(what);
        }
        state
    }
    fn set_component_state(&self, bytes: &[u8]) -> tresult {
        if let Some(what) = bytes.strip_prefix(b"FAULT:") {
            fault(what);
        }
        *self.state.borrow_mut() = bytes.to_vec();
        kResultOk
    }
    fn process(&self, call: &mut ProcessCall) -> tresult {
        let mut at: Option<(usize, f64)> = None;
        call.for_each_param_point(|id, o, v| {
            if id == FAULT && v > 0.0 && at.is_none() {
                at = Some((o.max(0) as usize, v));
            }
        });
        let stop = at.map_or(call.samples(), |(o, _)| o.min(call.samples()));
        for i in 0..stop {
            for ch in 0..call.output_channels(0) {
                let x = call.input(0, ch, i);
                call.set_output(0, ch, i, x);
            }
        }
        if let Some((_, v)) = at {
            match (v * 3.0).round() as i32 {
                1 => fault(b"crash"),
                2 => fault(b"hang"),
                3 => fault(b"exit"),
                _ => {}
            }
        }
        call.clear_silence_flags();
        kResultOk
    }
    fn params(&self) -> Option<&Params> {
        Some(&self.params)
    }
    fn controller_state(&self) -> Vec<u8> {
        b"BHFC".to_vec()
    }
    fn set_controller_state(&self, bytes: &[u8]) -> tresult {
        if bytes == b"BHFC" {
            kResultOk
        } else {
            kResultFalse
        }
    }
}

impl_plugin_base!(Fault);
impl_component!(Fault);
impl_processor!(Fault);
impl_controller!(Fault);

static CLASSES: [ClassDef; 1] = [ClassDef {
    cid: CID,
    category: "Audio Module Class",
    name: "Bulkhead VST3 Fault",
    sub_categories: "Fx",
    create: || {
        create(Fault {
            params: Params::new(&PARAMS),
            state: RefCell::new(b"BHF1".to_vec()),
        })
    },
}];

export_vst3!(&CLASSES);
