"""A stderr of Python's own, out of reach of C libraries.

PortAudio, ALSA and onnxruntime write to fd 2 directly ("ALSA lib pcm.c:...
underrun occurred"), and sounddevice points fd 2 at /dev/null for the ~0.5 s
of each PortAudio initialisation, so anything another thread writes meanwhile
is lost. A command whose stderr is a record (kk-speakd's JSON log) or one line
per failure (kk-play) writes through a duplicate of fd 2 taken at start-up
instead, and fd 2 itself goes to /dev/null for good.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
from typing import TextIO


def own_stderr() -> TextIO:
    """Point sys.stderr, the logging handlers on it and faulthandler at a
    duplicate of fd 2, then fd 2 at /dev/null (KOKORO_PIPE_DEBUG=1 leaves fd 2
    alone, C libraries' messages included); return the new stream."""
    sys.stderr.flush()
    stream = open(  # noqa: SIM115 - the process's stderr from now on
        os.dup(2), "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    for handler in logging.getLogger().handlers:  # set up on the old one
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr:
            handler.setStream(stream)
    sys.stderr = stream
    faulthandler.enable(stream)  # a crash's traceback reaches it as well
    if not os.environ.get("KOKORO_PIPE_DEBUG"):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    return stream
