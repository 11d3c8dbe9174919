"""A private speech-dispatcher for tests, configured by `kk-speakd
install-speechd` into a temporary directory, playing into the PulseAudio rig;
and its Python client (Debian's python3-speechd, for the system's Python),
run in a subprocess that prints the events it gets as JSON lines."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import command

START_TIMEOUT = 240  # speech-dispatcher waits for the module's model load and warm-up
SYSTEM_PYTHON = "/usr/bin/python3"  # the Python python3-speechd is installed for
CLIENT = Path(__file__).with_name("speechd_client.py")


class SpeechDispatcher:
    def __init__(self, directory: Path, env: dict):
        self.dir = directory
        self.conf, self.logs = directory / "conf", directory / "log"
        self.socket, self.pid_file = directory / "speechd.sock", directory / "speechd.pid"
        self.logs.mkdir(parents=True)
        self.env = {**env, "SPEECHD_ADDRESS": f"unix_socket:{self.socket}",
                    "XDG_CACHE_HOME": str(directory / "cache")}  # a phrase cache of its own
        subprocess.run([command("kk-speakd"), "install-speechd", "--default", "--dir",
                        str(self.conf)], env=self.env, check=True, capture_output=True)
        # Log what the module is sent (level 5), for a failing test to show.
        conf = self.conf / "speechd.conf"
        conf.write_text(conf.read_text() + "LogLevel 5\n")

    def start(self) -> None:
        # -d returns once it serves, after the modules answered INIT.
        subprocess.run(["speech-dispatcher", "-d", "-t", "0", "-C", str(self.conf),
                        "-S", str(self.socket), "-P", str(self.pid_file), "-L", str(self.logs)],
                       env=self.env, check=True, capture_output=True, timeout=START_TIMEOUT)
        if not self.socket.exists():
            pytest.fail(f"speech-dispatcher did not start:\n{self.log()}")

    def stop(self) -> None:
        if self.pid_file.exists():
            os.kill(int(self.pid_file.read_text()), signal.SIGTERM)
            for _ in range(100):
                if not self.pid_file.exists():
                    break
                time.sleep(0.1)

    def log(self, name: str = "speech-dispatcher.log", last: int = 3000) -> str:
        path = self.logs / name
        return path.read_text(errors="replace")[-last:] if path.exists() else "(no log)"

    def say(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """spd-say with the kokoro module; -w: returns when the speech ended."""
        return subprocess.run(["spd-say", "-o", "kokoro", *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def client(self, *args: str) -> subprocess.Popen:
        """speechd_client.py: speaks, prints its events (JSON lines) on stdout."""
        return subprocess.Popen([SYSTEM_PYTHON, str(CLIENT), str(self.socket), *args],
                                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)


@pytest.fixture(scope="session")
def speechd(pulse, tmp_path_factory) -> SpeechDispatcher:
    if sys.platform == "darwin":
        pytest.skip("speech-dispatcher is Linux's")
    missing = [t for t in ("speech-dispatcher", "spd-say", SYSTEM_PYTHON) if not shutil.which(t)]
    if not missing and subprocess.run([SYSTEM_PYTHON, "-c", "import speechd"]).returncode:
        missing.append("python3-speechd")
    if missing:
        pytest.fail(f"the speech-dispatcher tests need {', '.join(missing)}: "
                    "run `make install-test` (scripts/install-system-deps --test)")
    server = SpeechDispatcher(tmp_path_factory.mktemp("speechd"), pulse.env)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def events(proc: subprocess.Popen, timeout: float = 120) -> list[dict]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]
