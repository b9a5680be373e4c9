//! The host's sending half of the socket, shared by the main loop (replies)
//! and by every thread the plugin calls host functions from (callbacks).

use bulkhead_common::protocol::clap::MainCallback;
use bulkhead_common::protocol::wire::{self, Callback, Message};
use bulkhead_common::{InstanceId, ProtocolError};
use std::os::fd::RawFd;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;

pub struct Outbox {
    stream: UnixStream,
    scratch: Mutex<Vec<u8>>,
}

impl Outbox {
    pub fn new(stream: UnixStream) -> Self {
        Self {
            stream,
            scratch: Mutex::new(Vec::with_capacity(64 * 1024)),
        }
    }

    /// Sends one message as one frame.
    ///
    /// # Errors
    /// `Disconnected` once the bridge is gone.
    pub fn send(&self, msg: &Message, fds: &[RawFd]) -> Result<(), ProtocolError> {
        let mut scratch = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
        wire::send(
            &self.stream,
            msg,
            fds,
            &mut scratch,
            wire::Patience::Idle(crate::event_loop::PEER_IDLE),
        )
    }

    /// Forwards a plugin's host call; a bridge that is gone will not care.
    pub fn callback(&self, instance: InstanceId, cb: MainCallback) {
        let msg = Message::Callback {
            instance,
            body: Callback::Clap(cb),
        };
        if let Err(e) = self.send(&msg, &[]) {
            tracing::debug!("callback not delivered: {e}");
        }
    }
}

impl Outbox {
    /// Forwards a VST3 plugin's host call; a bridge that is gone will not care.
    pub fn vst3_callback(
        &self,
        instance: InstanceId,
        cb: bulkhead_common::protocol::vst3::Vst3Callback,
    ) {
        let msg = Message::Callback {
            instance,
            body: Callback::Vst3(cb),
        };
        if let Err(e) = self.send(&msg, &[]) {
            tracing::debug!("callback not delivered: {e}");
        }
    }
}
