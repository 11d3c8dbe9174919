"""kk-speakd's FIFO and lock, and kk-say's failure modes: real FIFOs, real processes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

import pytest
from conftest import command
from daemon_rig import SpeakDaemon

from kokoro_pipe.daemon.fifo import TooLong, read_lines

NOBODY = 65534


def run(name: str, *args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if k != "KOKORO_PIPE_FIFO"}
    began = time.monotonic()
    result = subprocess.run([command(name), *args], check=False, capture_output=True, text=True,
                            timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    return result, time.monotonic() - began


@pytest.fixture(scope="module")
def speakd(tmp_path_factory):
    daemon = SpeakDaemon(tmp_path_factory.mktemp("speakd") / "run")
    daemon.wait_ready()
    yield daemon
    assert daemon.stop() == 0


def test_kk_say_without_a_daemon_fails_within_a_second(tmp_path):
    fifo = tmp_path / "speak.fifo"
    for case in ("no FIFO", "a FIFO nobody reads"):  # the second: left over by a crash
        if case != "no FIFO":
            os.mkfifo(fifo, 0o600)
        result, seconds = run("kk-say", "--fifo", str(fifo), "Deploy finished")
        assert result.returncode == 69, case
        assert result.stderr.startswith("kk-say: kk-speakd is not running; start it with"), case
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert seconds < 1.0, f"{case}: {seconds:.2f} s"


@pytest.mark.parametrize("kind", ["symlink", "regular file", "foreign owner", "open directory"])
def test_unsafe_fifo_paths_are_refused(tmp_path, kind):
    directory = tmp_path / "run"
    directory.mkdir(mode=0o700)
    fifo = directory / "speak.fifo"
    if kind == "symlink":
        os.mkfifo(tmp_path / "elsewhere.fifo", 0o600)
        fifo.symlink_to(tmp_path / "elsewhere.fifo")
    elif kind == "regular file":
        fifo.write_text("not a FIFO\n")
    elif kind == "foreign owner":
        if os.geteuid() != 0:
            pytest.skip("making a file another user's needs root")
        os.mkfifo(fifo, 0o600)
        os.chown(fifo, NOBODY, NOBODY)
    else:
        directory.chmod(0o755)
    daemon, seconds = run("kk-speakd", "--fifo", str(fifo))
    assert daemon.returncode == 77, daemon.stderr
    assert daemon.stderr.count("\n") == 1 and daemon.stderr.startswith("kk-speakd: ")
    assert {"symlink": "symlink", "regular file": "not a FIFO", "foreign owner": "uid 65534",
            "open directory": "chmod 700"}[kind] in daemon.stderr
    assert seconds < 10, "refused before loading the model"
    if kind == "regular file":
        assert fifo.read_text() == "not a FIFO\n", "left untouched"
    if kind != "open directory":
        say, _ = run("kk-say", "--fifo", str(fifo), "hello")
        assert say.returncode == 77, say.stderr


def test_second_instance_is_refused_and_says_who_holds_the_lock(speakd):
    second, _ = run("kk-speakd", "--fifo", str(speakd.fifo))
    assert second.returncode == 75
    lock = speakd.fifo.parent / "speak.lock"
    assert second.stderr.strip() == (f"kk-speakd: kk-speakd is already running "
                                     f"(pid {speakd.proc.pid}, lock {lock})")
    assert speakd.proc.poll() is None, "the first one keeps running"


def test_fifo_and_directory_are_private(speakd):
    assert stat.S_IMODE(os.stat(speakd.fifo).st_mode) == 0o600
    assert stat.S_ISFIFO(os.stat(speakd.fifo).st_mode)
    assert stat.S_IMODE(os.stat(speakd.fifo.parent).st_mode) == 0o700


def test_status_shows_state_and_queue(speakd):
    result, _ = run("kk-speakd", "--fifo", str(speakd.fifo), "--status")
    assert result.returncode == 0, result.stderr
    assert '"state": "ready"' in result.stdout and '"queue": 0' in result.stdout
    assert f'"pid": {speakd.proc.pid}' in result.stdout


def test_status_without_a_daemon(tmp_path):
    result, _ = run("kk-speakd", "--fifo", str(tmp_path / "speak.fifo"), "--status")
    assert result.returncode == 69
    assert "kk-speakd is not running" in result.stderr


def test_status_stop_and_fifo_path_do_not_import_the_model_or_numpy():
    """A watchdog asks --status under load: its time is the client's own start,
    0.19 s here, quiet, with the daemon's modules, 0.11 s without (their
    imports took 0.65 s at load 11)."""
    heavy = ("numpy", "onnxruntime", "kokoro_pipe.daemon.core", "kokoro_pipe.daemon.serve")
    probe = (f"import sys, kokoro_pipe.cli.speakd; "
             f"print(' '.join(m for m in {heavy!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.split() == []


def test_a_crashed_daemon_leaves_nothing_that_blocks_the_next(tmp_path):
    first = SpeakDaemon(tmp_path / "run")
    first.wait_ready()
    first.proc.send_signal(signal.SIGKILL)  # no clean-up: FIFO, lock and status stay
    first.proc.wait()
    os.chmod(first.fifo, 0o644)  # and say the stale FIFO got a wrong mode somehow
    say, _ = run("kk-say", "--fifo", str(first.fifo), "anyone there?")
    assert say.returncode == 69, "the dead daemon's FIFO has no reader"
    second = SpeakDaemon(tmp_path / "run")
    try:
        second.wait_ready()
        assert stat.S_IMODE(os.stat(second.fifo).st_mode) == 0o600, "recreated private"
        second.write('{"command": "pause"}', '{"text": "after the crash", "id": "c1"}',
                     "cancel")
        assert second.request("c1")["outcome"] == "cancelled"
    finally:
        assert second.stop() == 0
    assert not (tmp_path / "run" / "status.json").exists(), "a clean stop removes the status"


def test_reader_splits_lines_and_bounds_long_ones(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo, 0o600)
    fd = os.open(fifo, os.O_RDWR)
    writer = os.open(fifo, os.O_WRONLY)
    os.write(writer, b"one\n" + b"x" * 50 + b"\ntwo\n")
    os.close(writer)
    lines = read_lines(fd, max_bytes=20)
    assert [next(lines), next(lines), next(lines)] == [b"one", TooLong(50), b"two"]
    os.close(fd)
