//! Audio ports (one stereo in/out pair), note ports (one in, one out) and audio passthrough.

use crate::EchoMainThread;
use bulkhead_sample_support::audio::mark_outputs_dynamic;
use clack_extensions::note_ports::NoteDialects;
use clack_plugin::prelude::*;
use clack_plugin::process::audio::PairedChannels;

bulkhead_sample_support::stereo_audio_ports!(EchoMainThread<'_>);
bulkhead_sample_support::note_ports!(
    EchoMainThread<'_>,
    output_dialects: NoteDialects::CLAP | NoteDialects::MIDI,
);

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
    mark_outputs_dynamic(audio);
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
