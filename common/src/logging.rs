//! `tracing` setup shared by the bridge and the host: verbosity from
//! `BULKHEAD_LOG` (an env-filter directive, default `warn`), output to
//! `BULKHEAD_LOG_FILE` when set, else standard error.

use std::sync::Once;

static INIT: Once = Once::new();

/// Installs the global subscriber once per process; later calls do nothing.
/// `origin` prefixes every line so a shared log file tells sides apart.
pub fn init(origin: &'static str) {
    INIT.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_env("BULKHEAD_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .with_thread_names(true);
        let file = std::env::var_os("BULKHEAD_LOG_FILE").and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
        });
        let result = match file {
            Some(f) => builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(f))
                .try_init(),
            None => builder.with_writer(std::io::stderr).try_init(),
        };
        if result.is_ok() {
            tracing::debug!(origin, pid = std::process::id(), "logging started");
        }
    });
}
