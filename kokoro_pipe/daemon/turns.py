"""One warm model, many users: its runs take turns, speech first.

kk-speakd's speech and the kk-synth clients it serves share one Engine. Each
model run (one chunk, or one window of it) waits for its turn; a spoken
request goes before every synthesis client, and clients go in the order they
asked, so two article renders interleave chunk by chunk and a notification
waits for at most the one chunk already running.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
from collections.abc import Iterator

import numpy as np

SPEECH, SYNTHESIS = 0, 1  # priorities: lower goes first


class Turns:
    def __init__(self):
        self._cond = threading.Condition()
        self._busy = False
        self._waiting: list[tuple[int, int]] = []  # (priority, ticket), a heap
        self._tickets = itertools.count()

    @contextlib.contextmanager
    def turn(self, priority: int) -> Iterator[None]:
        with self._cond:
            mine = (priority, next(self._tickets))
            heapq.heappush(self._waiting, mine)
            while self._busy or self._waiting[0] != mine:
                self._cond.wait()
            heapq.heappop(self._waiting)
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()


class TakingTurns:
    """An Engine as one of its users sees it: the same calls, each model run
    (and each voice lookup: the voices archive is not thread-safe) in turn."""

    def __init__(self, engine, turns: Turns, priority: int):
        self._engine, self._turns, self._priority = engine, turns, priority

    def __getattr__(self, name: str):
        return getattr(self._engine, name)

    def style(self, spec: str) -> np.ndarray:
        with self._turns.turn(self._priority):
            return self._engine.style(spec)

    def stream(self, *args, **kwargs) -> Iterator[np.ndarray]:
        pieces = self._engine.stream(*args, **kwargs)
        while True:
            with self._turns.turn(self._priority):
                piece = next(pieces, None)
            if piece is None:
                return
            yield piece
