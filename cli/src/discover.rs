//! Finding plugin files in the configured folders: `.clap` files and
//! `.vst3` bundles, with the path each keeps under the copies' folder.

use bulkhead_common::scan::PluginFormat;
use std::path::{Path, PathBuf};

/// One plugin file found.
#[derive(Debug, Clone)]
pub struct Found {
    pub format: PluginFormat,
    /// As found (under `root`, symlinks kept: a manifest naming
    /// `/usr/lib/clap/Foo.clap` follows a package's upgrades).
    pub path: PathBuf,
    /// Relative to `root`; the copy keeps this layout.
    pub rel: PathBuf,
}

/// Every plugin file under `root`, in a stable order, skipping the folders
/// in `exclude` (the copies' own folders, should a user add `~/.clap`).
pub fn discover(root: &Path, exclude: &[PathBuf]) -> Vec<Found> {
    let mut found = Vec::new();
    let mut seen = Vec::new();
    let exclude: Vec<PathBuf> = exclude
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    walk(root, root, &exclude, &mut seen, &mut found);
    found.sort_by(|a, b| a.rel.cmp(&b.rel));
    found
}

fn ends_with(name: &str, ext: &str) -> bool {
    name.len() > ext.len() && name[name.len() - ext.len()..].eq_ignore_ascii_case(ext)
}

fn walk(
    root: &Path,
    dir: &Path,
    exclude: &[PathBuf],
    seen: &mut Vec<PathBuf>,
    found: &mut Vec<Found>,
) {
    // Symlinked folders are followed once each (a link loop ends here).
    let Ok(canonical) = std::fs::canonicalize(dir) else {
        return;
    };
    if seen.contains(&canonical) || exclude.iter().any(|e| canonical.starts_with(e)) {
        return;
    }
    seen.push(canonical);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let mut push = |format| {
            found.push(Found {
                format,
                path: path.clone(),
                rel: rel.clone(),
            })
        };
        if ends_with(&name, ".vst3") {
            // A bundle (a folder) or a single file; never descended into.
            push(PluginFormat::Vst3);
        } else if meta.is_dir() {
            walk(root, &path, exclude, seen, found);
        } else if meta.is_file() && ends_with(&name, ".clap") {
            push(PluginFormat::Clap);
        }
    }
}
