//! A fixed bank of deterministic sine voices with linear attack/release envelopes.

use clack_plugin::events::event_types::{NoteEndEvent, NoteExpressionType};
use clack_plugin::events::{Match, Pckn};
use clack_plugin::prelude::*;
use std::f64::consts::TAU;

pub const VOICE_COUNT: usize = 16;
const ATTACK_SAMPLES: u32 = 64;
const RELEASE_SAMPLES: u32 = 2048;

#[derive(Clone, Copy)]
enum Stage {
    Attack(u32),
    Sustain,
    Release { elapsed: u32, from: f64 },
}

#[derive(Clone, Copy)]
struct Voice {
    /// The port, channel, key and note id given by the host when the note started.
    note: Pckn,
    key: u16,
    /// Start order, used to steal the oldest voice when all are busy.
    age: u64,
    stage: Stage,
    velocity: f64,
    /// Linear gain from the volume note expression.
    volume: f64,
    /// Offset in semitones from the tuning note expression.
    tuning: f64,
    phase: f64,
    phase_step: f64,
}

impl Voice {
    fn level(&self) -> f64 {
        match self.stage {
            Stage::Attack(elapsed) => f64::from(elapsed) / f64::from(ATTACK_SAMPLES),
            Stage::Sustain => 1.0,
            Stage::Release { elapsed, from } => {
                from * (1.0 - f64::from(elapsed) / f64::from(RELEASE_SAMPLES))
            }
        }
    }

    fn retune(&mut self, sample_rate: f64) {
        let semitones = f64::from(self.key) - 69.0 + self.tuning;
        self.phase_step = 440.0 * (semitones / 12.0).exp2() / sample_rate;
    }

    /// Produces the next sample; returns it with `true` if this was the voice's last sample.
    fn tick(&mut self) -> (f64, bool) {
        let sample = (self.phase * TAU).sin() * self.level() * self.velocity * self.volume;
        self.phase = (self.phase + self.phase_step).fract();
        let finished = match &mut self.stage {
            Stage::Attack(elapsed) => {
                *elapsed += 1;
                if *elapsed >= ATTACK_SAMPLES {
                    self.stage = Stage::Sustain;
                }
                false
            }
            Stage::Sustain => false,
            Stage::Release { elapsed, .. } => {
                *elapsed += 1;
                *elapsed >= RELEASE_SAMPLES
            }
        };
        (sample, finished)
    }

    fn release(&mut self) {
        if !matches!(self.stage, Stage::Release { .. }) {
            let from = self.level();
            self.stage = Stage::Release { elapsed: 0, from };
        }
    }
}

/// Whether an event addressed to `target` (where `All` is a wildcard) applies to `note`.
fn targets(target: &Pckn, note: &Pckn) -> bool {
    fn field<T: PartialEq>(target: Match<T>, note: Match<T>) -> bool {
        target.is_all() || target == note
    }
    field(target.port_index, note.port_index)
        && field(target.channel, note.channel)
        && field(target.key, note.key)
        && field(target.note_id, note.note_id)
}

fn end_note(time: u32, voice: &Voice, output: &mut OutputEvents) {
    // If the host's queue is full, the NOTE_END is lost but the voice still ends.
    let _ = output.try_push(NoteEndEvent::new(time, voice.note));
}

pub struct Voices {
    voices: [Option<Voice>; VOICE_COUNT],
    next_age: u64,
    sample_rate: f64,
}

impl Voices {
    pub fn new(sample_rate: f64) -> Self {
        Self {
            voices: [None; VOICE_COUNT],
            next_age: 0,
            sample_rate,
        }
    }

    pub fn is_active(&self) -> bool {
        self.voices.iter().any(Option::is_some)
    }

    pub fn reset(&mut self) {
        self.voices = [None; VOICE_COUNT];
    }

    /// Starts a voice, stealing (and ending) the oldest one if all are busy.
    pub fn note_on(&mut self, time: u32, note: Pckn, velocity: f64, output: &mut OutputEvents) {
        let Match::Specific(key) = note.key else {
            return;
        };
        let slot = match self.voices.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                let oldest = (0..VOICE_COUNT)
                    .min_by_key(|&index| self.voices[index].map(|voice| voice.age))
                    .unwrap_or(0);
                if let Some(stolen) = self.voices[oldest].take() {
                    end_note(time, &stolen, output);
                }
                oldest
            }
        };
        let mut voice = Voice {
            note,
            key,
            age: self.next_age,
            stage: Stage::Attack(0),
            velocity: if velocity.is_finite() {
                velocity.clamp(0.0, 1.0)
            } else {
                0.0
            },
            volume: 1.0,
            tuning: 0.0,
            phase: 0.0,
            phase_step: 0.0,
        };
        voice.retune(self.sample_rate);
        self.next_age += 1;
        self.voices[slot] = Some(voice);
    }

    pub fn note_off(&mut self, target: &Pckn) {
        self.matching(target).for_each(Voice::release);
    }

    /// Silences matching voices immediately, ending them at `time`.
    pub fn choke(&mut self, time: u32, target: &Pckn, output: &mut OutputEvents) {
        for slot in &mut self.voices {
            if let Some(voice) = slot.take_if(|voice| targets(target, &voice.note)) {
                end_note(time, &voice, output);
            }
        }
    }

    pub fn expression(&mut self, target: &Pckn, kind: Option<NoteExpressionType>, value: f64) {
        if !value.is_finite() {
            return;
        }
        let sample_rate = self.sample_rate;
        match kind {
            Some(NoteExpressionType::Volume) => {
                for voice in self.matching(target) {
                    voice.volume = value.clamp(0.0, 4.0);
                }
            }
            Some(NoteExpressionType::Tuning) => {
                for voice in self.matching(target) {
                    voice.tuning = value.clamp(-120.0, 120.0);
                    voice.retune(sample_rate);
                }
            }
            _ => {}
        }
    }

    /// Renders the sum of all voices times `gain` into `mix`, whose first sample is at block
    /// offset `offset`; voices finishing their release emit a NOTE_END at their last sample.
    pub fn render(&mut self, mix: &mut [f64], offset: u32, gain: f64, output: &mut OutputEvents) {
        for (time, sample) in (offset..).zip(mix) {
            let mut sum = 0.0;
            for slot in &mut self.voices {
                let Some(voice) = slot else { continue };
                let (value, finished) = voice.tick();
                sum += value;
                if finished {
                    end_note(time, voice, output);
                    *slot = None;
                }
            }
            *sample = sum * gain;
        }
    }

    fn matching<'s>(&'s mut self, target: &'s Pckn) -> impl Iterator<Item = &'s mut Voice> {
        self.voices
            .iter_mut()
            .flatten()
            .filter(move |voice| targets(target, &voice.note))
    }
}
