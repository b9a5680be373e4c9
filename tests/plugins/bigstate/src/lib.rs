//! Sample effect with many parameters and a large state, for the bulkhead integration tests.
//!
//! 2000 parameters (-1..1) scale the audio by `1 + sum(values) / 2000`; the state also carries an
//! opaque payload blob of up to 256 MiB.

mod audio;
mod params;
mod state;

use bulkhead_sample_support::audio::{process_gain, SampleAccurateGain};
use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::params::{HostParams, PluginAudioProcessorParams, PluginParams};
use clack_extensions::state::PluginState;
use clack_plugin::plugin::features::{AUDIO_EFFECT, STEREO};
use clack_plugin::prelude::*;
use params::BigStateShared;
use std::cell::RefCell;

bulkhead_sample_support::sample_plugin! {
    /// The bigstate plugin type.
    pub struct BigStatePlugin {
        id: "org.bulkhead.sample.bigstate",
        name: "Bulkhead Sample Big State",
        features: [AUDIO_EFFECT, STEREO],
        shared: BigStateShared,
        main_thread: BigStateMainThread,
        audio_processor: BigStateProcessor,
        extensions: [PluginAudioPorts, PluginParams, PluginState],
        new_main_thread: |host, shared| {
            Ok(BigStateMainThread {
                shared,
                host,
                host_params: host.get_extension(),
                payload: RefCell::default(),
            })
        },
    }
}

/// Main-thread side: parameters, state (including the payload blob) and ports.
pub struct BigStateMainThread<'a> {
    shared: &'a BigStateShared,
    host: HostMainThreadHandle<'a>,
    host_params: Option<HostParams>,
    payload: RefCell<Vec<u8>>,
}

/// Audio-thread side.
pub struct BigStateProcessor<'a> {
    shared: &'a BigStateShared,
}

impl<'a> PluginAudioProcessor<'a, BigStateShared, BigStateMainThread<'a>>
    for BigStateProcessor<'a>
{
    fn activate(
        _host: HostAudioProcessorHandle<'a>,
        _main_thread: &BigStateMainThread<'a>,
        shared: &'a BigStateShared,
        _audio_config: PluginAudioConfiguration,
    ) -> Result<Self, PluginError> {
        Ok(Self { shared })
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

impl SampleAccurateGain for BigStateProcessor<'_> {
    fn gain(&self) -> f64 {
        self.shared.factor()
    }

    fn handle_event(&mut self, event: &UnknownEvent, _output: &mut OutputEvents) {
        self.shared.apply_event(event);
    }
}

impl PluginAudioProcessorParams for BigStateProcessor<'_> {
    fn flush(&mut self, input: &InputEvents, _output: &mut OutputEvents) {
        input
            .iter()
            .for_each(|event| self.shared.apply_event(event));
    }
}
