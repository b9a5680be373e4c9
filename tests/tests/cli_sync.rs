//! `bulkhead install`, `add`, `sync` in a temporary home, on a folder with
//! every sample plugin, one that crashes while being scanned, a file that
//! is not a plugin and a VST3 bundle. Then, as a DAW would: every bridged
//! copy under `~/.clap/bulkhead` lists its plugins without a host process
//! (none can start: the bridge refuses to spawn one while the scan runs)
//! and without the real plugin entering this process; then each one runs
//! out of process, bit-identical to the real plugin hosted directly.

use bulkhead_tests::*;
use std::path::Path;

fn spec_for(sample: &str) -> RenderSpec {
    let mut spec = RenderSpec {
        total_frames: 12_000,
        block_sizes: vec![64, 1_000, 7, 512],
        input: InputSignal::Noise {
            seed: 3,
            amplitude: 0.7,
        },
        ..RenderSpec::default()
    };
    match sample {
        "synth" => {
            spec.input = InputSignal::Silence;
            spec.events = vec![
                TimedEvent::new(0, Event::note_on(0, 0, 60, 0, 0.8)),
                TimedEvent::new(5_000, Event::note_off(0, 0, 60, 0, 0.0)),
            ];
        }
        "gain" | "fault" => {
            spec.events = vec![TimedEvent::new(777, Event::param_value(0, 0.3))];
        }
        _ => {}
    }
    spec
}

fn mapped(path: &Path) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let canonical = std::fs::canonicalize(path).unwrap();
    maps.lines()
        .any(|l| l.ends_with(&*canonical.to_string_lossy()))
}

#[test]
fn sync_makes_copies_a_daw_lists_without_a_host_and_runs_bit_identical() {
    let (rig, out) = CliRig::synced("cli-sync").unwrap();

    // The summary: every sample added; the crash, the non-plugin and the
    // empty VST3 bundle skipped with their reasons.
    assert!(
        out.contains("bulkhead sync: 6 added, 0 updated, 0 unchanged, 3 skipped"),
        "{out}"
    );
    let crash = rig.plugins.join(CRASHING);
    assert!(
        out.contains(&format!(
            "  {}: the plugin crashed while being scanned (signal 6, SIGABRT)",
            crash.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  {}: not loadable: ",
            rig.plugins.join(NOT_A_PLUGIN).display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  {}: not loadable: the bundle has no Contents/",
            rig.plugins.join(VST3_BUNDLE).display()
        )),
        "{out}"
    );
    assert!(!rig.clap_out().join(CRASHING).exists());
    assert!(!rig.clap_out().join(NOT_A_PLUGIN).exists());

    // Copies are small shims, files of their own.
    let shim_len = std::fs::metadata(built_artifact("libbulkhead_shim.so").unwrap())
        .unwrap()
        .len();
    let mut inodes = std::collections::BTreeSet::new();
    for (stem, _) in CLI_SAMPLES {
        let copy = rig.clap_out().join(format!("{stem}.clap"));
        let m = std::fs::metadata(&copy).unwrap();
        assert_eq!(m.len(), shim_len, "{} is a shim copy", copy.display());
        assert_eq!(std::os::unix::fs::MetadataExt::nlink(&m), 1);
        assert!(inodes.insert(std::os::unix::fs::MetadataExt::ino(&m)));
    }

    // The DAW's scan. With BULKHEAD_INSIDE_HOST set the bridge refuses to
    // start any host process, so a copy that needed one to list its
    // plugins would fail to load here.
    rig.enter();
    std::env::set_var("BULKHEAD_INSIDE_HOST", "the test's DAW-like scan");
    let me = std::process::id();
    let mut libraries = Vec::new();
    for (stem, sample) in CLI_SAMPLES {
        let copy = rig.clap_out().join(format!("{stem}.clap"));
        let lib = PluginLibrary::load(&copy)
            .unwrap_or_else(|e| panic!("{} does not load without a host: {e}", copy.display()));
        let real = rig.plugins.join(format!("{stem}.clap"));
        let direct_ids: Vec<String> = {
            // Listed through a child test host so the real plugin never
            // enters this process.
            let listing = rig
                .command(&built_artifact("bulkhead-testhost").unwrap())
                .arg("list")
                .arg(&real)
                .output()
                .unwrap();
            String::from_utf8_lossy(&listing.stdout)
                .lines()
                .filter(|l| !l.starts_with(' ') && !l.is_empty())
                .map(str::to_string)
                .collect()
        };
        let bridged_ids: Vec<String> = lib.descriptors().into_iter().map(|d| d.id).collect();
        let expected: Vec<String> = direct_ids
            .iter()
            .map(|id| format!("bulkhead.{id}"))
            .collect();
        assert_eq!(bridged_ids, expected, "{stem}");
        assert!(!expected.is_empty());
        assert!(
            !mapped(&real),
            "the real plugin {} was loaded into the DAW",
            real.display()
        );
        assert_eq!(host_processes_of(me), Vec::<u32>::new());
        libraries.push((lib, sample, real));
    }
    std::env::remove_var("BULKHEAD_INSIDE_HOST");

    // Each one runs out of process, bit-identical to direct hosting.
    for (bridged, sample, real) in &libraries {
        let direct = PluginLibrary::load(real).unwrap();
        let id = direct.descriptors()[0].id.clone();
        let spec = spec_for(sample);
        let a = render(&direct, &id, &spec).unwrap();
        let b = render(bridged, &format!("bulkhead.{id}"), &spec)
            .unwrap_or_else(|e| panic!("{sample} through its synced copy: {e}"));
        assert!(a.peak() > 0.0, "{sample}: the direct render is silent");
        a.compare(&b)
            .unwrap_or_else(|e| panic!("{sample} through its synced copy: {e}"));
    }
}
