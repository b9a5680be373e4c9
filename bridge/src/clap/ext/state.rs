//! `clap_plugin_state`: bytes pass through unchanged, and the last bytes
//! the DAW saved or loaded are kept, so that a save while the plugin cannot
//! answer returns them untouched.

use super::super::proxy::with_proxy;
use bulkhead_common::framing::MAX_FRAME_LEN;
use bulkhead_common::protocol::clap::ext::state::{Load, Save};
use clap_sys::ext::state::clap_plugin_state;
use clap_sys::plugin::clap_plugin;
use clap_sys::stream::{clap_istream, clap_ostream};
use std::sync::atomic::Ordering;

/// Largest state the bridge carries (the frame limit less headers).
const MAX_STATE: usize = MAX_FRAME_LEN - 64 * 1024;

fn write_all(stream: &clap_ostream, mut bytes: &[u8]) -> bool {
    let Some(write) = stream.write else {
        return false;
    };
    while !bytes.is_empty() {
        // SAFETY: the DAW's stream is valid for the call; we pass a readable
        // buffer of the stated size.
        let n = unsafe { write(stream, bytes.as_ptr().cast(), bytes.len() as u64) };
        if n <= 0 {
            return false;
        }
        bytes = &bytes[(n as usize).min(bytes.len())..];
    }
    true
}

fn read_all(stream: &clap_istream) -> Option<Vec<u8>> {
    let read = stream.read?;
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        // SAFETY: the DAW's stream is valid for the call; the buffer is
        // writable for its length.
        let n = unsafe { read(stream, chunk.as_mut_ptr().cast(), chunk.len() as u64) };
        match n {
            0 => return Some(out),
            n if n < 0 => return None,
            n => {
                out.extend_from_slice(&chunk[..(n as usize).min(chunk.len())]);
                if out.len() > MAX_STATE {
                    return None;
                }
            }
        }
    }
}

unsafe extern "C" fn save(plugin: *const clap_plugin, stream: *const clap_ostream) -> bool {
    with_proxy(plugin, false, |p| {
        // SAFETY: the DAW passes a valid stream.
        let Some(stream) = (unsafe { stream.as_ref() }) else {
            return false;
        };
        let bytes = match p.call(Save, p.timeout_slow()) {
            Ok(Ok(s)) => s.bytes,
            Ok(Err(e)) => {
                tracing::warn!("the plugin failed to save: {e}");
                return false;
            }
            Err(e) => {
                // The plugin cannot answer: hand back what we last had.
                tracing::warn!("save failed ({e}); returning the last known state");
                match p
                    .last_state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
                {
                    Some(b) => b,
                    None => return false,
                }
            }
        };
        let ok = write_all(stream, &bytes);
        p.state_generation.fetch_add(1, Ordering::AcqRel);
        *p.last_state.lock().unwrap_or_else(|e| e.into_inner()) = Some(bytes);
        ok
    })
}

unsafe extern "C" fn load(plugin: *const clap_plugin, stream: *const clap_istream) -> bool {
    with_proxy(plugin, false, |p| {
        // SAFETY: the DAW passes a valid stream.
        let Some(bytes) = (unsafe { stream.as_ref() }).and_then(read_all) else {
            return false;
        };
        match p.call(
            Load {
                bytes: bytes.clone(),
            },
            p.timeout_slow(),
        ) {
            Ok(Ok(())) => {
                p.state_generation.fetch_add(1, Ordering::AcqRel);
                *p.last_state.lock().unwrap_or_else(|e| e.into_inner()) = Some(bytes);
                true
            }
            Ok(Err(e)) => {
                tracing::info!("the plugin rejected the state: {e}");
                false
            }
            Err(e) => {
                // Keep the bytes: the next save returns them untouched.
                tracing::warn!("state load failed ({e}); the bytes are kept");
                p.state_generation.fetch_add(1, Ordering::AcqRel);
                *p.last_state.lock().unwrap_or_else(|e| e.into_inner()) = Some(bytes);
                false
            }
        }
    })
}

pub static VTABLE: clap_plugin_state = clap_plugin_state {
    save: Some(save),
    load: Some(load),
};
