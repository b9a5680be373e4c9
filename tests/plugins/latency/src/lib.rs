//! Sample delay effect with a parameter-controlled latency, for the bulkhead integration tests.
//!
//! The audio is delayed by the latency adopted at the last activation. Changing the latency
//! parameter while active asks the host to restart the plugin so the new latency can be adopted.

mod delay;
mod params;
mod state;

use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::latency::{HostLatency, PluginLatency, PluginLatencyImpl};
use clack_extensions::params::{PluginAudioProcessorParams, PluginParams};
use clack_extensions::state::PluginState;
use clack_plugin::events::event_types::ParamValueEvent;
use clack_plugin::plugin::features::{AUDIO_EFFECT, DELAY, STEREO};
use clack_plugin::prelude::*;
use delay::DelayLine;
use params::LatencyShared;
use std::cell::Cell;

bulkhead_sample_support::sample_plugin! {
    /// The latency plugin type.
    pub struct LatencyPlugin {
        id: "org.bulkhead.sample.latency",
        name: "Bulkhead Sample Latency",
        features: [AUDIO_EFFECT, DELAY, STEREO],
        shared: LatencyShared,
        main_thread: LatencyMainThread,
        audio_processor: LatencyProcessor,
        extensions: [PluginAudioPorts, PluginParams, PluginState, PluginLatency],
        new_main_thread: |host, shared| {
            Ok(LatencyMainThread {
                shared,
                host,
                host_latency: host.get_extension(),
                active_latency: Cell::new(shared.latency()),
                is_active: Cell::new(false),
            })
        },
    }
}

/// Main-thread side: parameters, state, ports and the reported latency.
pub struct LatencyMainThread<'a> {
    shared: &'a LatencyShared,
    host: HostMainThreadHandle<'a>,
    host_latency: Option<HostLatency>,
    /// The latency adopted at the last activation (the default before any activation).
    active_latency: Cell<u32>,
    is_active: Cell<bool>,
}

impl LatencyMainThread<'_> {
    /// Adopts the latency parameter's value for a new activation, telling the host if it changed.
    fn activate(&self) -> u32 {
        let latency = self.shared.latency();
        self.is_active.set(true);
        if self.active_latency.replace(latency) != latency {
            if let Some(host_latency) = &self.host_latency {
                host_latency.changed(&self.host);
            }
        }
        latency
    }

    /// Sets the latency parameter from the main thread, requesting a restart if it now differs
    /// from the active latency.
    fn set_latency(&self, latency: u32) {
        if self.shared.set_latency(latency)
            && self.is_active.get()
            && latency != self.active_latency.get()
        {
            self.host.request_restart();
        }
    }
}

impl PluginLatencyImpl for LatencyMainThread<'_> {
    fn get(&self) -> u32 {
        self.active_latency.get()
    }
}

/// Audio-thread side.
pub struct LatencyProcessor<'a> {
    shared: &'a LatencyShared,
    host: HostSharedHandle<'a>,
    delay: DelayLine,
}

impl LatencyProcessor<'_> {
    fn handle_event(&self, event: &UnknownEvent) {
        let Some(event) = event.as_event::<ParamValueEvent>() else {
            return;
        };
        if let Some(latency) = params::latency_from_event(event) {
            if self.shared.set_latency(latency) && latency != self.delay.latency() {
                self.host.request_restart();
            }
        }
    }
}

impl<'a> PluginAudioProcessor<'a, LatencyShared, LatencyMainThread<'a>> for LatencyProcessor<'a> {
    fn activate(
        host: HostAudioProcessorHandle<'a>,
        main_thread: &LatencyMainThread<'a>,
        shared: &'a LatencyShared,
        audio_config: PluginAudioConfiguration,
    ) -> Result<Self, PluginError> {
        let latency = main_thread.activate();
        Ok(Self {
            shared,
            host: host.shared(),
            delay: DelayLine::new(latency, audio_config.max_frames_count),
        })
    }

    fn process(
        &mut self,
        _process: Process,
        mut audio: Audio,
        events: Events,
    ) -> Result<ProcessStatus, PluginError> {
        // The parameter only takes effect at the next activation, so event timing is irrelevant.
        events
            .input
            .iter()
            .for_each(|event| self.handle_event(event));
        self.delay.process(&mut audio)?;
        Ok(ProcessStatus::Continue)
    }

    fn deactivate(self, main_thread: &LatencyMainThread<'a>) {
        main_thread.is_active.set(false);
    }

    fn reset(&mut self) {
        self.delay.clear();
    }
}

impl PluginAudioProcessorParams for LatencyProcessor<'_> {
    fn flush(&mut self, input: &InputEvents, _output: &mut OutputEvents) {
        input.iter().for_each(|event| self.handle_event(event));
    }
}
