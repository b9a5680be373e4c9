//! `clap_plugin_latency`; while the host is down, the last known value.

use super::super::proxy::with_proxy;
use super::super::validate;
use bulkhead_common::protocol::clap::ext::latency::GetLatency;
use clap_sys::ext::latency::clap_plugin_latency;
use clap_sys::plugin::clap_plugin;

unsafe extern "C" fn get(plugin: *const clap_plugin) -> u32 {
    with_proxy(plugin, 0, |p| {
        // An absurd latency is not passed on: the last sane one is.
        match p.call(GetLatency, p.timeout_main()).map(validate::latency) {
            Ok(Some(v)) => {
                p.caches().latency = Some(v);
                v
            }
            Ok(None) | Err(_) => p.caches().latency.unwrap_or(0),
        }
    })
}

pub static VTABLE: clap_plugin_latency = clap_plugin_latency { get: Some(get) };
