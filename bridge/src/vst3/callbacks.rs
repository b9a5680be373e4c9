//! Calls the plugin made into its host, delivered to the DAW: caches are
//! updated first (so the answers the bridge gives while the plugin is down
//! stay true), then the DAW's handler (or the object outside the bridge the
//! DAW connected us to) is called, on the DAW's main thread.

use super::message;
use super::proxy::{lock, Peer, Remote};
use bulkhead_common::protocol::vst3::Vst3Callback;
use std::sync::atomic::Ordering;
use vst3::Steinberg::Vst::RestartFlags_::*;
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;

/// Delivers `cb` to the DAW; the DAW's answer (`kResultFalse` when it gave
/// no handler or connection to take it).
pub fn serve(remote: &Remote, cb: Vst3Callback) -> tresult {
    update_caches(remote, &cb);
    if let Vst3Callback::Notify { message } = &cb {
        let peer = match &*lock(&remote.peer) {
            Peer::Outside(p) => Some(p.clone()),
            _ => None,
        };
        let Some(peer) = peer else {
            return kResultFalse;
        };
        let msg = message::to_com(message);
        // SAFETY: the DAW's live connection point; the message lives for the
        // call.
        return unsafe { peer.notify(msg.as_ptr()) };
    }
    let mut result = kResultFalse;
    remote.to_daw(|h| result = call_daw(remote, h, cb));
    result
}

fn update_caches(remote: &Remote, cb: &Vst3Callback) {
    let mut c = lock(&remote.caches);
    match cb {
        Vst3Callback::PerformEdit { id, value } => {
            c.param_values.insert(*id, *value);
        }
        Vst3Callback::RestartComponent { flags } => {
            let flags = *flags;
            if flags & (kParamValuesChanged | kParamTitlesChanged | kReloadComponent) != 0 {
                c.param_values.clear();
            }
            if flags & (kParamTitlesChanged | kReloadComponent) != 0 {
                c.params = None;
                c.units = None;
                c.program_lists = None;
            }
            if flags & (kLatencyChanged | kReloadComponent) != 0 {
                c.latency = None;
            }
            if flags & (kIoChanged | kReloadComponent) != 0 {
                c.buses = None;
            }
            if flags & (kMidiCCAssignmentChanged | kReloadComponent) != 0 {
                c.midi.clear();
            }
        }
        Vst3Callback::SetDirty { state: true } => {
            remote.link.state_dirty.store(true, Ordering::Release)
        }
        Vst3Callback::NotifyProgramListChange { .. } => c.program_lists = None,
        _ => {}
    }
}

fn call_daw(remote: &Remote, h: &vst3::ComPtr<IComponentHandler>, cb: Vst3Callback) -> tresult {
    // What a handler the DAW did not extend answers.
    let missing = kNotImplemented;
    // SAFETY: every call below is on the DAW's live handler (or an
    // interface it answered), on its main thread; arguments are plain
    // values or buffers alive for the call.
    unsafe {
        match cb {
            Vst3Callback::BeginEdit { id } => h.beginEdit(id),
            Vst3Callback::PerformEdit { id, value } => h.performEdit(id, value),
            Vst3Callback::EndEdit { id } => h.endEdit(id),
            Vst3Callback::RestartComponent { flags } => h.restartComponent(flags),
            Vst3Callback::SetDirty { state } => h
                .cast::<IComponentHandler2>()
                .map_or(missing, |h2| h2.setDirty(state as TBool)),
            Vst3Callback::RequestOpenEditor { name } => {
                let name = std::ffi::CString::new(name).unwrap_or_default();
                h.cast::<IComponentHandler2>()
                    .map_or(missing, |h2| h2.requestOpenEditor(name.as_ptr()))
            }
            Vst3Callback::StartGroupEdit => h
                .cast::<IComponentHandler2>()
                .map_or(missing, |h2| h2.startGroupEdit()),
            Vst3Callback::FinishGroupEdit => h
                .cast::<IComponentHandler2>()
                .map_or(missing, |h2| h2.finishGroupEdit()),
            Vst3Callback::RequestBusActivation {
                media_type,
                direction,
                index,
                state,
            } => h
                .cast::<IComponentHandlerBusActivation>()
                .map_or(missing, |b| {
                    b.requestBusActivation(media_type, direction, index, state as TBool)
                }),
            Vst3Callback::NotifyUnitSelection { unit } => h
                .cast::<IUnitHandler>()
                .map_or(missing, |u| u.notifyUnitSelection(unit)),
            Vst3Callback::NotifyProgramListChange { list, program } => h
                .cast::<IUnitHandler>()
                .map_or(missing, |u| u.notifyProgramListChange(list, program)),
            Vst3Callback::NotifyUnitByBusChange => h
                .cast::<IUnitHandler2>()
                .map_or(missing, |u| u.notifyUnitByBusChange()),
            Vst3Callback::ProgressStart {
                kind,
                description,
                id,
            } => {
                let Some(p) = h.cast::<IProgress>() else {
                    return missing;
                };
                let mut text: Vec<u16> = description;
                text.push(0);
                let mut theirs: u64 = 0;
                let r = p.start(kind as u32, text.as_ptr(), &mut theirs);
                if r == kResultOk {
                    lock(&remote.progress).insert(id, theirs);
                }
                r
            }
            Vst3Callback::ProgressUpdate { id, value } => {
                let theirs = lock(&remote.progress).get(&id).copied();
                match (h.cast::<IProgress>(), theirs) {
                    (Some(p), Some(theirs)) => p.update(theirs, value),
                    _ => missing,
                }
            }
            Vst3Callback::ProgressFinish { id } => {
                let theirs = lock(&remote.progress).remove(&id);
                match (h.cast::<IProgress>(), theirs) {
                    (Some(p), Some(theirs)) => p.finish(theirs),
                    _ => missing,
                }
            }
            Vst3Callback::Notify { .. } => missing,
        }
    }
}
