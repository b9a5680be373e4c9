//! The gain parameter, its read-only readout, and the params extension.

use crate::GainMainThread;
use clack_extensions::params::{
    ParamDisplayWriter, ParamInfo, ParamInfoFlags, ParamInfoWriter, PluginMainThreadParams,
};
use clack_plugin::events::event_types::ParamValueEvent;
use clack_plugin::prelude::*;
use clack_plugin::utils::Cookie;
use std::ffi::CStr;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The gain parameter.
pub const GAIN_ID: ClapId = ClapId::new(0);
/// The read-only readout parameter, always twice the gain.
pub const READOUT_ID: ClapId = ClapId::new(1);

pub const GAIN_MIN: f64 = 0.0;
pub const GAIN_MAX: f64 = 2.0;
const GAIN_DEFAULT: f64 = 1.0;

/// Parameter values, shared by the main thread and the audio processor.
pub struct GainShared {
    gain: AtomicU64,
}

impl Default for GainShared {
    fn default() -> Self {
        Self {
            gain: AtomicU64::new(GAIN_DEFAULT.to_bits()),
        }
    }
}

impl PluginShared<'_> for GainShared {}

impl GainShared {
    pub fn gain(&self) -> f64 {
        f64::from_bits(self.gain.load(Ordering::Relaxed))
    }

    pub fn set_gain(&self, gain: f64) {
        self.gain.store(gain.to_bits(), Ordering::Relaxed);
    }

    /// Applies a gain value event and emits the readout at the same time.
    pub fn apply_value_event(&self, event: &ParamValueEvent, output: &mut OutputEvents) {
        if event.param_id() != Some(GAIN_ID) || !event.value().is_finite() {
            return;
        }
        let gain = event.value().clamp(GAIN_MIN, GAIN_MAX);
        self.set_gain(gain);
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
        let (id, name, flags, max, default) = match param_index {
            0 => (
                GAIN_ID,
                &b"Gain"[..],
                ParamInfoFlags::IS_AUTOMATABLE | ParamInfoFlags::IS_MODULATABLE,
                GAIN_MAX,
                GAIN_DEFAULT,
            ),
            1 => (
                READOUT_ID,
                &b"Gain x2 (readout)"[..],
                ParamInfoFlags::IS_READONLY,
                2.0 * GAIN_MAX,
                2.0 * GAIN_DEFAULT,
            ),
            _ => return,
        };
        info.set(&ParamInfo {
            id,
            flags,
            cookie: Cookie::empty(),
            name,
            module: b"",
            min_value: 0.0,
            max_value: max,
            default_value: default,
        });
    }

    fn get_value(&self, param_id: ClapId) -> Option<f64> {
        match param_id {
            GAIN_ID => Some(self.shared.gain()),
            READOUT_ID => Some(2.0 * self.shared.gain()),
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
            GAIN_ID | READOUT_ID => write!(writer, "{value:.4}"),
            _ => Err(std::fmt::Error),
        }
    }

    fn text_to_value(&self, param_id: ClapId, text: &CStr) -> Option<f64> {
        match param_id {
            GAIN_ID | READOUT_ID => text.to_str().ok()?.trim().parse().ok(),
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
