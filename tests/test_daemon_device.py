"""kk-speakd when the audio device fails or stops taking audio: the request on
it fails (logged, with the reason) in bounded time, and the daemon goes on
with the next one. A device call that failed outside a write used to end the
audio thread: every later request waited for ever."""

from __future__ import annotations

import time

import test_daemon_hold
from test_daemon_hold import RATE, FakeOutput, Source, record

from kokoro_pipe.daemon.request import Request

run = test_daemon_hold.run  # the fixture: a core Daemon on a fake output


class FailingIdle(FakeOutput):
    """A device that fails once while idling, as a sink unloaded between writes does."""

    def __init__(self):
        super().__init__()
        self.failed = False

    def idle(self) -> int:
        if not self.failed:
            self.failed = True
            raise OSError("device gone")
        return super().idle()


def test_a_device_failing_between_writes_fails_that_request_and_the_next_is_spoken(run):
    source = Source(count=2, hold=2 * RATE)  # its first piece is held: the device idles
    output = FailingIdle()
    daemon, _, log = run(source, output)
    daemon.enqueue(Request("two seconds"), "r1")
    source.release[0].set()
    deadline = time.monotonic() + 30
    while not output.failed:
        assert time.monotonic() < deadline, "the device never idled"
        time.sleep(0.01)
    source.release[1].set()  # its last piece: it ends
    first = record(log, "r1")
    assert first["outcome"] == "failed" and "device gone" in first["reason"], first
    daemon.enqueue(Request("two seconds"), "r2")
    assert record(log, "r2")["outcome"] == "spoken"
