//! State format: the magic `BHFALT01`, the gain as a little-endian `f64`, then the fault as a
//! little-endian `u32` (20 bytes).
//!
//! Loading a state whose fault is 3 exits the process on the spot; any other valid fault is just
//! selected, so that e.g. a "poisoned" state with fault 1 makes the next `process()` crash.

use crate::faults;
use crate::params::GAIN;
use crate::FaultMainThread;
use bulkhead_sample_support::state;
use clack_extensions::state::PluginStateImpl;
use clack_plugin::prelude::*;
use clack_plugin::stream::{InputStream, OutputStream};

const MAGIC: &[u8; 8] = b"BHFALT01";

impl PluginStateImpl for FaultMainThread<'_> {
    fn save(&self, output: &mut OutputStream) -> Result<(), PluginError> {
        let mut body = [0; 12];
        body[..8].copy_from_slice(&self.shared.gain.get().to_le_bytes());
        body[8..].copy_from_slice(&self.shared.fault().to_le_bytes());
        self.shared
            .saves
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        state::save(output, MAGIC, &body)
    }

    fn load(&self, input: &mut InputStream) -> Result<(), PluginError> {
        let (gain, fault) = state::load(input, MAGIC)?
            .and_then(parse)
            .ok_or(PluginError::Message("invalid fault state"))?;
        if fault == faults::EXIT_IN_STATE_LOAD {
            std::process::exit(0);
        }
        self.shared.gain.set(gain);
        self.shared.set_fault(fault);
        Ok(())
    }
}

/// Splits a state body into its gain and fault, validating both.
fn parse(body: [u8; 12]) -> Option<(f64, u32)> {
    let (gain, fault) = body.split_first_chunk::<8>()?;
    let gain = f64::from_le_bytes(*gain);
    let fault = u32::from_le_bytes(<[u8; 4]>::try_from(fault).ok()?);
    (GAIN.contains(gain) && fault <= faults::MAX).then_some((gain, fault))
}
