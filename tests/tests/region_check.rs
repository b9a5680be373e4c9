//! Issue 9, finding 4: a plugin that scribbles over the shared-memory
//! region inside its host process never leaves the instance silent for good.
//! The bridge notices the nonsense (a foreign magic word, an answer to a
//! block it never rang, an impossible status), says why in the DAW's log,
//! ends the host and restarts it with a fresh region: the plugin is audible
//! again, restored from its last state, and nothing is left behind.

use bulkhead_tests::*;
use std::time::{Duration, Instant};

const ID: &str = "org.bulkhead.sample.fault";
const BLOCK: usize = 256;
/// The fault plugin's faults (see tests/plugins/fault/src/faults.rs).
const SCRIBBLE_REGION: u32 = 8;
const SCRIBBLE_REGION_KEEP_MAGIC: u32 = 9;

/// These tests count this process's host processes: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

use bulkhead_tests::fault_plugin::quick_policy as policy;

use bulkhead_tests::block_rig::{silent, BlockRig};
use bulkhead_tests::fault_plugin::state;

/// A bridged fault plugin with `state_bytes`, running.
fn running(path: std::path::PathBuf, id: &str, state_bytes: &[u8]) -> (PluginLibrary, BlockRig) {
    let lib = PluginLibrary::load(path).unwrap();
    let mut inst = Instance::new(&lib, id, HostConfig::default()).unwrap();
    inst.load_state(state_bytes).unwrap();
    (lib, BlockRig::start(inst, BLOCK))
}

fn logged(inst: &Instance, needle: &str) -> Option<String> {
    inst.record()
        .logs
        .iter()
        .map(|l| l.message.clone())
        .find(|m| m.contains(needle))
}

fn scribbled_region_recovers(fault: u32, name: &str) {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = Leaks::now();
    let good = state(0.5, 0);
    let copy = bridged_sample_with_policy("fault", policy()).unwrap();
    let (_lib, mut rig) = running(copy, &format!("bulkhead.{ID}"), &good);
    assert!(!silent(&rig.block(&[])), "{name}: audible before");
    let hosts = host_processes_of(std::process::id());
    assert_eq!(hosts.len(), 1);

    // The plugin scribbles over the region in this block.
    let t = Instant::now();
    rig.block(&[Event::param_value(1, f64::from(fault)).with_time(10)]);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "{name}: the block returned within its bound"
    );

    // Blocks go on; each returns within its deadline, and the plugin comes
    // back audible on a new host.
    let start = Instant::now();
    let back = loop {
        let t = Instant::now();
        let out = rig.block(&[]);
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{name}: a block took {:?}",
            t.elapsed()
        );
        let now = host_processes_of(std::process::id());
        if !silent(&out) && now.len() == 1 && now != hosts {
            break out;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{name}: the plugin did not come back (hosts {hosts:?} -> {now:?})"
        );
    };
    let line = logged(&rig.inst, "broke the protocol (audio region: ").unwrap_or_else(|| {
        panic!(
            "{name}: the DAW's log says why: {:?}",
            rig.inst.record().logs
        )
    });
    assert!(line.contains("was killed"), "{line}");
    assert!(line.contains("restarting it with its last state"), "{line}");

    // Restored from the last state: sounds like a fresh direct instance.
    let (_direct_lib, mut direct) = running(sample_plugin_path("fault").unwrap(), ID, &good);
    assert_eq!(back, direct.block(&[]), "{name}: restored output");
    for _ in 0..3 {
        assert_eq!(rig.block(&[]), direct.block(&[]), "{name}: stays audible");
    }
    assert_eq!(
        rig.inst.save_state().unwrap(),
        good,
        "{name}: the state survives"
    );
    drop(direct);
    drop(rig);

    // Nothing left: no host, socket, region or mapping.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Leaks::now() != before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(Leaks::now(), before, "{name}: everything released");
}

#[test]
fn a_region_scribbled_over_is_replaced_and_the_plugin_heard_again() {
    scribbled_region_recovers(SCRIBBLE_REGION, "scribble");
}

#[test]
fn a_scribble_that_spares_the_magic_word_is_still_caught() {
    scribbled_region_recovers(SCRIBBLE_REGION_KEEP_MAGIC, "scribble sparing the magic");
}
