"""kk-speakd's log is the record of every request, one JSON object a line:
nothing a library does with fd 2 may lose a line or slip one of its own in.
A real daemon on a real PulseAudio server; every request's end re-initialises
PortAudio (the device rescan), which is where sounddevice points fd 2 at
/dev/null and ALSA talks."""

from __future__ import annotations

import threading
import time

import pytest
from daemon_rig import SpeakDaemon

BAD_LINES = 300
BAD_LINE_SPACING = 0.02  # seconds: the bad lines span several rescans


@pytest.fixture
def speakd(pulse, tmp_path):
    daemon = SpeakDaemon(tmp_path / "run", env=pulse.env)
    daemon.wait_ready()
    yield daemon
    assert daemon.stop() == 0


def _rejected(daemon: SpeakDaemon) -> int:
    return sum(r["outcome"] == "rejected" for r in daemon.requests())


def test_every_rejection_is_logged_while_the_devices_are_rescanned(speakd):
    stop = threading.Event()
    spoken: list[dict] = []

    def speak() -> None:  # requests back to back: each one's end rescans the devices
        while not stop.is_set():
            rid = f"s{len(spoken)}"
            speakd.write(f'{{"text": "Hi.", "id": "{rid}"}}')
            spoken.append(speakd.request(rid, timeout=120))

    speaker = threading.Thread(target=speak, daemon=True)
    speaker.start()
    for n in range(BAD_LINES):
        speakd.write(f'{{"text": "not JSON {n}"')
        time.sleep(BAD_LINE_SPACING)
    stop.set()
    speaker.join(timeout=180)
    assert len(spoken) >= 2, "too few requests ended (and rescans happened) meanwhile"
    assert all(r["outcome"] == "spoken" for r in spoken), spoken
    deadline = time.monotonic() + 60
    while _rejected(speakd) < BAD_LINES and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _rejected(speakd) == BAD_LINES
    assert speakd.other_lines == [], "stderr has lines that are not JSON"

