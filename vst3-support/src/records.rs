//! The protocol's records of messages and attribute lists
//! (`bulkhead_common::protocol::vst3::types`) and the local objects they
//! stand for, one conversion each way, for the host process and the bridge.

use bulkhead_common::protocol::vst3::types::{AttrRecord, Attributes, MessageRecord};
use vst3::ComWrapper;

use crate::{AttrValue, AttributeList, Message};

/// An attribute list's entries as records.
pub fn records_of(entries: Vec<(Vec<u8>, AttrValue)>) -> Attributes {
    entries
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                AttrValue::Int(i) => AttrRecord::Int(i),
                AttrValue::Float(f) => AttrRecord::Float(f),
                AttrValue::String(s) => AttrRecord::String(s),
                AttrValue::Binary(b) => AttrRecord::Binary(b),
            };
            (String::from_utf8_lossy(&k).into_owned(), v)
        })
        .collect()
}

/// Records as attribute list entries.
pub fn entries_of(records: &[(String, AttrRecord)]) -> Vec<(Vec<u8>, AttrValue)> {
    records
        .iter()
        .map(|(k, v)| {
            let v = match v {
                AttrRecord::Int(i) => AttrValue::Int(*i),
                AttrRecord::Float(f) => AttrValue::Float(*f),
                AttrRecord::String(s) => AttrValue::String(s.clone()),
                AttrRecord::Binary(b) => AttrValue::Binary(b.clone()),
            };
            (k.as_bytes().to_vec(), v)
        })
        .collect()
}

/// A message record as a local `IMessage`.
pub fn message_of(record: &MessageRecord) -> ComWrapper<Message> {
    Message::with(
        &record.id,
        AttributeList::from_entries(entries_of(&record.attributes)),
    )
}
