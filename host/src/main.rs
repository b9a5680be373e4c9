//! `bulkhead-host`: the process the bridge spawns for one plugin instance.
//!
//! Usage: `bulkhead-host --socket-fd N --plugin PATH`. The bridge passes its
//! end of a socket pair as fd N; the host says hello, checks the bridge's
//! hello and credentials, then serves until the bridge goes away.
//!
//! `bulkhead-host --scan PATH [--format clap|vst3]` instead prints a JSON
//! report of the plugins in PATH and exits (see `scan`; a `.vst3` path is
//! scanned as VST3 unless told otherwise).

mod audio_loop;
mod calls_out;
mod clap;
mod error;
mod event_loop;
mod format;
mod outbox;
mod scan;
mod vst3;
mod waiting;

use bulkhead_common::handshake::Hello;
use bulkhead_common::protocol::wire::{self, Message};
use bulkhead_common::{logging, ProtocolError};
use error::HostError;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;

/// Counts allocations on the audio thread, so tests can prove there are
/// none (see `bulkhead_common::alloc_audit`).
#[global_allocator]
static ALLOCATOR: bulkhead_common::alloc_audit::AuditedAllocator =
    bulkhead_common::alloc_audit::AuditedAllocator;

struct Args {
    socket_fd: i32,
    /// The plugin file to serve; a process serving a group is told each
    /// object's file when it is created.
    plugin: Option<PathBuf>,
    format: format::Format,
}

fn parse_args() -> Result<Args, HostError> {
    let mut socket_fd = None;
    let mut plugin = None;
    let mut format = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--socket-fd" => socket_fd = it.next().and_then(|v| v.parse().ok()),
            "--plugin" => plugin = it.next().map(PathBuf::from),
            "--format" => {
                let name = it.next().unwrap_or_default();
                format =
                    Some(format::Format::parse(&name).ok_or_else(|| {
                        HostError::Usage(format!("unknown plugin format {name:?}"))
                    })?);
            }
            // Only labels the log (read in `main`).
            "--group" => {
                it.next();
            }
            // Started ahead of need: named apart until it serves.
            "--spare" => name_process(c"bulkhead-spare"),
            "--version" => {
                println!(
                    "bulkhead-host {} (protocol {}, build {})",
                    env!("CARGO_PKG_VERSION"),
                    bulkhead_common::handshake::PROTOCOL_VERSION,
                    bulkhead_common::handshake::BUILD_ID
                );
                std::process::exit(0);
            }
            other => return Err(HostError::Usage(format!("unknown argument {other}"))),
        }
    }
    Ok(Args {
        socket_fd: socket_fd.ok_or_else(|| HostError::Usage("--socket-fd N is required".into()))?,
        plugin,
        // CLAP when not named: bridges before the VST3 work did not say.
        format: format.unwrap_or(format::Format::Clap),
    })
}

/// Sets the process's name (its main thread's), as `ps` and `/proc/PID/comm`
/// show it.
pub fn name_process(name: &std::ffi::CStr) {
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes
    // (longer ones are cut) from a pointer valid for the call.
    unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
}

/// Only a process of our own user may drive this host.
fn check_peer(stream: &UnixStream) -> Result<(), ProtocolError> {
    let cred =
        rustix::net::sockopt::socket_peercred(stream).map_err(|e| ProtocolError::Io(e.into()))?;
    let me = rustix::process::getuid();
    if cred.uid != me {
        return Err(ProtocolError::BadPeer(format!(
            "peer uid {} is not ours ({})",
            cred.uid.as_raw(),
            me.as_raw()
        )));
    }
    Ok(())
}

/// The whole hello exchange must fit in this.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn handshake(stream: &UnixStream) -> Result<(), ProtocolError> {
    let mut scratch = Vec::new();
    let by = wire::Patience::Until(std::time::Instant::now() + HANDSHAKE_TIMEOUT);
    wire::send(
        stream,
        &Message::Hello(Hello::ours()),
        &[],
        &mut scratch,
        by,
    )?;
    let (msg, _) = wire::recv(stream, &mut scratch, by)?;
    match msg {
        Message::Hello(h) => h.check(),
        _ => Err(ProtocolError::Unexpected("expected the bridge's hello")),
    }
}

fn run() -> Result<(), HostError> {
    let args = parse_args()?;
    // The plugin's own output (printf, panics) joins our log, if there is one.
    logging::redirect_stdio_to_log_file();
    // SAFETY: the bridge passed this descriptor to us for exactly this use;
    // nothing else in this process refers to it.
    let fd = unsafe { OwnedFd::from_raw_fd(args.socket_fd) };
    let stream = UnixStream::from(fd);
    check_peer(&stream)?;
    handshake(&stream)?;
    let outbox = Arc::new(outbox::Outbox::new(
        stream.try_clone().map_err(ProtocolError::Io)?,
    ));
    let wake = rustix::event::eventfd(
        0,
        rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK,
    )
    .map_err(|e| ProtocolError::Io(e.into()))?;
    // The server of the format the bridge asked for. A VST3 plugin's calls
    // to its handler are calls to the bridge made on this thread (which
    // reads the socket meanwhile), serving nested requests with the server.
    let mut calls = None;
    let mut server: Box<dyn format::FormatServer> = match args.format {
        format::Format::Clap => Box::new(clap::ClapServer::new(
            args.plugin,
            Arc::clone(&outbox),
            Arc::new(wake),
        )),
        format::Format::Vst3 => {
            let server = std::rc::Rc::new(vst3::Vst3Server::new(
                args.plugin,
                Arc::clone(&outbox),
                Arc::new(wake),
            ));
            let weak = std::rc::Rc::downgrade(&server);
            calls = Some(calls_out::register(
                stream.try_clone().map_err(ProtocolError::Io)?,
                Arc::clone(&outbox),
                weak,
            ));
            Box::new(vst3::Vst3Serving::new(server))
        }
    };
    let result = event_loop::run(&stream, &outbox, &mut *server);
    // The bridge is gone or going: calls made while tearing down are
    // one-way.
    drop(calls);
    // Destroy instances on the main thread before the process ends.
    drop(server);
    result
}

/// The per-plugin settings of the user's config.toml that act in the host
/// process: `log` (this plugin's log filter, over `BULKHEAD_LOG`) and
/// `realtime_priority`. Matched by the plugin's path or file name (its ids
/// are not known before it loads). Runs before logging starts and before
/// any thread exists; the bridge reports the file's problems, so they are
/// not repeated here.
fn apply_config_overrides(plugin: Option<&std::ffi::OsStr>) {
    let Some(plugin) = plugin else { return };
    let config = bulkhead_common::config::Config::load().config;
    let Some(o) = config.override_for(std::path::Path::new(plugin), &[]) else {
        return;
    };
    if let Some(filter) = o.log {
        std::env::set_var(logging::LOG_ENV, filter);
    }
    if let Some(p) = o.realtime_priority {
        audio_loop::REALTIME_PRIORITY.store(
            i32::try_from(p).unwrap_or(0),
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == "--scan") {
        let plugin = args.next();
        logging::init_for("host", plugin.as_deref());
        let rest: Vec<_> = args.collect();
        let named = match rest.as_slice() {
            [] => Ok(None),
            [flag, name] if flag == "--format" => name
                .to_str()
                .and_then(format::Format::parse)
                .map(Some)
                .ok_or_else(|| HostError::Usage(format!("unknown plugin format {name:?}"))),
            _ => Err(HostError::Usage(
                "usage: bulkhead-host --scan PATH [--format clap|vst3]".into(),
            )),
        };
        let result = match (plugin, named) {
            (Some(p), Ok(named)) => {
                let p = PathBuf::from(p);
                let format = scan::format_of(&p, named);
                scan::run(p, format)
            }
            (_, Err(e)) => Err(e),
            (None, _) => Err(HostError::Usage(
                "usage: bulkhead-host --scan PATH [--format clap|vst3]".into(),
            )),
        };
        if let Err(e) = result {
            eprintln!("bulkhead-host: {e}");
            std::process::exit(2);
        }
        return;
    }
    let arg = |name: &str| std::env::args_os().skip_while(|a| a != name).nth(1);
    // A group's process serves several plugins: it is named by the group.
    let label = match arg("--group") {
        Some(g) => {
            let mut l = std::ffi::OsString::from("group ");
            l.push(g);
            Some(l)
        }
        None => arg("--plugin"),
    };
    // A group's process serves several plugin files: the per-plugin log
    // filter and priority apply to processes of a single plugin.
    if arg("--group").is_none() {
        apply_config_overrides(arg("--plugin").as_deref());
    }
    logging::init_for("host", label.as_deref());
    match run() {
        Ok(()) | Err(HostError::Disconnected) => {
            tracing::debug!("bridge gone; host exiting");
        }
        Err(e) => {
            tracing::error!("bulkhead-host: {e}");
            eprintln!("bulkhead-host: {e}");
            std::process::exit(2);
        }
    }
}
