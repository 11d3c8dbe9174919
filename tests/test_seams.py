"""The silence put between utterances counts what is already silent at the
seam (voice/seams.py): the quiet ends of the model's audio (below -60 dBFS)
and a trailing break, so a listener hears the configured pause. No model:
kk-synth's writer (voice/render.py) fed made-up audio."""

from __future__ import annotations

import itertools

import numpy as np

from kokoro_pipe.cli.progress import Progress
from kokoro_pipe.framing import WordMark
from kokoro_pipe.voice.render import write_events
from kokoro_pipe.voice.seams import SILENT, Seam, silent_head, silent_tail
from kokoro_pipe.voice.synthesis import AudioBlock, Finished, Utterance, WordTime

RATE = 24_000
PAUSE = 0.4


def speech(quiet_head: float, quiet_tail: float, loud: float = 0.5) -> np.ndarray:
    """A tone with quiet ends, as the model's audio has (above zero, below SILENT)."""
    n = frames(loud)
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / RATE) + 0.4  # never near zero
    return np.concatenate([np.full(frames(quiet_head), SILENT / 4), tone,
                           np.full(frames(quiet_tail), -SILENT / 4)]).astype(np.float32)


def frames(seconds: float) -> int:
    return round(seconds * RATE)


def heard_pauses(audio: np.ndarray) -> list[int]:
    """Each run of samples below SILENT between two sounds, in samples."""
    loud = np.flatnonzero(np.abs(audio) >= SILENT)
    return [int(b - a - 1) for a, b in itertools.pairwise(loud) if b - a > 1]


class Sink:
    def __init__(self):
        self.samples: list[np.ndarray] = []
        self.marks: list[WordMark] = []

    def audio(self, samples):
        self.samples.append(samples)

    def words(self, marks):
        self.marks += marks

    def advise(self, advice):
        pass

    def end(self, meta):
        pass


def written(*utterances: list[np.ndarray]) -> Sink:
    events = []
    for i, blocks in enumerate(utterances, 1):
        utt = Utterance(i, i, f"line {i}")
        events += [AudioBlock(utt, b, (WordTime(0, 10, "line", (0, 4)),)) for b in blocks]
        events.append(Finished(utt))
    sink = Sink()
    assert write_events(events, sink, PAUSE, Progress(None, to_file=False)) == 0
    return sink


def test_the_quiet_ends_are_measured_against_minus_60_dbfs():
    x = speech(0.025, 0.080)
    assert silent_head(x) == frames(0.025)
    assert silent_tail(x) == frames(0.080)
    assert silent_head(np.zeros(7, np.float32)) == silent_tail(np.zeros(7, np.float32)) == 7


def test_the_pause_heard_between_lines_is_the_pause_not_more():
    sink = written([speech(0.02, 0.09)], [speech(0.03, 0.07)], [speech(0.025, 0.08)])
    pauses = heard_pauses(np.concatenate(sink.samples))
    assert pauses == [frames(PAUSE)] * 2  # to the sample


def test_a_quiet_tail_across_blocks_counts_and_word_marks_follow_the_shorter_gap():
    first = speech(0.02, 0.05)
    sink = written([first, np.full(frames(0.06), SILENT / 2, np.float32)],
                   [speech(0.03, 0.07)])
    assert heard_pauses(np.concatenate(sink.samples)) == [frames(PAUSE)]
    gap = frames(PAUSE) - frames(0.05) - frames(0.06) - frames(0.03)
    assert sink.marks[-1].start == gap  # the second line's word, after the gap written


def test_a_trailing_break_longer_than_the_pause_replaces_it():
    brk = np.zeros(frames(0.7), np.float32)  # an SSML <break time="700ms"/> at the end
    sink = written([speech(0.02, 0.09), brk], [speech(0.03, 0.07)])
    assert heard_pauses(np.concatenate(sink.samples)) == [frames(0.09) + len(brk) + frames(0.03)]


def test_silence_written_on_the_stream_counts_and_sound_resets_it():
    seam = Seam()
    seam.passed(speech(0.0, 0.1))
    seam.silence(frames(0.2))
    assert seam.owed(frames(PAUSE), speech(0.05, 0.0)) == frames(0.05)
    seam.passed(speech(0.0, 0.0))
    assert seam.owed(frames(PAUSE), speech(0.0, 0.0)) == frames(PAUSE)
