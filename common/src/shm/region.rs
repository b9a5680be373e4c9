//! A sealed memfd mapping shared by the bridge and one host process.

use super::control::{Control, MAGIC};
use super::layout::ShmLayout;
use crate::ProtocolError;
use rustix::fs::{MemfdFlags, SealFlags};
use rustix::mm::{MapFlags, ProtFlags};
use std::os::fd::{AsFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

/// A mapping of the audio block region. Unmapped on drop.
pub struct ShmRegion {
    base: NonNull<u8>,
    len: usize,
    fd: OwnedFd,
}

// SAFETY: the mapping is plain shared memory; every access goes through
// atomics or raw copies whose bounds are checked, so sharing the handle
// between threads is no different from sharing a `&[AtomicU8]`.
unsafe impl Send for ShmRegion {}
// SAFETY: see `Send` above.
unsafe impl Sync for ShmRegion {}

impl ShmRegion {
    /// Creates a region for `layout`, sealed so that it can never shrink
    /// under the host process's feet (or ours).
    ///
    /// # Errors
    /// Fails when the kernel refuses the memfd or the mapping.
    pub fn create(layout: &ShmLayout) -> Result<Self, ProtocolError> {
        let fd = rustix::fs::memfd_create(
            "bulkhead-audio",
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        )
        .map_err(|e| ProtocolError::Io(e.into()))?;
        rustix::fs::ftruncate(&fd, layout.total_len as u64)
            .map_err(|e| ProtocolError::Io(e.into()))?;
        rustix::fs::fcntl_add_seals(&fd, SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL)
            .map_err(|e| ProtocolError::Io(e.into()))?;
        let region = Self::map(fd, layout.total_len)?;
        region.control().magic.store(MAGIC, Ordering::Release);
        Ok(region)
    }

    /// Maps a region received from the bridge, after checking that it is
    /// sealed against shrinking and large enough for `layout`.
    ///
    /// # Errors
    /// Fails on an unsealed, too small or foreign region.
    pub fn open(fd: OwnedFd, layout: &ShmLayout) -> Result<Self, ProtocolError> {
        let seals = rustix::fs::fcntl_get_seals(&fd).map_err(|e| ProtocolError::Io(e.into()))?;
        if !seals.contains(SealFlags::SHRINK) {
            return Err(ProtocolError::Malformed(
                "audio region is not sealed against shrinking".into(),
            ));
        }
        let size = rustix::fs::fstat(&fd)
            .map_err(|e| ProtocolError::Io(e.into()))?
            .st_size as usize;
        if size < layout.total_len {
            return Err(ProtocolError::Malformed(format!(
                "audio region has {size} bytes, layout needs {}",
                layout.total_len
            )));
        }
        let region = Self::map(fd, layout.total_len)?;
        if region.control().magic.load(Ordering::Acquire) != MAGIC {
            return Err(ProtocolError::Malformed(
                "audio region has a foreign magic".into(),
            ));
        }
        Ok(region)
    }

    fn map(fd: OwnedFd, len: usize) -> Result<Self, ProtocolError> {
        // SAFETY: a fresh shared mapping of a sealed memfd at a place of the
        // kernel's choosing; it aliases no Rust object.
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                fd.as_fd(),
                0,
            )
        }
        .map_err(|e| ProtocolError::Io(e.into()))?;
        // Keep audio pages resident where RLIMIT_MEMLOCK allows; a refusal
        // only costs a possible page fault.
        // SAFETY: `ptr..ptr+len` is the mapping we just made.
        let _ = unsafe { rustix::mm::mlock(ptr, len) };
        let base = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| ProtocolError::Malformed("mmap returned null".into()))?;
        Ok(Self { base, len, fd })
    }

    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn control(&self) -> &Control {
        // SAFETY: every layout starts with a `Control` (64-byte aligned; the
        // mapping is page aligned) and the region is at least that large;
        // `Control` holds only atomics, for which any bit pattern is valid.
        unsafe { &*self.base.as_ptr().cast::<Control>() }
    }

    /// A pointer to `len` bytes at `offset`, or `None` when that range is
    /// outside the mapping.
    pub fn range(&self, offset: usize, len: usize) -> Option<*mut u8> {
        let end = offset.checked_add(len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: `offset + len <= self.len`, so the result stays inside the
        // mapping.
        Some(unsafe { self.base.as_ptr().add(offset) })
    }
}

impl Drop for ShmRegion {
    fn drop(&mut self) {
        // SAFETY: `base..base+len` is our mapping and nothing borrows it past
        // the region's lifetime.
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr().cast(), self.len) };
    }
}
