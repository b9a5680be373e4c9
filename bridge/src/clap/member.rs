//! A CLAP plugin instance as a member of its host process's group: how it
//! is recreated after a crash (same configuration, last state, activation
//! and processing), how its audio is watched, and how its state is saved
//! in the background.

use super::ext::state::{load_blob, save_blob};
use super::proxy::{ActiveConfig, Inner};
use crate::process::HostProcess;
use crate::supervision::Member;
use bulkhead_common::manifest::Policy;
use bulkhead_common::protocol::clap::ext::render;
use bulkhead_common::protocol::clap::plugin::Activate;
use bulkhead_common::protocol::wire::Callback;
use bulkhead_common::InstanceId;
use clap_sys::ext::log::{CLAP_LOG_ERROR, CLAP_LOG_INFO};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The soonest a state the plugin marked dirty is saved again.
const DIRTY_DEBOUNCE: Duration = Duration::from_secs(2);

impl Member for Inner {
    fn name(&self) -> String {
        self.real_id().to_string()
    }

    fn instance(&self) -> InstanceId {
        self.link.instance()
    }

    fn policy(&self) -> Policy {
        self.policy
    }

    fn on_arrival(&self, cb: &Callback) {
        let Callback::Clap(cb) = cb else {
            return;
        };
        self.daw.on_any_thread(cb);
        if let Some(n) = self.daw.take_flood() {
            tracing::error!(
                plugin = self.real_id(),
                "the host sent {n} callbacks within one second; ending it"
            );
            *Inner::lock(&self.flood) = Some(n);
            self.link.group.broken.store(true, Ordering::Release);
            self.link.group.nudge();
        }
    }

    fn defer(&self, cb: Callback) {
        let Callback::Clap(cb) = cb else {
            return;
        };
        self.defer_callback(cb);
    }

    fn stop_audio(&self) {
        self.link.mark_down();
        self.link.quiesce();
        *Inner::lock(&self.link.stuck) = None;
    }

    fn audio_stuck(&self) -> bool {
        self.link.audio_stuck(self.policy.hang_timeout_ms)
    }

    fn restore(&self, process: &Arc<HostProcess>) -> Result<InstanceId, String> {
        let _lifecycle = Inner::lock(&self.lifecycle);
        self.link.disconnect();
        let mut defer = |cb| self.defer_callback(cb);
        let t = Instant::now();
        let created = self
            .create_on(process, &mut defer)
            .map_err(|e| process.explain(e))?;
        tracing::debug!(plugin = self.real_id(), "created in {:.1?}", t.elapsed());
        let id = created.instance;
        // Callbacks of the restored object reach it by its new id (it is
        // not reachable from the DAW until `go_live`).
        self.link.set_instance(id);
        if self.extensions.get() != Some(&created.extensions) {
            tracing::warn!(
                plugin = self.real_id(),
                "the restarted plugin offers other extensions than before"
            );
        }
        // Until the state restored is the newest one the DAW gave.
        loop {
            let generation = self.state_generation.load(Ordering::Acquire);
            let last_state = Inner::lock(&self.last_state).clone();
            if let Some(blob) = last_state {
                match load_blob(self, process, id, &blob, self.timeout_slow(), &mut defer) {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::error!(plugin = self.real_id(), "the last state was refused: {e}")
                    }
                    Err(e) => return Err(process.explain(e)),
                }
            }
            if self.state_generation.load(Ordering::Acquire) == generation {
                break;
            }
        }
        let mode = *Inner::lock(&self.render_mode);
        if let Some(mode) = mode {
            let set = render::Set { mode };
            self.call_on(process, id, set, &[], self.timeout_main(), &mut defer)
                .map_err(|e| process.explain(e))?;
        }
        let active: Option<ActiveConfig> = Inner::lock(&self.active).clone();
        if let Some(cfg) = &active {
            // A fresh region, never the one the dead host may have scribbled
            // on. Audio is down (`up` is clear until `go_live`): the audio
            // thread adopts it on its next call and hands the old one back.
            let region = crate::audio::fresh_region(&cfg.layout)?;
            if let Some(current) = Inner::lock(&self.active).as_mut() {
                current.region = Arc::clone(&region);
            }
            *Inner::lock(&self.link.region) = Some(Arc::clone(&region));
            self.link.audio.publish(Arc::clone(&region));
            let sync = self.sync_socket().map_err(|e| e.to_string())?;
            let mut fds = vec![region.fd().as_raw_fd()];
            fds.extend(sync.as_ref().map(|s| s.as_raw_fd()));
            let activate = Activate {
                sample_rate: cfg.sample_rate,
                min_frames: cfg.min_frames,
                max_frames: cfg.max_frames,
                layout: cfg.layout.clone(),
                socket_sync: sync.is_some(),
                early_wake: self.policy.early_wake,
            };
            self.call_on(process, id, activate, &fds, self.timeout_slow(), &mut defer)
                .map_err(|e| process.explain(e))?
                .map_err(|e| format!("the plugin refused to activate again: {e}"))?;
        }
        Ok(id)
    }

    fn go_live(&self, process: &Arc<HostProcess>, instance: InstanceId) {
        let _lifecycle = Inner::lock(&self.lifecycle);
        self.link.connect(Arc::clone(process), instance);
        if Inner::lock(&self.active).is_some() {
            self.link
                .needs_start
                .store(self.processing.load(Ordering::Acquire), Ordering::Release);
            self.link.up.store(true, Ordering::SeqCst);
        }
    }

    fn refresh_state(&self) {
        let every = self.policy.state_refresh_ms;
        if every == 0 || !self.extensions.get().is_some_and(|e| e.state) {
            return;
        }
        if !self.link.save_due(Policy::ms(every), DIRTY_DEBOUNCE) {
            return;
        }
        let generation = self.state_generation.load(Ordering::Acquire);
        let saved = save_blob(self, None, self.timeout_slow(), &mut |cb| {
            self.defer_callback(cb)
        });
        match saved {
            Ok(Ok(blob)) => {
                let mut last = Inner::lock(&self.last_state);
                // A DAW save or load in the meantime is newer than this.
                if self.state_generation.load(Ordering::Acquire) == generation {
                    *last = Some(blob);
                }
            }
            Ok(Err(e)) => self.warn_user(&format!(
                "the background state save failed: {e}; a restart would use older bytes"
            )),
            Err(e) => self.warn_user(&format!("the background state save failed: {e}")),
        }
    }

    fn take_fault(&self) -> Option<String> {
        self.link.fault_reason(Inner::lock(&self.flood).take())
    }

    fn tick(&self) {
        // A region the audio thread stopped using is unmapped here, off it.
        self.link.audio.drain();
        // Coalesced callbacks reach the DAW within a tick.
        self.daw.deliver_pending();
    }

    fn report(&self, error: bool, message: &str) {
        let level = if error { CLAP_LOG_ERROR } else { CLAP_LOG_INFO };
        self.daw.log(level, message);
    }
}
