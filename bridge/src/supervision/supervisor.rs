//! One thread per host process that watches it: a dead host (closed
//! socket, exit status), a stopped one, a hung one (an unanswered call, or
//! an audio block that makes no progress) is ended, reported, and replaced
//! by a new host in which every object of the group is recreated, in
//! creation order, with its configuration and last state, before any DAW
//! call reaches it. A crash loop leaves the group silent and marked failed
//! until the DAW acts. Background state saves run on a thread of their own
//! so that watching never waits behind them.

use super::group::HostGroup;
use super::member::Member;
use crate::process::HostProcess;
use bulkhead_common::manifest::Policy;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the supervisor looks when nothing wakes it (hangs and state
/// refreshes are found at this pace; deaths wake it at once).
const TICK: Duration = Duration::from_millis(50);
/// A host stopped this long (SIGSTOP, a debugger) is treated as hung.
const STOPPED_LIMIT: Duration = Duration::from_secs(1);
/// How long an ending supervisor lets a background save finish before it
/// ends the host to stop waiting.
const SAVE_GRACE: Duration = Duration::from_secs(2);

pub struct Supervisor {
    wake: Arc<Wake>,
    /// This supervisor's own: a group may get a new supervisor while the
    /// last one is still being stopped.
    stopped: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Supervisor {
    pub fn stop(mut self) {
        self.end();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn end(&self) {
        self.stopped.store(true, Ordering::Release);
        self.wake.ring();
    }
}

impl Drop for Supervisor {
    /// Not stopped explicitly: the thread still ends (unjoined).
    fn drop(&mut self) {
        self.end();
    }
}

/// How the supervisor is woken: a plain mutex and condition variable, as
/// DAW threads nudge it (a hang found in a call, a large state loaded) and
/// a channel's wake-up would register a thread-local destructor on them
/// (see `launcher`).
#[derive(Default)]
pub struct Wake {
    nudged: Mutex<bool>,
    woken: Condvar,
}

impl Wake {
    pub fn nudge(&self) {
        *self.lock() = true;
        self.woken.notify_all();
    }

    /// Wakes the waiting supervisors to look at their stop flags (notified
    /// under the lock, so a waiter between its check and its wait cannot
    /// miss it).
    fn ring(&self) {
        let _nudged = self.lock();
        self.woken.notify_all();
    }

    /// Waits for a nudge, `stopped` or `timeout`: whether stopped.
    fn wait(&self, timeout: Duration, stopped: &AtomicBool) -> bool {
        let nudged = self.lock();
        let (mut nudged, _) = self
            .woken
            .wait_timeout_while(nudged, timeout, |n| !*n && !stopped.load(Ordering::Acquire))
            .unwrap_or_else(|p| p.into_inner());
        *nudged = false;
        stopped.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, bool> {
        self.nudged.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// # Errors
/// The thread could not be started.
pub fn start(group: Arc<HostGroup>) -> std::io::Result<Supervisor> {
    let wake = group.wake();
    let stopped = Arc::new(AtomicBool::new(false));
    let (woken, stop) = (Arc::clone(&wake), Arc::clone(&stopped));
    let thread = crate::launcher::spawn_thread("bulkhead-supervisor".into(), move || {
        let mut watch = Watch::default();
        loop {
            if woken.wait(TICK, &stop) {
                break;
            }
            let tick = std::panic::AssertUnwindSafe(|| watch.tick(&group));
            if std::panic::catch_unwind(tick).is_err() {
                // Recovery must not stop silently: end the host, so the
                // next look restarts it.
                tracing::error!(
                    group = ?group.name(),
                    "the supervisor panicked; treating the host as crashed"
                );
                if let Some(p) = group.process() {
                    p.kill();
                }
                group.set_restoring(false);
            }
        }
        watch.finish(&group);
    })?;
    Ok(Supervisor {
        wake,
        stopped,
        thread: Some(thread),
    })
}

/// The group's restart policy: the first member's (members of one group
/// normally share a policy; the first is the one that started the process).
fn policy(members: &[Arc<dyn Member>]) -> Policy {
    members.first().map(|m| m.policy()).unwrap_or_default()
}

#[derive(Default)]
struct Watch {
    crashes: VecDeque<Instant>,
    /// Since when the host has been seen stopped.
    stopped_since: Option<Instant>,
    /// The background saves in flight, on a thread of their own.
    saver: Option<JoinHandle<()>>,
}

impl Watch {
    fn tick(&mut self, group: &HostGroup) {
        // Whatever the group's health: held pages must not outstay their
        // time, nor replaced states pile up.
        group.tend_bulk();
        if group.revive.swap(false, Ordering::AcqRel) && group.failed.load(Ordering::Acquire) {
            self.crashes.clear();
            group.failed.store(false, Ordering::Release);
            self.crashed(group, "was given up on; the DAW asked for the plugin again");
            return;
        }
        if group.failed.load(Ordering::Acquire) {
            return;
        }
        let members = group.members();
        if members.is_empty() {
            return;
        }
        for m in &members {
            m.tick();
        }
        let reason = match group.process() {
            None => Some("is not running".to_string()),
            Some(p) if !p.is_alive() => Some(p.exit_description()),
            Some(p) if self.stopped_too_long(&p) => {
                p.kill();
                Some(format!(
                    "was stopped (SIGSTOP or a debugger) for {} ms and was killed",
                    STOPPED_LIMIT.as_millis()
                ))
            }
            Some(p) if group.hung.swap(false, Ordering::AcqRel) => {
                p.kill();
                Some("stopped answering a call and was killed".to_string())
            }
            Some(p) if group.broken.swap(false, Ordering::AcqRel) => {
                p.kill();
                Some(match members.iter().find_map(|m| m.take_fault()) {
                    Some(why) => format!("broke the protocol ({why}) and was killed"),
                    None => "broke the protocol and was killed".to_string(),
                })
            }
            Some(p) => match members.iter().find(|m| m.audio_stuck()) {
                Some(m) => {
                    p.kill();
                    Some(format!(
                        "made no audio progress for {} in {} ms and was killed",
                        m.name(),
                        m.policy().hang_timeout_ms
                    ))
                }
                None => None,
            },
        };
        match reason {
            Some(reason) => self.crashed(group, &reason),
            None => {
                self.refresh_states(members);
                group.ensure_spare();
            }
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
    /// the host so that it cannot hold the destruction.
    fn finish(&mut self, group: &HostGroup) {
        let Some(saver) = self.saver.take() else {
            return;
        };
        let deadline = Instant::now() + SAVE_GRACE;
        while !saver.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if !saver.is_finished() {
            tracing::warn!(
                group = ?group.name(),
                "a background save was still running at destruction; ending the host"
            );
            if let Some(p) = group.process() {
                p.kill();
            }
        }
        let _ = saver.join();
    }

    /// Saves, on the saver thread, the states that are due.
    fn refresh_states(&mut self, members: Vec<Arc<dyn Member>>) {
        if self.saver.as_ref().is_some_and(|s| !s.is_finished()) {
            return;
        }
        if let Some(done) = self.saver.take() {
            let _ = done.join();
        }
        let saver = std::thread::Builder::new()
            .name("bulkhead-saver".into())
            .spawn(move || {
                for m in members {
                    let save = std::panic::AssertUnwindSafe(|| m.refresh_state());
                    if std::panic::catch_unwind(save).is_err() {
                        tracing::error!(plugin = m.name(), "the background save panicked");
                    }
                }
            });
        match saver {
            Ok(t) => self.saver = Some(t),
            Err(e) => tracing::warn!("cannot start a background save: {e}"),
        }
    }

    fn crashed(&mut self, group: &HostGroup, reason: &str) {
        let started = Instant::now();
        group.set_restoring(true);
        let mut reason = reason.to_string();
        // After a failed restart, the next attempt is a retry.
        let mut retrying = false;
        loop {
            let members = group.members();
            for m in &members {
                m.stop_audio();
            }
            if let Some(p) = group.take_process() {
                p.kill();
            }
            self.stopped_since = None;
            let policy = policy(&members);
            let now = Instant::now();
            let window = Policy::ms(policy.crash_window_ms);
            self.crashes.push_back(now);
            while self
                .crashes
                .front()
                .is_some_and(|t| now.duration_since(*t) > window)
            {
                self.crashes.pop_front();
            }
            let give_up = if !policy.restart {
                Some("restarting is disabled".to_string())
            } else if self.crashes.len() >= policy.max_crashes as usize {
                Some(format!(
                    "{} crashes within {} s",
                    self.crashes.len(),
                    window.as_secs()
                ))
            } else {
                None
            };
            let next = match &give_up {
                Some(why) => format!(
                    "{why}: giving up, the plugin stays silent until the DAW loads a state \
                     or activates it again"
                ),
                None if retrying => "trying again with its last state".to_string(),
                None => "restarting it with its last state".to_string(),
            };
            for m in &members {
                let msg = format!(
                    "bulkhead: the host process of {}{} {reason}; {next}",
                    m.name(),
                    group
                        .name()
                        .map_or(String::new(), |g| format!(" (group {g})"))
                );
                tracing::error!("{msg}");
                m.report(true, &msg);
            }
            if give_up.is_some() {
                group.failed.store(true, Ordering::Release);
                group.set_restoring(false);
                return;
            }
            match restart(group) {
                Ok(members) => {
                    for m in &members {
                        let msg = format!(
                            "bulkhead: {} is back after {:.0?}",
                            m.name(),
                            started.elapsed()
                        );
                        tracing::warn!("{msg}");
                        m.report(false, &msg);
                    }
                    group.set_restoring(false);
                    return;
                }
                // A failed restart is one more crash, with its own cause.
                Err(e) => {
                    reason = format!("failed to start again ({e})");
                    retrying = true;
                }
            }
        }
    }
}

/// A new host with every member recreated, in creation order; the DAW
/// reaches the new host only once all of them are restored.
fn restart(group: &HostGroup) -> Result<Vec<Arc<dyn Member>>, String> {
    let _lifecycle = group.lifecycle();
    // Members that joined or left while we waited for the lock count.
    let members = group.members();
    let started = Instant::now();
    let process = group.spawn_for_restart().map_err(|e| e.to_string())?;
    let spawned = started.elapsed();
    let mut ids = Vec::with_capacity(members.len());
    for m in &members {
        let t = Instant::now();
        let restored = group.creating(|| m.restore(&process));
        let id = restored.map_err(|e| {
            // Ended now, not when its handle lets go: it may still map a
            // state the bridge is about to write the next one into.
            process.kill();
            format!("{}: {e}", m.name())
        })?;
        tracing::debug!(plugin = m.name(), "restored in {:.1?}", t.elapsed());
        group.note_instance(id);
        ids.push(id);
    }
    tracing::debug!(group = ?group.name(), "host started in {spawned:.1?}, all restored in {:.1?}", started.elapsed());
    group.set_process(Arc::clone(&process));
    group.hung.store(false, Ordering::Release);
    group.broken.store(false, Ordering::Release);
    for (m, id) in members.iter().zip(ids) {
        m.go_live(&process, id);
    }
    Ok(members)
}
