//! Plugin groups: instances whose manifests name the same group share one
//! host process; they render exactly as when hosted directly; a crash in a
//! group restarts the whole group, each instance with its own state, while
//! another group keeps rendering; and nothing is left when all are gone.

use bulkhead_common::manifest::Manifest;
use bulkhead_tests::block_rig::{silent, BlockRig};
use bulkhead_tests::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const PLUGINS: [(&str, &str); 3] = [
    ("gain", "org.bulkhead.sample.gain"),
    ("synth", "org.bulkhead.sample.synth"),
    ("latency", "org.bulkhead.sample.latency"),
];

/// These tests count this process's host processes: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Shim copies of `name` in `group`, in a folder with the shared bridge
/// (copies sharing one bridge library is what lets them share groups).
fn grouped_copy(dir: &std::path::Path, name: &str, group: &str) -> PathBuf {
    let real = sample_plugin_path(name).unwrap();
    let copy = shim_copy(&real, dir, &format!("{name}-{group}.clap")).unwrap();
    let mut m = Manifest::load_for(&copy).unwrap();
    m.group = Some(group.to_string());
    m.store_for(&copy).unwrap();
    copy
}

fn spec(name: &str) -> RenderSpec {
    let mut events = vec![TimedEvent::new(5, Event::param_value(0, 0.5))];
    if name == "synth" {
        events = vec![
            TimedEvent::new(3, Event::note_on(0, 0, 60, 1, 0.8)),
            TimedEvent::new(700, Event::note_on(0, 0, 64, 2, 0.6)),
            TimedEvent::new(3_000, Event::note_off(0, 0, 60, 1, 0.0)),
        ];
    }
    RenderSpec {
        total_frames: 6_000,
        block_sizes: vec![64, 512, 7],
        input: InputSignal::Noise {
            seed: 11,
            amplitude: 0.7,
        },
        events,
        ..RenderSpec::default()
    }
}

struct Copies {
    _dir: PathBuf,
    /// (sample name, group, library)
    libs: Vec<(&'static str, &'static str, PluginLibrary)>,
}

fn copies() -> Copies {
    let dir = scratch_dir("groups");
    let mut libs = Vec::new();
    for group in ["a", "b"] {
        for (name, _) in PLUGINS {
            let lib = PluginLibrary::load(grouped_copy(&dir, name, group)).unwrap();
            libs.push((name, group, lib));
        }
    }
    Copies { _dir: dir, libs }
}

fn id_of(name: &str) -> String {
    let real = PLUGINS.iter().find(|(n, _)| *n == name).unwrap().1;
    format!("bulkhead.{real}")
}

#[test]
fn eight_instances_in_two_groups_run_in_two_processes_bit_identical() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = Leaks::now();
    let c = copies();
    // 8 instances: all six copies once, gain-a and synth-b once more.
    let mut instances = Vec::new();
    for (name, group, lib) in &c.libs {
        instances.push(Instance::new(lib, &id_of(name), HostConfig::default()).unwrap());
        if (*name, *group) == ("gain", "a") || (*name, *group) == ("synth", "b") {
            instances.push(Instance::new(lib, &id_of(name), HostConfig::default()).unwrap());
        }
    }
    assert_eq!(instances.len(), 8);
    let hosts = host_processes_of(std::process::id());
    assert_eq!(hosts.len(), 2, "8 instances in 2 groups: {hosts:?}");

    // One more instance of each copy renders exactly as direct hosting,
    // in the same two processes.
    for (name, group, lib) in &c.libs {
        let direct = PluginLibrary::load(sample_plugin_path(name).unwrap()).unwrap();
        let real = PLUGINS.iter().find(|(n, _)| n == name).unwrap().1;
        let a = render(&direct, real, &spec(name)).unwrap();
        let b = render(lib, &id_of(name), &spec(name)).unwrap();
        assert!(a.peak() > 0.0, "{name}: direct render is silent");
        a.compare(&b)
            .unwrap_or_else(|e| panic!("{name} in group {group}: {e}"));
    }
    assert_eq!(host_processes_of(std::process::id()).len(), 2);

    drop(instances);
    drop(c);
    let after = Leaks::now();
    assert!(after.host_processes.is_empty(), "hosts left: {after:?}");
    assert_eq!(after.sockets, before.sockets, "sockets left");
    assert_eq!(after.audio_mappings, before.audio_mappings, "mappings left");
}

fn gain_state(gain: f64) -> Vec<u8> {
    // The gain plugin's state: its magic and the parameter value.
    let direct = PluginLibrary::load(sample_plugin_path("gain").unwrap()).unwrap();
    let mut d = Instance::new(&direct, PLUGINS[0].1, HostConfig::default()).unwrap();
    d.flush(&[Event::param_value(0, gain)]).unwrap();
    d.save_state().unwrap()
}

/// A bridged gain instance of `lib` with `state`, running.
fn running(lib: &PluginLibrary, state: &[u8]) -> BlockRig {
    let mut inst = Instance::new(lib, &id_of("gain"), HostConfig::default()).unwrap();
    inst.load_state(state).unwrap();
    BlockRig::start(inst, 256)
}

#[test]
fn a_killed_group_comes_back_with_each_state_while_the_other_plays() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = scratch_dir("groups-kill");
    let lib_a = PluginLibrary::load(grouped_copy(&dir, "gain", "a")).unwrap();
    let lib_b = PluginLibrary::load(grouped_copy(&dir, "gain", "b")).unwrap();
    let states = [gain_state(0.25), gain_state(0.5), gain_state(1.5)];
    let mut group_a: Vec<BlockRig> = states.iter().map(|s| running(&lib_a, s)).collect();
    let a_hosts = host_processes_of(std::process::id());
    assert_eq!(a_hosts.len(), 1, "three instances of group a, one process");
    let a_pid = a_hosts[0];
    let mut other = running(&lib_b, &gain_state(0.75));
    let expected: Vec<_> = group_a.iter_mut().map(|r| r.block(&[])).collect();
    let other_expected = other.block(&[]);
    assert!(expected.iter().all(|o| !silent(o)));
    let hosts = host_processes_of(std::process::id());
    assert_eq!(hosts.len(), 2);

    // SAFETY: a signal to our own child process.
    assert_eq!(unsafe { libc::kill(a_pid as i32, libc::SIGKILL) }, 0);

    let start = Instant::now();
    let mut back = vec![false; group_a.len()];
    while back.iter().any(|b| !b) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "group a did not come back"
        );
        // The other group renders every block meanwhile.
        assert_eq!(other.block(&[]), other_expected, "group b stopped");
        for (i, r) in group_a.iter_mut().enumerate() {
            let out = r.block(&[]);
            if !silent(&out) {
                assert_eq!(
                    out, expected[i],
                    "instance {i} came back with another state"
                );
                back[i] = true;
            }
        }
    }
    let now = host_processes_of(std::process::id());
    assert_eq!(now.len(), 2, "one new process for group a: {now:?}");
    assert!(!now.contains(&a_pid));
    for (r, s) in group_a.iter_mut().zip(&states) {
        assert_eq!(&r.inst.save_state().unwrap(), s, "each its own state");
    }
}
