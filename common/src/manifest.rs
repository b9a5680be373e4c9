//! The manifest beside a bridged copy: `Foo.clap` (a copy of the bridge
//! library) and `Foo.clap.bulkhead.json` naming the real plugin.
//!
//! ```json
//! { "format": 1, "plugin": "/usr/lib/clap/Foo.clap", "host": null, "cache": null }
//! ```
//! `plugin` may be relative to the manifest's directory. `host` optionally
//! names the `bulkhead-host` binary to run. `policy` sets restart and
//! timeout behaviour ([`Policy`]). `cache` holds the real plugin's
//! descriptors with the file size and modification time they were read
//! from; the bridge refreshes it when the file changed.

use crate::protocol::clap::plugin::PluginDescriptor;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FORMAT_VERSION: u32 = 1;
pub const SUFFIX: &str = ".bulkhead.json";

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("no bulkhead manifest at {0}")]
    Missing(PathBuf),
    #[error("cannot read manifest {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("manifest {0} is malformed: {1}")]
    Malformed(PathBuf, String),
    #[error("manifest {path} has format {found}, this bulkhead reads format {FORMAT_VERSION}")]
    Version { path: PathBuf, found: u32 },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DescriptorCache {
    pub plugin_size: u64,
    pub plugin_mtime_ns: i64,
    pub descriptors: Vec<PluginDescriptor>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    pub plugin: PathBuf,
    #[serde(default)]
    pub host: Option<PathBuf>,
    /// Written back only when set, so that a manifest the bridge rewrote
    /// (to cache descriptors) keeps following the defaults.
    #[serde(default, skip_serializing_if = "Policy::is_default")]
    pub policy: Policy,
    #[serde(default)]
    pub cache: Option<DescriptorCache>,
}

/// How the bridge watches and restarts this plugin's host processes. Every
/// field is optional in the manifest; missing ones take these defaults.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Restart a crashed or hung host (else the plugin stays silent).
    pub restart: bool,
    /// This many crashes within `crash_window_ms` mark the plugin failed.
    pub max_crashes: u32,
    pub crash_window_ms: u64,
    /// Ordinary main-thread calls.
    pub main_timeout_ms: u64,
    /// Creation, activation and state transfer.
    pub slow_timeout_ms: u64,
    /// One audio block; a late block is output as silence. While the DAW
    /// renders offline (`clap_plugin_render`), `slow_timeout_ms` applies.
    pub audio_timeout_ms: u64,
    /// A host whose audio thread makes no progress this long is hung.
    pub hang_timeout_ms: u64,
    /// How often the state is saved in the background (0: never).
    pub state_refresh_ms: u64,
    /// Hand blocks over with a socket round trip instead of the futex
    /// (slower; for comparison in benchmarks).
    pub socket_sync: bool,
    /// The host wakes shortly before each block is due (spinning a few
    /// microseconds) instead of being woken by the bridge.
    pub early_wake: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            restart: true,
            max_crashes: 3,
            crash_window_ms: 60_000,
            main_timeout_ms: 10_000,
            slow_timeout_ms: 60_000,
            audio_timeout_ms: 1_000,
            hang_timeout_ms: 2_000,
            state_refresh_ms: 10_000,
            socket_sync: false,
            early_wake: false,
        }
    }
}

impl Policy {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    pub fn ms(v: u64) -> std::time::Duration {
        std::time::Duration::from_millis(v)
    }
}

/// Where the manifest of the bridged copy at `copy` lives.
pub fn path_for(copy: &Path) -> PathBuf {
    let mut name = copy.file_name().unwrap_or_default().to_os_string();
    name.push(SUFFIX);
    copy.with_file_name(name)
}

/// Size and modification time identifying one version of a plugin file.
pub fn file_stamp(path: &Path) -> std::io::Result<(u64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok((m.size(), m.mtime() * 1_000_000_000 + m.mtime_nsec()))
}

impl Manifest {
    pub fn new(plugin: PathBuf) -> Self {
        Self {
            format: FORMAT_VERSION,
            plugin,
            host: None,
            policy: Policy::default(),
            cache: None,
        }
    }

    /// Reads the manifest of the bridged copy at `copy`.
    ///
    /// # Errors
    /// Missing, unreadable, malformed or of another format version.
    pub fn load_for(copy: &Path) -> Result<Self, ManifestError> {
        let path = path_for(copy);
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ManifestError::Missing(path.clone()),
            _ => ManifestError::Io(path.clone(), e),
        })?;
        let mut m: Manifest = serde_json::from_str(&text)
            .map_err(|e| ManifestError::Malformed(path.clone(), e.to_string()))?;
        if m.format != FORMAT_VERSION {
            return Err(ManifestError::Version {
                path,
                found: m.format,
            });
        }
        if m.plugin.is_relative() {
            if let Some(dir) = path.parent() {
                m.plugin = dir.join(&m.plugin);
            }
        }
        Ok(m)
    }

    /// Writes the manifest beside `copy`, atomically (write, then rename).
    ///
    /// # Errors
    /// I/O failure.
    pub fn store_for(&self, copy: &Path) -> std::io::Result<()> {
        let path = path_for(copy);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)
    }

    /// The cached descriptors, if they were read from the plugin file as it
    /// is now.
    pub fn fresh_descriptors(&self) -> Option<&[PluginDescriptor]> {
        let cache = self.cache.as_ref()?;
        let stamp = file_stamp(&self.plugin).ok()?;
        (stamp == (cache.plugin_size, cache.plugin_mtime_ns)).then_some(&cache.descriptors[..])
    }
}

/// Makes a bridged copy of `real_plugin` at `dest`: a file of its own (the
/// dynamic loader shares one library per inode, so a link would make all
/// copies one) holding the bridge library, plus its manifest.
///
/// # Errors
/// I/O failure.
pub fn make_bridged_copy(
    bridge_library: &Path,
    real_plugin: &Path,
    dest: &Path,
    host: Option<&Path>,
) -> std::io::Result<()> {
    let tmp = dest.with_extension(format!("tmp{}", std::process::id()));
    std::fs::copy(bridge_library, &tmp)?;
    std::fs::rename(&tmp, dest)?;
    let mut m = Manifest::new(std::path::absolute(real_plugin)?);
    m.host = host.map(std::path::absolute).transpose()?;
    m.store_for(dest)
}
