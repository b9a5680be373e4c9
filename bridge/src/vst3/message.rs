//! `IMessage`s across the process boundary: a message the host process sent
//! out is rebuilt here as a local message for the DAW's connection point;
//! a message the DAW hands one of our proxies is read into a record.
//!
//! An `IAttributeList` cannot be enumerated, so a message is readable only
//! when it is one of ours (the usual case: the DAW's connection proxy
//! forwards the message our other proxy sent). A foreign message carries
//! its id and nothing else across, and says so in the log.

use bulkhead_common::protocol::vst3::types::{AttrRecord, MessageRecord};
use bulkhead_vst3_support::{records, Message};
use vst3::com_scrape_types::{Header, Wrapper};
use vst3::Steinberg::Vst::{IMessage, IMessageTrait};
use vst3::{ComPtr, ComWrapper};

/// A local message with the record's id and attributes.
pub fn to_com(record: &MessageRecord) -> ComPtr<IMessage> {
    records::message_of(record)
        .to_com_ptr::<IMessage>()
        .expect("a Message answers IMessage")
}

/// The `IMessage` vtable of our messages, to recognise them.
fn our_vtable() -> *const std::ffi::c_void {
    let probe = Message::new();
    let ptr = probe
        .to_com_ptr::<IMessage>()
        .expect("a Message answers IMessage");
    // SAFETY: a live interface pointer starts with its vtable pointer.
    unsafe { (*ptr.as_ptr()).vtbl.cast() }
}

/// The record of a message the DAW passed us.
///
/// # Safety
/// `message` must be null or a live message.
pub unsafe fn from_com(message: *mut IMessage) -> Option<MessageRecord> {
    // SAFETY: null or live by contract.
    let msg = unsafe { vst3::ComRef::from_raw(message) }?;
    // SAFETY: live message; the id is a C string it keeps.
    let id = unsafe { msg.getMessageID() };
    // SAFETY: null or a NUL-terminated id.
    let id =
        unsafe { bulkhead_vst3_support::strings::cstring_from_ptr(id, 4096) }.unwrap_or_default();
    // SAFETY: as above.
    let vtbl = unsafe { (*message).vtbl.cast::<std::ffi::c_void>() };
    if vtbl != our_vtable() {
        tracing::warn!(
            "a message ({id}) from outside the bridge: its attributes cannot be read, only its id crosses"
        );
        return Some(MessageRecord {
            id,
            attributes: Vec::new(),
        });
    }
    // SAFETY: our vtable means a `ComWrapper<Message>` whose only interface
    // (IMessage) sits at the start of its header.
    let ours = unsafe {
        &*<ComWrapper<Message> as Wrapper<Message>>::data_from_header(
            message.cast::<Header<Message>>(),
        )
    };
    let attributes = records::records_of(ours.attributes().entries());
    Some(MessageRecord { id, attributes })
}

/// The channel context keys of `IInfoListener` (`ChannelContext` in the
/// SDK): the DAW's list cannot be enumerated, so these are read.
const CHANNEL_STRINGS: &[&str] = &[
    "channel uid",
    "channel name",
    "channel index namespace",
    "channel image",
];
const CHANNEL_INTS: &[&str] = &[
    "channel uid length",
    "channel name length",
    "channel color",
    "channel index",
    "channel index namespace order",
    "channel index namespace length",
    "channel plugin location",
];

/// The channel context a DAW passed, as entries.
///
/// # Safety
/// `list` must be null or a live attribute list.
pub unsafe fn channel_context(
    list: *mut vst3::Steinberg::Vst::IAttributeList,
) -> bulkhead_common::protocol::vst3::types::Attributes {
    use vst3::Steinberg::kResultOk;
    use vst3::Steinberg::Vst::IAttributeListTrait;
    // SAFETY: null or live by contract.
    let Some(list) = (unsafe { vst3::ComRef::from_raw(list) }) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in CHANNEL_STRINGS {
        let id = std::ffi::CString::new(*key).unwrap_or_default();
        let mut text = [0u16; 1024];
        // SAFETY: live list; the buffer's size in bytes is passed.
        if unsafe {
            list.getString(
                id.as_ptr(),
                text.as_mut_ptr(),
                std::mem::size_of_val(&text) as u32,
            )
        } == kResultOk
        {
            let len = text.iter().position(|&c| c == 0).unwrap_or(text.len());
            out.push((key.to_string(), AttrRecord::String(text[..len].to_vec())));
        }
    }
    for key in CHANNEL_INTS {
        let id = std::ffi::CString::new(*key).unwrap_or_default();
        let mut v: i64 = 0;
        // SAFETY: live list; a valid out-parameter.
        if unsafe { list.getInt(id.as_ptr(), &mut v) } == kResultOk {
            out.push((key.to_string(), AttrRecord::Int(v)));
        }
    }
    out
}
