//! Length-prefixed frames on a Unix stream socket, with file descriptors
//! riding along as SCM_RIGHTS.
//!
//! A frame is a little-endian `u32` payload length followed by the payload.
//! Every length is checked against [`MAX_FRAME_LEN`] before anything is
//! allocated, and payloads are read into a buffer the caller reuses.

use crate::ProtocolError;
use nix::sys::socket::{self, ControlMessage, ControlMessageOwned, MsgFlags};
use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

/// Upper bound of one frame: room for a 256 MiB plugin state plus headers.
pub const MAX_FRAME_LEN: usize = 256 * 1024 * 1024 + 64 * 1024;
/// At most this many descriptors travel with one frame.
pub const MAX_FDS_PER_FRAME: usize = 4;

const HEADER_LEN: usize = 4;

/// Writes one frame. The caller serialises writers (one frame must not
/// interleave with another).
///
/// # Errors
/// `Disconnected` when the peer is gone, `FrameTooLarge` above the limit.
pub fn write_frame(
    stream: &UnixStream,
    payload: &[u8],
    fds: &[RawFd],
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
    let header = (payload.len() as u32).to_le_bytes();
    // The first sendmsg carries the descriptors and as much of the frame as
    // the socket takes; the rest follows with plain writes.
    let iov = [IoSlice::new(&header), IoSlice::new(payload)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() {
        &[]
    } else {
        &[ControlMessage::ScmRights(fds)]
    };
    let sent = loop {
        match socket::sendmsg::<()>(
            stream.as_raw_fd(),
            &iov,
            cmsgs,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(n) => break n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(ProtocolError::from_io(e.into())),
        }
    };
    let total = HEADER_LEN + payload.len();
    if sent < total {
        let mut w = stream;
        if sent < HEADER_LEN {
            w.write_all(&header[sent..])
                .map_err(ProtocolError::from_io)?;
        }
        w.write_all(&payload[sent.saturating_sub(HEADER_LEN)..])
            .map_err(ProtocolError::from_io)?;
    }
    Ok(())
}

/// Reads one frame into `buf` (cleared first) and returns the descriptors
/// that came with it.
///
/// # Errors
/// `Disconnected` on end of stream, `FrameTooLarge` when the peer announces
/// more than the limit.
pub fn read_frame(stream: &UnixStream, buf: &mut Vec<u8>) -> Result<Vec<OwnedFd>, ProtocolError> {
    let mut header = [0u8; HEADER_LEN];
    let mut fds = Vec::new();
    let mut got = 0;
    while got < HEADER_LEN {
        let mut cmsg = nix::cmsg_space!([RawFd; MAX_FDS_PER_FRAME]);
        let mut iov = [IoSliceMut::new(&mut header[got..])];
        let msg = match socket::recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(m) => m,
            Err(nix::errno::Errno::EINTR) => continue,
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
    let mut r = stream;
    while buf.len() < len {
        let start = buf.len();
        buf.resize(start + (len - start).min(CHUNK), 0);
        r.read_exact(&mut buf[start..])
            .map_err(ProtocolError::from_io)?;
    }
    Ok(fds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_descriptors_round_trip() {
        let (a, b) = UnixStream::pair().unwrap();
        let (x, _y) = UnixStream::pair().unwrap();
        write_frame(&a, b"hello", &[x.as_raw_fd()]).unwrap();
        write_frame(&a, &[], &[]).unwrap();
        let mut buf = Vec::new();
        let fds = read_frame(&b, &mut buf).unwrap();
        assert_eq!(buf, b"hello");
        assert_eq!(fds.len(), 1);
        assert!(read_frame(&b, &mut buf).unwrap().is_empty());
        assert!(buf.is_empty());
        drop(a);
        assert!(matches!(
            read_frame(&b, &mut buf),
            Err(ProtocolError::Disconnected)
        ));
    }

    #[test]
    fn oversized_length_is_rejected_before_allocation() {
        let (a, b) = UnixStream::pair().unwrap();
        (&a).write_all(&u32::MAX.to_le_bytes()).unwrap();
        let mut buf = Vec::new();
        assert!(matches!(
            read_frame(&b, &mut buf),
            Err(ProtocolError::FrameTooLarge { .. })
        ));
        assert!(buf.capacity() < 1024);
    }
}
