//! The 2000 parameters and the params extension.

use crate::BigStateMainThread;
use clack_extensions::params::{
    ParamDisplayWriter, ParamInfo, ParamInfoFlags, ParamInfoWriter, PluginMainThreadParams,
};
use clack_plugin::events::event_types::ParamValueEvent;
use clack_plugin::prelude::*;
use clack_plugin::utils::Cookie;
use std::ffi::CStr;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Number of parameters; their ids are `0..PARAM_COUNT`.
pub const PARAM_COUNT: usize = 2000;
pub const PARAM_MIN: f64 = -1.0;
pub const PARAM_MAX: f64 = 1.0;

/// Parameter values (as `f64` bits, indexed by id), shared by the main thread and the processor.
pub struct BigStateShared {
    values: Box<[AtomicU64]>,
}

impl Default for BigStateShared {
    fn default() -> Self {
        Self {
            values: (0..PARAM_COUNT)
                .map(|_| AtomicU64::new(0.0f64.to_bits()))
                .collect(),
        }
    }
}

impl PluginShared<'_> for BigStateShared {}

impl BigStateShared {
    fn slot(&self, id: ClapId) -> Option<&AtomicU64> {
        self.values.get(usize::try_from(id.get()).ok()?)
    }

    pub fn value(&self, id: ClapId) -> Option<f64> {
        Some(f64::from_bits(self.slot(id)?.load(Ordering::Relaxed)))
    }

    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.values
            .iter()
            .map(|value| f64::from_bits(value.load(Ordering::Relaxed)))
    }

    pub fn set_values(&self, values: impl IntoIterator<Item = f64>) {
        for (slot, value) in self.values.iter().zip(values) {
            slot.store(value.to_bits(), Ordering::Relaxed);
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
                let value = event.value().clamp(PARAM_MIN, PARAM_MAX);
                slot.store(value.to_bits(), Ordering::Relaxed);
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
        info.set(&ParamInfo {
            id: ClapId::new(param_index),
            flags: ParamInfoFlags::IS_AUTOMATABLE,
            cookie: Cookie::empty(),
            name: name.as_bytes(),
            module: b"",
            min_value: PARAM_MIN,
            max_value: PARAM_MAX,
            default_value: 0.0,
        });
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
        write!(writer, "{value:.4}")
    }

    fn text_to_value(&self, param_id: ClapId, text: &CStr) -> Option<f64> {
        self.shared.value(param_id)?;
        text.to_str().ok()?.trim().parse().ok()
    }

    fn flush(&self, input: &InputEvents, _output: &mut OutputEvents) {
        input
            .iter()
            .for_each(|event| self.shared.apply_event(event));
    }
}
