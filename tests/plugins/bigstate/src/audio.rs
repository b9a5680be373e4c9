//! Audio ports (one stereo in/out pair) and sample processing in either precision.

use crate::BigStateMainThread;
use clack_extensions::audio_ports::{
    AudioPortFlags, AudioPortInfo, AudioPortInfoWriter, AudioPortType, PluginAudioPortsImpl,
};
use clack_plugin::prelude::*;
use clack_plugin::process::audio::PairedChannels;
use clack_plugin::process::ConstantMask;
use std::ops::Range;

const MAIN_PORT_ID: ClapId = ClapId::new(0);

impl PluginAudioPortsImpl for BigStateMainThread<'_> {
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

/// Writes `input * factor` to the main output for the frames in `range`, in the host's precision.
pub fn scale(audio: &mut Audio, range: Range<usize>, factor: f64) -> Result<(), PluginError> {
    let Some(mut pair) = audio.port_pair(0) else {
        return Ok(());
    };
    match pair.channels()? {
        SampleType::F32(channels) | SampleType::Both(channels, _) => {
            let factor = factor as f32;
            map_channels(channels, range, |x| x * factor);
        }
        SampleType::F64(channels) => map_channels(channels, range, |x| x * factor),
    }
    Ok(())
}

/// Writes `f(input)` to each output channel for the frames in `range` (silence if it has no input).
fn map_channels<S: Copy + Default>(
    channels: PairedChannels<S>,
    range: Range<usize>,
    f: impl Fn(S) -> S,
) {
    for pair in channels {
        match pair {
            ChannelPair::InputOutput(input, output) => {
                for (out, x) in output[range.clone()].iter_mut().zip(&input[range.clone()]) {
                    *out = f(*x);
                }
            }
            ChannelPair::InPlace(buffer) => {
                for x in &mut buffer[range.clone()] {
                    *x = f(*x);
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
