"""bin/: the commands run from the checkout with no environment at all
(`env -i`), as BetterTouchTool, cron or a launchd agent would run them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ["kk-g2p", "kk-synth", "kk-play", "kk-speakd", "kk-say", "kk-models", "sd_kokoro"]


def bare(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["env", "-i", *args], capture_output=True, timeout=300, check=False,
                          cwd=cwd)


@pytest.fixture(scope="module")
def installed():
    if not (ROOT / ".kk-python").exists():
        pytest.fail("no .kk-python: run `make install` (make demo / make test write it)")


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_runs_with_no_environment(installed, name):
    result = bare(str(ROOT / "bin" / name), "--help")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().startswith(f"Usage: {name} ")


def test_kk_synth_makes_audio_with_no_environment(installed, tmp_path):
    # --no-autospawn: with no environment, it would start a kk-speakd that outlives the test.
    result = bare(str(ROOT / "bin" / "kk-synth"), "-t", "Hi", "--raw", "--no-autospawn",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    audio = np.frombuffer(result.stdout, np.float32)
    assert len(result.stdout) % 4 == 0 and len(audio) > 0.2 * 24_000
    assert np.abs(audio).max() > 0.05


def test_a_checkout_without_an_install_says_make_demo(tmp_path):
    shutil.copytree(ROOT / "bin", tmp_path / "bin")  # a checkout nobody ran `make demo` in
    result = bare(str(tmp_path / "bin" / "kk-say"), "Done")
    assert result.returncode == 78
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and "make demo" in lines[0] and lines[0].startswith("kk-say: ")
