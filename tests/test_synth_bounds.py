"""kk-speakd's side of every wait on a kk-synth client is bounded: a real
daemon under a real descriptor limit, real non-reading clients, a peer of
another user (kk-synth's side: test_synth_client_bounds.py)."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import pytest
from daemon_rig import SpeakDaemon
from socket_rig import (
    ARTICLE,
    errors,
    frames_of,
    job,
    jobs,
    open_client,
    request,
    serving_daemon,
    settles,
    socket_path,
    still_serving,
    synth_served,
)

from kokoro_pipe.daemon.client_stream import STALL_TIMEOUT

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="prlimit, /proc")


@pytest.fixture(scope="module")
def speakd(pulse, tmp_path_factory):
    with serving_daemon(tmp_path_factory.mktemp("bounds") / "run", pulse.env) as daemon:
        yield daemon


def events_since(daemon: SpeakDaemon, at: int, event: str) -> list[dict]:
    with daemon._changed:
        return [e for e in daemon.events[at:] if e.get("event") == event]


def test_out_of_descriptors_the_socket_comes_back(speakd):
    """EMFILE in accept(): logged once, and the socket serves again once
    descriptors are free (it used to stop accepting for good)."""
    pid, at = speakd.proc.pid, len(speakd.events)
    soft = _soft_nofile(pid)
    limit = len(os.listdir(f"/proc/{pid}/fd")) + 8
    subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={limit}:"], check=True, timeout=60)
    conns = []
    try:
        for _ in range(60):  # more than the limit and the backlog
            conn = socket.socket(socket.AF_UNIX)
            conn.setblocking(False)
            try:
                conn.connect(str(socket_path(speakd)))
                conns.append(conn)
            except BlockingIOError:  # the backlog is full
                conn.close()
        speakd.wait_for(lambda e: e.get("event") == "error" and "accepting" in e["reason"]
                        and e in speakd.events[at:], 60, "the accept error")
        time.sleep(2)  # the episode goes on for a while: still one line
    finally:
        for conn in conns:
            conn.close()
        subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={soft}:"], check=True, timeout=60)
    synth_served(speakd)
    (error,) = [e for e in events_since(speakd, at, "error") if "accepting" in e["reason"]]
    assert "Too many open files" in error["reason"]
    (recovered,) = events_since(speakd, at, "recovered")
    assert recovered["failures"] >= 2
    still_serving(speakd, speakd.baseline)


def _soft_nofile(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return line.split()[3]
    raise AssertionError("no open files limit")


def test_clients_that_do_not_read_are_dropped_and_cost_others_nothing(speakd):
    """10 clients never read, 10 read a byte now and then: a 21st is served as
    if alone (within 3x its time alone, and a margin), and each of the 20 is
    dropped, logged with the reason, once it has taken nothing for STALL_TIMEOUT."""
    alone = synth_served(speakd)
    at = len(jobs(speakd))
    bad = [open_client(speakd, job(ARTICLE[:3]), end_input=True) for _ in range(20)]
    stop = threading.Event()

    def trickle(conn: socket.socket) -> None:
        while not stop.wait(0.5):
            try:
                conn.recv(1)
            except OSError:
                return

    try:
        for conn in bad:  # each has been sent more than it read
            _wait_buffered(conn, 64 << 10)
        for conn in bad[10:]:
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()
        took = synth_served(speakd)
        assert took < 3 * alone + 20, f"{took:.1f} s with 20 bad clients, {alone:.1f} s alone"
        dropped = speakd.wait_for(
            lambda e: len([j for j in jobs(speakd)[at:] if j["outcome"] == "dropped"]) >= 20,
            STALL_TIMEOUT + 120, "20 dropped clients")
        assert dropped
    finally:
        stop.set()
        for conn in bad:
            conn.close()
    for j in [j for j in jobs(speakd)[at:] if j["outcome"] == "dropped"]:
        assert j["reason"] == f"the client took nothing of its stream for {STALL_TIMEOUT:g} s"
    still_serving(speakd, speakd.baseline)


def _wait_buffered(conn: socket.socket, size: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while struct.unpack("i", fcntl.ioctl(conn, termios.FIONREAD, b"\0" * 4))[0] < size:
        assert time.monotonic() < deadline, "the daemon sent too little"
        time.sleep(0.1)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another user")
def test_a_peer_of_another_user_is_told_why_then_sees_the_end(speakd):
    """As a kk-synth would: its request sent, then the answer read to the end:
    an error frame naming the reason, then end of file (not a reset)."""
    public = Path(tempfile.mkdtemp(dir="/tmp"))
    public.chmod(0o755)
    sock = socket_path(speakd)
    os.link(sock, public / "s")
    code = ("import socket,sys; c=socket.socket(socket.AF_UNIX); c.settimeout(60);"
            "c.connect(sys.argv[1]); c.sendall(sys.stdin.buffer.read());"
            "[sys.stdout.buffer.write(b) for b in iter(lambda: c.recv(4096), b'')]")
    try:
        sock.chmod(0o777)
        result = subprocess.run(["/usr/bin/python3", "-c", code, str(public / "s")],
                                input=request(), capture_output=True, user=65534, timeout=120)
    finally:
        sock.chmod(0o600)
        shutil.rmtree(public)
    assert result.returncode == 0, result.stderr.decode()[-300:]  # a reset raises there
    (error,) = errors(frames_of(result.stdout))
    assert error == {"error": "kk-speakd: peer uid 65534 is not ours", "exit": 2, "local": False}
    assert speakd.wait_for(lambda e: e.get("outcome") == "refused", 60, "a refusal")
    settles(speakd, speakd.baseline)

