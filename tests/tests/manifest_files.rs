//! The manifest is the user's file: the bridge reads it and never writes
//! it (relative paths, symlinks, read-only files and the user's own keys
//! all survive), refuses an oversized one unread, refuses one naming a
//! bridged copy before any host starts, and keeps the real plugin's
//! descriptors in a cache of its own under `$XDG_CACHE_HOME/bulkhead/`.
//!
//! Every load runs `bulkhead-testhost list` in a process of its own, with
//! its own working directory and cache directory; each manifest names a
//! small wrapper script as its host, which logs every start of the real
//! `bulkhead-host`.

use bulkhead_common::manifest::{bridged_copy_reason, BridgedCopy, MAX_MANIFEST_BYTES};
use bulkhead_tests::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

const GAIN_ID: &str = "bulkhead.org.bulkhead.sample.gain";

/// A host script in `dir` that logs each start to `dir/spawns.log`, then
/// runs the real host (the socket descriptor passes through `exec`).
fn logging_host(dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let log = dir.join("spawns.log");
    let script = dir.join("host.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho start >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            built_artifact("bulkhead-host").unwrap().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

fn spawns(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// A bridged copy at `dir/name` (the bridge library) whose manifest is
/// exactly `manifest`.
fn copy_with_manifest(dir: &Path, name: &str, manifest: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let copy = dir.join(name);
    std::fs::copy(built_artifact("libbulkhead_bridge.so").unwrap(), &copy).unwrap();
    std::fs::write(dir.join(format!("{name}.bulkhead.json")), manifest).unwrap();
    copy
}

/// A plugin file of its own: a copy of the sample gain plugin.
fn real_gain(dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let real = dir.join(name);
    std::fs::copy(sample_plugin_path("gain").unwrap(), &real).unwrap();
    real
}

/// `bulkhead-testhost list copy`, run in `cwd` with `cache` as
/// `$XDG_CACHE_HOME`.
fn list(copy: &Path, cwd: &Path, cache: &Path) -> Output {
    std::process::Command::new(built_artifact("bulkhead-testhost").unwrap())
        .arg("list")
        .arg(copy)
        .current_dir(cwd)
        .env("XDG_CACHE_HOME", cache)
        .env_remove("BULKHEAD_HOST")
        .env_remove("BULKHEAD_BRIDGE")
        .output()
        .unwrap()
}

fn listed(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "a clean refusal: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn cache_files(cache: &Path) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(cache.join("bulkhead")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = dir.map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn relative_paths_load_from_any_cwd_and_the_manifest_stays_as_written() {
    let dir = scratch_dir("manifest-relative");
    let cache = dir.join("cache");
    real_gain(&dir.join("plugins"), "real-gain.clap");
    let (_, log) = logging_host(&dir.join("bin"));
    // The user's own formatting and keys, which must survive byte for byte.
    let text = "{\n  \"format\": 1,\n  \"plugin\": \"../plugins/real-gain.clap\",\n  \
                \"host\": \"../bin/host.sh\",\n  \"comment\": \"my gain, bridged\",\n  \
                \"cache\": null,\n  \"policy\": { \"restart\": true }\n}\n";
    let copies = dir.join("copies");
    copy_with_manifest(&copies, "Gain.clap", text);
    let manifest = copies.join("Gain.clap.bulkhead.json");
    let mtime = std::fs::metadata(&manifest).unwrap().modified().unwrap();

    // First load: from the copies' folder, the copy named relatively
    // (with a slash: dlopen searches the library path for a bare name).
    let out = list(Path::new("./Gain.clap"), &copies, &cache);
    assert!(listed(&out).contains(GAIN_ID), "{out:?}");
    assert_eq!(spawns(&log), 1, "the first load lists through a host");
    let cached = cache_files(&cache);
    assert_eq!(cached.len(), 1, "{cached:?}");
    let name = cached[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("descriptors-") && name.ends_with(".json"),
        "{name}"
    );

    // Second load: elsewhere, the copy named absolutely; from the cache.
    let out = list(&copies.join("Gain.clap"), Path::new("/"), &cache);
    assert!(listed(&out).contains(GAIN_ID), "{out:?}");
    assert_eq!(spawns(&log), 1, "the second load starts no host");

    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), text);
    assert_eq!(
        std::fs::metadata(&manifest).unwrap().modified().unwrap(),
        mtime
    );
    assert_eq!(
        names_in(&copies),
        ["Gain.clap", "Gain.clap.bulkhead.json"],
        "nothing written beside the manifest"
    );

    // A corrupt cache is ignored and written anew.
    std::fs::write(&cached[0], b"{ not json").unwrap();
    let out = list(&copies.join("Gain.clap"), &dir, &cache);
    assert!(listed(&out).contains(GAIN_ID), "{out:?}");
    assert_eq!(spawns(&log), 2, "a corrupt cache is listed again");
    let rewritten = std::fs::read_to_string(&cached[0]).unwrap();
    assert!(
        rewritten.contains("org.bulkhead.sample.gain"),
        "{rewritten}"
    );
    assert_eq!(cache_files(&cache), cached, "no temporary files are left");
    let out = list(&copies.join("Gain.clap"), &dir, &cache);
    assert!(listed(&out).contains(GAIN_ID), "{out:?}");
    assert_eq!(spawns(&log), 2);
}

#[test]
fn a_changed_plugin_of_the_same_size_and_mtime_is_listed_again() {
    let dir = scratch_dir("manifest-changed");
    let cache = dir.join("cache");
    let real = real_gain(&dir, "real-gain.clap");
    let (host, log) = logging_host(&dir);
    let copy = copy_with_manifest(
        &dir,
        "Gain.clap",
        &format!(
            r#"{{ "format": 1, "plugin": "real-gain.clap", "host": "{}" }}"#,
            host.display()
        ),
    );
    let out = list(&copy, &dir, &cache);
    assert!(listed(&out).contains("Bulkhead Sample Gain (bulkhead)"));
    let out = list(&copy, &dir, &cache);
    assert!(listed(&out).contains("Bulkhead Sample Gain (bulkhead)"));
    assert_eq!(spawns(&log), 1);

    // Same size, same modification time, other bytes (the plugin's name).
    let before = std::fs::metadata(&real).unwrap();
    let bytes = std::fs::read(&real).unwrap();
    let (from, to) = (b"Bulkhead Sample Gain", b"Bulkhead Sample Gaim");
    let mut changed = bytes.clone();
    let mut n = 0;
    for i in 0..changed.len() - from.len() {
        if &changed[i..i + from.len()] == from {
            changed[i..i + to.len()].copy_from_slice(to);
            n += 1;
        }
    }
    assert!(n > 0, "the sample's name is in its file");
    std::fs::write(&real, &changed).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&real)
        .unwrap()
        .set_modified(before.modified().unwrap())
        .unwrap();
    let after = std::fs::metadata(&real).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(after.modified().unwrap(), before.modified().unwrap());

    let out = list(&copy, &dir, &cache);
    assert!(
        listed(&out).contains("Bulkhead Sample Gaim (bulkhead)"),
        "{out:?}"
    );
    assert_eq!(spawns(&log), 2, "the changed file is listed again");
    let out = list(&copy, &dir, &cache);
    assert!(listed(&out).contains("Bulkhead Sample Gaim (bulkhead)"));
    assert_eq!(spawns(&log), 2, "and cached again");
}

#[test]
fn a_symlinked_manifest_stays_a_symlink_and_resolves_where_it_is_used() {
    let dir = scratch_dir("manifest-symlink");
    let cache = dir.join("cache");
    let (_, log) = logging_host(&dir.join("bin"));
    let copies = dir.join("copies");
    real_gain(&copies, "real-gain.clap");
    // Kept elsewhere (say, with the user's dotfiles); its relative paths
    // mean the folder it is linked into.
    let store = dir.join("store");
    std::fs::create_dir_all(&store).unwrap();
    let text = r#"{ "format": 1, "plugin": "real-gain.clap", "host": "../bin/host.sh" }"#;
    std::fs::write(store.join("gain.json"), text).unwrap();
    std::fs::copy(
        built_artifact("libbulkhead_bridge.so").unwrap(),
        copies.join("Gain.clap"),
    )
    .unwrap();
    let link = copies.join("Gain.clap.bulkhead.json");
    std::os::unix::fs::symlink("../store/gain.json", &link).unwrap();

    for _ in 0..2 {
        let out = list(&copies.join("Gain.clap"), &dir, &cache);
        assert!(listed(&out).contains(GAIN_ID), "{out:?}");
    }
    assert_eq!(spawns(&log), 1);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("../store/gain.json")
    );
    assert_eq!(
        std::fs::read_to_string(store.join("gain.json")).unwrap(),
        text
    );
    assert_eq!(names_in(&store), ["gain.json"]);
}

#[test]
fn a_read_only_manifest_in_a_read_only_folder_loads() {
    let dir = scratch_dir("manifest-readonly");
    let cache = dir.join("cache");
    let real = real_gain(&dir.join("plugins"), "real-gain.clap");
    let (host, log) = logging_host(&dir.join("bin"));
    let copies = dir.join("copies");
    let text = format!(
        r#"{{ "format": 1, "plugin": "{}", "host": "{}" }}"#,
        real.display(),
        host.display()
    );
    let copy = copy_with_manifest(&copies, "Gain.clap", &text);
    let manifest = copies.join("Gain.clap.bulkhead.json");
    let mode = |p: &Path, m| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    mode(&manifest, 0o444).unwrap();
    mode(&copies, 0o555).unwrap();

    let outs: Vec<Output> = (0..2).map(|_| list(&copy, &dir, &cache)).collect();
    mode(&copies, 0o755).unwrap();
    for out in &outs {
        assert!(listed(out).contains(GAIN_ID), "{out:?}");
    }
    assert_eq!(spawns(&log), 1);
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), text);
    assert_eq!(
        std::fs::metadata(&manifest).unwrap().permissions().mode() & 0o777,
        0o444
    );
}

#[test]
fn an_unwritable_cache_is_no_error() {
    let dir = scratch_dir("manifest-nocache");
    // A file where the cache folder would go: not even root can write it.
    let cache = dir.join("not-a-folder");
    std::fs::write(&cache, b"").unwrap();
    let real = real_gain(&dir, "real-gain.clap");
    let (host, log) = logging_host(&dir);
    let copy = copy_with_manifest(
        &dir,
        "Gain.clap",
        &format!(
            r#"{{ "format": 1, "plugin": "{}", "host": "{}" }}"#,
            real.display(),
            host.display()
        ),
    );
    for _ in 0..2 {
        let out = list(&copy, &dir, &cache);
        assert!(listed(&out).contains(GAIN_ID), "{out:?}");
    }
    assert_eq!(spawns(&log), 2, "without a cache, every load lists");
}

#[test]
fn an_oversized_manifest_is_refused_unread() {
    let dir = scratch_dir("manifest-large");
    let cache = dir.join("cache");
    let real = real_gain(&dir, "real-gain.clap");
    let (host, log) = logging_host(&dir);
    let mut text = format!(
        r#"{{ "format": 1, "plugin": "{}", "host": "{}" }}"#,
        real.display(),
        host.display()
    );
    let size = MAX_MANIFEST_BYTES as usize + 1;
    text.push_str(&" ".repeat(size - text.len()));
    let copy = copy_with_manifest(&dir, "Gain.clap", &text);

    let stderr = refused(&list(&copy, &dir, &cache));
    let manifest = dir.join("Gain.clap.bulkhead.json");
    assert!(
        stderr.contains(&manifest.display().to_string())
            && stderr.contains(&format!("is {size} bytes"))
            && stderr.contains("it was not read"),
        "{stderr}"
    );
    assert_eq!(spawns(&log), 0);

    // At the limit it loads.
    text.truncate(size - 1);
    std::fs::write(&manifest, &text).unwrap();
    let out = list(&copy, &dir, &cache);
    assert!(listed(&out).contains(GAIN_ID), "{out:?}");
}

#[test]
fn a_manifest_naming_a_bridged_copy_is_refused_before_any_host_starts() {
    let dir = scratch_dir("manifest-recursion");
    let cache = dir.join("cache");
    let (host, log) = logging_host(&dir.join("bin"));
    let manifest_naming = |plugin: &str| {
        format!(
            r#"{{ "format": 1, "plugin": "{plugin}", "host": "{}" }}"#,
            host.display()
        )
    };
    let real = real_gain(&dir, "real-gain.clap");
    copy_with_manifest(
        &dir,
        "A.clap",
        &manifest_naming(&real.display().to_string()),
    );
    // A copy with no manifest of its own: found by the bridge's marker.
    std::fs::copy(
        built_artifact("libbulkhead_bridge.so").unwrap(),
        dir.join("bare-bridge.clap"),
    )
    .unwrap();
    std::fs::copy(
        built_artifact("libbulkhead_shim.so").unwrap(),
        dir.join("bare-shim.clap"),
    )
    .unwrap();
    std::os::unix::fs::symlink("A.clap", dir.join("link-to-a.clap")).unwrap();

    let cases = [
        ("B.clap", "A.clap", "is a bridged copy (its manifest"),
        ("C.clap", "C.clap", "is this bridged copy itself"),
        ("D.clap", "./D.clap", "is this bridged copy itself"),
        (
            "E.clap",
            "link-to-a.clap",
            "is a bridged copy (its manifest",
        ),
        (
            "F.clap",
            "bare-bridge.clap",
            "is a bulkhead bridge or shim library",
        ),
        (
            "G.clap",
            "bare-shim.clap",
            "is a bulkhead bridge or shim library",
        ),
        // Two copies naming each other.
        ("H.clap", "I.clap", "is a bridged copy (its manifest"),
        ("I.clap", "H.clap", "is a bridged copy (its manifest"),
    ];
    for (name, plugin, _) in cases {
        copy_with_manifest(&dir, name, &manifest_naming(plugin));
    }
    for (name, plugin, reason) in cases {
        let stderr = refused(&list(&dir.join(name), &dir, &cache));
        assert!(
            stderr.contains(&format!("{name}.bulkhead.json names"))
                && stderr.contains(plugin.trim_start_matches("./"))
                && stderr.contains(reason)
                && stderr.contains("not a bridged copy"),
            "{name}: {stderr}"
        );
    }
    assert_eq!(spawns(&log), 0, "no host started for any of them");
    assert!(cache_files(&cache).is_empty());

    // The copy they name is fine itself.
    let out = list(&dir.join("A.clap"), &dir, &cache);
    assert!(listed(&out).contains(GAIN_ID), "{out:?}");
    assert_eq!(spawns(&log), 1);
}

#[test]
fn the_hosts_check_knows_bridge_and_shim_libraries_from_plugins() {
    for lib in ["libbulkhead_bridge.so", "libbulkhead_shim.so"] {
        assert_eq!(
            bridged_copy_reason(&built_artifact(lib).unwrap()).unwrap(),
            Some(BridgedCopy::BridgeLibrary),
            "{lib}"
        );
    }
    for name in ["gain", "synth"] {
        assert_eq!(
            bridged_copy_reason(&sample_plugin_path(name).unwrap()).unwrap(),
            None,
            "{name}"
        );
    }
    let copy = bridged_sample("gain").unwrap();
    let beside = copy.with_file_name("gain.clap.bulkhead.json");
    assert_eq!(
        bridged_copy_reason(&copy).unwrap(),
        Some(BridgedCopy::HasManifest(beside))
    );
}
