//! The host context handed to every VST3 object of this process:
//! `IHostApplication` (name, `createInstance` of messages and attribute
//! lists), `IPlugInterfaceSupport`, and `Linux::IRunLoop`, whose fd
//! handlers and timers the host's poll loop serves.
//!
//! Messages made through `createInstance` are remembered (until only this
//! registry holds them) so that a message sent out of the process can be
//! read back entry by entry: VST3 gives no way to enumerate a foreign
//! attribute list.

// Interface methods keep the SDK's parameter names.
#![allow(non_snake_case)]

use std::ffi::c_void;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bulkhead_vst3_support::com::{guard, guid_from_ptr, query_raw, write_out, Guid};
use bulkhead_vst3_support::host_app::default_supported;
use bulkhead_vst3_support::strings::copy_wstring;
use bulkhead_vst3_support::vst3::Steinberg::Linux::*;
use bulkhead_vst3_support::vst3::Steinberg::Vst::*;
use bulkhead_vst3_support::vst3::Steinberg::*;
use bulkhead_vst3_support::vst3::{Class, ComPtr, ComRef, ComWrapper, Interface};
use bulkhead_vst3_support::{AttributeList, Message};

/// The fd handlers and timers plugins registered.
#[derive(Default)]
pub struct RunLoopState {
    pub fds: Vec<(ComPtr<IEventHandler>, i32)>,
    /// Handler, period, next due time.
    pub timers: Vec<(ComPtr<ITimerHandler>, Duration, Instant)>,
}

pub struct HostContext {
    name: String,
    supported: Vec<Guid>,
    run_loop: Mutex<RunLoopState>,
    messages: Mutex<Vec<ComWrapper<Message>>>,
}

impl Class for HostContext {
    type Interfaces = (IHostApplication, IPlugInterfaceSupport, IRunLoop);
}

/// The reference count of a live COM object (probed with addRef/release).
///
/// # Safety
/// `obj` must be a live object.
unsafe fn ref_count(obj: *mut FUnknown) -> u32 {
    // SAFETY: live object (contract); addRef then release leaves it as it was.
    unsafe {
        ((*(*obj).vtbl).addRef)(obj);
        ((*(*obj).vtbl).release)(obj)
    }
}

impl HostContext {
    pub fn new(name: &str) -> ComWrapper<HostContext> {
        let mut supported = default_supported();
        supported.extend([IUnitHandler::IID, IUnitHandler2::IID, IProgress::IID]);
        ComWrapper::new(HostContext {
            name: name.to_owned(),
            supported,
            run_loop: Mutex::new(RunLoopState::default()),
            messages: Mutex::new(Vec::new()),
        })
    }

    pub fn run_loop(&self) -> MutexGuard<'_, RunLoopState> {
        self.run_loop.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn messages(&self) -> MutexGuard<'_, Vec<ComWrapper<Message>>> {
        self.messages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Our own message behind `ptr`, if it is one.
    pub fn find_message(&self, ptr: *mut IMessage) -> Option<ComWrapper<Message>> {
        self.messages()
            .iter()
            .find(|m| {
                m.as_com_ref::<IMessage>()
                    .is_some_and(|r| r.as_ptr() == ptr)
            })
            .cloned()
    }

    /// Forgets messages nobody but the registry holds.
    fn prune_messages(list: &mut Vec<ComWrapper<Message>>) {
        list.retain(|m| {
            m.as_com_ref::<IMessage>().is_some_and(|r| {
                // SAFETY: the registry keeps the message alive.
                unsafe { ref_count(r.as_ptr().cast()) > 1 }
            })
        });
    }
}

impl IHostApplicationTrait for HostContext {
    unsafe fn getName(&self, name: *mut String128) -> tresult {
        guard(kInternalError, || {
            if name.is_null() {
                return kInvalidArgument;
            }
            // SAFETY: non-null out-parameter of type String128.
            copy_wstring(&self.name, unsafe { &mut *name });
            kResultOk
        })
    }

    unsafe fn createInstance(
        &self,
        cid: *mut TUID,
        iid: *mut TUID,
        obj: *mut *mut c_void,
    ) -> tresult {
        guard(kInternalError, || {
            if obj.is_null() {
                return kInvalidArgument;
            }
            // SAFETY: out-parameter, non-null; cleared so a failure leaves no stale pointer.
            unsafe { write_out(obj, std::ptr::null_mut()) };
            // SAFETY: ids point to 16 bytes by the API contract (null checked).
            let (Some(cid), Some(iid)) =
                (unsafe { guid_from_ptr(cid) }, unsafe { guid_from_ptr(iid) })
            else {
                return kInvalidArgument;
            };
            let unknown = if cid == IMessage::IID {
                let message = Message::new();
                let unknown = message.to_com_ptr::<FUnknown>();
                let mut list = self.messages();
                Self::prune_messages(&mut list);
                list.push(message);
                unknown
            } else if cid == IAttributeList::IID {
                AttributeList::new().to_com_ptr::<FUnknown>()
            } else {
                return kResultFalse;
            };
            let Some(unknown) = unknown else {
                return kInternalError;
            };
            // SAFETY: the new object is alive (held by `unknown`); the query add-refs what it
            // returns.
            unsafe { query_raw(unknown.as_ptr(), &iid, obj) }
        })
    }
}

impl IPlugInterfaceSupportTrait for HostContext {
    unsafe fn isPlugInterfaceSupported(&self, iid: *const TUID) -> tresult {
        guard(kInternalError, || {
            // SAFETY: `iid` points to 16 bytes by the API contract (null checked).
            match unsafe { guid_from_ptr(iid) } {
                Some(iid) if self.supported.contains(&iid) => kResultTrue,
                Some(_) => kResultFalse,
                None => kInvalidArgument,
            }
        })
    }
}

impl IRunLoopTrait for HostContext {
    unsafe fn registerEventHandler(
        &self,
        handler: *mut IEventHandler,
        fd: FileDescriptor,
    ) -> tresult {
        guard(kInternalError, || {
            // SAFETY: a live handler by the API contract (null checked); we keep a reference.
            let Some(h) = (unsafe { ComRef::from_raw(handler) }).map(|r| r.to_com_ptr()) else {
                return kInvalidArgument;
            };
            if fd < 0 {
                return kInvalidArgument;
            }
            self.run_loop().fds.push((h, fd));
            kResultOk
        })
    }

    unsafe fn unregisterEventHandler(&self, handler: *mut IEventHandler) -> tresult {
        guard(kInternalError, || {
            let removed = {
                let mut rl = self.run_loop();
                let before = rl.fds.len();
                let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut rl.fds)
                    .into_iter()
                    .partition(|(h, _)| h.as_ptr() == handler);
                rl.fds = kept;
                let n = before - rl.fds.len();
                (gone, n)
            };
            // The references are released outside the lock.
            if removed.1 > 0 {
                kResultOk
            } else {
                kInvalidArgument
            }
        })
    }

    unsafe fn registerTimer(
        &self,
        handler: *mut ITimerHandler,
        milliseconds: TimerInterval,
    ) -> tresult {
        guard(kInternalError, || {
            // SAFETY: a live handler by the API contract (null checked); we keep a reference.
            let Some(h) = (unsafe { ComRef::from_raw(handler) }).map(|r| r.to_com_ptr()) else {
                return kInvalidArgument;
            };
            let period = Duration::from_millis(milliseconds.max(1));
            self.run_loop()
                .timers
                .push((h, period, Instant::now() + period));
            kResultOk
        })
    }

    unsafe fn unregisterTimer(&self, handler: *mut ITimerHandler) -> tresult {
        guard(kInternalError, || {
            let gone: Vec<_> = {
                let mut rl = self.run_loop();
                let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut rl.timers)
                    .into_iter()
                    .partition(|(h, _, _)| h.as_ptr() == handler);
                rl.timers = kept;
                gone
            };
            if gone.is_empty() {
                kInvalidArgument
            } else {
                kResultOk
            }
        })
    }
}

/// Calls due timers and returns when the next one is due. Handlers run
/// without the lock held (they may register or unregister).
pub fn fire_timers(ctx: &HostContext, now: Instant) {
    let due: Vec<ComPtr<ITimerHandler>> = {
        let mut rl = ctx.run_loop();
        rl.timers
            .iter_mut()
            .filter(|t| t.2 <= now)
            .map(|t| {
                t.2 = now + t.1;
                t.0.clone()
            })
            .collect()
    };
    for h in due {
        // SAFETY: a live handler we hold a reference to; main thread.
        unsafe { h.onTimer() };
    }
}

/// Calls the handler registered for `fd`.
pub fn fire_fd(ctx: &HostContext, fd: i32) {
    let handlers: Vec<ComPtr<IEventHandler>> = ctx
        .run_loop()
        .fds
        .iter()
        .filter(|(_, f)| *f == fd)
        .map(|(h, _)| h.clone())
        .collect();
    for h in handlers {
        // SAFETY: a live handler we hold a reference to; main thread.
        unsafe { h.onFDIsSet(fd) };
    }
}
