//! A bounded, seeded run of the fuzz targets' decoders over valid messages
//! and their mutations (bit flips, truncation, splices, length lies), and
//! over random bytes. Every input must be rejected or accepted cleanly.

use bulkhead_common::fuzzing::*;
use bulkhead_common::handshake::Hello;
use bulkhead_common::protocol::clap::ext::{params, state};
use bulkhead_common::protocol::clap::{self, MainCallback};
use bulkhead_common::protocol::wire::{Callback, Control, Message, Reply};
use bulkhead_common::shm::events::pack_to_vec;
use bulkhead_common::{codec, shm::AudioLayout};
use clap_sys::events::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn encode(m: &Message) -> Vec<u8> {
    let mut v = Vec::new();
    codec::encode_into(m, &mut v).unwrap();
    v
}

fn corpus() -> Vec<Vec<u8>> {
    let infos = (0..50)
        .map(|i| params::ParamInfo {
            id: i,
            flags: 1,
            cookie: 0xdead_beef,
            name: format!("Param {i}"),
            module: "m/".into(),
            min_value: -1.0,
            max_value: 1.0,
            default_value: 0.0,
        })
        .collect();
    vec![
        encode(&Message::Hello(Hello::ours())),
        encode(&Message::Reply {
            seq: 7,
            body: Reply::Clap(clap::MainReply::GetParamInfos(infos)),
        }),
        encode(&Message::Reply {
            seq: 8,
            body: Reply::Clap(clap::MainReply::SaveState(Ok(state::StateBytes {
                bytes: bulkhead_common::bulk::Bulk::Inline(vec![1, 2, 3, 4, 5, 6, 7, 8]),
            }))),
        }),
        encode(&Message::Callback {
            instance: 1,
            body: Callback::Clap(MainCallback::Log {
                severity: 2,
                message: "hello".into(),
            }),
        }),
        encode(&Message::Request {
            seq: 1,
            instance: 3,
            body: Control::Clap(clap::MainControl::GetParamValue(params::GetParamValue {
                param_id: 4,
            })),
        }),
    ]
}

fn framed(payload: &[u8]) -> Vec<u8> {
    let mut v = (payload.len() as u32).to_le_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.truncate(rng.below(v.len() + 1)),
            2 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = [0, 0xff, 0x7f, 0x80, 0xfb, 0xfc, 0xfd][rng.below(7)];
            }
            3 => {
                let i = rng.below(v.len() + 1);
                let extra: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                v.splice(i..i, extra);
            }
            _ => {
                if v.len() >= 4 {
                    let lie = (rng.next() as u32).to_le_bytes();
                    v[..4].copy_from_slice(&lie);
                }
            }
        }
    }
    v
}

#[test]
fn valid_messages_decode() {
    for m in corpus() {
        assert!(decode_message(&m));
        assert_eq!(decode_stream(&framed(&m)), 1);
    }
}

#[test]
fn mutated_and_random_messages_never_panic() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let corpus = corpus();
    for round in 0..20_000 {
        let base = &corpus[round % corpus.len()];
        let m = mutate(&mut rng, base);
        decode_message(&m);
        if round % 8 == 0 {
            decode_stream(&framed(&m));
            decode_stream(&m);
        }
        let random: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
        decode_message(&random);
    }
}

fn note(time: u32) -> clap_event_note {
    clap_event_note {
        header: clap_event_header {
            size: std::mem::size_of::<clap_event_note>() as u32,
            time,
            space_id: CLAP_CORE_EVENT_SPACE_ID,
            type_: CLAP_EVENT_NOTE_ON,
            flags: 0,
        },
        note_id: 1,
        port_index: 0,
        channel: 0,
        key: 60,
        velocity: 1.0,
    }
}

#[test]
fn mutated_event_areas_never_misbehave() {
    let data = [0xF0u8, 1, 2, 0xF7];
    let sysex = clap_event_midi_sysex {
        header: clap_event_header {
            size: std::mem::size_of::<clap_event_midi_sysex>() as u32,
            time: 3,
            space_id: CLAP_CORE_EVENT_SPACE_ID,
            type_: CLAP_EVENT_MIDI_SYSEX,
            flags: 0,
        },
        port_index: 0,
        buffer: data.as_ptr(),
        size: data.len() as u32,
    };
    let (a, b) = (note(0), note(9));
    let area = pack_to_vec(
        [
            &a.header as *const clap_event_header,
            &sysex.header as *const clap_event_header,
            &b.header as *const clap_event_header,
        ]
        .into_iter(),
    );
    assert!(decode_events(&area) >= 3);
    let mut rng = Rng(0xfeed_face_cafe_beef);
    for _ in 0..20_000 {
        decode_events(&mutate(&mut rng, &area));
    }
}

#[test]
fn mutated_layouts_are_checked() {
    let mut v = Vec::new();
    codec::encode_into(
        &AudioLayout {
            inputs: vec![2, 2],
            outputs: vec![2],
            max_frames: 4096,
        },
        &mut v,
    )
    .unwrap();
    assert!(decode_layout(&v));
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        decode_layout(&mutate(&mut rng, &v));
    }
}
