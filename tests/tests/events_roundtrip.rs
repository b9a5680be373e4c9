//! Every core event type goes through the bridge into the plugin and back
//! out unchanged and at the same sample offset: the echo plugin returns
//! each input event as an output event (plus the transport and the steady
//! time it was given), and its output through the bridge must equal its
//! output hosted directly.

use bulkhead_tests::*;

const ID: &str = "org.bulkhead.sample.echo";

fn events() -> Vec<TimedEvent> {
    let target = NoteTarget::new(0, 1, 64, 7);
    let big_sysex: Vec<u8> = std::iter::once(0xF0)
        .chain((0..3000).map(|i| (i % 128) as u8))
        .chain(std::iter::once(0xF7))
        .collect();
    vec![
        TimedEvent::new(0, Event::note_on(0, 1, 64, 7, 0.9)),
        TimedEvent::new(
            3,
            Event::note_expression(CLAP_NOTE_EXPRESSION_TUNING, target, -0.5),
        ),
        TimedEvent::new(
            3,
            Event::note_expression(CLAP_NOTE_EXPRESSION_VOLUME, target, 2.0),
        ),
        TimedEvent::new(17, Event::param_gesture_begin(0)),
        TimedEvent::new(17, Event::param_value(0, 0.25)),
        TimedEvent::new(18, Event::param_mod(0, -0.125)),
        TimedEvent::new(19, Event::param_gesture_end(0)),
        TimedEvent::new(100, Event::midi(0, [0xB0, 7, 100])),
        TimedEvent::new(
            101,
            Event::midi_sysex(0, &[0xF0, 0x7E, 0x7F, 0x06, 0x01, 0xF7]),
        ),
        TimedEvent::new(130, Event::midi_sysex(0, &big_sysex)),
        TimedEvent::new(200, Event::midi2(0, [0x4090_3c00, 0x8000_0000, 0, 0])),
        TimedEvent::new(250, Event::note_choke(0, 1, 64, 7)),
        TimedEvent::new(300, Event::note_off(0, 1, 64, 7, 0.1)),
        TimedEvent::new(301, Event::note_end(0, 1, 64, 7)),
    ]
}

const CLAP_NOTE_EXPRESSION_VOLUME: i32 = 0;
const CLAP_NOTE_EXPRESSION_TUNING: i32 = 2;

#[test]
fn every_core_event_type_round_trips() {
    let direct = PluginLibrary::load(sample_plugin_path("echo").unwrap()).unwrap();
    let bridged = PluginLibrary::load(bridged_sample("echo").unwrap()).unwrap();
    for blocks in [vec![64], vec![1, 7, 300]] {
        for transport in [None, Some(TransportSpec::default())] {
            let spec = RenderSpec {
                total_frames: 1_024,
                block_sizes: blocks.clone(),
                input: InputSignal::Noise {
                    seed: 9,
                    amplitude: 0.5,
                },
                events: events(),
                transport,
                ..RenderSpec::default()
            };
            let a = render(&direct, ID, &spec).unwrap();
            let b = render(&bridged, &format!("bulkhead.{ID}"), &spec).unwrap();
            // Each input event comes back, plus transport and steady-time
            // reports every block.
            assert!(
                a.out_events.len() >= events().len(),
                "{:?}",
                a.out_events.len()
            );
            let types = |o: &RenderOutput| {
                let mut t: Vec<u16> = o.out_events.iter().map(|e| e.event.type_id()).collect();
                t.sort();
                t.dedup();
                t
            };
            // All 13 core types; transport only when the host sends one.
            let expected_types = if transport.is_some() { 13 } else { 12 };
            assert_eq!(
                types(&a).len(),
                expected_types,
                "types seen: {:?}",
                types(&a)
            );
            a.compare(&b)
                .unwrap_or_else(|e| panic!("{blocks:?} {transport:?}: {e}"));
        }
    }
}
