//! What tests need to drive the sample fault plugin: its state format and
//! the policy that detects its faults quickly.

use bulkhead_common::manifest::Policy;

/// A fault plugin state: its magic, the gain, and the fault it commits
/// (0: none; see `tests/plugins/fault/src/faults.rs`).
pub fn state(gain: f64, fault: u32) -> Vec<u8> {
    let mut s = b"BHFALT01".to_vec();
    s.extend_from_slice(&gain.to_le_bytes());
    s.extend_from_slice(&fault.to_le_bytes());
    s
}

/// Short deadlines, so a crash or hang is seen within a test's patience,
/// and no background saves (a test decides when state is taken).
pub fn quick_policy() -> Policy {
    Policy {
        audio_timeout_ms: 100,
        hang_timeout_ms: 300,
        main_timeout_ms: 500,
        state_refresh_ms: 0,
        ..Policy::default()
    }
}
