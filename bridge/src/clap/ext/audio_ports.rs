//! `clap_plugin_audio_ports`, answered from a cache the plugin's rescan
//! invalidates.

use super::super::proxy::with_proxy;
use super::fill_text;
use crate::guard::{write_out, PlainC};
use clap_sys::ext::audio_ports::*;
use clap_sys::plugin::clap_plugin;

unsafe extern "C" fn count(plugin: *const clap_plugin, is_input: bool) -> u32 {
    with_proxy(plugin, 0, |p| {
        let ports = p.audio_ports();
        (if is_input {
            ports.inputs.len()
        } else {
            ports.outputs.len()
        }) as u32
    })
}

unsafe extern "C" fn get(
    plugin: *const clap_plugin,
    index: u32,
    is_input: bool,
    info: *mut clap_audio_port_info,
) -> bool {
    with_proxy(plugin, false, |p| {
        if info.is_null() {
            return false;
        }
        let ports = p.audio_ports();
        let list = if is_input {
            &ports.inputs
        } else {
            &ports.outputs
        };
        let Some(port) = list.get(index as usize) else {
            return false;
        };
        let mut out = clap_audio_port_info::zeroed();
        out.id = port.id;
        fill_text(&port.name, &mut out.name);
        out.flags = port.flags;
        out.channel_count = port.channel_count;
        out.in_place_pair = port.in_place_pair;
        let type_index = if is_input { 0 } else { ports.inputs.len() } + index as usize;
        // The type string lives in the cache until the next rescan, as the
        // CLAP contract for `port_type` asks.
        out.port_type = p
            .caches()
            .audio_ports
            .as_ref()
            .and_then(|(_, types)| types.get(type_index).and_then(|t| t.as_ref()))
            .map_or(std::ptr::null(), |c| c.as_ptr());
        {
            // SAFETY: the DAW's out-parameter for this call.
            unsafe { write_out(info, out) }
        }
    })
}

pub static VTABLE: clap_plugin_audio_ports = clap_plugin_audio_ports {
    count: Some(count),
    get: Some(get),
};
