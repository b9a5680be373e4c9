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

struct Data {
    bytes: Bytes,
    pos: usize,
}

/// A stream's bytes: its own, or someone else's read-only bytes (a state
/// the bridge mapped), copied only if the plugin writes or resizes.
enum Bytes {
    Own(Vec<u8>),
    Lent(Box<dyn AsRef<[u8]> + Send>),
}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Own(v) => v,
            Bytes::Lent(b) => (**b).as_ref(),
        }
    }

    fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// The bytes as the stream's own, to change.
    fn own(&mut self) -> &mut Vec<u8> {
        if let Bytes::Lent(b) = self {
            *self = Bytes::Own((**b).as_ref().to_vec());
        }
        match self {
            Bytes::Own(v) => v,
            Bytes::Lent(_) => unreachable!("made own just above"),
        }
    }
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
        Self::with_attributes(bytes, None, AttributeList::new())
    }

    /// A stream as a preset file would give it: `file_name` and `attributes` answer
    /// `IStreamAttributes`.
    pub fn with_attributes(
        bytes: Vec<u8>,
        file_name: Option<String>,
        attributes: ComWrapper<AttributeList>,
    ) -> ComWrapper<MemoryStream> {
        Self::make(Bytes::Own(bytes), file_name, attributes)
    }

    /// [`Self::with_attributes`] reading `bytes` where they are (a mapped state of many
    /// MiB is not copied unless the plugin writes to the stream).
    pub fn lending(
        bytes: impl AsRef<[u8]> + Send + 'static,
        file_name: Option<String>,
        attributes: ComWrapper<AttributeList>,
    ) -> ComWrapper<MemoryStream> {
        Self::make(Bytes::Lent(Box::new(bytes)), file_name, attributes)
    }

    fn make(
        bytes: Bytes,
        file_name: Option<String>,
        attributes: ComWrapper<AttributeList>,
    ) -> ComWrapper<MemoryStream> {
        ComWrapper::new(MemoryStream {
            data: Mutex::new(Data { bytes, pos: 0 }),
            file_name,
            attributes,
        })
    }

    /// Ends a lending: the lent bytes are let go (a plugin that kept the stream past the
    /// call, which the API does not allow, reads an empty stream).
    pub fn end_lending(&self) {
        let mut d = self.lock();
        if matches!(d.bytes, Bytes::Lent(_)) {
            d.bytes = Bytes::Own(Vec::new());
            d.pos = 0;
        }
    }

    /// A copy of the stream's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.lock().bytes.as_slice().to_vec()
    }

    /// Takes the bytes out, leaving the stream empty.
    pub fn take_bytes(&self) -> Vec<u8> {
        let mut d = self.lock();
        d.pos = 0;
        std::mem::take(d.bytes.own())
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
                    std::ptr::copy_nonoverlapping(
                        d.bytes.as_slice().as_ptr().add(d.pos),
                        buffer as *mut u8,
                        n,
                    )
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
            let pos = d.pos;
            let bytes = d.bytes.own();
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            if n > 0 {
                // SAFETY: `buffer` holds `numBytes` readable bytes (API contract); the target
                // range was just made to exist.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        buffer as *const u8,
                        bytes.as_mut_ptr().add(pos),
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
            d.bytes.own().resize(size as usize, 0);
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
    fn a_lent_stream_reads_in_place_and_copies_when_written() {
        let s = MemoryStream::lending(b"abcdef".to_vec(), None, AttributeList::new());
        let p = MemoryStream::as_ibstream(&s);
        let mut buf = [0u8; 4];
        let mut n = 0;
        // SAFETY: valid buffers and out-parameters.
        unsafe {
            assert_eq!(p.read(buf.as_mut_ptr().cast(), 4, &mut n), kResultOk);
            assert_eq!((&buf, n), (b"abcd", 4));
            let mut x = *b"XY";
            assert_eq!(p.write(x.as_mut_ptr().cast(), 2, &mut n), kResultOk);
        }
        assert_eq!(s.bytes(), b"abcdXY");
        assert_eq!(s.take_bytes(), b"abcdXY");
        let s = MemoryStream::lending(b"abc".to_vec(), None, AttributeList::new());
        s.end_lending();
        assert!(s.bytes().is_empty());
    }

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
