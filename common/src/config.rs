//! The user's configuration, `$XDG_CONFIG_HOME/bulkhead/config.toml`
//! (default `~/.config/bulkhead/config.toml`), shared by the `bulkhead`
//! command-line tool (which writes it) and the bridge (which reads it each
//! time a bridged copy loads, and applies the matching overrides on top of
//! the copy's manifest).
//!
//! ```toml
//! directories = ["/home/me/plugins/clap"]
//! prefix = "/home/me/.local/share/bulkhead"   # set by `bulkhead install --prefix`
//! scan_timeout_ms = 20000
//!
//! [plugins."*Fault*"]            # glob on the real plugin's path, file name or id
//! main_timeout_ms = 500
//! group = "flaky"
//! ```
//!
//! Overrides apply in file order, a later match winning key by key.
//!
//! **A bad file never stops a plugin.** A file that does not parse is
//! reported (file, line, problem) and ignored whole; a key with a wrong
//! type or value is reported (file, line, key, problem) and ignored, its
//! default used; an unknown key is a warning. Nothing here panics or fails:
//! [`Config::load`] always returns a configuration.

use crate::manifest::{Manifest, Policy};
use std::fmt;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The file name under the config directory.
pub const FILE_NAME: &str = "config.toml";
/// A config file larger than this is not read (a real one is a few KiB).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// `$XDG_CONFIG_HOME/bulkhead`, else `$HOME/.config/bulkhead` (relative
/// values are ignored, as the XDG specification asks).
pub fn config_dir() -> Option<PathBuf> {
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    std::env::var_os("XDG_CONFIG_HOME")
        .and_then(absolute)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(absolute)
                .map(|h| h.join(".config"))
        })
        .map(|d| d.join("bulkhead"))
}

/// The config file's path (whether or not it exists).
pub fn config_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join(FILE_NAME))
}

/// Policy fields an override may set; `None` keeps the manifest's value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyOverride {
    pub restart: Option<bool>,
    pub max_crashes: Option<u32>,
    pub crash_window_ms: Option<u64>,
    pub main_timeout_ms: Option<u64>,
    pub slow_timeout_ms: Option<u64>,
    pub audio_timeout_ms: Option<u64>,
    pub hang_timeout_ms: Option<u64>,
    pub state_refresh_ms: Option<u64>,
    pub socket_sync: Option<bool>,
    pub early_wake: Option<bool>,
    pub spare_host: Option<bool>,
}

/// Calls macro `$m` with every policy field an override may set: the one
/// list `apply` and `merge` share.
macro_rules! policy_fields {
    ($m:ident) => {
        $m!(
            restart,
            max_crashes,
            crash_window_ms,
            main_timeout_ms,
            slow_timeout_ms,
            audio_timeout_ms,
            hang_timeout_ms,
            state_refresh_ms,
            socket_sync,
            early_wake,
            spare_host
        )
    };
}

impl PolicyOverride {
    /// Sets every field this override names.
    pub fn apply(&self, p: &mut Policy) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { p.$f = v; } )* };
        }
        policy_fields!(set);
    }

    fn merge(&mut self, later: &Self) {
        macro_rules! merge {
            ($($f:ident),*) => { $( if later.$f.is_some() { self.$f = later.$f; } )* };
        }
        policy_fields!(merge);
    }
}

/// One `[plugins."PATTERN"]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Override {
    /// The glob (see [`glob_match`]).
    pub pattern: String,
    pub policy: PolicyOverride,
    /// Instances of plugins in one group share a host process (over the
    /// manifest's `group`).
    pub group: Option<String>,
    /// A `BULKHEAD_LOG` filter for this plugin's host processes.
    pub log: Option<String>,
    /// The realtime priority (1..=99) of this plugin's host audio thread.
    pub realtime_priority: Option<u32>,
}

impl Override {
    fn merge(&mut self, later: &Self) {
        self.policy.merge(&later.policy);
        if later.group.is_some() {
            self.group.clone_from(&later.group);
        }
        if later.log.is_some() {
            self.log.clone_from(&later.log);
        }
        if later.realtime_priority.is_some() {
            self.realtime_priority = later.realtime_priority;
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Directories whose plugins `bulkhead sync` bridges.
    pub directories: Vec<PathBuf>,
    /// Where `bulkhead install` put the bridge, shim and host.
    pub prefix: Option<PathBuf>,
    /// How long `bulkhead` lets one plugin file's scan take.
    pub scan_timeout_ms: Option<u64>,
    /// Per-plugin overrides, in file order.
    pub plugins: Vec<Override>,
}

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The key (or the whole file) is ignored; defaults are used.
    Error,
    /// Probably a typo; the key is ignored.
    Warning,
}

/// One thing wrong with the config file, worded for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub file: PathBuf,
    /// 1-based; `None` when the problem is not at one place (unreadable).
    pub line: Option<usize>,
    /// The dotted key, e.g. `plugins."*Gain*".main_timeout_ms`.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{what}: config {}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ", key {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A configuration with what was wrong with its file.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub config: Config,
    pub problems: Vec<Problem>,
    /// The file read (`None` when neither `XDG_CONFIG_HOME` nor `HOME` is
    /// set).
    pub path: Option<PathBuf>,
}

impl Config {
    /// Reads the user's config file. A missing file is the default
    /// configuration with no problems.
    pub fn load() -> Loaded {
        let Some(path) = config_path() else {
            return Loaded::default();
        };
        let mut loaded = Self::load_from(&path);
        loaded.path = Some(path);
        loaded
    }

    /// Reads the config file at `path`.
    pub fn load_from(path: &Path) -> Loaded {
        let unreadable = |message: String| Loaded {
            config: Config::default(),
            problems: vec![Problem {
                severity: Severity::Error,
                file: path.to_path_buf(),
                line: None,
                key: None,
                message,
            }],
            path: Some(path.to_path_buf()),
        };
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Loaded {
                    path: Some(path.to_path_buf()),
                    ..Loaded::default()
                }
            }
            Err(e) => return unreadable(format!("cannot read it ({e}); using the defaults")),
            Ok(m) if !m.is_file() => {
                return unreadable("not a regular file; using the defaults".into())
            }
            Ok(m) if m.len() > MAX_CONFIG_BYTES => {
                return unreadable(format!(
                "{} bytes, more than a config file may be ({MAX_CONFIG_BYTES}); using the defaults",
                m.len()
            ))
            }
            Ok(_) => {}
        }
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let (config, problems) = Self::parse(&text, path);
                Loaded {
                    config,
                    problems,
                    path: Some(path.to_path_buf()),
                }
            }
            Err(e) => unreadable(format!("cannot read it ({e}); using the defaults")),
        }
    }

    /// [`Config::load`], with every problem logged (errors as errors,
    /// unknown keys as warnings). What the bridge calls.
    pub fn load_logged() -> Config {
        let loaded = Self::load();
        for p in &loaded.problems {
            match p.severity {
                Severity::Error => tracing::error!("bulkhead: {p}"),
                Severity::Warning => tracing::warn!("bulkhead: {p}"),
            }
        }
        loaded.config
    }

    /// Parses a config file's text; `file` names it in problems.
    pub fn parse(text: &str, file: &Path) -> (Config, Vec<Problem>) {
        let mut cx = Cx {
            text,
            file,
            problems: Vec::new(),
        };
        let table = match DeTable::parse(text) {
            Ok(t) => t.into_inner(),
            Err(e) => {
                let line = e.span().map(|s| cx.line_of(s.start));
                cx.problems.push(Problem {
                    severity: Severity::Error,
                    file: file.to_path_buf(),
                    line,
                    key: None,
                    message: format!(
                        "not valid TOML: {}; the whole file is ignored and the defaults used",
                        e.message().trim()
                    ),
                });
                return (Config::default(), cx.problems);
            }
        };
        let mut config = Config::default();
        for (key, value) in &table {
            let name = key.get_ref().as_ref();
            match name {
                "directories" => {
                    if let Some(items) = cx.array(name, value) {
                        for item in items {
                            if let Some(s) = cx.string(name, item) {
                                config.directories.push(PathBuf::from(s));
                            }
                        }
                    }
                }
                "prefix" => config.prefix = cx.string(name, value).map(PathBuf::from),
                "scan_timeout_ms" => config.scan_timeout_ms = cx.int(name, value, 1, 3_600_000),
                "plugins" => {
                    let DeValue::Table(plugins) = value.get_ref() else {
                        cx.error(
                            value,
                            name,
                            "must be a table of [plugins.\"PATTERN\"] tables; ignored",
                        );
                        continue;
                    };
                    for (pattern, settings) in plugins {
                        let pattern = pattern.get_ref().to_string();
                        if let Some(o) = cx.plugin_override(&pattern, settings) {
                            config.plugins.push(o);
                        }
                    }
                }
                _ => cx.warning(key, name, "unknown key; ignored"),
            }
        }
        (config, cx.problems)
    }

    /// The merged override of every `[plugins."PATTERN"]` matching the real
    /// plugin `plugin` (its path as the manifest names it, its canonical
    /// path, or its file name) or one of `ids`; `None` if none matches.
    pub fn override_for(&self, plugin: &Path, ids: &[&str]) -> Option<Override> {
        let mut names: Vec<String> = vec![plugin.to_string_lossy().into_owned()];
        if let Ok(c) = std::fs::canonicalize(plugin) {
            names.push(c.to_string_lossy().into_owned());
        }
        if let Some(f) = plugin.file_name() {
            names.push(f.to_string_lossy().into_owned());
        }
        names.extend(ids.iter().map(|s| s.to_string()));
        let mut merged: Option<Override> = None;
        for o in &self.plugins {
            if names.iter().any(|n| glob_match(&o.pattern, n)) {
                match &mut merged {
                    Some(m) => m.merge(o),
                    None => {
                        merged = Some(Override {
                            pattern: o.pattern.clone(),
                            ..Override::default()
                        });
                        if let Some(m) = &mut merged {
                            m.merge(o);
                        }
                    }
                }
            }
        }
        merged
    }

    /// Applies the override matching `manifest`'s plugin (or one of `ids`)
    /// to the manifest's policy and group, repairing values out of range.
    /// Returns the override applied, for what is not a manifest field (log
    /// level, realtime priority: the host applies those itself).
    pub fn apply_to(&self, manifest: &mut Manifest, ids: &[&str]) -> Option<Override> {
        let o = self.override_for(&manifest.plugin, ids)?;
        o.policy.apply(&mut manifest.policy);
        if o.group.is_some() {
            manifest.group.clone_from(&o.group);
        }
        for problem in manifest.policy.repair() {
            tracing::warn!("config override {:?}: {problem}", o.pattern);
        }
        tracing::info!(plugin = %manifest.plugin.display(), pattern = %o.pattern, "config override applied");
        Some(o)
    }
}

/// Every key a `[plugins."PATTERN"]` table may hold, with the kind of its
/// value; the command-line tool's `set` checks against this.
pub const OVERRIDE_KEYS: &[(&str, ValueKind)] = &[
    ("restart", ValueKind::Bool),
    ("max_crashes", ValueKind::Int(1, 1_000)),
    ("crash_window_ms", ValueKind::Int(1, 86_400_000)),
    ("main_timeout_ms", ValueKind::Int(1, 3_600_000)),
    ("slow_timeout_ms", ValueKind::Int(1, 86_400_000)),
    ("audio_timeout_ms", ValueKind::Int(1, 60_000)),
    ("hang_timeout_ms", ValueKind::Int(1, 3_600_000)),
    ("state_refresh_ms", ValueKind::Int(0, 86_400_000)),
    ("socket_sync", ValueKind::Bool),
    ("early_wake", ValueKind::Bool),
    ("spare_host", ValueKind::Bool),
    ("group", ValueKind::Str),
    ("log", ValueKind::Str),
    ("realtime_priority", ValueKind::Int(1, 99)),
];

/// The type (and range, for integers) of a config value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Bool,
    Int(u64, u64),
    Str,
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool => f.write_str("true or false"),
            Self::Int(lo, hi) => write!(f, "an integer in {lo}..={hi}"),
            Self::Str => f.write_str("a string"),
        }
    }
}

/// The kind of the override key `key`, if it is one.
pub fn override_key_kind(key: &str) -> Option<ValueKind> {
    OVERRIDE_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, kind)| *kind)
}

struct Cx<'a> {
    text: &'a str,
    file: &'a Path,
    problems: Vec<Problem>,
}

type Value<'i> = Spanned<DeValue<'i>>;

fn kind_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl Cx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn push<T>(&mut self, severity: Severity, at: &Spanned<T>, key: &str, message: String) {
        self.problems.push(Problem {
            severity,
            file: self.file.to_path_buf(),
            line: Some(self.line_of(at.span().start)),
            key: Some(key.to_string()),
            message,
        });
    }

    fn error<T>(&mut self, at: &Spanned<T>, key: &str, message: &str) {
        self.push(Severity::Error, at, key, message.to_string());
    }

    fn warning<T>(&mut self, at: &Spanned<T>, key: &str, message: &str) {
        self.push(Severity::Warning, at, key, message.to_string());
    }

    fn wrong_type(&mut self, v: &Value<'_>, key: &str, expected: &str) {
        let found = kind_name(v.get_ref());
        self.push(
            Severity::Error,
            v,
            key,
            format!("expected {expected}, found {found}; using the default"),
        );
    }

    fn array<'v, 'i>(&mut self, key: &str, v: &'v Value<'i>) -> Option<&'v [Value<'i>]> {
        match v.get_ref() {
            DeValue::Array(a) => Some(&a[..]),
            _ => {
                self.wrong_type(v, key, "an array");
                None
            }
        }
    }

    fn string(&mut self, key: &str, v: &Value<'_>) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong_type(v, key, "a string");
                None
            }
        }
    }

    fn bool(&mut self, key: &str, v: &Value<'_>) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(v, key, "true or false");
                None
            }
        }
    }

    fn int(&mut self, key: &str, v: &Value<'_>, lo: u64, hi: u64) -> Option<u64> {
        let DeValue::Integer(i) = v.get_ref() else {
            self.wrong_type(v, key, &format!("an integer in {lo}..={hi}"));
            return None;
        };
        let digits = i.as_str().replace('_', "");
        match u64::from_str_radix(&digits, i.radix()) {
            Ok(n) if (lo..=hi).contains(&n) => Some(n),
            _ => {
                self.push(
                    Severity::Error,
                    v,
                    key,
                    format!("{i} is outside {lo}..={hi}; using the default"),
                );
                None
            }
        }
    }

    fn plugin_override(&mut self, pattern: &str, settings: &Value<'_>) -> Option<Override> {
        let base = format!("plugins.{pattern:?}");
        let DeValue::Table(table) = settings.get_ref() else {
            self.wrong_type(settings, &base, "a table");
            return None;
        };
        let mut o = Override {
            pattern: pattern.to_string(),
            ..Override::default()
        };
        for (key, v) in table {
            let name = key.get_ref().as_ref();
            let full = format!("{base}.{name}");
            let Some(kind) = override_key_kind(name) else {
                self.warning(key, &full, "unknown key; ignored");
                continue;
            };
            let p = &mut o.policy;
            match (name, kind) {
                (_, ValueKind::Bool) => {
                    let b = self.bool(&full, v);
                    match name {
                        "restart" => p.restart = b,
                        "socket_sync" => p.socket_sync = b,
                        "spare_host" => p.spare_host = b,
                        _ => p.early_wake = b,
                    }
                }
                ("group", _) => o.group = self.string(&full, v),
                ("log", _) => o.log = self.string(&full, v),
                (_, ValueKind::Int(lo, hi)) => {
                    let n = self.int(&full, v, lo, hi);
                    match name {
                        "max_crashes" => p.max_crashes = n.map(|n| n as u32),
                        "crash_window_ms" => p.crash_window_ms = n,
                        "main_timeout_ms" => p.main_timeout_ms = n,
                        "slow_timeout_ms" => p.slow_timeout_ms = n,
                        "audio_timeout_ms" => p.audio_timeout_ms = n,
                        "hang_timeout_ms" => p.hang_timeout_ms = n,
                        "state_refresh_ms" => p.state_refresh_ms = n,
                        _ => o.realtime_priority = n.map(|n| n as u32),
                    }
                }
                (_, ValueKind::Str) => {}
            }
        }
        Some(o)
    }
}

/// Shell-style glob match of `pattern` against the whole of `text`: `*`
/// is any run of characters (`/` included, so `*Surge*` matches a full
/// path), `?` one character, `[abc]`/`[a-z]`/`[!a]` one character of a
/// set; `\` quotes the next character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative with one backtrack point (the last `*`): linear-ish, no
    // recursion blow-up on patterns like `*a*a*a*b`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class(&p, pi, t[ti]) {
                        if matched {
                            pi = next;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() && p[pi + 1] == t[ti] => {
                    pi += 2;
                    ti += 1;
                    continue;
                }
                '\\' if pi + 1 < p.len() => {}
                c if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class opening at `p[at] == '['`: whether it
/// matched and the index after the class; `None` for an unclosed class.
fn class(p: &[char], at: usize, c: char) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if (p[i]..=p[i + 2]).contains(&c) {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*Gain*", "/home/x/Gain.clap"));
        assert!(glob_match("*.clap", "/a/b.clap"));
        assert!(!glob_match("*.clap", "/a/b.clap.json"));
        assert!(glob_match(
            "org.bulkhead.sample.?ain",
            "org.bulkhead.sample.gain"
        ));
        assert!(glob_match("[GS]*", "Synth.clap"));
        assert!(!glob_match("[!GS]*", "Synth.clap"));
        assert!(glob_match("a\\*b", "a*b"));
        assert!(!glob_match("a\\*b", "axb"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaab"));
        assert!(!glob_match("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaa"));
    }

    #[test]
    fn a_good_file_parses_and_merges_in_order() {
        let text = r#"
directories = ["/a", "/b"]
scan_timeout_ms = 5_000

[plugins."*Gain*"]
main_timeout_ms = 500
group = "g1"

[plugins."org.bulkhead.*"]
main_timeout_ms = 700
restart = false
"#;
        let (c, problems) = Config::parse(text, Path::new("/c.toml"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(c.directories, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(c.scan_timeout_ms, Some(5000));
        let o = c
            .override_for(Path::new("/x/Gain.clap"), &["org.bulkhead.sample.gain"])
            .unwrap();
        assert_eq!(o.policy.main_timeout_ms, Some(700));
        assert_eq!(o.policy.restart, Some(false));
        assert_eq!(o.group.as_deref(), Some("g1"));
        assert!(c.override_for(Path::new("/x/Synth.clap"), &[]).is_none());
        let mut m = Manifest::new("/x/Gain.clap".into());
        c.apply_to(&mut m, &[]);
        assert_eq!(m.policy.main_timeout_ms, 500);
        assert_eq!(m.group.as_deref(), Some("g1"));
    }

    #[test]
    fn problems_name_line_and_key() {
        let text = "directories = [\"/a\"]\nbogus = 1\n[plugins.\"*\"]\nmain_timeout_ms = \"fast\"\nrestrat = true\naudio_timeout_ms = 0\nhang_timeout_ms = 300\n";
        let (c, problems) = Config::parse(text, Path::new("/c.toml"));
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 4, "{shown:?}");
        assert_eq!(
            shown[0],
            "warning: config /c.toml line 2, key bogus: unknown key; ignored"
        );
        assert_eq!(
            shown[1],
            "error: config /c.toml line 4, key plugins.\"*\".main_timeout_ms: expected an integer in 1..=3600000, found a string; using the default"
        );
        assert_eq!(problems[2].line, Some(5));
        assert_eq!(problems[2].severity, Severity::Warning);
        assert_eq!(problems[3].line, Some(6));
        assert_eq!(c.plugins[0].policy.hang_timeout_ms, Some(300));
        assert_eq!(c.plugins[0].policy.main_timeout_ms, None);
    }

    #[test]
    fn a_file_that_is_not_toml_is_ignored_with_its_line() {
        let (c, problems) = Config::parse("a = 1\n[plugins\nx = 2\n", Path::new("/c.toml"));
        assert_eq!(c, Config::default());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(2), "{}", problems[0]);
        assert!(problems[0].to_string().contains("not valid TOML"));
    }
}
