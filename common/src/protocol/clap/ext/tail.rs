//! `clap_plugin_tail` (main-thread calls; the audio thread reads the value
//! the host refreshes in shared memory after every block).

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct GetTail;
