"""Autospawn: kk-synth and kk-say start the kk-speakd later runs borrow, in a
fresh runtime directory; it leaves after its idle time; kk-speakd --stop ends
it. Every daemon started here is ended here, by the pid in its lock."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import command

from kokoro_pipe.daemon.fifo import Place, lock_holder

READY_TIMEOUT = 180  # model load + priming on a busy 2-core machine
TEXT = "The kettle is on."


@pytest.fixture
def runtime(tmp_path):
    """A fresh runtime directory with autospawn on; any daemon left is ended, by pid."""
    env = {k: v for k, v in os.environ.items() if k != "KOKORO_PIPE_FIFO"}
    env.update(XDG_RUNTIME_DIR=str(tmp_path / "run"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               KOKORO_PIPE_AUTOSPAWN="1")
    (tmp_path / "run").mkdir(mode=0o700)
    place = Place(tmp_path / "run" / "kokoro-pipe" / "speak.fifo")
    yield env, place
    for pid in daemons_of(place):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def daemons_of(place: Place) -> list[int]:
    """The kk-speakd processes serving `place`, from their command lines."""
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if b"kokoro_pipe.cli.speakd" in argv and str(place.fifo).encode() in argv:
                found.append(int(proc.name))
    return found


def synth(env: dict, *args: str, text: str = TEXT) -> subprocess.Popen:
    return subprocess.Popen([command("kk-synth"), "--raw", "-t", text, *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err


def status(place: Place) -> dict | None:
    try:
        return json.loads(place.status.read_text())
    except (OSError, ValueError):
        return None


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout} s")


def wait_ready(place: Place) -> dict:
    return wait_until(lambda: (s := status(place)) and s.get("state") == "ready" and s,
                      READY_TIMEOUT, "a ready kk-speakd")


def log_events(place: Place) -> list[dict]:
    return [json.loads(line) for line in (place.directory / "kk-speakd.log").read_text()
            .splitlines() if line.startswith("{")]


def test_the_first_run_starts_a_daemon_the_second_borrows_and_stop_ends_it(runtime):
    env, place = runtime
    finish(synth(env))
    ready = wait_ready(place)
    pid = lock_holder(place)
    assert ready["pid"] == pid and ready["autospawned"] is True
    assert ready["idle_exit_at"] > time.time() + 500  # ten minutes by default
    assert os.getsid(pid) == pid  # a session of its own: no terminal, no pipeline's group
    assert os.readlink(f"/proc/{pid}/fd/0") == os.readlink(f"/proc/{pid}/fd/1") == "/dev/null"

    second = synth(env, text="A second kettle.")
    finish(second)
    served = [e for e in log_events(place) if e["event"] == "synthesis"]
    assert [(e["pid"], e["outcome"]) for e in served] == [(second.pid, "done")]

    stopped = subprocess.run([command("kk-speakd"), "--stop"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    assert lock_holder(place) is None and not place.status.exists()
    assert daemons_of(place) == []


def test_two_runs_at_once_start_one_daemon_and_it_leaves_when_idle(runtime):
    env, place = runtime
    env["KOKORO_PIPE_IDLE_EXIT"] = "3"
    runs = [synth(env), synth(env, text="Another kettle.")]
    for run in runs:
        finish(run)
    pid = wait_ready(place)["pid"]
    wait_until(lambda: lock_holder(place) is None, 120, "the idle daemon gone")
    assert not place.status.exists()
    wait_until(lambda: not daemons_of(place), 60, "no kk-speakd left")
    events = log_events(place)
    assert [e["pid"] for e in events if e["event"] == "ready"] == [pid]
    assert [e["seconds"] for e in events if e["event"] == "idle"] == [3.0]


@pytest.mark.parametrize("how", ["env", "config", "flag"])
def test_autospawn_off_starts_nothing(runtime, tmp_path, how):
    env, place = runtime
    args = []
    if how == "env":
        env["KOKORO_PIPE_AUTOSPAWN"] = "0"
    elif how == "config":
        del env["KOKORO_PIPE_AUTOSPAWN"]
        env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
        (tmp_path / "config" / "kokoro-pipe").mkdir(parents=True)
        (tmp_path / "config" / "kokoro-pipe" / "config.toml").write_text("autospawn = false\n")
    else:
        args = ["--no-daemon"]
    finish(synth(env, *args))
    assert not (place.directory / "kk-speakd.log").exists()  # the spawner writes it first
    assert lock_holder(place) is None and daemons_of(place) == []


def test_kk_say_starts_a_daemon_and_its_request_is_spoken(runtime, pulse):
    env, place = runtime
    env.update((k, pulse.env[k]) for k in pulse.env if k.startswith(("PULSE_", "ALSA_")))
    said = subprocess.run([command("kk-say"), "--id", "first", TEXT], env=env,
                          capture_output=True, text=True, timeout=120)
    assert said.returncode == 0, said.stderr
    spoken = wait_until(lambda: [e for e in log_events(place) if e.get("id") == "first"],
                        READY_TIMEOUT, "the request's log line")
    assert spoken[0]["outcome"] == "spoken"
    pid = lock_holder(place)
    assert status(place)["autospawned"] is True
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not daemons_of(place), 60, "the daemon gone")


def test_stop_without_a_daemon_exits_69(runtime):
    env, _ = runtime
    stopped = subprocess.run([command("kk-speakd"), "--stop"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert stopped.returncode == 69
    assert stopped.stderr.startswith("kk-speakd: kk-speakd is not running")


def test_a_daemon_that_cannot_start_costs_one_line(runtime, tmp_path):
    env, place = runtime
    place.directory.mkdir(mode=0o700)
    (place.directory / "kk-speakd.log").mkdir()  # its log cannot be opened
    result = synth(env)
    _, err = result.communicate(timeout=300)
    assert result.returncode == 0  # this run's output is whole all the same
    assert err.decode().splitlines() == [
        f"kk-synth: not starting kk-speakd: cannot start kk-speakd: "
        f"{place.directory / 'kk-speakd.log'}: Is a directory"]
    said = subprocess.run([command("kk-say"), TEXT], env=env, capture_output=True, text=True,
                          timeout=120)
    assert said.returncode == 69
    assert said.stderr == (f"kk-say: cannot start kk-speakd: "
                           f"{place.directory / 'kk-speakd.log'}: Is a directory\n")
    (place.directory / "kk-speakd.log").rmdir()

    env["KOKORO_PIPE_MODEL"] = str(tmp_path / "absent.onnx")  # the daemon exits 78
    said = subprocess.run([command("kk-say"), TEXT], env=env, capture_output=True, text=True,
                          timeout=120)
    assert said.returncode == 69
    assert said.stderr == (f"kk-say: kk-speakd could not start (exit 78); see "
                           f"{place.directory / 'kk-speakd.log'}\n")
    assert "absent.onnx" in (place.directory / "kk-speakd.log").read_text()
