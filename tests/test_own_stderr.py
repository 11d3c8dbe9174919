"""own_stderr(): what C libraries write to fd 2 goes nowhere, what Python
writes (print, logging, a fatal error's traceback) reaches the real stderr.
ALSA itself is the C library here: opening an unknown PCM makes it print
"ALSA lib ...: Unknown PCM" on fd 2."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import ctypes, ctypes.util, faulthandler, logging, sys
from kokoro_pipe.cli.own_stderr import own_stderr
logging.basicConfig(stream=sys.stderr, format="%(message)s")
own_stderr()
alsa = ctypes.CDLL(ctypes.util.find_library("asound"))
assert alsa.snd_pcm_open(ctypes.byref(ctypes.c_void_p()), b"kk_no_such_pcm", 0, 0) < 0
print("from print", file=sys.stderr)
logging.warning("from logging")
if sys.argv[1:] == ["crash"]:
    faulthandler._sigsegv()
"""


def _stderr(*args: str, debug: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KOKORO_PIPE_DEBUG"}
    if debug:
        env["KOKORO_PIPE_DEBUG"] = "1"
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True,
                          text=True, timeout=60, env=env)


pytestmark = pytest.mark.skipif(not ctypes.util.find_library("asound"), reason="no libasound")


def test_c_library_messages_go_nowhere_python_s_reach_stderr():
    result = _stderr()
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["from print", "from logging"]


def test_with_debug_the_c_library_messages_stay():
    result = _stderr(debug=True)
    assert result.returncode == 0, result.stderr
    assert "kk_no_such_pcm" in result.stderr  # ALSA spoke: the test above can fail
    assert "from print" in result.stderr


def test_a_crash_s_traceback_reaches_stderr():
    result = _stderr("crash")
    assert result.returncode != 0
    assert "Fatal Python error: Segmentation fault" in result.stderr
    assert "kk_no_such_pcm" not in result.stderr
