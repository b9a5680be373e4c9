"""Render a VST3 bundle with pedalboard: render_pedalboard.py BUNDLE OUT_DIR [STATE_IN]

Loads BUNDLE, optionally applies STATE_IN (pedalboard's raw_state bytes), lists the
parameters, renders the fixed input (effects) or the fixed notes (instruments), saves the
state. See common.py for the files written.
"""
import sys

import pedalboard

from common import BLOCK, NOTES, SAMPLE_RATE, SECONDS, fixed_input, write_outputs


def main():
    bundle, out_dir = sys.argv[1], sys.argv[2]
    plugin = pedalboard.load_plugin(bundle)
    if len(sys.argv) > 3:
        with open(sys.argv[3], "rb") as f:
            plugin.raw_state = f.read()
    params = {}
    for name, p in plugin.parameters.items():
        lo, hi, step = p.range
        params[name] = {"range": [lo, hi, step], "value": str(p.raw_value)}
    if plugin.is_instrument:
        messages = []
        for note, vel, start, dur in NOTES:
            messages.append((bytes([0x90, note, vel]), start))
            messages.append((bytes([0x80, note, 0]), start + dur))
        messages.sort(key=lambda m: m[1])
        audio = plugin(messages, duration=SECONDS, sample_rate=SAMPLE_RATE, buffer_size=BLOCK)
    else:
        try:
            audio = plugin.process(fixed_input(), SAMPLE_RATE, buffer_size=BLOCK, reset=True)
        except ValueError as e:
            # Mono plugins (ZamComp, ZamTube, ...) refuse a stereo buffer: give them one channel.
            if "channel" not in str(e):
                raise
            audio = plugin.process(fixed_input(1), SAMPLE_RATE, buffer_size=BLOCK, reset=True)
    write_outputs(out_dir, params, audio, plugin.is_instrument, bytes(plugin.raw_state))


if __name__ == "__main__":
    main()
