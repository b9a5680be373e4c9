"""What both host drivers share: the fixed input, the fixed notes, and the output files.

Each driver writes into OUT_DIR:
  params.json  the parameters as the host lists them (name, range, default)
  audio.npy    the rendered audio (float32, channels x frames)
  meta.json    shape, finiteness, peak, whether the plugin is an instrument
  state.bin    the state the host saved after rendering
"""
import json
import os

import numpy as np

SAMPLE_RATE = 48000
BLOCK = 512
SECONDS = 1.0
FRAMES = int(SAMPLE_RATE * SECONDS)


def fixed_input(channels=2):
    """Deterministic noise, amplitude 0.5, the same on every run and machine."""
    rng = np.random.default_rng(1234)
    return (rng.random((channels, FRAMES), dtype=np.float64) - 0.5).astype(np.float32)


# (note, velocity, start seconds, duration seconds)
NOTES = [(60, 100, 0.1, 0.4), (67, 80, 0.3, 0.5)]


def write_outputs(out_dir, params, audio, is_instrument, state):
    os.makedirs(out_dir, exist_ok=True)
    audio = np.asarray(audio, dtype=np.float32)
    np.save(os.path.join(out_dir, "audio.npy"), audio)
    with open(os.path.join(out_dir, "params.json"), "w") as f:
        json.dump(params, f, indent=1, sort_keys=True)
    meta = {
        "shape": list(audio.shape),
        "finite": bool(np.isfinite(audio).all()),
        "peak": float(np.abs(audio).max()) if audio.size else 0.0,
        "instrument": bool(is_instrument),
    }
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    if state is not None:
        with open(os.path.join(out_dir, "state.bin"), "wb") as f:
            f.write(state)
