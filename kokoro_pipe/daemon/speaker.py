"""kk-speakd's output: kk-play's Player on the default device. Requests queued
back to back flow on one open stream, a pause apart; the device closes when
the queue is empty.

The Player writes in 50 ms blocks, but one PortAudio write can block far
longer when the server stalls (a PulseAudio null sink renders 2 s at a time),
and PortAudio may only be touched from the audio thread. So the streams it
opens here wait for room themselves, watching the current request's stop
event: once it is set, writes return at once without audio, the Player's loop
runs out quickly, and the audio thread aborts the device. A device that takes
nothing for STALLED_AFTER (a suspended sink, a headset gone) fails the write,
as a device error does: waiting on it for ever would stall every request after.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from kokoro_pipe import SAMPLE_RATE
from kokoro_pipe.audio import devices
from kokoro_pipe.audio.devices import default_output_watch, open_output
from kokoro_pipe.audio.player import Player, PlayStats

LATENCY = 0.2  # seconds of device buffer: rides out a busy machine; a stop aborts it
FRESH_FOR = 2.0  # seconds a device list rescanned at the end of a request is trusted
ROOM_POLL = 0.005  # seconds between checks for room in the device buffer
IDLE_FILL = 0.05  # seconds of silence kept queued while the next request's audio is made
STALLED_AFTER = 10.0  # seconds a device may take nothing before it counts as failed


class DeviceStalled(OSError):
    """The device took nothing for STALLED_AFTER seconds."""


class _StoppableOutput:
    """A devices.PortAudioOutput whose write() gives up when `stop` is set."""

    def __init__(self, output, stop: threading.Event):
        self._output, self.stop = output, stop
        self.name, self.latency = output.name, output.latency

    def queued(self) -> float:
        """Seconds of audio in the device buffer, not yet played."""
        return self.buffered() / self._output.rate

    def buffered(self) -> int:
        return self._output.buffered()

    def write(self, block: np.ndarray) -> bool:
        underran = False
        since = time.monotonic()  # the device last took something
        while len(block):
            room = self._output.room()
            if self.stop.is_set():
                return underran
            if room == 0:
                if time.monotonic() - since > STALLED_AFTER:
                    raise DeviceStalled(f"{self.name} took nothing for {STALLED_AFTER:g} s")
                time.sleep(ROOM_POLL)
                continue
            since = time.monotonic()
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
        self._output: _StoppableOutput | None = None  # the last one opened
        self.device: str | None = None  # kept after close, for the request's log
        self._refreshed = float("-inf")

    def _open(self, rate: int, channels: int) -> _StoppableOutput:
        self._output = _StoppableOutput(open_output(None, rate, channels, LATENCY), self._stop)
        return self._output

    def is_open(self) -> bool:
        return self._player.is_open

    def open(self, stop: threading.Event) -> None:
        """Play one request's audio from now on, watching its `stop`: on the
        stream already open (the previous request's), else on the default
        device. The device list was rescanned when the last stream closed;
        after a pause longer than FRESH_FOR it is rescanned again here, so a
        device plugged in meanwhile is seen."""
        self._stop = stop
        if self._output is not None:
            self._output.stop = stop
        self._player.stats = PlayStats()
        if not self._player.is_open:
            if time.monotonic() - self._refreshed > FRESH_FOR:
                devices.refresh()
            self._player.open(SAMPLE_RATE, 1)
        self.device = self._player.device

    def pause(self, seconds: float) -> None:
        """End the request's audio and queue `seconds` of silence after it; the
        stream stays open for the next request."""
        self._player.pause(seconds)

    def idle(self) -> int:
        """While the next request's first audio is being made: keep IDLE_FILL
        of silence queued, so the stream neither runs dry nor delays it much.
        Returns the frames of silence added."""
        if self._output is not None and self._player.is_open:
            missing = IDLE_FILL - self._output.queued()
            if missing > 0:
                return self._player.pause(missing)
        return 0

    def write(self, block: np.ndarray) -> None:
        """Blocks while the device is full, unless the request's stop is set."""
        self._player.write(block.reshape(-1, 1))
        self.device = self._player.device or self.device  # it follows a new default

    def stats(self) -> PlayStats:
        return self._player.stats

    def queued(self) -> int:
        """Frames in the device buffer, written and not yet heard."""
        return self._output.buffered() if self._output is not None else 0

    def close(self, drain: bool) -> None:
        try:
            if drain:
                self._player.drain()  # waits until everything written was heard
        finally:  # after a drain nothing is left; after a failed one the device is freed
            self._player.abort()
            self._output = None

    def rescan(self) -> None:
        """Rescan the device list now, while nothing plays, rather than on the
        next request's path (and after the sound's end was noted, not before)."""
        devices.refresh()
        self._refreshed = time.monotonic()
