//! State format: the magic `BHGAIN01` followed by the gain as a little-endian `f64`.

use crate::GainMainThread;

bulkhead_sample_support::float_param_state!(
    GainMainThread<'_>,
    shared.gain,
    magic: b"BHGAIN01",
    invalid: "invalid gain state",
);
