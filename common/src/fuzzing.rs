//! The decoders a bridge runs on bytes from a host process, as entry points
//! that must return (never panic, never misbehave) whatever the input.
//! Shared by the cargo-fuzz targets (`fuzz/`) and the bounded property test
//! (`common/tests/decoder_property.rs`), so both exercise the same code.

use crate::framing;
use crate::protocol::wire::Message;
use crate::shm::events::PackedEvents;
use crate::shm::layout::EVENT_AREA_LEN;
use crate::shm::{AudioLayout, ShmLayout};
use std::io::Write;
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
    while let Ok(_fds) = framing::read_frame(&r, &mut buf) {
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
