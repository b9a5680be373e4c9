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
