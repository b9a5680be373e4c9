//! Sample polyphonic sine synthesizer for the bulkhead integration tests.
//!
//! Up to 16 deterministic sine voices driven by CLAP or MIDI notes, with sample-accurate event
//! handling, NOTE_END reporting, and an octave-up echo of every note on/off on its note output.

mod events;
mod params;
mod ports;
mod state;
mod voices;

use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::note_ports::PluginNotePorts;
use clack_extensions::params::{PluginAudioProcessorParams, PluginParams};
use clack_extensions::render::{PluginRender, PluginRenderImpl, RenderMode};
use clack_extensions::state::PluginState;
use clack_extensions::tail::{PluginTail, PluginTailImpl, TailLength};
use clack_extensions::voice_info::{
    PluginVoiceInfo, PluginVoiceInfoImpl, VoiceInfo, VoiceInfoFlags,
};
use clack_plugin::plugin::features::{INSTRUMENT, STEREO, SYNTHESIZER};
use clack_plugin::prelude::*;
use params::SynthShared;
use voices::{Voices, VOICE_COUNT};

/// Reported tail length, comfortably longer than the 2048-sample release.
const TAIL_SAMPLES: u32 = 4096;

bulkhead_sample_support::sample_plugin! {
    /// The synth plugin type.
    pub struct SynthPlugin {
        id: "org.bulkhead.sample.synth",
        name: "Bulkhead Sample Synth",
        features: [INSTRUMENT, SYNTHESIZER, STEREO],
        shared: SynthShared,
        main_thread: SynthMainThread,
        audio_processor: SynthProcessor,
        extensions: [
            PluginAudioPorts,
            PluginNotePorts,
            PluginParams,
            PluginState,
            PluginVoiceInfo,
            PluginTail,
            PluginRender,
        ],
        new_main_thread: |_host, shared| Ok(SynthMainThread { shared }),
    }
}

/// Main-thread side: parameters, state, ports and voice info.
pub struct SynthMainThread<'a> {
    shared: &'a SynthShared,
}

impl PluginVoiceInfoImpl for SynthMainThread<'_> {
    fn get(&self) -> Option<VoiceInfo> {
        Some(VoiceInfo {
            voice_count: VOICE_COUNT as u32,
            voice_capacity: VOICE_COUNT as u32,
            flags: VoiceInfoFlags::SUPPORTS_OVERLAPPING_NOTES,
        })
    }
}

impl PluginRenderImpl for SynthMainThread<'_> {
    fn has_hard_realtime_requirement(&self) -> bool {
        false
    }

    fn set(&self, _mode: RenderMode) -> Result<(), PluginError> {
        // Rendering is identical in both modes.
        Ok(())
    }
}

/// Audio-thread side.
pub struct SynthProcessor<'a> {
    shared: &'a SynthShared,
    voices: Voices,
    /// Mono mix of the current block, allocated for `max_frames_count` at activation.
    mix: Vec<f64>,
}

impl<'a> PluginAudioProcessor<'a, SynthShared, SynthMainThread<'a>> for SynthProcessor<'a> {
    fn activate(
        _host: HostAudioProcessorHandle<'a>,
        _main_thread: &SynthMainThread<'a>,
        shared: &'a SynthShared,
        audio_config: PluginAudioConfiguration,
    ) -> Result<Self, PluginError> {
        Ok(Self {
            shared,
            voices: Voices::new(audio_config.sample_rate),
            mix: vec![0.0; audio_config.max_frames_count as usize],
        })
    }

    fn process(
        &mut self,
        _process: Process,
        mut audio: Audio,
        events: Events,
    ) -> Result<ProcessStatus, PluginError> {
        let frames = audio.frames_count();
        let mix = self
            .mix
            .get_mut(..frames as usize)
            .ok_or(PluginError::Message("block larger than max_frames_count"))?;
        let mut start = 0;
        for event in events.input {
            let time = event.header().time().clamp(start, frames);
            let segment = &mut mix[start as usize..time as usize];
            self.voices
                .render(segment, start, self.shared.volume.get(), events.output);
            start = time;
            events::handle(self.shared, &mut self.voices, time, event, events.output);
        }
        let rest = &mut mix[start as usize..];
        self.voices
            .render(rest, start, self.shared.volume.get(), events.output);
        ports::write_output(&mut audio, mix)?;

        Ok(if self.voices.is_active() {
            ProcessStatus::Continue
        } else {
            ProcessStatus::Sleep
        })
    }

    fn reset(&mut self) {
        self.voices.reset();
    }
}

impl PluginAudioProcessorParams for SynthProcessor<'_> {
    fn flush(&mut self, input: &InputEvents, _output: &mut OutputEvents) {
        self.shared.volume.flush(input);
    }
}

impl PluginTailImpl for SynthProcessor<'_> {
    fn get(&self) -> TailLength {
        TailLength::Finite(TAIL_SAMPLES)
    }
}
