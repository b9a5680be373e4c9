//! Reading and writing a whole state through the host's `IBStream`.

use vst3::ComRef;
use vst3::Steinberg::*;

/// Reads `stream` to its end (in 1 MiB chunks); `None` for a null stream or a failed read.
///
/// # Safety
///
/// `stream` must be null or a live `IBStream`.
pub unsafe fn read_stream(stream: *mut IBStream) -> Option<Vec<u8>> {
    // SAFETY: null or live by contract.
    let stream = unsafe { ComRef::from_raw(stream) }?;
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let mut n = 0;
        // SAFETY: `chunk` is a writable buffer of the given length.
        let r = unsafe { stream.read(chunk.as_mut_ptr().cast(), chunk.len() as i32, &mut n) };
        if r != kResultOk {
            return None;
        }
        if n <= 0 {
            return Some(out);
        }
        out.extend_from_slice(&chunk[..n as usize]);
    }
}

/// Writes all of `bytes` into `stream`; false for a null stream or a short write.
///
/// # Safety
///
/// `stream` must be null or a live `IBStream`.
pub unsafe fn write_stream(stream: *mut IBStream, bytes: &[u8]) -> bool {
    // SAFETY: null or live by contract.
    let Some(stream) = (unsafe { ComRef::from_raw(stream) }) else {
        return false;
    };
    let mut done = 0usize;
    while done < bytes.len() {
        let len = (bytes.len() - done).min(i32::MAX as usize) as i32;
        let mut n = 0;
        // SAFETY: the source range lies inside `bytes`; the stream only reads it.
        let r = unsafe { stream.write(bytes.as_ptr().add(done) as *mut _, len, &mut n) };
        if r != kResultOk || n <= 0 {
            return false;
        }
        done += n as usize;
    }
    true
}
