"""One run of a VST3 bundle in pedalboard: render_pedalboard.py BUNDLE OUT_DIR [PARAM]
[--load STATE_FILE] (see common.py).

Parameters are listed from pedalboard's native parameter objects (JUCE's view of the VST3
parameter infos: name, label, steps, normalised value, text). pedalboard's Python layer would
also infer a value range for every parameter when the plugin loads: it asks for the text of
1001 normalised values and, when the text never changes (a program selector with one program,
like the "Current Program" parameter of DPF plugins), *sets* the parameter 2002 times. ZamVerb
reloads its impulse response (about 0.6 s) on every program change, so loading it took about
20 minutes. The driver does not use those inferred ranges and turns that step off
(`__set_initial_parameter_values__`, which does nothing else when no initial values are given).
Assigning any attribute of a plugin (`plugin.raw_state = ...`) runs the same inference first
(pedalboard looks the name up among the parameters), so the state is set through the native
property's descriptor instead.
"""
import sys

import pedalboard
import pedalboard._pedalboard as pb

from common import (
    BLOCK,
    NOTES,
    SAMPLE_RATE,
    SECONDS,
    fixed_input,
    parse_args,
    pick_parameter,
    write_loaded_outputs,
    write_outputs,
)

pb._PythonExternalPluginMixin.__set_initial_parameter_values__ = lambda self, values: None


def load(bundle):
    return pedalboard.load_plugin(bundle)


def set_state(plugin, state):
    type(plugin).raw_state.__set__(plugin, state)


def list_params(plugin):
    return [
        {
            "index": p.index,
            "name": p.name,
            "label": p.label,
            "automatable": bool(p.is_automatable),
            "discrete": bool(p.is_discrete),
            "steps": p.num_steps,
            "value": p.raw_value,
            "text": p.string_value,
        }
        for p in plugin._parameters
    ]


def render(plugin):
    if plugin.is_instrument:
        messages = []
        for note, vel, start, dur in NOTES:
            messages.append((bytes([0x90, note, vel]), start))
            messages.append((bytes([0x80, note, 0]), start + dur))
        messages.sort(key=lambda m: m[1])
        return plugin(messages, duration=SECONDS, sample_rate=SAMPLE_RATE, buffer_size=BLOCK)
    try:
        return plugin.process(fixed_input(2), SAMPLE_RATE, buffer_size=BLOCK, reset=True)
    except ValueError as e:
        # Mono plugins (ZamComp, ZamTube, ...) refuse a stereo buffer before processing
        # anything: give them one channel.
        if "channel" not in str(e):
            raise
        return plugin.process(fixed_input(1), SAMPLE_RATE, buffer_size=BLOCK, reset=True)


def load_run(bundle, out_dir, state_file):
    with open(state_file, "rb") as f:
        state = f.read()
    b = load(bundle)
    set_state(b, state)
    after_load = list_params(b)
    state_loaded = bytes(b.raw_state)
    audio_loaded = render(b)
    write_loaded_outputs(
        out_dir,
        after_load,
        audio_loaded,
        state_loaded,
        {"host": "pedalboard", "instrument": bool(b.is_instrument), "loaded_from": state_file},
    )


def main():
    bundle, out_dir, param, state_file = parse_args(sys.argv)
    if state_file is not None:
        load_run(bundle, out_dir, state_file)
        return
    a = load(bundle)
    defaults = list_params(a)
    moved = pick_parameter(defaults, param)
    if moved is not None:
        a._parameters[moved[0]].raw_value = moved[2]
    after_set = list_params(a)
    audio = render(a)
    state = bytes(a.raw_state)
    set_state(a, state)
    after_save = list_params(a)

    b = load(bundle)
    set_state(b, state)
    after_load = list_params(b)
    state_loaded = bytes(b.raw_state)
    audio_loaded = render(b)

    write_outputs(
        out_dir,
        {
            "params.json": defaults,
            "params_set.json": after_set,
            "params_saved.json": after_save,
            "params_loaded.json": after_load,
        },
        audio,
        audio_loaded,
        state,
        state_loaded,
        {"host": "pedalboard", "instrument": bool(a.is_instrument), "moved": moved},
    )


if __name__ == "__main__":
    main()
