"""One warm model, many users: its runs take turns, speech first.

kk-speakd's speech and the kk-synth clients it serves share one Engine. Each
model run (one chunk, or one window of it) waits for its turn; a spoken
request goes before every synthesis client, and clients go in the order they
asked, so two article renders interleave chunk by chunk and a notification
waits for at most the one chunk already running. A client that has not taken
what it was sent goes after those that have: one that does not read holds
nobody up. A voice lookup does not wait for the model, only for the voices.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

SPEECH, SYNTHESIS = 0, 1  # priorities: lower goes first


class Turns:
    def __init__(self):
        self._cond = threading.Condition()
        self._waiting: list[_Ask] = []
        self._holder: _Ask | None = None  # whose run it is
        self._tickets = itertools.count()
        self.voices = threading.Lock()  # the voices archive is not thread-safe

    @contextlib.contextmanager
    def turn(self, priority: int, taking: Callable[[], bool] | None = None) -> Iterator[None]:
        """The model, after every lower priority; within one, those `taking`
        (see TakingTurns) first, then in the order they asked. Who goes next
        is chosen when the model is free, as they are then."""
        with self._cond:
            mine = _Ask(priority, next(self._tickets), taking)
            self._waiting.append(mine)
            if self._holder is None:
                self._hand_on()
            while self._holder is not mine:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._hand_on()

    def _hand_on(self) -> None:
        """The model to the first in line (or nobody); with the lock held."""
        self._holder = min(self._waiting, key=_Ask.key, default=None)
        if self._holder is not None:
            self._waiting.remove(self._holder)
        self._cond.notify_all()


@dataclass
class _Ask:
    priority: int
    ticket: int
    taking: Callable[[], bool] | None

    def key(self) -> tuple[int, int, int]:
        try:
            behind = self.taking is not None and not self.taking()
        except OSError:
            behind = False  # gone: let it find out soon
        return self.priority, behind, self.ticket


class TakingTurns:
    """An Engine as one of its users sees it: the same calls, each model run
    in turn (and each voice lookup under the voices' lock).

    `taking`, when given, says whether the user has taken all it was given
    (else it waits for those who have), and raises OSError once the user is
    gone, also when its turn comes: no model run for nobody."""

    def __init__(self, engine, turns: Turns, priority: int,
                 taking: Callable[[], bool] | None = None):
        self._engine, self._turns, self._priority = engine, turns, priority
        self._taking = taking

    def __getattr__(self, name: str):
        return getattr(self._engine, name)

    def style(self, spec: str) -> np.ndarray:
        with self._turns.voices:
            return self._engine.style(spec)

    def stream(self, *args, **kwargs) -> Iterator[np.ndarray]:
        pieces = self._engine.stream(*args, **kwargs)
        while True:
            with self._turns.turn(self._priority, self._taking):
                if self._taking is not None:
                    self._taking()  # raises for a client gone meanwhile
                piece = next(pieces, None)
            if piece is None:
                return
            yield piece
