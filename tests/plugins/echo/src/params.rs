//! The level parameter (stored and reported, but without effect on the audio) and the params
//! extension.

use crate::EchoMainThread;
use clack_extensions::params::{
    ParamDisplayWriter, ParamInfo, ParamInfoFlags, ParamInfoWriter, PluginMainThreadParams,
};
use clack_plugin::events::event_types::ParamValueEvent;
use clack_plugin::prelude::*;
use clack_plugin::utils::Cookie;
use std::ffi::CStr;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The level parameter.
pub const LEVEL_ID: ClapId = ClapId::new(0);
pub const LEVEL_MIN: f64 = 0.0;
pub const LEVEL_MAX: f64 = 1.0;
const LEVEL_DEFAULT: f64 = 1.0;

/// Parameter values, shared by the main thread and the audio processor.
pub struct EchoShared {
    level: AtomicU64,
}

impl Default for EchoShared {
    fn default() -> Self {
        Self {
            level: AtomicU64::new(LEVEL_DEFAULT.to_bits()),
        }
    }
}

impl PluginShared<'_> for EchoShared {}

impl EchoShared {
    pub fn level(&self) -> f64 {
        f64::from_bits(self.level.load(Ordering::Relaxed))
    }

    pub fn set_level(&self, level: f64) {
        self.level.store(level.to_bits(), Ordering::Relaxed);
    }

    /// Applies a value event if it targets the level parameter.
    pub fn apply_value_event(&self, event: &ParamValueEvent) {
        if event.param_id() == Some(LEVEL_ID) && event.value().is_finite() {
            self.set_level(event.value().clamp(LEVEL_MIN, LEVEL_MAX));
        }
    }

    /// Applies every level value event of `input`.
    pub fn flush(&self, input: &InputEvents) {
        for event in input {
            if let Some(event) = event.as_event::<ParamValueEvent>() {
                self.apply_value_event(event);
            }
        }
    }
}

impl PluginMainThreadParams for EchoMainThread<'_> {
    fn count(&self) -> u32 {
        1
    }

    fn get_info(&self, param_index: u32, info: &mut ParamInfoWriter) {
        if param_index != 0 {
            return;
        }
        info.set(&ParamInfo {
            id: LEVEL_ID,
            flags: ParamInfoFlags::IS_AUTOMATABLE,
            cookie: Cookie::empty(),
            name: b"Level",
            module: b"",
            min_value: LEVEL_MIN,
            max_value: LEVEL_MAX,
            default_value: LEVEL_DEFAULT,
        });
    }

    fn get_value(&self, param_id: ClapId) -> Option<f64> {
        (param_id == LEVEL_ID).then(|| self.shared.level())
    }

    fn value_to_text(
        &self,
        param_id: ClapId,
        value: f64,
        writer: &mut ParamDisplayWriter,
    ) -> std::fmt::Result {
        if param_id != LEVEL_ID {
            return Err(std::fmt::Error);
        }
        write!(writer, "{value:.4}")
    }

    fn text_to_value(&self, param_id: ClapId, text: &CStr) -> Option<f64> {
        if param_id != LEVEL_ID {
            return None;
        }
        text.to_str().ok()?.trim().parse().ok()
    }

    fn flush(&self, input: &InputEvents, _output: &mut OutputEvents) {
        self.shared.flush(input);
    }
}
