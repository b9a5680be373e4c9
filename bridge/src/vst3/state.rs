//! Component and controller states: bytes pass through unchanged, in a
//! sealed memfd beside the frame when large. The last state of each kind is
//! kept (what a restarted plugin gets back); bytes the DAW loaded that never
//! reached the plugin are returned untouched by the next save.

use super::proxy::{lock, Remote};
use crate::process::HostProcess;
use crate::BridgeError;
use bulkhead_common::bulk::{Blob, Bulk};
use bulkhead_common::protocol::vst3::types::{AttrRecord, StreamAttrs};
use bulkhead_common::protocol::vst3::{self as proto, StateTarget};
use bulkhead_common::InstanceId;
use bulkhead_vst3_support::strings::wstring_from_array;
use std::os::fd::AsRawFd;
use vst3::Steinberg::Vst::{IAttributeListTrait, IStreamAttributes, IStreamAttributesTrait};
use vst3::Steinberg::*;

/// The DAW's stream, read from its position to its end straight into a
/// memfd the bridge keeps (a replaced state's pages, when there is one).
///
/// # Safety
/// `stream` must be null or a live stream.
pub unsafe fn read_stream(remote: &Remote, stream: *mut IBStream) -> Result<Blob, String> {
    // SAFETY: null or live by contract.
    let stream = unsafe { vst3::ComRef::from_raw(stream) }.ok_or("no stream")?;
    let mut out = remote.link.group.bulk_writer().map_err(|e| e.to_string())?;
    out.read_from(|buf| {
        let len = i32::try_from(buf.len()).unwrap_or(i32::MAX);
        let mut n: i32 = 0;
        // SAFETY: live stream; the buffer is writable for `len` bytes.
        let r = unsafe { stream.read(buf.as_mut_ptr().cast(), len, &mut n) };
        // An error reads as the end, as the SDK's own readers take it.
        Some(if r == kResultOk {
            usize::try_from(n).unwrap_or(0)
        } else {
            0
        })
    })
    .map_err(|e| e.to_string())?;
    out.finish_kept().map_err(|e| e.to_string())
}

/// Writes all of `bytes` to the DAW's stream.
///
/// # Safety
/// `stream` must be null or a live stream.
pub unsafe fn write_stream(stream: *mut IBStream, mut bytes: &[u8]) -> bool {
    // SAFETY: null or live by contract.
    let Some(stream) = (unsafe { vst3::ComRef::from_raw(stream) }) else {
        return false;
    };
    while !bytes.is_empty() {
        let len = bytes.len().min(1 << 30) as i32;
        let mut n: i32 = 0;
        // SAFETY: live stream; the buffer is readable for `len`.
        let r = unsafe { stream.write(bytes.as_ptr().cast_mut().cast(), len, &mut n) };
        if r != kResultOk || n <= 0 {
            return false;
        }
        bytes = &bytes[(n as usize).min(bytes.len())..];
    }
    true
}

/// The preset attributes a state stream can carry (`PresetAttributes` of
/// the SDK): an attribute list cannot be enumerated, so these are asked for.
const KNOWN_ATTRIBUTES: &[&str] = &[
    "PlugInName",
    "PlugInCategory",
    "Instrument",
    "StyleName",
    "CharacterName",
    "StateType",
    "FilePathStringType",
    "Name",
    "FileName",
];

/// The stream's `IStreamAttributes`, if it has them.
///
/// # Safety
/// `stream` must be null or a live stream.
pub unsafe fn stream_attrs(stream: *mut IBStream) -> StreamAttrs {
    // SAFETY: null or live by contract.
    let Some(stream) = (unsafe { vst3::ComRef::from_raw(stream) }) else {
        return StreamAttrs::default();
    };
    let Some(attrs) = stream.cast::<IStreamAttributes>() else {
        return StreamAttrs::default();
    };
    let mut out = StreamAttrs::default();
    // SAFETY: plain data; all-zero is a value.
    let mut name: Vst::String128 = unsafe { std::mem::zeroed() };
    // SAFETY: live object; a valid out-parameter.
    if unsafe { attrs.getFileName(&mut name) } == kResultOk {
        let len = name.iter().position(|&c| c == 0).unwrap_or(name.len());
        out.file_name = Some(name[..len].to_vec());
    }
    // SAFETY: live object; the list is borrowed (not add-ref'ed).
    let list = unsafe { attrs.getAttributes() };
    // SAFETY: null or a list the stream keeps alive.
    if let Some(list) = unsafe { vst3::ComRef::from_raw(list) } {
        for key in KNOWN_ATTRIBUTES {
            let id = std::ffi::CString::new(*key).unwrap_or_default();
            // SAFETY: plain data; all-zero is a value.
            let mut text: Vst::String128 = unsafe { std::mem::zeroed() };
            // SAFETY: live list; the buffer's size in bytes is passed.
            let r = unsafe {
                list.getString(
                    id.as_ptr(),
                    text.as_mut_ptr(),
                    std::mem::size_of_val(&text) as u32,
                )
            };
            if r == kResultOk {
                let s = wstring_from_array(&text);
                out.attributes.push((
                    key.to_string(),
                    AttrRecord::String(s.encode_utf16().collect()),
                ));
            }
        }
    }
    out
}

fn blob_slot(remote: &Remote, target: StateTarget) -> Option<Blob> {
    let s = lock(&remote.states);
    match target {
        StateTarget::Component => s.component.clone(),
        StateTarget::Controller => s.controller.clone(),
        StateTarget::ComponentIntoController => s.component_in_controller.clone(),
    }
}

fn unloaded(remote: &Remote, target: StateTarget) -> bool {
    let s = lock(&remote.states);
    match target {
        StateTarget::Component => s.unloaded_component,
        StateTarget::Controller => s.unloaded_controller,
        StateTarget::ComponentIntoController => false,
    }
}

/// Sends `blob` to be loaded by the object `id` of `process`.
fn load_on(
    remote: &Remote,
    process: &HostProcess,
    id: InstanceId,
    target: StateTarget,
    blob: &Blob,
    attrs: StreamAttrs,
) -> Result<Result<i32, String>, BridgeError> {
    let (bytes, fd) = Bulk::of(blob);
    let fds: Vec<i32> = fd.map(|f| f.as_raw_fd()).into_iter().collect();
    let r = remote.call_on(
        process,
        id,
        proto::LoadState {
            target,
            bytes,
            attrs,
        },
        &fds,
        remote.timeout_slow(),
    )?;
    Ok(r.map_err(|e| e.message))
}

/// Saves the state of kind `target` of object `id` of `process`.
fn save_on(
    remote: &Remote,
    process: &HostProcess,
    id: InstanceId,
    target: StateTarget,
    attrs: StreamAttrs,
) -> Result<Result<(i32, Blob), String>, BridgeError> {
    let (saved, mut fds) = remote.call_on_fds(
        process,
        id,
        proto::SaveState { target, attrs },
        &[],
        remote.timeout_slow(),
    )?;
    let saved = match saved {
        Ok(s) => s,
        Err(e) => return Ok(Err(e.message)),
    };
    let blob = saved.bytes.receive(&mut fds).map_err(|e| {
        BridgeError::Remote(bulkhead_common::protocol::RemoteError::new(e.to_string()))
    })?;
    Ok(Ok((saved.result, blob)))
}

/// `setState`/`setComponentState` from the DAW.
///
/// # Safety
/// `stream` must be null or a live stream.
pub unsafe fn load(remote: &Remote, target: StateTarget, stream: *mut IBStream) -> tresult {
    // SAFETY: by contract.
    let (blob, attrs) = match unsafe { read_stream(remote, stream) } {
        // SAFETY: by contract.
        Ok(b) => (b, unsafe { stream_attrs(stream) }),
        Err(e) => {
            tracing::warn!(plugin = remote.name(), "cannot read the state: {e}");
            return kResultFalse;
        }
    };
    lock(&remote.states).generation += 1;
    if let Err(e) = remote.ensure_born() {
        tracing::warn!(plugin = remote.name(), "cannot start: {e}");
    }
    // Not under the lifecycle lock: a restore holds it while it runs.
    let wait = remote.timeout_slow();
    if !remote.link.group.settle(wait) {
        tracing::warn!(plugin = remote.name(), "the plugin is still being restored");
    }
    let process = remote.link.process();
    let result = match &process {
        Some(p) => load_on(remote, p, remote.link.instance(), target, &blob, attrs),
        None => Err(BridgeError::Disconnected),
    };
    match result {
        Ok(Ok(r)) => {
            if r == kResultOk {
                remote.keep_state(target, blob);
            }
            r
        }
        Ok(Err(e)) => {
            tracing::warn!(plugin = remote.name(), "the state was not loaded: {e}");
            kResultFalse
        }
        Err(e) => {
            // The plugin is down or died on it: the bytes are kept, given to
            // the restarted plugin and returned by saves until then.
            tracing::warn!(
                plugin = remote.name(),
                "the state could not reach the plugin ({e}); it is kept and restored with it"
            );
            remote.keep_state(target, blob);
            let mut s = lock(&remote.states);
            match target {
                StateTarget::Component => s.unloaded_component = true,
                StateTarget::Controller => s.unloaded_controller = true,
                StateTarget::ComponentIntoController => {}
            }
            kResultOk
        }
    }
}

/// `getState` from the DAW.
///
/// # Safety
/// `stream` must be null or a live stream.
pub unsafe fn save(remote: &Remote, target: StateTarget, stream: *mut IBStream) -> tresult {
    // SAFETY: by contract.
    let attrs = unsafe { stream_attrs(stream) };
    lock(&remote.states).generation += 1;
    if let Err(e) = remote.ensure_born() {
        tracing::warn!(plugin = remote.name(), "cannot start: {e}");
    }
    remote.link.group.settle(remote.timeout_slow());
    let kept = || -> tresult {
        match blob_slot(remote, target) {
            // SAFETY: by contract.
            Some(b) if unsafe { write_stream(stream, b.as_slice()) } => kResultOk,
            _ => kResultFalse,
        }
    };
    if unloaded(remote, target) {
        return kept();
    }
    let saved = match remote.link.process() {
        Some(p) => save_on(remote, &p, remote.link.instance(), target, attrs),
        None => Err(BridgeError::Disconnected),
    };
    match saved {
        Ok(Ok((r, blob))) => {
            if r != kResultOk {
                return r;
            }
            // SAFETY: by contract.
            let written = unsafe { write_stream(stream, blob.as_slice()) };
            remote.keep_state(target, blob);
            if written {
                kResultOk
            } else {
                kResultFalse
            }
        }
        Ok(Err(e)) => {
            tracing::warn!(
                plugin = remote.name(),
                "the plugin cannot save its state: {e}"
            );
            kResultFalse
        }
        Err(e) => {
            tracing::warn!(
                plugin = remote.name(),
                "the plugin is down ({e}); its last state is returned"
            );
            kept()
        }
    }
}

/// Gives a restored object its last states.
pub fn restore_states(
    remote: &Remote,
    process: &HostProcess,
    id: InstanceId,
) -> Result<(), String> {
    let order = [
        StateTarget::Component,
        StateTarget::ComponentIntoController,
        StateTarget::Controller,
    ];
    for target in order {
        let Some(blob) = blob_slot(remote, target) else {
            continue;
        };
        match load_on(remote, process, id, target, &blob, StreamAttrs::default()) {
            Ok(Ok(0)) => {
                let mut s = lock(&remote.states);
                match target {
                    StateTarget::Component => s.unloaded_component = false,
                    StateTarget::Controller => s.unloaded_controller = false,
                    StateTarget::ComponentIntoController => {}
                }
            }
            Ok(Ok(r)) => {
                tracing::error!(plugin = remote.name(), "the last state was refused ({r})")
            }
            Ok(Err(e)) => {
                tracing::error!(plugin = remote.name(), "the last state was refused: {e}")
            }
            Err(e) => return Err(process.explain(e)),
        }
    }
    Ok(())
}

/// Saves the states the object has in the background (off the DAW's
/// threads), so a crash loses as little as possible.
pub fn refresh(remote: &Remote) {
    let Some(process) = remote.link.process() else {
        return;
    };
    let id = remote.link.instance();
    let targets: &[StateTarget] = match (
        remote.answers::<vst3::Steinberg::Vst::IComponent>(),
        remote.answers::<vst3::Steinberg::Vst::IEditController>(),
    ) {
        (true, true) => &[StateTarget::Component, StateTarget::Controller],
        (true, false) => &[StateTarget::Component],
        (false, true) => &[StateTarget::Controller],
        (false, false) => &[],
    };
    for &target in targets {
        if unloaded(remote, target) {
            continue;
        }
        let generation = lock(&remote.states).generation;
        match save_on(remote, &process, id, target, StreamAttrs::default()) {
            Ok(Ok((0, blob))) => {
                // A DAW save or load that got in meanwhile is newer.
                if lock(&remote.states).generation == generation {
                    remote.keep_state(target, blob);
                }
            }
            Ok(Ok(_)) | Ok(Err(_)) => {}
            Err(e) => tracing::debug!(plugin = remote.name(), "background save: {e}"),
        }
    }
}
