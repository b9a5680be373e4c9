//! Bridged VST3 bundles: `Foo.vst3/Contents/<arch>-linux/Foo.so` (a copy of
//! the bridge library or of the shim), the manifest beside it naming the
//! real bundle, and `Contents/Resources/moduleinfo.json` listing the
//! bridged classes, so a DAW that scans by moduleinfo loads nothing. The
//! bridge's class ids and names are derived here, one rule for the bridge,
//! the `bulkhead` tool and the tests.

use std::path::{Path, PathBuf};

use bulkhead_common::manifest::Manifest;
use bulkhead_common::protocol::vst3::types::{ClassRecord, FactoryRecord, ModuleClasses};

use crate::com::Guid;
use crate::factory::{ClassInfo, FactoryInfo};

/// XOR-ed into a real class id to make the bridged one: the two never
/// coincide, and each is computed from the other.
const CID_KEY: [u8; 16] = *b"bulkhead-bridged";

/// The class id the DAW sees for a real one (and back).
pub fn bridged_cid(cid: &Guid) -> Guid {
    let mut out = *cid;
    for (b, k) in out.iter_mut().zip(CID_KEY) {
        *b ^= k;
    }
    out
}

/// How a bridged class is named, so a user sees which one is bridged.
pub fn bridged_name(name: &str) -> String {
    format!("{name} (bulkhead)")
}

/// A loaded module's factory and classes, as the protocol carries them
/// (without profiles: those come from scanning).
pub fn module_classes(module: &crate::Module) -> ModuleClasses {
    let f = module.factory_info();
    ModuleClasses {
        factory: FactoryRecord {
            vendor: f.vendor,
            url: f.url,
            email: f.email,
            flags: f.flags,
        },
        classes: module
            .classes()
            .into_iter()
            .map(|c| ClassRecord {
                index: c.index,
                cid: c.cid,
                cardinality: c.cardinality,
                category: c.category,
                name: c.name,
                class_flags: c.class_flags,
                sub_categories: c.sub_categories,
                vendor: c.vendor,
                version: c.version,
                sdk_version: c.sdk_version,
                info_version: c.info_version,
            })
            .collect(),
        profiles: Vec::new(),
    }
}

/// A class as the bridged module presents it.
pub fn bridged_class(c: &ClassRecord) -> ClassInfo {
    ClassInfo {
        index: c.index,
        cid: bridged_cid(&c.cid),
        cardinality: c.cardinality,
        category: c.category.clone(),
        name: bridged_name(&c.name),
        class_flags: c.class_flags,
        sub_categories: c.sub_categories.clone(),
        vendor: c.vendor.clone(),
        version: c.version.clone(),
        sdk_version: c.sdk_version.clone(),
        info_version: c.info_version,
    }
}

pub use bulkhead_common::manifest::bundle_library;

/// `Contents/Resources/moduleinfo.json` of the bundle `bundle`.
pub fn moduleinfo_path(bundle: &Path) -> PathBuf {
    bundle
        .join("Contents")
        .join("Resources")
        .join("moduleinfo.json")
}

/// The moduleinfo.json text of the bridged bundle `dest` for `classes`.
///
/// # Errors
/// The document could not be written as JSON.
pub fn moduleinfo_text(dest: &Path, classes: &ModuleClasses) -> std::io::Result<String> {
    let name = dest
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    serde_json::to_string_pretty(&bridged_moduleinfo(&name, classes)).map_err(std::io::Error::other)
}

/// The moduleinfo document of a bridged module.
pub fn bridged_moduleinfo(name: &str, classes: &ModuleClasses) -> serde_json::Value {
    let f = &classes.factory;
    let factory = FactoryInfo {
        vendor: f.vendor.clone(),
        url: f.url.clone(),
        email: f.email.clone(),
        flags: f.flags,
    };
    let version = classes
        .classes
        .first()
        .map(|c| c.version.clone())
        .unwrap_or_default();
    let infos: Vec<ClassInfo> = classes.classes.iter().map(bridged_class).collect();
    crate::moduleinfo::moduleinfo(name, &version, &factory, &infos)
}

/// Makes the bridged bundle `dest` for the real bundle `real`: the library
/// (a file of its own), its manifest, and moduleinfo.json when the classes
/// are known. Files are replaced atomically.
///
/// # Errors
/// I/O failure.
pub fn make_bridged_bundle(
    library: &Path,
    real: &Path,
    dest: &Path,
    host: Option<&Path>,
    classes: Option<&ModuleClasses>,
) -> std::io::Result<()> {
    let lib = bundle_library(dest);
    let dir = lib.parent().expect("a bundle library has a folder");
    std::fs::create_dir_all(dir)?;
    let tmp = lib.with_extension(format!("tmp{}", std::process::id()));
    std::fs::copy(library, &tmp)?;
    std::fs::rename(&tmp, &lib)?;
    let mut m = Manifest::new(std::path::absolute(real)?);
    m.host = host.map(std::path::absolute).transpose()?;
    m.store_for(&lib)?;
    if let Some(classes) = classes {
        let path = moduleinfo_path(dest);
        std::fs::create_dir_all(path.parent().expect("moduleinfo.json has a folder"))?;
        let text = moduleinfo_text(dest, classes)?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)?;
    }
    Ok(())
}
