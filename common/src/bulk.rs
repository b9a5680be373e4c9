//! Bulk bytes (plugin states, which may be hundreds of MiB) travel beside
//! a frame in a memfd instead of inside it: the sender writes them once
//! into the memfd, the receiver maps it read-only, and neither side copies
//! them through the codec or the socket. Small payloads stay inline.
//!
//! A [`Blob`] is such a mapped byte string that its peer cannot change.
//! The bridge keeps the last state as one, so a restart hands the very same
//! memfd to the new host. Two ways to make the bytes unchangeable for the
//! receiver:
//!
//! - **Sealed** (no shrink, grow or write): what a host sends, and what the
//!   bridge demands of it. A host that kept a writable mapping could let a
//!   scribbling plugin change the bytes the bridge keeps.
//! - **Kept** ([`BlobWriter::finish_kept`]): the bridge's own copy of a
//!   state the DAW loaded. A host gets a read-only descriptor of it (it can
//!   neither write, map writable, resize nor seal through that), and the
//!   bridge keeps the memfd writable so that, once no one holds the blob
//!   any more, the next load is read straight into the same pages
//!   ([`Blob::into_writer`]): fresh pages cost the kernel as much again as
//!   the copy (16 MiB: about 7 ms against 4 here; BENCHMARKS.md, session 5).

use rustix::fs::SealFlags;
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
    #[error("the stream failed while it was read")]
    StreamFailed,
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

    /// The bytes a host sent, from the frame or from the memfd among
    /// `fds`, which must be sealed.
    ///
    /// # Errors
    /// The memfd is missing, unsealed, short or too large.
    pub fn receive(self, fds: &mut Vec<OwnedFd>) -> Result<Blob, BulkError> {
        self.receive_with(fds, false)
    }

    /// The bytes the bridge sent: its memfd is sealed, or a read-only
    /// descriptor of one it keeps (see the module's docs).
    ///
    /// # Errors
    /// The memfd is missing, writable and unsealed, short or too large.
    pub fn receive_from_bridge(self, fds: &mut Vec<OwnedFd>) -> Result<Blob, BulkError> {
        self.receive_with(fds, true)
    }

    fn receive_with(
        self,
        fds: &mut Vec<OwnedFd>,
        read_only_will_do: bool,
    ) -> Result<Blob, BulkError> {
        match self {
            Bulk::Inline(bytes) => Blob::from_bytes(&bytes),
            Bulk::Memfd { len } => {
                if fds.is_empty() {
                    return Err(BulkError::MissingFd { len });
                }
                Blob::from_fd_checked(fds.remove(0), len, read_only_will_do)
            }
        }
    }
}

/// A memfd and its mapping; see the module's docs.
#[derive(Debug)]
pub struct Blob(Arc<Mapped>);

#[derive(Debug)]
struct Mapped {
    fd: OwnedFd,
    /// A kept blob's read-only descriptor, what peers get.
    read_only: Option<OwnedFd>,
    ptr: *mut std::ffi::c_void,
    len: usize,
    /// The mapping's length (a kept blob's covers its whole memfd, which
    /// may be longer than the bytes).
    mapped: usize,
}

// SAFETY: the bytes are immutable while a `Blob` exists: a sealed memfd
// cannot be written; a kept one is written only through a `BlobWriter`,
// which takes the memfd from the last `Blob` (`into_writer`). Valid until
// `Mapped` drops.
unsafe impl Send for Mapped {}
// SAFETY: as above.
unsafe impl Sync for Mapped {}

impl Drop for Mapped {
    fn drop(&mut self) {
        if self.mapped > 0 {
            // SAFETY: our own mapping of `mapped` bytes, unmapped once.
            let _ = unsafe { rustix::mm::munmap(self.ptr, self.mapped) };
        }
    }
}

impl Clone for Blob {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl AsRef<[u8]> for Blob {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
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

/// A shared mapping of `len` bytes of `fd` (null for none).
fn map(
    fd: &OwnedFd,
    len: usize,
    writable: bool,
    populate: bool,
) -> Result<*mut std::ffi::c_void, BulkError> {
    use rustix::mm::{MapFlags, ProtFlags};
    if len == 0 {
        return Ok(std::ptr::null_mut());
    }
    let prot = if writable {
        ProtFlags::READ | ProtFlags::WRITE
    } else {
        ProtFlags::READ
    };
    let flags = if populate {
        MapFlags::SHARED | MapFlags::POPULATE
    } else {
        MapFlags::SHARED
    };
    // SAFETY: a fresh shared mapping of a memfd at least `len` bytes long
    // (checked or made so by the callers); its users are `Blob` (reads)
    // and `BlobWriter` (the only writer).
    let ptr = unsafe { rustix::mm::mmap(std::ptr::null_mut(), len, prot, flags, fd.as_fd(), 0) };
    Ok(ptr.map_err(std::io::Error::from)?)
}

impl Blob {
    /// A (sealed) blob holding a copy of `bytes`.
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
        Self::from_fd_checked(fd, len, false)
    }

    /// [`Self::from_fd`]; `read_only_will_do`: a read-only descriptor of
    /// an unsealed memfd is taken too (the bridge's kept blobs).
    fn from_fd_checked(fd: OwnedFd, len: u64, read_only_will_do: bool) -> Result<Self, BulkError> {
        if len > MAX_BLOB as u64 {
            return Err(BulkError::TooLarge { len });
        }
        let read_only = read_only_will_do
            && !rustix::fs::fcntl_getfl(&fd)
                .map_err(std::io::Error::from)?
                .intersects(rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::RDWR);
        if !read_only {
            let seals = rustix::fs::fcntl_get_seals(&fd).map_err(std::io::Error::from)?;
            for (flag, what) in [
                (SealFlags::SHRINK, "shrinking"),
                (SealFlags::WRITE, "writes"),
            ] {
                if !seals.contains(flag) {
                    return Err(BulkError::NotSealed(what));
                }
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
        let ptr = map(&fd, len as usize, false, true)?;
        Ok(Self(Arc::new(Mapped {
            fd,
            read_only: None,
            ptr,
            len: len as usize,
            mapped: len as usize,
        })))
    }

    pub fn as_slice(&self) -> &[u8] {
        if self.0.len == 0 {
            return &[];
        }
        // SAFETY: a mapping of at least `len` bytes whose bytes no one
        // changes while a `Blob` holds them (see `Mapped`), alive as long
        // as `self`.
        unsafe { std::slice::from_raw_parts(self.0.ptr.cast::<u8>(), self.0.len) }
    }

    pub fn len(&self) -> usize {
        self.0.len
    }

    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// The descriptor to send beside a frame (read-only for a kept blob).
    pub fn fd(&self) -> &OwnedFd {
        self.0.read_only.as_ref().unwrap_or(&self.0.fd)
    }

    /// Whether this is a kept blob (its pages can be written again).
    pub fn is_kept(&self) -> bool {
        self.0.read_only.is_some()
    }

    /// The pages of a kept blob nobody else holds, to write the next bytes
    /// into; the blob back otherwise.
    ///
    /// # Errors
    /// The blob is sealed or still held elsewhere.
    pub fn into_writer(self) -> Result<BlobWriter, Blob> {
        if !self.is_kept() {
            return Err(self);
        }
        let mut m = Arc::try_unwrap(self.0).map_err(Blob)?;
        let Ok(fd) = m.fd.try_clone() else {
            return Err(Blob(Arc::new(m)));
        };
        let room = (m.mapped > 0).then(|| Room {
            ptr: m.ptr,
            capacity: m.mapped,
        });
        // The mapping now belongs to the writer.
        m.mapped = 0;
        Ok(BlobWriter { fd, len: 0, room })
    }
}

/// Builds a blob from chunks written one after another (a plugin's or a
/// DAW's stream), straight into the memfd: through a writable mapping
/// where there is one (a kept blob's pages, [`Blob::into_writer`]), with
/// `write` past it.
pub struct BlobWriter {
    fd: OwnedFd,
    len: usize,
    room: Option<Room>,
}

/// The writable mapping of a writer's first pages.
struct Room {
    ptr: *mut std::ffi::c_void,
    capacity: usize,
}

// SAFETY: the mapping belongs to the writer alone (see `Mapped`); moving it
// to another thread moves that ownership.
unsafe impl Send for Room {}

impl Drop for Room {
    fn drop(&mut self) {
        // SAFETY: our own mapping of `capacity` bytes, unmapped once.
        let _ = unsafe { rustix::mm::munmap(self.ptr, self.capacity) };
    }
}

/// The buffer a stream is read into past a writer's room.
const CHUNK: usize = 1 << 20;

impl BlobWriter {
    /// # Errors
    /// The kernel refused a memfd.
    pub fn new() -> Result<Self, BulkError> {
        Ok(Self {
            fd: new_memfd()?,
            len: 0,
            room: None,
        })
    }

    /// How many bytes go in through the mapping.
    pub fn room(&self) -> usize {
        self.room.as_ref().map_or(0, |r| r.capacity)
    }

    /// The unwritten part of the room.
    fn room_left(&mut self) -> &mut [u8] {
        match &self.room {
            Some(r) if r.capacity > self.len => {
                // SAFETY: a writable mapping of `capacity` bytes that only
                // this writer reaches (borrowed mutably here); `len` is
                // below `capacity`.
                unsafe {
                    std::slice::from_raw_parts_mut(
                        r.ptr.cast::<u8>().add(self.len),
                        r.capacity - self.len,
                    )
                }
            }
            _ => &mut [],
        }
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
        let room = self.room_left();
        let n = room.len().min(bytes.len());
        room[..n].copy_from_slice(&bytes[..n]);
        self.len += n;
        bytes = &bytes[n..];
        while !bytes.is_empty() {
            let n = rustix::io::pwrite(&self.fd, bytes, self.len as u64)
                .map_err(std::io::Error::from)?;
            if n == 0 {
                return Err(BulkError::Io(std::io::ErrorKind::WriteZero.into()));
            }
            self.len += n;
            bytes = &bytes[n..];
        }
        Ok(())
    }

    /// Appends a whole stream: `read` fills the buffer it is given (the
    /// room first, so a DAW's stream is copied once) and answers how many
    /// bytes it put there, 0 at the end, `None` when the stream failed.
    ///
    /// # Errors
    /// The stream failed, went over the limit, or the kernel refused the
    /// memory.
    pub fn read_from(
        &mut self,
        mut read: impl FnMut(&mut [u8]) -> Option<usize>,
    ) -> Result<(), BulkError> {
        let mut chunk = Vec::new();
        loop {
            let room = self.room_left();
            let n = if room.is_empty() {
                chunk.resize(CHUNK, 0);
                let n = read(&mut chunk).ok_or(BulkError::StreamFailed)?;
                self.write(&chunk[..n.min(CHUNK)])?;
                n
            } else {
                let left = room.len();
                let n = read(room).ok_or(BulkError::StreamFailed)?.min(left);
                self.len += n;
                n
            };
            if n == 0 {
                return Ok(());
            }
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Seals the memfd and maps it: a blob any peer can take.
    ///
    /// # Errors
    /// The kernel refused the seals or the mapping.
    pub fn finish(mut self) -> Result<Blob, BulkError> {
        // Sealing against writes needs the writable mapping gone.
        drop(self.room.take());
        // A reused memfd may be longer than these bytes.
        rustix::fs::ftruncate(&self.fd, self.len as u64).map_err(std::io::Error::from)?;
        rustix::fs::fcntl_add_seals(
            &self.fd,
            SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
        )
        .map_err(std::io::Error::from)?;
        // The writer seldom reads it back (a restart hands the memfd on).
        let ptr = map(&self.fd, self.len, false, false)?;
        Ok(Blob(Arc::new(Mapped {
            fd: self.fd,
            read_only: None,
            ptr,
            len: self.len,
            mapped: self.len,
        })))
    }

    /// A kept blob (see the module's docs): not sealed, its pages mapped
    /// writable for a later [`Blob::into_writer`], peers given a read-only
    /// descriptor.
    ///
    /// # Errors
    /// The kernel refused the descriptor or the mapping.
    pub fn finish_kept(mut self) -> Result<Blob, BulkError> {
        use rustix::fs::{Mode, OFlags};
        // Reopening the memfd read-only gives a descriptor that cannot
        // write, map writable, resize or seal. Without /proc, sealing
        // does as well (the pages are not reused then).
        let path = format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&self.fd)
        );
        let Ok(read_only) = rustix::fs::open(
            path.as_str(),
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return self.finish();
        };
        let (ptr, mapped) = match self.room.take() {
            // The mapping covers the bytes: it stays, and so do the pages
            // past them, unless they are more than the bytes (a small state
            // read into a large one's pages would keep them all).
            Some(room) if room.capacity >= self.len => {
                let room = std::mem::ManuallyDrop::new(room);
                let need = self.len.next_multiple_of(page_size());
                if room.capacity > 2 * need {
                    // SAFETY: the tail of our own mapping, page aligned
                    // (`need` is a multiple of the page size and the
                    // mapping starts on a page), never referenced again.
                    unsafe {
                        rustix::mm::munmap(
                            room.ptr.cast::<u8>().add(need).cast(),
                            room.capacity - need,
                        )
                    }
                    .map_err(std::io::Error::from)?;
                    rustix::fs::ftruncate(&self.fd, need as u64).map_err(std::io::Error::from)?;
                    (room.ptr, need)
                } else {
                    (room.ptr, room.capacity)
                }
            }
            // The stream went on past it (or there was none): map it all.
            _ => (map(&self.fd, self.len, true, false)?, self.len),
        };
        Ok(Blob(Arc::new(Mapped {
            fd: self.fd,
            read_only: Some(read_only),
            ptr,
            len: self.len,
            mapped,
        })))
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096).max(1)
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
        let empty = BlobWriter::new().unwrap().finish_kept().unwrap();
        assert!(empty.is_empty());
        let again = empty.into_writer().ok().unwrap().finish_kept().unwrap();
        assert!(again.is_empty());
    }

    /// A stream read in uneven pieces.
    fn pieces(bytes: &[u8]) -> impl FnMut(&mut [u8]) -> Option<usize> + '_ {
        let mut at = 0;
        let mut turn = 0usize;
        move |buf: &mut [u8]| {
            turn += 1;
            let n = buf
                .len()
                .min(bytes.len() - at)
                .min(1 + turn * 7919 % 70_000);
            buf[..n].copy_from_slice(&bytes[at..at + n]);
            at += n;
            Some(n)
        }
    }

    /// What a host gets of `blob`.
    fn sent(blob: &Blob) -> Result<Blob, BulkError> {
        let (how, fd) = Bulk::of(blob);
        how.receive_from_bridge(&mut fd.map(|f| f.try_clone().unwrap()).into_iter().collect())
    }

    #[test]
    fn kept_blobs_take_the_next_bytes_into_the_same_pages() {
        let stream = |len: usize, salt: u32| -> Vec<u8> {
            (0..len as u32)
                .map(|i| ((i ^ salt) * 7 % 253) as u8)
                .collect()
        };
        let mut w = BlobWriter::new().unwrap();
        let first = stream(1_000_000, 1);
        w.read_from(pieces(&first)).unwrap();
        let mut blob = w.finish_kept().unwrap();
        assert!(blob.is_kept());
        assert_eq!(blob.as_slice(), &first[..]);
        assert_eq!(sent(&blob).unwrap().as_slice(), &first[..]);
        // Shorter, longer than the pages (spilling past them), tiny, empty
        // and long again: each comes back exactly, to us and to a host.
        for (turn, len) in [300_000, 2_500_000, 10, 0, 2_000_000]
            .into_iter()
            .enumerate()
        {
            let room = blob.0.mapped;
            let mut w = blob.into_writer().expect("nobody else holds it");
            assert_eq!(w.room(), room);
            let bytes = stream(len, turn as u32 + 2);
            w.read_from(pieces(&bytes)).unwrap();
            blob = w.finish_kept().unwrap();
            assert_eq!(blob.as_slice(), &bytes[..], "turn {turn}");
            assert_eq!(sent(&blob).unwrap().as_slice(), &bytes[..], "turn {turn}");
        }
    }

    #[test]
    fn a_small_state_read_into_large_pages_gives_the_rest_back() {
        let mut w = BlobWriter::new().unwrap();
        w.write(&[3; 1_000_000]).unwrap();
        let mut w = w.finish_kept().unwrap().into_writer().unwrap();
        w.write(&[4; 5000]).unwrap();
        let blob = w.finish_kept().unwrap();
        assert_eq!(blob.as_slice(), &[4; 5000][..]);
        let pages = 5000usize.next_multiple_of(page_size());
        assert_eq!(blob.0.mapped, pages);
        assert_eq!(
            rustix::fs::fstat(blob.fd()).unwrap().st_size as usize,
            pages
        );
        assert_eq!(sent(&blob).unwrap().as_slice(), &[4; 5000][..]);
        // Close to the pages' size: they all stay.
        let mut w = blob.into_writer().unwrap();
        w.write(&[5; 6000]).unwrap();
        assert_eq!(w.finish_kept().unwrap().0.mapped, pages);
    }

    #[test]
    fn a_blob_held_elsewhere_or_sealed_is_not_written_again() {
        let mut w = BlobWriter::new().unwrap();
        w.write(&[5; 100_000]).unwrap();
        let kept = w.finish_kept().unwrap();
        let held = kept.clone();
        let kept = kept.into_writer().err().expect("held elsewhere");
        assert_eq!(held.as_slice(), &[5; 100_000][..]);
        drop(held);
        assert!(kept.into_writer().is_ok());
        let sealed = Blob::from_bytes(&[1; 100_000]).unwrap();
        assert!(!sealed.is_kept());
        assert!(sealed.into_writer().is_err());
    }

    #[test]
    fn a_host_cannot_change_or_resize_a_kept_blob() {
        let mut w = BlobWriter::new().unwrap();
        w.write(&[7; 100_000]).unwrap();
        let blob = w.finish_kept().unwrap();
        let fd = blob.fd();
        assert!(rustix::io::pwrite(fd, &[1], 0).is_err());
        assert!(rustix::fs::ftruncate(fd, 10).is_err());
        assert!(rustix::fs::fcntl_add_seals(fd, SealFlags::WRITE).is_err());
        // SAFETY: a mapping attempt the kernel must refuse.
        let writable = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                4096,
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                rustix::mm::MapFlags::SHARED,
                fd,
                0,
            )
        };
        assert!(writable.is_err());
        assert_eq!(blob.as_slice(), &[7; 100_000][..]);
        // The bridge does not take such a descriptor from a host: a host
        // must seal what it sends.
        let (how, fd) = Bulk::of(&blob);
        let back = how.receive(&mut vec![fd.unwrap().try_clone().unwrap()]);
        assert!(matches!(back, Err(BulkError::NotSealed(_))));
    }

    #[test]
    fn a_failing_stream_is_an_error() {
        let mut w = BlobWriter::new().unwrap();
        let mut calls = 0;
        let failed = w.read_from(|buf| {
            calls += 1;
            (calls == 1).then_some(buf.len().min(100))
        });
        assert!(matches!(failed, Err(BulkError::StreamFailed)));
    }

    #[test]
    fn an_unsealed_or_short_memfd_is_refused() {
        let fd = new_memfd().unwrap();
        rustix::io::write(&fd, &[1, 2, 3]).unwrap();
        assert!(matches!(Blob::from_fd(fd, 3), Err(BulkError::NotSealed(_))));
        // Writable and unsealed is refused from the bridge too.
        let fd = new_memfd().unwrap();
        rustix::io::write(&fd, &[1; 70_000]).unwrap();
        assert!(matches!(
            Bulk::Memfd { len: 70_000 }.receive_from_bridge(&mut vec![fd]),
            Err(BulkError::NotSealed(_))
        ));
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
