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
    searched
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or(searched)
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
