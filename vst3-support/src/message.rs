//! [`Message`]: the host's `IMessage` (an id plus an [`AttributeList`]).

use std::ffi::{c_char, CString};
use std::sync::Mutex;

use vst3::Steinberg::Vst::*;
use vst3::{Class, ComWrapper};

use crate::attributes::AttributeList;
use crate::com::guard;
use crate::strings::cstring_from_ptr;

/// The host's `IMessage`.
pub struct Message {
    id: Mutex<Option<CString>>,
    attributes: ComWrapper<AttributeList>,
}

impl Class for Message {
    type Interfaces = (IMessage,);
}

impl Message {
    /// A new message without id or attributes.
    pub fn new() -> ComWrapper<Message> {
        ComWrapper::new(Message {
            id: Mutex::new(None),
            attributes: AttributeList::new(),
        })
    }

    /// A message with `id` and an existing attribute list (e.g. rebuilt from another process).
    pub fn with(id: &str, attributes: ComWrapper<AttributeList>) -> ComWrapper<Message> {
        ComWrapper::new(Message {
            id: Mutex::new(CString::new(id).ok()),
            attributes,
        })
    }

    /// The message id, if set.
    pub fn id(&self) -> Option<String> {
        self.lock()
            .as_ref()
            .map(|c| c.to_string_lossy().into_owned())
    }

    /// The attribute list (always present).
    pub fn attributes(&self) -> &ComWrapper<AttributeList> {
        &self.attributes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CString>> {
        self.id.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl IMessageTrait for Message {
    unsafe fn getMessageID(&self) -> vst3::Steinberg::FIDString {
        guard(std::ptr::null(), || {
            // The CString's buffer stays put until the next setMessageID (the SDK's rule).
            self.lock()
                .as_ref()
                .map_or(std::ptr::null(), |c| c.as_ptr())
        })
    }

    unsafe fn setMessageID(&self, id: vst3::Steinberg::FIDString) {
        guard((), || {
            // SAFETY: ids are NUL-terminated C strings; bounded read.
            let text = unsafe { cstring_from_ptr(id as *const c_char, 4096) };
            *self.lock() = text.and_then(|t| CString::new(t).ok());
        })
    }

    unsafe fn getAttributes(&self) -> *mut IAttributeList {
        guard(std::ptr::null_mut(), || {
            // Not add-ref'ed: the message owns its list (the SDK's HostMessage does the same).
            self.attributes
                .as_com_ref::<IAttributeList>()
                .map_or(std::ptr::null_mut(), |r| r.as_ptr())
        })
    }
}
