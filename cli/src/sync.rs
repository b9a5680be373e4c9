//! `bulkhead sync`: bridged copies of every plugin in the configured
//! folders, under `~/.clap/bulkhead/` and `~/.vst3/bulkhead/` (relative
//! layout kept), each with its manifest and the real plugin's descriptors
//! (VST3: classes, and `moduleinfo.json`) already in the bridge's cache, so
//! a DAW scanning the copies starts no host process.
//!
//! Nothing is written when nothing changed: a copy is current when its
//! bytes are the installed library's, its manifest names the real plugin
//! and the installed host, and the cache holds the real plugin's
//! descriptors for its present size, mtime and content hash. Only plugins
//! that are not current are scanned.

use crate::discover::{discover, Found};
use crate::error::{CliError, Result};
use crate::layout;
use crate::scan::scan_file;
use bulkhead_common::config::Config;
use bulkhead_common::manifest::{self, Manifest};
use bulkhead_common::scan::PluginFormat;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Options {
    pub dry_run: bool,
    pub prune: bool,
}

/// What sync did (or would do) with one plugin file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Added,
    Updated(String),
    Unchanged,
    Skipped(String),
}

/// The libraries and host copies are made from.
pub struct Install {
    /// What copies are (CLAP files and VST3 bundles' libraries): the shim
    /// where it finds the bridge, else the bridge.
    pub library: PathBuf,
    pub library_bytes: Vec<u8>,
    pub host: PathBuf,
}

impl Install {
    /// # Errors
    /// The prefix lacks a file `install` puts there.
    pub fn find(config: &Config) -> Result<Self> {
        let prefix = layout::prefix(config)?;
        for file in layout::INSTALLED {
            if !prefix.join(file).is_file() {
                return Err(CliError::NotInstalled { prefix, file });
            }
        }
        // Shim copies are small, but a shim finds the bridge only in its
        // standard places; elsewhere each copy is the whole bridge.
        let shim = layout::shim_finds(&prefix);
        let library = prefix.join(if shim {
            layout::SHIM_FILE
        } else {
            layout::BRIDGE_FILE
        });
        let library_bytes =
            std::fs::read(&library).map_err(CliError::io("cannot read", &library))?;
        Ok(Self {
            library,
            library_bytes,
            host: prefix.join(layout::HOST_FILE),
        })
    }
}

/// Why the copy at `dest` of `real` is not current (empty: it is).
pub fn staleness(install: &Install, real: &Path, dest: &Path) -> Vec<String> {
    library_staleness(install, real, dest, PluginFormat::Clap).0
}

/// Whether `m`'s cache holds the real plugin's scan, fresh.
fn cache_fresh(m: &Manifest, format: PluginFormat) -> bool {
    match format {
        PluginFormat::Clap => m.fresh_descriptors().is_some(),
        PluginFormat::Vst3 => m.fresh_vst3_classes().is_some(),
    }
}

/// Why a copy's library `lib` and its manifest are not current (empty: they
/// are), and the manifest when it could be read: the rule both formats'
/// copies follow.
pub(crate) fn library_staleness(
    install: &Install,
    real: &Path,
    lib: &Path,
    format: PluginFormat,
) -> (Vec<String>, Option<Manifest>) {
    let mut why = Vec::new();
    match std::fs::read(lib) {
        Ok(b) if b == install.library_bytes => {}
        Ok(_) => why.push("the copy's library is an older bridge".to_string()),
        Err(_) => return (vec!["no copy yet".into()], None),
    }
    match Manifest::load_for(lib) {
        Ok(m) => {
            if !manifest_names(&m, real, &install.host) {
                why.push("the manifest names another plugin or host".into());
            } else if !cache_fresh(&m, format) {
                why.push(format!(
                    "the real plugin changed (or its {} are not cached)",
                    match format {
                        PluginFormat::Clap => "descriptors",
                        PluginFormat::Vst3 => "classes",
                    }
                ));
            }
            (why, Some(m))
        }
        Err(e) => {
            why.push(format!("the manifest is unusable: {e}"));
            (why, None)
        }
    }
}

pub(crate) fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

pub(crate) fn manifest_names(m: &Manifest, real: &Path, host: &Path) -> bool {
    m.plugin == absolute(real) && m.host.as_deref() == Some(&absolute(host))
}

/// Copies `from` to `to` through a temporary file and a rename: a DAW
/// that has the old copy loaded keeps its inode, and never sees half a
/// file.
pub(crate) fn replace_file(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut name = std::ffi::OsString::from(".");
    name.push(to.file_name().unwrap_or_default());
    name.push(format!(".tmp{}", std::process::id()));
    let tmp = to.with_file_name(name);
    let r = std::fs::copy(from, &tmp).and_then(|_| std::fs::rename(&tmp, to));
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

/// Makes or refreshes a copy's library `lib` and its manifest after a
/// successful scan, the rule both formats' copies follow; the manifest.
pub(crate) fn write_library_and_manifest(
    install: &Install,
    real: &Path,
    lib: &Path,
    format: PluginFormat,
) -> std::io::Result<Manifest> {
    let old = Manifest::load_for(lib).ok();
    let names_right = old
        .as_ref()
        .is_some_and(|m| manifest_names(m, real, &install.host));
    // The library is rewritten when it differs, and also when the real
    // plugin changed: DAWs key their plugin caches on the file's mtime, so
    // a copy whose plugin changed must look changed.
    let same_bytes = std::fs::read(lib).is_ok_and(|b| b == install.library_bytes);
    let fresh = names_right && old.as_ref().is_some_and(|m| cache_fresh(m, format));
    if !same_bytes || !fresh {
        replace_file(&install.library, lib)?;
    }
    if !names_right {
        let mut m = Manifest::new(absolute(real));
        m.host = Some(absolute(&install.host));
        // Settings the user put in an older manifest are kept.
        if let Some(o) = &old {
            m.policy = o.policy;
            m.group.clone_from(&o.group);
        }
        m.store_for(lib)?;
    }
    Manifest::load_for(lib).map_err(std::io::Error::other)
}

/// Makes or refreshes the copy at `dest` after a successful scan.
fn write_copy(
    install: &Install,
    real: &Path,
    dest: &Path,
    descriptors: &[bulkhead_common::protocol::clap::plugin::PluginDescriptor],
) -> std::io::Result<()> {
    let m = write_library_and_manifest(install, real, dest, PluginFormat::Clap)?;
    m.cache_descriptors(descriptors);
    if m.fresh_descriptors().is_none() {
        return Err(std::io::Error::other(
            "the descriptor cache could not be written (see the log); a DAW would start a host to list this plugin",
        ));
    }
    Ok(())
}

enum Progress {
    Bar(ProgressBar),
    Plain,
}

impl Progress {
    fn new(len: usize) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(len as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            Self::Bar(bar)
        } else {
            Self::Plain
        }
    }

    fn start(&self, what: &str) {
        if let Self::Bar(b) = self {
            b.set_message(what.to_string());
        }
    }

    fn line(&self, text: &str) {
        match self {
            Self::Bar(b) => b.println(text),
            Self::Plain => println!("{text}"),
        }
    }

    fn step(&self) {
        if let Self::Bar(b) = self {
            b.inc(1);
        }
    }

    fn finish(&self) {
        if let Self::Bar(b) = self {
            b.finish_and_clear();
        }
    }
}

#[derive(Default)]
struct Summary {
    added: Vec<PathBuf>,
    updated: Vec<PathBuf>,
    unchanged: usize,
    skipped: Vec<(PathBuf, String)>,
    removed: Vec<PathBuf>,
    orphans: Vec<PathBuf>,
    /// The formats of the copies that exist after this sync.
    formats: BTreeSet<&'static str>,
}

/// # Errors
/// Not installed, no home, or a copy that cannot be written.
pub fn run(config: &Config, opts: &Options) -> Result<()> {
    let install = Install::find(config)?;
    let clap_out = layout::clap_out()?;
    let vst3_out = layout::vst3_out()?;
    let timeout = config
        .scan_timeout_ms
        .map_or(crate::scan::DEFAULT_TIMEOUT, Duration::from_millis);
    if config.directories.is_empty() {
        println!("no plugin folders configured: add some with `bulkhead add DIR`");
    }
    let exclude = [clap_out.clone(), vst3_out.clone()];
    let mut found: Vec<Found> = Vec::new();
    for dir in &config.directories {
        if !dir.is_dir() {
            eprintln!("bulkhead: {} is not a folder (skipped)", dir.display());
            continue;
        }
        found.extend(discover(dir, &exclude));
    }
    let verb = |past: &str, future: &str| {
        if opts.dry_run {
            future.to_string()
        } else {
            past.to_string()
        }
    };
    let progress = Progress::new(found.len());
    let mut summary = Summary::default();
    let mut claimed: BTreeSet<PathBuf> = BTreeSet::new();
    for f in &found {
        progress.start(&f.rel.display().to_string());
        let out = match f.format {
            PluginFormat::Clap => &clap_out,
            PluginFormat::Vst3 => &vst3_out,
        };
        let dest = out.join(&f.rel);
        let outcome = sync_one(&install, f, &dest, &mut claimed, timeout, opts.dry_run);
        if !matches!(outcome, Outcome::Skipped(_)) {
            summary.formats.insert(f.format.name());
        }
        match outcome {
            Outcome::Added => {
                progress.line(&format!(
                    "{:<10} {}",
                    verb("added", "would add"),
                    dest.display()
                ));
                summary.added.push(dest);
            }
            Outcome::Updated(why) => {
                progress.line(&format!(
                    "{:<10} {} ({why})",
                    verb("updated", "would update"),
                    dest.display()
                ));
                summary.updated.push(dest);
            }
            Outcome::Unchanged => summary.unchanged += 1,
            Outcome::Skipped(why) => {
                progress.line(&format!("{:<10} {}: {why}", "skipped", f.path.display()));
                summary.skipped.push((f.path.clone(), why));
            }
        }
        progress.step();
    }
    progress.finish();
    let mut all_orphans = orphans(&clap_out, &claimed);
    all_orphans.extend(
        crate::vst3::bundles_under(&vst3_out)
            .into_iter()
            .filter(|b| !claimed.contains(b)),
    );
    for orphan in all_orphans {
        if opts.prune && !opts.dry_run {
            if orphan.starts_with(&vst3_out) {
                std::fs::remove_dir_all(&orphan).map_err(CliError::io("cannot remove", &orphan))?;
            } else {
                remove_copy(&orphan)?;
            }
            println!("{:<10} {}", "removed", orphan.display());
            summary.removed.push(orphan);
        } else if opts.prune {
            println!("{:<10} {}", "would remove", orphan.display());
            summary.removed.push(orphan);
        } else {
            summary.orphans.push(orphan);
        }
    }
    if opts.prune && !opts.dry_run {
        remove_empty_dirs(&clap_out);
        remove_empty_dirs(&vst3_out);
    }
    print_summary(&summary, opts, &clap_out, &vst3_out);
    Ok(())
}

fn sync_one(
    install: &Install,
    f: &Found,
    dest: &Path,
    claimed: &mut BTreeSet<PathBuf>,
    timeout: Duration,
    dry_run: bool,
) -> Outcome {
    if !claimed.insert(dest.to_path_buf()) {
        return Outcome::Skipped(format!(
            "another added folder has a plugin at the same place ({}); copies keep the layout",
            f.rel.display()
        ));
    }
    // A VST3 bundle's library is what is checked (and loaded).
    let binary = manifest::plugin_binary(&f.path);
    if f.format == PluginFormat::Vst3 && !binary.is_file() {
        return Outcome::Skipped(format!(
            "not loadable: the bundle has no {}",
            binary.strip_prefix(&f.path).unwrap_or(&binary).display()
        ));
    }
    match manifest::bridged_copy_reason(&binary) {
        Ok(Some(reason)) => return Outcome::Skipped(format!("it {reason}, not a real plugin")),
        Ok(None) => {}
        Err(e) => return Outcome::Skipped(format!("cannot read it: {e}")),
    }
    let existed = dest.exists();
    let why = match f.format {
        PluginFormat::Clap => staleness(install, &f.path, dest),
        PluginFormat::Vst3 => crate::vst3::staleness(install, &f.path, dest),
    };
    if why.is_empty() {
        return Outcome::Unchanged;
    }
    // Scanned even in a dry run (the scan writes nothing), so that what
    // would be skipped is told apart from what would be added.
    let report = match scan_file(&install.host, &f.path, timeout) {
        Ok(r) => r,
        Err(e) => return Outcome::Skipped(e.to_string()),
    };
    if dry_run {
        return if existed {
            Outcome::Updated(why.join("; "))
        } else {
            Outcome::Added
        };
    }
    let written = match (f.format, &report.vst3) {
        (PluginFormat::Clap, _) => write_copy(install, &f.path, dest, &report.descriptors()),
        (PluginFormat::Vst3, Some(classes)) => {
            crate::vst3::write_bundle(install, &f.path, dest, classes)
        }
        (PluginFormat::Vst3, None) => {
            return Outcome::Skipped(
                "the scan report lists no VST3 classes (is bulkhead-host as new as bulkhead?)"
                    .into(),
            )
        }
    };
    match written {
        Ok(()) if existed => Outcome::Updated(why.join("; ")),
        Ok(()) => Outcome::Added,
        Err(e) => Outcome::Skipped(format!("cannot write its copy {}: {e}", dest.display())),
    }
}

/// Every bridged copy under `out` (a `.clap` with its manifest beside).
pub fn copies_under(out: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, acc: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_dir() {
                walk(&p, acc);
            } else if p.extension().is_some_and(|x| x == "clap")
                && std::fs::symlink_metadata(manifest::path_for(&p)).is_ok()
            {
                acc.push(p);
            }
        }
    }
    let mut acc = Vec::new();
    walk(out, &mut acc);
    acc
}

/// Copies whose real plugin is gone or no longer in an added folder.
fn orphans(out: &Path, claimed: &BTreeSet<PathBuf>) -> Vec<PathBuf> {
    copies_under(out)
        .into_iter()
        .filter(|c| !claimed.contains(c))
        .collect()
}

fn remove_copy(copy: &Path) -> Result<()> {
    std::fs::remove_file(copy).map_err(CliError::io("cannot remove", copy))?;
    let m = manifest::path_for(copy);
    match std::fs::remove_file(&m) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(CliError::io("cannot remove", &m)(e))
        }
        _ => Ok(()),
    }
}

/// Removes folders left empty under `root` (not `root` itself).
fn remove_empty_dirs(root: &Path) {
    fn walk(dir: &Path, is_root: bool) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    walk(&e.path(), false);
                }
            }
        }
        if !is_root {
            // Fails, as it should, unless empty.
            let _ = std::fs::remove_dir(dir);
        }
    }
    walk(root, true);
}

fn print_summary(s: &Summary, opts: &Options, clap_out: &Path, vst3_out: &Path) {
    let lead = if opts.dry_run {
        "bulkhead sync --dry-run (nothing written)"
    } else {
        "bulkhead sync"
    };
    let mut line = format!(
        "{lead}: {} added, {} updated, {} unchanged, {} skipped",
        s.added.len(),
        s.updated.len(),
        s.unchanged,
        s.skipped.len()
    );
    if opts.prune {
        line.push_str(&format!(", {} removed", s.removed.len()));
    }
    println!("{line}");
    if !s.skipped.is_empty() {
        println!("skipped:");
        for (p, why) in &s.skipped {
            println!("  {}: {why}", p.display());
        }
    }
    if !s.orphans.is_empty() {
        println!(
            "{} cop{} whose real plugin is gone (remove with `bulkhead sync --prune`):",
            s.orphans.len(),
            if s.orphans.len() == 1 { "y" } else { "ies" }
        );
        for o in &s.orphans {
            println!("  {}", o.display());
        }
    }
    if !opts.dry_run {
        if s.formats.contains("clap") {
            println!(
                "bridged CLAP copies are in {} (DAWs scan ~/.clap)",
                clap_out.display()
            );
        }
        if s.formats.contains("vst3") {
            println!(
                "bridged VST3 bundles are in {} (DAWs scan ~/.vst3)",
                vst3_out.display()
            );
        }
    }
}
