//! Sample stereo gain effect for the bulkhead integration tests.
//!
//! Param 0 ("Gain") scales the audio sample-accurately (plus any modulation), and param 1 is a
//! read-only readout of twice the gain, emitted as an output event for every gain change.

mod audio;
mod params;
mod state;

use bulkhead_sample_support::audio::{process_gain, SampleAccurateGain};
use bulkhead_sample_support::params::Modulated;
use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::latency::{PluginLatency, PluginLatencyImpl};
use clack_extensions::params::{PluginAudioProcessorParams, PluginParams};
use clack_extensions::state::PluginState;
use clack_extensions::tail::{PluginTail, PluginTailImpl, TailLength};
use clack_plugin::events::event_types::{ParamModEvent, ParamValueEvent};
use clack_plugin::plugin::features::{AUDIO_EFFECT, STEREO};
use clack_plugin::prelude::*;
use params::GainShared;

bulkhead_sample_support::sample_plugin! {
    /// The gain plugin type.
    pub struct GainPlugin {
        id: "org.bulkhead.sample.gain",
        name: "Bulkhead Sample Gain",
        features: [AUDIO_EFFECT, STEREO],
        shared: GainShared,
        main_thread: GainMainThread,
        audio_processor: GainProcessor,
        extensions: [PluginAudioPorts, PluginParams, PluginState, PluginLatency, PluginTail],
        new_main_thread: |_host, shared| Ok(GainMainThread { shared }),
    }
}

/// Main-thread side: parameters, state and port queries.
pub struct GainMainThread<'a> {
    shared: &'a GainShared,
}

impl PluginLatencyImpl for GainMainThread<'_> {
    fn get(&self) -> u32 {
        0
    }
}

/// Audio-thread side.
pub struct GainProcessor<'a> {
    shared: &'a GainShared,
    gain: Modulated<'a>,
}

impl SampleAccurateGain for GainProcessor<'_> {
    fn gain(&self) -> f64 {
        self.gain.value()
    }

    fn handle_event(&mut self, event: &UnknownEvent, output: &mut OutputEvents) {
        if let Some(event) = event.as_event::<ParamValueEvent>() {
            self.shared.apply_value_event(event, output);
        } else if let Some(event) = event.as_event::<ParamModEvent>() {
            self.gain.apply_mod_event(event);
        }
    }
}

impl<'a> PluginAudioProcessor<'a, GainShared, GainMainThread<'a>> for GainProcessor<'a> {
    fn activate(
        _host: HostAudioProcessorHandle<'a>,
        _main_thread: &GainMainThread<'a>,
        shared: &'a GainShared,
        _audio_config: PluginAudioConfiguration,
    ) -> Result<Self, PluginError> {
        Ok(Self {
            shared,
            gain: Modulated::new(&shared.gain),
        })
    }

    fn process(
        &mut self,
        _process: Process,
        mut audio: Audio,
        events: Events,
    ) -> Result<ProcessStatus, PluginError> {
        process_gain(self, &mut audio, events)
    }
}

impl PluginAudioProcessorParams for GainProcessor<'_> {
    fn flush(&mut self, input: &InputEvents, output: &mut OutputEvents) {
        for event in input {
            self.handle_event(event, output);
        }
    }
}

impl PluginTailImpl for GainProcessor<'_> {
    fn get(&self) -> TailLength {
        TailLength::Finite(0)
    }
}
