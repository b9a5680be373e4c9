//! The one place that knows how messages become bytes. Swap the codec here
//! and nothing else changes.

use crate::framing::MAX_FRAME_LEN;
use crate::ProtocolError;
use serde::{de::DeserializeOwned, Serialize};

/// bincode with a hard limit on every length inside a frame, so that a
/// hostile length field cannot make the decoder allocate more than a frame.
fn config() -> impl bincode::config::Config {
    bincode::config::standard()
        .with_little_endian()
        .with_variable_int_encoding()
        .with_limit::<MAX_FRAME_LEN>()
}

/// Appends the encoding of `value` to `buf`.
///
/// # Errors
/// Fails if the value cannot be encoded within the frame limit.
pub fn encode_into<T: Serialize>(value: &T, buf: &mut Vec<u8>) -> Result<(), ProtocolError> {
    bincode::serde::encode_into_std_write(value, buf, config())
        .map(|_| ())
        .map_err(|e| ProtocolError::Malformed(format!("cannot encode: {e}")))
}

/// Decodes one value that must fill `bytes` exactly.
///
/// # Errors
/// Fails on any malformed input, including trailing bytes.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ProtocolError> {
    let (value, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| ProtocolError::Malformed(format!("cannot decode: {e}")))?;
    if used != bytes.len() {
        return Err(ProtocolError::Malformed(format!(
            "{} trailing bytes after message",
            bytes.len() - used
        )));
    }
    Ok(value)
}
