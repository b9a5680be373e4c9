//! The VST3 sample gain, direct and bridged, driven the way a DAW's audio
//! callback drives a VST3 processor: the buffers, bus structs, event and
//! parameter lists and process context are prepared once, and every block
//! is one `IAudioProcessor::process` call on them, without allocating.

use crate::scenarios::{
    audio_region_fds, my_hosts, open_new_region, progress, Res, MAX_FRAMES, SAMPLE_RATE,
};
use bulkhead_common::shm::ShmRegion;
use bulkhead_tests::vst3::Vst3Plugin;
use bulkhead_tests::AudioAuditCounts;
use bulkhead_vst3_support::bridged::bundle_library;
use bulkhead_vst3_support::vst3::ComWrapper;
use bulkhead_vst3_support::vst3::Steinberg::Vst::ProcessContext_::StatesAndFlags_;
use bulkhead_vst3_support::vst3::Steinberg::Vst::*;
use bulkhead_vst3_support::vst3::Steinberg::*;
use bulkhead_vst3_support::{EventList, ParameterChanges};
use std::ffi::{c_void, CString};
use std::path::{Path, PathBuf};

/// A gain instance, set up for realtime processing (48 kHz, up to 4096
/// frames, 32-bit samples) with every bus active.
pub struct Vst3Gain {
    plugin: Vst3Plugin,
    /// The bundle it was loaded from.
    bundle: PathBuf,
    /// The `bulkhead-host` process behind a bridged bundle.
    pub host: Option<u32>,
    /// A view of the bridged instance's audio region, for the handoff
    /// legs (`None` direct, or if the region was not found).
    pub region: Option<ShmRegion>,
}

fn ok(call: &str, r: tresult) -> Res<()> {
    if r == kResultOk {
        Ok(())
    } else {
        Err(format!("{call} answered {r}").into())
    }
}

impl Vst3Gain {
    /// Opens the gain in `bundle` and starts it processing. `bridged`: a
    /// bridged bundle, whose new host process is looked up.
    pub fn open(bundle: &Path, bridged: bool) -> Res<Self> {
        let before = my_hosts();
        let regions_before = audio_region_fds();
        let mut plugin = Vst3Plugin::open(bundle, None)
            .map_err(|e| format!("opening {}: {e}", bundle.display()))?;
        start_realtime(&mut plugin).map_err(|e| format!("activating {}: {e}", bundle.display()))?;
        let region = if bridged {
            open_new_region(&regions_before)
                .map_err(|e| progress(&format!("VST3 handoff legs not recorded: {e}")))
                .ok()
        } else {
            None
        };
        let host = if bridged {
            let new: Vec<u32> = my_hosts().difference(&before).copied().collect();
            match new[..] {
                [pid] => Some(pid),
                _ => {
                    return Err(format!(
                        "expected one new bulkhead-host process for {}, found {new:?}",
                        bundle.display()
                    )
                    .into())
                }
            }
        } else {
            None
        };
        Ok(Self {
            plugin,
            bundle: bundle.to_path_buf(),
            host,
            region,
        })
    }

    /// One block of `frames` per call (the steady time is the argument);
    /// false when the output came back silent.
    pub fn block(&self, frames: u32) -> impl FnMut(i64) -> Res<bool> + '_ {
        let mut b = PreparedBlock::new(&self.plugin, frames);
        move |steady| b.process(steady)
    }

    /// The bridge's audio-path audit counts (`bulkhead_vst3_audio_audit`,
    /// the VST3 counterpart of CLAP's `bulkhead.audio-audit/1`); `None`
    /// for a direct instance.
    pub fn audit(&self) -> Option<AudioAuditCounts> {
        type AuditFn = unsafe extern "C" fn(*mut c_void, *mut AudioAuditCounts) -> bool;
        self.host?;
        let lib = bundle_library(&self.bundle);
        let name = CString::new(lib.as_os_str().as_encoded_bytes()).ok()?;
        // SAFETY: a C string; RTLD_NOLOAD only looks up the library the
        // instance already loaded (and takes a reference, released below).
        let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD) };
        if handle.is_null() {
            return None;
        }
        // SAFETY: a live handle and a C string.
        let sym = unsafe { libc::dlsym(handle, c"bulkhead_vst3_audio_audit".as_ptr()) };
        let mut counts = AudioAuditCounts::default();
        let answered = !sym.is_null() && {
            // SAFETY: the bridge exports this symbol with this signature
            // (`bridge/src/vst3/entry.rs`).
            let f: AuditFn = unsafe { std::mem::transmute::<*mut c_void, AuditFn>(sym) };
            // SAFETY: a live interface pointer of the bridged component and
            // a local out-parameter.
            unsafe { f(self.plugin.component.ptr().as_ptr().cast(), &mut counts) }
        };
        // SAFETY: the reference dlopen took above.
        unsafe { libc::dlclose(handle) };
        answered.then_some(counts)
    }
}

impl Drop for Vst3Gain {
    fn drop(&mut self) {
        // Started here, not by `Vst3Plugin::activate`, so stopped here too
        // (before the plugin terminates).
        // SAFETY: live processor and component, processing and active.
        unsafe {
            self.plugin.processor.setProcessing(0);
            self.plugin.component.setActive(0);
        }
    }
}

/// What a DAW does before its first realtime block: `setupProcessing` in
/// realtime mode (the test host's `Vst3Plugin::activate` renders offline,
/// for which the bridge waits longer before giving up on a block), every
/// bus active, `setActive`, `setProcessing`.
fn start_realtime(plugin: &mut Vst3Plugin) -> Res<()> {
    let size = SymbolicSampleSizes_::kSample32 as i32;
    // SAFETY: live processor.
    ok("canProcessSampleSize", unsafe {
        plugin.processor.canProcessSampleSize(size)
    })?;
    let mut setup = ProcessSetup {
        processMode: ProcessModes_::kRealtime as i32,
        symbolicSampleSize: size,
        maxSamplesPerBlock: MAX_FRAMES as i32,
        sampleRate: f64::from(SAMPLE_RATE),
    };
    // SAFETY: live processor; `setup` outlives the call.
    ok("setupProcessing", unsafe {
        plugin.processor.setupProcessing(&mut setup)
    })?;
    for media in [MediaTypes_::kAudio, MediaTypes_::kEvent] {
        for dir in [BusDirections_::kInput, BusDirections_::kOutput] {
            let (media, dir) = (media as MediaType, dir as BusDirection);
            // SAFETY: live component.
            let n = unsafe { plugin.component.getBusCount(media, dir) };
            for i in 0..n {
                // SAFETY: live component; `i` is one of its buses.
                unsafe { plugin.component.activateBus(media, dir, i, 1) };
            }
        }
    }
    // SAFETY: live component.
    ok("setActive", unsafe { plugin.component.setActive(1) })?;
    // Some plugins answer kNotImplemented here; that is no failure.
    // SAFETY: live processor.
    unsafe { plugin.processor.setProcessing(1) };
    Ok(())
}

/// Everything one `process` call points at, made once. The vectors are
/// never resized after construction, so the raw pointers into them stay
/// valid while this lives.
struct PreparedBlock<'a> {
    plugin: &'a Vst3Plugin,
    frames: u32,
    /// Channel pointer arrays per bus (`in_buses` points at them), taken
    /// from the sample vectors below.
    _in_ptrs: Vec<Vec<*mut f32>>,
    out_ptrs: Vec<Vec<*mut f32>>,
    in_buses: Vec<AudioBusBuffers>,
    out_buses: Vec<AudioBusBuffers>,
    in_events: ComWrapper<EventList>,
    out_events: ComWrapper<EventList>,
    in_params: ComWrapper<ParameterChanges>,
    out_params: ComWrapper<ParameterChanges>,
    context: Box<ProcessContext>,
    /// The samples, per bus, per channel: only ever reached through the
    /// pointers above.
    _inputs: Vec<Vec<Vec<f32>>>,
    _outputs: Vec<Vec<Vec<f32>>>,
}

impl<'a> PreparedBlock<'a> {
    fn new(plugin: &'a Vst3Plugin, frames: u32) -> Self {
        let n = frames as usize;
        let buffers = |output: bool| -> Vec<Vec<Vec<f32>>> {
            plugin
                .audio_buses(output)
                .iter()
                .map(|&channels| vec![vec![0.0; n]; channels.max(0) as usize])
                .collect()
        };
        // The same input as the CLAP rows.
        let mut inputs = buffers(false);
        for (i, s) in inputs.iter_mut().flatten().flatten().enumerate() {
            *s = 0.25 + (i % 97) as f32 / 400.0;
        }
        let mut outputs = buffers(true);
        let ptrs = |bufs: &mut Vec<Vec<Vec<f32>>>| -> Vec<Vec<*mut f32>> {
            bufs.iter_mut()
                .map(|bus| bus.iter_mut().map(|c| c.as_mut_ptr()).collect())
                .collect()
        };
        let mut in_ptrs = ptrs(&mut inputs);
        let mut out_ptrs = ptrs(&mut outputs);
        let buses = |ptrs: &mut Vec<Vec<*mut f32>>| -> Vec<AudioBusBuffers> {
            ptrs.iter_mut()
                .map(|p| AudioBusBuffers {
                    numChannels: p.len() as i32,
                    silenceFlags: 0,
                    __field0: AudioBusBuffers__type0 {
                        channelBuffers32: p.as_mut_ptr(),
                    },
                })
                .collect()
        };
        let in_buses = buses(&mut in_ptrs);
        let out_buses = buses(&mut out_ptrs);
        // SAFETY: plain data; all zeroes is a valid (empty) context.
        let mut context: Box<ProcessContext> = Box::new(unsafe { std::mem::zeroed() });
        // Like the CLAP rows: a steady time, no transport.
        context.state = StatesAndFlags_::kContTimeValid;
        context.sampleRate = f64::from(SAMPLE_RATE);
        Self {
            plugin,
            frames,
            _in_ptrs: in_ptrs,
            out_ptrs,
            in_buses,
            out_buses,
            in_events: EventList::new(64),
            out_events: EventList::new(64),
            in_params: ParameterChanges::new(4, 64),
            out_params: ParameterChanges::new(4, 64),
            context,
            _inputs: inputs,
            _outputs: outputs,
        }
    }

    /// One `process` call; allocates nothing.
    fn process(&mut self, steady: i64) -> Res<bool> {
        self.out_events.clear();
        self.out_params.clear();
        for bus in &mut self.out_buses {
            bus.silenceFlags = 0;
        }
        for bus in &mut self.in_buses {
            bus.silenceFlags = 0;
        }
        self.context.projectTimeSamples = steady;
        self.context.continousTimeSamples = steady;
        let mut data = ProcessData {
            processMode: ProcessModes_::kRealtime as i32,
            symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
            numSamples: self.frames as i32,
            numInputs: self.in_buses.len() as i32,
            numOutputs: self.out_buses.len() as i32,
            inputs: self.in_buses.as_mut_ptr(),
            outputs: self.out_buses.as_mut_ptr(),
            inputParameterChanges: ParameterChanges::as_raw(&self.in_params),
            outputParameterChanges: ParameterChanges::as_raw(&self.out_params),
            inputEvents: EventList::as_raw(&self.in_events),
            outputEvents: EventList::as_raw(&self.out_events),
            processContext: &mut *self.context,
        };
        // SAFETY: every pointer in `data` refers to buffers, bus structs,
        // lists and the context owned by `self`, alive for the call and
        // sized for `self.frames` (≤ the 4096 frames set up) on each
        // channel; the pointer arrays were taken from the sample vectors,
        // which are not touched otherwise while the plugin runs.
        let r = unsafe { self.plugin.processor.process(&mut data) };
        ok("IAudioProcessor::process", r)?;
        // Read through the pointers the plugin wrote through.
        let last = self.frames as usize - 1;
        let Some(&out) = self.out_ptrs.first().and_then(|bus| bus.first()) else {
            return Ok(true);
        };
        // SAFETY: `out` points at `frames` samples of the first output
        // channel, written by the call that has returned.
        let (first, end) = unsafe { (*out, *out.add(last)) };
        Ok(first != 0.0 || end != 0.0)
    }
}
