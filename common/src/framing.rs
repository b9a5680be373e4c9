//! Length-prefixed frames on a Unix stream socket, with file descriptors
//! riding along as SCM_RIGHTS.
//!
//! A frame is a little-endian `u32` payload length followed by the payload.
//! Every length is checked against [`MAX_FRAME_LEN`] before anything is
//! allocated, and payloads are read into a buffer the caller reuses.

use crate::ProtocolError;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{self, ControlMessage, ControlMessageOwned, MsgFlags};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Upper bound of one frame: room for a 256 MiB plugin state plus headers.
pub const MAX_FRAME_LEN: usize = 256 * 1024 * 1024 + 64 * 1024;
/// At most this many descriptors travel with one frame.
pub const MAX_FDS_PER_FRAME: usize = 4;

const HEADER_LEN: usize = 4;

/// How long a transfer may wait for the peer. Bulk transfers measure
/// inactivity (`Idle`), so a big state that keeps flowing is never cut and
/// a stalled one is cut quickly; an exchange with one overall deadline (the
/// handshake) uses `Until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patience {
    /// Block until the peer acts or goes away (the reader threads, which
    /// have nothing else to do).
    Forever,
    /// At most this long without a byte moving.
    Idle(Duration),
    /// Everything done by this instant.
    Until(Instant),
}

/// The running deadline of one transfer.
struct Clock {
    patience: Patience,
    deadline: Option<Instant>,
    /// What the transfer was given, for the error.
    limit: Duration,
}

impl Clock {
    fn new(patience: Patience) -> Self {
        let limit = match patience {
            Patience::Forever => Duration::MAX,
            Patience::Idle(d) => d,
            Patience::Until(t) => t.saturating_duration_since(Instant::now()),
        };
        let mut c = Self {
            patience,
            deadline: None,
            limit,
        };
        c.progressed();
        c
    }

    fn progressed(&mut self) {
        self.deadline = match self.patience {
            Patience::Forever => None,
            Patience::Idle(d) => Some(Instant::now() + d),
            Patience::Until(t) => Some(t),
        };
    }

    fn flags(&self) -> MsgFlags {
        match self.patience {
            Patience::Forever => MsgFlags::empty(),
            _ => MsgFlags::MSG_DONTWAIT,
        }
    }

    fn timeout_error(&self) -> ProtocolError {
        ProtocolError::Timeout(match self.patience {
            Patience::Idle(d) => d,
            Patience::Until(_) | Patience::Forever => self.limit,
        })
    }

    /// Waits until `fd` is ready for `events`, or the deadline passes.
    fn wait(&self, fd: RawFd, events: PollFlags) -> Result<(), ProtocolError> {
        let Some(deadline) = self.deadline else {
            return Ok(());
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.timeout_error());
            }
            // SAFETY: `fd` is the caller's open socket for this call.
            let bfd = unsafe { BorrowedFd::borrow_raw(fd) };
            let mut pfd = [PollFd::new(bfd, events)];
            let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
            match poll(&mut pfd, PollTimeout::from(ms)) {
                Ok(0) => continue,
                Ok(_) => return Ok(()),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(ProtocolError::from_io(e.into())),
            }
        }
    }
}

fn is_would_block(e: nix::errno::Errno) -> bool {
    e == nix::errno::Errno::EAGAIN || e == nix::errno::Errno::EWOULDBLOCK
}

/// Writes one frame, waiting for the peer no longer than `patience`
/// allows. The caller serialises writers (one frame must not interleave
/// with another).
///
/// # Errors
/// `Disconnected` when the peer is gone, `FrameTooLarge` above the limit,
/// `Timeout` when the peer stops reading.
pub fn write_frame(
    stream: &UnixStream,
    payload: &[u8],
    fds: &[RawFd],
    patience: Patience,
) -> Result<(), ProtocolError> {
    if payload.len() > MAX_FRAME_LEN {
        return Err(ProtocolError::FrameTooLarge {
            len: payload.len(),
            max: MAX_FRAME_LEN,
        });
    }
    if fds.len() > MAX_FDS_PER_FRAME {
        return Err(ProtocolError::Malformed(format!(
            "{} descriptors in one frame",
            fds.len()
        )));
    }
    let fd = stream.as_raw_fd();
    let mut clock = Clock::new(patience);
    let flags = clock.flags() | MsgFlags::MSG_NOSIGNAL;
    let header = (payload.len() as u32).to_le_bytes();
    let total = HEADER_LEN + payload.len();
    let mut sent = 0;
    // The first sendmsg carries the descriptors and as much of the frame as
    // the socket takes; the rest follows without them.
    while sent < total {
        let iov_storage;
        let iov: &[IoSlice] = if sent < HEADER_LEN {
            iov_storage = [IoSlice::new(&header[sent..]), IoSlice::new(payload)];
            &iov_storage
        } else {
            iov_storage = [
                IoSlice::new(&payload[sent - HEADER_LEN..]),
                IoSlice::new(&[]),
            ];
            &iov_storage[..1]
        };
        let cmsgs: &[ControlMessage] = if sent == 0 && !fds.is_empty() {
            &[ControlMessage::ScmRights(fds)]
        } else {
            &[]
        };
        match socket::sendmsg::<()>(fd, iov, cmsgs, flags, None) {
            Ok(n) => {
                sent += n;
                clock.progressed();
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) if is_would_block(e) => clock.wait(fd, PollFlags::POLLOUT)?,
            Err(e) => return Err(ProtocolError::from_io(e.into())),
        }
    }
    Ok(())
}

/// Reads one frame into `buf` (cleared first) and returns the descriptors
/// that came with it, waiting for the peer no longer than `patience`
/// allows.
///
/// # Errors
/// `Disconnected` on end of stream, `FrameTooLarge` when the peer announces
/// more than the limit, `Timeout` when the peer stops sending.
pub fn read_frame(
    stream: &UnixStream,
    buf: &mut Vec<u8>,
    patience: Patience,
) -> Result<Vec<OwnedFd>, ProtocolError> {
    let fd = stream.as_raw_fd();
    let mut clock = Clock::new(patience);
    let flags = clock.flags() | MsgFlags::MSG_CMSG_CLOEXEC;
    let mut header = [0u8; HEADER_LEN];
    let mut fds = Vec::new();
    let mut got = 0;
    while got < HEADER_LEN {
        let mut cmsg = nix::cmsg_space!([RawFd; MAX_FDS_PER_FRAME]);
        let mut iov = [IoSliceMut::new(&mut header[got..])];
        let msg = match socket::recvmsg::<()>(fd, &mut iov, Some(&mut cmsg), flags) {
            Ok(m) => m,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) if is_would_block(e) => {
                clock.wait(fd, PollFlags::POLLIN)?;
                continue;
            }
            Err(e) => return Err(ProtocolError::from_io(e.into())),
        };
        let n = msg.bytes;
        for c in msg.cmsgs().map_err(|e| ProtocolError::Io(e.into()))? {
            if let ControlMessageOwned::ScmRights(raw) = c {
                for fd in raw {
                    // SAFETY: the kernel just installed this descriptor in
                    // our table for us; nothing else owns it.
                    fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
        if n == 0 {
            return Err(ProtocolError::Disconnected);
        }
        got += n;
        clock.progressed();
    }
    if fds.len() > MAX_FDS_PER_FRAME {
        return Err(ProtocolError::Malformed("too many descriptors".into()));
    }
    let len = u32::from_le_bytes(header) as usize;
    if len > MAX_FRAME_LEN {
        return Err(ProtocolError::FrameTooLarge {
            len,
            max: MAX_FRAME_LEN,
        });
    }
    // Grow with the data that actually arrives, so that a length the peer
    // announces but never sends costs at most one chunk.
    const CHUNK: usize = 1 << 20;
    buf.clear();
    let mut filled = 0;
    while filled < len {
        if filled == buf.len() {
            buf.resize(filled + (len - filled).min(CHUNK), 0);
        }
        match socket::recv(fd, &mut buf[filled..], flags - MsgFlags::MSG_CMSG_CLOEXEC) {
            Ok(0) => return Err(ProtocolError::Disconnected),
            Ok(n) => {
                filled += n;
                clock.progressed();
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) if is_would_block(e) => clock.wait(fd, PollFlags::POLLIN)?,
            Err(e) => return Err(ProtocolError::from_io(e.into())),
        }
    }
    Ok(fds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn frames_and_descriptors_round_trip() {
        let (a, b) = UnixStream::pair().unwrap();
        let (x, _y) = UnixStream::pair().unwrap();
        write_frame(&a, b"hello", &[x.as_raw_fd()], Patience::Forever).unwrap();
        write_frame(&a, &[], &[], Patience::Forever).unwrap();
        let mut buf = Vec::new();
        let fds = read_frame(&b, &mut buf, Patience::Forever).unwrap();
        assert_eq!(buf, b"hello");
        assert_eq!(fds.len(), 1);
        assert!(read_frame(&b, &mut buf, Patience::Forever)
            .unwrap()
            .is_empty());
        assert!(buf.is_empty());
        drop(a);
        assert!(matches!(
            read_frame(&b, &mut buf, Patience::Forever),
            Err(ProtocolError::Disconnected)
        ));
    }

    #[test]
    fn oversized_length_is_rejected_before_allocation() {
        let (a, b) = UnixStream::pair().unwrap();
        (&a).write_all(&u32::MAX.to_le_bytes()).unwrap();
        let mut buf = Vec::new();
        assert!(matches!(
            read_frame(&b, &mut buf, Patience::Forever),
            Err(ProtocolError::FrameTooLarge { .. })
        ));
        assert!(buf.capacity() < 1024);
    }

    #[test]
    fn a_peer_that_stops_reading_times_out_the_writer() {
        let (a, _b) = UnixStream::pair().unwrap();
        let big = vec![7u8; 16 << 20];
        let started = Instant::now();
        let r = write_frame(&a, &big, &[], Patience::Idle(Duration::from_millis(200)));
        assert!(matches!(r, Err(ProtocolError::Timeout(_))), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_flowing_transfer_is_not_cut_by_an_idle_timeout() {
        let (a, b) = UnixStream::pair().unwrap();
        let big: Vec<u8> = (0..(8 << 20)).map(|i| (i % 251) as u8).collect();
        let expect = big.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            read_frame(&b, &mut buf, Patience::Idle(Duration::from_secs(5))).unwrap();
            buf
        });
        write_frame(&a, &big, &[], Patience::Idle(Duration::from_secs(5))).unwrap();
        assert_eq!(reader.join().unwrap(), expect);
    }

    #[test]
    fn a_trickling_peer_meets_the_overall_deadline() {
        let (a, b) = UnixStream::pair().unwrap();
        let trickle = std::thread::spawn(move || {
            for byte in 100u32.to_le_bytes() {
                if (&a).write_all(&[byte]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(150));
            }
            std::thread::sleep(Duration::from_secs(2));
        });
        let mut buf = Vec::new();
        let started = Instant::now();
        let deadline = Patience::Until(started + Duration::from_millis(300));
        let r = read_frame(&b, &mut buf, deadline);
        assert!(matches!(r, Err(ProtocolError::Timeout(_))), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(1));
        drop(b);
        trickle.join().unwrap();
    }
}
