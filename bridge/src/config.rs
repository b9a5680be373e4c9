//! Timeouts of the calls the bridge makes into a host process.

use std::time::Duration;

/// Per-kind deadlines. A call that misses its deadline is abandoned and the
/// host is treated as hung.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Ordinary main-thread calls (queries, activation).
    pub main: Duration,
    /// Plugin creation and state transfer, which may legitimately be slow.
    pub slow: Duration,
    /// One audio block, after which the block is output as silence.
    pub audio: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            main: Duration::from_secs(10),
            slow: Duration::from_secs(60),
            audio: Duration::from_millis(500),
        }
    }
}
