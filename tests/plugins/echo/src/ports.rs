//! Audio ports (one stereo in/out pair), note ports (one in, one out) and audio passthrough.

use crate::EchoMainThread;
use clack_extensions::audio_ports::{
    AudioPortFlags, AudioPortInfo, AudioPortInfoWriter, AudioPortType, PluginAudioPortsImpl,
};
use clack_extensions::note_ports::{
    NoteDialect, NoteDialects, NotePortInfo, NotePortInfoWriter, PluginNotePortsImpl,
};
use clack_plugin::prelude::*;
use clack_plugin::process::audio::PairedChannels;
use clack_plugin::process::ConstantMask;

const MAIN_PORT_ID: ClapId = ClapId::new(0);
const NOTE_PORT_ID: ClapId = ClapId::new(0);

impl PluginAudioPortsImpl for EchoMainThread<'_> {
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

impl PluginNotePortsImpl for EchoMainThread<'_> {
    fn count(&self, _is_input: bool) -> u32 {
        1
    }

    fn get(&self, index: u32, is_input: bool, writer: &mut NotePortInfoWriter) {
        if index != 0 {
            return;
        }
        writer.set(&NotePortInfo {
            id: NOTE_PORT_ID,
            name: if is_input { b"Notes In" } else { b"Notes Out" },
            supported_dialects: NoteDialects::CLAP | NoteDialects::MIDI,
            preferred_dialect: Some(NoteDialect::Clap),
        });
    }
}

/// Copies the main input to the main output, in every precision the host provides.
pub fn pass_through(audio: &mut Audio) -> Result<(), PluginError> {
    if let Some(mut pair) = audio.port_pair(0) {
        match pair.channels()? {
            SampleType::F32(channels) => copy_channels(channels),
            SampleType::F64(channels) => copy_channels(channels),
            SampleType::Both(f32_channels, f64_channels) => {
                copy_channels(f32_channels);
                copy_channels(f64_channels);
            }
        }
    }
    for mut port in audio.output_ports() {
        port.set_constant_mask(ConstantMask::FULLY_DYNAMIC);
    }
    Ok(())
}

/// Copies each input channel to its output channel (silence for outputs without an input).
fn copy_channels<S: Copy + Default>(channels: PairedChannels<S>) {
    for pair in channels {
        match pair {
            ChannelPair::InputOutput(input, output) => {
                let frames = input.len().min(output.len());
                output[..frames].copy_from_slice(&input[..frames]);
                output[frames..].fill(S::default());
            }
            ChannelPair::OutputOnly(output) => output.fill(S::default()),
            ChannelPair::InPlace(_) | ChannelPair::InputOnly(_) => {}
        }
    }
}
