//! `clap_plugin_params`. Infos come from a cache filled in one round trip;
//! values and conversions are asked of the plugin every time.

use super::super::proxy::{flush_active, with_proxy, Inner};
use super::super::validate;
use super::fill_text;
use crate::guard::{write_out, PlainC};
use bulkhead_common::protocol::clap::ext::params::*;
use bulkhead_common::shm::events::{pack_to_vec, PackedEvents};
use clap_sys::events::{clap_event_header, clap_input_events, clap_output_events};
use clap_sys::ext::params::*;
use clap_sys::plugin::clap_plugin;
use std::ffi::{c_char, CStr};

fn with_infos<T>(p: &Inner, f: impl FnOnce(&[ParamInfo]) -> T) -> T {
    if let Some(infos) = &p.caches().params {
        return f(infos);
    }
    match p.call(GetParamInfos, p.timeout_main()) {
        Ok(infos) => {
            let infos = validate::param_infos(infos);
            let r = f(&infos);
            p.caches().params = Some(infos);
            r
        }
        // Down and never asked: nothing to answer from.
        Err(_) => f(&[]),
    }
}

unsafe extern "C" fn count(plugin: *const clap_plugin) -> u32 {
    with_proxy(plugin, 0, |p| with_infos(p, |i| i.len() as u32))
}

unsafe extern "C" fn get_info(
    plugin: *const clap_plugin,
    index: u32,
    info: *mut clap_param_info,
) -> bool {
    with_proxy(plugin, false, |p| {
        if info.is_null() {
            return false;
        }
        let filled = with_infos(p, |infos| {
            let i = infos.get(index as usize)?;
            let mut out = clap_param_info::zeroed();
            out.id = i.id;
            out.flags = i.flags;
            out.cookie = i.cookie as *mut _;
            fill_text(&i.name, &mut out.name);
            fill_text(&i.module, &mut out.module);
            out.min_value = i.min_value;
            out.max_value = i.max_value;
            out.default_value = i.default_value;
            Some(out)
        });
        filled.is_some_and(|v| {
            // SAFETY: the DAW's out-parameter for this call.
            unsafe { write_out(info, v) }
        })
    })
}

unsafe extern "C" fn get_value(plugin: *const clap_plugin, param_id: u32, out: *mut f64) -> bool {
    with_proxy(plugin, false, |p| {
        let asked = p
            .call(GetParamValue { param_id }, p.timeout_main())
            .map(|v| v.and_then(|v| validate::param_value(param_id, v)));
        let value = match asked {
            Ok(v) => {
                if let Some(v) = v {
                    p.caches().param_values.insert(param_id, v);
                }
                v
            }
            // While the host is down: the last value, else the default.
            // The cache guard must end before `with_infos` takes it again.
            Err(_) => {
                let last = p.caches().param_values.get(&param_id).copied();
                last.or_else(|| {
                    with_infos(p, |i| {
                        i.iter().find(|i| i.id == param_id).map(|i| i.default_value)
                    })
                })
            }
        };
        value.is_some_and(|v| {
            // SAFETY: the DAW's out-parameter for this call.
            unsafe { write_out(out, v) }
        })
    })
}

unsafe extern "C" fn value_to_text(
    plugin: *const clap_plugin,
    param_id: u32,
    value: f64,
    out: *mut c_char,
    capacity: u32,
) -> bool {
    with_proxy(plugin, false, |p| {
        if out.is_null() || capacity == 0 {
            return false;
        }
        let Some(text) = p.query(ValueToText { param_id, value }, None) else {
            return false;
        };
        // SAFETY: the DAW passes `capacity` writable chars.
        let buf = unsafe { std::slice::from_raw_parts_mut(out, capacity as usize) };
        fill_text(&text, buf);
        true
    })
}

unsafe extern "C" fn text_to_value(
    plugin: *const clap_plugin,
    param_id: u32,
    text: *const c_char,
    out: *mut f64,
) -> bool {
    with_proxy(plugin, false, |p| {
        if text.is_null() || out.is_null() {
            return false;
        }
        // SAFETY: the DAW passes a C string.
        let text = unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned();
        match p
            .query(TextToValue { param_id, text }, None)
            .and_then(|v| validate::param_value(param_id, v))
        {
            Some(v) => {
                // SAFETY: the DAW's out-parameter for this call.
                unsafe { write_out(out, v) }
            }
            None => false,
        }
    })
}

/// Events of a DAW list, for the socket.
fn pack_list(list: *const clap_input_events) -> Vec<u8> {
    // SAFETY: the DAW's list is valid for the call.
    let Some(l) = (unsafe { list.as_ref() }) else {
        return Vec::new();
    };
    let (Some(size), Some(get)) = (l.size, l.get) else {
        return Vec::new();
    };
    // SAFETY: list calls as the ABI defines.
    let n = unsafe { size(l) };
    let events: Vec<*const clap_event_header> = (0..n)
        // SAFETY: as above.
        .map(|i| unsafe { get(l, i) })
        .filter(|e| !e.is_null())
        .collect();
    pack_to_vec(events.into_iter())
}

unsafe extern "C" fn flush(
    plugin: *const clap_plugin,
    input: *const clap_input_events,
    output: *const clap_output_events,
) {
    with_proxy(plugin, (), |p| {
        if p.is_active() {
            // CLAP: an active plugin is flushed on the audio thread.
            flush_active(plugin, input, output);
            return;
        }
        let events = pack_list(input);
        let result = p.query(Flush { events }, FlushOutput { events: Vec::new() });
        let mut packed = PackedEvents::with_capacity(result.events.len().max(8));
        if packed.load(&result.events).is_err() {
            return;
        }
        // SAFETY: the DAW's output list is valid for the call.
        let Some(out) = (unsafe { output.as_ref() }) else {
            return;
        };
        if let Some(push) = out.try_push {
            for i in 0..packed.len() {
                if let Some(e) = packed.get(i) {
                    // SAFETY: a validated event in our private copy.
                    unsafe { push(out, e) };
                }
            }
        }
    })
}

pub static VTABLE: clap_plugin_params = clap_plugin_params {
    count: Some(count),
    get_info: Some(get_info),
    get_value: Some(get_value),
    value_to_text: Some(value_to_text),
    text_to_value: Some(text_to_value),
    flush: Some(flush),
};
