//! The latency parameter and the params extension.

use crate::LatencyMainThread;
use bulkhead_sample_support::params::{self, ParamSpec};
use clack_extensions::params::{
    ParamDisplayWriter, ParamInfoFlags, ParamInfoWriter, PluginMainThreadParams,
};
use clack_plugin::events::event_types::ParamValueEvent;
use clack_plugin::prelude::*;
use std::ffi::CStr;
use std::sync::atomic::{AtomicU32, Ordering};

const LATENCY_ID: ClapId = ClapId::new(0);
/// Largest supported latency, in samples.
pub const MAX_LATENCY: u32 = 4096;
const DEFAULT_LATENCY: u32 = 64;

const LATENCY: ParamSpec<'static> = ParamSpec {
    id: LATENCY_ID,
    name: b"Latency",
    flags: ParamInfoFlags::IS_AUTOMATABLE.union(ParamInfoFlags::IS_STEPPED),
    min: 0.0,
    max: MAX_LATENCY as f64,
    default: DEFAULT_LATENCY as f64,
};

/// The latency parameter's value, shared by the main thread and the audio processor.
pub struct LatencyShared {
    latency: AtomicU32,
}

impl Default for LatencyShared {
    fn default() -> Self {
        Self {
            latency: AtomicU32::new(DEFAULT_LATENCY),
        }
    }
}

impl PluginShared<'_> for LatencyShared {}

impl LatencyShared {
    pub fn latency(&self) -> u32 {
        self.latency.load(Ordering::Relaxed)
    }

    /// Stores the parameter value, returning whether it changed.
    pub fn set_latency(&self, latency: u32) -> bool {
        self.latency.swap(latency, Ordering::Relaxed) != latency
    }
}

/// The (rounded, clamped) latency carried by a parameter value event for the latency parameter.
pub fn latency_from_event(event: &ParamValueEvent) -> Option<u32> {
    if event.param_id() != Some(LATENCY_ID) || !event.value().is_finite() {
        return None;
    }
    Some(event.value().round().clamp(0.0, f64::from(MAX_LATENCY)) as u32)
}

impl PluginMainThreadParams for LatencyMainThread<'_> {
    fn count(&self) -> u32 {
        1
    }

    fn get_info(&self, param_index: u32, info: &mut ParamInfoWriter) {
        if param_index == 0 {
            LATENCY.write_info(info);
        }
    }

    fn get_value(&self, param_id: ClapId) -> Option<f64> {
        (param_id == LATENCY_ID).then(|| f64::from(self.shared.latency()))
    }

    fn value_to_text(
        &self,
        param_id: ClapId,
        value: f64,
        writer: &mut ParamDisplayWriter,
    ) -> std::fmt::Result {
        if param_id != LATENCY_ID {
            return Err(std::fmt::Error);
        }
        params::write_value(writer, value, 0)
    }

    fn text_to_value(&self, param_id: ClapId, text: &CStr) -> Option<f64> {
        if param_id != LATENCY_ID {
            return None;
        }
        params::parse_value(text)
    }

    fn flush(&self, input: &InputEvents, _output: &mut OutputEvents) {
        for event in input {
            if let Some(latency) = event.as_event().and_then(latency_from_event) {
                self.set_latency(latency);
            }
        }
    }
}
