"""A real kk-speakd subprocess for tests: start it on a private FIFO, write
lines into the FIFO, and wait for its JSON log lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import command

READY_TIMEOUT = 180  # model load + priming, on a busy 2-core machine


class SpeakDaemon:
    def __init__(self, directory: Path, *args: str, env: dict | None = None):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.fifo = directory / "speak.fifo"
        # A phrase cache of its own, so runs do not depend on what earlier ones spoke.
        self.env = {**os.environ, "XDG_CACHE_HOME": str(directory / "cache"), **(env or {})}
        self.env.pop("KOKORO_PIPE_FIFO", None)
        self.events: list[dict] = []
        self.other_lines: list[str] = []  # anything on stderr that is not JSON
        self._changed = threading.Condition()
        self._eof = False
        self.proc = subprocess.Popen(
            [command("kk-speakd"), "--fifo", str(self.fifo), *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=self.env,
        )
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            with self._changed:
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    self.other_lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def wait_for(self, predicate, timeout: float = 60.0, what: str = "") -> dict:
        """The first event matching `predicate`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._eof:
                    raise AssertionError(
                        f"no log event {what} within {timeout} s; exit {self.proc.poll()}; "
                        f"stderr: {self.other_lines[-5:]}; last events: {self.events[-5:]}")
                self._changed.wait(min(remaining, 0.5))

    def wait_ready(self) -> dict:
        return self.wait_for(lambda e: e.get("event") == "ready", READY_TIMEOUT, "ready")

    def request(self, rid: str, timeout: float = 60.0) -> dict:
        """The log line of request `rid`, once its outcome is known."""
        return self.wait_for(lambda e: e.get("event") == "request" and e.get("id") == rid,
                             timeout, f"for request {rid}")

    def requests(self) -> list[dict]:
        with self._changed:
            return [e for e in self.events if e.get("event") == "request"]

    def wait_status(self, key: str, value, timeout: float = 60.0) -> None:
        """Until the daemon's status file says `key` is `value`."""
        status = self.fifo.parent / "status.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if json.loads(status.read_text()).get(key) == value:
                    return
            except (OSError, ValueError):
                pass  # not written yet, or replaced while read
            time.sleep(0.02)
        raise AssertionError(f"status {key} never became {value!r}")

    def write(self, *lines: str | bytes) -> float:
        """Write lines into the FIFO in one write(2); returns time.time() just before it."""
        data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
        fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.set_blocking(fd, True)
            before = time.time()
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            return before
        finally:
            os.close(fd)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def module_daemon(name: str, *args: str):
    """A module-scoped fixture: one ready kk-speakd with `args` on the PulseAudio
    rig, in a directory named after `name`; it must stop cleanly at the end."""

    @pytest.fixture(scope="module")
    def fixture(pulse, tmp_path_factory):
        daemon = SpeakDaemon(tmp_path_factory.mktemp(name) / "run", *args, env=pulse.env)
        daemon.wait_ready()
        yield daemon
        assert daemon.stop() == 0

    return fixture
