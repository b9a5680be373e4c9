//! `bulkhead sync` writes only what changed: a second sync touches no file;
//! `--dry-run` says what it would do and touches nothing; a real plugin
//! that changed gets exactly its copy (and its cached descriptors)
//! rewritten; a deleted one loses exactly its copy with `--prune`.

use bulkhead_tests::*;
use std::time::{Duration, SystemTime};

#[test]
fn sync_writes_only_what_changed() {
    let (rig, _) = CliRig::synced("cli-changes").unwrap();
    rig.enter();
    let before = rig.snapshot();

    // Nothing changed: nothing is written.
    let out = rig.ok(&["sync"]);
    assert!(
        out.contains("bulkhead sync: 0 added, 0 updated, 6 unchanged, 3 skipped"),
        "{out}"
    );
    assert_eq!(
        snapshot_diff(&before, &rig.snapshot()),
        Vec::<std::path::PathBuf>::new()
    );

    // A real plugin changes (its mtime here; size and content stay).
    let gain = rig.plugins.join("Gain.clap");
    std::fs::File::options()
        .write(true)
        .open(&gain)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    let copy = rig.clap_out().join("Gain.clap");

    let out = rig.ok(&["sync", "--dry-run"]);
    assert!(
        out.contains(&format!("would update {}", copy.display())),
        "{out}"
    );
    assert!(out.contains("0 added, 1 updated, 5 unchanged"), "{out}");
    assert_eq!(
        snapshot_diff(&before, &rig.snapshot()),
        Vec::<std::path::PathBuf>::new()
    );

    let out = rig.ok(&["sync"]);
    assert!(
        out.contains(&format!("updated    {}", copy.display())),
        "{out}"
    );
    assert!(out.contains("0 added, 1 updated, 5 unchanged"), "{out}");
    let cache =
        bulkhead_common::manifest::cache_file_for(&std::fs::canonicalize(&gain).unwrap()).unwrap();
    let after = rig.snapshot();
    let mut expected = vec![copy.clone(), cache];
    expected.sort();
    assert_eq!(snapshot_diff(&before, &after), expected);
    // And the cache holds the new version: the copy lists without a host.
    let m = bulkhead_common::manifest::Manifest::load_for(&copy).unwrap();
    assert!(m.fresh_descriptors().is_some());

    // A real plugin is deleted: plain sync keeps its copy and says so;
    // `--prune --dry-run` changes nothing; `--prune` removes exactly it.
    let echo = rig.clap_out().join("Echo.clap");
    std::fs::remove_file(rig.plugins.join("Echo.clap")).unwrap();
    let out = rig.ok(&["sync"]);
    assert!(out.contains("1 copy whose real plugin is gone"), "{out}");
    assert!(echo.exists());
    let out = rig.ok(&["sync", "--prune", "--dry-run"]);
    assert!(
        out.contains(&format!("would remove {}", echo.display())),
        "{out}"
    );
    assert_eq!(
        snapshot_diff(&after, &rig.snapshot()),
        Vec::<std::path::PathBuf>::new()
    );
    let out = rig.ok(&["sync", "--prune"]);
    assert!(out.contains("1 removed"), "{out}");
    let manifest = bulkhead_common::manifest::path_for(&echo);
    assert_eq!(
        snapshot_diff(&after, &rig.snapshot()),
        vec![echo.clone(), manifest]
    );
}
