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

use crate::sync::{absolute, manifest_names, replace_file, Install};
use bulkhead_common::manifest::{self, Manifest};
use bulkhead_common::protocol::clap::plugin::PluginDescriptor;
use bulkhead_common::protocol::vst3::types::ModuleClasses;
use bulkhead_vst3_support::bridged::{bridged_moduleinfo, bundle_library};
use bulkhead_vst3_support::com::guid_hex;
use bulkhead_vst3_support::factory::AUDIO_MODULE_CLASS;
use std::path::{Path, PathBuf};

/// `Contents/Resources/moduleinfo.json` of the bundle `bundle`.
pub fn moduleinfo_path(bundle: &Path) -> PathBuf {
    bundle
        .join("Contents")
        .join("Resources")
        .join("moduleinfo.json")
}

/// The moduleinfo.json text of the bridged bundle `dest` for `classes`,
/// as [`bulkhead_vst3_support::bridged::make_bridged_bundle`] writes it.
pub fn moduleinfo_text(dest: &Path, classes: &ModuleClasses) -> std::io::Result<String> {
    let name = dest
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    serde_json::to_string_pretty(&bridged_moduleinfo(&name, classes)).map_err(std::io::Error::other)
}

/// Why the bridged bundle `dest` of the real bundle `real` is not current
/// (empty: it is).
pub fn staleness(install: &Install, real: &Path, dest: &Path) -> Vec<String> {
    let lib = bundle_library(dest);
    let mut why = Vec::new();
    match std::fs::read(&lib) {
        Ok(b) if b == install.library_bytes => {}
        Ok(_) => why.push("the bundle's library is an older bridge".to_string()),
        Err(_) => return vec!["no copy yet".into()],
    }
    match Manifest::load_for(&lib) {
        Ok(m) => {
            if !manifest_names(&m, real, &install.host) {
                why.push("the manifest names another plugin or host".into());
            } else {
                match m.fresh_vst3_classes() {
                    None => {
                        why.push("the real plugin changed (or its classes are not cached)".into())
                    }
                    Some(classes) => {
                        let want = moduleinfo_text(dest, &classes).ok();
                        let have = std::fs::read_to_string(moduleinfo_path(dest)).ok();
                        if want.is_none() || want != have {
                            why.push("moduleinfo.json is missing or out of date".into());
                        }
                    }
                }
            }
        }
        Err(e) => why.push(format!("the manifest is unusable: {e}")),
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
    let old = Manifest::load_for(&lib).ok();
    // As for CLAP copies: the library is rewritten when the real plugin
    // changed too, so a DAW keying its cache on the file's mtime rescans.
    let same_bytes = std::fs::read(&lib).is_ok_and(|b| b == install.library_bytes);
    let cache_fresh = old.as_ref().is_some_and(|m| {
        manifest_names(m, real, &install.host) && m.fresh_vst3_classes().is_some()
    });
    if !same_bytes || !cache_fresh {
        replace_file(&install.library, &lib)?;
    }
    let names_right = old
        .as_ref()
        .is_some_and(|m| manifest_names(m, real, &install.host));
    if !names_right {
        let mut m = Manifest::new(absolute(real));
        m.host = Some(absolute(&install.host));
        // Settings the user put in an older manifest are kept.
        if let Some(o) = &old {
            m.policy = o.policy;
            m.group.clone_from(&o.group);
        }
        m.store_for(&lib)?;
    }
    let m = Manifest::load_for(&lib).map_err(std::io::Error::other)?;
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
