//! `bulkhead-host --format vst3` spoken to directly, as the bridge does:
//! the handshake, then VST3 requests over the socket, state as bulk bytes
//! (inline and memfd, up to 64 MiB), the outside connection's messages as
//! callbacks, and one block processed through the shared-memory region.
//! The plugin's calls to its handler made inside a request are calls that
//! wait for the bridge's answer, serving nested requests meanwhile.

use bulkhead_common::bulk::{Blob, Bulk};
use bulkhead_common::handshake::Hello;
use bulkhead_common::protocol::vst3::types::*;
use bulkhead_common::protocol::vst3::*;
use bulkhead_common::protocol::wire::{self, Answer, Callback, Message, Patience, MAX_NESTING};
use bulkhead_common::protocol::Request;
use bulkhead_common::shm::control::AudioOp;
use bulkhead_common::shm::doorbell::{self, WaitStrategy};
use bulkhead_common::shm::layout::EVENT_AREA_LEN;
use bulkhead_common::shm::{AudioLayout, ShmLayout, ShmRegion};
use bulkhead_common::InstanceId;
use bulkhead_tests::vst3::{noise, vst3_bundle};
use bulkhead_tests::*;
use bulkhead_vst3_support::block::{BlockReader, BlockWriter};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(30);

/// A host process and our end of its socket.
struct Host {
    child: Child,
    stream: UnixStream,
    buf: Vec<u8>,
    seq: u64,
    callbacks: Vec<(InstanceId, Vst3Callback)>,
}

impl Host {
    fn spawn(bundle: &Path) -> Host {
        let (ours, theirs) = UnixStream::pair().unwrap();
        // The child inherits its end across exec.
        rustix::io::fcntl_setfd(&theirs, rustix::io::FdFlags::empty()).unwrap();
        let child = Command::new(built_artifact("bulkhead-host").unwrap())
            .arg("--socket-fd")
            .arg(theirs.as_raw_fd().to_string())
            .arg("--format")
            .arg("vst3")
            .arg("--plugin")
            .arg(bundle)
            .spawn()
            .unwrap();
        drop(theirs);
        let mut buf = Vec::new();
        let by = Patience::Until(Instant::now() + PATIENCE);
        let (hello, _) = wire::recv(&ours, &mut buf, by).unwrap();
        assert!(matches!(hello, Message::Hello(_)), "{hello:?}");
        wire::send(&ours, &Message::Hello(Hello::ours()), &[], &mut buf, by).unwrap();
        Host {
            child,
            stream: ours,
            buf,
            seq: 0,
            callbacks: Vec::new(),
        }
    }

    /// One request and its reply (with the reply's descriptors); callbacks
    /// that come first are kept, and so are calls, answered as a bridge with
    /// no DAW thread waiting answers them: deferred (delivered later as a
    /// callback).
    fn call_fds<R: Request>(
        &mut self,
        instance: InstanceId,
        req: R,
        fds: &[RawFd],
    ) -> (R::Response, Vec<OwnedFd>) {
        self.seq += 1;
        let by = Patience::Until(Instant::now() + PATIENCE);
        let msg = Message::Request {
            seq: self.seq,
            instance,
            body: req.into_control(),
        };
        let mut scratch = Vec::new();
        wire::send(&self.stream, &msg, fds, &mut scratch, by).unwrap();
        loop {
            let (msg, fds) = wire::recv(&self.stream, &mut self.buf, by).unwrap();
            match msg {
                Message::Reply { seq, body } => {
                    assert_eq!(seq, self.seq);
                    return (R::from_reply(body).expect("the reply of the request"), fds);
                }
                Message::Callback {
                    instance,
                    body: Callback::Vst3(cb),
                } => self.callbacks.push((instance, cb)),
                Message::Call {
                    seq,
                    instance,
                    body: Callback::Vst3(cb),
                } => {
                    self.answer(seq, Answer::Deferred);
                    self.callbacks.push((instance, cb));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Sends a request without waiting; its sequence number.
    fn send_request<R: Request>(&mut self, instance: InstanceId, req: R) -> u64 {
        self.seq += 1;
        let msg = Message::Request {
            seq: self.seq,
            instance,
            body: req.into_control(),
        };
        let by = Patience::Until(Instant::now() + PATIENCE);
        wire::send(&self.stream, &msg, &[], &mut Vec::new(), by).unwrap();
        self.seq
    }

    /// Answers the host's call `seq`.
    fn answer(&mut self, seq: u64, body: Answer) {
        let by = Patience::Until(Instant::now() + PATIENCE);
        let msg = Message::Answer { seq, body };
        wire::send(&self.stream, &msg, &[], &mut Vec::new(), by).unwrap();
    }

    /// The next message, callbacks kept aside.
    fn next(&mut self) -> Message {
        loop {
            let by = Patience::Until(Instant::now() + PATIENCE);
            match wire::recv(&self.stream, &mut self.buf, by).unwrap().0 {
                Message::Callback {
                    instance,
                    body: Callback::Vst3(cb),
                } => self.callbacks.push((instance, cb)),
                other => return other,
            }
        }
    }

    /// The next message must be a call of the host: its sequence number,
    /// object and body.
    fn expect_call(&mut self) -> (u64, InstanceId, Vst3Callback) {
        match self.next() {
            Message::Call {
                seq,
                instance,
                body: Callback::Vst3(cb),
            } => (seq, instance, cb),
            other => panic!("expected a call, got {other:?}"),
        }
    }

    /// The next message must be the reply to request `seq`.
    fn expect_reply<R: Request>(&mut self, seq: u64) -> R::Response {
        match self.next() {
            Message::Reply { seq: s, body } => {
                assert_eq!(s, seq, "the reply of request {seq}");
                R::from_reply(body).expect("the reply of the request")
            }
            other => panic!("expected the reply of {seq}, got {other:?}"),
        }
    }

    fn call<R: Request>(&mut self, instance: InstanceId, req: R) -> R::Response {
        self.call_fds(instance, req, &[]).0
    }

    fn load_state(&mut self, id: InstanceId, target: StateTarget, bytes: &[u8]) -> TResult {
        let blob = Blob::from_bytes(bytes).unwrap();
        let (bulk, fd) = Bulk::of(&blob);
        let fds: Vec<RawFd> = fd.iter().map(|f| f.as_raw_fd()).collect();
        let req = LoadState {
            target,
            bytes: bulk,
            attrs: StreamAttrs::default(),
        };
        self.call_fds(id, req, &fds).0.unwrap()
    }

    fn save_state(&mut self, id: InstanceId, target: StateTarget) -> (TResult, Vec<u8>, bool) {
        let req = SaveState {
            target,
            attrs: StreamAttrs::default(),
        };
        let (saved, mut fds) = self.call_fds(id, req, &[]);
        let saved = saved.unwrap();
        let by_memfd = matches!(saved.bytes, Bulk::Memfd { .. });
        let blob = saved.bytes.receive(&mut fds).unwrap();
        (saved.result, blob.as_slice().to_vec(), by_memfd)
    }

    /// Closes our end and waits for the host to exit on its own.
    fn finish(mut self) {
        drop(self.stream);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "host exit: {status:?}");
                return;
            }
            assert!(Instant::now() < deadline, "the host did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn gain_state(gain: f64) -> Vec<u8> {
    let mut v = b"BHG1".to_vec();
    v.extend_from_slice(&gain.to_le_bytes());
    v
}

/// Creates and initialises an object of class `cid`.
fn open(host: &mut Host, cid: Guid) -> (InstanceId, Vec<Guid>) {
    let created = host.call(0, CreateObject { module: None, cid }).unwrap();
    let init = host.call(created.instance, Initialize {});
    assert_eq!(init.result, results::OK);
    (created.instance, init.interfaces)
}

fn iid(name: &str) -> Guid {
    bulkhead_vst3_support::com::KNOWN_INTERFACES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap()
        .1
}

#[test]
fn gain_component_and_controller_through_the_host_process() {
    let bundle = vst3_bundle("gain").unwrap();
    let mut host = Host::spawn(&bundle);

    let classes = host.call(0, ListClasses {}).unwrap();
    assert_eq!(classes.classes.len(), 2);
    let processor = classes
        .classes
        .iter()
        .find(|c| c.category == "Audio Module Class")
        .unwrap()
        .cid;
    let (comp, comp_ifaces) = open(&mut host, processor);
    assert!(comp_ifaces.contains(&iid("IComponent")));
    assert!(comp_ifaces.contains(&iid("IAudioProcessor")));
    let controller_cid = host.call(comp, GetControllerClassId {}).unwrap();
    let (ctrl, ctrl_ifaces) = open(&mut host, controller_cid);
    assert!(ctrl_ifaces.contains(&iid("IEditController")));
    assert!(comp != ctrl && comp != 0 && ctrl != 0);

    // Both directions, as the bridge forwards what the DAW makes.
    assert_eq!(host.call(comp, Connect { peer: ctrl }), results::OK);
    assert_eq!(host.call(ctrl, Connect { peer: comp }), results::OK);

    let buses = host.call(comp, GetBuses {});
    assert_eq!(buses.audio_in.len(), 1);
    assert_eq!(buses.audio_out.len(), 1);
    assert_eq!(buses.audio_in[0].channel_count, 2);
    assert!(buses.event_in.is_empty());

    let params = host.call(ctrl, GetParameterInfos {});
    let titles: Vec<_> = params.iter().map(|p| (p.id, p.title.as_str())).collect();
    assert_eq!(titles, [(0, "Gain"), (1, "Readout")]);
    // No such interface: answered, not failed.
    assert_eq!(host.call(comp, GetParameterInfos {}), Vec::new());

    // Component state, byte for byte; the controller hears of it through
    // the connection (a message made by the host context).
    let (r, bytes, _) = host.save_state(comp, StateTarget::Component);
    assert_eq!(r, results::OK);
    assert_eq!(bytes, gain_state(0.5));
    assert_eq!(
        host.load_state(comp, StateTarget::Component, &gain_state(0.25)),
        results::OK
    );
    assert_eq!(
        host.save_state(comp, StateTarget::Component).1,
        gain_state(0.25)
    );
    assert_eq!(host.call(ctrl, GetParamNormalized { id: 0 }), 0.25);
    assert_eq!(
        host.load_state(
            ctrl,
            StateTarget::ComponentIntoController,
            &gain_state(0.125)
        ),
        results::OK
    );
    assert_eq!(host.call(ctrl, GetParamNormalized { id: 0 }), 0.125);

    // A message from outside, rebuilt for the controller.
    let message = MessageRecord {
        id: "GainChanged".into(),
        attributes: vec![("gain".into(), AttrRecord::Float(0.375))],
    };
    assert_eq!(host.call(ctrl, Notify { message }), results::OK);
    assert_eq!(host.call(ctrl, GetParamNormalized { id: 0 }), 0.375);

    // The component connected outside: its messages come back as callbacks.
    assert_eq!(host.call(comp, Disconnect {}), results::OK);
    assert_eq!(host.call(comp, ConnectOutside {}), results::OK);
    host.callbacks.clear();
    assert_eq!(
        host.load_state(comp, StateTarget::Component, &gain_state(0.75)),
        results::OK
    );
    let notified: Vec<_> = host
        .callbacks
        .drain(..)
        .filter_map(|(i, cb)| match cb {
            Vst3Callback::Notify { message } => Some((i, message)),
            _ => None,
        })
        .collect();
    assert_eq!(
        notified,
        [(
            comp,
            MessageRecord {
                id: "GainChanged".into(),
                attributes: vec![("gain".into(), AttrRecord::Float(0.75))],
            }
        )]
    );

    // The controller's state carries any bytes: 64 MiB through a memfd.
    let mut big = b"BHGC".to_vec();
    big.extend((0..64usize << 20).map(|i| (i * 31 + i / 4099) as u8));
    assert_eq!(
        host.load_state(ctrl, StateTarget::Controller, &big),
        results::OK
    );
    let (r, back, by_memfd) = host.save_state(ctrl, StateTarget::Controller);
    assert_eq!(r, results::OK);
    assert!(by_memfd, "a large state travels as a memfd");
    assert!(back == big, "64 MiB state round trip differs");
    drop((big, back));

    assert_eq!(
        host.call(ctrl, SetComponentHandler { present: true }),
        results::OK
    );

    // One block through the region: gain 0.75, then 0.25 from frame 16.
    let frames = 64u32;
    let setup = SetupRecord {
        process_mode: 0,
        symbolic_sample_size: 0,
        max_samples_per_block: 256,
        sample_rate: 48_000.0,
    };
    assert_eq!(host.call(comp, SetupProcessing { setup }), results::OK);
    let audio = AudioLayout {
        inputs: vec![2],
        outputs: vec![2],
        max_frames: 256,
    };
    let layout = ShmLayout::compute(&audio).unwrap();
    let region = ShmRegion::create(&layout).unwrap();
    let (active, _) = host.call_fds(
        comp,
        SetActive {
            state: true,
            layout: Some(audio.clone()),
        },
        &[region.fd().as_raw_fd()],
    );
    assert_eq!(active.unwrap(), results::OK);
    assert_eq!(host.call(comp, SetProcessing { state: true }), results::OK);

    let c = region.control();
    for ch in 0..2 {
        let p = region
            .range(layout.channel_offset(true, 0, ch), layout.channel_stride)
            .unwrap()
            .cast::<f32>();
        for i in 0..frames as usize {
            // SAFETY: the channel holds max_frames slots of 8 bytes.
            unsafe { p.add(i).write(noise(1, ch, i) as f32) };
        }
    }
    let area = region
        .range(layout.in_events_offset, EVENT_AREA_LEN)
        .unwrap();
    // SAFETY: the input event area is ours until we ring.
    let mut writer = unsafe { BlockWriter::new(area, EVENT_AREA_LEN) };
    assert!(writer.push_queue(0, [(16, 0.25)].into_iter()));
    c.in_events_len
        .store(writer.len() as u32, Ordering::Relaxed);
    c.op.store(AudioOp::Process as u32, Ordering::Relaxed);
    c.frames.store(frames, Ordering::Relaxed);
    c.has_transport.store(0, Ordering::Relaxed);
    c.port_flags_in[0].store(0, Ordering::Relaxed);
    c.port_flags_out[0].store(0, Ordering::Relaxed);
    let seq = c.response_seq.load(Ordering::Acquire).wrapping_add(1);
    doorbell::ring(&c.request_seq, &c.host_sleeping, seq);
    assert!(
        doorbell::wait_until(
            &c.response_seq,
            &c.bridge_sleeping,
            |v| v == seq,
            WaitStrategy {
                spin: Duration::ZERO
            },
            Instant::now() + PATIENCE,
        ),
        "the host's audio thread answered"
    );
    assert_eq!(c.status.load(Ordering::Relaxed), results::OK);
    // Nothing allocated on the host's audio thread (its audited sections).
    assert!(c.host_sections.load(Ordering::Relaxed) > 0);
    assert_eq!(c.host_allocations.load(Ordering::Relaxed), 0);
    for ch in 0..2 {
        let p = region
            .range(layout.channel_offset(false, 0, ch), layout.channel_stride)
            .unwrap()
            .cast::<f32>();
        for i in 0..frames as usize {
            let gain = if i < 16 { 0.75 } else { 0.25 };
            let x = noise(1, ch, i) as f32;
            // SAFETY: the channel holds max_frames slots of 8 bytes.
            let y = unsafe { p.add(i).read() };
            assert!(
                (y - x * 2.0 * gain as f32).abs() < 1e-6,
                "channel {ch} frame {i}: {y} for {x}"
            );
        }
    }
    let out_len = c.out_events_len.load(Ordering::Relaxed) as usize;
    let out = region
        .range(layout.out_events_offset, EVENT_AREA_LEN)
        .unwrap();
    let mut reader = BlockReader::with_capacity(EVENT_AREA_LEN);
    // SAFETY: the host answered; the area is ours to read.
    unsafe { reader.load(out, out_len) }.unwrap();
    assert_eq!(reader.queue_count(), 1);
    let (id, points) = reader.queue(0).unwrap();
    assert_eq!((id, points.len(), points.get(0)), (1, 1, Some((16, 0.25))));

    assert_eq!(host.call(comp, SetProcessing { state: false }), results::OK);
    let stopped = host.call(
        comp,
        SetActive {
            state: false,
            layout: None,
        },
    );
    assert_eq!(stopped.unwrap(), results::OK);

    assert_eq!(host.call(comp, Disconnect {}), results::OK);
    assert_eq!(host.call(ctrl, Disconnect {}), results::OK);
    assert_eq!(host.call(ctrl, Terminate {}), results::OK);
    assert_eq!(host.call(comp, Terminate {}), results::OK);
    host.call(ctrl, ReleaseObject {});
    host.call(comp, ReleaseObject {});
    // Released objects are gone: their ids are never reused.
    assert_eq!(host.call(comp, GetLatencySamples {}), 0);
    host.finish();
}

#[test]
fn big_state_round_trips_through_a_memfd() {
    let bundle = vst3_bundle("bigstate").unwrap();
    let mut host = Host::spawn(&bundle);
    let classes = host.call(0, ListClasses {}).unwrap();
    let cid = classes
        .classes
        .iter()
        .find(|c| c.category == "Audio Module Class")
        .unwrap()
        .cid;
    let (comp, _) = open(&mut host, cid);
    let (r, bytes, by_memfd) = host.save_state(comp, StateTarget::Component);
    assert_eq!(r, results::OK);
    assert!(by_memfd);
    assert!(bytes.len() > 16 << 20, "{} bytes", bytes.len());
    assert_eq!(
        host.load_state(comp, StateTarget::Component, &bytes),
        results::OK
    );
    let (r, again, _) = host.save_state(comp, StateTarget::Component);
    assert_eq!(r, results::OK);
    assert!(again == bytes, "16 MiB state differs after a round trip");
    host.call(comp, Terminate {});
    host.call(comp, ReleaseObject {});
    host.finish();
}

#[test]
fn scan_reports_a_vst3_bundle() {
    let bundle = vst3_bundle("gain").unwrap();
    let out = Command::new(built_artifact("bulkhead-host").unwrap())
        .arg("--scan")
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: bulkhead_common::scan::ScanReport = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.format, bulkhead_common::scan::PluginFormat::Vst3);
    assert_eq!(report.vst3.as_ref().unwrap().classes.len(), 2);
    assert_eq!(report.plugins.len(), 1);
    let p = &report.plugins[0];
    assert_eq!(p.descriptor.id, "B01C00016761696E0000000000000001");
    assert_eq!(p.descriptor.features, ["Fx"]);
    assert_eq!(p.audio_ports.inputs[0].channel_count, 2);
    assert_eq!(p.params.len(), 2);
    assert!(p.error.is_none());
}

/// The latency sample (one object, component and controller) with a
/// component handler: it calls `restartComponent(kLatencyChanged)` inside
/// `setParamNormalized` whenever the latency changes.
fn latency_with_handler() -> (Host, InstanceId) {
    let bundle = vst3_bundle("latency").unwrap();
    let mut host = Host::spawn(&bundle);
    let classes = host.call(0, ListClasses {}).unwrap();
    let (id, ifaces) = open(&mut host, classes.classes[0].cid);
    assert!(ifaces.contains(&iid("IEditController")));
    assert_eq!(
        host.call(id, SetComponentHandler { present: true }),
        results::OK
    );
    (host, id)
}

const LATENCY_CHANGED: i32 =
    bulkhead_vst3_support::vst3::Steinberg::Vst::RestartFlags_::kLatencyChanged;

fn set_latency(samples: u32) -> SetParamNormalized {
    SetParamNormalized {
        id: 0,
        value: f64::from(samples) / 1000.0,
    }
}

#[test]
fn a_handler_call_waits_for_the_daws_answer_and_serves_nested_requests() {
    let (mut host, id) = latency_with_handler();
    let restart = Vst3Callback::RestartComponent {
        flags: LATENCY_CHANGED,
    };

    // The DAW answers, after asking the plugin two things inside its
    // handler (as JUCE reads parameters inside performEdit).
    let outer = host.send_request(id, set_latency(100));
    let (call, instance, body) = host.expect_call();
    assert_eq!((instance, &body), (id, &restart));
    let nested = host.send_request(id, GetParamNormalized { id: 0 });
    assert_eq!(host.expect_reply::<GetParamNormalized>(nested), 0.1);
    let nested = host.send_request(id, GetLatencySamples {});
    assert_eq!(host.expect_reply::<GetLatencySamples>(nested), 100);
    host.answer(
        call,
        Answer::Vst3 {
            result: results::FALSE,
        },
    );
    assert_eq!(host.expect_reply::<SetParamNormalized>(outer), results::OK);
    assert!(
        host.callbacks.is_empty(),
        "an answered call is not sent again one-way: {:?}",
        host.callbacks
    );

    // Deferred: the bridge delivers it later; nothing more from the host.
    let outer = host.send_request(id, set_latency(200));
    let (call2, _, body) = host.expect_call();
    assert_eq!(body, restart);
    assert_ne!(call2, call, "every call has its own sequence number");
    host.answer(call2, Answer::Deferred);
    assert_eq!(host.expect_reply::<SetParamNormalized>(outer), results::OK);
    assert!(host.callbacks.is_empty(), "{:?}", host.callbacks);

    // Refused: the call goes one-way instead, so it is not lost.
    let outer = host.send_request(id, set_latency(300));
    let (call3, _, _) = host.expect_call();
    host.answer(
        call3,
        Answer::Refused {
            reason: "testing".into(),
        },
    );
    assert_eq!(host.expect_reply::<SetParamNormalized>(outer), results::OK);
    assert_eq!(
        host.callbacks.drain(..).collect::<Vec<_>>(),
        [(id, restart.clone())]
    );

    // Nesting: each request served inside a waiting call makes another
    // call, until MAX_NESTING wait at once; the next goes one-way.
    let mut waiting = Vec::new();
    for k in 1..=MAX_NESTING as u32 + 1 {
        let seq = host.send_request(id, set_latency(400 + k));
        if k as usize <= MAX_NESTING {
            let (call, instance, body) = host.expect_call();
            assert_eq!((instance, &body), (id, &restart));
            waiting.push((seq, call));
        } else {
            // Past the bound: refused on the host's side, sent one-way,
            // the request still served.
            assert_eq!(host.expect_reply::<SetParamNormalized>(seq), results::OK);
            assert_eq!(
                host.callbacks.drain(..).collect::<Vec<_>>(),
                [(id, restart.clone())]
            );
        }
    }
    // Still serving at the deepest level.
    let nested = host.send_request(id, GetLatencySamples {});
    assert_eq!(
        host.expect_reply::<GetLatencySamples>(nested),
        400 + MAX_NESTING as u32 + 1
    );
    // Answered innermost first, each level's request completes in turn.
    while let Some((seq, call)) = waiting.pop() {
        host.answer(
            call,
            Answer::Vst3 {
                result: results::OK,
            },
        );
        assert_eq!(host.expect_reply::<SetParamNormalized>(seq), results::OK);
    }
    assert!(host.callbacks.is_empty(), "{:?}", host.callbacks);

    // A call made outside a request (none here) and plain requests still work.
    assert_eq!(host.call(id, GetLatencySamples {}), 417);
    host.call(id, Terminate {});
    host.call(id, ReleaseObject {});
    host.finish();
}

#[test]
fn a_call_without_an_answer_gives_up_and_goes_one_way() {
    let (mut host, id) = latency_with_handler();
    let started = Instant::now();
    let outer = host.send_request(id, set_latency(50));
    let (call, _, body) = host.expect_call();
    assert_eq!(
        body,
        Vst3Callback::RestartComponent {
            flags: LATENCY_CHANGED
        }
    );
    // No answer: the host gives up after its patience (10 s), sends the
    // call one-way and completes the request.
    assert_eq!(host.expect_reply::<SetParamNormalized>(outer), results::OK);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(20),
        "gave up after {waited:?}"
    );
    assert_eq!(host.callbacks.len(), 1, "{:?}", host.callbacks);
    // The late answer is dropped; the host serves on.
    host.answer(call, Answer::Deferred);
    assert_eq!(host.call(id, GetLatencySamples {}), 50);
    host.call(id, Terminate {});
    host.call(id, ReleaseObject {});
    host.finish();
}
