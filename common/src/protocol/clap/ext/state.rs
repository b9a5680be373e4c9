//! `clap_plugin_state`: the bytes pass through unchanged, large ones in a
//! sealed memfd beside the frame ([`Bulk`]).

use crate::bulk::Bulk;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Save;

#[derive(Debug, Serialize, Deserialize)]
pub struct StateBytes {
    pub bytes: Bulk,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Load {
    pub bytes: Bulk,
}
