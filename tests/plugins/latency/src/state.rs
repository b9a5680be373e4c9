//! State format: the magic `BHLAT001` followed by the latency as a little-endian `u32`.

use crate::params::MAX_LATENCY;
use crate::LatencyMainThread;
use bulkhead_sample_support::state;
use clack_extensions::state::PluginStateImpl;
use clack_plugin::prelude::*;
use clack_plugin::stream::{InputStream, OutputStream};

const MAGIC: &[u8; 8] = b"BHLAT001";

impl PluginStateImpl for LatencyMainThread<'_> {
    fn save(&self, output: &mut OutputStream) -> Result<(), PluginError> {
        state::save(output, MAGIC, &self.shared.latency().to_le_bytes())
    }

    fn load(&self, input: &mut InputStream) -> Result<(), PluginError> {
        let latency = state::load(input, MAGIC)?
            .map(u32::from_le_bytes)
            .filter(|&latency| latency <= MAX_LATENCY)
            .ok_or(PluginError::Message("invalid latency state"))?;
        self.set_latency(latency);
        Ok(())
    }
}
