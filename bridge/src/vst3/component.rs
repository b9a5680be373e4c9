//! The plugin side of a component: `IPluginBase`, `IComponent`,
//! `IAudioProcessor`, `IProcessContextRequirements`,
//! `IAudioPresentationLatency`, and `IConnectionPoint` (component and
//! controller alike).

use super::audio::Vst3Audio;
use super::object::ObjectBox;
use super::proxy::{lock, Object, Peer, Remote};
use super::state;
use crate::guard::ffi_guard;
use bulkhead_common::alloc_audit::AudioSection;
use bulkhead_common::protocol::vst3::types::*;
use bulkhead_common::protocol::vst3::{self as proto, StateTarget};
use bulkhead_common::shm::AudioLayout;
use bulkhead_vst3_support::com::{tuid_from_guid, write_out};
use bulkhead_vst3_support::strings::copy_wstring;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;

/// Runs a DAW entry: guarded, after the main thread's pending callbacks.
pub fn entry<T>(object: &Object, fail: T, f: impl FnOnce(&Arc<Remote>) -> T) -> T {
    ffi_guard(fail, || {
        object.remote.main_thread_turn();
        f(&object.remote)
    })
}

/// Writes item `index` of `items`, filled in by `fill`, through the DAW's
/// out-parameter `out`: the one shape of every `get…Info(index, info)`.
/// `kInvalidArgument` for an index out of range or a null `out`.
///
/// # Safety
/// `out` must be null or writable; `T` must be plain data (all-zero is a
/// value).
pub unsafe fn write_item<R, T>(
    items: &[R],
    index: int32,
    out: *mut T,
    fill: impl FnOnce(&R, &mut T),
) -> tresult {
    let Some(item) = usize::try_from(index).ok().and_then(|i| items.get(i)) else {
        return kInvalidArgument;
    };
    // SAFETY: plain data by contract.
    let mut value: T = unsafe { std::mem::zeroed() };
    fill(item, &mut value);
    // SAFETY: null or writable by contract.
    if unsafe { write_out(out, value) } {
        kResultOk
    } else {
        kInvalidArgument
    }
}

/// The audio layout of the component as configured now: the channel count
/// of every audio bus, and the largest block.
pub fn active_layout(remote: &Remote) -> Option<AudioLayout> {
    let setup = lock(&remote.config).setup?;
    let buses = buses(remote);
    Some(AudioLayout {
        inputs: buses
            .audio_in
            .iter()
            .map(|b| b.channel_count.max(0) as u32)
            .collect(),
        outputs: buses
            .audio_out
            .iter()
            .map(|b| b.channel_count.max(0) as u32)
            .collect(),
        max_frames: setup.max_samples_per_block.max(1) as u32,
    })
}

/// The component's buses (cached).
pub fn buses(remote: &Remote) -> Buses {
    remote
        .cached(|c| &mut c.buses, proto::GetBuses {})
        .unwrap_or_default()
}

/// Stops the audio path (before deactivation or destruction).
pub fn deactivate_audio(remote: &Remote) {
    remote.link.mark_down();
    remote.link.quiesce();
    *lock(&remote.link.region) = None;
    // SAFETY: deactivation and destruction run with no `process` call in
    // flight (VST3's rules), so the audio state is ours here.
    unsafe { *remote.audio.get() = None };
    remote.link.audio.clear();
}

fn tresult_of(r: Result<TResult, crate::BridgeError>, down: TResult) -> tresult {
    r.unwrap_or(down)
}

impl IPluginBaseTrait for Object {
    unsafe fn initialize(&self, _context: *mut FUnknown) -> tresult {
        // The plugin gets the host process's own context (the DAW's objects
        // cannot cross); the DAW's is not kept.
        entry(self, kResultFalse, |r| {
            if let (false, Some(p)) = (r.is_born(), &r.profile) {
                // Made with the rest of the setup when first needed.
                r.set_interfaces(&p.interfaces_initialized);
                lock(&r.config).initialized = true;
                return kResultOk;
            }
            initialize(r)
        })
    }

    unsafe fn terminate(&self) -> tresult {
        entry(self, kResultOk, |r| {
            deactivate_audio(r);
            lock(&r.config).initialized = false;
            if !r.is_born() {
                return kResultOk;
            }
            tresult_of(r.call(proto::Terminate {}), kResultOk)
        })
    }
}

fn initialize(r: &Remote) -> tresult {
    match r.call(proto::Initialize {}) {
        Ok(init) => {
            if init.result == kResultOk {
                r.set_interfaces(&init.interfaces);
                lock(&r.config).initialized = true;
            }
            init.result
        }
        Err(e) => {
            tracing::error!(plugin = r.name(), "initialize: {e}");
            kResultFalse
        }
    }
}

impl IComponentTrait for Object {
    unsafe fn getControllerClassId(&self, class_id: *mut TUID) -> tresult {
        entry(self, kResultFalse, |r| {
            match r.controller_cid().map(|c| super::entry::bridged_cid(&c)) {
                // SAFETY: the DAW passes a writable TUID.
                Some(c) if unsafe { write_out(class_id, tuid_from_guid(&c)) } => kResultOk,
                _ => kResultFalse,
            }
        })
    }

    unsafe fn setIoMode(&self, mode: IoMode) -> tresult {
        entry(self, kResultFalse, |r| {
            lock(&r.config).io_mode = Some(mode);
            tresult_of(r.call(proto::SetIoMode { mode }), kResultFalse)
        })
    }

    unsafe fn getBusCount(&self, media_type: MediaType, dir: BusDirection) -> int32 {
        entry(self, 0, |r| buses(r).of(media_type, dir).len() as i32)
    }

    unsafe fn getBusInfo(
        &self,
        media_type: MediaType,
        dir: BusDirection,
        index: int32,
        bus: *mut BusInfo,
    ) -> tresult {
        entry(self, kInvalidArgument, |r| {
            let buses = buses(r);
            // SAFETY: the DAW passes a writable BusInfo, plain data.
            unsafe {
                write_item(
                    buses.of(media_type, dir),
                    index,
                    bus,
                    |b, info: &mut BusInfo| {
                        info.mediaType = b.media_type;
                        info.direction = b.direction;
                        info.channelCount = b.channel_count;
                        copy_wstring(&b.name, &mut info.name);
                        info.busType = b.bus_type;
                        info.flags = b.flags;
                    },
                )
            }
        })
    }

    unsafe fn getRoutingInfo(
        &self,
        in_info: *mut RoutingInfo,
        out_info: *mut RoutingInfo,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            // SAFETY: the DAW passes a readable RoutingInfo.
            let Some(input) = (unsafe { in_info.as_ref() }) else {
                return kInvalidArgument;
            };
            let input = RoutingRecord {
                media_type: input.mediaType,
                bus_index: input.busIndex,
                channel: input.channel,
            };
            match r.call(proto::GetRoutingInfo { input }) {
                Ok(Some(o)) => {
                    let info = RoutingInfo {
                        mediaType: o.media_type,
                        busIndex: o.bus_index,
                        channel: o.channel,
                    };
                    // SAFETY: the DAW passes a writable RoutingInfo.
                    if unsafe { write_out(out_info, info) } {
                        kResultOk
                    } else {
                        kInvalidArgument
                    }
                }
                _ => kResultFalse,
            }
        })
    }

    unsafe fn activateBus(
        &self,
        media_type: MediaType,
        dir: BusDirection,
        index: int32,
        state: TBool,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            let key = (media_type, dir, index);
            {
                let mut cfg = lock(&r.config);
                cfg.bus_states.retain(|(k, _)| *k != key);
                cfg.bus_states.push((key, state != 0));
            }
            lock(&r.caches).buses = None;
            tresult_of(
                r.call(proto::ActivateBus {
                    media_type,
                    direction: dir,
                    index,
                    state: state != 0,
                }),
                kResultOk,
            )
        })
    }

    unsafe fn setActive(&self, state: TBool) -> tresult {
        entry(self, kResultFalse, |r| set_active(r, state != 0))
    }

    unsafe fn setState(&self, stream: *mut IBStream) -> tresult {
        // SAFETY: the DAW's stream, live for the call.
        entry(self, kResultFalse, |r| unsafe {
            state::load(r, StateTarget::Component, stream)
        })
    }

    unsafe fn getState(&self, stream: *mut IBStream) -> tresult {
        // SAFETY: the DAW's stream, live for the call.
        entry(self, kResultFalse, |r| unsafe {
            state::save(r, StateTarget::Component, stream)
        })
    }
}

fn set_active(r: &Remote, on: bool) -> tresult {
    if !r.is_born() {
        if !on {
            // Never activated: nothing to deactivate.
            return kResultOk;
        }
        // Made before the lifecycle lock: making replays under it.
        if let Err(e) = r.ensure_born() {
            tracing::error!(plugin = r.name(), "cannot start: {e}");
            return kResultFalse;
        }
    }
    let _lifecycle = lock(&r.lifecycle);
    if !on {
        r.link.active.store(false, Ordering::Release);
        r.link.needs_start.store(false, Ordering::Release);
        r.link.processing.store(false, Ordering::Release);
        // A stop no block carried since: the plugin hears it before it is
        // deactivated.
        if r.link.needs_stop.swap(false, Ordering::AcqRel) {
            let _ = r.call(proto::SetProcessing { state: false });
        }
        deactivate_audio(r);
        lock(&r.config).active = false;
        return tresult_of(
            r.call(proto::SetActive {
                state: false,
                layout: None,
            })
            .map(|x| x.unwrap_or(kResultOk)),
            kResultOk,
        );
    }
    if lock(&r.config).active {
        // Activated again without a deactivation (JUCE's prepareToPlay does so when the
        // sample rate or block size changed; the DAW runs no `process` meanwhile): the old
        // region goes, the plugin gets `setActive(1)` again, as when hosted directly.
        deactivate_audio(r);
    }
    if !r.answers::<IAudioProcessor>() {
        lock(&r.config).active = true;
        return tresult_of(
            r.call(proto::SetActive {
                state: true,
                layout: None,
            })
            .map(|x| x.unwrap_or(kResultFalse)),
            kResultFalse,
        );
    }
    let Some(layout) = active_layout(r) else {
        tracing::error!(plugin = r.name(), "setActive before setupProcessing");
        return kResultFalse;
    };
    let sample_rate = lock(&r.config).setup.map_or(48_000.0, |s| s.sample_rate);
    let audio = match Vst3Audio::new(&layout, Arc::clone(&r.link), sample_rate) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(plugin = r.name(), "no audio region: {e}");
            return kResultFalse;
        }
    };
    let region = Arc::clone(&audio.region);
    *lock(&r.link.region) = Some(Arc::clone(&region));
    let fds = [region.fd().as_raw_fd()];
    let answer = r.call_fds(
        proto::SetActive {
            state: true,
            layout: Some(layout),
        },
        &fds,
        r.timeout_slow(),
    );
    let result = match answer {
        Ok((Ok(res), _)) => res,
        Ok((Err(e), _)) => {
            tracing::error!(plugin = r.name(), "activation failed: {e}");
            kResultFalse
        }
        Err(e) => {
            tracing::error!(plugin = r.name(), "activation failed: {e}");
            kResultFalse
        }
    };
    if result != kResultOk {
        *lock(&r.link.region) = None;
        return result;
    }
    // SAFETY: not active yet: no `process` call can run (VST3's rules).
    unsafe { *r.audio.get() = Some(audio) };
    lock(&r.config).active = true;
    r.link.needs_start.store(false, Ordering::Release);
    r.link.needs_stop.store(false, Ordering::Release);
    r.link.active.store(true, Ordering::Release);
    r.link.up.store(true, Ordering::SeqCst);
    kResultOk
}

impl IAudioProcessorTrait for Object {
    unsafe fn setBusArrangements(
        &self,
        inputs: *mut SpeakerArrangement,
        num_ins: int32,
        outputs: *mut SpeakerArrangement,
        num_outs: int32,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            let read = |p: *mut SpeakerArrangement, n: int32| -> Vec<u64> {
                if p.is_null() || n <= 0 {
                    return Vec::new();
                }
                // SAFETY: the DAW passes `n` arrangements at `p`.
                unsafe { std::slice::from_raw_parts(p, n as usize) }.to_vec()
            };
            let (inputs, outputs) = (read(inputs, num_ins), read(outputs, num_outs));
            lock(&r.config).arrangements = Some((inputs.clone(), outputs.clone()));
            lock(&r.caches).buses = None;
            tresult_of(
                r.call(proto::SetBusArrangements { inputs, outputs }),
                kResultFalse,
            )
        })
    }

    unsafe fn getBusArrangement(
        &self,
        dir: BusDirection,
        index: int32,
        arr: *mut SpeakerArrangement,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            match r.query(
                proto::GetBusArrangement {
                    direction: dir,
                    index,
                },
                None,
            ) {
                // SAFETY: the DAW passes a writable arrangement.
                Some(a) if unsafe { write_out(arr, a) } => kResultOk,
                _ => kResultFalse,
            }
        })
    }

    unsafe fn canProcessSampleSize(&self, size: int32) -> tresult {
        entry(self, kResultFalse, |r| match (r.is_born(), &r.profile) {
            (false, Some(p)) => match size {
                0 => p.sample_sizes.0,
                1 => p.sample_sizes.1,
                _ => kInvalidArgument,
            },
            _ => r.query(proto::CanProcessSampleSize { size }, kResultFalse),
        })
    }

    unsafe fn getLatencySamples(&self) -> uint32 {
        entry(self, 0, |r| {
            r.cached(|c| &mut c.latency, proto::GetLatencySamples {})
                .unwrap_or(0)
        })
    }

    unsafe fn setupProcessing(&self, setup: *mut ProcessSetup) -> tresult {
        entry(self, kInvalidArgument, |r| {
            // SAFETY: the DAW passes a readable setup.
            let Some(s) = (unsafe { setup.as_ref() }) else {
                return kInvalidArgument;
            };
            let setup = SetupRecord {
                process_mode: s.processMode,
                symbolic_sample_size: s.symbolicSampleSize,
                max_samples_per_block: s.maxSamplesPerBlock,
                sample_rate: s.sampleRate,
            };
            let result = tresult_of(r.call(proto::SetupProcessing { setup }), kResultFalse);
            if result == kResultOk {
                lock(&r.config).setup = Some(setup);
                // Offline rendering: every block is waited for.
                let offline = s.processMode == ProcessModes_::kOffline as i32;
                r.link.offline.store(offline, Ordering::Relaxed);
                let ms = if offline {
                    r.policy.slow_timeout_ms
                } else {
                    r.policy.audio_timeout_ms
                };
                r.link.audio_timeout_ms.store(ms, Ordering::Relaxed);
            }
            result
        })
    }

    unsafe fn setProcessing(&self, state: TBool) -> tresult {
        // VST3 allows this on the audio thread: no lock, no socket, no
        // main-thread turn while active. The host hears it through the
        // shared memory, before the next block.
        ffi_guard(kResultFalse, || {
            let (r, on) = (&self.remote, state != 0);
            r.link.processing.store(on, Ordering::Release);
            if r.link.active.load(Ordering::Acquire) {
                r.link.needs_start.store(on, Ordering::Release);
                if !on {
                    r.link.needs_stop.store(true, Ordering::Release);
                }
                return kResultOk;
            }
            // Not active (which the API does not allow): as asked.
            if !r.is_born() && !on {
                return kResultOk;
            }
            tresult_of(r.call(proto::SetProcessing { state: on }), kResultOk)
        })
    }

    unsafe fn process(&self, data: *mut ProcessData) -> tresult {
        ffi_guard(kResultFalse, || {
            let _audio = AudioSection::enter();
            // SAFETY: `process` runs only while active, on the one audio
            // thread, never concurrently with `setActive` (VST3's rules).
            let Some(audio) = (unsafe { (*self.remote.audio.get()).as_mut() }) else {
                return kNotInitialized;
            };
            // SAFETY: the DAW's process data, valid for the call.
            let Some(data) = (unsafe { data.as_mut() }) else {
                return kInvalidArgument;
            };
            // SAFETY: as above.
            unsafe { audio.process(data) }
        })
    }

    unsafe fn getTailSamples(&self) -> uint32 {
        entry(self, 0, |r| {
            r.cached(|c| &mut c.tail, proto::GetTailSamples {})
                .unwrap_or(0)
        })
    }
}

impl IProcessContextRequirementsTrait for Object {
    unsafe fn getProcessContextRequirements(&self) -> uint32 {
        entry(self, 0, |r| {
            r.cached(
                |c| &mut c.context_requirements,
                proto::GetProcessContextRequirements {},
            )
            .unwrap_or(0)
        })
    }
}

impl IAudioPresentationLatencyTrait for Object {
    unsafe fn setAudioPresentationLatencySamples(
        &self,
        dir: BusDirection,
        bus: int32,
        samples: uint32,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            {
                let mut cfg = lock(&r.config);
                cfg.presentation_latency.retain(|(k, _)| *k != (dir, bus));
                cfg.presentation_latency.push(((dir, bus), samples));
            }
            tresult_of(
                r.call(proto::SetAudioPresentationLatency {
                    direction: dir,
                    bus,
                    samples,
                }),
                kResultOk,
            )
        })
    }
}

impl IConnectionPointTrait for Object {
    unsafe fn connect(&self, other: *mut IConnectionPoint) -> tresult {
        entry(self, kInvalidArgument, |r| {
            if other.is_null() {
                return kInvalidArgument;
            }
            // SAFETY: the DAW passes a live connection point.
            if let Some(peer) = unsafe { ObjectBox::ours(other) } {
                let peer = &peer.data.remote;
                if Arc::ptr_eq(&peer.link.group, &r.link.group) && peer.ensure_born().is_ok() {
                    *lock(&r.peer) = Peer::Ours(Arc::downgrade(peer));
                    return tresult_of(
                        r.call(proto::Connect {
                            peer: peer.link.instance(),
                        }),
                        kResultFalse,
                    );
                }
            }
            // SAFETY: as above; the pointer is add-ref'ed and kept.
            let Some(other) = (unsafe { vst3::ComRef::from_raw(other) }).map(|r| r.to_com_ptr())
            else {
                return kInvalidArgument;
            };
            *lock(&r.peer) = Peer::Outside(other);
            tresult_of(r.call(proto::ConnectOutside {}), kResultFalse)
        })
    }

    unsafe fn disconnect(&self, _other: *mut IConnectionPoint) -> tresult {
        entry(self, kResultOk, |r| {
            *lock(&r.peer) = Peer::None;
            tresult_of(r.call(proto::Disconnect {}), kResultOk)
        })
    }

    unsafe fn notify(&self, message: *mut IMessage) -> tresult {
        entry(self, kInvalidArgument, |r| {
            // SAFETY: the DAW passes a live message.
            let Some(message) = (unsafe { super::message::from_com(message) }) else {
                return kInvalidArgument;
            };
            tresult_of(r.call(proto::Notify { message }), kResultFalse)
        })
    }
}
