//! [`MemoryStream`]: the host's `IBStream` in memory, with `ISizeableStream` and
//! `IStreamAttributes` (file name and the attribute list of preset files).

use std::ffi::c_void;
use std::sync::Mutex;

use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{Class, ComPtr, ComWrapper};

use crate::attributes::AttributeList;
use crate::com::{guard, write_out};
use crate::strings::copy_wstring;

/// Upper bound of a stream's size: far above the 64 MiB states the bridge must carry, and
/// small enough that a bad `seek` + `write` cannot ask for all memory.
pub const MAX_STREAM_SIZE: usize = 1 << 30;

#[derive(Debug, Default)]
struct Data {
    bytes: Vec<u8>,
    pos: usize,
}

/// The host's memory stream.
pub struct MemoryStream {
    data: Mutex<Data>,
    file_name: Option<String>,
    attributes: ComWrapper<AttributeList>,
}

impl Class for MemoryStream {
    type Interfaces = (IBStream, ISizeableStream, IStreamAttributes);
}

impl MemoryStream {
    /// An empty stream (for `getState`).
    pub fn new() -> ComWrapper<MemoryStream> {
        Self::from_bytes(Vec::new())
    }

    /// A stream holding `bytes`, positioned at the start (for `setState`).
    pub fn from_bytes(bytes: Vec<u8>) -> ComWrapper<MemoryStream> {
        ComWrapper::new(MemoryStream {
            data: Mutex::new(Data { bytes, pos: 0 }),
            file_name: None,
            attributes: AttributeList::new(),
        })
    }

    /// A stream as a preset file would give it: `file_name` and `attributes` answer
    /// `IStreamAttributes`.
    pub fn with_attributes(
        bytes: Vec<u8>,
        file_name: Option<String>,
        attributes: ComWrapper<AttributeList>,
    ) -> ComWrapper<MemoryStream> {
        ComWrapper::new(MemoryStream {
            data: Mutex::new(Data { bytes, pos: 0 }),
            file_name,
            attributes,
        })
    }

    /// A copy of the stream's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.lock().bytes.clone()
    }

    /// Takes the bytes out, leaving the stream empty.
    pub fn take_bytes(&self) -> Vec<u8> {
        let mut d = self.lock();
        d.pos = 0;
        std::mem::take(&mut d.bytes)
    }

    /// The current position.
    pub fn position(&self) -> usize {
        self.lock().pos
    }

    /// Moves to the start (e.g. before handing the same stream to a second reader).
    pub fn rewind(&self) {
        self.lock().pos = 0;
    }

    /// The stream attributes list.
    pub fn attributes(&self) -> &ComWrapper<AttributeList> {
        &self.attributes
    }

    /// The stream as an `IBStream` pointer owned by the caller.
    pub fn as_ibstream(this: &ComWrapper<MemoryStream>) -> ComPtr<IBStream> {
        this.to_com_ptr::<IBStream>()
            .expect("IBStream is in MemoryStream's interface list")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl IBStreamTrait for MemoryStream {
    unsafe fn read(
        &self,
        buffer: *mut c_void,
        numBytes: int32,
        numBytesRead: *mut int32,
    ) -> tresult {
        guard(kInternalError, || {
            if numBytes < 0 || (buffer.is_null() && numBytes > 0) {
                return kInvalidArgument;
            }
            let mut d = self.lock();
            let available = d.bytes.len().saturating_sub(d.pos);
            let n = available.min(numBytes as usize);
            if n > 0 {
                // SAFETY: `buffer` holds `numBytes >= n` writable bytes (API contract); the
                // source range is inside `bytes`.
                unsafe {
                    std::ptr::copy_nonoverlapping(d.bytes.as_ptr().add(d.pos), buffer as *mut u8, n)
                };
            }
            d.pos += n;
            // SAFETY: optional out-parameter, null checked.
            unsafe { write_out(numBytesRead, n as int32) };
            kResultOk
        })
    }

    unsafe fn write(
        &self,
        buffer: *mut c_void,
        numBytes: int32,
        numBytesWritten: *mut int32,
    ) -> tresult {
        guard(kInternalError, || {
            if numBytes < 0 || (buffer.is_null() && numBytes > 0) {
                return kInvalidArgument;
            }
            let mut d = self.lock();
            let n = numBytes as usize;
            let end = match d.pos.checked_add(n) {
                Some(end) if end <= MAX_STREAM_SIZE => end,
                _ => return kOutOfMemory,
            };
            if d.bytes.len() < end {
                d.bytes.resize(end, 0);
            }
            if n > 0 {
                let pos = d.pos;
                // SAFETY: `buffer` holds `numBytes` readable bytes (API contract); the target
                // range was just made to exist.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        buffer as *const u8,
                        d.bytes.as_mut_ptr().add(pos),
                        n,
                    )
                };
            }
            d.pos = end;
            // SAFETY: optional out-parameter, null checked.
            unsafe { write_out(numBytesWritten, n as int32) };
            kResultOk
        })
    }

    unsafe fn seek(&self, pos: int64, mode: int32, result: *mut int64) -> tresult {
        guard(kInternalError, || {
            let mut d = self.lock();
            let base = match mode as u32 {
                IBStream_::IStreamSeekMode_::kIBSeekSet => 0i64,
                IBStream_::IStreamSeekMode_::kIBSeekCur => d.pos as i64,
                IBStream_::IStreamSeekMode_::kIBSeekEnd => d.bytes.len() as i64,
                _ => return kInvalidArgument,
            };
            let target = match base.checked_add(pos) {
                Some(t) if (0..=MAX_STREAM_SIZE as i64).contains(&t) => t,
                _ => return kInvalidArgument,
            };
            d.pos = target as usize;
            // SAFETY: optional out-parameter, null checked.
            unsafe { write_out(result, target) };
            kResultOk
        })
    }

    unsafe fn tell(&self, pos: *mut int64) -> tresult {
        guard(kInternalError, || {
            let p = self.lock().pos as int64;
            // SAFETY: out-parameter, null checked.
            if unsafe { write_out(pos, p) } {
                kResultOk
            } else {
                kInvalidArgument
            }
        })
    }
}

impl ISizeableStreamTrait for MemoryStream {
    unsafe fn getStreamSize(&self, size: *mut int64) -> tresult {
        guard(kInternalError, || {
            let n = self.lock().bytes.len() as int64;
            // SAFETY: out-parameter, null checked.
            if unsafe { write_out(size, n) } {
                kResultOk
            } else {
                kInvalidArgument
            }
        })
    }

    unsafe fn setStreamSize(&self, size: int64) -> tresult {
        guard(kInternalError, || {
            if !(0..=MAX_STREAM_SIZE as i64).contains(&size) {
                return kInvalidArgument;
            }
            let mut d = self.lock();
            d.bytes.resize(size as usize, 0);
            d.pos = d.pos.min(size as usize);
            kResultOk
        })
    }
}

impl IStreamAttributesTrait for MemoryStream {
    unsafe fn getFileName(&self, name: *mut String128) -> tresult {
        guard(kInternalError, || match (&self.file_name, name.is_null()) {
            (Some(file), false) => {
                // SAFETY: non-null out-parameter of type String128.
                copy_wstring(file, unsafe { &mut *name });
                kResultOk
            }
            _ => kResultFalse,
        })
    }

    unsafe fn getAttributes(&self) -> *mut IAttributeList {
        guard(std::ptr::null_mut(), || {
            // Not add-ref'ed: the stream owns its list.
            self.attributes
                .as_com_ref::<IAttributeList>()
                .map_or(std::ptr::null_mut(), |r| r.as_ptr())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_seek_read() {
        let s = MemoryStream::new();
        let p = MemoryStream::as_ibstream(&s);
        let mut n = 0;
        let mut data = *b"hello";
        // SAFETY: valid buffers and out-parameters.
        unsafe {
            assert_eq!(p.write(data.as_mut_ptr().cast(), 5, &mut n), kResultOk);
            assert_eq!(n, 5);
            let mut pos = 0;
            assert_eq!(
                p.seek(1, IBStream_::IStreamSeekMode_::kIBSeekSet as i32, &mut pos),
                kResultOk
            );
            let mut out = [0u8; 10];
            assert_eq!(p.read(out.as_mut_ptr().cast(), 10, &mut n), kResultOk);
            assert_eq!(&out[..n as usize], b"ello");
            assert_eq!(p.seek(-1, 0, std::ptr::null_mut()), kInvalidArgument);
        }
        assert_eq!(s.bytes(), b"hello");
    }
}
