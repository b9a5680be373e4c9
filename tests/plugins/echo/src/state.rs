//! State format: the magic `BHECHO01` followed by the level as a little-endian `f64`.

use crate::EchoMainThread;

bulkhead_sample_support::float_param_state!(
    EchoMainThread<'_>,
    shared.level,
    magic: b"BHECHO01",
    invalid: "invalid echo state",
);
