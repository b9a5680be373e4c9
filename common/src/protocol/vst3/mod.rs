//! VST3 messages. Each request names the SDK method it carries; numbers keep
//! the SDK's meaning (see [`types`]). Objects are addressed by the
//! `InstanceId` of the envelope: the factory's own requests use instance 0.
//!
//! What is not here is answered inside the bridge: reference counting,
//! `queryInterface` (from the interface list each object reports),
//! `createView` (null until editors are bridged) and the host objects a
//! plugin creates through `IHostApplication` (made in the host process).

pub mod callbacks;
pub mod types;

pub use callbacks::Vst3Callback;

use super::Remote;
use crate::bulk::Bulk;
use crate::shm::AudioLayout;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use types::*;

macro_rules! requests {
    ($( $(#[$m:meta])* $name:ident { $($field:ident : $ty:ty),* $(,)? } )*) => {
        $(
            $(#[$m])*
            #[derive(Debug, Serialize, Deserialize)]
            pub struct $name { $(pub $field: $ty),* }
        )*
    };
}

requests! {
    /// The module's factory info and classes.
    ListClasses {}
    /// `IPluginFactory::createInstance` of `cid`, answered with the
    /// interfaces the new object answers. `module` names the bundle when
    /// the process serves several (a group).
    CreateObject { module: Option<PathBuf>, cid: Guid }
    /// The last reference of the bridge's proxy is gone.
    ReleaseObject {}
    /// `IPluginBase::initialize` with the host process's host context;
    /// answered with the interfaces after initialisation.
    Initialize {}
    Terminate {}
    /// `IConnectionPoint::connect` to another object of the same process.
    Connect { peer: crate::InstanceId }
    /// `IConnectionPoint::connect` to an object outside the bridge: the
    /// object's messages come back as [`Vst3Callback::Notify`].
    ConnectOutside {}
    Disconnect {}
    Notify { message: MessageRecord }
    GetControllerClassId {}
    SetIoMode { mode: i32 }
    GetBuses {}
    GetRoutingInfo { input: RoutingRecord }
    ActivateBus { media_type: i32, direction: i32, index: i32, state: bool }
    /// `IComponent::setActive`. When activating, the audio region travels
    /// with the message (its layout here) and the host's audio thread
    /// starts after the plugin accepted; deactivating stops it first.
    SetActive { state: bool, layout: Option<AudioLayout> }
    /// `setState` of a component or controller, or a controller's
    /// `setComponentState`.
    LoadState { target: StateTarget, bytes: Bulk, attrs: StreamAttrs }
    /// `getState` of a component or controller.
    SaveState { target: StateTarget, attrs: StreamAttrs }
    SetBusArrangements { inputs: Vec<u64>, outputs: Vec<u64> }
    GetBusArrangement { direction: i32, index: i32 }
    CanProcessSampleSize { size: i32 }
    GetLatencySamples {}
    SetupProcessing { setup: SetupRecord }
    SetProcessing { state: bool }
    GetTailSamples {}
    GetProcessContextRequirements {}
    SetAudioPresentationLatency { direction: i32, bus: i32, samples: u32 }
    GetParameterInfos {}
    GetParamStringByValue { id: u32, value: f64 }
    GetParamValueByString { id: u32, text: Vec<u16> }
    NormalizedParamToPlain { id: u32, value: f64 }
    PlainParamToNormalized { id: u32, value: f64 }
    GetParamNormalized { id: u32 }
    SetParamNormalized { id: u32, value: f64 }
    /// Installs (or removes) the host process's forwarding
    /// `IComponentHandler`.
    SetComponentHandler { present: bool }
    SetKnobMode { mode: i32 }
    OpenHelp { only_check: bool }
    OpenAboutBox { only_check: bool }
    BeginEditFromHost { id: u32 }
    EndEditFromHost { id: u32 }
    GetMidiControllerAssignment { bus: i32, channel: i16, controller: i16 }
    OnLiveMidiControllerInput { bus: i32, channel: i16, controller: i16 }
    GetUnits {}
    GetProgramLists {}
    GetProgramInfo { list: i32, program: i32, attribute: String }
    HasProgramPitchNames { list: i32, program: i32 }
    GetProgramPitchName { list: i32, program: i32, pitch: i16 }
    GetSelectedUnit {}
    SelectUnit { unit: i32 }
    GetUnitByBus { media_type: i32, direction: i32, bus: i32, channel: i32 }
    SetUnitProgramData { list_or_unit: i32, program: i32, bytes: Bulk }
    ProgramDataSupported { list: i32 }
    GetProgramData { list: i32, program: i32 }
    SetProgramData { list: i32, program: i32, bytes: Bulk }
    UnitDataSupported { unit: i32 }
    GetUnitData { unit: i32 }
    SetUnitData { unit: i32, bytes: Bulk }
    GetNoteExpressionInfos { bus: i32, channel: i16 }
    GetNoteExpressionStringByValue { bus: i32, channel: i16, type_id: u32, value: f64 }
    GetNoteExpressionValueByString { bus: i32, channel: i16, type_id: u32, text: Vec<u16> }
    /// `INoteExpressionPhysicalUIMapping::getPhysicalUIMapping`: the
    /// physical UI ids asked for; answered with the note expression type
    /// of each.
    GetPhysicalUiMapping { bus: i32, channel: i16, physical: Vec<u32> }
    GetKeyswitchInfos { bus: i32, channel: i16 }
    SetAutomationState { state: i32 }
    SetChannelContextInfos { attributes: Attributes }
    GetParameterIdFromFunctionName { unit: i32, name: String }
    GetPrefetchableSupport {}
    GetXmlRepresentation { name: String, version: String, unit: i32 }
}

/// Which object's state a [`LoadState`]/[`SaveState`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StateTarget {
    Component,
    Controller,
    /// `IEditController::setComponentState`.
    ComponentIntoController,
}

/// A created object and what it answers.
#[derive(Debug, Serialize, Deserialize)]
pub struct Created {
    pub instance: crate::InstanceId,
    pub interfaces: Vec<Guid>,
}

/// A call's result and the object's interfaces after it (initialisation
/// may add some).
#[derive(Debug, Serialize, Deserialize)]
pub struct Initialized {
    pub result: TResult,
    pub interfaces: Vec<Guid>,
}

/// Bytes a plugin wrote, and the call's result.
#[derive(Debug, Serialize, Deserialize)]
pub struct Saved {
    pub result: TResult,
    pub bytes: Bulk,
}

request_family! {
    Vst3Control, Vst3Reply, Vst3Handler {
        ListClasses(ListClasses) -> Remote<ModuleClasses> => list_classes;
        CreateObject(CreateObject) -> Remote<Created> => create_object;
        ReleaseObject(ReleaseObject) -> () => release_object;
        Initialize(Initialize) -> Initialized => initialize;
        Terminate(Terminate) -> TResult => terminate;
        Connect(Connect) -> TResult => connect;
        ConnectOutside(ConnectOutside) -> TResult => connect_outside;
        Disconnect(Disconnect) -> TResult => disconnect;
        Notify(Notify) -> TResult => notify;
        GetControllerClassId(GetControllerClassId) -> Option<Guid> => get_controller_class_id;
        SetIoMode(SetIoMode) -> TResult => set_io_mode;
        GetBuses(GetBuses) -> Buses => get_buses;
        GetRoutingInfo(GetRoutingInfo) -> Option<RoutingRecord> => get_routing_info;
        ActivateBus(ActivateBus) -> TResult => activate_bus;
        SetActive(SetActive) -> Remote<TResult> => set_active;
        LoadState(LoadState) -> Remote<TResult> => load_state;
        SaveState(SaveState) -> Remote<Saved> => save_state;
        SetBusArrangements(SetBusArrangements) -> TResult => set_bus_arrangements;
        GetBusArrangement(GetBusArrangement) -> Option<u64> => get_bus_arrangement;
        CanProcessSampleSize(CanProcessSampleSize) -> TResult => can_process_sample_size;
        GetLatencySamples(GetLatencySamples) -> u32 => get_latency_samples;
        SetupProcessing(SetupProcessing) -> TResult => setup_processing;
        SetProcessing(SetProcessing) -> TResult => set_processing;
        GetTailSamples(GetTailSamples) -> u32 => get_tail_samples;
        GetProcessContextRequirements(GetProcessContextRequirements) -> u32
            => get_process_context_requirements;
        SetAudioPresentationLatency(SetAudioPresentationLatency) -> TResult
            => set_audio_presentation_latency;
        GetParameterInfos(GetParameterInfos) -> Vec<ParamRecord> => get_parameter_infos;
        GetParamStringByValue(GetParamStringByValue) -> Option<Vec<u16>>
            => get_param_string_by_value;
        GetParamValueByString(GetParamValueByString) -> Option<f64> => get_param_value_by_string;
        NormalizedParamToPlain(NormalizedParamToPlain) -> f64 => normalized_param_to_plain;
        PlainParamToNormalized(PlainParamToNormalized) -> f64 => plain_param_to_normalized;
        GetParamNormalized(GetParamNormalized) -> f64 => get_param_normalized;
        SetParamNormalized(SetParamNormalized) -> TResult => set_param_normalized;
        SetComponentHandler(SetComponentHandler) -> TResult => set_component_handler;
        SetKnobMode(SetKnobMode) -> TResult => set_knob_mode;
        OpenHelp(OpenHelp) -> TResult => open_help;
        OpenAboutBox(OpenAboutBox) -> TResult => open_about_box;
        BeginEditFromHost(BeginEditFromHost) -> TResult => begin_edit_from_host;
        EndEditFromHost(EndEditFromHost) -> TResult => end_edit_from_host;
        GetMidiControllerAssignment(GetMidiControllerAssignment) -> Option<u32>
            => get_midi_controller_assignment;
        OnLiveMidiControllerInput(OnLiveMidiControllerInput) -> TResult
            => on_live_midi_controller_input;
        GetUnits(GetUnits) -> Vec<UnitRecord> => get_units;
        GetProgramLists(GetProgramLists) -> Vec<ProgramListRecord> => get_program_lists;
        GetProgramInfo(GetProgramInfo) -> Option<Vec<u16>> => get_program_info;
        HasProgramPitchNames(HasProgramPitchNames) -> TResult => has_program_pitch_names;
        GetProgramPitchName(GetProgramPitchName) -> Option<Vec<u16>> => get_program_pitch_name;
        GetSelectedUnit(GetSelectedUnit) -> i32 => get_selected_unit;
        SelectUnit(SelectUnit) -> TResult => select_unit;
        GetUnitByBus(GetUnitByBus) -> Option<i32> => get_unit_by_bus;
        SetUnitProgramData(SetUnitProgramData) -> Remote<TResult> => set_unit_program_data;
        ProgramDataSupported(ProgramDataSupported) -> TResult => program_data_supported;
        GetProgramData(GetProgramData) -> Remote<Saved> => get_program_data;
        SetProgramData(SetProgramData) -> Remote<TResult> => set_program_data;
        UnitDataSupported(UnitDataSupported) -> TResult => unit_data_supported;
        GetUnitData(GetUnitData) -> Remote<Saved> => get_unit_data;
        SetUnitData(SetUnitData) -> Remote<TResult> => set_unit_data;
        GetNoteExpressionInfos(GetNoteExpressionInfos) -> Vec<NoteExpressionRecord>
            => get_note_expression_infos;
        GetNoteExpressionStringByValue(GetNoteExpressionStringByValue) -> Option<Vec<u16>>
            => get_note_expression_string_by_value;
        GetNoteExpressionValueByString(GetNoteExpressionValueByString) -> Option<f64>
            => get_note_expression_value_by_string;
        GetPhysicalUiMapping(GetPhysicalUiMapping) -> Option<Vec<u32>> => get_physical_ui_mapping;
        GetKeyswitchInfos(GetKeyswitchInfos) -> Vec<KeyswitchRecord> => get_keyswitch_infos;
        SetAutomationState(SetAutomationState) -> TResult => set_automation_state;
        SetChannelContextInfos(SetChannelContextInfos) -> TResult => set_channel_context_infos;
        GetParameterIdFromFunctionName(GetParameterIdFromFunctionName) -> Option<u32>
            => get_parameter_id_from_function_name;
        GetPrefetchableSupport(GetPrefetchableSupport) -> Option<u32> => get_prefetchable_support;
        GetXmlRepresentation(GetXmlRepresentation) -> Remote<Saved> => get_xml_representation;
    }
}
