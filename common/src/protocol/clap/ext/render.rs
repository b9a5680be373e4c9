//! `clap_plugin_render`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct HasHardRealtimeRequirement;

#[derive(Debug, Serialize, Deserialize)]
pub struct Set {
    pub mode: i32,
}
