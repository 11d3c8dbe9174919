"""The man pages are installed where man(1) looks for the environment that
kokoro-pipe went into: with its bin/ on PATH (a virtualenv's, activated),
`man kk-synth` finds the page, and `systemd-analyze verify` finds the units'
Documentation=man:kk-speakd(1). Checked against the installed environment:
`make install` puts them there (scripts/install-man-pages), a wheel itself."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import command

MAN = Path(__file__).resolve().parent.parent / "man"
PAGES = sorted(p.name for p in MAN.glob("*.[15]"))


def _environment(**extra: str) -> dict:
    """Ours, with the installed commands' directory first on PATH and no
    MANPATH: man derives its search path from PATH."""
    env = {k: v for k, v in os.environ.items() if k != "MANPATH"}
    env["PATH"] = os.pathsep.join([str(Path(command("kk-synth")).parent), env["PATH"]])
    return {**env, **extra}


@pytest.mark.parametrize("page", PAGES)
def test_man_finds_the_installed_page(page):
    if not shutil.which("man"):
        pytest.fail("man is not installed: run `make install-test`")
    name, section = page.rsplit(".", 1)
    result = subprocess.run(["man", "-w", section, name], capture_output=True, text=True,
                            timeout=60, env=_environment())
    assert result.returncode == 0, f"{result.stderr.strip()} (run `make install`)"
    lines = Path(result.stdout.strip()).read_text().splitlines()
    header = next(line for line in lines if line.startswith(".TH ")).split()
    assert header[1:3] == [name.upper(), section]


def test_systemd_analyze_finds_the_units_man_page(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("no systemd-analyze here")
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = _environment(XDG_RUNTIME_DIR=str(runtime))  # a user manager's, to verify against
    written = subprocess.run(
        [command("kk-speakd"), "install-service", "--kind", "systemd", "--dir",
         str(tmp_path / "units")], check=True, capture_output=True, text=True, timeout=60,
        env=env).stdout.split()
    result = subprocess.run(["systemd-analyze", "--user", "verify", *written],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
