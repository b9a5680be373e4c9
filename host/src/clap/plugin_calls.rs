//! The plugin's extension vtables, fetched once after `init`, and the raw
//! calls the server makes through them. Raw calls keep bytes and values
//! exactly as the plugin produced them (cookies, flags, NaN payloads).

use bulkhead_common::protocol::clap::ext::{audio_ports, note_ports, params, voice_info};
use bulkhead_common::protocol::clap::plugin::PluginExtensions;
use clap_sys::events::{clap_input_events, clap_output_events};
use clap_sys::ext::audio_ports::*;
use clap_sys::ext::latency::*;
use clap_sys::ext::note_ports::*;
use clap_sys::ext::params::*;
use clap_sys::ext::posix_fd_support::*;
use clap_sys::ext::render::*;
use clap_sys::ext::state::*;
use clap_sys::ext::tail::*;
use clap_sys::ext::timer_support::*;
use clap_sys::ext::voice_info::*;
use clap_sys::plugin::clap_plugin;
use clap_sys::stream::{clap_istream, clap_ostream};
use std::ffi::{c_char, c_void, CStr};
use std::ptr;

/// A `clap_plugin` and the extensions it offered after `init`. Plain
/// pointers: the plugin outlives every use (the instance owns both).
#[derive(Clone, Copy)]
pub struct PluginCalls {
    pub plugin: *const clap_plugin,
    audio_ports: *const clap_plugin_audio_ports,
    note_ports: *const clap_plugin_note_ports,
    params: *const clap_plugin_params,
    state: *const clap_plugin_state,
    latency: *const clap_plugin_latency,
    tail: *const clap_plugin_tail,
    render: *const clap_plugin_render,
    voice_info: *const clap_plugin_voice_info,
    timer: *const clap_plugin_timer_support,
    posix_fd: *const clap_plugin_posix_fd_support,
}

// SAFETY: the pointers are only dereferenced on the threads the CLAP spec
// allows for each call; the struct itself is just addresses.
unsafe impl Send for PluginCalls {}

fn c_text(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Port info structs: plain C data, valid all-zero (an out-parameter's
/// starting value).
trait PortInfo {
    fn zeroed() -> Self;
}

impl PortInfo for clap_audio_port_info {
    fn zeroed() -> Self {
        // SAFETY: a C struct of integers, a char array and a pointer; all
        // zero is a valid value.
        unsafe { std::mem::zeroed() }
    }
}

impl PortInfo for clap_note_port_info {
    fn zeroed() -> Self {
        // SAFETY: a C struct of integers and a char array; all zero is valid.
        unsafe { std::mem::zeroed() }
    }
}

impl PluginCalls {
    /// Queries every extension the bridge carries.
    ///
    /// # Safety
    /// `plugin` must be an initialised plugin, and this must run on its main
    /// thread.
    pub unsafe fn query(plugin: *const clap_plugin) -> Self {
        // SAFETY: per the caller's contract the plugin is live and initialised.
        let get = |id: &CStr| unsafe {
            match (*plugin).get_extension {
                Some(f) => f(plugin, id.as_ptr()),
                None => ptr::null(),
            }
        };
        Self {
            plugin,
            audio_ports: get(CLAP_EXT_AUDIO_PORTS).cast(),
            note_ports: get(CLAP_EXT_NOTE_PORTS).cast(),
            params: get(CLAP_EXT_PARAMS).cast(),
            state: get(CLAP_EXT_STATE).cast(),
            latency: get(CLAP_EXT_LATENCY).cast(),
            tail: get(CLAP_EXT_TAIL).cast(),
            render: get(CLAP_EXT_RENDER).cast(),
            voice_info: get(CLAP_EXT_VOICE_INFO).cast(),
            timer: get(CLAP_EXT_TIMER_SUPPORT).cast(),
            posix_fd: get(CLAP_EXT_POSIX_FD_SUPPORT).cast(),
        }
    }

    pub fn extensions(&self) -> PluginExtensions {
        PluginExtensions {
            audio_ports: !self.audio_ports.is_null(),
            note_ports: !self.note_ports.is_null(),
            params: !self.params.is_null(),
            state: !self.state.is_null(),
            latency: !self.latency.is_null(),
            tail: !self.tail.is_null(),
            render: !self.render.is_null(),
            voice_info: !self.voice_info.is_null(),
        }
    }

    pub fn audio_ports(&self) -> audio_ports::AudioPorts {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        let Some(ext) = (unsafe { self.audio_ports.as_ref() }) else {
            return Default::default();
        };
        let (Some(count), Some(get)) = (ext.count, ext.get) else {
            return Default::default();
        };
        let convert = |info: &clap_audio_port_info| {
            let port_type = (!info.port_type.is_null()).then(|| {
                // SAFETY: the plugin returned a C string for the type.
                unsafe { CStr::from_ptr(info.port_type) }
                    .to_string_lossy()
                    .into_owned()
            });
            audio_ports::AudioPortInfo {
                id: info.id,
                name: c_text(&info.name),
                flags: info.flags,
                channel_count: info.channel_count,
                port_type,
                in_place_pair: info.in_place_pair,
            }
        };
        audio_ports::AudioPorts {
            inputs: self.ports(count, get, true, convert),
            outputs: self.ports(count, get, false, convert),
        }
    }

    pub fn note_ports(&self) -> note_ports::NotePorts {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        let Some(ext) = (unsafe { self.note_ports.as_ref() }) else {
            return Default::default();
        };
        let (Some(count), Some(get)) = (ext.count, ext.get) else {
            return Default::default();
        };
        let convert = |info: &clap_note_port_info| note_ports::NotePortInfo {
            id: info.id,
            supported_dialects: info.supported_dialects,
            preferred_dialect: info.preferred_dialect,
            name: c_text(&info.name),
        };
        note_ports::NotePorts {
            inputs: self.ports(count, get, true, convert),
            outputs: self.ports(count, get, false, convert),
        }
    }

    /// Every port of one direction through an extension's `count`/`get`.
    fn ports<I: PortInfo, T>(
        &self,
        count: unsafe extern "C" fn(*const clap_plugin, bool) -> u32,
        get: unsafe extern "C" fn(*const clap_plugin, u32, bool, *mut I) -> bool,
        is_input: bool,
        convert: impl Fn(&I) -> T,
    ) -> Vec<T> {
        // SAFETY: main-thread call on a live plugin.
        let n = unsafe { count(self.plugin, is_input) };
        (0..n)
            .filter_map(|i| {
                let mut info = I::zeroed();
                // SAFETY: main-thread call; `info` is writable.
                unsafe { get(self.plugin, i, is_input, &mut info) }.then(|| convert(&info))
            })
            .collect()
    }

    pub fn param_infos(&self) -> Vec<params::ParamInfo> {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        let Some(ext) = (unsafe { self.params.as_ref() }) else {
            return Vec::new();
        };
        let (Some(count), Some(get_info)) = (ext.count, ext.get_info) else {
            return Vec::new();
        };
        // SAFETY: main-thread call on a live plugin.
        let n = unsafe { count(self.plugin) };
        (0..n)
            .filter_map(|i| {
                // SAFETY: a zeroed info is a valid out-parameter.
                let mut info: clap_param_info = unsafe { std::mem::zeroed() };
                // SAFETY: main-thread call; `info` is writable.
                if !unsafe { get_info(self.plugin, i, &mut info) } {
                    return None;
                }
                Some(params::ParamInfo {
                    id: info.id,
                    flags: info.flags,
                    cookie: info.cookie as u64,
                    name: c_text(&info.name),
                    module: c_text(&info.module),
                    min_value: info.min_value,
                    max_value: info.max_value,
                    default_value: info.default_value,
                })
            })
            .collect()
    }

    pub fn param_value(&self, id: u32) -> Option<f64> {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        let f = unsafe { self.params.as_ref() }?.get_value?;
        let mut v = 0.0;
        // SAFETY: main-thread call; `v` is writable.
        unsafe { f(self.plugin, id, &mut v) }.then_some(v)
    }

    pub fn value_to_text(&self, id: u32, value: f64) -> Option<String> {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        let f = unsafe { self.params.as_ref() }?.value_to_text?;
        let mut buf = [0 as c_char; 512];
        // SAFETY: main-thread call; the buffer holds `buf.len()` chars.
        unsafe { f(self.plugin, id, value, buf.as_mut_ptr(), buf.len() as u32) }
            .then(|| c_text(&buf))
    }

    pub fn text_to_value(&self, id: u32, text: &str) -> Option<f64> {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        let f = unsafe { self.params.as_ref() }?.text_to_value?;
        let c = std::ffi::CString::new(text).ok()?;
        let mut v = 0.0;
        // SAFETY: main-thread call; `c` is a C string, `v` writable.
        unsafe { f(self.plugin, id, c.as_ptr(), &mut v) }.then_some(v)
    }

    /// `params.flush`; the caller picks the thread the spec requires.
    ///
    /// # Safety
    /// `input`/`output` must be valid event lists for the call.
    pub unsafe fn params_flush(&self, input: &clap_input_events, output: &clap_output_events) {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        if let Some(f) = unsafe { self.params.as_ref() }.and_then(|p| p.flush) {
            // SAFETY: valid lists per the caller's contract.
            unsafe { f(self.plugin, input, output) }
        }
    }

    /// # Safety
    /// `stream` must be valid for the call.
    pub unsafe fn save_state(&self, stream: &clap_ostream) -> Option<bool> {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        let f = unsafe { self.state.as_ref() }?.save?;
        // SAFETY: main-thread call with a valid stream.
        Some(unsafe { f(self.plugin, stream) })
    }

    /// # Safety
    /// `stream` must be valid for the call.
    pub unsafe fn load_state(&self, stream: &clap_istream) -> Option<bool> {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        let f = unsafe { self.state.as_ref() }?.load?;
        // SAFETY: main-thread call with a valid stream.
        Some(unsafe { f(self.plugin, stream) })
    }

    pub fn latency(&self) -> u32 {
        // SAFETY: a non-null vtable came from the plugin's get_extension;
        // main-thread call.
        unsafe { self.latency.as_ref() }
            .and_then(|l| l.get)
            .map_or(0, |f| unsafe { f(self.plugin) })
    }

    /// `tail.get`, allowed on the main and the audio thread.
    pub fn tail(&self) -> u32 {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        unsafe { self.tail.as_ref() }
            .and_then(|l| l.get)
            .map_or(0, |f| unsafe { f(self.plugin) })
    }

    pub fn render_has_hard_realtime_requirement(&self) -> bool {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        unsafe { self.render.as_ref() }
            .and_then(|r| r.has_hard_realtime_requirement)
            .is_some_and(|f| unsafe { f(self.plugin) })
    }

    pub fn render_set(&self, mode: i32) -> bool {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        unsafe { self.render.as_ref() }
            .and_then(|r| r.set)
            .is_some_and(|f| unsafe { f(self.plugin, mode) })
    }

    pub fn voice_info(&self) -> Option<voice_info::VoiceInfo> {
        // SAFETY: a non-null vtable came from the plugin's get_extension.
        let f = unsafe { self.voice_info.as_ref() }?.get?;
        // SAFETY: a zeroed info is a valid out-parameter.
        let mut info: clap_voice_info = unsafe { std::mem::zeroed() };
        // SAFETY: main-thread call; `info` is writable.
        unsafe { f(self.plugin, &mut info) }.then_some(voice_info::VoiceInfo {
            voice_count: info.voice_count,
            voice_capacity: info.voice_capacity,
            flags: info.flags,
        })
    }

    pub fn on_timer(&self, id: u32) {
        // SAFETY: a non-null vtable came from the plugin's get_extension;
        // called from the host's main loop.
        if let Some(f) = unsafe { self.timer.as_ref() }.and_then(|t| t.on_timer) {
            // SAFETY: as above.
            unsafe { f(self.plugin, id) }
        }
    }

    pub fn on_fd(&self, fd: i32, flags: u32) {
        // SAFETY: a non-null vtable came from the plugin's get_extension;
        // called from the host's main loop.
        if let Some(f) = unsafe { self.posix_fd.as_ref() }.and_then(|t| t.on_fd) {
            // SAFETY: as above.
            unsafe { f(self.plugin, fd, flags) }
        }
    }
}

/// Reads `clap_ostream`/`clap_istream` to and from memory.
pub mod streams {
    use super::*;

    /// A plugin's saved state, written straight into a memfd.
    pub struct BlobOut {
        writer: bulkhead_common::bulk::BlobWriter,
        failed: bool,
    }

    impl BlobOut {
        /// # Errors
        /// The kernel refused a memfd.
        pub fn new() -> Result<Self, bulkhead_common::bulk::BulkError> {
            Ok(Self {
                writer: bulkhead_common::bulk::BlobWriter::new()?,
                failed: false,
            })
        }

        pub fn ostream(&mut self) -> clap_ostream {
            clap_ostream {
                ctx: (self as *mut Self).cast(),
                write: Some(write_blob),
            }
        }

        /// # Errors
        /// A write failed, or the memfd could not be sealed.
        pub fn finish(
            self,
        ) -> Result<bulkhead_common::bulk::Blob, bulkhead_common::bulk::BulkError> {
            if self.failed {
                return Err(bulkhead_common::bulk::BulkError::Io(std::io::Error::other(
                    "a write of the state failed",
                )));
            }
            self.writer.finish()
        }
    }

    unsafe extern "C" fn write_blob(
        stream: *const clap_ostream,
        buffer: *const c_void,
        size: u64,
    ) -> i64 {
        let r = std::panic::catch_unwind(|| {
            // SAFETY: ctx is the `BlobOut` set up by `ostream`, alive for the
            // call; the plugin gives `size` readable bytes.
            let out = unsafe { &mut *(*stream).ctx.cast::<BlobOut>() };
            let size = size.min(i64::MAX as u64) as usize;
            if buffer.is_null() && size > 0 {
                return -1;
            }
            // SAFETY: see above.
            let bytes = unsafe { std::slice::from_raw_parts(buffer.cast::<u8>(), size) };
            match out.writer.write(bytes) {
                Ok(()) => size as i64,
                Err(_) => {
                    out.failed = true;
                    -1
                }
            }
        });
        r.unwrap_or(-1)
    }

    /// A byte slice being read.
    pub struct Reader<'a> {
        pub bytes: &'a [u8],
    }

    unsafe extern "C" fn read_slice(
        stream: *const clap_istream,
        buffer: *mut c_void,
        size: u64,
    ) -> i64 {
        let r = std::panic::catch_unwind(|| {
            // SAFETY: ctx is the `Reader` set up by `istream`, alive for the
            // call; the plugin gives `size` writable bytes.
            let reader = unsafe { &mut *(*stream).ctx.cast::<Reader>() };
            let n = (size.min(usize::MAX as u64) as usize).min(reader.bytes.len());
            // SAFETY: see above.
            unsafe { ptr::copy_nonoverlapping(reader.bytes.as_ptr(), buffer.cast::<u8>(), n) };
            reader.bytes = &reader.bytes[n..];
            n as i64
        });
        r.unwrap_or(-1)
    }

    pub fn istream(reader: &mut Reader) -> clap_istream {
        clap_istream {
            ctx: (reader as *mut Reader).cast(),
            read: Some(read_slice),
        }
    }
}
