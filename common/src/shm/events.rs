//! CLAP events packed into a byte area, the same way for the shared-memory
//! block and for the socket (`params.flush` off the audio thread).
//!
//! A record is `[u32 record length][u32 zero][event bytes][sysex bytes]`,
//! every part padded to 8 bytes. The reader copies the area into private,
//! aligned storage before it looks at it (the writer is another process and
//! may keep writing), validates every record, drops events outside the core
//! event space (their pointers could not cross processes anyway) and points
//! each sysex event at its own copy of the data.

use clap_sys::events::*;
use std::mem::size_of;

pub const MAX_EVENTS: usize = 8192;
/// Largest single event (the biggest core event is far smaller).
const MAX_EVENT_SIZE: usize = 1024;
const RECORD_HEADER: usize = 8;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("event area holds {0} bytes, more than its capacity")]
    AreaTooLarge(usize),
    #[error("malformed event record at byte {0}")]
    BadRecord(usize),
    #[error("more than {MAX_EVENTS} events in one block")]
    TooMany,
}

fn pad8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// The size a core event of type `ty` must at least have.
fn core_event_size(ty: u16) -> Option<usize> {
    Some(match ty {
        CLAP_EVENT_NOTE_ON | CLAP_EVENT_NOTE_OFF | CLAP_EVENT_NOTE_CHOKE | CLAP_EVENT_NOTE_END => {
            size_of::<clap_event_note>()
        }
        CLAP_EVENT_NOTE_EXPRESSION => size_of::<clap_event_note_expression>(),
        CLAP_EVENT_PARAM_VALUE => size_of::<clap_event_param_value>(),
        CLAP_EVENT_PARAM_MOD => size_of::<clap_event_param_mod>(),
        CLAP_EVENT_PARAM_GESTURE_BEGIN | CLAP_EVENT_PARAM_GESTURE_END => {
            size_of::<clap_event_param_gesture>()
        }
        CLAP_EVENT_TRANSPORT => size_of::<clap_event_transport>(),
        CLAP_EVENT_MIDI => size_of::<clap_event_midi>(),
        CLAP_EVENT_MIDI_SYSEX => size_of::<clap_event_midi_sysex>(),
        CLAP_EVENT_MIDI2 => size_of::<clap_event_midi2>(),
        _ => return None,
    })
}

/// Appends events to a raw byte area.
pub struct EventWriter {
    base: *mut u8,
    cap: usize,
    len: usize,
    count: usize,
}

impl EventWriter {
    /// # Safety
    /// `base..base+cap` must be writable for the writer's lifetime and
    /// 8-byte aligned.
    pub unsafe fn new(base: *mut u8, cap: usize) -> Self {
        Self {
            base,
            cap,
            len: 0,
            count: 0,
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one event; false (and nothing written) when it does not fit
    /// or is not a core event this bridge can carry.
    ///
    /// # Safety
    /// `header` must point to a valid event of `header.size` bytes, and a
    /// sysex event's buffer to `size` readable bytes.
    pub unsafe fn push(&mut self, header: *const clap_event_header) -> bool {
        // SAFETY: the caller guarantees a valid header.
        let h = unsafe { &*header };
        let size = h.size as usize;
        if h.space_id != CLAP_CORE_EVENT_SPACE_ID
            || size > MAX_EVENT_SIZE
            || core_event_size(h.type_).is_none_or(|min| size < min)
            || self.count >= MAX_EVENTS
        {
            return false;
        }
        let (sysex_ptr, sysex_len) = if h.type_ == CLAP_EVENT_MIDI_SYSEX {
            // SAFETY: type and size were checked above.
            let s = unsafe { &*header.cast::<clap_event_midi_sysex>() };
            if s.buffer.is_null() {
                (std::ptr::null(), 0)
            } else {
                (s.buffer, s.size as usize)
            }
        } else {
            (std::ptr::null(), 0)
        };
        let record = RECORD_HEADER + pad8(size) + pad8(sysex_len);
        if self.len + record > self.cap || record > u32::MAX as usize {
            return false;
        }
        // SAFETY: `len + record <= cap`, the area is ours to write, and the
        // sources are valid per the caller's contract.
        unsafe {
            let at = self.base.add(self.len);
            at.cast::<u32>().write(record as u32);
            at.add(4).cast::<u32>().write(0);
            std::ptr::copy_nonoverlapping(header.cast::<u8>(), at.add(RECORD_HEADER), size);
            if sysex_len > 0 {
                std::ptr::copy_nonoverlapping(
                    sysex_ptr,
                    at.add(RECORD_HEADER + pad8(size)),
                    sysex_len,
                );
            }
        }
        self.len += record;
        self.count += 1;
        true
    }
}

unsafe extern "C" fn writer_push(
    list: *const clap_output_events,
    event: *const clap_event_header,
) -> bool {
    if event.is_null() {
        return false;
    }
    // SAFETY: ctx is the `EventWriter` that made this list, alive and unmoved
    // while the list is in use; the plugin hands a valid event.
    unsafe { (*(*list).ctx.cast::<EventWriter>()).push(event) }
}

impl EventWriter {
    /// A `clap_output_events` appending to this writer; valid while the
    /// writer lives and does not move.
    pub fn output_list(&mut self) -> clap_output_events {
        clap_output_events {
            ctx: (self as *mut EventWriter).cast(),
            try_push: Some(writer_push),
        }
    }
}

unsafe extern "C" fn packed_size(list: *const clap_input_events) -> u32 {
    // SAFETY: ctx is the `PackedEvents` that made this list, alive and
    // unmoved while the list is in use.
    unsafe { &*(*list).ctx.cast::<PackedEvents>() }.len() as u32
}

unsafe extern "C" fn packed_get(
    list: *const clap_input_events,
    index: u32,
) -> *const clap_event_header {
    // SAFETY: as in `packed_size`.
    unsafe { &*(*list).ctx.cast::<PackedEvents>() }
        .get(index as usize)
        .unwrap_or(std::ptr::null())
}

/// Validated events in private storage, ready to hand to a plugin or a DAW.
/// Storage is reserved up front so that loading allocates nothing.
pub struct PackedEvents {
    storage: Vec<u64>,
    offsets: Vec<u32>,
}

impl PackedEvents {
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            storage: vec![0; bytes.div_ceil(8)],
            offsets: Vec::with_capacity(MAX_EVENTS),
        }
    }

    pub fn clear(&mut self) {
        self.offsets.clear();
    }

    /// Copies `len` bytes from `src` and validates them.
    ///
    /// # Safety
    /// `src..src+len` must be readable (its contents may be anything).
    ///
    /// # Errors
    /// Any malformed record; the list is then empty.
    pub unsafe fn load_raw(&mut self, src: *const u8, len: usize) -> Result<(), EventError> {
        self.offsets.clear();
        if len > self.storage.len() * 8 {
            return Err(EventError::AreaTooLarge(len));
        }
        // SAFETY: the caller guarantees `src` is readable for `len` bytes and
        // our storage holds at least `len` bytes.
        unsafe { std::ptr::copy_nonoverlapping(src, self.storage.as_mut_ptr().cast::<u8>(), len) };
        let result = self.validate(len);
        if result.is_err() {
            self.offsets.clear();
        }
        result
    }

    /// Same as [`Self::load_raw`] for a slice.
    ///
    /// # Errors
    /// Any malformed record.
    pub fn load(&mut self, bytes: &[u8]) -> Result<(), EventError> {
        // SAFETY: a slice is readable for its length.
        unsafe { self.load_raw(bytes.as_ptr(), bytes.len()) }
    }

    fn validate(&mut self, len: usize) -> Result<(), EventError> {
        let base = self.storage.as_mut_ptr().cast::<u8>();
        let mut at = 0usize;
        while at < len {
            if len - at < RECORD_HEADER + size_of::<clap_event_header>() {
                return Err(EventError::BadRecord(at));
            }
            // SAFETY: `at + 8 <= len` is inside storage; `at` is a multiple
            // of 8 (every record length is), so the read is aligned.
            let record = unsafe { base.add(at).cast::<u32>().read() } as usize;
            if !record.is_multiple_of(8) || record < RECORD_HEADER + 16 || record > len - at {
                return Err(EventError::BadRecord(at));
            }
            let event_at = at + RECORD_HEADER;
            // SAFETY: a header fits in the record (checked above), aligned.
            let h = unsafe { &*base.add(event_at).cast::<clap_event_header>() };
            let size = h.size as usize;
            let room = record - RECORD_HEADER;
            let min = core_event_size(h.type_).ok_or(EventError::BadRecord(at))?;
            if h.space_id != CLAP_CORE_EVENT_SPACE_ID || size < min || pad8(size) > room {
                return Err(EventError::BadRecord(at));
            }
            if h.type_ == CLAP_EVENT_MIDI_SYSEX {
                // SAFETY: size was checked against the sysex struct.
                let s = unsafe { &mut *base.add(event_at).cast::<clap_event_midi_sysex>() };
                let data = pad8(size);
                if s.size as usize > room - data {
                    return Err(EventError::BadRecord(at));
                }
                s.buffer = if s.size == 0 {
                    std::ptr::null()
                } else {
                    // SAFETY: the data lies inside this record.
                    unsafe { base.add(event_at + data) }
                };
            }
            if self.offsets.len() >= MAX_EVENTS {
                return Err(EventError::TooMany);
            }
            self.offsets.push(event_at as u32);
            at += record;
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// A `clap_input_events` over these events; valid while `self` lives,
    /// does not move and is not reloaded.
    pub fn input_list(&self) -> clap_input_events {
        clap_input_events {
            ctx: (self as *const PackedEvents).cast_mut().cast(),
            size: Some(packed_size),
            get: Some(packed_get),
        }
    }

    /// The event at `index`, valid until the next load.
    pub fn get(&self, index: usize) -> Option<*const clap_event_header> {
        let off = *self.offsets.get(index)? as usize;
        // SAFETY: offsets were validated to lie inside storage.
        Some(unsafe { self.storage.as_ptr().cast::<u8>().add(off) }.cast())
    }
}

/// Packs events into an owned, aligned byte vector (for the socket).
pub fn pack_to_vec<'a>(events: impl Iterator<Item = *const clap_event_header> + 'a) -> Vec<u8> {
    let mut area = vec![0u64; super::layout::EVENT_AREA_LEN / 8];
    // SAFETY: the vector is ours, 8-byte aligned and EVENT_AREA_LEN long.
    let mut w = unsafe { EventWriter::new(area.as_mut_ptr().cast(), area.len() * 8) };
    for e in events {
        // SAFETY: callers hand us events from a live event list.
        unsafe { w.push(e) };
    }
    let len = w.len();
    // SAFETY: `len` bytes of the u64 storage were written.
    unsafe { std::slice::from_raw_parts(area.as_ptr().cast::<u8>(), len) }.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(time: u32, key: i16) -> clap_event_note {
        clap_event_note {
            header: clap_event_header {
                size: size_of::<clap_event_note>() as u32,
                time,
                space_id: CLAP_CORE_EVENT_SPACE_ID,
                type_: CLAP_EVENT_NOTE_ON,
                flags: 0,
            },
            note_id: -1,
            port_index: 0,
            channel: 0,
            key,
            velocity: 0.5,
        }
    }

    #[test]
    fn notes_and_sysex_round_trip() {
        let n = note(3, 60);
        let data = [0xF0u8, 1, 2, 3, 0xF7];
        let sysex = clap_event_midi_sysex {
            header: clap_event_header {
                size: size_of::<clap_event_midi_sysex>() as u32,
                time: 7,
                space_id: CLAP_CORE_EVENT_SPACE_ID,
                type_: CLAP_EVENT_MIDI_SYSEX,
                flags: 0,
            },
            port_index: 0,
            buffer: data.as_ptr(),
            size: data.len() as u32,
        };
        let bytes = pack_to_vec(
            [
                &n.header as *const _,
                &sysex.header as *const clap_event_header,
            ]
            .into_iter(),
        );
        let mut p = PackedEvents::with_capacity(4096);
        p.load(&bytes).unwrap();
        assert_eq!(p.len(), 2);
        // SAFETY: validated events of the right types.
        unsafe {
            let a = &*p.get(0).unwrap().cast::<clap_event_note>();
            assert_eq!((a.header.time, a.key), (3, 60));
            let s = &*p.get(1).unwrap().cast::<clap_event_midi_sysex>();
            assert_eq!(std::slice::from_raw_parts(s.buffer, s.size as usize), &data);
        }
    }

    #[test]
    fn garbage_is_rejected_not_trusted() {
        let n = note(0, 1);
        let mut bytes = pack_to_vec([&n.header as *const _].into_iter());
        bytes[0] = 0xff;
        let mut p = PackedEvents::with_capacity(4096);
        assert!(p.load(&bytes).is_err());
        assert!(p.is_empty());
        assert!(p.load(&[1, 2, 3]).is_err());
    }
}
