"""The pause heard between two utterances: the configured one, not more.

The model's audio starts and ends quietly: kokoro-onnx trims at -60 dB, and
what it keeps is ~20-30 ms of near-silence before the first sound and ~70-95 ms
after the last (measured on one-sentence lines). A listener hears that as part
of the pause, so the silence put between two utterances is the pause less
what is already silent at the end of the one and the start of the next.
Silence is any sample below SILENT in magnitude; a trailing SSML break (exact
zeros) counts too, so a break longer than the pause replaces it.
"""

from __future__ import annotations

import numpy as np

SILENT = 1e-3  # -60 dBFS


def silent_head(audio: np.ndarray, threshold: float = SILENT) -> int:
    """Samples before the first one at or above `threshold` (all of them if none is)."""
    loud = np.flatnonzero(np.abs(audio) >= threshold)
    return int(loud[0]) if len(loud) else len(audio)


def silent_tail(audio: np.ndarray, threshold: float = SILENT) -> int:
    """Samples after the last one at or above `threshold` (all of them if none is)."""
    loud = np.flatnonzero(np.abs(audio) >= threshold)
    return len(audio) - 1 - int(loud[-1]) if len(loud) else len(audio)


class Seam:
    """Follows the audio of one stream, to say how much silence to put before
    the next utterance so that a pause of `pause` samples is heard there."""

    def __init__(self):
        self.tail = 0  # samples silent at the end of what has passed

    def passed(self, audio: np.ndarray) -> None:
        """`audio` was written."""
        quiet = silent_tail(audio)
        self.tail = self.tail + quiet if quiet == len(audio) else quiet

    def silence(self, frames: int) -> None:
        """`frames` of silence were written."""
        self.tail += frames

    def owed(self, pause: int, following: np.ndarray) -> int:
        """Samples of silence to write before `following`, the next utterance's
        first audio: the pause less what is silent on either side already."""
        return max(0, pause - self.tail - silent_head(following))
