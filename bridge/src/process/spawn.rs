//! Starting a host process: where the binary is, what the child inherits
//! (its socket as fd 3 and nothing else of the DAW's), and the one thread
//! every host is forked from.

use crate::error::BridgeError;
use bulkhead_common::ProtocolError;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Set in every host process's environment: a bridge loaded there (a
/// manifest naming a bridged copy) refuses to start hosts of its own.
pub const INSIDE_HOST_ENV: &str = "BULKHEAD_INSIDE_HOST";
/// Starts host processes from the launcher thread, which lives until the
/// bridge library's last bundle is closed: the parent-death signal fires
/// when the forking *thread* exits, so forking from a DAW thread that may
/// end would kill healthy hosts.
fn spawn_from_spawner_thread(mut cmd: Command) -> std::io::Result<Child> {
    crate::launcher::run(move || cmd.spawn())?
}

/// Where to look for `bulkhead-host`, in order.
pub fn host_candidates(manifest_host: Option<&Path>, bridge_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut c = Vec::new();
    if let Some(p) = std::env::var_os("BULKHEAD_HOST") {
        c.push(PathBuf::from(p));
    }
    if let Some(p) = manifest_host {
        c.push(p.to_path_buf());
    }
    if let Some(d) = bridge_dir {
        c.push(d.join("bulkhead-host"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        // Where `bulkhead install` puts it, then the older manual place.
        c.push(Path::new(&home).join(".local/share/bulkhead/bulkhead-host"));
        c.push(Path::new(&home).join(".local/lib/bulkhead/bulkhead-host"));
    }
    c.push(PathBuf::from("/usr/local/lib/bulkhead/bulkhead-host"));
    c.push(PathBuf::from("/usr/lib/bulkhead/bulkhead-host"));
    if let Some(path) = std::env::var_os("PATH") {
        c.extend(std::env::split_paths(&path).map(|d| d.join("bulkhead-host")));
    }
    c
}

/// The first candidate that is an executable file.
///
/// # Errors
/// `HostBinaryMissing` listing where it looked.
pub fn find_host(candidates: &[PathBuf]) -> Result<PathBuf, BridgeError> {
    use std::os::unix::fs::PermissionsExt;
    candidates
        .iter()
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .cloned()
        .ok_or_else(|| {
            BridgeError::HostBinaryMissing(
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
}

/// Closes every descriptor above 3 in a freshly forked child: the DAW's
/// files opened without close-on-exec must not reach the plugin. Only
/// async-signal-safe calls.
fn close_inherited_fds() {
    // SAFETY: plain syscalls on descriptors of this (child) process.
    unsafe {
        if libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32) == 0 {
            return;
        }
        // Kernels before 5.9: close one by one up to the descriptor limit.
        let max = match libc::sysconf(libc::_SC_OPEN_MAX) {
            n if n > 4 => n.min(1 << 20) as i32,
            _ => 65_536,
        };
        for fd in 4..max {
            libc::close(fd);
        }
    }
}

/// Forks `host_binary` (for `plugin`, the file it serves by default, and
/// labelled with its `group`) with its end of a new socket pair as fd 3.
///
/// # Errors
/// Refused inside a host process, or the process could not start.
pub fn start(
    host_binary: &Path,
    plugin: Option<&Path>,
    group: Option<&str>,
    spare: bool,
) -> Result<(Child, UnixStream), BridgeError> {
    if let Some(v) = std::env::var_os(INSIDE_HOST_ENV) {
        return Err(BridgeError::InsideHost(v.to_string_lossy().into_owned()));
    }
    let (ours, theirs) = UnixStream::pair().map_err(ProtocolError::Io)?;
    let theirs_fd: RawFd = theirs.as_raw_fd();
    let mut cmd = Command::new(host_binary);
    // The host picks its server from this; a process serves one format.
    let format = plugin.map_or(bulkhead_common::scan::PluginFormat::Clap, |p| {
        bulkhead_common::manifest::plugin_format(p)
    });
    cmd.arg("--socket-fd")
        .arg("3")
        .arg("--format")
        .arg(format.name())
        .env(INSIDE_HOST_ENV, std::process::id().to_string())
        .stdin(Stdio::null());
    if let Some(plugin) = plugin {
        cmd.arg("--plugin").arg(plugin);
    }
    if let Some(group) = group {
        cmd.arg("--group").arg(group);
    }
    if spare {
        cmd.arg("--spare");
    }
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: only async-signal-safe calls (sched_setscheduler, prctl,
    // getppid, dup2, fcntl, close_range, close) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // Hosts start at normal priority; their audio thread mirrors
            // the DAW's once blocks flow.
            let normal = libc::sched_param { sched_priority: 0 };
            libc::sched_setscheduler(0, libc::SCHED_OTHER, &normal);
            // Die with the DAW: a host must never outlive its bridge.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) < 0 || libc::getppid() != parent {
                return Err(std::io::Error::other("the DAW is already gone"));
            }
            if theirs_fd == 3 {
                if libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(theirs_fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            close_inherited_fds();
            Ok(())
        });
    }
    let child = spawn_from_spawner_thread(cmd).map_err(|source| BridgeError::Spawn {
        path: host_binary.to_path_buf(),
        source,
    })?;
    drop(theirs);
    Ok((child, ours))
}
