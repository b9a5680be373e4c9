//! Host-side self tests against the in-process probe plugin.

use crate::probe::{PROBE_ENTRY, PROBE_ID};
use crate::*;

fn probe_library() -> PluginLibrary {
    // SAFETY: PROBE_ENTRY is a complete, valid CLAP entry defined in this crate.
    unsafe { PluginLibrary::from_static_entry(&PROBE_ENTRY, "probe") }.unwrap()
}

fn id() -> &'static str {
    PROBE_ID.to_str().unwrap()
}

fn logs(record: &HostRecord) -> Vec<String> {
    record.logs.iter().map(|l| l.message.clone()).collect()
}

#[test]
fn descriptors_and_bad_ids() {
    let lib = probe_library();
    let d = lib.descriptors();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].id, id());
    assert_eq!(d[0].features, vec!["audio-effect".to_string()]);
    let err = Instance::new(&lib, "nope", HostConfig::default()).unwrap_err();
    assert!(matches!(err, TestHostError::NoSuchPlugin { .. }), "{err}");
    let err = PluginLibrary::load("/definitely/missing.clap").unwrap_err();
    assert!(
        matches!(err, TestHostError::PluginFileMissing { .. }),
        "{err}"
    );
}

#[test]
fn host_extensions_during_init() {
    let lib = probe_library();
    let inst = Instance::new(&lib, id(), HostConfig::default()).unwrap();
    let rec = inst.record();
    let logs = logs(&rec);
    assert!(
        logs.contains(&"init main=true audio=false".to_string()),
        "{logs:?}"
    );
    // The raw note-ports vtable works (clack's would crash here).
    assert!(logs.contains(&"dialects=15".to_string()), "{logs:?}");
    assert_eq!(rec.note_ports_rescan, vec![1]);
    assert_eq!(rec.note_ports_supported_dialects, 1);
    assert!(
        logs.contains(&"timer registered=true id=0".to_string()),
        "{logs:?}"
    );
    assert_eq!(inst.timers().len(), 1);
    assert!(
        rec.thread_violations.is_empty(),
        "{:?}",
        rec.thread_violations
    );
}

#[test]
fn disabled_extensions_are_hidden() {
    let lib = probe_library();
    let config = HostConfig {
        disabled_extensions: vec!["clap.note-ports".into(), "clap.timer-support".into()],
        ..HostConfig::default()
    };
    let inst = Instance::new(&lib, id(), config).unwrap();
    let logs = logs(&inst.record());
    assert!(!logs.iter().any(|l| l.starts_with("dialects")), "{logs:?}");
    assert!(!logs.iter().any(|l| l.starts_with("timer")), "{logs:?}");
}

#[test]
fn process_roundtrip_threads_events_and_callbacks() {
    let lib = probe_library();
    let mut inst = Instance::new(&lib, id(), HostConfig::default()).unwrap();
    assert_eq!(inst.audio_ports().input_channels(), vec![2]);
    inst.activate(44_100.0, 1, 64).unwrap();
    inst.start_processing().unwrap();
    inst.take_record();

    let mut input = inst.input_buffers::<f32>(64);
    for (i, s) in input.channel_mut(0, 1).iter_mut().enumerate() {
        *s = i as f32;
    }
    let mut output = inst.output_buffers::<f32>(64);
    let events = vec![
        Event::note_on(0, 0, 60, 1, 0.5).with_time(0),
        Event::midi_sysex(0, &[0xF0, 0x7D, 1, 2, 0xF7]).with_time(3),
        Event::param_value(2, 0.25).with_time(10),
        Event::midi2(0, [1, 2, 3, 4]).with_time(20),
    ];
    let transport = Transport::playing_at(0, 44_100.0, 90.0, 3, 4);
    let res = inst
        .process_f32(
            10,
            &input,
            &mut output,
            &events,
            Some(123),
            Some(&transport),
        )
        .unwrap();
    assert_eq!(res.status, ProcessStatus::Continue);
    assert_eq!(&output.channel(0, 1)[..10], &input.channel(0, 1)[..10]);
    assert_eq!(res.out_events, events);
    assert_eq!(
        res.out_events[1].sysex_data(),
        Some(&[0xF0, 0x7D, 1, 2, 0xF7][..])
    );

    let rec = inst.take_record();
    let logs = logs(&rec);
    assert!(
        logs.contains(
            &"process frames=10 in_place=false steady=123 tempo=Some(90.0) main=false audio=true"
                .to_string()
        ),
        "{logs:?}"
    );
    assert_eq!(rec.request_callback, 1);
    assert!(inst.callback_pending());
    assert_eq!(inst.pump(), 1);
    let logs = self::logs(&inst.take_record());
    assert!(
        logs.contains(&"on_main_thread main=true audio=false".to_string()),
        "{logs:?}"
    );
    assert!(!inst.callback_pending());

    assert_eq!(inst.fire_all_timers(), 1);
    let rec = inst.take_record();
    assert_eq!(rec.timer_fires, 1);
    assert!(self::logs(&rec).contains(&"timer 0 main=true audio=false".to_string()));

    // Errors instead of crashes.
    let mut short = inst.output_buffers::<f32>(4);
    assert!(inst
        .process_f32(10, &input, &mut short, &[], None, None)
        .is_err());
    assert!(inst
        .process_f32(65, &input, &mut output, &[], None, None)
        .is_err());
    inst.stop_processing().unwrap();
    assert!(inst
        .process_f32(10, &input, &mut output, &[], None, None)
        .is_err());
    inst.deactivate().unwrap();
    assert!(inst.deactivate().is_err());
    assert!(inst.record().thread_violations.is_empty());
}

#[test]
fn in_place_and_f64() {
    let lib = probe_library();
    let mut inst = Instance::new(&lib, id(), HostConfig::default()).unwrap();
    inst.set_in_place(InPlace::DeclaredPairs);
    inst.activate(48_000.0, 1, 32).unwrap();
    inst.start_processing().unwrap();
    let mut input = inst.input_buffers::<f64>(32);
    input.channel_mut(0, 0).fill(0.25);
    let mut output = inst.output_buffers::<f64>(32);
    inst.take_record();
    inst.process_f64(32, &input, &mut output, &[], None, None)
        .unwrap();
    assert!(output.channel(0, 0).iter().all(|&s| s == 0.5));
    assert_eq!(
        input.channel(0, 0)[0],
        0.25,
        "inputs must never be modified"
    );
    let logs = logs(&inst.take_record());
    assert!(logs.iter().any(|l| l.contains("in_place=true")), "{logs:?}");
}

#[test]
fn render_is_block_size_independent() {
    let lib = probe_library();
    let base = RenderSpec {
        total_frames: 5000,
        block_sizes: vec![1, 7, 64, 4096, 33],
        events: vec![
            TimedEvent::new(0, Event::param_value(1, 0.5)),
            TimedEvent::new(4999, Event::midi(0, [0x90, 60, 100])),
            TimedEvent::new(100, Event::midi_sysex(0, &[0xF0, 1, 0xF7])),
        ],
        transport: Some(TransportSpec::default()),
        ..RenderSpec::default()
    };
    let a = render(&lib, id(), &base).unwrap();
    let b = render(
        &lib,
        id(),
        &RenderSpec {
            block_sizes: vec![256],
            in_place: InPlace::DeclaredPairs,
            ..base.clone()
        },
    )
    .unwrap();
    assert_eq!(a.audio[0][0].len(), 5000);
    a.compare(&b).unwrap();
    assert_eq!(a.out_events.len(), 3);
    assert_eq!(
        a.out_events.iter().map(|e| e.frame).collect::<Vec<_>>(),
        vec![0, 100, 4999]
    );
    assert!(a.peak() > 0.0);
    assert!(a.record.thread_violations.is_empty());

    let c = render(
        &lib,
        id(),
        &RenderSpec {
            input: InputSignal::Noise {
                seed: 2,
                amplitude: 0.5,
            },
            ..base.clone()
        },
    )
    .unwrap();
    assert!(a.compare(&c).is_err());
}
