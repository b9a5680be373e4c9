//! The volume parameter and the params extension.

use crate::SynthMainThread;
use clack_extensions::params::{
    ParamDisplayWriter, ParamInfo, ParamInfoFlags, ParamInfoWriter, PluginMainThreadParams,
};
use clack_plugin::events::event_types::ParamValueEvent;
use clack_plugin::prelude::*;
use clack_plugin::utils::Cookie;
use std::ffi::CStr;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

const VOLUME_ID: ClapId = ClapId::new(0);
pub const VOLUME_MIN: f64 = 0.0;
pub const VOLUME_MAX: f64 = 1.0;
const VOLUME_DEFAULT: f64 = 0.5;

/// Parameter values, shared by the main thread and the audio processor.
pub struct SynthShared {
    volume: AtomicU64,
}

impl Default for SynthShared {
    fn default() -> Self {
        Self {
            volume: AtomicU64::new(VOLUME_DEFAULT.to_bits()),
        }
    }
}

impl PluginShared<'_> for SynthShared {}

impl SynthShared {
    pub fn volume(&self) -> f64 {
        f64::from_bits(self.volume.load(Ordering::Relaxed))
    }

    pub fn set_volume(&self, volume: f64) {
        self.volume.store(volume.to_bits(), Ordering::Relaxed);
    }

    pub fn apply_value_event(&self, event: &ParamValueEvent) {
        if event.param_id() == Some(VOLUME_ID) && event.value().is_finite() {
            self.set_volume(event.value().clamp(VOLUME_MIN, VOLUME_MAX));
        }
    }

    /// Applies the parameter changes of a flush.
    pub fn flush(&self, input: &InputEvents) {
        for event in input {
            if let Some(event) = event.as_event::<ParamValueEvent>() {
                self.apply_value_event(event);
            }
        }
    }
}

impl PluginMainThreadParams for SynthMainThread<'_> {
    fn count(&self) -> u32 {
        1
    }

    fn get_info(&self, param_index: u32, info: &mut ParamInfoWriter) {
        if param_index == 0 {
            info.set(&ParamInfo {
                id: VOLUME_ID,
                flags: ParamInfoFlags::IS_AUTOMATABLE,
                cookie: Cookie::empty(),
                name: b"Volume",
                module: b"",
                min_value: VOLUME_MIN,
                max_value: VOLUME_MAX,
                default_value: VOLUME_DEFAULT,
            });
        }
    }

    fn get_value(&self, param_id: ClapId) -> Option<f64> {
        (param_id == VOLUME_ID).then(|| self.shared.volume())
    }

    fn value_to_text(
        &self,
        param_id: ClapId,
        value: f64,
        writer: &mut ParamDisplayWriter,
    ) -> std::fmt::Result {
        if param_id != VOLUME_ID {
            return Err(std::fmt::Error);
        }
        write!(writer, "{value:.4}")
    }

    fn text_to_value(&self, param_id: ClapId, text: &CStr) -> Option<f64> {
        if param_id != VOLUME_ID {
            return None;
        }
        text.to_str().ok()?.trim().parse().ok()
    }

    fn flush(&self, input: &InputEvents, _output: &mut OutputEvents) {
        self.shared.flush(input);
    }
}
