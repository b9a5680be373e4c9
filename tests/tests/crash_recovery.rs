//! A plugin that crashes or hangs never takes the host down: the test host
//! survives, hears silence only while the plugin is down, and gets the
//! plugin back with its last state, sounding exactly like a fresh instance
//! loaded with that state. A crash loop stops restarting.

use bulkhead_tests::*;
use std::time::{Duration, Instant};

const ID: &str = "org.bulkhead.sample.fault";

/// These tests count this process's host processes: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}
const BLOCK: usize = 256;

use bulkhead_tests::fault_plugin::quick_policy as policy;

use bulkhead_tests::fault_plugin::state;

struct Rig {
    _lib: PluginLibrary,
    inst: Instance,
    inputs: AudioBuffers<f32>,
    outputs: AudioBuffers<f32>,
}

impl Rig {
    fn new(policy: Policy) -> Self {
        let lib =
            PluginLibrary::load(bridged_sample_with_policy("fault", policy).unwrap()).unwrap();
        let inst = Instance::new(&lib, &format!("bulkhead.{ID}"), HostConfig::default()).unwrap();
        Self::with(lib, inst)
    }

    fn direct(state_bytes: &[u8]) -> Self {
        let lib = PluginLibrary::load(sample_plugin_path("fault").unwrap()).unwrap();
        let mut inst = Instance::new(&lib, ID, HostConfig::default()).unwrap();
        inst.load_state(state_bytes).unwrap();
        let mut r = Self::with(lib, inst);
        r.start();
        r
    }

    fn with(lib: PluginLibrary, inst: Instance) -> Self {
        let mut inputs = inst.input_buffers::<f32>(BLOCK);
        for (c, ch) in inputs.ports[0].iter_mut().enumerate() {
            for (i, s) in ch.iter_mut().enumerate() {
                *s = ((i * 7 + c * 13) % 97) as f32 / 97.0 - 0.5;
            }
        }
        let outputs = inst.output_buffers::<f32>(BLOCK);
        Self {
            _lib: lib,
            inst,
            inputs,
            outputs,
        }
    }

    fn start(&mut self) {
        self.inst.activate(48_000.0, 1, BLOCK as u32).unwrap();
        self.inst.start_processing().unwrap();
    }

    /// One block; the output, copied.
    fn block(&mut self, events: &[Event]) -> Vec<Vec<f32>> {
        self.inst
            .process_f32(
                BLOCK as u32,
                &self.inputs,
                &mut self.outputs,
                events,
                None,
                None,
            )
            .expect("process never fails through the bridge, down or not");
        self.inst.pump();
        self.outputs.ports[0].clone()
    }
}

fn silent(out: &[Vec<f32>]) -> bool {
    out.iter().flatten().all(|&s| s == 0.0)
}

/// Processes until the plugin sounds again; every block before must be
/// silent. Returns the first sounding block and how long it took.
fn until_restored(rig: &mut Rig, limit: Duration) -> (Vec<Vec<f32>>, Duration) {
    let start = Instant::now();
    loop {
        let out = rig.block(&[]);
        if !silent(&out) {
            return (out, start.elapsed());
        }
        assert!(
            start.elapsed() < limit,
            "the plugin did not come back within {limit:?}"
        );
    }
}

fn check_process_fault(fault: u32, name: &str) {
    let _serial = serial();
    let good = state(0.5, 0);
    let mut rig = Rig::new(policy());
    rig.inst.load_state(&good).unwrap();
    rig.start();
    let before = rig.block(&[]);
    assert!(!silent(&before));
    let hosts = host_processes_of(std::process::id());
    assert_eq!(hosts.len(), 1);

    // The fault strikes at this event; the block comes back silent.
    let crashed = rig.block(&[Event::param_value(1, f64::from(fault)).with_time(10)]);
    assert!(silent(&crashed), "{name}: a dead plugin outputs silence");
    let (back, took) = until_restored(&mut rig, Duration::from_secs(10));
    eprintln!("{name}: audible again after {took:?}");
    let now = host_processes_of(std::process::id());
    assert_eq!(now.len(), 1, "{name}: exactly one host again");
    assert_ne!(now, hosts, "{name}: a new host process");

    // Restored with the last state: sounds exactly like a fresh instance.
    let mut fresh = Rig::direct(&good);
    assert_eq!(
        back,
        fresh.block(&[]),
        "{name}: restored output differs from a fresh instance"
    );
    for _ in 0..3 {
        assert_eq!(rig.block(&[]), fresh.block(&[]));
    }
    assert_eq!(rig.inst.save_state().unwrap(), good);
}

#[test]
fn segfault_in_process() {
    check_process_fault(1, "segfault");
}

#[test]
fn endless_loop_in_process() {
    check_process_fault(4, "endless loop");
}

#[test]
fn stack_overflow_in_process() {
    check_process_fault(6, "stack overflow");
}

#[test]
fn abort_during_activation_recovers_with_the_last_state() {
    let _serial = serial();
    let good = state(1.5, 0);
    let mut rig = Rig::new(policy());
    rig.inst.load_state(&good).unwrap();
    // The fault is set on the main thread; activation then aborts the host.
    rig.inst.flush(&[Event::param_value(1, 2.0)]).unwrap();
    rig.start();
    let (back, _) = until_restored(&mut rig, Duration::from_secs(10));
    let mut fresh = Rig::direct(&good);
    assert_eq!(back, fresh.block(&[]));
}

#[test]
fn exit_during_state_load_keeps_the_plugin_and_the_bytes() {
    let _serial = serial();
    let good = state(0.25, 0);
    let poisoned = state(0.75, 3);
    let mut rig = Rig::new(policy());
    rig.inst.load_state(&good).unwrap();
    rig.start();
    assert!(!silent(&rig.block(&[])));
    assert!(
        rig.inst.load_state(&poisoned).is_err(),
        "the load that killed the host fails"
    );
    let (back, _) = until_restored(&mut rig, Duration::from_secs(10));
    let mut fresh = Rig::direct(&good);
    assert_eq!(back, fresh.block(&[]), "restored from the last good state");
}

#[test]
fn main_thread_call_that_never_returns_is_abandoned() {
    let _serial = serial();
    let good = state(0.5, 0);
    let mut rig = Rig::new(policy());
    rig.inst.load_state(&good).unwrap();
    rig.inst.flush(&[Event::param_value(1, 5.0)]).unwrap();
    let t = Instant::now();
    assert!(
        rig.inst.value_to_text(0, 0.5).is_err(),
        "the hung call is abandoned"
    );
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "abandoned at its timeout, not later"
    );
    rig.start();
    let (back, _) = until_restored(&mut rig, Duration::from_secs(10));
    let mut fresh = Rig::direct(&good);
    assert_eq!(back, fresh.block(&[]));
    assert!(
        rig.inst.value_to_text(0, 0.5).is_ok(),
        "main-thread calls work again"
    );
}

#[test]
fn crash_loop_stops_restarting_and_keeps_the_state() {
    let _serial = serial();
    // A state whose activation always aborts: every restart crashes again.
    let poisoned = state(1.0, 2);
    let mut rig = Rig::new(policy());
    rig.inst.load_state(&poisoned).unwrap();
    rig.start();
    let start = Instant::now();
    // Wait (bounded) until the supervisor gives up: no host left.
    loop {
        let out = rig.block(&[]);
        assert!(silent(&out), "a crash-looping plugin is silent");
        if host_processes_of(std::process::id()).is_empty()
            && start.elapsed() > Duration::from_millis(300)
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the crash loop never stopped"
        );
    }
    // It stays down: no new host appears, output stays silent.
    for _ in 0..40 {
        assert!(silent(&rig.block(&[])));
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(host_processes_of(std::process::id()).is_empty());
    assert_eq!(
        rig.inst.save_state().unwrap(),
        poisoned,
        "the state is never lost"
    );
}

/// A slow block (300 ms, over the 100 ms audio deadline): silence while the
/// DAW renders in realtime, but the real output when it renders offline,
/// where a late block is lost work rather than a dropout.
#[test]
fn slow_blocks_are_waited_for_when_rendering_offline() {
    let _serial = serial();
    let slow = state(0.5, 7);
    let mut rig = Rig::new(Policy {
        hang_timeout_ms: 5_000,
        ..policy()
    });
    rig.inst.load_state(&slow).unwrap();
    rig.inst.set_render_mode(RenderMode::Offline).unwrap();
    rig.start();
    let mut fresh = Rig::direct(&state(0.5, 0));
    let expected = fresh.block(&[]);
    assert_eq!(
        rig.block(&[]),
        expected,
        "offline: the slow block is waited for"
    );

    rig.inst.set_render_mode(RenderMode::Realtime).unwrap();
    assert!(
        silent(&rig.block(&[])),
        "realtime: a block past its deadline is silent"
    );
}

/// Edits the DAW never saved survive a crash once the bridge has saved the
/// state in the background: the plugin comes back with them.
#[test]
fn background_state_saves_bound_what_a_crash_loses() {
    let _serial = serial();
    const SAVES: u32 = 2;
    let mut rig = Rig::new(Policy {
        state_refresh_ms: 200,
        ..policy()
    });
    rig.inst.load_state(&state(0.5, 0)).unwrap();
    rig.start();
    // An edit the DAW never saves: the gain is now 1.5.
    rig.block(&[Event::param_value(0, 1.5)]);
    let saves_before = rig.inst.param_value(SAVES).unwrap();
    let start = std::time::Instant::now();
    // Two saves: the plugin counts a save before its bytes reach the
    // bridge, but the supervisor only starts the next save after it kept
    // the last one, so the second proves the first (made after the edit)
    // is held.
    while rig.inst.param_value(SAVES).unwrap() < saves_before + 2.0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no background save happened"
        );
        rig.block(&[]);
    }
    let hosts = host_processes_of(std::process::id());
    // SAFETY: kill(2) on our own child process; no memory involved.
    unsafe { libc::kill(hosts[0] as libc::pid_t, libc::SIGKILL) };
    let (back, _) = until_restored(&mut rig, Duration::from_secs(10));
    let mut fresh = Rig::direct(&state(1.5, 0));
    assert_eq!(
        back,
        fresh.block(&[]),
        "restored with the edit the background save kept"
    );
}
