//! What can stop a `bulkhead` command. Per-plugin trouble during `sync` is
//! not here: a plugin that fails is reported and skipped.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{what} {}: {source}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("neither HOME nor XDG_CONFIG_HOME is set; cannot tell where your files go")]
    NoHome,
    #[error(
        "{file} is not installed in {}; run `bulkhead install` first",
        .prefix.display()
    )]
    NotInstalled { prefix: PathBuf, file: &'static str },
    #[error("cannot find {file} to install; looked in {looked}")]
    ArtifactMissing { file: &'static str, looked: String },
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("the config file {} is not valid TOML ({reason}); fix it before `bulkhead` edits it", .path.display())]
    ConfigUnparsable { path: PathBuf, reason: String },
    #[error("{0}")]
    Usage(String),
    #[error("{}: {reason}", .file.display())]
    ScanFailed { file: PathBuf, reason: String },
}

impl CliError {
    pub fn io(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { what, path, source }
    }
}

pub type Result<T> = std::result::Result<T, CliError>;
