//! A bridged VST3 plugin whose host crashes or hangs: the DAW keeps
//! rendering (silence while down), the plugin comes back with its last
//! states, and bytes the DAW loaded are never lost.
//!
//! Needs `cargo build --workspace` first.

use bulkhead_common::manifest::Manifest;
use bulkhead_tests::fault_plugin::quick_policy;
use bulkhead_tests::host_processes_of;
use bulkhead_tests::vst3::*;
use bulkhead_vst3_support::bridged::bundle_library;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Every test counts this process's host processes: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// A bridged bundle of `name` with the quick policy.
fn bridged(name: &str) -> PathBuf {
    let bundle = bridged_vst3_sample(name).unwrap();
    let lib = bundle_library(&bundle);
    let mut m = Manifest::load_for(&lib).unwrap();
    m.policy = quick_policy();
    m.store_for(&lib).unwrap();
    bundle
}

fn open(bundle: &Path) -> Vst3Plugin {
    Vst3Plugin::open(bundle, None).unwrap_or_else(|e| panic!("{}: {e}", bundle.display()))
}

fn hosts() -> Vec<u32> {
    host_processes_of(std::process::id())
}

/// Waits (bounded) until the host processes differ from `old` and `ready`
/// holds: a restart observed, not assumed.
fn wait_for_restart(old: &[u32], ready: impl Fn() -> bool) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = hosts();
        if !now.is_empty() && now.iter().all(|p| !old.contains(p)) && ready() {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "no restart within 20 s (hosts {now:?}, before {old:?})"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill(pids: &[u32]) {
    for &p in pids {
        // SAFETY: a plain signal to a child process of ours.
        unsafe { libc::kill(p as i32, libc::SIGKILL) };
    }
}

#[test]
fn killed_split_plugin_comes_back_with_both_states() {
    let _one = one_at_a_time();
    let bundle = bridged("gain");
    let p = open(&bundle);
    let mut state = b"BHG1".to_vec();
    state.extend_from_slice(&0.125f64.to_le_bytes());
    p.set_component_state(&state).unwrap();
    assert_eq!(p.param_value(0), Some(0.125));
    let component = p.component_state().unwrap();
    let controller = p.controller_state().unwrap();
    let before = hosts();
    assert_eq!(before.len(), 1, "one process for component and controller");
    kill(&before);
    wait_for_restart(&before, || {
        p.component_state().ok().as_ref() == Some(&component)
    });
    assert_eq!(p.component_state().unwrap(), component);
    assert_eq!(p.controller_state().unwrap(), controller);
    assert_eq!(p.param_value(0), Some(0.125));
}

#[test]
fn crash_in_process_keeps_the_daw_rendering_and_the_plugin_comes_back() {
    let _one = one_at_a_time();
    let bundle = bridged("fault");
    let mut p = open(&bundle);
    p.set_component_state(b"the DAW's bytes").unwrap();
    let before = hosts();
    // Fault = crash (1 of 3 steps) at frame 2_000.
    let spec = Vst3RenderSpec {
        frames: 8_000,
        block_sizes: vec![256],
        params: vec![(2_000, 0, 0.34)],
        ..Vst3RenderSpec::default()
    };
    let r = render3(&mut p, &spec).expect("the DAW keeps rendering through the crash");
    for (f, &y) in r.audio[0][0][..1_792].iter().enumerate() {
        assert_eq!(
            y.to_bits(),
            (noise(spec.seed, 0, f) as f32 as f64).to_bits(),
            "frame {f}"
        );
    }
    wait_for_restart(&before, || {
        p.component_state().ok().as_deref() == Some(&b"the DAW's bytes"[..])
    });
    // Back and sounding: audio passes through again.
    let spec = Vst3RenderSpec {
        frames: 4_000,
        ..Vst3RenderSpec::default()
    };
    let r = render3(&mut p, &spec).unwrap();
    for (f, &y) in r.audio[0][1].iter().enumerate() {
        assert_eq!(
            y.to_bits(),
            (noise(spec.seed, 1, f) as f32 as f64).to_bits(),
            "frame {f}"
        );
    }
}

#[test]
fn a_state_loaded_into_a_stopped_host_is_kept_and_returned() {
    let _one = one_at_a_time();
    let bundle = bridged("fault");
    let lib = bundle_library(&bundle);
    let mut m = Manifest::load_for(&lib).unwrap();
    m.policy.slow_timeout_ms = 2_000;
    m.store_for(&lib).unwrap();
    let p = open(&bundle);
    let before = hosts();
    let big: Vec<u8> = (0..16u32 << 20).map(|i| (i * 7 + i / 4096) as u8).collect();
    // SAFETY: a plain signal to our child.
    unsafe { libc::kill(before[0] as i32, libc::SIGSTOP) };
    let t = Instant::now();
    // The host does not answer: the call fails within its timeout...
    let _ = p.set_component_state(&big);
    assert!(
        t.elapsed() < Duration::from_secs(6),
        "took {:?}",
        t.elapsed()
    );
    // ...the host is replaced, and the DAW's bytes come back from a save,
    // and from the restored plugin itself.
    wait_for_restart(&before, || true);
    assert!(
        p.component_state().unwrap() == big,
        "the DAW's 16 MiB were not kept"
    );
    kill(&before);
}

#[test]
fn release_leaves_no_process() {
    let _one = one_at_a_time();
    let before = hosts();
    for _ in 0..20 {
        let p = open(&bridged("gain"));
        drop(p);
    }
    assert_eq!(hosts(), before);
}
