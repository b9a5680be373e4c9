//! VST3 bundles in `sync` and `status`: a bridged bundle
//! `~/.vst3/bulkhead/<rel>/Foo.vst3` holds `Contents/<arch>-linux/Foo.so`
//! (the small shim where it finds the installed bridge, else a copy of the
//! whole bridge library, as for CLAP copies), its manifest beside it naming the real bundle, and
//! `Contents/Resources/moduleinfo.json` listing the bridged classes; the
//! real module's classes are in the bridge's cache, so a DAW listing the
//! bundle's factory starts no host process.
//!
//! The same rule as for CLAP copies: nothing is written when the bundle is
//! current (library bytes, manifest, fresh cache, moduleinfo text).

use crate::sync::{library_staleness, write_library_and_manifest, Install};
use bulkhead_common::manifest;
use bulkhead_common::protocol::clap::plugin::PluginDescriptor;
use bulkhead_common::protocol::vst3::types::ModuleClasses;
use bulkhead_common::scan::PluginFormat;
use bulkhead_vst3_support::bridged::{bundle_library, moduleinfo_path, moduleinfo_text};
use bulkhead_vst3_support::com::guid_hex;
use bulkhead_vst3_support::factory::AUDIO_MODULE_CLASS;
use std::path::{Path, PathBuf};

/// Why the bridged bundle `dest` of the real bundle `real` is not current
/// (empty: it is).
pub fn staleness(install: &Install, real: &Path, dest: &Path) -> Vec<String> {
    let (mut why, m) = library_staleness(install, real, &bundle_library(dest), PluginFormat::Vst3);
    if let (true, Some(classes)) = (why.is_empty(), m.and_then(|m| m.fresh_vst3_classes())) {
        let want = moduleinfo_text(dest, &classes).ok();
        let have = std::fs::read_to_string(moduleinfo_path(dest)).ok();
        if want.is_none() || want != have {
            why.push("moduleinfo.json is missing or out of date".into());
        }
    }
    why
}

/// Writes `text` to `path` through a temporary file and a rename, unless
/// the file already holds it.
fn write_if_different(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let r = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

/// Makes or refreshes the bridged bundle `dest` of `real` after a
/// successful scan: only the files that differ are rewritten.
pub fn write_bundle(
    install: &Install,
    real: &Path,
    dest: &Path,
    classes: &ModuleClasses,
) -> std::io::Result<()> {
    let lib = bundle_library(dest);
    let m = write_library_and_manifest(install, real, &lib, PluginFormat::Vst3)?;
    m.cache_vst3_classes(classes);
    if m.fresh_vst3_classes().is_none() {
        return Err(std::io::Error::other(
            "the class cache could not be written (see the log); a DAW would start a host to list this bundle",
        ));
    }
    write_if_different(&moduleinfo_path(dest), &moduleinfo_text(dest, classes)?)
}

fn is_bundle_name(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().ends_with(".vst3"))
}

/// Every bridged bundle under `out` (a `.vst3` folder whose library has a
/// manifest beside it); bundles are not descended into.
pub fn bundles_under(out: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, acc: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if !m.is_dir() {
                continue;
            }
            if is_bundle_name(&p) {
                if std::fs::symlink_metadata(manifest::path_for(&bundle_library(&p))).is_ok() {
                    acc.push(p);
                }
            } else {
                walk(&p, acc);
            }
        }
    }
    let mut acc = Vec::new();
    walk(out, &mut acc);
    acc
}

/// The descriptors the host's scan gives a VST3 module's processor
/// classes, from its cached classes (for `status` without loading).
pub fn descriptors(classes: &ModuleClasses) -> Vec<PluginDescriptor> {
    classes
        .classes
        .iter()
        .filter(|c| c.category == AUDIO_MODULE_CLASS)
        .map(|c| PluginDescriptor {
            id: guid_hex(&c.cid),
            name: c.name.clone(),
            vendor: Some(c.vendor.clone()).filter(|v| !v.is_empty()),
            url: None,
            manual_url: None,
            support_url: None,
            version: Some(c.version.clone()).filter(|v| !v.is_empty()),
            description: None,
            features: c
                .sub_categories
                .split('|')
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
        })
        .collect()
}
