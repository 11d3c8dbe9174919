"""kk-speakd's idle exit (--idle-exit): leave after so long without work, so an
autospawned daemon returns its memory.

Work is what the status file already shows: a request queued, spoken or
paused, or a kk-synth client connected. Every status update is a sign of life
and restarts the count while the daemon is idle; the time it will leave is
published as idle_exit_at (Unix time) in the same update.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kokoro_pipe.daemon.log import StatusFile

DEFAULT_IDLE_EXIT = 600.0  # seconds, for a daemon kk-synth or kk-say started


class IdleExit:
    def __init__(self, seconds: float, leave: Callable[[], None]):
        self.seconds, self._leave = seconds, leave
        self._deadline: float | None = None  # time.monotonic()
        self._changed = threading.Condition()

    def watch(self, status: StatusFile) -> None:
        """Count idle time from now on, as `status` reports work."""
        status.observe(self._observe)
        threading.Thread(target=self._wait, name="kk-idle-exit", daemon=True).start()

    def _observe(self, fields: dict) -> None:
        """Called with the status about to be written; adds idle_exit_at."""
        idle = fields.get("state") == "ready" and not fields.get("clients")
        with self._changed:
            self._deadline = time.monotonic() + self.seconds if idle else None
            self._changed.notify()
        fields["idle_exit_at"] = round(time.time() + self.seconds, 3) if idle else None

    def _wait(self) -> None:
        with self._changed:
            while self._deadline is None or time.monotonic() < self._deadline:
                remaining = None if self._deadline is None else self._deadline - time.monotonic()
                self._changed.wait(remaining)
        self._leave()
