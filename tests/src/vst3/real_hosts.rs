//! The real VST3 hosts the tests drive (pedalboard and DawDreamer in a
//! venv, Debian's zam-plugins and Ardour), installed by
//! `tests/hosts/setup.sh` the first time a test needs them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where the drivers and `setup.sh` live.
pub fn hosts_dir() -> PathBuf {
    workspace().join("tests").join("hosts")
}

/// Runs `setup.sh` (idempotent: it only checks what is already there) and
/// returns the venv's Python; panics with the script's output when it
/// cannot install the hosts.
pub fn install_real_hosts() -> PathBuf {
    // One setup at a time: two tests of one binary (or two test processes)
    // installing into a fresh venv at once break each other's install.
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE.lock().unwrap_or_else(|p| p.into_inner());
    let venv = workspace().join("target").join("vst3-hosts-venv");
    let lock_path = workspace().join("target").join("vst3-hosts-venv.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock_path.display()));
    // SAFETY: flock on a descriptor we own; released when `lock` closes.
    let locked = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) };
    assert_eq!(locked, 0, "cannot lock {}", lock_path.display());
    let script = hosts_dir().join("setup.sh");
    let out = Command::new("sh")
        .arg(&script)
        .arg(&venv)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} could not install the real VST3 hosts:\n{text}",
        script.display()
    );
    venv.join("bin").join("python")
}
