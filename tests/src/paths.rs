//! Locating the workspace's sample plugins (built by cargo under the target directory).

use crate::error::{Result, TestHostError};
use std::path::{Path, PathBuf};

/// File name of sample plugin `name` as produced by cargo for the package
/// `bulkhead-sample-<name>` (e.g. `libbulkhead_sample_gain.so` on Linux).
pub fn sample_plugin_file_name(name: &str) -> String {
    let stem = format!("bulkhead_sample_{}", name.replace('-', "_"));
    format!(
        "{}{stem}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// Directories searched for built plugins, in order:
///
/// 1. `$BULKHEAD_PLUGIN_DIR` (if set);
/// 2. the profile directory of the running executable (`target/<profile>` for test binaries in
///    `target/<profile>/deps` and binaries in `target/<profile>`), which follows `CARGO_TARGET_DIR`
///    automatically;
/// 3. `$CARGO_TARGET_DIR/<profile>` (runtime, then build-time value);
/// 4. `<workspace>/target/<profile>`.
///
/// The current build profile (`debug` with debug assertions, else `release`) is tried first.
pub fn plugin_search_dirs() -> Vec<PathBuf> {
    let profiles: [&str; 2] = if cfg!(debug_assertions) {
        ["debug", "release"]
    } else {
        ["release", "debug"]
    };
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("BULKHEAD_PLUGIN_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(parent) = exe.parent() {
            if parent.file_name().is_some_and(|n| n == "deps") {
                if let Some(profile_dir) = parent.parent() {
                    dirs.push(profile_dir.to_path_buf());
                }
            }
            dirs.push(parent.to_path_buf());
        }
    }
    let mut target_dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        target_dirs.push(PathBuf::from(dir));
    }
    if let Some(dir) = option_env!("CARGO_TARGET_DIR") {
        target_dirs.push(PathBuf::from(dir));
    }
    target_dirs.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target"),
    );
    for target in target_dirs {
        for profile in profiles {
            dirs.push(target.join(profile));
        }
    }
    let mut unique: Vec<PathBuf> = Vec::new();
    for d in dirs {
        if !unique.contains(&d) {
            unique.push(d);
        }
    }
    unique
}

/// The first build directory holding `file`, or every path tried.
pub(crate) fn find_built(file: &str) -> std::result::Result<PathBuf, Vec<PathBuf>> {
    let searched: Vec<PathBuf> = plugin_search_dirs()
        .into_iter()
        .map(|d| d.join(file))
        .collect();
    let found = searched
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or(searched)?;
    refuse_stale(&found);
    Ok(found)
}

/// The source folders a build product the tests load is made from (the
/// test binaries themselves are rebuilt by `cargo test`).
fn sources_of(file: &str) -> Vec<String> {
    let sample = file
        .strip_prefix("libbulkhead_sample_")
        .and_then(|s| s.strip_suffix(".so"));
    match (file, sample) {
        (_, Some(name)) if name.starts_with("vst3_") => vec![
            format!("tests/plugins/{}", name.replace('_', "-")),
            "tests/plugins/vst3-common".into(),
            "vst3-support".into(),
        ],
        (_, Some(name)) => vec![
            format!("tests/plugins/{}", name.replace('_', "-")),
            "tests/plugins/support".into(),
        ],
        ("libbulkhead_bridge.so", _) => {
            vec!["common".into(), "vst3-support".into(), "bridge".into()]
        }
        ("libbulkhead_shim.so", _) => vec!["shim".into()],
        ("bulkhead-host", _) => vec!["common".into(), "vst3-support".into(), "host".into()],
        ("bulkhead", _) => vec!["common".into(), "cli".into()],
        _ => Vec::new(),
    }
}

/// The newest modification time of the Rust sources under `dirs`.
fn newest_source(dirs: &[String]) -> Option<std::time::SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    walk(&path, newest);
                }
            } else if path.extension().is_some_and(|x| x == "rs") {
                if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
                    *newest = Some(newest.map_or(m, |n| n.max(m)));
                }
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut newest = None;
    // A crate's library or binary is made from its `src/` and `build.rs`
    // (its own tests and benches do not go into it).
    for d in dirs {
        walk(&root.join(d).join("src"), &mut newest);
        if let Ok(m) = std::fs::metadata(root.join(d).join("build.rs")).and_then(|m| m.modified()) {
            newest = Some(newest.map_or(m, |n: std::time::SystemTime| n.max(m)));
        }
    }
    newest
}

/// A test that loads a plugin or binary built before its sources changed
/// would test old code: stop at once, saying what to run.
fn refuse_stale(artifact: &Path) {
    let file = artifact.file_name().and_then(|f| f.to_str()).unwrap_or("");
    let Some(newest) = newest_source(&sources_of(file)) else {
        return;
    };
    let built = std::fs::metadata(artifact).and_then(|m| m.modified());
    if built.is_ok_and(|b| b < newest) {
        panic!(
            "{} is older than the workspace sources: run `cargo build --workspace` before `cargo test --workspace`",
            artifact.display()
        );
    }
}

/// Path of the built sample plugin `name` (e.g. `"gain"` for package `bulkhead-sample-gain`).
///
/// Does not build anything: returns [`TestHostError::SamplePluginMissing`] (listing the paths
/// tried) when the library has not been built.
pub fn sample_plugin_path(name: &str) -> Result<PathBuf> {
    find_built(&sample_plugin_file_name(name)).map_err(|searched| {
        TestHostError::SamplePluginMissing {
            name: name.to_owned(),
            searched,
        }
    })
}
