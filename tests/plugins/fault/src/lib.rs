//! Sample fault-injecting stereo gain for the bulkhead crash-recovery tests.
//!
//! With param 1 ("Fault") at 0 this is a well-behaved, sample-accurate gain (param 0, "Gain").
//! Any other fault value, set through param events, flush or state, makes the plugin misbehave at
//! a specific point; see [`faults`] for the list.

mod audio;
mod faults;
mod params;
mod state;

use bulkhead_sample_support::audio::{process_gain, SampleAccurateGain};
use bulkhead_sample_support::params::Modulated;
use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::params::{PluginAudioProcessorParams, PluginParams};
use clack_extensions::render::{PluginRender, PluginRenderImpl, RenderMode};
use clack_extensions::state::PluginState;
use clack_plugin::events::event_types::{ParamModEvent, ParamValueEvent};
use clack_plugin::plugin::features::{AUDIO_EFFECT, STEREO};
use clack_plugin::prelude::*;
use params::FaultShared;

bulkhead_sample_support::sample_plugin! {
    /// The fault plugin type.
    pub struct FaultPlugin {
        id: "org.bulkhead.sample.fault",
        name: "Bulkhead Sample Fault",
        features: [AUDIO_EFFECT, STEREO],
        shared: FaultShared,
        main_thread: FaultMainThread,
        audio_processor: FaultProcessor,
        extensions: [PluginAudioPorts, PluginParams, PluginState, PluginRender],
        new_main_thread: |_host, shared| {
            faults::strike_at_init();
            Ok(FaultMainThread { shared })
        },
    }
}

/// Main-thread side: parameters, state and port queries.
pub struct FaultMainThread<'a> {
    shared: &'a FaultShared,
}

/// Accepts either render mode, so hosts can tell it they render offline.
impl PluginRenderImpl for FaultMainThread<'_> {
    fn has_hard_realtime_requirement(&self) -> bool {
        false
    }

    fn set(&self, _mode: RenderMode) -> Result<(), PluginError> {
        Ok(())
    }
}

/// Audio-thread side.
pub struct FaultProcessor<'a> {
    shared: &'a FaultShared,
    gain: Modulated<'a>,
}

impl FaultProcessor<'_> {
    fn apply_event(&mut self, event: &UnknownEvent) {
        if let Some(event) = event.as_event::<ParamValueEvent>() {
            self.shared.apply_value_event(event);
        } else if let Some(event) = event.as_event::<ParamModEvent>() {
            self.gain.apply_mod_event(event);
        }
    }
}

impl SampleAccurateGain for FaultProcessor<'_> {
    fn gain(&self) -> f64 {
        self.gain.value()
    }

    fn handle_event(&mut self, event: &UnknownEvent, _output: &mut OutputEvents) {
        self.apply_event(event);
        // A fault selected by an event of this block strikes at that event.
        faults::strike_in_process(self.shared.fault());
    }
}

impl<'a> PluginAudioProcessor<'a, FaultShared, FaultMainThread<'a>> for FaultProcessor<'a> {
    fn activate(
        _host: HostAudioProcessorHandle<'a>,
        _main_thread: &FaultMainThread<'a>,
        shared: &'a FaultShared,
        _audio_config: PluginAudioConfiguration,
    ) -> Result<Self, PluginError> {
        if shared.fault() == faults::ABORT_IN_ACTIVATE {
            std::process::abort();
        }
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
        // A fault selected before this block (param flush, state load) strikes right away.
        faults::strike_in_process(self.shared.fault());
        process_gain(self, &mut audio, events)
    }
}

impl PluginAudioProcessorParams for FaultProcessor<'_> {
    fn flush(&mut self, input: &InputEvents, _output: &mut OutputEvents) {
        for event in input {
            self.apply_event(event);
        }
    }
}
