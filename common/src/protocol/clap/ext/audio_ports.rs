//! `clap_plugin_audio_ports`: all ports of both directions in one round trip.

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct GetAudioPorts;

/// `clap_audio_port_info`, owned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AudioPortInfo {
    pub id: u32,
    pub name: String,
    pub flags: u32,
    pub channel_count: u32,
    pub port_type: Option<String>,
    pub in_place_pair: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AudioPorts {
    pub inputs: Vec<AudioPortInfo>,
    pub outputs: Vec<AudioPortInfo>,
}
