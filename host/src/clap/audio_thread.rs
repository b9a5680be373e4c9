//! The host's audio thread for one active instance: waits on the doorbell,
//! runs the requested operation from the shared-memory block, rings back.
//! Nothing here allocates, locks or logs once the loop runs.

use super::host_side::{BulkheadHost, IS_AUDIO_THREAD};
use super::plugin_calls::PluginCalls;
use crate::audio_loop::{serve_blocks, BlockWorker, LoopSetup};
use bulkhead_common::shm::check::{self, RegionFault};
use bulkhead_common::shm::control::{port_flags, AudioOp};
use bulkhead_common::shm::events::{EventWriter, PackedEvents};
use bulkhead_common::shm::layout::{EVENT_AREA_LEN, TRANSPORT_AREA_LEN};
use bulkhead_common::shm::{ShmLayout, ShmRegion};
use clack_host::process::PluginAudioProcessor;
use clap_sys::audio_buffer::clap_audio_buffer;
use clap_sys::events::*;
use clap_sys::process::clap_process;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

pub struct AudioWorker {
    pub region: Arc<ShmRegion>,
    pub layout: ShmLayout,
    pub calls: PluginCalls,
    pub processor: PluginAudioProcessor<BulkheadHost>,
    pub quit: Arc<AtomicBool>,
    pub audio_flags: Arc<AtomicU32>,
    /// Socket-synchronised mode (see `Activate::socket_sync`).
    pub sync: Option<std::os::unix::net::UnixStream>,
    /// The sample rate, when the host should wake before blocks are due.
    pub early_wake: Option<f64>,
}

/// Channel pointer tables into the region, built once per activation.
struct Buffers {
    inputs: Vec<clap_audio_buffer>,
    outputs: Vec<clap_audio_buffer>,
    in_channels: Vec<Vec<*mut f32>>,
    out_channels: Vec<Vec<*mut f32>>,
}

impl Buffers {
    fn new(region: &ShmRegion, layout: &ShmLayout) -> Self {
        let table = |is_input: bool, ports: &[u32]| -> Vec<Vec<*mut f32>> {
            ports
                .iter()
                .enumerate()
                .map(|(p, &n)| {
                    (0..n as usize)
                        .map(|c| {
                            region
                                .range(layout.channel_offset(is_input, p, c), layout.channel_stride)
                                .map_or(std::ptr::null_mut(), |ptr| ptr.cast())
                        })
                        .collect()
                })
                .collect()
        };
        let in_channels = table(true, &layout.audio.inputs);
        let out_channels = table(false, &layout.audio.outputs);
        let empty = |n: &Vec<*mut f32>| clap_audio_buffer {
            data32: std::ptr::null_mut(),
            data64: std::ptr::null_mut(),
            channel_count: n.len() as u32,
            latency: 0,
            constant_mask: 0,
        };
        Self {
            inputs: in_channels.iter().map(empty).collect(),
            outputs: out_channels.iter().map(empty).collect(),
            in_channels,
            out_channels,
        }
    }
}

/// The worker with its per-activation tables, as the shared loop drives it.
struct ClapBlocks<'a> {
    worker: &'a mut AudioWorker,
    bufs: Buffers,
    in_events: PackedEvents,
}

impl BlockWorker for ClapBlocks<'_> {
    fn serve(&mut self, req: check::Request) -> Result<i32, RegionFault> {
        let w = &mut *self.worker;
        Ok(match req.op {
            AudioOp::Process => w.process(req, &mut self.bufs, &mut self.in_events)?,
            AudioOp::StartProcessing => i32::from(w.processor.start_processing().is_ok()),
            AudioOp::StopProcessing => i32::from(w.processor.stop_processing().is_ok()),
            AudioOp::Reset => {
                w.processor.reset();
                1
            }
            AudioOp::ParamsFlush => w.flush(req, &mut self.in_events)?,
        })
    }

    fn after_request(&mut self, c: &bulkhead_common::shm::Control) {
        c.tail.store(self.worker.calls.tail(), Ordering::Relaxed);
        c.callbacks.fetch_or(
            self.worker.audio_flags.swap(0, Ordering::Relaxed),
            Ordering::Relaxed,
        );
    }
}

impl AudioWorker {
    /// Serves blocks until told to quit; hands the processor back (stopped)
    /// so the main thread can deactivate the plugin.
    pub fn run(mut self) -> PluginAudioProcessor<BulkheadHost> {
        IS_AUDIO_THREAD.with(|f| f.set(true));
        let region = Arc::clone(&self.region);
        let layout = self.layout.clone();
        let quit = Arc::clone(&self.quit);
        let sync = self.sync.take();
        let early_wake = self.early_wake;
        let mut blocks = ClapBlocks {
            bufs: Buffers::new(&region, &layout),
            in_events: PackedEvents::with_capacity(EVENT_AREA_LEN),
            worker: &mut self,
        };
        serve_blocks(
            LoopSetup {
                region: &region,
                layout: &layout,
                quit: &quit,
                sync: sync.as_ref(),
                early_wake,
            },
            &mut blocks,
        );
        drop(blocks);
        if self.processor.is_started() {
            let _ = self.processor.stop_processing();
        }
        self.processor
    }

    /// Loads the block's input events (`len` checked against the area).
    fn load_events(&self, len: usize, in_events: &mut PackedEvents) -> Result<(), RegionFault> {
        let Some(src) = self.region.range(self.layout.in_events_offset, len) else {
            in_events.clear();
            return Err(RegionFault::InEventsLen);
        };
        // SAFETY: the range lies inside the mapping.
        if unsafe { in_events.load_raw(src, len) }.is_err() {
            in_events.clear();
            return Err(RegionFault::InEvents);
        }
        Ok(())
    }

    fn out_writer(&self) -> EventWriter {
        let base = self
            .region
            .range(self.layout.out_events_offset, EVENT_AREA_LEN)
            .unwrap_or(std::ptr::null_mut());
        // SAFETY: the output area is inside the mapping, 64-byte aligned, and
        // only this thread writes it while the bridge waits.
        unsafe { EventWriter::new(base, if base.is_null() { 0 } else { EVENT_AREA_LEN }) }
    }

    fn flush(
        &mut self,
        req: check::Request,
        in_events: &mut PackedEvents,
    ) -> Result<i32, RegionFault> {
        self.load_events(req.in_events_len, in_events)?;
        let mut writer = self.out_writer();
        let (input, output) = (in_events.input_list(), writer.output_list());
        // SAFETY: both lists stay valid for the call; audio thread of an
        // active plugin, as the spec requires for this variant.
        unsafe { self.calls.params_flush(&input, &output) };
        self.region
            .control()
            .out_events_len
            .store(writer.len() as u32, Ordering::Relaxed);
        Ok(1)
    }

    fn process(
        &mut self,
        req: check::Request,
        bufs: &mut Buffers,
        in_events: &mut PackedEvents,
    ) -> Result<i32, RegionFault> {
        let c = self.region.control();
        let frames = req.frames;
        let set_port = |buf: &mut clap_audio_buffer, chans: &mut [*mut f32], flags: u32| {
            if flags & port_flags::F64 != 0 {
                buf.data32 = std::ptr::null_mut();
                buf.data64 = chans.as_mut_ptr().cast();
            } else {
                buf.data32 = chans.as_mut_ptr();
                buf.data64 = std::ptr::null_mut();
            }
        };
        for (i, (buf, chans)) in bufs
            .inputs
            .iter_mut()
            .zip(&mut bufs.in_channels)
            .enumerate()
        {
            let flags = check::port_flags(c.port_flags_in[i].load(Ordering::Relaxed))?;
            set_port(buf, chans, flags);
            buf.constant_mask = c.constant_mask_in[i].load(Ordering::Relaxed);
            buf.latency = c.latency_in[i].load(Ordering::Relaxed);
        }
        for (i, (buf, chans)) in bufs
            .outputs
            .iter_mut()
            .zip(&mut bufs.out_channels)
            .enumerate()
        {
            let flags = check::port_flags(c.port_flags_out[i].load(Ordering::Relaxed))?;
            set_port(buf, chans, flags);
            buf.constant_mask = 0;
            buf.latency = c.latency_out[i].load(Ordering::Relaxed);
        }
        self.load_events(req.in_events_len, in_events)?;
        let mut writer = self.out_writer();
        let (input, output) = (in_events.input_list(), writer.output_list());
        // SAFETY: a zeroed transport is a valid value to overwrite.
        let mut transport: clap_event_transport = unsafe { std::mem::zeroed() };
        let has_transport = req.has_transport;
        if has_transport {
            let src = self
                .region
                .range(self.layout.transport_offset, TRANSPORT_AREA_LEN)
                .ok_or(RegionFault::Transport)?;
            // SAFETY: the area is inside the mapping and large enough; our
            // private copy is what gets checked and used.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    src,
                    (&mut transport as *mut clap_event_transport).cast::<u8>(),
                    std::mem::size_of::<clap_event_transport>(),
                )
            };
            check::transport(&transport)?;
        }
        let process = clap_process {
            steady_time: c.steady_time.load(Ordering::Relaxed) as i64,
            frames_count: frames,
            transport: if has_transport {
                &transport
            } else {
                std::ptr::null()
            },
            audio_inputs: bufs.inputs.as_ptr(),
            audio_outputs: bufs.outputs.as_mut_ptr(),
            audio_inputs_count: bufs.inputs.len() as u32,
            audio_outputs_count: bufs.outputs.len() as u32,
            in_events: &input,
            out_events: &output,
        };
        let plugin = self.calls.plugin;
        // SAFETY: the plugin is active and processing (the bridge only sends
        // Process after StartProcessing succeeded), this is its audio
        // thread, and every pointer in `process` is valid for the call.
        let status = unsafe {
            match (*plugin).process {
                Some(f) => f(plugin, &process),
                None => clap_sys::process::CLAP_PROCESS_ERROR,
            }
        };
        for (i, buf) in bufs.outputs.iter().enumerate() {
            c.constant_mask_out[i].store(buf.constant_mask, Ordering::Relaxed);
        }
        c.out_events_len
            .store(writer.len() as u32, Ordering::Relaxed);
        Ok(status)
    }
}

/// Moves a worker to its thread; its raw pointers are only used there.
pub struct SendWorker(pub AudioWorker);
// SAFETY: the worker's raw pointers address the shared region and the
// plugin, both alive until the thread is joined; CLAP allows the audio
// thread to be any thread.
unsafe impl Send for SendWorker {}
