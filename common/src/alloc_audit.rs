//! Proof that the audio path does not allocate: a global allocator that
//! counts the allocator calls made while the calling thread is inside an
//! audio section, and a CLAP extension of the bridge's proxies that reports
//! the counts of both processes.
//!
//! The bridge library and the host binary install [`AuditedAllocator`] as
//! their global allocator. The cost outside audio sections is one
//! thread-local read per allocation; inside, nothing should allocate, so
//! counting there costs nothing either. Only Rust code of the binary that
//! installs it is seen: a plugin's (or a DAW's) own allocator is its own.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::{c_void, CStr};
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    /// Depth of nested audio sections on this thread. `const` and without a
    /// destructor, so reading it from the allocator never allocates.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Allocator calls (alloc, realloc, dealloc) inside audio sections.
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Audio sections entered, so a count of zero allocations can be told apart
/// from a section that never ran.
static SECTIONS: AtomicU64 = AtomicU64::new(0);

fn on_audio_thread() -> bool {
    // `try_with`: during thread teardown the slot may be gone; such a thread
    // is no longer serving audio.
    DEPTH.try_with(|d| d.get() > 0).unwrap_or(false)
}

fn count() {
    if on_audio_thread() {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

/// [`System`], counting the calls made inside audio sections.
pub struct AuditedAllocator;

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counting touches only atomics and a
// const-initialised thread-local, neither of which allocates.
unsafe impl GlobalAlloc for AuditedAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Marks the current thread as serving audio until dropped.
pub struct AudioSection(());

impl AudioSection {
    pub fn enter() -> Self {
        DEPTH.with(|d| d.set(d.get() + 1));
        SECTIONS.fetch_add(1, Ordering::Relaxed);
        Self(())
    }
}

impl Drop for AudioSection {
    fn drop(&mut self) {
        let _ = DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Allocator calls made inside audio sections in this binary so far.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Audio sections entered in this binary so far.
pub fn sections() -> u64 {
    SECTIONS.load(Ordering::Relaxed)
}

/// The bridge-specific CLAP extension a proxy offers next to the real
/// plugin's: the audit counts of the bridge library and of the instance's
/// current host process.
pub const EXT_AUDIO_AUDIT: &CStr = c"bulkhead.audio-audit/1";

/// What [`AudioAuditExt::get`] fills in.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AudioAuditCounts {
    /// Audio-thread entries of the bridge library (every instance of it).
    pub bridge_sections: u64,
    /// Allocator calls inside them.
    pub bridge_allocations: u64,
    /// Audio operations the instance's current host process served.
    pub host_sections: u64,
    /// Allocator calls inside them.
    pub host_allocations: u64,
}

#[repr(C)]
pub struct AudioAuditExt {
    /// Fills `out`; false when the instance has no active audio region, so
    /// there are no host counts.
    pub get:
        Option<unsafe extern "C" fn(plugin: *const c_void, out: *mut AudioAuditCounts) -> bool>,
}
