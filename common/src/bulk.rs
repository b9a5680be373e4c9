//! Bulk bytes (plugin states, which may be hundreds of MiB) travel beside
//! a frame in a sealed memfd instead of inside it: the sender writes them
//! once into the memfd, the receiver maps it read-only, and neither side
//! copies them through the codec or the socket. Small payloads stay inline.
//!
//! A [`Blob`] is such a sealed, mapped byte string. The bridge keeps the
//! last state as one, so a restart hands the very same memfd to the new
//! host. Sealing (no shrink, grow or write) means a peer cannot change or
//! truncate the bytes under the other side's mapping.

use serde::{Deserialize, Serialize};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

/// Payloads up to this size travel inside the frame.
pub const INLINE_MAX: usize = 64 * 1024;
/// The largest blob either side accepts.
pub const MAX_BLOB: usize = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error("memfd: {0}")]
    Io(#[from] std::io::Error),
    #[error("a bulk payload of {len} bytes came without its memfd")]
    MissingFd { len: u64 },
    #[error("a bulk payload of {len} bytes exceeds the limit of {MAX_BLOB} bytes")]
    TooLarge { len: u64 },
    #[error("the memfd of a bulk payload is not sealed against {0}")]
    NotSealed(&'static str),
    #[error("the memfd holds {have} bytes, the message announced {len}")]
    Short { have: u64, len: u64 },
}

/// How bulk bytes are carried in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Bulk {
    Inline(#[serde(with = "serde_bytes")] Vec<u8>),
    /// In the memfd that travels with the frame, `len` bytes.
    Memfd {
        len: u64,
    },
}

impl Bulk {
    /// How to send `blob`: inline when small, else its memfd (returned, to
    /// be passed with the frame).
    pub fn of(blob: &Blob) -> (Self, Option<&OwnedFd>) {
        if blob.len() <= INLINE_MAX {
            (Bulk::Inline(blob.as_slice().to_vec()), None)
        } else {
            (
                Bulk::Memfd {
                    len: blob.len() as u64,
                },
                Some(blob.fd()),
            )
        }
    }

    /// The bytes, from the frame or from the memfd among `fds`.
    ///
    /// # Errors
    /// The memfd is missing, unsealed, short or too large.
    pub fn receive(self, fds: &mut Vec<OwnedFd>) -> Result<Blob, BulkError> {
        match self {
            Bulk::Inline(bytes) => Blob::from_bytes(&bytes),
            Bulk::Memfd { len } => {
                if fds.is_empty() {
                    return Err(BulkError::MissingFd { len });
                }
                Blob::from_fd(fds.remove(0), len)
            }
        }
    }
}

/// A sealed memfd and its read-only mapping.
#[derive(Debug)]
pub struct Blob(Arc<Mapped>);

#[derive(Debug)]
struct Mapped {
    fd: OwnedFd,
    ptr: *mut std::ffi::c_void,
    len: usize,
}

// SAFETY: the mapping is read-only and sealed against writes: shared
// immutable bytes, valid until `Mapped` drops.
unsafe impl Send for Mapped {}
// SAFETY: as above.
unsafe impl Sync for Mapped {}

impl Drop for Mapped {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: our own mapping of `len` bytes, unmapped once.
            let _ = unsafe { rustix::mm::munmap(self.ptr, self.len) };
        }
    }
}

impl Clone for Blob {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl PartialEq for Blob {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

fn new_memfd() -> Result<OwnedFd, BulkError> {
    use rustix::fs::MemfdFlags;
    Ok(rustix::fs::memfd_create(
        "bulkhead-bulk",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )
    .map_err(std::io::Error::from)?)
}

impl Blob {
    /// A blob holding a copy of `bytes`.
    ///
    /// # Errors
    /// The kernel refused the memory.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BulkError> {
        let mut w = BlobWriter::new()?;
        w.write(bytes)?;
        w.finish()
    }

    /// Maps a memfd a peer sent, after checking that it is sealed so the
    /// peer can no longer change or shrink it.
    ///
    /// # Errors
    /// Unsealed, shorter than `len`, or over the limit.
    pub fn from_fd(fd: OwnedFd, len: u64) -> Result<Self, BulkError> {
        use rustix::fs::SealFlags;
        if len > MAX_BLOB as u64 {
            return Err(BulkError::TooLarge { len });
        }
        let seals = rustix::fs::fcntl_get_seals(&fd).map_err(std::io::Error::from)?;
        for (flag, what) in [
            (SealFlags::SHRINK, "shrinking"),
            (SealFlags::WRITE, "writes"),
        ] {
            if !seals.contains(flag) {
                return Err(BulkError::NotSealed(what));
            }
        }
        let have = rustix::fs::fstat(&fd)
            .map_err(std::io::Error::from)?
            .st_size as u64;
        if have < len {
            return Err(BulkError::Short { have, len });
        }
        // The receiver reads it all: map every page in one go rather than
        // fault them in one by one.
        Self::map(fd, len as usize, true)
    }

    fn map(fd: OwnedFd, len: usize, populate: bool) -> Result<Self, BulkError> {
        use rustix::mm::{MapFlags, ProtFlags};
        let flags = if populate {
            MapFlags::SHARED | MapFlags::POPULATE
        } else {
            MapFlags::SHARED
        };
        let ptr = if len == 0 {
            std::ptr::null_mut()
        } else {
            // SAFETY: a fresh read-only shared mapping of a sealed memfd at
            // least `len` bytes long (checked by the callers); nothing else
            // aliases it mutably.
            unsafe {
                rustix::mm::mmap(
                    std::ptr::null_mut(),
                    len,
                    ProtFlags::READ,
                    flags,
                    fd.as_fd(),
                    0,
                )
            }
            .map_err(std::io::Error::from)?
        };
        Ok(Self(Arc::new(Mapped { fd, ptr, len })))
    }

    pub fn as_slice(&self) -> &[u8] {
        if self.0.len == 0 {
            return &[];
        }
        // SAFETY: a read-only mapping of `len` bytes, sealed against
        // writes and shrinking, alive as long as `self`.
        unsafe { std::slice::from_raw_parts(self.0.ptr.cast::<u8>(), self.0.len) }
    }

    pub fn len(&self) -> usize {
        self.0.len
    }

    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// The memfd, to send beside a frame.
    pub fn fd(&self) -> &OwnedFd {
        &self.0.fd
    }
}

/// Builds a blob from chunks written one after another (a plugin's or a
/// DAW's stream), straight into the memfd.
pub struct BlobWriter {
    fd: OwnedFd,
    len: usize,
}

impl BlobWriter {
    /// # Errors
    /// The kernel refused a memfd.
    pub fn new() -> Result<Self, BulkError> {
        Ok(Self {
            fd: new_memfd()?,
            len: 0,
        })
    }

    /// Appends `bytes`.
    ///
    /// # Errors
    /// Over the limit, or the kernel refused the memory.
    pub fn write(&mut self, mut bytes: &[u8]) -> Result<(), BulkError> {
        if self.len + bytes.len() > MAX_BLOB {
            return Err(BulkError::TooLarge {
                len: (self.len + bytes.len()) as u64,
            });
        }
        while !bytes.is_empty() {
            let n = rustix::io::write(&self.fd, bytes).map_err(std::io::Error::from)?;
            if n == 0 {
                return Err(BulkError::Io(std::io::ErrorKind::WriteZero.into()));
            }
            self.len += n;
            bytes = &bytes[n..];
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Seals the memfd and maps it.
    ///
    /// # Errors
    /// The kernel refused the seals or the mapping.
    pub fn finish(self) -> Result<Blob, BulkError> {
        use rustix::fs::SealFlags;
        rustix::fs::fcntl_add_seals(
            &self.fd,
            SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
        )
        .map_err(std::io::Error::from)?;
        // The writer seldom reads it back (a restart hands the memfd on).
        Blob::map(self.fd, self.len, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_through_their_memfd() {
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let blob = Blob::from_bytes(&bytes).unwrap();
        assert_eq!(blob.as_slice(), &bytes[..]);
        let (how, fd) = Bulk::of(&blob);
        assert_eq!(how, Bulk::Memfd { len: 300_000 });
        let dup = fd.unwrap().try_clone().unwrap();
        let back = how.receive(&mut vec![dup]).unwrap();
        assert_eq!(back.as_slice(), &bytes[..]);
    }

    #[test]
    fn small_blobs_travel_inline_and_empty_ones_work() {
        let blob = Blob::from_bytes(b"tiny").unwrap();
        let (how, fd) = Bulk::of(&blob);
        assert!(fd.is_none());
        assert_eq!(how.receive(&mut Vec::new()).unwrap().as_slice(), b"tiny");
        assert!(Blob::from_bytes(&[]).unwrap().is_empty());
    }

    #[test]
    fn an_unsealed_or_short_memfd_is_refused() {
        let fd = new_memfd().unwrap();
        rustix::io::write(&fd, &[1, 2, 3]).unwrap();
        assert!(matches!(Blob::from_fd(fd, 3), Err(BulkError::NotSealed(_))));
        let blob = Blob::from_bytes(&[9; 10]).unwrap();
        let dup = blob.fd().try_clone().unwrap();
        assert!(matches!(
            Blob::from_fd(dup, 11),
            Err(BulkError::Short { .. })
        ));
        assert!(matches!(
            Bulk::Memfd { len: 5 }.receive(&mut Vec::new()),
            Err(BulkError::MissingFd { .. })
        ));
    }
}
