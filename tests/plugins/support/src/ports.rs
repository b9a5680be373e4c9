//! The common port layouts: one stereo audio input/output pair, and one note input/output pair.

use clack_extensions::audio_ports::{
    AudioPortFlags, AudioPortInfo, AudioPortInfoWriter, AudioPortType,
};
use clack_extensions::note_ports::{NoteDialect, NoteDialects, NotePortInfo, NotePortInfoWriter};
use clack_plugin::prelude::*;

/// Id of the main audio port (in either direction).
pub const MAIN_PORT_ID: ClapId = ClapId::new(0);
/// Channel count of the main audio port.
pub const STEREO_CHANNELS: u32 = 2;
/// Id of the note port (in either direction).
pub const NOTE_PORT_ID: ClapId = ClapId::new(0);

/// Number of audio ports in either direction of the stereo in/out layout.
pub fn stereo_port_count(_is_input: bool) -> u32 {
    1
}

/// Describes port `index` of the stereo in/out layout: a main stereo port, 64-bit capable, whose
/// input and output form an in-place pair.
pub fn write_stereo_port_info(index: u32, is_input: bool, writer: &mut AudioPortInfoWriter) {
    if index != 0 {
        return;
    }
    writer.set(&AudioPortInfo {
        id: MAIN_PORT_ID,
        name: if is_input { b"Main In" } else { b"Main Out" },
        channel_count: STEREO_CHANNELS,
        flags: AudioPortFlags::IS_MAIN | AudioPortFlags::SUPPORTS_64BITS,
        port_type: Some(AudioPortType::STEREO),
        in_place_pair: Some(MAIN_PORT_ID),
    });
}

/// Number of note ports in either direction.
pub fn note_port_count(_is_input: bool) -> u32 {
    1
}

/// Describes note port `index`: the input accepts CLAP and MIDI notes, the output supports
/// `output_dialects`; both prefer CLAP.
pub fn write_note_port_info(
    index: u32,
    is_input: bool,
    output_dialects: NoteDialects,
    writer: &mut NotePortInfoWriter,
) {
    if index != 0 {
        return;
    }
    writer.set(&NotePortInfo {
        id: NOTE_PORT_ID,
        name: if is_input { b"Notes In" } else { b"Notes Out" },
        supported_dialects: if is_input {
            NoteDialects::CLAP | NoteDialects::MIDI
        } else {
            output_dialects
        },
        preferred_dialect: Some(NoteDialect::Clap),
    });
}

/// Implements the audio-ports extension for a main-thread type with the stereo in/out layout
/// ([`write_stereo_port_info`]).
#[macro_export]
macro_rules! stereo_audio_ports {
    ($main_thread:ty) => {
        impl $crate::__private::clack_extensions::audio_ports::PluginAudioPortsImpl
            for $main_thread
        {
            fn count(&self, is_input: bool) -> u32 {
                $crate::ports::stereo_port_count(is_input)
            }

            fn get(
                &self,
                index: u32,
                is_input: bool,
                writer: &mut $crate::__private::clack_extensions::audio_ports::AudioPortInfoWriter,
            ) {
                $crate::ports::write_stereo_port_info(index, is_input, writer);
            }
        }
    };
}

/// Implements the note-ports extension for a main-thread type with one note input (CLAP and
/// MIDI) and one note output supporting the given dialects ([`write_note_port_info`]).
#[macro_export]
macro_rules! note_ports {
    ($main_thread:ty, output_dialects: $dialects:expr $(,)?) => {
        impl $crate::__private::clack_extensions::note_ports::PluginNotePortsImpl for $main_thread {
            fn count(&self, is_input: bool) -> u32 {
                $crate::ports::note_port_count(is_input)
            }

            fn get(
                &self,
                index: u32,
                is_input: bool,
                writer: &mut $crate::__private::clack_extensions::note_ports::NotePortInfoWriter,
            ) {
                $crate::ports::write_note_port_info(index, is_input, $dialects, writer);
            }
        }
    };
}
