//! `clap_plugin_params`. Parameter infos travel all at once (a plugin with
//! thousands of parameters would otherwise take thousands of round trips).

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct GetParamInfos;

/// `clap_param_info`, owned. `cookie` is the plugin's pointer value, opaque
/// to everyone but the plugin; it comes back unchanged in events.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParamInfo {
    pub id: u32,
    pub flags: u32,
    pub cookie: u64,
    pub name: String,
    pub module: String,
    pub min_value: f64,
    pub max_value: f64,
    pub default_value: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct GetParamValue {
    pub param_id: u32,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ValueToText {
    pub param_id: u32,
    pub value: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TextToValue {
    pub param_id: u32,
    pub text: String,
}

/// `clap_plugin_params::flush` on the main thread (an inactive plugin);
/// events are packed as in the shared-memory block.
#[derive(Debug, Serialize, Deserialize)]
pub struct Flush {
    #[serde(with = "serde_bytes")]
    pub events: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FlushOutput {
    #[serde(with = "serde_bytes")]
    pub events: Vec<u8>,
}
