"""kk-speakd when the audio device fails or stops taking audio: the request on
it fails (logged, with the reason) in bounded time, and the daemon goes on
with the next one. Both used to stall it for good: a device call that failed
outside a write ended the audio thread, and a write to a device that took
nothing waited for ever (a suspended sink: found while building the soak,
tests/soak_driver.py, which now suspends sinks too)."""

from __future__ import annotations

import json
import sys
import time

import pytest
import test_daemon_hold
from daemon_rig import SpeakDaemon
from test_daemon_hold import RATE, FakeOutput, Source, record

from kokoro_pipe.daemon.request import Request

STALL_TIMEOUT = 70  # seconds: the bound (speaker.STALLED_AFTER, 10 s) and a busy machine's margin
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


@pytest.mark.skipif(sys.platform != "linux", reason="PulseAudio")
def test_a_sink_that_stops_taking_audio_fails_the_request_in_bounded_time(pulse, tmp_path):
    daemon = SpeakDaemon(tmp_path / "run", env=pulse.env)
    module = pulse.pactl("load-module", "module-null-sink", "sink_name=stalling",
                         "rate=24000", "channels=1", "norewinds=1").strip()
    try:
        pulse.set_default("stalling")
        daemon.wait_ready()
        daemon.write(json.dumps({"id": "a", "text": "One, two, three, four, five, six, seven, "
                                 "eight, nine, ten, eleven, twelve, thirteen, fourteen."}))
        daemon.wait_status("sounding", "a", 120)
        pulse.pactl("suspend-sink", "stalling", "1")  # it takes nothing from now on
        ended = daemon.request("a", timeout=STALL_TIMEOUT)
        assert ended["outcome"] == "failed" and "took nothing" in ended["reason"], ended
        pulse.set_default("one")
        daemon.write(json.dumps({"id": "b", "text": "Still here."}))
        assert daemon.request("b", timeout=120)["outcome"] == "spoken"
    finally:
        pulse.set_default("one")
        pulse.pactl("unload-module", module)
        assert daemon.stop() == 0


class Broken(FakeOutput):
    """A device whose failure the audio thread cannot survive: its report of
    what it played fails too, a bug of ours in a real one (every device error is caught)."""

    def write(self, block) -> None:
        raise OSError("device gone")

    def stats(self):
        raise RuntimeError("a bug")


def test_an_audio_thread_that_dies_is_reported_and_nothing_waits_for_it(run):
    source = Source(count=3, hold=0)
    daemon, _, _ = run(source, Broken())
    assert daemon.broken() is None
    daemon.enqueue(Request("three seconds"), "r1")
    for release in source.release:
        release.set()  # the synthesis thread goes on handing pieces over
    deadline = time.monotonic() + 30
    while not daemon.broken():
        assert time.monotonic() < deadline, "the dead audio thread went unreported"
        time.sleep(0.01)
    assert "RuntimeError: a bug" in daemon.broken()
    began = time.monotonic()
    daemon.shutdown(timeout=10)  # the synthesis thread does not wait for it for ever
    assert time.monotonic() - began < 5
    assert not any(t.is_alive() for t in daemon._threads)
