//! VST3 events and parameter changes packed into a byte area of the
//! shared-memory block (the VST3 codec over the region's neutral event
//! areas), and the process context in the region's context area.
//!
//! The area is a sequence of records `[u32 kind][u32 body length][body]`,
//! each padded to 8 bytes:
//! - an event: the `Event` struct as the SDK lays it out, its pointer
//!   field zeroed, followed by what it pointed to (the bytes of a data
//!   event, the UTF-16 text of a text, chord or scale event);
//! - a parameter queue: `[u32 id][u32 points]` and per point
//!   `[i32 offset][u32 0][f64 value]`.
//!
//! The writer runs on an audio thread and never allocates; the reader
//! copies the area into storage of its own before looking at it (the
//! writer is another process), validates every record and points each
//! event's payload into that copy, so the events stay valid for the block.

use vst3::Steinberg::Vst::Event_::EventTypes_::*;
use vst3::Steinberg::Vst::{Event, ProcessContext};

use std::mem::size_of;

const KIND_EVENT: u32 = 1;
const KIND_QUEUE: u32 = 2;
const HEADER: usize = 8;
const POINT: usize = 16;
/// Most points one parameter queue may carry.
pub const MAX_POINTS: usize = 8192;
/// Largest payload (data bytes or text) of one event.
pub const MAX_PAYLOAD: usize = 64 * 1024;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BlockError {
    #[error("the area holds {0} bytes, more than its capacity")]
    TooLarge(usize),
    #[error("malformed record at byte {0}")]
    BadRecord(usize),
}

fn pad8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// Where an event's pointer is, and how many payload bytes it points to.
fn payload_of(event: &Event) -> Option<(*const u8, usize)> {
    // SAFETY: the union member read is the one `type` selects; every
    // member is plain data.
    unsafe {
        match u32::from(event.r#type) {
            t if t == kDataEvent => {
                let d = event.__field0.data;
                Some((d.bytes, d.size as usize))
            }
            t if t == kNoteExpressionTextEvent => {
                let t = event.__field0.noteExpressionText;
                Some((t.text.cast(), t.textLen as usize * 2))
            }
            t if t == kChordEvent => {
                let c = event.__field0.chord;
                Some((c.text.cast(), c.textLen as usize * 2))
            }
            t if t == kScaleEvent => {
                let s = event.__field0.scale;
                Some((s.text.cast(), s.textLen as usize * 2))
            }
            _ => None,
        }
    }
}

/// Points an event's pointer field at `ptr` (null: no payload).
fn set_payload(event: &mut Event, ptr: *const u8) {
    // Writing a union field is safe; which one is chosen by `type`.
    {
        match u32::from(event.r#type) {
            t if t == kDataEvent => event.__field0.data.bytes = ptr,
            t if t == kNoteExpressionTextEvent => {
                event.__field0.noteExpressionText.text = ptr.cast()
            }
            t if t == kChordEvent => event.__field0.chord.text = ptr.cast(),
            t if t == kScaleEvent => event.__field0.scale.text = ptr.cast(),
            _ => {}
        }
    }
}

fn known_type(ty: u16) -> bool {
    matches!(
        u32::from(ty),
        t if t == kNoteOnEvent
            || t == kNoteOffEvent
            || t == kDataEvent
            || t == kPolyPressureEvent
            || t == kNoteExpressionValueEvent
            || t == kNoteExpressionTextEvent
            || t == kChordEvent
            || t == kScaleEvent
            || t == kNoteExpressionIntValueEvent
            || t == kLegacyMIDICCOutEvent
    )
}

/// Appends records to a raw byte area.
pub struct BlockWriter {
    base: *mut u8,
    cap: usize,
    len: usize,
}

impl BlockWriter {
    /// # Safety
    /// `base..base+cap` must be writable for the writer's lifetime and
    /// 8-byte aligned.
    pub unsafe fn new(base: *mut u8, cap: usize) -> Self {
        Self { base, cap, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn reserve(&mut self, kind: u32, body: usize) -> Option<*mut u8> {
        let total = HEADER + pad8(body);
        if self.len + total > self.cap {
            return None;
        }
        // SAFETY: `len + total <= cap`, inside the writable area.
        let at = unsafe { self.base.add(self.len) };
        // SAFETY: the header's 8 bytes are inside the area and aligned.
        unsafe {
            at.cast::<u32>().write(kind);
            at.add(4).cast::<u32>().write(body as u32);
        }
        self.len += total;
        // SAFETY: the body follows the header inside the reservation.
        Some(unsafe { at.add(HEADER) })
    }

    /// Adds an event with its payload; false when the area is full or the
    /// payload is larger than [`MAX_PAYLOAD`] (the event is dropped).
    ///
    /// # Safety
    /// The event's payload pointer, if its type has one, must be null or
    /// valid for the length the event states.
    pub unsafe fn push_event(&mut self, event: &Event) -> bool {
        let (ptr, payload) = payload_of(event).unwrap_or((std::ptr::null(), 0));
        let payload = if ptr.is_null() { 0 } else { payload };
        if payload > MAX_PAYLOAD {
            return false;
        }
        let Some(body) = self.reserve(KIND_EVENT, size_of::<Event>() + payload) else {
            return false;
        };
        let mut copy = *event;
        set_payload(&mut copy, std::ptr::null());
        // SAFETY: the reservation holds the event and its payload; the
        // payload source is valid by this function's contract.
        unsafe {
            body.cast::<Event>().write_unaligned(copy);
            if payload > 0 {
                std::ptr::copy_nonoverlapping(ptr, body.add(size_of::<Event>()), payload);
            }
        }
        true
    }

    /// Adds one parameter's queue; false when the area is full.
    pub fn push_queue(
        &mut self,
        id: u32,
        points: impl ExactSizeIterator<Item = (i32, f64)>,
    ) -> bool {
        let n = points.len().min(MAX_POINTS);
        let Some(body) = self.reserve(KIND_QUEUE, 8 + n * POINT) else {
            return false;
        };
        // SAFETY: the reservation holds the queue header and `n` points;
        // every write is 8-byte aligned inside it.
        unsafe {
            body.cast::<u32>().write(id);
            body.add(4).cast::<u32>().write(n as u32);
            for (i, (offset, value)) in points.take(n).enumerate() {
                let p = body.add(8 + i * POINT);
                p.cast::<i32>().write(offset);
                p.add(4).cast::<u32>().write(0);
                p.add(8).cast::<f64>().write(value);
            }
        }
        true
    }
}

/// One record read back.
pub enum Item<'a> {
    Event(&'a Event),
    Queue { id: u32, points: Points<'a> },
}

/// A queue's points as read back.
#[derive(Clone, Copy)]
pub struct Points<'a> {
    bytes: &'a [u8],
}

impl Points<'_> {
    pub fn len(&self) -> usize {
        self.bytes.len() / POINT
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// `(sample offset, value)` of point `i`.
    pub fn get(&self, i: usize) -> Option<(i32, f64)> {
        let p = self.bytes.get(i * POINT..(i + 1) * POINT)?;
        let offset = i32::from_ne_bytes(p[0..4].try_into().ok()?);
        let value = f64::from_ne_bytes(p[8..16].try_into().ok()?);
        Some((offset, value))
    }
}

/// Reads areas written by [`BlockWriter`]; its storage is allocated once.
pub struct BlockReader {
    storage: Vec<u64>,
    len: usize,
    /// Validated events, with payload pointers into `storage`.
    events: Vec<Event>,
    /// Byte ranges of validated queues in `storage`.
    queues: Vec<(u32, usize, usize)>,
}

impl BlockReader {
    /// A reader for areas of up to `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            storage: vec![0; capacity.div_ceil(8)],
            len: 0,
            events: Vec::with_capacity(capacity / (HEADER + size_of::<Event>())),
            queues: Vec::with_capacity(capacity / (HEADER + 8)),
        }
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `storage` is `len <= storage.len() * 8` initialised bytes.
        unsafe { std::slice::from_raw_parts(self.storage.as_ptr().cast::<u8>(), self.len) }
    }

    /// Copies `len` bytes from `src` and validates them; on error nothing
    /// is kept.
    ///
    /// # Safety
    /// `src..src+len` must be readable (another process may be writing it:
    /// the copy is what gets validated).
    pub unsafe fn load(&mut self, src: *const u8, len: usize) -> Result<(), BlockError> {
        self.clear();
        if len > self.storage.len() * 8 {
            return Err(BlockError::TooLarge(len));
        }
        // SAFETY: `src` is readable for `len` (contract); storage holds at
        // least `len` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(src, self.storage.as_mut_ptr().cast::<u8>(), len);
        }
        self.len = len;
        if let Err(e) = self.validate() {
            self.clear();
            return Err(e);
        }
        Ok(())
    }

    /// Forgets what was loaded (keeps the memory).
    pub fn clear(&mut self) {
        self.len = 0;
        self.events.clear();
        self.queues.clear();
    }

    fn validate(&mut self) -> Result<(), BlockError> {
        let base = self.storage.as_ptr().cast::<u8>();
        let mut at = 0;
        while at < self.len {
            let bytes = self.bytes();
            let bad = BlockError::BadRecord(at);
            let head = bytes.get(at..at + HEADER).ok_or_else(|| bad.clone())?;
            let kind = u32::from_ne_bytes(head[0..4].try_into().map_err(|_| bad.clone())?);
            let body_len =
                u32::from_ne_bytes(head[4..8].try_into().map_err(|_| bad.clone())?) as usize;
            let body_at = at + HEADER;
            if body_len > self.len - body_at {
                return Err(bad);
            }
            match kind {
                KIND_EVENT => {
                    if body_len < size_of::<Event>() || self.events.len() == self.events.capacity()
                    {
                        return Err(bad);
                    }
                    // SAFETY: the body holds an `Event`'s bytes; every bit
                    // pattern of its plain fields is a value.
                    let mut event = unsafe { base.add(body_at).cast::<Event>().read_unaligned() };
                    if !known_type(event.r#type) {
                        return Err(bad);
                    }
                    let payload = body_len - size_of::<Event>();
                    let wanted = payload_of(&event).map(|(_, n)| n);
                    match wanted {
                        Some(n) if n == payload => {
                            let ptr = if n == 0 {
                                std::ptr::null()
                            } else {
                                // SAFETY: the payload follows the event in storage.
                                unsafe { base.add(body_at + size_of::<Event>()) }
                            };
                            set_payload(&mut event, ptr);
                        }
                        None if payload == 0 => {}
                        _ => return Err(bad),
                    }
                    self.events.push(event);
                }
                KIND_QUEUE => {
                    if body_len < 8 || self.queues.len() == self.queues.capacity() {
                        return Err(bad);
                    }
                    let b = &bytes[body_at..body_at + body_len];
                    let id = u32::from_ne_bytes(b[0..4].try_into().map_err(|_| bad.clone())?);
                    let n =
                        u32::from_ne_bytes(b[4..8].try_into().map_err(|_| bad.clone())?) as usize;
                    if n > MAX_POINTS || body_len != 8 + n * POINT {
                        return Err(bad);
                    }
                    self.queues.push((id, body_at + 8, n * POINT));
                }
                _ => return Err(bad),
            }
            at = body_at + pad8(body_len);
        }
        Ok(())
    }

    /// The events loaded, in the order written; their payload pointers stay
    /// valid until the next `load` or `clear`.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Number of parameter queues loaded.
    pub fn queue_count(&self) -> usize {
        self.queues.len()
    }

    /// Queue `i`: its parameter id and points.
    pub fn queue(&self, i: usize) -> Option<(u32, Points<'_>)> {
        let &(id, at, len) = self.queues.get(i)?;
        Some((
            id,
            Points {
                bytes: &self.bytes()[at..at + len],
            },
        ))
    }

    /// Every record, events first then queues.
    pub fn items(&self) -> impl Iterator<Item = Item<'_>> {
        self.events.iter().map(Item::Event).chain(
            (0..self.queues.len())
                .filter_map(|i| self.queue(i).map(|(id, points)| Item::Queue { id, points })),
        )
    }
}

/// Writes a process context into the region's context area.
///
/// # Safety
/// `dst` must be writable for `size_of::<ProcessContext>()` bytes.
pub unsafe fn write_context(dst: *mut u8, context: &ProcessContext) {
    // SAFETY: by contract; unaligned write of plain data.
    unsafe { dst.cast::<ProcessContext>().write_unaligned(*context) };
}

/// Reads a process context back (every bit pattern is a value).
///
/// # Safety
/// `src` must be readable for `size_of::<ProcessContext>()` bytes.
pub unsafe fn read_context(src: *const u8) -> ProcessContext {
    // SAFETY: by contract; the struct is plain numbers.
    unsafe { src.cast::<ProcessContext>().read_unaligned() }
}

/// Bytes a context takes (fits the region's context area).
pub const CONTEXT_LEN: usize = size_of::<ProcessContext>();

#[cfg(test)]
mod tests {
    use super::*;
    use vst3::Steinberg::Vst::{DataEvent, NoteOnEvent};

    fn note_on(offset: i32, pitch: i16) -> Event {
        // SAFETY: plain data; all-zero is a value.
        let mut e: Event = unsafe { std::mem::zeroed() };
        e.sampleOffset = offset;
        e.r#type = kNoteOnEvent as u16;
        e.__field0.noteOn = NoteOnEvent {
            channel: 0,
            pitch,
            tuning: 0.0,
            velocity: 0.5,
            length: 0,
            noteId: 7,
        };
        e
    }

    #[test]
    fn events_queues_and_payloads_round_trip() {
        let mut area = vec![0u64; 4096];
        // SAFETY: the area is ours and aligned.
        let mut w = unsafe { BlockWriter::new(area.as_mut_ptr().cast(), area.len() * 8) };
        let sysex = [0xF0u8, 1, 2, 3, 0xF7];
        // SAFETY: plain data; all-zero is a value.
        let mut data: Event = unsafe { std::mem::zeroed() };
        data.r#type = kDataEvent as u16;
        data.sampleOffset = 9;
        data.__field0.data = DataEvent {
            size: sysex.len() as u32,
            r#type: 0,
            bytes: sysex.as_ptr(),
        };
        // SAFETY: payloads valid for their lengths.
        unsafe {
            assert!(w.push_event(&note_on(3, 60)));
            assert!(w.push_event(&data));
        }
        assert!(w.push_queue(5, [(0, 0.25), (31, 0.75)].into_iter()));
        let mut r = BlockReader::with_capacity(32 * 1024);
        // SAFETY: the area is readable for `w.len()` bytes.
        unsafe { r.load(area.as_ptr().cast(), w.len()) }.unwrap();
        assert_eq!(r.events().len(), 2);
        // SAFETY: reading the members the types select.
        unsafe {
            assert_eq!(r.events()[0].__field0.noteOn.pitch, 60);
            let d = r.events()[1].__field0.data;
            assert_eq!(std::slice::from_raw_parts(d.bytes, d.size as usize), &sysex);
        }
        let (id, points) = r.queue(0).unwrap();
        assert_eq!(id, 5);
        assert_eq!(points.get(1), Some((31, 0.75)));
        assert_eq!(r.items().count(), 3);
    }

    #[test]
    fn garbage_is_refused() {
        let mut area = vec![0u64; 64];
        area[0] = u64::from_ne_bytes([1, 0, 0, 0, 200, 0, 0, 0]);
        let mut r = BlockReader::with_capacity(4096);
        // SAFETY: readable.
        let e = unsafe { r.load(area.as_ptr().cast(), 64) };
        assert_eq!(e, Err(BlockError::BadRecord(0)));
        assert!(r.events().is_empty());
    }
}
