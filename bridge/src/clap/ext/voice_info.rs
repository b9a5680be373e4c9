//! `clap_plugin_voice_info`.

use super::super::proxy::with_proxy;
use crate::guard::{write_out, PlainC};
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
        v.is_some_and(|v| {
            let mut out = clap_voice_info::zeroed();
            out.voice_count = v.voice_count;
            out.voice_capacity = v.voice_capacity;
            out.flags = v.flags;
            {
                // SAFETY: the DAW's out-parameter for this call.
                unsafe { write_out(info, out) }
            }
        })
    })
}

pub static VTABLE: clap_plugin_voice_info = clap_plugin_voice_info { get: Some(get) };
