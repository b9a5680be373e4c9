//! Audio ports (one stereo in/out pair) and the per-channel delay line.

use crate::params::MAX_LATENCY;
use crate::LatencyMainThread;
use bulkhead_sample_support::audio::mark_outputs_dynamic;
use bulkhead_sample_support::ports::STEREO_CHANNELS;
use clack_plugin::prelude::*;
use clack_plugin::process::audio::PairedChannels;

const CHANNELS: usize = STEREO_CHANNELS as usize;

bulkhead_sample_support::stereo_audio_ports!(LatencyMainThread<'_>);

/// A sample type the delay line can carry (losslessly, as `f64`).
trait Sample: Copy + Default {
    fn to_f64(self) -> f64;
    fn from_f64(value: f64) -> Self;
}

impl Sample for f32 {
    fn to_f64(self) -> f64 {
        self.into()
    }

    fn from_f64(value: f64) -> Self {
        value as f32
    }
}

impl Sample for f64 {
    fn to_f64(self) -> f64 {
        self
    }

    fn from_f64(value: f64) -> Self {
        value
    }
}

/// Ring buffers delaying each channel of the main port by a fixed number of samples.
pub struct DelayLine {
    lines: [Vec<f64>; CHANNELS],
    /// Ring position of the first sample of the next block.
    position: usize,
    latency: u32,
}

impl DelayLine {
    pub fn new(latency: u32, max_frames: u32) -> Self {
        let len = MAX_LATENCY as usize + max_frames as usize;
        Self {
            lines: [vec![0.0; len], vec![0.0; len]],
            position: 0,
            latency,
        }
    }

    pub fn latency(&self) -> u32 {
        self.latency
    }

    pub fn clear(&mut self) {
        self.lines.iter_mut().for_each(|line| line.fill(0.0));
        self.position = 0;
    }

    /// Delays the main input into the main output, in the host's precision.
    pub fn process(&mut self, audio: &mut Audio) -> Result<(), PluginError> {
        let frames = audio.frames_count() as usize;
        if let Some(mut pair) = audio.port_pair(0) {
            match pair.channels()? {
                SampleType::F32(channels) | SampleType::Both(channels, _) => self.run(channels),
                SampleType::F64(channels) => self.run(channels),
            }
        }
        mark_outputs_dynamic(audio);
        self.position = (self.position + frames) % self.lines[0].len();
        Ok(())
    }

    fn run<S: Sample>(&mut self, channels: PairedChannels<S>) {
        let (position, latency) = (self.position, self.latency as usize);
        for (index, pair) in channels.into_iter().enumerate() {
            let Some(line) = self.lines.get_mut(index) else {
                // Channels beyond stereo are not part of the port layout: output silence.
                if let ChannelPair::InputOutput(_, out)
                | ChannelPair::InPlace(out)
                | ChannelPair::OutputOnly(out) = pair
                {
                    out.fill(S::default());
                }
                continue;
            };
            let mut tick = |offset: usize, x: S| -> S {
                let len = line.len();
                line[(position + offset) % len] = x.to_f64();
                S::from_f64(line[(position + offset + len - latency) % len])
            };
            match pair {
                ChannelPair::InputOutput(input, output) => {
                    for (offset, (x, out)) in input.iter().zip(output).enumerate() {
                        *out = tick(offset, *x);
                    }
                }
                ChannelPair::InPlace(buffer) => {
                    for (offset, sample) in buffer.iter_mut().enumerate() {
                        *sample = tick(offset, *sample);
                    }
                }
                ChannelPair::OutputOnly(output) => {
                    for (offset, out) in output.iter_mut().enumerate() {
                        *out = tick(offset, S::default());
                    }
                }
                ChannelPair::InputOnly(_) => {}
            }
        }
    }
}
