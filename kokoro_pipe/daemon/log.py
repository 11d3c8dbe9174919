"""kk-speakd's observability: JSON log lines on stderr and a status file.

Every line has "event" and "time" (Unix seconds, comparable with a client's
clock); a request's line is written once, when its outcome is known.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TextIO


class EventLog:
    def __init__(self, stream: TextIO | None = None):
        self._stream = stream or sys.stderr
        self._lock = threading.Lock()

    def __call__(self, event: str, **fields) -> None:
        record = {"event": event, "time": round(time.time(), 4), **fields}
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        with self._lock:  # one whole line at a time, whichever thread logs
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (OSError, ValueError):
                pass  # a closed stderr must not kill the daemon


class StatusFile:
    """status.json beside the FIFO, replaced atomically so readers never see half."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._fields: dict = {"pid": os.getpid(), "state": "loading", "queue": 0,
                              "current": None, "last_error": None, "done": 0}
        self._observers: list = []
        self._removed = False

    def observe(self, observer) -> None:
        """Call `observer(fields)` before each write, from now on; it may add fields."""
        with self._lock:
            self._observers.append(observer)
        self.update()

    def update(self, **fields) -> None:
        with self._lock:
            if self._removed:
                return
            self._fields.update(fields, updated=round(time.time(), 3))
            for observer in self._observers:
                observer(self._fields)
            data = json.dumps(self._fields, ensure_ascii=False)
            try:
                fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".status.")
                with os.fdopen(fd, "w") as f:
                    f.write(data + "\n")
                os.replace(tmp, self.path)
            except OSError:
                pass  # status is best effort; the log still has everything

    def remove(self) -> None:
        """For good, at exit: a thread still ending that updates later writes nothing."""
        with self._lock:
            self._removed = True
            self.path.unlink(missing_ok=True)


def read_status(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
