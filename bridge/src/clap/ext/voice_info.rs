//! `clap_plugin_voice_info`.

use super::super::proxy::with_proxy;
use bulkhead_common::protocol::clap::ext::voice_info::GetVoiceInfo;
use clap_sys::ext::voice_info::{clap_plugin_voice_info, clap_voice_info};
use clap_sys::plugin::clap_plugin;

unsafe extern "C" fn get(plugin: *const clap_plugin, info: *mut clap_voice_info) -> bool {
    with_proxy(plugin, false, |p| {
        let v = match p.call(GetVoiceInfo, p.timeout_main()) {
            Ok(v) => {
                p.caches().voice_info = v;
                v
            }
            Err(_) => p.caches().voice_info,
        };
        // SAFETY: the DAW passes a writable info struct or null.
        let out = unsafe { info.as_mut() };
        match (v, out) {
            (Some(v), Some(out)) => {
                out.voice_count = v.voice_count;
                out.voice_capacity = v.voice_capacity;
                out.flags = v.flags;
                true
            }
            _ => false,
        }
    })
}

pub static VTABLE: clap_plugin_voice_info = clap_plugin_voice_info { get: Some(get) };
