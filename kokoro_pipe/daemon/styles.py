"""The style arrays kk-speakd has made, kept for the next request of the same voice.

A style is ~0.5 MB (510 x 256 float32) and any blend string makes a new one,
so the cache is bounded by bytes: the least recently used go first, except
the default voice, which every plain request uses.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

MAX_BYTES = 16 << 20  # 32 styles


class StyleCache:
    """Shared by speech and the kk-synth clients (locked); `lookup` makes a
    missing style (Engine.style: a name or a blend; UsageError if unknown)."""

    def __init__(self, default: str, max_bytes: int = MAX_BYTES):
        self.default, self.max_bytes = default, max_bytes
        self._styles: OrderedDict[str, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, voice: str, lookup: Callable[[str], np.ndarray]) -> np.ndarray:
        with self._lock:
            style = self._styles.get(voice)
            if style is not None:
                self._styles.move_to_end(voice)
                return style
        style = lookup(voice)  # outside the lock: it may wait for the voices archive
        with self._lock:
            if voice not in self._styles:
                self._styles[voice] = style
                self._bytes += style.nbytes
                self._evict()
        return style

    def size(self) -> tuple[int, int]:
        """(styles, bytes) held."""
        with self._lock:
            return len(self._styles), self._bytes

    def _evict(self) -> None:
        for voice in list(self._styles):
            if self._bytes <= self.max_bytes:
                return
            if voice != self.default:
                self._bytes -= self._styles.pop(voice).nbytes
