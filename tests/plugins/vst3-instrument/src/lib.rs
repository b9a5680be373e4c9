//! Sample VST3 instrument: one object is component and controller (single-component), driven by
//! note events on one event bus, with note expression (volume and tuning per note id).
//!
//! Each held note is a sine at its pitch (A4 = 440 Hz, plus tuning expression in semitones
//! × 2 − 1 … ±1), amplitude = velocity × volume expression × Level. Note-off stops the voice at
//! its exact frame. Component state: `BHI1` + level (f64 LE); controller state: `BHIC`.
//! `IMidiMapping` answers that no controller is mapped (see its impl for why that matters).

use std::cell::{Cell, RefCell};

use bulkhead_sample_vst3_common::vst3::Steinberg::Vst::*;
use bulkhead_sample_vst3_common::vst3::Steinberg::*;
use bulkhead_sample_vst3_common::vst3::{uid, Class};
use bulkhead_sample_vst3_common::*;

const CID: TUID = uid(0xB01C_0002, 0x696E_7374, 0x0000_0000, 0x0000_0001);
const LEVEL: ParamID = 0;
const VOICES: usize = 16;

static PARAMS: [ParamDef; 1] = [ParamDef::new(LEVEL, "Level", 0.5, 0.0, 1.0)];
static BUSES: [BusDef; 2] = [EVENT_IN, STEREO_OUT];

#[derive(Clone, Copy, Default)]
struct Voice {
    id: i32,
    pitch: i16,
    velocity: f64,
    volume: f64,
    tuning: f64,
    phase: f64,
    on: bool,
}

struct Instrument {
    params: Params,
    level: Cell<f64>,
    rate: Cell<f64>,
    voices: RefCell<[Voice; VOICES]>,
}

impl Class for Instrument {
    type Interfaces = (
        IComponent,
        IAudioProcessor,
        IProcessContextRequirements,
        IEditController,
        INoteExpressionController,
        IMidiMapping,
    );
}

impl Instrument {
    fn apply(&self, e: &Event) {
        let mut voices = self.voices.borrow_mut();
        match e.r#type as u32 {
            Event_::EventTypes_::kNoteOnEvent => {
                // SAFETY: the union member matches the event type.
                let n = unsafe { e.__field0.noteOn };
                if let Some(v) = voices.iter_mut().find(|v| !v.on) {
                    *v = Voice {
                        id: n.noteId,
                        pitch: n.pitch,
                        velocity: n.velocity as f64,
                        volume: 1.0,
                        tuning: 0.5,
                        phase: 0.0,
                        on: true,
                    };
                }
            }
            Event_::EventTypes_::kNoteOffEvent => {
                // SAFETY: the union member matches the event type.
                let n = unsafe { e.__field0.noteOff };
                for v in voices.iter_mut().filter(|v| v.on) {
                    if (n.noteId != -1 && v.id == n.noteId)
                        || (n.noteId == -1 && v.pitch == n.pitch)
                    {
                        v.on = false;
                    }
                }
            }
            Event_::EventTypes_::kNoteExpressionValueEvent => {
                // SAFETY: the union member matches the event type.
                let x = unsafe { e.__field0.noteExpressionValue };
                for v in voices.iter_mut().filter(|v| v.on && v.id == x.noteId) {
                    match x.typeId {
                        NoteExpressionTypeIDs_::kVolumeTypeID => v.volume = x.value,
                        NoteExpressionTypeIDs_::kTuningTypeID => v.tuning = x.value,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

impl Plugin for Instrument {
    fn buses(&self) -> &'static [BusDef] {
        &BUSES
    }
    fn set_active(&self, _active: bool) {
        *self.voices.borrow_mut() = [Voice::default(); VOICES];
    }
    fn setup(&self, setup: &ProcessSetup) {
        self.rate.set(setup.sampleRate);
    }
    fn component_state(&self) -> Vec<u8> {
        let mut v = b"BHI1".to_vec();
        v.extend_from_slice(&self.level.get().to_le_bytes());
        v
    }
    fn set_component_state(&self, bytes: &[u8]) -> tresult {
        match bytes.strip_prefix(b"BHI1").and_then(|r| r.try_into().ok()) {
            Some(b) => {
                self.level.set(f64::from_le_bytes(b));
                self.params.set(LEVEL, self.level.get());
                kResultOk
            }
            None => kResultFalse,
        }
    }
    fn process(&self, call: &mut ProcessCall) -> tresult {
        // Events and level changes are applied at their exact frames; both lists are ordered.
        let mut events: [Option<Event>; 128] = [None; 128];
        let mut n_events = 0;
        call.for_each_event(|e| {
            if n_events < events.len() {
                events[n_events] = Some(*e);
                n_events += 1;
            }
        });
        let mut points = [(0i32, 0f64); 64];
        let mut n_points = 0;
        call.for_each_param_point(|id, o, v| {
            if id == LEVEL && n_points < points.len() {
                points[n_points] = (o, v);
                n_points += 1;
            }
        });
        let (mut ei, mut pi) = (0, 0);
        let rate = self.rate.get().max(1.0);
        for i in 0..call.samples() {
            while ei < n_events && events[ei].is_some_and(|e| e.sampleOffset as usize <= i) {
                if let Some(e) = &events[ei] {
                    self.apply(e);
                }
                ei += 1;
            }
            while pi < n_points && points[pi].0 as usize <= i {
                self.level.set(points[pi].1);
                pi += 1;
            }
            let mut sum = 0.0;
            for v in self.voices.borrow_mut().iter_mut().filter(|v| v.on) {
                let semis = v.pitch as f64 - 69.0 + (v.tuning * 2.0 - 1.0);
                let freq = 440.0 * (semis / 12.0).exp2();
                sum += (v.phase * std::f64::consts::TAU).sin() * v.velocity * v.volume;
                v.phase = (v.phase + freq / rate).fract();
            }
            let y = sum * self.level.get() * 0.25;
            for ch in 0..call.output_channels(0) {
                call.set_output(0, ch, i, y);
            }
        }
        for e in events[ei..n_events].iter().flatten() {
            self.apply(e);
        }
        if pi < n_points {
            self.level.set(points[n_points - 1].1);
        }
        call.clear_silence_flags();
        kResultOk
    }
    fn params(&self) -> Option<&Params> {
        Some(&self.params)
    }
    fn controller_sync(&self, state: &[u8]) -> tresult {
        match state.strip_prefix(b"BHI1").and_then(|r| r.try_into().ok()) {
            Some(b) => {
                self.params.set(LEVEL, f64::from_le_bytes(b));
                kResultOk
            }
            None => kResultFalse,
        }
    }
    fn controller_state(&self) -> Vec<u8> {
        b"BHIC".to_vec()
    }
    fn set_controller_state(&self, bytes: &[u8]) -> tresult {
        if bytes == b"BHIC" {
            kResultOk
        } else {
            kResultFalse
        }
    }
    fn param_set(&self, id: ParamID, value: f64) {
        // Single component: the controller's value is the processor's too (outside processing).
        if id == LEVEL {
            self.level.set(value);
        }
    }
}

impl INoteExpressionControllerTrait for Instrument {
    unsafe fn getNoteExpressionCount(&self, bus: int32, _channel: int16) -> int32 {
        guard(0, || if bus == 0 { 2 } else { 0 })
    }
    unsafe fn getNoteExpressionInfo(
        &self,
        bus: int32,
        _channel: int16,
        index: int32,
        info: *mut NoteExpressionTypeInfo,
    ) -> tresult {
        guard(kInternalError, || {
            // SAFETY: null or the caller's out-parameter.
            let Some(info) = (unsafe { info.as_mut() }) else {
                return kInvalidArgument;
            };
            let (id, title, default) = match (bus, index) {
                (0, 0) => (NoteExpressionTypeIDs_::kVolumeTypeID, "Volume", 1.0),
                (0, 1) => (NoteExpressionTypeIDs_::kTuningTypeID, "Tuning", 0.5),
                _ => return kInvalidArgument,
            };
            info.typeId = id;
            copy_wstring(title, &mut info.title);
            copy_wstring(title, &mut info.shortTitle);
            copy_wstring("", &mut info.units);
            info.unitId = -1;
            info.valueDesc = NoteExpressionValueDescription {
                defaultValue: default,
                minimum: 0.0,
                maximum: 1.0,
                stepCount: 0,
            };
            info.associatedParameterId = u32::MAX;
            info.flags = 0;
            kResultOk
        })
    }
    unsafe fn getNoteExpressionStringByValue(
        &self,
        _bus: int32,
        _channel: int16,
        _id: NoteExpressionTypeID,
        value: NoteExpressionValue,
        string: *mut String128,
    ) -> tresult {
        guard(kInternalError, || {
            // SAFETY: null or the caller's out-parameter.
            match unsafe { string.as_mut() } {
                Some(s) => {
                    copy_wstring(&format!("{value:.3}"), s);
                    kResultOk
                }
                None => kInvalidArgument,
            }
        })
    }
    unsafe fn getNoteExpressionValueByString(
        &self,
        _bus: int32,
        _channel: int16,
        _id: NoteExpressionTypeID,
        _string: *const TChar,
        _value: *mut NoteExpressionValue,
    ) -> tresult {
        guard(kInternalError, || kNotImplemented)
    }
}

/// No MIDI controller drives a parameter. Answering "none" matters: JUCE's VST3 host (as in
/// pedalboard and DawDreamer) keeps a CC → parameter table that it fills only from
/// `IMidiMapping`; without the interface every entry stays 0, so each CC the host passes on
/// (pedalboard's warm-up ends with an all-notes-off, CC 123 = 0) becomes a change of
/// parameter 0 — here Level — to the CC's value, and the instrument falls silent.
impl IMidiMappingTrait for Instrument {
    unsafe fn getMidiControllerAssignment(
        &self,
        _bus: int32,
        _channel: int16,
        _cc: CtrlNumber,
        _id: *mut ParamID,
    ) -> tresult {
        guard(kInternalError, || kResultFalse)
    }
}

impl_plugin_base!(Instrument);
impl_component!(Instrument);
impl_processor!(Instrument);
impl_controller!(Instrument);

static CLASSES: [ClassDef; 1] = [ClassDef {
    cid: CID,
    category: "Audio Module Class",
    name: "Bulkhead VST3 Instrument",
    sub_categories: "Instrument|Synth",
    create: || {
        create(Instrument {
            params: Params::new(&PARAMS),
            level: Cell::new(0.5),
            rate: Cell::new(48_000.0),
            voices: RefCell::new([Voice::default(); VOICES]),
        })
    },
}];

export_vst3!(&CLASSES);
