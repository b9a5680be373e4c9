//! `spare_host`: a host process started ahead of need (named
//! `bulkhead-spare` until it serves) takes over at a crash, the plugin
//! comes back with its state, a new spare follows, and nothing is left
//! when the instance goes.

use bulkhead_tests::*;
use std::time::{Duration, Instant};

const ID: &str = "org.bulkhead.sample.gain";

fn children_named(name: &str) -> Vec<u32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat
                .rsplit_once(") ")
                .and_then(|x| x.1.split_whitespace().nth(1).map(str::to_string));
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            ppid.as_deref() == Some(me.as_str()) && comm.trim() == name
        })
        .collect()
}

/// Waits (bounded) for one serving host and one spare; the host's pid.
fn host_and_spare() -> (u32, u32) {
    let start = Instant::now();
    loop {
        if let ([h], [s]) = (
            &children_named("bulkhead-host")[..],
            &children_named("bulkhead-spare")[..],
        ) {
            return (*h, *s);
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no host and spare: hosts {:?}, spares {:?}",
            children_named("bulkhead-host"),
            children_named("bulkhead-spare")
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_spare_takes_over_at_a_crash_and_nothing_is_left() {
    let before = Leaks::now();
    let policy = Policy {
        spare_host: true,
        ..Policy::default()
    };
    let lib = PluginLibrary::load(bridged_sample_with_policy("gain", policy).unwrap()).unwrap();
    let direct = PluginLibrary::load(sample_plugin_path("gain").unwrap()).unwrap();
    let mut d = Instance::new(&direct, ID, HostConfig::default()).unwrap();
    d.flush(&[Event::param_value(0, 0.375)]).unwrap();
    let state = d.save_state().unwrap();

    let mut inst = Instance::new(&lib, &format!("bulkhead.{ID}"), HostConfig::default()).unwrap();
    inst.load_state(&state).unwrap();
    let (host, spare) = host_and_spare();
    // SAFETY: a signal to our own child process.
    unsafe { libc::kill(host as i32, libc::SIGKILL) };
    // The spare becomes the host; a new spare follows.
    let start = Instant::now();
    let (new_host, new_spare) = loop {
        let (h, s) = host_and_spare();
        if h != host {
            break (h, s);
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no restart");
    };
    assert_eq!(new_host, spare, "the spare took over");
    assert_ne!(new_spare, spare);
    assert_eq!(inst.save_state().unwrap(), state, "back with its state");
    drop(inst);
    drop(lib);
    let start = Instant::now();
    while !(children_named("bulkhead-host").is_empty()
        && children_named("bulkhead-spare").is_empty())
    {
        assert!(start.elapsed() < Duration::from_secs(10), "processes left");
        std::thread::sleep(Duration::from_millis(10));
    }
    let after = Leaks::now();
    assert_eq!(after.sockets, before.sockets, "sockets left");
}
