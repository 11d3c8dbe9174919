"""kk-synth facing a socket that accepts or answers nothing: a bounded wait,
then in-process with one line saying why (it used to wait in connect() for good)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading

import pytest
from conftest import command

from kokoro_pipe.daemon.synth_client import HANDSHAKE_TIMEOUT
from kokoro_pipe.daemon.synth_socket import CONNECT_TIMEOUT


@pytest.mark.parametrize("daemon_kind", ["accepts nothing", "answers nothing"])
def test_kk_synth_passes_over_a_daemon_that_does_not_serve(tmp_path, daemon_kind):
    """A bounded connect and handshake, then in-process, with one line saying why."""
    place = tmp_path / "run"
    place.mkdir(mode=0o700)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(place / "synth.sock"))
    listener.listen(0)
    held, stop = [], threading.Event()
    if daemon_kind == "accepts nothing":
        while True:  # fill the backlog
            conn = socket.socket(socket.AF_UNIX)
            conn.setblocking(False)
            try:
                conn.connect(str(place / "synth.sock"))
            except BlockingIOError:
                conn.close()
                break
            held.append(conn)
    else:
        def accept():
            while not stop.is_set():
                with contextlib.suppress(OSError):  # a timeout: look at `stop`
                    held.append(listener.accept()[0])
        listener.settimeout(0.2)
        threading.Thread(target=accept, daemon=True).start()
    env = {**os.environ, "KOKORO_PIPE_FIFO": str(place / "speak.fifo")}
    try:
        result = subprocess.run([command("kk-synth"), "--raw"], input=b"Alone then.\n",
                                capture_output=True, env=env, timeout=300)
    finally:
        stop.set()
        for conn in [*held, listener]:
            conn.close()
    assert result.returncode == 0 and len(result.stdout) > 24_000
    why = {"accepts nothing": f"it accepted no connection within {CONNECT_TIMEOUT:g} s",
           "answers nothing": f"it did not answer within {HANDSHAKE_TIMEOUT:g} s"}[daemon_kind]
    assert result.stderr.decode().splitlines() == [f"kk-synth: not using kk-speakd: {why}"]
