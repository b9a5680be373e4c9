//! [`AttributeList`]: the host's `IAttributeList`, whose entries Rust can enumerate.
//!
//! VST3 gives no way to enumerate a foreign attribute list, which is why the host process hands
//! plugins its own lists (through `IHostApplication::createInstance` and [`crate::Message`]):
//! a message that has to cross a process can then be copied with [`AttributeList::entries`].

use std::collections::BTreeMap;
use std::ffi::{c_char, c_void, CStr};
use std::sync::Mutex;

use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{Class, ComWrapper};

use crate::com::{guard, write_out};

/// One value of an attribute list.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// `setInt`.
    Int(i64),
    /// `setFloat`.
    Float(f64),
    /// `setString`, as UTF-16 without the terminating NUL.
    String(Vec<u16>),
    /// `setBinary`.
    Binary(Vec<u8>),
}

/// The host's `IAttributeList`.
#[derive(Debug, Default)]
pub struct AttributeList {
    entries: Mutex<BTreeMap<Vec<u8>, AttrValue>>,
}

impl Class for AttributeList {
    type Interfaces = (IAttributeList,);
}

/// Longest attribute id read from a caller (ids are short C strings; this bounds a bad pointer's
/// damage).
const MAX_ID: usize = 1024;

impl AttributeList {
    /// A new, empty list.
    pub fn new() -> ComWrapper<AttributeList> {
        ComWrapper::new(AttributeList::default())
    }

    /// A list holding `entries`.
    pub fn from_entries(
        entries: impl IntoIterator<Item = (Vec<u8>, AttrValue)>,
    ) -> ComWrapper<Self> {
        ComWrapper::new(AttributeList {
            entries: Mutex::new(entries.into_iter().collect()),
        })
    }

    /// Every entry, ordered by id bytes.
    pub fn entries(&self) -> Vec<(Vec<u8>, AttrValue)> {
        self.lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// One entry.
    pub fn get(&self, id: &str) -> Option<AttrValue> {
        self.lock().get(id.as_bytes()).cloned()
    }

    /// Sets one entry.
    pub fn set(&self, id: &str, value: AttrValue) {
        self.lock().insert(id.as_bytes().to_vec(), value);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Vec<u8>, AttrValue>> {
        // A panic while holding the lock leaves the map consistent (single inserts), so a
        // poisoned lock is still usable.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with_id<R>(&self, id: *const c_char, fail: R, f: impl FnOnce(Vec<u8>) -> R) -> R {
        if id.is_null() {
            return fail;
        }
        let mut bytes = Vec::new();
        for i in 0..MAX_ID {
            // SAFETY: callers pass a NUL-terminated id; we stop at the NUL or MAX_ID.
            let c = unsafe { id.add(i).read() };
            if c == 0 {
                return f(bytes);
            }
            bytes.push(c as u8);
        }
        fail
    }
}

impl IAttributeListTrait for AttributeList {
    unsafe fn setInt(&self, id: IAttributeList_::AttrID, value: int64) -> tresult {
        guard(kInternalError, || {
            self.with_id(id, kInvalidArgument, |k| {
                self.lock().insert(k, AttrValue::Int(value));
                kResultOk
            })
        })
    }

    unsafe fn getInt(&self, id: IAttributeList_::AttrID, value: *mut int64) -> tresult {
        guard(kInternalError, || {
            self.with_id(id, kInvalidArgument, |k| match self.lock().get(&k) {
                // SAFETY: `value` is the caller's out-parameter (null checked).
                Some(AttrValue::Int(v)) if unsafe { write_out(value, *v) } => kResultTrue,
                _ => kResultFalse,
            })
        })
    }

    unsafe fn setFloat(&self, id: IAttributeList_::AttrID, value: f64) -> tresult {
        guard(kInternalError, || {
            self.with_id(id, kInvalidArgument, |k| {
                self.lock().insert(k, AttrValue::Float(value));
                kResultOk
            })
        })
    }

    unsafe fn getFloat(&self, id: IAttributeList_::AttrID, value: *mut f64) -> tresult {
        guard(kInternalError, || {
            self.with_id(id, kInvalidArgument, |k| match self.lock().get(&k) {
                // SAFETY: `value` is the caller's out-parameter (null checked).
                Some(AttrValue::Float(v)) if unsafe { write_out(value, *v) } => kResultTrue,
                _ => kResultFalse,
            })
        })
    }

    unsafe fn setString(&self, id: IAttributeList_::AttrID, string: *const TChar) -> tresult {
        guard(kInternalError, || {
            if string.is_null() {
                return kInvalidArgument;
            }
            self.with_id(id, kInvalidArgument, |k| {
                let mut units = Vec::new();
                let mut i = 0;
                loop {
                    // SAFETY: `string` is NUL-terminated UTF-16 by the API contract.
                    let c = unsafe { string.add(i).read_unaligned() };
                    if c == 0 {
                        break;
                    }
                    units.push(c);
                    i += 1;
                }
                self.lock().insert(k, AttrValue::String(units));
                kResultOk
            })
        })
    }

    unsafe fn getString(
        &self,
        id: IAttributeList_::AttrID,
        string: *mut TChar,
        sizeInBytes: uint32,
    ) -> tresult {
        guard(kInternalError, || {
            let capacity = sizeInBytes as usize / 2;
            if string.is_null() || capacity == 0 {
                return kInvalidArgument;
            }
            self.with_id(id, kInvalidArgument, |k| match self.lock().get(&k) {
                Some(AttrValue::String(units)) => {
                    let n = units.len().min(capacity - 1);
                    // SAFETY: the caller's buffer holds `sizeInBytes` bytes = `capacity` units;
                    // we write `n + 1 <= capacity` units.
                    unsafe {
                        std::ptr::copy_nonoverlapping(units.as_ptr(), string, n);
                        string.add(n).write(0);
                    }
                    kResultTrue
                }
                _ => kResultFalse,
            })
        })
    }

    unsafe fn setBinary(
        &self,
        id: IAttributeList_::AttrID,
        data: *const c_void,
        sizeInBytes: uint32,
    ) -> tresult {
        guard(kInternalError, || {
            if data.is_null() && sizeInBytes != 0 {
                return kInvalidArgument;
            }
            self.with_id(id, kInvalidArgument, |k| {
                let bytes = if sizeInBytes == 0 {
                    Vec::new()
                } else {
                    // SAFETY: the caller passes `sizeInBytes` readable bytes at `data`.
                    unsafe { std::slice::from_raw_parts(data as *const u8, sizeInBytes as usize) }
                        .to_vec()
                };
                self.lock().insert(k, AttrValue::Binary(bytes));
                kResultOk
            })
        })
    }

    unsafe fn getBinary(
        &self,
        id: IAttributeList_::AttrID,
        data: *mut *const c_void,
        sizeInBytes: *mut uint32,
    ) -> tresult {
        guard(kInternalError, || {
            if data.is_null() || sizeInBytes.is_null() {
                return kInvalidArgument;
            }
            self.with_id(id, kInvalidArgument, |k| match self.lock().get(&k) {
                Some(AttrValue::Binary(bytes)) => {
                    // The pointer stays valid while this entry is not replaced: the Vec's heap
                    // block does not move when the map is otherwise changed (the SDK's rule).
                    // SAFETY: both out-parameters were null checked above.
                    unsafe {
                        write_out(data, bytes.as_ptr() as *const c_void);
                        write_out(sizeInBytes, bytes.len() as uint32);
                    }
                    kResultTrue
                }
                _ => kResultFalse,
            })
        })
    }
}

/// An attribute id as a C string, for calling `IAttributeList` from Rust.
pub fn attr_id(id: &CStr) -> IAttributeList_::AttrID {
    id.as_ptr()
}
