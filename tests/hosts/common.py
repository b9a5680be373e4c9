"""What both host drivers share: the fixed input, the fixed notes, the parameter to move, and
the files a run writes.

A run (one process): DRIVER BUNDLE OUT_DIR [PARAM], in one host:
  1. load the bundle (instance A), list its parameters with their default values;
  2. move one parameter (PARAM by name, "-" for none, default: see pick_parameter) and list
     them again;
  3. render A: the fixed input for effects, the fixed notes for instruments;
  4. save A's state, load it back into A and list the parameters (hosts cache values: only a
     state load makes them re-read what the plugin holds, e.g. a value it rounded);
  5. load the bundle again (instance B, fresh), load A's state into it, list its parameters,
     save its state again and render B the same way.
Files in OUT_DIR (meta.json last, so a run that died leaves none):
  params.json         the parameters as listed at step 1
  params_set.json     as listed after step 2 (A)
  params_saved.json   as listed after step 4 (A)
  params_loaded.json  as listed after step 5's state load (B)
  audio.f32           A's render, float32 little endian, channel after channel
  audio_loaded.f32    B's render
  state.bin           A's state (the host's own state format)
  state_loaded.bin    B's state, saved right after loading A's
  meta.json           channels, frames, instrument, the parameter moved, finiteness, peaks

A load run (one process): DRIVER BUNDLE OUT_DIR [PARAM] --load STATE_FILE, in one host: step 5
alone, with the state read from STATE_FILE (a state.bin another run wrote, e.g. through the other
of a bridged and a direct bundle): a fresh instance loads it, lists its parameters, saves its state
again and renders. Files in OUT_DIR: params_loaded.json, audio_loaded.f32, state_loaded.bin and
meta.json (last).
"""
import json
import os

import numpy as np

SAMPLE_RATE = 48000
BLOCK = 512
SECONDS = 1.0
FRAMES = int(SAMPLE_RATE * SECONDS)

# (note, velocity, start seconds, duration seconds)
NOTES = [(60, 100, 0.1, 0.4), (67, 80, 0.3, 0.5)]

# Parameters a host or framework adds that are not the plugin's sound: never moved.
NOT_MOVED = {"Buffer Size", "Sample Rate", "Current Program", "Bypass"}


def fixed_input(channels=2):
    """Deterministic noise, amplitude 0.5, the same on every run and machine."""
    rng = np.random.default_rng(1234)
    return (rng.random((channels, FRAMES), dtype=np.float64) - 0.5).astype(np.float32)


def pick_parameter(params, name=None):
    """The parameter a run moves, as (index, name, normalised value): the one called `name`, or
    by default the first automatable one that is the plugin's own; moved from its value v to
    0.75 if v < 0.5, else to 0.25. None for name "-" or when there is none."""
    if name == "-":
        return None
    for p in params:
        wanted = p["name"] == name if name else p["automatable"] and p["name"] not in NOT_MOVED
        if wanted:
            value = 0.75 if p["value"] < 0.5 else 0.25
            return p["index"], p["name"], value
    if name:
        raise SystemExit(f"no parameter named {name!r}")
    return None


def _audio_bytes(audio):
    audio = np.ascontiguousarray(np.asarray(audio, dtype="<f4"))
    return audio, audio.tobytes()


def write_outputs(out_dir, lists, audio, audio_loaded, state, state_loaded, meta):
    """Writes every file; meta.json last."""
    os.makedirs(out_dir, exist_ok=True)
    for name, params in lists.items():
        with open(os.path.join(out_dir, name), "w") as f:
            json.dump(params, f, indent=1, sort_keys=True)
    a, a_bytes = _audio_bytes(audio)
    b, b_bytes = _audio_bytes(audio_loaded)
    with open(os.path.join(out_dir, "audio.f32"), "wb") as f:
        f.write(a_bytes)
    with open(os.path.join(out_dir, "audio_loaded.f32"), "wb") as f:
        f.write(b_bytes)
    with open(os.path.join(out_dir, "state.bin"), "wb") as f:
        f.write(state)
    with open(os.path.join(out_dir, "state_loaded.bin"), "wb") as f:
        f.write(state_loaded)
    meta = dict(meta)
    meta.update(
        {
            "channels": int(a.shape[0]) if a.ndim == 2 else 0,
            "frames": int(a.shape[-1]) if a.size else 0,
            "finite": bool(np.isfinite(a).all() and np.isfinite(b).all()),
            "peak": float(np.abs(a).max()) if a.size else 0.0,
            "peak_loaded": float(np.abs(b).max()) if b.size else 0.0,
        }
    )
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)


def parse_args(argv):
    """(bundle, out_dir, param or None, state file to load or None) from the command line."""
    args = list(argv[1:])
    load = None
    if "--load" in args:
        i = args.index("--load")
        load = args[i + 1]
        del args[i : i + 2]
    if len(args) < 2:
        raise SystemExit("usage: DRIVER BUNDLE OUT_DIR [PARAM] [--load STATE_FILE]")
    return args[0], args[1], args[2] if len(args) > 2 else None, load


def write_loaded_outputs(out_dir, params_loaded, audio_loaded, state_loaded, meta):
    """Writes the files of a load run; meta.json last."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "params_loaded.json"), "w") as f:
        json.dump(params_loaded, f, indent=1, sort_keys=True)
    b, b_bytes = _audio_bytes(audio_loaded)
    with open(os.path.join(out_dir, "audio_loaded.f32"), "wb") as f:
        f.write(b_bytes)
    with open(os.path.join(out_dir, "state_loaded.bin"), "wb") as f:
        f.write(state_loaded)
    meta = dict(meta)
    meta.update(
        {
            "channels": int(b.shape[0]) if b.ndim == 2 else 0,
            "frames": int(b.shape[-1]) if b.size else 0,
            "finite": bool(np.isfinite(b).all()),
            "peak_loaded": float(np.abs(b).max()) if b.size else 0.0,
        }
    )
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
