"""Where words fall in a chunk's audio, from the model's predicted durations.

The front of the split model predicts how many frames (600 samples at 24 kHz)
each phoneme token lasts; the vocoder renders exactly that many. A word's
phonemes are a span of the chunk's phoneme string, so its frames are the sum
of the durations before its first token and up to its last. Characters the
model's vocabulary lacks are no token (the tokenizer drops them), and a word
of nothing but those has no time.

A word is heard ONSET_LEAD frames before its durations say: the vocoder
starts a sound ahead of the frames aligned with it. Measured on 30 one-word
lines (first sample above 2 % of the peak vs the durations' onset): median
78 ms, quartiles 64-90 ms; Kokoro's own timestamps (kokoro.pipeline) take 3
frames off too. Inside running speech (not after punctuation) it is one frame
more, CONNECTED_LEAD: there onsets read off the sound of "I saw a ___" (24
stop-initial words: the closure; 24 /s/, /ʃ/-initial: the frication) came 16
and 36 ms after ONSET_LEAD's, while words after a 700 ms break came 14 ms
before it. Ends keep ONSET_LEAD, but never pass the next word's start (with
a space of no frames between them they would by a frame), and a word before a
pause ends where its sound does (sound_end), not where the durations run on
into the silence.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from kokoro_pipe.voice.seams import SILENT

ONSET_LEAD = 3  # frames
CONNECTED_LEAD = ONSET_LEAD + 1
PAUSES = set(',.;:!?—…"()“”')  # phonemes after which a word starts from a pause


def word_frames(phonemes: str, words: Sequence[tuple[int, int]], vocab: Mapping[str, int],
                durations: np.ndarray) -> list[tuple[int, int] | None]:
    """(first frame, frame after the last) where each word's phonemes [a, b)
    are heard in the chunk, counted from the start of its leading pad token
    (ONSET_LEAD or CONNECTED_LEAD before the durations' frames); None for a
    word with no token."""
    token = []  # the token index of each character, -1 for none
    count = 0
    for ch in phonemes:
        token.append(count if ch in vocab else -1)
        count += ch in vocab
    # durations has one more entry before (and after) the tokens: the pad.
    edges = np.concatenate([[0], np.cumsum(durations)])
    out: list[tuple[int, int] | None] = []
    for a, b in words:
        inside = [t for t in token[a:b] if t >= 0]
        if inside:
            start, end = int(edges[inside[0] + 1]), int(edges[inside[-1] + 2])
            before = phonemes[:a].rstrip()
            lead = CONNECTED_LEAD if before and before[-1] not in PAUSES else ONSET_LEAD
            out.append((max(0, start - lead), max(0, end - ONSET_LEAD)))
        else:
            out.append(None)
    timed = [i for i, f in enumerate(out) if f]
    for i, j in itertools.pairwise(timed):  # a word ends before the next starts
        start, end = out[i]
        out[i] = (start, max(start, min(end, out[j][0])))
    return out


def sound_end(audio: np.ndarray, start: int, end: int) -> int:
    """Where the sound of a word heard in audio[start:end] ends: after its last
    sample at or above -60 dBFS (SILENT), or `end` if it has none."""
    loud = np.flatnonzero(np.abs(audio[start:end]) >= SILENT)
    return start + int(loud[-1]) + 1 if len(loud) else end
