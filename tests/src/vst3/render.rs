//! Deterministic renders through a [`Vst3Plugin`]: a fixed noise input, parameter changes and
//! notes at exact frames, any block-size sequence, 32- or 64-bit samples.

use bulkhead_vst3_support::vst3::Steinberg::Vst::*;
use bulkhead_vst3_support::vst3::Steinberg::*;
use bulkhead_vst3_support::{EventList, ParameterChanges, Vst3Error};

use super::plugin::Vst3Plugin;

/// A note event for [`Vst3RenderSpec::notes`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Note3 {
    /// Note on.
    On {
        /// MIDI pitch.
        pitch: i16,
        /// 0..1.
        velocity: f32,
        /// Note id.
        id: i32,
    },
    /// Note off.
    Off {
        /// MIDI pitch.
        pitch: i16,
        /// Note id.
        id: i32,
    },
    /// Note expression value.
    Expression {
        /// Note id.
        id: i32,
        /// `NoteExpressionTypeIDs`.
        type_id: u32,
        /// Normalized value.
        value: f64,
    },
}

/// What to render.
#[derive(Debug, Clone)]
pub struct Vst3RenderSpec {
    /// Total frames.
    pub frames: usize,
    /// Block sizes, cycled.
    pub block_sizes: Vec<usize>,
    /// Sample rate.
    pub sample_rate: f64,
    /// 64-bit samples?
    pub f64_samples: bool,
    /// Noise seed for every input channel (amplitude 0.5).
    pub seed: u64,
    /// `(frame, id, normalized value)`, sorted by frame.
    pub params: Vec<(usize, u32, f64)>,
    /// `(frame, note)`, sorted by frame.
    pub notes: Vec<(usize, Note3)>,
}

impl Default for Vst3RenderSpec {
    fn default() -> Self {
        Vst3RenderSpec {
            frames: 8192,
            block_sizes: vec![64, 1, 333, 4096, 7],
            sample_rate: 48_000.0,
            f64_samples: false,
            seed: 1,
            params: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// What a render produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Vst3Render {
    /// Output audio per bus, per channel (f32 renders are widened exactly).
    pub audio: Vec<Vec<Vec<f64>>>,
    /// Output parameter changes `(frame, id, value)`.
    pub out_params: Vec<(usize, u32, f64)>,
    /// Output event count.
    pub out_events: usize,
}

impl Vst3Render {
    /// True when every sample of every channel is bit-identical.
    pub fn bit_equal(&self, other: &Vst3Render) -> bool {
        self.audio.len() == other.audio.len()
            && self.audio.iter().zip(&other.audio).all(|(a, b)| {
                a.len() == b.len()
                    && a.iter().zip(b).all(|(x, y)| {
                        x.len() == y.len()
                            && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
                    })
            })
            && self.out_params == other.out_params
            && self.out_events == other.out_events
    }
}

/// The input noise: xorshift64*, amplitude 0.5, distinct per channel.
pub fn noise(seed: u64, channel: usize, frame: usize) -> f64 {
    let mut x = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add((channel as u64) << 40)
        .wrapping_add(frame as u64)
        | 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
    ((r >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 1.0
}

fn note_event(frame_offset: i32, note: &Note3) -> Event {
    // SAFETY: plain data; all-zero is valid.
    let mut e: Event = unsafe { std::mem::zeroed() };
    e.busIndex = 0;
    e.sampleOffset = frame_offset;
    match *note {
        Note3::On {
            pitch,
            velocity,
            id,
        } => {
            e.r#type = Event_::EventTypes_::kNoteOnEvent as u16;
            e.__field0.noteOn = NoteOnEvent {
                channel: 0,
                pitch,
                tuning: 0.0,
                velocity,
                length: 0,
                noteId: id,
            };
        }
        Note3::Off { pitch, id } => {
            e.r#type = Event_::EventTypes_::kNoteOffEvent as u16;
            e.__field0.noteOff = NoteOffEvent {
                channel: 0,
                pitch,
                velocity: 0.0,
                noteId: id,
                tuning: 0.0,
            };
        }
        Note3::Expression { id, type_id, value } => {
            e.r#type = Event_::EventTypes_::kNoteExpressionValueEvent as u16;
            e.__field0.noteExpressionValue = NoteExpressionValueEvent {
                typeId: type_id,
                noteId: id,
                value,
            };
        }
    }
    e
}

enum Buffers {
    F32(Vec<Vec<Vec<f32>>>),
    F64(Vec<Vec<Vec<f64>>>),
}

/// Activates `plugin` with `spec`'s setup, renders, and deactivates it.
///
/// # Errors
///
/// Setup/activation refusals, or a `process` call answering anything but `kResultOk`.
pub fn render3(plugin: &mut Vst3Plugin, spec: &Vst3RenderSpec) -> Result<Vst3Render, Vst3Error> {
    let max_block = spec.block_sizes.iter().copied().max().unwrap_or(1).max(1);
    plugin.activate(spec.sample_rate, max_block as i32, spec.f64_samples)?;
    let ins = plugin.audio_buses(false);
    let outs = plugin.audio_buses(true);
    let alloc = |buses: &[i32]| -> Buffers {
        if spec.f64_samples {
            Buffers::F64(
                buses
                    .iter()
                    .map(|&c| vec![vec![0.0; max_block]; c as usize])
                    .collect(),
            )
        } else {
            Buffers::F32(
                buses
                    .iter()
                    .map(|&c| vec![vec![0.0; max_block]; c as usize])
                    .collect(),
            )
        }
    };
    let mut in_bufs = alloc(&ins);
    let mut out_bufs = alloc(&outs);
    let in_events = EventList::new(1024);
    let out_events = EventList::new(1024);
    let in_params = ParameterChanges::new(64, 1024);
    let out_params = ParameterChanges::new(64, 1024);
    let mut result = Vst3Render {
        audio: outs
            .iter()
            .map(|&c| vec![Vec::with_capacity(spec.frames); c as usize])
            .collect(),
        out_params: Vec::new(),
        out_events: 0,
    };
    let mut pos = 0usize;
    let mut block_index = 0usize;
    let (mut next_param, mut next_note) = (0usize, 0usize);
    while pos < spec.frames {
        let n = spec.block_sizes[block_index % spec.block_sizes.len()]
            .min(spec.frames - pos)
            .max(1);
        block_index += 1;
        in_events.clear();
        out_events.clear();
        in_params.clear();
        out_params.clear();
        while next_param < spec.params.len() && spec.params[next_param].0 < pos + n {
            let (f, id, v) = spec.params[next_param];
            in_params.add(id, f.saturating_sub(pos) as i32, v);
            next_param += 1;
        }
        while next_note < spec.notes.len() && spec.notes[next_note].0 < pos + n {
            let (f, note) = spec.notes[next_note];
            in_events.push(note_event(f.saturating_sub(pos) as i32, &note));
            next_note += 1;
        }
        // Inputs: noise per channel, numbered across buses.
        let mut ch_global = 0;
        match &mut in_bufs {
            Buffers::F32(b) => {
                for bus in b.iter_mut() {
                    for ch in bus.iter_mut() {
                        for (i, s) in ch[..n].iter_mut().enumerate() {
                            *s = noise(spec.seed, ch_global, pos + i) as f32;
                        }
                        ch_global += 1;
                    }
                }
            }
            Buffers::F64(b) => {
                for bus in b.iter_mut() {
                    for ch in bus.iter_mut() {
                        for (i, s) in ch[..n].iter_mut().enumerate() {
                            *s = noise(spec.seed, ch_global, pos + i);
                        }
                        ch_global += 1;
                    }
                }
            }
        }
        // Channel pointer arrays and bus structs, rebuilt per block (the test host may allocate).
        let mut in_ptrs: Vec<Vec<*mut std::ffi::c_void>> = Vec::new();
        let mut out_ptrs: Vec<Vec<*mut std::ffi::c_void>> = Vec::new();
        for (bufs, ptrs) in [(&mut in_bufs, &mut in_ptrs), (&mut out_bufs, &mut out_ptrs)] {
            match bufs {
                Buffers::F32(b) => {
                    for bus in b.iter_mut() {
                        ptrs.push(bus.iter_mut().map(|c| c.as_mut_ptr().cast()).collect());
                    }
                }
                Buffers::F64(b) => {
                    for bus in b.iter_mut() {
                        ptrs.push(bus.iter_mut().map(|c| c.as_mut_ptr().cast()).collect());
                    }
                }
            }
        }
        let make_bus = |p: &mut Vec<*mut std::ffi::c_void>| AudioBusBuffers {
            numChannels: p.len() as i32,
            silenceFlags: 0,
            __field0: AudioBusBuffers__type0 {
                channelBuffers32: p.as_mut_ptr().cast(),
            },
        };
        let mut in_buses: Vec<AudioBusBuffers> = in_ptrs.iter_mut().map(make_bus).collect();
        let mut out_buses: Vec<AudioBusBuffers> = out_ptrs.iter_mut().map(make_bus).collect();
        let mut data = ProcessData {
            processMode: ProcessModes_::kOffline as i32,
            symbolicSampleSize: if spec.f64_samples {
                SymbolicSampleSizes_::kSample64
            } else {
                SymbolicSampleSizes_::kSample32
            } as i32,
            numSamples: n as i32,
            numInputs: in_buses.len() as i32,
            numOutputs: out_buses.len() as i32,
            inputs: in_buses.as_mut_ptr(),
            outputs: out_buses.as_mut_ptr(),
            inputParameterChanges: ParameterChanges::as_raw(&in_params),
            outputParameterChanges: ParameterChanges::as_raw(&out_params),
            inputEvents: EventList::as_raw(&in_events),
            outputEvents: EventList::as_raw(&out_events),
            processContext: std::ptr::null_mut(),
        };
        // SAFETY: every pointer in `data` refers to buffers and lists alive for the call, sized
        // for `n <= max_block` frames.
        let r = unsafe { plugin.processor.process(&mut data) };
        if r != kResultOk {
            plugin.deactivate();
            return Err(Vst3Error::Call {
                call: "IAudioProcessor::process",
                result: r,
            });
        }
        match &out_bufs {
            Buffers::F32(b) => {
                for (bus, out) in b.iter().zip(result.audio.iter_mut()) {
                    for (ch, o) in bus.iter().zip(out.iter_mut()) {
                        o.extend(ch[..n].iter().map(|&s| s as f64));
                    }
                }
            }
            Buffers::F64(b) => {
                for (bus, out) in b.iter().zip(result.audio.iter_mut()) {
                    for (ch, o) in bus.iter().zip(out.iter_mut()) {
                        o.extend_from_slice(&ch[..n]);
                    }
                }
            }
        }
        for (id, points) in out_params.changes() {
            for (offset, v) in points {
                result
                    .out_params
                    .push((pos + offset.max(0) as usize, id, v));
            }
        }
        result.out_events += out_events.len();
        pos += n;
    }
    plugin.deactivate();
    Ok(result)
}
