//! [`ComponentHandler`]: the host's `IComponentHandler` (+2, bus activation), `IUnitHandler`
//! (+2) and `IProgress`, recording every call and answering through an optional responder.

use std::sync::Mutex;

use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{Class, ComWrapper};

use crate::com::{guard, write_out};
use crate::strings::{cstring_from_ptr, wstring_from_ptr};

/// One call a plugin made to the handler.
#[derive(Debug, Clone, PartialEq)]
pub enum HandlerCall {
    /// `IComponentHandler::beginEdit`.
    BeginEdit(u32),
    /// `IComponentHandler::performEdit`.
    PerformEdit(u32, f64),
    /// `IComponentHandler::endEdit`.
    EndEdit(u32),
    /// `IComponentHandler::restartComponent` with its `RestartFlags`.
    RestartComponent(i32),
    /// `IComponentHandler2::setDirty`.
    SetDirty(bool),
    /// `IComponentHandler2::requestOpenEditor`.
    RequestOpenEditor(String),
    /// `IComponentHandler2::startGroupEdit`.
    StartGroupEdit,
    /// `IComponentHandler2::finishGroupEdit`.
    FinishGroupEdit,
    /// `IComponentHandlerBusActivation::requestBusActivation`.
    RequestBusActivation {
        /// `MediaTypes_`.
        media_type: i32,
        /// `BusDirections_`.
        direction: i32,
        /// Bus index.
        index: i32,
        /// Activate or deactivate.
        state: bool,
    },
    /// `IUnitHandler::notifyUnitSelection`.
    NotifyUnitSelection(i32),
    /// `IUnitHandler::notifyProgramListChange`.
    NotifyProgramListChange(i32, i32),
    /// `IUnitHandler2::notifyUnitByBusChange`.
    NotifyUnitByBusChange,
    /// `IProgress::start` (type, description); the id handed out is the call's index.
    ProgressStart(u32, Option<String>),
    /// `IProgress::update`.
    ProgressUpdate(u64, f64),
    /// `IProgress::finish`.
    ProgressFinish(u64),
}

/// Decides the answer of a call (e.g. the host process forwarding it to the DAW's handler).
pub type Responder = Box<dyn Fn(&HandlerCall) -> tresult + Send + Sync>;

/// The host's component handler.
pub struct ComponentHandler {
    calls: Mutex<Vec<HandlerCall>>,
    responder: Option<Responder>,
}

impl Class for ComponentHandler {
    type Interfaces = (
        IComponentHandler,
        IComponentHandler2,
        IComponentHandlerBusActivation,
        IUnitHandler,
        IUnitHandler2,
        IProgress,
    );
}

impl ComponentHandler {
    /// A handler that records calls and answers `kResultOk`.
    pub fn new() -> ComWrapper<ComponentHandler> {
        ComWrapper::new(ComponentHandler {
            calls: Mutex::new(Vec::new()),
            responder: None,
        })
    }

    /// A handler that records calls and answers what `responder` says.
    pub fn with_responder(responder: Responder) -> ComWrapper<ComponentHandler> {
        ComWrapper::new(ComponentHandler {
            calls: Mutex::new(Vec::new()),
            responder: Some(responder),
        })
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<HandlerCall> {
        self.lock().clone()
    }

    /// Takes the calls so far, leaving the record empty.
    pub fn take_calls(&self) -> Vec<HandlerCall> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<HandlerCall>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, call: HandlerCall) -> tresult {
        let answer = self.responder.as_ref().map_or(kResultOk, |r| r(&call));
        self.lock().push(call);
        answer
    }
}

impl IComponentHandlerTrait for ComponentHandler {
    unsafe fn beginEdit(&self, id: ParamID) -> tresult {
        guard(kInternalError, || self.record(HandlerCall::BeginEdit(id)))
    }
    unsafe fn performEdit(&self, id: ParamID, valueNormalized: ParamValue) -> tresult {
        guard(kInternalError, || {
            self.record(HandlerCall::PerformEdit(id, valueNormalized))
        })
    }
    unsafe fn endEdit(&self, id: ParamID) -> tresult {
        guard(kInternalError, || self.record(HandlerCall::EndEdit(id)))
    }
    unsafe fn restartComponent(&self, flags: int32) -> tresult {
        guard(kInternalError, || {
            self.record(HandlerCall::RestartComponent(flags))
        })
    }
}

impl IComponentHandler2Trait for ComponentHandler {
    unsafe fn setDirty(&self, state: TBool) -> tresult {
        guard(kInternalError, || {
            self.record(HandlerCall::SetDirty(state != 0))
        })
    }
    unsafe fn requestOpenEditor(&self, name: FIDString) -> tresult {
        guard(kInternalError, || {
            // SAFETY: a NUL-terminated C string or null (API contract); bounded read.
            let name = unsafe { cstring_from_ptr(name, 1024) }.unwrap_or_default();
            self.record(HandlerCall::RequestOpenEditor(name))
        })
    }
    unsafe fn startGroupEdit(&self) -> tresult {
        guard(kInternalError, || self.record(HandlerCall::StartGroupEdit))
    }
    unsafe fn finishGroupEdit(&self) -> tresult {
        guard(kInternalError, || self.record(HandlerCall::FinishGroupEdit))
    }
}

impl IComponentHandlerBusActivationTrait for ComponentHandler {
    unsafe fn requestBusActivation(
        &self,
        r#type: MediaType,
        dir: BusDirection,
        index: int32,
        state: TBool,
    ) -> tresult {
        guard(kInternalError, || {
            self.record(HandlerCall::RequestBusActivation {
                media_type: r#type,
                direction: dir,
                index,
                state: state != 0,
            })
        })
    }
}

impl IUnitHandlerTrait for ComponentHandler {
    unsafe fn notifyUnitSelection(&self, unitId: UnitID) -> tresult {
        guard(kInternalError, || {
            self.record(HandlerCall::NotifyUnitSelection(unitId))
        })
    }
    unsafe fn notifyProgramListChange(
        &self,
        listId: ProgramListID,
        programIndex: int32,
    ) -> tresult {
        guard(kInternalError, || {
            self.record(HandlerCall::NotifyProgramListChange(listId, programIndex))
        })
    }
}

impl IUnitHandler2Trait for ComponentHandler {
    unsafe fn notifyUnitByBusChange(&self) -> tresult {
        guard(kInternalError, || {
            self.record(HandlerCall::NotifyUnitByBusChange)
        })
    }
}

impl IProgressTrait for ComponentHandler {
    unsafe fn start(
        &self,
        r#type: IProgress_::ProgressType,
        optionalDescription: *const tchar,
        outID: *mut IProgress_::ID,
    ) -> tresult {
        guard(kInternalError, || {
            // SAFETY: NUL-terminated UTF-16 or null (API contract); bounded read.
            let text = unsafe { wstring_from_ptr(optionalDescription, 1024) };
            let id = self.lock().len() as u64;
            // SAFETY: out-parameter, null checked.
            unsafe { write_out(outID, id) };
            self.record(HandlerCall::ProgressStart(r#type, text))
        })
    }
    unsafe fn update(&self, id: IProgress_::ID, normValue: ParamValue) -> tresult {
        guard(kInternalError, || {
            self.record(HandlerCall::ProgressUpdate(id, normValue))
        })
    }
    unsafe fn finish(&self, id: IProgress_::ID) -> tresult {
        guard(kInternalError, || {
            self.record(HandlerCall::ProgressFinish(id))
        })
    }
}
