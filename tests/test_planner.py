"""The planner (voice/planner.py) through the real Synthesizer and chunker, on a
fake clock with a fake model whose cost per second of audio is set: what a
listener would hear at each speed, without timing anything real.

The player is modelled as kk-play plays: it starts once the utterance's advised
samples are buffered, then plays in real time; a piece that arrives after the
buffer ran dry adds that much silence where it joins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from kokoro_pipe.text.chunks import Chunker, end_kind
from kokoro_pipe.text.g2p import Phonemized
from kokoro_pipe.voice.engine import Voiced
from kokoro_pipe.voice.planner import Pace, Policy
from kokoro_pipe.voice.synthesis import Synthesizer, Utterance

RATE = 24_000
PER_CHAR = 0.055  # seconds of audio per character, as the real model makes them
OVERHEAD = 0.12  # seconds of work per chunk whatever its length, as measured here

PARAGRAPH = ("The nightly build finished on the staging server at noon, and every test passed. "
             "Coverage rose to ninety one percent, the highest it has been this year. "
             "Two flaky tests were quarantined, and a ticket was filed for each of them. "
             "The release candidate will be cut tomorrow morning, unless somebody objects.")
ARTICLE = " ".join([PARAGRAPH] * 4)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeEngine:
    """Makes PER_CHAR seconds of audio per phoneme, taking `cost` seconds of the
    fake clock per second of audio plus a fixed overhead per chunk."""

    sample_rate = RATE
    windows = None

    def __init__(self, cost: float, clock: Clock):
        self.cost, self.clock = cost, clock
        self.pace = Pace(clock=clock)
        self.chunks: list[str] = []

    def stream(self, phonemes, style, speed=1.0, windowed=False, words=()):
        seconds = PER_CHAR * len(phonemes) / speed
        self.clock.now += OVERHEAD + self.cost * seconds
        self.chunks.append(phonemes)
        yield Voiced(np.full(round(seconds * RATE), 0.1, np.float32))


def g2p(text: str) -> Phonemized:
    return Phonemized(text, [])


@dataclass
class Heard:
    wait: float  # seconds from the request to the first sound
    silences: list[tuple[float, str]]  # (seconds added, how the chunk before it ended)
    hold: float  # the advice, seconds


def listen(cost: float, text: str, policy: Policy | None = None, warm: bool = True) -> Heard:
    """Synthesize `text` at `cost` and play it as modelled in the docstring."""
    clock = Clock()
    engine = FakeEngine(cost, clock)
    synthesizer = Synthesizer(engine, np.zeros((510, 1, 256), np.float32), g2p=g2p,
                              live=policy or Policy())
    if warm:  # a warm daemon has measured its pace before the request
        list(synthesizer.chunks(Utterance(0, 0, "Ready.")))
    clock.now = 0.0
    buffered, hold, started, played_until = 0.0, None, None, 0.0
    silences: list[tuple[float, str]] = []
    pending: list[tuple[float, float]] = []  # (arrival, seconds) before playback starts
    for piece in synthesizer.chunks(Utterance(1, 1, text)):
        seconds = len(piece.audio) / RATE
        if piece.start_after is not None:
            hold = piece.start_after / RATE
        if started is None:
            buffered += seconds
            pending.append((clock.now, seconds))
            if buffered >= (hold or 0.0) - 1e-6:
                started = clock.now
                played_until = started + buffered
            continue
        if clock.now > played_until + 1e-9:  # the buffer ran dry before this piece came
            before = engine.chunks[-2]  # this piece is the last chunk made
            silences.append((clock.now - played_until, end_kind(before)))
            played_until = clock.now
        played_until += seconds
    return Heard(started, silences, hold)


def added(heard: Heard) -> float:
    return sum(s for s, _ in heard.silences)


@pytest.mark.parametrize("cost", [0.2, 0.35, 0.6, 0.85])
@pytest.mark.parametrize("text", [PARAGRAPH, ARTICLE])
def test_no_silence_is_added_on_a_machine_that_keeps_up(cost, text):
    heard = listen(cost, text)
    assert added(heard) == 0.0, heard.silences


@pytest.mark.parametrize("cost", [0.35, 0.85])
def test_a_cold_start_measures_before_it_advises(cost):
    """No pace measured yet (a cold kk-synth): the first chunk is the first
    measurement, and the advice comes after it."""
    assert added(listen(cost, PARAGRAPH, warm=False)) == 0.0


def test_first_audio_waits_no_longer_than_the_first_chunk_when_the_machine_is_fast():
    fast = listen(0.2, PARAGRAPH)
    assert fast.wait == pytest.approx(OVERHEAD + 0.2 * PER_CHAR * len(Chunker(PARAGRAPH).head))


def test_a_slower_machine_waits_longer_instead_of_stuttering():
    assert listen(0.85, ARTICLE).wait > listen(0.35, ARTICLE).wait


@pytest.mark.parametrize("cost", [1.3, 2.0, 3.0])
def test_slower_than_real_time_pauses_only_at_clause_and_sentence_ends(cost):
    heard = listen(cost, ARTICLE, Policy(max_wait=2.0))
    assert heard.silences, "a machine this slow cannot keep an article whole"
    assert {kind for _, kind in heard.silences} <= {"sentence", "clause"}
    first_chunk = OVERHEAD + cost * PER_CHAR * len(Chunker(ARTICLE).head)
    assert heard.wait <= first_chunk + 2.0 + OVERHEAD + cost * PER_CHAR * 150  # cap + a chunk


def test_the_cap_keeps_a_short_line_whole_when_it_can():
    """Slower than real time, but a short line fits in the wait allowed: no pause."""
    line = "The nightly build finished on the staging server at noon, and every test passed."
    heard = listen(1.5, line, Policy(max_wait=10.0))
    assert added(heard) == 0.0 and heard.hold > 0


def test_without_a_live_policy_chunks_do_not_depend_on_the_speed():
    def chunks(cost):
        clock = Clock()
        engine = FakeEngine(cost, clock)
        synthesizer = Synthesizer(engine, np.zeros((510, 1, 256), np.float32), g2p=g2p)
        pieces = list(synthesizer.chunks(Utterance(1, 1, ARTICLE)))
        assert all(p.start_after is None for p in pieces)
        return engine.chunks

    assert chunks(0.2) == chunks(3.0)


def test_the_pace_follows_a_machine_that_slows_down():
    pace = Pace(clock=Clock())
    for _ in range(3):
        pace.measure(work=1.0, audio=3.0, units=50, speed=1.0)
    assert pace.cost == pytest.approx(1 / 3)
    for _ in range(12):  # the same machine, three times slower today
        pace.measure(work=3.0, audio=3.0, units=50, speed=1.0)
    assert pace.cost == pytest.approx(1.0, rel=0.05)


def test_after_a_warm_up_the_first_measurement_replaces_its_figures():
    pace = Pace(clock=Clock())
    pace.measure(work=2.0, audio=0.5, units=6, speed=1.0)  # the model's first, slowest run
    pace.forget()
    pace.measure(work=1.0, audio=3.0, units=50, speed=1.0)
    assert pace.cost == pytest.approx(1 / 3) and pace.per_unit == pytest.approx(0.06)
