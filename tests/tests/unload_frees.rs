//! Issue 9, finding 9: a bridged copy the DAW loads, uses and releases
//! leaves nothing behind. Sixty copies (distinct files, so sixty separate
//! dlopens of the bridge), each with an instance created and destroyed, then
//! the entry deinitialised and the library closed: the threads of this
//! process come back to where they were, and no process, socket, region or
//! mapping of an audio region is left. (Resident memory does not come back
//! : see the second test below.)

use bulkhead_tests::*;
use std::time::{Duration, Instant};

const COPIES: usize = 60;

/// Both tests count this process's threads and mappings: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

/// The names of this process's threads, for a failure message.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .map(|n| n.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Resident memory in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn bridged_libraries() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("bulkhead-test-") && l.contains("gain-copy-"))
        .filter_map(|l| l.split_whitespace().last())
        .collect::<std::collections::HashSet<_>>()
        .len()
}

/// Loads copy `i`, creates and destroys an instance, releases the library.
fn load_use_release(dir: &std::path::Path, i: usize) {
    let real = sample_plugin_path("gain").unwrap();
    let copy = bridged_copy(&real, dir, &format!("gain-copy-{i}.clap"), None).unwrap();
    let lib = PluginLibrary::load(&copy).unwrap();
    let mut inst = Instance::new(
        &lib,
        "bulkhead.org.bulkhead.sample.gain",
        HostConfig::default(),
    )
    .unwrap();
    inst.activate(48_000.0, 1, 256).unwrap();
    inst.deactivate().unwrap();
    drop(inst);
    drop(lib);
}

/// Waits (bounded) until `f` holds.
fn eventually(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sixty_copies_loaded_and_released_leave_no_threads_and_no_processes() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = scratch_dir("unload");
    // A first copy warms up what the test process itself keeps (the test
    // host's own allocations, the dynamic loader's caches, glibc arenas).
    load_use_release(&dir, 0);
    eventually(
        "the warm-up copy's host exits",
        Duration::from_secs(5),
        || host_processes_of(std::process::id()).is_empty(),
    );
    let leaks = Leaks::now();
    let threads_before = threads();

    for i in 1..=COPIES {
        load_use_release(&dir, i);
        // Each copy's threads end when it is released (the spawner is
        // joined by the last deinit): the count never climbs. A joined
        // thread can still be listed for a moment (the kernel wakes the
        // joiner before it takes the thread out of the process), so the
        // count is given a bounded moment to come back.
        let start = Instant::now();
        while threads() > threads_before {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "copy {i}: {} threads, {threads_before} before: {:?}",
                threads(),
                thread_names()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    eventually("no host process left", Duration::from_secs(10), || {
        host_processes_of(std::process::id()).is_empty()
    });
    assert_eq!(threads(), threads_before, "threads back to where they were");
    assert_eq!(Leaks::now(), leaks, "no socket, region or mapping left");
}

/// The libraries are unmapped after `dlclose` and their memory returned:
/// the bridge registers no thread-local destructor on the DAW's threads
/// (which would make glibc keep the library mapped while the thread lives):
/// its threads and host processes are started from a launcher thread of its
/// own, and DAW threads wait on plain mutexes and condition variables.
#[test]
fn sixty_copies_loaded_and_released_return_their_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = scratch_dir("unload-rss");
    load_use_release(&dir, 0);
    let rss_before = rss_kib();
    for i in 1..=COPIES {
        load_use_release(&dir, i);
    }
    let grown = rss_kib().saturating_sub(rss_before);
    eprintln!(
        "RSS grew by {grown} KiB over {COPIES} copies; {} bridged libraries still mapped",
        bridged_libraries()
    );
    assert_eq!(bridged_libraries(), 0, "every released copy is unmapped");
    // Slack for allocator arenas keeping freed pages and the harness.
    assert!(grown < 8 * 1024, "resident memory grew by {grown} KiB");
}
