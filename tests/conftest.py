"""Shared fixtures: the installed commands and the installed model."""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

import pytest

SCRIPTS = Path(sysconfig.get_path("scripts"))

# No command a test or a benchmark runs starts a kk-speakd of its own that could
# outlive it (bench/ imports this too); tests of autospawn turn it back on.
os.environ["KOKORO_PIPE_AUTOSPAWN"] = "0"


def command(name: str) -> str:
    """The installed console script `name` (from `pip install -e .`), as a path."""
    path = SCRIPTS / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run `make install-test` first")
    return found
pytest_plugins = ["pulse_rig", "speechd_rig"]  # `pulse`: PulseAudio; `speechd`: speech-dispatcher
