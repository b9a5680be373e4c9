//! The 2000 parameters and the params extension.

use crate::BigStateMainThread;
use bulkhead_sample_support::params::{self, AtomicF64, ParamSpec};
use clack_extensions::params::{
    ParamDisplayWriter, ParamInfoFlags, ParamInfoWriter, PluginMainThreadParams,
};
use clack_plugin::events::event_types::ParamValueEvent;
use clack_plugin::prelude::*;
use std::ffi::CStr;

/// Number of parameters; their ids are `0..PARAM_COUNT`.
pub const PARAM_COUNT: usize = 2000;
pub const PARAM_MIN: f64 = -1.0;
pub const PARAM_MAX: f64 = 1.0;

/// Parameter values (indexed by id), shared by the main thread and the processor.
pub struct BigStateShared {
    values: Box<[AtomicF64]>,
}

impl Default for BigStateShared {
    fn default() -> Self {
        Self {
            values: (0..PARAM_COUNT).map(|_| AtomicF64::new(0.0)).collect(),
        }
    }
}

impl PluginShared<'_> for BigStateShared {}

impl BigStateShared {
    fn slot(&self, id: ClapId) -> Option<&AtomicF64> {
        self.values.get(usize::try_from(id.get()).ok()?)
    }

    pub fn value(&self, id: ClapId) -> Option<f64> {
        Some(self.slot(id)?.get())
    }

    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.values.iter().map(AtomicF64::get)
    }

    pub fn set_values(&self, values: impl IntoIterator<Item = f64>) {
        for (slot, value) in self.values.iter().zip(values) {
            slot.set(value);
        }
    }

    /// The audio gain: `1 + sum(values) / PARAM_COUNT`, summed in id order.
    pub fn factor(&self) -> f64 {
        1.0 + self.values().sum::<f64>() / PARAM_COUNT as f64
    }

    /// Applies a parameter value event; other events are ignored.
    pub fn apply_event(&self, event: &UnknownEvent) {
        let Some(event) = event.as_event::<ParamValueEvent>() else {
            return;
        };
        if let Some(slot) = event.param_id().and_then(|id| self.slot(id)) {
            if event.value().is_finite() {
                slot.set(event.value().clamp(PARAM_MIN, PARAM_MAX));
            }
        }
    }
}

impl PluginMainThreadParams for BigStateMainThread<'_> {
    fn count(&self) -> u32 {
        PARAM_COUNT as u32
    }

    fn get_info(&self, param_index: u32, info: &mut ParamInfoWriter) {
        if param_index as usize >= PARAM_COUNT {
            return;
        }
        let name = format!("Param {param_index:04}");
        ParamSpec {
            id: ClapId::new(param_index),
            name: name.as_bytes(),
            flags: ParamInfoFlags::IS_AUTOMATABLE,
            min: PARAM_MIN,
            max: PARAM_MAX,
            default: 0.0,
        }
        .write_info(info);
    }

    fn get_value(&self, param_id: ClapId) -> Option<f64> {
        self.shared.value(param_id)
    }

    fn value_to_text(
        &self,
        param_id: ClapId,
        value: f64,
        writer: &mut ParamDisplayWriter,
    ) -> std::fmt::Result {
        if self.shared.value(param_id).is_none() {
            return Err(std::fmt::Error);
        }
        params::write_value(writer, value, 4)
    }

    fn text_to_value(&self, param_id: ClapId, text: &CStr) -> Option<f64> {
        self.shared.value(param_id)?;
        params::parse_value(text)
    }

    fn flush(&self, input: &InputEvents, _output: &mut OutputEvents) {
        input
            .iter()
            .for_each(|event| self.shared.apply_event(event));
    }
}
