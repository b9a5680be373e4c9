//! High-level offline renderer: drive a plugin through a deterministic session and collect
//! everything observable, so two renders (direct vs. bridged) can be compared bit for bit.

use crate::error::{Result, TestHostError};
use crate::events::{Event, TimedEvent, Transport};
use crate::host::{HostConfig, HostRecord};
use crate::instance::{
    AudioBuffers, AudioPortLayout, InPlace, Instance, ProcessStatus, RenderMode, Sample,
};
use crate::library::PluginLibrary;
use std::fmt;
use std::sync::Arc;

/// Sample precision used for processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// 32-bit float buffers (`data32`).
    #[default]
    F32,
    /// 64-bit float buffers (`data64`).
    F64,
}

/// Deterministic input signal. Every sample depends only on (port, channel, absolute frame), so
/// the signal does not depend on the block sizes.
#[derive(Clone, Default)]
pub enum InputSignal {
    /// All zeros.
    #[default]
    Silence,
    /// Uniform white noise in `[-amplitude, amplitude)` from a seeded hash (different per channel).
    Noise {
        /// Seed.
        seed: u64,
        /// Peak amplitude.
        amplitude: f64,
    },
    /// A sine; channel `k` (counting across ports) is phase-shifted by `k * 0.5` rad.
    Sine {
        /// Frequency in Hz.
        frequency: f64,
        /// Peak amplitude.
        amplitude: f64,
    },
    /// A constant value.
    Constant(f64),
    /// `f(port, channel, frame)`.
    Custom(Arc<dyn Fn(usize, usize, u64) -> f64 + Send + Sync>),
}

impl fmt::Debug for InputSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Silence => f.write_str("Silence"),
            Self::Noise { seed, amplitude } => f
                .debug_struct("Noise")
                .field("seed", seed)
                .field("amplitude", amplitude)
                .finish(),
            Self::Sine {
                frequency,
                amplitude,
            } => f
                .debug_struct("Sine")
                .field("frequency", frequency)
                .field("amplitude", amplitude)
                .finish(),
            Self::Constant(v) => f.debug_tuple("Constant").field(v).finish(),
            Self::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl InputSignal {
    /// The sample at (port, channel, frame).
    pub fn sample(&self, port: usize, channel: usize, frame: u64, sample_rate: f64) -> f64 {
        match self {
            Self::Silence => 0.0,
            Self::Constant(v) => *v,
            Self::Noise { seed, amplitude } => {
                let lane = ((port as u64) << 32) | channel as u64;
                let h = splitmix64(seed ^ splitmix64(lane ^ splitmix64(frame)));
                let unit = (h >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
                (unit * 2.0 - 1.0) * amplitude
            }
            Self::Sine {
                frequency,
                amplitude,
            } => {
                let k = (port * 16 + channel) as f64;
                let t = frame as f64 / sample_rate;
                (std::f64::consts::TAU * frequency * t + k * 0.5).sin() * amplitude
            }
            Self::Custom(f) => f(port, channel, frame),
        }
    }
}

/// Transport to send with every block (constant tempo, playing from frame 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransportSpec {
    /// Tempo in BPM.
    pub tempo: f64,
    /// Time signature numerator.
    pub tsig_num: u16,
    /// Time signature denominator.
    pub tsig_denom: u16,
}

impl Default for TransportSpec {
    fn default() -> Self {
        Self {
            tempo: 120.0,
            tsig_num: 4,
            tsig_denom: 4,
        }
    }
}

/// What to render.
#[derive(Debug, Clone)]
pub struct RenderSpec {
    /// Sample rate passed to `activate`.
    pub sample_rate: f64,
    /// Block sizes, cycled (e.g. `[1, 7, 64, 4096, 33]`); the last block is truncated to
    /// `total_frames`.
    pub block_sizes: Vec<u32>,
    /// Total number of frames to render.
    pub total_frames: u64,
    /// Sample precision.
    pub precision: Precision,
    /// Input signal for every input channel.
    pub input: InputSignal,
    /// Events at absolute frame positions (delivered in the block containing the frame, with
    /// block-relative `time`; events at the same frame keep their order).
    pub events: Vec<TimedEvent>,
    /// State loaded before activation.
    pub state: Option<Vec<u8>>,
    /// In-place processing mode.
    pub in_place: InPlace,
    /// Transport sent with every block.
    pub transport: Option<TransportSpec>,
    /// Render mode set (through `clap.render`) before activation; an error if unsupported.
    pub render_mode: Option<RenderMode>,
    /// Pass `steady_time` = absolute frame position (otherwise -1).
    pub steady_time: bool,
    /// Call [`Instance::pump`] after every block (answers `request_callback`, fires timers).
    pub pump_between_blocks: bool,
    /// `min_frames_count` for activation (default 1).
    pub min_frames: Option<u32>,
    /// `max_frames_count` for activation (default: largest block size).
    pub max_frames: Option<u32>,
    /// Save the state after rendering (if the plugin has the state extension).
    pub save_state_after: bool,
    /// Host configuration for the instance created by [`render`].
    pub host: HostConfig,
}

impl Default for RenderSpec {
    fn default() -> Self {
        Self {
            sample_rate: 48_000.0,
            block_sizes: vec![512],
            total_frames: 48_000,
            precision: Precision::F32,
            input: InputSignal::Noise {
                seed: 1,
                amplitude: 0.5,
            },
            events: Vec::new(),
            state: None,
            in_place: InPlace::Off,
            transport: None,
            render_mode: None,
            steady_time: true,
            pump_between_blocks: true,
            min_frames: None,
            max_frames: None,
            save_state_after: true,
            host: HostConfig::default(),
        }
    }
}

/// Everything observable from a render.
#[derive(Debug, Clone)]
pub struct RenderOutput {
    /// Output audio as `f64`: port → channel → frame (exact conversion for `F32` renders).
    pub audio: Vec<Vec<Vec<f64>>>,
    /// The original `f32` output for `F32` renders.
    pub audio_f32: Option<Vec<Vec<Vec<f32>>>>,
    /// Events the plugin produced, with absolute frame positions.
    pub out_events: Vec<TimedEvent>,
    /// Process status of every block.
    pub statuses: Vec<ProcessStatus>,
    /// State saved after rendering (`None` if not requested or the plugin has no state).
    pub state: Option<Vec<u8>>,
    /// Latency reported after activation.
    pub latency: Option<u32>,
    /// Audio port layout used.
    pub ports: AudioPortLayout,
    /// Frames rendered.
    pub frames: u64,
    /// Host callbacks made during the render (including instantiation).
    pub record: HostRecord,
}

impl RenderOutput {
    /// Largest absolute output sample.
    pub fn peak(&self) -> f64 {
        self.audio
            .iter()
            .flatten()
            .flatten()
            .fold(0.0f64, |m, s| m.max(s.abs()))
    }

    /// RMS over all output channels.
    pub fn rms(&self) -> f64 {
        let (sum, n) = self
            .audio
            .iter()
            .flatten()
            .flatten()
            .fold((0.0f64, 0usize), |(s, n), x| (s + x * x, n + 1));
        if n == 0 {
            0.0
        } else {
            (sum / n as f64).sqrt()
        }
    }

    /// First bitwise audio difference, as a description.
    pub fn audio_difference(&self, other: &RenderOutput) -> Option<String> {
        if let (Some(a), Some(b)) = (&self.audio_f32, &other.audio_f32) {
            return first_diff(a, b, |x| u64::from(x.to_bits()));
        }
        first_diff(&self.audio, &other.audio, |x| x.to_bits())
    }

    /// First event difference, as a description. Events are compared by absolute frame and
    /// [canonical form](Event::canonical_bytes_without_time) (the block-relative `time` is
    /// ignored, so renders with different block sizes compare equal).
    pub fn events_difference(&self, other: &RenderOutput) -> Option<String> {
        for (i, (a, b)) in self.out_events.iter().zip(&other.out_events).enumerate() {
            if a.frame != b.frame
                || a.event.canonical_bytes_without_time() != b.event.canonical_bytes_without_time()
            {
                return Some(format!("out event {i} differs: {a:?} vs {b:?}"));
            }
        }
        (self.out_events.len() != other.out_events.len()).then(|| {
            format!(
                "out event count differs: {} vs {}",
                self.out_events.len(),
                other.out_events.len()
            )
        })
    }

    /// Compares port layouts, audio (bitwise), out events (frame + canonical form), block statuses
    /// (when both renders used the same number of blocks), latency and, when both renders saved
    /// one, the state. Returns the first difference found.
    pub fn compare(&self, other: &RenderOutput) -> Result<(), String> {
        if self.ports != other.ports {
            return Err(format!(
                "port layouts differ: {:?} vs {:?}",
                self.ports, other.ports
            ));
        }
        if let Some(d) = self.audio_difference(other) {
            return Err(d);
        }
        if let Some(d) = self.events_difference(other) {
            return Err(d);
        }
        if self.statuses.len() == other.statuses.len() && self.statuses != other.statuses {
            let i = self
                .statuses
                .iter()
                .zip(&other.statuses)
                .position(|(a, b)| a != b)
                .unwrap_or(self.statuses.len().min(other.statuses.len()));
            return Err(format!(
                "process status differs at block {i}: {:?} vs {:?}",
                self.statuses.get(i),
                other.statuses.get(i)
            ));
        }
        if self.latency != other.latency {
            return Err(format!(
                "latency differs: {:?} vs {:?}",
                self.latency, other.latency
            ));
        }
        if let (Some(a), Some(b)) = (&self.state, &other.state) {
            if a != b {
                let i = a.iter().zip(b).position(|(x, y)| x != y);
                return Err(format!(
                    "saved state differs ({} vs {} bytes, first difference at byte {:?})",
                    a.len(),
                    b.len(),
                    i
                ));
            }
        }
        Ok(())
    }
}

fn first_diff<T: Copy + fmt::Debug>(
    a: &[Vec<Vec<T>>],
    b: &[Vec<Vec<T>>],
    bits: impl Fn(T) -> u64,
) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!(
            "output port count differs: {} vs {}",
            a.len(),
            b.len()
        ));
    }
    for (p, (pa, pb)) in a.iter().zip(b).enumerate() {
        if pa.len() != pb.len() {
            return Some(format!(
                "port {p} channel count differs: {} vs {}",
                pa.len(),
                pb.len()
            ));
        }
        for (c, (ca, cb)) in pa.iter().zip(pb).enumerate() {
            if ca.len() != cb.len() {
                return Some(format!(
                    "port {p} channel {c} length differs: {} vs {}",
                    ca.len(),
                    cb.len()
                ));
            }
            if let Some(f) = ca.iter().zip(cb).position(|(x, y)| bits(*x) != bits(*y)) {
                return Some(format!(
                    "audio differs at port {p} channel {c} frame {f}: {:?} vs {:?}",
                    ca[f], cb[f]
                ));
            }
        }
    }
    None
}

/// Creates an instance of `plugin_id` with `spec.host` and renders `spec` with it.
pub fn render(library: &PluginLibrary, plugin_id: &str, spec: &RenderSpec) -> Result<RenderOutput> {
    let mut instance = Instance::new(library, plugin_id, spec.host.clone())?;
    render_instance(&mut instance, spec)
}

/// Renders `spec` with an existing, inactive instance (`spec.host` is ignored). The instance is
/// left inactive; its host record is taken (cleared) into the output.
pub fn render_instance(instance: &mut Instance, spec: &RenderSpec) -> Result<RenderOutput> {
    if instance.is_active() {
        return Err(TestHostError::InvalidState(
            "render_instance needs an inactive instance",
        ));
    }
    if spec.block_sizes.is_empty() || spec.block_sizes.contains(&0) {
        return Err(TestHostError::InvalidArgument(
            "block_sizes must be non-empty and contain no zero".into(),
        ));
    }
    let largest = *spec.block_sizes.iter().max().unwrap_or(&1);
    let max_frames = spec.max_frames.unwrap_or(largest);
    let min_frames = spec.min_frames.unwrap_or(1);
    if largest > max_frames || spec.block_sizes.iter().any(|&b| b < min_frames) {
        return Err(TestHostError::InvalidArgument(format!(
            "block sizes {:?} outside [{min_frames}, {max_frames}]",
            spec.block_sizes
        )));
    }

    if let Some(mode) = spec.render_mode {
        instance.set_render_mode(mode)?;
    }
    if let Some(state) = &spec.state {
        instance.load_state(state)?;
    }
    instance.set_in_place(spec.in_place);
    instance.activate(spec.sample_rate, min_frames, max_frames)?;
    let latency = instance.latency();
    let ports = instance.audio_ports();

    type Rendered = (
        Vec<Vec<Vec<f64>>>,
        Option<Vec<Vec<Vec<f32>>>>,
        Vec<TimedEvent>,
        Vec<ProcessStatus>,
    );
    let result = (|| -> Result<Rendered> {
        instance.start_processing()?;
        let blocks = match spec.precision {
            Precision::F32 => {
                let (audio, events, statuses) = render_blocks::<f32>(instance, spec, max_frames)?;
                let audio64 = audio
                    .iter()
                    .map(|p| {
                        p.iter()
                            .map(|c| c.iter().map(|&s| f64::from(s)).collect())
                            .collect()
                    })
                    .collect();
                (audio64, Some(audio), events, statuses)
            }
            Precision::F64 => {
                let (audio, events, statuses) = render_blocks::<f64>(instance, spec, max_frames)?;
                (audio, None, events, statuses)
            }
        };
        instance.stop_processing()?;
        Ok(blocks)
    })();
    // Always leave the instance inactive, even after an error.
    let deactivated = instance.deactivate();
    let (audio, audio_f32, out_events, statuses) = result?;
    deactivated?;

    let state = if spec.save_state_after && instance.has_extension("clap.state") {
        Some(instance.save_state()?)
    } else {
        None
    };

    Ok(RenderOutput {
        audio,
        audio_f32,
        out_events,
        statuses,
        state,
        latency,
        ports,
        frames: spec.total_frames,
        record: instance.take_record(),
    })
}

type Blocks<T> = (Vec<Vec<Vec<T>>>, Vec<TimedEvent>, Vec<ProcessStatus>);

fn render_blocks<T: Sample>(
    instance: &mut Instance,
    spec: &RenderSpec,
    max_frames: u32,
) -> Result<Blocks<T>> {
    let total = spec.total_frames;
    let mut inputs: AudioBuffers<T> = instance.input_buffers(max_frames as usize);
    let mut outputs: AudioBuffers<T> = instance.output_buffers(max_frames as usize);
    let mut audio: Vec<Vec<Vec<T>>> = outputs
        .ports
        .iter()
        .map(|p| {
            p.iter()
                .map(|_| Vec::with_capacity(total.min(1 << 26) as usize))
                .collect()
        })
        .collect();

    let mut timeline: Vec<&TimedEvent> = spec.events.iter().collect();
    timeline.sort_by_key(|e| e.frame); // stable: same-frame events keep their order
    let mut next_event = 0usize;

    let mut out_events = Vec::new();
    let mut statuses = Vec::new();
    let mut pos = 0u64;
    let mut block = 0usize;
    let mut block_events: Vec<Event> = Vec::new();
    while pos < total {
        let n = u64::from(spec.block_sizes[block % spec.block_sizes.len()]).min(total - pos) as u32;
        let end = pos + u64::from(n);

        block_events.clear();
        while next_event < timeline.len() && timeline[next_event].frame < end {
            let e = timeline[next_event];
            block_events.push(e.event.clone().with_time((e.frame.max(pos) - pos) as u32));
            next_event += 1;
        }

        for (p, port) in inputs.ports.iter_mut().enumerate() {
            for (c, ch) in port.iter_mut().enumerate() {
                for (i, s) in ch[..n as usize].iter_mut().enumerate() {
                    *s = T::from_f64(spec.input.sample(p, c, pos + i as u64, spec.sample_rate));
                }
            }
        }
        outputs.clear();

        let transport = spec.transport.map(|t| {
            Transport::playing_at(pos, spec.sample_rate, t.tempo, t.tsig_num, t.tsig_denom)
        });
        let steady = spec.steady_time.then_some(pos as i64);
        let result = instance.process(
            n,
            &inputs,
            &mut outputs,
            &block_events,
            steady,
            transport.as_ref(),
        )?;

        for (dst_port, src_port) in audio.iter_mut().zip(&outputs.ports) {
            for (dst, src) in dst_port.iter_mut().zip(src_port) {
                dst.extend_from_slice(&src[..n as usize]);
            }
        }
        out_events.extend(
            result
                .out_events
                .into_iter()
                .map(|e| TimedEvent::new(pos + u64::from(e.time()), e)),
        );
        statuses.push(result.status);

        if spec.pump_between_blocks {
            instance.pump();
        }
        pos = end;
        block += 1;
    }
    Ok((audio, out_events, statuses))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_deterministic_and_bounded() {
        let s = InputSignal::Noise {
            seed: 7,
            amplitude: 0.5,
        };
        let a: Vec<f64> = (0..1000).map(|f| s.sample(0, 1, f, 48_000.0)).collect();
        let b: Vec<f64> = (0..1000).map(|f| s.sample(0, 1, f, 48_000.0)).collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|x| (-0.5..0.5).contains(x)));
        let other: Vec<f64> = (0..1000).map(|f| s.sample(0, 0, f, 48_000.0)).collect();
        assert_ne!(a, other);
    }
}
