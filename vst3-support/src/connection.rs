//! [`ConnectionProxy`]: the host-side `IConnectionPoint` that real hosts (the SDK's hosting
//! code, Steinberg's validator, JUCE) put between a component and its controller.
//!
//! `component.connect(proxy_to_controller)` and `controller.connect(proxy_to_component)`: each
//! plugin object sees a foreign connection point, never its peer, and every `notify` passes
//! through the host — exactly the situation a bridged plugin must cope with.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{Class, ComPtr, ComWrapper};

use crate::com::guard;

/// Forwards `notify` to the connection point it was made for.
pub struct ConnectionProxy {
    target: Mutex<Option<ComPtr<IConnectionPoint>>>,
    notified: AtomicUsize,
}

// The proxy holds the target through a Mutex; IConnectionPoint pointers are used from the main
// thread only, which is what the Mutex serialises.
impl Class for ConnectionProxy {
    type Interfaces = (IConnectionPoint,);
}

impl ConnectionProxy {
    /// A proxy whose `notify` reaches `target`.
    pub fn new(target: ComPtr<IConnectionPoint>) -> ComWrapper<ConnectionProxy> {
        ComWrapper::new(ConnectionProxy {
            target: Mutex::new(Some(target)),
            notified: AtomicUsize::new(0),
        })
    }

    /// How many messages passed through.
    pub fn notified(&self) -> usize {
        self.notified.load(Ordering::Relaxed)
    }

    /// Drops the target (after both sides were disconnected), breaking the reference cycle
    /// plugin → proxy → plugin.
    pub fn clear(&self) {
        self.lock().take();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<ComPtr<IConnectionPoint>>> {
        self.target.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl IConnectionPointTrait for ConnectionProxy {
    unsafe fn connect(&self, other: *mut IConnectionPoint) -> tresult {
        // The host made the connection; a plugin connecting back is accepted and ignored.
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
            if message.is_null() {
                return kInvalidArgument;
            }
            // Clone the target out of the lock: the peer may answer with a notify of its own.
            let Some(target) = self.lock().clone() else {
                return kResultFalse;
            };
            self.notified.fetch_add(1, Ordering::Relaxed);
            // SAFETY: `message` is live for the duration of the call (API contract); `target` is
            // a live, add-ref'ed connection point.
            unsafe { target.notify(message) }
        })
    }
}
