//! The samples' factory (`IPluginFactory`, 2 and 3) over a static class table.

use std::ffi::c_void;

use bulkhead_vst3_support::com::{guard, guid_from_ptr, guid_from_tuid, query_raw, write_out};
use vst3::Steinberg::*;
use vst3::{Class, ComPtr};

use crate::{copy_cstring, copy_wstring, SDK_VERSION, VENDOR};

/// One class of a module.
pub struct ClassDef {
    /// Class id.
    pub cid: TUID,
    /// `Audio Module Class` or `Component Controller Class`.
    pub category: &'static str,
    /// Name.
    pub name: &'static str,
    /// Sub-categories, `|`-separated.
    pub sub_categories: &'static str,
    /// Makes a new instance.
    pub create: fn() -> Option<ComPtr<FUnknown>>,
}

/// A factory listing `classes`.
pub struct PluginFactory {
    /// The classes.
    pub classes: &'static [ClassDef],
}

impl Class for PluginFactory {
    type Interfaces = (IPluginFactory3,);
}

impl PluginFactory {
    fn class(&self, index: int32) -> Option<&'static ClassDef> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.classes.get(i))
    }
}

const MANY: int32 = PClassInfo_::ClassCardinality_::kManyInstances as int32;

impl IPluginFactoryTrait for PluginFactory {
    unsafe fn getFactoryInfo(&self, info: *mut PFactoryInfo) -> tresult {
        guard(kInternalError, || {
            // SAFETY: null or the caller's out-parameter.
            let Some(info) = (unsafe { info.as_mut() }) else {
                return kInvalidArgument;
            };
            copy_cstring(VENDOR, &mut info.vendor);
            copy_cstring("https://example.invalid/bulkhead", &mut info.url);
            copy_cstring("bulkhead@example.invalid", &mut info.email);
            info.flags = PFactoryInfo_::FactoryFlags_::kUnicode as int32;
            kResultOk
        })
    }

    unsafe fn countClasses(&self) -> int32 {
        guard(0, || self.classes.len() as int32)
    }

    unsafe fn getClassInfo(&self, index: int32, info: *mut PClassInfo) -> tresult {
        guard(kInternalError, || {
            // SAFETY: null or the caller's out-parameter.
            let (Some(c), Some(info)) = (self.class(index), unsafe { info.as_mut() }) else {
                return kInvalidArgument;
            };
            info.cid = c.cid;
            info.cardinality = MANY;
            copy_cstring(c.category, &mut info.category);
            copy_cstring(c.name, &mut info.name);
            kResultOk
        })
    }

    unsafe fn createInstance(
        &self,
        cid: FIDString,
        iid: FIDString,
        obj: *mut *mut c_void,
    ) -> tresult {
        guard(kInternalError, || {
            // SAFETY: out-parameter, null checked; cleared first so failures leave null.
            if !unsafe { write_out(obj, std::ptr::null_mut()) } {
                return kInvalidArgument;
            }
            // SAFETY: ids point to 16 bytes (API contract), null checked.
            let (Some(cid), Some(iid)) =
                (unsafe { guid_from_ptr(cid) }, unsafe { guid_from_ptr(iid) })
            else {
                return kInvalidArgument;
            };
            let Some(class) = self.classes.iter().find(|c| guid_from_tuid(&c.cid) == cid) else {
                return kInvalidArgument;
            };
            let Some(unknown) = (class.create)() else {
                return kOutOfMemory;
            };
            // SAFETY: `unknown` keeps the new object alive; a successful query add-refs for the
            // caller, and dropping `unknown` gives back the creation reference.
            unsafe { query_raw(unknown.as_ptr(), &iid, obj) }
        })
    }
}

impl IPluginFactory2Trait for PluginFactory {
    unsafe fn getClassInfo2(&self, index: int32, info: *mut PClassInfo2) -> tresult {
        guard(kInternalError, || {
            // SAFETY: null or the caller's out-parameter.
            let (Some(c), Some(info)) = (self.class(index), unsafe { info.as_mut() }) else {
                return kInvalidArgument;
            };
            info.cid = c.cid;
            info.cardinality = MANY;
            copy_cstring(c.category, &mut info.category);
            copy_cstring(c.name, &mut info.name);
            info.classFlags = 0;
            copy_cstring(c.sub_categories, &mut info.subCategories);
            copy_cstring(VENDOR, &mut info.vendor);
            copy_cstring(env!("CARGO_PKG_VERSION"), &mut info.version);
            copy_cstring(SDK_VERSION, &mut info.sdkVersion);
            kResultOk
        })
    }
}

impl IPluginFactory3Trait for PluginFactory {
    unsafe fn getClassInfoUnicode(&self, index: int32, info: *mut PClassInfoW) -> tresult {
        guard(kInternalError, || {
            // SAFETY: null or the caller's out-parameter.
            let (Some(c), Some(info)) = (self.class(index), unsafe { info.as_mut() }) else {
                return kInvalidArgument;
            };
            info.cid = c.cid;
            info.cardinality = MANY;
            copy_cstring(c.category, &mut info.category);
            copy_wstring(c.name, &mut info.name);
            info.classFlags = 0;
            copy_cstring(c.sub_categories, &mut info.subCategories);
            copy_wstring(VENDOR, &mut info.vendor);
            copy_wstring(env!("CARGO_PKG_VERSION"), &mut info.version);
            copy_wstring(SDK_VERSION, &mut info.sdkVersion);
            kResultOk
        })
    }

    unsafe fn setHostContext(&self, _context: *mut FUnknown) -> tresult {
        // The samples need nothing from the factory's host context.
        guard(kInternalError, || kResultOk)
    }
}
