//! What `bulkhead-host --scan FILE` prints: one JSON document describing
//! every plugin of a plugin file, read by creating each plugin in that
//! throwaway process. The `bulkhead` tool reads it back with the same
//! types, and pre-fills the bridge's descriptor cache from it.

use crate::protocol::clap::ext::{
    audio_ports::AudioPorts, note_ports::NotePorts, params::ParamInfo,
};
use crate::protocol::clap::plugin::{PluginDescriptor, PluginExtensions};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Bumped when the report's layout changes.
pub const REPORT_FORMAT: u32 = 1;

/// The plugin formats bulkhead knows of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginFormat {
    Clap,
    Vst3,
}

impl PluginFormat {
    pub fn name(self) -> &'static str {
        match self {
            Self::Clap => "clap",
            Self::Vst3 => "vst3",
        }
    }
}

/// One plugin file, scanned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    pub report_format: u32,
    pub format: PluginFormat,
    pub file: PathBuf,
    pub plugins: Vec<ScannedPlugin>,
    /// For a VST3 bundle: the factory and every class, as the bridged
    /// bundle's `moduleinfo.json` and descriptor cache need them.
    #[serde(default)]
    pub vst3: Option<crate::protocol::vst3::types::ModuleClasses>,
}

/// One plugin of the file. `error` says why the details are missing when
/// the plugin could be listed but not created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScannedPlugin {
    pub descriptor: PluginDescriptor,
    pub audio_ports: AudioPorts,
    pub note_ports: NotePorts,
    pub params: Vec<ParamInfo>,
    pub latency: u32,
    pub extensions: PluginExtensions,
    pub error: Option<String>,
}

impl ScanReport {
    /// The descriptors, as the bridge caches them.
    pub fn descriptors(&self) -> Vec<PluginDescriptor> {
        self.plugins.iter().map(|p| p.descriptor.clone()).collect()
    }
}
