//! A host process that completes a valid handshake and then misbehaves
//! (garbage frames, a trickle, a callback flood, callbacks for strangers,
//! a descriptor flood, a region scribbler, a stopped main loop): every DAW
//! call returns within its bound, nothing panics across FFI, the plugin is
//! restarted or given up on with a clear log line, the DAW's state bytes
//! survive, and nothing is left behind.

use bulkhead_tests::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One misbehaving host at a time: the tests count this process's hosts.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
/// Any single DAW call: the policy's main and slow timeouts below, plus
/// the time a state call may wait for a restart.
const CALL_BOUND: Duration = Duration::from_secs(8);
const ID: &str = "bulkhead.org.bulkhead.fake.0";
const DAW_STATE: &[u8] = b"the DAW's own state bytes";

fn copy_for(mode: &str) -> (PathBuf, PathBuf) {
    let dir = scratch_dir(&format!("fake-{mode}"));
    // The "plugin" only names the mode; the fake host never loads it.
    let real = dir.join(format!("fake-{mode}.clap"));
    std::fs::write(&real, format!("not a plugin: {mode} {:?}", dir)).unwrap();
    let fake = built_artifact("bulkhead-fake-host").unwrap();
    let copy = bridged_copy(&real, &dir, "fake.clap", Some(&fake)).unwrap();
    let mut m = bulkhead_common::manifest::Manifest::load_for(&copy).unwrap();
    m.policy = Policy {
        main_timeout_ms: 1_000,
        slow_timeout_ms: 3_000,
        audio_timeout_ms: 100,
        hang_timeout_ms: 500,
        state_refresh_ms: 0,
        ..Policy::default()
    };
    m.store_for(&copy).unwrap();
    (copy, dir)
}

/// The bridge's own threads in this process (the test harness runs other
/// tests' threads beside them).
fn bridge_threads() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|c| c.trim().to_string())
        .filter(|c| c.starts_with("bulkhead-"))
        .collect()
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    assert!(t.elapsed() < CALL_BOUND, "{what} took {:?}", t.elapsed());
    r
}

fn no_hosts_within(limit: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if host_processes_of(std::process::id()).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The whole scenario; `expect_log` is part of what the bridge must say.
fn survive(mode: &str, expect_log: &[&str]) {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = Leaks::now();
    let threads_before = bridge_threads();
    let (copy, _dir) = copy_for(mode);
    {
        let lib = PluginLibrary::load(&copy).unwrap();
        let created = timed("create", || Instance::new(&lib, ID, HostConfig::default()));
        let mut inst = created.unwrap_or_else(|e| panic!("{mode}: creating: {e}"));
        let _ = timed("load", || inst.load_state(DAW_STATE));
        timed("activate", || inst.activate(48_000.0, 1, 64).ok());
        timed("start", || inst.start_processing().ok());
        let inputs = inst.input_buffers::<f32>(64);
        let mut outputs = inst.output_buffers::<f32>(64);
        // Restarted into the same misbehaviour until the bridge gives up;
        // the DAW keeps calling meanwhile.
        let mut logs: Vec<String> = Vec::new();
        let start = Instant::now();
        while !expect_log
            .iter()
            .all(|want| logs.iter().any(|l| l.contains(want)))
        {
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "{mode}: the bridge never said {expect_log:?}: {logs:#?}"
            );
            if inst.is_processing() {
                timed("process", || {
                    inst.process_f32(64, &inputs, &mut outputs, &[], None, None)
                        .ok()
                });
            }
            timed("params", || inst.params());
            inst.pump();
            logs.extend(inst.take_record().logs.into_iter().map(|l| l.message));
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            no_hosts_within(Duration::from_secs(5)),
            "{mode}: a host runs after the bridge gave up"
        );
        let saved = timed("save", || inst.save_state()).unwrap();
        assert!(
            saved == DAW_STATE || saved == b"FAKESTATE",
            "{mode}: the state is kept: {saved:?}"
        );
        timed("destroy", || drop(inst));
    }
    let after = Leaks::now();
    assert!(after.host_processes.is_empty(), "{mode}: {after:?}");
    assert_eq!(after.sockets, before.sockets, "{mode}: sockets left");
    assert_eq!(
        after.audio_mappings, before.audio_mappings,
        "{mode}: mappings left"
    );
    let threads_after = bridge_threads();
    assert!(
        threads_after.len() <= threads_before.len(),
        "{mode}: threads left ({threads_before:?} -> {threads_after:?})"
    );
}

#[test]
fn garbage_frames() {
    survive("garbage", &["giving up"]);
}

#[test]
fn callback_flood() {
    survive("flood", &["giving up"]);
}

#[test]
fn callbacks_for_strangers() {
    survive("strangers", &["broke the protocol", "giving up"]);
}

#[test]
fn region_scribbler() {
    survive("scribbler", &["giving up"]);
}

#[test]
fn stopped_main_loop() {
    survive("stopped", &["stopped answering", "giving up"]);
}

#[test]
fn descriptor_flood_is_bounded() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (copy, _dir) = copy_for("descriptors");
    let t = Instant::now();
    let lib = PluginLibrary::load(&copy).unwrap();
    assert!(t.elapsed() < CALL_BOUND, "listing took {:?}", t.elapsed());
    let n = lib.descriptors().len();
    assert!((1..=1024).contains(&n), "{n} descriptors reached the DAW");
}

#[test]
fn trickled_handshake_fails_within_its_deadline() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (copy, _dir) = copy_for("trickle");
    let t = Instant::now();
    // The listing needs a host: its handshake never completes in time.
    let r = PluginLibrary::load(&copy);
    let took = t.elapsed();
    assert!(r.is_err(), "a trickling host cannot list plugins");
    assert!(
        took < Duration::from_secs(15),
        "the handshake has one overall deadline (10 s): took {took:?}"
    );
    assert!(no_hosts_within(Duration::from_secs(5)));
}
