//! Routing of input events (CLAP notes, MIDI notes, expressions, params) to the voices.

use crate::params::SynthShared;
use crate::voices::Voices;
use clack_plugin::events::event_types::{NoteOffEvent, NoteOnEvent};
use clack_plugin::events::spaces::CoreEventSpace;
use clack_plugin::events::{Match, Pckn};
use clack_plugin::prelude::*;

const MIDI_NOTE_OFF: u8 = 0x80;
const MIDI_NOTE_ON: u8 = 0x90;

/// Handles one input event occurring at block offset `time`.
pub fn handle(
    shared: &SynthShared,
    voices: &mut Voices,
    time: u32,
    event: &UnknownEvent,
    output: &mut OutputEvents,
) {
    match event.as_core_event() {
        Some(CoreEventSpace::NoteOn(note)) => {
            note_on(voices, time, note.pckn(), note.velocity(), output);
        }
        Some(CoreEventSpace::NoteOff(note)) => {
            note_off(voices, time, note.pckn(), note.velocity(), output);
        }
        Some(CoreEventSpace::NoteChoke(note)) => voices.choke(time, &note.pckn(), output),
        Some(CoreEventSpace::NoteExpression(expression)) => voices.expression(
            &expression.pckn(),
            expression.expression_type(),
            expression.value(),
        ),
        Some(CoreEventSpace::Midi(midi)) => {
            let [status, key, velocity] = midi.data();
            let note = Pckn::new(midi.port_index(), status & 0x0F, key & 0x7F, Match::All);
            let velocity = f64::from(velocity & 0x7F) / 127.0;
            match status & 0xF0 {
                MIDI_NOTE_ON if velocity > 0.0 => note_on(voices, time, note, velocity, output),
                MIDI_NOTE_ON | MIDI_NOTE_OFF => note_off(voices, time, note, velocity, output),
                _ => {}
            }
        }
        Some(CoreEventSpace::ParamValue(value)) => {
            shared.volume.apply_value_event(value);
        }
        _ => {}
    }
}

fn note_on(voices: &mut Voices, time: u32, note: Pckn, velocity: f64, output: &mut OutputEvents) {
    voices.note_on(time, note, velocity, output);
    echo(output, NoteOnEvent::new(time, octave_up(note), velocity));
}

fn note_off(voices: &mut Voices, time: u32, note: Pckn, velocity: f64, output: &mut OutputEvents) {
    voices.note_off(&note);
    echo(output, NoteOffEvent::new(time, octave_up(note), velocity));
}

/// Sends an echo to the note output port (index 0).
fn echo<E: Event>(output: &mut OutputEvents, event: E) {
    // A full output queue only drops the echo.
    let _ = output.try_push(event);
}

fn octave_up(note: Pckn) -> Pckn {
    Pckn {
        port_index: Match::Specific(0),
        key: match note.key {
            Match::Specific(key) => Match::Specific(key + 12),
            Match::All => Match::All,
        },
        ..note
    }
}
