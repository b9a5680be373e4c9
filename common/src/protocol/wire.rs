//! The envelope every frame carries, and sending/receiving it.

use super::{clap, vst3};
pub use crate::framing::Patience;
use crate::handshake::Hello;
use crate::{codec, framing, InstanceId, ProtocolError};
use serde::{Deserialize, Serialize};
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

/// Main-thread requests of every format.
#[derive(Debug, Serialize, Deserialize)]
pub enum Control {
    Clap(clap::MainControl),
    Vst3(vst3::Vst3Control),
}

/// Replies to [`Control`].
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    Clap(clap::MainReply),
    Vst3(vst3::Vst3Reply),
}

/// Host→bridge calls: sent alone when no answer is needed
/// ([`Message::Callback`]), or as a [`Message::Call`] answered by an
/// [`Answer`].
#[derive(Debug, Serialize, Deserialize)]
pub enum Callback {
    Clap(clap::MainCallback),
    Vst3(vst3::Vst3Callback),
}

impl From<clap::MainControl> for Control {
    fn from(c: clap::MainControl) -> Self {
        Control::Clap(c)
    }
}

impl From<vst3::Vst3Control> for Control {
    fn from(c: vst3::Vst3Control) -> Self {
        Control::Vst3(c)
    }
}

impl TryFrom<Reply> for clap::MainReply {
    type Error = Reply;
    fn try_from(r: Reply) -> Result<Self, Reply> {
        match r {
            Reply::Clap(c) => Ok(c),
            other => Err(other),
        }
    }
}

impl TryFrom<Reply> for vst3::Vst3Reply {
    type Error = Reply;
    fn try_from(r: Reply) -> Result<Self, Reply> {
        match r {
            Reply::Vst3(c) => Ok(c),
            other => Err(other),
        }
    }
}

/// The bridge's answer to a [`Message::Call`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Answer {
    /// The DAW's own answer to a VST3 host call (a `tresult`).
    Vst3 { result: i32 },
    /// No thread could take the call to the DAW now (none of the DAW's
    /// threads was waiting in a call to this host, or the call came on the
    /// wrong one): it is delivered later as a plain callback, and the
    /// plugin gets the format's success value.
    Deferred,
    /// Refused, and why (for the host's log): e.g. calls nested deeper
    /// than the bound.
    Refused { reason: String },
}

/// How deep calls may nest across the two processes (a host call inside a
/// bridge call inside a host call …) before one is refused.
pub const MAX_NESTING: usize = 16;

/// One frame's content.
#[derive(Debug, Serialize, Deserialize)]
pub enum Message {
    Hello(Hello),
    Request {
        seq: u64,
        instance: InstanceId,
        body: Control,
    },
    Reply {
        seq: u64,
        body: Reply,
    },
    Callback {
        instance: InstanceId,
        body: Callback,
    },
    /// A host→bridge call that waits for its [`Message::Answer`]; the host
    /// serves the bridge's requests that arrive meanwhile on the waiting
    /// thread, and so does the bridge (calls nest both ways, up to
    /// [`MAX_NESTING`]). Host sequence numbers are its own.
    Call {
        seq: u64,
        instance: InstanceId,
        body: Callback,
    },
    Answer {
        seq: u64,
        body: Answer,
    },
}

/// Encodes `msg` into `scratch` (reused) and writes it as one frame.
///
/// # Errors
/// Encoding or transport failure; `Disconnected` when the peer is gone.
pub fn send(
    stream: &UnixStream,
    msg: &Message,
    fds: &[RawFd],
    scratch: &mut Vec<u8>,
    patience: Patience,
) -> Result<(), ProtocolError> {
    scratch.clear();
    codec::encode_into(msg, scratch)?;
    framing::write_frame(stream, scratch, fds, patience)
}

/// Reads and decodes one frame, using `buf` as the reused read buffer.
///
/// # Errors
/// Transport failure or a malformed frame.
pub fn recv(
    stream: &UnixStream,
    buf: &mut Vec<u8>,
    patience: Patience,
) -> Result<(Message, Vec<OwnedFd>), ProtocolError> {
    let fds = framing::read_frame(stream, buf, patience)?;
    let msg = codec::decode(buf)?;
    Ok((msg, fds))
}
