//! The volume parameter and the params extension.

use crate::SynthMainThread;
use bulkhead_sample_support::params::{FloatParam, ParamSpec};
use clack_extensions::params::ParamInfoFlags;
use clack_plugin::prelude::*;

const VOLUME: ParamSpec<'static> = ParamSpec {
    id: ClapId::new(0),
    name: b"Volume",
    flags: ParamInfoFlags::IS_AUTOMATABLE,
    min: 0.0,
    max: 1.0,
    default: 0.5,
};

/// Parameter values, shared by the main thread and the audio processor.
pub struct SynthShared {
    pub volume: FloatParam,
}

impl Default for SynthShared {
    fn default() -> Self {
        Self {
            volume: FloatParam::new(VOLUME),
        }
    }
}

impl PluginShared<'_> for SynthShared {}

bulkhead_sample_support::single_float_param!(SynthMainThread<'_>, shared.volume);
