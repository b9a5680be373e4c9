//! Nothing on the bridged VST3 audio path allocates on the DAW's audio
//! thread: thousands of blocks of varying size with notes, expressions and
//! parameter changes go through the bridged instrument and gain, each
//! render compared bit for bit with direct hosting (so the audited path is
//! the one that did the work), and the bridge library's audit counts
//! (`bulkhead_vst3_audio_audit`) show audio sections and no allocation.
//! The host's audio thread is audited by `vst3_host_process`.
//!
//! Needs `cargo build --workspace` first.

use bulkhead_common::alloc_audit::AudioAuditCounts;
use bulkhead_tests::vst3::*;
use bulkhead_vst3_support::bridged::bundle_library;
use std::ffi::{c_void, CString};

type AuditFn = unsafe extern "C" fn(*mut c_void, *mut AudioAuditCounts) -> bool;

fn audit(bundle: &std::path::Path, p: &Vst3Plugin) -> AudioAuditCounts {
    let lib = bundle_library(bundle);
    let c = CString::new(lib.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: looks up the library the test host already loaded.
    let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD) };
    assert!(!handle.is_null(), "the bridged library is not loaded");
    // SAFETY: live handle; a C string name.
    let sym = unsafe { libc::dlsym(handle, c"bulkhead_vst3_audio_audit".as_ptr()) };
    assert!(!sym.is_null(), "the bridge exports no audit");
    // SAFETY: the symbol is the bridge's audit function of this type.
    let f: AuditFn = unsafe { std::mem::transmute::<*mut c_void, AuditFn>(sym) };
    let mut counts = AudioAuditCounts::default();
    // SAFETY: a live interface pointer of the bridged object; a local out-param.
    unsafe { f(p.component.ptr().as_ptr().cast(), &mut counts) };
    // SAFETY: the handle from dlopen above.
    unsafe { libc::dlclose(handle) };
    counts
}

fn spec(seed: u64, f64_samples: bool) -> Vst3RenderSpec {
    let mut notes = Vec::new();
    let mut params = Vec::new();
    for i in 0..800usize {
        let at = i * 600 + 5;
        notes.push((
            at,
            Note3::On {
                pitch: 40 + (i % 40) as i16,
                velocity: 0.7,
                id: i as i32,
            },
        ));
        notes.push((
            at + 200,
            Note3::Expression {
                id: i as i32,
                type_id: 0,
                value: 0.3,
            },
        ));
        notes.push((
            at + 400,
            Note3::Off {
                pitch: 40 + (i % 40) as i16,
                id: i as i32,
            },
        ));
        params.push((at + 100, 0, (i % 9) as f64 / 8.0));
    }
    Vst3RenderSpec {
        frames: 480_000,
        block_sizes: vec![64, 1, 512, 7, 4096, 128, 33],
        f64_samples,
        seed,
        notes,
        params,
        ..Vst3RenderSpec::default()
    }
}

#[test]
fn bridged_audio_path_allocates_nothing() {
    for name in ["instrument", "gain"] {
        let real = vst3_bundle(name).unwrap();
        let bridged = bridged_vst3_sample(name).unwrap();
        for f64_samples in [false, true] {
            let s = spec(7, f64_samples);
            let direct = render3(&mut Vst3Plugin::open(&real, None).unwrap(), &s).unwrap();
            let mut p = Vst3Plugin::open(&bridged, None).unwrap();
            let before = audit(&bridged, &p);
            let through = render3(&mut p, &s).unwrap();
            assert!(direct.bit_equal(&through), "{name}: bridged render differs");
            let after = audit(&bridged, &p);
            let blocks = {
                let (mut n, mut at) = (0u64, 0);
                while at < s.frames {
                    at += s.block_sizes[n as usize % s.block_sizes.len()];
                    n += 1;
                }
                n
            };
            assert!(
                after.bridge_sections >= before.bridge_sections + blocks,
                "{name}: the audio path was not audited: {before:?} → {after:?}"
            );
            assert_eq!(
                after.bridge_allocations, before.bridge_allocations,
                "{name}: the bridge allocated on the audio thread"
            );
        }
    }
}
