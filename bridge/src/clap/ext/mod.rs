//! The plugin extensions the proxy offers: exactly those the real plugin
//! offered, decided per instance at run time.

mod audio_audit;
mod audio_ports;
mod latency;
mod note_ports;
mod params;
mod render;
pub mod state;
mod tail;
mod voice_info;

use bulkhead_common::protocol::clap::plugin::PluginExtensions;
use std::ffi::{c_char, c_void, CStr};

fn fill_text(text: &str, out: &mut [c_char]) {
    if out.is_empty() {
        return;
    }
    let n = text.len().min(out.len() - 1);
    for (dst, &b) in out.iter_mut().zip(&text.as_bytes()[..n]) {
        *dst = b as c_char;
    }
    out[n] = 0;
}

/// The vtable for extension `id`, if the real plugin has it (or it is the
/// bridge's own audit extension).
pub fn lookup(exts: &PluginExtensions, id: &CStr) -> *const c_void {
    if id == bulkhead_common::alloc_audit::EXT_AUDIO_AUDIT {
        return (&raw const audio_audit::VTABLE).cast();
    }
    use clap_sys::ext::{
        audio_ports::CLAP_EXT_AUDIO_PORTS, latency::CLAP_EXT_LATENCY,
        note_ports::CLAP_EXT_NOTE_PORTS, params::CLAP_EXT_PARAMS, render::CLAP_EXT_RENDER,
        state::CLAP_EXT_STATE, tail::CLAP_EXT_TAIL, voice_info::CLAP_EXT_VOICE_INFO,
    };
    let table: [(bool, &CStr, *const c_void); 8] = [
        (
            exts.audio_ports,
            CLAP_EXT_AUDIO_PORTS,
            (&raw const audio_ports::VTABLE).cast(),
        ),
        (
            exts.note_ports,
            CLAP_EXT_NOTE_PORTS,
            (&raw const note_ports::VTABLE).cast(),
        ),
        (
            exts.params,
            CLAP_EXT_PARAMS,
            (&raw const params::VTABLE).cast(),
        ),
        (
            exts.state,
            CLAP_EXT_STATE,
            (&raw const state::VTABLE).cast(),
        ),
        (
            exts.latency,
            CLAP_EXT_LATENCY,
            (&raw const latency::VTABLE).cast(),
        ),
        (exts.tail, CLAP_EXT_TAIL, (&raw const tail::VTABLE).cast()),
        (
            exts.render,
            CLAP_EXT_RENDER,
            (&raw const render::VTABLE).cast(),
        ),
        (
            exts.voice_info,
            CLAP_EXT_VOICE_INFO,
            (&raw const voice_info::VTABLE).cast(),
        ),
    ];
    table
        .iter()
        .find(|(has, name, _)| *has && *name == id)
        .map_or(std::ptr::null(), |t| t.2)
}
