//! What the sample VST3 plugins share: a [`Plugin`] trait holding each sample's behaviour, macros
//! that turn it into the VST3 interfaces (one guard per entry), the factory and module exports,
//! parameter tables, bus tables, stream helpers and a [`ProcessCall`] view of `ProcessData`.
//!
//! A sample is a struct implementing [`Plugin`], a `Class` impl listing its interfaces, one
//! `impl_*!` line per interface group, and an [`export_vst3!`] with its class table.

// Interface methods keep the SDK's names.
#![allow(non_snake_case)]

mod factory;
mod macros;
mod params;
mod process;
mod stream;

pub use bulkhead_vst3_support::com::guard;
pub use bulkhead_vst3_support::strings::{copy_cstring, copy_wstring};
pub use factory::{ClassDef, PluginFactory};
pub use params::{ParamDef, Params};
pub use process::ProcessCall;
pub use stream::{read_stream, write_stream};
pub use vst3;

use vst3::ComPtr;
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;

/// SDK version string written into class infos (the bindings' SDK).
pub const SDK_VERSION: &str = "VST 3.8.0";
/// Vendor of the samples.
pub const VENDOR: &str = "bulkhead";

/// One bus of a component.
#[derive(Debug, Clone, Copy)]
pub struct BusDef {
    /// `kAudio` or `kEvent`.
    pub media: MediaType,
    /// `kInput` or `kOutput`.
    pub dir: BusDirection,
    /// Channels (audio) or MIDI channels (event).
    pub channels: i32,
    /// Name.
    pub name: &'static str,
}

/// A stereo audio input.
pub const STEREO_IN: BusDef = BusDef {
    media: MediaTypes_::kAudio as MediaType,
    dir: BusDirections_::kInput as BusDirection,
    channels: 2,
    name: "Input",
};
/// A stereo audio output.
pub const STEREO_OUT: BusDef = BusDef {
    media: MediaTypes_::kAudio as MediaType,
    dir: BusDirections_::kOutput as BusDirection,
    channels: 2,
    name: "Output",
};
/// A 16-channel event input.
pub const EVENT_IN: BusDef = BusDef {
    media: MediaTypes_::kEvent as MediaType,
    dir: BusDirections_::kInput as BusDirection,
    channels: 16,
    name: "Events",
};

/// The behaviour of one sample class; the `impl_*!` macros map the VST3 interfaces onto it.
/// Every method has a harmless default so each sample writes only what it does.
#[allow(unused_variables)]
pub trait Plugin {
    /// `initialize`, with the host context if it answers `IHostApplication`.
    fn initialize(&self, host: Option<ComPtr<IHostApplication>>) -> tresult {
        kResultOk
    }
    /// `terminate`: drop host references.
    fn terminate(&self) {}

    /// The component's buses.
    fn buses(&self) -> &'static [BusDef] {
        &[]
    }
    /// The controller class of a split plugin.
    fn controller_cid(&self) -> Option<TUID> {
        None
    }
    /// `setActive`.
    fn set_active(&self, active: bool) {}
    /// `IComponent::getState`.
    fn component_state(&self) -> Vec<u8> {
        Vec::new()
    }
    /// `IComponent::setState`.
    fn set_component_state(&self, bytes: &[u8]) -> tresult {
        kResultOk
    }
    /// `setupProcessing`.
    fn setup(&self, setup: &ProcessSetup) {}
    /// `process`.
    fn process(&self, call: &mut ProcessCall) -> tresult {
        kResultOk
    }
    /// `getLatencySamples`.
    fn latency(&self) -> u32 {
        0
    }
    /// `getTailSamples`.
    fn tail(&self) -> u32 {
        0
    }

    /// The controller's parameters.
    fn params(&self) -> Option<&Params> {
        None
    }
    /// `IEditController::setComponentState` (the component's state, for the controller).
    fn controller_sync(&self, component_state: &[u8]) -> tresult {
        kResultOk
    }
    /// `IEditController::getState`.
    fn controller_state(&self) -> Vec<u8> {
        Vec::new()
    }
    /// `IEditController::setState`.
    fn set_controller_state(&self, bytes: &[u8]) -> tresult {
        kResultOk
    }
    /// After `setParamNormalized` stored a value.
    fn param_set(&self, id: ParamID, value: f64) {}
    /// `setComponentHandler`.
    fn set_handler(&self, handler: Option<ComPtr<IComponentHandler>>) {}

    /// `IConnectionPoint::connect`/`disconnect` (None).
    fn connected(&self, peer: Option<ComPtr<IConnectionPoint>>) {}
    /// `IConnectionPoint::notify`.
    fn message(&self, message: &ComPtr<IMessage>) -> tresult {
        kResultFalse
    }
}

/// Makes a new object of a sample class as `FUnknown` (for [`ClassDef::create`]).
pub fn create<C>(object: C) -> Option<ComPtr<FUnknown>>
where
    C: vst3::Class + 'static,
    C::Interfaces: vst3::com_scrape_types::MakeHeader<C, vst3::ComWrapper<C>>,
{
    vst3::ComWrapper::new(object).to_com_ptr::<FUnknown>()
}

#[doc(hidden)]
pub unsafe fn __query<I: vst3::Interface>(obj: *mut FUnknown) -> Option<ComPtr<I>> {
    // SAFETY: forwarded contract (null or a live object).
    unsafe { bulkhead_vst3_support::com::query::<I>(obj) }
}

#[doc(hidden)]
pub unsafe fn __write_out<T>(out: *mut T, value: T) -> bool {
    // SAFETY: forwarded contract (null or valid for a write).
    unsafe { bulkhead_vst3_support::com::write_out(out, value) }
}

#[doc(hidden)]
pub unsafe fn __wstring(ptr: *const u16) -> Option<String> {
    // SAFETY: forwarded contract (null or NUL-terminated UTF-16).
    unsafe { bulkhead_vst3_support::strings::wstring_from_ptr(ptr, 4096) }
}

/// Sends a message with a float and a binary attribute to `peer`, created through the host.
pub fn send_message(
    host: &ComPtr<IHostApplication>,
    peer: &ComPtr<IConnectionPoint>,
    id: &std::ffi::CStr,
    float: (&std::ffi::CStr, f64),
) -> tresult {
    let mut cid = bulkhead_vst3_support::com::tuid_from_guid(&<IMessage as vst3::Interface>::IID);
    let mut iid = cid;
    let mut obj: *mut std::ffi::c_void = std::ptr::null_mut();
    // SAFETY: a live host; ids are 16-byte arrays; `obj` receives an add-ref'ed message.
    let message = unsafe {
        if host.createInstance(&mut cid, &mut iid, &mut obj) != kResultOk {
            return kResultFalse;
        }
        ComPtr::from_raw(obj as *mut IMessage)
    };
    let Some(message) = message else {
        return kResultFalse;
    };
    // SAFETY: a live message; ids are valid C strings; the attribute list is borrowed.
    unsafe {
        message.setMessageID(id.as_ptr());
        if let Some(attrs) = vst3::ComRef::from_raw(message.getAttributes()) {
            attrs.setFloat(float.0.as_ptr(), float.1);
        }
        peer.notify(message.as_ptr())
    }
}

/// Reads a float attribute of a message with id `id`.
pub fn message_float(
    message: &ComPtr<IMessage>,
    id: &std::ffi::CStr,
    key: &std::ffi::CStr,
) -> Option<f64> {
    // SAFETY: a live message; the id is a NUL-terminated string or null; the list is borrowed.
    unsafe {
        let got = message.getMessageID();
        if got.is_null() || std::ffi::CStr::from_ptr(got) != id {
            return None;
        }
        let attrs = vst3::ComRef::from_raw(message.getAttributes())?;
        let mut v = 0.0;
        (attrs.getFloat(key.as_ptr(), &mut v) == kResultTrue).then_some(v)
    }
}
