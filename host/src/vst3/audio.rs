//! The VST3 audio thread of one active component: the shared loop
//! (`audio_loop`) with a worker that turns a request of the region into one
//! `IAudioProcessor::process` call. Everything the worker uses is made
//! before the loop starts; nothing allocates, locks or logs in it.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bulkhead_common::shm::check::{self, RegionFault};
use bulkhead_common::shm::control::{port_flags, AudioOp};
use bulkhead_common::shm::layout::{EVENT_AREA_LEN, TRANSPORT_AREA_LEN};
use bulkhead_common::shm::{ShmLayout, ShmRegion};
use bulkhead_vst3_support::block::{self, BlockReader, BlockWriter, CONTEXT_LEN, MAX_POINTS};
use bulkhead_vst3_support::vst3::Steinberg::Vst::*;
use bulkhead_vst3_support::vst3::Steinberg::*;
use bulkhead_vst3_support::vst3::{ComPtr, ComRef, ComWrapper};
use bulkhead_vst3_support::{EventList, ParameterChanges};

use crate::audio_loop::{serve_blocks, BlockWorker, LoopSetup};

const _: () = assert!(CONTEXT_LEN <= TRANSPORT_AREA_LEN);

/// Parameters one block's change list can carry (each queue is preallocated).
const MAX_PARAMS: usize = 512;

/// What the audio thread needs; moved to it at activation.
pub struct Vst3Audio {
    pub region: Arc<ShmRegion>,
    pub layout: ShmLayout,
    pub processor: ComPtr<IAudioProcessor>,
    pub process_mode: i32,
    pub sample_size: i32,
    pub quit: Arc<AtomicBool>,
}

struct Worker<'a> {
    a: &'a Vst3Audio,
    _in_ptrs: Vec<Vec<*mut c_void>>,
    _out_ptrs: Vec<Vec<*mut c_void>>,
    in_buses: Vec<AudioBusBuffers>,
    out_buses: Vec<AudioBusBuffers>,
    reader: BlockReader,
    in_events: ComWrapper<EventList>,
    out_events: ComWrapper<EventList>,
    in_params: ComWrapper<ParameterChanges>,
    out_params: ComWrapper<ParameterChanges>,
    context: ProcessContext,
}

impl Vst3Audio {
    /// Serves blocks until told to quit.
    pub fn run(self) {
        let table = |is_input: bool, ports: &[u32]| -> Vec<Vec<*mut c_void>> {
            ports
                .iter()
                .enumerate()
                .map(|(p, &n)| {
                    (0..n as usize)
                        .map(|c| {
                            self.region
                                .range(
                                    self.layout.channel_offset(is_input, p, c),
                                    self.layout.channel_stride,
                                )
                                .map_or(std::ptr::null_mut(), |ptr| ptr.cast())
                        })
                        .collect()
                })
                .collect()
        };
        let mut in_ptrs = table(true, &self.layout.audio.inputs);
        let mut out_ptrs = table(false, &self.layout.audio.outputs);
        let bus = |p: &mut Vec<*mut c_void>| AudioBusBuffers {
            numChannels: p.len() as i32,
            silenceFlags: 0,
            __field0: AudioBusBuffers__type0 {
                channelBuffers32: p.as_mut_ptr().cast(),
            },
        };
        let in_buses = in_ptrs.iter_mut().map(bus).collect();
        let out_buses = out_ptrs.iter_mut().map(bus).collect();
        let points = MAX_POINTS.min(self.layout.audio.max_frames as usize + 1);
        let reader = BlockReader::with_capacity(EVENT_AREA_LEN);
        let events = reader_event_capacity();
        let mut worker = Worker {
            a: &self,
            _in_ptrs: in_ptrs,
            _out_ptrs: out_ptrs,
            in_buses,
            out_buses,
            reader,
            in_events: EventList::new(events),
            out_events: EventList::new(events),
            in_params: ParameterChanges::new(MAX_PARAMS, points),
            out_params: ParameterChanges::new(MAX_PARAMS, points),
            // SAFETY: plain numbers; all-zero is a value.
            context: unsafe { std::mem::zeroed() },
        };
        serve_blocks(
            LoopSetup {
                region: &self.region,
                layout: &self.layout,
                quit: &self.quit,
                sync: None,
                early_wake: None,
            },
            &mut worker,
        );
    }
}

/// Most events one area can hold (an event record is at least its header
/// and the `Event` struct).
fn reader_event_capacity() -> usize {
    EVENT_AREA_LEN / (8 + std::mem::size_of::<Event>())
}

impl BlockWorker for Worker<'_> {
    fn serve(&mut self, req: check::Request) -> Result<i32, RegionFault> {
        let ok = |r: tresult| i32::from(r == kResultOk);
        Ok(match req.op {
            AudioOp::Process => self.process(req.frames, req)?,
            // A flush is a block of no frames carrying parameter changes.
            AudioOp::ParamsFlush => self.process(0, req)?,
            // SAFETY: an active processor, called on its audio thread.
            AudioOp::StartProcessing => ok(unsafe { self.a.processor.setProcessing(1) }),
            // SAFETY: as above.
            AudioOp::StopProcessing => ok(unsafe { self.a.processor.setProcessing(0) }),
            AudioOp::Reset => 1,
        })
    }
}

impl Worker<'_> {
    fn load_inputs(&mut self, len: usize) -> Result<(), RegionFault> {
        self.in_events.clear();
        self.in_params.clear();
        let src = self
            .a
            .region
            .range(self.a.layout.in_events_offset, len)
            .ok_or(RegionFault::InEventsLen)?;
        // SAFETY: the range lies inside the mapping; the reader copies it first.
        unsafe { self.reader.load(src, len) }.map_err(|_| RegionFault::InEvents)?;
        for e in self.reader.events() {
            self.in_events.push(*e);
        }
        for q in 0..self.reader.queue_count() {
            if let Some((id, points)) = self.reader.queue(q) {
                for i in 0..points.len() {
                    if let Some((offset, value)) = points.get(i) {
                        self.in_params.add(id, offset, value);
                    }
                }
            }
        }
        Ok(())
    }

    fn write_outputs(&mut self) -> usize {
        let base = self
            .a
            .region
            .range(self.a.layout.out_events_offset, EVENT_AREA_LEN)
            .unwrap_or(std::ptr::null_mut());
        if base.is_null() {
            return 0;
        }
        // SAFETY: the output area is inside the mapping, 64-byte aligned, and
        // only this thread writes it while the bridge waits.
        let mut writer = unsafe { BlockWriter::new(base, EVENT_AREA_LEN) };
        // SAFETY: our own lists, on the thread that owns them.
        let count = unsafe { self.out_events.getEventCount() };
        for i in 0..count {
            // SAFETY: plain data; all-zero is a value.
            let mut e: Event = unsafe { std::mem::zeroed() };
            // SAFETY: `e` is a valid out-parameter.
            if unsafe { self.out_events.getEvent(i, &mut e) } != kResultOk {
                continue;
            }
            // SAFETY: the payload pointer the plugin set stays valid until the
            // list is cleared (its contract).
            if !unsafe { writer.push_event(&e) } {
                break;
            }
        }
        // SAFETY: our own list.
        let queues = unsafe { self.out_params.getParameterCount() };
        for i in 0..queues {
            // SAFETY: our own list; the queue is owned by it (not add-ref'ed).
            let Some(q) = (unsafe { ComRef::from_raw(self.out_params.getParameterData(i)) }) else {
                continue;
            };
            // SAFETY: our own queue.
            let (id, n) = unsafe { (q.getParameterId(), q.getPointCount().max(0)) };
            let points = (0..n).map(|j| {
                let (mut offset, mut value) = (0, 0.0);
                // SAFETY: valid out-parameters.
                unsafe { q.getPoint(j, &mut offset, &mut value) };
                (offset, value)
            });
            if !writer.push_queue(id, points) {
                break;
            }
        }
        writer.len()
    }

    fn process(&mut self, frames: u32, req: check::Request) -> Result<i32, RegionFault> {
        let c = self.a.region.control();
        let mut any_port = false;
        let mut f64_ports = false;
        for (i, bus) in self.in_buses.iter_mut().enumerate() {
            let flags = check::port_flags(c.port_flags_in[i].load(Ordering::Relaxed))?;
            any_port = true;
            f64_ports |= flags & port_flags::F64 != 0;
            bus.silenceFlags = c.constant_mask_in[i].load(Ordering::Relaxed);
        }
        for (i, bus) in self.out_buses.iter_mut().enumerate() {
            let flags = check::port_flags(c.port_flags_out[i].load(Ordering::Relaxed))?;
            any_port = true;
            f64_ports |= flags & port_flags::F64 != 0;
            bus.silenceFlags = 0;
        }
        let sample_size = if !any_port {
            self.a.sample_size
        } else if f64_ports {
            SymbolicSampleSizes_::kSample64 as i32
        } else {
            SymbolicSampleSizes_::kSample32 as i32
        };
        self.load_inputs(req.in_events_len)?;
        self.out_events.clear();
        self.out_params.clear();
        if req.has_transport {
            let src = self
                .a
                .region
                .range(self.a.layout.transport_offset, CONTEXT_LEN)
                .ok_or(RegionFault::Transport)?;
            // SAFETY: the area is inside the mapping and holds a context.
            self.context = unsafe { block::read_context(src) };
        }
        let raw_buses = |b: &mut Vec<AudioBusBuffers>| {
            if b.is_empty() {
                std::ptr::null_mut()
            } else {
                b.as_mut_ptr()
            }
        };
        let mut data = ProcessData {
            processMode: self.a.process_mode,
            symbolicSampleSize: sample_size,
            numSamples: frames as i32,
            numInputs: self.in_buses.len() as i32,
            numOutputs: self.out_buses.len() as i32,
            inputs: raw_buses(&mut self.in_buses),
            outputs: raw_buses(&mut self.out_buses),
            inputParameterChanges: ParameterChanges::as_raw(&self.in_params),
            outputParameterChanges: ParameterChanges::as_raw(&self.out_params),
            inputEvents: EventList::as_raw(&self.in_events),
            outputEvents: EventList::as_raw(&self.out_events),
            processContext: if req.has_transport {
                &mut self.context
            } else {
                std::ptr::null_mut()
            },
        };
        // SAFETY: the component is active and this is its audio thread; every
        // pointer in `data` is valid for the call and sized for `frames`
        // (checked against the region's block size).
        let status = unsafe { self.a.processor.process(&mut data) };
        for (i, bus) in self.out_buses.iter().enumerate() {
            c.constant_mask_out[i].store(bus.silenceFlags, Ordering::Relaxed);
        }
        let len = self.write_outputs();
        c.out_events_len.store(len as u32, Ordering::Relaxed);
        // The region's status word is checked for the range a block may
        // answer (0..=4, and -1 is the host's own refusal): VST3's results
        // outside it (kNoInterface, kNotInitialized, kOutOfMemory) reach the
        // DAW as kResultFalse.
        Ok(if (0..=4).contains(&status) {
            status
        } else {
            kResultFalse
        })
    }
}

/// Moves the audio state to its thread.
pub struct SendAudio(pub Vst3Audio);
// SAFETY: the region and the processor stay alive until the thread is
// joined; VST3 lets the host call `process` from a thread of its choosing.
unsafe impl Send for SendAudio {}
