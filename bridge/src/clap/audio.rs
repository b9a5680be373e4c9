//! CLAP's blocks through the shared-memory handoff ([`crate::audio`]):
//! buffers, events and transport copied in and out around one roundtrip.
//! Runs on the DAW's audio thread: nothing here allocates, locks or logs.

use super::callbacks::DawHost;
use crate::audio::Handoff;
use crate::link::Link;
use bulkhead_common::shm::check::RegionFault;
use bulkhead_common::shm::control::{port_flags, AudioOp};
use bulkhead_common::shm::events::{EventWriter, PackedEvents};
use bulkhead_common::shm::layout::{EVENT_AREA_LEN, TRANSPORT_AREA_LEN};
use bulkhead_common::shm::ShmLayout;
use bulkhead_common::ProtocolError;
use clap_sys::audio_buffer::clap_audio_buffer;
use clap_sys::events::*;
use clap_sys::process::*;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub struct AudioState {
    h: Handoff,
    out_events: PackedEvents,
}

impl Deref for AudioState {
    type Target = Handoff;
    fn deref(&self) -> &Handoff {
        &self.h
    }
}

impl DerefMut for AudioState {
    fn deref_mut(&mut self) -> &mut Handoff {
        &mut self.h
    }
}

impl AudioState {
    /// # Errors
    /// The kernel refused the memory.
    pub fn new(
        layout: ShmLayout,
        link: Arc<Link>,
        sample_rate: f64,
    ) -> Result<Self, ProtocolError> {
        Ok(Self {
            h: Handoff::new(layout, link, sample_rate)?,
            out_events: PackedEvents::with_capacity(EVENT_AREA_LEN),
        })
    }

    /// Runs a bodiless operation; the status the host reported, if it did.
    pub fn op(&mut self, op: AudioOp, daw: &DawHost) -> Option<i32> {
        self.adopt_fresh_region();
        self.region
            .control()
            .in_events_len
            .store(0, Ordering::Relaxed);
        let status = self.roundtrip(op)?;
        let c = self.region.control();
        daw.on_audio_flags(c.callbacks.load(Ordering::Relaxed));
        Some(status)
    }

    fn write_events(&mut self, list: *const clap_input_events) {
        let c = self.region.control();
        let base = self
            .region
            .range(self.layout.in_events_offset, EVENT_AREA_LEN)
            .unwrap_or(std::ptr::null_mut());
        // SAFETY: the input area lies inside our mapping, 64-byte aligned.
        let mut w =
            unsafe { EventWriter::new(base, if base.is_null() { 0 } else { EVENT_AREA_LEN }) };
        // SAFETY: the DAW's event list is valid for the call.
        if let Some(list) = unsafe { list.as_ref() } {
            if let (Some(size), Some(get)) = (list.size, list.get) {
                // SAFETY: calls on the DAW's list as the CLAP ABI defines.
                let n = unsafe { size(list) };
                for i in 0..n {
                    // SAFETY: as above; a returned event is valid for the call.
                    let e = unsafe { get(list, i) };
                    if !e.is_null() {
                        // SAFETY: a valid event from the DAW.
                        unsafe { w.push(e) };
                    }
                }
            }
        }
        c.in_events_len.store(w.len() as u32, Ordering::Relaxed);
    }

    /// Validates the host's output events and pushes them to the DAW.
    /// Malformed events are a broken host (its writer only writes valid
    /// ones): none reach the DAW, and the host is restarted.
    fn read_events(&mut self, list: *const clap_output_events) {
        let c = self.region.control();
        let len = c.out_events_len.load(Ordering::Relaxed) as usize;
        let loaded = match self.region.range(self.layout.out_events_offset, len) {
            Some(src) if len <= EVENT_AREA_LEN => {
                // SAFETY: the range lies inside our mapping.
                if unsafe { self.out_events.load_raw(src, len) }.is_ok() {
                    Ok(())
                } else {
                    Err(RegionFault::OutEvents)
                }
            }
            _ => Err(RegionFault::OutEventsLen),
        };
        if let Err(fault) = loaded {
            self.out_events.clear();
            self.fault(fault);
            return;
        }
        // SAFETY: the DAW's output list is valid for the call.
        let Some(list) = (unsafe { list.as_ref() }) else {
            return;
        };
        let Some(push) = list.try_push else { return };
        for i in 0..self.out_events.len() {
            if let Some(e) = self.out_events.get(i) {
                // SAFETY: a validated event in our private copy.
                unsafe { push(list, e) };
            }
        }
    }

    /// `clap_plugin_params::flush` of an active plugin.
    pub fn flush(
        &mut self,
        input: *const clap_input_events,
        output: *const clap_output_events,
        daw: &DawHost,
    ) {
        self.adopt_fresh_region();
        self.write_events(input);
        if self.roundtrip(AudioOp::ParamsFlush).is_some() {
            daw.on_audio_flags(self.region.control().callbacks.load(Ordering::Relaxed));
            self.read_events(output);
        }
    }

    fn copy_audio_in(&self, bufs: &[clap_audio_buffer], frames: usize) {
        let c = self.region.control();
        for (port, &channels) in self.layout.audio.inputs.iter().enumerate() {
            let buf = bufs.get(port);
            let is_f64 = buf.is_some_and(|b| b.data32.is_null() && !b.data64.is_null());
            c.port_flags_in[port]
                .store(if is_f64 { port_flags::F64 } else { 0 }, Ordering::Relaxed);
            c.constant_mask_in[port].store(buf.map_or(0, |b| b.constant_mask), Ordering::Relaxed);
            c.latency_in[port].store(buf.map_or(0, |b| b.latency), Ordering::Relaxed);
            let width = if is_f64 { 8 } else { 4 };
            for ch in 0..channels as usize {
                let Some(dst) = self
                    .region
                    .range(self.layout.channel_offset(true, port, ch), frames * width)
                else {
                    continue;
                };
                // SAFETY: DAW buffers hold `channel_count` channels of
                // `frames` samples of the announced precision; `dst` has room
                // for `frames` samples (checked by `range`).
                unsafe {
                    let src: *const u8 = match buf {
                        Some(b) if (ch as u32) < b.channel_count => {
                            if is_f64 {
                                (*b.data64.add(ch)).cast()
                            } else if !b.data32.is_null() {
                                (*b.data32.add(ch)).cast()
                            } else {
                                std::ptr::null()
                            }
                        }
                        _ => std::ptr::null(),
                    };
                    if src.is_null() {
                        std::ptr::write_bytes(dst, 0, frames * width);
                    } else {
                        std::ptr::copy_nonoverlapping(src, dst, frames * width);
                    }
                }
            }
        }
    }

    fn prepare_outputs(&self, bufs: &[clap_audio_buffer]) {
        let c = self.region.control();
        for port in 0..self.layout.audio.outputs.len() {
            let is_f64 = bufs
                .get(port)
                .is_some_and(|b| b.data32.is_null() && !b.data64.is_null());
            c.port_flags_out[port]
                .store(if is_f64 { port_flags::F64 } else { 0 }, Ordering::Relaxed);
            c.latency_out[port].store(bufs.get(port).map_or(0, |b| b.latency), Ordering::Relaxed);
        }
    }

    fn copy_audio_out(&self, bufs: &mut [clap_audio_buffer], frames: usize, silence: bool) {
        let c = self.region.control();
        for (port, b) in bufs.iter_mut().enumerate() {
            let is_f64 = b.data32.is_null() && !b.data64.is_null();
            let width = if is_f64 { 8 } else { 4 };
            let ours = self.layout.audio.outputs.get(port).copied().unwrap_or(0);
            for ch in 0..b.channel_count as usize {
                // SAFETY: the DAW's buffer has `channel_count` channels of
                // `frames` samples; the source range is checked by `range`.
                unsafe {
                    let dst: *mut u8 = if is_f64 {
                        (*b.data64.add(ch)).cast()
                    } else if !b.data32.is_null() {
                        (*b.data32.add(ch)).cast()
                    } else {
                        continue;
                    };
                    if dst.is_null() {
                        continue;
                    }
                    let src = (!silence && (ch as u32) < ours)
                        .then(|| {
                            self.region
                                .range(self.layout.channel_offset(false, port, ch), frames * width)
                        })
                        .flatten();
                    match src {
                        Some(src) => std::ptr::copy_nonoverlapping(src, dst, frames * width),
                        None => std::ptr::write_bytes(dst, 0, frames * width),
                    }
                }
            }
            let mask = if silence || b.channel_count > 64 {
                0
            } else {
                let valid = if b.channel_count >= 64 {
                    u64::MAX
                } else {
                    (1u64 << b.channel_count) - 1
                };
                c.constant_mask_out
                    .get(port)
                    .map_or(0, |m| m.load(Ordering::Relaxed) & valid)
            };
            b.constant_mask = mask;
        }
    }

    /// `clap_plugin::process` through the host.
    ///
    /// # Safety
    /// `p` must be the DAW's valid process struct for this call.
    pub unsafe fn process(&mut self, p: &clap_process, daw: &DawHost) -> clap_process_status {
        self.adopt_fresh_region();
        let frames = p.frames_count as usize;
        // SAFETY: the DAW passes `count` buffers at each pointer.
        let (inputs, outputs) = unsafe {
            (
                slice_or_empty(p.audio_inputs, p.audio_inputs_count),
                slice_or_empty_mut(p.audio_outputs, p.audio_outputs_count),
            )
        };
        if p.frames_count > self.layout.audio.max_frames {
            self.copy_audio_out(outputs, frames, true);
            return CLAP_PROCESS_ERROR;
        }
        self.copy_audio_in(inputs, frames);
        self.prepare_outputs(outputs);
        self.write_events(p.in_events);
        self.h.prepare_block(p.frames_count);
        let c = self.region.control();
        c.steady_time.store(p.steady_time as u64, Ordering::Relaxed);
        let has_transport = !p.transport.is_null();
        c.has_transport
            .store(u32::from(has_transport), Ordering::Relaxed);
        if has_transport {
            if let Some(dst) = self
                .region
                .range(self.layout.transport_offset, TRANSPORT_AREA_LEN)
            {
                // SAFETY: the DAW's transport event is valid for the call and
                // the area is large enough.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        p.transport.cast::<u8>(),
                        dst,
                        std::mem::size_of::<clap_event_transport>(),
                    );
                    repair_transport_header(dst.cast());
                };
            }
        }
        let status = self.roundtrip(AudioOp::Process);
        if status.is_some() {
            self.read_events(p.out_events);
        }
        let Some(status) = status.filter(|_| self.h.block_done(true)) else {
            self.h.block_done(false);
            self.copy_audio_out(outputs, frames, true);
            return CLAP_PROCESS_CONTINUE;
        };
        self.copy_audio_out(outputs, frames, false);
        let c = self.region.control();
        self.link
            .last_tail
            .store(c.tail.load(Ordering::Relaxed), Ordering::Relaxed);
        daw.on_audio_flags(c.callbacks.load(Ordering::Relaxed));
        status
    }
}

/// Some DAWs pass a transport whose header is all zeros, on which plugins
/// that check it (clack's, for one) fail every block. The header of a
/// transport is known, so the plugin gets a valid one; `time` and `flags`
/// stay the DAW's.
///
/// # Safety
/// `t` points to a writable transport event.
unsafe fn repair_transport_header(t: *mut clap_event_header) {
    // SAFETY: per the contract; plain field writes.
    unsafe {
        (*t).size = std::mem::size_of::<clap_event_transport>() as u32;
        (*t).space_id = CLAP_CORE_EVENT_SPACE_ID;
        (*t).type_ = CLAP_EVENT_TRANSPORT;
    }
}

/// # Safety
/// `ptr` must point to `n` values or be null.
unsafe fn slice_or_empty<'a, T>(ptr: *const T, n: u32) -> &'a [T] {
    if ptr.is_null() || n == 0 {
        &[]
    } else {
        // SAFETY: per the contract.
        unsafe { std::slice::from_raw_parts(ptr, n as usize) }
    }
}

/// # Safety
/// `ptr` must point to `n` values or be null.
unsafe fn slice_or_empty_mut<'a, T>(ptr: *mut T, n: u32) -> &'a mut [T] {
    if ptr.is_null() || n == 0 {
        &mut []
    } else {
        // SAFETY: per the contract.
        unsafe { std::slice::from_raw_parts_mut(ptr, n as usize) }
    }
}
