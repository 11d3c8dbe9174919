"""Shared fixtures: the installed commands and the installed model."""

from __future__ import annotations

import atexit
import os
import shutil
import sysconfig
import tempfile
from pathlib import Path

import pytest

SCRIPTS = Path(sysconfig.get_path("scripts"))

# No command a test or a benchmark runs starts a kk-speakd of its own that could
# outlive it (bench/ imports this too); tests of autospawn turn it back on.
os.environ["KOKORO_PIPE_AUTOSPAWN"] = "0"
# Nor talks to the kk-speakd of whoever runs them (any kk-synth autospawns one for
# ten idle minutes; a test of in-process synthesis got its audio from it instead):
# the default FIFO is in a runtime directory of this run's. Tests of a daemon give
# it and its clients a FIFO of their own.
_RUNTIME = tempfile.mkdtemp(prefix="kokoro-pipe-tests-")
atexit.register(shutil.rmtree, _RUNTIME, ignore_errors=True)
os.environ["XDG_RUNTIME_DIR"] = _RUNTIME
os.environ.pop("KOKORO_PIPE_FIFO", None)


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
