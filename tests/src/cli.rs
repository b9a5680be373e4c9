//! Running the built `bulkhead` tool the way a new user would: in a
//! temporary home (`HOME`, `XDG_CONFIG_HOME`, `XDG_CACHE_HOME` of its own),
//! on a folder holding every sample plugin, one that crashes while being
//! scanned, a file that is not a plugin and a VST3 bundle.

use crate::bridged::{built_artifact, scratch_dir};
use crate::error::Result;
use crate::paths::sample_plugin_path;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

/// The sample plugins put in the folder, by file name stem.
pub const CLI_SAMPLES: [(&str, &str); 6] = [
    ("Gain", "gain"),
    ("Synth", "synth"),
    ("Echo", "echo"),
    ("Latency", "latency"),
    ("Bigstate", "bigstate"),
    ("Fault", "fault"),
];

/// The fault plugin's switch that makes a file abort as soon as a plugin
/// is created from it (matched against the file name).
pub const FAULT_AT_INIT_ENV: &str = "BULKHEAD_SAMPLE_FAULT_AT_INIT";
/// The file that crashes while `sync` scans it (in a subfolder, to check
/// the layout is kept).
pub const CRASHING: &str = "more/CrashOnScan.clap";
/// A file named like a plugin that is not one.
pub const NOT_A_PLUGIN: &str = "NotAPlugin.clap";
/// A VST3 bundle (a folder) with no library in it: skipped as not
/// loadable.
pub const VST3_BUNDLE: &str = "Some.vst3";

/// The VST3 sample bundles [`CliRig::add_vst3_folder`] puts in its folder:
/// (sample, path under the folder; nested ones check the layout is kept).
pub const CLI_VST3_SAMPLES: [(&str, &str); 4] = [
    ("gain", "BulkheadGain.vst3"),
    ("instrument", "nested/deeper/BulkheadInstrument.vst3"),
    ("latency", "BulkheadLatency.vst3"),
    ("bigstate", "nested/BulkheadBigState.vst3"),
];
/// The fault sample's bundle in that folder: it crashes while being
/// scanned when `sync` runs with [`VST3_FAULT_ENV`]` = crash`.
pub const VST3_FAULTING: &str = "more/BulkheadFault.vst3";
/// The fault sample's switch, acting in `initialize` (which the scan
/// calls); inherited by the scan's host process.
pub const VST3_FAULT_ENV: &str = "BULKHEAD_VST3_FAULT_INIT";
/// A single file named like a VST3 plugin that is not one.
pub const VST3_NOT_A_PLUGIN: &str = "NotAPlugin.vst3";

/// Copies the folder `from` to `to`, file by file (every copy a file of its
/// own, modification times new).
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &dest)?;
        } else {
            std::fs::copy(e.path(), &dest)?;
        }
    }
    Ok(())
}

/// A temporary home with a plugin folder, and the `bulkhead` binary.
pub struct CliRig {
    pub root: PathBuf,
    pub home: PathBuf,
    pub config_home: PathBuf,
    pub cache_home: PathBuf,
    /// The folder given to `bulkhead add`.
    pub plugins: PathBuf,
    pub bin: PathBuf,
}

impl CliRig {
    /// A fresh home and plugin folder (every sample plugin as `Name.clap`,
    /// the crashing one, the non-plugin and the VST3 bundle).
    pub fn new(label: &str) -> Result<Self> {
        let root = scratch_dir(label);
        let rig = Self {
            home: root.join("home"),
            config_home: root.join("home/.config"),
            cache_home: root.join("home/.cache"),
            plugins: root.join("plugins"),
            bin: built_artifact("bulkhead")?,
            root,
        };
        std::fs::create_dir_all(rig.plugins.join("more")).expect("plugin folder");
        std::fs::create_dir_all(&rig.home).expect("home");
        for (stem, sample) in CLI_SAMPLES {
            std::fs::copy(
                sample_plugin_path(sample)?,
                rig.plugins.join(format!("{stem}.clap")),
            )
            .expect("copy a sample plugin");
        }
        std::fs::copy(sample_plugin_path("fault")?, rig.plugins.join(CRASHING))
            .expect("copy the crashing plugin");
        std::fs::write(rig.plugins.join(NOT_A_PLUGIN), "not an ELF file\n").expect("write");
        std::fs::create_dir_all(rig.plugins.join(VST3_BUNDLE).join("Contents"))
            .expect("vst3 bundle");
        Ok(rig)
    }

    /// [`CliRig::new`], then `install`, `add` and `sync`, each checked to
    /// succeed; the rig and `sync`'s standard output.
    pub fn synced(label: &str) -> Result<(Self, String)> {
        let rig = Self::new(label)?;
        rig.ok(&["install"]);
        rig.ok(&["add", rig.plugins.to_str().expect("utf-8 path")]);
        let out = rig.ok(&["sync"]);
        Ok((rig, out))
    }

    /// The environment every child gets (the fault plugin's crash switch
    /// names only the crashing file).
    pub fn env(&self) -> Vec<(&'static str, &Path)> {
        vec![
            ("HOME", &self.home),
            ("XDG_CONFIG_HOME", &self.config_home),
            ("XDG_CACHE_HOME", &self.cache_home),
        ]
    }

    /// A command with this rig's environment; the variables that would
    /// point bridged copies elsewhere than the installed files are removed.
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.envs(self.env())
            .env(FAULT_AT_INIT_ENV, "CrashOnScan")
            .env_remove("BULKHEAD_HOST")
            .env_remove("BULKHEAD_BRIDGE")
            .env_remove("BULKHEAD_LOG_FILE")
            .env_remove("CLAP_PATH");
        cmd
    }

    /// Runs `bulkhead args…`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(&self.bin)
            .args(args)
            .output()
            .expect("run bulkhead")
    }

    /// Runs `bulkhead args…`, panics unless it succeeds; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "bulkhead {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Gives this test process the rig's home, so bridged copies it loads
    /// find the installed bridge, the config and the descriptor cache as a
    /// DAW of this user would. Only for test files with a single test: the
    /// environment is the whole process's.
    pub fn enter(&self) {
        for (k, v) in self.env() {
            std::env::set_var(k, v);
        }
        for k in ["BULKHEAD_HOST", "BULKHEAD_BRIDGE", "CLAP_PATH"] {
            std::env::remove_var(k);
        }
    }

    /// A folder of VST3 plugins beside the CLAP one: every bundle of
    /// [`CLI_VST3_SAMPLES`], the fault sample at [`VST3_FAULTING`], the
    /// non-plugin [`VST3_NOT_A_PLUGIN`] and a text file; its path. Panics
    /// when a sample bundle cannot be assembled (not built).
    pub fn add_vst3_folder(&self) -> PathBuf {
        let dir = self.root.join("vst3-plugins");
        let copy = |sample: &str, rel: &str| {
            let bundle = crate::vst3::vst3_bundle(sample).unwrap_or_else(|e| {
                panic!("the VST3 sample {sample} (run `cargo build --workspace`): {e}")
            });
            copy_tree(&bundle, &dir.join(rel)).expect("copy a sample bundle");
        };
        for (sample, rel) in CLI_VST3_SAMPLES {
            copy(sample, rel);
        }
        copy("fault", VST3_FAULTING);
        std::fs::write(dir.join(VST3_NOT_A_PLUGIN), "not a VST3 module\n").expect("write");
        std::fs::write(dir.join("readme.txt"), "not a plugin either\n").expect("write");
        dir
    }

    /// `~/.vst3/bulkhead`, where `sync` puts bridged VST3 bundles.
    pub fn vst3_out(&self) -> PathBuf {
        self.home.join(".vst3/bulkhead")
    }

    /// `~/.clap/bulkhead`, where `sync` puts CLAP copies.
    pub fn clap_out(&self) -> PathBuf {
        self.home.join(".clap/bulkhead")
    }

    /// The config file.
    pub fn config_file(&self) -> PathBuf {
        self.config_home.join("bulkhead/config.toml")
    }

    /// Every file under the home with its modification time (copies,
    /// manifests, caches, config, installed files).
    pub fn snapshot(&self) -> BTreeMap<PathBuf, SystemTime> {
        fn walk(dir: &Path, acc: &mut BTreeMap<PathBuf, SystemTime>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                match std::fs::symlink_metadata(&p) {
                    Ok(m) if m.is_dir() => walk(&p, acc),
                    Ok(m) => {
                        acc.insert(p, m.modified().expect("mtime"));
                    }
                    Err(_) => {}
                }
            }
        }
        let mut acc = BTreeMap::new();
        walk(&self.home, &mut acc);
        acc
    }
}

/// The paths whose entry differs between two snapshots (changed, added or
/// removed).
pub fn snapshot_diff(
    a: &BTreeMap<PathBuf, SystemTime>,
    b: &BTreeMap<PathBuf, SystemTime>,
) -> Vec<PathBuf> {
    let mut keys: Vec<&PathBuf> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}
