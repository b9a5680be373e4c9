//! How the supervisor restores a VST3 object: created again in the new
//! process, initialised, given its handler and its connection, its last
//! states, bus setup and processing setup, and activated as the DAW left it.

use super::proxy::{lock, Peer, Remote};
use super::state;
use crate::process::HostProcess;
use crate::supervision::Member;
use bulkhead_common::manifest::Policy;
use bulkhead_common::protocol::vst3 as proto;
use bulkhead_common::protocol::wire::{Answer, Callback};
use bulkhead_common::InstanceId;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// How often a state is saved in the background at most, when the plugin
/// keeps saying it changed.
const DIRTY_DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(500);

impl Member for Remote {
    fn name(&self) -> String {
        self.class.name.clone()
    }

    fn instance(&self) -> InstanceId {
        self.link.instance()
    }

    fn policy(&self) -> Policy {
        self.policy
    }

    fn on_arrival(&self, _cb: &Callback) {
        // VST3 has no thread-safe host call to make early: callbacks are
        // served by the waiting call or on the next main-thread entry.
    }

    fn defer(&self, cb: Callback) {
        if let Callback::Vst3(cb) = cb {
            lock(&self.deferred).push(cb);
        }
    }

    fn answer(&self, cb: Callback) -> Answer {
        match cb {
            Callback::Vst3(cb) => self.answer_call(cb),
            _ => Answer::Refused {
                reason: "a CLAP callback for a VST3 object".into(),
            },
        }
    }

    fn stop_audio(&self) {
        self.link.mark_down();
        self.link.quiesce();
        *lock(&self.link.stuck) = None;
    }

    fn audio_stuck(&self) -> bool {
        self.link.audio_stuck(self.policy.hang_timeout_ms)
    }

    fn restore(&self, process: &Arc<HostProcess>) -> Result<InstanceId, String> {
        let _lifecycle = lock(&self.lifecycle);
        self.replay(process)
    }

    fn go_live(&self, process: &Arc<HostProcess>, instance: InstanceId) {
        let _lifecycle = lock(&self.lifecycle);
        self.link.connect(Arc::clone(process), instance);
        self.restored_instance.store(0, Ordering::Release);
        if lock(&self.config).active {
            // A processing plugin starts again before its first block.
            let processing = self.link.processing.load(Ordering::Acquire);
            self.link.needs_start.store(processing, Ordering::Release);
            self.link.up.store(true, Ordering::SeqCst);
        }
        // After a restart (not the first making of an object created from
        // its profile) the DAW re-reads what it shows.
        if self.is_born() && lock(&self.config).handler {
            self.needs_rescan.store(true, Ordering::Release);
        }
    }

    fn refresh_state(&self) {
        let every = self.policy.state_refresh_ms;
        if every == 0 {
            return;
        }
        if !self.link.save_due(Policy::ms(every), DIRTY_DEBOUNCE) {
            return;
        }
        state::refresh(self);
    }

    fn take_fault(&self) -> Option<String> {
        self.link.fault_reason(lock(&self.flood).take())
    }

    fn tick(&self) {
        self.link.audio.drain();
    }

    fn report(&self, error: bool, message: &str) {
        // VST3 has no log interface: ours is the only place it is said.
        if error {
            tracing::error!(plugin = self.name(), "{message}");
        } else {
            tracing::info!(plugin = self.name(), "{message}");
        }
    }
}

impl Remote {
    /// Creates the object in `process` and gives it everything the DAW set
    /// up, without making it reachable yet: a restart's restore, and the
    /// first need of an object created from its profile.
    pub fn replay(&self, process: &Arc<HostProcess>) -> Result<InstanceId, String> {
        self.link.disconnect();
        let t = Instant::now();
        let id = self.create_on(process).map_err(|e| process.explain(e))?;
        self.restored_instance.store(id, Ordering::Release);
        let cfg = lock(&self.config).clone();
        macro_rules! call {
            ($req:expr) => {
                self.call_on(process, id, $req, &[], self.timeout_slow())
                    .map(|_| ())
                    .map_err(|e| process.explain(e))
            };
        }
        if cfg.initialized {
            let init = self
                .call_on(process, id, proto::Initialize {}, &[], self.timeout_slow())
                .map_err(|e| process.explain(e))?;
            self.set_interfaces(&init.interfaces);
        }
        if let Some(mode) = cfg.io_mode {
            call!(proto::SetIoMode { mode })?;
        }
        if cfg.handler {
            call!(proto::SetComponentHandler { present: true })?;
        }
        // A connection to a peer of ours: it was restored before us when it
        // was created first; otherwise it connects to us when it is.
        let peer = match &*lock(&self.peer) {
            Peer::Ours(p) => p.upgrade().map(|p| p.current_or_restored_instance()),
            Peer::Outside(_) => Some(0),
            Peer::None => None,
        };
        match peer {
            Some(0) => call!(proto::ConnectOutside {})?,
            Some(peer) => call!(proto::Connect { peer })?,
            None => {}
        }
        state::restore_states(self, process, id)?;
        for ((media_type, direction, index), state) in &cfg.bus_states {
            call!(proto::ActivateBus {
                media_type: *media_type,
                direction: *direction,
                index: *index,
                state: *state,
            })?;
        }
        if let Some((inputs, outputs)) = cfg.arrangements {
            call!(proto::SetBusArrangements { inputs, outputs })?;
        }
        if let Some(setup) = cfg.setup {
            call!(proto::SetupProcessing { setup })?;
        }
        for (id, value) in &cfg.param_values {
            call!(proto::SetParamNormalized {
                id: *id,
                value: *value,
            })?;
        }
        if let Some(mode) = cfg.knob_mode {
            call!(proto::SetKnobMode { mode })?;
        }
        if let Some(state) = cfg.automation_state {
            call!(proto::SetAutomationState { state })?;
        }
        if cfg.active {
            let layout = super::component::active_layout(self)
                .ok_or("the plugin was active without an audio layout")?;
            // A fresh region, never the one the dead host may have written
            // to; the audio thread adopts it on its next block.
            let region = crate::audio::fresh_region(&layout)?;
            *lock(&self.link.region) = Some(Arc::clone(&region));
            self.link.audio.publish(Arc::clone(&region));
            let fds = [region.fd().as_raw_fd()];
            let r = self
                .call_on(
                    process,
                    id,
                    proto::SetActive {
                        state: true,
                        layout: Some(layout),
                    },
                    &fds,
                    self.timeout_slow(),
                )
                .map_err(|e| process.explain(e))?
                .map_err(|e| format!("the plugin refused to activate again: {e}"))?;
            if r != 0 {
                return Err(format!("the plugin refused to activate again ({r})"));
            }
        }
        for ((direction, bus), samples) in &cfg.presentation_latency {
            call!(proto::SetAudioPresentationLatency {
                direction: *direction,
                bus: *bus,
                samples: *samples,
            })?;
        }
        tracing::debug!(plugin = self.name(), "restored in {:.1?}", t.elapsed());
        Ok(id)
    }
}
