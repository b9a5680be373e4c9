//! Audio ports (one stereo output), note ports (one in, one out) and output writing.

use crate::SynthMainThread;
use clack_extensions::audio_ports::{
    AudioPortFlags, AudioPortInfo, AudioPortInfoWriter, AudioPortType, PluginAudioPortsImpl,
};
use clack_extensions::note_ports::NoteDialects;
use clack_plugin::prelude::*;
use clack_plugin::process::audio::OutputChannels;
use clack_plugin::process::ConstantMask;

const PORT_ID: ClapId = ClapId::new(0);

impl PluginAudioPortsImpl for SynthMainThread<'_> {
    fn count(&self, is_input: bool) -> u32 {
        if is_input {
            0
        } else {
            1
        }
    }

    fn get(&self, index: u32, is_input: bool, writer: &mut AudioPortInfoWriter) {
        if index == 0 && !is_input {
            writer.set(&AudioPortInfo {
                id: PORT_ID,
                name: b"Main Out",
                channel_count: 2,
                flags: AudioPortFlags::IS_MAIN | AudioPortFlags::SUPPORTS_64BITS,
                port_type: Some(AudioPortType::STEREO),
                in_place_pair: None,
            });
        }
    }
}

bulkhead_sample_support::note_ports!(SynthMainThread<'_>, output_dialects: NoteDialects::CLAP);

/// Copies the mono `mix` to every output channel, in the host's precision.
pub fn write_output(audio: &mut Audio, mix: &[f64]) -> Result<(), PluginError> {
    for mut port in audio.output_ports() {
        match port.channels()? {
            SampleType::F32(channels) | SampleType::Both(channels, _) => {
                write_channels(channels, mix, |value| value as f32);
            }
            SampleType::F64(channels) => write_channels(channels, mix, |value| value),
        }
        port.set_constant_mask(ConstantMask::FULLY_DYNAMIC);
    }
    Ok(())
}

fn write_channels<S>(mut channels: OutputChannels<S>, mix: &[f64], convert: impl Fn(f64) -> S) {
    for channel in channels.iter_mut() {
        for (out, &value) in channel.iter_mut().zip(mix) {
            *out = convert(value);
        }
    }
}
