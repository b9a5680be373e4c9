//! Sample VST3 plugin with a large state (16 MiB + 7 bytes), units, a program list and a MIDI
//! mapping (single-component).
//!
//! - parameter 0 "Seed" (255 steps, unit 1) regenerates the 16 MiB table the state carries;
//!   parameter 2 "Program" (program change of unit 1's list "Factory") picks seed 0/85/170/255;
//!   parameter 1 "Gain" (gain = 2 × value) is mapped to MIDI CC 7 and is sample-accurate;
//! - audio: `out = in × gain + (table[frame % len] − 128) / 2^15`, the frame counted from
//!   activation, so the table's bytes are audible;
//! - component state: `BHB1`, seed (u8), gain (f64 LE), table length (u32 LE), table — kept and
//!   returned byte for byte; controller state: `BHBC`.

use std::cell::{Cell, RefCell};

use bulkhead_sample_vst3_common::vst3::Steinberg::Vst::*;
use bulkhead_sample_vst3_common::vst3::Steinberg::*;
use bulkhead_sample_vst3_common::vst3::{uid, Class};
use bulkhead_sample_vst3_common::*;

const CID: TUID = uid(0xB01C_0003, 0x6269_6773, 0x0000_0000, 0x0000_0001);
const SEED: ParamID = 0;
const GAIN: ParamID = 1;
const PROGRAM: ParamID = 2;
const LIST: ProgramListID = 100;
const TABLE_LEN: usize = (16 << 20) + 7;
const PROGRAMS: [&str; 4] = ["Init", "Bright", "Dark", "Huge"];
const HEADER: usize = 4 + 1 + 8 + 4;

static PARAMS: [ParamDef; 3] = [
    ParamDef {
        steps: 255,
        unit: 1,
        ..ParamDef::new(SEED, "Seed", 0.0, 0.0, 255.0)
    },
    ParamDef::new(GAIN, "Gain", 0.5, 0.0, 2.0),
    ParamDef {
        steps: 3,
        unit: 1,
        flags: ParameterInfo_::ParameterFlags_::kIsProgramChange
            | ParameterInfo_::ParameterFlags_::kIsList,
        ..ParamDef::new(PROGRAM, "Program", 0.0, 0.0, 3.0)
    },
];
static BUSES: [BusDef; 2] = [STEREO_IN, STEREO_OUT];

fn table(seed: u8) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (seed as u64 + 1);
    let mut out = Vec::with_capacity(TABLE_LEN);
    while out.len() < TABLE_LEN {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_le_bytes();
        let n = (TABLE_LEN - out.len()).min(8);
        out.extend_from_slice(&bytes[..n]);
    }
    out
}

fn encode(seed: u8, gain: f64, table: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER + table.len());
    v.extend_from_slice(b"BHB1");
    v.push(seed);
    v.extend_from_slice(&gain.to_le_bytes());
    v.extend_from_slice(&(table.len() as u32).to_le_bytes());
    v.extend_from_slice(table);
    v
}

/// (seed, gain) of a valid state.
fn decode(bytes: &[u8]) -> Option<(u8, f64)> {
    let rest = bytes.strip_prefix(b"BHB1")?;
    let seed = *rest.first()?;
    let gain = f64::from_le_bytes(rest.get(1..9)?.try_into().ok()?);
    let len = u32::from_le_bytes(rest.get(9..13)?.try_into().ok()?) as usize;
    (rest.len() == 13 + len && len > 0).then_some((seed, gain))
}

struct BigState {
    params: Params,
    /// The whole state as last set or generated (the table is `state[HEADER..]`).
    state: RefCell<Vec<u8>>,
    gain: Cell<f64>,
    frame: Cell<u64>,
    unit: Cell<UnitID>,
}

impl Class for BigState {
    type Interfaces = (
        IComponent,
        IAudioProcessor,
        IProcessContextRequirements,
        IEditController,
        IUnitInfo,
        IProgramListData,
        IMidiMapping,
    );
}

impl BigState {
    fn reseed(&self, seed: u8) {
        *self.state.borrow_mut() = encode(seed, self.gain.get(), &table(seed));
        self.params.set(SEED, seed as f64 / 255.0);
    }
}

impl Plugin for BigState {
    fn buses(&self) -> &'static [BusDef] {
        &BUSES
    }
    fn set_active(&self, _active: bool) {
        self.frame.set(0);
    }
    fn component_state(&self) -> Vec<u8> {
        let mut state = self.state.borrow().clone();
        // The gain lives in the header; refresh it in place, the rest stays byte for byte.
        state[5..13].copy_from_slice(&self.gain.get().to_le_bytes());
        state
    }
    fn set_component_state(&self, bytes: &[u8]) -> tresult {
        let Some((seed, gain)) = decode(bytes) else {
            return kResultFalse;
        };
        *self.state.borrow_mut() = bytes.to_vec();
        self.gain.set(gain);
        self.params.set(SEED, seed as f64 / 255.0);
        self.params.set(GAIN, gain);
        kResultOk
    }
    fn process(&self, call: &mut ProcessCall) -> tresult {
        let mut points = [(0i32, 0f64); 64];
        let mut n = 0;
        call.for_each_param_point(|id, o, v| {
            if id == GAIN && n < points.len() {
                points[n] = (o, v);
                n += 1;
            }
        });
        let state = self.state.borrow();
        let table = &state[HEADER..];
        let mut next = 0;
        let mut frame = self.frame.get();
        for i in 0..call.samples() {
            while next < n && points[next].0 as usize <= i {
                self.gain.set(points[next].1);
                next += 1;
            }
            let t = (table[(frame % table.len() as u64) as usize] as f64 - 128.0) / 32768.0;
            for ch in 0..call.output_channels(0) {
                let x = call.input(0, ch, i);
                call.set_output(0, ch, i, x * 2.0 * self.gain.get() + t);
            }
            frame += 1;
        }
        if next < n {
            self.gain.set(points[n - 1].1);
        }
        self.frame.set(frame);
        call.clear_silence_flags();
        kResultOk
    }
    fn params(&self) -> Option<&Params> {
        Some(&self.params)
    }
    fn controller_sync(&self, _state: &[u8]) -> tresult {
        kResultOk
    }
    fn controller_state(&self) -> Vec<u8> {
        b"BHBC".to_vec()
    }
    fn set_controller_state(&self, bytes: &[u8]) -> tresult {
        if bytes == b"BHBC" {
            kResultOk
        } else {
            kResultFalse
        }
    }
    fn param_set(&self, id: ParamID, value: f64) {
        match id {
            SEED => self.reseed((value * 255.0).round() as u8),
            GAIN => self.gain.set(value),
            PROGRAM => self.reseed(((value * 3.0).round() as u8) * 85),
            _ => {}
        }
    }
}

impl IUnitInfoTrait for BigState {
    unsafe fn getUnitCount(&self) -> int32 {
        guard(0, || 2)
    }
    unsafe fn getUnitInfo(&self, index: int32, info: *mut UnitInfo) -> tresult {
        guard(kInternalError, || {
            // SAFETY: null or the caller's out-parameter.
            let Some(info) = (unsafe { info.as_mut() }) else {
                return kInvalidArgument;
            };
            let (id, parent, name, list) = match index {
                0 => (0, -1, "Root", -1),
                1 => (1, 0, "Bank", LIST),
                _ => return kInvalidArgument,
            };
            info.id = id;
            info.parentUnitId = parent;
            copy_wstring(name, &mut info.name);
            info.programListId = list;
            kResultOk
        })
    }
    unsafe fn getProgramListCount(&self) -> int32 {
        guard(0, || 1)
    }
    unsafe fn getProgramListInfo(&self, index: int32, info: *mut ProgramListInfo) -> tresult {
        guard(kInternalError, || {
            // SAFETY: null or the caller's out-parameter.
            match (index, unsafe { info.as_mut() }) {
                (0, Some(info)) => {
                    info.id = LIST;
                    copy_wstring("Factory", &mut info.name);
                    info.programCount = PROGRAMS.len() as i32;
                    kResultOk
                }
                _ => kInvalidArgument,
            }
        })
    }
    unsafe fn getProgramName(
        &self,
        list: ProgramListID,
        index: int32,
        name: *mut String128,
    ) -> tresult {
        guard(kInternalError, || {
            let program = usize::try_from(index).ok().and_then(|i| PROGRAMS.get(i));
            // SAFETY: null or the caller's out-parameter.
            match (list == LIST, program, unsafe { name.as_mut() }) {
                (true, Some(p), Some(name)) => {
                    copy_wstring(p, name);
                    kResultOk
                }
                _ => kInvalidArgument,
            }
        })
    }
    unsafe fn getProgramInfo(
        &self,
        _l: ProgramListID,
        _i: int32,
        _a: bulkhead_sample_vst3_common::vst3::Steinberg::Vst::CString,
        _v: *mut String128,
    ) -> tresult {
        guard(kInternalError, || kResultFalse)
    }
    unsafe fn hasProgramPitchNames(&self, _l: ProgramListID, _i: int32) -> tresult {
        guard(kInternalError, || kResultFalse)
    }
    unsafe fn getProgramPitchName(
        &self,
        _l: ProgramListID,
        _i: int32,
        _p: int16,
        _n: *mut String128,
    ) -> tresult {
        guard(kInternalError, || kResultFalse)
    }
    unsafe fn getSelectedUnit(&self) -> UnitID {
        guard(0, || self.unit.get())
    }
    unsafe fn selectUnit(&self, unit: UnitID) -> tresult {
        guard(kInternalError, || {
            if (0..2).contains(&unit) {
                self.unit.set(unit);
                kResultOk
            } else {
                kInvalidArgument
            }
        })
    }
    unsafe fn getUnitByBus(
        &self,
        _t: MediaType,
        _d: BusDirection,
        _b: int32,
        _c: int32,
        unit: *mut UnitID,
    ) -> tresult {
        guard(kInternalError, || {
            // SAFETY: out-parameter, null checked by write_out.
            if unsafe { __write_out(unit, 0) } {
                kResultOk
            } else {
                kInvalidArgument
            }
        })
    }
    unsafe fn setUnitProgramData(&self, _l: int32, _i: int32, _d: *mut IBStream) -> tresult {
        guard(kInternalError, || kNotImplemented)
    }
}

impl IProgramListDataTrait for BigState {
    unsafe fn programDataSupported(&self, list: ProgramListID) -> tresult {
        guard(kInternalError, || {
            if list == LIST {
                kResultTrue
            } else {
                kResultFalse
            }
        })
    }
    unsafe fn getProgramData(
        &self,
        list: ProgramListID,
        index: int32,
        data: *mut IBStream,
    ) -> tresult {
        guard(kInternalError, || {
            let Some(name) = usize::try_from(index).ok().and_then(|i| PROGRAMS.get(i)) else {
                return kInvalidArgument;
            };
            let mut bytes = vec![(index * 85) as u8];
            bytes.extend_from_slice(name.as_bytes());
            // SAFETY: null or the host's live stream for the call.
            if list == LIST && unsafe { write_stream(data, &bytes) } {
                kResultOk
            } else {
                kInvalidArgument
            }
        })
    }
    unsafe fn setProgramData(
        &self,
        list: ProgramListID,
        index: int32,
        data: *mut IBStream,
    ) -> tresult {
        guard(kInternalError, || {
            // SAFETY: null or the host's live stream for the call.
            match (list == LIST && (0..4).contains(&index), unsafe {
                read_stream(data)
            }) {
                (true, Some(bytes)) if !bytes.is_empty() => {
                    self.reseed(bytes[0]);
                    kResultOk
                }
                _ => kInvalidArgument,
            }
        })
    }
}

impl IMidiMappingTrait for BigState {
    unsafe fn getMidiControllerAssignment(
        &self,
        bus: int32,
        _channel: int16,
        cc: CtrlNumber,
        id: *mut ParamID,
    ) -> tresult {
        guard(kInternalError, || {
            let mapped = bus == 0 && cc == ControllerNumbers_::kCtrlVolume as CtrlNumber;
            // SAFETY: out-parameter, null checked by write_out.
            if mapped && unsafe { __write_out(id, GAIN) } {
                kResultTrue
            } else {
                kResultFalse
            }
        })
    }
}

impl_plugin_base!(BigState);
impl_component!(BigState);
impl_processor!(BigState);
impl_controller!(BigState);

static CLASSES: [ClassDef; 1] = [ClassDef {
    cid: CID,
    category: "Audio Module Class",
    name: "Bulkhead VST3 Big State",
    sub_categories: "Fx",
    create: || {
        let p = BigState {
            params: Params::new(&PARAMS),
            state: RefCell::new(Vec::new()),
            gain: Cell::new(0.5),
            frame: Cell::new(0),
            unit: Cell::new(0),
        };
        p.reseed(0);
        create(p)
    },
}];

export_vst3!(&CLASSES);
