"""One run of a VST3 bundle in DawDreamer: render_dawdreamer.py BUNDLE OUT_DIR [PARAM]
[--load STATE_FILE] (see common.py).

Each instance gets its own RenderEngine. DawDreamer's load_state opens a temporary editor and,
for a plugin without one, raises "Plugin has no available editor UI." after the state was
applied: exactly that is tolerated.
"""
import os
import sys

import dawdreamer as daw

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

NO_EDITOR = "Plugin has no available editor UI"


def load(bundle, name):
    engine = daw.RenderEngine(SAMPLE_RATE, BLOCK)
    return engine, engine.make_plugin_processor(name, bundle)


def list_params(plugin):
    return [
        {
            "index": p["index"],
            "name": p["name"],
            "label": p["label"],
            "automatable": bool(p["isAutomatable"]),
            "discrete": bool(p["isDiscrete"]),
            "steps": p["numSteps"],
            "range": [p["min"], p["max"]],
            "default": p["defaultValue"],
            "value": plugin.get_parameter(p["index"]),
            "text": p["text"],
        }
        for p in plugin.get_parameters_description()
    ]


def render(engine, plugin):
    instrument = plugin.get_num_input_channels() == 0
    if instrument:
        for note, vel, start, dur in NOTES:
            plugin.add_midi_note(note, vel, start, dur)
        engine.load_graph([(plugin, [])])
    else:
        source = engine.make_playback_processor(
            "input", fixed_input(plugin.get_num_input_channels())
        )
        engine.load_graph([(source, []), (plugin, ["input"])])
    engine.render(SECONDS)
    return engine.get_audio()


def load_state(plugin, path):
    try:
        plugin.load_state(path)
    except Exception as e:  # noqa: BLE001 - only the documented editor error is tolerated
        if NO_EDITOR not in str(e):
            raise


def save(plugin, path):
    plugin.save_state(path)
    with open(path, "rb") as f:
        return f.read()


def load_run(bundle, out_dir, state_file):
    engine_b, b = load(bundle, "b")
    instrument = b.get_num_input_channels() == 0
    load_state(b, state_file)
    after_load = list_params(b)
    state_loaded = save(b, os.path.join(out_dir, "dawdreamer-b.state"))
    audio_loaded = render(engine_b, b)
    write_loaded_outputs(
        out_dir,
        after_load,
        audio_loaded,
        state_loaded,
        {"host": "dawdreamer", "instrument": instrument, "loaded_from": state_file},
    )


def main():
    bundle, out_dir, param, state_file = parse_args(sys.argv)
    os.makedirs(out_dir, exist_ok=True)
    if state_file is not None:
        load_run(bundle, out_dir, state_file)
        return
    engine_a, a = load(bundle, "a")
    instrument = a.get_num_input_channels() == 0
    defaults = list_params(a)
    moved = pick_parameter(defaults, param)
    if moved is not None:
        a.set_parameter(moved[0], moved[2])
    after_set = list_params(a)
    audio = render(engine_a, a)
    state_path = os.path.join(out_dir, "dawdreamer-a.state")
    state = save(a, state_path)
    load_state(a, state_path)
    after_save = list_params(a)

    engine_b, b = load(bundle, "b")
    load_state(b, state_path)
    after_load = list_params(b)
    state_loaded = save(b, os.path.join(out_dir, "dawdreamer-b.state"))
    audio_loaded = render(engine_b, b)

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
        {"host": "dawdreamer", "instrument": instrument, "moved": moved},
    )


if __name__ == "__main__":
    main()
