//! `bulkhead status`: every bridged copy, its real plugin, format, group,
//! whether the copy is current and whether the real plugin still loads (in
//! a throwaway host process, like `sync`).

use crate::error::Result;
use crate::layout;
use crate::scan::scan_file;
use crate::sync::{copies_under, staleness, Install};
use bulkhead_common::config::Config;
use bulkhead_common::manifest::Manifest;
use bulkhead_common::protocol::clap::plugin::PluginDescriptor;
use bulkhead_common::protocol::vst3::types::ModuleClasses;
use bulkhead_common::scan::PluginFormat;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Serialize)]
pub struct CopyStatus {
    /// The copy: a `.clap` file, or a `.vst3` bundle (a folder).
    pub copy: PathBuf,
    /// The real plugin, as the manifest names it (`None`: the manifest is
    /// unusable; see `problems`).
    pub plugin: Option<PathBuf>,
    pub format: PluginFormat,
    /// From the config's overrides, else the manifest.
    pub group: Option<String>,
    /// The copy is the installed library, its manifest names the real
    /// plugin and the installed host, and the real plugin's descriptors are
    /// cached for its present version.
    pub current: bool,
    /// Why it is not current.
    pub problems: Vec<String>,
    /// The real plugin loads (`None`: not checked).
    pub loads: Option<bool>,
    pub load_error: Option<String>,
    /// The real plugin's descriptors, as read now (or from the cache when
    /// loading was not checked). VST3: one per processor class, its id the
    /// real class id in hex.
    pub plugins: Vec<PluginDescriptor>,
    /// VST3: the real module's factory and classes (ids are the real
    /// ones; the bridged bundle's moduleinfo.json has the bridged ones).
    pub vst3: Option<ModuleClasses>,
}

/// # Errors
/// No home.
pub fn collect(config: &Config, check_loads: bool) -> Result<Vec<CopyStatus>> {
    let install = Install::find(config).ok();
    let host = layout::scan_host(config).ok();
    let timeout = config
        .scan_timeout_ms
        .map_or(crate::scan::DEFAULT_TIMEOUT, Duration::from_millis);
    let mut out = Vec::new();
    let copies = copies_under(&layout::clap_out()?)
        .into_iter()
        .map(|c| (c, PluginFormat::Clap))
        .chain(
            crate::vst3::bundles_under(&layout::vst3_out()?)
                .into_iter()
                .map(|b| (b, PluginFormat::Vst3)),
        );
    for (copy, format) in copies {
        let library = bulkhead_common::manifest::plugin_binary(&copy);
        let manifest = Manifest::load_for(&library);
        let mut s = CopyStatus {
            copy: copy.clone(),
            plugin: None,
            format,
            group: None,
            current: false,
            problems: Vec::new(),
            loads: None,
            load_error: None,
            plugins: Vec::new(),
            vst3: None,
        };
        let m = match manifest {
            Ok(m) => m,
            Err(e) => {
                s.problems.push(e.to_string());
                out.push(s);
                continue;
            }
        };
        s.plugin = Some(m.plugin.clone());
        if !m.plugin.exists() {
            s.problems
                .push(format!("the real plugin {} is gone", m.plugin.display()));
        }
        let cached = match format {
            PluginFormat::Clap => m.fresh_descriptors(),
            PluginFormat::Vst3 => {
                s.vst3 = m.fresh_vst3_classes();
                s.vst3.as_ref().map(crate::vst3::descriptors)
            }
        };
        match &install {
            Some(i) => s.problems.extend(match format {
                PluginFormat::Clap => staleness(i, &m.plugin, &copy),
                PluginFormat::Vst3 => crate::vst3::staleness(i, &m.plugin, &copy),
            }),
            None => s.problems.push("bulkhead is not installed".into()),
        }
        s.problems.dedup();
        s.current = s.problems.is_empty();
        if check_loads {
            match &host {
                Some(h) => match scan_file(h, &m.plugin, timeout) {
                    Ok(r) => {
                        s.loads = Some(true);
                        s.plugins = r.descriptors();
                        if r.vst3.is_some() {
                            s.vst3 = r.vst3;
                        }
                    }
                    Err(e) => {
                        s.loads = Some(false);
                        s.load_error = Some(e.to_string());
                    }
                },
                None => s.load_error = Some("no bulkhead-host to try it with".into()),
            }
        }
        if s.plugins.is_empty() {
            s.plugins = cached.unwrap_or_default();
        }
        let ids: Vec<&str> = s.plugins.iter().map(|d| d.id.as_str()).collect();
        s.group = config
            .override_for(&m.plugin, &ids)
            .and_then(|o| o.group)
            .or_else(|| m.group.clone());
        out.push(s);
    }
    Ok(out)
}

pub fn print(statuses: &[CopyStatus]) {
    if statuses.is_empty() {
        println!("no bridged copies yet: run `bulkhead sync`");
        return;
    }
    for s in statuses {
        let plugin = s
            .plugin
            .as_ref()
            .map_or_else(|| "?".to_string(), |p| p.display().to_string());
        let current = if s.current { "current" } else { "stale" };
        let loads = match s.loads {
            Some(true) => "loads",
            Some(false) => "DOES NOT LOAD",
            None => "not checked",
        };
        println!("{}", s.copy.display());
        println!(
            "  {} -> {plugin}  [{}{}] {current}, {loads}",
            s.format.name(),
            s.format.name(),
            s.group
                .as_ref()
                .map(|g| format!(", group {g}"))
                .unwrap_or_default()
        );
        for p in &s.problems {
            println!("  - {p}");
        }
        if let Some(e) = &s.load_error {
            println!("  - {e}");
        }
        for d in &s.plugins {
            println!("  plugin {} ({})", d.id, d.name);
        }
    }
}
