//! `bulkhead.audio-audit/1`, the bridge's own extension: how often the
//! bridge and the instance's host allocated on the audio path (see
//! `bulkhead_common::alloc_audit`). Offered by every proxy.

use super::super::proxy::with_proxy;
use crate::guard::write_out;
use bulkhead_common::alloc_audit::{self, AudioAuditCounts, AudioAuditExt};
use std::ffi::c_void;
use std::sync::atomic::Ordering;

unsafe extern "C" fn get(plugin: *const c_void, out: *mut AudioAuditCounts) -> bool {
    with_proxy(plugin.cast(), false, |p| {
        let mut counts = AudioAuditCounts {
            bridge_sections: alloc_audit::sections(),
            bridge_allocations: alloc_audit::allocations(),
            ..AudioAuditCounts::default()
        };
        let region = p.link.region.lock().ok().and_then(|r| r.clone());
        if let Some(region) = &region {
            let c = region.control();
            counts.host_sections = c.host_sections.load(Ordering::Relaxed);
            counts.host_allocations = c.host_allocations.load(Ordering::Relaxed);
        }
        // SAFETY: the caller's out-parameter for this call.
        let written = unsafe { write_out(out, counts) };
        written && region.is_some()
    })
}

pub static VTABLE: AudioAuditExt = AudioAuditExt { get: Some(get) };
