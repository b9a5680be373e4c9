//! `tracing` setup shared by the bridge and the host: verbosity from
//! `BULKHEAD_LOG` (an env-filter directive, default `warn`), output to
//! `BULKHEAD_LOG_FILE` when set, else standard error.
//!
//! Every line names its process, so one log file shared by a DAW and all its
//! hosts can be read:
//!
//! ```text
//! 2025-06-01T12:00:00.123456Z bulkhead-bridge[4100]  INFO main: bridged plugin file loaded copy=… plugin=…
//! 2025-06-01T12:00:00.131002Z bulkhead-host[4242] (libfoo.so)  INFO main: created instance=1 plugin=org.foo
//! ```
//!
//! A host knows its plugin from the start and names it on every line; the
//! bridge serves many plugins in one DAW process, so its events carry a
//! `plugin` field instead.
//!
//! A bad `BULKHEAD_LOG` or an unusable `BULKHEAD_LOG_FILE` is said once on
//! standard error, naming the variable, its value and what is used instead.

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Once;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// The filter directive variable.
pub const LOG_ENV: &str = "BULKHEAD_LOG";
/// The log file variable.
pub const LOG_FILE_ENV: &str = "BULKHEAD_LOG_FILE";
/// The filter used when `BULKHEAD_LOG` is unset, empty or invalid.
pub const DEFAULT_FILTER: &str = "warn";

static INIT: Once = Once::new();
/// Both `init` and `redirect_stdio_to_log_file` open the log file; a failure
/// is reported by whichever comes first.
static FILE_FAILURE_REPORTED: Once = Once::new();

/// A logging setting that could not be honoured; reported once on standard
/// error, never fatal.
#[derive(Debug, thiserror::Error)]
pub enum LogSetupError {
    #[error("{LOG_ENV}={value:?} is not a valid filter ({reason}); using {DEFAULT_FILTER:?}")]
    BadFilter { value: String, reason: String },
    #[error("cannot open {LOG_FILE_ENV}={} ({source}); logging to standard error", .path.display())]
    LogFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot send standard output and error to {LOG_FILE_ENV}={} ({source}); they stay as they were",
        .path.display()
    )]
    Redirect { path: PathBuf, source: nix::Error },
}

fn report(e: &LogSetupError) {
    // One write, one line: several processes may share this stderr.
    let _ = std::io::stderr().write_all(format!("bulkhead: {e}\n").as_bytes());
}

/// Installs the global subscriber once per process; later calls do nothing.
/// `origin` (`"bridge"`, `"host"`) names the process on every line, as
/// `bulkhead-<origin>[pid]`.
pub fn init(origin: &'static str) {
    init_for(origin, None);
}

/// Like [`init`], and also names `plugin` (a host's plugin file) on every
/// line.
pub fn init_for(origin: &str, plugin: Option<&OsStr>) {
    INIT.call_once(|| {
        let prefix = line_prefix(origin, std::process::id(), plugin);
        let filter = filter_from_env();
        let file = log_file_path().and_then(|p| match open_log_file(&p) {
            Ok(f) => Some(f),
            Err(e) => {
                report_file_failure(&e);
                None
            }
        });
        let ansi = file.is_none() && std::io::stderr().is_terminal();
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(ansi)
            .event_format(Prefixed {
                prefix,
                inner: format::Format::default()
                    .without_time()
                    .with_target(false)
                    // Thread names come from the kernel (`thread_name`):
                    // std's would leave a thread-local destructor on the
                    // DAW's threads that outlives an unloaded bridge.
                    .with_thread_names(false),
            });
        let result = match file {
            Some(f) => builder.with_writer(std::sync::Mutex::new(f)).try_init(),
            None => builder.with_writer(std::io::stderr).try_init(),
        };
        if result.is_ok() {
            tracing::info!(
                version = env!("CARGO_PKG_VERSION"),
                build = crate::handshake::BUILD_ID,
                "logging started"
            );
        }
    });
}

/// `bulkhead-host[4242] (libfoo.so)`: the process, its pid and, when given,
/// the file name of its plugin.
fn line_prefix(origin: &str, pid: u32, plugin: Option<&OsStr>) -> String {
    let mut p = format!("bulkhead-{origin}[{pid}]");
    if let Some(plugin) = plugin {
        let path = Path::new(plugin);
        let name = path.file_name().unwrap_or(plugin);
        p.push_str(&format!(" ({})", name.to_string_lossy()));
    }
    p
}

/// The filter from `BULKHEAD_LOG`; the default when it is unset or empty,
/// and (said once on stderr) when it does not parse.
fn filter_from_env() -> EnvFilter {
    match parse_filter(std::env::var_os(LOG_ENV).as_deref()) {
        Ok(f) => f,
        Err(e) => {
            report(&e);
            EnvFilter::new(DEFAULT_FILTER)
        }
    }
}

fn parse_filter(value: Option<&OsStr>) -> Result<EnvFilter, LogSetupError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(EnvFilter::new(DEFAULT_FILTER));
    };
    let Some(text) = value.to_str() else {
        return Err(LogSetupError::BadFilter {
            value: value.to_string_lossy().into_owned(),
            reason: "not UTF-8".into(),
        });
    };
    EnvFilter::builder()
        .parse(text)
        .map_err(|e| LogSetupError::BadFilter {
            value: text.to_owned(),
            reason: e.to_string(),
        })
}

fn log_file_path() -> Option<PathBuf> {
    std::env::var_os(LOG_FILE_ENV)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

fn open_log_file(path: &Path) -> Result<File, LogSetupError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| LogSetupError::LogFile {
            path: path.to_path_buf(),
            source,
        })
}

fn report_file_failure(e: &LogSetupError) {
    FILE_FAILURE_REPORTED.call_once(|| report(e));
}

/// Points standard output and standard error (descriptors 1 and 2) at
/// `BULKHEAD_LOG_FILE`, appending, so that whatever a plugin prints — from C
/// `printf`, a Rust panic, the runtime's stack-overflow message — lands in
/// the log beside our own lines. Does nothing when the variable is unset;
/// when the file cannot be opened, says so once on (the unchanged) stderr.
/// Returns whether the descriptors now point at the file.
///
/// For the host process, early in `main`: its bridge talks to it over an
/// inherited socket, never over stdout or stderr.
pub fn redirect_stdio_to_log_file() -> bool {
    let Some(path) = log_file_path() else {
        return false;
    };
    let file = match open_log_file(&path) {
        Ok(f) => f,
        Err(e) => {
            report_file_failure(&e);
            return false;
        }
    };
    // Anything std buffered for the old stdout goes there first.
    let _ = std::io::stdout().flush();
    // `dup2` replaces descriptors 1 and 2 atomically; std's `Stdout` and
    // `Stderr` write to those numbers and follow. The file's own descriptor
    // closes when `file` drops; the duplicates stay open.
    let result = nix::unistd::dup2_stdout(&file).and_then(|()| nix::unistd::dup2_stderr(&file));
    match result {
        Ok(()) => true,
        Err(source) => {
            report(&LogSetupError::Redirect { path, source });
            false
        }
    }
}

/// Writes `<time> <prefix>` before each line of the wrapped formatter.
/// The calling thread's name as the kernel knows it (no thread-locals).
fn thread_name() -> String {
    let mut buf = [0u8; 17];
    // SAFETY: PR_GET_NAME writes at most 16 bytes and a NUL into `buf`.
    let rc = unsafe { libc::prctl(libc::PR_GET_NAME, buf.as_mut_ptr()) };
    if rc != 0 {
        return "?".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(16);
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

struct Prefixed<F> {
    prefix: String,
    inner: F,
}

impl<S, N, F> FormatEvent<S, N> for Prefixed<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        SystemTime.format_time(&mut writer)?;
        write!(writer, " {} {} ", self.prefix, thread_name())?;
        self.inner.format_event(ctx, writer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_names_process_pid_and_plugin() {
        assert_eq!(line_prefix("bridge", 12, None), "bulkhead-bridge[12]");
        assert_eq!(
            line_prefix("host", 7, Some(OsStr::new("/usr/lib/clap/Surge XT.clap"))),
            "bulkhead-host[7] (Surge XT.clap)"
        );
    }

    #[test]
    fn filters_parse_or_name_the_bad_value() {
        assert!(parse_filter(None).is_ok());
        assert!(parse_filter(Some(OsStr::new(""))).is_ok());
        assert!(parse_filter(Some(OsStr::new("debug"))).is_ok());
        assert!(parse_filter(Some(OsStr::new("bulkhead_bridge=trace,warn"))).is_ok());
        let e = parse_filter(Some(OsStr::new("foo=loud"))).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("BULKHEAD_LOG=\"foo=loud\"") && text.contains("\"warn\""),
            "{text}"
        );
    }

    #[test]
    fn an_unopenable_file_is_named() {
        let e = open_log_file(Path::new("/nonexistent-bulkhead-dir/x.log")).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("BULKHEAD_LOG_FILE=/nonexistent-bulkhead-dir/x.log")
                && text.contains("standard error"),
            "{text}"
        );
    }
}
