//! Bridged bundles of the VST3 samples, made the way the `bulkhead` tool
//! makes them (library, manifest naming the real bundle and the built
//! host, moduleinfo.json with the bridged classes), in a scratch folder.

use std::path::{Path, PathBuf};

use bulkhead_common::protocol::vst3::types::ModuleClasses;
use bulkhead_vst3_support::bridged::make_bridged_bundle;
use bulkhead_vst3_support::{Module, Vst3Error};

use crate::bridged::{built_artifact, scratch_dir};

use super::bundles::vst3_bundle;

/// The classes of a real bundle as the bridge caches them.
pub fn module_classes(bundle: &Path) -> Result<ModuleClasses, Vst3Error> {
    Ok(bulkhead_vst3_support::bridged::module_classes(
        &Module::load(bundle)?,
    ))
}

/// A bridged bundle of the real bundle `real`, named like it, in `dir`.
pub fn bridged_bundle_of(real: &Path, dir: &Path) -> Result<PathBuf, Vst3Error> {
    let io = |e: std::io::Error| Vst3Error::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    let missing = |e: crate::error::TestHostError| Vst3Error::BinaryMissing {
        path: PathBuf::from(e.to_string()),
    };
    let library = built_artifact("libbulkhead_bridge.so").map_err(missing)?;
    let host = built_artifact("bulkhead-host").map_err(missing)?;
    let dest = dir.join(real.file_name().unwrap_or_default());
    let classes = module_classes(real)?;
    make_bridged_bundle(&library, real, &dest, Some(&host), Some(&classes)).map_err(io)?;
    Ok(dest)
}

/// A bridged bundle of sample `name` whose library is the small per-copy
/// shim, with the shared bridge library beside it.
pub fn shim_vst3_sample(name: &str) -> Result<PathBuf, Vst3Error> {
    let real = vst3_bundle(name)?;
    let dir = scratch_dir(&format!("vst3-shim-{name}"));
    let missing = |e: crate::error::TestHostError| Vst3Error::BinaryMissing {
        path: PathBuf::from(e.to_string()),
    };
    let shim = built_artifact("libbulkhead_shim.so").map_err(missing)?;
    let bridge = built_artifact("libbulkhead_bridge.so").map_err(missing)?;
    let host = built_artifact("bulkhead-host").map_err(missing)?;
    let dest = dir.join(real.file_name().unwrap_or_default());
    let classes = module_classes(&real)?;
    let io = |e: std::io::Error| Vst3Error::Io {
        path: dir.clone(),
        source: e,
    };
    make_bridged_bundle(&shim, &real, &dest, Some(&host), Some(&classes)).map_err(io)?;
    let lib = bulkhead_vst3_support::bridged::bundle_library(&dest);
    std::fs::copy(&bridge, lib.with_file_name("libbulkhead_bridge.so")).map_err(io)?;
    Ok(dest)
}

/// A bridged bundle of sample `name` in a scratch folder of its own.
pub fn bridged_vst3_sample(name: &str) -> Result<PathBuf, Vst3Error> {
    let real = vst3_bundle(name)?;
    bridged_bundle_of(&real, &scratch_dir(&format!("vst3-{name}")))
}
