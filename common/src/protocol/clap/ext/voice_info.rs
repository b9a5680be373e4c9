//! `clap_plugin_voice_info`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct GetVoiceInfo;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct VoiceInfo {
    pub voice_count: u32,
    pub voice_capacity: u32,
    pub flags: u64,
}
