"""kk-speakd attacked as a hostile or careless user would: its socket and its
lifecycle. A real daemon, real sockets and processes; every case is bounded
in time, and after each the daemon answers --status, serves a kk-synth, and
keeps no thread of the attack (every process the tests start is ended)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import command
from daemon_rig import READY_TIMEOUT, SpeakDaemon
from socket_rig import (
    ARTICLE,
    UNSAFE_KINDS,
    answer,
    client_env,
    errors,
    job,
    jobs,
    open_client,
    plant,
    request,
    serving_daemon,
    socket_path,
    still_serving,
    synth_served,
)

from kokoro_pipe.daemon import synth_protocol as protocol
from kokoro_pipe.daemon.client_stream import REQUEST_TIMEOUT
from kokoro_pipe.daemon.fifo import EXIT_UNSAFE

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="/proc")


@pytest.fixture(scope="module")
def speakd(pulse, tmp_path_factory):
    with serving_daemon(tmp_path_factory.mktemp("attack") / "run", pulse.env) as daemon:
        yield daemon


# -- the lifecycle ------------------------------------------------------------

@pytest.mark.parametrize("kind", UNSAFE_KINDS)
def test_something_planted_at_the_socket_path_ends_kk_speakd_at_once(pulse, tmp_path, kind):
    """One line and exit 77, before loading anything or starting a thread
    (it used to say ready, take requests into the void, and ignore SIGTERM)."""
    place = tmp_path / "run"
    place.mkdir(mode=0o700)
    planted = place / "synth.sock"
    plant(planted, kind, tmp_path / "elsewhere")
    began = time.monotonic()
    result = subprocess.run([command("kk-speakd"), "--fifo", str(place / "speak.fifo")],
                            capture_output=True, env=pulse.env, timeout=120)
    assert result.returncode == EXIT_UNSAFE, result.stderr
    (line,) = result.stderr.decode().splitlines()
    assert line.startswith(f"kk-speakd: {planted} ") and "refusing" in line
    assert time.monotonic() - began < 60, "it loaded the model first"
    assert not (place / "status.json").exists()
    assert os.path.lexists(planted) and (kind != "regular file" or planted.read_text() == "mine\n")


@pytest.mark.parametrize("stage", ["loading", "ready", "serving"])
def test_sigterm_ends_kk_speakd_at_every_stage(pulse, tmp_path, stage):
    daemon = SpeakDaemon(tmp_path / "run", env=pulse.env)
    client = None
    try:
        if stage != "loading":
            daemon.wait_ready()
        if stage == "serving":
            client = open_client(daemon, job(ARTICLE[:2]), end_input=True)
            client.settimeout(120)
            received = 0
            while received < 64 << 10:  # audio is coming: mid-stream
                data = client.recv(65536)
                assert data, "the stream ended"
                received += len(data)
        daemon.proc.send_signal(signal.SIGTERM)
        code = daemon.proc.wait(60)
    finally:
        daemon.stop()  # kills what SIGTERM did not end
        if client is not None:
            client.close()
    assert code in (0, -signal.SIGTERM)  # loading: no handler yet, the default action
    if stage != "loading":
        assert code == 0 and not socket_path(daemon).exists()


# -- the socket ---------------------------------------------------------------

def test_garbage_handshakes_get_one_error_each_then_the_end(speakd):
    good = request().rstrip(b"\n")
    garbage = [
        os.urandom(4096).replace(b"\n", b"") + b"\n",
        b"\0" * 1000 + b"\n",
        b"{" * 10 + b"\n",
        b'"just a string"\n',
        b"x" * (protocol.MAX_REQUEST_BYTES + 10),  # no end of line, ever
        good.replace(b'"protocol":1', b'"protocol":"1"') + b"\n",
        good.replace(b'"voice":"af_heart"', b'"voice":"zz_nobody"') + b"\n",
        good + b"\n" + b'{"line": 1, "text": "hi", "extra": 1}\n',
    ]
    at = len(jobs(speakd))
    for data in garbage:
        with open_client(speakd) as conn:
            with_sender = threading.Thread(target=_send_all, args=(conn, data))
            with_sender.start()
            (error,) = errors(answer(conn, timeout=120))  # a reset raises here
            with_sender.join(60)
        assert error["error"] and error["exit"] != 0, error
    speakd.wait_for(lambda e: len(jobs(speakd)) >= at + len(garbage), 60, "each one logged")
    outcomes = [j["outcome"] for j in jobs(speakd)[at:]]
    assert len(outcomes) == len(garbage) and set(outcomes) <= {"rejected", "declined"}
    still_serving(speakd, speakd.baseline)


def _send_all(conn: socket.socket, data: bytes) -> None:
    try:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # answered and closed before all of it was read


def test_half_open_and_abandoned_connections(speakd):
    at = len(jobs(speakd))
    open_client(speakd).close()  # nothing at all
    with open_client(speakd, request()[:40], end_input=True) as conn:  # half a request
        (error,) = errors(answer(conn))
        assert "missing, cut off" in error["error"]
    open_client(speakd, request()).close()  # gone before the answer
    open_client(speakd, job(ARTICLE[:2]), end_input=True).close()  # gone before the audio
    speakd.wait_for(lambda e: len(jobs(speakd)) >= at + 4, 120, "4 jobs ended")
    assert {j["outcome"] for j in jobs(speakd)[at:]} <= {"rejected", "disconnected"}
    still_serving(speakd, speakd.baseline)


def test_byte_at_a_time_handshakes_are_cut_off_and_others_served(speakd):
    """Slowloris: each gets REQUEST_TIMEOUT for its whole request line."""
    conns = [open_client(speakd) for _ in range(8)]
    stop = threading.Event()

    def dribble(conn: socket.socket) -> None:
        for byte in request():
            if stop.wait(0.5):
                return
            try:
                conn.send(bytes([byte]))
            except OSError:
                return  # cut off

    senders = [threading.Thread(target=dribble, args=(c,)) for c in conns]
    for sender in senders:
        sender.start()
    began = time.monotonic()
    try:
        synth_served(speakd)
        for conn in conns:
            (error,) = errors(answer(conn, timeout=REQUEST_TIMEOUT + 60))
            assert error["error"] == ("kk-speakd: bad request: no whole request line "
                                      f"within {REQUEST_TIMEOUT:g} s")
        assert time.monotonic() - began < REQUEST_TIMEOUT + 60
    finally:
        stop.set()
        for sender in senders:
            sender.join(60)
        for conn in conns:
            conn.close()
    still_serving(speakd, speakd.baseline)


def test_many_idle_connections_cost_a_while_and_then_nothing(speakd):
    conns = [open_client(speakd) for _ in range(150)]
    try:
        synth_served(speakd)  # while they are all open
        for conn in conns:
            (error,) = errors(answer(conn, timeout=REQUEST_TIMEOUT + 60))
            assert "no whole request line" in error["error"]
    finally:
        for conn in conns:
            conn.close()
    still_serving(speakd, speakd.baseline)


def test_clients_killed_mid_stream_leave_nothing_behind(speakd):
    at = len(jobs(speakd))
    text = "\n".join(ARTICLE).encode()
    procs = [subprocess.Popen([command("kk-synth"), "--raw"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              env=client_env(speakd)) for _ in range(3)]
    try:
        for proc in procs:
            threading.Thread(target=_feed, args=(proc, text), daemon=True).start()
        for proc in procs:  # each has audio coming
            assert proc.stdout.read(65536), "no audio"
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(60)
            proc.stdout.close()
    pids = {proc.pid for proc in procs}
    speakd.wait_for(lambda e: len([j for j in jobs(speakd)[at:] if j["pid"] in pids
                                   and j["outcome"] == "disconnected"]) == 3,
                    READY_TIMEOUT, "3 disconnected jobs")
    still_serving(speakd, speakd.baseline)


def _feed(proc: subprocess.Popen, text: bytes) -> None:
    try:
        proc.stdin.write(text)
        proc.stdin.close()
    except OSError:
        pass  # killed first
