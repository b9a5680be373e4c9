//! Owned, serialisable forms of the VST3 structures that cross the socket.
//! Plain numbers keep the SDK's meaning (`MediaType`, `BusDirection`,
//! `SpeakerArrangement`, `tresult`): this crate does not depend on the
//! bindings, both ends convert at their edge.

use serde::{Deserialize, Serialize};

/// A class or interface id, in memory order.
pub type Guid = [u8; 16];
/// A VST3 result code (`kResultOk` = 0, `kResultFalse` = 1, …).
pub type TResult = i32;

pub mod results {
    //! The `tresult` values the bridge produces itself (Linux values).
    pub const OK: i32 = 0;
    pub const FALSE: i32 = 1;
    pub const NO_INTERFACE: i32 = -1;
    pub const INVALID_ARGUMENT: i32 = 2;
    pub const NOT_IMPLEMENTED: i32 = 3;
    pub const INTERNAL_ERROR: i32 = 4;
    pub const NOT_INITIALIZED: i32 = 5;
}

/// `PFactoryInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactoryRecord {
    pub vendor: String,
    pub url: String,
    pub email: String,
    pub flags: i32,
}

/// One factory class (`PClassInfo2`/`PClassInfoW` merged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassRecord {
    pub index: i32,
    pub cid: Guid,
    pub cardinality: i32,
    pub category: String,
    pub name: String,
    pub class_flags: u32,
    pub sub_categories: String,
    pub vendor: String,
    pub version: String,
    pub sdk_version: String,
    /// Which factory version described the class (1, 2 or 3).
    pub info_version: u8,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleClasses {
    pub factory: FactoryRecord,
    pub classes: Vec<ClassRecord>,
    /// What scanning found each processor class to answer (`bulkhead
    /// sync`): a bridged component whose class has a profile is created
    /// without a host process until the DAW asks something a profile does
    /// not hold, so a DAW that creates components to scan them (Ardour)
    /// starts no host.
    #[serde(default)]
    pub profiles: Vec<ClassProfile>,
}

/// A processor class as a scan saw it, created and initialised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassProfile {
    pub cid: Guid,
    /// The interfaces the new object answered, and after `initialize`.
    pub interfaces: Vec<Guid>,
    pub interfaces_initialized: Vec<Guid>,
    pub buses: Buses,
    /// `canProcessSampleSize` of 32 and 64 bit.
    pub sample_sizes: (TResult, TResult),
    pub controller_cid: Option<Guid>,
}

/// `BusInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusRecord {
    pub media_type: i32,
    pub direction: i32,
    pub channel_count: i32,
    pub name: String,
    pub bus_type: i32,
    pub flags: u32,
}

/// Every bus of a component, by media type and direction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buses {
    pub audio_in: Vec<BusRecord>,
    pub audio_out: Vec<BusRecord>,
    pub event_in: Vec<BusRecord>,
    pub event_out: Vec<BusRecord>,
}

impl Buses {
    /// The buses of `media_type` (0 audio, 1 event) and `direction`
    /// (0 input, 1 output).
    pub fn of(&self, media_type: i32, direction: i32) -> &[BusRecord] {
        match (media_type, direction) {
            (0, 0) => &self.audio_in,
            (0, 1) => &self.audio_out,
            (1, 0) => &self.event_in,
            (1, 1) => &self.event_out,
            _ => &[],
        }
    }
}

/// `RoutingInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRecord {
    pub media_type: i32,
    pub bus_index: i32,
    pub channel: i32,
}

/// `ProcessSetup`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SetupRecord {
    pub process_mode: i32,
    pub symbolic_sample_size: i32,
    pub max_samples_per_block: i32,
    pub sample_rate: f64,
}

/// `ParameterInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamRecord {
    pub id: u32,
    pub title: String,
    pub short_title: String,
    pub units: String,
    pub step_count: i32,
    pub default_normalized: f64,
    pub unit_id: i32,
    pub flags: i32,
}

/// `UnitInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRecord {
    pub id: i32,
    pub parent_unit_id: i32,
    pub name: String,
    pub program_list_id: i32,
}

/// `ProgramListInfo` with its programs' names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramListRecord {
    pub id: i32,
    pub name: String,
    pub programs: Vec<String>,
}

/// `NoteExpressionTypeInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteExpressionRecord {
    pub type_id: u32,
    pub title: String,
    pub short_title: String,
    pub units: String,
    pub unit_id: i32,
    pub default_value: f64,
    pub minimum: f64,
    pub maximum: f64,
    pub step_count: i32,
    pub associated_parameter_id: u32,
    pub flags: i32,
}

/// `KeyswitchInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyswitchRecord {
    pub type_id: u32,
    pub title: String,
    pub short_title: String,
    pub keyswitch_min: i32,
    pub keyswitch_max: i32,
    pub key_remapped: i32,
    pub unit_id: i32,
    pub flags: i32,
}

/// One value of an `IAttributeList`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttrRecord {
    Int(i64),
    Float(f64),
    /// UTF-16 code units, without the terminating zero.
    String(Vec<u16>),
    Binary(#[serde(with = "serde_bytes")] Vec<u8>),
}

/// An attribute list's entries in the order they were set.
pub type Attributes = Vec<(String, AttrRecord)>;

/// An `IMessage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: String,
    pub attributes: Attributes,
}

/// `IStreamAttributes` of a state stream (preset files carry a file name
/// and attributes such as the preset's name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamAttrs {
    pub file_name: Option<Vec<u16>>,
    pub attributes: Attributes,
}
