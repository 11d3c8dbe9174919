"""status.json never ends on an older state than the daemon's.

CI once saw kk-speakd idle with two kk-synth clients still listed, for good:
a thread took the client list, was overtaken by the clients leaving and
publishing, then wrote its older list last. A stale client also keeps the idle
exit off. Here the thread is held at exactly that point.
"""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

from kokoro_pipe.daemon.core import Daemon
from kokoro_pipe.daemon.log import StatusFile
from kokoro_pipe.daemon.synth_server import Client, SynthServer

HOLD = 0.3  # seconds the overtaking thread gets


class HeldStatus(StatusFile):
    """Its first update waits, after its fields were taken, until released."""

    def __init__(self, path):
        super().__init__(path)
        self.held, self.release = threading.Event(), threading.Event()

    def update(self, **fields) -> None:
        if not self.held.is_set():
            self.held.set()
            self.release.wait(5)
        super().update(**fields)


def overtaken(status: HeldStatus, publish_old, change_and_publish) -> dict:
    """What status.json says after an older publish is overtaken by a newer one."""
    first = threading.Thread(target=publish_old)
    first.start()
    assert status.held.wait(5)
    second = threading.Thread(target=change_and_publish)
    second.start()
    second.join(HOLD)  # done here unless it waits its turn behind the first
    status.release.set()
    first.join(5)
    second.join(5)
    return json.loads(status.path.read_text())


def test_a_client_that_left_is_not_listed_again(tmp_path):
    status = HeldStatus(tmp_path / "status.json")
    server = SynthServer(None, SimpleNamespace(lang="en-us"), None, None, None, status, None)
    server._clients["s1"] = (Client("s1", 1), None, None)

    def leave():
        with server._lock:
            server._clients.pop("s1")
        server._publish()

    assert overtaken(status, server._publish, leave)["clients"] == []


def test_the_state_is_the_newest(tmp_path):
    status = HeldStatus(tmp_path / "status.json")
    daemon = Daemon(None, None, None, status)
    daemon._queue.append(object())  # busy when the first update's fields are taken

    def drain():
        with daemon._cond:
            daemon._queue.clear()
        daemon._status()

    fields = overtaken(status, daemon._status, drain)
    assert (fields["state"], fields["queue"]) == ("ready", 0)


def test_an_update_after_the_clean_exit_removed_the_status_writes_nothing(tmp_path):
    """CI once saw status.json back after a clean stop: a thread still ending
    updated it after the exit removed it, leaving a dead daemon's state."""
    status = StatusFile(tmp_path / "status.json")
    status.update(state="ready")
    assert json.loads(status.path.read_text())["state"] == "ready"
    status.remove()
    status.update(state="busy", done=1)
    assert not status.path.exists()
    assert not list(tmp_path.iterdir()), "no temporary file left either"
