//! Sample event-echo effect for the bulkhead integration tests.
//!
//! Audio passes through unchanged. Every input event is pushed to the output events unchanged
//! (same bytes, same time); MIDI sysex payloads are copied into a plugin-owned buffer first. Each
//! block's output additionally starts with a copy of the transport (if any, at time 0) and with a
//! value event for the undeclared param [`STEADY_TIME_ID`] carrying the block's steady time (if
//! the host provides one).

mod params;
mod ports;
mod state;
mod sysex;

use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::log::{HostLog, LogSeverity};
use clack_extensions::note_ports::PluginNotePorts;
use clack_extensions::params::{PluginAudioProcessorParams, PluginParams};
use clack_extensions::state::PluginState;
use clack_extensions::timer::{HostTimer, PluginTimer, PluginTimerImpl, TimerId};
use clack_plugin::events::event_types::{MidiSysExEvent, ParamValueEvent};
use clack_plugin::plugin::features::{AUDIO_EFFECT, NOTE_EFFECT, STEREO};
use clack_plugin::prelude::*;
use params::EchoShared;
use std::cell::Cell;
use std::ffi::CStr;
use sysex::SysexArena;

/// Undeclared param id whose value events report the block's `steady_time`.
pub const STEADY_TIME_ID: ClapId = ClapId::new(1000);

/// Capacity of the per-block sysex copy buffer; payloads that do not fit are echoed pointing at
/// the host's own (still valid) buffer instead.
const SYSEX_CAPACITY: usize = 16 << 20;

bulkhead_sample_support::sample_plugin! {
    /// The echo plugin type.
    pub struct EchoPlugin {
        id: "org.bulkhead.sample.echo",
        name: "Bulkhead Sample Echo",
        features: [NOTE_EFFECT, AUDIO_EFFECT, STEREO],
        shared: EchoShared,
        main_thread: EchoMainThread,
        audio_processor: EchoProcessor,
        extensions: [PluginAudioPorts, PluginNotePorts, PluginParams, PluginState, PluginTimer],
        new_main_thread: |host, shared| {
            // A timer shows whether the hosting process runs plugin timers;
            // its first tick is logged through the host.
            if let Some(timer) = host.get_extension::<HostTimer>() {
                let _ = timer.register_timer(&host, 20);
            }
            Ok(EchoMainThread {
                shared,
                host,
                ticked: Cell::new(false),
            })
        },
    }
}

/// The message logged on the first timer tick.
pub const TIMER_MESSAGE: &CStr = c"echo: timer fired";

/// Main-thread side: parameters, state and port queries, and a timer.
pub struct EchoMainThread<'a> {
    shared: &'a EchoShared,
    host: HostMainThreadHandle<'a>,
    ticked: Cell<bool>,
}

impl PluginTimerImpl for EchoMainThread<'_> {
    fn on_timer(&self, _timer: TimerId) {
        if !self.ticked.replace(true) {
            if let Some(log) = self.host.get_extension::<HostLog>() {
                log.log(&self.host.shared(), LogSeverity::Info, TIMER_MESSAGE);
            }
        }
    }
}

/// Audio-thread side.
pub struct EchoProcessor<'a> {
    shared: &'a EchoShared,
    /// Plugin-owned copies of the sysex payloads echoed in the current block.
    sysex: SysexArena,
}

impl EchoProcessor<'_> {
    /// Pushes `event` to `output` unchanged, except that a sysex payload is re-pointed at a
    /// plugin-owned copy of the same bytes.
    fn echo(&mut self, event: &UnknownEvent, output: &mut OutputEvents) {
        // A full output queue only drops the echo.
        if let Some(sysex) = event.as_event::<MidiSysExEvent>() {
            // SAFETY: the host's sysex buffer is valid for the duration of this process() call.
            let data = unsafe { sysex.data() };
            if let Some(copy) = self.sysex.store(data) {
                let mut echoed = *sysex;
                // SAFETY: only the payload pointer changes (to a copy of the same length that
                // lives until the next process() call); the header is left untouched.
                unsafe { echoed.as_raw_mut().buffer = copy.as_ptr() };
                let _ = output.try_push(echoed);
                return;
            }
        }
        let _ = output.try_push(event);
    }
}

impl<'a> PluginAudioProcessor<'a, EchoShared, EchoMainThread<'a>> for EchoProcessor<'a> {
    fn activate(
        _host: HostAudioProcessorHandle<'a>,
        _main_thread: &EchoMainThread<'a>,
        shared: &'a EchoShared,
        _audio_config: PluginAudioConfiguration,
    ) -> Result<Self, PluginError> {
        Ok(Self {
            shared,
            sysex: SysexArena::with_capacity(SYSEX_CAPACITY),
        })
    }

    fn process(
        &mut self,
        process: Process,
        mut audio: Audio,
        events: Events,
    ) -> Result<ProcessStatus, PluginError> {
        self.sysex.clear();
        if let Some(transport) = process.transport {
            let mut copy = *transport;
            copy.header.set_time(0);
            let _ = events.output.try_push(copy);
        }
        if let Some(steady_time) = process.steady_time {
            let report =
                ParamValueEvent::new(0, STEADY_TIME_ID, Pckn::match_all(), steady_time as f64);
            let _ = events.output.try_push(report);
        }
        for event in events.input {
            if let Some(value) = event.as_event::<ParamValueEvent>() {
                self.shared.level.apply_value_event(value);
            }
            self.echo(event, events.output);
        }
        ports::pass_through(&mut audio)?;
        Ok(ProcessStatus::Continue)
    }
}

impl PluginAudioProcessorParams for EchoProcessor<'_> {
    fn flush(&mut self, input: &InputEvents, _output: &mut OutputEvents) {
        self.shared.level.flush(input);
    }
}
