//! The plugin side of an edit controller and its companion interfaces.
//! Parameter infos, units and program lists are cached (the last answers
//! while the host is down); values the DAW sets are kept for a restore.

use super::component::{entry, write_item};
use super::proxy::{lock, Object, Remote};
use super::state;
use bulkhead_common::bulk::{Blob, Bulk};
use bulkhead_common::protocol::vst3::types::*;
use bulkhead_common::protocol::vst3::{self as proto, StateTarget};
use bulkhead_vst3_support::com::write_out;
use bulkhead_vst3_support::strings::{copy_wstring, cstring_from_ptr, wstring_from_ptr};
use std::os::fd::AsRawFd;
use vst3::Steinberg::Vst::ChannelContext::IInfoListenerTrait;
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;

/// Copies UTF-16 units into a `String128`, zero-terminated.
fn copy_units(src: &[u16], dst: &mut String128) {
    let n = src.len().min(dst.len() - 1);
    dst[..n].copy_from_slice(&src[..n]);
    dst[n] = 0;
}

/// Writes `text` into the DAW's `String128`.
///
/// # Safety
/// `out` must be null or writable.
unsafe fn write_string(out: *mut String128, text: Option<Vec<u16>>) -> tresult {
    match (text, out.is_null()) {
        (Some(t), false) => {
            // SAFETY: non-null and writable by contract.
            copy_units(&t, unsafe { &mut *out });
            kResultOk
        }
        (None, _) => kResultFalse,
        (_, true) => kInvalidArgument,
    }
}

/// A zero-terminated UTF-16 string from the DAW, bounded.
///
/// # Safety
/// `p` must be null or zero-terminated.
unsafe fn units_from(p: *const TChar) -> Option<Vec<u16>> {
    // SAFETY: per the contract.
    unsafe { wstring_from_ptr(p, 4096) }.map(|s| s.encode_utf16().collect())
}

pub fn params(r: &Remote) -> Vec<ParamRecord> {
    r.cached(|c| &mut c.params, proto::GetParameterInfos {})
        .unwrap_or_default()
}

fn units(r: &Remote) -> Vec<UnitRecord> {
    r.cached(|c| &mut c.units, proto::GetUnits {})
        .unwrap_or_default()
}

fn program_lists(r: &Remote) -> Vec<ProgramListRecord> {
    r.cached(|c| &mut c.program_lists, proto::GetProgramLists {})
        .unwrap_or_default()
}

/// Sends the bytes of the DAW's stream with a request built from them.
///
/// # Safety
/// `stream` must be null or a live stream.
unsafe fn send_stream<R>(r: &Remote, stream: *mut IBStream, make: impl FnOnce(Bulk) -> R) -> tresult
where
    R: bulkhead_common::protocol::Request<Response = bulkhead_common::protocol::Remote<TResult>>,
{
    // SAFETY: per the contract.
    let blob = match unsafe { state::read_stream(r, stream) } {
        Ok(b) => b,
        Err(_) => return kResultFalse,
    };
    let (bytes, fd) = Bulk::of(&blob);
    let fds: Vec<i32> = fd.map(|f| f.as_raw_fd()).into_iter().collect();
    match r.call_fds(make(bytes), &fds, r.timeout_slow()) {
        Ok((Ok(res), _)) => res,
        _ => kResultFalse,
    }
}

/// Writes the bytes a request answered into the DAW's stream.
///
/// # Safety
/// `stream` must be null or a live stream.
unsafe fn receive_stream<R>(r: &Remote, stream: *mut IBStream, req: R) -> tresult
where
    R: bulkhead_common::protocol::Request<
        Response = bulkhead_common::protocol::Remote<proto::Saved>,
    >,
{
    let Ok((Ok(saved), mut fds)) = r.call_fds(req, &[], r.timeout_slow()) else {
        return kResultFalse;
    };
    if saved.result != kResultOk {
        return saved.result;
    }
    let blob: Blob = match saved.bytes.receive(&mut fds) {
        Ok(b) => b,
        Err(_) => return kResultFalse,
    };
    // SAFETY: per the contract.
    if unsafe { state::write_stream(stream, blob.as_slice()) } {
        kResultOk
    } else {
        kResultFalse
    }
}

impl IEditControllerTrait for Object {
    unsafe fn setComponentState(&self, stream: *mut IBStream) -> tresult {
        // SAFETY: the DAW's stream, live for the call.
        entry(self, kResultFalse, |r| unsafe {
            state::load(r, StateTarget::ComponentIntoController, stream)
        })
    }

    unsafe fn setState(&self, stream: *mut IBStream) -> tresult {
        // SAFETY: as above.
        entry(self, kResultFalse, |r| unsafe {
            state::load(r, StateTarget::Controller, stream)
        })
    }

    unsafe fn getState(&self, stream: *mut IBStream) -> tresult {
        // SAFETY: as above.
        entry(self, kResultFalse, |r| unsafe {
            state::save(r, StateTarget::Controller, stream)
        })
    }

    unsafe fn getParameterCount(&self) -> int32 {
        entry(self, 0, |r| params(r).len() as i32)
    }

    unsafe fn getParameterInfo(&self, index: int32, info: *mut ParameterInfo) -> tresult {
        entry(self, kInvalidArgument, |r| {
            let params = params(r);
            // SAFETY: the DAW passes a writable ParameterInfo, plain data.
            unsafe {
                write_item(&params, index, info, |p, out: &mut ParameterInfo| {
                    out.id = p.id;
                    copy_wstring(&p.title, &mut out.title);
                    copy_wstring(&p.short_title, &mut out.shortTitle);
                    copy_wstring(&p.units, &mut out.units);
                    out.stepCount = p.step_count;
                    out.defaultNormalizedValue = p.default_normalized;
                    out.unitId = p.unit_id;
                    out.flags = p.flags;
                })
            }
        })
    }

    unsafe fn getParamStringByValue(
        &self,
        id: ParamID,
        value: ParamValue,
        string: *mut String128,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            let text = r.query(proto::GetParamStringByValue { id, value }, None);
            // SAFETY: the DAW passes a writable string.
            unsafe { write_string(string, text) }
        })
    }

    unsafe fn getParamValueByString(
        &self,
        id: ParamID,
        string: *mut TChar,
        value: *mut ParamValue,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            // SAFETY: the DAW passes a zero-terminated string.
            let Some(text) = (unsafe { units_from(string) }) else {
                return kInvalidArgument;
            };
            match r.query(proto::GetParamValueByString { id, text }, None) {
                // SAFETY: the DAW passes a writable value.
                Some(v) if unsafe { write_out(value, v) } => kResultOk,
                _ => kResultFalse,
            }
        })
    }

    unsafe fn normalizedParamToPlain(&self, id: ParamID, value: ParamValue) -> ParamValue {
        entry(self, value, |r| {
            r.query(proto::NormalizedParamToPlain { id, value }, value)
        })
    }

    unsafe fn plainParamToNormalized(&self, id: ParamID, value: ParamValue) -> ParamValue {
        entry(self, value, |r| {
            r.query(proto::PlainParamToNormalized { id, value }, value)
        })
    }

    unsafe fn getParamNormalized(&self, id: ParamID) -> ParamValue {
        // Always asked: a value changes with every state load, `setComponentState`, message
        // or (single-component plugins) processed parameter change, none of which the bridge
        // can tell apart. The last answer is kept for while the plugin is down.
        entry(self, 0.0, |r| {
            match r.call(proto::GetParamNormalized { id }) {
                Ok(v) => {
                    lock(&r.caches).param_values.insert(id, v);
                    v
                }
                Err(_) => lock(&r.caches)
                    .param_values
                    .get(&id)
                    .copied()
                    .unwrap_or_else(|| {
                        params(r)
                            .iter()
                            .find(|p| p.id == id)
                            .map_or(0.0, |p| p.default_normalized)
                    }),
            }
        })
    }

    unsafe fn setParamNormalized(&self, id: ParamID, value: ParamValue) -> tresult {
        entry(self, kResultFalse, |r| {
            {
                let mut cfg = lock(&r.config);
                cfg.param_values.retain(|(p, _)| *p != id);
                cfg.param_values.push((id, value));
            }
            lock(&r.caches).param_values.remove(&id);
            let result = r.query(proto::SetParamNormalized { id, value }, kResultOk);
            lock(&r.caches).param_values.remove(&id);
            result
        })
    }

    unsafe fn setComponentHandler(&self, handler: *mut IComponentHandler) -> tresult {
        entry(self, kResultFalse, |r| {
            // SAFETY: null or the DAW's live handler, add-ref'ed and kept.
            let handler = unsafe { vst3::ComRef::from_raw(handler) }.map(|r| r.to_com_ptr());
            let present = handler.is_some();
            *lock(&r.handler) = handler;
            lock(&r.config).handler = present;
            r.query(proto::SetComponentHandler { present }, kResultOk)
        })
    }

    unsafe fn createView(&self, _name: FIDString) -> *mut IPlugView {
        // Editors are bridged by a later issue (docs/vst3.md).
        std::ptr::null_mut()
    }
}

impl IEditController2Trait for Object {
    unsafe fn setKnobMode(&self, mode: KnobMode) -> tresult {
        entry(self, kResultFalse, |r| {
            lock(&r.config).knob_mode = Some(mode);
            r.query(proto::SetKnobMode { mode }, kResultFalse)
        })
    }

    unsafe fn openHelp(&self, only_check: TBool) -> tresult {
        entry(self, kResultFalse, |r| {
            r.query(
                proto::OpenHelp {
                    only_check: only_check != 0,
                },
                kResultFalse,
            )
        })
    }

    unsafe fn openAboutBox(&self, only_check: TBool) -> tresult {
        entry(self, kResultFalse, |r| {
            r.query(
                proto::OpenAboutBox {
                    only_check: only_check != 0,
                },
                kResultFalse,
            )
        })
    }
}

impl IEditControllerHostEditingTrait for Object {
    unsafe fn beginEditFromHost(&self, id: ParamID) -> tresult {
        entry(self, kResultFalse, |r| {
            r.query(proto::BeginEditFromHost { id }, kResultFalse)
        })
    }

    unsafe fn endEditFromHost(&self, id: ParamID) -> tresult {
        entry(self, kResultFalse, |r| {
            r.query(proto::EndEditFromHost { id }, kResultFalse)
        })
    }
}

impl IMidiMappingTrait for Object {
    unsafe fn getMidiControllerAssignment(
        &self,
        bus: int32,
        channel: int16,
        controller: CtrlNumber,
        id: *mut ParamID,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            let key = (bus, channel, controller);
            let cached = lock(&r.caches).midi.get(&key).copied();
            let answer = match cached {
                Some(a) => a,
                None => match r.call(proto::GetMidiControllerAssignment {
                    bus,
                    channel,
                    controller,
                }) {
                    Ok(a) => {
                        lock(&r.caches).midi.insert(key, a);
                        a
                    }
                    Err(_) => None,
                },
            };
            match answer {
                // SAFETY: the DAW passes a writable id.
                Some(p) if unsafe { write_out(id, p) } => kResultOk,
                _ => kResultFalse,
            }
        })
    }
}

impl IMidiLearnTrait for Object {
    unsafe fn onLiveMIDIControllerInput(
        &self,
        bus: int32,
        channel: int16,
        controller: CtrlNumber,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            r.query(
                proto::OnLiveMidiControllerInput {
                    bus,
                    channel,
                    controller,
                },
                kResultFalse,
            )
        })
    }
}

impl IUnitInfoTrait for Object {
    unsafe fn getUnitCount(&self) -> int32 {
        entry(self, 0, |r| units(r).len() as i32)
    }

    unsafe fn getUnitInfo(&self, index: int32, info: *mut UnitInfo) -> tresult {
        entry(self, kInvalidArgument, |r| {
            let units = units(r);
            // SAFETY: the DAW passes a writable UnitInfo, plain data.
            unsafe {
                write_item(&units, index, info, |u, out: &mut UnitInfo| {
                    out.id = u.id;
                    out.parentUnitId = u.parent_unit_id;
                    copy_wstring(&u.name, &mut out.name);
                    out.programListId = u.program_list_id;
                })
            }
        })
    }

    unsafe fn getProgramListCount(&self) -> int32 {
        entry(self, 0, |r| program_lists(r).len() as i32)
    }

    unsafe fn getProgramListInfo(&self, index: int32, info: *mut ProgramListInfo) -> tresult {
        entry(self, kInvalidArgument, |r| {
            let lists = program_lists(r);
            // SAFETY: the DAW passes a writable ProgramListInfo, plain data.
            unsafe {
                write_item(&lists, index, info, |l, out: &mut ProgramListInfo| {
                    out.id = l.id;
                    copy_wstring(&l.name, &mut out.name);
                    out.programCount = l.programs.len() as i32;
                })
            }
        })
    }

    unsafe fn getProgramName(
        &self,
        list: ProgramListID,
        program: int32,
        name: *mut String128,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            let lists = program_lists(r);
            let text = lists
                .iter()
                .find(|l| l.id == list)
                .and_then(|l| {
                    usize::try_from(program)
                        .ok()
                        .and_then(|p| l.programs.get(p))
                })
                .map(|s| s.encode_utf16().collect());
            // SAFETY: the DAW passes a writable string.
            unsafe { write_string(name, text) }
        })
    }

    unsafe fn getProgramInfo(
        &self,
        list: ProgramListID,
        program: int32,
        attribute: vst3::Steinberg::Vst::CString,
        value: *mut String128,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            // SAFETY: the DAW passes a zero-terminated id.
            let Some(attribute) = (unsafe { cstring_from_ptr(attribute, 1024) }) else {
                return kInvalidArgument;
            };
            let text = r.query(
                proto::GetProgramInfo {
                    list,
                    program,
                    attribute,
                },
                None,
            );
            // SAFETY: the DAW passes a writable string.
            unsafe { write_string(value, text) }
        })
    }

    unsafe fn hasProgramPitchNames(&self, list: ProgramListID, program: int32) -> tresult {
        entry(self, kResultFalse, |r| {
            r.query(proto::HasProgramPitchNames { list, program }, kResultFalse)
        })
    }

    unsafe fn getProgramPitchName(
        &self,
        list: ProgramListID,
        program: int32,
        pitch: int16,
        name: *mut String128,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            let text = r.query(
                proto::GetProgramPitchName {
                    list,
                    program,
                    pitch,
                },
                None,
            );
            // SAFETY: the DAW passes a writable string.
            unsafe { write_string(name, text) }
        })
    }

    unsafe fn getSelectedUnit(&self) -> UnitID {
        entry(self, 0, |r| r.query(proto::GetSelectedUnit {}, 0))
    }

    unsafe fn selectUnit(&self, unit: UnitID) -> tresult {
        entry(self, kResultFalse, |r| {
            r.query(proto::SelectUnit { unit }, kResultFalse)
        })
    }

    unsafe fn getUnitByBus(
        &self,
        media_type: MediaType,
        dir: BusDirection,
        bus: int32,
        channel: int32,
        unit: *mut UnitID,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            let req = proto::GetUnitByBus {
                media_type,
                direction: dir,
                bus,
                channel,
            };
            match r.query(req, None) {
                // SAFETY: the DAW passes a writable id.
                Some(u) if unsafe { write_out(unit, u) } => kResultOk,
                _ => kResultFalse,
            }
        })
    }

    unsafe fn setUnitProgramData(
        &self,
        list_or_unit: int32,
        program: int32,
        data: *mut IBStream,
    ) -> tresult {
        // SAFETY: the DAW's stream, live for the call.
        entry(self, kResultFalse, |r| unsafe {
            send_stream(r, data, |bytes| proto::SetUnitProgramData {
                list_or_unit,
                program,
                bytes,
            })
        })
    }
}

impl IProgramListDataTrait for Object {
    unsafe fn programDataSupported(&self, list: ProgramListID) -> tresult {
        entry(self, kResultFalse, |r| {
            r.query(proto::ProgramDataSupported { list }, kResultFalse)
        })
    }

    unsafe fn getProgramData(
        &self,
        list: ProgramListID,
        program: int32,
        data: *mut IBStream,
    ) -> tresult {
        // SAFETY: the DAW's stream, live for the call.
        entry(self, kResultFalse, |r| unsafe {
            receive_stream(r, data, proto::GetProgramData { list, program })
        })
    }

    unsafe fn setProgramData(
        &self,
        list: ProgramListID,
        program: int32,
        data: *mut IBStream,
    ) -> tresult {
        // SAFETY: the DAW's stream, live for the call.
        entry(self, kResultFalse, |r| unsafe {
            send_stream(r, data, |bytes| proto::SetProgramData {
                list,
                program,
                bytes,
            })
        })
    }
}

impl IUnitDataTrait for Object {
    unsafe fn unitDataSupported(&self, unit: UnitID) -> tresult {
        entry(self, kResultFalse, |r| {
            r.query(proto::UnitDataSupported { unit }, kResultFalse)
        })
    }

    unsafe fn getUnitData(&self, unit: UnitID, data: *mut IBStream) -> tresult {
        // SAFETY: the DAW's stream, live for the call.
        entry(self, kResultFalse, |r| unsafe {
            receive_stream(r, data, proto::GetUnitData { unit })
        })
    }

    unsafe fn setUnitData(&self, unit: UnitID, data: *mut IBStream) -> tresult {
        // SAFETY: the DAW's stream, live for the call.
        entry(self, kResultFalse, |r| unsafe {
            send_stream(r, data, |bytes| proto::SetUnitData { unit, bytes })
        })
    }
}

impl INoteExpressionControllerTrait for Object {
    unsafe fn getNoteExpressionCount(&self, bus: int32, channel: int16) -> int32 {
        entry(self, 0, |r| {
            r.query(proto::GetNoteExpressionInfos { bus, channel }, Vec::new())
                .len() as i32
        })
    }

    unsafe fn getNoteExpressionInfo(
        &self,
        bus: int32,
        channel: int16,
        index: int32,
        info: *mut NoteExpressionTypeInfo,
    ) -> tresult {
        entry(self, kInvalidArgument, |r| {
            let infos = r.query(proto::GetNoteExpressionInfos { bus, channel }, Vec::new());
            // SAFETY: the DAW passes a writable NoteExpressionTypeInfo, plain data.
            unsafe {
                write_item(
                    &infos,
                    index,
                    info,
                    |n, out: &mut NoteExpressionTypeInfo| {
                        out.typeId = n.type_id;
                        copy_wstring(&n.title, &mut out.title);
                        copy_wstring(&n.short_title, &mut out.shortTitle);
                        copy_wstring(&n.units, &mut out.units);
                        out.unitId = n.unit_id;
                        out.valueDesc.defaultValue = n.default_value;
                        out.valueDesc.minimum = n.minimum;
                        out.valueDesc.maximum = n.maximum;
                        out.valueDesc.stepCount = n.step_count;
                        out.associatedParameterId = n.associated_parameter_id;
                        out.flags = n.flags;
                    },
                )
            }
        })
    }

    unsafe fn getNoteExpressionStringByValue(
        &self,
        bus: int32,
        channel: int16,
        type_id: NoteExpressionTypeID,
        value: NoteExpressionValue,
        string: *mut String128,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            let req = proto::GetNoteExpressionStringByValue {
                bus,
                channel,
                type_id,
                value,
            };
            let text = r.query(req, None);
            // SAFETY: the DAW passes a writable string.
            unsafe { write_string(string, text) }
        })
    }

    unsafe fn getNoteExpressionValueByString(
        &self,
        bus: int32,
        channel: int16,
        type_id: NoteExpressionTypeID,
        string: *const TChar,
        value: *mut NoteExpressionValue,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            // SAFETY: the DAW passes a zero-terminated string.
            let Some(text) = (unsafe { units_from(string) }) else {
                return kInvalidArgument;
            };
            let req = proto::GetNoteExpressionValueByString {
                bus,
                channel,
                type_id,
                text,
            };
            match r.query(req, None) {
                // SAFETY: the DAW passes a writable value.
                Some(v) if unsafe { write_out(value, v) } => kResultOk,
                _ => kResultFalse,
            }
        })
    }
}

impl INoteExpressionPhysicalUIMappingTrait for Object {
    unsafe fn getPhysicalUIMapping(
        &self,
        bus: int32,
        channel: int16,
        list: *mut PhysicalUIMapList,
    ) -> tresult {
        entry(self, kInvalidArgument, |r| {
            // SAFETY: the DAW passes a list of `count` maps.
            let Some(list) = (unsafe { list.as_mut() }) else {
                return kInvalidArgument;
            };
            if list.map.is_null() {
                return kInvalidArgument;
            }
            // SAFETY: as above.
            let maps = unsafe { std::slice::from_raw_parts_mut(list.map, list.count as usize) };
            let physical = maps.iter().map(|m| m.physicalUITypeID).collect();
            match r.query(
                proto::GetPhysicalUiMapping {
                    bus,
                    channel,
                    physical,
                },
                None,
            ) {
                Some(types) => {
                    for (m, t) in maps.iter_mut().zip(types) {
                        m.noteExpressionTypeID = t;
                    }
                    kResultOk
                }
                None => kResultFalse,
            }
        })
    }
}

impl IKeyswitchControllerTrait for Object {
    unsafe fn getKeyswitchCount(&self, bus: int32, channel: int16) -> int32 {
        entry(self, 0, |r| {
            r.query(proto::GetKeyswitchInfos { bus, channel }, Vec::new())
                .len() as i32
        })
    }

    unsafe fn getKeyswitchInfo(
        &self,
        bus: int32,
        channel: int16,
        index: int32,
        info: *mut KeyswitchInfo,
    ) -> tresult {
        entry(self, kInvalidArgument, |r| {
            let infos = r.query(proto::GetKeyswitchInfos { bus, channel }, Vec::new());
            // SAFETY: the DAW passes a writable KeyswitchInfo, plain data.
            unsafe {
                write_item(&infos, index, info, |k, out: &mut KeyswitchInfo| {
                    out.typeId = k.type_id;
                    copy_wstring(&k.title, &mut out.title);
                    copy_wstring(&k.short_title, &mut out.shortTitle);
                    out.keyswitchMin = k.keyswitch_min;
                    out.keyswitchMax = k.keyswitch_max;
                    out.keyRemapped = k.key_remapped;
                    out.unitId = k.unit_id;
                    out.flags = k.flags;
                })
            }
        })
    }
}

impl IAutomationStateTrait for Object {
    unsafe fn setAutomationState(&self, state: int32) -> tresult {
        entry(self, kResultFalse, |r| {
            lock(&r.config).automation_state = Some(state);
            r.query(proto::SetAutomationState { state }, kResultFalse)
        })
    }
}

impl IInfoListenerTrait for Object {
    unsafe fn setChannelContextInfos(&self, list: *mut IAttributeList) -> tresult {
        entry(self, kResultFalse, |r| {
            // SAFETY: the DAW's live list.
            let attributes = unsafe { super::message::channel_context(list) };
            r.query(proto::SetChannelContextInfos { attributes }, kResultFalse)
        })
    }
}

impl IParameterFunctionNameTrait for Object {
    unsafe fn getParameterIDFromFunctionName(
        &self,
        unit: UnitID,
        name: FIDString,
        id: *mut ParamID,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            // SAFETY: the DAW passes a zero-terminated name.
            let Some(name) = (unsafe { cstring_from_ptr(name, 1024) }) else {
                return kInvalidArgument;
            };
            match r.query(proto::GetParameterIdFromFunctionName { unit, name }, None) {
                // SAFETY: the DAW passes a writable id.
                Some(p) if unsafe { write_out(id, p) } => kResultOk,
                _ => kResultFalse,
            }
        })
    }
}

impl IPrefetchableSupportTrait for Object {
    unsafe fn getPrefetchableSupport(&self, prefetchable: *mut PrefetchableSupport) -> tresult {
        entry(self, kResultFalse, |r| {
            match r.query(proto::GetPrefetchableSupport {}, None) {
                // SAFETY: the DAW passes a writable value.
                Some(p) if unsafe { write_out(prefetchable, p) } => kResultOk,
                _ => kResultFalse,
            }
        })
    }
}

impl IXmlRepresentationControllerTrait for Object {
    unsafe fn getXmlRepresentationStream(
        &self,
        info: *mut RepresentationInfo,
        stream: *mut IBStream,
    ) -> tresult {
        entry(self, kResultFalse, |r| {
            // SAFETY: the DAW passes a readable info.
            let Some(info) = (unsafe { info.as_ref() }) else {
                return kInvalidArgument;
            };
            let text =
                |a: &[std::ffi::c_char; 64]| bulkhead_vst3_support::strings::cstring_from_array(a);
            let req = proto::GetXmlRepresentation {
                name: text(&info.name),
                version: text(&info.version),
                unit: -1,
            };
            // SAFETY: the DAW's stream, live for the call.
            unsafe { receive_stream(r, stream, req) }
        })
    }
}
