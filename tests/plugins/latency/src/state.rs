//! State format: the magic `BHLAT001` followed by the latency as a little-endian `u32`.

use crate::params::MAX_LATENCY;
use crate::LatencyMainThread;
use clack_extensions::state::PluginStateImpl;
use clack_plugin::prelude::*;
use clack_plugin::stream::{InputStream, OutputStream};
use std::io::{Read, Write};

const MAGIC: &[u8; 8] = b"BHLAT001";
const STATE_LEN: usize = 12;

impl PluginStateImpl for LatencyMainThread<'_> {
    fn save(&self, output: &mut OutputStream) -> Result<(), PluginError> {
        let mut data = [0; STATE_LEN];
        data[..8].copy_from_slice(MAGIC);
        data[8..].copy_from_slice(&self.shared.latency().to_le_bytes());
        output.write_all(&data)?;
        Ok(())
    }

    fn load(&self, input: &mut InputStream) -> Result<(), PluginError> {
        // Read one byte more than expected so that trailing garbage is detected.
        let mut data = Vec::with_capacity(STATE_LEN + 1);
        input.take(STATE_LEN as u64 + 1).read_to_end(&mut data)?;
        let latency = data
            .strip_prefix(MAGIC.as_slice())
            .and_then(|rest| <[u8; 4]>::try_from(rest).ok())
            .map(u32::from_le_bytes)
            .filter(|&latency| latency <= MAX_LATENCY)
            .ok_or(PluginError::Message("invalid latency state"))?;
        self.set_latency(latency);
        Ok(())
    }
}
