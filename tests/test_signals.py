"""kk-play's signal rule (cli.common.exit_on_signals), in a real process: a
signal unwinds so the device can be aborted, and a clean-up that hangs (an
audio server that stops answering) still ends with the signal's status."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from kokoro_pipe.errors import EXIT_SIGINT, EXIT_SIGTERM

GRACE = 0.5
PROGRAM = f"""
import sys, threading
from kokoro_pipe.cli.common import exit_on_signals
exit_on_signals(grace={GRACE})
try:
    print("ready", flush=True)
    threading.Event().wait()
except BaseException as e:
    print(type(e).__name__, flush=True)
    if sys.argv[1] == "hang":
        threading.Event().wait()  # as a device abort that never returns
    sys.exit(7)
"""


def _signalled(signum: int, cleanup: str) -> tuple[int, list[str], float]:
    process = subprocess.Popen([sys.executable, "-c", PROGRAM, cleanup],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "ready\n"
        sent = time.monotonic()
        process.send_signal(signum)
        status = process.wait(timeout=30)
        return status, process.stdout.read().split(), time.monotonic() - sent
    finally:
        process.kill()


@pytest.mark.parametrize("signum, status, raised", [
    (signal.SIGINT, EXIT_SIGINT, "KeyboardInterrupt"),
    (signal.SIGTERM, EXIT_SIGTERM, "SystemExit"),
])
def test_a_hanging_clean_up_still_ends_with_the_signal_status(signum, status, raised):
    got, said, took = _signalled(signum, "hang")
    assert (got, said) == (status, [raised])
    assert took >= GRACE


def test_a_clean_up_that_returns_is_not_cut_short():
    got, said, took = _signalled(signal.SIGINT, "return")
    assert (got, said) == (7, ["KeyboardInterrupt"])
    assert took < GRACE * 4, "ended by the clean-up, not by the timer"
