//! What a host process reports about its plugin is bounded and checked
//! here, before the DAW sees any of it: counts, ids, string lengths and
//! numbers. The host is not trusted (a plugin may be broken or hostile), and
//! a DAW handed 200,000 descriptors, duplicate ids, NaN ranges or a latency
//! of `u32::MAX` misbehaves in ways the user cannot trace back. Each repair
//! is logged (at warn, a few times per rule, so a plugin asked every block
//! cannot flood the log) naming the rule and the value.

use bulkhead_common::protocol::clap::ext::audio_ports::{AudioPortInfo, AudioPorts};
use bulkhead_common::protocol::clap::ext::note_ports::{NotePortInfo, NotePorts};
use bulkhead_common::protocol::clap::ext::params::ParamInfo;
use bulkhead_common::protocol::clap::plugin::PluginDescriptor;
use bulkhead_common::shm::layout::MAX_CHANNELS_PER_PORT;
use bulkhead_common::shm::MAX_PORTS;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};

/// Plugins one bridged file may offer.
pub const MAX_DESCRIPTORS: usize = 1024;
/// Bytes of a plugin id.
pub const MAX_ID_LEN: usize = 1024;
/// Bytes of any other text (names, urls, descriptions, modules).
pub const MAX_TEXT_LEN: usize = 4096;
/// Features of one descriptor.
pub const MAX_FEATURES: usize = 128;
/// Parameters of one plugin.
pub const MAX_PARAMS: usize = 65_536;
/// Note ports per direction.
pub const MAX_NOTE_PORTS: usize = 1024;
/// The longest latency or finite tail, in frames: ten minutes at 384 kHz.
pub const MAX_FRAMES: u32 = 10 * 60 * 384_000;
/// CLAP: a tail at or above `i32::MAX` is infinite.
const INFINITE_TAIL: u32 = i32::MAX as u32;
/// CLAP_INVALID_ID: no parameter, port or note port may have it.
const INVALID_ID: u32 = u32::MAX;
/// How many times each rule is logged per bridge library.
const SAID_PER_RULE: u32 = 5;

/// The rules, for the log (and its rate limit).
#[derive(Clone, Copy, Debug)]
#[repr(usize)]
enum Rule {
    Descriptors,
    Params,
    ParamValue,
    Latency,
    Tail,
    AudioPorts,
    NotePorts,
}

const RULES: usize = 7;
static SAID: [AtomicU32; RULES] = [const { AtomicU32::new(0) }; RULES];

/// Logs a repair under `rule`, at most [`SAID_PER_RULE`] times.
fn say(rule: Rule, what: std::fmt::Arguments<'_>) {
    let n = SAID[rule as usize].fetch_add(1, Ordering::Relaxed);
    if n < SAID_PER_RULE {
        tracing::warn!("bulkhead: the host reported {what}; repaired before the DAW sees it");
    } else if n == SAID_PER_RULE {
        tracing::warn!("bulkhead: more {rule:?} repairs follow; not logged again");
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary and drops NULs
/// (a C string ends at the first). True when it changed.
fn bound_text(s: &mut String, max: usize) -> bool {
    let mut changed = false;
    if s.contains('\0') {
        s.retain(|c| c != '\0');
        changed = true;
    }
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        changed = true;
    }
    changed
}

fn bound_opt(s: &mut Option<String>, max: usize) -> bool {
    s.as_mut().is_some_and(|s| bound_text(s, max))
}

/// At most [`MAX_DESCRIPTORS`], each with a unique, non-empty id of at most
/// [`MAX_ID_LEN`] bytes and bounded text; the rest are dropped.
pub fn descriptors(list: Vec<PluginDescriptor>) -> Vec<PluginDescriptor> {
    let total = list.len();
    if total > MAX_DESCRIPTORS {
        say(
            Rule::Descriptors,
            format_args!("{total} plugins in one file (at most {MAX_DESCRIPTORS} are offered)"),
        );
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(total.min(MAX_DESCRIPTORS));
    for mut d in list.into_iter().take(MAX_DESCRIPTORS) {
        if d.id.is_empty() || d.id.len() > MAX_ID_LEN || d.id.contains('\0') {
            say(
                Rule::Descriptors,
                format_args!(
                    "a plugin id of {} bytes (1..={MAX_ID_LEN}, no NUL)",
                    d.id.len()
                ),
            );
            continue;
        }
        if !seen.insert(d.id.clone()) {
            say(
                Rule::Descriptors,
                format_args!("the plugin id {:?} twice", d.id),
            );
            continue;
        }
        let mut cut = bound_text(&mut d.name, MAX_TEXT_LEN);
        for s in [
            &mut d.vendor,
            &mut d.url,
            &mut d.manual_url,
            &mut d.support_url,
            &mut d.version,
            &mut d.description,
        ] {
            cut |= bound_opt(s, MAX_TEXT_LEN);
        }
        if d.features.len() > MAX_FEATURES {
            d.features.truncate(MAX_FEATURES);
            cut = true;
        }
        for f in &mut d.features {
            cut |= bound_text(f, MAX_TEXT_LEN);
        }
        if cut {
            say(
                Rule::Descriptors,
                format_args!("over-long text in the descriptor of {:?}", d.id),
            );
        }
        out.push(d);
    }
    out
}

/// At most [`MAX_PARAMS`] parameters with unique valid ids and finite
/// ranges (`min <= default <= max`); the others are dropped.
pub fn param_infos(list: Vec<ParamInfo>) -> Vec<ParamInfo> {
    let total = list.len();
    if total > MAX_PARAMS {
        say(
            Rule::Params,
            format_args!("{total} parameters (at most {MAX_PARAMS} are offered)"),
        );
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(total.min(MAX_PARAMS));
    for mut p in list.into_iter().take(MAX_PARAMS) {
        if p.id == INVALID_ID || !seen.insert(p.id) {
            say(
                Rule::Params,
                format_args!("parameter id {} twice or invalid", p.id),
            );
            continue;
        }
        let finite =
            p.min_value.is_finite() && p.max_value.is_finite() && p.default_value.is_finite();
        if !finite || p.min_value > p.max_value {
            say(
                Rule::Params,
                format_args!(
                    "parameter {} with range {}..={} and default {}",
                    p.id, p.min_value, p.max_value, p.default_value
                ),
            );
            continue;
        }
        if !(p.min_value..=p.max_value).contains(&p.default_value) {
            say(
                Rule::Params,
                format_args!(
                    "parameter {} with default {} outside {}..={}",
                    p.id, p.default_value, p.min_value, p.max_value
                ),
            );
            p.default_value = p.default_value.clamp(p.min_value, p.max_value);
        }
        if bound_text(&mut p.name, MAX_TEXT_LEN) | bound_text(&mut p.module, MAX_TEXT_LEN) {
            say(
                Rule::Params,
                format_args!("over-long text for parameter {}", p.id),
            );
        }
        out.push(p);
    }
    out
}

/// A parameter value the DAW may see: finite.
pub fn param_value(param_id: u32, v: f64) -> Option<f64> {
    if v.is_finite() {
        Some(v)
    } else {
        say(
            Rule::ParamValue,
            format_args!("the value {v} for parameter {param_id}"),
        );
        None
    }
}

/// A latency the DAW may see: at most [`MAX_FRAMES`].
pub fn latency(frames: u32) -> Option<u32> {
    if frames <= MAX_FRAMES {
        Some(frames)
    } else {
        say(
            Rule::Latency,
            format_args!("a latency of {frames} frames (at most {MAX_FRAMES})"),
        );
        None
    }
}

/// A tail the DAW may see: up to [`MAX_FRAMES`], or infinite (CLAP's
/// `>= i32::MAX`); anything between is capped. No logging, no allocation:
/// the audio thread uses it too.
pub fn tail_quiet(frames: u32) -> u32 {
    if frames >= INFINITE_TAIL {
        u32::MAX
    } else {
        frames.min(MAX_FRAMES)
    }
}

/// [`tail_quiet`], logged when it repairs (main thread).
pub fn tail(frames: u32) -> u32 {
    let t = tail_quiet(frames);
    if t != frames && frames < INFINITE_TAIL {
        say(
            Rule::Tail,
            format_args!("a tail of {frames} frames (at most {MAX_FRAMES}, or infinite)"),
        );
    }
    t
}

fn audio_port_list(list: &mut Vec<AudioPortInfo>, dir: &str) {
    if list.len() > MAX_PORTS {
        say(
            Rule::AudioPorts,
            format_args!("{} {dir} audio ports (at most {MAX_PORTS})", list.len()),
        );
        list.truncate(MAX_PORTS);
    }
    let mut seen = HashSet::new();
    list.retain(|p| {
        let ok = p.id != INVALID_ID && seen.insert(p.id);
        if !ok {
            say(
                Rule::AudioPorts,
                format_args!("{dir} audio port id {} twice or invalid", p.id),
            );
        }
        ok
    });
    for p in list.iter_mut() {
        if p.channel_count > MAX_CHANNELS_PER_PORT {
            say(
                Rule::AudioPorts,
                format_args!(
                    "{} channels on {dir} audio port {} (at most {MAX_CHANNELS_PER_PORT})",
                    p.channel_count, p.id
                ),
            );
            p.channel_count = MAX_CHANNELS_PER_PORT;
        }
        if bound_text(&mut p.name, MAX_TEXT_LEN) | bound_opt(&mut p.port_type, MAX_TEXT_LEN) {
            say(
                Rule::AudioPorts,
                format_args!("over-long text on {dir} audio port {}", p.id),
            );
        }
    }
}

/// At most [`MAX_PORTS`] ports per direction (what a region holds), unique
/// ids, at most [`MAX_CHANNELS_PER_PORT`] channels each, bounded text.
pub fn audio_ports(mut ports: AudioPorts) -> AudioPorts {
    audio_port_list(&mut ports.inputs, "input");
    audio_port_list(&mut ports.outputs, "output");
    ports
}

fn note_port_list(list: &mut Vec<NotePortInfo>, dir: &str) {
    if list.len() > MAX_NOTE_PORTS {
        say(
            Rule::NotePorts,
            format_args!("{} {dir} note ports (at most {MAX_NOTE_PORTS})", list.len()),
        );
        list.truncate(MAX_NOTE_PORTS);
    }
    let mut seen = HashSet::new();
    list.retain(|p| {
        let ok = p.id != INVALID_ID && seen.insert(p.id);
        if !ok {
            say(
                Rule::NotePorts,
                format_args!("{dir} note port id {} twice or invalid", p.id),
            );
        }
        ok
    });
    for p in list.iter_mut() {
        if bound_text(&mut p.name, MAX_TEXT_LEN) {
            say(
                Rule::NotePorts,
                format_args!("over-long text on {dir} note port {}", p.id),
            );
        }
    }
}

/// At most [`MAX_NOTE_PORTS`] per direction, unique ids, bounded names.
pub fn note_ports(mut ports: NotePorts) -> NotePorts {
    note_port_list(&mut ports.inputs, "input");
    note_port_list(&mut ports.outputs, "output");
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(id: &str) -> PluginDescriptor {
        PluginDescriptor {
            id: id.into(),
            name: "n".into(),
            vendor: None,
            url: None,
            manual_url: None,
            support_url: None,
            version: None,
            description: None,
            features: vec![],
        }
    }

    fn param(id: u32, min: f64, max: f64, default: f64) -> ParamInfo {
        ParamInfo {
            id,
            flags: 0,
            cookie: 0,
            name: "p".into(),
            module: String::new(),
            min_value: min,
            max_value: max,
            default_value: default,
        }
    }

    #[test]
    fn descriptors_are_bounded_unique_and_named() {
        let mut list: Vec<_> = (0..200_000).map(|i| desc(&format!("id.{i}"))).collect();
        list.insert(0, desc(""));
        list.insert(1, desc("id.0"));
        list[2].name = "é".repeat(MAX_TEXT_LEN);
        let out = descriptors(list);
        assert_eq!(
            out.len(),
            MAX_DESCRIPTORS - 2,
            "the first 1024 minus the empty and the repeated id"
        );
        assert_eq!(out[0].id, "id.0");
        assert!(out[0].name.len() <= MAX_TEXT_LEN);
        let ids: HashSet<_> = out.iter().map(|d| &d.id).collect();
        assert_eq!(ids.len(), out.len());
        assert!(descriptors(vec![desc(&"x".repeat(MAX_ID_LEN + 1))]).is_empty());
    }

    #[test]
    fn params_need_unique_ids_and_finite_ranges() {
        let out = param_infos(vec![
            param(1, 0.0, 1.0, 0.5),
            param(1, 0.0, 1.0, 0.5),
            param(2, f64::NAN, 1.0, 0.5),
            param(3, 2.0, 1.0, 1.5),
            param(4, 0.0, f64::INFINITY, 0.0),
            param(5, 0.0, 1.0, 9.0),
            param(u32::MAX, 0.0, 1.0, 0.0),
        ]);
        let ids: Vec<_> = out.iter().map(|p| p.id).collect();
        assert_eq!(ids, [1, 5]);
        assert_eq!(out[1].default_value, 1.0);
        assert_eq!(
            param_infos((0..70_000).map(|i| param(i, 0.0, 1.0, 0.0)).collect()).len(),
            MAX_PARAMS
        );
        assert_eq!(param_value(1, f64::NAN), None);
        assert_eq!(param_value(1, 0.25), Some(0.25));
    }

    #[test]
    fn latency_and_tail_are_bounded() {
        assert_eq!(latency(u32::MAX), None);
        assert_eq!(latency(MAX_FRAMES), Some(MAX_FRAMES));
        assert_eq!(tail(u32::MAX), u32::MAX, "infinite stays infinite");
        assert_eq!(tail(i32::MAX as u32), u32::MAX);
        assert_eq!(tail(MAX_FRAMES + 1), MAX_FRAMES);
        assert_eq!(tail(480), 480);
    }

    #[test]
    fn ports_are_bounded() {
        let port = |id, channels| AudioPortInfo {
            id,
            name: "p".into(),
            flags: 0,
            channel_count: channels,
            port_type: None,
            in_place_pair: u32::MAX,
        };
        let ports = audio_ports(AudioPorts {
            inputs: (0..100).map(|i| port(i, 2)).collect(),
            outputs: vec![port(0, 1000), port(0, 2)],
        });
        assert_eq!(ports.inputs.len(), MAX_PORTS);
        assert_eq!(ports.outputs.len(), 1);
        assert_eq!(ports.outputs[0].channel_count, MAX_CHANNELS_PER_PORT);
        let note = |id| NotePortInfo {
            id,
            supported_dialects: 1,
            preferred_dialect: 1,
            name: "n".into(),
        };
        let notes = note_ports(NotePorts {
            inputs: vec![note(1), note(1), note(2)],
            outputs: (0..5000).map(note).collect(),
        });
        assert_eq!(notes.inputs.len(), 2);
        assert_eq!(notes.outputs.len(), MAX_NOTE_PORTS);
    }
}
