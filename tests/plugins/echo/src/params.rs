//! The level parameter (stored and reported, but without effect on the audio) and the params
//! extension.

use crate::EchoMainThread;
use bulkhead_sample_support::params::{FloatParam, ParamSpec};
use clack_extensions::params::ParamInfoFlags;
use clack_plugin::prelude::*;

/// The level parameter.
pub const LEVEL_ID: ClapId = ClapId::new(0);

const LEVEL: ParamSpec<'static> = ParamSpec {
    id: LEVEL_ID,
    name: b"Level",
    flags: ParamInfoFlags::IS_AUTOMATABLE,
    min: 0.0,
    max: 1.0,
    default: 1.0,
};

/// Parameter values, shared by the main thread and the audio processor.
pub struct EchoShared {
    pub level: FloatParam,
}

impl Default for EchoShared {
    fn default() -> Self {
        Self {
            level: FloatParam::new(LEVEL),
        }
    }
}

impl PluginShared<'_> for EchoShared {}

bulkhead_sample_support::single_float_param!(EchoMainThread<'_>, shared.level);
