//! Sample effect with many parameters and a large state, for the bulkhead integration tests.
//!
//! 2000 parameters (-1..1) scale the audio by `1 + sum(values) / 2000`; the state also carries an
//! opaque payload blob of up to 256 MiB.

mod audio;
mod params;
mod state;

use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::params::{HostParams, PluginAudioProcessorParams, PluginParams};
use clack_extensions::state::PluginState;
use clack_plugin::plugin::features::{AUDIO_EFFECT, STEREO};
use clack_plugin::prelude::*;
use params::BigStateShared;
use std::cell::RefCell;

/// The bigstate plugin type.
pub struct BigStatePlugin;

impl Plugin for BigStatePlugin {
    type AudioProcessor<'a> = BigStateProcessor<'a>;
    type Shared<'a> = BigStateShared;
    type MainThread<'a> = BigStateMainThread<'a>;

    fn declare_extensions(builder: &mut PluginExtensions<Self>, _shared: Option<&BigStateShared>) {
        builder
            .register::<PluginAudioPorts>()
            .register::<PluginParams>()
            .register::<PluginState>();
    }
}

impl DefaultPluginFactory for BigStatePlugin {
    fn get_descriptor() -> PluginDescriptor {
        PluginDescriptor::new("org.bulkhead.sample.bigstate", "Bulkhead Sample Big State")
            .with_vendor("bulkhead")
            .with_version("0.1.0")
            .with_features([AUDIO_EFFECT, STEREO])
    }

    fn new_shared(_host: HostSharedHandle<'_>) -> Result<BigStateShared, PluginError> {
        Ok(BigStateShared::default())
    }

    fn new_main_thread<'a>(
        host: HostMainThreadHandle<'a>,
        shared: &'a BigStateShared,
    ) -> Result<BigStateMainThread<'a>, PluginError> {
        Ok(BigStateMainThread {
            shared,
            host,
            host_params: host.get_extension(),
            payload: RefCell::default(),
        })
    }
}

/// Main-thread side: parameters, state (including the payload blob) and ports.
pub struct BigStateMainThread<'a> {
    shared: &'a BigStateShared,
    host: HostMainThreadHandle<'a>,
    host_params: Option<HostParams>,
    payload: RefCell<Vec<u8>>,
}

impl<'a> PluginMainThread<'a, BigStateShared> for BigStateMainThread<'a> {}

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
        let frames = audio.frames_count() as usize;
        let mut start = 0;
        for event in events.input {
            let time = (event.header().time() as usize).clamp(start, frames);
            if time > start {
                audio::scale(&mut audio, start..time, self.shared.factor())?;
                start = time;
            }
            self.shared.apply_event(event);
        }
        audio::scale(&mut audio, start..frames, self.shared.factor())?;
        audio::mark_outputs_dynamic(&mut audio);
        Ok(ProcessStatus::Continue)
    }
}

impl PluginAudioProcessorParams for BigStateProcessor<'_> {
    fn flush(&mut self, input: &InputEvents, _output: &mut OutputEvents) {
        input
            .iter()
            .for_each(|event| self.shared.apply_event(event));
    }
}

clack_export_entry!(SinglePluginEntry<BigStatePlugin>);
