//! Issue 9, finding 11: a restart runs on the bridge's supervisor thread,
//! yet the DAW's main-thread-only functions (`audio_ports.is_rescan_flag_supported`,
//! `note_ports.supported_dialects`, …) must only ever be called on the DAW's
//! main thread. The test host records every call made from a wrong thread;
//! a plugin crashed in a loop, to the point of being given up on and
//! revived, leaves that record empty.

use bulkhead_tests::*;
use std::time::{Duration, Instant};

const BLOCK: usize = 256;

/// These tests count this process's host processes: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn policy() -> Policy {
    Policy {
        audio_timeout_ms: 100,
        hang_timeout_ms: 300,
        main_timeout_ms: 500,
        state_refresh_ms: 0,
        max_crashes: 4,
        ..Policy::default()
    }
}

use bulkhead_tests::fault_plugin::state as fault_state;

fn silent(out: &[Vec<f32>]) -> bool {
    out.iter().flatten().all(|&s| s == 0.0)
}

fn violations(inst: &Instance) -> Vec<String> {
    inst.record().thread_violations
}

/// A new host replaced `old` (bounded wait, pumping the main thread).
fn wait_for_new_host(inst: &mut Instance, old: &[u32]) -> Vec<u32> {
    let start = Instant::now();
    loop {
        inst.pump();
        let now = host_processes_of(std::process::id());
        if now.len() == 1 && now != old {
            return now;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no new host within 10 s (was {old:?}, now {now:?})"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A restart is over once the DAW's log says so.
fn wait_back(inst: &mut Instance, times: usize) {
    let back = |r: &HostRecord| {
        r.logs
            .iter()
            .filter(|l| l.message.contains(" is back after "))
            .count()
            >= times
    };
    assert!(
        inst.pump_until(Duration::from_secs(10), back),
        "restart {times} never finished: {:?}",
        inst.record().logs
    );
}

/// The fault plugin (audio ports, params, state, render): segfaults in
/// `process` again and again, then a poisoned state that aborts every
/// activation until the bridge gives up, then a revival by the DAW.
#[test]
fn a_crash_loop_calls_the_daw_on_its_main_thread_only() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let lib = PluginLibrary::load(bridged_sample_with_policy("fault", policy()).unwrap()).unwrap();
    let mut inst = Instance::new(
        &lib,
        "bulkhead.org.bulkhead.sample.fault",
        HostConfig::default(),
    )
    .unwrap();
    let good = fault_state(0.5, 0);
    inst.load_state(&good).unwrap();
    let mut inputs = inst.input_buffers::<f32>(BLOCK);
    for ch in inputs.ports[0].iter_mut() {
        ch.fill(0.25);
    }
    let mut outputs = inst.output_buffers::<f32>(BLOCK);
    inst.activate(48_000.0, 1, BLOCK as u32).unwrap();
    inst.start_processing().unwrap();
    let mut block = |inst: &mut Instance, events: &[Event]| {
        inst.process_f32(BLOCK as u32, &inputs, &mut outputs, events, None, None)
            .unwrap();
        inst.pump();
        outputs.ports[0].clone()
    };
    assert!(!silent(&block(&mut inst, &[])));
    let mut hosts = host_processes_of(std::process::id());

    // Three segfaults, each followed by a restart.
    for round in 1..=3 {
        block(&mut inst, &[Event::param_value(1, 1.0).with_time(5)]);
        let start = Instant::now();
        while silent(&block(&mut inst, &[])) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "round {round}: not audible again"
            );
        }
        hosts = wait_for_new_host(&mut inst, &hosts);
        wait_back(&mut inst, round);
    }
    assert_eq!(violations(&inst), Vec::<String>::new());

    // A state whose activation aborts: every restart crashes again, until
    // the bridge gives up.
    inst.stop_processing().unwrap();
    inst.deactivate().unwrap();
    inst.load_state(&fault_state(0.5, 2)).unwrap();
    let _ = inst.activate(48_000.0, 1, BLOCK as u32);
    let gave_up = |r: &HostRecord| r.logs.iter().any(|l| l.message.contains("giving up"));
    assert!(
        inst.pump_until(Duration::from_secs(20), gave_up),
        "the crash loop was never given up on: {:?}",
        inst.record().logs
    );
    let _ = inst.deactivate();

    // The DAW loads a good state: the bridge tries again, and succeeds.
    inst.load_state(&good).unwrap();
    inst.activate(48_000.0, 1, BLOCK as u32).unwrap();
    inst.start_processing().unwrap();
    let start = Instant::now();
    while silent(&block(&mut inst, &[])) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "not audible after the revival"
        );
    }
    let record = inst.record();
    assert!(
        record
            .logs
            .iter()
            .filter(|l| l.message.contains("host process of"))
            .count()
            >= 4,
        "the crashes were logged: {:?}",
        record.logs
    );
    assert_eq!(
        record.thread_violations,
        Vec::<String>::new(),
        "calls into the DAW from a wrong thread"
    );
}

/// The synth (audio and note ports): its host killed three times. Each
/// restart tells the new host what the DAW answered at init, including the
/// note dialects, without asking the DAW off its main thread.
#[test]
fn restarts_of_a_plugin_with_note_ports_ask_the_daw_nothing_off_its_main_thread() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let lib = PluginLibrary::load(bridged_sample_with_policy("synth", policy()).unwrap()).unwrap();
    let mut inst = Instance::new(
        &lib,
        "bulkhead.org.bulkhead.sample.synth",
        HostConfig::default(),
    )
    .unwrap();
    let asked_at_init = inst.record().note_ports_supported_dialects;
    let mut hosts = host_processes_of(std::process::id());
    assert_eq!(hosts.len(), 1);
    for round in 1..=3 {
        // SAFETY: kill(2) on our own child process; no memory involved.
        unsafe { libc::kill(hosts[0] as libc::pid_t, libc::SIGKILL) };
        hosts = wait_for_new_host(&mut inst, &hosts);
        wait_back(&mut inst, round);
    }
    let record = inst.record();
    assert_eq!(
        record.thread_violations,
        Vec::<String>::new(),
        "calls into the DAW from a wrong thread"
    );
    assert_eq!(
        record.note_ports_supported_dialects, asked_at_init,
        "restarts reuse the DAW's answer instead of asking again"
    );
    assert!(
        !inst.note_ports(true).is_empty(),
        "the restarted synth still has its note ports"
    );
}
