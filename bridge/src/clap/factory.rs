//! `clap_plugin_factory`: the real plugin's descriptors, renamed, and
//! proxies instead of plugins.

use super::entry::bundle;
use super::proxy::Proxy;
use crate::guard::ffi_guard;
use clap_sys::factory::plugin_factory::clap_plugin_factory;
use clap_sys::host::clap_host;
use clap_sys::plugin::{clap_plugin, clap_plugin_descriptor};
use std::ffi::{c_char, CStr};

unsafe extern "C" fn get_plugin_count(_: *const clap_plugin_factory) -> u32 {
    ffi_guard(0, || bundle().map_or(0, |b| b.descriptors.len() as u32))
}

unsafe extern "C" fn get_plugin_descriptor(
    _: *const clap_plugin_factory,
    index: u32,
) -> *const clap_plugin_descriptor {
    ffi_guard(std::ptr::null(), || {
        bundle()
            .and_then(|b| {
                b.descriptors
                    .get(index as usize)
                    .map(|d| &d.raw as *const _)
            })
            .unwrap_or(std::ptr::null())
    })
}

unsafe extern "C" fn create_plugin(
    _: *const clap_plugin_factory,
    host: *const clap_host,
    plugin_id: *const c_char,
) -> *const clap_plugin {
    ffi_guard(std::ptr::null(), || {
        if host.is_null() || plugin_id.is_null() {
            return std::ptr::null();
        }
        let Some(b) = bundle() else {
            return std::ptr::null();
        };
        // SAFETY: the DAW passes a C string.
        let id = unsafe { CStr::from_ptr(plugin_id) };
        let Some(index) = b
            .descriptors
            .iter()
            // SAFETY: our descriptor ids are C strings we own.
            .position(|d| unsafe { CStr::from_ptr(d.raw.id) } == id)
        else {
            return std::ptr::null();
        };
        Proxy::create(b, index, host)
    })
}

pub static FACTORY: clap_plugin_factory = clap_plugin_factory {
    get_plugin_count: Some(get_plugin_count),
    get_plugin_descriptor: Some(get_plugin_descriptor),
    create_plugin: Some(create_plugin),
};
