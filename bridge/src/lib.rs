//! The bulkhead bridge: a CLAP plugin library whose plugins are proxies for
//! the plugins of a real `.clap` file, each running in its own
//! `bulkhead-host` process. A bridged copy is this library under another
//! name with a manifest beside it ([`bulkhead_common::manifest`]).

pub mod audio;
pub mod clap;
pub mod error;
pub mod guard;
pub mod launcher;
pub mod link;
pub mod process;
pub mod supervision;
pub mod vst3;

pub use error::BridgeError;

/// Counts allocations on the DAW's audio thread inside the bridge, so tests
/// can prove there are none (see `bulkhead_common::alloc_audit`).
#[global_allocator]
static ALLOCATOR: bulkhead_common::alloc_audit::AuditedAllocator =
    bulkhead_common::alloc_audit::AuditedAllocator;

/// The file this library was loaded from (a bridged copy's own path when
/// the copy is the bridge itself).
pub fn library_path() -> Option<std::path::PathBuf> {
    // SAFETY: a zeroed Dl_info is a valid out-parameter.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: the address is a function of this library; `info` is ours.
    let ok = unsafe { libc::dladdr(library_path as *const std::ffi::c_void, &mut info) };
    if ok == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr returned a C string naming the object.
    let path = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    Some(std::path::PathBuf::from(
        <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(path.to_bytes()),
    ))
}
