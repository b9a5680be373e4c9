//! The one guard every `extern "C"` entry of the bridge goes through: a
//! panic becomes the API's failure value, never an unwind into the DAW.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, returning `failure` if it panics.
#[inline]
pub fn ffi_guard<T>(failure: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => {
            // Logging allocates, but a panic already left the fast path.
            tracing::error!("panic caught at the plugin API boundary");
            failure
        }
    }
}

/// C structs the DAW hands us to fill, for which all-zero bytes are a valid
/// value (integers, floats, char arrays, nullable pointers).
///
/// # Safety
/// Implement only for `repr(C)` structs whose every field is valid when
/// zeroed.
pub unsafe trait PlainC: Sized {
    fn zeroed() -> Self {
        // SAFETY: the implementor promises that all-zero bytes are valid.
        unsafe { std::mem::zeroed() }
    }
}

// SAFETY: integers, floats, char arrays and a nullable cookie pointer.
unsafe impl PlainC for clap_sys::ext::params::clap_param_info {}
// SAFETY: integers, a char array and a nullable string pointer.
unsafe impl PlainC for clap_sys::ext::audio_ports::clap_audio_port_info {}
// SAFETY: integers and a char array.
unsafe impl PlainC for clap_sys::ext::note_ports::clap_note_port_info {}
// SAFETY: integers only.
unsafe impl PlainC for clap_sys::ext::voice_info::clap_voice_info {}

/// Writes `value` through a DAW out-parameter. The memory behind it may be
/// uninitialised, so no reference to it is ever formed; a null or
/// misaligned pointer writes nothing and returns false.
///
/// # Safety
/// `out` is null or points to memory writable for one `T`.
pub unsafe fn write_out<T>(out: *mut T, value: T) -> bool {
    if out.is_null() || !out.is_aligned() {
        return false;
    }
    // SAFETY: non-null and aligned, writable per the contract; `write` does
    // not read or drop what was there.
    unsafe { out.write(value) };
    true
}
