//! [`ParameterChanges`] and [`ParamValueQueue`]: the host's `IParameterChanges` and
//! `IParamValueQueue`, preallocated so the audio thread never allocates.
//!
//! Used for input changes and for the output list, which a host must always provide (some
//! plugin frameworks assert on a null one). Not `Sync`, like [`crate::EventList`].

use std::cell::{Cell, RefCell};

use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{Class, ComWrapper};

use crate::com::{guard, write_out};

/// The changes of one parameter within a block, ordered by sample offset.
pub struct ParamValueQueue {
    id: Cell<ParamID>,
    points: RefCell<Vec<(i32, f64)>>,
    capacity: usize,
}

impl Class for ParamValueQueue {
    type Interfaces = (IParamValueQueue,);
}

impl ParamValueQueue {
    fn new(capacity: usize) -> ComWrapper<ParamValueQueue> {
        ComWrapper::new(ParamValueQueue {
            id: Cell::new(0),
            points: RefCell::new(Vec::with_capacity(capacity)),
            capacity,
        })
    }

    /// The parameter id.
    pub fn id(&self) -> ParamID {
        self.id.get()
    }

    /// The points `(sample offset, normalized value)`.
    pub fn points(&self) -> Vec<(i32, f64)> {
        self.points.borrow().clone()
    }

    /// Adds a point keeping offsets ordered; a point at an existing offset replaces it (as the
    /// SDK's queue does). Returns its index, or `None` when full.
    pub fn add(&self, offset: i32, value: f64) -> Option<usize> {
        let mut points = self.points.try_borrow_mut().ok()?;
        let at = points.partition_point(|&(o, _)| o < offset);
        if points.get(at).is_some_and(|&(o, _)| o == offset) {
            points[at].1 = value;
            return Some(at);
        }
        if points.len() >= self.capacity {
            return None;
        }
        points.insert(at, (offset, value));
        Some(at)
    }
}

impl IParamValueQueueTrait for ParamValueQueue {
    unsafe fn getParameterId(&self) -> ParamID {
        guard(u32::MAX, || self.id.get())
    }

    unsafe fn getPointCount(&self) -> int32 {
        guard(0, || {
            self.points.try_borrow().map_or(0, |p| p.len() as int32)
        })
    }

    unsafe fn getPoint(
        &self,
        index: int32,
        sampleOffset: *mut int32,
        value: *mut ParamValue,
    ) -> tresult {
        guard(kInternalError, || {
            let Ok(points) = self.points.try_borrow() else {
                return kInternalError;
            };
            match usize::try_from(index).ok().and_then(|i| points.get(i)) {
                Some(&(o, v)) if !sampleOffset.is_null() && !value.is_null() => {
                    // SAFETY: both out-parameters were null checked.
                    unsafe {
                        write_out(sampleOffset, o);
                        write_out(value, v);
                    }
                    kResultTrue
                }
                _ => kInvalidArgument,
            }
        })
    }

    unsafe fn addPoint(
        &self,
        sampleOffset: int32,
        value: ParamValue,
        index: *mut int32,
    ) -> tresult {
        guard(kInternalError, || match self.add(sampleOffset, value) {
            Some(i) => {
                // SAFETY: optional out-parameter, null checked.
                unsafe { write_out(index, i as int32) };
                kResultTrue
            }
            None => kResultFalse,
        })
    }
}

/// The host's parameter change list: up to `max_params` queues of `max_points` points each.
pub struct ParameterChanges {
    queues: Vec<ComWrapper<ParamValueQueue>>,
    used: Cell<usize>,
}

impl Class for ParameterChanges {
    type Interfaces = (IParameterChanges,);
}

impl ParameterChanges {
    /// An empty list with room for `max_params` parameters of `max_points` points each.
    pub fn new(max_params: usize, max_points: usize) -> ComWrapper<ParameterChanges> {
        ComWrapper::new(ParameterChanges {
            queues: (0..max_params)
                .map(|_| ParamValueQueue::new(max_points))
                .collect(),
            used: Cell::new(0),
        })
    }

    /// Removes every change (keeps the memory).
    pub fn clear(&self) {
        for q in &self.queues[..self.used.get()] {
            if let Ok(mut p) = q.points.try_borrow_mut() {
                p.clear();
            }
        }
        self.used.set(0);
    }

    /// Adds a point to the queue of `id` (creating the queue); false when full.
    pub fn add(&self, id: ParamID, offset: i32, value: f64) -> bool {
        self.queue_for(id)
            .is_some_and(|i| self.queues[i].add(offset, value).is_some())
    }

    /// Every queue in use: `(id, points)` in the order the queues were added.
    pub fn changes(&self) -> Vec<(ParamID, Vec<(i32, f64)>)> {
        self.queues[..self.used.get()]
            .iter()
            .map(|q| (q.id(), q.points()))
            .collect()
    }

    /// The list as the raw pointer `ProcessData` wants (not add-ref'ed: the owner keeps it).
    pub fn as_raw(this: &ComWrapper<ParameterChanges>) -> *mut IParameterChanges {
        this.as_com_ref::<IParameterChanges>()
            .map_or(std::ptr::null_mut(), |r| r.as_ptr())
    }

    fn queue_for(&self, id: ParamID) -> Option<usize> {
        let used = self.used.get();
        if let Some(i) = self.queues[..used].iter().position(|q| q.id() == id) {
            return Some(i);
        }
        let q = self.queues.get(used)?;
        q.id.set(id);
        if let Ok(mut p) = q.points.try_borrow_mut() {
            p.clear();
        }
        self.used.set(used + 1);
        Some(used)
    }

    fn queue_ptr(&self, i: usize) -> *mut IParamValueQueue {
        self.queues[i]
            .as_com_ref::<IParamValueQueue>()
            .map_or(std::ptr::null_mut(), |r| r.as_ptr())
    }
}

impl IParameterChangesTrait for ParameterChanges {
    unsafe fn getParameterCount(&self) -> int32 {
        guard(0, || self.used.get() as int32)
    }

    unsafe fn getParameterData(&self, index: int32) -> *mut IParamValueQueue {
        guard(std::ptr::null_mut(), || match usize::try_from(index) {
            // Not add-ref'ed (the API's rule): the list owns its queues.
            Ok(i) if i < self.used.get() => self.queue_ptr(i),
            _ => std::ptr::null_mut(),
        })
    }

    unsafe fn addParameterData(
        &self,
        id: *const ParamID,
        index: *mut int32,
    ) -> *mut IParamValueQueue {
        guard(std::ptr::null_mut(), || {
            if id.is_null() {
                return std::ptr::null_mut();
            }
            // SAFETY: non-null pointer to a ParamID (API contract).
            let id = unsafe { id.read() };
            match self.queue_for(id) {
                Some(i) => {
                    // SAFETY: optional out-parameter, null checked.
                    unsafe { write_out(index, i as int32) };
                    self.queue_ptr(i)
                }
                None => std::ptr::null_mut(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_order_points_and_stay_bounded() {
        let c = ParameterChanges::new(2, 3);
        assert!(c.add(7, 10, 0.5));
        assert!(c.add(7, 2, 0.1));
        assert!(c.add(7, 10, 0.6));
        assert!(c.add(9, 0, 1.0));
        assert!(!c.add(11, 0, 1.0), "only two queues");
        assert!(c.add(7, 20, 0.7));
        assert!(!c.add(7, 30, 0.7), "only three points");
        assert_eq!(
            c.changes(),
            vec![
                (7, vec![(2, 0.1), (10, 0.6), (20, 0.7)]),
                (9, vec![(0, 1.0)])
            ]
        );
        c.clear();
        assert!(c.changes().is_empty());
    }
}
