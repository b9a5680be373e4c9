//! Small per-copy shims: two shim copies of different plugins in one host
//! process share one bridge library yet each lists and runs only its own
//! plugins, bit-exact with direct hosting; a shim is much smaller than the
//! bridge.

use bulkhead_tests::*;

#[test]
fn shim_copies_share_the_bridge_and_stay_independent() {
    let dir = scratch_dir("shims");
    let gain = shim_copy(&sample_plugin_path("gain").unwrap(), &dir, "Gain.clap").unwrap();
    let synth = shim_copy(&sample_plugin_path("synth").unwrap(), &dir, "Synth.clap").unwrap();
    let size = |p: &std::path::Path| std::fs::metadata(p).unwrap().len();
    let bridge_size = size(&dir.join("libbulkhead_bridge.so"));
    assert!(
        size(&gain) * 3 < bridge_size,
        "shim {} vs bridge {bridge_size}",
        size(&gain)
    );

    let gain_lib = PluginLibrary::load(&gain).unwrap();
    let synth_lib = PluginLibrary::load(&synth).unwrap();
    let ids = |l: &PluginLibrary| {
        l.descriptors()
            .into_iter()
            .map(|d| d.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&gain_lib), vec!["bulkhead.org.bulkhead.sample.gain"]);
    assert_eq!(ids(&synth_lib), vec!["bulkhead.org.bulkhead.sample.synth"]);

    let spec = RenderSpec {
        total_frames: 6_000,
        block_sizes: vec![64, 1, 333],
        events: vec![
            TimedEvent::new(10, Event::note_on(0, 0, 60, 1, 0.8)),
            TimedEvent::new(2_000, Event::param_value(0, 0.3)),
        ],
        ..RenderSpec::default()
    };
    for (name, lib) in [("gain", &gain_lib), ("synth", &synth_lib)] {
        let id = format!("org.bulkhead.sample.{name}");
        let direct = PluginLibrary::load(sample_plugin_path(name).unwrap()).unwrap();
        let a = render(&direct, &id, &spec).unwrap();
        let b = render(lib, &format!("bulkhead.{id}"), &spec).unwrap();
        assert!(a.peak() > 0.0);
        a.compare(&b).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn a_shim_without_its_bridge_is_a_clear_error() {
    let dir = scratch_dir("lonely-shim");
    let copy = shim_copy(&sample_plugin_path("gain").unwrap(), &dir, "Gain.clap").unwrap();
    std::fs::remove_file(dir.join("libbulkhead_bridge.so")).unwrap();
    let out = std::process::Command::new(built_artifact("bulkhead-testhost").unwrap())
        .arg("list")
        .arg(&copy)
        .env_remove("BULKHEAD_BRIDGE")
        .env("HOME", &dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("libbulkhead_bridge.so"), "{stderr}");
}
