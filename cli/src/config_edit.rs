//! Changing the config file for `add`, `rm`, `set` and `install`, keeping
//! the user's comments, order and formatting (toml_edit), and writing it
//! atomically. A file that does not parse is never overwritten.

use crate::error::{CliError, Result};
use bulkhead_common::config::{override_key_kind, ValueKind};
use std::path::{Path, PathBuf};
use toml_edit::{value, Array, DocumentMut, Item, Table};

pub struct ConfigFile {
    pub path: PathBuf,
    doc: DocumentMut,
    /// The text as read, so an unchanged file is not rewritten.
    original: String,
}

impl ConfigFile {
    /// # Errors
    /// The file cannot be read or is not valid TOML.
    pub fn open() -> Result<Self> {
        let path = bulkhead_common::config::config_path().ok_or(CliError::NoHome)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(CliError::io("cannot read config", &path)(e)),
        };
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|e| CliError::ConfigUnparsable {
                path: path.clone(),
                reason: e.message().trim().to_string(),
            })?;
        Ok(Self {
            path,
            doc,
            original: text,
        })
    }

    /// # Errors
    /// I/O failure.
    pub fn save(&self) -> Result<()> {
        let text = self.doc.to_string();
        if text == self.original {
            return Ok(());
        }
        let dir = self.path.parent().unwrap_or(Path::new("/"));
        std::fs::create_dir_all(dir).map_err(CliError::io("cannot create", dir))?;
        let tmp = self
            .path
            .with_extension(format!("toml.tmp{}", std::process::id()));
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(CliError::io("cannot write config", &self.path))
    }

    fn directories(&mut self) -> &mut Array {
        let item = self.doc.entry("directories").or_insert(value(Array::new()));
        if !item.is_array() {
            *item = value(Array::new());
        }
        item.as_array_mut().expect("just made an array")
    }

    /// Adds `dir` unless present; whether it was added.
    pub fn add_directory(&mut self, dir: &Path) -> bool {
        let s = dir.to_string_lossy().into_owned();
        let dirs = self.directories();
        if dirs.iter().any(|v| v.as_str() == Some(&s)) {
            return false;
        }
        dirs.push(s);
        true
    }

    /// Removes every entry naming `dir` (as given or canonical); how many.
    pub fn remove_directory(&mut self, given: &Path) -> usize {
        let canonical = std::fs::canonicalize(given).ok();
        let absolute = std::path::absolute(given).ok();
        let dirs = self.directories();
        let before = dirs.len();
        dirs.retain(|v| {
            let Some(s) = v.as_str() else { return true };
            let p = Path::new(s);
            !(p == given || Some(p) == absolute.as_deref() || Some(p) == canonical.as_deref())
        });
        before - dirs.len()
    }

    pub fn set_prefix(&mut self, prefix: Option<&Path>) {
        match prefix {
            Some(p) => self.doc["prefix"] = value(p.to_string_lossy().into_owned()),
            None => {
                self.doc.remove("prefix");
            }
        }
    }

    fn plugins(&mut self) -> &mut Table {
        let item = self.doc.entry("plugins").or_insert_with(|| {
            let mut t = Table::new();
            // Only the `[plugins."PATTERN"]` headers show.
            t.set_implicit(true);
            Item::Table(t)
        });
        if !item.is_table() {
            let mut t = Table::new();
            t.set_implicit(true);
            *item = Item::Table(t);
        }
        item.as_table_mut().expect("just made a table")
    }

    /// Sets `key = raw` in `[plugins."pattern"]`, checking the key and the
    /// value's type; an empty `raw` removes the key.
    ///
    /// # Errors
    /// Unknown key or a value of the wrong kind.
    pub fn set(&mut self, pattern: &str, key: &str, raw: &str) -> Result<()> {
        let kind = override_key_kind(key).ok_or_else(|| {
            let known: Vec<&str> = bulkhead_common::config::OVERRIDE_KEYS
                .iter()
                .map(|(k, _)| *k)
                .collect();
            CliError::Usage(format!(
                "unknown setting {key:?}; known: {}",
                known.join(", ")
            ))
        })?;
        let plugins = self.plugins();
        let table = plugins
            .entry(pattern)
            .or_insert_with(|| Item::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| CliError::Usage(format!("plugins.{pattern:?} is not a table")))?;
        if raw.is_empty() {
            table.remove(key);
            return Ok(());
        }
        let bad = || CliError::Usage(format!("{key} must be {kind}, not {raw:?}"));
        let v = match kind {
            ValueKind::Bool => value(raw.parse::<bool>().map_err(|_| bad())?),
            ValueKind::Int(lo, hi) => {
                let n: u64 = raw.replace('_', "").parse().map_err(|_| bad())?;
                if !(lo..=hi).contains(&n) {
                    return Err(bad());
                }
                value(i64::try_from(n).map_err(|_| bad())?)
            }
            ValueKind::Str => value(raw),
        };
        table.insert(key, v);
        Ok(())
    }

    /// Removes `[plugins."pattern"]`; whether it was there.
    pub fn reset(&mut self, pattern: &str) -> bool {
        self.plugins().remove(pattern).is_some()
    }
}
