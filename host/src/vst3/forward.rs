//! Host objects that forward a plugin's calls to the bridge: the
//! per-object component handler (and its companion interfaces) and the
//! connection point standing for an object outside this process.
//!
//! A call made on the host's main thread is a call to the bridge that
//! waits for the DAW's answer ([`answered`], through `calls_out`): the
//! plugin gets the DAW's `tresult`, or `kResultOk` when the bridge
//! delivers the call later; when no answer comes (refused, too deep, timed
//! out) the call goes one-way as before and the plugin gets `kResultOk`, so
//! nothing is lost. A call made on any other thread (the plugin's audio
//! thread) goes one-way at once, as before. `IProgress` is one-way always
//! (its ids are made here).

// Interface methods keep the SDK's parameter names.
#![allow(non_snake_case)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bulkhead_common::protocol::vst3::types::MessageRecord;
use bulkhead_common::protocol::vst3::Vst3Callback;
use bulkhead_common::protocol::wire::{Answer, Callback};
use bulkhead_common::InstanceId;
use bulkhead_vst3_support::com::guard;
use bulkhead_vst3_support::records::records_of;
use bulkhead_vst3_support::strings::cstring_from_ptr;
use bulkhead_vst3_support::vst3::Steinberg::Vst::*;
use bulkhead_vst3_support::vst3::Steinberg::*;
use bulkhead_vst3_support::vst3::{Class, ComRef, ComWrapper};

use super::host_context::HostContext;
use crate::calls_out;
use crate::outbox::Outbox;

/// A plugin's call that the DAW answers: asked of the bridge, waiting, on
/// the main thread; one-way (answered `kResultOk` here) elsewhere or when
/// no answer comes.
fn answered(outbox: &Outbox, instance: InstanceId, cb: Vst3Callback) -> tresult {
    // Off the main thread nothing else is done: no allocation, no log.
    if !calls_out::on_loop_thread() {
        outbox.vst3_callback(instance, cb);
        return kResultOk;
    }
    match calls_out::call_bridge(instance, Callback::Vst3(cb.clone())) {
        Some(Answer::Vst3 { result }) => result,
        // The bridge delivers it later, as a callback.
        Some(Answer::Deferred) => kResultOk,
        Some(Answer::Refused { reason }) => {
            tracing::info!(
                instance,
                "call refused by the bridge ({reason}): sent one-way"
            );
            outbox.vst3_callback(instance, cb);
            kResultOk
        }
        None => {
            outbox.vst3_callback(instance, cb);
            kResultOk
        }
    }
}

/// The component handler installed by `SetComponentHandler`.
pub struct Forwarder {
    instance: InstanceId,
    outbox: Arc<Outbox>,
    next_progress: AtomicU64,
}

impl Class for Forwarder {
    type Interfaces = (
        IComponentHandler,
        IComponentHandler2,
        IComponentHandlerBusActivation,
        IUnitHandler,
        IUnitHandler2,
        IProgress,
    );
}

impl Forwarder {
    pub fn new(instance: InstanceId, outbox: Arc<Outbox>) -> ComWrapper<Forwarder> {
        ComWrapper::new(Forwarder {
            instance,
            outbox,
            next_progress: AtomicU64::new(1),
        })
    }

    /// A one-way call (`IProgress`).
    fn send(&self, cb: Vst3Callback) -> tresult {
        self.outbox.vst3_callback(self.instance, cb);
        kResultOk
    }

    /// A call the DAW answers.
    fn call(&self, cb: Vst3Callback) -> tresult {
        answered(&self.outbox, self.instance, cb)
    }
}

impl IComponentHandlerTrait for Forwarder {
    unsafe fn beginEdit(&self, id: ParamID) -> tresult {
        guard(kInternalError, || self.call(Vst3Callback::BeginEdit { id }))
    }
    unsafe fn performEdit(&self, id: ParamID, valueNormalized: ParamValue) -> tresult {
        guard(kInternalError, || {
            self.call(Vst3Callback::PerformEdit {
                id,
                value: valueNormalized,
            })
        })
    }
    unsafe fn endEdit(&self, id: ParamID) -> tresult {
        guard(kInternalError, || self.call(Vst3Callback::EndEdit { id }))
    }
    unsafe fn restartComponent(&self, flags: int32) -> tresult {
        guard(kInternalError, || {
            self.call(Vst3Callback::RestartComponent { flags })
        })
    }
}

impl IComponentHandler2Trait for Forwarder {
    unsafe fn setDirty(&self, state: TBool) -> tresult {
        guard(kInternalError, || {
            self.call(Vst3Callback::SetDirty { state: state != 0 })
        })
    }
    unsafe fn requestOpenEditor(&self, name: FIDString) -> tresult {
        guard(kInternalError, || {
            // SAFETY: a NUL-terminated C string or null (API contract); bounded read.
            let name = unsafe { cstring_from_ptr(name, 1024) }.unwrap_or_default();
            self.call(Vst3Callback::RequestOpenEditor { name })
        })
    }
    unsafe fn startGroupEdit(&self) -> tresult {
        guard(kInternalError, || self.call(Vst3Callback::StartGroupEdit))
    }
    unsafe fn finishGroupEdit(&self) -> tresult {
        guard(kInternalError, || self.call(Vst3Callback::FinishGroupEdit))
    }
}

impl IComponentHandlerBusActivationTrait for Forwarder {
    unsafe fn requestBusActivation(
        &self,
        r#type: MediaType,
        dir: BusDirection,
        index: int32,
        state: TBool,
    ) -> tresult {
        guard(kInternalError, || {
            self.call(Vst3Callback::RequestBusActivation {
                media_type: r#type,
                direction: dir,
                index,
                state: state != 0,
            })
        })
    }
}

impl IUnitHandlerTrait for Forwarder {
    unsafe fn notifyUnitSelection(&self, unitId: UnitID) -> tresult {
        guard(kInternalError, || {
            self.call(Vst3Callback::NotifyUnitSelection { unit: unitId })
        })
    }
    unsafe fn notifyProgramListChange(
        &self,
        listId: ProgramListID,
        programIndex: int32,
    ) -> tresult {
        guard(kInternalError, || {
            self.call(Vst3Callback::NotifyProgramListChange {
                list: listId,
                program: programIndex,
            })
        })
    }
}

impl IUnitHandler2Trait for Forwarder {
    unsafe fn notifyUnitByBusChange(&self) -> tresult {
        guard(kInternalError, || {
            self.call(Vst3Callback::NotifyUnitByBusChange)
        })
    }
}

/// UTF-16 units of a NUL-terminated string (bounded), without the NUL.
///
/// # Safety
/// `ptr` must be null or a NUL-terminated UTF-16 string.
pub unsafe fn units_from_ptr(ptr: *const u16, max: usize) -> Vec<u16> {
    let mut out = Vec::new();
    if ptr.is_null() {
        return out;
    }
    for i in 0..max {
        // SAFETY: NUL-terminated by contract; we stop at the NUL or `max`.
        let c = unsafe { ptr.add(i).read_unaligned() };
        if c == 0 {
            break;
        }
        out.push(c);
    }
    out
}

impl IProgressTrait for Forwarder {
    unsafe fn start(
        &self,
        r#type: IProgress_::ProgressType,
        optionalDescription: *const tchar,
        outID: *mut IProgress_::ID,
    ) -> tresult {
        guard(kInternalError, || {
            if outID.is_null() {
                return kInvalidArgument;
            }
            // SAFETY: NUL-terminated UTF-16 or null (API contract); bounded read.
            let description = unsafe { units_from_ptr(optionalDescription, 4096) };
            let id = self.next_progress.fetch_add(1, Ordering::Relaxed);
            // SAFETY: out-parameter, null checked.
            unsafe { outID.write(id) };
            self.send(Vst3Callback::ProgressStart {
                kind: r#type as i32,
                description,
                id,
            })
        })
    }
    unsafe fn update(&self, id: IProgress_::ID, normValue: ParamValue) -> tresult {
        guard(kInternalError, || {
            self.send(Vst3Callback::ProgressUpdate {
                id,
                value: normValue,
            })
        })
    }
    unsafe fn finish(&self, id: IProgress_::ID) -> tresult {
        guard(kInternalError, || {
            self.send(Vst3Callback::ProgressFinish { id })
        })
    }
}

/// The connection point an object is connected to by `ConnectOutside`:
/// every message it receives goes to the bridge as [`Vst3Callback::Notify`].
pub struct OutsidePoint {
    instance: InstanceId,
    outbox: Arc<Outbox>,
    context: ComWrapper<HostContext>,
}

impl Class for OutsidePoint {
    type Interfaces = (IConnectionPoint,);
}

impl OutsidePoint {
    pub fn new(
        instance: InstanceId,
        outbox: Arc<Outbox>,
        context: ComWrapper<HostContext>,
    ) -> ComWrapper<OutsidePoint> {
        ComWrapper::new(OutsidePoint {
            instance,
            outbox,
            context,
        })
    }
}

impl IConnectionPointTrait for OutsidePoint {
    unsafe fn connect(&self, other: *mut IConnectionPoint) -> tresult {
        // The host made the connection; the plugin connecting back is accepted.
        guard(kInternalError, || {
            if other.is_null() {
                kInvalidArgument
            } else {
                kResultTrue
            }
        })
    }

    unsafe fn disconnect(&self, _other: *mut IConnectionPoint) -> tresult {
        guard(kInternalError, || kResultTrue)
    }

    unsafe fn notify(&self, message: *mut IMessage) -> tresult {
        guard(kInternalError, || {
            // SAFETY: a live message for the call (API contract), null checked.
            let Some(m) = (unsafe { ComRef::from_raw(message) }) else {
                return kInvalidArgument;
            };
            // SAFETY: live message; the id is a C string or null.
            let id = unsafe { cstring_from_ptr(m.getMessageID(), 4096) }.unwrap_or_default();
            let attributes = match self.context.find_message(message) {
                Some(ours) => records_of(ours.attributes().entries()),
                None => {
                    tracing::warn!(
                        instance = self.instance,
                        id,
                        "a message not made by this host: its attributes cannot be read"
                    );
                    Vec::new()
                }
            };
            self.send_notify(MessageRecord { id, attributes })
        })
    }
}

impl OutsidePoint {
    fn send_notify(&self, message: MessageRecord) -> tresult {
        answered(
            &self.outbox,
            self.instance,
            Vst3Callback::Notify { message },
        )
    }
}
