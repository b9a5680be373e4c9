//! [`HostApplication`]: `IHostApplication` (name, and `createInstance` of `IMessage` and
//! `IAttributeList`) with `IPlugInterfaceSupport`.

use std::ffi::c_void;

use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{Class, ComWrapper, Interface};

use crate::attributes::AttributeList;
use crate::com::{guard, guid_from_ptr, write_out, Guid};
use crate::message::Message;
use crate::strings::copy_wstring;

/// The host context handed to `initialize` and `IPluginFactory3::setHostContext`.
pub struct HostApplication {
    name: String,
    supported: Vec<Guid>,
}

impl Class for HostApplication {
    type Interfaces = (IHostApplication, IPlugInterfaceSupport);
}

/// The host-side interfaces [`HostApplication`] reports through `IPlugInterfaceSupport` by
/// default: what the test host implements.
pub fn default_supported() -> Vec<Guid> {
    vec![
        IComponent::IID,
        IAudioProcessor::IID,
        IEditController::IID,
        IConnectionPoint::IID,
        IUnitInfo::IID,
        IProgramListData::IID,
        IMidiMapping::IID,
        INoteExpressionController::IID,
        IProcessContextRequirements::IID,
        IComponentHandler::IID,
        IComponentHandler2::IID,
        IComponentHandlerBusActivation::IID,
    ]
}

impl HostApplication {
    /// A host called `name` that says yes to `supported` in `isPlugInterfaceSupported`.
    pub fn new(name: &str, supported: Vec<Guid>) -> ComWrapper<HostApplication> {
        ComWrapper::new(HostApplication {
            name: name.to_owned(),
            supported,
        })
    }
}

impl IHostApplicationTrait for HostApplication {
    unsafe fn getName(&self, name: *mut String128) -> tresult {
        guard(kInternalError, || {
            if name.is_null() {
                return kInvalidArgument;
            }
            // SAFETY: non-null out-parameter of type String128.
            copy_wstring(&self.name, unsafe { &mut *name });
            kResultOk
        })
    }

    unsafe fn createInstance(
        &self,
        cid: *mut TUID,
        iid: *mut TUID,
        obj: *mut *mut c_void,
    ) -> tresult {
        guard(kInternalError, || {
            if obj.is_null() {
                return kInvalidArgument;
            }
            // SAFETY: out-parameter, non-null; cleared so a failure leaves no stale pointer.
            unsafe { write_out(obj, std::ptr::null_mut()) };
            // SAFETY: ids point to 16 bytes by the API contract (null checked).
            let (Some(cid), Some(iid)) =
                (unsafe { guid_from_ptr(cid) }, unsafe { guid_from_ptr(iid) })
            else {
                return kInvalidArgument;
            };
            let unknown = if cid == IMessage::IID {
                Message::new().to_com_ptr::<FUnknown>()
            } else if cid == IAttributeList::IID {
                AttributeList::new().to_com_ptr::<FUnknown>()
            } else {
                return kResultFalse;
            };
            let Some(unknown) = unknown else {
                return kInternalError;
            };
            // SAFETY: the new object is alive (held by `unknown`); the query add-refs what it
            // returns, so dropping `unknown` afterwards leaves the caller the only owner.
            unsafe { crate::com::query_raw(unknown.as_ptr(), &iid, obj) }
        })
    }
}

impl IPlugInterfaceSupportTrait for HostApplication {
    unsafe fn isPlugInterfaceSupported(&self, iid: *const TUID) -> tresult {
        guard(kInternalError, || {
            // SAFETY: `iid` points to 16 bytes by the API contract (null checked).
            match unsafe { guid_from_ptr(iid) } {
                Some(iid) if self.supported.contains(&iid) => kResultTrue,
                Some(_) => kResultFalse,
                None => kInvalidArgument,
            }
        })
    }
}
