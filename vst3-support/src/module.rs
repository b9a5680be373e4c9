//! [`Module`]: a Linux `.vst3` bundle loaded into this process.
//!
//! `Foo.vst3/Contents/<arch>-linux/Foo.so` is `dlopen`ed (`RTLD_NOW`, so a missing symbol fails
//! here and not in the middle of a call), `ModuleEntry(handle)` runs before anything else,
//! `GetPluginFactory` gives the factory, and `ModuleExit` + `dlclose` run when the last
//! [`ModuleRef`] is gone: every [`Object`] created through the module holds one, and releases
//! its interface pointer before it.

use std::ffi::{c_void, CString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use vst3::Steinberg::*;
use vst3::{ComPtr, Interface};

use crate::com::{guid_hex, interface_name, tuid_from_guid, Guid};
use crate::error::Vst3Error;
use crate::factory::{self, ClassInfo, FactoryInfo};

type ModuleEntryFn = unsafe extern "C" fn(*mut c_void) -> bool;
type ModuleExitFn = unsafe extern "C" fn() -> bool;
type GetFactoryFn = unsafe extern "system" fn() -> *mut IPluginFactory;

pub use bulkhead_common::manifest::arch_folder;

/// The binary inside a bundle: `Foo.vst3/Contents/<arch>-linux/Foo.so`. A path that is a file
/// (a bare `.so`, or the old single-file `.vst3`) is its own binary.
pub fn bundle_binary(bundle: &Path) -> PathBuf {
    if bundle.is_file() {
        return bundle.to_path_buf();
    }
    bulkhead_common::manifest::bundle_library(bundle)
}

struct ModuleInner {
    path: PathBuf,
    handle: *mut c_void,
    factory: Option<ComPtr<IPluginFactory>>,
    exit: Option<ModuleExitFn>,
}

// SAFETY: a dlopen handle may be used and closed from any thread; the factory pointer is a COM
// object whose interface the SDK requires to be callable from the host's main thread, and the
// module only releases it (in Drop) once nothing else can call it.
unsafe impl Send for ModuleInner {}
// SAFETY: see Send; ModuleInner has no interior mutability.
unsafe impl Sync for ModuleInner {}

impl Drop for ModuleInner {
    fn drop(&mut self) {
        // The factory goes first, then ModuleExit, then the library: the reverse of loading.
        drop(self.factory.take());
        if let Some(exit) = self.exit {
            // SAFETY: ModuleEntry succeeded, and this is the last reference to the module: every
            // Object holding a ModuleRef has been dropped.
            unsafe { exit() };
        }
        // SAFETY: the handle came from dlopen and nothing from the library is used any more.
        unsafe { libc::dlclose(self.handle) };
    }
}

/// Keeps a module loaded (`ModuleExit` runs when the last one is dropped).
#[derive(Clone)]
pub struct ModuleRef(#[allow(dead_code)] Arc<ModuleInner>);

/// A plugin object created through a [`Module`]: its interface pointer, released before the
/// module reference it holds.
pub struct Object<I: Interface> {
    ptr: ComPtr<I>,
    _module: ModuleRef,
}

impl<I: Interface> Object<I> {
    /// Wraps a pointer so that the module outlives it.
    pub fn new(ptr: ComPtr<I>, module: ModuleRef) -> Self {
        Object {
            ptr,
            _module: module,
        }
    }

    /// The interface pointer.
    pub fn ptr(&self) -> &ComPtr<I> {
        &self.ptr
    }

    /// Another interface of the same object, keeping the module alive too.
    pub fn cast<J: Interface>(&self) -> Option<Object<J>> {
        self.ptr
            .cast::<J>()
            .map(|p| Object::new(p, self._module.clone()))
    }
}

impl<I: Interface> std::ops::Deref for Object<I> {
    type Target = ComPtr<I>;
    fn deref(&self) -> &ComPtr<I> {
        &self.ptr
    }
}

/// A loaded VST3 module.
pub struct Module {
    inner: Arc<ModuleInner>,
}

fn dlerror_text() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated message valid until the next dl* call.
    let err = unsafe { libc::dlerror() };
    if err.is_null() {
        "unknown error".into()
    } else {
        // SAFETY: non-null NUL-terminated string from dlerror.
        unsafe { std::ffi::CStr::from_ptr(err) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Module {
    /// Loads a bundle (or a bare binary), runs `ModuleEntry` and gets the factory.
    ///
    /// # Errors
    ///
    /// [`Vst3Error`] naming the binary and what failed.
    pub fn load(bundle: &Path) -> Result<Module, Vst3Error> {
        let path = bundle_binary(bundle);
        if !path.is_file() {
            return Err(Vst3Error::BinaryMissing { path });
        }
        let c_path =
            CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| Vst3Error::Dlopen {
                path: path.clone(),
                reason: "path contains NUL".into(),
            })?;
        // SAFETY: a valid C path; loading runs the library's constructors, which is what
        // loading a plugin means.
        let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            return Err(Vst3Error::Dlopen {
                path,
                reason: dlerror_text(),
            });
        }
        let sym = |name: &'static str| -> *mut c_void {
            let c = CString::new(name).expect("symbol names have no NUL");
            // SAFETY: `handle` is a live dlopen handle; `c` is a valid C string.
            unsafe { libc::dlsym(handle, c.as_ptr()) }
        };
        let close = |e: Vst3Error| {
            // SAFETY: the handle came from dlopen and nothing from it is in use.
            unsafe { libc::dlclose(handle) };
            e
        };
        let entry = sym("ModuleEntry");
        let exit = sym("ModuleExit");
        let get_factory = sym("GetPluginFactory");
        if get_factory.is_null() {
            return Err(close(Vst3Error::MissingExport {
                path,
                symbol: "GetPluginFactory",
            }));
        }
        // The SDK requires ModuleEntry/ModuleExit on Linux; a binary without them cannot have
        // initialised its module state, so refuse it like the SDK's hosting code does.
        if entry.is_null() || exit.is_null() {
            return Err(close(Vst3Error::MissingExport {
                path,
                symbol: if entry.is_null() {
                    "ModuleEntry"
                } else {
                    "ModuleExit"
                },
            }));
        }
        // SAFETY: the exported symbols have the SDK's signatures.
        let (entry, exit, get_factory) = unsafe {
            (
                std::mem::transmute::<*mut c_void, ModuleEntryFn>(entry),
                std::mem::transmute::<*mut c_void, ModuleExitFn>(exit),
                std::mem::transmute::<*mut c_void, GetFactoryFn>(get_factory),
            )
        };
        // SAFETY: ModuleEntry is called once, first, with the dlopen handle.
        if !unsafe { entry(handle) } {
            return Err(close(Vst3Error::ModuleEntryFailed { path }));
        }
        // SAFETY: ModuleEntry succeeded; GetPluginFactory returns an add-ref'ed factory or null.
        let factory = unsafe { ComPtr::from_raw(get_factory()) };
        let Some(factory) = factory else {
            // SAFETY: ModuleEntry succeeded, so ModuleExit is owed.
            unsafe { exit() };
            return Err(close(Vst3Error::NoFactory { path }));
        };
        Ok(Module {
            inner: Arc::new(ModuleInner {
                path,
                handle,
                factory: Some(factory),
                exit: Some(exit),
            }),
        })
    }

    /// The binary that was loaded.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The factory.
    pub fn factory(&self) -> &ComPtr<IPluginFactory> {
        self.inner
            .factory
            .as_ref()
            .expect("the factory lives as long as the module")
    }

    /// A reference that keeps the module loaded.
    pub fn keep(&self) -> ModuleRef {
        ModuleRef(self.inner.clone())
    }

    /// The factory's own info.
    pub fn factory_info(&self) -> FactoryInfo {
        factory::factory_info(self.factory())
    }

    /// Every class, with the richest info the factory offers (3, 2, then 1).
    pub fn classes(&self) -> Vec<ClassInfo> {
        factory::classes(self.factory())
    }

    /// Hands the factory a host context (`IPluginFactory3::setHostContext`); false when the
    /// factory is not a version 3 one or refused.
    pub fn set_host_context(&self, context: &ComPtr<FUnknown>) -> bool {
        match self.factory().cast::<IPluginFactory3>() {
            // SAFETY: a live factory; the context is kept alive by the caller's pointer.
            Some(f3) => unsafe { f3.setHostContext(context.as_ptr()) == kResultOk },
            None => false,
        }
    }

    /// Creates an instance of class `cid` asking for interface `I`.
    ///
    /// # Errors
    ///
    /// [`Vst3Error::CreateInstance`] with the plugin's answer.
    pub fn create<I: Interface>(&self, cid: &Guid) -> Result<Object<I>, Vst3Error> {
        let cid_t = tuid_from_guid(cid);
        let iid_t = tuid_from_guid(&I::IID);
        let mut obj: *mut c_void = std::ptr::null_mut();
        // SAFETY: live factory; ids are 16-byte arrays; `obj` receives an add-ref'ed pointer.
        let result = unsafe {
            vst3::Steinberg::IPluginFactoryTrait::createInstance(
                self.factory(),
                cid_t.as_ptr(),
                iid_t.as_ptr(),
                &mut obj,
            )
        };
        let err = || Vst3Error::CreateInstance {
            cid: guid_hex(cid),
            interface: interface_name(&I::IID).unwrap_or("?"),
            result,
        };
        if result != kResultOk {
            return Err(err());
        }
        // SAFETY: success means `obj` is an add-ref'ed pointer to interface I (or null).
        let ptr = unsafe { ComPtr::from_raw(obj as *mut I) }.ok_or_else(err)?;
        Ok(Object::new(ptr, self.keep()))
    }
}
