//! State format: the magic `BHFALT01`, the gain as a little-endian `f64`, then the fault as a
//! little-endian `u32` (20 bytes).
//!
//! Loading a state whose fault is 3 exits the process on the spot; any other valid fault is just
//! selected, so that e.g. a "poisoned" state with fault 1 makes the next `process()` crash.

use crate::faults;
use crate::params::{GAIN_MAX, GAIN_MIN};
use crate::FaultMainThread;
use clack_extensions::state::PluginStateImpl;
use clack_plugin::prelude::*;
use clack_plugin::stream::{InputStream, OutputStream};
use std::io::{Read, Write};

const MAGIC: &[u8; 8] = b"BHFALT01";
const STATE_LEN: usize = 20;

impl PluginStateImpl for FaultMainThread<'_> {
    fn save(&self, output: &mut OutputStream) -> Result<(), PluginError> {
        let mut data = [0; STATE_LEN];
        data[..8].copy_from_slice(MAGIC);
        data[8..16].copy_from_slice(&self.shared.gain().to_le_bytes());
        data[16..].copy_from_slice(&self.shared.fault().to_le_bytes());
        output.write_all(&data)?;
        Ok(())
    }

    fn load(&self, input: &mut InputStream) -> Result<(), PluginError> {
        // Read one byte more than expected so that trailing garbage is detected.
        let mut data = Vec::with_capacity(STATE_LEN + 1);
        input.take(STATE_LEN as u64 + 1).read_to_end(&mut data)?;
        let (gain, fault) = parse(&data).ok_or(PluginError::Message("invalid fault state"))?;
        if fault == faults::EXIT_IN_STATE_LOAD {
            std::process::exit(0);
        }
        self.shared.set_gain(gain);
        self.shared.set_fault(fault);
        Ok(())
    }
}

/// Splits a complete state into its gain and fault, validating both.
fn parse(data: &[u8]) -> Option<(f64, u32)> {
    let rest = data.strip_prefix(MAGIC.as_slice())?;
    let (gain, fault) = rest.split_first_chunk::<8>()?;
    let gain = f64::from_le_bytes(*gain);
    let fault = u32::from_le_bytes(<[u8; 4]>::try_from(fault).ok()?);
    ((GAIN_MIN..=GAIN_MAX).contains(&gain) && fault <= faults::MAX).then_some((gain, fault))
}
