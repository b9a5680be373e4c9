//! [`EventList`]: the host's `IEventList`, with a capacity fixed at creation so adding events
//! on the audio thread never allocates (a full list answers `kResultFalse`).
//!
//! Not `Sync`: a list belongs to the thread that processes (create it there, or hand it over
//! before processing starts).

use std::cell::RefCell;

use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{Class, ComWrapper};

use crate::com::guard;

/// The host's event list.
pub struct EventList {
    events: RefCell<Vec<Event>>,
    capacity: usize,
}

impl Class for EventList {
    type Interfaces = (IEventList,);
}

impl EventList {
    /// An empty list that holds up to `capacity` events.
    pub fn new(capacity: usize) -> ComWrapper<EventList> {
        ComWrapper::new(EventList {
            events: RefCell::new(Vec::with_capacity(capacity)),
            capacity,
        })
    }

    /// Removes every event (keeps the memory).
    pub fn clear(&self) {
        self.events.borrow_mut().clear();
    }

    /// Adds an event; false when full.
    pub fn push(&self, event: Event) -> bool {
        let mut events = self.events.borrow_mut();
        if events.len() >= self.capacity {
            return false;
        }
        events.push(event);
        true
    }

    /// A copy of the events, in the order added.
    pub fn events(&self) -> Vec<Event> {
        self.events.borrow().clone()
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.borrow().len()
    }

    /// True when there are no events.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The list as the raw pointer `ProcessData` wants (not add-ref'ed: the owner keeps it).
    pub fn as_raw(this: &ComWrapper<EventList>) -> *mut IEventList {
        this.as_com_ref::<IEventList>()
            .map_or(std::ptr::null_mut(), |r| r.as_ptr())
    }
}

impl IEventListTrait for EventList {
    unsafe fn getEventCount(&self) -> int32 {
        guard(0, || {
            self.events.try_borrow().map_or(0, |e| e.len() as int32)
        })
    }

    unsafe fn getEvent(&self, index: int32, e: *mut Event) -> tresult {
        guard(kInternalError, || {
            let Ok(events) = self.events.try_borrow() else {
                return kInternalError;
            };
            match usize::try_from(index).ok().and_then(|i| events.get(i)) {
                Some(ev) if !e.is_null() => {
                    // SAFETY: non-null out-parameter of type Event.
                    unsafe { e.write(*ev) };
                    kResultOk
                }
                _ => kInvalidArgument,
            }
        })
    }

    unsafe fn addEvent(&self, e: *mut Event) -> tresult {
        guard(kInternalError, || {
            if e.is_null() {
                return kInvalidArgument;
            }
            // SAFETY: non-null pointer to an Event (API contract).
            let ev = unsafe { e.read() };
            let Ok(mut events) = self.events.try_borrow_mut() else {
                return kInternalError;
            };
            if events.len() >= self.capacity {
                return kResultFalse;
            }
            events.push(ev);
            kResultOk
        })
    }
}
