"""sd_kokoro when its core breaks (a thread of ours dies: a bug, as in
test_daemon_device.py): the message it held ends with STOP instead of leaving
speech-dispatcher waiting for its END for ever, the error is logged, and the
next message is spoken by a new core. Driven over the module protocol on pipes."""

from __future__ import annotations

import io
import json
import os
import queue
import threading
import time

import numpy as np
import pytest
from test_daemon_device import Broken
from test_daemon_hold import RATE, FakeOutput

from kokoro_pipe.daemon.log import EventLog, StatusFile
from kokoro_pipe.daemon.speechd.module import Backend, Module
from kokoro_pipe.daemon.speechd.protocol import Lines, Replies
from kokoro_pipe.daemon.speechd.settings import Config
from kokoro_pipe.daemon.speechd.voices import speakable
from kokoro_pipe.voice.synthesis import Piece

TIMEOUT = 60  # seconds for an event; it comes within a second on an idle machine


def one_second(request, stop):
    yield Piece(np.zeros(RATE, np.float32))


class Server:
    """speech-dispatcher's side of the pipes."""

    def __init__(self, tmp_path, outputs):
        commands, self._write = os.pipe()
        self._read, replies = os.pipe()
        self.log = io.StringIO()
        module = Module(Replies(os.fdopen(replies, "wb")), self._backend, EventLog(self.log))
        self._outputs, self._status = iter(outputs), tmp_path / "module.json"
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._reading, daemon=True).start()
        self.thread = threading.Thread(target=module.run, args=(Lines(os.fdopen(commands, "rb")),))
        self.thread.start()

    def _reading(self) -> None:
        with os.fdopen(self._read, "rb") as replies:
            for line in replies:
                self._lines.put(line.decode().rstrip("\n"))

    def _backend(self, module: Module) -> Backend:
        return Backend(one_second, speakable(["af_heart"]), "en-us", Config(), "test", module,
                       StatusFile(self._status), output=lambda: next(self._outputs))

    def send(self, *lines: str) -> None:
        os.write(self._write, "".join(f"{line}\n" for line in lines).encode())

    def expect(self, *replies: str) -> None:
        """The next lines are these (events may come in between: skipped)."""
        deadline = time.monotonic() + TIMEOUT
        wanted = list(replies)
        while wanted:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"still waiting for {wanted}") from None
            if line == wanted[0]:
                wanted.pop(0)

    def close(self) -> None:
        self.send("QUIT")
        self.expect("210 OK QUIT")
        self.thread.join(TIMEOUT)
        os.close(self._write)


@pytest.fixture
def server(tmp_path):
    made = []

    def start(*outputs) -> Server:
        made.append(Server(tmp_path, outputs))
        return made[-1]

    yield start
    for s in made:
        if s.thread.is_alive():
            s.close()


def test_a_core_that_breaks_ends_its_message_and_a_new_core_speaks_the_next(server):
    spoken = FakeOutput()
    s = server(Broken(), spoken)
    s.send("INIT")
    s.expect("299 OK LOADED SUCCESSFULLY")
    s.send("SPEAK", "Lost to a bug.", ".")
    s.expect("200 OK SPEAKING", "701 BEGIN", "703 STOP")
    s.send("SPEAK", "Spoken all the same.", ".")
    s.expect("200 OK SPEAKING", "701 BEGIN", "702 END")
    assert sum(n for _, n in spoken.sounds) >= RATE  # the whole second reached the new core
    errors = [json.loads(line) for line in s.log.getvalue().splitlines()
              if json.loads(line)["event"] == "error"]
    assert len(errors) == 1 and "RuntimeError: a bug" in errors[0]["reason"], errors
    s.close()
