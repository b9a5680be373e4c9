//! State format: the magic `BHSYNT01` followed by the volume as a little-endian `f64`.

use crate::SynthMainThread;

bulkhead_sample_support::float_param_state!(
    SynthMainThread<'_>,
    shared.volume,
    magic: b"BHSYNT01",
    invalid: "invalid synth state",
);
