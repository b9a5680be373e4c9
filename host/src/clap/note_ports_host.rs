//! `clap_host_note_ports`, written here because clack-extensions 0.2.0's
//! host implementation hands plugins a pointer to the vtable pointer, so a
//! plugin calling `supported_dialects` jumps into data and crashes.

use super::host_side::BulkheadHost;
use bulkhead_common::protocol::clap::MainCallback;
use clack_host::extensions::wrapper::HostWrapper;
use clack_host::extensions::{
    Extension, ExtensionImplementation, HostExtensionSide, RawExtension, RawExtensionImplementation,
};
use clap_sys::ext::note_ports::{clap_host_note_ports, CLAP_EXT_NOTE_PORTS};
use clap_sys::host::clap_host;
use std::ffi::CStr;

#[derive(Copy, Clone)]
#[allow(dead_code)] // the raw pointer is only held for clack's Extension contract
pub struct HostNotePortsBridged(RawExtension<HostExtensionSide, clap_host_note_ports>);

// SAFETY: the struct wraps exactly the `clap_host_note_ports` vtable named by
// the identifier.
unsafe impl Extension for HostNotePortsBridged {
    const IDENTIFIERS: &'static [&'static CStr] = &[CLAP_EXT_NOTE_PORTS];
    type ExtensionSide = HostExtensionSide;

    unsafe fn from_raw(raw: RawExtension<Self::ExtensionSide>) -> Self {
        // SAFETY: the caller guarantees the pointer is a clap_host_note_ports.
        Self(unsafe { raw.cast() })
    }
}

static VTABLE: clap_host_note_ports = clap_host_note_ports {
    supported_dialects: Some(supported_dialects),
    rescan: Some(rescan),
};

// SAFETY: the implementation is a pointer to the vtable itself (one level
// of indirection, as the CLAP ABI requires).
unsafe impl ExtensionImplementation<BulkheadHost> for HostNotePortsBridged {
    const IMPLEMENTATION: RawExtensionImplementation = RawExtensionImplementation::new(&VTABLE);
}

unsafe extern "C" fn supported_dialects(host: *const clap_host) -> u32 {
    // SAFETY: clack checks the pointer and catches panics; the host pointer
    // is one clack created for `BulkheadHost`.
    unsafe {
        HostWrapper::<BulkheadHost>::handle_main_thread(host, |h| {
            Ok(h.shared
                .note_dialects
                .load(std::sync::atomic::Ordering::Relaxed))
        })
    }
    .unwrap_or(0)
}

unsafe extern "C" fn rescan(host: *const clap_host, flags: u32) {
    // SAFETY: as in `supported_dialects`.
    unsafe {
        HostWrapper::<BulkheadHost>::handle_main_thread(host, |h| {
            h.shared
                .outbox
                .callback(h.shared.instance, MainCallback::NotePortsRescan { flags });
            Ok(())
        })
    };
}
