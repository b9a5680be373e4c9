//! The gain parameter, its read-only readout, and the params extension.

use crate::GainMainThread;
use bulkhead_sample_support::params::{self, FloatParam, ParamSpec};
use clack_extensions::params::{
    ParamDisplayWriter, ParamInfoFlags, ParamInfoWriter, PluginMainThreadParams,
};
use clack_plugin::events::event_types::ParamValueEvent;
use clack_plugin::prelude::*;
use std::ffi::CStr;

/// The gain parameter.
pub const GAIN_ID: ClapId = ClapId::new(0);
/// The read-only readout parameter, always twice the gain.
pub const READOUT_ID: ClapId = ClapId::new(1);

const GAIN_MAX: f64 = 2.0;
const GAIN_DEFAULT: f64 = 1.0;

const GAIN: ParamSpec<'static> = ParamSpec {
    id: GAIN_ID,
    name: b"Gain",
    flags: ParamInfoFlags::IS_AUTOMATABLE.union(ParamInfoFlags::IS_MODULATABLE),
    min: 0.0,
    max: GAIN_MAX,
    default: GAIN_DEFAULT,
};

const READOUT: ParamSpec<'static> = ParamSpec {
    id: READOUT_ID,
    name: b"Gain x2 (readout)",
    flags: ParamInfoFlags::IS_READONLY,
    min: 0.0,
    max: 2.0 * GAIN_MAX,
    default: 2.0 * GAIN_DEFAULT,
};

/// Parameter values, shared by the main thread and the audio processor.
pub struct GainShared {
    pub gain: FloatParam,
}

impl Default for GainShared {
    fn default() -> Self {
        Self {
            gain: FloatParam::new(GAIN),
        }
    }
}

impl PluginShared<'_> for GainShared {}

impl GainShared {
    /// Applies a gain value event and emits the readout at the same time.
    pub fn apply_value_event(&self, event: &ParamValueEvent, output: &mut OutputEvents) {
        let Some(gain) = self.gain.apply_value_event(event) else {
            return;
        };
        let readout = ParamValueEvent::new(event.time(), READOUT_ID, Pckn::match_all(), 2.0 * gain);
        // A full output queue only loses the readout; the gain change itself still applies.
        let _ = output.try_push(readout);
    }
}

impl PluginMainThreadParams for GainMainThread<'_> {
    fn count(&self) -> u32 {
        2
    }

    fn get_info(&self, param_index: u32, info: &mut ParamInfoWriter) {
        match param_index {
            0 => GAIN.write_info(info),
            1 => READOUT.write_info(info),
            _ => {}
        }
    }

    fn get_value(&self, param_id: ClapId) -> Option<f64> {
        match param_id {
            GAIN_ID => Some(self.shared.gain.get()),
            READOUT_ID => Some(2.0 * self.shared.gain.get()),
            _ => None,
        }
    }

    fn value_to_text(
        &self,
        param_id: ClapId,
        value: f64,
        writer: &mut ParamDisplayWriter,
    ) -> std::fmt::Result {
        match param_id {
            GAIN_ID | READOUT_ID => params::write_value(writer, value, 4),
            _ => Err(std::fmt::Error),
        }
    }

    fn text_to_value(&self, param_id: ClapId, text: &CStr) -> Option<f64> {
        match param_id {
            GAIN_ID | READOUT_ID => params::parse_value(text),
            _ => None,
        }
    }

    fn flush(&self, input: &InputEvents, output: &mut OutputEvents) {
        for event in input {
            if let Some(event) = event.as_event::<ParamValueEvent>() {
                self.shared.apply_value_event(event, output);
            }
        }
    }
}
