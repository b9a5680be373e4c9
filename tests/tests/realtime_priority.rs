//! The host's audio thread adopts the scheduling of the thread that calls
//! `process()`: a DAW running its audio at SCHED_FIFO gets a SCHED_FIFO
//! host audio thread at the same priority.

use bulkhead_tests::*;

fn host_audio_thread(pid: u32) -> Option<i32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .find_map(|t| {
            let t = t.ok()?;
            let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
            comm.starts_with("bulkhead-audio")
                .then(|| t.file_name().to_str()?.parse().ok())
                .flatten()
        })
}

fn scheduling(tid: i32) -> (i32, i32) {
    // SAFETY: plain syscalls with a local out-param.
    unsafe {
        let mut p: libc::sched_param = std::mem::zeroed();
        libc::sched_getparam(tid, &mut p);
        (libc::sched_getscheduler(tid), p.sched_priority)
    }
}

#[test]
fn host_audio_thread_mirrors_a_realtime_caller() {
    let copy = bridged_sample("gain").unwrap();
    std::thread::spawn(move || {
        let param = libc::sched_param { sched_priority: 7 };
        // SAFETY: a plain syscall on this thread.
        let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
        assert_eq!(
            rc, 0,
            "the test needs permission for SCHED_FIFO (run as root or with CAP_SYS_NICE)"
        );
        let lib = PluginLibrary::load(&copy).unwrap();
        let mut inst = Instance::new(
            &lib,
            "bulkhead.org.bulkhead.sample.gain",
            HostConfig::default(),
        )
        .unwrap();
        inst.activate(48_000.0, 1, 64).unwrap();
        inst.start_processing().unwrap();
        let host = host_processes_of(std::process::id())[0];
        let tid = host_audio_thread(host).expect("the host has an audio thread");
        assert_eq!(
            scheduling(tid).0,
            libc::SCHED_OTHER,
            "normal before any block"
        );
        let inputs = inst.input_buffers::<f32>(64);
        let mut outputs = inst.output_buffers::<f32>(64);
        for _ in 0..4 {
            inst.process_f32(64, &inputs, &mut outputs, &[], None, None)
                .unwrap();
        }
        assert_eq!(scheduling(tid), (libc::SCHED_FIFO, 7));
    })
    .join()
    .unwrap();
}
