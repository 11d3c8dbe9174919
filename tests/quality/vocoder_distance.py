"""How far the split model's audio is from the one-pass int8 model's, per corpus
line, next to how far the same weights run in float are (the calibration).

Each rendering is placed sample-exactly on the one-pass audio (the vocoder's
frames start at a known frame) and compared on the one-pass audio's trimmed
range with spectral.distance. Vocoder windows are opt-in because of what this
measures (bench/README.md):

    python tests/quality/vocoder_distance.py      # ~5 minutes on 2 cores
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kokoro_pipe.voice.split_model import FRAME
from kokoro_pipe.voice.vocoder import Windows, kept_frames
from quality.float_model import float_model_path, run, session
from quality.spectral import distance

# Windows planned for a fixed vocoder speed, so that every run makes the same windows.
FRONTIER = {"windows 16/16/16": Windows(cost=0.35),
            "windows 48/16/16": Windows(first=48, cost=0.35)}


def distances(texts: list[str], settings: dict[str, Windows | None]) -> dict[str, np.ndarray]:
    """{setting: per-line distance from one pass}, plus "calibration" (float weights)."""
    from kokoro_onnx.trim import trim

    from kokoro_pipe.text.g2p import G2P
    from kokoro_pipe.voice import files
    from kokoro_pipe.voice.engine import Engine

    paths = files.resolve()
    engine = Engine(paths)
    assert engine.vocoder is not None, "the split model is not installed"
    int8, floats = session(paths.model), session(float_model_path(int8_durations=True))
    styles, g2p = engine.style("af_heart"), G2P("en-us")
    out: dict[str, list[float]] = {name: [] for name in [*settings, "calibration"]}
    for text in texts:
        phonemes = g2p(text)
        tokens = engine.tokens(phonemes)
        style = styles[len(tokens) - 1]
        one_pass = run(int8, tokens, style)
        _, (start, end) = trim(one_pass)
        front = engine.front(phonemes, styles)
        lo, _ = kept_frames(front.durations)
        for name, windows in settings.items():
            made = np.concatenate([a for a, _ in engine.vocoder.run(front, windows)])
            placed = np.zeros_like(one_pass)
            placed[FRAME * lo:FRAME * lo + len(made)] = made
            out[name].append(distance(one_pass[start:end], placed[start:end]))
        out["calibration"].append(distance(one_pass[start:end],
                                           run(floats, tokens, style)[start:end]))
    return {name: np.array(d) for name, d in out.items()}


def main() -> None:
    from quality.conftest import load_corpus

    result = distances([item.text for item in load_corpus()], {"split": None, **FRONTIER})
    calibration = result["calibration"]
    print(f"{'':18} {'median':>7} {'p90':>7} {'max':>7}  lines within their calibration (dB)")
    for name, d in result.items():
        within = int(np.sum(d <= calibration))
        print(f"{name:18} {np.median(d):7.3f} {np.percentile(d, 90):7.3f} {d.max():7.3f}"
              f"  {within}/{len(d)}")


if __name__ == "__main__":
    main()
