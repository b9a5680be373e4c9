//! The manifest beside a bridged copy: `Foo.clap` (a copy of the bridge
//! library, or of the small shim) and `Foo.clap.bulkhead.json` naming the
//! real plugin.
//!
//! ```json
//! { "format": 1, "plugin": "/usr/lib/clap/Foo.clap", "host": null }
//! ```
//! `plugin` names the real `.clap` file. `host` optionally names the
//! `bulkhead-host` binary to run. `policy` sets restart and timeout
//! behaviour ([`Policy`]; unknown keys there are errors). Other keys are
//! ignored, among them `cache`, which older bridges wrote here.
//!
//! **The manifest is the user's.** The bridge reads it (at most
//! [`MAX_MANIFEST_BYTES`], so a symlinked, read-only or write-protected
//! manifest works) and never writes it: keys, formatting, relative paths and
//! symlinks stay as the user left them. The real plugin's descriptors are
//! cached apart, under `$XDG_CACHE_HOME/bulkhead/` (see [`cache_dir`]).
//!
//! **Relative paths.** A relative `plugin` or `host` is resolved against
//! the directory of the manifest *as the DAW named it* (the bridged copy's
//! directory), not against the target of a symlinked manifest and never
//! against the process's working directory: a folder of copies and plugins
//! can move as a whole, and a manifest symlinked in from elsewhere means
//! what it says where it is used.
//!
//! **No recursion.** A manifest whose `plugin` is a bridged copy (the copy
//! itself, a file with a manifest of its own beside it, or any library that
//! carries the bridge's marker, shim copies included) is refused with
//! [`ManifestError::NamesBridgedCopy`] before any host process starts; the
//! host refuses to load such a file as well.

mod cache;

pub use cache::{cache_dir, cache_file_for};

use crate::protocol::clap::plugin::PluginDescriptor;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The format this bulkhead writes. Version 2 added `group`; version 1
/// manifests are still read.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format still read.
pub const OLDEST_FORMAT: u32 = 1;
pub const SUFFIX: &str = ".bulkhead.json";
/// A manifest larger than this is refused unread (a real one is a few
/// hundred bytes).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("no bulkhead manifest at {0}")]
    Missing(PathBuf),
    #[error("cannot read manifest {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("manifest {0} is malformed: {1}")]
    Malformed(PathBuf, String),
    #[error("manifest {path} has format {found}, this bulkhead reads formats {OLDEST_FORMAT} to {FORMAT_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error(
        "manifest {path} is {size} bytes, more than a manifest may be \
         ({MAX_MANIFEST_BYTES} bytes); it was not read"
    )]
    TooLarge { path: PathBuf, size: u64 },
    #[error(
        "manifest {path} names {plugin}, which {reason}; a manifest must name \
         the real plugin, not a bridged copy"
    )]
    NamesBridgedCopy {
        path: PathBuf,
        plugin: PathBuf,
        reason: BridgedCopy,
    },
}

/// Why a file is taken for a bridged copy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BridgedCopy {
    #[error("is this bridged copy itself")]
    Itself,
    #[error("is a bridged copy (its manifest {0} is beside it)")]
    HasManifest(PathBuf),
    #[error("is a bulkhead bridge or shim library")]
    BridgeLibrary,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// After [`Manifest::load_for`]: absolute (resolved against the
    /// manifest's directory).
    pub plugin: PathBuf,
    /// After [`Manifest::load_for`]: absolute, like `plugin`.
    #[serde(default)]
    pub host: Option<PathBuf>,
    /// Written only when set, so that a manifest made by tools keeps
    /// following the defaults.
    #[serde(default, skip_serializing_if = "Policy::is_default")]
    pub policy: Policy,
    /// Instances whose manifests name the same group share one host
    /// process (within one DAW process and bridge library); without one,
    /// each instance gets its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The real plugin file as it was when the manifest was loaded (`None`
    /// when it could not be read; the host then reports why). Never part of
    /// the manifest file.
    #[serde(skip)]
    pub plugin_file: Option<PluginFile>,
}

/// How the bridge watches and restarts this plugin's host processes. Every
/// field is optional in the manifest; missing ones take these defaults.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Restart a crashed or hung host (else the plugin stays silent).
    pub restart: bool,
    /// This many crashes within `crash_window_ms` mark the plugin failed.
    pub max_crashes: u32,
    pub crash_window_ms: u64,
    /// Ordinary main-thread calls.
    pub main_timeout_ms: u64,
    /// Creation, activation and state transfer.
    pub slow_timeout_ms: u64,
    /// One audio block; a late block is output as silence. While the DAW
    /// renders offline (`clap_plugin_render`), `slow_timeout_ms` applies.
    pub audio_timeout_ms: u64,
    /// A host whose audio thread makes no progress this long is hung.
    pub hang_timeout_ms: u64,
    /// How often the state is saved in the background (0: never).
    pub state_refresh_ms: u64,
    /// Hand blocks over with a socket round trip instead of the futex
    /// (slower; for comparison in benchmarks).
    pub socket_sync: bool,
    /// The host wakes shortly before each block is due (spinning a few
    /// microseconds) instead of being woken by the bridge.
    pub early_wake: bool,
    /// Keep one spare host process started ahead of need, so a restart
    /// does not wait for one to start (one idle process per plugin or
    /// group: off unless asked for).
    pub spare_host: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            restart: true,
            max_crashes: 3,
            crash_window_ms: 60_000,
            main_timeout_ms: 10_000,
            slow_timeout_ms: 60_000,
            audio_timeout_ms: 1_000,
            hang_timeout_ms: 2_000,
            state_refresh_ms: 10_000,
            socket_sync: false,
            early_wake: false,
            spare_host: false,
        }
    }
}

impl Policy {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    pub fn ms(v: u64) -> std::time::Duration {
        std::time::Duration::from_millis(v)
    }

    /// Checks every field against its sane range; a value outside it (a
    /// zero audio deadline, a timeout that would overflow a clock) is
    /// replaced by the default. Returns one message per repaired field,
    /// naming the field, the value and what is used instead.
    pub fn repair(&mut self) -> Vec<String> {
        const DAY_MS: u64 = 86_400_000;
        let d = Self::default();
        let mut problems = Vec::new();
        let mut check =
            |name: &str, value: &mut u64, range: std::ops::RangeInclusive<u64>, default: u64| {
                if !range.contains(value) {
                    problems.push(format!(
                        "policy.{name} = {value} is outside {}..={}; using the default {default}",
                        range.start(),
                        range.end()
                    ));
                    *value = default;
                }
            };
        check(
            "crash_window_ms",
            &mut self.crash_window_ms,
            1..=DAY_MS,
            d.crash_window_ms,
        );
        check(
            "main_timeout_ms",
            &mut self.main_timeout_ms,
            1..=3_600_000,
            d.main_timeout_ms,
        );
        check(
            "slow_timeout_ms",
            &mut self.slow_timeout_ms,
            1..=DAY_MS,
            d.slow_timeout_ms,
        );
        check(
            "audio_timeout_ms",
            &mut self.audio_timeout_ms,
            1..=60_000,
            d.audio_timeout_ms,
        );
        check(
            "hang_timeout_ms",
            &mut self.hang_timeout_ms,
            1..=3_600_000,
            d.hang_timeout_ms,
        );
        if self.state_refresh_ms != 0 {
            check(
                "state_refresh_ms",
                &mut self.state_refresh_ms,
                100..=DAY_MS,
                d.state_refresh_ms,
            );
        }
        let mut crashes = u64::from(self.max_crashes);
        check(
            "max_crashes",
            &mut crashes,
            1..=1_000,
            u64::from(d.max_crashes),
        );
        self.max_crashes = crashes as u32;
        problems
    }
}

/// The format of the real plugin at `plugin`, from its name.
pub fn plugin_format(plugin: &Path) -> crate::scan::PluginFormat {
    if plugin.extension().is_some_and(|e| e == "vst3") {
        crate::scan::PluginFormat::Vst3
    } else {
        crate::scan::PluginFormat::Clap
    }
}

/// The library of a plugin: the file itself for CLAP, the bundle's
/// library for a VST3 bundle (a directory; a single-file `.vst3` is its own
/// library).
pub fn plugin_binary(plugin: &Path) -> PathBuf {
    if plugin_format(plugin) == crate::scan::PluginFormat::Vst3 && plugin.is_dir() {
        bundle_library(plugin)
    } else {
        plugin.to_path_buf()
    }
}

/// A VST3 bundle's architecture folder for this machine (`x86_64-linux`,
/// `aarch64-linux`, ...).
pub fn arch_folder() -> String {
    format!("{}-linux", std::env::consts::ARCH)
}

/// Where the library of the VST3 bundle `bundle` lives:
/// `Foo.vst3/Contents/<arch>-linux/Foo.so`.
pub fn bundle_library(bundle: &Path) -> PathBuf {
    let mut name = bundle.file_stem().unwrap_or_default().to_os_string();
    name.push(".so");
    bundle.join("Contents").join(arch_folder()).join(name)
}

/// Where the manifest of the bridged copy at `copy` lives.
pub fn path_for(copy: &Path) -> PathBuf {
    let mut name = copy.file_name().unwrap_or_default().to_os_string();
    name.push(SUFFIX);
    copy.with_file_name(name)
}

/// Size and modification time identifying one version of a plugin file.
pub fn file_stamp(path: &Path) -> std::io::Result<(u64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok((m.size(), m.mtime() * 1_000_000_000 + m.mtime_nsec()))
}

const MARKER_LEN: usize = 33;
const MARKER_KEY: u8 = 0xA5;

const fn mask(bytes: [u8; MARKER_LEN]) -> [u8; MARKER_LEN] {
    let mut out = bytes;
    let mut i = 0;
    while i < MARKER_LEN {
        out[i] ^= MARKER_KEY;
        i += 1;
    }
    out
}

/// The marker, kept masked: a program that looks for the marker must not
/// carry it, or it would be taken for a bridge itself.
const MASKED_MARKER: [u8; MARKER_LEN] = mask(*b"BULKHEAD_BRIDGE_LIBRARY_MARKER_v1");

/// The bytes every bridge and shim library carries (as an exported static)
/// so that a file holding them is known for a bridged copy. Only for the
/// static initializer of such a library: any program holding these bytes
/// is refused as a plugin.
pub const BRIDGE_MARKER: [u8; MARKER_LEN] = mask(MASKED_MARKER);

/// The marker, unmasked at run time (the key passes through `black_box`
/// so the compiler cannot fold the plain bytes into this program).
fn marker() -> [u8; MARKER_LEN] {
    let key = std::hint::black_box(MARKER_KEY);
    MASKED_MARKER.map(|b| b ^ key)
}

/// 64-bit FNV-1a, fed 8 bytes at a time (a change detector, not a
/// cryptographic hash; stable across Rust versions, unlike `DefaultHasher`).
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Self(Self::OFFSET)
    }

    fn word(&mut self, w: u64) {
        self.0 = (self.0 ^ w).wrapping_mul(Self::PRIME);
    }

    /// Whole 8-byte words, then the remaining bytes one by one; callers
    /// feed every chunk but the last in multiples of 8.
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.word(u64::from_le_bytes(b));
        }
        for &b in words.remainder() {
            self.word(u64::from(b));
        }
    }
}

/// FNV-1a over `bytes` (names the cache file of a plugin path).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = Fnv::new();
    h.write(bytes);
    h.word(bytes.len() as u64);
    h.0
}

fn find_byte(byte: u8, hay: &[u8]) -> Option<usize> {
    // SAFETY: memchr reads at most `hay.len()` bytes of the live slice
    // `hay`; a non-null result points into it.
    let p = unsafe { libc::memchr(hay.as_ptr().cast(), i32::from(byte), hay.len()) };
    (!p.is_null()).then(|| p as usize - hay.as_ptr() as usize)
}

fn contains_marker(hay: &[u8], needle: &[u8; MARKER_LEN]) -> bool {
    let mut from = 0;
    while let Some(at) = find_byte(needle[0], &hay[from..]) {
        let start = from + at;
        match hay.get(start..start + MARKER_LEN) {
            Some(w) if w == needle => return true,
            Some(_) => from = start + 1,
            None => return false,
        }
    }
    false
}

/// Reads `file` to the end in bounded chunks: its content hash (when
/// `hash`), and whether it carries the bridge marker.
fn scan(file: &mut std::fs::File, hash: bool) -> std::io::Result<(u64, bool)> {
    const CHUNK: usize = 1 << 20;
    let needle = marker();
    let keep = MARKER_LEN - 1;
    // The last `keep` bytes of the previous chunk sit just before the new
    // one, so a marker across a chunk boundary is found too.
    let mut buf = vec![0u8; keep + CHUNK];
    let mut carried = 0;
    let mut hasher = Fnv::new();
    let mut total = 0u64;
    let mut found = false;
    loop {
        let mut n = 0;
        while n < CHUNK {
            match file.read(&mut buf[keep + n..]) {
                Ok(0) => break,
                Ok(r) => n += r,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if n == 0 {
            break;
        }
        total += n as u64;
        if hash {
            hasher.write(&buf[keep..keep + n]);
        } else if found {
            // Only the marker was asked for.
            return Ok((0, true));
        }
        let window = keep - carried..keep + n;
        found = found || contains_marker(&buf[window.clone()], &needle);
        carried = keep.min(window.len());
        buf.copy_within(window.end - carried..window.end, keep - carried);
    }
    hasher.word(total);
    Ok((hasher.0, found))
}

fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    // Checked before opening: opening a FIFO would block.
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    std::fs::File::open(path)
}

/// One version of the real plugin file: what its cached descriptors are
/// keyed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginFile {
    pub canonical: PathBuf,
    pub size: u64,
    pub mtime_ns: i64,
    /// [`Fnv`] over the file's bytes.
    pub hash: u64,
    /// The file carries the bridge marker.
    pub is_bridge: bool,
}

impl PluginFile {
    /// Reads the plugin file at `path` once, whole, in bounded chunks.
    ///
    /// # Errors
    /// The file is missing, not a regular file or unreadable.
    pub fn read(path: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        let canonical = std::fs::canonicalize(path)?;
        let mut file = open_regular(&canonical)?;
        let m = file.metadata()?;
        let (hash, is_bridge) = scan(&mut file, true)?;
        Ok(Self {
            canonical,
            size: m.size(),
            mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
            hash,
            is_bridge,
        })
    }
}

/// Why the file at `path` is a bridged copy, if it is one: a manifest of
/// its own lies beside it (as given or as its symlinks resolve), or it
/// carries the bridge marker. The host checks this before loading a plugin.
///
/// # Errors
/// The file cannot be read (to look for the marker).
pub fn bridged_copy_reason(path: &Path) -> std::io::Result<Option<BridgedCopy>> {
    if let Some(reason) = manifest_beside(path) {
        return Ok(Some(reason));
    }
    let mut file = open_regular(path)?;
    let (_, marker) = scan(&mut file, false)?;
    Ok(marker.then_some(BridgedCopy::BridgeLibrary))
}

fn manifest_beside(path: &Path) -> Option<BridgedCopy> {
    let canonical = std::fs::canonicalize(path).ok();
    let found = [Some(path), canonical.as_deref()]
        .into_iter()
        .flatten()
        .map(path_for)
        .find(|m| std::fs::symlink_metadata(m).is_ok());
    found.map(BridgedCopy::HasManifest)
}

/// The manifest's bytes, refused unread when larger than
/// [`MAX_MANIFEST_BYTES`].
fn read_manifest(path: &Path) -> Result<String, ManifestError> {
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => ManifestError::Missing(path.to_path_buf()),
        _ => ManifestError::Io(path.to_path_buf(), e),
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    let too_large = |size| ManifestError::TooLarge {
        path: path.to_path_buf(),
        size,
    };
    if size > MAX_MANIFEST_BYTES {
        return Err(too_large(size));
    }
    let file = open_regular(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        // It grew after the size was checked.
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes)
        .map_err(|e| ManifestError::Malformed(path.to_path_buf(), format!("not UTF-8: {e}")))
}

impl Manifest {
    pub fn new(plugin: PathBuf) -> Self {
        Self {
            format: FORMAT_VERSION,
            plugin,
            host: None,
            policy: Policy::default(),
            group: None,
            plugin_file: None,
        }
    }

    /// Reads the manifest of the bridged copy at `copy` (never writing it),
    /// resolves relative paths against its directory, refuses a `plugin`
    /// that is a bridged copy, and reads the plugin file once to key its
    /// cached descriptors.
    ///
    /// # Errors
    /// Missing, unreadable, too large, malformed, of another format
    /// version, or naming a bridged copy.
    pub fn load_for(copy: &Path) -> Result<Self, ManifestError> {
        let given = path_for(copy);
        let path = std::path::absolute(&given).map_err(|e| ManifestError::Io(given, e))?;
        let text = read_manifest(&path)?;
        let mut m: Manifest = serde_json::from_str(&text)
            .map_err(|e| ManifestError::Malformed(path.clone(), e.to_string()))?;
        if !(OLDEST_FORMAT..=FORMAT_VERSION).contains(&m.format) {
            return Err(ManifestError::Version {
                path,
                found: m.format,
            });
        }
        // Not the symlink target's directory: see the module docs.
        let dir = path.parent().unwrap_or(Path::new("/"));
        m.plugin = dir.join(&m.plugin);
        m.host = m.host.map(|h| dir.join(h));
        let refuse = |plugin: &Path, reason| ManifestError::NamesBridgedCopy {
            path: path.clone(),
            plugin: plugin.to_path_buf(),
            reason,
        };
        let same = std::fs::canonicalize(copy)
            .ok()
            .zip(std::fs::canonicalize(&m.plugin).ok())
            .is_some_and(|(a, b)| a == b);
        if same {
            return Err(refuse(&m.plugin, BridgedCopy::Itself));
        }
        // A VST3 plugin is a bundle: its library is what gets checked,
        // hashed and loaded.
        let binary = plugin_binary(&m.plugin);
        if let Some(reason) = manifest_beside(&m.plugin).or_else(|| manifest_beside(&binary)) {
            return Err(refuse(&m.plugin, reason));
        }
        match PluginFile::read(&binary) {
            Ok(f) if f.is_bridge => return Err(refuse(&m.plugin, BridgedCopy::BridgeLibrary)),
            Ok(f) => m.plugin_file = Some(f),
            Err(e) => tracing::debug!(
                plugin = %m.plugin.display(),
                "cannot read the plugin file (the host will say why): {e}"
            ),
        }
        for problem in m.policy.repair() {
            tracing::warn!("manifest {}: {problem}", path.display());
        }
        Ok(m)
    }

    /// Writes a manifest beside `copy`, atomically (write, then rename).
    /// For tools that make bridged copies; the bridge never writes a
    /// manifest.
    ///
    /// # Errors
    /// I/O failure.
    pub fn store_for(&self, copy: &Path) -> std::io::Result<()> {
        let path = path_for(copy);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)
    }

    /// The cached VST3 classes, under the same rules as
    /// [`Self::fresh_descriptors`].
    pub fn fresh_vst3_classes(&self) -> Option<crate::protocol::vst3::types::ModuleClasses> {
        cache::load_vst3(self.plugin_file.as_ref()?)
    }

    /// Caches a VST3 module's classes, as [`Self::cache_descriptors`] does.
    pub fn cache_vst3_classes(&self, classes: &crate::protocol::vst3::types::ModuleClasses) {
        let Some(f) = &self.plugin_file else {
            return;
        };
        if file_stamp(&f.canonical).is_ok_and(|stamp| stamp == (f.size, f.mtime_ns)) {
            cache::store_vst3(f, classes);
        }
    }

    /// The cached descriptors, if they were read from the plugin file as it
    /// was when this manifest was loaded (same canonical path, size,
    /// modification time and content hash).
    pub fn fresh_descriptors(&self) -> Option<Vec<PluginDescriptor>> {
        cache::load(self.plugin_file.as_ref()?)
    }

    /// Caches `descriptors`, read from the plugin file after this manifest
    /// was loaded, unless the file changed meanwhile. Failing to write the
    /// cache is logged, never an error.
    pub fn cache_descriptors(&self, descriptors: &[PluginDescriptor]) {
        let Some(f) = &self.plugin_file else {
            return;
        };
        match file_stamp(&f.canonical) {
            Ok(stamp) if stamp == (f.size, f.mtime_ns) => cache::store(f, descriptors),
            _ => tracing::debug!(
                plugin = %f.canonical.display(),
                "the plugin file changed while its descriptors were read; not cached"
            ),
        }
    }
}

/// Makes a bridged copy of `real_plugin` at `dest`: a file of its own (the
/// dynamic loader shares one library per inode, so a link would make all
/// copies one) holding the bridge library, plus its manifest.
///
/// # Errors
/// I/O failure.
pub fn make_bridged_copy(
    bridge_library: &Path,
    real_plugin: &Path,
    dest: &Path,
    host: Option<&Path>,
) -> std::io::Result<()> {
    let tmp = dest.with_extension(format!("tmp{}", std::process::id()));
    std::fs::copy(bridge_library, &tmp)?;
    std::fs::rename(&tmp, dest)?;
    let mut m = Manifest::new(std::path::absolute(real_plugin)?);
    m.host = host.map(std::path::absolute).transpose()?;
    m.store_for(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "bulkhead-manifest-unit-{}-{label}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_marker_unmasks_to_its_text() {
        assert_eq!(&BRIDGE_MARKER, b"BULKHEAD_BRIDGE_LIBRARY_MARKER_v1");
        assert_eq!(marker(), BRIDGE_MARKER);
    }

    #[test]
    fn the_marker_is_found_across_chunk_boundaries() {
        let dir = scratch("marker");
        for at in [0, 5, (1 << 20) - 10, (1 << 20) - 1, 1 << 20, (3 << 20) - 33] {
            let mut bytes = vec![b'B'; 3 << 20];
            bytes[at..at + MARKER_LEN].copy_from_slice(&BRIDGE_MARKER);
            let p = dir.join("f");
            std::fs::write(&p, &bytes).unwrap();
            let f = PluginFile::read(&p).unwrap();
            assert!(f.is_bridge, "marker at {at}");
            assert_eq!(
                bridged_copy_reason(&p).unwrap(),
                Some(BridgedCopy::BridgeLibrary)
            );
        }
        let p = dir.join("plain");
        std::fs::write(&p, vec![b'B'; 3 << 20]).unwrap();
        assert!(!PluginFile::read(&p).unwrap().is_bridge);
        assert_eq!(bridged_copy_reason(&p).unwrap(), None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_hash_sees_one_changed_byte_and_is_stable() {
        let dir = scratch("hash");
        let p = dir.join("f");
        let mut bytes: Vec<u8> = (0..(2 << 20) + 13).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &bytes).unwrap();
        let a = PluginFile::read(&p).unwrap().hash;
        assert_eq!(PluginFile::read(&p).unwrap().hash, a);
        bytes[1 << 20] ^= 1;
        std::fs::write(&p, &bytes).unwrap();
        assert_ne!(PluginFile::read(&p).unwrap().hash, a);
        // Fixed values: the cache keys must not change between builds.
        assert_eq!(fnv1a(b""), 0xaf63_bd4c_8601_b7df);
        assert_eq!(fnv1a(b"/usr/lib/clap/Foo.clap"), 0xc853_38e5_cf3c_b902);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn old_manifests_with_a_cache_and_other_keys_load() {
        let dir = scratch("old");
        let plugin = dir.join("real.clap");
        std::fs::write(&plugin, b"not really a plugin").unwrap();
        let copy = dir.join("Copy.clap");
        let text = r#"{ "format": 1, "plugin": "real.clap", "host": "bin/host",
            "cache": { "plugin_size": 1, "plugin_mtime_ns": 2, "descriptors": [] },
            "comment": "mine" }"#;
        std::fs::write(path_for(&copy), text).unwrap();
        let m = Manifest::load_for(&copy).unwrap();
        assert_eq!(m.plugin, dir.join("real.clap"));
        assert_eq!(m.host, Some(dir.join("bin/host")));
        assert!(m.plugin_file.is_some());
        assert_eq!(std::fs::read_to_string(path_for(&copy)).unwrap(), text);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn absurd_policy_values_are_named_and_replaced_by_defaults() {
        let mut p = Policy {
            audio_timeout_ms: 0,
            slow_timeout_ms: u64::MAX,
            max_crashes: 0,
            state_refresh_ms: 0,
            ..Policy::default()
        };
        let problems = p.repair();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[1].contains("policy.audio_timeout_ms = 0"),
            "{problems:?}"
        );
        assert!(problems[0].contains(&format!("policy.slow_timeout_ms = {}", u64::MAX)));
        assert_eq!(p.audio_timeout_ms, 1_000);
        assert_eq!(p.slow_timeout_ms, 60_000);
        assert_eq!(p.max_crashes, 3);
        assert_eq!(p.state_refresh_ms, 0, "0 means never and is valid");
        assert!(Policy::default().repair().is_empty());
    }

    #[test]
    fn unknown_policy_keys_are_still_errors() {
        let dir = scratch("policy");
        let copy = dir.join("Copy.clap");
        std::fs::write(
            path_for(&copy),
            r#"{ "format": 1, "plugin": "/x.clap", "policy": { "restrat": false } }"#,
        )
        .unwrap();
        assert!(matches!(
            Manifest::load_for(&copy),
            Err(ManifestError::Malformed(..))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
