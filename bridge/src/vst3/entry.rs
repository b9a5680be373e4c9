//! The module's entry points (`GetPluginFactory`, `ModuleEntry`,
//! `ModuleExit`) and its factory. A bridged VST3 plugin is a bundle
//! `Foo.vst3/Contents/x86_64-linux/Foo.so` (this library, or the per-copy
//! shim, which passes its own path to [`bulkhead_vst3_factory`]) with the
//! manifest beside the library naming the real bundle. The real module is
//! never loaded here: its classes come from the descriptor cache or from a
//! throwaway host process.

use super::object::ObjectBox;
use super::proxy::{lock, Module, Object, Remote};
use crate::guard::ffi_guard;
use crate::process::{find_host, host_candidates, Hooks, HostProcess};
use crate::BridgeError;
use bulkhead_common::manifest::{Manifest, Policy};
use bulkhead_common::protocol::vst3::types::{ClassRecord, ModuleClasses};
use bulkhead_common::protocol::vst3::ListClasses;
use bulkhead_vst3_support::com::{guid_from_ptr, guid_hex, tuid_from_guid, write_out};
use bulkhead_vst3_support::strings::{copy_cstring, copy_wstring};
use std::ffi::{c_char, c_void, CStr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use vst3::Steinberg::*;
use vst3::{Class, ComWrapper};

pub use bulkhead_vst3_support::bridged::{bridged_cid, bridged_name};

/// Proxy objects alive, so the module's last exit can end its threads.
static OBJECTS: AtomicUsize = AtomicUsize::new(0);
/// The factories handed out, by the bridged copy's library path.
static FACTORIES: Mutex<Vec<(PathBuf, ComWrapper<Factory>)>> = Mutex::new(Vec::new());

pub fn object_gone() {
    if OBJECTS.fetch_sub(1, Ordering::AcqRel) == 1 && lock(&FACTORIES).is_empty() {
        crate::launcher::end();
    }
}

fn list_classes(host: &Path, plugin: &Path) -> Result<ModuleClasses, BridgeError> {
    let process = HostProcess::spawn(host, Some(plugin), None, false, Hooks::none())?;
    Ok(process.call(
        0,
        ListClasses {},
        &[],
        Policy::ms(Policy::default().slow_timeout_ms),
        &mut |_, _| {},
    )??)
}

fn load_module(copy_path: &Path) -> Result<Module, BridgeError> {
    let mut manifest = Manifest::load_for(copy_path)?;
    let host_binary = find_host(&host_candidates(
        manifest.host.as_deref(),
        crate::clap::entry::library_dir().as_deref(),
    ))?;
    let classes = match manifest.fresh_vst3_classes() {
        Some(c) => c,
        None => {
            let c = list_classes(&host_binary, &manifest.plugin)?;
            manifest.cache_vst3_classes(&c);
            c
        }
    };
    let ids: Vec<String> = classes.classes.iter().map(|c| guid_hex(&c.cid)).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    bulkhead_common::config::Config::load_logged().apply_to(&mut manifest, &ids);
    Ok(Module {
        manifest,
        host_binary,
        classes,
        unpaired: Mutex::new(Vec::new()),
    })
}

/// Keeps the library at `path` loaded for the life of the process: a VST3
/// host unloads modules at will (`ModuleExit`, then `dlclose`), and Rust
/// code leaves thread-local destructors behind on the DAW's threads that
/// must still find their code when those threads end.
fn pin(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return;
    };
    // SAFETY: NOLOAD only looks the loaded library up (raising its count,
    // which is never dropped: that is the point); NODELETE keeps it.
    let h = unsafe {
        libc::dlopen(
            c.as_ptr(),
            libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE,
        )
    };
    if h.is_null() {
        tracing::warn!(library = %path.display(), "cannot pin the bridge library in memory");
    }
}

/// The factory of the bridged copy at `path` (add-ref'ed), made once.
fn factory_for(path: &Path) -> *mut IPluginFactory {
    bulkhead_common::logging::init("bridge");
    let mut factories = lock(&FACTORIES);
    let factory = match factories.iter().find(|(p, _)| p == path) {
        Some((_, f)) => f.clone(),
        None => match load_module(path) {
            Ok(m) => {
                tracing::info!(
                    copy = %path.display(),
                    plugin = %m.manifest.plugin.display(),
                    classes = m.classes.classes.len(),
                    "bridged VST3 module loaded"
                );
                let f = ComWrapper::new(Factory {
                    module: Arc::new(m),
                });
                factories.push((path.to_path_buf(), f.clone()));
                f
            }
            Err(e) => {
                tracing::error!("bulkhead: cannot bridge {}: {e}", path.display());
                eprintln!("bulkhead: cannot bridge {}: {e}", path.display());
                return std::ptr::null_mut();
            }
        },
    };
    factory
        .to_com_ptr::<IPluginFactory>()
        .map_or(std::ptr::null_mut(), |p| p.into_raw())
}

#[no_mangle]
pub extern "system" fn GetPluginFactory() -> *mut IPluginFactory {
    ffi_guard(std::ptr::null_mut(), || match crate::library_path() {
        Some(p) => {
            pin(&p);
            factory_for(&p)
        }
        None => std::ptr::null_mut(),
    })
}

/// `GetPluginFactory` for a shim copy at `path`.
///
/// # Safety
/// `path` must be null or a C string.
#[no_mangle]
pub unsafe extern "C" fn bulkhead_vst3_factory(path: *const c_char) -> *mut IPluginFactory {
    ffi_guard(std::ptr::null_mut(), || {
        if path.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: the shim passes a C string.
        let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
        factory_for(Path::new(
            <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes),
        ))
    })
}

/// The audit counts of the bridge library and of the host process of the
/// proxy behind `object` (any interface pointer of a bridged object): the
/// VST3 counterpart of CLAP's `bulkhead.audio-audit/1` extension. False
/// when `object` is not ours or has no active audio region.
///
/// # Safety
/// `object` must be null or a live interface pointer; `out` null or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn bulkhead_vst3_audio_audit(
    object: *mut c_void,
    out: *mut bulkhead_common::alloc_audit::AudioAuditCounts,
) -> bool {
    ffi_guard(false, || {
        // SAFETY: the caller passes a live interface pointer.
        let Some(o) = (unsafe { ObjectBox::ours(object) }) else {
            return false;
        };
        let (counts, active) = o.data.remote.link.audit_counts();
        // SAFETY: the caller's out-parameter.
        let written = unsafe { write_out(out, counts) };
        written && active
    })
}

#[no_mangle]
pub extern "system" fn ModuleEntry(_handle: *mut c_void) -> bool {
    true
}

#[no_mangle]
pub extern "system" fn ModuleExit() -> bool {
    ffi_guard(true, || {
        lock(&FACTORIES).clear();
        if OBJECTS.load(Ordering::Acquire) == 0 {
            crate::launcher::end();
        }
        true
    })
}

/// The factory the DAW sees: the real module's classes under bridged ids.
pub struct Factory {
    module: Arc<Module>,
}

impl Class for Factory {
    type Interfaces = (IPluginFactory3,);
}

const AUDIO_MODULE_CLASS: &str = "Audio Module Class";

impl Factory {
    /// For a controller class: the process of the newest component still
    /// waiting for a controller of this class.
    fn component_group_for(
        &self,
        class: &ClassRecord,
    ) -> Option<Arc<crate::supervision::HostGroup>> {
        if class.category == AUDIO_MODULE_CLASS {
            return None;
        }
        let mut unpaired = lock(&self.module.unpaired);
        unpaired.retain(|w| w.strong_count() > 0);
        let at = unpaired.iter().rposition(|w| {
            w.upgrade()
                .is_some_and(|c| c.controller_cid() == Some(class.cid))
        })?;
        let component = unpaired.remove(at).upgrade()?;
        Some(Arc::clone(&component.link.group))
    }

    fn class(&self, index: int32) -> Option<&ClassRecord> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.module.classes.classes.get(i))
    }
}

impl IPluginFactoryTrait for Factory {
    unsafe fn getFactoryInfo(&self, info: *mut PFactoryInfo) -> tresult {
        ffi_guard(kInvalidArgument, || {
            let f = &self.module.classes.factory;
            // SAFETY: plain data; all-zero is a value.
            let mut out: PFactoryInfo = unsafe { std::mem::zeroed() };
            copy_cstring(&f.vendor, &mut out.vendor);
            copy_cstring(&f.url, &mut out.url);
            copy_cstring(&f.email, &mut out.email);
            out.flags = f.flags;
            // SAFETY: the DAW passes a writable info.
            if unsafe { write_out(info, out) } {
                kResultOk
            } else {
                kInvalidArgument
            }
        })
    }

    unsafe fn countClasses(&self) -> int32 {
        self.module.classes.classes.len() as int32
    }

    unsafe fn getClassInfo(&self, index: int32, info: *mut PClassInfo) -> tresult {
        ffi_guard(kInvalidArgument, || {
            let Some(c) = self.class(index) else {
                return kInvalidArgument;
            };
            // SAFETY: plain data; all-zero is a value.
            let mut out: PClassInfo = unsafe { std::mem::zeroed() };
            out.cid = tuid_from_guid(&bridged_cid(&c.cid));
            out.cardinality = c.cardinality;
            copy_cstring(&c.category, &mut out.category);
            copy_cstring(&bridged_name(&c.name), &mut out.name);
            // SAFETY: the DAW passes a writable info.
            if unsafe { write_out(info, out) } {
                kResultOk
            } else {
                kInvalidArgument
            }
        })
    }

    unsafe fn createInstance(
        &self,
        cid: FIDString,
        iid: FIDString,
        obj: *mut *mut c_void,
    ) -> tresult {
        ffi_guard(kInvalidArgument, || {
            if obj.is_null() {
                return kInvalidArgument;
            }
            // SAFETY: the DAW passes 16-byte ids.
            let (Some(cid), Some(iid)) =
                (unsafe { guid_from_ptr(cid) }, unsafe { guid_from_ptr(iid) })
            else {
                return kInvalidArgument;
            };
            // SAFETY: `obj` is writable (checked non-null).
            unsafe { obj.write(std::ptr::null_mut()) };
            let Some(class) = self
                .module
                .classes
                .classes
                .iter()
                .find(|c| bridged_cid(&c.cid) == cid)
            else {
                return kInvalidArgument;
            };
            let group = self.component_group_for(class);
            let profile = self
                .module
                .classes
                .profiles
                .iter()
                .find(|p| p.cid == class.cid)
                .cloned();
            let remote = Remote::new(Arc::clone(&self.module), class.clone(), group, profile);
            // With a profile the real object is made when first needed (a
            // DAW scanning classes this way starts no host process).
            let made = if remote.profile.is_some() {
                Ok(())
            } else {
                remote.ensure_born()
            };
            if let Err(e) = made {
                tracing::error!(plugin = remote.name(), "cannot create: {e}");
                eprintln!("bulkhead: cannot create {}: {e}", remote.name());
                return kResultFalse;
            }
            OBJECTS.fetch_add(1, Ordering::AcqRel);
            if class.category == AUDIO_MODULE_CLASS {
                lock(&self.module.unpaired).push(Arc::downgrade(&remote));
            }
            let object = ObjectBox::create(Object { remote });
            let unknown = ObjectBox::unknown(object);
            let tuid = tuid_from_guid(&iid);
            // SAFETY: our live object; `obj` is writable. The creation
            // reference is given back after the query took its own (the
            // object is destroyed right there when the query failed).
            unsafe {
                let r = ((*(*unknown).vtbl).queryInterface)(unknown, &tuid, obj);
                ((*(*unknown).vtbl).release)(unknown);
                r
            }
        })
    }
}

impl IPluginFactory2Trait for Factory {
    unsafe fn getClassInfo2(&self, index: int32, info: *mut PClassInfo2) -> tresult {
        ffi_guard(kInvalidArgument, || {
            let Some(c) = self.class(index) else {
                return kInvalidArgument;
            };
            // SAFETY: plain data; all-zero is a value.
            let mut out: PClassInfo2 = unsafe { std::mem::zeroed() };
            out.cid = tuid_from_guid(&bridged_cid(&c.cid));
            out.cardinality = c.cardinality;
            copy_cstring(&c.category, &mut out.category);
            copy_cstring(&bridged_name(&c.name), &mut out.name);
            out.classFlags = c.class_flags;
            copy_cstring(&c.sub_categories, &mut out.subCategories);
            copy_cstring(&c.vendor, &mut out.vendor);
            copy_cstring(&c.version, &mut out.version);
            copy_cstring(&c.sdk_version, &mut out.sdkVersion);
            // SAFETY: the DAW passes a writable info.
            if unsafe { write_out(info, out) } {
                kResultOk
            } else {
                kInvalidArgument
            }
        })
    }
}

impl IPluginFactory3Trait for Factory {
    unsafe fn getClassInfoUnicode(&self, index: int32, info: *mut PClassInfoW) -> tresult {
        ffi_guard(kInvalidArgument, || {
            let Some(c) = self.class(index) else {
                return kInvalidArgument;
            };
            // SAFETY: plain data; all-zero is a value.
            let mut out: PClassInfoW = unsafe { std::mem::zeroed() };
            out.cid = tuid_from_guid(&bridged_cid(&c.cid));
            out.cardinality = c.cardinality;
            copy_cstring(&c.category, &mut out.category);
            copy_wstring(&bridged_name(&c.name), &mut out.name);
            out.classFlags = c.class_flags;
            copy_cstring(&c.sub_categories, &mut out.subCategories);
            copy_wstring(&c.vendor, &mut out.vendor);
            copy_wstring(&c.version, &mut out.version);
            copy_wstring(&c.sdk_version, &mut out.sdkVersion);
            // SAFETY: the DAW passes a writable info.
            if unsafe { write_out(info, out) } {
                kResultOk
            } else {
                kInvalidArgument
            }
        })
    }

    unsafe fn setHostContext(&self, _context: *mut FUnknown) -> tresult {
        // The plugin gets the host process's own context; nothing of the
        // DAW's can cross.
        kResultOk
    }
}
