"""kk-speakd's audio thread and the planner's advice (daemon/core.py), with a
fake output that records what the device would hear and when: a request's
first sound waits until the advised audio is made, the device idles meanwhile,
then the held pieces play through in order; a late piece counts as added silence.
"""

from __future__ import annotations

import io
import json
import threading
import time

import numpy as np
import pytest

from kokoro_pipe.audio.player import PlayStats
from kokoro_pipe.daemon.core import Daemon
from kokoro_pipe.daemon.log import EventLog, StatusFile
from kokoro_pipe.daemon.request import Request
from kokoro_pipe.voice.synthesis import Piece

RATE = 24_000
SECOND = np.full(RATE, 0.25, np.float32)


class FakeOutput:
    """A device that takes every write at once and plays it in real time from
    the first: `sounds` lists (time, samples) written."""

    device = "fake"

    def __init__(self):
        self.sounds: list[tuple[float, int]] = []
        self.idles = 0
        self._open = False
        self._stats = PlayStats()

    def is_open(self) -> bool:
        return self._open

    def open(self, stop) -> None:
        self._open, self._stats = True, PlayStats()

    def write(self, block) -> None:
        self.sounds.append((time.monotonic(), len(block)))
        if self._stats.first_write is None:
            self._stats.first_write = time.monotonic()

    def queued(self) -> int:
        if self._stats.first_write is None:
            return 0
        played = (time.monotonic() - self._stats.first_write) * RATE
        return max(0, round(sum(n for _, n in self.sounds) - played))

    def pause(self, seconds: float) -> None:
        pass

    def idle(self) -> int:
        self.idles += 1
        return 0

    def stats(self) -> PlayStats:
        return self._stats

    def close(self, drain: bool) -> None:
        self._open = False

    def rescan(self) -> None:
        pass


class Source:
    """Pieces of one second each, handed over when the test releases them."""

    def __init__(self, count: int, hold: int):
        self.count, self.hold = count, hold
        self.release = [threading.Event() for _ in range(count)]

    def __call__(self, request: Request, stop: threading.Event):
        for i in range(self.count):
            assert self.release[i].wait(30)
            yield Piece(SECOND, start_after=self.hold if i == 0 else None)


@pytest.fixture
def run(tmp_path):
    daemons: list[Daemon] = []

    def start(source: Source, output: FakeOutput | None = None
              ) -> tuple[Daemon, FakeOutput, io.StringIO]:
        output, log = output or FakeOutput(), io.StringIO()
        daemon = Daemon(source, output, EventLog(log), StatusFile(tmp_path / "status.json"),
                        gap=0.0)
        daemon.start()
        daemons.append(daemon)
        return daemon, output, log

    yield start
    for daemon in daemons:
        daemon.shutdown(10)


def record(log: io.StringIO, rid: str | None = None, timeout: float = 30) -> dict:
    """The request line of `rid` (else the first one), once logged."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in log.getvalue().splitlines()]
        done = [r for r in lines if r["event"] == "request" and rid in (None, r["id"])]
        if done:
            return done[0]
        time.sleep(0.01)
    raise AssertionError("no request record")


def test_the_first_sound_waits_for_the_advised_audio_then_all_of_it_plays(run):
    source = Source(count=4, hold=int(2.5 * RATE))
    daemon, output, log = run(source)
    daemon.enqueue(Request("four seconds"), "r1")
    for i in range(3):
        source.release[i].set()
        if i < 2:  # one and two seconds made: less than the advice
            time.sleep(0.3)
            assert output.sounds == [], f"sounded with {i + 1} s of 2.5 s advised"
    deadline = time.monotonic() + 30
    while sum(n for _, n in output.sounds) < 3 * RATE and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sum(n for _, n in output.sounds) == 3 * RATE, "the three pieces held play through"
    assert output.idles > 0, "the open device idled while the advice was being made"
    source.release[3].set()
    r = record(log)
    assert r["outcome"] == "spoken" and r["audio_s"] == 4.0 and r["hold_ms"] == 2500
    assert r["added_silence_ms"] == 0


def test_a_request_shorter_than_its_advice_plays_whole_at_its_end(run):
    source = Source(count=2, hold=10 * RATE)
    daemon, output, log = run(source)
    daemon.enqueue(Request("two seconds"), "r1")
    for event in source.release:
        event.set()
    r = record(log)
    assert r["outcome"] == "spoken" and sum(n for _, n in output.sounds) == 2 * RATE


def test_a_piece_later_than_the_audio_before_it_counts_as_added_silence(run):
    source = Source(count=2, hold=RATE)
    daemon, _, log = run(source)
    daemon.enqueue(Request("two seconds"), "r1")
    source.release[0].set()
    time.sleep(1.6)  # one second of audio plays out: then the device runs dry
    source.release[1].set()
    assert 400 <= record(log)["added_silence_ms"] <= 5000
