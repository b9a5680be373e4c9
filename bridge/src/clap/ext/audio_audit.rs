//! `bulkhead.audio-audit/1`, the bridge's own extension: how often the
//! bridge and the instance's host allocated on the audio path (see
//! `bulkhead_common::alloc_audit`). Offered by every proxy.

use super::super::proxy::with_proxy;
use crate::guard::write_out;
use bulkhead_common::alloc_audit::{AudioAuditCounts, AudioAuditExt};
use std::ffi::c_void;

unsafe extern "C" fn get(plugin: *const c_void, out: *mut AudioAuditCounts) -> bool {
    with_proxy(plugin.cast(), false, |p| {
        let (counts, active) = p.link.audit_counts();
        // SAFETY: the caller's out-parameter for this call.
        let written = unsafe { write_out(out, counts) };
        written && active
    })
}

pub static VTABLE: AudioAuditExt = AudioAuditExt { get: Some(get) };
