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

pub fn serve(remote: &Remote, cb: Vst3Callback) {
    update_caches(remote, &cb);
    if let Vst3Callback::Notify { message } = &cb {
        let peer = match &*lock(&remote.peer) {
            Peer::Outside(p) => Some(p.clone()),
            _ => None,
        };
        if let Some(peer) = peer {
            let msg = message::to_com(message);
            // SAFETY: the DAW's live connection point; the message lives for
            // the call.
            unsafe { peer.notify(msg.as_ptr()) };
        }
        return;
    }
    remote.to_daw(|h| call_daw(remote, h, cb));
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

fn call_daw(remote: &Remote, h: &vst3::ComPtr<IComponentHandler>, cb: Vst3Callback) {
    // SAFETY: every call below is on the DAW's live handler (or an
    // interface it answered), on its main thread; arguments are plain
    // values or buffers alive for the call.
    unsafe {
        match cb {
            Vst3Callback::BeginEdit { id } => {
                h.beginEdit(id);
            }
            Vst3Callback::PerformEdit { id, value } => {
                h.performEdit(id, value);
            }
            Vst3Callback::EndEdit { id } => {
                h.endEdit(id);
            }
            Vst3Callback::RestartComponent { flags } => {
                h.restartComponent(flags);
            }
            Vst3Callback::SetDirty { state } => {
                if let Some(h2) = h.cast::<IComponentHandler2>() {
                    h2.setDirty(state as TBool);
                }
            }
            Vst3Callback::RequestOpenEditor { name } => {
                if let Some(h2) = h.cast::<IComponentHandler2>() {
                    let name = std::ffi::CString::new(name).unwrap_or_default();
                    h2.requestOpenEditor(name.as_ptr());
                }
            }
            Vst3Callback::StartGroupEdit => {
                if let Some(h2) = h.cast::<IComponentHandler2>() {
                    h2.startGroupEdit();
                }
            }
            Vst3Callback::FinishGroupEdit => {
                if let Some(h2) = h.cast::<IComponentHandler2>() {
                    h2.finishGroupEdit();
                }
            }
            Vst3Callback::RequestBusActivation {
                media_type,
                direction,
                index,
                state,
            } => {
                if let Some(b) = h.cast::<IComponentHandlerBusActivation>() {
                    b.requestBusActivation(media_type, direction, index, state as TBool);
                }
            }
            Vst3Callback::NotifyUnitSelection { unit } => {
                if let Some(u) = h.cast::<IUnitHandler>() {
                    u.notifyUnitSelection(unit);
                }
            }
            Vst3Callback::NotifyProgramListChange { list, program } => {
                if let Some(u) = h.cast::<IUnitHandler>() {
                    u.notifyProgramListChange(list, program);
                }
            }
            Vst3Callback::NotifyUnitByBusChange => {
                if let Some(u) = h.cast::<IUnitHandler2>() {
                    u.notifyUnitByBusChange();
                }
            }
            Vst3Callback::ProgressStart {
                kind,
                description,
                id,
            } => {
                if let Some(p) = h.cast::<IProgress>() {
                    let mut text: Vec<u16> = description;
                    text.push(0);
                    let mut theirs: u64 = 0;
                    if p.start(kind as u32, text.as_ptr(), &mut theirs) == kResultOk {
                        lock(&remote.progress).insert(id, theirs);
                    }
                }
            }
            Vst3Callback::ProgressUpdate { id, value } => {
                let theirs = lock(&remote.progress).get(&id).copied();
                if let (Some(p), Some(theirs)) = (h.cast::<IProgress>(), theirs) {
                    p.update(theirs, value);
                }
            }
            Vst3Callback::ProgressFinish { id } => {
                let theirs = lock(&remote.progress).remove(&id);
                if let (Some(p), Some(theirs)) = (h.cast::<IProgress>(), theirs) {
                    p.finish(theirs);
                }
            }
            Vst3Callback::Notify { .. } => {}
        }
    }
}
