//! Every DAW-facing call of the proxy returns within its bound, with a
//! sensible answer, whatever state the host is in: up, crashed and not yet
//! restarted, restarting, hung, stopped (SIGSTOP), and failed. And a state
//! the DAW loads while the plugin is being restarted is the one it ends up
//! with.

use bulkhead_tests::*;
use std::time::{Duration, Instant};

const ID: &str = "org.bulkhead.sample.fault";
const BLOCK: usize = 128;
/// The longest any single call may take here: the main-thread timeout of
/// the policy below, plus the time a state call may wait for a restart.
const BOUND: Duration = Duration::from_secs(4);

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn policy(restart: bool) -> Policy {
    Policy {
        restart,
        audio_timeout_ms: 100,
        hang_timeout_ms: 300,
        main_timeout_ms: 500,
        slow_timeout_ms: 2_000,
        state_refresh_ms: 0,
        ..Policy::default()
    }
}

use bulkhead_tests::fault_plugin::state;

fn host_pid() -> Option<u32> {
    host_processes_of(std::process::id()).first().copied()
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: a signal to our own child process.
    unsafe { libc::kill(pid as i32, sig) };
}

/// Runs one call, asserting it returns within the bound.
fn timed<T>(what: &str, phase: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    let took = t.elapsed();
    assert!(took < BOUND, "{phase}: {what} took {took:?}");
    r
}

/// Every call the test host can make, main and audio thread.
fn every_call(inst: &mut Instance, phase: &str) {
    let inputs = inst.input_buffers::<f32>(BLOCK);
    let mut outputs = inst.output_buffers::<f32>(BLOCK);
    let params = timed("params", phase, || inst.params());
    // The fault plugin always has its three parameters; while down, the
    // last known answers are given.
    assert_eq!(params.len(), 3, "{phase}: params");
    timed("param_value", phase, || inst.param_value(0).ok());
    // Never read before: the path that once deadlocked.
    timed("param_value (never read)", phase, || {
        inst.param_value(2).ok()
    });
    timed("value_to_text", phase, || inst.value_to_text(0, 0.5).ok());
    timed("text_to_value", phase, || inst.text_to_value(0, "0.5").ok());
    timed("audio_ports", phase, || inst.audio_ports());
    timed("note_ports", phase, || inst.note_ports(true));
    timed("latency", phase, || inst.latency());
    timed("tail", phase, || inst.tail().ok());
    timed("voice_info", phase, || inst.voice_info());
    let saved = timed("save_state", phase, || inst.save_state());
    assert!(
        saved.as_ref().is_ok_and(|s| s.starts_with(b"BHFALT01")),
        "{phase}: a save always has bytes: {saved:?}"
    );
    timed("process", phase, || {
        inst.process_f32(BLOCK as u32, &inputs, &mut outputs, &[], None, None)
            .map(|_| ())
    })
    .unwrap_or_else(|e| panic!("{phase}: process: {e}"));
    timed("flush", phase, || inst.flush(&[]).ok());
    timed("pump", phase, || inst.pump());
}

fn lifecycle_calls(inst: &mut Instance, phase: &str) {
    timed("stop_processing", phase, || inst.stop_processing().ok());
    timed("deactivate", phase, || inst.deactivate().ok());
    timed("activate", phase, || {
        inst.activate(48_000.0, 1, BLOCK as u32).ok()
    });
    timed("start_processing", phase, || inst.start_processing().ok());
    timed("reset", phase, || inst.reset().ok());
}

fn rig(restart: bool) -> (PluginLibrary, Instance) {
    let lib =
        PluginLibrary::load(bridged_sample_with_policy("fault", policy(restart)).unwrap()).unwrap();
    let mut inst = Instance::new(&lib, &format!("bulkhead.{ID}"), HostConfig::default()).unwrap();
    inst.load_state(&state(0.5, 0)).unwrap();
    inst.activate(48_000.0, 1, BLOCK as u32).unwrap();
    inst.start_processing().unwrap();
    (lib, inst)
}

#[test]
fn every_call_returns_in_time_in_every_state() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (_lib, mut inst) = rig(true);
    every_call(&mut inst, "up");
    lifecycle_calls(&mut inst, "up");

    // Crashed, not yet restarted: calls right after the kill.
    signal(host_pid().unwrap(), libc::SIGKILL);
    every_call(&mut inst, "crashed");
    lifecycle_calls(&mut inst, "crashed or restarting");

    // Stopped: every call returns, the stopped host is replaced.
    std::thread::sleep(Duration::from_millis(200));
    let pid = host_pid().expect("restarted");
    signal(pid, libc::SIGSTOP);
    every_call(&mut inst, "stopped");
    lifecycle_calls(&mut inst, "stopped");
    let start = Instant::now();
    while host_pid() == Some(pid) || host_pid().is_none() {
        assert!(start.elapsed() < BOUND, "the stopped host was not replaced");
        std::thread::sleep(Duration::from_millis(10));
    }

    // Hung: a main-thread call that never returns in the plugin.
    inst.flush(&[Event::param_value(1, 5.0)]).unwrap();
    timed("hung value_to_text", "hung", || {
        inst.value_to_text(0, 0.5).ok()
    });
    every_call(&mut inst, "hung");
    lifecycle_calls(&mut inst, "hung");
}

#[test]
fn every_call_returns_in_time_when_failed() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (_lib, mut inst) = rig(false);
    signal(host_pid().unwrap(), libc::SIGKILL);
    let start = Instant::now();
    // Failed: no restart; nothing hangs, saves return the kept state.
    while !host_processes_of(std::process::id()).is_empty() {
        assert!(start.elapsed() < BOUND);
        std::thread::sleep(Duration::from_millis(5));
    }
    every_call(&mut inst, "failed");
    assert_eq!(inst.save_state().unwrap(), state(0.5, 0));
    lifecycle_calls(&mut inst, "failed");
}

#[test]
fn a_state_loaded_during_a_restart_is_the_one_the_plugin_ends_up_with() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (_lib, mut inst) = rig(true);
    let newer = state(1.25, 0);
    signal(host_pid().unwrap(), libc::SIGKILL);
    // At once: the restart (with the older state) is under way or about to be.
    timed("load during restart", "restarting", || {
        inst.load_state(&newer)
    })
    .expect("the load waits for the restore and succeeds");
    assert_eq!(inst.save_state().unwrap(), newer);
    // And it sounds like a direct instance with that state.
    let direct_lib = PluginLibrary::load(sample_plugin_path("fault").unwrap()).unwrap();
    let mut direct = Instance::new(&direct_lib, ID, HostConfig::default()).unwrap();
    direct.load_state(&newer).unwrap();
    direct.activate(48_000.0, 1, BLOCK as u32).unwrap();
    direct.start_processing().unwrap();
    let mut inputs = inst.input_buffers::<f32>(BLOCK);
    for ch in inputs.ports[0].iter_mut() {
        for (i, s) in ch.iter_mut().enumerate() {
            *s = (i % 17) as f32 / 17.0 - 0.5;
        }
    }
    let mut a = inst.output_buffers::<f32>(BLOCK);
    let mut b = direct.output_buffers::<f32>(BLOCK);
    let start = Instant::now();
    loop {
        inst.process_f32(BLOCK as u32, &inputs, &mut a, &[], None, None)
            .unwrap();
        if a.ports[0].iter().flatten().any(|&s| s != 0.0) {
            break;
        }
        assert!(start.elapsed() < BOUND, "never audible again");
    }
    direct
        .process_f32(BLOCK as u32, &inputs, &mut b, &[], None, None)
        .unwrap();
    assert_eq!(
        a.ports, b.ports,
        "plays the state loaded during the restart"
    );
}
