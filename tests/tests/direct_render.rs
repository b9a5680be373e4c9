//! Renders the workspace's sample plugins directly (no bridge) with the test host.
//!
//! The sample plugins must be built first (e.g. `cargo build --workspace`); a missing plugin fails
//! with a message naming the paths that were searched.

use bulkhead_tests::*;

const GAIN_ID: &str = "org.bulkhead.sample.gain";
const SYNTH_ID: &str = "org.bulkhead.sample.synth";

fn library(name: &str) -> PluginLibrary {
    let path = sample_plugin_path(name).unwrap_or_else(|e| panic!("{e}"));
    PluginLibrary::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn gain_spec() -> RenderSpec {
    RenderSpec {
        total_frames: 20_000,
        block_sizes: vec![1, 7, 64, 4096, 33],
        input: InputSignal::Noise {
            seed: 42,
            amplitude: 0.5,
        },
        events: vec![TimedEvent::new(5_000, Event::param_value(0, 0.5))],
        ..RenderSpec::default()
    }
}

#[test]
fn gain_render_is_deterministic_and_applies_gain() {
    let lib = library("gain");
    let spec = gain_spec();
    let a = render(&lib, GAIN_ID, &spec).unwrap();
    let b = render(&lib, GAIN_ID, &spec).unwrap();
    a.compare(&b).unwrap();

    let out = a.audio_f32.as_ref().expect("f32 render keeps f32 audio");
    assert_eq!(a.ports.output_channels(), vec![2]);
    for (c, channel) in out[0].iter().enumerate() {
        assert_eq!(channel.len(), 20_000);
        for (f, &y) in channel.iter().enumerate() {
            let x = spec.input.sample(0, c, f as u64, spec.sample_rate) as f32;
            let expected = if f < 5_000 { x } else { x * 0.5 };
            assert_eq!(y.to_bits(), expected.to_bits(), "channel {c} frame {f}");
        }
    }

    // The read-only readout (param 1 = 2 × gain) is emitted sample-accurately.
    assert_eq!(a.out_events.len(), 1, "{:?}", a.out_events);
    assert_eq!(a.out_events[0].frame, 5_000);
    match a.out_events[0].event.data() {
        EventData::ParamValue {
            param_id, value, ..
        } => {
            assert_eq!(param_id, 1);
            assert_eq!(value, 1.0);
        }
        other => panic!("unexpected event {other:?}"),
    }
    assert!(a.record.thread_violations.is_empty());
}

#[test]
fn gain_block_sizes_precision_and_in_place() {
    let lib = library("gain");
    let reference = render(&lib, GAIN_ID, &gain_spec()).unwrap();
    let other_blocks = render(
        &lib,
        GAIN_ID,
        &RenderSpec {
            block_sizes: vec![512],
            in_place: InPlace::DeclaredPairs,
            ..gain_spec()
        },
    )
    .unwrap();
    reference.compare(&other_blocks).unwrap();

    let f64_a = render(
        &lib,
        GAIN_ID,
        &RenderSpec {
            precision: Precision::F64,
            ..gain_spec()
        },
    )
    .unwrap();
    let f64_b = render(
        &lib,
        GAIN_ID,
        &RenderSpec {
            precision: Precision::F64,
            in_place: InPlace::DeclaredPairs,
            ..gain_spec()
        },
    )
    .unwrap();
    assert!(f64_a.audio_f32.is_none());
    f64_a.compare(&f64_b).unwrap();
}

#[test]
fn gain_params_and_state() {
    let lib = library("gain");
    let mut inst = Instance::new(&lib, GAIN_ID, HostConfig::default()).unwrap();
    let params = inst.params();
    assert_eq!(params[0].id, 0);
    assert_eq!(params[0].name, "Gain");
    assert_eq!(inst.param_value(0).unwrap(), 1.0);
    assert_eq!(inst.value_to_text(0, 0.25).unwrap(), "0.2500");
    assert_eq!(inst.text_to_value(0, "0.75").unwrap(), 0.75);

    let out = inst.flush(&[Event::param_value(0, 0.25)]).unwrap();
    assert_eq!(out, vec![Event::param_value(1, 0.5)]);
    assert_eq!(inst.param_value(0).unwrap(), 0.25);
    let state = inst.save_state().unwrap();

    // A fresh instance restored from that state renders like one that received the event.
    let mut restored = Instance::new(&lib, GAIN_ID, HostConfig::default()).unwrap();
    restored.set_stream_chunk_size(Some(1));
    restored.load_state(&state).unwrap();
    assert_eq!(restored.param_value(0).unwrap(), 0.25);
    assert_eq!(restored.last_stream_stats().bytes, state.len());

    let from_state = render(
        &lib,
        GAIN_ID,
        &RenderSpec {
            state: Some(state.clone()),
            events: Vec::new(),
            ..gain_spec()
        },
    )
    .unwrap();
    let from_event = render(
        &lib,
        GAIN_ID,
        &RenderSpec {
            events: vec![TimedEvent::new(0, Event::param_value(0, 0.25))],
            ..gain_spec()
        },
    )
    .unwrap();
    assert!(from_state.audio_difference(&from_event).is_none());
    assert_eq!(from_state.state.as_deref(), Some(&state[..]));

    assert!(matches!(
        restored.load_state(b"garbage"),
        Err(TestHostError::StateLoadRejected { .. })
    ));
}

#[test]
fn bigstate_large_state_in_small_chunks() {
    let lib = library("bigstate");
    let id = "org.bulkhead.sample.bigstate";
    let mut inst = Instance::new(&lib, id, HostConfig::default()).unwrap();
    let empty = inst.save_state().unwrap();
    // The state ends with a u64 payload length (0 here) followed by the payload.
    let payload: Vec<u8> = (0..16u32 << 20).map(|i| (i % 251) as u8).collect();
    let mut big = empty[..empty.len() - 8].to_vec();
    big.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    big.extend_from_slice(&payload);

    inst.set_stream_chunk_size(Some(65_536));
    inst.take_record();
    inst.load_state(&big).unwrap();
    let rec = inst.take_record();
    assert!(
        !rec.params_rescan.is_empty(),
        "bigstate rescans params on load"
    );
    assert!(inst.last_stream_stats().calls > 256);
    assert_eq!(inst.save_state().unwrap(), big);
}

#[test]
fn synth_renders_notes_deterministically() {
    let lib = library("synth");
    let spec = RenderSpec {
        total_frames: 30_000,
        block_sizes: vec![1, 7, 64, 4096, 33],
        input: InputSignal::Silence,
        events: vec![
            TimedEvent::new(100, Event::note_on(0, 0, 60, 1, 0.8)),
            TimedEvent::new(200, Event::midi(0, [0x90, 64, 100])),
            TimedEvent::new(10_000, Event::note_off(0, 0, 60, 1, 0.0)),
            TimedEvent::new(12_000, Event::midi(0, [0x80, 64, 0])),
        ],
        ..RenderSpec::default()
    };
    let a = render(&lib, SYNTH_ID, &spec).unwrap();
    let b = render(
        &lib,
        SYNTH_ID,
        &RenderSpec {
            block_sizes: vec![256],
            ..spec.clone()
        },
    )
    .unwrap();
    a.compare(&b).unwrap();
    assert!(a.peak() > 0.01, "synth should be audible");
    assert!(!a.out_events.is_empty());

    let mut inst = Instance::new(&lib, SYNTH_ID, HostConfig::default()).unwrap();
    assert_eq!(inst.note_ports(true).len(), 1);
    assert_eq!(inst.note_ports(false).len(), 1);
    assert!(inst.voice_info().is_some());
    inst.set_render_mode(RenderMode::Offline).unwrap();
    inst.activate(48_000.0, 1, 512).unwrap();
    assert!(inst.tail().unwrap().is_some());
}

#[test]
fn missing_sample_plugin_is_a_clear_error() {
    let err = sample_plugin_path("does-not-exist").unwrap_err();
    assert!(
        err.to_string()
            .contains("libbulkhead_sample_does_not_exist"),
        "{err}"
    );
}
