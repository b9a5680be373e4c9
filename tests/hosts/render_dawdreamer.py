"""Render a VST3 bundle with DawDreamer: render_dawdreamer.py BUNDLE OUT_DIR [STATE_IN]

Loads BUNDLE, optionally applies STATE_IN (a file saved by DawDreamer's save_state), lists
the parameters, renders the fixed input (effects) or the fixed notes (instruments), saves the
state. DawDreamer's load_state opens a temporary editor and, for a plugin without one, raises
"Plugin has no available editor UI." after the state was applied: exactly that is tolerated.
"""
import os
import sys

import dawdreamer as daw

from common import BLOCK, NOTES, SAMPLE_RATE, SECONDS, fixed_input, write_outputs

NO_EDITOR = "Plugin has no available editor UI"


def main():
    bundle, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    engine = daw.RenderEngine(SAMPLE_RATE, BLOCK)
    plugin = engine.make_plugin_processor("plugin", bundle)
    if len(sys.argv) > 3:
        try:
            plugin.load_state(sys.argv[3])
        except Exception as e:  # noqa: BLE001 - only the documented editor error is tolerated
            if NO_EDITOR not in str(e):
                raise
    params = {}
    for p in plugin.get_parameters_description():
        params[p["name"]] = {
            "range": [p.get("min", 0.0), p.get("max", 1.0), p.get("numSteps", 0)],
            "value": str(p.get("defaultValue", "")),
        }
    instrument = plugin.get_num_input_channels() == 0
    if instrument:
        for note, vel, start, dur in NOTES:
            plugin.add_midi_note(note, vel, start, dur)
        engine.load_graph([(plugin, [])])
    else:
        source = engine.make_playback_processor("input", fixed_input(plugin.get_num_input_channels()))
        engine.load_graph([(source, []), (plugin, ["input"])])
    engine.render(SECONDS)
    audio = engine.get_audio()
    state_path = os.path.join(out_dir, "dawdreamer.state")
    plugin.save_state(state_path)
    with open(state_path, "rb") as f:
        state = f.read()
    write_outputs(out_dir, params, audio, instrument, state)


if __name__ == "__main__":
    main()
