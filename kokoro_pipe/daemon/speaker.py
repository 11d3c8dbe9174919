"""kk-speakd's output: kk-play's Player on the default device, one request at a time.

The Player writes in 50 ms blocks, but one PortAudio write can block far
longer when the server stalls (a PulseAudio null sink renders 2 s at a time),
and PortAudio may only be touched from the audio thread. So the streams it
opens here wait for room themselves, watching the current request's stop
event: once it is set, writes return at once without audio, the Player's loop
runs out quickly, and the audio thread aborts the device.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from kokoro_pipe import SAMPLE_RATE
from kokoro_pipe.audio import devices
from kokoro_pipe.audio.devices import default_output_watch, open_output
from kokoro_pipe.audio.player import Player, PlayStats

LATENCY = 0.1  # seconds of device buffer: what a stop can still let through
FRESH_FOR = 2.0  # seconds a device list rescanned at the end of a request is trusted
ROOM_POLL = 0.005  # seconds between checks for room in the device buffer


class _StoppableOutput:
    """A devices.PortAudioOutput whose write() gives up when `stop` is set."""

    def __init__(self, output, stop: threading.Event):
        self._output, self._stop = output, stop
        self.name, self.latency = output.name, output.latency

    def write(self, block: np.ndarray) -> bool:
        underran = False
        while len(block):
            room = self._output.room()
            if self._stop.is_set():
                return underran
            if room == 0:
                time.sleep(ROOM_POLL)
                continue
            underran |= self._output.write(block[:room])  # returns at once: it fits
            block = block[room:]
        return underran

    def start(self) -> None:
        self._output.start()

    def drain(self) -> None:
        self._output.drain()

    def abort(self) -> None:
        self._output.abort()

    def close(self) -> None:
        self._output.close()


class Speaker:
    """The daemon core.Output of kk-speakd, used by its audio thread only."""

    def __init__(self):
        self._watch = default_output_watch()  # the Player follows a new default
        self._stop = threading.Event()
        self._player = Player(self._open, self._watch)
        self.device: str | None = None  # kept after close, for the request's log
        self._refreshed = float("-inf")

    def _open(self, rate: int, channels: int) -> _StoppableOutput:
        return _StoppableOutput(open_output(None, rate, channels, LATENCY), self._stop)

    def is_open(self) -> bool:
        return self._player.is_open

    def open(self, stop: threading.Event) -> None:
        """Open the default device for one request. The device list was rescanned
        when the last request closed it; after a pause longer than FRESH_FOR it is
        rescanned again here, so a device plugged in meanwhile is seen."""
        if time.monotonic() - self._refreshed > FRESH_FOR:
            devices.refresh()
        self._stop = stop
        self._player.stats = PlayStats()
        self._player.open(SAMPLE_RATE, 1)
        self.device = self._player.device

    def write(self, block: np.ndarray) -> None:
        """Blocks while the device is full, unless the request's stop is set."""
        self._player.write(block.reshape(-1, 1))
        self.device = self._player.device or self.device  # it follows a new default

    def stats(self) -> PlayStats:
        return self._player.stats

    def close(self, drain: bool) -> None:
        if drain:
            self._player.drain()  # waits until everything written was heard
        else:
            self._player.abort()
        # Rescan now, while nothing plays, rather than on the next request's path.
        devices.refresh()
        self._refreshed = time.monotonic()
