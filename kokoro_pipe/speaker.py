"""The audio thread's output for kk-speakd.  TEMPORARY stand-in until kk-play's
player module lands; the daemon only depends on the Output protocol."""

from __future__ import annotations

import numpy as np
import sounddevice as sd

from kokoro_pipe import SAMPLE_RATE


class Speaker:
    def __init__(self):
        self.device = None
        self._stream = None

    def is_open(self) -> bool:
        return self._stream is not None

    def open(self) -> None:
        sd._terminate()
        sd._initialize()
        self._stream = sd.OutputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32")
        self._stream.start()
        self.device = sd.query_devices(self._stream.device)["name"]

    def follow_default(self) -> None:
        pass

    def write(self, block: np.ndarray, stop=None) -> bool:
        import time
        block = np.ascontiguousarray(block, np.float32)
        underran = False
        while len(block):
            if stop is not None and stop.is_set():
                return underran
            room = self._stream.write_available
            if room == 0:
                time.sleep(0.005)
                continue
            underran |= bool(self._stream.write(block[:room]))
            block = block[room:]
        return underran

    def close(self, drain: bool) -> None:
        stream, self._stream = self._stream, None
        if drain:
            stream.stop()
        else:
            stream.abort()
        stream.close()
