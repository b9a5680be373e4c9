//! State format (all little-endian): the magic `BHBIG001`, a `u32` parameter count, that many
//! `f64` values (by id), a `u64` payload length, then the payload bytes.

use crate::params::{PARAM_COUNT, PARAM_MAX, PARAM_MIN};
use crate::BigStateMainThread;
use clack_extensions::params::ParamRescanFlags;
use clack_extensions::state::PluginStateImpl;
use clack_plugin::prelude::*;
use clack_plugin::stream::{InputStream, OutputStream};
use std::io::{Read, Write};

const MAGIC: &[u8; 8] = b"BHBIG001";
const HEADER_LEN: usize = MAGIC.len() + 4 + PARAM_COUNT * 8 + 8;
const MAX_PAYLOAD_LEN: usize = 256 << 20;
const CORRUPT: PluginError = PluginError::Message("corrupt or truncated bigstate state");

impl PluginStateImpl for BigStateMainThread<'_> {
    fn save(&self, output: &mut OutputStream) -> Result<(), PluginError> {
        let payload = self.payload.borrow();
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&(PARAM_COUNT as u32).to_le_bytes());
        for value in self.shared.values() {
            header.extend_from_slice(&value.to_le_bytes());
        }
        header.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        output.write_all(&header)?;
        output.write_all(&payload)?;
        Ok(())
    }

    fn load(&self, input: &mut InputStream) -> Result<(), PluginError> {
        let mut header = vec![0; HEADER_LEN];
        input.read_exact(&mut header)?;
        let (values, payload_len) = parse_header(&header)?;

        // Read one byte more than announced so that trailing garbage is detected.
        let mut payload = Vec::with_capacity(payload_len + 1);
        input
            .take(payload_len as u64 + 1)
            .read_to_end(&mut payload)?;
        if payload.len() != payload_len {
            return Err(CORRUPT);
        }

        self.shared.set_values(values);
        *self.payload.borrow_mut() = payload;
        if let Some(host_params) = &self.host_params {
            host_params.rescan(&self.host, ParamRescanFlags::VALUES);
        }
        Ok(())
    }
}

/// Validates the fixed-size header, returning the parameter values and the payload length.
fn parse_header(mut header: &[u8]) -> Result<(Vec<f64>, usize), PluginError> {
    if take(&mut header)? != *MAGIC || u32::from_le_bytes(take(&mut header)?) != PARAM_COUNT as u32
    {
        return Err(CORRUPT);
    }
    let values = (0..PARAM_COUNT)
        .map(|_| take(&mut header).map(f64::from_le_bytes))
        .collect::<Result<Vec<_>, _>>()?;
    if !values
        .iter()
        .all(|value| (PARAM_MIN..=PARAM_MAX).contains(value))
    {
        return Err(CORRUPT);
    }
    let payload_len = usize::try_from(u64::from_le_bytes(take(&mut header)?))
        .ok()
        .filter(|&len| len <= MAX_PAYLOAD_LEN)
        .ok_or(CORRUPT)?;
    Ok((values, payload_len))
}

/// Splits the first `N` bytes off `data`.
fn take<const N: usize>(data: &mut &[u8]) -> Result<[u8; N], PluginError> {
    let (head, rest) = data.split_first_chunk::<N>().ok_or(CORRUPT)?;
    *data = rest;
    Ok(*head)
}
