//! Scanning a plugin file in a throwaway `bulkhead-host --scan` process:
//! a plugin that crashes, hangs or prints garbage there is reported as
//! the reason it was skipped, and never takes `bulkhead` down.

use bulkhead_common::scan::{ScanReport, REPORT_FORMAT};
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The default time one plugin file's scan may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// A report larger than this is garbage.
const MAX_REPORT_BYTES: u64 = 16 << 20;
/// How much of the host's standard error is kept for the reason.
const STDERR_TAIL: usize = 4096;

/// Why a scan failed, worded for the summary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanFailure {
    #[error("cannot start {host}: {reason}")]
    Spawn { host: String, reason: String },
    #[error("the scan hung (no answer in {0} ms; killed)")]
    Timeout(u128),
    #[error("the plugin crashed while being scanned ({signal}){detail}")]
    Crashed { signal: String, detail: String },
    #[error("not loadable: {0}")]
    Failed(String),
    #[error("the scan printed something that is not a scan report ({0})")]
    Garbage(String),
}

fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGTRAP => "SIGTRAP",
        _ => return format!("signal {sig}"),
    };
    format!("signal {sig}, {name}")
}

/// The last non-empty line of the host's standard error, without the
/// `bulkhead-host: ` prefix.
fn last_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.trim_start_matches("bulkhead-host: ").to_string())
        .unwrap_or_default()
}

/// Runs `host --scan file`, killing it (and anything it started) after
/// `timeout`.
///
/// # Errors
/// Every way the scan can fail, as a [`ScanFailure`].
pub fn scan_file(host: &Path, file: &Path, timeout: Duration) -> Result<ScanReport, ScanFailure> {
    let mut cmd = Command::new(host);
    cmd.arg("--scan")
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A process group of its own, so a timeout kills whatever the
        // plugin started too.
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| ScanFailure::Spawn {
        host: host.display().to_string(),
        reason: e.to_string(),
    })?;
    let pid = child.id() as libc::pid_t;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    // Readers on their own threads: a full pipe must never stall the host.
    let out_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(s) = stdout {
            let _ = s.take(MAX_REPORT_BYTES + 1).read_to_end(&mut bytes);
        }
        bytes
    });
    let err_reader = std::thread::spawn(move || {
        let mut tail = Vec::new();
        if let Some(mut s) = stderr {
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > STDERR_TAIL {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
            }
        }
        tail
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    // SAFETY: plain syscall; `pid` leads the process group made for this
    // scan, so only the scan and what it started are signalled. (Also done
    // after a normal exit: a plugin's leftover children must not linger
    // holding the pipes open.)
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    let status = match status {
        Some(s) => s,
        None => {
            let _ = child.wait();
            return Err(ScanFailure::Timeout(timeout.as_millis()));
        }
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    if let Some(sig) = status.signal() {
        let line = last_line(&err);
        return Err(ScanFailure::Crashed {
            signal: signal_name(sig),
            detail: if line.is_empty() {
                String::new()
            } else {
                format!(": {line}")
            },
        });
    }
    if !status.success() {
        let line = last_line(&err);
        return Err(ScanFailure::Failed(if line.is_empty() {
            format!(
                "the scan exited with status {}",
                status.code().unwrap_or(-1)
            )
        } else {
            line
        }));
    }
    if out.len() as u64 > MAX_REPORT_BYTES {
        return Err(ScanFailure::Garbage("more than 16 MiB".into()));
    }
    let report: ScanReport =
        serde_json::from_slice(&out).map_err(|e| ScanFailure::Garbage(e.to_string()))?;
    if report.report_format != REPORT_FORMAT {
        return Err(ScanFailure::Garbage(format!(
            "report format {}, expected {REPORT_FORMAT}: install matching versions",
            report.report_format
        )));
    }
    if report.plugins.is_empty() {
        return Err(ScanFailure::Failed("the file holds no plugins".into()));
    }
    Ok(report)
}
