//! Where everything lives inside the region. Both processes compute the
//! same offsets from the same [`AudioLayout`], so no offset ever crosses the
//! process boundary.

use super::control::{Control, MAX_PORTS};
use crate::ProtocolError;
use serde::{Deserialize, Serialize};

/// Bytes reserved for a block's input events, and again for its output
/// events.
pub const EVENT_AREA_LEN: usize = 512 * 1024;
/// Bytes reserved for the block's transport in the plugin's format (a
/// `clap_event_transport`, a VST3 `ProcessContext`).
pub const TRANSPORT_AREA_LEN: usize = 256;
/// Largest block a region is sized for.
pub const MAX_BLOCK_FRAMES: u32 = 1 << 16;
/// Largest channel count of one port.
pub const MAX_CHANNELS_PER_PORT: u32 = 64;
const ALIGN: usize = 64;
/// Every sample slot is 8 bytes wide so a channel holds either precision.
const SAMPLE_SLOT: usize = 8;

/// What the region must hold: channel counts per port and the largest block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudioLayout {
    pub inputs: Vec<u32>,
    pub outputs: Vec<u32>,
    pub max_frames: u32,
}

/// Offsets computed from an [`AudioLayout`].
#[derive(Debug, Clone)]
pub struct ShmLayout {
    pub audio: AudioLayout,
    pub transport_offset: usize,
    pub in_events_offset: usize,
    pub out_events_offset: usize,
    /// Offset of the first channel of each input port.
    pub input_port_offsets: Vec<usize>,
    pub output_port_offsets: Vec<usize>,
    pub channel_stride: usize,
    pub total_len: usize,
}

fn align_up(v: usize) -> usize {
    v.div_ceil(ALIGN) * ALIGN
}

impl ShmLayout {
    /// Computes and validates the offsets.
    ///
    /// # Errors
    /// Fails on more ports or channels than supported, or a zero or too large
    /// block size.
    pub fn compute(audio: &AudioLayout) -> Result<Self, ProtocolError> {
        if audio.inputs.len() > MAX_PORTS || audio.outputs.len() > MAX_PORTS {
            return Err(ProtocolError::Malformed(format!(
                "{} input and {} output ports, at most {MAX_PORTS} each",
                audio.inputs.len(),
                audio.outputs.len()
            )));
        }
        if audio.max_frames == 0 || audio.max_frames > MAX_BLOCK_FRAMES {
            return Err(ProtocolError::Malformed(format!(
                "max block size {} outside 1..={MAX_BLOCK_FRAMES}",
                audio.max_frames
            )));
        }
        if let Some(c) = audio
            .inputs
            .iter()
            .chain(&audio.outputs)
            .find(|&&c| c > MAX_CHANNELS_PER_PORT)
        {
            return Err(ProtocolError::Malformed(format!(
                "{c} channels in one port, at most {MAX_CHANNELS_PER_PORT}"
            )));
        }
        let channel_stride = align_up(audio.max_frames as usize * SAMPLE_SLOT);
        let mut at = align_up(std::mem::size_of::<Control>());
        let transport_offset = at;
        at += align_up(TRANSPORT_AREA_LEN);
        let in_events_offset = at;
        at += EVENT_AREA_LEN;
        let out_events_offset = at;
        at += EVENT_AREA_LEN;
        let mut place = |ports: &[u32]| {
            ports
                .iter()
                .map(|&channels| {
                    let offset = at;
                    at += channels as usize * channel_stride;
                    offset
                })
                .collect::<Vec<_>>()
        };
        let input_port_offsets = place(&audio.inputs);
        let output_port_offsets = place(&audio.outputs);
        Ok(Self {
            audio: audio.clone(),
            transport_offset,
            in_events_offset,
            out_events_offset,
            input_port_offsets,
            output_port_offsets,
            channel_stride,
            total_len: align_up(at).max(4096),
        })
    }

    /// Offset of one channel of an input (`is_input`) or output port.
    pub fn channel_offset(&self, is_input: bool, port: usize, channel: usize) -> usize {
        let ports = if is_input {
            &self.input_port_offsets
        } else {
            &self.output_port_offsets
        };
        ports[port] + channel * self.channel_stride
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_do_not_overlap_and_fit() {
        let l = ShmLayout::compute(&AudioLayout {
            inputs: vec![2, 1],
            outputs: vec![2],
            max_frames: 4096,
        })
        .unwrap();
        let a = l.channel_offset(true, 1, 0);
        let b = l.channel_offset(false, 0, 0);
        assert!(a + 4096 * 8 <= b);
        assert!(l.channel_offset(false, 0, 1) + 4096 * 8 <= l.total_len);
    }

    #[test]
    fn absurd_layouts_are_rejected() {
        let bad = AudioLayout {
            inputs: vec![1000],
            outputs: vec![],
            max_frames: 64,
        };
        assert!(ShmLayout::compute(&bad).is_err());
    }
}
