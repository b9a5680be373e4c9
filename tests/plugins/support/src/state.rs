//! State helpers for the fixed-size formats: an 8-byte magic followed by a fixed-size body.

use clack_plugin::prelude::*;
use clack_plugin::stream::{InputStream, OutputStream};
use std::io::{Read, Write};

/// Writes `magic` followed by `body`, in a single write.
pub fn save(output: &mut OutputStream, magic: &[u8; 8], body: &[u8]) -> Result<(), PluginError> {
    let mut data = Vec::with_capacity(magic.len() + body.len());
    data.extend_from_slice(magic);
    data.extend_from_slice(body);
    output.write_all(&data)?;
    Ok(())
}

/// Reads a complete state of `magic` followed by an `N`-byte body, returning the body, or `None`
/// if the magic differs or the state is shorter or longer than that.
pub fn load<const N: usize>(
    input: &mut InputStream,
    magic: &[u8; 8],
) -> Result<Option<[u8; N]>, PluginError> {
    let len = magic.len() + N;
    // Read one byte more than expected so that trailing garbage is detected.
    let mut data = Vec::with_capacity(len + 1);
    input.take(len as u64 + 1).read_to_end(&mut data)?;
    Ok(data
        .strip_prefix(magic.as_slice())
        .and_then(|rest| <[u8; N]>::try_from(rest).ok()))
}
