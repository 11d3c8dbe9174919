"""One chunk through the split model: the front once, then the vocoder over
only the frames that are kept, in one pass or in growing windows.

Windows: the first emits at least `first` frames, decoded with `lookahead`
frames after them; each later one is decoded from `context` frames before its
start to `lookahead` after its end, and is as long as can be vocoded before the
audio already made runs out, at the vocoder's measured speed with a safety
factor; the last takes what is left. Given the words' frames, windows meet only
in the gap between two words, at its quietest frame (`joins`): a step in level
inside a word is heard, one in a pause between words hardly. When that plan
cannot keep up, the first window grows until it can, so a slow machine waits
longer for the first audio instead of stuttering. A window's harmonic source is a
slice of the one computed for the whole chunk, so the phase runs on.

Windows are opt-in because the vocoder normalizes each window over its own
time axis: judged by ear against one pass (bench/window_judges.py), the line
comes out softer and DNSMOS hears it as worse, though the words are as clear
(bench/README.md, issue 27). Those statistics are nearly all of the difference:
given the one-pass ones, the same windows are 0.7 dB of log-mel from one pass,
but no cheap estimate of them has come near: a voice's average statistics take
away the DNSMOS loss, not the loudness error; a head with those followed by one
pass's audio nearly meets the loudness gate but comes too late to be worth it
(tests/quality/window_statistics.py, bench/README.md).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from kokoro_pipe import SAMPLE_RATE
from kokoro_pipe.voice.split_model import FEATURES, FRAME, SOURCE

# Frames of the leading pad token that are vocoded: the model's onset begins
# inside the pad (one-pass audio trims to 10-14 frames into a 13-18 frame pad),
# and the vocoder's normalization wants some of the silence it was trained with.
LEAD_MARGIN = 8
MEASURED_FRAMES = 16


@dataclass(frozen=True)
class Windows:
    """Measured on the quality corpus (bench/README.md): 16 frames of context and of
    look-ahead sound 1 dB closer to one pass than 8, and with 8 a last window
    of mostly trailing silence can come out as a -35 dB noise burst."""

    first: int = 16  # frames emitted by the first window, before it grows to keep up
    context: int = 16
    lookahead: int = 16
    safety: float = 1.5  # the vocoder may run this much slower than measured
    shortest: int = 16  # a later window shorter than this costs more than it gives
    cost: float | None = None  # plan for this real-time factor, not the measured one


@dataclass(frozen=True)
class Span:
    decode_from: int
    start: int  # first frame emitted
    end: int  # frame after the last emitted
    decode_to: int


@dataclass(frozen=True)
class FrontOutput:
    durations: np.ndarray  # frames per token, both pad tokens included
    features: np.ndarray  # (1, C, 2 * frames)
    source: np.ndarray  # (1, FRAME * frames, 1)
    style: np.ndarray  # (1, 256): the voice's row for this chunk's token count

    @property
    def frames(self) -> int:
        return int(self.durations.sum())


def kept_frames(durations: np.ndarray) -> tuple[int, int]:
    """The frames worth vocoding: the leading pad's silence is mostly skipped."""
    return max(0, int(durations[0]) - LEAD_MARGIN), int(durations.sum())


def joins(front: FrontOutput, words: Sequence[tuple[int, int] | None]) -> list[int]:
    """Where windows may meet: one frame between each two words (their heard
    frames, timing.word_frames), the one in their gap where the harmonic source
    is weakest, so the join falls in a pause or an unvoiced stretch."""
    frames = front.source.reshape(-1)[:FRAME * front.frames].reshape(-1, FRAME)
    energy = np.square(frames).mean(axis=1)
    # A join at frame f sits between frames f - 1 and f: both should be quiet.
    around = energy + np.concatenate([[np.inf], energy[:-1]])
    timed = [w for w in words if w]
    out = []
    for (_, end), (start, _) in itertools.pairwise(timed):
        a, b = min(end, start), max(end, start)
        out.append(a + int(np.argmin(around[a:b + 1])) if a < len(around) else a)
    return sorted(set(out))


def spans(lo: int, hi: int, windows: Windows | None, cost: float,
          joins: Sequence[int] | None = None) -> list[Span]:
    """The windows of frames [lo, hi). `cost`: seconds of vocoding per second
    of audio decoded (the vocoder's real-time factor). `joins`: the only frames
    where two windows may meet, None for any."""
    if windows is None:
        return [Span(lo, lo, hi, hi)]
    inside = None if joins is None else [j for j in joins if lo < j < hi]
    first = windows.first
    while (plan := _plan(lo, hi, windows, cost * windows.safety, first, inside)) is None:
        first = first * 5 // 4 + 1
    return plan


def _plan(lo: int, hi: int, w: Windows, cost: float, first: int,
          joins: list[int] | None) -> list[Span] | None:
    out: list[Span] = []
    start, ahead = lo, 0.0  # ahead: frames of audio made and not yet played
    while start < hi:
        if not out:
            size, decode_from = first, lo
        else:
            size = int(ahead / cost) - w.context - w.lookahead
            decode_from = max(lo, start - w.context)
            if size < min(w.shortest, hi - start):
                return None
        end = hi if hi - start <= size + w.lookahead else start + size
        if joins is not None and end < hi:
            if not out:  # the first window: the first words that give enough audio
                end = next((j for j in joins if j >= end), hi)
            else:  # a later one: the last words that can be made in time
                end = max((j for j in joins if start + w.shortest <= j <= end), default=None)
                if end is None:
                    return None
            if not out and hi - end < w.shortest:  # too little left to be worth a window
                end = hi
        span = Span(decode_from, start, end, min(hi, end + w.lookahead))
        played = cost * (span.decode_to - span.decode_from) if out else 0.0
        # The first window's head is mostly the pad's silence, trimmed away.
        ahead += (end - start) - played - (0 if out else LEAD_MARGIN)
        out.append(span)
        start = end
    return out


class Vocoder:
    """The vocoder half's session, and how fast it has been running here."""

    def __init__(self, session, run_options=None, cost: float = 0.5):
        self.session, self.run_options = session, run_options
        self.cost = cost  # seconds per second of audio decoded; a guess until measured

    def run(self, front: FrontOutput, windows: Windows | None,
            between: Sequence[int] | None = None) -> Iterator[tuple[np.ndarray, bool]]:
        """(audio, is last) span by span, from the chunk's first kept frame;
        windows meet only at the frames `between` words, if given."""
        lo, hi = kept_frames(front.durations)
        todo = spans(lo, hi, windows, (windows and windows.cost) or self.cost, between)
        for i, span in enumerate(todo):
            began = time.perf_counter()
            audio = self._decode(front, span.decode_from, span.decode_to)
            self._measured(time.perf_counter() - began, span.decode_to - span.decode_from)
            skip = FRAME * (span.start - span.decode_from)
            yield audio[skip:skip + FRAME * (span.end - span.start)], i == len(todo) - 1

    def _measured(self, seconds: float, frames: int) -> None:
        if frames >= MEASURED_FRAMES:  # shorter runs are mostly fixed overhead
            self.cost = 0.7 * self.cost + 0.3 * seconds / (frames * FRAME / SAMPLE_RATE)

    def _decode(self, front: FrontOutput, a: int, b: int) -> np.ndarray:
        return self.session.run(None, {
            FEATURES: front.features[:, :, 2 * a:2 * b],
            "style": front.style,
            SOURCE: front.source[:, FRAME * a:FRAME * b],
        }, self.run_options)[0].ravel()


def trimmed(pieces: Iterator[tuple[np.ndarray, bool]]
            ) -> Iterator[tuple[np.ndarray, int, bool]]:
    """Silence cut from the start of the first piece and the end of the last,
    as kokoro-onnx trims a whole chunk: 60 dB under the loudest frame so far.
    Yields each piece with where it starts (in samples from the first piece's
    start) and whether it is the last."""
    from kokoro_onnx.trim import rms, trim

    peak, at = 0.0, 0
    for i, (audio, last) in enumerate(pieces):
        peak = max(peak, float(np.max(rms(y=audio), initial=0.0)))
        _, (head, tail) = trim(audio, ref=peak or 1.0)
        start = head if i == 0 else 0
        yield audio[start:tail if last else len(audio)], int(at + start), last
        at += len(audio)
