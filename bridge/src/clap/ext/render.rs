//! `clap_plugin_render`.

use super::super::proxy::with_proxy;
use bulkhead_common::protocol::clap::ext::render::{HasHardRealtimeRequirement, Set};
use clap_sys::ext::render::{clap_plugin_render, clap_plugin_render_mode};
use clap_sys::plugin::clap_plugin;

unsafe extern "C" fn has_hard_realtime_requirement(plugin: *const clap_plugin) -> bool {
    with_proxy(plugin, false, |p| {
        p.query(HasHardRealtimeRequirement, false)
    })
}

unsafe extern "C" fn set(plugin: *const clap_plugin, mode: clap_plugin_render_mode) -> bool {
    with_proxy(plugin, false, |p| {
        let ok = p.query(Set { mode }, false);
        if ok {
            // A restarted plugin is put back into the same mode.
            *p.render_mode.lock().unwrap_or_else(|e| e.into_inner()) = Some(mode);
            p.set_audio_timeout(Some(mode));
        }
        ok
    })
}

pub static VTABLE: clap_plugin_render = clap_plugin_render {
    has_hard_realtime_requirement: Some(has_hard_realtime_requirement),
    set: Some(set),
};
