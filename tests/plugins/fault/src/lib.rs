//! Sample fault-injecting stereo gain for the bulkhead crash-recovery tests.
//!
//! With param 1 ("Fault") at 0 this is a well-behaved, sample-accurate gain (param 0, "Gain").
//! Any other fault value, set through param events, flush or state, makes the plugin misbehave at
//! a specific point; see [`faults`] for the list.

mod audio;
mod faults;
mod params;
mod state;

use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::params::{PluginAudioProcessorParams, PluginParams};
use clack_extensions::state::PluginState;
use clack_plugin::events::event_types::{ParamModEvent, ParamValueEvent};
use clack_plugin::plugin::features::{AUDIO_EFFECT, STEREO};
use clack_plugin::prelude::*;
use params::{FaultShared, GAIN_ID};

/// The fault plugin type.
pub struct FaultPlugin;

impl Plugin for FaultPlugin {
    type AudioProcessor<'a> = FaultProcessor<'a>;
    type Shared<'a> = FaultShared;
    type MainThread<'a> = FaultMainThread<'a>;

    fn declare_extensions(builder: &mut PluginExtensions<Self>, _shared: Option<&FaultShared>) {
        builder
            .register::<PluginAudioPorts>()
            .register::<PluginParams>()
            .register::<PluginState>();
    }
}

impl DefaultPluginFactory for FaultPlugin {
    fn get_descriptor() -> PluginDescriptor {
        PluginDescriptor::new("org.bulkhead.sample.fault", "Bulkhead Sample Fault")
            .with_vendor("bulkhead")
            .with_version("0.1.0")
            .with_features([AUDIO_EFFECT, STEREO])
    }

    fn new_shared(_host: HostSharedHandle<'_>) -> Result<FaultShared, PluginError> {
        Ok(FaultShared::default())
    }

    fn new_main_thread<'a>(
        _host: HostMainThreadHandle<'a>,
        shared: &'a FaultShared,
    ) -> Result<FaultMainThread<'a>, PluginError> {
        Ok(FaultMainThread { shared })
    }
}

/// Main-thread side: parameters, state and port queries.
pub struct FaultMainThread<'a> {
    shared: &'a FaultShared,
}

impl<'a> PluginMainThread<'a, FaultShared> for FaultMainThread<'a> {}

/// Audio-thread side.
pub struct FaultProcessor<'a> {
    shared: &'a FaultShared,
    modulation: f64,
}

impl FaultProcessor<'_> {
    fn factor(&self) -> f64 {
        self.shared.gain() + self.modulation
    }

    fn handle_event(&mut self, event: &UnknownEvent) {
        if let Some(event) = event.as_event::<ParamValueEvent>() {
            self.shared.apply_value_event(event);
        } else if let Some(event) = event.as_event::<ParamModEvent>() {
            if event.param_id() == Some(GAIN_ID) && event.amount().is_finite() {
                self.modulation = event.amount();
            }
        }
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
            modulation: 0.0,
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
        let frames = audio.frames_count() as usize;
        let mut start = 0;
        for event in events.input {
            let time = (event.header().time() as usize).clamp(start, frames);
            if time > start {
                audio::apply_gain(&mut audio, start..time, self.factor())?;
                start = time;
            }
            self.handle_event(event);
            // A fault selected by an event of this block strikes at that event.
            faults::strike_in_process(self.shared.fault());
        }
        audio::apply_gain(&mut audio, start..frames, self.factor())?;
        audio::mark_outputs_dynamic(&mut audio);
        Ok(ProcessStatus::Continue)
    }
}

impl PluginAudioProcessorParams for FaultProcessor<'_> {
    fn flush(&mut self, input: &InputEvents, _output: &mut OutputEvents) {
        for event in input {
            self.handle_event(event);
        }
    }
}

clack_export_entry!(SinglePluginEntry<FaultPlugin>);
