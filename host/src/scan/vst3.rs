//! Scanning a VST3 bundle: the factory's classes, and for each processor
//! class ("Audio Module Class") a [`ScannedPlugin`] read by creating and
//! initialising the component (buses, latency) and its controller
//! (parameters) through the same [`Vst3Server`] the bridge talks to.

use crate::error::HostError;
use crate::outbox::Outbox;
use crate::vst3::Vst3Server;
use bulkhead_common::protocol::clap::ext::audio_ports::{AudioPortInfo, AudioPorts};
use bulkhead_common::protocol::clap::ext::note_ports::{NotePortInfo, NotePorts};
use bulkhead_common::protocol::clap::ext::params::ParamInfo;
use bulkhead_common::protocol::clap::plugin::{PluginDescriptor, PluginExtensions};
use bulkhead_common::protocol::vst3::types::{results, BusRecord, ClassProfile, ClassRecord};
use bulkhead_common::protocol::vst3::*;
use bulkhead_common::scan::{PluginFormat, ScanReport, ScannedPlugin, REPORT_FORMAT};
use bulkhead_common::InstanceId;
use bulkhead_vst3_support::com::guid_hex;
use bulkhead_vst3_support::factory::AUDIO_MODULE_CLASS;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

/// CLAP's `CLAP_AUDIO_PORT_IS_MAIN`, for a VST3 main bus.
const PORT_IS_MAIN: u32 = 1;
/// VST3 `kMain` bus type.
const MAIN_BUS: i32 = 0;
/// VST3 `ParameterInfo::kCanAutomate` and CLAP's `IS_AUTOMATABLE`.
const CAN_AUTOMATE: i32 = 1;
const CLAP_AUTOMATABLE: u32 = 1 << 5;

pub fn scan(
    plugin: PathBuf,
    outbox: Arc<Outbox>,
    wake: Arc<OwnedFd>,
) -> Result<ScanReport, HostError> {
    let owned = Vst3Server::new(Some(plugin.clone()), outbox, wake);
    // The handler is implemented for `&Vst3Server` (requests may nest).
    let mut server = &owned;
    let classes = server
        .list_classes(0, ListClasses {})
        .map_err(|e| HostError::Scan(e.message))?;
    let mut classes = classes;
    let mut plugins = Vec::new();
    for c in classes
        .classes
        .iter()
        .filter(|c| c.category == AUDIO_MODULE_CLASS)
    {
        let (scanned, profile) = scan_class(&mut server, c);
        plugins.push(scanned);
        classes.profiles.extend(profile);
    }
    drop(owned);
    Ok(ScanReport {
        report_format: REPORT_FORMAT,
        format: PluginFormat::Vst3,
        file: plugin,
        plugins,
        vst3: Some(classes),
    })
}

fn ports(buses: &[BusRecord]) -> Vec<AudioPortInfo> {
    buses
        .iter()
        .enumerate()
        .map(|(i, b)| AudioPortInfo {
            id: i as u32,
            name: b.name.clone(),
            flags: if b.bus_type == MAIN_BUS {
                PORT_IS_MAIN
            } else {
                0
            },
            channel_count: b.channel_count.max(0) as u32,
            port_type: None,
            in_place_pair: u32::MAX,
        })
        .collect()
}

fn note_ports(buses: &[BusRecord]) -> Vec<NotePortInfo> {
    buses
        .iter()
        .enumerate()
        .map(|(i, b)| NotePortInfo {
            id: i as u32,
            supported_dialects: 0,
            preferred_dialect: 0,
            name: b.name.clone(),
        })
        .collect()
}

/// An object of `cid`, created and initialised: its id, and the interfaces
/// it answered before and after `initialize`.
struct Opened {
    id: InstanceId,
    interfaces: Vec<[u8; 16]>,
    interfaces_initialized: Vec<[u8; 16]>,
}

fn open(server: &mut &Vst3Server, cid: [u8; 16]) -> Result<Opened, String> {
    let created = server
        .create_object(0, CreateObject { module: None, cid })
        .map_err(|e| e.message)?;
    let id = created.instance;
    let init = server.initialize(id, Initialize {});
    if init.result != results::OK {
        server.release_object(id, ReleaseObject {});
        return Err(format!("initialize answered {}", init.result));
    }
    Ok(Opened {
        id,
        interfaces: created.interfaces,
        interfaces_initialized: init.interfaces,
    })
}

fn close(server: &mut &Vst3Server, id: InstanceId) {
    server.terminate(id, Terminate {});
    server.release_object(id, ReleaseObject {});
}

fn scan_class(
    server: &mut &Vst3Server,
    class: &ClassRecord,
) -> (ScannedPlugin, Option<ClassProfile>) {
    let mut scanned = ScannedPlugin {
        descriptor: PluginDescriptor {
            id: guid_hex(&class.cid),
            name: class.name.clone(),
            vendor: Some(class.vendor.clone()).filter(|v| !v.is_empty()),
            url: None,
            manual_url: None,
            support_url: None,
            version: Some(class.version.clone()).filter(|v| !v.is_empty()),
            description: None,
            features: class
                .sub_categories
                .split('|')
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
        },
        audio_ports: Default::default(),
        note_ports: Default::default(),
        params: Vec::new(),
        latency: 0,
        extensions: Default::default(),
        error: None,
    };
    let opened = match open(server, class.cid) {
        Ok(o) => o,
        Err(e) => {
            scanned.error = Some(format!("cannot create {}: {e}", class.name));
            return (scanned, None);
        }
    };
    let component = opened.id;
    let buses = server.get_buses(component, GetBuses {});
    let sample_sizes = (
        server.can_process_sample_size(component, CanProcessSampleSize { size: 0 }),
        server.can_process_sample_size(component, CanProcessSampleSize { size: 1 }),
    );
    let controller_cid = server.get_controller_class_id(component, GetControllerClassId {});
    let profile = ClassProfile {
        cid: class.cid,
        interfaces: opened.interfaces,
        interfaces_initialized: opened.interfaces_initialized,
        buses: buses.clone(),
        sample_sizes,
        controller_cid,
    };
    scanned.audio_ports = AudioPorts {
        inputs: ports(&buses.audio_in),
        outputs: ports(&buses.audio_out),
    };
    scanned.note_ports = NotePorts {
        inputs: note_ports(&buses.event_in),
        outputs: note_ports(&buses.event_out),
    };
    scanned.latency = server.get_latency_samples(component, GetLatencySamples {});
    // A single-object plugin answers the controller itself.
    let separate = controller_cid
        .filter(|cid| *cid != class.cid)
        .and_then(|cid| open(server, cid).ok())
        .map(|o| o.id);
    let controller = separate.unwrap_or(component);
    let params = server.get_parameter_infos(controller, GetParameterInfos {});
    scanned.params = params
        .into_iter()
        .map(|p| ParamInfo {
            id: p.id,
            flags: if p.flags & CAN_AUTOMATE != 0 {
                CLAP_AUTOMATABLE
            } else {
                0
            },
            cookie: 0,
            name: p.title,
            module: String::new(),
            min_value: 0.0,
            max_value: 1.0,
            default_value: p.default_normalized,
        })
        .collect();
    scanned.extensions = PluginExtensions {
        audio_ports: true,
        note_ports: !buses.event_in.is_empty() || !buses.event_out.is_empty(),
        params: !scanned.params.is_empty(),
        state: true,
        latency: true,
        tail: true,
        render: false,
        voice_info: false,
    };
    if let Some(c) = separate {
        close(server, c);
    }
    close(server, component);
    (scanned, Some(profile))
}
