//! Reading a factory: [`FactoryInfo`] and every class's [`ClassInfo`], from the richest
//! factory version the plugin offers (`IPluginFactory3`'s UTF-16 infos, then 2, then 1).

use vst3::ComPtr;
use vst3::Steinberg::*;

use crate::com::{guid_from_tuid, Guid};
use crate::strings::{cstring_from_array, wstring_from_array};

/// `PFactoryInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactoryInfo {
    /// Vendor.
    pub vendor: String,
    /// URL.
    pub url: String,
    /// E-mail.
    pub email: String,
    /// `FactoryFlags`.
    pub flags: i32,
}

/// One class of a factory, as `PClassInfo2`/`PClassInfoW` describe it (version-1 classes leave
/// the later fields empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassInfo {
    /// Position in the factory.
    pub index: i32,
    /// Class id.
    pub cid: Guid,
    /// `kManyInstances` (0x7FFFFFFF) for plugins.
    pub cardinality: i32,
    /// e.g. `Audio Module Class`, `Component Controller Class`.
    pub category: String,
    /// Name.
    pub name: String,
    /// `ComponentFlags` (distributable, simple mode).
    pub class_flags: u32,
    /// `|`-separated sub-categories (`Fx|EQ`).
    pub sub_categories: String,
    /// Vendor.
    pub vendor: String,
    /// Version.
    pub version: String,
    /// SDK version, e.g. `VST 3.8.0`.
    pub sdk_version: String,
    /// 1, 2 or 3: which factory interface gave the info.
    pub info_version: u8,
}

/// The factory's own info (empty strings when the plugin refuses).
pub fn factory_info(factory: &ComPtr<IPluginFactory>) -> FactoryInfo {
    // SAFETY: PFactoryInfo is plain data; all-zero is a valid value.
    let mut info: PFactoryInfo = unsafe { std::mem::zeroed() };
    // SAFETY: live factory; `info` is a valid out-parameter.
    let _ = unsafe { factory.getFactoryInfo(&mut info) };
    FactoryInfo {
        vendor: cstring_from_array(&info.vendor),
        url: cstring_from_array(&info.url),
        email: cstring_from_array(&info.email),
        flags: info.flags,
    }
}

/// Every class the factory lists; a class whose info the plugin refuses is skipped.
pub fn classes(factory: &ComPtr<IPluginFactory>) -> Vec<ClassInfo> {
    let f2 = factory.cast::<IPluginFactory2>();
    let f3 = factory.cast::<IPluginFactory3>();
    // SAFETY: live factory.
    let count = unsafe { factory.countClasses() }.max(0);
    let mut out = Vec::new();
    for index in 0..count {
        if let Some(f3) = &f3 {
            // SAFETY: plain data; all-zero is valid.
            let mut w: PClassInfoW = unsafe { std::mem::zeroed() };
            // SAFETY: live factory; valid out-parameter.
            if unsafe { f3.getClassInfoUnicode(index, &mut w) } == kResultOk {
                out.push(ClassInfo {
                    index,
                    cid: guid_from_tuid(&w.cid),
                    cardinality: w.cardinality,
                    category: cstring_from_array(&w.category),
                    name: wstring_from_array(&w.name),
                    class_flags: w.classFlags,
                    sub_categories: cstring_from_array(&w.subCategories),
                    vendor: wstring_from_array(&w.vendor),
                    version: wstring_from_array(&w.version),
                    sdk_version: wstring_from_array(&w.sdkVersion),
                    info_version: 3,
                });
                continue;
            }
        }
        if let Some(f2) = &f2 {
            // SAFETY: plain data; all-zero is valid.
            let mut i2: PClassInfo2 = unsafe { std::mem::zeroed() };
            // SAFETY: live factory; valid out-parameter.
            if unsafe { f2.getClassInfo2(index, &mut i2) } == kResultOk {
                out.push(ClassInfo {
                    index,
                    cid: guid_from_tuid(&i2.cid),
                    cardinality: i2.cardinality,
                    category: cstring_from_array(&i2.category),
                    name: cstring_from_array(&i2.name),
                    class_flags: i2.classFlags,
                    sub_categories: cstring_from_array(&i2.subCategories),
                    vendor: cstring_from_array(&i2.vendor),
                    version: cstring_from_array(&i2.version),
                    sdk_version: cstring_from_array(&i2.sdkVersion),
                    info_version: 2,
                });
                continue;
            }
        }
        // SAFETY: plain data; all-zero is valid.
        let mut i1: PClassInfo = unsafe { std::mem::zeroed() };
        // SAFETY: live factory; valid out-parameter.
        if unsafe { factory.getClassInfo(index, &mut i1) } == kResultOk {
            out.push(ClassInfo {
                index,
                cid: guid_from_tuid(&i1.cid),
                cardinality: i1.cardinality,
                category: cstring_from_array(&i1.category),
                name: cstring_from_array(&i1.name),
                class_flags: 0,
                sub_categories: String::new(),
                vendor: String::new(),
                version: String::new(),
                sdk_version: String::new(),
                info_version: 1,
            });
        }
    }
    out
}

/// The category of processor classes.
pub const AUDIO_MODULE_CLASS: &str = "Audio Module Class";
/// The category of controller classes.
pub const CONTROLLER_CLASS: &str = "Component Controller Class";
