//! The thin COM layer: everything that touches raw interface pointers in a generic way.
//!
//! - [`guard`] is the one entry guard: every interface method implemented in Rust runs its body
//!   inside it, so a panic returns the API's failure value instead of crossing FFI;
//! - [`write_out`] is the one way an out-parameter is written (null checked);
//! - [`query`]/[`answered_interfaces`] ask an object for interfaces;
//! - GUIDs are `[u8; 16]` here ([`Guid`]); the bindings' `TUID` is `[c_char; 16]`.
//!
//! Reference counts: objects implemented here live in a `ComWrapper` (an `Arc`), so `addRef`
//! and `release` are the `Arc`'s counts; a returned interface pointer that VST3 documents as
//! *not* add-ref'ed (e.g. `IMessage::getAttributes`, `IParameterChanges::getParameterData`) is
//! a borrow of an object the owner keeps alive.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use vst3::Steinberg::Vst::ChannelContext::IInfoListener;
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{ComPtr, Interface};

pub use vst3::com_scrape_types::Guid;

/// Runs `body`, returning `fail` if it panics: the one guard per COM/FFI entry.
///
/// The panic message still reaches stderr through the panic hook; the caller (a plugin or a
/// host) sees the failure value of the call instead of an abort.
pub fn guard<R>(fail: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fail)
}

/// Writes `value` through the out-parameter `out`; returns false (writing nothing) for null.
///
/// # Safety
///
/// `out` must be null or valid for a write of `T` (aligned, inside one allocation).
pub unsafe fn write_out<T>(out: *mut T, value: T) -> bool {
    if out.is_null() {
        return false;
    }
    // SAFETY: non-null and valid for writes by this function's contract.
    unsafe { out.write(value) };
    true
}

/// The GUID held by a `TUID` (same bytes, as `u8`).
pub fn guid_from_tuid(tuid: &TUID) -> Guid {
    tuid.map(|c| c as u8)
}

/// The `TUID` for a GUID (same bytes, as `c_char`).
pub fn tuid_from_guid(guid: &Guid) -> TUID {
    guid.map(|b| b as std::ffi::c_char)
}

/// Reads a 16-byte id from a pointer a caller passed (`TUID*` or `FIDString`); `None` for null.
///
/// # Safety
///
/// `ptr` must be null or point to at least 16 readable bytes.
pub unsafe fn guid_from_ptr<T>(ptr: *const T) -> Option<Guid> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null and 16 readable bytes by contract; ids carry no alignment requirement.
    Some(unsafe { (ptr as *const Guid).read_unaligned() })
}

/// A GUID as 32 upper-case hex digits in memory order (the form `moduleinfo.json` uses on Linux).
pub fn guid_hex(guid: &Guid) -> String {
    guid.iter().map(|b| format!("{b:02X}")).collect()
}

/// Parses [`guid_hex`]'s form back.
pub fn guid_from_hex(hex: &str) -> Option<Guid> {
    if hex.len() != 32 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Asks the object behind `obj` for interface `I`; `None` if it does not answer.
///
/// # Safety
///
/// `obj` must be null or a valid interface pointer of a live COM object.
pub unsafe fn query<I: Interface>(obj: *mut FUnknown) -> Option<ComPtr<I>> {
    if obj.is_null() {
        return None;
    }
    let mut out: *mut c_void = std::ptr::null_mut();
    let iid = tuid_from_guid(&I::IID);
    // SAFETY: `obj` is a live object (contract); every interface starts with FUnknown's vtable.
    let result = unsafe { ((*(*obj).vtbl).queryInterface)(obj, &iid, &mut out) };
    if result != kResultOk || out.is_null() {
        return None;
    }
    // SAFETY: a successful queryInterface returns an add-ref'ed pointer to interface `I`.
    unsafe { ComPtr::from_raw(out as *mut I) }
}

/// Upcasts any interface pointer to its `FUnknown` part (no reference count change).
pub fn unknown_of<I: Interface>(ptr: &ComPtr<I>) -> *mut FUnknown {
    ptr.as_ptr() as *mut FUnknown
}

macro_rules! known {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), <$name as Interface>::IID)),*]
    };
}

/// Every interface this project cares about, by name: plugin side, host side and the editor
/// interfaces of a later issue. [`answered_interfaces`] asks for each.
pub const KNOWN_INTERFACES: &[(&str, Guid)] = known![
    FUnknown,
    IPluginBase,
    IComponent,
    IAudioProcessor,
    IProcessContextRequirements,
    IAudioPresentationLatency,
    IEditController,
    IEditController2,
    IEditControllerHostEditing,
    IConnectionPoint,
    IUnitInfo,
    IProgramListData,
    IUnitData,
    IMidiMapping,
    IMidiLearn,
    INoteExpressionController,
    INoteExpressionPhysicalUIMapping,
    IKeyswitchController,
    IAutomationState,
    IInfoListener,
    IParameterFunctionName,
    IPrefetchableSupport,
    IXmlRepresentationController,
    IPlugView,
    IComponentHandler,
    IComponentHandler2,
    IComponentHandlerBusActivation,
    IUnitHandler,
    IUnitHandler2,
    IProgress,
    IHostApplication,
    IPlugInterfaceSupport,
    IBStream,
    ISizeableStream,
    IStreamAttributes,
    IAttributeList,
    IMessage,
    IEventList,
    IParameterChanges,
    IParamValueQueue,
    IPluginFactory,
    IPluginFactory2,
    IPluginFactory3,
];

/// The name of a known interface id, if it is one of [`KNOWN_INTERFACES`].
pub fn interface_name(iid: &Guid) -> Option<&'static str> {
    KNOWN_INTERFACES
        .iter()
        .find(|(_, g)| g == iid)
        .map(|(n, _)| *n)
}

/// The names of the [`KNOWN_INTERFACES`] the object answers, in that list's order.
///
/// Each successful query's reference is released at once.
pub fn answered_interfaces<I: Interface>(obj: &ComPtr<I>) -> Vec<&'static str> {
    let unknown = unknown_of(obj);
    KNOWN_INTERFACES
        .iter()
        .filter(|(_, iid)| {
            let mut out: *mut c_void = std::ptr::null_mut();
            let tuid = tuid_from_guid(iid);
            // SAFETY: `obj` keeps the object alive; every interface starts with FUnknown's vtable.
            let result = unsafe { ((*(*unknown).vtbl).queryInterface)(unknown, &tuid, &mut out) };
            if result == kResultOk && !out.is_null() {
                // SAFETY: the successful query add-ref'ed the object; give that reference back.
                unsafe { ((*(*(out as *mut FUnknown)).vtbl).release)(out as *mut FUnknown) };
                true
            } else {
                false
            }
        })
        .map(|(n, _)| *n)
        .collect()
}

/// Converts a VST3 boolean.
pub fn tbool(b: bool) -> TBool {
    b as TBool
}

/// `queryInterface` on a raw object for a GUID, writing the caller's out-pointer.
///
/// # Safety
///
/// `obj` must be a live object; `out` must be valid for a pointer write.
pub unsafe fn query_raw(obj: *mut FUnknown, iid: &Guid, out: *mut *mut c_void) -> tresult {
    let tuid = tuid_from_guid(iid);
    // SAFETY: `obj` is live (contract); every interface starts with FUnknown's vtable.
    unsafe { ((*(*obj).vtbl).queryInterface)(obj, &tuid, out) }
}
