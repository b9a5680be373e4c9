//! `clap_plugin_factory`: the real plugin's descriptors, renamed, and
//! proxies instead of plugins. One factory per bundle (bridged copy).

use super::entry::Bundle;
use super::proxy::Proxy;
use crate::guard::ffi_guard;
use clap_sys::factory::plugin_factory::clap_plugin_factory;
use clap_sys::host::clap_host;
use clap_sys::plugin::{clap_plugin, clap_plugin_descriptor};
use std::ffi::{c_char, CStr};
use std::sync::Arc;

/// A `clap_plugin_factory` that knows its bundle: the factory pointer the
/// DAW passes back leads to it.
#[repr(C)]
pub struct BundleFactory {
    raw: clap_plugin_factory,
    pub bundle: Arc<Bundle>,
}

impl BundleFactory {
    pub fn new(bundle: Bundle) -> Self {
        Self {
            raw: clap_plugin_factory {
                get_plugin_count: Some(get_plugin_count),
                get_plugin_descriptor: Some(get_plugin_descriptor),
                create_plugin: Some(create_plugin),
            },
            bundle: Arc::new(bundle),
        }
    }
}

/// The bundle behind a factory pointer we handed out.
fn bundle<'a>(factory: *const clap_plugin_factory) -> Option<&'a Arc<Bundle>> {
    // SAFETY: our factory pointers are `BundleFactory`s (repr(C), `raw`
    // first), alive until the DAW's last `deinit`.
    unsafe { factory.cast::<BundleFactory>().as_ref() }.map(|f| &f.bundle)
}

unsafe extern "C" fn get_plugin_count(factory: *const clap_plugin_factory) -> u32 {
    ffi_guard(0, || {
        bundle(factory).map_or(0, |b| b.descriptors.len() as u32)
    })
}

unsafe extern "C" fn get_plugin_descriptor(
    factory: *const clap_plugin_factory,
    index: u32,
) -> *const clap_plugin_descriptor {
    ffi_guard(std::ptr::null(), || {
        bundle(factory)
            .and_then(|b| {
                b.descriptors
                    .get(index as usize)
                    .map(|d| &d.raw as *const _)
            })
            .unwrap_or(std::ptr::null())
    })
}

unsafe extern "C" fn create_plugin(
    factory: *const clap_plugin_factory,
    host: *const clap_host,
    plugin_id: *const c_char,
) -> *const clap_plugin {
    ffi_guard(std::ptr::null(), || {
        if host.is_null() || plugin_id.is_null() {
            return std::ptr::null();
        }
        let Some(b) = bundle(factory) else {
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
        Proxy::create(Arc::clone(b), index, host)
    })
}
