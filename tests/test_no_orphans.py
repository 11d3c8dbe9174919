"""Whatever a command starts ends with it, however it ends: kk-speakd's and
kk-play's `pactl subscribe` watcher (the default output's) is gone within a
few seconds of a SIGTERM, a SIGINT or a SIGKILL of the command. Children are
found in /proc/<pid>/task/*/children (Linux)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import command
from daemon_rig import SpeakDaemon

GONE_WITHIN = 10.0  # seconds
SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGKILL]

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError):  # the thread ended meanwhile
            found.update(int(c) for c in (task / "children").read_text().split())
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except FileNotFoundError:
        return []


def _alive(pid: int) -> bool:
    """Running, or stopped: not gone and not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _watcher_children(pid: int) -> set[int]:
    """`pid`'s children, once one of them is the `pactl subscribe` watcher."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = _children(pid)
        if any("subscribe" in _cmdline(c) for c in children):
            return children
        time.sleep(0.1)
    raise AssertionError(f"no `pactl subscribe` child of {pid}: {_children(pid)}")


def _assert_gone(children: set[int]) -> None:
    deadline = time.monotonic() + GONE_WITHIN
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = {c: _cmdline(c) for c in children if _alive(c)}
    assert not left, f"left running: {left}"


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_kk_speakd_leaves_no_child(pulse, tmp_path, signum):
    daemon = SpeakDaemon(tmp_path / "run", env=pulse.env)
    try:
        daemon.wait_ready()
        children = _watcher_children(daemon.proc.pid)
        daemon.proc.send_signal(signum)
        code = daemon.proc.wait(60)
        assert code == (-signal.SIGKILL if signum == signal.SIGKILL else 0)
        _assert_gone(children)
    finally:
        daemon.stop()


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_kk_play_leaves_no_child(pulse, signum):
    player = subprocess.Popen([command("kk-play"), "--raw"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=pulse.env)
    try:
        children = _watcher_children(player.pid)  # it waits for input, watching the default
        player.send_signal(signum)
        player.wait(60)
        _assert_gone(children)
    finally:
        if player.poll() is None:
            player.kill()
        player.communicate(timeout=60)
