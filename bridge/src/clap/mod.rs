//! The CLAP face of the bridge: entry, factory, proxy plugin, extensions.

mod audio;
mod callbacks;
pub mod entry;
mod ext;
mod factory;
mod member;
mod proxy;
mod validate;
