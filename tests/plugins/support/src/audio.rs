//! Sample-accurate gain processing in either precision, and output-port bookkeeping.

use clack_plugin::prelude::*;
use clack_plugin::process::audio::PairedChannels;
use clack_plugin::process::ConstantMask;
use std::ops::{Mul, Range};

/// An audio processor whose output is its input times a gain that input events change at their
/// exact sample time.
pub trait SampleAccurateGain {
    /// The gain applied to the frames up to the next event.
    fn gain(&self) -> f64;

    /// Handles one input event of the block (in order), pushing any output events it causes.
    fn handle_event(&mut self, event: &UnknownEvent, output: &mut OutputEvents);
}

/// Processes one block: each stretch of frames between events is scaled by the gain in effect,
/// every event is handled at its (clamped) time, and every output is marked non-constant.
pub fn process_gain<P: SampleAccurateGain + ?Sized>(
    processor: &mut P,
    audio: &mut Audio,
    events: Events,
) -> Result<ProcessStatus, PluginError> {
    let frames = audio.frames_count() as usize;
    let mut start = 0;
    for event in events.input {
        let time = (event.header().time() as usize).clamp(start, frames);
        if time > start {
            apply_gain(audio, start..time, processor.gain())?;
            start = time;
        }
        processor.handle_event(event, events.output);
    }
    apply_gain(audio, start..frames, processor.gain())?;
    mark_outputs_dynamic(audio);
    Ok(ProcessStatus::Continue)
}

/// Writes `input * factor` to the main output for the frames in `range`, in the host's precision
/// (single precision uses the factor rounded to `f32`).
pub fn apply_gain(audio: &mut Audio, range: Range<usize>, factor: f64) -> Result<(), PluginError> {
    let Some(mut pair) = audio.port_pair(0) else {
        return Ok(());
    };
    match pair.channels()? {
        SampleType::F32(channels) | SampleType::Both(channels, _) => {
            scale_channels(channels, range, factor as f32);
        }
        SampleType::F64(channels) => scale_channels(channels, range, factor),
    }
    Ok(())
}

/// Writes `input * factor` to each output channel in `range` (silence if it has no input).
fn scale_channels<S>(channels: PairedChannels<S>, range: Range<usize>, factor: S)
where
    S: Copy + Default + Mul<Output = S>,
{
    for pair in channels {
        match pair {
            ChannelPair::InputOutput(input, output) => {
                let (input, output) = (&input[range.clone()], &mut output[range.clone()]);
                for (out, &x) in output.iter_mut().zip(input) {
                    *out = x * factor;
                }
            }
            ChannelPair::InPlace(buffer) => {
                for x in &mut buffer[range.clone()] {
                    *x = *x * factor;
                }
            }
            ChannelPair::OutputOnly(output) => output[range.clone()].fill(S::default()),
            ChannelPair::InputOnly(_) => {}
        }
    }
}

/// Reports every output channel as non-constant.
pub fn mark_outputs_dynamic(audio: &mut Audio) {
    for mut port in audio.output_ports() {
        port.set_constant_mask(ConstantMask::FULLY_DYNAMIC);
    }
}
