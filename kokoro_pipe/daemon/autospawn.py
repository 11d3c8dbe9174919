"""Starting kk-speakd for the user when none runs, as speech-dispatcher's clients do.

kk-synth starts one after its own synthesis (so two models never load at once
for one pipeline); kk-say starts one and waits for its FIFO; sd_kokoro starts
one and waits for its synthesis socket, instead of loading a model of its own. The daemon runs
in a session of its own, detached from the terminal and the pipeline, logs to
kk-speakd.log beside the FIFO, and leaves after --idle-exit seconds without
work (kk-speakd(1)). Two spawners at once start one daemon: the second
kk-speakd finds the lock held and exits 75, which is fine here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from kokoro_pipe.daemon.fifo import EXIT_RUNNING, Place, lock_holder, prepare_directory
from kokoro_pipe.daemon.log import read_status
from kokoro_pipe.errors import UnavailableError

LOG_NAME = "kk-speakd.log"
LOG_KEEP_BYTES = 1 << 20  # beyond this the log starts afresh (the last one kept as .old)
READY_TIMEOUT = 60.0  # kk-say's wait for a daemon it started: model load on a busy machine
POLL = 0.05


def log_path(place: Place) -> Path:
    return place.directory / LOG_NAME


def daemon_args(model: str | None = None, voices: str | None = None, provider: str = "auto",
                windowed: bool = False, threads: int | None = None) -> list[str]:
    """kk-speakd's options for a daemon with these model options (paths made
    absolute: the daemon runs in /)."""
    args = ["--provider", provider]
    for option, path in (("--model", model), ("--voices", voices)):
        if path:
            args += [option, os.path.abspath(path)]
    if windowed:
        args.append("--vocoder-windows")
    if threads:
        args += ["--threads", str(threads)]
    return args


def spawn(place: Place, *args: str) -> subprocess.Popen | None:
    """Start `kk-speakd --autospawned ARGS` for `place` in the background;
    None when one already holds its lock. Raises UnsafePathError for a directory
    that is not privately ours, UnavailableError when it cannot be started."""
    if lock_holder(place) is not None:
        return None
    prepare_directory(place.directory)
    try:
        log = _open_log(log_path(place))
    except OSError as e:
        raise UnavailableError(f"cannot start kk-speakd: {log_path(place)}: {e.strerror}") from None
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "kokoro_pipe.cli.speakd", "--fifo", str(place.fifo),
             "--autospawned", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            start_new_session=True,  # no terminal, no pipeline's process group: no SIGINT/SIGHUP
            cwd="/",  # holds no directory the user may want to unmount
        )
    except OSError as e:
        raise UnavailableError(f"cannot start kk-speakd: {e}") from None
    finally:
        os.close(log)


def _open_log(path: Path) -> int:
    with contextlib.suppress(OSError):
        if os.lstat(path).st_size > LOG_KEEP_BYTES:
            os.replace(path, path.with_suffix(".log.old"))
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                   0o600)


def wait_while_loading(place: Place, timeout: float) -> None:
    """Return once the daemon holding `place`'s lock has loaded (or is gone),
    within `timeout`: borrowing a model about to be warm beats loading a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and lock_holder(place) is not None:
        status = read_status(place.status)
        if status is None or status.get("state") != "loading":  # none: not one of ours
            return
        time.sleep(POLL)


def started(place: Place, child: subprocess.Popen | None, ready, timeout: float = READY_TIMEOUT):
    """What `ready()` gives once it is not None, while the daemon `child` (or the
    one that holds the lock instead) starts; UnavailableError when it cannot."""
    deadline = time.monotonic() + timeout
    while (result := ready()) is None:
        code = child.poll() if child is not None else None
        if code == EXIT_RUNNING:  # another spawner's daemon won the lock: wait for it
            child = None
        elif code is not None:
            raise UnavailableError(f"kk-speakd could not start (exit {code}); "
                                   f"see {log_path(place)}")
        if child is None and lock_holder(place) is None:
            raise UnavailableError(f"kk-speakd stopped while starting; see {log_path(place)}")
        if time.monotonic() > deadline:
            raise UnavailableError(f"kk-speakd did not start within {timeout:.0f} s; "
                                   f"see {log_path(place)}")
        time.sleep(POLL)
    return result
