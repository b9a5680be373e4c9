//! `bulkhead-host --scan FILE`: lists and creates every plugin of a plugin
//! file and prints one JSON [`ScanReport`] on standard output. The
//! `bulkhead` tool runs this in a throwaway process, so a plugin that
//! crashes or hangs while being scanned takes only this process down.
//!
//! It drives the same [`ClapServer`] the bridge talks to (same loading,
//! same refusal of bridged copies, same host extensions offered), with a
//! socket pair of its own standing in for the bridge: callbacks the plugin
//! makes while being created are read and dropped. A VST3 bundle is
//! scanned the same way through the `Vst3Server` (`vst3`).

mod vst3;

use crate::clap::ClapServer;
use crate::error::HostError;
use crate::format::Format;
use crate::outbox::Outbox;
use bulkhead_common::protocol::clap::ext::{audio_ports, latency, note_ports, params};
use bulkhead_common::protocol::clap::plugin::*;
use bulkhead_common::protocol::clap::MainHandler;
use bulkhead_common::scan::{PluginFormat, ScanReport, ScannedPlugin, REPORT_FORMAT};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;

/// Every host extension the bridge can offer, so the plugin shows what it
/// does in a real DAW.
fn all_caps() -> HostCapabilities {
    HostCapabilities {
        log: true,
        params: true,
        state: true,
        latency: true,
        tail: true,
        audio_ports: true,
        note_ports: true,
        voice_info: true,
    }
}

/// Standard output as it was at start, for the report alone: descriptor 1
/// itself is pointed at standard error (or the log file), so whatever the
/// plugin prints cannot garble the JSON.
fn private_stdout() -> Result<std::fs::File, HostError> {
    let io = |e: std::io::Error| HostError::Scan(format!("cannot set up standard output: {e}"));
    let stdout = std::io::stdout();
    let _ = stdout.lock().flush();
    let ours: OwnedFd = std::os::fd::AsFd::as_fd(&stdout)
        .try_clone_to_owned()
        .map_err(io)?;
    if !bulkhead_common::logging::redirect_stdio_to_log_file() {
        nix::unistd::dup2_stdout(std::io::stderr()).map_err(|e| io(e.into()))?;
    }
    Ok(std::fs::File::from(ours))
}

/// The format of `plugin`: as named, else by its extension (`.vst3`).
pub fn format_of(plugin: &std::path::Path, named: Option<Format>) -> Format {
    named.unwrap_or_else(|| {
        if plugin
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("vst3"))
        {
            Format::Vst3
        } else {
            Format::Clap
        }
    })
}

/// A socket standing in for the bridge: callbacks the plugin makes are
/// read and dropped (so it never blocks on a full socket) until `ours`
/// closes.
fn stand_in_outbox() -> Result<Arc<Outbox>, HostError> {
    let (ours, theirs) = UnixStream::pair().map_err(|e| HostError::Scan(e.to_string()))?;
    // Drains callbacks (parameter rescans, log lines) so the plugin never
    // blocks on a full socket; ends when `ours` closes.
    std::thread::Builder::new()
        .name("bulkhead-scan-drain".into())
        .spawn(move || {
            let mut theirs = theirs;
            let mut buf = [0u8; 4096];
            while matches!(theirs.read(&mut buf), Ok(n) if n > 0) {}
        })
        .map_err(|e| HostError::Scan(e.to_string()))?;
    Ok(Arc::new(Outbox::new(ours)))
}

fn wake_fd() -> Result<Arc<OwnedFd>, HostError> {
    let wake = rustix::event::eventfd(0, rustix::event::EventfdFlags::CLOEXEC)
        .map_err(|e| HostError::Scan(e.to_string()))?;
    Ok(Arc::new(wake))
}

fn print(mut out: std::fs::File, report: &ScanReport) -> Result<(), HostError> {
    let mut json = serde_json::to_vec(report).map_err(|e| HostError::Scan(e.to_string()))?;
    json.push(b'\n');
    out.write_all(&json)
        .map_err(|e| HostError::Scan(format!("cannot write the report: {e}")))
}

pub fn run(plugin: PathBuf, format: Format) -> Result<(), HostError> {
    let out = private_stdout()?;
    let outbox = stand_in_outbox()?;
    if format == Format::Vst3 {
        let report = vst3::scan(plugin, outbox, wake_fd()?)?;
        return print(out, &report);
    }
    let mut server = ClapServer::new(Some(plugin.clone()), outbox, wake_fd()?);
    let descriptors = server
        .list_plugins(0, ListPlugins)
        .map_err(|e| HostError::Scan(e.message))?;
    let mut plugins = Vec::with_capacity(descriptors.len());
    for descriptor in descriptors {
        plugins.push(scan_one(&mut server, descriptor));
    }
    drop(server);
    let report = ScanReport {
        report_format: REPORT_FORMAT,
        format: PluginFormat::Clap,
        file: plugin,
        plugins,
        vst3: None,
    };
    print(out, &report)
}

fn scan_one(server: &mut ClapServer, descriptor: PluginDescriptor) -> ScannedPlugin {
    let mut scanned = ScannedPlugin {
        descriptor,
        audio_ports: Default::default(),
        note_ports: Default::default(),
        params: Vec::new(),
        latency: 0,
        extensions: Default::default(),
        error: None,
    };
    let created = server.create_plugin(
        0,
        CreatePlugin {
            plugin_id: scanned.descriptor.id.clone(),
            plugin: None,
            host: HostIdentity {
                name: "bulkhead scan".into(),
                vendor: "bulkhead".into(),
                url: String::new(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            caps: all_caps(),
        },
    );
    match created {
        Ok(c) => {
            let id = c.instance;
            server.run_requested_callbacks();
            scanned.extensions = c.extensions;
            scanned.audio_ports = server.get_audio_ports(id, audio_ports::GetAudioPorts);
            scanned.note_ports = server.get_note_ports(id, note_ports::GetNotePorts);
            scanned.params = server.get_param_infos(id, params::GetParamInfos);
            scanned.latency = server.get_latency(id, latency::GetLatency);
            server.destroy_plugin(id, DestroyPlugin);
        }
        Err(e) => scanned.error = Some(e.message),
    }
    scanned
}
