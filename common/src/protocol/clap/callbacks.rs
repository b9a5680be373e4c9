//! Main-thread host calls made by the plugin (`clap_host_*`), forwarded to
//! the DAW. None needs an answer: questions a plugin may ask (dialects,
//! rescan flags, thread checks) are answered inside the host process from
//! [`super::plugin::HostCapabilities`].

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum MainCallback {
    /// `clap_host_log::log`
    Log { severity: i32, message: String },
    /// `clap_host_params::rescan`
    ParamsRescan { flags: u32 },
    /// `clap_host_params::clear`
    ParamsClear { param_id: u32, flags: u32 },
    /// `clap_host_params::request_flush`
    ParamsRequestFlush,
    /// `clap_host_state::mark_dirty`
    StateMarkDirty,
    /// `clap_host_latency::changed`
    LatencyChanged,
    /// `clap_host_tail::changed`
    TailChanged,
    /// `clap_host_audio_ports::rescan`
    AudioPortsRescan { flags: u32 },
    /// `clap_host_note_ports::rescan`
    NotePortsRescan { flags: u32 },
    /// `clap_host_voice_info::changed`
    VoiceInfoChanged,
    /// `clap_host::request_restart`
    RequestRestart,
    /// `clap_host::request_process`
    RequestProcess,
}
