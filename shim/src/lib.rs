//! A bridged copy in its smallest form: this library under the plugin's
//! file name, beside its manifest. It loads the one shared bridge library
//! (`libbulkhead_bridge.so`) and hands it its own path, so every copy stays
//! a file of its own (the dynamic loader shares one library per inode)
//! while the bridge code exists once.
//!
//! As a VST3 module (`Foo.vst3/Contents/x86_64-linux/Foo.so`) it exports
//! `GetPluginFactory`, `ModuleEntry` and `ModuleExit`, and asks the bridge
//! for the factory of its own path (`bulkhead_vst3_factory`).
//!
//! The bridge library is looked for in `$BULKHEAD_BRIDGE`, beside this
//! file, in `~/.local/share/bulkhead/` (where `bulkhead install` puts it),
//! `~/.local/lib/bulkhead/`, `/usr/local/lib/bulkhead/` and
//! `/usr/lib/bulkhead/`.

use clap_sys::entry::clap_plugin_entry;
use clap_sys::version::CLAP_VERSION;
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Must match `bulkhead_bridge::clap::entry::SHIM_ABI_VERSION`.
const ABI_VERSION: u32 = 1;
const BRIDGE_FILE: &str = "libbulkhead_bridge.so";

type OpenFn = unsafe extern "C" fn(*const c_char) -> *const c_void;
type GetFactoryFn = unsafe extern "C" fn(*const c_void, *const c_char) -> *const c_void;
type CloseFn = unsafe extern "C" fn(*const c_void);
type AbiFn = unsafe extern "C" fn() -> u32;

struct Loaded {
    /// The `dlopen` handle; the library stays loaded for the process's life
    /// (unloading Rust code with live thread-locals is not safe).
    _lib: usize,
    handle: usize,
    get_factory: GetFactoryFn,
    close: CloseFn,
    count: usize,
}

static LOADED: Mutex<Option<Loaded>> = Mutex::new(None);

/// Marks this library as part of a bridged copy, so that a manifest naming
/// a shim copy, or a host asked to load one, refuses it. Must match
/// `bulkhead_common::manifest::BRIDGE_MARKER` (the tests check).
#[allow(non_upper_case_globals)]
#[no_mangle]
#[used]
pub static bulkhead_bridge_marker: [u8; 33] = *b"BULKHEAD_BRIDGE_LIBRARY_MARKER_v1";

fn candidates(own: &Path) -> Vec<PathBuf> {
    let mut c = Vec::new();
    if let Some(p) = std::env::var_os("BULKHEAD_BRIDGE") {
        c.push(PathBuf::from(p));
    }
    if let Some(dir) = own.parent() {
        c.push(dir.join(BRIDGE_FILE));
    }
    if let Some(home) = std::env::var_os("HOME") {
        for dir in [".local/share/bulkhead", ".local/lib/bulkhead"] {
            c.push(Path::new(&home).join(dir).join(BRIDGE_FILE));
        }
    }
    c.push(Path::new("/usr/local/lib/bulkhead").join(BRIDGE_FILE));
    c.push(Path::new("/usr/lib/bulkhead").join(BRIDGE_FILE));
    c
}

/// # Safety
/// `lib` must be a live `dlopen` handle.
unsafe fn symbol<T: Copy>(lib: *mut c_void, name: &CStr) -> Option<T> {
    // SAFETY: per the contract; the name is a C string.
    let p = unsafe { libc::dlsym(lib, name.as_ptr()) };
    // SAFETY: the caller names a symbol of function type `T` (a function
    // pointer, the same size as a data pointer on Linux).
    (!p.is_null()).then(|| unsafe { std::mem::transmute_copy::<*mut c_void, T>(&p) })
}

fn load(own: &Path, path_c: &CStr) -> Result<Loaded, String> {
    let bridge = candidates(own)
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "no {BRIDGE_FILE} found beside {} or in the install locations",
                own.display()
            )
        })?;
    let bridge_c = CString::new(bridge.as_os_str().as_encoded_bytes())
        .map_err(|_| "bridge path contains a NUL byte".to_string())?;
    // SAFETY: dlopen with a C string path; RTLD_LOCAL keeps its symbols to
    // itself.
    let lib = unsafe { libc::dlopen(bridge_c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if lib.is_null() {
        // SAFETY: dlerror returns a C string or null.
        let err = unsafe { libc::dlerror() };
        let msg = if err.is_null() {
            "unknown error".into()
        } else {
            // SAFETY: as above.
            unsafe { CStr::from_ptr(err) }
                .to_string_lossy()
                .into_owned()
        };
        return Err(format!("cannot load {}: {msg}", bridge.display()));
    }
    // SAFETY: `lib` is live; the names and types are the bridge's shim ABI.
    let (abi, open, get_factory, close) = unsafe {
        (
            symbol::<AbiFn>(lib, c"bulkhead_shim_abi_version"),
            symbol::<OpenFn>(lib, c"bulkhead_shim_open"),
            symbol::<GetFactoryFn>(lib, c"bulkhead_shim_get_factory"),
            symbol::<CloseFn>(lib, c"bulkhead_shim_close"),
        )
    };
    let (Some(abi), Some(open), Some(get_factory), Some(close)) = (abi, open, get_factory, close)
    else {
        return Err(format!("{} is not a bulkhead bridge", bridge.display()));
    };
    // SAFETY: the bridge's ABI function takes nothing.
    let found = unsafe { abi() };
    if found != ABI_VERSION {
        return Err(format!(
            "{} speaks shim ABI {found}, this shim speaks {ABI_VERSION}: install matching versions",
            bridge.display()
        ));
    }
    // SAFETY: a C string path; the bridge guards its entry points.
    let handle = unsafe { open(path_c.as_ptr()) };
    if handle.is_null() {
        return Err("the bridge could not open this copy (see its log)".into());
    }
    Ok(Loaded {
        _lib: lib as usize,
        handle: handle as usize,
        get_factory,
        close,
        count: 1,
    })
}

unsafe extern "C" fn init(plugin_path: *const c_char) -> bool {
    std::panic::catch_unwind(|| {
        if plugin_path.is_null() {
            return false;
        }
        let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = loaded.as_mut() {
            l.count += 1;
            return true;
        }
        // SAFETY: the DAW passes a C string naming this file.
        let path_c = unsafe { CStr::from_ptr(plugin_path) };
        let own = PathBuf::from(
            <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(path_c.to_bytes()),
        );
        match load(&own, path_c) {
            Ok(l) => {
                *loaded = Some(l);
                true
            }
            Err(e) => {
                eprintln!("bulkhead shim {}: {e}", own.display());
                false
            }
        }
    })
    .unwrap_or(false)
}

unsafe extern "C" fn deinit() {
    let _ = std::panic::catch_unwind(|| {
        let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = loaded.as_mut() {
            l.count -= 1;
            if l.count == 0 {
                // SAFETY: the handle came from the bridge's open.
                unsafe { (l.close)(l.handle as *const c_void) };
                *loaded = None;
            }
        }
    });
}

unsafe extern "C" fn get_factory(factory_id: *const c_char) -> *const c_void {
    std::panic::catch_unwind(|| {
        let loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
        match loaded.as_ref() {
            // SAFETY: the handle came from the bridge's open; the id is the
            // DAW's C string.
            Some(l) => unsafe { (l.get_factory)(l.handle as *const c_void, factory_id) },
            None => std::ptr::null(),
        }
    })
    .unwrap_or(std::ptr::null())
}

/// This library's own path (the copy the DAW loaded).
fn own_path() -> Option<PathBuf> {
    // SAFETY: a zeroed Dl_info is a valid out-parameter; the address is a
    // function of this library.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let ok = unsafe { libc::dladdr(own_path as *const c_void, &mut info) };
    if ok == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr returned a C string naming the object.
    let path = unsafe { CStr::from_ptr(info.dli_fname) };
    Some(PathBuf::from(
        <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(path.to_bytes()),
    ))
}

type Vst3FactoryFn = unsafe extern "C" fn(*const c_char) -> *mut c_void;

/// The bridge's VST3 factory for this copy. The bridge stays loaded for
/// the process's life (VST3 hosts unload modules at will; Rust code leaves
/// thread-local destructors behind), and so does this copy.
fn vst3_factory() -> Result<*mut c_void, String> {
    let own = own_path().ok_or("cannot find this library's own path")?;
    let own_c = CString::new(own.as_os_str().as_encoded_bytes())
        .map_err(|_| "own path contains a NUL byte".to_string())?;
    // SAFETY: NOLOAD looks the loaded copy up; NODELETE keeps it loaded.
    unsafe {
        libc::dlopen(
            own_c.as_ptr(),
            libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE,
        )
    };
    let bridge = candidates(&own)
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| format!("no {BRIDGE_FILE} found in the install locations"))?;
    let bridge_c = CString::new(bridge.as_os_str().as_encoded_bytes())
        .map_err(|_| "bridge path contains a NUL byte".to_string())?;
    // SAFETY: dlopen with a C string path.
    let lib = unsafe {
        libc::dlopen(
            bridge_c.as_ptr(),
            libc::RTLD_NOW | libc::RTLD_LOCAL | libc::RTLD_NODELETE,
        )
    };
    if lib.is_null() {
        return Err(format!("cannot load {}", bridge.display()));
    }
    // SAFETY: `lib` is live; the names and types are the bridge's shim ABI.
    let (abi, factory) = unsafe {
        (
            symbol::<AbiFn>(lib, c"bulkhead_shim_abi_version"),
            symbol::<Vst3FactoryFn>(lib, c"bulkhead_vst3_factory"),
        )
    };
    let (Some(abi), Some(factory)) = (abi, factory) else {
        return Err(format!(
            "{} is not a bulkhead bridge with VST3",
            bridge.display()
        ));
    };
    // SAFETY: the bridge's ABI function takes nothing.
    let found = unsafe { abi() };
    if found != ABI_VERSION {
        return Err(format!(
            "{} speaks shim ABI {found}, this shim speaks {ABI_VERSION}: install matching versions",
            bridge.display()
        ));
    }
    // SAFETY: a C string path; the bridge guards its entry points.
    Ok(unsafe { factory(own_c.as_ptr()) })
}

#[no_mangle]
pub extern "system" fn GetPluginFactory() -> *mut c_void {
    std::panic::catch_unwind(|| match vst3_factory() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("bulkhead shim: {e}");
            std::ptr::null_mut()
        }
    })
    .unwrap_or(std::ptr::null_mut())
}

#[no_mangle]
pub extern "system" fn ModuleEntry(_handle: *mut c_void) -> bool {
    true
}

#[no_mangle]
pub extern "system" fn ModuleExit() -> bool {
    true
}

#[allow(non_upper_case_globals)]
#[no_mangle]
pub static clap_entry: clap_plugin_entry = clap_plugin_entry {
    clap_version: CLAP_VERSION,
    init: Some(init),
    deinit: Some(deinit),
    get_factory: Some(get_factory),
};
