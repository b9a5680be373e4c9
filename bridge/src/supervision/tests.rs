//! The supervisor's logic against fake objects, without processes: the
//! "host" is the far end of a socket pair the test holds, and dropping it
//! is a crash.

use super::group::{HostGroup, Spawner};
use super::member::Member;
use crate::process::HostProcess;
use crate::BridgeError;
use bulkhead_common::manifest::Policy;
use bulkhead_common::protocol::wire::Callback;
use bulkhead_common::InstanceId;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the fake objects and the fake host saw, in order.
#[derive(Default)]
struct Journal {
    events: Mutex<Vec<String>>,
    /// The far ends of the fake hosts' sockets; dropping one kills it.
    peers: Mutex<Vec<UnixStream>>,
    next_id: AtomicU64,
}

impl Journal {
    fn note(&self, e: String) {
        self.events.lock().unwrap().push(e);
    }

    fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }

    fn kill_host(&self) {
        self.peers.lock().unwrap().clear();
    }
}

struct Fake {
    name: &'static str,
    state: Mutex<&'static str>,
    instance: AtomicU64,
    fail_restore: AtomicBool,
    policy: Policy,
    journal: Arc<Journal>,
}

impl Member for Fake {
    fn name(&self) -> String {
        self.name.into()
    }
    fn instance(&self) -> InstanceId {
        self.instance.load(Ordering::Acquire)
    }
    fn policy(&self) -> Policy {
        self.policy
    }
    fn on_arrival(&self, _: &Callback) {}
    fn defer(&self, _: Callback) {}
    fn stop_audio(&self) {
        self.journal.note(format!("{} stop", self.name));
    }
    fn audio_stuck(&self) -> bool {
        false
    }
    fn restore(&self, _: &Arc<HostProcess>) -> Result<InstanceId, String> {
        if self.fail_restore.load(Ordering::Acquire) {
            self.journal.note(format!("{} restore failed", self.name));
            return Err("boom".into());
        }
        let id = self.journal.next_id.fetch_add(1, Ordering::AcqRel) + 1;
        self.journal.note(format!(
            "{} restored as {id} with {}",
            self.name,
            self.state.lock().unwrap()
        ));
        Ok(id)
    }
    fn go_live(&self, _: &Arc<HostProcess>, instance: InstanceId) {
        self.instance.store(instance, Ordering::Release);
        self.journal
            .note(format!("{} live as {instance}", self.name));
    }
    fn refresh_state(&self) {}
    fn report(&self, error: bool, message: &str) {
        if error {
            self.journal
                .note(format!("{} report: {message}", self.name));
        }
    }
}

fn fake_spawner(journal: &Arc<Journal>) -> Arc<Spawner> {
    let journal = Arc::clone(journal);
    Arc::new(
        move |_: &HostGroup, hooks, _spare: bool| -> Result<HostProcess, BridgeError> {
            let (ours, theirs) = UnixStream::pair().map_err(bulkhead_common::ProtocolError::Io)?;
            journal.peers.lock().unwrap().push(theirs);
            journal.note("spawn".into());
            HostProcess::over_stream(ours, hooks)
        },
    )
}

fn policy() -> Policy {
    Policy {
        spare_host: false,
        max_crashes: 3,
        crash_window_ms: 60_000,
        ..Policy::default()
    }
}

fn group_of(journal: &Arc<Journal>, names: &[&'static str]) -> (Arc<HostGroup>, Vec<Arc<Fake>>) {
    let g = HostGroup::join_with(
        None,
        Path::new("/nonexistent/bulkhead-host"),
        Path::new("/nonexistent/plugin.clap"),
        fake_spawner(journal),
    );
    let members: Vec<Arc<Fake>> = names
        .iter()
        .map(|name| {
            Arc::new(Fake {
                name,
                state: Mutex::new("initial"),
                instance: AtomicU64::new(0),
                fail_restore: AtomicBool::new(false),
                policy: policy(),
                journal: Arc::clone(journal),
            })
        })
        .collect();
    for m in &members {
        let id = journal.next_id.fetch_add(1, Ordering::AcqRel) + 1;
        g.attach(Arc::clone(m) as Arc<dyn Member>, |_| Ok(id))
            .unwrap();
    }
    (g, members)
}

/// Waits (bounded) until `cond` holds of the journal.
fn until(journal: &Journal, what: &str, cond: impl Fn(&[String]) -> bool) {
    let start = Instant::now();
    while !cond(&journal.events()) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: {:#?}",
            journal.events()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn detach_all(g: &HostGroup, members: &[Arc<Fake>]) {
    for m in members {
        let m: Arc<dyn Member> = Arc::clone(m) as Arc<dyn Member>;
        drop(g.detach(&m));
    }
}

#[test]
fn a_crash_restores_every_member_in_creation_order_before_any_goes_live() {
    let journal = Arc::new(Journal::default());
    let (g, members) = group_of(&journal, &["a", "b", "c"]);
    *members[1].state.lock().unwrap() = "b's own";
    journal.events.lock().unwrap().clear();
    journal.kill_host();
    until(&journal, "all live again", |e| {
        e.iter().any(|x| x.starts_with("c live"))
    });
    let e = journal.events();
    let pos = |p: &str| e.iter().position(|x| x.starts_with(p)).unwrap();
    assert!(pos("a stop") < pos("spawn"));
    assert!(pos("spawn") < pos("a restored"));
    assert!(pos("a restored") < pos("b restored"));
    assert!(pos("b restored") < pos("c restored"));
    // Nobody is reachable until everyone is restored.
    assert!(pos("c restored") < pos("a live"));
    assert!(
        e.iter().any(|x| x == "b restored as 5 with b's own"),
        "{e:#?}"
    );
    assert_eq!(members[0].instance(), 4);
    assert!(g.process().is_some_and(|p| p.is_alive()));
    assert!(!g.failed.load(Ordering::Acquire));
    detach_all(&g, &members);
    assert!(g.process().is_none(), "the last member took the process");
}

#[test]
fn failed_restores_count_as_crashes_until_the_group_gives_up_and_a_revive_retries() {
    let journal = Arc::new(Journal::default());
    let (g, members) = group_of(&journal, &["a", "b"]);
    members[1].fail_restore.store(true, Ordering::Release);
    journal.events.lock().unwrap().clear();
    journal.kill_host();
    until(&journal, "gave up", |e| {
        e.iter().any(|x| x.contains("giving up"))
    });
    assert!(g.failed.load(Ordering::Acquire));
    let e = journal.events();
    assert_eq!(
        e.iter().filter(|x| *x == "b restore failed").count(),
        2,
        "3 crashes: the kill and two failed restores: {e:#?}"
    );
    assert!(
        e.iter()
            .any(|x| x.contains("failed to start again (b: boom)")),
        "the cause is named: {e:#?}"
    );
    assert!(
        !e.iter().any(|x| x.contains("live")),
        "nothing went live: {e:#?}"
    );

    // The DAW acts: one more try, with a fresh budget.
    members[1].fail_restore.store(false, Ordering::Release);
    journal.events.lock().unwrap().clear();
    g.revive();
    assert!(g.settle(Duration::from_secs(10)), "revived");
    let e = journal.events();
    assert!(e.iter().any(|x| x.starts_with("a live")), "{e:#?}");
    assert!(e.iter().any(|x| x.starts_with("b live")), "{e:#?}");
    assert!(!g.failed.load(Ordering::Acquire));
    detach_all(&g, &members);
}

#[test]
fn settle_waits_for_a_restart_and_returns_at_once_when_healthy() {
    let journal = Arc::new(Journal::default());
    let (g, members) = group_of(&journal, &["a"]);
    let t = Instant::now();
    assert!(g.settle(Duration::from_secs(5)));
    assert!(t.elapsed() < Duration::from_millis(100));
    journal.kill_host();
    until(&journal, "the supervisor saw the death", |e| {
        e.iter().any(|x| x == "a stop")
    });
    // From there, settle returns only once the restored member is live.
    assert!(g.settle(Duration::from_secs(10)));
    assert!(journal
        .events()
        .iter()
        .any(|x| x.starts_with("a live as 2")));
    detach_all(&g, &members);
}
