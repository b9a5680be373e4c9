//! Audio ports (one stereo in/out pair) and gain processing in either precision.

use crate::FaultMainThread;
use clack_extensions::audio_ports::{
    AudioPortFlags, AudioPortInfo, AudioPortInfoWriter, AudioPortType, PluginAudioPortsImpl,
};
use clack_plugin::prelude::*;
use clack_plugin::process::audio::PairedChannels;
use clack_plugin::process::ConstantMask;
use std::ops::{Mul, Range};

const MAIN_PORT_ID: ClapId = ClapId::new(0);

impl PluginAudioPortsImpl for FaultMainThread<'_> {
    fn count(&self, _is_input: bool) -> u32 {
        1
    }

    fn get(&self, index: u32, is_input: bool, writer: &mut AudioPortInfoWriter) {
        if index != 0 {
            return;
        }
        writer.set(&AudioPortInfo {
            id: MAIN_PORT_ID,
            name: if is_input { b"Main In" } else { b"Main Out" },
            channel_count: 2,
            flags: AudioPortFlags::IS_MAIN | AudioPortFlags::SUPPORTS_64BITS,
            port_type: Some(AudioPortType::STEREO),
            in_place_pair: Some(MAIN_PORT_ID),
        });
    }
}

/// Writes `input * factor` to the main output for the frames in `range`, in the host's precision
/// (single precision uses the factor rounded to `f32`, like the gain sample).
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
