"""kk-speakd's audio thread tells a sound's begin and end when the device plays
them, not when they are written (daemon/core.py, `_at_heard`): requests that
flow on one stream each end when their last sample is heard, the next begins
after, in order. A fake device plays in real time and takes every write at once,
so what is written runs far ahead of what is heard; the bounds are lower ones
(a slower machine only tells later) and loose upper ones."""

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


class RealTimeDevice:
    """One stream, played in real time from its first write across the requests
    it carries; it never runs ahead of what was written (an underrun plays silence)."""

    device = "fake"

    def __init__(self):
        self._open, self._start, self._written, self._stats = False, None, 0, PlayStats()

    def _played(self) -> int:
        return 0 if self._start is None else round((time.monotonic() - self._start) * RATE)

    def _append(self, frames: int) -> None:
        if self._start is None:
            self._start = time.monotonic()
        self._written = max(self._written, self._played()) + frames

    def is_open(self) -> bool:
        return self._open

    def open(self, stop) -> None:
        self._stats = PlayStats()
        if not self._open:
            self._open, self._start, self._written = True, None, 0

    def write(self, block) -> None:
        self._append(len(block))
        self._stats.samples += len(block)
        if self._stats.first_write is None:
            self._stats.first_write = time.monotonic()

    def queued(self) -> int:
        return max(0, self._written - self._played())

    def pause(self, seconds: float) -> None:
        if self._start is not None:
            self._append(round(seconds * RATE))

    def idle(self) -> int:
        return 0

    def stats(self) -> PlayStats:
        return self._stats

    def close(self, drain: bool) -> None:
        if drain:
            time.sleep(self.queued() / RATE)
        self._open = False

    def rescan(self) -> None:
        pass


class Told:
    """The Events, as (monotonic time, event, request id)."""

    def __init__(self):
        self.seen: list[tuple[float, str, str]] = []

    def begin(self, job) -> None:
        self.seen.append((time.monotonic(), "begin", job.id))

    def mark(self, job, name) -> None:
        self.seen.append((time.monotonic(), f"mark {name}", job.id))

    def end(self, job, outcome) -> None:
        self.seen.append((time.monotonic(), f"end {outcome}", job.id))

    def wait(self, count: int, timeout: float = 30) -> list[tuple[float, str, str]]:
        deadline = time.monotonic() + timeout
        while len(self.seen) < count:
            assert time.monotonic() < deadline, self.seen
            time.sleep(0.01)
        return self.seen


def one_second(request: Request, stop: threading.Event):
    yield Piece(SECOND)


@pytest.fixture
def daemon(tmp_path):
    told, log = Told(), io.StringIO()
    daemon = Daemon(one_second, RealTimeDevice(), EventLog(log),
                    StatusFile(tmp_path / "status.json"), gap=0.0, events=told)
    daemon.told, daemon.log_text = told, log
    daemon.start()
    yield daemon
    daemon.shutdown(10)


def records(log: io.StringIO, *ids: str, timeout: float = 30) -> dict[str, dict]:
    """The request lines of `ids`, once all are logged (after the drain)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(line) for line in log.getvalue().splitlines()]
        logged = {r["id"]: r for r in lines if r["event"] == "request"}
        if set(ids) <= set(logged):
            return logged
        assert time.monotonic() < deadline, logged
        time.sleep(0.01)


def test_requests_flowing_on_each_end_when_heard_and_the_next_begins_after(daemon):
    daemon.enqueue(Request("one"), "r1")
    daemon.enqueue(Request("two"), "r2")
    seen = daemon.told.wait(4)
    assert [(event, rid) for _, event, rid in seen] == [
        ("begin", "r1"), ("end spoken", "r1"), ("begin", "r2"), ("end spoken", "r2")]
    (begin1, *_), (end1, *_), (begin2, *_), (end2, *_) = seen
    # All of r1 was written at once; its second of sound is heard before its end is told.
    assert 0.95 < end1 - begin1 < 3.0
    assert 0.0 <= begin2 - end1 < 0.5
    assert 0.95 < end2 - begin2 < 3.0
    logged = records(daemon.log_text, "r1", "r2")
    assert [logged[r]["outcome"] for r in ("r1", "r2")] == ["spoken", "spoken"]
    assert 0.95 < logged["r2"]["audio_end"] - logged["r1"]["audio_end"] < 3.0


def test_a_stop_while_the_one_before_is_heard_ends_both_in_order(daemon):
    daemon.enqueue(Request("one"), "r1")
    daemon.enqueue(Request("two"), "r2")
    daemon.told.wait(1)
    time.sleep(0.3)  # r1 handed over whole, r2 written behind it; r1 still heard
    daemon.command("stop")  # the request being spoken is r2 now: it is cut, so is r1's rest
    seen = daemon.told.wait(4)
    assert [(event, rid) for _, event, rid in seen] == [
        ("begin", "r1"), ("end spoken", "r1"), ("begin", "r2"), ("end stopped", "r2")]
    assert seen[1][0] - seen[0][0] < 0.9, "r1's end is told at the cut, not when it was due"
    logged = records(daemon.log_text, "r1", "r2")
    assert logged["r1"]["outcome"] == "spoken" and logged["r2"]["outcome"] == "stopped"
