//! Assembling the sample VST3 plugins into bundles.
//!
//! Cargo builds each sample as `libbulkhead_sample_vst3_<name>.so`; a host wants
//! `Name.vst3/Contents/x86_64-linux/Name.so` with `Contents/Resources/moduleinfo.json`. The
//! bundle lives beside the build products (`target/<profile>/vst3/`), holds a copy of the
//! library (a file of its own: the loader shares one library per inode), and is refreshed
//! whenever the build product changed. moduleinfo is written from the module's own factory.

use std::path::{Path, PathBuf};

use bulkhead_vst3_support::{module::arch_folder, moduleinfo::moduleinfo, Module, Vst3Error};

use crate::paths::find_built;

/// The samples: (cargo name after `vst3-`, bundle name).
pub const VST3_SAMPLES: &[(&str, &str)] = &[
    ("gain", "BulkheadGain"),
    ("instrument", "BulkheadInstrument"),
    ("bigstate", "BulkheadBigState"),
    ("latency", "BulkheadLatency"),
    ("fault", "BulkheadFault"),
];

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Vst3Error + '_ {
    move |source| Vst3Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The folder holding the assembled sample bundles (created on demand).
pub fn vst3_bundle_dir() -> Result<PathBuf, Vst3Error> {
    let (_, bundle) = VST3_SAMPLES[0];
    Ok(vst3_bundle(bundle)?
        .parent()
        .expect("bundles live in a folder")
        .to_path_buf())
}

/// The bundle of sample `name` (either the cargo name, e.g. `gain`, or the bundle name, e.g.
/// `BulkheadGain`), assembled from the built library if it is missing or out of date.
///
/// # Errors
///
/// [`Vst3Error::BinaryMissing`] when the library was not built (run `cargo build --workspace`),
/// or the I/O or loading error that stopped assembly.
pub fn vst3_bundle(name: &str) -> Result<PathBuf, Vst3Error> {
    let (crate_name, bundle_name) = VST3_SAMPLES
        .iter()
        .find(|(c, b)| *c == name || *b == name)
        .copied()
        .ok_or_else(|| Vst3Error::BinaryMissing {
            path: PathBuf::from(name),
        })?;
    let file = crate::paths::sample_plugin_file_name(&format!("vst3-{crate_name}"));
    let built = find_built(&file).map_err(|searched| Vst3Error::BinaryMissing {
        path: searched
            .first()
            .cloned()
            .unwrap_or_else(|| PathBuf::from(&file)),
    })?;
    let profile_dir = built.parent().expect("a built file has a folder");
    let bundle = profile_dir.join("vst3").join(format!("{bundle_name}.vst3"));
    let binary_dir = bundle.join("Contents").join(arch_folder());
    let binary = binary_dir.join(format!("{bundle_name}.so"));
    let info = bundle
        .join("Contents")
        .join("Resources")
        .join("moduleinfo.json");
    let newer = |p: &Path, same_size: bool| {
        let (Ok(a), Ok(b)) = (std::fs::metadata(p), std::fs::metadata(&built)) else {
            return false;
        };
        (!same_size || a.len() == b.len()) && a.modified().ok() >= b.modified().ok()
    };
    // Tests of one binary run on several threads: one assembles at a time,
    // and the others then find the bundle ready.
    static ASSEMBLY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    static ATTEMPT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let _one_at_a_time = ASSEMBLY.lock().unwrap_or_else(|p| p.into_inner());
    // Several test binaries may assemble at once: build in a private folder, then rename.
    if !(newer(&binary, true) && newer(&info, false)) {
        let attempt = ATTEMPT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = profile_dir.join("vst3").join(format!(
            ".{bundle_name}.{}.{attempt}.tmp",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&tmp);
        let tmp_bin_dir = tmp.join("Contents").join(arch_folder());
        std::fs::create_dir_all(&tmp_bin_dir).map_err(io(&tmp_bin_dir))?;
        let tmp_bin = tmp_bin_dir.join(format!("{bundle_name}.so"));
        std::fs::copy(&built, &tmp_bin).map_err(io(&tmp_bin))?;
        let module = Module::load(&tmp_bin)?;
        let doc = moduleinfo(
            bundle_name,
            env!("CARGO_PKG_VERSION"),
            &module.factory_info(),
            &module.classes(),
        );
        drop(module);
        let res = tmp.join("Contents").join("Resources");
        std::fs::create_dir_all(&res).map_err(io(&res))?;
        let text = serde_json::to_string_pretty(&doc).expect("moduleinfo serialises");
        std::fs::write(res.join("moduleinfo.json"), text).map_err(io(&res))?;
        // A stale bundle is moved aside in one step (a process still
        // reading it keeps its files), then the new one takes its place.
        if bundle.exists() {
            let old = profile_dir.join("vst3").join(format!(
                ".{bundle_name}.{}.{attempt}.old",
                std::process::id()
            ));
            if std::fs::rename(&bundle, &old).is_ok() {
                let _ = std::fs::remove_dir_all(&old);
            }
        }
        if std::fs::rename(&tmp, &bundle).is_err() {
            // Another process won the race with the same content.
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    Ok(bundle)
}
