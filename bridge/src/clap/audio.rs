//! The bridge's end of the shared-memory block: copy a block in, ring,
//! wait (spin briefly, then sleep, until a deadline), copy the block out.
//! Runs on the DAW's audio thread: nothing here allocates, locks or logs.
//! Everything the host wrote is validated before use.

use super::callbacks::DawHost;
use super::link::Link;
use bulkhead_common::shm::check::{self, RegionFault};
use bulkhead_common::shm::control::{port_flags, AudioOp};
use bulkhead_common::shm::deadline::{self, Limits};
use bulkhead_common::shm::doorbell;
use bulkhead_common::shm::events::{EventWriter, PackedEvents};
use bulkhead_common::shm::handoff::Caller;
use bulkhead_common::shm::layout::{EVENT_AREA_LEN, TRANSPORT_AREA_LEN};
use bulkhead_common::shm::{ShmLayout, ShmRegion};
use bulkhead_common::ProtocolError;
use clap_sys::audio_buffer::clap_audio_buffer;
use clap_sys::events::*;
use clap_sys::process::*;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct AudioState {
    pub region: Arc<ShmRegion>,
    link: Arc<Link>,
    layout: ShmLayout,
    out_events: PackedEvents,
    seq: u32,
    /// False after a missed deadline, until the host catches up.
    in_sync: bool,
    /// Blocks handed over, to re-read our scheduling now and then.
    blocks: u64,
    /// How we wait for the host's answers (spin or sleep at once).
    caller: Caller,
    sample_rate: f64,
    /// The DAW's audio thread runs with realtime scheduling (re-read with
    /// the scheduling now and then): blocks get live deadlines.
    realtime_thread: bool,
    /// The host answered a block since it started: until then its audio
    /// thread is cold (page faults, first wake-up) and a block gets the
    /// policy's deadline, not a live one.
    warm: bool,
    /// The wait chosen for the block being handed over (other operations
    /// get the policy's).
    block_wait: Option<Duration>,
    /// The host answered nonsense: nothing more is read from or rung in
    /// this region; blocks are silent until a restart hands over a fresh one.
    faulted: bool,
}

/// The audio thread's side of restarts, without locks: a restart hands over
/// a fresh region (the old one may hold anything a broken host wrote), the
/// audio thread gives the old one back to be unmapped elsewhere (never on
/// the audio thread), and reports why it gave up on a host.
#[derive(Default)]
pub struct RegionWatch {
    /// A region from a restart, not yet adopted (`Arc::into_raw`).
    fresh: AtomicPtr<ShmRegion>,
    /// A region the audio thread stopped using, to be dropped off it.
    stale: AtomicPtr<ShmRegion>,
    /// What the audio thread found: a [`RegionFault`] in the low byte, the
    /// host's own reason (when it refused a request) in the next.
    fault: AtomicU32,
}

impl RegionWatch {
    /// Offers `region` to the audio thread (replacing one it never took).
    pub fn publish(&self, region: Arc<ShmRegion>) {
        let old = self
            .fresh
            .swap(Arc::into_raw(region).cast_mut(), Ordering::SeqCst);
        // SAFETY: every non-null pointer in the slots came from
        // `Arc::into_raw`, and swapping it out made it ours.
        drop(unsafe { from_slot(old) });
    }

    /// Drops a region the audio thread gave back. Not on the audio thread.
    pub fn drain(&self) {
        let old = self.stale.swap(std::ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: as in `publish`.
        drop(unsafe { from_slot(old) });
    }

    /// Forgets any hand-over (a new activation makes its own region). Not
    /// on the audio thread, and not while it runs.
    pub fn clear(&self) {
        self.drain();
        let old = self.fresh.swap(std::ptr::null_mut(), Ordering::SeqCst);
        // SAFETY: as in `publish`.
        drop(unsafe { from_slot(old) });
        self.fault.store(0, Ordering::Relaxed);
    }

    /// A restart's region is waiting to be adopted.
    fn pending(&self) -> bool {
        !self.fresh.load(Ordering::SeqCst).is_null()
    }

    /// Audio thread: the fresh region, if any, once the previous stale one
    /// was dropped (so one slot is always enough).
    fn take_fresh(&self) -> Option<Arc<ShmRegion>> {
        if !self.stale.load(Ordering::Acquire).is_null() {
            return None;
        }
        let p = self.fresh.swap(std::ptr::null_mut(), Ordering::SeqCst);
        // SAFETY: as in `publish`.
        unsafe { from_slot(p) }
    }

    /// Audio thread: hands the old region back; `stale` is empty (checked
    /// by `take_fresh`, and only this thread fills it).
    fn retire(&self, old: Arc<ShmRegion>) {
        self.stale
            .store(Arc::into_raw(old).cast_mut(), Ordering::Release);
    }

    /// Audio thread: the first fault found since the last look.
    fn report(&self, fault: RegionFault, host_reason: u32) {
        let code = fault as u32 | (host_reason & 0xff) << 8;
        let _ = self
            .fault
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Relaxed);
    }

    /// Why the audio thread gave up on the host, for the log (and forgets it).
    pub fn take_fault(&self) -> Option<String> {
        let code = self.fault.swap(0, Ordering::AcqRel);
        let fault = RegionFault::from_u32(code & 0xff)?;
        Some(match RegionFault::from_u32(code >> 8) {
            Some(seen) if fault == RegionFault::Refused => {
                format!("{} (it read {})", fault.describe(), seen.describe())
            }
            _ => fault.describe().to_string(),
        })
    }
}

impl Drop for RegionWatch {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A fresh region for a restarted host: the old one may hold anything the
/// host that died wrote into it, and the new host must not inherit that.
///
/// # Errors
/// The layout no longer computes, or the kernel refused the memory.
pub fn fresh_region(layout: &bulkhead_common::shm::AudioLayout) -> Result<Arc<ShmRegion>, String> {
    let shm = ShmLayout::compute(layout).map_err(|e| e.to_string())?;
    ShmRegion::create(&shm)
        .map(Arc::new)
        .map_err(|e| format!("cannot make a fresh audio region: {e}"))
}

/// # Safety
/// `p` is null or a pointer from `Arc::into_raw` that nothing else owns.
unsafe fn from_slot(p: *mut ShmRegion) -> Option<Arc<ShmRegion>> {
    // SAFETY: per the contract.
    (!p.is_null()).then(|| unsafe { Arc::from_raw(p.cast_const()) })
}

/// The calling thread's scheduling policy and priority (two syscalls, no
/// allocation), so the host's audio thread can mirror a realtime DAW.
fn current_scheduling() -> (i32, i32) {
    // SAFETY: plain syscalls on the calling thread with a local out-param.
    unsafe {
        let policy = libc::sched_getscheduler(0) & !libc::SCHED_RESET_ON_FORK;
        let mut param: libc::sched_param = std::mem::zeroed();
        libc::sched_getparam(0, &mut param);
        (policy, param.sched_priority)
    }
}

impl AudioState {
    /// # Errors
    /// The kernel refused the memory.
    pub fn new(
        layout: ShmLayout,
        link: Arc<Link>,
        sample_rate: f64,
    ) -> Result<Self, ProtocolError> {
        let region = Arc::new(ShmRegion::create(&layout)?);
        Ok(Self {
            region,
            link,
            layout,
            out_events: PackedEvents::with_capacity(EVENT_AREA_LEN),
            seq: 0,
            in_sync: true,
            blocks: 0,
            caller: Caller::default(),
            sample_rate,
            realtime_thread: false,
            warm: false,
            block_wait: None,
            faulted: false,
        })
    }

    /// Switches to the fresh region a restart handed over, if any, and gives
    /// the old one back (dropping it here would unmap on the audio thread).
    fn adopt_fresh_region(&mut self) {
        if let Some(fresh) = self.link.audio.take_fresh() {
            let old = std::mem::replace(&mut self.region, fresh);
            self.link.audio.retire(old);
            let c = self.region.control();
            self.seq = c.request_seq.load(Ordering::Acquire);
            self.in_sync = true;
            self.faulted = false;
            self.caller = Caller::default();
        }
    }

    /// The host answered nonsense: stop using this region, say why, and let
    /// the supervisor end the host (it logs, restarts, and hands over a
    /// fresh region). No lock, no allocation: flags only.
    fn fault(&mut self, fault: RegionFault) {
        let host_reason = if fault == RegionFault::Refused {
            self.region.control().fault.load(Ordering::Relaxed)
        } else {
            0
        };
        self.faulted = true;
        self.in_sync = false;
        self.link.audio.report(fault, host_reason);
        self.link.group.broken.store(true, Ordering::Release);
    }

    /// Hands the prepared request to the host and waits for it. The status
    /// the host answered (checked against what `op` can return); `None`
    /// when the host missed the deadline (now or on an earlier block it has
    /// not finished yet), is down, or answered nonsense.
    fn roundtrip(&mut self, op: AudioOp) -> Option<i32> {
        // `in_flight` before `up` (both SeqCst): a supervisor that cleared
        // `up` and then sees `in_flight` clear knows we will not ring. A
        // restart publishes its region before it sets `up`: seeing `up`
        // means seeing the region too, which the next call adopts.
        self.link.in_flight.store(true, Ordering::SeqCst);
        let ok = !self.faulted && self.link.up.load(Ordering::SeqCst) && !self.link.audio.pending();
        let status = if ok { self.handoff(op) } else { None };
        self.link.in_flight.store(false, Ordering::SeqCst);
        status
    }

    fn handoff(&mut self, op: AudioOp) -> Option<i32> {
        if self.link.needs_start.swap(false, Ordering::AcqRel) && op != AudioOp::StartProcessing {
            // A restored host: its audio thread is cold again.
            self.warm = false;
            // A restored host starts processing before its first block.
            self.exchange(AudioOp::StartProcessing)?;
        }
        self.exchange(op)
    }

    fn exchange(&mut self, op: AudioOp) -> Option<i32> {
        let answered = self.ring_and_wait(op);
        if !answered || self.faulted {
            return None;
        }
        match check::answer(self.region.control(), op) {
            Ok(status) => Some(status),
            Err(fault) => {
                self.fault(fault);
                None
            }
        }
    }

    fn ring_and_wait(&mut self, op: AudioOp) -> bool {
        let c = self.region.control();
        let response = c.response_seq.load(Ordering::Acquire);
        if !self.in_sync {
            if response != self.seq {
                if check::plausible_response(response, self.seq) {
                    self.missed();
                } else {
                    self.fault(RegionFault::ResponseSeq);
                }
                return false;
            }
            self.in_sync = true;
        } else if response != self.seq || c.request_seq.load(Ordering::Acquire) != self.seq {
            // Between blocks both words hold the last sequence number; the
            // host never writes either out of turn.
            self.fault(RegionFault::ResponseSeq);
            return false;
        }
        c.op.store(op as u32, Ordering::Relaxed);
        c.callbacks.store(0, Ordering::Relaxed);
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        c.rung_ns.store(doorbell::monotonic_ns(), Ordering::Relaxed);
        self.caller.ring(c, seq);
        let wait = self.block_wait.take().unwrap_or_else(|| self.timeout());
        let sync_fd = self.link.sync_fd.load(Ordering::Relaxed);
        if sync_fd >= 0 {
            return self.socket_exchange(sync_fd, seq, wait);
        }
        let link = &self.link;
        let now = Instant::now();
        // A wait too long to represent is as good as forever.
        let deadline = now
            .checked_add(wait)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365));
        let ok = self
            .caller
            .wait(c, seq, || !link.up.load(Ordering::Relaxed), deadline);
        if !ok {
            self.in_sync = false;
            if check::plausible_response(c.response_seq.load(Ordering::Acquire), seq) {
                self.missed();
            } else {
                self.fault(RegionFault::ResponseSeq);
            }
        }
        ok
    }

    /// Counts a block the host did not answer in time (kept in the region,
    /// where diagnostics can read it).
    fn missed(&self) {
        self.region
            .control()
            .missed_blocks
            .fetch_add(1, Ordering::Relaxed);
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.link.audio_timeout_ms.load(Ordering::Relaxed))
    }

    /// The comparison mode: the same handoff, synchronised by a message
    /// each way on a socket (as other bridges do) instead of the futex.
    fn socket_exchange(&mut self, fd: i32, seq: u32, wait: Duration) -> bool {
        let word = seq.to_le_bytes();
        // SAFETY: `fd` is our open socket end (kept alive by the link while
        // up); the buffer is a local array.
        let sent = unsafe { libc::send(fd, word.as_ptr().cast(), 4, libc::MSG_NOSIGNAL) };
        let mut ok = sent == 4;
        if ok {
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = wait.as_millis().min(i32::MAX as u128) as i32;
            let mut reply = [0u8; 4];
            // SAFETY: as above; `pfd` and `reply` are locals.
            ok = unsafe {
                libc::poll(&mut pfd, 1, ms) == 1
                    && libc::recv(fd, reply.as_mut_ptr().cast(), 4, 0) == 4
            } && u32::from_le_bytes(reply) == seq;
        }
        if !ok {
            self.in_sync = false;
            self.missed();
        }
        ok
    }

    /// Runs a bodiless operation; the status the host reported, if it did.
    pub fn op(&mut self, op: AudioOp, daw: &DawHost) -> Option<i32> {
        self.adopt_fresh_region();
        self.region
            .control()
            .in_events_len
            .store(0, Ordering::Relaxed);
        let status = self.roundtrip(op)?;
        let c = self.region.control();
        daw.on_audio_flags(c.callbacks.load(Ordering::Relaxed));
        Some(status)
    }

    fn write_events(&mut self, list: *const clap_input_events) {
        let c = self.region.control();
        let base = self
            .region
            .range(self.layout.in_events_offset, EVENT_AREA_LEN)
            .unwrap_or(std::ptr::null_mut());
        // SAFETY: the input area lies inside our mapping, 64-byte aligned.
        let mut w =
            unsafe { EventWriter::new(base, if base.is_null() { 0 } else { EVENT_AREA_LEN }) };
        // SAFETY: the DAW's event list is valid for the call.
        if let Some(list) = unsafe { list.as_ref() } {
            if let (Some(size), Some(get)) = (list.size, list.get) {
                // SAFETY: calls on the DAW's list as the CLAP ABI defines.
                let n = unsafe { size(list) };
                for i in 0..n {
                    // SAFETY: as above; a returned event is valid for the call.
                    let e = unsafe { get(list, i) };
                    if !e.is_null() {
                        // SAFETY: a valid event from the DAW.
                        unsafe { w.push(e) };
                    }
                }
            }
        }
        c.in_events_len.store(w.len() as u32, Ordering::Relaxed);
    }

    /// Validates the host's output events and pushes them to the DAW.
    /// Malformed events are a broken host (its writer only writes valid
    /// ones): none reach the DAW, and the host is restarted.
    fn read_events(&mut self, list: *const clap_output_events) {
        let c = self.region.control();
        let len = c.out_events_len.load(Ordering::Relaxed) as usize;
        let loaded = match self.region.range(self.layout.out_events_offset, len) {
            Some(src) if len <= EVENT_AREA_LEN => {
                // SAFETY: the range lies inside our mapping.
                if unsafe { self.out_events.load_raw(src, len) }.is_ok() {
                    Ok(())
                } else {
                    Err(RegionFault::OutEvents)
                }
            }
            _ => Err(RegionFault::OutEventsLen),
        };
        if let Err(fault) = loaded {
            self.out_events.clear();
            self.fault(fault);
            return;
        }
        // SAFETY: the DAW's output list is valid for the call.
        let Some(list) = (unsafe { list.as_ref() }) else {
            return;
        };
        let Some(push) = list.try_push else { return };
        for i in 0..self.out_events.len() {
            if let Some(e) = self.out_events.get(i) {
                // SAFETY: a validated event in our private copy.
                unsafe { push(list, e) };
            }
        }
    }

    /// `clap_plugin_params::flush` of an active plugin.
    pub fn flush(
        &mut self,
        input: *const clap_input_events,
        output: *const clap_output_events,
        daw: &DawHost,
    ) {
        self.adopt_fresh_region();
        self.write_events(input);
        if self.roundtrip(AudioOp::ParamsFlush).is_some() {
            daw.on_audio_flags(self.region.control().callbacks.load(Ordering::Relaxed));
            self.read_events(output);
        }
    }

    fn copy_audio_in(&self, bufs: &[clap_audio_buffer], frames: usize) {
        let c = self.region.control();
        for (port, &channels) in self.layout.audio.inputs.iter().enumerate() {
            let buf = bufs.get(port);
            let is_f64 = buf.is_some_and(|b| b.data32.is_null() && !b.data64.is_null());
            c.port_flags_in[port]
                .store(if is_f64 { port_flags::F64 } else { 0 }, Ordering::Relaxed);
            c.constant_mask_in[port].store(buf.map_or(0, |b| b.constant_mask), Ordering::Relaxed);
            c.latency_in[port].store(buf.map_or(0, |b| b.latency), Ordering::Relaxed);
            let width = if is_f64 { 8 } else { 4 };
            for ch in 0..channels as usize {
                let Some(dst) = self
                    .region
                    .range(self.layout.channel_offset(true, port, ch), frames * width)
                else {
                    continue;
                };
                // SAFETY: DAW buffers hold `channel_count` channels of
                // `frames` samples of the announced precision; `dst` has room
                // for `frames` samples (checked by `range`).
                unsafe {
                    let src: *const u8 = match buf {
                        Some(b) if (ch as u32) < b.channel_count => {
                            if is_f64 {
                                (*b.data64.add(ch)).cast()
                            } else if !b.data32.is_null() {
                                (*b.data32.add(ch)).cast()
                            } else {
                                std::ptr::null()
                            }
                        }
                        _ => std::ptr::null(),
                    };
                    if src.is_null() {
                        std::ptr::write_bytes(dst, 0, frames * width);
                    } else {
                        std::ptr::copy_nonoverlapping(src, dst, frames * width);
                    }
                }
            }
        }
    }

    fn prepare_outputs(&self, bufs: &[clap_audio_buffer]) {
        let c = self.region.control();
        for port in 0..self.layout.audio.outputs.len() {
            let is_f64 = bufs
                .get(port)
                .is_some_and(|b| b.data32.is_null() && !b.data64.is_null());
            c.port_flags_out[port]
                .store(if is_f64 { port_flags::F64 } else { 0 }, Ordering::Relaxed);
            c.latency_out[port].store(bufs.get(port).map_or(0, |b| b.latency), Ordering::Relaxed);
        }
    }

    fn copy_audio_out(&self, bufs: &mut [clap_audio_buffer], frames: usize, silence: bool) {
        let c = self.region.control();
        for (port, b) in bufs.iter_mut().enumerate() {
            let is_f64 = b.data32.is_null() && !b.data64.is_null();
            let width = if is_f64 { 8 } else { 4 };
            let ours = self.layout.audio.outputs.get(port).copied().unwrap_or(0);
            for ch in 0..b.channel_count as usize {
                // SAFETY: the DAW's buffer has `channel_count` channels of
                // `frames` samples; the source range is checked by `range`.
                unsafe {
                    let dst: *mut u8 = if is_f64 {
                        (*b.data64.add(ch)).cast()
                    } else if !b.data32.is_null() {
                        (*b.data32.add(ch)).cast()
                    } else {
                        continue;
                    };
                    if dst.is_null() {
                        continue;
                    }
                    let src = (!silence && (ch as u32) < ours)
                        .then(|| {
                            self.region
                                .range(self.layout.channel_offset(false, port, ch), frames * width)
                        })
                        .flatten();
                    match src {
                        Some(src) => std::ptr::copy_nonoverlapping(src, dst, frames * width),
                        None => std::ptr::write_bytes(dst, 0, frames * width),
                    }
                }
            }
            let mask = if silence || b.channel_count > 64 {
                0
            } else {
                let valid = if b.channel_count >= 64 {
                    u64::MAX
                } else {
                    (1u64 << b.channel_count) - 1
                };
                c.constant_mask_out
                    .get(port)
                    .map_or(0, |m| m.load(Ordering::Relaxed) & valid)
            };
            b.constant_mask = mask;
        }
    }

    /// `clap_plugin::process` through the host.
    ///
    /// # Safety
    /// `p` must be the DAW's valid process struct for this call.
    pub unsafe fn process(&mut self, p: &clap_process, daw: &DawHost) -> clap_process_status {
        self.adopt_fresh_region();
        let frames = p.frames_count as usize;
        // SAFETY: the DAW passes `count` buffers at each pointer.
        let (inputs, outputs) = unsafe {
            (
                slice_or_empty(p.audio_inputs, p.audio_inputs_count),
                slice_or_empty_mut(p.audio_outputs, p.audio_outputs_count),
            )
        };
        if p.frames_count > self.layout.audio.max_frames {
            self.copy_audio_out(outputs, frames, true);
            return CLAP_PROCESS_ERROR;
        }
        self.copy_audio_in(inputs, frames);
        self.prepare_outputs(outputs);
        self.write_events(p.in_events);
        let c = self.region.control();
        if self.blocks.is_multiple_of(4096) {
            let (policy, priority) = current_scheduling();
            c.sched_policy.store(policy, Ordering::Relaxed);
            self.realtime_thread = deadline::is_realtime_policy(policy);
            c.sched_priority.store(priority, Ordering::Relaxed);
        }
        self.blocks += 1;
        c.frames.store(p.frames_count, Ordering::Relaxed);
        c.steady_time.store(p.steady_time as u64, Ordering::Relaxed);
        let has_transport = !p.transport.is_null();
        c.has_transport
            .store(u32::from(has_transport), Ordering::Relaxed);
        if has_transport {
            if let Some(dst) = self
                .region
                .range(self.layout.transport_offset, TRANSPORT_AREA_LEN)
            {
                // SAFETY: the DAW's transport event is valid for the call and
                // the area is large enough.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        p.transport.cast::<u8>(),
                        dst,
                        std::mem::size_of::<clap_event_transport>(),
                    );
                    repair_transport_header(dst.cast());
                };
            }
        }
        let audio_ms = self.link.audio_timeout_ms.load(Ordering::Relaxed);
        let limits = Limits {
            audio_ms,
            offline_ms: self
                .link
                .offline
                .load(Ordering::Relaxed)
                .then_some(audio_ms),
            realtime_thread: self.realtime_thread && self.warm,
            sample_rate: self.sample_rate,
        };
        self.block_wait = Some(deadline::block_wait(p.frames_count, &limits));
        let Some(status) = self.roundtrip(AudioOp::Process) else {
            self.block_wait = None;
            self.copy_audio_out(outputs, frames, true);
            return CLAP_PROCESS_CONTINUE;
        };
        self.read_events(p.out_events);
        if self.faulted {
            self.copy_audio_out(outputs, frames, true);
            return CLAP_PROCESS_CONTINUE;
        }
        self.warm = true;
        self.copy_audio_out(outputs, frames, false);
        let c = self.region.control();
        self.link
            .last_tail
            .store(c.tail.load(Ordering::Relaxed), Ordering::Relaxed);
        daw.on_audio_flags(c.callbacks.load(Ordering::Relaxed));
        status
    }
}

/// Some DAWs pass a transport whose header is all zeros, on which plugins
/// that check it (clack's, for one) fail every block. The header of a
/// transport is known, so the plugin gets a valid one; `time` and `flags`
/// stay the DAW's.
///
/// # Safety
/// `t` points to a writable transport event.
unsafe fn repair_transport_header(t: *mut clap_event_header) {
    // SAFETY: per the contract; plain field writes.
    unsafe {
        (*t).size = std::mem::size_of::<clap_event_transport>() as u32;
        (*t).space_id = CLAP_CORE_EVENT_SPACE_ID;
        (*t).type_ = CLAP_EVENT_TRANSPORT;
    }
}

/// # Safety
/// `ptr` must point to `n` values or be null.
unsafe fn slice_or_empty<'a, T>(ptr: *const T, n: u32) -> &'a [T] {
    if ptr.is_null() || n == 0 {
        &[]
    } else {
        // SAFETY: per the contract.
        unsafe { std::slice::from_raw_parts(ptr, n as usize) }
    }
}

/// # Safety
/// `ptr` must point to `n` values or be null.
unsafe fn slice_or_empty_mut<'a, T>(ptr: *mut T, n: u32) -> &'a mut [T] {
    if ptr.is_null() || n == 0 {
        &mut []
    } else {
        // SAFETY: per the contract.
        unsafe { std::slice::from_raw_parts_mut(ptr, n as usize) }
    }
}
