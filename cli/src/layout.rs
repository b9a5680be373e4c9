//! Where things live: the install prefix, the folders of bridged copies,
//! the standard plugin folders.

use crate::error::{CliError, Result};
use bulkhead_common::config::Config;
use std::path::{Path, PathBuf};

pub const BRIDGE_FILE: &str = "libbulkhead_bridge.so";
pub const SHIM_FILE: &str = "libbulkhead_shim.so";
pub const HOST_FILE: &str = "bulkhead-host";
/// What `install` puts in the prefix.
pub const INSTALLED: [&str; 3] = [BRIDGE_FILE, SHIM_FILE, HOST_FILE];

pub fn home() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .ok_or(CliError::NoHome)
}

/// `~/.local/share/bulkhead`: bridged copies find the bridge and host
/// there (the shim and the bridge search it), and it survives
/// `cargo clean` and rebuilds.
pub fn default_prefix() -> Result<PathBuf> {
    Ok(home()?.join(".local/share/bulkhead"))
}

/// The prefix in use: the config's `prefix`, else the default.
pub fn prefix(config: &Config) -> Result<PathBuf> {
    match &config.prefix {
        Some(p) => Ok(p.clone()),
        None => default_prefix(),
    }
}

/// Where CLAP copies go: `~/.clap/bulkhead`.
pub fn clap_out() -> Result<PathBuf> {
    Ok(home()?.join(".clap/bulkhead"))
}

/// Where VST3 copies will go: `~/.vst3/bulkhead`.
pub fn vst3_out() -> Result<PathBuf> {
    Ok(home()?.join(".vst3/bulkhead"))
}

/// The folders the shim looks in for the bridge library (besides
/// `$BULKHEAD_BRIDGE` and its own folder); keep in step with
/// `shim/src/lib.rs`.
pub fn shim_search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(home) = home() {
        dirs.push(home.join(".local/share/bulkhead"));
        dirs.push(home.join(".local/lib/bulkhead"));
    }
    dirs.push("/usr/local/lib/bulkhead".into());
    dirs.push("/usr/lib/bulkhead".into());
    dirs
}

/// Whether a shim copy finds the bridge installed in `prefix`.
pub fn shim_finds(prefix: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let prefix = canon(prefix);
    shim_search_dirs().iter().any(|d| canon(d) == prefix)
}

/// The standard plugin folders, for `list` to suggest.
pub fn standard_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let home = home().ok();
    if let Some(h) = &home {
        dirs.push(h.join(".clap"));
    }
    dirs.push("/usr/lib/clap".into());
    dirs.push("/usr/local/lib/clap".into());
    if let Some(p) = std::env::var_os("CLAP_PATH") {
        dirs.extend(std::env::split_paths(&p).filter(|p| p.is_absolute()));
    }
    if let Some(h) = &home {
        dirs.push(h.join(".vst3"));
    }
    dirs.push("/usr/lib/vst3".into());
    dirs.push("/usr/local/lib/vst3".into());
    dirs
}

/// The `bulkhead-host` to scan with: the installed one, else the one
/// beside this program (a build tree).
pub fn scan_host(config: &Config) -> Result<PathBuf> {
    let prefix = prefix(config)?;
    let installed = prefix.join(HOST_FILE);
    if installed.is_file() {
        return Ok(installed);
    }
    if let Some(dir) = exe_dir() {
        let beside = dir.join(HOST_FILE);
        if beside.is_file() {
            return Ok(beside);
        }
    }
    Err(CliError::NotInstalled {
        prefix,
        file: HOST_FILE,
    })
}

pub fn exe_dir() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|e| std::fs::canonicalize(e).ok())
        .and_then(|e| e.parent().map(Path::to_path_buf))
}
