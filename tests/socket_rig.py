"""Raw clients of a real kk-speakd's synthesis socket, and checks that it still
serves: for tests that treat the socket as an attacker or a careless client would."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import command
from daemon_rig import SpeakDaemon

from kokoro_pipe.daemon import synth_protocol as protocol
from kokoro_pipe.framing import Ancillary, read_stream
from kokoro_pipe.text.lines import Line
from kokoro_pipe.voice import files as models

ARTICLE = (Path(__file__).parent.parent / "bench" / "article.txt").read_text().splitlines()


UNSAFE_KINDS = ["regular file", "symlink", "another user's socket"]


@contextlib.contextmanager
def serving_daemon(directory: Path, env: dict) -> Iterator[SpeakDaemon]:
    """A ready kk-speakd that served one kk-synth; `baseline`: its threads between jobs."""
    daemon = SpeakDaemon(directory, env=env)
    try:
        daemon.wait_ready()
        synth_served(daemon)
        daemon.baseline = threads(daemon)
        yield daemon
    finally:
        code = daemon.stop()
    assert code == 0


def plant(path: Path, kind: str, target: Path) -> None:
    """Put at `path` what must not be taken for our socket: one of UNSAFE_KINDS."""
    if kind == "regular file":
        path.write_text("mine\n")
    elif kind == "symlink":
        path.symlink_to(target)
    else:
        if os.geteuid() != 0:
            pytest.skip("needs root to chown")
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(path))
        os.chown(path, 65534, 65534, follow_symlinks=False)


def request(voice: str = "af_heart") -> bytes:
    """The request line a kk-synth of the installed model sends."""
    engine = protocol.EngineSettings.of(models.resolve(), "auto", False)
    return protocol.encode_request(engine, protocol.SynthOptions(voice))


def job(lines: list[str]) -> bytes:
    """A whole job: the request and `lines`, numbered."""
    return request() + b"".join(protocol.encode_line(Line(n, text))
                                for n, text in enumerate(lines, 1))


def socket_path(daemon: SpeakDaemon) -> Path:
    return daemon.fifo.parent / "synth.sock"


def open_client(daemon: SpeakDaemon, data: bytes = b"", end_input: bool = False) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX)
    conn.settimeout(60)
    deadline = time.monotonic() + 60
    while True:
        try:
            conn.connect(str(socket_path(daemon)))
            break
        except BlockingIOError:  # the backlog is full for now
            assert time.monotonic() < deadline, "the daemon accepts nothing"
            time.sleep(0.05)
    conn.sendall(data)
    if end_input:
        conn.shutdown(socket.SHUT_WR)
    return conn


def answer(conn: socket.socket, timeout: float = 60) -> list:
    """Everything the daemon sends until it closes (a reset raises), as frames."""
    conn.settimeout(timeout)
    return frames_of(b"".join(iter(lambda: conn.recv(65536), b"")))


def frames_of(data: bytes) -> list:
    return list(read_stream(io.BytesIO(data), ancillary=True))


def errors(frames: list) -> list[dict]:
    return [json.loads(f.payload) for f in frames
            if isinstance(f, Ancillary) and f.kind == protocol.KIND_ERROR]


def client_env(daemon: SpeakDaemon) -> dict:
    return {**daemon.env, "KOKORO_PIPE_FIFO": str(daemon.fifo)}


def jobs(daemon: SpeakDaemon) -> list[dict]:
    with daemon._changed:
        return [e for e in daemon.events if e.get("event") == "synthesis"]


def synth_served(daemon: SpeakDaemon, text: bytes = b"Still here.\n",
                 timeout: float = 180) -> float:
    """Run a kk-synth and check the daemon served it; its seconds."""
    before = len(jobs(daemon))
    began = time.monotonic()
    result = subprocess.run([command("kk-synth"), "--raw"], input=text, capture_output=True,
                            env=client_env(daemon), timeout=timeout)
    took = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) > 24_000, "no audio"
    done = daemon.wait_for(lambda e: e.get("event") == "synthesis" and e in jobs(daemon)[before:]
                           and e["outcome"] == "done", 60, "a done job")
    assert done["utterances"] == text.count(b"\n")
    return took


def status(daemon: SpeakDaemon) -> dict:
    shown = subprocess.run([command("kk-speakd"), "--fifo", str(daemon.fifo), "--status"],
                           capture_output=True, env=daemon.env, timeout=60)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def threads(daemon: SpeakDaemon) -> int:
    return len(os.listdir(f"/proc/{daemon.proc.pid}/task"))


def settles(daemon: SpeakDaemon, baseline: int, timeout: float = 90) -> None:
    """Until the daemon runs no more threads than `baseline` (every client's are gone)."""
    deadline = time.monotonic() + timeout
    while threads(daemon) > baseline:
        assert time.monotonic() < deadline, f"{threads(daemon)} threads, not {baseline}"
        time.sleep(0.2)


def still_serving(daemon: SpeakDaemon, baseline: int) -> None:
    """After an attack: it answers --status, serves a kk-synth, and keeps no thread of it."""
    assert daemon.proc.poll() is None, "kk-speakd died"
    assert status(daemon)["state"] in ("ready", "busy")
    synth_served(daemon)
    settles(daemon, baseline)
