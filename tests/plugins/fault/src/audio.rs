//! Audio ports (one stereo in/out pair); the processing is the support crate's sample-accurate
//! gain.

use crate::FaultMainThread;

bulkhead_sample_support::stereo_audio_ports!(FaultMainThread<'_>);
