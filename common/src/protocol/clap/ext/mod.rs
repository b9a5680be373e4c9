//! One module per CLAP extension the bridge carries.

pub mod audio_ports;
pub mod latency;
pub mod note_ports;
pub mod params;
pub mod render;
pub mod state;
pub mod tail;
pub mod voice_info;
