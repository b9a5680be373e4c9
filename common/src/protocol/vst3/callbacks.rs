//! Calls the plugin makes into the host (`IComponentHandler` and friends,
//! `IConnectionPoint::notify` towards an object outside the bridge),
//! forwarded to the DAW. The host process answers the plugin itself
//! (`kResultOk`; a new id for `IProgress::start`), so none needs an answer
//! here.

use super::types::MessageRecord;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Vst3Callback {
    BeginEdit {
        id: u32,
    },
    PerformEdit {
        id: u32,
        value: f64,
    },
    EndEdit {
        id: u32,
    },
    RestartComponent {
        flags: i32,
    },
    SetDirty {
        state: bool,
    },
    RequestOpenEditor {
        name: String,
    },
    StartGroupEdit,
    FinishGroupEdit,
    RequestBusActivation {
        media_type: i32,
        direction: i32,
        index: i32,
        state: bool,
    },
    NotifyUnitSelection {
        unit: i32,
    },
    NotifyProgramListChange {
        list: i32,
        program: i32,
    },
    NotifyUnitByBusChange,
    ProgressStart {
        kind: i32,
        description: Vec<u16>,
        id: u64,
    },
    ProgressUpdate {
        id: u64,
        value: f64,
    },
    ProgressFinish {
        id: u64,
    },
    /// A message the object sent through a connection to an object outside
    /// the bridge.
    Notify {
        message: MessageRecord,
    },
}
