//! `clap_plugin_state`: bytes pass through unchanged. The bridge keeps the
//! last state the plugin accepted or produced (to restore a restarted
//! plugin from) and any bytes the DAW loaded that never reached the plugin
//! (returned untouched by a save the plugin cannot answer).

use super::super::proxy::{with_proxy, Inner};
use crate::process::HostProcess;
use crate::BridgeError;
use bulkhead_common::bulk::{Blob, BlobWriter, Bulk};
use bulkhead_common::protocol::clap::ext::state::{Load, Save};
use bulkhead_common::protocol::clap::MainCallback;
use bulkhead_common::protocol::RemoteError;
use bulkhead_common::InstanceId;
use clap_sys::ext::state::clap_plugin_state;
use clap_sys::plugin::clap_plugin;
use clap_sys::stream::{clap_istream, clap_ostream};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::time::Duration;

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

/// Reads the DAW's stream into `out`'s memfd (no copy on the way to the
/// host).
fn read_all(stream: &clap_istream, mut out: BlobWriter) -> Option<Blob> {
    let read = stream.read?;
    let result = out.read_from(|buf| {
        // SAFETY: the DAW's stream is valid for the call; the buffer is
        // writable for its length.
        let n = unsafe { read(stream, buf.as_mut_ptr().cast(), buf.len() as u64) };
        usize::try_from(n).ok()
    });
    match result.and_then(|()| out.finish_kept()) {
        Ok(blob) => Some(blob),
        Err(e) => {
            tracing::error!("cannot read the state the DAW loads: {e}");
            None
        }
    }
}

/// The plugin's state, saved by the host serving it (`process`: a given
/// one, for a restore; else the current one).
///
/// # Errors
/// The host failed; the inner error is the plugin's.
pub fn save_blob(
    p: &Inner,
    process: Option<(&HostProcess, InstanceId)>,
    timeout: Duration,
    on_callback: &mut dyn FnMut(MainCallback),
) -> Result<Result<Blob, String>, BridgeError> {
    let current;
    let (process, id) = match process {
        Some(given) => given,
        None => {
            current = p.link.process().ok_or(BridgeError::Disconnected)?;
            (&*current, p.link.instance())
        }
    };
    let (saved, mut fds) = p.call_on_fds(process, id, Save, &[], timeout, on_callback)?;
    Ok(match saved {
        Ok(s) => s.bytes.receive(&mut fds).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    })
}

/// Loads `blob` into the plugin in `process`, its memfd passed beside the
/// request.
///
/// # Errors
/// The host failed; the inner error is the plugin's refusal.
pub fn load_blob(
    p: &Inner,
    process: &HostProcess,
    id: InstanceId,
    blob: &Blob,
    timeout: Duration,
    on_callback: &mut dyn FnMut(MainCallback),
) -> Result<Result<(), RemoteError>, BridgeError> {
    let (bytes, fd) = Bulk::of(blob);
    let fds: Vec<_> = fd.map(|f| f.as_raw_fd()).into_iter().collect();
    p.call_on(process, id, Load { bytes }, &fds, timeout, on_callback)
}

/// Records a state the plugin accepted or produced.
fn remember(p: &Inner, bytes: Blob) {
    p.state_generation.fetch_add(1, Ordering::AcqRel);
    // The replaced ones go, unless one of them is these very bytes (a
    // load retried from the bytes kept for it).
    let unloaded = Inner::lock(&p.unloaded_state).take();
    let old = Inner::lock(&p.last_state).replace(bytes.clone());
    let replaced = |b: Option<Blob>| b.filter(|b| !b.same(&bytes));
    p.link.group.retire(replaced(unloaded));
    p.link.group.retire(replaced(old));
}

/// Keeps bytes the DAW loaded that have not reached a live plugin: saves
/// return them, untouched, until a plugin holds them.
fn keep_unloaded(p: &Inner, bytes: &Blob) {
    p.state_generation.fetch_add(1, Ordering::AcqRel);
    *Inner::lock(&p.unloaded_state) = Some(bytes.clone());
}

/// What a save answers when the plugin cannot: the DAW's last bytes the
/// plugin never took, else what the plugin last had.
fn kept(p: &Inner) -> Option<Blob> {
    Inner::lock(&p.unloaded_state)
        .clone()
        .or_else(|| Inner::lock(&p.last_state).clone())
}

unsafe extern "C" fn save(plugin: *const clap_plugin, stream: *const clap_ostream) -> bool {
    with_proxy(plugin, false, |p| {
        // SAFETY: the DAW passes a valid stream.
        let Some(stream) = (unsafe { stream.as_ref() }) else {
            return false;
        };
        // During a restart, answer for the restored plugin.
        p.link.group.settle(p.timeout_slow());
        // Bytes the DAW gave that no plugin took are its own: they go back
        // untouched rather than being replaced by the older state the
        // plugin runs with.
        if let Some(bytes) = Inner::lock(&p.unloaded_state).clone() {
            p.warn_user(&format!(
                "saving the {} bytes the DAW loaded last, which the plugin never took",
                bytes.len()
            ));
            return write_all(stream, bytes.as_slice());
        }
        match save_blob(p, None, p.timeout_slow(), &mut |cb| p.serve_callback(&cb)) {
            Ok(Ok(blob)) => {
                let ok = write_all(stream, blob.as_slice());
                remember(p, blob);
                ok
            }
            Ok(Err(e)) => {
                p.warn_user(&format!("the plugin failed to save: {e}"));
                false
            }
            Err(e) => {
                let kept = kept(p);
                p.warn_user(&format!(
                    "save while the plugin is down ({e}); returning the kept state ({} bytes)",
                    kept.as_ref().map_or(0, Blob::len)
                ));
                kept.is_some_and(|b| write_all(stream, b.as_slice()))
            }
        }
    })
}

unsafe extern "C" fn load(plugin: *const clap_plugin, stream: *const clap_istream) -> bool {
    with_proxy(plugin, false, |p| {
        let out = match p.link.group.bulk_writer() {
            Ok(w) => w,
            Err(e) => {
                tracing::error!("cannot read the state the DAW loads: {e}");
                return false;
            }
        };
        // SAFETY: the DAW passes a valid stream.
        let Some(bytes) = (unsafe { stream.as_ref() }).and_then(|s| read_all(s, out)) else {
            return false;
        };
        if p.link.group.failed.load(Ordering::Acquire) {
            // An explicit act of the DAW: one more try, from these bytes.
            keep_unloaded(p, &bytes);
            *Inner::lock(&p.last_state) = Some(bytes.clone());
            p.revive();
            if !p.link.group.settle(p.timeout_slow()) {
                tracing::warn!(
                    plugin = p.real_id(),
                    "the plugin could not be brought back; the state is kept"
                );
                return false;
            }
            // The restore loaded exactly these bytes.
            *Inner::lock(&p.unloaded_state) = None;
            return true;
        }
        p.link.group.settle(p.timeout_slow());
        let load = |p: &Inner| {
            let process = p.link.process().ok_or(BridgeError::Disconnected)?;
            let id = p.link.instance();
            load_blob(p, &process, id, &bytes, p.timeout_slow(), &mut |cb| {
                p.serve_callback(&cb)
            })
        };
        match load(p) {
            Ok(Ok(())) => {
                remember(p, bytes);
                true
            }
            Ok(Err(e)) => {
                tracing::warn!(plugin = p.real_id(), "the plugin rejected the state: {e}");
                false
            }
            Err(e) => {
                // The host died or hung during the load. The restart brings
                // the plugin back with its last good state, then the load
                // is tried once more there; bytes that crash it again are
                // kept and returned by saves, never lost.
                p.warn_user(&format!(
                    "state load failed ({e}); retrying it on the restarted plugin"
                ));
                keep_unloaded(p, &bytes);
                if p.link.group.settle(p.timeout_slow()) {
                    match load(p) {
                        Ok(Ok(())) => {
                            remember(p, bytes);
                            return true;
                        }
                        Ok(Err(e)) => {
                            p.warn_user(&format!("the restarted plugin rejected the state: {e}"))
                        }
                        Err(e) => p.warn_user(&format!(
                            "the retried state load failed too ({e}); the bytes are kept"
                        )),
                    }
                }
                false
            }
        }
    })
}

pub static VTABLE: clap_plugin_state = clap_plugin_state {
    save: Some(save),
    load: Some(load),
};
