//! The gain and fault parameters, and the params extension.

use crate::faults;
use crate::FaultMainThread;
use bulkhead_sample_support::params::{self, FloatParam, ParamSpec};
use clack_extensions::params::{
    ParamDisplayWriter, ParamInfoFlags, ParamInfoWriter, PluginMainThreadParams,
};
use clack_plugin::events::event_types::ParamValueEvent;
use clack_plugin::prelude::*;
use std::ffi::CStr;
use std::fmt::Write;
use std::sync::atomic::{AtomicU32, Ordering};

/// The gain parameter.
pub const GAIN_ID: ClapId = ClapId::new(0);
/// The fault selector parameter.
pub const FAULT_ID: ClapId = ClapId::new(1);
/// Read-only: how many times the state was saved (lets tests see a host's
/// background state saves happen).
pub const SAVES_ID: ClapId = ClapId::new(2);

/// The gain parameter's description (also its valid range in states).
pub const GAIN: ParamSpec<'static> = ParamSpec {
    id: GAIN_ID,
    name: b"Gain",
    flags: ParamInfoFlags::IS_AUTOMATABLE.union(ParamInfoFlags::IS_MODULATABLE),
    min: 0.0,
    max: 2.0,
    default: 1.0,
};

const FAULT: ParamSpec<'static> = ParamSpec {
    id: FAULT_ID,
    name: b"Fault",
    flags: ParamInfoFlags::IS_STEPPED,
    min: 0.0,
    max: faults::MAX as f64,
    default: faults::NONE as f64,
};

const SAVES: ParamSpec<'static> = ParamSpec {
    id: SAVES_ID,
    name: b"State saves",
    flags: ParamInfoFlags::IS_READONLY.union(ParamInfoFlags::IS_STEPPED),
    min: 0.0,
    max: u32::MAX as f64,
    default: 0.0,
};

/// Parameter values, shared by the main thread and the audio processor.
pub struct FaultShared {
    pub gain: FloatParam,
    fault: AtomicU32,
    pub saves: AtomicU32,
}

impl Default for FaultShared {
    fn default() -> Self {
        Self {
            gain: FloatParam::new(GAIN),
            fault: AtomicU32::new(faults::NONE),
            saves: AtomicU32::new(0),
        }
    }
}

impl PluginShared<'_> for FaultShared {}

impl FaultShared {
    pub fn fault(&self) -> u32 {
        self.fault.load(Ordering::Relaxed)
    }

    pub fn set_fault(&self, fault: u32) {
        self.fault.store(fault, Ordering::Relaxed);
    }

    /// Applies a value event for the gain or fault parameter; other events are ignored.
    pub fn apply_value_event(&self, event: &ParamValueEvent) {
        let value = event.value();
        if self.gain.apply_value_event(event).is_none()
            && event.param_id() == Some(FAULT_ID)
            && value.is_finite()
        {
            self.set_fault(value.round().clamp(0.0, faults::MAX as f64) as u32);
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
        3
    }

    fn get_info(&self, param_index: u32, info: &mut ParamInfoWriter) {
        match param_index {
            0 => GAIN.write_info(info),
            1 => FAULT.write_info(info),
            2 => SAVES.write_info(info),
            _ => {}
        }
    }

    fn get_value(&self, param_id: ClapId) -> Option<f64> {
        match param_id {
            GAIN_ID => Some(self.shared.gain.get()),
            FAULT_ID => Some(f64::from(self.shared.fault())),
            SAVES_ID => Some(f64::from(self.shared.saves.load(Ordering::Relaxed))),
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
                params::write_value(writer, value, 4)
            }
            SAVES_ID => params::write_value(writer, value, 0),
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
