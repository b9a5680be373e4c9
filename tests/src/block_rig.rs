//! An active instance fed the same deterministic input block after block,
//! for tests that watch its output while its host is crashed, restarted or
//! replaced.

use crate::events::Event;
use crate::instance::{AudioBuffers, Instance};

pub struct BlockRig {
    pub inst: Instance,
    frames: usize,
    inputs: AudioBuffers<f32>,
    outputs: AudioBuffers<f32>,
}

impl BlockRig {
    /// Activates `inst` at 48 kHz for blocks of `frames` and starts
    /// processing; the input is a fixed ramp per channel.
    ///
    /// # Panics
    /// The instance refuses to activate or start.
    pub fn start(mut inst: Instance, frames: usize) -> Self {
        let mut inputs = inst.input_buffers::<f32>(frames);
        for port in inputs.ports.iter_mut() {
            for (c, ch) in port.iter_mut().enumerate() {
                for (i, s) in ch.iter_mut().enumerate() {
                    *s = ((i * 7 + c * 13) % 97) as f32 / 97.0 - 0.5;
                }
            }
        }
        let outputs = inst.output_buffers::<f32>(frames);
        inst.activate(48_000.0, 1, frames as u32).expect("activate");
        inst.start_processing().expect("start processing");
        Self {
            inst,
            frames,
            inputs,
            outputs,
        }
    }

    /// One block with `events`; the first output port, copied.
    ///
    /// # Panics
    /// `process` fails (through the bridge it never does, down or not).
    pub fn block(&mut self, events: &[Event]) -> Vec<Vec<f32>> {
        self.inst
            .process_f32(
                self.frames as u32,
                &self.inputs,
                &mut self.outputs,
                events,
                None,
                None,
            )
            .expect("process never fails through the bridge, down or not");
        self.inst.pump();
        self.outputs.ports[0].clone()
    }
}

/// Every sample of `out` is zero.
pub fn silent(out: &[Vec<f32>]) -> bool {
    out.iter().flatten().all(|&s| s == 0.0)
}
