//! One thread per proxy that watches its host process: a dead host (closed
//! socket, exit status), a hung one (an unanswered call, or an audio block
//! that makes no progress) is ended, reported, and replaced by a new host
//! restored to the same configuration and the last state; a crash loop
//! leaves the plugin silent and marked failed. It also refreshes the saved
//! state in the background, so a restart loses at most that interval.

use super::proxy::{ActiveConfig, Inner};
use crate::BridgeError;
use bulkhead_common::manifest::Policy;
use bulkhead_common::protocol::clap::ext::{render, state};
use bulkhead_common::protocol::clap::plugin::Activate;
use clap_sys::ext::log::{CLAP_LOG_ERROR, CLAP_LOG_INFO};
use crossbeam_channel::Sender;
use std::collections::VecDeque;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The soonest a state the plugin marked dirty is saved again.
const DIRTY_DEBOUNCE: Duration = Duration::from_secs(2);
/// How often the supervisor looks when nothing wakes it (hangs and state
/// refreshes are found at this pace; deaths wake it at once).
const TICK: Duration = Duration::from_millis(50);

pub struct Supervisor {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl Supervisor {
    pub fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

/// # Errors
/// The thread could not be started.
pub fn start(inner: Arc<Inner>) -> std::io::Result<Supervisor> {
    let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
    let nudged = inner.link.nudges();
    let thread = std::thread::Builder::new()
        .name("bulkhead-supervisor".into())
        .spawn(move || {
            let mut watch = Watch::default();
            loop {
                crossbeam_channel::select! {
                    recv(stopped) -> _ => return,
                    recv(nudged) -> _ => {}
                    default(TICK) => {}
                }
                watch.tick(&inner);
            }
        })?;
    Ok(Supervisor { stop, thread })
}

#[derive(Default)]
struct Watch {
    crashes: VecDeque<Instant>,
    /// An unanswered audio request and since when.
    stuck: Option<(u32, Instant)>,
    last_refresh: Option<Instant>,
}

impl Watch {
    fn tick(&mut self, inner: &Inner) {
        if inner.link.failed.load(Ordering::Acquire) {
            return;
        }
        let reason = match inner.link.process() {
            None => Some("could not be restarted".to_string()),
            Some(p) if !p.is_alive() => Some(p.exit_description()),
            Some(p) if inner.link.hung.swap(false, Ordering::AcqRel) => {
                p.kill();
                Some("stopped answering a call and was killed".to_string())
            }
            Some(p) if inner.link.broken.swap(false, Ordering::AcqRel) => {
                p.kill();
                Some("broke the protocol and was killed".to_string())
            }
            Some(p) if self.audio_stuck(inner) => {
                p.kill();
                Some(format!(
                    "made no audio progress for {} ms and was killed",
                    inner.policy.hang_timeout_ms
                ))
            }
            Some(_) => None,
        };
        match reason {
            Some(reason) => self.crashed(inner, &reason),
            None => self.refresh_state(inner),
        }
    }

    fn audio_stuck(&mut self, inner: &Inner) -> bool {
        let region = Inner::lock(&inner.link.region).clone();
        let Some(region) = region else {
            self.stuck = None;
            return false;
        };
        let c = region.control();
        let req = c.request_seq.load(Ordering::Acquire);
        if req == c.response_seq.load(Ordering::Acquire) {
            self.stuck = None;
            return false;
        }
        match self.stuck {
            Some((s, since)) if s == req => {
                // Never before the block's own deadline (long when offline).
                let block_deadline =
                    Policy::ms(inner.link.audio_timeout_ms.load(Ordering::Relaxed));
                since.elapsed() >= Policy::ms(inner.policy.hang_timeout_ms).max(block_deadline)
            }
            _ => {
                self.stuck = Some((req, Instant::now()));
                false
            }
        }
    }

    fn crashed(&mut self, inner: &Inner, reason: &str) {
        let started = Instant::now();
        inner.link.mark_down();
        inner.link.quiesce();
        if let Some(p) = inner.link.take_process() {
            p.kill();
        }
        self.stuck = None;
        let window = Policy::ms(inner.policy.crash_window_ms);
        self.crashes.push_back(started);
        while self
            .crashes
            .front()
            .is_some_and(|t| started.duration_since(*t) > window)
        {
            self.crashes.pop_front();
        }
        let name = inner.real_id();
        let state_len = Inner::lock(&inner.last_state).as_ref().map(Vec::len);
        let next = if !inner.policy.restart {
            inner.link.failed.store(true, Ordering::Release);
            "restarting is disabled: the plugin stays silent".to_string()
        } else if self.crashes.len() >= inner.policy.max_crashes as usize {
            inner.link.failed.store(true, Ordering::Release);
            format!(
                "{} crashes within {} s: giving up, the plugin stays silent",
                self.crashes.len(),
                window.as_secs()
            )
        } else {
            match state_len {
                Some(n) => format!("restarting it with its last state ({n} bytes)"),
                None => "restarting it".to_string(),
            }
        };
        let msg = format!("bulkhead: the host process of {name} {reason}; {next}");
        tracing::error!("{msg}");
        inner.daw.log(CLAP_LOG_ERROR, &msg);
        if inner.link.failed.load(Ordering::Acquire) {
            return;
        }
        let restarted = {
            let _lifecycle = Inner::lock(&inner.lifecycle);
            restart(inner)
        };
        match restarted {
            Ok(()) => {
                let msg = format!("bulkhead: {name} is back after {:.0?}", started.elapsed());
                tracing::warn!("{msg}");
                inner.daw.log(CLAP_LOG_INFO, &msg);
            }
            Err(e) => {
                tracing::error!(plugin = name, "restart failed: {e}");
                if let Some(p) = inner.link.take_process() {
                    p.kill();
                }
            }
        }
    }

    fn refresh_state(&mut self, inner: &Inner) {
        let every = inner.policy.state_refresh_ms;
        if every == 0 || !inner.extensions.get().is_some_and(|e| e.state) {
            return;
        }
        let now = Instant::now();
        let last = *self.last_refresh.get_or_insert(now);
        let since = now.duration_since(last);
        // A plugin that said its state changed is saved sooner, but not
        // more often than DIRTY_DEBOUNCE (plugins may say so on every edit).
        let dirty = inner.link.state_dirty.load(Ordering::Acquire);
        let due = Policy::ms(every);
        if since < due && !(dirty && since >= DIRTY_DEBOUNCE.min(due)) {
            return;
        }
        self.last_refresh = Some(now);
        inner.link.state_dirty.store(false, Ordering::Release);
        let generation = inner.state_generation.load(Ordering::Acquire);
        let saved = inner.call_with(state::Save, &[], inner.timeout_slow(), &mut |cb| {
            inner.defer_callback(cb)
        });
        if let Ok(Ok(s)) = saved {
            let mut last = Inner::lock(&inner.last_state);
            // A DAW save or load in the meantime is newer than this.
            if inner.state_generation.load(Ordering::Acquire) == generation {
                *last = Some(s.bytes);
            }
        }
    }
}

/// A new host with the plugin recreated as it was: same configuration,
/// last state, activation and processing.
fn restart(inner: &Inner) -> Result<(), BridgeError> {
    let mut defer = |cb| inner.defer_callback(cb);
    let (process, created) = inner.start_host(&mut defer)?;
    inner.link.connect(process, created.instance);
    inner.link.hung.store(false, Ordering::Release);
    if inner.extensions.get() != Some(&created.extensions) {
        tracing::warn!(
            plugin = inner.real_id(),
            "the restarted plugin offers other extensions than before"
        );
    }
    let last_state = Inner::lock(&inner.last_state).clone();
    if let Some(bytes) = last_state {
        if let Err(e) =
            inner.call_with(state::Load { bytes }, &[], inner.timeout_slow(), &mut defer)?
        {
            tracing::error!(plugin = inner.real_id(), "the last state was refused: {e}");
        }
    }
    let mode = *Inner::lock(&inner.render_mode);
    if let Some(mode) = mode {
        inner.call_with(render::Set { mode }, &[], inner.timeout_main(), &mut defer)?;
    }
    let active: Option<ActiveConfig> = Inner::lock(&inner.active).clone();
    if let Some(cfg) = active {
        // The old host may have died mid-block: mark every request answered
        // so that the new one starts clean.
        let c = cfg.region.control();
        c.response_seq
            .store(c.request_seq.load(Ordering::Acquire), Ordering::Release);
        c.host_sleeping.store(0, Ordering::Relaxed);
        c.callbacks.store(0, Ordering::Relaxed);
        let sync = inner.sync_socket()?;
        let mut fds = vec![cfg.region.fd().as_raw_fd()];
        fds.extend(sync.as_ref().map(|s| s.as_raw_fd()));
        inner.call_with(
            Activate {
                sample_rate: cfg.sample_rate,
                min_frames: cfg.min_frames,
                max_frames: cfg.max_frames,
                layout: cfg.layout.clone(),
                socket_sync: sync.is_some(),
                early_wake: inner.policy.early_wake,
            },
            &fds,
            inner.timeout_slow(),
            &mut defer,
        )??;
        inner
            .link
            .needs_start
            .store(inner.processing.load(Ordering::Acquire), Ordering::Release);
        inner.link.up.store(true, Ordering::SeqCst);
    }
    Ok(())
}
