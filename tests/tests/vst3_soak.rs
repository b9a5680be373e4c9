//! Soak and leaks for bridged VST3 plugins: host processes killed at
//! random moments during a long render leave every block either exactly
//! right or silent and lose no state; 1,000 create/release cycles leave no
//! process, socket, memfd or mapping behind.
//!
//! Needs `cargo build --workspace` first.

use bulkhead_common::manifest::Manifest;
use bulkhead_tests::fault_plugin::quick_policy;
use bulkhead_tests::vst3::*;
use bulkhead_tests::{host_processes_of, Leaks};
use bulkhead_vst3_support::bridged::bundle_library;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Both tests count this process's host processes: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

#[test]
fn random_kills_during_a_render_lose_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let real = vst3_bundle("gain").unwrap();
    let bundle = bridged_vst3_sample("gain").unwrap();
    let lib = bundle_library(&bundle);
    let mut m = Manifest::load_for(&lib).unwrap();
    m.policy = bulkhead_common::manifest::Policy {
        max_crashes: 1_000,
        ..quick_policy()
    };
    m.store_for(&lib).unwrap();

    let mut state = b"BHG1".to_vec();
    state.extend_from_slice(&0.5f64.to_le_bytes());
    const BLOCK: usize = 128;
    let spec = Vst3RenderSpec {
        frames: BLOCK * 4_000,
        block_sizes: vec![BLOCK],
        ..Vst3RenderSpec::default()
    };
    let mut direct = Vst3Plugin::open(&real, None).unwrap();
    direct.set_component_state(&state).unwrap();
    let want = render3(&mut direct, &spec).unwrap();
    drop(direct);

    let mut p = Vst3Plugin::open(&bundle, None).unwrap();
    p.set_component_state(&state).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicU32::new(0));
    let killer = {
        let (done, kills) = (Arc::clone(&done), Arc::clone(&kills));
        std::thread::spawn(move || {
            let mut rng = Lcg(0x5eed);
            while !done.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(30 + rng.next() % 70));
                for pid in host_processes_of(std::process::id()) {
                    // SAFETY: a plain signal to a child of ours.
                    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                    kills.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let got = render3(&mut p, &spec).expect("the DAW keeps rendering through the kills");
    done.store(true, Ordering::Release);
    killer.join().unwrap();
    assert!(
        kills.load(Ordering::Relaxed) >= 3,
        "too few kills to mean anything"
    );
    let (mut right, mut silent) = (0, 0);
    for b in 0..spec.frames / BLOCK {
        let range = b * BLOCK..(b + 1) * BLOCK;
        let ok = got.audio[0].iter().zip(&want.audio[0]).all(|(g, w)| {
            g[range.clone()]
                .iter()
                .zip(&w[range.clone()])
                .all(|(x, y)| x.to_bits() == y.to_bits())
        });
        let quiet = got.audio[0]
            .iter()
            .all(|g| g[range.clone()].iter().all(|&x| x == 0.0));
        assert!(ok || quiet, "block {b} is neither right nor silent");
        right += usize::from(ok);
        silent += usize::from(quiet && !ok);
    }
    assert!(right > 0 && silent > 0, "{right} right, {silent} silent");
    // The state survived every restart.
    let deadline = Instant::now() + Duration::from_secs(20);
    while p.component_state().ok().as_ref() != Some(&state) {
        assert!(Instant::now() < deadline, "the state did not come back");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_thousand_create_release_cycles_leak_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let bundle = bridged_vst3_sample("gain").unwrap();
    // The first open loads the module for good (the bridge pins itself).
    drop(Vst3Plugin::open(&bundle, None).unwrap());
    let before = Leaks::now();
    for _ in 0..1_000 {
        drop(Vst3Plugin::open(&bundle, None).unwrap());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    // Host processes exit on their own once their socket closes.
    while Leaks::now() != before {
        assert!(
            Instant::now() < deadline,
            "left behind: {:?} (before {before:?})",
            Leaks::now()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
