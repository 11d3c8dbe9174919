"""A stop that lands between a chunk's G2P and its synthesis ends the
utterance quietly: nothing said, as asked, not "nothing to say" (which the
daemon logs as a rejected request, and sd_kokoro would end with END, not STOP)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from kokoro_pipe.text.g2p import Phonemized
from kokoro_pipe.voice.engine import Voiced
from kokoro_pipe.voice.planner import Pace
from kokoro_pipe.voice.synthesis import NothingToSay, Synthesizer, Utterance


class Engine:
    sample_rate, windows = 24_000, None

    def __init__(self):
        self.pace, self.made = Pace(), []

    def stream(self, phonemes, style, speed=1.0, windowed=False, words=()):
        self.made.append(phonemes)
        yield Voiced(np.full(2400, 0.1, np.float32))


def synthesizer(engine: Engine, g2p) -> Synthesizer:
    return Synthesizer(engine, np.zeros((510, 1, 256), np.float32), g2p=g2p)


def test_a_stop_right_after_g2p_says_nothing_and_raises_nothing():
    stop = threading.Event()

    def g2p(text: str) -> Phonemized:
        stop.set()  # the cancel arrives while this chunk is phonemized
        return Phonemized(text, ())

    engine = Engine()
    assert list(synthesizer(engine, g2p).chunks(Utterance(0, 0, "via systemd"), stop)) == []
    assert engine.made == []


def test_punctuation_alone_is_still_nothing_to_say():
    engine = Engine()
    with pytest.raises(NothingToSay):
        list(synthesizer(engine, lambda text: Phonemized(text, ())).chunks(
            Utterance(0, 0, "..."), threading.Event()))
