//! Output through the bridge equals direct hosting bit for bit: f32 and
//! f64, block sizes from 1 to 4096 (fixed and varying), several sample
//! rates, with notes and parameter automation at exact sample offsets, and
//! output events at the same offsets.

use bulkhead_tests::*;

const GAIN: &str = "org.bulkhead.sample.gain";
const SYNTH: &str = "org.bulkhead.sample.synth";
const LATENCY: &str = "org.bulkhead.sample.latency";
const BIGSTATE: &str = "org.bulkhead.sample.bigstate";

struct Pair {
    direct: PluginLibrary,
    bridged: PluginLibrary,
}

fn pair(name: &str) -> Pair {
    let direct = PluginLibrary::load(sample_plugin_path(name).unwrap()).unwrap();
    let bridged = PluginLibrary::load(bridged_sample(name).unwrap()).unwrap();
    Pair { direct, bridged }
}

fn assert_same(p: &Pair, id: &str, spec: &RenderSpec, what: &str) {
    let a = render(&p.direct, id, spec).unwrap_or_else(|e| panic!("{what}: direct: {e}"));
    let b = render(&p.bridged, &format!("bulkhead.{id}"), spec)
        .unwrap_or_else(|e| panic!("{what}: bridged: {e}"));
    assert!(
        a.peak() > 0.0,
        "{what}: the direct render is silent, the test proves nothing"
    );
    a.compare(&b).unwrap_or_else(|e| panic!("{what}: {e}"));
}

fn block_patterns() -> Vec<Vec<u32>> {
    vec![
        vec![1],
        vec![64],
        vec![4096],
        vec![1, 7, 64, 4096, 33, 512, 2],
    ]
}

fn precisions() -> [Precision; 2] {
    [Precision::F32, Precision::F64]
}

#[test]
fn gain_with_sample_accurate_automation() {
    let p = pair("gain");
    for rate in [44_100.0, 48_000.0, 96_000.0] {
        for blocks in block_patterns() {
            for precision in precisions() {
                let frames = if blocks == [1] { 3_000 } else { 20_000 };
                let spec = RenderSpec {
                    sample_rate: rate,
                    total_frames: frames,
                    block_sizes: blocks.clone(),
                    precision,
                    input: InputSignal::Noise {
                        seed: 7,
                        amplitude: 0.8,
                    },
                    events: vec![
                        TimedEvent::new(3, Event::param_value(0, 0.25)),
                        TimedEvent::new(1_001, Event::param_mod(0, 0.5)),
                        TimedEvent::new(2_222, Event::param_value(0, 1.75)),
                        TimedEvent::new(frames - 5, Event::param_value(0, 0.0)),
                    ],
                    ..RenderSpec::default()
                };
                assert_same(
                    &p,
                    GAIN,
                    &spec,
                    &format!("gain {rate} Hz {blocks:?} {precision:?}"),
                );
            }
        }
    }
}

#[test]
fn synth_with_notes_and_midi() {
    let p = pair("synth");
    for rate in [44_100.0, 48_000.0] {
        for blocks in block_patterns() {
            for precision in precisions() {
                let frames = if blocks == [1] { 3_000 } else { 24_000 };
                let spec = RenderSpec {
                    sample_rate: rate,
                    total_frames: frames,
                    block_sizes: blocks.clone(),
                    precision,
                    input: InputSignal::Silence,
                    events: vec![
                        TimedEvent::new(0, Event::note_on(0, 0, 60, 0, 0.8)),
                        TimedEvent::new(17, Event::note_on(0, 0, 64, 1, 0.5)),
                        TimedEvent::new(300, Event::param_value(0, 0.9)),
                        TimedEvent::new(555, Event::midi(0, [0x90, 67, 100])),
                        TimedEvent::new(900, Event::note_off(0, 0, 60, 0, 0.0)),
                        TimedEvent::new(1_200, Event::midi(0, [0x80, 67, 0])),
                        TimedEvent::new(1_500, Event::note_choke(0, 0, 64, 1)),
                        TimedEvent::new(2_000, Event::note_on(0, 0, 72, 2, 1.0)),
                        TimedEvent::new(2_500, Event::note_off(0, 0, 72, 2, 0.0)),
                    ],
                    ..RenderSpec::default()
                };
                assert_same(
                    &p,
                    SYNTH,
                    &spec,
                    &format!("synth {rate} Hz {blocks:?} {precision:?}"),
                );
            }
        }
    }
}

#[test]
fn synth_output_events_arrive_at_the_same_offsets() {
    let p = pair("synth");
    let spec = RenderSpec {
        total_frames: 12_000,
        block_sizes: vec![64, 1, 333],
        input: InputSignal::Silence,
        events: vec![
            TimedEvent::new(10, Event::note_on(0, 0, 50, 5, 0.7)),
            TimedEvent::new(2_000, Event::note_off(0, 0, 50, 5, 0.0)),
        ],
        ..RenderSpec::default()
    };
    let a = render(&p.direct, SYNTH, &spec).unwrap();
    let b = render(&p.bridged, &format!("bulkhead.{SYNTH}"), &spec).unwrap();
    assert!(
        a.out_events.len() >= 3,
        "echoes and a note end: {:?}",
        a.out_events
    );
    let frames = |o: &RenderOutput| o.out_events.iter().map(|e| e.frame).collect::<Vec<_>>();
    assert_eq!(frames(&a), frames(&b));
    a.compare(&b).unwrap();
}

#[test]
fn latency_and_bigstate_match_too() {
    for (name, id) in [("latency", LATENCY), ("bigstate", BIGSTATE)] {
        let p = pair(name);
        for precision in precisions() {
            let spec = RenderSpec {
                total_frames: 10_000,
                block_sizes: vec![1, 256, 4096, 13],
                precision,
                input: InputSignal::Sine {
                    frequency: 440.0,
                    amplitude: 0.5,
                },
                events: vec![TimedEvent::new(4_321, Event::param_value(0, 0.5))],
                ..RenderSpec::default()
            };
            assert_same(&p, id, &spec, &format!("{name} {precision:?}"));
        }
    }
}

#[test]
fn in_place_processing_matches_too() {
    let p = pair("gain");
    for precision in precisions() {
        let spec = RenderSpec {
            total_frames: 8_000,
            block_sizes: vec![128, 5],
            precision,
            in_place: InPlace::DeclaredPairs,
            input: InputSignal::Noise {
                seed: 11,
                amplitude: 0.7,
            },
            events: vec![TimedEvent::new(100, Event::param_value(0, 0.3))],
            ..RenderSpec::default()
        };
        assert_same(&p, GAIN, &spec, &format!("gain in place {precision:?}"));
    }
}

#[test]
fn socket_synchronised_mode_matches_too() {
    let policy = Policy {
        socket_sync: true,
        ..Policy::default()
    };
    let p = Pair {
        direct: PluginLibrary::load(sample_plugin_path("gain").unwrap()).unwrap(),
        bridged: PluginLibrary::load(bridged_sample_with_policy("gain", policy).unwrap()).unwrap(),
    };
    for precision in precisions() {
        let spec = RenderSpec {
            total_frames: 8_000,
            block_sizes: vec![64, 1, 4096],
            precision,
            input: InputSignal::Noise {
                seed: 5,
                amplitude: 0.7,
            },
            events: vec![TimedEvent::new(700, Event::param_value(0, 1.5))],
            ..RenderSpec::default()
        };
        assert_same(
            &p,
            GAIN,
            &spec,
            &format!("gain socket-synchronised {precision:?}"),
        );
    }
}
