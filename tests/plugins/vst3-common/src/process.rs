//! [`ProcessCall`]: a checked view of `ProcessData` for the samples (32 or 64 bit, any bus).
//!
//! Every raw pointer is null checked before use; a missing bus or channel reads as silence and
//! ignores writes, so a host's zero-sample flush or a null buffer never crashes a sample.

use vst3::ComRef;
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;

/// One `process` call.
pub struct ProcessCall<'a> {
    data: &'a mut ProcessData,
}

impl<'a> ProcessCall<'a> {
    /// Wraps the host's `ProcessData`; `None` for null.
    ///
    /// # Safety
    ///
    /// `data` must be null or the `ProcessData` of the current `process` call, whose buffers
    /// hold `numSamples` samples in the declared sample size.
    pub unsafe fn new(data: *mut ProcessData) -> Option<ProcessCall<'a>> {
        // SAFETY: null or valid for the call by contract.
        unsafe { data.as_mut() }.map(|data| ProcessCall { data })
    }

    /// Frames in this block.
    pub fn samples(&self) -> usize {
        self.data.numSamples.max(0) as usize
    }

    /// 64-bit samples?
    pub fn is_f64(&self) -> bool {
        self.data.symbolicSampleSize == SymbolicSampleSizes_::kSample64 as i32
    }

    fn bus(&self, output: bool, bus: usize) -> Option<&AudioBusBuffers> {
        let (ptr, n) = if output {
            (self.data.outputs, self.data.numOutputs)
        } else {
            (self.data.inputs, self.data.numInputs)
        };
        if ptr.is_null() || bus >= n.max(0) as usize {
            return None;
        }
        // SAFETY: `ptr` holds `n` buses (host contract) and `bus < n`.
        Some(unsafe { &*ptr.add(bus) })
    }

    /// Channels of output bus `bus` (0 if absent).
    pub fn output_channels(&self, bus: usize) -> usize {
        self.bus(true, bus)
            .map_or(0, |b| b.numChannels.max(0) as usize)
    }

    /// Sample `i` of input channel `ch` of bus `bus`, as f64 (0 when absent).
    pub fn input(&self, bus: usize, ch: usize, i: usize) -> f64 {
        let Some(b) = self.bus(false, bus) else {
            return 0.0;
        };
        if ch >= b.numChannels.max(0) as usize || i >= self.samples() {
            return 0.0;
        }
        // SAFETY: the union member matches the sample size; channel arrays hold numChannels
        // pointers, each to numSamples samples (host contract); indices checked above.
        unsafe {
            if self.is_f64() {
                let chans = b.__field0.channelBuffers64;
                if chans.is_null() || (*chans.add(ch)).is_null() {
                    return 0.0;
                }
                *(*chans.add(ch)).add(i)
            } else {
                let chans = b.__field0.channelBuffers32;
                if chans.is_null() || (*chans.add(ch)).is_null() {
                    return 0.0;
                }
                *(*chans.add(ch)).add(i) as f64
            }
        }
    }

    /// Writes sample `i` of output channel `ch` of bus `bus` (ignored when absent).
    pub fn set_output(&mut self, bus: usize, ch: usize, i: usize, v: f64) {
        let f64_mode = self.is_f64();
        let samples = self.samples();
        let Some(b) = self.bus(true, bus) else {
            return;
        };
        if ch >= b.numChannels.max(0) as usize || i >= samples {
            return;
        }
        // SAFETY: as in `input`; output buffers are writable for the call.
        unsafe {
            if f64_mode {
                let chans = b.__field0.channelBuffers64;
                if !chans.is_null() && !(*chans.add(ch)).is_null() {
                    *(*chans.add(ch)).add(i) = v;
                }
            } else {
                let chans = b.__field0.channelBuffers32;
                if !chans.is_null() && !(*chans.add(ch)).is_null() {
                    *(*chans.add(ch)).add(i) = v as f32;
                }
            }
        }
    }

    /// Marks every output bus as not silent (the samples always write their outputs).
    pub fn clear_silence_flags(&mut self) {
        if self.data.outputs.is_null() {
            return;
        }
        for b in 0..self.data.numOutputs.max(0) as usize {
            // SAFETY: `outputs` holds numOutputs buses.
            unsafe { (*self.data.outputs.add(b)).silenceFlags = 0 };
        }
    }

    /// Calls `f(id, offset, value)` for every input parameter point, queue by queue.
    pub fn for_each_param_point(&self, mut f: impl FnMut(ParamID, i32, f64)) {
        // SAFETY: null or the host's live list for this call.
        let Some(changes) = (unsafe { ComRef::from_raw(self.data.inputParameterChanges) }) else {
            return;
        };
        // SAFETY: live list; queues are borrowed for the call (not add-ref'ed by the API).
        unsafe {
            for q in 0..changes.getParameterCount() {
                let Some(queue) = ComRef::from_raw(changes.getParameterData(q)) else {
                    continue;
                };
                let id = queue.getParameterId();
                for p in 0..queue.getPointCount() {
                    let (mut offset, mut value) = (0, 0.0);
                    if queue.getPoint(p, &mut offset, &mut value) == kResultTrue {
                        f(id, offset, value);
                    }
                }
            }
        }
    }

    /// Calls `f` for every input event, in list order.
    pub fn for_each_event(&self, mut f: impl FnMut(&Event)) {
        // SAFETY: null or the host's live list for this call.
        let Some(events) = (unsafe { ComRef::from_raw(self.data.inputEvents) }) else {
            return;
        };
        // SAFETY: live list; `e` is a valid out-parameter.
        unsafe {
            for i in 0..events.getEventCount() {
                let mut e: Event = std::mem::zeroed();
                if events.getEvent(i, &mut e) == kResultOk {
                    f(&e);
                }
            }
        }
    }

    /// Reports an output parameter change (ignored without an output list).
    pub fn output_param(&self, id: ParamID, offset: i32, value: f64) {
        // SAFETY: null or the host's live output list for this call.
        let Some(changes) = (unsafe { ComRef::from_raw(self.data.outputParameterChanges) }) else {
            return;
        };
        let mut index = 0;
        // SAFETY: live list; the queue is borrowed for the call.
        unsafe {
            if let Some(q) = ComRef::from_raw(changes.addParameterData(&id, &mut index)) {
                q.addPoint(offset, value, &mut index);
            }
        }
    }
}
