//! `clap_plugin_factory` and `clap_plugin`: listing, creating, activating.

use crate::shm::AudioLayout;
use serde::{Deserialize, Serialize};

/// `clap_plugin_descriptor`, owned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PluginDescriptor {
    pub id: String,
    pub name: String,
    pub vendor: Option<String>,
    pub url: Option<String>,
    pub manual_url: Option<String>,
    pub support_url: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub features: Vec<String>,
}

/// Lists every plugin of the host's plugin file.
#[derive(Debug, Serialize, Deserialize)]
pub struct ListPlugins;

/// What the DAW is, as the plugin will see it through `clap_host`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HostIdentity {
    pub name: String,
    pub vendor: String,
    pub url: String,
    pub version: String,
}

/// Which host extensions the DAW offers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct HostCapabilities {
    pub log: bool,
    pub params: bool,
    pub state: bool,
    pub latency: bool,
    pub tail: bool,
    pub audio_ports: bool,
    pub note_ports: bool,
    pub voice_info: bool,
}

/// Creates and initialises one plugin instance.
#[derive(Debug, Serialize, Deserialize)]
pub struct CreatePlugin {
    pub plugin_id: String,
    /// The plugin file, when the process serves several (a group); else
    /// the one it was started for.
    pub plugin: Option<std::path::PathBuf>,
    pub host: HostIdentity,
    pub caps: HostCapabilities,
}

/// The plugin extensions the bridge can carry, as the plugin offers them.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PluginExtensions {
    pub audio_ports: bool,
    pub note_ports: bool,
    pub params: bool,
    pub state: bool,
    pub latency: bool,
    pub tail: bool,
    pub render: bool,
    pub voice_info: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CreatedPlugin {
    pub instance: crate::InstanceId,
    pub extensions: PluginExtensions,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DestroyPlugin;

/// The DAW's answers to the synchronous questions of host extensions whose
/// plugin side must exist before the DAW may be asked (a conforming host
/// checks that a plugin calling `clap_host_audio_ports` has audio ports).
/// Sent right after creation.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SetHostAnswers {
    /// `clap_host_audio_ports::is_rescan_flag_supported`, one bit per flag.
    pub audio_ports_rescan_flags: u32,
    /// `clap_host_note_ports::supported_dialects`.
    pub note_dialects: u32,
}

/// `clap_plugin::activate`. The shared-memory region travels with this
/// message as a descriptor; its layout is derived from `layout` on both
/// sides.
#[derive(Debug, Serialize, Deserialize)]
pub struct Activate {
    pub sample_rate: f64,
    pub min_frames: u32,
    pub max_frames: u32,
    pub layout: AudioLayout,
    /// Synchronise each block with a message on a socket (a second
    /// descriptor) instead of the futex: the model other bridges use, kept
    /// as a comparison point for benchmarks.
    pub socket_sync: bool,
    /// Wake shortly before the next block is due instead of on the doorbell.
    pub early_wake: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Deactivate;
