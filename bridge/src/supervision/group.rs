//! One host process and the objects living in it. Every bridged object
//! belongs to a group: an ungrouped plugin instance has a group of its own,
//! instances whose manifests name the same group (within one loaded bridge
//! library, which shim copies share) live together in one process. The
//! group owns the process handle, its health, and its supervisor.
//!
//! Lock order: `lifecycle` (held across a start or restart, and so across
//! calls into members and the host) before a member's own locks;
//! `restoring` before `process`; `members`, `process` and `spare` are leaf
//! locks. Only `lifecycle` is ever held across a call into a member or the
//! host.

use super::bulk_pages::BulkPages;
use super::member::Member;
use super::supervisor::{self, Supervisor, Wake};
use crate::error::BridgeError;
use crate::process::{Hooks, HostProcess};
use bulkhead_common::bulk::{Blob, BlobWriter, BulkError};
use bulkhead_common::protocol::wire::{Answer, Callback};
use bulkhead_common::InstanceId;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

pub struct HostGroup {
    /// `None` for an instance's own group.
    name: Option<String>,
    host_binary: PathBuf,
    /// The plugin file of the first object: the process is started for it.
    plugin: PathBuf,
    process: Mutex<Option<Arc<HostProcess>>>,
    /// A process started and greeted ahead of need, so a restart skips
    /// starting one (the largest part of a restart after the state).
    spare: Mutex<Option<HostProcess>>,
    /// Whether to keep a spare (the first member's policy).
    keep_spare: AtomicBool,
    /// In creation order: a restart recreates them in this order.
    members: Mutex<Vec<Weak<dyn Member>>>,
    /// Held while the process is started or restarted and while members
    /// join or leave, so a member never sees half a restart.
    lifecycle: Mutex<()>,
    /// A call went unanswered: the supervisor treats the host as hung.
    pub hung: AtomicBool,
    /// The host broke the protocol: ended as if it had crashed.
    pub broken: AtomicBool,
    /// Too many crashes: the objects stay silent until the DAW acts.
    pub failed: AtomicBool,
    /// The DAW acted on a failed object (loaded a state, activated it): one
    /// more try with a fresh crash budget.
    pub revive: AtomicBool,
    restoring: Mutex<bool>,
    restored: Condvar,
    wake: Arc<Wake>,
    supervisor: Mutex<Option<Supervisor>>,
    /// Ourselves, for the reader hooks a restart installs.
    me: Weak<HostGroup>,
    spawner: Arc<Spawner>,
    /// An object is being created in the process: callbacks may name an
    /// instance no member holds yet.
    creating: AtomicBool,
    /// The highest instance id the current process handed out: a callback
    /// naming a higher one is a protocol violation, a lower one an object
    /// that was just destroyed.
    highest: AtomicU64,
    /// Large states' pages, reused and freed off the DAW's threads.
    bulk: BulkPages,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts the process of a group (a real `bulkhead-host`; a test's
/// stand-in).
/// The flag says whether the process is a spare, started ahead of need.
pub type Spawner =
    dyn Fn(&HostGroup, Hooks, bool) -> Result<HostProcess, BridgeError> + Send + Sync;

fn spawn_host(g: &HostGroup, hooks: Hooks, spare: bool) -> Result<HostProcess, BridgeError> {
    HostProcess::spawn(
        &g.host_binary,
        Some(&g.plugin),
        g.name.as_deref(),
        spare,
        hooks,
    )
}

/// Named groups alive in this bridge library, keyed by name and host
/// binary.
static NAMED: Mutex<Vec<Weak<HostGroup>>> = Mutex::new(Vec::new());

impl HostGroup {
    /// The group named `name` (created when none is alive), or a new group
    /// of its own for `None`.
    ///
    /// `plugin` is the file of the object joining: a process started for
    /// the group is labelled with it (or with the group's name).
    pub fn join(name: Option<&str>, host_binary: &Path, plugin: &Path) -> Arc<Self> {
        Self::join_with(name, host_binary, plugin, Arc::new(spawn_host))
    }

    /// [`Self::join`] with processes started by `spawner`.
    pub fn join_with(
        name: Option<&str>,
        host_binary: &Path,
        plugin: &Path,
        spawner: Arc<Spawner>,
    ) -> Arc<Self> {
        let make = || {
            Arc::new_cyclic(|me| Self {
                name: name.map(str::to_owned),
                host_binary: host_binary.to_path_buf(),
                plugin: plugin.to_path_buf(),
                process: Mutex::new(None),
                spare: Mutex::new(None),
                keep_spare: AtomicBool::new(false),
                members: Mutex::new(Vec::new()),
                lifecycle: Mutex::new(()),
                hung: AtomicBool::new(false),
                broken: AtomicBool::new(false),
                failed: AtomicBool::new(false),
                revive: AtomicBool::new(false),
                restoring: Mutex::new(false),
                restored: Condvar::new(),
                wake: Arc::default(),
                supervisor: Mutex::new(None),
                me: me.clone(),
                spawner: Arc::clone(&spawner),
                creating: AtomicBool::new(false),
                highest: AtomicU64::new(0),
                bulk: BulkPages::default(),
            })
        };
        let Some(name) = name else { return make() };
        let mut named = lock(&NAMED);
        named.retain(|g| g.strong_count() > 0);
        if let Some(g) = named.iter().filter_map(Weak::upgrade).find(|g| {
            // A process serves one format: a group name shared by CLAP
            // and VST3 copies makes one process per format.
            g.name.as_deref() == Some(name)
                && g.host_binary == host_binary
                && bulkhead_common::manifest::plugin_format(&g.plugin)
                    == bulkhead_common::manifest::plugin_format(plugin)
        }) {
            return g;
        }
        let g = make();
        named.push(Arc::downgrade(&g));
        g
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn process(&self) -> Option<Arc<HostProcess>> {
        lock(&self.process).clone()
    }

    pub(super) fn take_process(&self) -> Option<Arc<HostProcess>> {
        lock(&self.process).take()
    }

    pub(super) fn set_process(&self, p: Arc<HostProcess>) {
        *lock(&self.process) = Some(p);
    }

    pub(super) fn lifecycle(&self) -> MutexGuard<'_, ()> {
        lock(&self.lifecycle)
    }

    /// The living members, in creation order.
    pub fn members(&self) -> Vec<Arc<dyn Member>> {
        lock(&self.members)
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    fn member_for(&self, instance: InstanceId) -> Option<Arc<dyn Member>> {
        self.members()
            .into_iter()
            .find(|m| m.instance() == instance)
    }

    /// An object is being created in the process (its id is not known yet).
    pub fn is_creating(&self) -> bool {
        self.creating.load(Ordering::Acquire)
    }

    /// A host call for `instance` that arrived while a DAW thread waited in
    /// a call to this group's process: its object answers it (see
    /// [`Member::answer`]).
    pub fn answer_call(&self, instance: InstanceId, cb: Callback) -> Answer {
        match self.member_for(instance) {
            Some(m) => m.answer(cb),
            None => {
                self.unknown(instance);
                Answer::Refused {
                    reason: format!("no object {instance}"),
                }
            }
        }
    }

    /// What the reader thread of this group's process does.
    fn hooks(self: &Arc<Self>) -> Hooks {
        let on_cb = Arc::downgrade(self);
        let on_death = Arc::downgrade(self);
        Hooks {
            on_callback: Arc::new(move |instance, cb: &Callback| {
                let Some(g) = on_cb.upgrade() else { return };
                match g.member_for(instance) {
                    Some(m) => m.on_arrival(cb),
                    None => g.unknown(instance),
                }
            }),
            on_death: Arc::new(move || {
                let Some(g) = on_death.upgrade() else { return };
                // A spare that died leaves the members playing.
                if !g.process().is_some_and(|p| p.is_alive()) {
                    for m in g.members() {
                        m.stop_audio();
                    }
                }
                g.nudge();
            }),
        }
    }

    /// A callback for an instance no member holds: one being created or
    /// just destroyed is fine (the waiting caller serves the first, the
    /// second has nobody to tell); one never handed out is a violation.
    fn unknown(&self, instance: InstanceId) {
        if self.creating.load(Ordering::Acquire) || instance <= self.highest.load(Ordering::Acquire)
        {
            return;
        }
        self.violation(instance);
    }

    /// Notes an instance id the current process handed out.
    pub fn note_instance(&self, instance: InstanceId) {
        self.highest.fetch_max(instance, Ordering::AcqRel);
    }

    /// Runs `f` while an object is being created in the process.
    pub(super) fn creating<T>(&self, f: impl FnOnce() -> T) -> T {
        self.creating.store(true, Ordering::Release);
        let r = f();
        self.creating.store(false, Ordering::Release);
        r
    }

    fn violation(&self, instance: InstanceId) {
        tracing::error!(
            instance,
            "the host sent a callback for an object it does not hold; ending it"
        );
        self.broken.store(true, Ordering::Release);
        self.nudge();
    }

    /// A callback that arrived while `waiting` waited for its reply: its
    /// own are handed back for the caller to serve, others are kept for
    /// their object.
    /// `waiting` is 0 while an object is being created: callbacks naming
    /// no member are then the new object's.
    pub fn route_elsewhere(
        &self,
        waiting: InstanceId,
        instance: InstanceId,
        cb: Callback,
    ) -> Option<Callback> {
        if instance == waiting {
            return Some(cb);
        }
        match self.member_for(instance) {
            Some(m) => m.defer(cb),
            None if waiting == 0 => return Some(cb),
            None => self.unknown(instance),
        }
        None
    }

    /// A fresh host process for this group.
    ///
    /// # Errors
    /// It could not be started.
    fn spawn(self: &Arc<Self>) -> Result<Arc<HostProcess>, BridgeError> {
        self.highest.store(0, Ordering::Release);
        let spare = lock(&self.spare).take().filter(|p| p.is_alive());
        match spare {
            Some(p) => Ok(Arc::new(p)),
            None => Ok(Arc::new((self.spawner)(self, self.hooks(), false)?)),
        }
    }

    /// Starts a spare process if the group keeps one and has none.
    pub(super) fn ensure_spare(&self) {
        if !self.keep_spare.load(Ordering::Acquire) || self.failed.load(Ordering::Acquire) {
            return;
        }
        if lock(&self.spare).as_ref().is_some_and(|p| p.is_alive()) {
            return;
        }
        let Some(me) = self.me.upgrade() else { return };
        match (self.spawner)(&me, me.hooks(), true) {
            Ok(p) => *lock(&self.spare) = Some(p),
            Err(e) => {
                tracing::warn!(group = ?self.name, "cannot start a spare host: {e}");
                // Not again for this group: restarts start their own.
                self.keep_spare.store(false, Ordering::Release);
            }
        }
    }

    /// [`Self::spawn`] for the supervisor, which holds the group by
    /// reference.
    ///
    /// # Errors
    /// It could not be started, or the group is being dropped.
    pub(super) fn spawn_for_restart(&self) -> Result<Arc<HostProcess>, BridgeError> {
        let me = self.me.upgrade().ok_or(BridgeError::Disconnected)?;
        me.spawn()
    }

    /// Adds `member` to the group: starts the process if none runs, creates
    /// the object there with `create`, and starts supervision.
    ///
    /// # Errors
    /// The process could not start or the object not be created.
    pub fn attach(
        self: &Arc<Self>,
        member: Arc<dyn Member>,
        create: impl FnOnce(&Arc<HostProcess>) -> Result<InstanceId, BridgeError>,
    ) -> Result<(), BridgeError> {
        let _lifecycle = self.lifecycle();
        let process = match self.process().filter(|p| p.is_alive()) {
            Some(p) => p,
            None => {
                let p = self.spawn()?;
                self.set_process(Arc::clone(&p));
                p
            }
        };
        let instance = self.creating(|| create(&process))?;
        self.note_instance(instance);
        if lock(&self.members).is_empty() {
            self.keep_spare
                .store(member.policy().spare_host, Ordering::Release);
        }
        member.go_live(&process, instance);
        lock(&self.members).push(Arc::downgrade(&member));
        if self.failed.load(Ordering::Acquire) {
            // A new object in a group given up on: try the whole group again.
            self.revive.store(true, Ordering::Release);
            self.nudge();
        }
        let mut sup = lock(&self.supervisor);
        if sup.is_none() {
            *sup = Some(
                supervisor::start(Arc::clone(self)).map_err(bulkhead_common::ProtocolError::Io)?,
            );
        }
        Ok(())
    }

    /// Removes `member`; returns the process its object lives in, so the
    /// caller can destroy the remote object. The last member to leave ends
    /// supervision, and the process exits when the returned handle drops.
    pub fn detach(&self, member: &Arc<dyn Member>) -> Option<Arc<HostProcess>> {
        let (process, supervisor) = {
            let _lifecycle = self.lifecycle();
            let mut members = lock(&self.members);
            let ours = Arc::downgrade(member);
            members.retain(|m| m.strong_count() > 0 && !Weak::ptr_eq(m, &ours));
            if members.is_empty() {
                drop(lock(&self.spare).take());
                (self.take_process(), lock(&self.supervisor).take())
            } else {
                (self.process(), None)
            }
        };
        if let Some(s) = supervisor {
            s.stop();
        }
        process
    }

    /// The writer a state the DAW loads is read into (a replaced state's
    /// pages when the last one was large).
    ///
    /// # Errors
    /// The kernel refused a memfd.
    pub fn bulk_writer(&self) -> Result<BlobWriter, BulkError> {
        self.bulk.writer()
    }

    /// A state that was replaced: a large one's pages serve the next load
    /// or are freed by the supervisor (the kernel takes milliseconds).
    pub fn retire(&self, old: Option<Blob>) {
        if old.is_some_and(|b| self.bulk.retire(b)) {
            self.nudge();
        }
    }

    pub(super) fn tend_bulk(&self) {
        self.bulk.tend();
    }

    /// Wakes the supervisor now (any thread, the DAW's included).
    pub fn nudge(&self) {
        self.wake.nudge();
    }

    pub(super) fn wake(&self) -> Arc<Wake> {
        Arc::clone(&self.wake)
    }

    /// Marks a restart as under way (`true`) or over (`false`, waking the
    /// calls that wait for it).
    pub fn set_restoring(&self, on: bool) {
        *lock(&self.restoring) = on;
        if !on {
            self.restored.notify_all();
        }
    }

    /// Waits, at most `timeout`, until the objects are either served by a
    /// live host with no restart under way, or given up on: a host that
    /// just died is about to be restarted, and a state call made now must
    /// see the restored object, not answer from the dead one and then
    /// differently a moment later. True when a live host serves.
    pub fn settle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut restoring = lock(&self.restoring);
        loop {
            // `process` is a leaf lock: taking it under `restoring` is safe.
            let live = self.process().is_some_and(|p| p.is_alive());
            if !*restoring && (live || self.failed.load(Ordering::Acquire)) {
                return live;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            // Woken at the end of a restart; a death not yet seen by the
            // supervisor is looked at again shortly.
            restoring = self
                .restored
                .wait_timeout(restoring, left.min(Duration::from_millis(10)))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// An explicit act of the DAW on an object given up on: the supervisor
    /// tries once more with a fresh crash budget; calls that settle wait
    /// for that attempt.
    pub fn revive(&self) {
        if self.failed.load(Ordering::Acquire) {
            tracing::warn!(group = ?self.name, "the DAW asked for a failed plugin: trying again");
            self.set_restoring(true);
            self.revive.store(true, Ordering::Release);
            self.nudge();
        }
    }
}
