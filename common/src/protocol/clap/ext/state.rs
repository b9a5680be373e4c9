//! `clap_plugin_state`: the bytes pass through unchanged.

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Save;

#[derive(Debug, Serialize, Deserialize)]
pub struct StateBytes {
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Load {
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}
