//! VST3's blocks through the shared-memory handoff ([`crate::audio`]):
//! buffers (32 or 64 bit, every bus), silence flags, input events and
//! parameter changes at their sample offsets and the process context are
//! copied in; output buffers, events and parameter changes out.
//! Runs on the DAW's audio thread: nothing here allocates, locks or logs.

use crate::audio::Handoff;
use crate::link::Link;
use bulkhead_common::shm::check::RegionFault;
use bulkhead_common::shm::control::{port_flags, AudioOp};
use bulkhead_common::shm::layout::{EVENT_AREA_LEN, TRANSPORT_AREA_LEN};
use bulkhead_common::shm::{AudioLayout, ShmLayout};
use bulkhead_common::ProtocolError;
use bulkhead_vst3_support::block::{self, BlockReader, BlockWriter};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;

pub struct Vst3Audio {
    h: Handoff,
    out: BlockReader,
}

impl Deref for Vst3Audio {
    type Target = Handoff;
    fn deref(&self) -> &Handoff {
        &self.h
    }
}

impl DerefMut for Vst3Audio {
    fn deref_mut(&mut self) -> &mut Handoff {
        &mut self.h
    }
}

/// # Safety
/// `ptr` must point to `n` values or be null.
unsafe fn buses<'a>(ptr: *mut AudioBusBuffers, n: i32) -> &'a mut [AudioBusBuffers] {
    if ptr.is_null() || n <= 0 {
        &mut []
    } else {
        // SAFETY: per the contract.
        unsafe { std::slice::from_raw_parts_mut(ptr, n as usize) }
    }
}

/// The channel `ch` of a bus, as bytes, or null.
///
/// # Safety
/// `b` must be a bus of the DAW's process data with `numChannels` channel
/// pointers of the stated precision.
unsafe fn channel(b: &AudioBusBuffers, ch: usize, f64: bool) -> *mut u8 {
    if ch >= b.numChannels.max(0) as usize {
        return std::ptr::null_mut();
    }
    // SAFETY: per the contract; the union member read matches the block's
    // sample size.
    unsafe {
        if f64 {
            let p = b.__field0.channelBuffers64;
            if p.is_null() {
                std::ptr::null_mut()
            } else {
                (*p.add(ch)).cast()
            }
        } else {
            let p = b.__field0.channelBuffers32;
            if p.is_null() {
                std::ptr::null_mut()
            } else {
                (*p.add(ch)).cast()
            }
        }
    }
}

impl Vst3Audio {
    /// # Errors
    /// The layout does not compute, or the kernel refused the memory.
    pub fn new(
        layout: &AudioLayout,
        link: Arc<Link>,
        sample_rate: f64,
    ) -> Result<Self, ProtocolError> {
        let shm = ShmLayout::compute(layout)?;
        Ok(Self {
            h: Handoff::new(shm, link, sample_rate)?,
            out: BlockReader::with_capacity(EVENT_AREA_LEN),
        })
    }

    fn copy_in(&self, inputs: &[AudioBusBuffers], frames: usize, f64: bool) {
        let c = self.region.control();
        let width = if f64 { 8 } else { 4 };
        for (bus, &channels) in self.layout.audio.inputs.iter().enumerate() {
            let b = inputs.get(bus);
            c.port_flags_in[bus].store(if f64 { port_flags::F64 } else { 0 }, Ordering::Relaxed);
            c.constant_mask_in[bus]
                .store(b.map_or(u64::MAX, |b| b.silenceFlags), Ordering::Relaxed);
            for ch in 0..channels as usize {
                let Some(dst) = self
                    .region
                    .range(self.layout.channel_offset(true, bus, ch), frames * width)
                else {
                    continue;
                };
                // SAFETY: a DAW bus with its channel pointers; `dst` has room
                // for `frames` samples (checked by `range`).
                unsafe {
                    let src = b.map_or(std::ptr::null_mut(), |b| channel(b, ch, f64));
                    if src.is_null() {
                        std::ptr::write_bytes(dst, 0, frames * width);
                    } else {
                        std::ptr::copy_nonoverlapping(src, dst, frames * width);
                    }
                }
            }
        }
        for bus in 0..self.layout.audio.outputs.len() {
            c.port_flags_out[bus].store(if f64 { port_flags::F64 } else { 0 }, Ordering::Relaxed);
        }
    }

    fn copy_out(&self, outputs: &mut [AudioBusBuffers], frames: usize, f64: bool, silence: bool) {
        let c = self.region.control();
        let width = if f64 { 8 } else { 4 };
        for (bus, b) in outputs.iter_mut().enumerate() {
            let ours = self.layout.audio.outputs.get(bus).copied().unwrap_or(0) as usize;
            for ch in 0..b.numChannels.max(0) as usize {
                // SAFETY: the DAW's bus; the source range is checked by `range`.
                unsafe {
                    let dst = channel(b, ch, f64);
                    if dst.is_null() {
                        continue;
                    }
                    let src = (!silence && ch < ours)
                        .then(|| {
                            self.region
                                .range(self.layout.channel_offset(false, bus, ch), frames * width)
                        })
                        .flatten();
                    match src {
                        Some(src) => std::ptr::copy_nonoverlapping(src, dst, frames * width),
                        None => std::ptr::write_bytes(dst, 0, frames * width),
                    }
                }
            }
            let all = if b.numChannels >= 64 {
                u64::MAX
            } else {
                (1u64 << b.numChannels.max(0)) - 1
            };
            b.silenceFlags = if silence {
                all
            } else {
                c.constant_mask_out
                    .get(bus)
                    .map_or(0, |m| m.load(Ordering::Relaxed) & all)
            };
        }
    }

    fn write_inputs(&mut self, data: &ProcessData) {
        let c = self.region.control();
        let base = self
            .region
            .range(self.layout.in_events_offset, EVENT_AREA_LEN)
            .unwrap_or(std::ptr::null_mut());
        // SAFETY: the input area lies inside our mapping, 64-byte aligned.
        let mut w =
            unsafe { BlockWriter::new(base, if base.is_null() { 0 } else { EVENT_AREA_LEN }) };
        // SAFETY: the DAW's lists are null or valid for the call.
        unsafe {
            if let Some(events) = vst3::ComRef::from_raw(data.inputEvents) {
                for i in 0..events.getEventCount() {
                    let mut e: Event = std::mem::zeroed();
                    if events.getEvent(i, &mut e) == kResultOk {
                        w.push_event(&e);
                    }
                }
            }
            if let Some(changes) = vst3::ComRef::from_raw(data.inputParameterChanges) {
                for i in 0..changes.getParameterCount() {
                    let Some(q) = vst3::ComRef::from_raw(changes.getParameterData(i)) else {
                        continue;
                    };
                    let n = q.getPointCount().max(0);
                    let points = (0..n).map(|j| {
                        let (mut offset, mut value) = (0, 0.0);
                        q.getPoint(j, &mut offset, &mut value);
                        (offset, value)
                    });
                    w.push_queue(q.getParameterId(), points);
                }
            }
        }
        c.in_events_len.store(w.len() as u32, Ordering::Relaxed);
        let has_context = !data.processContext.is_null();
        c.has_transport
            .store(u32::from(has_context), Ordering::Relaxed);
        if has_context {
            if let Some(dst) = self
                .region
                .range(self.layout.transport_offset, TRANSPORT_AREA_LEN)
            {
                // SAFETY: the DAW's context is valid for the call; the area
                // holds a context (checked at compile time below).
                unsafe { block::write_context(dst, &*data.processContext) };
            }
        }
    }

    /// Validates the host's outputs and hands them to the DAW's lists.
    /// Malformed ones are a broken host: none reach the DAW.
    fn read_outputs(&mut self, data: &ProcessData) {
        let len = self.region.control().out_events_len.load(Ordering::Relaxed) as usize;
        let loaded = match self.region.range(self.layout.out_events_offset, len) {
            // SAFETY: the range lies inside our mapping.
            Some(src) if len <= EVENT_AREA_LEN => unsafe { self.out.load(src, len) }.is_ok(),
            _ => false,
        };
        if !loaded {
            self.out.clear();
            self.h.fault(RegionFault::OutEvents);
            return;
        }
        // SAFETY: the DAW's output lists are null or valid for the call.
        unsafe {
            if let Some(events) = vst3::ComRef::from_raw(data.outputEvents) {
                for e in self.out.events() {
                    let mut e = *e;
                    events.addEvent(&mut e);
                }
            }
            if let Some(changes) = vst3::ComRef::from_raw(data.outputParameterChanges) {
                for i in 0..self.out.queue_count() {
                    let Some((id, points)) = self.out.queue(i) else {
                        continue;
                    };
                    let mut index = 0;
                    let q = changes.addParameterData(&id, &mut index);
                    let Some(q) = vst3::ComRef::from_raw(q) else {
                        continue;
                    };
                    for j in 0..points.len() {
                        if let Some((offset, value)) = points.get(j) {
                            let mut at = 0;
                            q.addPoint(offset, value, &mut at);
                        }
                    }
                }
            }
        }
    }

    /// `IAudioProcessor::process` through the host.
    ///
    /// # Safety
    /// `data` must be the DAW's process data for this call.
    pub unsafe fn process(&mut self, data: &mut ProcessData) -> tresult {
        self.h.adopt_fresh_region();
        let frames = data.numSamples.max(0) as u32;
        let f64 = data.symbolicSampleSize == SymbolicSampleSizes_::kSample64 as i32;
        // SAFETY: the DAW passes `numInputs`/`numOutputs` buses.
        let (inputs, outputs) = unsafe {
            (
                buses(data.inputs, data.numInputs),
                buses(data.outputs, data.numOutputs),
            )
        };
        if frames > self.layout.audio.max_frames {
            self.copy_out(outputs, frames as usize, f64, true);
            return kInvalidArgument;
        }
        self.copy_in(inputs, frames as usize, f64);
        self.write_inputs(data);
        self.h.prepare_block(frames);
        let status = self.h.roundtrip(AudioOp::Process);
        if status.is_some() {
            self.read_outputs(data);
        }
        let ok = status.is_some() && self.h.block_done(true);
        if !ok {
            self.h.block_done(false);
            self.copy_out(outputs, frames as usize, f64, true);
            return kResultOk;
        }
        self.copy_out(outputs, frames as usize, f64, false);
        status.unwrap_or(kResultOk)
    }
}

const _: () = assert!(block::CONTEXT_LEN <= TRANSPORT_AREA_LEN);
