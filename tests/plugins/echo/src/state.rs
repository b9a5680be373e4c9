//! State format: the magic `BHECHO01` followed by the level as a little-endian `f64`.

use crate::params::{LEVEL_MAX, LEVEL_MIN};
use crate::EchoMainThread;
use clack_extensions::state::PluginStateImpl;
use clack_plugin::prelude::*;
use clack_plugin::stream::{InputStream, OutputStream};
use std::io::{Read, Write};

const MAGIC: &[u8; 8] = b"BHECHO01";
const STATE_LEN: usize = 16;

impl PluginStateImpl for EchoMainThread<'_> {
    fn save(&self, output: &mut OutputStream) -> Result<(), PluginError> {
        let mut data = [0; STATE_LEN];
        data[..8].copy_from_slice(MAGIC);
        data[8..].copy_from_slice(&self.shared.level().to_le_bytes());
        output.write_all(&data)?;
        Ok(())
    }

    fn load(&self, input: &mut InputStream) -> Result<(), PluginError> {
        // Read one byte more than expected so that trailing garbage is detected.
        let mut data = Vec::with_capacity(STATE_LEN + 1);
        input.take(STATE_LEN as u64 + 1).read_to_end(&mut data)?;
        let level = data
            .strip_prefix(MAGIC.as_slice())
            .and_then(|rest| <[u8; 8]>::try_from(rest).ok())
            .map(f64::from_le_bytes)
            .filter(|level| (LEVEL_MIN..=LEVEL_MAX).contains(level))
            .ok_or(PluginError::Message("invalid echo state"))?;
        self.shared.set_level(level);
        Ok(())
    }
}
