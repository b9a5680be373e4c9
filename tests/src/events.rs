//! Owned CLAP events.
//!
//! [`Event`] stores any CLAP event as raw bytes (exactly `header.size` bytes, 8-byte aligned), so
//! events of unknown types or from other event spaces survive untouched. Helper constructors build
//! the core event types, [`Event::data`] decodes them, and [`Event::canonical_bytes`] produces a
//! padding-free, pointer-free byte form meant for comparing events bit for bit (e.g. between a
//! plugin loaded directly and the same plugin loaded through the bridge).

use crate::error::{Result, TestHostError};
use clap_sys::events::*;
use std::ffi::c_void;
use std::fmt;
use std::mem::size_of;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

/// Size of `clap_event_header`.
pub const HEADER_SIZE: usize = size_of::<clap_event_header>();

/// Largest event (in bytes) accepted from a plugin; bigger `header.size` values are rejected.
pub const MAX_EVENT_SIZE: usize = 1 << 20;

/// Largest sysex payload accepted from a plugin.
pub const MAX_SYSEX_SIZE: usize = 16 << 20;

/// Input events passed to `process`/`flush` (same representation as output events).
pub type InEvent = Event;
/// Events produced by the plugin.
pub type OutEvent = Event;

/// An owned CLAP event of any type.
///
/// Invariant: `storage` holds `len >= HEADER_SIZE` initialised bytes (rest zero), starting with a
/// `clap_event_header` whose `size == len`. For core sysex events, `sysex` holds the payload and
/// the `buffer`/`size` fields of the stored struct always point at it.
pub struct Event {
    storage: Box<[u64]>,
    len: usize,
    sysex: Option<Box<[u8]>>,
}

/// Which note event a [`EventData::Note`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoteKind {
    /// `CLAP_EVENT_NOTE_ON`
    On,
    /// `CLAP_EVENT_NOTE_OFF`
    Off,
    /// `CLAP_EVENT_NOTE_CHOKE`
    Choke,
    /// `CLAP_EVENT_NOTE_END`
    End,
}

impl NoteKind {
    fn type_id(self) -> u16 {
        match self {
            NoteKind::On => CLAP_EVENT_NOTE_ON,
            NoteKind::Off => CLAP_EVENT_NOTE_OFF,
            NoteKind::Choke => CLAP_EVENT_NOTE_CHOKE,
            NoteKind::End => CLAP_EVENT_NOTE_END,
        }
    }
}

/// The note(s) an event targets. `-1` is the CLAP wildcard for every field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NoteTarget {
    /// Note port index, or -1.
    pub port_index: i16,
    /// MIDI-like channel 0..16, or -1.
    pub channel: i16,
    /// Key 0..128, or -1.
    pub key: i16,
    /// Host-assigned note id, or -1.
    pub note_id: i32,
}

impl NoteTarget {
    /// Matches everything (all fields -1).
    pub const ALL: NoteTarget = NoteTarget {
        port_index: -1,
        channel: -1,
        key: -1,
        note_id: -1,
    };

    /// Builds a target from its four fields.
    pub const fn new(port_index: i16, channel: i16, key: i16, note_id: i32) -> Self {
        Self {
            port_index,
            channel,
            key,
            note_id,
        }
    }
}

/// Transport information (mirrors `clap_event_transport`, fixed-point fields kept raw).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Transport {
    /// `CLAP_TRANSPORT_*` flags.
    pub flags: u32,
    /// Song position in beats, `CLAP_BEATTIME_FACTOR` fixed point.
    pub song_pos_beats: i64,
    /// Song position in seconds, `CLAP_SECTIME_FACTOR` fixed point.
    pub song_pos_seconds: i64,
    /// Tempo in BPM.
    pub tempo: f64,
    /// Tempo increment per sample.
    pub tempo_inc: f64,
    /// Loop start (beats, fixed point).
    pub loop_start_beats: i64,
    /// Loop end (beats, fixed point).
    pub loop_end_beats: i64,
    /// Loop start (seconds, fixed point).
    pub loop_start_seconds: i64,
    /// Loop end (seconds, fixed point).
    pub loop_end_seconds: i64,
    /// Start of the current bar (beats, fixed point).
    pub bar_start: i64,
    /// Bar number.
    pub bar_number: i32,
    /// Time signature numerator.
    pub tsig_num: u16,
    /// Time signature denominator.
    pub tsig_denom: u16,
}

impl Transport {
    /// Builds a "playing" transport at `frame` for a constant tempo and time signature.
    pub fn playing_at(
        frame: u64,
        sample_rate: f64,
        tempo: f64,
        tsig_num: u16,
        tsig_denom: u16,
    ) -> Self {
        let seconds = frame as f64 / sample_rate;
        let beats = seconds * tempo / 60.0;
        let beats_per_bar = f64::from(tsig_num) * 4.0 / f64::from(tsig_denom.max(1));
        let bar_number = (beats / beats_per_bar).floor();
        let fixed = |v: f64| (v * clap_sys::fixedpoint::CLAP_BEATTIME_FACTOR as f64).round() as i64;
        Self {
            flags: CLAP_TRANSPORT_HAS_TEMPO
                | CLAP_TRANSPORT_HAS_BEATS_TIMELINE
                | CLAP_TRANSPORT_HAS_SECONDS_TIMELINE
                | CLAP_TRANSPORT_HAS_TIME_SIGNATURE
                | CLAP_TRANSPORT_IS_PLAYING,
            song_pos_beats: fixed(beats),
            song_pos_seconds: (seconds * clap_sys::fixedpoint::CLAP_SECTIME_FACTOR as f64).round()
                as i64,
            tempo,
            tempo_inc: 0.0,
            bar_start: fixed(bar_number * beats_per_bar),
            bar_number: bar_number as i32,
            tsig_num,
            tsig_denom,
            ..Self::default()
        }
    }

    fn write_to(&self, t: &mut clap_event_transport) {
        t.flags = self.flags;
        t.song_pos_beats = self.song_pos_beats;
        t.song_pos_seconds = self.song_pos_seconds;
        t.tempo = self.tempo;
        t.tempo_inc = self.tempo_inc;
        t.loop_start_beats = self.loop_start_beats;
        t.loop_end_beats = self.loop_end_beats;
        t.loop_start_seconds = self.loop_start_seconds;
        t.loop_end_seconds = self.loop_end_seconds;
        t.bar_start = self.bar_start;
        t.bar_number = self.bar_number;
        t.tsig_num = self.tsig_num;
        t.tsig_denom = self.tsig_denom;
    }

    fn from_raw(t: &clap_event_transport) -> Self {
        Self {
            flags: t.flags,
            song_pos_beats: t.song_pos_beats,
            song_pos_seconds: t.song_pos_seconds,
            tempo: t.tempo,
            tempo_inc: t.tempo_inc,
            loop_start_beats: t.loop_start_beats,
            loop_end_beats: t.loop_end_beats,
            loop_start_seconds: t.loop_start_seconds,
            loop_end_seconds: t.loop_end_seconds,
            bar_start: t.bar_start,
            bar_number: t.bar_number,
            tsig_num: t.tsig_num,
            tsig_denom: t.tsig_denom,
        }
    }

    /// The raw `clap_event_transport` (time 0) for `clap_process.transport`.
    pub fn to_raw(&self) -> clap_event_transport {
        let mut raw = clap_event_transport {
            header: header_for::<clap_event_transport>(CLAP_EVENT_TRANSPORT),
            flags: 0,
            song_pos_beats: 0,
            song_pos_seconds: 0,
            tempo: 0.0,
            tempo_inc: 0.0,
            loop_start_beats: 0,
            loop_end_beats: 0,
            loop_start_seconds: 0,
            loop_end_seconds: 0,
            bar_start: 0,
            bar_number: 0,
            tsig_num: 0,
            tsig_denom: 0,
        };
        self.write_to(&mut raw);
        raw
    }
}

/// A decoded view of an [`Event`].
#[derive(Debug, Clone, PartialEq)]
pub enum EventData<'a> {
    /// Note on/off/choke/end.
    Note {
        /// Which note event.
        kind: NoteKind,
        /// Targeted note.
        target: NoteTarget,
        /// Velocity 0..1.
        velocity: f64,
    },
    /// `CLAP_EVENT_NOTE_EXPRESSION`.
    NoteExpression {
        /// `CLAP_NOTE_EXPRESSION_*`.
        expression_id: i32,
        /// Targeted note.
        target: NoteTarget,
        /// Value.
        value: f64,
    },
    /// `CLAP_EVENT_PARAM_VALUE`.
    ParamValue {
        /// Parameter id.
        param_id: u32,
        /// Opaque cookie (a pointer value; not part of the canonical form).
        cookie: usize,
        /// Targeted note(s).
        target: NoteTarget,
        /// Plain value.
        value: f64,
    },
    /// `CLAP_EVENT_PARAM_MOD`.
    ParamMod {
        /// Parameter id.
        param_id: u32,
        /// Opaque cookie (a pointer value; not part of the canonical form).
        cookie: usize,
        /// Targeted note(s).
        target: NoteTarget,
        /// Modulation amount.
        amount: f64,
    },
    /// `CLAP_EVENT_PARAM_GESTURE_BEGIN`.
    ParamGestureBegin {
        /// Parameter id.
        param_id: u32,
    },
    /// `CLAP_EVENT_PARAM_GESTURE_END`.
    ParamGestureEnd {
        /// Parameter id.
        param_id: u32,
    },
    /// `CLAP_EVENT_TRANSPORT`.
    Transport(Transport),
    /// `CLAP_EVENT_MIDI`.
    Midi {
        /// Note port index.
        port_index: u16,
        /// The three MIDI bytes.
        data: [u8; 3],
    },
    /// `CLAP_EVENT_MIDI_SYSEX`.
    MidiSysex {
        /// Note port index.
        port_index: u16,
        /// The sysex payload.
        data: &'a [u8],
    },
    /// `CLAP_EVENT_MIDI2`.
    Midi2 {
        /// Note port index.
        port_index: u16,
        /// The UMP words.
        data: [u32; 4],
    },
    /// Non-core event space, unknown type, or a core event whose `size` is too small.
    Other {
        /// Event space id.
        space_id: u16,
        /// Event type.
        type_id: u16,
        /// Bytes following the header.
        payload: &'a [u8],
    },
}

fn header_for<T>(type_id: u16) -> clap_event_header {
    clap_event_header {
        size: size_of::<T>() as u32,
        time: 0,
        space_id: CLAP_CORE_EVENT_SPACE_ID,
        type_: type_id,
        flags: 0,
    }
}

impl Event {
    /// A zero-filled event of `len` bytes (header not written).
    fn zeroed(len: usize) -> Self {
        Self {
            storage: vec![0u64; len.div_ceil(8)].into_boxed_slice(),
            len,
            sysex: None,
        }
    }

    /// A zero-filled core event of struct type `T` with its header filled in.
    fn new_typed<T>(type_id: u16) -> Self {
        let mut ev = Self::zeroed(size_of::<T>());
        // SAFETY: storage is 8-byte aligned and at least HEADER_SIZE bytes long (every event struct
        // starts with a header), and clap_event_header has no padding.
        unsafe { ptr::write(ev.storage.as_mut_ptr().cast(), header_for::<T>(type_id)) };
        ev
    }

    /// Raw pointer to the storage as event struct `T`.
    ///
    /// Only dereference it if `self.len >= size_of::<T>()`.
    fn typed_mut<T>(&mut self) -> *mut T {
        self.storage.as_mut_ptr().cast()
    }

    /// Reads the storage as event struct `T`, if the event is large enough.
    fn read<T: Copy>(&self) -> Option<T> {
        if self.len < size_of::<T>() {
            return None;
        }
        // SAFETY: storage is 8-byte aligned (enough for every CLAP event struct), fully
        // initialised, and holds at least size_of::<T>() bytes as checked above. CLAP event
        // structs are plain data for which every bit pattern is valid.
        Some(unsafe { ptr::read(self.storage.as_ptr().cast::<T>()) })
    }

    /// Copies an event from a raw pointer (e.g. one pushed by a plugin).
    ///
    /// Copies `header.size` bytes; for core sysex events the payload is copied too.
    ///
    /// # Safety
    ///
    /// `header` must be null or point to a readable event of at least `header.size` bytes, and for
    /// sysex events `buffer` must be null or readable for `size` bytes.
    pub unsafe fn from_raw(header: *const clap_event_header) -> Result<Self> {
        if header.is_null() {
            return Err(TestHostError::InvalidEvent("null event pointer".into()));
        }
        // SAFETY: the caller guarantees the header is readable; read_unaligned tolerates any
        // alignment.
        let h = unsafe { ptr::read_unaligned(header) };
        let len = h.size as usize;
        if !(HEADER_SIZE..=MAX_EVENT_SIZE).contains(&len) {
            return Err(TestHostError::InvalidEvent(format!(
                "event size {len} out of range (type {}, space {})",
                h.type_, h.space_id
            )));
        }
        let mut ev = Self::zeroed(len);
        // SAFETY: the caller guarantees `len` bytes are readable at `header`; storage has room for
        // `len` bytes and the regions cannot overlap (storage was just allocated).
        unsafe {
            ptr::copy_nonoverlapping(
                header.cast::<u8>(),
                ev.storage.as_mut_ptr().cast::<u8>(),
                len,
            )
        };
        if ev.is_core(CLAP_EVENT_MIDI_SYSEX) {
            let raw: clap_event_midi_sysex = ev.read().ok_or_else(|| {
                TestHostError::InvalidEvent(format!("sysex event too small ({len} bytes)"))
            })?;
            let size = raw.size as usize;
            if size > MAX_SYSEX_SIZE {
                return Err(TestHostError::InvalidEvent(format!(
                    "sysex payload too large ({size} bytes)"
                )));
            }
            let data: Box<[u8]> = if raw.buffer.is_null() || size == 0 {
                Box::new([])
            } else {
                // SAFETY: the caller guarantees the sysex buffer is readable for `size` bytes.
                unsafe { std::slice::from_raw_parts(raw.buffer, size) }.into()
            };
            ev.sysex = Some(data);
            ev.patch_sysex_pointer();
        }
        Ok(ev)
    }

    /// Builds an event from raw bytes (`header.size` must equal `bytes.len()`).
    ///
    /// Sysex events cannot be built this way (their payload lives behind a pointer); use
    /// [`Event::midi_sysex`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < HEADER_SIZE || bytes.len() > MAX_EVENT_SIZE {
            return Err(TestHostError::InvalidEvent(format!(
                "event of {} bytes",
                bytes.len()
            )));
        }
        let mut ev = Self::zeroed(bytes.len());
        // SAFETY: storage has room for bytes.len() bytes and does not overlap `bytes`.
        unsafe {
            ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                ev.storage.as_mut_ptr().cast::<u8>(),
                bytes.len(),
            )
        };
        if ev.header().size as usize != bytes.len() {
            return Err(TestHostError::InvalidEvent(format!(
                "header.size {} does not match {} bytes",
                ev.header().size,
                bytes.len()
            )));
        }
        if ev.is_core(CLAP_EVENT_MIDI_SYSEX) {
            return Err(TestHostError::InvalidEvent(
                "sysex events must be built with Event::midi_sysex".into(),
            ));
        }
        Ok(ev)
    }

    fn is_core(&self, type_id: u16) -> bool {
        let h = self.header();
        h.space_id == CLAP_CORE_EVENT_SPACE_ID && h.type_ == type_id
    }

    /// Points the stored sysex struct at the owned payload.
    fn patch_sysex_pointer(&mut self) {
        let Some(data) = &self.sysex else { return };
        let (buffer, size) = if data.is_empty() {
            (ptr::null(), 0)
        } else {
            (data.as_ptr(), data.len() as u32)
        };
        if self.len >= size_of::<clap_event_midi_sysex>() {
            let p = self.typed_mut::<clap_event_midi_sysex>();
            // SAFETY: storage is aligned and large enough for a clap_event_midi_sysex (checked
            // above); we only write two plain fields.
            unsafe {
                (*p).buffer = buffer;
                (*p).size = size;
            }
        }
    }

    /// The event header.
    pub fn header(&self) -> clap_event_header {
        // SAFETY: the invariant guarantees at least HEADER_SIZE initialised, aligned bytes.
        unsafe { ptr::read(self.storage.as_ptr().cast::<clap_event_header>()) }
    }

    /// Sample offset within the block.
    pub fn time(&self) -> u32 {
        self.header().time
    }

    /// Sets the sample offset within the block.
    pub fn set_time(&mut self, time: u32) {
        let p = self.typed_mut::<clap_event_header>();
        // SAFETY: the storage always holds a header (invariant); writing one field.
        unsafe { (*p).time = time };
    }

    /// Builder form of [`Event::set_time`].
    pub fn with_time(mut self, time: u32) -> Self {
        self.set_time(time);
        self
    }

    /// Sets the header flags (`CLAP_EVENT_IS_LIVE`, `CLAP_EVENT_DONT_RECORD`).
    pub fn with_flags(mut self, flags: u32) -> Self {
        let p = self.typed_mut::<clap_event_header>();
        // SAFETY: the storage always holds a header (invariant); writing one field.
        unsafe { (*p).flags = flags };
        self
    }

    /// Event type (`CLAP_EVENT_*` for the core space).
    pub fn type_id(&self) -> u16 {
        self.header().type_
    }

    /// Event space id.
    pub fn space_id(&self) -> u16 {
        self.header().space_id
    }

    /// Header flags.
    pub fn flags(&self) -> u32 {
        self.header().flags
    }

    /// `header.size`.
    pub fn size(&self) -> u32 {
        self.len as u32
    }

    /// The raw bytes (exactly `header.size` bytes; sysex `buffer` is a pointer into this event).
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: storage holds at least `len` initialised bytes; u8 has no alignment needs.
        unsafe { std::slice::from_raw_parts(self.storage.as_ptr().cast::<u8>(), self.len) }
    }

    /// Pointer to the header, valid as long as `self` is alive and not mutated.
    pub fn as_header_ptr(&self) -> *const clap_event_header {
        self.storage.as_ptr().cast()
    }

    /// The sysex payload, for sysex events.
    pub fn sysex_data(&self) -> Option<&[u8]> {
        self.sysex.as_deref()
    }

    /// Decodes the event.
    pub fn data(&self) -> EventData<'_> {
        let h = self.header();
        let other = || EventData::Other {
            space_id: h.space_id,
            type_id: h.type_,
            payload: &self.as_bytes()[HEADER_SIZE..],
        };
        if h.space_id != CLAP_CORE_EVENT_SPACE_ID {
            return other();
        }
        let decoded = match h.type_ {
            CLAP_EVENT_NOTE_ON
            | CLAP_EVENT_NOTE_OFF
            | CLAP_EVENT_NOTE_CHOKE
            | CLAP_EVENT_NOTE_END => self.read::<clap_event_note>().map(|n| EventData::Note {
                kind: match h.type_ {
                    CLAP_EVENT_NOTE_ON => NoteKind::On,
                    CLAP_EVENT_NOTE_OFF => NoteKind::Off,
                    CLAP_EVENT_NOTE_CHOKE => NoteKind::Choke,
                    _ => NoteKind::End,
                },
                target: NoteTarget::new(n.port_index, n.channel, n.key, n.note_id),
                velocity: n.velocity,
            }),
            CLAP_EVENT_NOTE_EXPRESSION => {
                self.read::<clap_event_note_expression>()
                    .map(|n| EventData::NoteExpression {
                        expression_id: n.expression_id,
                        target: NoteTarget::new(n.port_index, n.channel, n.key, n.note_id),
                        value: n.value,
                    })
            }
            CLAP_EVENT_PARAM_VALUE => {
                self.read::<clap_event_param_value>()
                    .map(|p| EventData::ParamValue {
                        param_id: p.param_id,
                        cookie: p.cookie as usize,
                        target: NoteTarget::new(p.port_index, p.channel, p.key, p.note_id),
                        value: p.value,
                    })
            }
            CLAP_EVENT_PARAM_MOD => {
                self.read::<clap_event_param_mod>()
                    .map(|p| EventData::ParamMod {
                        param_id: p.param_id,
                        cookie: p.cookie as usize,
                        target: NoteTarget::new(p.port_index, p.channel, p.key, p.note_id),
                        amount: p.amount,
                    })
            }
            CLAP_EVENT_PARAM_GESTURE_BEGIN => {
                self.read::<clap_event_param_gesture>()
                    .map(|g| EventData::ParamGestureBegin {
                        param_id: g.param_id,
                    })
            }
            CLAP_EVENT_PARAM_GESTURE_END => {
                self.read::<clap_event_param_gesture>()
                    .map(|g| EventData::ParamGestureEnd {
                        param_id: g.param_id,
                    })
            }
            CLAP_EVENT_TRANSPORT => self
                .read::<clap_event_transport>()
                .map(|t| EventData::Transport(Transport::from_raw(&t))),
            CLAP_EVENT_MIDI => self.read::<clap_event_midi>().map(|m| EventData::Midi {
                port_index: m.port_index,
                data: m.data,
            }),
            CLAP_EVENT_MIDI_SYSEX => {
                self.read::<clap_event_midi_sysex>()
                    .map(|s| EventData::MidiSysex {
                        port_index: s.port_index,
                        data: self.sysex.as_deref().unwrap_or(&[]),
                    })
            }
            CLAP_EVENT_MIDI2 => self.read::<clap_event_midi2>().map(|m| EventData::Midi2 {
                port_index: m.port_index,
                data: m.data,
            }),
            _ => None,
        };
        decoded.unwrap_or_else(other)
    }

    /// A canonical byte form for comparisons: header (time, space, type, flags) followed by the
    /// decoded fields in little endian, without padding, cookies or pointers. Sysex events carry
    /// their payload; unknown events their raw payload bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let h = self.header();
        let mut out = Vec::with_capacity(self.len + 8);
        out.extend_from_slice(&h.time.to_le_bytes());
        out.extend_from_slice(&h.space_id.to_le_bytes());
        out.extend_from_slice(&h.type_.to_le_bytes());
        out.extend_from_slice(&h.flags.to_le_bytes());
        let target = |out: &mut Vec<u8>, t: &NoteTarget| {
            out.extend_from_slice(&t.port_index.to_le_bytes());
            out.extend_from_slice(&t.channel.to_le_bytes());
            out.extend_from_slice(&t.key.to_le_bytes());
            out.extend_from_slice(&t.note_id.to_le_bytes());
        };
        match self.data() {
            EventData::Note {
                target: t,
                velocity,
                ..
            } => {
                target(&mut out, &t);
                out.extend_from_slice(&velocity.to_bits().to_le_bytes());
            }
            EventData::NoteExpression {
                expression_id,
                target: t,
                value,
            } => {
                out.extend_from_slice(&expression_id.to_le_bytes());
                target(&mut out, &t);
                out.extend_from_slice(&value.to_bits().to_le_bytes());
            }
            EventData::ParamValue {
                param_id,
                target: t,
                value,
                ..
            } => {
                out.extend_from_slice(&param_id.to_le_bytes());
                target(&mut out, &t);
                out.extend_from_slice(&value.to_bits().to_le_bytes());
            }
            EventData::ParamMod {
                param_id,
                target: t,
                amount,
                ..
            } => {
                out.extend_from_slice(&param_id.to_le_bytes());
                target(&mut out, &t);
                out.extend_from_slice(&amount.to_bits().to_le_bytes());
            }
            EventData::ParamGestureBegin { param_id } | EventData::ParamGestureEnd { param_id } => {
                out.extend_from_slice(&param_id.to_le_bytes());
            }
            EventData::Transport(t) => {
                out.extend_from_slice(&t.flags.to_le_bytes());
                for v in [
                    t.song_pos_beats,
                    t.song_pos_seconds,
                    t.loop_start_beats,
                    t.loop_end_beats,
                    t.loop_start_seconds,
                    t.loop_end_seconds,
                    t.bar_start,
                ] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
                out.extend_from_slice(&t.tempo.to_bits().to_le_bytes());
                out.extend_from_slice(&t.tempo_inc.to_bits().to_le_bytes());
                out.extend_from_slice(&t.bar_number.to_le_bytes());
                out.extend_from_slice(&t.tsig_num.to_le_bytes());
                out.extend_from_slice(&t.tsig_denom.to_le_bytes());
            }
            EventData::Midi { port_index, data } => {
                out.extend_from_slice(&port_index.to_le_bytes());
                out.extend_from_slice(&data);
            }
            EventData::MidiSysex { port_index, data } => {
                out.extend_from_slice(&port_index.to_le_bytes());
                out.extend_from_slice(&(data.len() as u32).to_le_bytes());
                out.extend_from_slice(data);
            }
            EventData::Midi2 { port_index, data } => {
                out.extend_from_slice(&port_index.to_le_bytes());
                for w in data {
                    out.extend_from_slice(&w.to_le_bytes());
                }
            }
            EventData::Other { payload, .. } => {
                out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
                out.extend_from_slice(payload);
            }
        }
        out
    }

    /// [`canonical_bytes`](Self::canonical_bytes) without the leading `time` field (for events
    /// whose position is tracked elsewhere, e.g. [`TimedEvent::frame`]).
    pub fn canonical_bytes_without_time(&self) -> Vec<u8> {
        let mut bytes = self.canonical_bytes();
        bytes.drain(..4);
        bytes
    }

    // ---- constructors (time 0, core space, no flags) ----

    fn note(kind: NoteKind, target: NoteTarget, velocity: f64) -> Self {
        let mut ev = Self::new_typed::<clap_event_note>(kind.type_id());
        let p = ev.typed_mut::<clap_event_note>();
        // SAFETY: the storage was sized for a clap_event_note and is aligned; plain field writes.
        unsafe {
            (*p).note_id = target.note_id;
            (*p).port_index = target.port_index;
            (*p).channel = target.channel;
            (*p).key = target.key;
            (*p).velocity = velocity;
        }
        ev
    }

    /// `CLAP_EVENT_NOTE_ON`.
    pub fn note_on(port_index: i16, channel: i16, key: i16, note_id: i32, velocity: f64) -> Self {
        Self::note(
            NoteKind::On,
            NoteTarget::new(port_index, channel, key, note_id),
            velocity,
        )
    }

    /// `CLAP_EVENT_NOTE_OFF`.
    pub fn note_off(port_index: i16, channel: i16, key: i16, note_id: i32, velocity: f64) -> Self {
        Self::note(
            NoteKind::Off,
            NoteTarget::new(port_index, channel, key, note_id),
            velocity,
        )
    }

    /// `CLAP_EVENT_NOTE_CHOKE`.
    pub fn note_choke(port_index: i16, channel: i16, key: i16, note_id: i32) -> Self {
        Self::note(
            NoteKind::Choke,
            NoteTarget::new(port_index, channel, key, note_id),
            0.0,
        )
    }

    /// `CLAP_EVENT_NOTE_END` (normally only sent by plugins).
    pub fn note_end(port_index: i16, channel: i16, key: i16, note_id: i32) -> Self {
        Self::note(
            NoteKind::End,
            NoteTarget::new(port_index, channel, key, note_id),
            0.0,
        )
    }

    /// `CLAP_EVENT_NOTE_EXPRESSION`.
    pub fn note_expression(expression_id: i32, target: NoteTarget, value: f64) -> Self {
        let mut ev = Self::new_typed::<clap_event_note_expression>(CLAP_EVENT_NOTE_EXPRESSION);
        let p = ev.typed_mut::<clap_event_note_expression>();
        // SAFETY: storage sized and aligned for the struct; plain field writes.
        unsafe {
            (*p).expression_id = expression_id;
            (*p).note_id = target.note_id;
            (*p).port_index = target.port_index;
            (*p).channel = target.channel;
            (*p).key = target.key;
            (*p).value = value;
        }
        ev
    }

    /// `CLAP_EVENT_PARAM_VALUE` for all notes (no cookie).
    pub fn param_value(param_id: u32, value: f64) -> Self {
        Self::param_value_for(param_id, NoteTarget::ALL, value, ptr::null_mut())
    }

    /// `CLAP_EVENT_PARAM_VALUE` with an explicit target and cookie.
    pub fn param_value_for(
        param_id: u32,
        target: NoteTarget,
        value: f64,
        cookie: *mut c_void,
    ) -> Self {
        let mut ev = Self::new_typed::<clap_event_param_value>(CLAP_EVENT_PARAM_VALUE);
        let p = ev.typed_mut::<clap_event_param_value>();
        // SAFETY: storage sized and aligned for the struct; plain field writes.
        unsafe {
            (*p).param_id = param_id;
            (*p).cookie = cookie;
            (*p).note_id = target.note_id;
            (*p).port_index = target.port_index;
            (*p).channel = target.channel;
            (*p).key = target.key;
            (*p).value = value;
        }
        ev
    }

    /// `CLAP_EVENT_PARAM_MOD` for all notes (no cookie).
    pub fn param_mod(param_id: u32, amount: f64) -> Self {
        Self::param_mod_for(param_id, NoteTarget::ALL, amount, ptr::null_mut())
    }

    /// `CLAP_EVENT_PARAM_MOD` with an explicit target and cookie.
    pub fn param_mod_for(
        param_id: u32,
        target: NoteTarget,
        amount: f64,
        cookie: *mut c_void,
    ) -> Self {
        let mut ev = Self::new_typed::<clap_event_param_mod>(CLAP_EVENT_PARAM_MOD);
        let p = ev.typed_mut::<clap_event_param_mod>();
        // SAFETY: storage sized and aligned for the struct; plain field writes.
        unsafe {
            (*p).param_id = param_id;
            (*p).cookie = cookie;
            (*p).note_id = target.note_id;
            (*p).port_index = target.port_index;
            (*p).channel = target.channel;
            (*p).key = target.key;
            (*p).amount = amount;
        }
        ev
    }

    fn gesture(type_id: u16, param_id: u32) -> Self {
        let mut ev = Self::new_typed::<clap_event_param_gesture>(type_id);
        let p = ev.typed_mut::<clap_event_param_gesture>();
        // SAFETY: storage sized and aligned for the struct; plain field write.
        unsafe { (*p).param_id = param_id };
        ev
    }

    /// `CLAP_EVENT_PARAM_GESTURE_BEGIN`.
    pub fn param_gesture_begin(param_id: u32) -> Self {
        Self::gesture(CLAP_EVENT_PARAM_GESTURE_BEGIN, param_id)
    }

    /// `CLAP_EVENT_PARAM_GESTURE_END`.
    pub fn param_gesture_end(param_id: u32) -> Self {
        Self::gesture(CLAP_EVENT_PARAM_GESTURE_END, param_id)
    }

    /// `CLAP_EVENT_TRANSPORT` (as an in-list event).
    pub fn transport(transport: &Transport) -> Self {
        let mut ev = Self::new_typed::<clap_event_transport>(CLAP_EVENT_TRANSPORT);
        let p = ev.typed_mut::<clap_event_transport>();
        // SAFETY: storage sized and aligned for the struct; we create a unique reference to it
        // for the duration of the field writes (no other reference exists).
        unsafe { transport.write_to(&mut *p) };
        ev
    }

    /// `CLAP_EVENT_MIDI`.
    pub fn midi(port_index: u16, data: [u8; 3]) -> Self {
        let mut ev = Self::new_typed::<clap_event_midi>(CLAP_EVENT_MIDI);
        let p = ev.typed_mut::<clap_event_midi>();
        // SAFETY: storage sized and aligned for the struct; plain field writes.
        unsafe {
            (*p).port_index = port_index;
            (*p).data = data;
        }
        ev
    }

    /// `CLAP_EVENT_MIDI_SYSEX`; the payload is owned by the event.
    pub fn midi_sysex(port_index: u16, data: &[u8]) -> Self {
        let mut ev = Self::new_typed::<clap_event_midi_sysex>(CLAP_EVENT_MIDI_SYSEX);
        let p = ev.typed_mut::<clap_event_midi_sysex>();
        // SAFETY: storage sized and aligned for the struct; plain field write.
        unsafe { (*p).port_index = port_index };
        ev.sysex = Some(data.into());
        ev.patch_sysex_pointer();
        ev
    }

    /// `CLAP_EVENT_MIDI2`.
    pub fn midi2(port_index: u16, data: [u32; 4]) -> Self {
        let mut ev = Self::new_typed::<clap_event_midi2>(CLAP_EVENT_MIDI2);
        let p = ev.typed_mut::<clap_event_midi2>();
        // SAFETY: storage sized and aligned for the struct; plain field writes.
        unsafe {
            (*p).port_index = port_index;
            (*p).data = data;
        }
        ev
    }
}

impl Clone for Event {
    fn clone(&self) -> Self {
        let mut ev = Self {
            storage: self.storage.clone(),
            len: self.len,
            sysex: self.sysex.clone(),
        };
        ev.patch_sysex_pointer();
        ev
    }
}

/// Events compare equal when their [canonical forms](Event::canonical_bytes) are equal.
impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.canonical_bytes() == other.canonical_bytes()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("time", &self.time())
            .field("flags", &self.flags())
            .field("data", &self.data())
            .finish()
    }
}

/// An event at an absolute frame position of a render.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedEvent {
    /// Absolute frame (sample) position from the start of the render.
    pub frame: u64,
    /// The event; its `time` is overwritten with the block-relative offset when delivered.
    pub event: Event,
}

impl TimedEvent {
    /// An event at absolute frame `frame`.
    pub fn new(frame: u64, event: Event) -> Self {
        Self { frame, event }
    }
}

// ---- raw event lists ----

/// Builds a `clap_input_events` over a list of event pointers.
///
/// The returned struct borrows `ptrs` through a raw pointer: it must not outlive it, and every
/// pointer in `ptrs` must stay valid while the plugin can read the list.
pub(crate) fn raw_input_events(ptrs: &Vec<*const clap_event_header>) -> clap_input_events {
    clap_input_events {
        ctx: ptrs as *const Vec<*const clap_event_header> as *mut c_void,
        size: Some(input_events_size),
        get: Some(input_events_get),
    }
}

unsafe extern "C" fn input_events_size(list: *const clap_input_events) -> u32 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the plugin passes back the list we gave it (or null, which as_ref handles).
        let Some(list) = (unsafe { list.as_ref() }) else {
            return 0;
        };
        // SAFETY: ctx was set by raw_input_events to a Vec that outlives the list.
        let ptrs = unsafe { &*(list.ctx as *const Vec<*const clap_event_header>) };
        ptrs.len() as u32
    }))
    .unwrap_or(0)
}

unsafe extern "C" fn input_events_get(
    list: *const clap_input_events,
    index: u32,
) -> *const clap_event_header {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the plugin passes back the list we gave it (or null, which as_ref handles).
        let Some(list) = (unsafe { list.as_ref() }) else {
            return ptr::null();
        };
        // SAFETY: ctx was set by raw_input_events to a Vec that outlives the list.
        let ptrs = unsafe { &*(list.ctx as *const Vec<*const clap_event_header>) };
        ptrs.get(index as usize).copied().unwrap_or(ptr::null())
    }))
    .unwrap_or(ptr::null())
}

/// Collects the events a plugin pushes.
#[derive(Default)]
pub(crate) struct OutputEventList {
    pub(crate) events: Vec<Event>,
    pub(crate) rejected: Vec<String>,
}

/// Builds a `clap_output_events` that appends to `list`.
///
/// The returned struct borrows `list` through a raw pointer and must not outlive it; `list` must
/// not be accessed otherwise while the plugin may push.
pub(crate) fn raw_output_events(list: &mut OutputEventList) -> clap_output_events {
    clap_output_events {
        ctx: list as *mut OutputEventList as *mut c_void,
        try_push: Some(output_events_try_push),
    }
}

unsafe extern "C" fn output_events_try_push(
    list: *const clap_output_events,
    event: *const clap_event_header,
) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the plugin passes back the list we gave it (or null, which as_ref handles).
        let Some(list) = (unsafe { list.as_ref() }) else {
            return false;
        };
        // SAFETY: ctx was set by raw_output_events to an OutputEventList that outlives the list
        // and is not otherwise accessed during the plugin call.
        let out = unsafe { &mut *(list.ctx as *mut OutputEventList) };
        // SAFETY: per the CLAP contract the plugin passes a valid event of header.size bytes.
        match unsafe { Event::from_raw(event) } {
            Ok(ev) => {
                out.events.push(ev);
                true
            }
            Err(e) => {
                out.rejected.push(e.to_string());
                false
            }
        }
    }))
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysex_pointer_follows_clones() {
        let a = Event::midi_sysex(0, &[0xF0, 1, 2, 3, 0xF7]).with_time(5);
        let b = a.clone();
        let raw_b: clap_event_midi_sysex = b.read().unwrap();
        assert_eq!(raw_b.buffer, b.sysex_data().unwrap().as_ptr());
        assert_eq!(raw_b.size, 5);
        assert_eq!(a, b);
        assert_eq!(b.time(), 5);
        // SAFETY: the pointer comes from a live event.
        let c = unsafe { Event::from_raw(b.as_header_ptr()) }.unwrap();
        assert_eq!(c.sysex_data(), Some(&[0xF0, 1, 2, 3, 0xF7][..]));
        assert_ne!(
            c.sysex_data().unwrap().as_ptr(),
            b.sysex_data().unwrap().as_ptr()
        );
    }

    #[test]
    fn canonical_ignores_cookie_and_roundtrips() {
        let a = Event::param_value_for(3, NoteTarget::ALL, 0.5, 0x1234 as *mut c_void);
        let b = Event::param_value(3, 0.5);
        assert_eq!(a, b);
        let c = Event::from_bytes(b.as_bytes()).unwrap();
        assert_eq!(b, c);
        assert_ne!(b, Event::param_value(3, 0.25));
        match c.data() {
            EventData::ParamValue {
                param_id, value, ..
            } => {
                assert_eq!(param_id, 3);
                assert_eq!(value, 0.5);
            }
            other => panic!("unexpected {other:?}"),
        }
        let n = Event::note_on(0, 0, 60, 7, 0.8);
        assert_eq!(n.size() as usize, size_of::<clap_event_note>());
        assert!(matches!(
            n.data(),
            EventData::Note {
                kind: NoteKind::On,
                ..
            }
        ));
    }

    #[test]
    fn rejects_bad_sizes() {
        let mut bytes = Event::midi(0, [0x90, 60, 100]).as_bytes().to_vec();
        bytes[0] = 3;
        assert!(Event::from_bytes(&bytes).is_err());
        // SAFETY: null is explicitly allowed.
        assert!(unsafe { Event::from_raw(ptr::null()) }.is_err());
    }
}
