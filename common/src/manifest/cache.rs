//! Cached plugin descriptors, apart from the manifest: one JSON file per
//! real plugin under `$XDG_CACHE_HOME/bulkhead/` (default
//! `~/.cache/bulkhead/`), named after a hash of the plugin's canonical path
//! and holding the size, modification time and content hash of the version
//! the descriptors were read from. Written atomically; a missing, unreadable,
//! corrupt or stale cache is ignored (and rewritten), an unwritable one only
//! logged.

use super::{fnv1a, PluginFile};
use crate::protocol::clap::plugin::PluginDescriptor;
use crate::protocol::vst3::types::ModuleClasses;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Bumped when the cache file's layout changes.
const CACHE_FORMAT: u32 = 1;
/// A cache file larger than this is ignored unread.
const MAX_CACHE_BYTES: u64 = 16 << 20;

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    plugin: PathBuf,
    size: u64,
    mtime_ns: i64,
    hash: u64,
    descriptors: Vec<PluginDescriptor>,
    /// A VST3 module's factory and classes (its descriptors stay empty).
    #[serde(default)]
    vst3: Option<ModuleClasses>,
}

/// `$XDG_CACHE_HOME/bulkhead`, else `$HOME/.cache/bulkhead` (relative
/// values are ignored, as the XDG specification asks); `None` when neither
/// is set.
pub fn cache_dir() -> Option<PathBuf> {
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    std::env::var_os("XDG_CACHE_HOME")
        .and_then(absolute)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(absolute)
                .map(|h| h.join(".cache"))
        })
        .map(|d| d.join("bulkhead"))
}

/// The cache file of the plugin at `canonical` (its canonical path).
pub fn cache_file_for(canonical: &Path) -> Option<PathBuf> {
    let key = fnv1a(canonical.as_os_str().as_bytes());
    Some(cache_dir()?.join(format!("descriptors-{key:016x}.json")))
}

fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = super::open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_CACHE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CACHE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "larger than a descriptor cache may be",
        ));
    }
    Ok(bytes)
}

/// The cached descriptors of `file`, if the cache holds this very version.
pub(super) fn load(file: &PluginFile) -> Option<Vec<PluginDescriptor>> {
    load_file(file).map(|c| c.descriptors)
}

/// The cached VST3 classes of `file`, if the cache holds this very version.
pub(super) fn load_vst3(file: &PluginFile) -> Option<ModuleClasses> {
    load_file(file)?.vst3
}

fn load_file(file: &PluginFile) -> Option<CacheFile> {
    let path = cache_file_for(&file.canonical)?;
    let bytes = match read_bounded(&path) {
        Ok(b) => b,
        Err(e) => {
            tracing::debug!(cache = %path.display(), "no descriptor cache: {e}");
            return None;
        }
    };
    let cached: CacheFile = match serde_json::from_slice(&bytes) {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(cache = %path.display(), "ignoring a corrupt descriptor cache: {e}");
            return None;
        }
    };
    let fresh = cached.format == CACHE_FORMAT
        && cached.plugin == file.canonical
        && cached.size == file.size
        && cached.mtime_ns == file.mtime_ns
        && cached.hash == file.hash;
    if !fresh {
        tracing::debug!(cache = %path.display(), "the descriptor cache is stale");
        return None;
    }
    Some(cached)
}

/// Caches `descriptors` as those of `file`; failure is a warning.
pub(super) fn store(file: &PluginFile, descriptors: &[PluginDescriptor]) {
    store_file(file, descriptors.to_vec(), None)
}

/// Caches a VST3 module's classes as those of `file`.
pub(super) fn store_vst3(file: &PluginFile, classes: &ModuleClasses) {
    store_file(file, Vec::new(), Some(classes.clone()))
}

fn store_file(file: &PluginFile, descriptors: Vec<PluginDescriptor>, vst3: Option<ModuleClasses>) {
    let Some(path) = cache_file_for(&file.canonical) else {
        tracing::warn!("descriptors not cached: neither XDG_CACHE_HOME nor HOME is set");
        return;
    };
    let cached = CacheFile {
        format: CACHE_FORMAT,
        plugin: file.canonical.clone(),
        size: file.size,
        mtime_ns: file.mtime_ns,
        hash: file.hash,
        descriptors,
        vst3,
    };
    let written = serde_json::to_vec_pretty(&cached)
        .map_err(std::io::Error::other)
        .and_then(|bytes| write_atomic(&path, &bytes));
    if let Err(e) = written {
        tracing::warn!(cache = %path.display(), "cannot write the descriptor cache: {e}");
    }
}

/// Writes a temporary file beside `path`, then renames it over `path`, so
/// a reader sees the old file or the new one, never half of one. (No
/// fsync: a cache torn by a power loss is corrupt, hence ignored.)
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(
        ".tmp{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = dir.join(name);
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
