//! A plugin instance driven by the test host.
//!
//! The thread that creates an [`Instance`] is its main thread *and* its audio thread: while the
//! host is inside an audio-thread call (`process`, `start_processing`, `stop_processing`, `reset`,
//! active `flush`, tail query) the host's thread-check reports "audio thread", otherwise "main
//! thread".

use crate::error::{Result, TestHostError};
use crate::events::{raw_input_events, raw_output_events, Event, OutputEventList, Transport};
use crate::host::{HostAudio, HostConfig, HostInner, HostMain, HostRecord, HostShared, TestHost};
use crate::library::PluginLibrary;
use crate::streams::{InputStreamCtx, OutputStreamCtx};
use bulkhead_common::alloc_audit::{AudioAuditCounts, AudioAuditExt, EXT_AUDIO_AUDIT};
use clack_extensions::audio_ports::{AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::latency::PluginLatency;
use clack_extensions::note_ports::{NotePortInfoBuffer, PluginNotePorts};
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::posix_fd::{FdFlags, PluginPosixFd};
use clack_extensions::render::PluginRender;
pub use clack_extensions::render::RenderMode;
use clack_extensions::tail::PluginTail;
use clack_extensions::timer::{PluginTimer, TimerId};
use clack_extensions::voice_info::PluginVoiceInfo;
use clack_host::prelude::{
    HostInfo, PluginAudioConfiguration, PluginAudioProcessor, PluginInstance, PluginInstanceError,
};
pub use clack_host::process::ProcessStatus;
use clack_host::utils::ClapId;
use clap_sys::audio_buffer::clap_audio_buffer;
use clap_sys::events::clap_event_header;
use clap_sys::ext::params::{clap_plugin_params, CLAP_EXT_PARAMS};
use clap_sys::ext::state::{clap_plugin_state, CLAP_EXT_STATE};
use clap_sys::plugin::clap_plugin;
use clap_sys::process::{
    clap_process, CLAP_PROCESS_CONTINUE, CLAP_PROCESS_CONTINUE_IF_NOT_QUIET, CLAP_PROCESS_SLEEP,
    CLAP_PROCESS_TAIL,
};
use std::ffi::{CStr, CString};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod private {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Audio sample type: `f32` or `f64`.
pub trait Sample: private::Sealed + Copy + Default + PartialEq + std::fmt::Debug + 'static {
    /// True for `f64`.
    const IS_F64: bool;
    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Builds a `clap_audio_buffer` from a channel pointer array.
    #[doc(hidden)]
    fn audio_buffer(channels: *mut *mut Self, channel_count: u32) -> clap_audio_buffer;
}

impl Sample for f32 {
    const IS_F64: bool = false;
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn audio_buffer(channels: *mut *mut Self, channel_count: u32) -> clap_audio_buffer {
        clap_audio_buffer {
            data32: channels,
            data64: std::ptr::null_mut(),
            channel_count,
            latency: 0,
            constant_mask: 0,
        }
    }
}

impl Sample for f64 {
    const IS_F64: bool = true;
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn audio_buffer(channels: *mut *mut Self, channel_count: u32) -> clap_audio_buffer {
        clap_audio_buffer {
            data32: std::ptr::null_mut(),
            data64: channels,
            channel_count,
            latency: 0,
            constant_mask: 0,
        }
    }
}

/// Audio data for a set of ports: `ports[port][channel][frame]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AudioBuffers<T> {
    /// Port → channel → samples.
    pub ports: Vec<Vec<Vec<T>>>,
}

impl<T: Sample> AudioBuffers<T> {
    /// Zeroed buffers with the given channel count per port.
    pub fn new(channel_counts: &[u32], frames: usize) -> Self {
        Self {
            ports: channel_counts
                .iter()
                .map(|&c| vec![vec![T::default(); frames]; c as usize])
                .collect(),
        }
    }

    /// Wraps existing data.
    pub fn from_ports(ports: Vec<Vec<Vec<T>>>) -> Self {
        Self { ports }
    }

    /// One channel.
    pub fn channel(&self, port: usize, channel: usize) -> &[T] {
        &self.ports[port][channel]
    }

    /// One channel, mutably.
    pub fn channel_mut(&mut self, port: usize, channel: usize) -> &mut [T] {
        &mut self.ports[port][channel]
    }

    /// Sets every sample to zero.
    pub fn clear(&mut self) {
        for ch in self.ports.iter_mut().flatten() {
            ch.fill(T::default());
        }
    }
}

/// How input buffers are aliased to output buffers during `process`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InPlace {
    /// Separate input and output buffers.
    #[default]
    Off,
    /// Input and output share memory for the port pairs the plugin declares through
    /// `clap_audio_port_info.in_place_pair` (with matching channel counts).
    DeclaredPairs,
    /// Input port *i* shares memory with output port *i* whenever channel counts match, whether
    /// declared or not (not spec-compliant; for stress tests only).
    ByIndex,
}

/// An audio port, as described by the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioPortInfo {
    /// Port id.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Number of channels.
    pub channel_count: u32,
    /// `CLAP_AUDIO_PORT_*` flags.
    pub flags: u32,
    /// Port type (e.g. `"stereo"`), if given.
    pub port_type: Option<String>,
    /// Id of the port on the other side usable for in-place processing.
    pub in_place_pair: Option<u32>,
}

impl AudioPortInfo {
    /// `CLAP_AUDIO_PORT_IS_MAIN`.
    pub fn is_main(&self) -> bool {
        self.flags & clap_sys::ext::audio_ports::CLAP_AUDIO_PORT_IS_MAIN != 0
    }

    /// `CLAP_AUDIO_PORT_SUPPORTS_64BITS`.
    pub fn supports_64bits(&self) -> bool {
        self.flags & clap_sys::ext::audio_ports::CLAP_AUDIO_PORT_SUPPORTS_64BITS != 0
    }
}

/// The plugin's audio ports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AudioPortLayout {
    /// Input ports, in index order.
    pub inputs: Vec<AudioPortInfo>,
    /// Output ports, in index order.
    pub outputs: Vec<AudioPortInfo>,
}

impl AudioPortLayout {
    /// Channel count of each input port.
    pub fn input_channels(&self) -> Vec<u32> {
        self.inputs.iter().map(|p| p.channel_count).collect()
    }

    /// Channel count of each output port.
    pub fn output_channels(&self) -> Vec<u32> {
        self.outputs.iter().map(|p| p.channel_count).collect()
    }
}

/// A note port, as described by the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotePortInfo {
    /// Port id.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// `CLAP_NOTE_DIALECT_*` bit set.
    pub supported_dialects: u32,
    /// Preferred dialect (a single `CLAP_NOTE_DIALECT_*` bit, 0 if invalid).
    pub preferred_dialect: u32,
}

/// A parameter, as described by the plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    /// Parameter id.
    pub id: u32,
    /// `CLAP_PARAM_*` flags.
    pub flags: u32,
    /// Opaque cookie (pointer value).
    pub cookie: usize,
    /// Display name.
    pub name: String,
    /// Module path.
    pub module: String,
    /// Minimum plain value.
    pub min_value: f64,
    /// Maximum plain value.
    pub max_value: f64,
    /// Default plain value.
    pub default_value: f64,
}

/// Voice information (`clap.voice-info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoiceInfo {
    /// Current voice count.
    pub voice_count: u32,
    /// Voice capacity.
    pub voice_capacity: u32,
    /// `CLAP_VOICE_INFO_*` flags.
    pub flags: u64,
}

/// Result of one `process` call.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessResult {
    /// Status returned by the plugin.
    pub status: ProcessStatus,
    /// Events the plugin pushed, in push order.
    pub out_events: Vec<Event>,
    /// `constant_mask` of each output port after the call.
    pub output_constant_masks: Vec<u64>,
}

/// Counters describing one state load or save.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamStats {
    /// Bytes transferred.
    pub bytes: usize,
    /// Number of `read`/`write` calls the plugin made.
    pub calls: usize,
}

/// A plugin instance (created and initialised on the current thread; not `Send`).
pub struct Instance {
    processor: Option<PluginAudioProcessor<TestHost>>,
    instance: PluginInstance<TestHost>,
    host: Arc<HostInner>,
    plugin_id: String,
    ports: AudioPortLayout,
    in_place: InPlace,
    min_frames: u32,
    max_frames: u32,
    sample_rate: f64,
    stream_chunk_size: Option<usize>,
    last_stream: StreamStats,
    /// Passes transports with an all-zero event header, as some DAWs do.
    zero_transport_header: bool,
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Instance {
    /// Creates and initialises plugin `plugin_id` from `library`.
    pub fn new(library: &PluginLibrary, plugin_id: &str, config: HostConfig) -> Result<Self> {
        let available: Vec<String> = library.descriptors().into_iter().map(|d| d.id).collect();
        if !available.iter().any(|id| id == plugin_id) {
            return Err(TestHostError::NoSuchPlugin {
                id: plugin_id.to_owned(),
                available,
            });
        }
        let id_c = CString::new(plugin_id)
            .map_err(|_| TestHostError::InvalidArgument("plugin id contains a NUL byte".into()))?;
        let host_info = HostInfo::new(&config.name, &config.vendor, &config.url, &config.version)
            .map_err(|_| {
            TestHostError::InvalidArgument("host info strings contain a NUL byte".into())
        })?;
        let stream_chunk_size = config.stream_chunk_size;
        let host = HostInner::new(config);
        let (h_shared, h_main) = (host.clone(), host.clone());
        let instance = PluginInstance::<TestHost>::new(
            move |_| HostShared(h_shared),
            move |_| HostMain(h_main),
            library.entry(),
            &id_c,
            &host_info,
        )
        .map_err(|e| match e {
            PluginInstanceError::PluginNotFound => TestHostError::NoSuchPlugin {
                id: plugin_id.to_owned(),
                available: available.clone(),
            },
            other => TestHostError::InstantiationFailed {
                id: plugin_id.to_owned(),
                reason: other.to_string(),
            },
        })?;
        let mut inst = Self {
            processor: None,
            instance,
            host,
            plugin_id: plugin_id.to_owned(),
            ports: AudioPortLayout::default(),
            in_place: InPlace::Off,
            min_frames: 1,
            max_frames: 0,
            sample_rate: 0.0,
            stream_chunk_size,
            last_stream: StreamStats::default(),
            zero_transport_header: false,
        };
        inst.refresh_audio_ports();
        Ok(inst)
    }

    /// The plugin id.
    pub fn plugin_id(&self) -> &str {
        &self.plugin_id
    }

    /// The raw plugin pointer (for tests that need to poke at the ABI directly).
    pub fn raw_plugin(&self) -> *const clap_plugin {
        self.instance.raw_instance()
    }

    /// Whether the plugin exposes extension `id` (e.g. `"clap.params"`).
    pub fn has_extension(&self, id: &str) -> bool {
        let Ok(id) = CString::new(id) else {
            return false;
        };
        self.raw_extension::<u8>(&id).is_some()
    }

    /// The bridge's audit of allocations on the audio path
    /// (`bulkhead.audio-audit/1`): `None` when the plugin is not a bulkhead
    /// proxy or, for the host's counts, not active.
    pub fn audio_audit(&self) -> Option<AudioAuditCounts> {
        let get = self.raw_extension::<AudioAuditExt>(EXT_AUDIO_AUDIT)?.get?;
        let mut counts = AudioAuditCounts::default();
        let plugin = std::ptr::from_ref(self.instance.raw_instance());
        // SAFETY: a live proxy instance and a local out-struct; the
        // extension may be called from any thread.
        let active = unsafe { get(plugin.cast(), &mut counts) };
        active.then_some(counts)
    }

    fn raw_extension<T>(&self, id: &CStr) -> Option<&T> {
        let plugin = self.instance.raw_instance();
        let get = plugin.get_extension?;
        // SAFETY: `plugin` is a live, initialised instance; get_extension is a main-thread call
        // and we are on the main thread. `id` is a valid C string.
        let ext = unsafe { get(plugin, id.as_ptr()) };
        // SAFETY: per the CLAP spec a non-null extension pointer for `id` points to the matching
        // struct and stays valid for the lifetime of the instance (which outlives &self). Callers
        // pick `T` to match `id`.
        unsafe { ext.cast::<T>().as_ref() }
    }

    // ---- lifecycle ----

    /// Activates the plugin (main thread). Audio ports are re-read first.
    pub fn activate(&mut self, sample_rate: f64, min_frames: u32, max_frames: u32) -> Result<()> {
        if self.processor.is_some() {
            return Err(TestHostError::InvalidState("plugin is already active"));
        }
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(TestHostError::InvalidArgument(format!(
                "sample rate {sample_rate}"
            )));
        }
        if min_frames == 0 || max_frames == 0 || min_frames > max_frames {
            return Err(TestHostError::InvalidArgument(format!(
                "frame bounds [{min_frames}, {max_frames}]"
            )));
        }
        self.refresh_audio_ports();
        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: min_frames,
            max_frames_count: max_frames,
        };
        let stopped = self
            .instance
            .activate(|shared: &HostShared, _| HostAudio(shared.0.clone()), config)
            .map_err(|e| TestHostError::ActivationFailed(e.to_string()))?;
        self.processor = Some(stopped.into());
        self.sample_rate = sample_rate;
        self.min_frames = min_frames;
        self.max_frames = max_frames;
        Ok(())
    }

    /// Deactivates the plugin, stopping processing first if needed.
    pub fn deactivate(&mut self) -> Result<()> {
        let processor = self
            .processor
            .take()
            .ok_or(TestHostError::InvalidState("plugin is not active"))?;
        let stopped = {
            let _audio = self.host.enter_audio();
            processor.into_stopped()
        };
        self.instance.deactivate(stopped);
        Ok(())
    }

    /// Whether the plugin is active.
    pub fn is_active(&self) -> bool {
        self.processor.is_some()
    }

    /// Whether processing is started.
    pub fn is_processing(&self) -> bool {
        self.processor.as_ref().is_some_and(|p| p.is_started())
    }

    /// The sample rate of the current/last activation (0 before the first).
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// `max_frames_count` of the current/last activation.
    pub fn max_frames(&self) -> u32 {
        self.max_frames
    }

    /// Starts processing (audio thread).
    pub fn start_processing(&mut self) -> Result<()> {
        let processor = self
            .processor
            .as_mut()
            .ok_or(TestHostError::InvalidState("plugin is not active"))?;
        let _audio = self.host.enter_audio();
        match processor.start_processing() {
            Ok(_) => Ok(()),
            Err(PluginInstanceError::ProcessingStarted) => {
                Err(TestHostError::InvalidState("processing is already started"))
            }
            Err(_) => Err(TestHostError::StartProcessingFailed),
        }
    }

    /// Stops processing (audio thread).
    pub fn stop_processing(&mut self) -> Result<()> {
        let processor = self
            .processor
            .as_mut()
            .ok_or(TestHostError::InvalidState("plugin is not active"))?;
        let _audio = self.host.enter_audio();
        processor
            .stop_processing()
            .map(|_| ())
            .map_err(|_| TestHostError::InvalidState("processing is not started"))
    }

    /// Calls `reset` (audio thread; plugin must be active).
    pub fn reset(&mut self) -> Result<()> {
        let processor = self
            .processor
            .as_mut()
            .ok_or(TestHostError::InvalidState("plugin is not active"))?;
        let _audio = self.host.enter_audio();
        processor.reset();
        Ok(())
    }

    // ---- audio ports ----

    fn refresh_audio_ports(&mut self) {
        let handle = self.instance.plugin_handle();
        let mut layout = AudioPortLayout::default();
        if let Some(ext) = handle.get_extension::<PluginAudioPorts>() {
            for is_input in [true, false] {
                let count = ext.count(&handle, is_input);
                for index in 0..count {
                    let mut buffer = AudioPortInfoBuffer::new();
                    let Some(info) = ext.get(&handle, index, is_input, &mut buffer) else {
                        continue;
                    };
                    let info = AudioPortInfo {
                        id: info.id.get(),
                        name: lossy(info.name),
                        channel_count: info.channel_count,
                        flags: info.flags.bits(),
                        port_type: info.port_type.map(|t| t.0.to_string_lossy().into_owned()),
                        in_place_pair: info.in_place_pair.map(|p| p.get()),
                    };
                    if is_input {
                        layout.inputs.push(info);
                    } else {
                        layout.outputs.push(info);
                    }
                }
            }
        }
        self.ports = layout;
    }

    /// The audio port layout. Re-read from the plugin when inactive; while active, the layout
    /// read at activation (the one `process` expects).
    pub fn audio_ports(&mut self) -> AudioPortLayout {
        if !self.is_active() {
            self.refresh_audio_ports();
        }
        self.ports.clone()
    }

    /// Zeroed input buffers matching the current layout.
    pub fn input_buffers<T: Sample>(&self, frames: usize) -> AudioBuffers<T> {
        AudioBuffers::new(&self.ports.input_channels(), frames)
    }

    /// Zeroed output buffers matching the current layout.
    pub fn output_buffers<T: Sample>(&self, frames: usize) -> AudioBuffers<T> {
        AudioBuffers::new(&self.ports.output_channels(), frames)
    }

    /// Selects in-place processing for subsequent `process_*` calls.
    pub fn set_in_place(&mut self, mode: InPlace) {
        self.in_place = mode;
    }

    /// For each input port, the output port it shares memory with.
    fn in_place_pairs(&self) -> Vec<Option<usize>> {
        let (ins, outs) = (&self.ports.inputs, &self.ports.outputs);
        let mut used = vec![false; outs.len()];
        ins.iter()
            .enumerate()
            .map(|(i, input)| {
                let candidate = match self.in_place {
                    InPlace::Off => None,
                    InPlace::DeclaredPairs => outs.iter().position(|o| {
                        input.in_place_pair == Some(o.id) || o.in_place_pair == Some(input.id)
                    }),
                    InPlace::ByIndex => (i < outs.len()).then_some(i),
                };
                let j = candidate
                    .filter(|&j| !used[j] && outs[j].channel_count == input.channel_count)?;
                used[j] = true;
                Some(j)
            })
            .collect()
    }

    // ---- processing ----

    /// Processes `frames` frames of 32-bit audio.
    ///
    /// `inputs`/`outputs` must match [`audio_ports`](Self::audio_ports) (ports × channels, at least
    /// `frames` samples per channel). Input data is copied before the call, so the plugin can
    /// never modify `inputs`. Events must be sorted by `time`. Processing must be started.
    pub fn process_f32(
        &mut self,
        frames: u32,
        inputs: &AudioBuffers<f32>,
        outputs: &mut AudioBuffers<f32>,
        events_in: &[Event],
        steady_time: Option<i64>,
        transport: Option<&Transport>,
    ) -> Result<ProcessResult> {
        self.process(frames, inputs, outputs, events_in, steady_time, transport)
    }

    /// Processes `frames` frames of 64-bit audio. See [`process_f32`](Self::process_f32).
    pub fn process_f64(
        &mut self,
        frames: u32,
        inputs: &AudioBuffers<f64>,
        outputs: &mut AudioBuffers<f64>,
        events_in: &[Event],
        steady_time: Option<i64>,
        transport: Option<&Transport>,
    ) -> Result<ProcessResult> {
        self.process(frames, inputs, outputs, events_in, steady_time, transport)
    }

    fn check_layout<T: Sample>(
        what: &str,
        buffers: &AudioBuffers<T>,
        ports: &[AudioPortInfo],
        frames: usize,
    ) -> Result<()> {
        if buffers.ports.len() != ports.len() {
            return Err(TestHostError::InvalidArgument(format!(
                "{what}: {} ports given, plugin has {}",
                buffers.ports.len(),
                ports.len()
            )));
        }
        for (i, (channels, info)) in buffers.ports.iter().zip(ports).enumerate() {
            if channels.len() != info.channel_count as usize {
                return Err(TestHostError::InvalidArgument(format!(
                    "{what} port {i}: {} channels given, plugin has {}",
                    channels.len(),
                    info.channel_count
                )));
            }
            if let Some(c) = channels.iter().position(|c| c.len() < frames) {
                return Err(TestHostError::InvalidArgument(format!(
                    "{what} port {i} channel {c}: {} samples, need {frames}",
                    channels[c].len()
                )));
            }
        }
        Ok(())
    }

    /// Generic form of [`process_f32`](Self::process_f32) / [`process_f64`](Self::process_f64).
    pub fn process<T: Sample>(
        &mut self,
        frames: u32,
        inputs: &AudioBuffers<T>,
        outputs: &mut AudioBuffers<T>,
        events_in: &[Event],
        steady_time: Option<i64>,
        transport: Option<&Transport>,
    ) -> Result<ProcessResult> {
        if !self.is_active() {
            return Err(TestHostError::InvalidState(
                "process called while the plugin is not active",
            ));
        }
        if !self.is_processing() {
            return Err(TestHostError::InvalidState(
                "process called while processing is not started",
            ));
        }
        if frames < self.min_frames || frames > self.max_frames {
            return Err(TestHostError::InvalidArgument(format!(
                "{frames} frames outside the activated range [{}, {}]",
                self.min_frames, self.max_frames
            )));
        }
        let n = frames as usize;
        Self::check_layout("inputs", inputs, &self.ports.inputs, n)?;
        Self::check_layout("outputs", outputs, &self.ports.outputs, n)?;
        let pairs = self.in_place_pairs();

        // Input data: either copied into the paired output buffer (in-place) or into a private copy.
        let mut input_copies: Vec<Vec<Vec<T>>> = Vec::with_capacity(inputs.ports.len());
        for (i, port) in inputs.ports.iter().enumerate() {
            match pairs[i] {
                Some(j) => {
                    for (dst, src) in outputs.ports[j].iter_mut().zip(port) {
                        dst[..n].copy_from_slice(&src[..n]);
                    }
                    input_copies.push(Vec::new());
                }
                None => input_copies.push(port.iter().map(|c| c[..n].to_vec()).collect()),
            }
        }

        // From here on, `outputs` and `input_copies` are only accessed through these pointers
        // until the plugin returns.
        let mut out_ptrs: Vec<Vec<*mut T>> = outputs
            .ports
            .iter_mut()
            .map(|p| p.iter_mut().map(|c| c.as_mut_ptr()).collect())
            .collect();
        let mut in_ptrs: Vec<Vec<*mut T>> = input_copies
            .iter_mut()
            .enumerate()
            .map(|(i, p)| match pairs[i] {
                Some(j) => out_ptrs[j].clone(),
                None => p.iter_mut().map(|c| c.as_mut_ptr()).collect(),
            })
            .collect();
        let in_bufs: Vec<clap_audio_buffer> = in_ptrs
            .iter_mut()
            .map(|p| T::audio_buffer(p.as_mut_ptr(), p.len() as u32))
            .collect();
        let mut out_bufs: Vec<clap_audio_buffer> = out_ptrs
            .iter_mut()
            .map(|p| T::audio_buffer(p.as_mut_ptr(), p.len() as u32))
            .collect();

        let event_ptrs: Vec<*const clap_event_header> =
            events_in.iter().map(Event::as_header_ptr).collect();
        let in_events = raw_input_events(&event_ptrs);
        let mut out_list = OutputEventList::default();
        let out_events = raw_output_events(&mut out_list);
        let mut transport_raw = transport.map(Transport::to_raw);
        if self.zero_transport_header {
            if let Some(t) = transport_raw.as_mut() {
                // SAFETY: all-zero bytes are a valid (if meaningless) header.
                t.header = unsafe { std::mem::zeroed() };
            }
        }

        let process = clap_process {
            steady_time: steady_time.unwrap_or(-1),
            frames_count: frames,
            transport: transport_raw
                .as_ref()
                .map_or(std::ptr::null(), |t| t as *const _),
            audio_inputs: in_bufs.as_ptr(),
            audio_outputs: out_bufs.as_mut_ptr(),
            audio_inputs_count: in_bufs.len() as u32,
            audio_outputs_count: out_bufs.len() as u32,
            in_events: &in_events,
            out_events: &out_events,
        };

        let plugin = self.instance.raw_instance();
        let process_fn = plugin.process.ok_or(TestHostError::InvalidState(
            "plugin has no process function",
        ))?;
        let status = {
            let _audio = self.host.enter_audio();
            // SAFETY: the plugin is active and processing (checked above) and we act as its audio
            // thread. Every pointer in `process` refers to data that lives until the end of this
            // function: buffers sized per the plugin's port layout with >= `frames` samples per
            // channel, the event lists (whose contexts point at `event_ptrs`/`out_list`), and the
            // transport copy.
            unsafe { process_fn(plugin, &process) }
        };

        let output_constant_masks = out_bufs.iter().map(|b| b.constant_mask).collect();
        drop(in_ptrs);
        drop(out_ptrs);

        if !out_list.rejected.is_empty() {
            let n = out_list.rejected.len();
            self.host.with_record(|r| r.rejected_out_events += n);
        }
        let status = match status {
            CLAP_PROCESS_CONTINUE => ProcessStatus::Continue,
            CLAP_PROCESS_CONTINUE_IF_NOT_QUIET => ProcessStatus::ContinueIfNotQuiet,
            CLAP_PROCESS_TAIL => ProcessStatus::Tail,
            CLAP_PROCESS_SLEEP => ProcessStatus::Sleep,
            other => return Err(TestHostError::ProcessFailed { status: other }),
        };
        Ok(ProcessResult {
            status,
            out_events: out_list.events,
            output_constant_masks,
        })
    }

    // ---- params ----

    /// Every parameter's info (empty without the params extension).
    pub fn params(&mut self) -> Vec<ParamInfo> {
        let handle = self.instance.plugin_handle();
        let Some(ext) = handle.get_extension::<PluginParams>() else {
            return Vec::new();
        };
        (0..ext.count(&handle))
            .filter_map(|i| {
                let mut buffer = ParamInfoBuffer::new();
                let p = ext.get_info(&handle, i, &mut buffer)?;
                Some(ParamInfo {
                    id: p.id.get(),
                    flags: p.flags.bits(),
                    cookie: p.cookie.as_raw() as usize,
                    name: lossy(p.name),
                    module: lossy(p.module),
                    min_value: p.min_value,
                    max_value: p.max_value,
                    default_value: p.default_value,
                })
            })
            .collect()
    }

    fn param_id(id: u32) -> Result<ClapId> {
        ClapId::from_raw(id).ok_or_else(|| TestHostError::Param(format!("invalid param id {id}")))
    }

    /// Current value of parameter `id`.
    pub fn param_value(&mut self, id: u32) -> Result<f64> {
        let cid = Self::param_id(id)?;
        let handle = self.instance.plugin_handle();
        let ext = handle
            .get_extension::<PluginParams>()
            .ok_or(TestHostError::MissingExtension("params"))?;
        ext.get_value(&handle, cid)
            .ok_or_else(|| TestHostError::Param(format!("get_value({id}) failed")))
    }

    /// Formats `value` for parameter `id`.
    pub fn value_to_text(&mut self, id: u32, value: f64) -> Result<String> {
        let cid = Self::param_id(id)?;
        let handle = self.instance.plugin_handle();
        let ext = handle
            .get_extension::<PluginParams>()
            .ok_or(TestHostError::MissingExtension("params"))?;
        let mut buffer = [0u8; 512];
        let text = ext
            .value_to_text(&handle, cid, value, &mut buffer)
            .map_err(|_| TestHostError::Param(format!("value_to_text({id}, {value}) failed")))?;
        Ok(lossy(text))
    }

    /// Parses `text` for parameter `id`.
    pub fn text_to_value(&mut self, id: u32, text: &str) -> Result<f64> {
        let cid = Self::param_id(id)?;
        let text_c = CString::new(text)
            .map_err(|_| TestHostError::Param("text contains a NUL byte".into()))?;
        let handle = self.instance.plugin_handle();
        let ext = handle
            .get_extension::<PluginParams>()
            .ok_or(TestHostError::MissingExtension("params"))?;
        ext.text_to_value(&handle, cid, &text_c)
            .ok_or_else(|| TestHostError::Param(format!("text_to_value({id}, {text:?}) failed")))
    }

    /// Calls `params.flush` with `events` and returns the events the plugin pushed.
    ///
    /// Runs as a main-thread call while inactive and as an audio-thread call while active.
    pub fn flush(&mut self, events: &[Event]) -> Result<Vec<Event>> {
        let flush = self
            .raw_extension::<clap_plugin_params>(CLAP_EXT_PARAMS)
            .ok_or(TestHostError::MissingExtension("params"))?
            .flush
            .ok_or(TestHostError::MissingExtension("params (flush)"))?;
        let event_ptrs: Vec<*const clap_event_header> =
            events.iter().map(Event::as_header_ptr).collect();
        let in_events = raw_input_events(&event_ptrs);
        let mut out_list = OutputEventList::default();
        let out_events = raw_output_events(&mut out_list);
        let _audio = self.is_active().then(|| self.host.enter_audio());
        // SAFETY: the plugin is alive; we are on its main thread (inactive) or act as its audio
        // thread outside of process (active). The lists point at `event_ptrs` / `out_list`, which
        // outlive the call, and every event pointer refers to a live Event in `events`.
        unsafe { flush(self.instance.raw_instance(), &in_events, &out_events) };
        drop(_audio);
        if !out_list.rejected.is_empty() {
            let n = out_list.rejected.len();
            self.host.with_record(|r| r.rejected_out_events += n);
        }
        Ok(out_list.events)
    }

    // ---- state ----

    /// Sets the maximum bytes per stream call for state save/load (`None`: unlimited).
    pub fn set_stream_chunk_size(&mut self, chunk: Option<usize>) {
        self.stream_chunk_size = chunk;
    }

    /// Byte and call counts of the last state save or load.
    pub fn last_stream_stats(&self) -> StreamStats {
        self.last_stream
    }

    /// Saves the plugin state.
    pub fn save_state(&mut self) -> Result<Vec<u8>> {
        let save = self
            .raw_extension::<clap_plugin_state>(CLAP_EXT_STATE)
            .ok_or(TestHostError::MissingExtension("state"))?
            .save
            .ok_or(TestHostError::MissingExtension("state (save)"))?;
        let mut ctx = OutputStreamCtx::new(self.stream_chunk_size);
        let stream = ctx.raw();
        // SAFETY: main-thread call on a live plugin; `stream` points at `ctx`, which outlives the
        // call and is not touched until it returns.
        let ok = unsafe { save(self.instance.raw_instance(), &stream) };
        self.last_stream = StreamStats {
            bytes: ctx.data.len(),
            calls: ctx.calls,
        };
        if ok {
            Ok(ctx.data)
        } else {
            Err(TestHostError::StateSaveFailed)
        }
    }

    /// Loads a plugin state.
    pub fn load_state(&mut self, data: &[u8]) -> Result<()> {
        let load = self
            .raw_extension::<clap_plugin_state>(CLAP_EXT_STATE)
            .ok_or(TestHostError::MissingExtension("state"))?
            .load
            .ok_or(TestHostError::MissingExtension("state (load)"))?;
        let mut ctx = InputStreamCtx::new(data, self.stream_chunk_size);
        let stream = ctx.raw();
        // SAFETY: main-thread call on a live plugin; `stream` points at `ctx`, which outlives the
        // call and is not touched until it returns.
        let ok = unsafe { load(self.instance.raw_instance(), &stream) };
        self.last_stream = StreamStats {
            bytes: ctx.position(),
            calls: ctx.calls,
        };
        if ok {
            Ok(())
        } else {
            Err(TestHostError::StateLoadRejected { len: data.len() })
        }
    }

    // ---- misc extensions ----

    /// Latency in samples (`None` without the latency extension).
    pub fn latency(&mut self) -> Option<u32> {
        let handle = self.instance.plugin_handle();
        let ext = handle.get_extension::<PluginLatency>()?;
        Some(ext.get(&handle))
    }

    /// Tail length in samples (`u32::MAX`/`i32::MAX` and above mean infinite); `Ok(None)` without
    /// the tail extension. The plugin must be active.
    pub fn tail(&mut self) -> Result<Option<u32>> {
        let processor = self.processor.as_mut().ok_or(TestHostError::InvalidState(
            "tail requires an active plugin",
        ))?;
        let _audio = self.host.enter_audio();
        let handle = processor.plugin_handle();
        let Some(ext) = handle.get_extension::<PluginTail>() else {
            return Ok(None);
        };
        Ok(Some(ext.get(&handle).to_raw()))
    }

    /// Note ports on one side (empty without the note-ports extension).
    pub fn note_ports(&mut self, is_input: bool) -> Vec<NotePortInfo> {
        let handle = self.instance.plugin_handle();
        let Some(ext) = handle.get_extension::<PluginNotePorts>() else {
            return Vec::new();
        };
        (0..ext.count(&handle, is_input))
            .filter_map(|i| {
                let mut buffer = NotePortInfoBuffer::new();
                let info = ext.get(&handle, i, is_input, &mut buffer)?;
                Some(NotePortInfo {
                    id: info.id.get(),
                    name: lossy(info.name),
                    supported_dialects: info.supported_dialects.bits(),
                    preferred_dialect: info.preferred_dialect.map_or(0, |d| d as u32),
                })
            })
            .collect()
    }

    /// Voice info (`None` without the extension or if the plugin's `get` fails).
    pub fn voice_info(&mut self) -> Option<VoiceInfo> {
        let handle = self.instance.plugin_handle();
        let ext = handle.get_extension::<PluginVoiceInfo>()?;
        ext.get(&handle).map(|v| VoiceInfo {
            voice_count: v.voice_count,
            voice_capacity: v.voice_capacity,
            flags: v.flags.bits(),
        })
    }

    /// From now on, transports are passed with an all-zero event header
    /// (size, type and flags 0), as a real DAW was seen to do.
    pub fn zero_transport_headers(&mut self, on: bool) {
        self.zero_transport_header = on;
    }

    /// Sets the render mode through `clap.render`.
    pub fn set_render_mode(&mut self, mode: RenderMode) -> Result<()> {
        let handle = self.instance.plugin_handle();
        let ext = handle
            .get_extension::<PluginRender>()
            .ok_or(TestHostError::MissingExtension("render"))?;
        ext.set(&handle, mode)
            .map_err(|_| TestHostError::InvalidState("plugin refused the render mode"))
    }

    /// `clap.render` `has_hard_realtime_requirement` (`None` without the extension).
    pub fn has_hard_realtime_requirement(&mut self) -> Option<bool> {
        let handle = self.instance.plugin_handle();
        let ext = handle.get_extension::<PluginRender>()?;
        Some(ext.has_realtime_requirement(&handle))
    }

    // ---- host record & main-thread tasks ----

    /// Snapshot of everything the plugin asked of the host so far.
    pub fn record(&self) -> HostRecord {
        self.host.record()
    }

    /// Snapshot of the record, then clears it (timer/fd registrations stay in effect).
    pub fn take_record(&mut self) -> HostRecord {
        self.host.take_record()
    }

    /// Whether the plugin called `request_restart` since the last call (clears the flag).
    pub fn take_restart_request(&mut self) -> bool {
        self.host.restart_requested.swap(false, Ordering::SeqCst)
    }

    /// Whether the plugin called `request_process` since the last call (clears the flag).
    pub fn take_process_request(&mut self) -> bool {
        self.host.process_requested.swap(false, Ordering::SeqCst)
    }

    /// Whether a `request_callback` is pending (not cleared).
    pub fn callback_pending(&self) -> bool {
        self.host.callback_requested.load(Ordering::SeqCst)
    }

    /// Currently registered timers as `(id, period_ms)`.
    pub fn timers(&self) -> Vec<(u32, u32)> {
        self.host.timers()
    }

    /// Currently registered fds as `(fd, CLAP_POSIX_FD_* flags)`.
    pub fn fds(&self) -> Vec<(i32, u32)> {
        self.host.fds()
    }

    /// Main-thread pump: calls `on_main_thread` if the plugin requested a callback, then
    /// [`run_main_thread_tasks`](Self::run_main_thread_tasks). Returns the number of plugin calls
    /// made.
    pub fn pump(&mut self) -> usize {
        let mut calls = 0;
        if self.host.callback_requested.swap(false, Ordering::SeqCst) {
            self.instance.call_on_main_thread_callback();
            self.host.with_record(|r| r.on_main_thread_calls += 1);
            calls += 1;
        }
        calls + self.run_main_thread_tasks()
    }

    /// Pumps repeatedly for `duration` (sleeping 1 ms between rounds).
    pub fn pump_for(&mut self, duration: Duration) -> usize {
        let deadline = Instant::now() + duration;
        let mut calls = 0;
        loop {
            calls += self.pump();
            if Instant::now() >= deadline {
                return calls;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Pumps until `done(&record)` holds or `timeout` passes; returns whether it held.
    pub fn pump_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&HostRecord) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            self.pump();
            if done(&self.host.record()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Fires due timers and polls registered fds (zero timeout), dispatching `on_timer`/`on_fd`.
    /// Returns the number of plugin calls made.
    pub fn run_main_thread_tasks(&mut self) -> usize {
        self.fire_timers(false) + self.poll_fds()
    }

    /// Fires every registered timer once, due or not. Returns the number of `on_timer` calls.
    pub fn fire_all_timers(&mut self) -> usize {
        self.fire_timers(true)
    }

    fn fire_timers(&mut self, all: bool) -> usize {
        let due = self.host.due_timers(all);
        if due.is_empty() {
            return 0;
        }
        let handle = self.instance.plugin_handle();
        let Some(ext) = handle.get_extension::<PluginTimer>() else {
            return 0;
        };
        let mut fired = 0;
        for id in due {
            // A previous on_timer may have unregistered this timer.
            if self.host.timer_registered(id) {
                ext.on_timer(&handle, TimerId(id));
                fired += 1;
            }
        }
        self.host.with_record(|r| r.timer_fires += fired);
        fired
    }

    fn poll_fds(&mut self) -> usize {
        let fds = self.host.fds();
        if fds.is_empty() {
            return 0;
        }
        let mut pollfds: Vec<libc::pollfd> = fds
            .iter()
            .map(|&(fd, flags)| {
                let flags = FdFlags::from_bits_truncate(flags);
                let mut events = 0;
                if flags.contains(FdFlags::READ) {
                    events |= libc::POLLIN;
                }
                if flags.contains(FdFlags::WRITE) {
                    events |= libc::POLLOUT;
                }
                libc::pollfd {
                    fd,
                    events,
                    revents: 0,
                }
            })
            .collect();
        // SAFETY: `pollfds` is a valid, writable array of `len` pollfd structs; timeout 0 means
        // poll returns immediately.
        let ready = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, 0) };
        if ready <= 0 {
            return 0;
        }
        let handle = self.instance.plugin_handle();
        let Some(ext) = handle.get_extension::<PluginPosixFd>() else {
            return 0;
        };
        let mut fired = 0;
        for (pfd, &(_, registered)) in pollfds.iter().zip(&fds) {
            let registered = FdFlags::from_bits_truncate(registered);
            let mut flags = FdFlags::empty();
            if pfd.revents & (libc::POLLIN | libc::POLLHUP) != 0
                && registered.contains(FdFlags::READ)
            {
                flags |= FdFlags::READ;
            }
            if pfd.revents & libc::POLLOUT != 0 {
                flags |= FdFlags::WRITE;
            }
            if pfd.revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
                flags |= FdFlags::ERROR;
            }
            if flags.is_empty() || !self.host.fd_registered(pfd.fd) {
                continue;
            }
            ext.on_fd(&handle, pfd.fd, flags);
            fired += 1;
        }
        self.host.with_record(|r| r.fd_fires += fired);
        fired
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(processor) = self.processor.take() {
            let stopped = {
                let _audio = self.host.enter_audio();
                processor.into_stopped()
            };
            self.instance.deactivate(stopped);
        }
    }
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("plugin_id", &self.plugin_id)
            .field("active", &self.is_active())
            .field("processing", &self.is_processing())
            .field("ports", &self.ports)
            .finish_non_exhaustive()
    }
}
