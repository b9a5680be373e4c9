//! The gain and fault parameters, and the params extension.

use crate::faults;
use crate::FaultMainThread;
use clack_extensions::params::{
    ParamDisplayWriter, ParamInfo, ParamInfoFlags, ParamInfoWriter, PluginMainThreadParams,
};
use clack_plugin::events::event_types::ParamValueEvent;
use clack_plugin::prelude::*;
use clack_plugin::utils::Cookie;
use std::ffi::CStr;
use std::fmt::Write;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The gain parameter.
pub const GAIN_ID: ClapId = ClapId::new(0);
/// The fault selector parameter.
pub const FAULT_ID: ClapId = ClapId::new(1);

pub const GAIN_MIN: f64 = 0.0;
pub const GAIN_MAX: f64 = 2.0;
const GAIN_DEFAULT: f64 = 1.0;

/// Parameter values, shared by the main thread and the audio processor.
pub struct FaultShared {
    gain: AtomicU64,
    fault: AtomicU32,
}

impl Default for FaultShared {
    fn default() -> Self {
        Self {
            gain: AtomicU64::new(GAIN_DEFAULT.to_bits()),
            fault: AtomicU32::new(faults::NONE),
        }
    }
}

impl PluginShared<'_> for FaultShared {}

impl FaultShared {
    pub fn gain(&self) -> f64 {
        f64::from_bits(self.gain.load(Ordering::Relaxed))
    }

    pub fn set_gain(&self, gain: f64) {
        self.gain.store(gain.to_bits(), Ordering::Relaxed);
    }

    pub fn fault(&self) -> u32 {
        self.fault.load(Ordering::Relaxed)
    }

    pub fn set_fault(&self, fault: u32) {
        self.fault.store(fault, Ordering::Relaxed);
    }

    /// Applies a value event for the gain or fault parameter; other events are ignored.
    pub fn apply_value_event(&self, event: &ParamValueEvent) {
        let value = event.value();
        if !value.is_finite() {
            return;
        }
        match event.param_id() {
            Some(GAIN_ID) => self.set_gain(value.clamp(GAIN_MIN, GAIN_MAX)),
            Some(FAULT_ID) => self.set_fault(value.round().clamp(0.0, faults::MAX as f64) as u32),
            _ => {}
        }
    }

    /// Applies every parameter value event of `input`.
    pub fn flush(&self, input: &InputEvents) {
        for event in input {
            if let Some(event) = event.as_event::<ParamValueEvent>() {
                self.apply_value_event(event);
            }
        }
    }
}

impl PluginMainThreadParams for FaultMainThread<'_> {
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
                FAULT_ID,
                &b"Fault"[..],
                ParamInfoFlags::IS_STEPPED,
                faults::MAX as f64,
                faults::NONE as f64,
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
            FAULT_ID => Some(f64::from(self.shared.fault())),
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
            GAIN_ID => {
                if self.shared.fault() == faults::HANG_IN_VALUE_TO_TEXT {
                    faults::sleep_forever();
                }
                write!(writer, "{value:.4}")
            }
            FAULT_ID => {
                let name = (value.is_finite() && value >= 0.0)
                    .then(|| faults::NAMES.get(value.round() as usize))
                    .flatten()
                    .ok_or(std::fmt::Error)?;
                writer.write_str(name)
            }
            _ => Err(std::fmt::Error),
        }
    }

    fn text_to_value(&self, param_id: ClapId, text: &CStr) -> Option<f64> {
        let text = text.to_str().ok()?.trim();
        match param_id {
            GAIN_ID => text.parse().ok(),
            FAULT_ID => faults::NAMES
                .iter()
                .position(|name| name.eq_ignore_ascii_case(text))
                .map(|index| index as f64)
                .or_else(|| text.parse().ok()),
            _ => None,
        }
    }

    fn flush(&self, input: &InputEvents, _output: &mut OutputEvents) {
        self.shared.flush(input);
    }
}
