//! Loading `.clap` files and reading their plugin factory.

use crate::error::{Result, TestHostError};
use crate::host::HostConfig;
use crate::instance::Instance;
use clack_host::prelude::PluginEntry;
use clap_sys::entry::clap_plugin_entry;
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

/// A plugin descriptor read from the factory (owned copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// Plugin id, e.g. `org.bulkhead.sample.gain`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Vendor (empty if absent).
    pub vendor: String,
    /// Version string (empty if absent).
    pub version: String,
    /// Description (empty if absent).
    pub description: String,
    /// URL (empty if absent).
    pub url: String,
    /// Feature strings, in order.
    pub features: Vec<String>,
}

/// A loaded `.clap` library (the entry is initialised on load and deinitialised on last drop).
#[derive(Clone)]
pub struct PluginLibrary {
    entry: PluginEntry,
    path: PathBuf,
}

fn cstr(s: Option<&CStr>) -> String {
    s.map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl PluginLibrary {
    /// Loads a `.clap` file (any dynamic library exporting `clap_entry`).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            return Err(TestHostError::PluginFileMissing { path });
        }
        // SAFETY: loading a dynamic library runs its initialisers; the whole point of the test host
        // is to load the plugin under test, which we trust to be a CLAP library.
        let entry = unsafe { PluginEntry::load(&path) }.map_err(|e| TestHostError::LoadFailed {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if entry.get_plugin_factory().is_none() {
            return Err(TestHostError::NoPluginFactory { path });
        }
        Ok(Self { entry, path })
    }

    /// Uses an in-process, statically linked CLAP entry instead of a file (`label` is passed to
    /// the entry's `init` as its path).
    ///
    /// # Safety
    ///
    /// `entry` must be a valid, spec-compliant CLAP entry.
    pub unsafe fn from_static_entry(
        entry: &'static clap_plugin_entry,
        label: &str,
    ) -> Result<Self> {
        let path = PathBuf::from(label);
        let label_c = CString::new(label)
            .map_err(|_| TestHostError::InvalidArgument("label contains a NUL byte".into()))?;
        // SAFETY: the caller guarantees the entry is valid.
        let entry = unsafe { PluginEntry::load_from_raw(entry, &label_c) }.map_err(|e| {
            TestHostError::LoadFailed {
                path: path.clone(),
                reason: e.to_string(),
            }
        })?;
        if entry.get_plugin_factory().is_none() {
            return Err(TestHostError::NoPluginFactory { path });
        }
        Ok(Self { entry, path })
    }

    /// The path the library was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All descriptors exposed by the plugin factory.
    pub fn descriptors(&self) -> Vec<Descriptor> {
        let Some(factory) = self.entry.get_plugin_factory() else {
            return Vec::new();
        };
        factory
            .plugin_descriptors()
            .map(|d| Descriptor {
                id: cstr(d.id()),
                name: cstr(d.name()),
                vendor: cstr(d.vendor()),
                version: cstr(d.version()),
                description: cstr(d.description()),
                url: cstr(d.url()),
                features: d
                    .features()
                    .map(|f| f.to_string_lossy().into_owned())
                    .collect(),
            })
            .collect()
    }

    /// The descriptor with the given id, if any.
    pub fn descriptor(&self, id: &str) -> Option<Descriptor> {
        self.descriptors().into_iter().find(|d| d.id == id)
    }

    /// Shorthand for [`Instance::new`].
    pub fn instantiate(&self, plugin_id: &str, config: HostConfig) -> Result<Instance> {
        Instance::new(self, plugin_id, config)
    }

    pub(crate) fn entry(&self) -> &PluginEntry {
        &self.entry
    }
}

impl std::fmt::Debug for PluginLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginLibrary")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}
