//! `clap_entry`: reads the manifest of this bridged copy and the real
//! plugin's descriptors (cached in the manifest, else asked of a host
//! process: the real plugin is never loaded into the DAW's process).

use super::factory::FACTORY;
use crate::guard::ffi_guard;
use crate::host_process::{find_host, host_candidates, Hooks, HostProcess};
use crate::BridgeError;
use bulkhead_common::manifest::{file_stamp, DescriptorCache, Manifest, Policy};
use bulkhead_common::protocol::clap::plugin::{ListPlugins, PluginDescriptor};
use clap_sys::entry::clap_plugin_entry;
use clap_sys::factory::plugin_factory::CLAP_PLUGIN_FACTORY_ID;
use clap_sys::plugin::clap_plugin_descriptor;
use clap_sys::version::CLAP_VERSION;
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Prefixed to real plugin ids so a DAW that sees the real plugin and the
/// bridged one never confuses them.
pub const ID_PREFIX: &str = "bulkhead.";
const NAME_SUFFIX: &str = " (bulkhead)";

/// A descriptor the DAW can hold pointers into until `deinit`.
pub struct OwnedDescriptor {
    pub real: PluginDescriptor,
    pub raw: clap_plugin_descriptor,
    _strings: Vec<CString>,
    _features: Vec<*const c_char>,
}

impl OwnedDescriptor {
    fn new(real: PluginDescriptor) -> Self {
        let mut strings = Vec::new();
        let mut keep = |s: &str| -> *const c_char {
            let c = CString::new(s.replace('\0', "")).unwrap_or_default();
            let p = c.as_ptr();
            strings.push(c);
            p
        };
        fn opt(s: &Option<String>) -> &str {
            s.as_deref().unwrap_or("")
        }
        let id = keep(&format!("{ID_PREFIX}{}", real.id));
        let name = keep(&format!("{}{NAME_SUFFIX}", real.name));
        let vendor = keep(opt(&real.vendor));
        let url = keep(opt(&real.url));
        let manual_url = keep(opt(&real.manual_url));
        let support_url = keep(opt(&real.support_url));
        let version = keep(opt(&real.version));
        let description = keep(opt(&real.description));
        let mut features: Vec<*const c_char> = real.features.iter().map(|f| keep(f)).collect();
        features.push(std::ptr::null());
        let raw = clap_plugin_descriptor {
            clap_version: CLAP_VERSION,
            id,
            name,
            vendor,
            url,
            manual_url,
            support_url,
            version,
            description,
            features: features.as_ptr(),
        };
        Self {
            real,
            raw,
            _strings: strings,
            _features: features,
        }
    }
}

/// Everything `init` learned about this bridged copy.
pub struct Bundle {
    pub copy_path: PathBuf,
    pub manifest: Manifest,
    pub host_binary: PathBuf,
    pub descriptors: Vec<OwnedDescriptor>,
}

// SAFETY: the raw pointers in the descriptors point into strings the bundle
// owns and never changes after construction.
unsafe impl Send for Bundle {}
// SAFETY: see `Send`; the bundle is immutable once built.
unsafe impl Sync for Bundle {}

static BUNDLE: Mutex<Option<(usize, Arc<Bundle>)>> = Mutex::new(None);

pub fn bundle() -> Option<Arc<Bundle>> {
    BUNDLE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .map(|(_, b)| Arc::clone(b))
}

/// The directory this library was loaded from.
pub fn library_dir() -> Option<PathBuf> {
    // SAFETY: a zeroed Dl_info is a valid out-parameter; the address is a
    // function of this library.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let ok = unsafe { libc::dladdr(library_dir as *const c_void, &mut info) };
    if ok == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr returned a C string naming the object.
    let path = unsafe { CStr::from_ptr(info.dli_fname) };
    let path = PathBuf::from(std::ffi::OsStr::from_encoded_bytes_checked(
        path.to_bytes(),
    )?);
    std::fs::canonicalize(path)
        .ok()?
        .parent()
        .map(Path::to_path_buf)
}

trait FromBytes {
    fn from_encoded_bytes_checked(b: &[u8]) -> Option<&std::ffi::OsStr>;
}

impl FromBytes for std::ffi::OsStr {
    fn from_encoded_bytes_checked(b: &[u8]) -> Option<&std::ffi::OsStr> {
        use std::os::unix::ffi::OsStrExt;
        Some(std::ffi::OsStr::from_bytes(b))
    }
}

fn list_descriptors(host: &Path, plugin: &Path) -> Result<Vec<PluginDescriptor>, BridgeError> {
    let process = HostProcess::spawn(host, plugin, Hooks::none())?;
    let list = process.call(
        0,
        ListPlugins,
        &[],
        Policy::ms(Policy::default().slow_timeout_ms),
        &mut |_, _| {},
    )??;
    Ok(list)
}

fn load_bundle(copy_path: &Path) -> Result<Bundle, BridgeError> {
    let mut manifest = Manifest::load_for(copy_path)?;
    let host_binary = find_host(&host_candidates(
        manifest.host.as_deref(),
        library_dir().as_deref(),
    ))?;
    let descriptors = match manifest.fresh_descriptors() {
        Some(d) => d.to_vec(),
        None => {
            let d = list_descriptors(&host_binary, &manifest.plugin)?;
            if let Ok((size, mtime)) = file_stamp(&manifest.plugin) {
                manifest.cache = Some(DescriptorCache {
                    plugin_size: size,
                    plugin_mtime_ns: mtime,
                    descriptors: d.clone(),
                });
                if let Err(e) = manifest.store_for(copy_path) {
                    tracing::debug!("cannot update the descriptor cache: {e}");
                }
            }
            d
        }
    };
    Ok(Bundle {
        copy_path: copy_path.to_path_buf(),
        manifest,
        host_binary,
        descriptors: descriptors.into_iter().map(OwnedDescriptor::new).collect(),
    })
}

unsafe extern "C" fn init(plugin_path: *const c_char) -> bool {
    ffi_guard(false, || {
        bulkhead_common::logging::init("bridge");
        let mut slot = BUNDLE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((count, _)) = slot.as_mut() {
            *count += 1;
            return true;
        }
        if plugin_path.is_null() {
            tracing::error!("clap_entry.init called without a path");
            return false;
        }
        // SAFETY: the DAW passes a C string naming this plugin file.
        let path = unsafe { CStr::from_ptr(plugin_path) };
        let path = PathBuf::from(
            <std::ffi::OsStr as FromBytes>::from_encoded_bytes_checked(path.to_bytes())
                .unwrap_or_default(),
        );
        match load_bundle(&path) {
            Ok(b) => {
                tracing::info!(
                    copy = %path.display(),
                    plugin = %b.manifest.plugin.display(),
                    count = b.descriptors.len(),
                    "bridged plugin file loaded"
                );
                *slot = Some((1, Arc::new(b)));
                true
            }
            Err(e) => {
                tracing::error!("bulkhead: cannot bridge {}: {e}", path.display());
                eprintln!("bulkhead: cannot bridge {}: {e}", path.display());
                false
            }
        }
    })
}

unsafe extern "C" fn deinit() {
    ffi_guard((), || {
        let mut slot = BUNDLE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((count, _)) = slot.as_mut() {
            *count -= 1;
            if *count == 0 {
                *slot = None;
            }
        }
    })
}

unsafe extern "C" fn get_factory(factory_id: *const c_char) -> *const c_void {
    ffi_guard(std::ptr::null(), || {
        if factory_id.is_null() {
            return std::ptr::null();
        }
        // SAFETY: the DAW passes a C string.
        let id = unsafe { CStr::from_ptr(factory_id) };
        if id == CLAP_PLUGIN_FACTORY_ID {
            (&raw const FACTORY).cast()
        } else {
            std::ptr::null()
        }
    })
}

#[allow(non_upper_case_globals)]
#[no_mangle]
pub static clap_entry: clap_plugin_entry = clap_plugin_entry {
    clap_version: CLAP_VERSION,
    init: Some(init),
    deinit: Some(deinit),
    get_factory: Some(get_factory),
};
