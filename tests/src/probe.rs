//! Test-only in-process "probe" plugin written against raw clap-sys, used to check the host side
//! (host extensions, thread-check, in-place buffers, event round trips) without any `.clap` file.
//!
//! It reports what it observes through the host log extension, so tests assert on
//! [`HostRecord::logs`](crate::HostRecord::logs).

use clap_sys::audio_buffer::clap_audio_buffer;
use clap_sys::entry::clap_plugin_entry;
use clap_sys::events::{clap_input_events, clap_output_events};
use clap_sys::ext::audio_ports::{
    clap_audio_port_info, clap_plugin_audio_ports, CLAP_AUDIO_PORT_IS_MAIN,
    CLAP_AUDIO_PORT_SUPPORTS_64BITS, CLAP_EXT_AUDIO_PORTS,
};
use clap_sys::ext::log::{clap_host_log, CLAP_EXT_LOG, CLAP_LOG_INFO};
use clap_sys::ext::note_ports::{clap_host_note_ports, CLAP_EXT_NOTE_PORTS};
use clap_sys::ext::thread_check::{clap_host_thread_check, CLAP_EXT_THREAD_CHECK};
use clap_sys::ext::timer_support::{
    clap_host_timer_support, clap_plugin_timer_support, CLAP_EXT_TIMER_SUPPORT,
};
use clap_sys::factory::plugin_factory::{clap_plugin_factory, CLAP_PLUGIN_FACTORY_ID};
use clap_sys::host::clap_host;
use clap_sys::plugin::{clap_plugin, clap_plugin_descriptor};
use clap_sys::process::{
    clap_process, clap_process_status, CLAP_PROCESS_CONTINUE, CLAP_PROCESS_ERROR,
};
use clap_sys::version::CLAP_VERSION;
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

pub(crate) const PROBE_ID: &CStr = c"org.bulkhead.test.probe";

struct Features([*const c_char; 2]);
// SAFETY: the array only holds pointers to immutable static C strings (and a null terminator).
unsafe impl Sync for Features {}

static FEATURES: Features = Features([c"audio-effect".as_ptr(), ptr::null()]);

static DESCRIPTOR: clap_plugin_descriptor = clap_plugin_descriptor {
    clap_version: CLAP_VERSION,
    id: PROBE_ID.as_ptr(),
    name: c"Probe".as_ptr(),
    vendor: c"bulkhead".as_ptr(),
    url: c"".as_ptr(),
    manual_url: c"".as_ptr(),
    support_url: c"".as_ptr(),
    version: c"1.0".as_ptr(),
    description: c"host-side self test".as_ptr(),
    features: FEATURES.0.as_ptr(),
};

pub(crate) static PROBE_ENTRY: clap_plugin_entry = clap_plugin_entry {
    clap_version: CLAP_VERSION,
    init: Some(entry_init),
    deinit: Some(entry_deinit),
    get_factory: Some(entry_get_factory),
};

static FACTORY: clap_plugin_factory = clap_plugin_factory {
    get_plugin_count: Some(factory_count),
    get_plugin_descriptor: Some(factory_descriptor),
    create_plugin: Some(factory_create),
};

static AUDIO_PORTS: clap_plugin_audio_ports = clap_plugin_audio_ports {
    count: Some(ports_count),
    get: Some(ports_get),
};

static TIMER: clap_plugin_timer_support = clap_plugin_timer_support {
    on_timer: Some(on_timer),
};

/// Runs `f`, turning a panic into `fallback` (nothing may unwind across the C ABI).
fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

unsafe extern "C" fn entry_init(_path: *const c_char) -> bool {
    true
}

unsafe extern "C" fn entry_deinit() {}

unsafe extern "C" fn entry_get_factory(id: *const c_char) -> *const c_void {
    guard(ptr::null(), || {
        // SAFETY: the host passes a valid C string.
        if unsafe { CStr::from_ptr(id) } == CLAP_PLUGIN_FACTORY_ID {
            (&FACTORY as *const clap_plugin_factory).cast()
        } else {
            ptr::null()
        }
    })
}

unsafe extern "C" fn factory_count(_f: *const clap_plugin_factory) -> u32 {
    1
}

unsafe extern "C" fn factory_descriptor(
    _f: *const clap_plugin_factory,
    index: u32,
) -> *const clap_plugin_descriptor {
    if index == 0 {
        &DESCRIPTOR
    } else {
        ptr::null()
    }
}

struct Probe {
    raw: clap_plugin,
    host: *const clap_host,
}

unsafe extern "C" fn factory_create(
    _f: *const clap_plugin_factory,
    host: *const clap_host,
    id: *const c_char,
) -> *const clap_plugin {
    guard(ptr::null(), || {
        // SAFETY: the host passes a valid C string.
        if unsafe { CStr::from_ptr(id) } != PROBE_ID {
            return ptr::null();
        }
        let probe = Box::into_raw(Box::new(Probe {
            raw: clap_plugin {
                desc: &DESCRIPTOR,
                plugin_data: ptr::null_mut(),
                init: Some(plugin_init),
                destroy: Some(plugin_destroy),
                activate: Some(plugin_activate),
                deactivate: Some(plugin_noop),
                start_processing: Some(plugin_start),
                stop_processing: Some(plugin_noop),
                reset: Some(plugin_noop),
                process: Some(plugin_process),
                get_extension: Some(plugin_get_extension),
                on_main_thread: Some(plugin_on_main_thread),
            },
            host,
        }));
        // SAFETY: `probe` was just allocated and is uniquely owned here.
        unsafe { (*probe).raw.plugin_data = probe.cast() };
        // SAFETY: `raw` is the first field of a live allocation.
        unsafe { &raw const (*probe).raw }
    })
}

/// The probe behind a plugin pointer.
///
/// # Safety
///
/// `plugin` must be a pointer returned by `factory_create` and not yet destroyed.
unsafe fn probe<'a>(plugin: *const clap_plugin) -> &'a Probe {
    // SAFETY: guaranteed by the caller; plugin_data points at the owning Probe.
    unsafe { &*((*plugin).plugin_data as *const Probe) }
}

/// A host extension struct, if the host provides it.
///
/// # Safety
///
/// `host` must be a valid clap_host, and `T` must match `id`.
unsafe fn host_ext<'a, T>(host: *const clap_host, id: &CStr) -> Option<&'a T> {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let get = (*host).get_extension?;
        get(host, id.as_ptr()).cast::<T>().as_ref()
    }
}

fn log(p: &Probe, msg: &str) {
    let Ok(msg) = CString::new(msg) else { return };
    // SAFETY: p.host is the host given at creation, valid for the plugin's lifetime.
    if let Some(ext) = unsafe { host_ext::<clap_host_log>(p.host, CLAP_EXT_LOG) } {
        if let Some(f) = ext.log {
            // SAFETY: valid host and C string.
            unsafe { f(p.host, CLAP_LOG_INFO, msg.as_ptr()) };
        }
    }
}

fn threads(p: &Probe) -> String {
    // SAFETY: p.host is valid for the plugin's lifetime.
    let Some(tc) = (unsafe { host_ext::<clap_host_thread_check>(p.host, CLAP_EXT_THREAD_CHECK) })
    else {
        return "no-thread-check".into();
    };
    // SAFETY: function pointers from the host's extension, called with the host pointer.
    let (main, audio) = unsafe {
        (
            tc.is_main_thread.is_some_and(|f| f(p.host)),
            tc.is_audio_thread.is_some_and(|f| f(p.host)),
        )
    };
    format!("main={main} audio={audio}")
}

unsafe extern "C" fn plugin_init(plugin: *const clap_plugin) -> bool {
    guard(false, || {
        // SAFETY: called by the host on a live plugin.
        let p = unsafe { probe(plugin) };
        log(p, &format!("init {}", threads(p)));
        // SAFETY: host valid; struct type matches the id.
        if let Some(np) = unsafe { host_ext::<clap_host_note_ports>(p.host, CLAP_EXT_NOTE_PORTS) } {
            // SAFETY: host function pointers called with the host pointer.
            let dialects = unsafe { np.supported_dialects.map_or(0, |f| f(p.host)) };
            log(p, &format!("dialects={dialects}"));
            if let Some(rescan) = np.rescan {
                // SAFETY: as above.
                unsafe { rescan(p.host, 1) };
            }
        }
        // SAFETY: host valid; struct type matches the id.
        let timer = unsafe { host_ext::<clap_host_timer_support>(p.host, CLAP_EXT_TIMER_SUPPORT) };
        if let Some(t) = timer {
            let mut id = 0u32;
            // SAFETY: host function pointer; `id` is a valid out pointer.
            let ok = unsafe { t.register_timer.is_some_and(|f| f(p.host, 5, &mut id)) };
            log(p, &format!("timer registered={ok} id={id}"));
        }
        true
    })
}

unsafe extern "C" fn plugin_destroy(plugin: *const clap_plugin) {
    guard((), || {
        // SAFETY: plugin_data is the Box allocated in factory_create; destroy is called once.
        drop(unsafe { Box::from_raw((*plugin).plugin_data as *mut Probe) });
    })
}

unsafe extern "C" fn plugin_activate(
    plugin: *const clap_plugin,
    rate: f64,
    min: u32,
    max: u32,
) -> bool {
    guard(false, || {
        // SAFETY: called by the host on a live plugin.
        let p = unsafe { probe(plugin) };
        log(p, &format!("activate {rate} {min} {max} {}", threads(p)));
        true
    })
}

unsafe extern "C" fn plugin_noop(_plugin: *const clap_plugin) {}

unsafe extern "C" fn plugin_start(plugin: *const clap_plugin) -> bool {
    guard(false, || {
        // SAFETY: called by the host on a live plugin.
        let p = unsafe { probe(plugin) };
        log(p, &format!("start {}", threads(p)));
        true
    })
}

unsafe fn copy_port(input: &clap_audio_buffer, output: &clap_audio_buffer, frames: usize) -> bool {
    let channels = input.channel_count.min(output.channel_count) as usize;
    // SAFETY: the host provides channel pointer arrays of channel_count entries, each valid for
    // `frames` samples; `ptr::copy` tolerates in-place (identical) pointers.
    unsafe {
        if !input.data32.is_null() && !output.data32.is_null() {
            for c in 0..channels {
                ptr::copy(*input.data32.add(c), *output.data32.add(c), frames);
            }
            true
        } else if !input.data64.is_null() && !output.data64.is_null() {
            for c in 0..channels {
                // Double the 64-bit signal so f64 processing is distinguishable.
                let (src, dst) = (*input.data64.add(c), *output.data64.add(c));
                for i in 0..frames {
                    *dst.add(i) = *src.add(i) * 2.0;
                }
            }
            true
        } else {
            false
        }
    }
}

unsafe extern "C" fn plugin_process(
    plugin: *const clap_plugin,
    process: *const clap_process,
) -> clap_process_status {
    guard(CLAP_PROCESS_ERROR, || {
        // SAFETY: called by the host on a live plugin with a valid process struct.
        let (p, process) = unsafe { (probe(plugin), &*process) };
        let frames = process.frames_count as usize;
        if process.audio_inputs_count != 1 || process.audio_outputs_count != 1 {
            return CLAP_PROCESS_ERROR;
        }
        // SAFETY: one input and one output buffer, as checked above.
        let (input, output) = unsafe { (&*process.audio_inputs, &*process.audio_outputs) };
        // SAFETY: non-null channel arrays hold at least one pointer (stereo ports).
        let in_place = unsafe {
            (!input.data32.is_null() && !output.data32.is_null() && *input.data32 == *output.data32)
                || (!input.data64.is_null()
                    && !output.data64.is_null()
                    && *input.data64 == *output.data64)
        };
        // SAFETY: buffers as provided by the host for `frames` frames.
        if !unsafe { copy_port(input, output, frames) } {
            return CLAP_PROCESS_ERROR;
        }
        // Echo every input event.
        // SAFETY: the host provides valid event lists for the duration of process.
        unsafe {
            let ins: &clap_input_events = &*process.in_events;
            let outs: &clap_output_events = &*process.out_events;
            let n = ins.size.map_or(0, |f| f(ins));
            for i in 0..n {
                let ev = ins.get.map_or(ptr::null(), |f| f(ins, i));
                if !ev.is_null() {
                    if let Some(push) = outs.try_push {
                        push(outs, ev);
                    }
                }
            }
            let steady = process.steady_time;
            let tempo = process.transport.as_ref().map(|t| t.tempo);
            log(
                p,
                &format!(
                    "process frames={frames} in_place={in_place} steady={steady} tempo={tempo:?} {}",
                    threads(p)
                ),
            );
            if let Some(request_callback) = (*p.host).request_callback {
                request_callback(p.host);
            }
        }
        CLAP_PROCESS_CONTINUE
    })
}

unsafe extern "C" fn plugin_get_extension(
    _plugin: *const clap_plugin,
    id: *const c_char,
) -> *const c_void {
    guard(ptr::null(), || {
        // SAFETY: the host passes a valid C string.
        let id = unsafe { CStr::from_ptr(id) };
        if id == CLAP_EXT_AUDIO_PORTS {
            (&AUDIO_PORTS as *const clap_plugin_audio_ports).cast()
        } else if id == CLAP_EXT_TIMER_SUPPORT {
            (&TIMER as *const clap_plugin_timer_support).cast()
        } else {
            ptr::null()
        }
    })
}

unsafe extern "C" fn plugin_on_main_thread(plugin: *const clap_plugin) {
    guard((), || {
        // SAFETY: called by the host on a live plugin.
        let p = unsafe { probe(plugin) };
        log(p, &format!("on_main_thread {}", threads(p)));
    })
}

unsafe extern "C" fn ports_count(_plugin: *const clap_plugin, _is_input: bool) -> u32 {
    1
}

unsafe extern "C" fn ports_get(
    _plugin: *const clap_plugin,
    index: u32,
    _is_input: bool,
    info: *mut clap_audio_port_info,
) -> bool {
    guard(false, || {
        if index != 0 || info.is_null() {
            return false;
        }
        let mut name = [0 as c_char; clap_sys::string_sizes::CLAP_NAME_SIZE];
        for (d, s) in name.iter_mut().zip(b"main") {
            *d = *s as c_char;
        }
        // SAFETY: the host passes a writable info struct.
        unsafe {
            info.write(clap_audio_port_info {
                id: 7,
                name,
                flags: CLAP_AUDIO_PORT_IS_MAIN | CLAP_AUDIO_PORT_SUPPORTS_64BITS,
                channel_count: 2,
                port_type: c"stereo".as_ptr(),
                in_place_pair: 7,
            })
        };
        true
    })
}

unsafe extern "C" fn on_timer(plugin: *const clap_plugin, id: u32) {
    guard((), || {
        // SAFETY: called by the host on a live plugin.
        let p = unsafe { probe(plugin) };
        log(p, &format!("timer {id} {}", threads(p)));
    })
}
