//! `clap_plugin_tail`: asked of the plugin on the main thread; on the audio
//! thread (an active plugin), the value the host reported with the last
//! block. While the host is down, the last known value.

use super::super::proxy::with_proxy;
use super::super::validate;
use bulkhead_common::protocol::clap::ext::tail::GetTail;
use clap_sys::ext::tail::clap_plugin_tail;
use clap_sys::plugin::clap_plugin;
use std::sync::atomic::Ordering;

unsafe extern "C" fn get(plugin: *const clap_plugin) -> u32 {
    with_proxy(plugin, 0, |p| {
        if p.is_active() {
            // Maybe the audio thread: no call, no lock, no log.
            return validate::tail_quiet(p.link.last_tail.load(Ordering::Relaxed));
        }
        match p.call(GetTail, p.timeout_main()).map(validate::tail) {
            Ok(v) => {
                p.caches().tail = Some(v);
                v
            }
            Err(_) => p.caches().tail.unwrap_or(0),
        }
    })
}

pub static VTABLE: clap_plugin_tail = clap_plugin_tail { get: Some(get) };
