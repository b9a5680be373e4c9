//! `clap_plugin_note_ports`, answered from a cache the plugin's rescan
//! invalidates.

use super::super::proxy::{with_proxy, Inner};
use super::super::validate;
use super::fill_text;
use crate::guard::{write_out, PlainC};
use bulkhead_common::protocol::clap::ext::note_ports::{GetNotePorts, NotePorts};
use clap_sys::ext::note_ports::*;
use clap_sys::plugin::clap_plugin;

fn ports(p: &Inner) -> NotePorts {
    if let Some(n) = &p.caches().note_ports {
        return n.clone();
    }
    match p
        .call(GetNotePorts, p.timeout_main())
        .map(validate::note_ports)
    {
        Ok(n) => {
            p.caches().note_ports = Some(n.clone());
            n
        }
        Err(_) => NotePorts::default(),
    }
}

unsafe extern "C" fn count(plugin: *const clap_plugin, is_input: bool) -> u32 {
    with_proxy(plugin, 0, |p| {
        let n = ports(p);
        (if is_input {
            n.inputs.len()
        } else {
            n.outputs.len()
        }) as u32
    })
}

unsafe extern "C" fn get(
    plugin: *const clap_plugin,
    index: u32,
    is_input: bool,
    info: *mut clap_note_port_info,
) -> bool {
    with_proxy(plugin, false, |p| {
        if info.is_null() {
            return false;
        }
        let n = ports(p);
        let list = if is_input { &n.inputs } else { &n.outputs };
        let Some(port) = list.get(index as usize) else {
            return false;
        };
        let mut out = clap_note_port_info::zeroed();
        out.id = port.id;
        out.supported_dialects = port.supported_dialects;
        out.preferred_dialect = port.preferred_dialect;
        fill_text(&port.name, &mut out.name);
        {
            // SAFETY: the DAW's out-parameter for this call.
            unsafe { write_out(info, out) }
        }
    })
}

pub static VTABLE: clap_plugin_note_ports = clap_plugin_note_ports {
    count: Some(count),
    get: Some(get),
};
