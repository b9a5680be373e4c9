//! The sample VST3 plugins hosted directly by the Rust VST3 test host: each renders
//! deterministically (32 and 64 bit, odd block sizes, changes and notes at exact frames), its
//! component and controller state round-trip byte for byte, and it answers the interfaces it
//! declares. This is the baseline the bridged bundles will be compared against.
//!
//! Needs `cargo build --workspace` first (the bundles are assembled from the built libraries).

use bulkhead_tests::vst3::*;
use bulkhead_vst3_support::HandlerCall;

fn open(name: &str) -> Vst3Plugin {
    let bundle = vst3_bundle(name).unwrap_or_else(|e| panic!("{e}"));
    Vst3Plugin::open(&bundle, None).unwrap_or_else(|e| panic!("{}: {e}", bundle.display()))
}

fn render_twice(name: &str, spec: &Vst3RenderSpec) -> Vst3Render {
    let a = render3(&mut open(name), spec).unwrap();
    let b = render3(&mut open(name), spec).unwrap();
    assert!(a.bit_equal(&b), "{name}: two renders differ");
    a
}

/// Saves both states, loads them into a fresh instance, saves again: the bytes must match.
fn assert_state_round_trips(name: &str, p: &Vst3Plugin) -> (Vec<u8>, Vec<u8>) {
    let component = p.component_state().unwrap();
    let controller = p.controller_state().unwrap();
    let fresh = open(name);
    fresh.set_component_state(&component).unwrap();
    fresh.set_controller_state(&controller).unwrap();
    assert!(
        fresh.component_state().unwrap() == component,
        "{name}: component state changed"
    );
    assert_eq!(
        fresh.controller_state().unwrap(),
        controller,
        "{name}: controller state changed"
    );
    (component, controller)
}

fn noise_at(seed: u64, c: usize, f: usize, f64_samples: bool) -> f64 {
    let x = noise(seed, c, f);
    if f64_samples {
        x
    } else {
        x as f32 as f64
    }
}

#[test]
fn every_sample_bundle_lists_one_audio_module_class_and_answers_its_interfaces() {
    for (name, _) in VST3_SAMPLES {
        let p = open(name);
        let component = p.component_interfaces();
        for iface in [
            "IComponent",
            "IAudioProcessor",
            "IProcessContextRequirements",
        ] {
            assert!(
                component.contains(&iface),
                "{name}: component lacks {iface}: {component:?}"
            );
        }
        assert!(p.controller.is_some(), "{name}: no controller");
        let info = std::fs::read_to_string(
            vst3_bundle(name)
                .unwrap()
                .join("Contents/Resources/moduleinfo.json"),
        )
        .unwrap();
        assert!(info.contains("Audio Module Class"), "{name}: {info}");
        assert!(!p.params().is_empty(), "{name}: no parameters");
    }
}

#[test]
fn gain_is_split_connected_and_sample_accurate_in_32_and_64_bit() {
    let p = open("gain");
    assert!(!p.single_component);
    assert_eq!(
        p.controller_interfaces(),
        vec![
            "FUnknown",
            "IPluginBase",
            "IEditController",
            "IConnectionPoint"
        ]
    );
    // The component tells the controller its new gain through the host's proxies.
    let mut state = b"BHG1".to_vec();
    state.extend_from_slice(&0.125f64.to_le_bytes());
    let before = p.proxies.as_ref().unwrap().1.notified();
    let s = bulkhead_vst3_support::MemoryStream::from_bytes(state);
    let stream = bulkhead_vst3_support::MemoryStream::as_ibstream(&s);
    // SAFETY: live component and stream.
    let r = unsafe {
        bulkhead_vst3_support::vst3::Steinberg::Vst::IComponentTrait::setState(
            p.component.ptr(),
            stream.as_ptr(),
        )
    };
    assert_eq!(r, 0);
    assert_eq!(p.proxies.as_ref().unwrap().1.notified(), before + 1);
    assert_eq!(p.param_value(0), Some(0.125));
    assert_state_round_trips("gain", &p);

    for f64_samples in [false, true] {
        let spec = Vst3RenderSpec {
            frames: 10_000,
            f64_samples,
            params: vec![(0, 0, 0.5), (5_000, 0, 0.25), (5_001, 0, 1.0)],
            ..Vst3RenderSpec::default()
        };
        let r = render_twice("gain", &spec);
        assert_eq!(r.audio.len(), 1);
        assert_eq!(r.audio[0].len(), 2);
        for (c, ch) in r.audio[0].iter().enumerate() {
            assert_eq!(ch.len(), 10_000);
            for (f, &y) in ch.iter().enumerate() {
                let x = noise_at(spec.seed, c, f, f64_samples);
                let g = if f < 5_000 {
                    1.0
                } else if f == 5_000 {
                    0.5
                } else {
                    2.0
                };
                let want = if f64_samples {
                    x * g
                } else {
                    (x * g) as f32 as f64
                };
                assert_eq!(
                    y.to_bits(),
                    want.to_bits(),
                    "f64={f64_samples} ch {c} frame {f}"
                );
            }
        }
        assert_eq!(
            r.out_params,
            vec![(0, 1, 0.5), (5_000, 1, 0.25), (5_001, 1, 1.0)]
        );
    }
}

#[test]
fn instrument_plays_notes_and_expressions_at_exact_frames() {
    let p = open("instrument");
    assert!(p.single_component);
    assert!(p
        .component_interfaces()
        .contains(&"INoteExpressionController"));
    assert_state_round_trips("instrument", &p);
    drop(p);
    for f64_samples in [false, true] {
        let spec = Vst3RenderSpec {
            frames: 12_000,
            f64_samples,
            notes: vec![
                (
                    100,
                    Note3::On {
                        pitch: 60,
                        velocity: 0.8,
                        id: 1,
                    },
                ),
                (
                    2_000,
                    Note3::On {
                        pitch: 67,
                        velocity: 0.5,
                        id: 2,
                    },
                ),
                (
                    4_000,
                    Note3::Expression {
                        id: 1,
                        type_id: 0,
                        value: 0.25,
                    },
                ),
                (
                    6_000,
                    Note3::Expression {
                        id: 2,
                        type_id: 2,
                        value: 1.0,
                    },
                ),
                (8_000, Note3::Off { pitch: 60, id: 1 }),
                (10_000, Note3::Off { pitch: 67, id: 2 }),
            ],
            params: vec![(9_000, 0, 1.0)],
            ..Vst3RenderSpec::default()
        };
        let r = render_twice("instrument", &spec);
        let left = &r.audio[0][0];
        assert!(
            left[..100].iter().all(|&s| s == 0.0),
            "silent before the first note"
        );
        assert_ne!(left[101], 0.0, "sounding right after the note-on frame");
        assert!(
            left[10_000..].iter().all(|&s| s == 0.0),
            "silent after the last note-off"
        );
        assert_eq!(r.audio[0][0], r.audio[0][1]);
    }
}

#[test]
fn bigstate_carries_16_mib_units_programs_and_midi_mapping() {
    let p = open("bigstate");
    let iface = p.component_interfaces();
    for i in ["IUnitInfo", "IProgramListData", "IMidiMapping"] {
        assert!(iface.contains(&i), "{iface:?}");
    }
    p.set_param_value(0, 200.0 / 255.0).unwrap();
    let (component, _) = assert_state_round_trips("bigstate", &p);
    assert!(
        component.len() > 16 << 20,
        "state is {} bytes",
        component.len()
    );
    drop(p);
    let spec = Vst3RenderSpec {
        frames: 5_000,
        params: vec![(1_234, 1, 0.75)],
        ..Vst3RenderSpec::default()
    };
    let a = render_twice("bigstate", &spec);
    // The state's table is audible: a different seed renders differently.
    let mut q = open("bigstate");
    q.set_component_state(&component).unwrap();
    let b = render3(&mut q, &spec).unwrap();
    assert!(!a.bit_equal(&b));
}

#[test]
fn latency_change_asks_for_a_restart_and_delays_by_the_new_latency() {
    let mut p = open("latency");
    assert_eq!(p.latency(), 0);
    p.set_param_value(0, 0.1).unwrap();
    assert_eq!(p.latency(), 100);
    assert!(
        p.handler
            .calls()
            .contains(&HandlerCall::RestartComponent(8)),
        "{:?}",
        p.handler.calls()
    );
    assert_state_round_trips("latency", &p);
    let spec = Vst3RenderSpec {
        frames: 3_000,
        ..Vst3RenderSpec::default()
    };
    let r = render3(&mut p, &spec).unwrap();
    for (f, &y) in r.audio[0][0].iter().enumerate() {
        let want = if f < 100 {
            0.0
        } else {
            noise_at(spec.seed, 0, f - 100, false)
        };
        assert_eq!(y.to_bits(), want.to_bits(), "frame {f}");
    }
}

#[test]
fn fault_passes_audio_through_and_keeps_state_bytes() {
    let p = open("fault");
    p.set_component_state(b"some state the plugin keeps")
        .unwrap();
    assert_eq!(p.component_state().unwrap(), b"some state the plugin keeps");
    drop(p);
    let spec = Vst3RenderSpec {
        frames: 2_000,
        f64_samples: true,
        ..Vst3RenderSpec::default()
    };
    let r = render_twice("fault", &spec);
    for (f, &y) in r.audio[0][1].iter().enumerate() {
        assert_eq!(y.to_bits(), noise(spec.seed, 1, f).to_bits());
    }
}
