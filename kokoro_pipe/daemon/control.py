"""kk-speakd --stop: end the running daemon, whoever started it.

The FIFO's `stop` stops speech, not the daemon. The pid comes from the lock
beside the FIFO, which only a live holder keeps; it is signalled only if it is
a kk-speakd of this user (checked in /proc where there is one).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from kokoro_pipe.daemon.fifo import EXIT_RUNNING, Place, UnsafePathError, lock_holder
from kokoro_pipe.errors import KokoroPipeError, UnavailableError

STOP_TIMEOUT = 60.0  # it ends its clients' jobs after their current chunk (30 s at most)
POLL = 0.05


def stop_daemon(place: Place, timeout: float = STOP_TIMEOUT) -> int:
    pid = lock_holder(place)
    if pid is None:
        raise UnavailableError(f"kk-speakd is not running (no process holds {place.lock})")
    if pid <= 0 or not _is_our_speakd(pid):
        raise UnsafePathError(f"{place.lock} names pid {pid}, which is not a kk-speakd "
                              "of yours; not signalling it")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass  # gone meanwhile
    except PermissionError:
        raise UnsafePathError(f"pid {pid} in {place.lock} is not yours; not stopping it") from None
    deadline = time.monotonic() + timeout
    while lock_holder(place) is not None:
        if time.monotonic() > deadline:
            raise KokoroPipeError(f"kk-speakd (pid {pid}) still runs {timeout:.0f} s after "
                                  "SIGTERM", EXIT_RUNNING)
        time.sleep(POLL)
    return 0


def _is_our_speakd(pid: int) -> bool:
    proc = Path(f"/proc/{pid}")
    if not proc.is_dir():  # no procfs (macOS): the lock in our private directory vouches
        return True
    try:
        cmdline = (proc / "cmdline").read_bytes()
        return proc.stat().st_uid == os.geteuid() and (
            b"kk-speakd" in cmdline or b"kokoro_pipe.cli.speakd" in cmdline)
    except OSError:
        return False
