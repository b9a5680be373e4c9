//! `clap_entry`: reads the manifest of this bridged copy (never writing it)
//! and the real plugin's descriptors (cached under
//! `$XDG_CACHE_HOME/bulkhead/`, else asked of a host process: the real
//! plugin is never loaded into the DAW's process).

use super::factory::BundleFactory;
use crate::guard::ffi_guard;
use crate::process::{find_host, host_candidates, Hooks, HostProcess};
use crate::BridgeError;
use bulkhead_common::manifest::{Manifest, Policy, BRIDGE_MARKER};
use bulkhead_common::protocol::clap::plugin::{ListPlugins, PluginDescriptor};
use clap_sys::entry::clap_plugin_entry;
use clap_sys::factory::plugin_factory::CLAP_PLUGIN_FACTORY_ID;
use clap_sys::plugin::clap_plugin_descriptor;
use clap_sys::version::CLAP_VERSION;
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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

/// Bundles opened in this process, by bridged-copy path, with how many
/// `init`s hold each. One library serves several copies when small
/// per-copy shims load it (see `shim/`).
type Registered = (PathBuf, usize, &'static BundleFactory);
static BUNDLES: Mutex<Vec<Registered>> = Mutex::new(Vec::new());

fn c_path(p: *const c_char) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    if p.is_null() {
        return None;
    }
    // SAFETY: callers pass a C string (the DAW's plugin path).
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
}

/// Opens (or shares) the bundle of the bridged copy at `path`; its factory.
fn open_bundle(path: &Path) -> Option<&'static BundleFactory> {
    bulkhead_common::logging::init("bridge");
    let mut bundles = BUNDLES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(entry) = bundles.iter_mut().find(|(p, _, _)| p == path) {
        entry.1 += 1;
        return Some(entry.2);
    }
    match load_bundle(path) {
        Ok(b) => {
            tracing::info!(
                copy = %path.display(),
                plugin = %b.manifest.plugin.display(),
                count = b.descriptors.len(),
                "bridged plugin file loaded"
            );
            // Lives until the last `deinit` of this copy; the DAW may hold
            // descriptor pointers until then.
            let factory: &'static BundleFactory = Box::leak(Box::new(BundleFactory::new(b)));
            bundles.push((path.to_path_buf(), 1, factory));
            Some(factory)
        }
        Err(e) => {
            tracing::error!("bulkhead: cannot bridge {}: {e}", path.display());
            eprintln!("bulkhead: cannot bridge {}: {e}", path.display());
            None
        }
    }
}

fn close_bundle(factory: *const BundleFactory) {
    let mut bundles = BUNDLES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(i) = bundles
        .iter()
        .position(|(_, _, f)| std::ptr::eq(*f, factory))
    {
        bundles[i].1 -= 1;
        if bundles[i].1 == 0 {
            let (_, _, f) = bundles.remove(i);
            // SAFETY: leaked in `open_bundle`; the last holder let go, and
            // proxies keep their own `Arc<Bundle>`.
            drop(unsafe { Box::from_raw((f as *const BundleFactory).cast_mut()) });
        }
    }
    let last = bundles.is_empty();
    drop(bundles);
    if last {
        // Nothing of this library is in use any more: its spawner thread
        // ends, so that unloading the library frees it (issue 9, finding 9).
        crate::launcher::end();
    }
}

/// The directory this library was loaded from.
pub fn library_dir() -> Option<PathBuf> {
    std::fs::canonicalize(crate::library_path()?)
        .ok()?
        .parent()
        .map(Path::to_path_buf)
}

fn list_descriptors(host: &Path, plugin: &Path) -> Result<Vec<PluginDescriptor>, BridgeError> {
    let process = HostProcess::spawn(host, Some(plugin), None, false, Hooks::none())?;
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
    // Refuses a manifest naming a bridged copy before any host starts.
    let mut manifest = Manifest::load_for(copy_path)?;
    let host_binary = find_host(&host_candidates(
        manifest.host.as_deref(),
        library_dir().as_deref(),
    ))?;
    // Bounded and checked before the DAW sees any of it, and before they are
    // cached (cached ones again: the cache is a file anyone could write).
    let descriptors = match manifest.fresh_descriptors() {
        Some(d) => super::validate::descriptors(d),
        None => {
            let d = super::validate::descriptors(list_descriptors(&host_binary, &manifest.plugin)?);
            manifest.cache_descriptors(&d);
            d
        }
    };
    // The user's config.toml overrides the manifest's policy and group,
    // matched by the real plugin's path or its plugins' ids (see
    // common::config).
    let ids: Vec<&str> = descriptors.iter().map(|d| d.id.as_str()).collect();
    bulkhead_common::config::Config::load_logged().apply_to(&mut manifest, &ids);
    Ok(Bundle {
        copy_path: copy_path.to_path_buf(),
        manifest,
        host_binary,
        descriptors: descriptors.into_iter().map(OwnedDescriptor::new).collect(),
    })
}

/// The bundle this library serves as a bridged copy itself (not through a
/// shim), as the address of its factory.
static OWN: Mutex<Option<usize>> = Mutex::new(None);

unsafe extern "C" fn init(plugin_path: *const c_char) -> bool {
    ffi_guard(false, || {
        let Some(path) = c_path(plugin_path) else {
            return false;
        };
        match open_bundle(&path) {
            Some(f) => {
                *OWN.lock().unwrap_or_else(|p| p.into_inner()) = Some(f as *const _ as usize);
                true
            }
            None => false,
        }
    })
}

unsafe extern "C" fn deinit() {
    ffi_guard((), || {
        let own = *OWN.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = own {
            close_bundle(f as *const BundleFactory);
        }
    })
}

/// `factory_id`'s factory of the bundle `factory`, if that is the plugin
/// factory.
fn factory_for(factory: *const BundleFactory, factory_id: *const c_char) -> *const c_void {
    if factory.is_null() || factory_id.is_null() {
        return std::ptr::null();
    }
    // SAFETY: the caller passes a C string.
    if unsafe { CStr::from_ptr(factory_id) } == CLAP_PLUGIN_FACTORY_ID {
        factory.cast()
    } else {
        std::ptr::null()
    }
}

unsafe extern "C" fn get_factory(factory_id: *const c_char) -> *const c_void {
    ffi_guard(std::ptr::null(), || {
        let own = *OWN.lock().unwrap_or_else(|p| p.into_inner());
        factory_for(
            own.map_or(std::ptr::null(), |f| f as *const BundleFactory),
            factory_id,
        )
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

/// Marks this library as a bulkhead bridge: a manifest naming a copy of it
/// is refused, and so is a host asked to load one, instead of starting
/// host processes without bound (see `bulkhead_common::manifest`).
#[allow(non_upper_case_globals)]
#[no_mangle]
#[used]
pub static bulkhead_bridge_marker: [u8; BRIDGE_MARKER.len()] = BRIDGE_MARKER;

/// The interface a per-copy shim uses; bumped on any change.
pub const SHIM_ABI_VERSION: u32 = 1;

#[no_mangle]
pub extern "C" fn bulkhead_shim_abi_version() -> u32 {
    SHIM_ABI_VERSION
}

/// Opens the bundle of the bridged copy at `path` (a shim's path); a handle
/// for the calls below, or null with the reason logged.
#[no_mangle]
pub extern "C" fn bulkhead_shim_open(path: *const c_char) -> *const c_void {
    ffi_guard(std::ptr::null(), || {
        c_path(path)
            .and_then(|p| open_bundle(&p))
            .map_or(std::ptr::null(), |f| (f as *const BundleFactory).cast())
    })
}

/// `clap_plugin_entry::get_factory` for a handle from `bulkhead_shim_open`.
#[no_mangle]
pub extern "C" fn bulkhead_shim_get_factory(
    handle: *const c_void,
    factory_id: *const c_char,
) -> *const c_void {
    ffi_guard(std::ptr::null(), || factory_for(handle.cast(), factory_id))
}

/// Releases a handle from `bulkhead_shim_open`.
#[no_mangle]
pub extern "C" fn bulkhead_shim_close(handle: *const c_void) {
    ffi_guard((), || close_bundle(handle.cast()))
}
