//! Only what the host needs crosses into it: a file the DAW holds open
//! without close-on-exec never reaches the host process (and the plugin in
//! it).

use bulkhead_tests::*;
use std::ffi::CString;

#[test]
fn a_daw_file_without_cloexec_is_absent_from_the_host() {
    let dir = scratch_dir("fd-inheritance");
    let secret = dir.join("private-session-file");
    std::fs::write(&secret, b"not for plugins").unwrap();
    let c = CString::new(secret.to_str().unwrap()).unwrap();
    // SAFETY: a plain open of our own file, deliberately without O_CLOEXEC.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY) };
    assert!(fd >= 0);

    let lib = PluginLibrary::load(bridged_sample("gain").unwrap()).unwrap();
    let inst = Instance::new(
        &lib,
        "bulkhead.org.bulkhead.sample.gain",
        HostConfig::default(),
    )
    .unwrap();
    let hosts = host_processes_of(std::process::id());
    assert!(!hosts.is_empty());
    for pid in hosts {
        let fds: Vec<(i32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .filter_map(|e| {
                let e = e.ok()?;
                let n = e.file_name().to_str()?.parse().ok()?;
                Some((n, std::fs::read_link(e.path()).ok()?.display().to_string()))
            })
            .collect();
        assert!(
            !fds.iter().any(|(_, p)| p.contains("private-session-file")),
            "host {pid} holds the DAW's file: {fds:?}"
        );
        // Beyond stdio: only its own sockets, eventfds, memfds and pipes.
        for (n, target) in &fds {
            if *n > 2 {
                assert!(
                    target.starts_with("socket:")
                        || target.starts_with("anon_inode:")
                        || target.starts_with("/memfd:")
                        || target.starts_with("pipe:"),
                    "host {pid} holds fd {n} -> {target}"
                );
            }
        }
    }
    drop(inst);
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
}
