//! Sample stereo gain effect for the bulkhead integration tests.
//!
//! Param 0 ("Gain") scales the audio sample-accurately (plus any modulation), and param 1 is a
//! read-only readout of twice the gain, emitted as an output event for every gain change.

mod audio;
mod params;
mod state;

use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::latency::{PluginLatency, PluginLatencyImpl};
use clack_extensions::params::{PluginAudioProcessorParams, PluginParams};
use clack_extensions::state::PluginState;
use clack_extensions::tail::{PluginTail, PluginTailImpl, TailLength};
use clack_plugin::events::event_types::{ParamModEvent, ParamValueEvent};
use clack_plugin::plugin::features::{AUDIO_EFFECT, STEREO};
use clack_plugin::prelude::*;
use params::{GainShared, GAIN_ID};

/// The gain plugin type.
pub struct GainPlugin;

impl Plugin for GainPlugin {
    type AudioProcessor<'a> = GainProcessor<'a>;
    type Shared<'a> = GainShared;
    type MainThread<'a> = GainMainThread<'a>;

    fn declare_extensions(builder: &mut PluginExtensions<Self>, _shared: Option<&GainShared>) {
        builder
            .register::<PluginAudioPorts>()
            .register::<PluginParams>()
            .register::<PluginState>()
            .register::<PluginLatency>()
            .register::<PluginTail>();
    }
}

impl DefaultPluginFactory for GainPlugin {
    fn get_descriptor() -> PluginDescriptor {
        PluginDescriptor::new("org.bulkhead.sample.gain", "Bulkhead Sample Gain")
            .with_vendor("bulkhead")
            .with_version("0.1.0")
            .with_features([AUDIO_EFFECT, STEREO])
    }

    fn new_shared(_host: HostSharedHandle<'_>) -> Result<GainShared, PluginError> {
        Ok(GainShared::default())
    }

    fn new_main_thread<'a>(
        _host: HostMainThreadHandle<'a>,
        shared: &'a GainShared,
    ) -> Result<GainMainThread<'a>, PluginError> {
        Ok(GainMainThread { shared })
    }
}

/// Main-thread side: parameters, state and port queries.
pub struct GainMainThread<'a> {
    shared: &'a GainShared,
}

impl<'a> PluginMainThread<'a, GainShared> for GainMainThread<'a> {}

impl PluginLatencyImpl for GainMainThread<'_> {
    fn get(&self) -> u32 {
        0
    }
}

/// Audio-thread side.
pub struct GainProcessor<'a> {
    shared: &'a GainShared,
    modulation: f64,
}

impl GainProcessor<'_> {
    fn factor(&self) -> f64 {
        self.shared.gain() + self.modulation
    }

    fn handle_event(&mut self, event: &UnknownEvent, output: &mut OutputEvents) {
        if let Some(event) = event.as_event::<ParamValueEvent>() {
            self.shared.apply_value_event(event, output);
        } else if let Some(event) = event.as_event::<ParamModEvent>() {
            if event.param_id() == Some(GAIN_ID) && event.amount().is_finite() {
                self.modulation = event.amount();
            }
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
            modulation: 0.0,
        })
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
                audio::scale(&mut audio, start..time, self.factor())?;
                start = time;
            }
            self.handle_event(event, events.output);
        }
        audio::scale(&mut audio, start..frames, self.factor())?;
        audio::mark_outputs_dynamic(&mut audio);
        Ok(ProcessStatus::Continue)
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

clack_export_entry!(SinglePluginEntry<GainPlugin>);
