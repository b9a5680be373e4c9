//! A stand-in for `bulkhead-host` that claims another protocol version, so
//! tests can watch the bridge refuse it.

use bulkhead_common::handshake::Hello;
use bulkhead_common::protocol::wire::{self, Message};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

fn main() {
    // SAFETY: the bridge passes its socket as fd 3, as it does to the real
    // host.
    let stream = UnixStream::from(unsafe { OwnedFd::from_raw_fd(3) });
    let hello = Hello {
        protocol: 999,
        build: "fake-0.0.0".into(),
        pid: std::process::id(),
    };
    let mut buf = Vec::new();
    let _ = wire::send(
        &stream,
        &Message::Hello(hello),
        &[],
        &mut buf,
        wire::Patience::Forever,
    );
    let _ = wire::recv(&stream, &mut buf, wire::Patience::Forever);
}
