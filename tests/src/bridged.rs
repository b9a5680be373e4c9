//! Making bridged copies of plugins for tests, and looking at what a test
//! process holds (host processes, descriptors, mappings) to find leaks.

use crate::error::{Result, TestHostError};
use crate::paths::{find_built, sample_plugin_path};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A built workspace artifact (`libbulkhead_bridge.so`, `bulkhead-host`, …)
/// from the same target directory as the sample plugins.
pub fn built_artifact(file: &str) -> Result<PathBuf> {
    find_built(file).map_err(|searched| TestHostError::SamplePluginMissing {
        name: file.to_owned(),
        searched,
    })
}

/// Scratch directories are named `bulkhead-test-<pid>-…`.
const SCRATCH_PREFIX: &str = "bulkhead-test-";

/// Removes scratch directories of test processes that are gone (each holds
/// copies of the bridge library, so they add up over many runs).
fn remove_stale_scratch() {
    let Ok(dir) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(SCRATCH_PREFIX)) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A fresh directory for one test's files.
pub fn scratch_dir(label: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    static CLEAN: std::sync::Once = std::sync::Once::new();
    CLEAN.call_once(remove_stale_scratch);
    let dir = std::env::temp_dir().join(format!(
        "{SCRATCH_PREFIX}{}-{label}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Makes a bridged copy of `real` named `file_name` in `dir`, whose
/// manifest names `host` (default: the built `bulkhead-host`).
pub fn bridged_copy(
    real: &Path,
    dir: &Path,
    file_name: &str,
    host: Option<&Path>,
) -> Result<PathBuf> {
    copy_of("libbulkhead_bridge.so", real, dir, file_name, host)
}

/// Makes a shim copy: the small per-copy library, with the shared bridge
/// library placed beside it once.
pub fn shim_copy(real: &Path, dir: &Path, file_name: &str) -> Result<PathBuf> {
    let shared = dir.join("libbulkhead_bridge.so");
    if !shared.exists() {
        std::fs::copy(built_artifact("libbulkhead_bridge.so")?, &shared).map_err(|e| {
            TestHostError::LoadFailed {
                path: shared.clone(),
                reason: e.to_string(),
            }
        })?;
    }
    copy_of("libbulkhead_shim.so", real, dir, file_name, None)
}

fn copy_of(
    library: &str,
    real: &Path,
    dir: &Path,
    file_name: &str,
    host: Option<&Path>,
) -> Result<PathBuf> {
    let bridge = built_artifact(library)?;
    let host = match host {
        Some(h) => h.to_path_buf(),
        None => built_artifact("bulkhead-host")?,
    };
    let dest = dir.join(file_name);
    bulkhead_common::manifest::make_bridged_copy(&bridge, real, &dest, Some(&host)).map_err(
        |e| TestHostError::LoadFailed {
            path: dest.clone(),
            reason: format!("cannot make the bridged copy: {e}"),
        },
    )?;
    Ok(dest)
}

/// A bridged copy of sample plugin `name` in its own scratch directory.
pub fn bridged_sample(name: &str) -> Result<PathBuf> {
    let real = sample_plugin_path(name)?;
    bridged_copy(&real, &scratch_dir(name), &format!("{name}.clap"), None)
}

/// A bridged copy of sample plugin `name` whose manifest carries `policy`.
pub fn bridged_sample_with_policy(
    name: &str,
    policy: bulkhead_common::manifest::Policy,
) -> Result<PathBuf> {
    let copy = bridged_sample(name)?;
    let mut m = bulkhead_common::manifest::Manifest::load_for(&copy).map_err(|e| {
        TestHostError::LoadFailed {
            path: copy.clone(),
            reason: e.to_string(),
        }
    })?;
    m.policy = policy;
    m.store_for(&copy).map_err(|e| TestHostError::LoadFailed {
        path: copy.clone(),
        reason: e.to_string(),
    })?;
    Ok(copy)
}

/// Live `bulkhead-host` children of this process.
pub fn host_processes_of(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Fields after the command name: state, ppid, …
            let after = stat.rsplit_once(") ").map(|x| x.1).unwrap_or("");
            let ppid = after
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u32>().ok());
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            ppid == Some(parent) && comm.trim().starts_with("bulkhead-host")
        })
        .collect()
}

/// What this process holds that a bridged plugin could leak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaks {
    pub host_processes: Vec<u32>,
    pub sockets: usize,
    pub audio_mappings: usize,
    pub memfds: usize,
}

impl Leaks {
    pub fn now() -> Self {
        let fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
            .map(|d| {
                d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                    .map(|p| p.display().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        Self {
            host_processes: host_processes_of(std::process::id()),
            sockets: fds.iter().filter(|f| f.starts_with("socket:")).count(),
            audio_mappings: maps
                .lines()
                .filter(|l| l.contains("bulkhead-audio"))
                .count(),
            memfds: fds.iter().filter(|f| f.contains("bulkhead-audio")).count(),
        }
    }
}
