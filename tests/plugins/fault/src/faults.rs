//! The injectable faults and the code that commits them.

use std::time::Duration;

/// No fault: the plugin is a well-behaved gain.
pub const NONE: u32 = 0;
/// Segfault (write through a null pointer) in `process()`.
pub const SEGFAULT_IN_PROCESS: u32 = 1;
/// `abort()` in `activate()`.
pub const ABORT_IN_ACTIVATE: u32 = 2;
/// `exit(0)` in state load (only when the loaded state selects this fault).
pub const EXIT_IN_STATE_LOAD: u32 = 3;
/// Endless busy loop in `process()`.
pub const HANG_IN_PROCESS: u32 = 4;
/// `value_to_text` for the gain param never returns (main-thread hang).
pub const HANG_IN_VALUE_TO_TEXT: u32 = 5;
/// Stack overflow in `process()`.
pub const STACK_OVERFLOW_IN_PROCESS: u32 = 6;
/// Every `process()` takes [`SLOW_BLOCK`] (slow, not stuck).
pub const SLOW_PROCESS: u32 = 7;
/// In `process()`, overwrite the whole shared-memory audio region of the host process with
/// pseudo-random bytes (a stray write by a plugin inside its host), then return normally.
pub const SCRIBBLE_REGION: u32 = 8;
/// As [`SCRIBBLE_REGION`], but sparing the region's first 8 bytes (its magic word), so only the
/// other checks can notice.
pub const SCRIBBLE_REGION_KEEP_MAGIC: u32 = 9;
/// The largest fault number.
pub const MAX: u32 = 9;
/// How long a block takes under [`SLOW_PROCESS`].
pub const SLOW_BLOCK: Duration = Duration::from_millis(300);

/// Display names, indexed by fault number.
pub const NAMES: [&str; MAX as usize + 1] = [
    "None",
    "Segfault in process",
    "Abort in activate",
    "Exit in state load",
    "Hang in process",
    "Hang in value_to_text",
    "Stack overflow in process",
    "Slow process",
    "Scribble on the audio region",
    "Scribble on the audio region, sparing its magic",
];

/// Names the plugin files that abort as soon as a plugin is created from
/// them: a plugin that crashes while `bulkhead sync` scans it. The value is
/// matched against this library's file name, so a test can make one copy
/// of this plugin crash and leave the others well-behaved.
pub const AT_INIT_ENV: &str = "BULKHEAD_SAMPLE_FAULT_AT_INIT";

/// Like [`AT_INIT_ENV`], but the named files hang (a scan that never
/// returns) instead of aborting.
pub const HANG_AT_INIT_ENV: &str = "BULKHEAD_SAMPLE_HANG_AT_INIT";

/// Whether the environment variable `var` names this library's file.
fn named_by(var: &str) -> bool {
    let Some(wanted) = std::env::var_os(var).filter(|v| !v.is_empty()) else {
        return false;
    };
    let wanted = wanted.to_string_lossy().into_owned();
    own_file_name().is_some_and(|name| name.contains(&wanted))
}

/// Aborts if [`AT_INIT_ENV`] names this library's file, hangs if
/// [`HANG_AT_INIT_ENV`] does; otherwise returns.
pub fn strike_at_init() {
    if named_by(AT_INIT_ENV) {
        std::process::abort();
    }
    if named_by(HANG_AT_INIT_ENV) {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

/// The file name this library was loaded from.
fn own_file_name() -> Option<String> {
    // SAFETY: a zeroed `Dl_info` is a valid out-parameter, and the address
    // is a function of this library.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let ok = unsafe { libc::dladdr(own_file_name as *const libc::c_void, &mut info) };
    if ok == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr returned a C string naming the object.
    let path = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let path = std::path::Path::new(
        <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(path.to_bytes()),
    );
    Some(path.file_name()?.to_string_lossy().into_owned())
}

/// Commits `fault` if it is one that strikes in `process()`; otherwise returns normally.
pub fn strike_in_process(fault: u32) {
    match fault {
        SEGFAULT_IN_PROCESS => segfault(),
        HANG_IN_PROCESS => spin_forever(),
        STACK_OVERFLOW_IN_PROCESS => {
            std::hint::black_box(overflow_stack(0));
        }
        SLOW_PROCESS => std::thread::sleep(SLOW_BLOCK),
        SCRIBBLE_REGION => scribble_region(0),
        SCRIBBLE_REGION_KEEP_MAGIC => scribble_region(8),
        _ => {}
    }
}

/// Fills every mapping named `bulkhead-audio` (the host's memfd region) from byte `skip` on with
/// xorshift noise.
fn scribble_region(skip: usize) {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
    for line in maps.lines().filter(|l| l.contains("bulkhead-audio")) {
        let Some((start, end)) = line
            .split_whitespace()
            .next()
            .and_then(|r| r.split_once('-'))
            .and_then(|(a, b)| {
                Some((
                    usize::from_str_radix(a, 16).ok()?,
                    usize::from_str_radix(b, 16).ok()?,
                ))
            })
        else {
            continue;
        };
        if !line
            .split_whitespace()
            .nth(1)
            .is_some_and(|p| p.contains('w'))
        {
            continue;
        }
        for addr in (start + skip..end).step_by(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // SAFETY: deliberately hostile, as this fault is meant to be: `addr` lies inside a
            // writable shared mapping of this process (read from /proc/self/maps), 8-byte aligned
            // (mappings are page aligned and `skip` is 0 or 8); nothing in this plugin holds a
            // reference into it. What it does to the host is the point of the test.
            unsafe { std::ptr::write_volatile(addr as *mut u64, x) };
        }
    }
}

fn segfault() {
    let null = std::hint::black_box(std::ptr::null_mut::<u32>());
    // SAFETY: deliberately unsound. Committing this fault is the whole point of the plugin: the
    // write to address 0 faults (SIGSEGV) and kills the process before anything is modified.
    unsafe { std::ptr::write_volatile(null, 1) };
}

fn spin_forever() -> ! {
    loop {
        std::hint::spin_loop();
    }
}

/// Never-returning main-thread stall, one second of sleep at a time.
pub fn sleep_forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Recurses with a 64 KiB frame each until the stack overflows. The frame is passed through
/// `black_box` and used after the recursive call, so neither the array nor the recursion can be
/// optimised away (no tail call).
#[inline(never)]
fn overflow_stack(depth: u64) -> u64 {
    let mut frame = [0u8; 64 * 1024];
    frame[0] = depth as u8;
    std::hint::black_box(&mut frame);
    let deeper = if std::hint::black_box(true) {
        overflow_stack(depth + 1)
    } else {
        0
    };
    deeper + u64::from(std::hint::black_box(&frame)[depth as usize % frame.len()])
}
