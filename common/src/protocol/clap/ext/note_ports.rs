//! `clap_plugin_note_ports`: all ports of both directions in one round trip.

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct GetNotePorts;

/// `clap_note_port_info`, owned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NotePortInfo {
    pub id: u32,
    pub supported_dialects: u32,
    pub preferred_dialect: u32,
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NotePorts {
    pub inputs: Vec<NotePortInfo>,
    pub outputs: Vec<NotePortInfo>,
}
