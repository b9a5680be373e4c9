//! Bulk bytes (plugin states, which may be hundreds of MiB) travel beside
//! a frame in a sealed memfd instead of inside it: the sender writes them
//! once into the memfd, the receiver maps it read-only, and neither side
//! copies them through the codec or the socket. Small payloads stay inline.
//!
//! A [`Blob`] is such a sealed, mapped byte string. The bridge keeps the
//! last state as one, so a restart hands the very same memfd to the new
//! host. Seals bind the memfd itself, whoever opens it again (a descriptor
//! reopened through `/proc` included), so a peer cannot change or truncate
//! the bytes under the other side's mapping:
//!
//! - A host seals what it sends against every write, and the bridge
//!   demands it: a host that kept a writable mapping could let a
//!   scribbling plugin change the bytes the bridge keeps.
//! - The bridge's own copy of a state the DAW loaded is **kept**
//!   ([`BlobWriter::finish_kept`]): sealed against shrinking, growing and
//!   *future* writes (no `write`, no new writable mapping, by anyone),
//!   while the bridge keeps the writable mapping it had before sealing.
//!   Once no one holds the blob any more, the next load is read straight
//!   into those pages ([`Blob::into_writer`]): fresh pages cost the kernel
//!   as much again as the copy (16 MiB: about 7 ms against 4 here;
//!   BENCHMARKS.md, session 5). A host takes such a memfd.

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
    /// `fds`, which must be sealed against every write.
    ///
    /// # Errors
    /// The memfd is missing, unsealed, short or too large.
    pub fn receive(self, fds: &mut Vec<OwnedFd>) -> Result<Blob, BulkError> {
        self.receive_with(fds, false)
    }

    /// The bytes the bridge sent: its memfd may be sealed against future
    /// writes only (a kept state, see the module's docs).
    ///
    /// # Errors
    /// The memfd is missing, unsealed, short or too large.
    pub fn receive_from_bridge(self, fds: &mut Vec<OwnedFd>) -> Result<Blob, BulkError> {
        self.receive_with(fds, true)
    }

    fn receive_with(
        self,
        fds: &mut Vec<OwnedFd>,
        future_writes_will_do: bool,
    ) -> Result<Blob, BulkError> {
        match self {
            Bulk::Inline(bytes) => Blob::from_bytes(&bytes),
            Bulk::Memfd { len } => {
                if fds.is_empty() {
                    return Err(BulkError::MissingFd { len });
                }
                Blob::from_fd_checked(fds.remove(0), len, future_writes_will_do)
            }
        }
    }
}

/// A sealed memfd and its mapping; see the module's docs.
#[derive(Debug)]
pub struct Blob(Arc<Mapped>);

#[derive(Debug)]
struct Mapped {
    fd: OwnedFd,
    /// Kept: sealed against future writes, mapped writable by us.
    kept: bool,
    ptr: *mut std::ffi::c_void,
    len: usize,
    /// The mapping's length (a kept blob's covers its whole memfd, which
    /// may be longer than the bytes).
    mapped: usize,
}

// SAFETY: the bytes are immutable while a `Blob` exists: the memfd is
// sealed against writes, or (kept) against future writes with our own
// writable mapping the only way in, which only a `BlobWriter` uses, and
// it takes the mapping from the last `Blob` in this process
// (`into_writer`). A host that mapped it let go before it answered the
// call that carried it (its load handlers drop the blob, a VST3 stream
// ends its lending), and the bridge reuses pages only after that answer.
// Valid until `Mapped` drops.
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

fn add_seals(fd: &OwnedFd, seals: SealFlags) -> Result<(), BulkError> {
    Ok(rustix::fs::fcntl_add_seals(fd, seals).map_err(std::io::Error::from)?)
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

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096).max(1)
}

impl Blob {
    /// A blob holding a copy of `bytes`, sealed against every write.
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

    /// [`Self::from_fd`]; `future_writes_will_do`: a seal against future
    /// writes is taken for one against writes (the bridge's kept states).
    fn from_fd_checked(
        fd: OwnedFd,
        len: u64,
        future_writes_will_do: bool,
    ) -> Result<Self, BulkError> {
        if len > MAX_BLOB as u64 {
            return Err(BulkError::TooLarge { len });
        }
        let seals = rustix::fs::fcntl_get_seals(&fd).map_err(std::io::Error::from)?;
        if !seals.contains(SealFlags::SHRINK) {
            return Err(BulkError::NotSealed("shrinking"));
        }
        let against_writes = seals.contains(SealFlags::WRITE)
            || (future_writes_will_do && seals.contains(SealFlags::FUTURE_WRITE));
        if !against_writes {
            return Err(BulkError::NotSealed("writes"));
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
            kept: false,
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

    /// The memfd, to send beside a frame.
    pub fn fd(&self) -> &OwnedFd {
        &self.0.fd
    }

    /// Whether this is a kept blob (its pages can be written again).
    pub fn is_kept(&self) -> bool {
        self.0.kept
    }

    /// Whether `self` and `other` are the same memfd.
    pub fn same(&self, other: &Blob) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The pages of a kept blob nobody else holds, to write the next bytes
    /// into; the blob back otherwise.
    ///
    /// # Errors
    /// The blob is sealed against all writes, has no pages, or is still
    /// held elsewhere.
    pub fn into_writer(self) -> Result<BlobWriter, Blob> {
        if !self.0.kept || self.0.mapped == 0 {
            return Err(self);
        }
        let mut m = Arc::try_unwrap(self.0).map_err(Blob)?;
        let Ok(fd) = m.fd.try_clone() else {
            return Err(Blob(Arc::new(m)));
        };
        let room = Some(Room {
            ptr: m.ptr,
            capacity: m.mapped,
        });
        // The mapping now belongs to the writer.
        m.mapped = 0;
        Ok(BlobWriter {
            fd,
            len: 0,
            room,
            sealed: true,
        })
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
    /// The memfd is a kept blob's, sealed: only the room can be written,
    /// and bytes that go past it move to a new memfd.
    sealed: bool,
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

impl Room {
    fn bytes(&self, len: usize) -> &[u8] {
        // SAFETY: our own mapping of `capacity >= len` bytes (callers pass
        // the writer's length, which stays within the room while it has
        // one).
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), len.min(self.capacity)) }
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
            sealed: false,
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

    /// Moves the bytes written so far out of a kept blob's sealed memfd
    /// into a new one that can grow (a state larger than the last, or much
    /// smaller).
    fn unseal(&mut self) -> Result<(), BulkError> {
        let fd = new_memfd()?;
        if let Some(room) = &self.room {
            let mut done = 0;
            let bytes = room.bytes(self.len);
            while done < bytes.len() {
                let n = rustix::io::pwrite(&fd, &bytes[done..], done as u64)
                    .map_err(std::io::Error::from)?;
                if n == 0 {
                    return Err(BulkError::Io(std::io::ErrorKind::WriteZero.into()));
                }
                done += n;
            }
        }
        self.room = None;
        self.fd = fd;
        self.sealed = false;
        Ok(())
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
        if !bytes.is_empty() && self.sealed {
            self.unseal()?;
        }
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

    /// Seals the memfd against every write and maps it: a blob any peer
    /// takes.
    ///
    /// # Errors
    /// The kernel refused the seals or the mapping.
    pub fn finish(mut self) -> Result<Blob, BulkError> {
        if self.sealed {
            self.unseal()?;
        }
        // Sealing against writes needs the writable mapping gone.
        drop(self.room.take());
        add_seals(
            &self.fd,
            SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
        )?;
        // The writer seldom reads it back (a restart hands the memfd on).
        let ptr = map(&self.fd, self.len, false, false)?;
        Ok(Blob(Arc::new(Mapped {
            fd: self.fd,
            kept: false,
            ptr,
            len: self.len,
            mapped: self.len,
        })))
    }

    /// A kept blob (see the module's docs): sealed against shrinking,
    /// growing and future writes, its pages kept mapped writable for a
    /// later [`Blob::into_writer`].
    ///
    /// # Errors
    /// The kernel refused the seals or the mapping.
    pub fn finish_kept(mut self) -> Result<Blob, BulkError> {
        // A small state read into a large one's pages would keep them all:
        // it moves to a memfd of its own.
        let need = self.len.next_multiple_of(page_size());
        if self.room() > 2 * need {
            self.unseal()?;
        }
        let (ptr, mapped) = match self.room.take() {
            // A kept blob's pages, already sealed.
            Some(room) => {
                let room = std::mem::ManuallyDrop::new(room);
                (room.ptr, room.capacity)
            }
            None => {
                // Mapped writable before the seal, which forbids new
                // writable mappings but not this one.
                let ptr = map(&self.fd, self.len, true, false)?;
                let sealed = add_seals(
                    &self.fd,
                    SealFlags::SHRINK | SealFlags::GROW | SealFlags::FUTURE_WRITE | SealFlags::SEAL,
                );
                if let Err(e) = sealed {
                    if self.len > 0 {
                        // SAFETY: the mapping just made, unmapped once.
                        let _ = unsafe { rustix::mm::munmap(ptr, self.len) };
                    }
                    return Err(e);
                }
                (ptr, self.len)
            }
        };
        Ok(Blob(Arc::new(Mapped {
            fd: self.fd,
            kept: true,
            ptr,
            len: self.len,
            mapped,
        })))
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
        let empty = BlobWriter::new().unwrap().finish_kept().unwrap();
        assert!(empty.is_empty());
        // No pages to lend.
        assert!(empty.into_writer().is_err());
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

    fn stream(len: usize, salt: u32) -> Vec<u8> {
        (0..len as u32)
            .map(|i| ((i ^ salt) * 7 % 253) as u8)
            .collect()
    }

    #[test]
    fn kept_blobs_take_the_next_bytes_into_the_same_pages() {
        let mut w = BlobWriter::new().unwrap();
        let first = stream(1_000_000, 1);
        w.read_from(pieces(&first)).unwrap();
        let mut blob = w.finish_kept().unwrap();
        assert!(blob.is_kept());
        assert_eq!(blob.as_slice(), &first[..]);
        assert_eq!(sent(&blob).unwrap().as_slice(), &first[..]);
        // The same size and a little smaller stay in the pages; longer
        // (spilling past them), much smaller and empty move out; each comes
        // back exactly, to us and to a host.
        for (turn, (len, stays)) in [
            (1_000_000, true),
            (990_000, true),
            (2_500_000, false),
            (2_400_000, true),
            (10, false),
            (0, false),
        ]
        .into_iter()
        .enumerate()
        {
            let inode = |b: &Blob| rustix::fs::fstat(b.fd()).unwrap().st_ino;
            let pages = inode(&blob);
            let mut w = blob
                .into_writer()
                .unwrap_or_else(|_| BlobWriter::new().unwrap());
            let bytes = stream(len, turn as u32 + 2);
            w.read_from(pieces(&bytes)).unwrap();
            blob = w.finish_kept().unwrap();
            assert_eq!(inode(&blob) == pages, stays, "turn {turn}");
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
        assert_eq!(blob.0.mapped, 5000);
        assert_eq!(rustix::fs::fstat(blob.fd()).unwrap().st_size, 5000);
        assert_eq!(sent(&blob).unwrap().as_slice(), &[4; 5000][..]);
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
    fn a_host_cannot_change_or_resize_a_kept_blob_even_through_proc() {
        use rustix::fs::{Mode, OFlags};
        let mut w = BlobWriter::new().unwrap();
        w.write(&[7; 100_000]).unwrap();
        let blob = w.finish_kept().unwrap();
        // What a host holds, and what it could open again for writing.
        let path = format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(blob.fd())
        );
        let reopened = rustix::fs::open(path.as_str(), OFlags::RDWR, Mode::empty()).unwrap();
        for fd in [blob.fd(), &reopened] {
            assert!(rustix::io::pwrite(fd, &[1], 0).is_err());
            assert!(rustix::fs::ftruncate(fd, 10).is_err());
            assert!(rustix::fs::ftruncate(fd, 200_000).is_err());
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
        }
        assert_eq!(blob.as_slice(), &[7; 100_000][..]);
        // The bridge does not take such a memfd from a host: a host must
        // seal what it sends against every write.
        let (how, fd) = Bulk::of(&blob);
        let back = how.receive(&mut vec![fd.unwrap().try_clone().unwrap()]);
        assert!(matches!(back, Err(BulkError::NotSealed("writes"))));
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
        // Unsealed is refused from the bridge too.
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
