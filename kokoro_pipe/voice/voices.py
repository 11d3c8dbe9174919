"""The voices and speeds there are, checked without numpy or the model: kk-synth
checks its options with these before it borrows a daemon or loads anything."""

from __future__ import annotations

import math
import zipfile

from kokoro_pipe.errors import UsageError

SPEED_RANGE = (0.5, 2.0)  # what the model was trained for
DEFAULT_VOICE = "af_heart"


def check_speed(speed: float) -> float:
    lo, hi = SPEED_RANGE
    if not lo <= speed <= hi:
        raise UsageError(f"speed {speed} out of range {lo}..{hi}")
    return speed


def parse_voice(spec: str, known: frozenset[str] | set[str]) -> list[tuple[str, float]]:
    """`af_bella:0.6,af_sky:0.4` -> [(name, weight)]; a bare name weighs 1."""
    parts = []
    for item in spec.split(","):
        name, _, weight = item.strip().partition(":")
        if name not in known:
            raise UsageError(f"unknown voice {name!r} (kk-synth --list-voices lists them)")
        try:
            w = float(weight) if weight else 1.0
        except ValueError:
            raise UsageError(f"voice weight {weight!r} in {spec!r} is not a number") from None
        if not (w > 0 and math.isfinite(w)):
            raise UsageError(f"voice weight {weight!r} in {spec!r} must be positive")
        parts.append((name, w))
    return parts


def voice_names(voices_path) -> frozenset[str]:
    """Names in a voices archive (an .npz: a zip of NAME.npy), read from its index
    as numpy.load would list them, without loading any voice."""
    with zipfile.ZipFile(voices_path) as archive:
        return frozenset(name.removesuffix(".npy") for name in archive.namelist())
