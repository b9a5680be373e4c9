//! One thread per proxy that watches its host process: a dead host (closed
//! socket, exit status), a hung one (an unanswered call, or an audio block
//! that makes no progress) is ended, reported, and replaced by a new host
//! restored to the same configuration and the last state; a crash loop
//! leaves the plugin silent and marked failed. It also refreshes the saved
//! state in the background, so a restart loses at most that interval.

use super::proxy::{ActiveConfig, Inner};
use crate::host_process::HostProcess;
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
/// A host stopped this long (SIGSTOP, a debugger) is treated as hung.
const STOPPED_LIMIT: Duration = Duration::from_secs(1);
/// How long a destroyed instance's supervisor lets a background save
/// finish before it ends the host to stop waiting.
const SAVE_GRACE: Duration = Duration::from_secs(2);

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
                    recv(stopped) -> _ => break,
                    recv(nudged) -> _ => {}
                    default(TICK) => {}
                }
                let tick = std::panic::AssertUnwindSafe(|| watch.tick(&inner));
                if std::panic::catch_unwind(tick).is_err() {
                    // Recovery must not stop silently: end the host, so the
                    // next look restarts it.
                    tracing::error!(
                        plugin = inner.real_id(),
                        "the supervisor panicked; treating the host as crashed"
                    );
                    if let Some(p) = inner.link.process() {
                        p.kill();
                    }
                    inner.link.set_restoring(false);
                }
            }
            watch.finish(&inner);
        })?;
    Ok(Supervisor { stop, thread })
}

#[derive(Default)]
struct Watch {
    crashes: VecDeque<Instant>,
    /// An unanswered audio request and since when.
    stuck: Option<(u32, Instant)>,
    /// Since when the host has been seen stopped.
    stopped_since: Option<Instant>,
    last_refresh: Option<Instant>,
    /// The background save in flight, on a thread of its own so that hang
    /// and death detection never wait behind it.
    saver: Option<JoinHandle<()>>,
}

impl Watch {
    fn tick(&mut self, inner: &Arc<Inner>) {
        if inner.link.revive.swap(false, Ordering::AcqRel)
            && inner.link.failed.load(Ordering::Acquire)
        {
            self.crashes.clear();
            inner.link.failed.store(false, Ordering::Release);
            self.crashed(inner, "was given up on; the DAW asked for the plugin again");
            return;
        }
        if inner.link.failed.load(Ordering::Acquire) {
            return;
        }
        let reason = match inner.link.process() {
            None => Some("is not running".to_string()),
            Some(p) if !p.is_alive() => Some(p.exit_description()),
            Some(p) if self.stopped_too_long(&p) => {
                p.kill();
                Some(format!(
                    "was stopped (SIGSTOP or a debugger) for {} ms and was killed",
                    STOPPED_LIMIT.as_millis()
                ))
            }
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

    fn stopped_too_long(&mut self, p: &HostProcess) -> bool {
        if !p.is_stopped() {
            self.stopped_since = None;
            return false;
        }
        self.stopped_since
            .get_or_insert_with(Instant::now)
            .elapsed()
            >= STOPPED_LIMIT
    }

    /// The supervisor ends: let a background save finish briefly, then end
    /// the host so that it cannot hold the instance's destruction.
    fn finish(&mut self, inner: &Inner) {
        let Some(saver) = self.saver.take() else {
            return;
        };
        let deadline = Instant::now() + SAVE_GRACE;
        while !saver.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if !saver.is_finished() {
            tracing::warn!(
                plugin = inner.real_id(),
                "a background save was still running at destruction; ending the host"
            );
            if let Some(p) = inner.link.process() {
                p.kill();
            }
        }
        let _ = saver.join();
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
        let name = inner.real_id();
        inner.link.set_restoring(true);
        let mut reason = reason.to_string();
        loop {
            inner.link.mark_down();
            inner.link.quiesce();
            if let Some(p) = inner.link.take_process() {
                p.kill();
            }
            self.stuck = None;
            self.stopped_since = None;
            let now = Instant::now();
            let window = Policy::ms(inner.policy.crash_window_ms);
            self.crashes.push_back(now);
            while self
                .crashes
                .front()
                .is_some_and(|t| now.duration_since(*t) > window)
            {
                self.crashes.pop_front();
            }
            let state_len = Inner::lock(&inner.last_state).as_ref().map(Vec::len);
            let give_up = if !inner.policy.restart {
                Some("restarting is disabled".to_string())
            } else if self.crashes.len() >= inner.policy.max_crashes as usize {
                Some(format!(
                    "{} crashes within {} s",
                    self.crashes.len(),
                    window.as_secs()
                ))
            } else {
                None
            };
            let next = match (&give_up, state_len) {
                (Some(why), _) => format!(
                    "{why}: giving up, the plugin stays silent until the DAW loads a state \
                     or activates it again"
                ),
                (None, Some(n)) => format!("restarting it with its last state ({n} bytes)"),
                (None, None) => "restarting it".to_string(),
            };
            let msg = format!("bulkhead: the host process of {name} {reason}; {next}");
            tracing::error!("{msg}");
            inner.daw.log(CLAP_LOG_ERROR, &msg);
            if give_up.is_some() {
                inner.link.failed.store(true, Ordering::Release);
                inner.link.set_restoring(false);
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
                    inner.link.set_restoring(false);
                    return;
                }
                // A failed restart is one more crash, with its own cause.
                Err(e) => reason = format!("could not be restarted ({e})"),
            }
        }
    }

    fn refresh_state(&mut self, inner: &Arc<Inner>) {
        let every = inner.policy.state_refresh_ms;
        if every == 0 || !inner.extensions.get().is_some_and(|e| e.state) {
            return;
        }
        if self.saver.as_ref().is_some_and(|s| !s.is_finished()) {
            return;
        }
        if let Some(done) = self.saver.take() {
            let _ = done.join();
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
        let inner = Arc::clone(inner);
        let saver = std::thread::Builder::new()
            .name("bulkhead-saver".into())
            .spawn(move || {
                let save = std::panic::AssertUnwindSafe(|| background_save(&inner));
                if std::panic::catch_unwind(save).is_err() {
                    tracing::error!(plugin = inner.real_id(), "the background save panicked");
                }
            });
        match saver {
            Ok(t) => self.saver = Some(t),
            Err(e) => tracing::warn!("cannot start a background save: {e}"),
        }
    }
}

fn background_save(inner: &Inner) {
    let generation = inner.state_generation.load(Ordering::Acquire);
    let saved = inner.call_with(state::Save, &[], inner.timeout_slow(), &mut |cb| {
        inner.defer_callback(cb)
    });
    match saved {
        Ok(Ok(s)) => {
            let mut last = Inner::lock(&inner.last_state);
            // A DAW save or load in the meantime is newer than this.
            if inner.state_generation.load(Ordering::Acquire) == generation {
                *last = Some(s.bytes);
            }
        }
        Ok(Err(e)) => tracing::warn!(
            plugin = inner.real_id(),
            "the background state save failed: {e}; a restart would use older bytes"
        ),
        Err(e) => tracing::warn!(
            plugin = inner.real_id(),
            "the background state save failed: {e}"
        ),
    }
}

/// A new host with the plugin recreated as it was: same configuration,
/// last state, activation and processing. The DAW reaches the new host
/// only once all of that is done.
fn restart(inner: &Inner) -> Result<(), String> {
    let mut defer = |cb| inner.defer_callback(cb);
    let (process, created) = inner.start_host(&mut defer).map_err(|e| e.to_string())?;
    // The new host's own end explains a failure better than the socket.
    let why = |e: BridgeError| {
        if process.is_alive() {
            e.to_string()
        } else {
            format!(
                "the new host {} during the restore",
                process.exit_description()
            )
        }
    };
    let id = created.instance;
    if inner.extensions.get() != Some(&created.extensions) {
        tracing::warn!(
            plugin = inner.real_id(),
            "the restarted plugin offers other extensions than before"
        );
    }
    // Until the state restored is the newest one the DAW gave.
    loop {
        let generation = inner.state_generation.load(Ordering::Acquire);
        let last_state = Inner::lock(&inner.last_state).clone();
        if let Some(bytes) = last_state {
            let load = state::Load { bytes };
            match inner.call_on(&process, id, load, &[], inner.timeout_slow(), &mut defer) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(plugin = inner.real_id(), "the last state was refused: {e}")
                }
                Err(e) => return Err(why(e)),
            }
        }
        if inner.state_generation.load(Ordering::Acquire) == generation {
            break;
        }
    }
    let mode = *Inner::lock(&inner.render_mode);
    if let Some(mode) = mode {
        let set = render::Set { mode };
        inner
            .call_on(&process, id, set, &[], inner.timeout_main(), &mut defer)
            .map_err(why)?;
    }
    let active: Option<ActiveConfig> = Inner::lock(&inner.active).clone();
    if let Some(cfg) = &active {
        // The old host may have died mid-block: mark every request answered
        // so that the new one starts clean.
        let c = cfg.region.control();
        c.response_seq
            .store(c.request_seq.load(Ordering::Acquire), Ordering::Release);
        c.host_sleeping.store(0, Ordering::Relaxed);
        c.callbacks.store(0, Ordering::Relaxed);
        let sync = inner.sync_socket().map_err(|e| e.to_string())?;
        let mut fds = vec![cfg.region.fd().as_raw_fd()];
        fds.extend(sync.as_ref().map(|s| s.as_raw_fd()));
        let activate = Activate {
            sample_rate: cfg.sample_rate,
            min_frames: cfg.min_frames,
            max_frames: cfg.max_frames,
            layout: cfg.layout.clone(),
            socket_sync: sync.is_some(),
            early_wake: inner.policy.early_wake,
        };
        inner
            .call_on(
                &process,
                id,
                activate,
                &fds,
                inner.timeout_slow(),
                &mut defer,
            )
            .map_err(why)?
            .map_err(|e| format!("the plugin refused to activate again: {e}"))?;
    }
    inner.link.connect(process, id);
    inner.link.hung.store(false, Ordering::Release);
    if active.is_some() {
        inner
            .link
            .needs_start
            .store(inner.processing.load(Ordering::Acquire), Ordering::Release);
        inner.link.up.store(true, Ordering::SeqCst);
    }
    Ok(())
}
