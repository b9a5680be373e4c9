//! The decoders a bridge runs on bytes from a host process, as entry points
//! that must return (never panic, never misbehave) whatever the input.
//! Shared by the cargo-fuzz targets (`fuzz/`) and the bounded property test
//! (`common/tests/decoder_property.rs`), so both exercise the same code.
//! [`event_seeds`] makes the seed corpus of the `decode_events` target
//! (`common/tests/event_seeds.rs` checks it and runs it through
//! [`decode_events`]).

use crate::framing;
use crate::protocol::wire::Message;
use crate::shm::events::{pack_to_vec, PackedEvents};
use crate::shm::layout::EVENT_AREA_LEN;
use crate::shm::{AudioLayout, ShmLayout};
use clap_sys::events::*;
use clap_sys::fixedpoint::{CLAP_BEATTIME_FACTOR, CLAP_SECTIME_FACTOR};
use std::io::Write;
use std::mem::size_of;
use std::os::unix::net::UnixStream;

/// One frame payload, decoded as the bridge's reader thread does.
pub fn decode_message(data: &[u8]) -> bool {
    crate::codec::decode::<Message>(data).is_ok()
}

/// A byte stream from a host, framed and decoded until it ends or fails.
/// Returns how many messages decoded.
pub fn decode_stream(data: &[u8]) -> usize {
    let Ok((mut w, r)) = UnixStream::pair() else {
        return 0;
    };
    // Small inputs fit the socket buffer; write, then close our end.
    let _ = w.write_all(&data[..data.len().min(64 * 1024)]);
    drop(w);
    let mut buf = Vec::new();
    let mut n = 0;
    while let Ok(_fds) = framing::read_frame(&r, &mut buf, framing::Patience::Forever) {
        if crate::codec::decode::<Message>(&buf).is_err() {
            break;
        }
        n += 1;
    }
    n
}

/// An output-event area written by a host, validated and read back.
pub fn decode_events(data: &[u8]) -> usize {
    let mut events = PackedEvents::with_capacity(EVENT_AREA_LEN);
    if events
        .load(&data[..data.len().min(EVENT_AREA_LEN)])
        .is_err()
    {
        return 0;
    }
    let mut touched = 0usize;
    for i in 0..events.len() {
        if let Some(e) = events.get(i) {
            // SAFETY: `get` returns validated events inside private storage,
            // each at least as large as its header says and its type needs.
            let h = unsafe { &*e };
            // SAFETY: as above; `size` bytes are readable.
            let bytes = unsafe { std::slice::from_raw_parts(e.cast::<u8>(), h.size as usize) };
            touched += bytes.iter().map(|&b| usize::from(b)).sum::<usize>() & 1;
            if h.type_ == clap_sys::events::CLAP_EVENT_MIDI_SYSEX {
                // SAFETY: validated sysex: its buffer points at `size` bytes
                // inside the record.
                let s = unsafe { &*e.cast::<clap_sys::events::clap_event_midi_sysex>() };
                if !s.buffer.is_null() {
                    // SAFETY: as above.
                    let data = unsafe { std::slice::from_raw_parts(s.buffer, s.size as usize) };
                    touched += data.len() & 1;
                }
            }
        }
    }
    touched + events.len()
}

/// An activation layout as a host would have to accept it.
pub fn decode_layout(data: &[u8]) -> bool {
    crate::codec::decode::<AudioLayout>(data)
        .ok()
        .is_some_and(|l| ShmLayout::compute(&l).is_ok())
}

/// One seed for the `decode_events` target: a valid event area, as a host
/// writes it, and what each of its events must decode to (see
/// [`decode_events_canonical`]).
pub struct EventSeed {
    /// Names the file `seed-<name>` under `fuzz/corpus/decode_events/`.
    pub name: &'static str,
    pub area: Vec<u8>,
    pub events: Vec<Vec<u8>>,
}

/// An event's bytes as `size` says, with a sysex event's buffer pointer
/// zeroed and its data appended: comparable across processes and copies.
///
/// # Safety
/// `e` must point to a valid event of `size` readable bytes; a sysex event's
/// buffer (when not null) to `size` readable bytes.
unsafe fn canonical(e: *const clap_event_header) -> Vec<u8> {
    // SAFETY: the caller guarantees a valid header.
    let h = unsafe { &*e };
    // SAFETY: the caller guarantees `size` readable bytes.
    let mut bytes = unsafe { std::slice::from_raw_parts(e.cast::<u8>(), h.size as usize) }.to_vec();
    if h.type_ == CLAP_EVENT_MIDI_SYSEX && h.size as usize >= size_of::<clap_event_midi_sysex>() {
        // SAFETY: a sysex event at least as large as its struct.
        let s = unsafe { &*e.cast::<clap_event_midi_sysex>() };
        let at = std::mem::offset_of!(clap_event_midi_sysex, buffer);
        bytes[at..at + size_of::<*const u8>()].fill(0);
        if !s.buffer.is_null() {
            // SAFETY: the caller guarantees the buffer's `size` bytes.
            bytes.extend_from_slice(unsafe {
                std::slice::from_raw_parts(s.buffer, s.size as usize)
            });
        }
    }
    bytes
}

/// The events of an area in the form [`EventSeed::events`] holds, or
/// `None` when the area is rejected.
pub fn decode_events_canonical(data: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut events = PackedEvents::with_capacity(EVENT_AREA_LEN);
    events
        .load(data.get(..data.len().min(EVENT_AREA_LEN))?)
        .ok()?;
    (0..events.len())
        .map(|i| {
            // SAFETY: `get` returns validated events in private storage,
            // sysex buffers pointing inside their records.
            events.get(i).map(|e| unsafe { canonical(e) })
        })
        .collect()
}

/// Events under construction, each in zeroed storage of its own (so that
/// padding bytes are zero and seeds are the same on every run).
#[derive(Default)]
struct SeedBuilder {
    events: Vec<Vec<u64>>,
    sysex: Vec<Vec<u8>>,
}

fn header<T>(type_: u16, time: u32) -> clap_event_header {
    clap_event_header {
        size: size_of::<T>() as u32,
        time,
        space_id: CLAP_CORE_EVENT_SPACE_ID,
        type_,
        flags: 0,
    }
}

impl SeedBuilder {
    /// Adds an event of type `T` (a `#[repr(C)]` clap event of integers,
    /// floats and raw pointers, all valid when zero), `extra` bytes larger
    /// than its struct (filled with a pattern), set up by `fill`.
    fn push<T>(&mut self, extra: usize, fill: impl FnOnce(&mut T)) -> &mut Self {
        let len = size_of::<T>() + extra;
        let mut storage = vec![0u64; len.div_ceil(8)];
        // SAFETY: the storage is zeroed, 8-byte aligned and at least
        // `size_of::<T>()` long, and all-zero bytes are a valid `T` (see the
        // doc comment).
        let event = unsafe { &mut *storage.as_mut_ptr().cast::<T>() };
        fill(event);
        // SAFETY: the storage holds `len` bytes.
        let bytes =
            unsafe { std::slice::from_raw_parts_mut(storage.as_mut_ptr().cast::<u8>(), len) };
        for (i, b) in bytes[size_of::<T>()..].iter_mut().enumerate() {
            *b = 0xa0 ^ i as u8;
        }
        // Every clap event starts with its header.
        bytes[..4].copy_from_slice(&(len as u32).to_ne_bytes());
        self.events.push(storage);
        self
    }

    fn note(&mut self, type_: u16, time: u32, key: i16) -> &mut Self {
        self.push::<clap_event_note>(0, |e| {
            e.header = header::<clap_event_note>(type_, time);
            e.note_id = i32::from(key) * 3 - 1;
            e.port_index = 0;
            e.channel = key % 16;
            e.key = key;
            e.velocity = f64::from(key) / 127.0;
        })
    }

    fn param_value(&mut self, time: u32, param_id: u32, value: f64) -> &mut Self {
        self.push::<clap_event_param_value>(0, |e| {
            e.header = header::<clap_event_param_value>(CLAP_EVENT_PARAM_VALUE, time);
            e.param_id = param_id;
            e.note_id = -1;
            e.port_index = -1;
            e.channel = -1;
            e.key = -1;
            e.value = value;
        })
    }

    fn sysex(&mut self, time: u32, data: Vec<u8>) -> &mut Self {
        let buffer = if data.is_empty() {
            std::ptr::null()
        } else {
            data.as_ptr()
        };
        let size = data.len() as u32;
        // The heap block does not move when `sysex` grows.
        self.sysex.push(data);
        self.push::<clap_event_midi_sysex>(0, |e| {
            e.header = header::<clap_event_midi_sysex>(CLAP_EVENT_MIDI_SYSEX, time);
            e.port_index = 1;
            e.buffer = buffer;
            e.size = size;
        })
    }

    fn midi(&mut self, time: u32, data: [u8; 3]) -> &mut Self {
        self.push::<clap_event_midi>(0, |e| {
            e.header = header::<clap_event_midi>(CLAP_EVENT_MIDI, time);
            e.port_index = 0;
            e.data = data;
        })
    }

    fn transport(&mut self, time: u32, playing: bool) -> &mut Self {
        self.push::<clap_event_transport>(0, |e| {
            e.header = header::<clap_event_transport>(CLAP_EVENT_TRANSPORT, time);
            e.flags = CLAP_TRANSPORT_HAS_TEMPO
                | CLAP_TRANSPORT_HAS_BEATS_TIMELINE
                | CLAP_TRANSPORT_HAS_SECONDS_TIMELINE
                | CLAP_TRANSPORT_HAS_TIME_SIGNATURE
                | CLAP_TRANSPORT_IS_LOOP_ACTIVE
                | if playing {
                    CLAP_TRANSPORT_IS_PLAYING
                } else {
                    0
                };
            e.song_pos_beats = 4 * CLAP_BEATTIME_FACTOR;
            e.song_pos_seconds = 2 * CLAP_SECTIME_FACTOR;
            e.tempo = 120.0;
            e.tempo_inc = 0.0;
            e.loop_start_beats = 0;
            e.loop_end_beats = 16 * CLAP_BEATTIME_FACTOR;
            e.loop_start_seconds = 0;
            e.loop_end_seconds = 8 * CLAP_SECTIME_FACTOR;
            e.bar_start = 4 * CLAP_BEATTIME_FACTOR;
            e.bar_number = 1;
            e.tsig_num = 4;
            e.tsig_denom = 4;
        })
    }

    fn build(&self, name: &'static str) -> EventSeed {
        let ptrs = || {
            self.events
                .iter()
                .map(|s| s.as_ptr().cast::<clap_event_header>())
        };
        let mut area = pack_to_vec(ptrs());
        zero_sysex_pointers(&mut area);
        let events = ptrs()
            // SAFETY: each storage holds a complete event of `size` bytes
            // (see `push`); sysex buffers are owned by `self.sysex`.
            .map(|e| unsafe { canonical(e) })
            .collect();
        EventSeed { name, area, events }
    }
}

/// The writer copies a sysex event whole, its buffer pointer (an address in
/// the writing process, meaningless to the reader) too; zeroed, the seeds
/// are the same on every run.
fn zero_sysex_pointers(area: &mut [u8]) {
    let mut at = 0;
    while at + 8 + size_of::<clap_event_midi_sysex>() <= area.len() {
        let record = u32::from_ne_bytes(area[at..at + 4].try_into().unwrap_or_default()) as usize;
        let event = at + 8;
        let type_ = u16::from_ne_bytes([area[event + 10], area[event + 11]]);
        if type_ == CLAP_EVENT_MIDI_SYSEX {
            let p = event + std::mem::offset_of!(clap_event_midi_sysex, buffer);
            area[p..p + size_of::<*const u8>()].fill(0);
        }
        if record == 0 {
            break;
        }
        at += record;
    }
}

/// Valid event areas covering every event type the bridge carries, alone and
/// mixed, as seeds for `cargo fuzz run decode_events` (written to
/// `fuzz/corpus/decode_events/` by `common/tests/event_seeds.rs`).
pub fn event_seeds() -> Vec<EventSeed> {
    let mut seeds = vec![SeedBuilder::default().build("empty")];
    let mut b = SeedBuilder::default();
    b.note(CLAP_EVENT_NOTE_ON, 0, 60)
        .note(CLAP_EVENT_NOTE_OFF, 100, 60)
        .note(CLAP_EVENT_NOTE_CHOKE, 101, 62)
        .note(CLAP_EVENT_NOTE_END, 102, 64);
    seeds.push(b.build("notes"));

    let mut b = SeedBuilder::default();
    for (i, id) in [
        CLAP_NOTE_EXPRESSION_VOLUME,
        CLAP_NOTE_EXPRESSION_PAN,
        CLAP_NOTE_EXPRESSION_TUNING,
        CLAP_NOTE_EXPRESSION_VIBRATO,
        CLAP_NOTE_EXPRESSION_EXPRESSION,
        CLAP_NOTE_EXPRESSION_BRIGHTNESS,
        CLAP_NOTE_EXPRESSION_PRESSURE,
    ]
    .into_iter()
    .enumerate()
    {
        b.push::<clap_event_note_expression>(0, |e| {
            e.header =
                header::<clap_event_note_expression>(CLAP_EVENT_NOTE_EXPRESSION, i as u32 * 8);
            e.expression_id = id;
            e.note_id = 7;
            e.port_index = 0;
            e.channel = 1;
            e.key = 61;
            e.value = 0.25 * i as f64;
        });
    }
    seeds.push(b.build("note_expressions"));

    let mut b = SeedBuilder::default();
    b.param_value(0, 0, 1.5)
        .param_value(10, 1, 6.0)
        .param_value(20, 0xffff_fffe, -0.0);
    seeds.push(b.build("param_values"));

    let mut b = SeedBuilder::default();
    b.push::<clap_event_param_gesture>(0, |e| {
        e.header = header::<clap_event_param_gesture>(CLAP_EVENT_PARAM_GESTURE_BEGIN, 0);
        e.param_id = 3;
    })
    .push::<clap_event_param_mod>(0, |e| {
        e.header = header::<clap_event_param_mod>(CLAP_EVENT_PARAM_MOD, 5);
        e.param_id = 3;
        e.note_id = 9;
        e.port_index = 0;
        e.channel = 0;
        e.key = 48;
        e.amount = -0.5;
    })
    .param_value(6, 3, 0.75)
    .push::<clap_event_param_gesture>(0, |e| {
        e.header = header::<clap_event_param_gesture>(CLAP_EVENT_PARAM_GESTURE_END, 7);
        e.param_id = 3;
    });
    seeds.push(b.build("param_gesture_mod"));

    let mut b = SeedBuilder::default();
    b.transport(0, true).transport(256, false);
    seeds.push(b.build("transport"));

    let mut b = SeedBuilder::default();
    b.midi(0, [0x90, 60, 100])
        .midi(1, [0xb0, 7, 127])
        .midi(2, [0xe0, 0, 64])
        .midi(3, [0x80, 60, 0]);
    seeds.push(b.build("midi"));

    let mut b = SeedBuilder::default();
    b.sysex(0, vec![0xf0, 0x7e, 0x7f, 0x06, 0x01, 0xf7])
        .sysex(1, Vec::new())
        .sysex(2, (0..300u32).map(|i| (i % 128) as u8).collect());
    seeds.push(b.build("sysex"));

    let mut b = SeedBuilder::default();
    b.push::<clap_event_midi2>(0, |e| {
        e.header = header::<clap_event_midi2>(CLAP_EVENT_MIDI2, 4);
        e.port_index = 2;
        e.data = [0x4090_3c00, 0x8000_0000, 0, 0];
    });
    seeds.push(b.build("midi2"));

    // Events larger than their struct, as a newer plugin may write them.
    let mut b = SeedBuilder::default();
    b.push::<clap_event_note>(12, |e| {
        e.header = header::<clap_event_note>(CLAP_EVENT_NOTE_ON, 0);
        e.key = 70;
        e.velocity = 1.0;
    })
    .push::<clap_event_midi>(1, |e| {
        e.header = header::<clap_event_midi>(CLAP_EVENT_MIDI, 1);
        e.data = [0x91, 70, 1];
    });
    seeds.push(b.build("oversized"));

    // One block of everything, in time order.
    let mut b = SeedBuilder::default();
    b.transport(0, true)
        .param_value(0, 0, 0.5)
        .note(CLAP_EVENT_NOTE_ON, 1, 60)
        .midi(2, [0x90, 64, 90])
        .sysex(3, vec![0xf0, 1, 2, 3, 0xf7])
        .note(CLAP_EVENT_NOTE_OFF, 200, 60)
        .midi(201, [0x80, 64, 0]);
    seeds.push(b.build("mixed_block"));

    let mut b = SeedBuilder::default();
    for i in 0..256u32 {
        let kind = if i % 2 == 0 {
            CLAP_EVENT_NOTE_ON
        } else {
            CLAP_EVENT_NOTE_OFF
        };
        b.note(kind, i, (i / 2 % 128) as i16);
    }
    seeds.push(b.build("many_notes"));
    seeds
}
