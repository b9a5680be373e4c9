//! A host process that stops reading (SIGSTOP) never holds a DAW thread:
//! a 16 MiB state load and a save both return well inside their bound, the
//! stopped host is replaced, and the DAW's bytes are never lost.

use bulkhead_tests::*;
use std::time::{Duration, Instant};

const ID: &str = "bulkhead.org.bulkhead.sample.bigstate";
/// A stopped host is noticed within 1 s; a restart with a 16 MiB state
/// takes a fraction of that. Far below the 60 s slow-call timeout.
const BOUND: Duration = Duration::from_secs(8);

/// These tests count this process's host processes: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn big_state(seed: u32) -> Vec<u8> {
    let mut s = b"BHBIG001".to_vec();
    s.extend_from_slice(&2000u32.to_le_bytes());
    for i in 0..2000u32 {
        let v = ((i * 37 + seed) % 200) as f64 / 100.0 - 1.0;
        s.extend_from_slice(&v.to_le_bytes());
    }
    let payload: Vec<u8> = (0..16u32 << 20)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    s.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    s.extend_from_slice(&payload);
    s
}

fn stop(pid: u32) {
    // SAFETY: a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGSTOP) }, 0);
}

fn the_host() -> u32 {
    let hosts = host_processes_of(std::process::id());
    assert_eq!(hosts.len(), 1, "one host process: {hosts:?}");
    hosts[0]
}

/// Waits (bounded) until the stopped host is gone and a new one serves.
fn replaced(old: u32) -> u32 {
    let start = Instant::now();
    loop {
        let hosts = host_processes_of(std::process::id());
        if hosts.len() == 1 && hosts[0] != old {
            return hosts[0];
        }
        assert!(start.elapsed() < BOUND, "the stopped host was not replaced");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_16_mib_load_into_a_stopped_host_returns_and_the_bytes_survive() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let lib = PluginLibrary::load(bridged_sample("bigstate").unwrap()).unwrap();
    let mut inst = Instance::new(&lib, ID, HostConfig::default()).unwrap();
    let first = big_state(1);
    inst.load_state(&first).unwrap();
    let old = the_host();
    stop(old);

    let second = big_state(2);
    let t = Instant::now();
    let _ = inst.load_state(&second);
    let took = t.elapsed();
    eprintln!("load into a stopped host returned after {took:?}");
    assert!(took < BOUND, "the load held the DAW for {took:?}");
    replaced(old);
    assert!(
        inst.save_state().unwrap() == second,
        "the next save returns the bytes the DAW loaded last"
    );
}

#[test]
fn a_save_on_a_stopped_host_returns_the_plugins_state() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let lib = PluginLibrary::load(bridged_sample("bigstate").unwrap()).unwrap();
    let mut inst = Instance::new(&lib, ID, HostConfig::default()).unwrap();
    let state = big_state(3);
    inst.load_state(&state).unwrap();
    let old = the_host();
    stop(old);
    let t = Instant::now();
    let saved = inst.save_state().unwrap();
    let took = t.elapsed();
    eprintln!("save on a stopped host returned after {took:?}");
    assert!(took < BOUND, "the save held the DAW for {took:?}");
    assert!(saved == state, "the save returns the plugin's last state");
    replaced(old);
}

#[test]
fn a_save_right_after_creation_on_a_stopped_host_is_never_empty() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let lib = PluginLibrary::load(bridged_sample("bigstate").unwrap()).unwrap();
    let mut inst = Instance::new(&lib, ID, HostConfig::default()).unwrap();
    let old = the_host();
    stop(old);
    let saved = inst.save_state().unwrap();
    assert!(saved.starts_with(b"BHBIG001"), "the initial state is held");
    replaced(old);
    let direct = PluginLibrary::load(sample_plugin_path("bigstate").unwrap()).unwrap();
    let mut d = Instance::new(
        &direct,
        "org.bulkhead.sample.bigstate",
        HostConfig::default(),
    )
    .unwrap();
    assert!(
        saved == d.save_state().unwrap(),
        "it is the fresh plugin's state"
    );
}
