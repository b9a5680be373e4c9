//! State format: the magic `BHGAIN01` followed by the gain as a little-endian `f64`.

use crate::params::{GAIN_MAX, GAIN_MIN};
use crate::GainMainThread;
use clack_extensions::state::PluginStateImpl;
use clack_plugin::prelude::*;
use clack_plugin::stream::{InputStream, OutputStream};
use std::io::{Read, Write};

const MAGIC: &[u8; 8] = b"BHGAIN01";
const STATE_LEN: usize = 16;

impl PluginStateImpl for GainMainThread<'_> {
    fn save(&self, output: &mut OutputStream) -> Result<(), PluginError> {
        let mut data = [0; STATE_LEN];
        data[..8].copy_from_slice(MAGIC);
        data[8..].copy_from_slice(&self.shared.gain().to_le_bytes());
        output.write_all(&data)?;
        Ok(())
    }

    fn load(&self, input: &mut InputStream) -> Result<(), PluginError> {
        // Read one byte more than expected so that trailing garbage is detected.
        let mut data = Vec::with_capacity(STATE_LEN + 1);
        input.take(STATE_LEN as u64 + 1).read_to_end(&mut data)?;
        let gain = data
            .strip_prefix(MAGIC.as_slice())
            .and_then(|rest| <[u8; 8]>::try_from(rest).ok())
            .map(f64::from_le_bytes)
            .filter(|gain| (GAIN_MIN..=GAIN_MAX).contains(gain))
            .ok_or(PluginError::Message("invalid gain state"))?;
        self.shared.set_gain(gain);
        Ok(())
    }
}
