//! `bulkhead install`: the bridge library, the shim and `bulkhead-host`
//! into `~/.local/share/bulkhead/` (or `--prefix`), so bridged copies do
//! not depend on a build tree that `cargo clean` empties.

use crate::config_edit::ConfigFile;
use crate::error::{CliError, Result};
use crate::layout;
use std::path::{Path, PathBuf};

/// Where the files to install are: `--from`, else beside this program
/// (a build tree's `target/<profile>`, or an installed package's folder).
fn source_dir(from: Option<&Path>) -> Result<PathBuf> {
    let dirs: Vec<PathBuf> = match from {
        Some(d) => vec![d.to_path_buf()],
        None => layout::exe_dir().into_iter().collect(),
    };
    for file in layout::INSTALLED {
        if !dirs.iter().any(|d| d.join(file).is_file()) {
            return Err(CliError::ArtifactMissing {
                file,
                looked: dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    dirs.into_iter()
        .next()
        .ok_or_else(|| CliError::Usage("cannot tell where this program is".into()))
}

/// Copies through a temporary file and a rename, and only when the bytes
/// differ: a DAW running the old bridge keeps its inode.
fn install_file(from: &Path, to: &Path) -> Result<bool> {
    let new = std::fs::read(from).map_err(CliError::io("cannot read", from))?;
    if std::fs::read(to).is_ok_and(|old| old == new) {
        return Ok(false);
    }
    let tmp = to.with_extension(format!("tmp{}", std::process::id()));
    std::fs::copy(from, &tmp)
        .and_then(|_| std::fs::rename(&tmp, to))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            CliError::io("cannot install", to)(e)
        })?;
    Ok(true)
}

/// # Errors
/// Missing files to install, or I/O failure.
pub fn run(prefix: Option<PathBuf>, from: Option<PathBuf>) -> Result<()> {
    let src = source_dir(from.as_deref())?;
    let default = layout::default_prefix()?;
    let prefix = match prefix {
        Some(p) => std::path::absolute(&p).map_err(CliError::io("bad prefix", &p))?,
        None => default.clone(),
    };
    std::fs::create_dir_all(&prefix).map_err(CliError::io("cannot create", &prefix))?;
    for file in layout::INSTALLED {
        let changed = install_file(&src.join(file), &prefix.join(file))?;
        println!(
            "{} {}",
            if changed { "installed" } else { "up to date" },
            prefix.join(file).display()
        );
    }
    // The prefix is remembered only when it is not the default, so that
    // the config stays as short as the user left it.
    let mut config = ConfigFile::open()?;
    config.set_prefix((prefix != default).then_some(prefix.as_path()));
    config.save()?;
    if !layout::shim_finds(&prefix) {
        println!(
            "note: {} is not where the small per-plugin shim looks for the bridge, \
             so `bulkhead sync` will make full copies of the bridge instead",
            prefix.display()
        );
    }
    println!(
        "bulkhead is installed in {}; next: `bulkhead add DIR` and `bulkhead sync`",
        prefix.display()
    );
    Ok(())
}
