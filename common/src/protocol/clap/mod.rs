//! CLAP messages, mirroring the SDK: `ext::params` holds the messages of
//! `clap_plugin_params` (and its host side), `plugin` those of `clap_plugin`.

pub mod callbacks;
pub mod ext;
pub mod plugin;

pub use callbacks::MainCallback;

use super::Remote;
use ext::*;
use plugin::*;

request_family! {
    MainControl, MainReply, MainHandler {
        ListPlugins(ListPlugins) -> Remote<Vec<PluginDescriptor>> => list_plugins;
        CreatePlugin(CreatePlugin) -> Remote<CreatedPlugin> => create_plugin;
        DestroyPlugin(DestroyPlugin) -> () => destroy_plugin;
        SetHostAnswers(SetHostAnswers) -> () => set_host_answers;
        Activate(Activate) -> Remote<()> => activate;
        Deactivate(Deactivate) -> () => deactivate;
        GetAudioPorts(audio_ports::GetAudioPorts) -> audio_ports::AudioPorts => get_audio_ports;
        GetNotePorts(note_ports::GetNotePorts) -> note_ports::NotePorts => get_note_ports;
        GetParamInfos(params::GetParamInfos) -> Vec<params::ParamInfo> => get_param_infos;
        GetParamValue(params::GetParamValue) -> Option<f64> => get_param_value;
        ValueToText(params::ValueToText) -> Option<String> => value_to_text;
        TextToValue(params::TextToValue) -> Option<f64> => text_to_value;
        ParamsFlush(params::Flush) -> params::FlushOutput => params_flush;
        SaveState(state::Save) -> Remote<state::StateBytes> => save_state;
        LoadState(state::Load) -> Remote<()> => load_state;
        GetLatency(latency::GetLatency) -> u32 => get_latency;
        GetTail(tail::GetTail) -> u32 => get_tail;
        RenderHasHardRealtimeRequirement(render::HasHardRealtimeRequirement) -> bool
            => render_has_hard_realtime_requirement;
        RenderSet(render::Set) -> bool => render_set;
        GetVoiceInfo(voice_info::GetVoiceInfo) -> Option<voice_info::VoiceInfo> => get_voice_info;
    }
}
