//! `bulkhead`: bridges every plugin installed on a machine, so any DAW
//! finds them. `install`, then `add DIR`, then `sync`; `status`, `scan`,
//! `set` and `list` for the rest. See the README's "Bridging your plugins".

mod config_edit;
mod discover;
mod error;
mod install;
mod layout;
mod scan;
mod status;
mod sync;
mod vst3;

use bulkhead_common::config::{Config, Loaded};
use bulkhead_common::scan::PluginFormat;
use clap::{Parser, Subcommand};
use error::{CliError, Result};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "bulkhead",
    version,
    about = "Run audio plugins out of process: bridge every plugin on this machine so any DAW finds it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Put the bridge, the shim and bulkhead-host in ~/.local/share/bulkhead (or --prefix).
    Install {
        #[arg(long)]
        prefix: Option<PathBuf>,
        /// Where the files to install are (default: beside this program).
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Add folders whose plugins `sync` bridges.
    Add {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// Remove folders (their copies go at the next `sync --prune`).
    Rm {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// The folders, with how many plugins each holds, and standard places to add.
    List,
    /// Make or refresh a bridged copy of every plugin in the folders.
    Sync {
        /// Say what would change, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Remove copies whose real plugin is gone.
        #[arg(long)]
        prune: bool,
    },
    /// Every bridged copy: its real plugin, format, group, current or not, loads or not.
    Status {
        #[arg(long)]
        json: bool,
        /// Do not try loading each real plugin (faster).
        #[arg(long)]
        no_load: bool,
    },
    /// A plugin file's plugins: ids, features, ports, parameters, latency, extensions.
    Scan {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Per-plugin settings: `set PATTERN KEY=VALUE…` or `set PATTERN --reset`.
    Set {
        /// Glob on the real plugin's path, file name or plugin id.
        pattern: String,
        /// KEY=VALUE (an empty VALUE removes the key).
        settings: Vec<String>,
        /// Remove every setting of PATTERN.
        #[arg(long, conflicts_with = "settings")]
        reset: bool,
    },
}

/// The config, with its problems said on standard error.
fn load_config() -> Config {
    let Loaded {
        config, problems, ..
    } = Config::load();
    for p in &problems {
        eprintln!("bulkhead: {p}");
    }
    config
}

/// CLAP files and VST3 bundles under `dir`, not counting bulkhead's own
/// copies (`~/.clap/bulkhead`, `~/.vst3/bulkhead`).
fn count_plugins(dir: &std::path::Path) -> (usize, usize) {
    let exclude: Vec<PathBuf> = [layout::clap_out(), layout::vst3_out()]
        .into_iter()
        .flatten()
        .collect();
    let found = discover::discover(dir, &exclude);
    let clap = found
        .iter()
        .filter(|f| f.format == PluginFormat::Clap)
        .count();
    (clap, found.len() - clap)
}

fn list(config: &Config) {
    if config.directories.is_empty() {
        println!("no plugin folders yet: add some with `bulkhead add DIR`");
    } else {
        println!("plugin folders:");
        for d in &config.directories {
            if d.is_dir() {
                let (clap, vst3) = count_plugins(d);
                println!("  {}  ({clap} CLAP, {vst3} VST3)", d.display());
            } else {
                println!("  {}  (missing)", d.display());
            }
        }
    }
    let added = |p: &PathBuf| {
        let c = std::fs::canonicalize(p).ok();
        config
            .directories
            .iter()
            .any(|d| d == p || std::fs::canonicalize(d).ok() == c)
    };
    let suggestions: Vec<PathBuf> = layout::standard_dirs()
        .into_iter()
        .filter(|d| d.is_dir() && !added(d))
        .collect();
    if !suggestions.is_empty() {
        println!("standard places on this machine you could add:");
        for d in suggestions {
            let (clap, vst3) = count_plugins(&d);
            println!("  {}  ({clap} CLAP, {vst3} VST3)", d.display());
        }
    }
}

fn scan_command(config: &Config, file: PathBuf, json: bool) -> Result<()> {
    let host = layout::scan_host(config)?;
    let timeout = config
        .scan_timeout_ms
        .map_or(scan::DEFAULT_TIMEOUT, Duration::from_millis);
    let report = scan::scan_file(&host, &file, timeout).map_err(|e| CliError::ScanFailed {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Usage(e.to_string()))?
        );
        return Ok(());
    }
    println!("{} ({})", report.file.display(), report.format.name());
    if let Some(classes) = &report.vst3 {
        print_vst3_classes(classes);
    }
    let vst3 = report.format == PluginFormat::Vst3;
    if vst3 && !report.plugins.is_empty() {
        println!("\nprocessor classes, as created in the scan:");
    }
    for p in &report.plugins {
        let d = &p.descriptor;
        println!("\n{} — {}", d.id, d.name);
        if let Some(v) = &d.vendor {
            println!("  vendor:     {v}");
        }
        if let Some(v) = &d.version {
            println!("  version:    {v}");
        }
        println!(
            "  {:<11} {}",
            if vst3 { "subcats:" } else { "features:" },
            d.features.join(", ")
        );
        if let Some(e) = &p.error {
            println!("  could not be created: {e}");
            continue;
        }
        let ports = |ps: &[bulkhead_common::protocol::clap::ext::audio_ports::AudioPortInfo]| {
            ps.iter()
                .map(|p| format!("{} ({} ch)", p.name, p.channel_count))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!("  audio in:   {}", ports(&p.audio_ports.inputs));
        println!("  audio out:  {}", ports(&p.audio_ports.outputs));
        println!(
            "  {:<11} {} in, {} out",
            if vst3 { "event bus:" } else { "note ports:" },
            p.note_ports.inputs.len(),
            p.note_ports.outputs.len()
        );
        println!("  latency:    {} samples", p.latency);
        let x = p.extensions;
        let offered: Vec<&str> = [
            ("audio-ports", x.audio_ports),
            ("note-ports", x.note_ports),
            ("params", x.params),
            ("state", x.state),
            ("latency", x.latency),
            ("tail", x.tail),
            ("render", x.render),
            ("voice-info", x.voice_info),
        ]
        .into_iter()
        .filter_map(|(n, on)| on.then_some(n))
        .collect();
        if !vst3 {
            println!("  extensions: {}", offered.join(", "));
        }
        println!("  parameters: {}", p.params.len());
        for param in &p.params {
            println!(
                "    {:>6}  {}  [{} .. {}], default {}",
                param.id, param.name, param.min_value, param.max_value, param.default_value
            );
        }
    }
    Ok(())
}

/// A VST3 module's factory and classes, with the ids a bridged bundle
/// gives them.
fn print_vst3_classes(m: &bulkhead_common::protocol::vst3::types::ModuleClasses) {
    use bulkhead_vst3_support::bridged::{bridged_cid, bridged_name};
    use bulkhead_vst3_support::com::guid_hex;
    let f = &m.factory;
    println!(
        "factory:    {}{}{}",
        f.vendor,
        if f.url.is_empty() {
            String::new()
        } else {
            format!(", {}", f.url)
        },
        if f.email.is_empty() {
            String::new()
        } else {
            format!(", {}", f.email)
        }
    );
    println!("classes:    {}", m.classes.len());
    for c in &m.classes {
        println!("\n  class {} — {}", guid_hex(&c.cid), c.name);
        println!("    category:       {}", c.category);
        if !c.sub_categories.is_empty() {
            println!(
                "    sub-categories: {}",
                c.sub_categories.split('|').collect::<Vec<_>>().join(", ")
            );
        }
        if !c.vendor.is_empty() {
            println!("    vendor:         {}", c.vendor);
        }
        if !c.version.is_empty() {
            println!("    version:        {}", c.version);
        }
        if !c.sdk_version.is_empty() {
            println!("    sdk:            {}", c.sdk_version);
        }
        println!(
            "    bridged as:     {} — {}",
            guid_hex(&bridged_cid(&c.cid)),
            bridged_name(&c.name)
        );
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Install { prefix, from } => {
            load_config();
            install::run(prefix, from)
        }
        Command::Add { dirs } => {
            let mut file = config_edit::ConfigFile::open()?;
            for d in dirs {
                let canonical = std::fs::canonicalize(&d)
                    .ok()
                    .filter(|p| p.is_dir())
                    .ok_or_else(|| CliError::NotADirectory(d.clone()))?;
                if file.add_directory(&canonical) {
                    let (clap, vst3) = count_plugins(&canonical);
                    println!("added {}  ({clap} CLAP, {vst3} VST3)", canonical.display());
                } else {
                    println!("already there: {}", canonical.display());
                }
            }
            file.save()?;
            load_config();
            Ok(())
        }
        Command::Rm { dirs } => {
            let mut file = config_edit::ConfigFile::open()?;
            for d in dirs {
                match file.remove_directory(&d) {
                    0 => println!("not in the list: {}", d.display()),
                    _ => println!(
                        "removed {} (its copies go at `bulkhead sync --prune`)",
                        d.display()
                    ),
                }
            }
            file.save()?;
            Ok(())
        }
        Command::List => {
            list(&load_config());
            Ok(())
        }
        Command::Sync { dry_run, prune } => {
            sync::run(&load_config(), &sync::Options { dry_run, prune })
        }
        Command::Status { json, no_load } => {
            let statuses = status::collect(&load_config(), !no_load)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&statuses)
                        .map_err(|e| CliError::Usage(e.to_string()))?
                );
            } else {
                status::print(&statuses);
            }
            Ok(())
        }
        Command::Scan { file, json } => scan_command(&load_config(), file, json),
        Command::Set {
            pattern,
            settings,
            reset,
        } => {
            let mut file = config_edit::ConfigFile::open()?;
            if reset {
                if file.reset(&pattern) {
                    println!("{pattern}: settings removed");
                } else {
                    println!("{pattern}: had no settings");
                }
            } else {
                if settings.is_empty() {
                    return Err(CliError::Usage(
                        "give KEY=VALUE settings, or --reset".into(),
                    ));
                }
                for s in &settings {
                    let (k, v) = s
                        .split_once('=')
                        .ok_or_else(|| CliError::Usage(format!("{s:?} is not KEY=VALUE")))?;
                    file.set(&pattern, k.trim(), v.trim())?;
                    println!("{pattern}: {}", s.trim());
                }
            }
            file.save()?;
            load_config();
            println!("(applies the next time a DAW loads the plugin)");
            Ok(())
        }
    }
}

fn main() {
    // SAFETY: restoring the default action of SIGPIPE before any thread
    // starts: `bulkhead status | head` ends quietly, as other command-line
    // tools do, instead of panicking on a closed pipe.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    bulkhead_common::logging::init("cli");
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("bulkhead: {e}");
        std::process::exit(1);
    }
}
