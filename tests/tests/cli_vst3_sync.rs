//! `bulkhead install`, `add`, `sync` on a folder of VST3 bundles (the
//! samples, some nested; the fault sample made to crash while being scanned;
//! a file named `.vst3` that is not a plugin), in a temporary home. Then:
//! the bridged bundles under `~/.vst3/bulkhead` (layout kept) hold a
//! library of their own, a manifest and a moduleinfo.json with the bridged
//! class ids; the crashing one is reported and skipped; a second sync writes
//! nothing; touching one real library updates exactly its bundle;
//! `--prune` removes exactly the bundle whose real plugin is gone;
//! `--dry-run` writes nothing; `status --json`, `list` and `scan` know
//! VST3. Finally, as a DAW: each bridged module lists its classes with no
//! host process (none may start) and without the real plugin entering this
//! process, then renders bit-identically to the real bundle hosted
//! directly.
//!
//! Needs `cargo build --workspace` first.

use bulkhead_tests::vst3::*;
use bulkhead_tests::*;
use bulkhead_vst3_support::bridged::{bridged_cid, bridged_name, bundle_library};
use bulkhead_vst3_support::com::{guid_from_hex, guid_hex};
use bulkhead_vst3_support::Module;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// What the fault sample does in `initialize` while `sync` scans it: a
/// write through a null pointer (SIGSEGV) in the scan's host process.
const FAULT_MODE: &str = "crash";

/// `bulkhead args…` with the fault sample's switch set (the scans' host
/// processes inherit it).
fn run(rig: &CliRig, args: &[&str]) -> Output {
    rig.command(&rig.bin)
        .env(VST3_FAULT_ENV, FAULT_MODE)
        .args(args)
        .output()
        .expect("run bulkhead")
}

fn ok(rig: &CliRig, args: &[&str]) -> String {
    let out = run(rig, args);
    assert!(
        out.status.success(),
        "bulkhead {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A real bundle's classes as its own moduleinfo.json lists them (read
/// from the file: the real plugin must not be loaded here): (cid, name,
/// category).
fn real_classes(bundle: &Path) -> Vec<([u8; 16], String, String)> {
    let path = bundle.join("Contents/Resources/moduleinfo.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    doc["Classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                guid_from_hex(c["CID"].as_str().unwrap()).unwrap(),
                c["Name"].as_str().unwrap().to_string(),
                c["Category"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn mapped(path: &Path) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let canonical = std::fs::canonicalize(path).unwrap();
    maps.lines()
        .any(|l| l.ends_with(&*canonical.to_string_lossy()))
}

fn under(paths: &[PathBuf], root: &Path) -> Vec<PathBuf> {
    paths
        .iter()
        .filter(|p| p.starts_with(root))
        .cloned()
        .collect()
}

#[test]
fn sync_bridges_vst3_bundles_a_daw_lists_without_a_host_and_runs_bit_identical() {
    let rig = CliRig::new("cli-vst3").unwrap();
    let plugins = rig.add_vst3_folder();
    ok(&rig, &["install"]);
    let added = ok(&rig, &["add", plugins.to_str().unwrap()]);
    assert!(added.contains("(0 CLAP, 6 VST3)"), "{added}");
    let out = ok(&rig, &["sync"]);

    // The summary: every sample added (nested ones in the same place under
    // ~/.vst3/bulkhead); the crashing one and the non-plugin skipped.
    assert!(
        out.contains("bulkhead sync: 4 added, 0 updated, 0 unchanged, 2 skipped"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  {}: the plugin crashed while being scanned (signal 11, SIGSEGV)",
            plugins.join(VST3_FAULTING).display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  {}: not loadable: ",
            plugins.join(VST3_NOT_A_PLUGIN).display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "bridged VST3 bundles are in {}",
            rig.vst3_out().display()
        )),
        "{out}"
    );
    assert!(!rig.vst3_out().join(VST3_FAULTING).exists());
    assert!(!rig.vst3_out().join(VST3_NOT_A_PLUGIN).exists());
    assert!(!rig.clap_out().exists(), "no CLAP folder was added");

    // Each bundle: the installed shim (it finds the bridge installed in the
    // standard place) as a file of its own, a manifest naming the real
    // bundle, moduleinfo.json with bridged ids.
    let bridge = std::fs::read(rig.home.join(".local/share/bulkhead/libbulkhead_shim.so")).unwrap();
    let mut inodes = std::collections::BTreeSet::new();
    for (_, rel) in CLI_VST3_SAMPLES {
        let real = plugins.join(rel);
        let bundle = rig.vst3_out().join(rel);
        let lib = bundle_library(&bundle);
        assert_eq!(std::fs::read(&lib).unwrap(), bridge, "{}", lib.display());
        let m = std::fs::metadata(&lib).unwrap();
        assert_eq!(std::os::unix::fs::MetadataExt::nlink(&m), 1);
        assert!(inodes.insert(std::os::unix::fs::MetadataExt::ino(&m)));
        let manifest: Value = serde_json::from_str(
            &std::fs::read_to_string(bulkhead_common::manifest::path_for(&lib)).unwrap(),
        )
        .unwrap();
        assert_eq!(manifest["plugin"].as_str().unwrap(), real.to_str().unwrap());

        let info: Value = serde_json::from_str(
            &std::fs::read_to_string(bundle.join("Contents/Resources/moduleinfo.json")).unwrap(),
        )
        .unwrap();
        let listed: Vec<(String, String)> = info["Classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["CID"].as_str().unwrap().to_string(),
                    c["Name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let real = real_classes(&real);
        let expected: Vec<(String, String)> = real
            .iter()
            .map(|(cid, name, _)| (guid_hex(&bridged_cid(cid)), bridged_name(name)))
            .collect();
        assert_eq!(listed, expected, "{rel}");
        for ((cid, _, _), (listed_cid, _)) in real.iter().zip(&listed) {
            assert_ne!(
                &guid_hex(cid),
                listed_cid,
                "{rel}: a bridged id is the real one"
            );
        }
    }

    // A second sync writes nothing.
    let before = rig.snapshot();
    let again = ok(&rig, &["sync"]);
    assert!(
        again.contains("bulkhead sync: 0 added, 0 updated, 4 unchanged, 2 skipped"),
        "{again}"
    );
    assert_eq!(
        snapshot_diff(&before, &rig.snapshot()),
        Vec::<PathBuf>::new()
    );

    // Touching one real library: a dry run says so and writes nothing;
    // sync then rewrites exactly that bundle's library and cache entry.
    let (_, gain_rel) = CLI_VST3_SAMPLES[0];
    let gain_real_lib = bulkhead_common::manifest::plugin_binary(&plugins.join(gain_rel));
    std::fs::File::options()
        .write(true)
        .open(&gain_real_lib)
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    let gain_bundle = rig.vst3_out().join(gain_rel);
    let dry = ok(&rig, &["sync", "--dry-run"]);
    assert!(
        dry.contains(&format!("would update {}", gain_bundle.display())),
        "{dry}"
    );
    assert!(dry.contains("0 added, 1 updated, 3 unchanged"), "{dry}");
    assert_eq!(
        snapshot_diff(&before, &rig.snapshot()),
        Vec::<PathBuf>::new()
    );
    let updated = ok(&rig, &["sync"]);
    assert!(
        updated.contains("bulkhead sync: 0 added, 1 updated, 3 unchanged, 2 skipped"),
        "{updated}"
    );
    let after = rig.snapshot();
    let diff = snapshot_diff(&before, &after);
    let outside_cache: Vec<PathBuf> = diff
        .iter()
        .filter(|p| !p.starts_with(&rig.cache_home))
        .cloned()
        .collect();
    assert_eq!(
        outside_cache,
        vec![bundle_library(&gain_bundle)],
        "{diff:#?}"
    );
    assert_eq!(
        under(&diff, &rig.cache_home).len(),
        1,
        "one cache entry refreshed: {diff:#?}"
    );

    // Deleting one real bundle: sync keeps its copy and says so; a dry
    // prune writes nothing; prune removes exactly it (and its empty
    // folders).
    let (_, gone_rel) = CLI_VST3_SAMPLES[1];
    std::fs::remove_dir_all(plugins.join(gone_rel)).unwrap();
    let gone = rig.vst3_out().join(gone_rel);
    let kept = ok(&rig, &["sync"]);
    assert!(kept.contains("1 copy whose real plugin is gone"), "{kept}");
    assert!(kept.contains(&format!("  {}", gone.display())), "{kept}");
    assert_eq!(
        snapshot_diff(&after, &rig.snapshot()),
        Vec::<PathBuf>::new()
    );
    let dry = ok(&rig, &["sync", "--prune", "--dry-run"]);
    assert!(
        dry.contains(&format!("would remove {}", gone.display())),
        "{dry}"
    );
    assert_eq!(
        snapshot_diff(&after, &rig.snapshot()),
        Vec::<PathBuf>::new()
    );
    let pruned = ok(&rig, &["sync", "--prune"]);
    assert!(
        pruned.contains("0 added, 0 updated, 3 unchanged, 2 skipped, 1 removed"),
        "{pruned}"
    );
    let diff = snapshot_diff(&after, &rig.snapshot());
    assert!(!diff.is_empty());
    assert!(
        diff.iter().all(|p| p.starts_with(&gone)),
        "only the gone plugin's bundle is removed: {diff:#?}"
    );
    assert!(!gone.exists());
    assert!(!rig.vst3_out().join("nested/deeper").exists());
    assert!(rig.vst3_out().join(CLI_VST3_SAMPLES[3].1).is_dir());
    let remaining: Vec<(&str, &str)> = CLI_VST3_SAMPLES
        .iter()
        .copied()
        .filter(|(_, rel)| *rel != gone_rel)
        .collect();

    // status --json: every bundle, format vst3, current, loading, with the
    // real classes.
    let status: Value = serde_json::from_str(&ok(&rig, &["status", "--json"])).unwrap();
    let status = status.as_array().unwrap();
    assert_eq!(status.len(), remaining.len(), "{status:#?}");
    for (_, rel) in &remaining {
        let bundle = rig.vst3_out().join(rel);
        let s = status
            .iter()
            .find(|s| s["copy"].as_str() == bundle.to_str())
            .unwrap_or_else(|| panic!("status lists no {}", bundle.display()));
        assert_eq!(s["format"], "vst3");
        assert_eq!(s["current"], true, "{s:#}");
        assert_eq!(s["loads"], true, "{s:#}");
        assert_eq!(s["plugin"].as_str(), plugins.join(rel).to_str());
        let real = real_classes(&plugins.join(rel));
        let ids: Vec<&str> = s["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        let processors: Vec<String> = real
            .iter()
            .filter(|(_, _, cat)| cat == "Audio Module Class")
            .map(|(cid, _, _)| guid_hex(cid))
            .collect();
        assert_eq!(ids, processors, "{rel}");
        assert_eq!(
            s["vst3"]["classes"].as_array().unwrap().len(),
            real.len(),
            "{rel}"
        );
    }

    // list counts bundles; scan reads one.
    let list = ok(&rig, &["list"]);
    assert!(
        list.contains(&format!("{}  (0 CLAP, 5 VST3)", plugins.display())),
        "{list}"
    );
    let gain_real = plugins.join(gain_rel);
    let scan: Value =
        serde_json::from_str(&ok(&rig, &["scan", "--json", gain_real.to_str().unwrap()])).unwrap();
    assert_eq!(scan["format"], "vst3");
    let real = real_classes(&gain_real);
    assert_eq!(
        scan["vst3"]["classes"].as_array().unwrap().len(),
        real.len()
    );
    let text = ok(&rig, &["scan", gain_real.to_str().unwrap()]);
    for (cid, name, category) in &real {
        assert!(
            text.contains(&format!("class {} — {name}", guid_hex(cid))),
            "{text}"
        );
        assert!(
            text.contains(&format!("category:       {category}")),
            "{text}"
        );
        assert!(
            text.contains(&format!("bridged as:     {}", guid_hex(&bridged_cid(cid)))),
            "{text}"
        );
    }
    assert!(text.contains("sub-categories: Fx"), "{text}");

    // The DAW's scan: with BULKHEAD_INSIDE_HOST set the bridge refuses to
    // start any host, so a module that needed one to list its classes
    // would fail here; and none is running afterwards.
    rig.enter();
    std::env::set_var("BULKHEAD_INSIDE_HOST", "the test's DAW-like scan");
    let me = std::process::id();
    let mut modules = Vec::new();
    for (_, rel) in &remaining {
        let bundle = rig.vst3_out().join(rel);
        let real = plugins.join(rel);
        let module = Module::load(&bundle)
            .unwrap_or_else(|e| panic!("{} does not load without a host: {e}", bundle.display()));
        let listed: Vec<([u8; 16], String)> = module
            .classes()
            .into_iter()
            .map(|c| (c.cid, c.name))
            .collect();
        let expected: Vec<([u8; 16], String)> = real_classes(&real)
            .iter()
            .map(|(cid, name, _)| (bridged_cid(cid), bridged_name(name)))
            .collect();
        assert_eq!(listed, expected, "{rel}");
        assert!(
            !mapped(&bulkhead_common::manifest::plugin_binary(&real)),
            "the real plugin {} was loaded into the DAW",
            real.display()
        );
        assert_eq!(host_processes_of(me), Vec::<u32>::new());
        modules.push(module);
    }
    std::env::remove_var("BULKHEAD_INSIDE_HOST");

    // Each one runs out of process, bit-identical to the real bundle.
    let spec = Vst3RenderSpec {
        frames: 10_000,
        block_sizes: vec![64, 1_000, 7, 512],
        params: vec![(0, 0, 0.5), (5_000, 0, 0.25)],
        ..Vst3RenderSpec::default()
    };
    for (sample, rel) in &remaining {
        let bundle = rig.vst3_out().join(rel);
        let real = plugins.join(rel);
        let mut bridged = Vst3Plugin::open(&bundle, None)
            .unwrap_or_else(|e| panic!("{sample} through its synced bundle: {e}"));
        assert!(
            !host_processes_of(me).is_empty(),
            "{sample}: creating an instance starts its host"
        );
        let b = render3(&mut bridged, &spec)
            .unwrap_or_else(|e| panic!("{sample} through its synced bundle: {e}"));
        drop(bridged);
        let a = render3(&mut Vst3Plugin::open(&real, None).unwrap(), &spec).unwrap();
        assert!(
            a.bit_equal(&b),
            "{sample}: the synced bundle renders differently"
        );
    }
    drop(modules);
}
