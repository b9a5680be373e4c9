//! The COM layout of a proxy object: one interface pointer slot per
//! interface the bridge can carry, a reference count, and the proxy's data.
//!
//! The `vst3` crate's `ComWrapper` answers a fixed list of at most 15
//! interfaces decided at compile time; a proxy must answer exactly what its
//! real object answers, decided at run time (and asked again after
//! `initialize`). So the layout is ours: each slot's vtable is the crate's
//! generated one (its methods call the proxy's `I…Trait` implementations)
//! with `queryInterface` replaced by [`query_interface`], which answers from
//! the object's interface set. `addRef`/`release` go through [`Wrapper`],
//! implemented here on [`ObjectBox`]; counts never go below zero.

use super::proxy::Object;
use bulkhead_vst3_support::com::{guard, guid_from_ptr, Guid};
use std::ffi::c_void;
use std::mem::offset_of;
use std::sync::atomic::{AtomicU32, Ordering};
use vst3::com_scrape_types::{Construct, Header, Wrapper};
use vst3::Steinberg::Vst::ChannelContext::{IInfoListener, IInfoListenerVtbl};
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{Class, Interface};

impl Class for Object {
    // Only names the header type `Wrapper` is generic over; the layout and
    // the interface list are ours (see the module docs).
    type Interfaces = (IConnectionPoint,);
}

macro_rules! layout {
    ($($field:ident : $iface:ident / $vtbl:ident [$($path:ident).+]),* $(,)?) => {
        /// One interface pointer per interface a proxy can answer.
        #[repr(C)]
        pub struct Slots {
            $(pub $field: $iface,)*
        }

        $(
            #[allow(non_snake_case)]
            mod $field {
                use super::*;
                pub const OFFSET: isize =
                    (offset_of!(ObjectBox, slots) + offset_of!(Slots, $field)) as isize;
                pub static VTBL: $vtbl = {
                    let obj = <$iface as Construct<Object, ObjectBox, OFFSET>>::OBJ;
                    // SAFETY: `OBJ.vtbl` points to the crate's constant
                    // vtable for this interface; copying it is a plain read.
                    let mut v = unsafe { std::ptr::read(obj.vtbl) };
                    v.$($path).+.queryInterface = query_interface::<OFFSET>;
                    v
                };
            }
        )*

        impl Slots {
            const fn new() -> Self {
                Self { $($field: $iface { vtbl: &$field::VTBL },)* }
            }
        }

        /// The offset of the slot whose vtable is `vtbl`, if it is one of ours.
        fn slot_of(vtbl: *const c_void) -> Option<isize> {
            $(
                if std::ptr::eq(vtbl, (&$field::VTBL as *const $vtbl).cast()) {
                    return Some($field::OFFSET);
                }
            )*
            None
        }

        /// Every interface a proxy can answer, with its slot's offset in the
        /// object, in a fixed order (bit `i` of an interface set is entry `i`).
        pub const TABLE: &[(Guid, isize)] = &[$((<$iface as Interface>::IID, $field::OFFSET),)*];
    };
}

layout! {
    component: IComponent / IComponentVtbl [base.base],
    processor: IAudioProcessor / IAudioProcessorVtbl [base],
    context_requirements: IProcessContextRequirements / IProcessContextRequirementsVtbl [base],
    presentation_latency: IAudioPresentationLatency / IAudioPresentationLatencyVtbl [base],
    controller: IEditController / IEditControllerVtbl [base.base],
    controller2: IEditController2 / IEditController2Vtbl [base],
    host_editing: IEditControllerHostEditing / IEditControllerHostEditingVtbl [base],
    connection: IConnectionPoint / IConnectionPointVtbl [base],
    unit_info: IUnitInfo / IUnitInfoVtbl [base],
    program_list_data: IProgramListData / IProgramListDataVtbl [base],
    unit_data: IUnitData / IUnitDataVtbl [base],
    midi_mapping: IMidiMapping / IMidiMappingVtbl [base],
    midi_learn: IMidiLearn / IMidiLearnVtbl [base],
    note_expression: INoteExpressionController / INoteExpressionControllerVtbl [base],
    physical_ui: INoteExpressionPhysicalUIMapping / INoteExpressionPhysicalUIMappingVtbl [base],
    keyswitch: IKeyswitchController / IKeyswitchControllerVtbl [base],
    automation_state: IAutomationState / IAutomationStateVtbl [base],
    info_listener: IInfoListener / IInfoListenerVtbl [base],
    function_name: IParameterFunctionName / IParameterFunctionNameVtbl [base],
    prefetchable: IPrefetchableSupport / IPrefetchableSupportVtbl [base],
    xml_representation: IXmlRepresentationController / IXmlRepresentationControllerVtbl [base],
}

/// A proxy object as the DAW sees it.
#[repr(C)]
pub struct ObjectBox {
    slots: Slots,
    refs: AtomicU32,
    pub data: Object,
}

/// Bits of [`TABLE`] entries in an interface set.
pub fn interface_bits(iids: &[Guid]) -> u64 {
    TABLE
        .iter()
        .enumerate()
        .filter(|(_, (iid, _))| iids.contains(iid))
        .fold(0, |bits, (i, _)| bits | 1 << i)
}

impl ObjectBox {
    /// A new object with one reference (the creator's); its address.
    pub fn create(data: Object) -> *mut ObjectBox {
        Box::into_raw(Box::new(ObjectBox {
            slots: Slots::new(),
            refs: AtomicU32::new(1),
            data,
        }))
    }

    /// The slot answering `iid`, if the object answers it. `FUnknown` and
    /// `IPluginBase` are the component's, or the controller's for a
    /// controller.
    fn slot(&self, iid: &Guid) -> Option<isize> {
        let bits = self.data.interface_bits();
        if *iid == FUnknown::IID || *iid == IPluginBase::IID {
            return [component::OFFSET, controller::OFFSET]
                .into_iter()
                .find(|off| {
                    TABLE
                        .iter()
                        .enumerate()
                        .any(|(i, (_, o))| o == off && bits & 1 << i != 0)
                });
        }
        TABLE
            .iter()
            .enumerate()
            .find(|(i, (g, _))| g == iid && bits & 1 << i != 0)
            .map(|(_, (_, off))| *off)
    }

    /// The object behind an interface pointer if it is one of ours (the
    /// DAW connects our component to our controller directly, or a test
    /// asks for the audit counts), else `None`.
    ///
    /// # Safety
    /// `ptr` must be null or a live interface pointer.
    pub unsafe fn ours<I>(ptr: *mut I) -> Option<&'static ObjectBox> {
        if ptr.is_null() {
            return None;
        }
        // SAFETY: a live interface pointer starts with its vtable pointer.
        let vtbl = unsafe { *ptr.cast::<*const c_void>() };
        let off = slot_of(vtbl)?;
        // SAFETY: our vtable means our layout: the slot sits at its offset
        // inside an ObjectBox, alive while the caller holds the pointer.
        Some(unsafe { &*ptr.cast::<u8>().offset(-off).cast::<ObjectBox>() })
    }

    /// The object's `FUnknown`, as a raw pointer (not add-ref'ed).
    pub fn unknown(this: *mut ObjectBox) -> *mut FUnknown {
        this.cast()
    }
}

/// `queryInterface` of every slot at `OFFSET`.
unsafe extern "system" fn query_interface<const OFFSET: isize>(
    this: *mut FUnknown,
    iid: *const TUID,
    obj: *mut *mut c_void,
) -> tresult {
    guard(kInvalidArgument, || {
        if this.is_null() || obj.is_null() {
            return kInvalidArgument;
        }
        // SAFETY: `this` is the slot at OFFSET of a live ObjectBox (only our
        // vtables call this), so the object starts OFFSET bytes before it.
        let object = unsafe { this.cast::<u8>().offset(-OFFSET).cast::<ObjectBox>() };
        // SAFETY: the caller passes a 16-byte id.
        let Some(iid) = (unsafe { guid_from_ptr(iid) }) else {
            // SAFETY: `obj` is non-null and writable by the COM contract.
            unsafe { obj.write(std::ptr::null_mut()) };
            return kInvalidArgument;
        };
        // SAFETY: live object (above).
        match unsafe { (*object).slot(&iid) } {
            Some(off) => {
                // SAFETY: live object; the slot lies inside it.
                unsafe {
                    (*object).refs.fetch_add(1, Ordering::Relaxed);
                    obj.write(object.cast::<u8>().offset(off).cast());
                }
                kResultOk
            }
            None => {
                // SAFETY: as above.
                unsafe { obj.write(std::ptr::null_mut()) };
                kNoInterface
            }
        }
    })
}

impl Wrapper<Object> for ObjectBox {
    unsafe fn data_from_header(ptr: *mut Header<Object>) -> *mut Object {
        // The generated methods pass the object's start as its header (every
        // slot's OFFSET is measured from the start).
        // SAFETY: `ptr` is the start of a live ObjectBox.
        unsafe { ptr.cast::<u8>().add(offset_of!(ObjectBox, data)).cast() }
    }

    unsafe fn header_from_data(ptr: *mut Object) -> *mut Header<Object> {
        // SAFETY: `ptr` is the data field of a live ObjectBox.
        unsafe { ptr.cast::<u8>().sub(offset_of!(ObjectBox, data)).cast() }
    }

    unsafe fn add_ref(ptr: *mut Object) -> usize {
        guard(0, || {
            // SAFETY: `ptr` is the data of a live ObjectBox.
            let object = unsafe { Self::header_from_data(ptr).cast::<ObjectBox>() };
            // SAFETY: live.
            unsafe { (*object).refs.fetch_add(1, Ordering::Relaxed) as usize + 1 }
        })
    }

    unsafe fn release(ptr: *mut Object) -> usize {
        guard(0, || {
            // SAFETY: `ptr` is the data of a live ObjectBox.
            let object = unsafe { Self::header_from_data(ptr).cast::<ObjectBox>() };
            // SAFETY: live until the count reaches zero below.
            let refs = unsafe { &(*object).refs };
            let mut n = refs.load(Ordering::Acquire);
            loop {
                if n == 0 {
                    // A release too many: the DAW's bug, not a double free.
                    tracing::warn!("release of a VST3 proxy with no references left; ignored");
                    return 0;
                }
                match refs.compare_exchange_weak(n, n - 1, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => break,
                    Err(seen) => n = seen,
                }
            }
            if n == 1 {
                // SAFETY: the last reference is gone; the box was made by
                // `create` and nothing can reach it any more.
                drop(unsafe { Box::from_raw(object) });
            }
            n as usize - 1
        })
    }
}
