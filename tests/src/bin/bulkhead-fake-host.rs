//! A stand-in for `bulkhead-host` that misbehaves, so tests can watch the
//! bridge survive it. The mode is the name of the "plugin" file it is
//! started for (`--plugin .../fake-<mode>.clap`); without one it claims
//! another protocol version.
//!
//! Modes, each after a valid handshake and a plugin that seems healthy at
//! first:
//! - `garbage`: after creating the plugin, frames of random bytes;
//! - `trickle`: the hello, one byte every two seconds;
//! - `flood`: two million log callbacks as fast as the socket takes them;
//! - `strangers`: callbacks naming instances it never created;
//! - `descriptors`: 200,000 plugin descriptors;
//! - `scribbler`: accepts activation, then writes random bytes all over the
//!   audio region;
//! - `stopped`: after creating the plugin, stops answering anything.

use bulkhead_common::bulk::Bulk;
use bulkhead_common::handshake::Hello;
use bulkhead_common::protocol::clap::ext::*;
use bulkhead_common::protocol::clap::plugin::*;
use bulkhead_common::protocol::clap::{MainCallback, MainHandler};
use bulkhead_common::protocol::wire::{self, Callback, Control, Message, Patience, Reply};
use bulkhead_common::protocol::Remote;
use bulkhead_common::InstanceId;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

const PATIENCE: Patience = Patience::Idle(Duration::from_secs(30));

fn mode() -> String {
    let plugin = std::env::args()
        .skip_while(|a| a != "--plugin")
        .nth(1)
        .unwrap_or_default();
    std::path::Path::new(&plugin)
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("fake-"))
        .unwrap_or("version")
        .to_string()
}

/// A cheap, seeded random byte source (xorshift).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn descriptor(i: usize) -> PluginDescriptor {
    PluginDescriptor {
        id: format!("org.bulkhead.fake.{i}"),
        name: format!("Fake {i}"),
        vendor: Some("bulkhead".into()),
        url: None,
        manual_url: None,
        support_url: None,
        version: Some("0.0.1".into()),
        description: None,
        features: vec!["audio-effect".into()],
    }
}

/// A plugin that seems healthy: one stereo port pair, one parameter, a
/// state of a few bytes.
struct Fake {
    mode: String,
    next_id: InstanceId,
    region: Option<OwnedFd>,
}

impl MainHandler for Fake {
    fn list_plugins(&mut self, _: InstanceId, _: ListPlugins) -> Remote<Vec<PluginDescriptor>> {
        let n = if self.mode == "descriptors" {
            200_000
        } else {
            1
        };
        Ok((0..n).map(descriptor).collect())
    }
    fn create_plugin(&mut self, _: InstanceId, _: CreatePlugin) -> Remote<CreatedPlugin> {
        let instance = self.next_id;
        self.next_id += 1;
        Ok(CreatedPlugin {
            instance,
            extensions: PluginExtensions {
                audio_ports: true,
                params: true,
                state: true,
                ..PluginExtensions::default()
            },
        })
    }
    fn destroy_plugin(&mut self, _: InstanceId, _: DestroyPlugin) {}
    fn set_host_answers(&mut self, _: InstanceId, _: SetHostAnswers) {}
    fn activate(&mut self, _: InstanceId, _: Activate) -> Remote<()> {
        Ok(())
    }
    fn deactivate(&mut self, _: InstanceId, _: Deactivate) {}
    fn get_audio_ports(
        &mut self,
        _: InstanceId,
        _: audio_ports::GetAudioPorts,
    ) -> audio_ports::AudioPorts {
        audio_ports::AudioPorts::default()
    }
    fn get_note_ports(
        &mut self,
        _: InstanceId,
        _: note_ports::GetNotePorts,
    ) -> note_ports::NotePorts {
        note_ports::NotePorts::default()
    }
    fn get_param_infos(
        &mut self,
        _: InstanceId,
        _: params::GetParamInfos,
    ) -> Vec<params::ParamInfo> {
        Vec::new()
    }
    fn get_param_value(&mut self, _: InstanceId, _: params::GetParamValue) -> Option<f64> {
        None
    }
    fn value_to_text(&mut self, _: InstanceId, _: params::ValueToText) -> Option<String> {
        None
    }
    fn text_to_value(&mut self, _: InstanceId, _: params::TextToValue) -> Option<f64> {
        None
    }
    fn params_flush(&mut self, _: InstanceId, _: params::Flush) -> params::FlushOutput {
        params::FlushOutput { events: Vec::new() }
    }
    fn save_state(&mut self, _: InstanceId, _: state::Save) -> Remote<state::StateBytes> {
        Ok(state::StateBytes {
            bytes: Bulk::Inline(b"FAKESTATE".to_vec()),
        })
    }
    fn load_state(&mut self, _: InstanceId, _: state::Load) -> Remote<()> {
        Ok(())
    }
    fn get_latency(&mut self, _: InstanceId, _: latency::GetLatency) -> u32 {
        0
    }
    fn get_tail(&mut self, _: InstanceId, _: tail::GetTail) -> u32 {
        0
    }
    fn render_has_hard_realtime_requirement(
        &mut self,
        _: InstanceId,
        _: render::HasHardRealtimeRequirement,
    ) -> bool {
        false
    }
    fn render_set(&mut self, _: InstanceId, _: render::Set) -> bool {
        true
    }
    fn get_voice_info(
        &mut self,
        _: InstanceId,
        _: voice_info::GetVoiceInfo,
    ) -> Option<voice_info::VoiceInfo> {
        None
    }
}

fn send(stream: &UnixStream, msg: &Message) -> bool {
    let mut buf = Vec::new();
    wire::send(stream, msg, &[], &mut buf, PATIENCE).is_ok()
}

fn hello(stream: &UnixStream, mode: &str) -> bool {
    let hello = Hello {
        protocol: if mode == "version" {
            999
        } else {
            bulkhead_common::handshake::PROTOCOL_VERSION
        },
        build: if mode == "version" {
            "fake-0.0.0".into()
        } else {
            bulkhead_common::handshake::BUILD_ID.into()
        },
        pid: std::process::id(),
    };
    if mode == "trickle" {
        let mut frame = Vec::new();
        bulkhead_common::codec::encode_into(&Message::Hello(hello), &mut frame).unwrap();
        let mut all = (frame.len() as u32).to_le_bytes().to_vec();
        all.extend(frame);
        for b in all {
            if std::io::Write::write_all(&mut &*stream, &[b]).is_err() {
                return false;
            }
            std::thread::sleep(Duration::from_secs(2));
        }
        return true;
    }
    send(stream, &Message::Hello(hello))
}

/// After the plugin exists: the misbehaviour of `mode`.
fn misbehave(stream: &UnixStream, fake: &mut Fake, instance: InstanceId, noise: &mut Noise) {
    match fake.mode.as_str() {
        "garbage" => loop {
            let junk = noise.bytes(200);
            if bulkhead_common::framing::write_frame(stream, &junk, &[], PATIENCE).is_err() {
                return;
            }
        },
        "flood" => {
            for i in 0..2_000_000u32 {
                let cb = Message::Callback {
                    instance,
                    body: Callback::Clap(MainCallback::Log {
                        severity: 2,
                        message: format!("flood {i}"),
                    }),
                };
                if !send(stream, &cb) {
                    return;
                }
            }
        }
        "strangers" => {
            for stranger in [instance + 1000, u64::MAX] {
                let cb = Message::Callback {
                    instance: stranger,
                    body: Callback::Clap(MainCallback::ParamsRescan { flags: 1 }),
                };
                if !send(stream, &cb) {
                    return;
                }
            }
        }
        "stopped" => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        _ => {}
    }
}

fn scribble(region: &OwnedFd, noise: &mut Noise) {
    let len = rustix::fs::fstat(region).map_or(0, |s| s.st_size as usize);
    if len == 0 {
        return;
    }
    // SAFETY: a shared mapping of the region we were sent, written only
    // with plain bytes; tearing the bridge's view is the point.
    unsafe {
        let Ok(p) = rustix::mm::mmap(
            std::ptr::null_mut(),
            len,
            rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
            rustix::mm::MapFlags::SHARED,
            region,
            0,
        ) else {
            return;
        };
        let bytes = std::slice::from_raw_parts_mut(p.cast::<u8>(), len);
        for _ in 0..50 {
            for b in bytes.iter_mut() {
                *b = noise.next() as u8;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn main() {
    // SAFETY: the bridge passes its socket as fd 3, as it does to the real
    // host.
    let stream = UnixStream::from(unsafe { OwnedFd::from_raw_fd(3) });
    let mode = mode();
    if !hello(&stream, &mode) {
        return;
    }
    let mut buf = Vec::new();
    let Ok((Message::Hello(_), _)) = wire::recv(&stream, &mut buf, PATIENCE) else {
        return;
    };
    if mode == "version" || mode == "trickle" {
        return;
    }
    let mut fake = Fake {
        mode,
        next_id: 1,
        region: None,
    };
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let mut misbehaved = false;
    while let Ok((msg, fds)) = wire::recv(&stream, &mut buf, Patience::Forever) {
        let Message::Request {
            seq,
            instance,
            body: Control::Clap(body),
        } = msg
        else {
            continue;
        };
        let activating = matches!(
            body,
            bulkhead_common::protocol::clap::MainControl::Activate(_)
        );
        if activating {
            fake.region = fds.into_iter().next();
        }
        let reply = body.dispatch(instance, &mut fake);
        let created = match &reply {
            bulkhead_common::protocol::clap::MainReply::CreatePlugin(Ok(c)) => Some(c.instance),
            _ => None,
        };
        if !send(
            &stream,
            &Message::Reply {
                seq,
                body: Reply::Clap(reply),
            },
        ) {
            return;
        }
        if fake.mode == "scribbler" && activating {
            if let Some(region) = fake.region.take() {
                scribble(&region, &mut noise);
            }
        }
        // Healthy through creation and the first answers the bridge asks
        // for, then the mode's misbehaviour.
        if let (Some(id), false) = (created, misbehaved) {
            misbehaved = true;
            if fake.mode != "scribbler" && fake.mode != "descriptors" {
                // Let the bridge finish creating the plugin first (its
                // answers, parameters, ports, first state).
                serve_a_few(&stream, &mut fake, &mut buf, 5);
                misbehave(&stream, &mut fake, id, &mut noise);
            }
        }
    }
    let _ = stream.as_raw_fd();
}

/// Answers `n` more requests normally.
fn serve_a_few(stream: &UnixStream, fake: &mut Fake, buf: &mut Vec<u8>, n: usize) {
    for _ in 0..n {
        let Ok((msg, _)) = wire::recv(stream, buf, Patience::Idle(Duration::from_secs(2))) else {
            return;
        };
        if let Message::Request {
            seq,
            instance,
            body: Control::Clap(body),
        } = msg
        {
            let reply = body.dispatch(instance, fake);
            if !send(
                stream,
                &Message::Reply {
                    seq,
                    body: Reply::Clap(reply),
                },
            ) {
                return;
            }
        }
    }
}
