"""Audio output devices: listing, choosing by NAME|INDEX, opening write-based
PortAudio streams, and noticing when the system default output changes.

PortAudio scans devices (and fixes which one is the default) when it is
initialized; `refresh()` rescans, and only while no stream is open, because
Pa_Terminate with an open stream fails (PaErrorCode -9988) or closes it.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kokoro_pipe.errors import UnavailableError

NO_DEVICE = "no audio output device found"
PR_SET_PDEATHSIG = 1  # prctl(2), Linux
CHILD_EXIT_WAIT = 2.0  # seconds a child asked to terminate gets before it is killed
ALSA_PERIODS = 8
DRAIN_POLL = 0.005  # seconds between looks at the device buffer while draining
DRAIN_SLACK = 1.0  # seconds a drain may take beyond the buffer's length: a stalled server

_open_streams = 0
_list_is_fresh = True  # PortAudio scanned the devices when sounddevice was imported


@functools.cache
def _sd():
    """sounddevice, imported on first use (it initializes PortAudio)."""
    try:
        import sounddevice
    except OSError as e:  # libportaudio missing
        raise UnavailableError(f"{NO_DEVICE} ({e})") from None
    _shorter_alsa_periods(sounddevice)
    return sounddevice


def _shorter_alsa_periods(sd) -> None:
    """A blocking write returns only when a whole ALSA period has played, and
    a signal waits for that: 8 periods per buffer instead of 4 (25 ms at the
    default latency) keep SIGINT handling well under 100 ms."""
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: no ALSA host API
        ctypes.CDLL(sd._libname).PaAlsa_SetNumPeriods(ALSA_PERIODS)


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    hostapi: str
    channels: int
    is_default: bool


def output_devices() -> list[Device]:
    """PortAudio's output devices, as of its last scan."""
    sd = _sd()
    default = sd.default.device[1]
    hostapis = sd.query_hostapis()
    return [
        Device(d["index"], d["name"], hostapis[d["hostapi"]]["name"],
               d["max_output_channels"], d["index"] == default)
        for d in sd.query_devices()
        if d["max_output_channels"] > 0
    ]


def refresh() -> bool:
    """Rescan PortAudio's devices if no stream is open; return whether it did."""
    global _list_is_fresh
    if _open_streams:
        return False
    sd = _sd()
    sd._terminate()
    sd._initialize()
    _list_is_fresh = True
    return True


def choose(spec: str | None) -> Device:
    """The output device named by `spec` (an index, an exact name, or a unique
    part of a name, case-insensitive), or the default output for None."""
    devices = output_devices()
    if not devices:
        raise UnavailableError(f"{NO_DEVICE} (PortAudio lists no output device)")
    if spec is None:
        for d in devices:
            if d.is_default:
                return d
        raise UnavailableError(f"{NO_DEVICE} (PortAudio has no default output)")
    if spec.strip().isdigit():
        matches = [d for d in devices if d.index == int(spec)]
    else:
        matches = [d for d in devices if d.name == spec] or [
            d for d in devices if spec.lower() in d.name.lower()
        ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UnavailableError(f"{NO_DEVICE} (none matches {spec!r}; see --list-devices)")
    names = ", ".join(f"{d.index} {d.name}" for d in matches)
    raise UnavailableError(f"{NO_DEVICE} ({spec!r} is ambiguous: {names})")


class PortAudioOutput:
    """One write-based float32 PortAudio stream: write() blocks in PortAudio's
    C code until there is room, so no Python runs on the audio thread."""

    def __init__(self, device: Device, rate: int, channels: int, latency: float):
        global _open_streams
        sd = _sd()
        try:
            self._stream = sd.OutputStream(
                samplerate=rate, channels=channels, dtype="float32",
                device=device.index, latency=latency,
            )
        except (sd.PortAudioError, ValueError) as e:
            raise UnavailableError(f"{NO_DEVICE} (cannot open {device.name!r}: {e})") from None
        _open_streams += 1
        self._error = sd.PortAudioError
        self.name = device.name
        self.rate = rate
        self.latency = float(self._stream.latency)
        self.capacity = self._stream.write_available  # frames: nothing is queued yet
        self._started = False

    def start(self) -> None:
        with self._failing("start"):
            self._stream.start()
        self._started = True

    def write(self, block: np.ndarray) -> bool:
        """Queue `block`; return True if the device ran dry since the last write."""
        with self._failing("write to"):
            return bool(self._stream.write(block))

    @contextlib.contextmanager
    def _failing(self, action: str):
        """A device gone mid-stream (server stopped, device unplugged): one line, 69."""
        try:
            yield
        except self._error as e:
            raise UnavailableError(f"cannot {action} audio output {self.name!r}: {e}") from None

    def room(self) -> int:
        """Frames write() takes now without blocking: lets a caller that must
        react to a stop wait in small steps instead of inside PortAudio."""
        return self._stream.write_available

    def buffered(self) -> int:
        """Frames written and not yet played."""
        return max(0, self.capacity - self._stream.write_available)

    def drain(self) -> None:
        """Wait until everything written has left the buffer for the device.

        The buffer's free room grows only as the server or the hardware takes
        samples (ALSA's pulse plugin counts what PulseAudio's sink consumed), so
        a buffer all free means the last sample was played. PortAudio's own
        stop is no drain here: on PulseAudio it drops the last ~175 ms."""
        if not self._started:
            return
        deadline = time.monotonic() + self.capacity / self.rate + DRAIN_SLACK
        with self._failing("drain"):
            while self._stream.write_available < self.capacity:
                if time.monotonic() > deadline:
                    return  # a stalled server must not hang us: close, as before
                time.sleep(DRAIN_POLL)

    def abort(self) -> None:
        """Drop whatever is queued, now."""
        if self._started:
            self._stream.abort(ignore_errors=True)

    def close(self) -> None:
        global _open_streams, _list_is_fresh
        if self._stream.closed:
            return
        self._stream.close(ignore_errors=True)
        _open_streams -= 1
        _list_is_fresh = False


def open_output(spec: str | None, rate: int, channels: int, latency: float) -> PortAudioOutput:
    """Open (not start) a stream on the device `spec` names, or the default.

    The device list is rescanned first unless it is fresh from PortAudio's
    start: a device plugged in, or a new default, shows up after a rescan only.
    """
    if not _list_is_fresh:
        refresh()
    return PortAudioOutput(choose(spec), rate, channels, latency)


# -- following the system default output --------------------------------------


class DefaultOutputWatch(Protocol):
    def current(self) -> str | None:
        """The system's default output now (a name or an id), or None if unknown."""

    def close(self) -> None: ...


class NoDefaultOutputWatch:
    """Platforms where the default output cannot be watched: it never changes."""

    def current(self) -> str | None:
        return None

    def close(self) -> None:
        pass


class PulseDefaultSink:
    """The PulseAudio (or PipeWire-pulse) server's default sink.

    PortAudio reaches PulseAudio through ALSA's "default" device, whose list
    entry never changes when the default sink does, so ask the server:
    `pactl subscribe` reports a server change, then `pactl get-default-sink`
    tells which sink it is now. A reader thread keeps `current()` cheap.
    The `pactl subscribe` child ends with us: closed at exit, and sent SIGTERM
    by the kernel should we die otherwise.
    """

    def __init__(self, pactl: str = "pactl"):
        self._pactl = pactl
        self._env = {**os.environ, "LC_ALL": "C"}
        # Subscribe before the first query, so no change falls in between.
        self._events = subprocess.Popen(
            [pactl, "subscribe"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=self._env, text=True, preexec_fn=_dies_with_us(),
        )
        atexit.register(self.close)  # a normal exit, sys.exit or a signal that unwinds
        self._sink = self._query()
        threading.Thread(target=self._follow, name="pactl-subscribe", daemon=True).start()

    def _follow(self) -> None:
        for line in self._events.stdout:
            if " on server" in line:
                self._sink = self._query()

    def _query(self) -> str | None:
        try:
            sink = self._pactl_output("get-default-sink").strip()
        except (OSError, subprocess.SubprocessError):
            try:  # pactl before PulseAudio 15 has no get-default-sink
                info = self._pactl_output("info")
            except (OSError, subprocess.SubprocessError):
                return None
            lines = [ln for ln in info.splitlines() if ln.startswith("Default Sink:")]
            sink = lines[0].split(":", 1)[1].strip() if lines else ""
        return sink or None

    def _pactl_output(self, *args: str) -> str:
        return subprocess.run(
            [self._pactl, *args], capture_output=True, text=True, check=True,
            timeout=2, env=self._env, stdin=subprocess.DEVNULL,
        ).stdout

    def current(self) -> str | None:
        return self._sink

    def close(self) -> None:
        if self._events.poll() is None:
            self._events.terminate()
            try:
                self._events.wait(CHILD_EXIT_WAIT)
            except subprocess.TimeoutExpired:
                self._events.kill()
                self._events.wait()


def _dies_with_us():
    """A preexec_fn that has the kernel send the child SIGTERM when we die,
    however (SIGKILL too), on Linux; None elsewhere. The signal follows the
    thread that started the child: start it from one that lives as long as
    the process, such as the main thread."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # we died before prctl: no signal will come
            os._exit(1)

    return preexec


class CoreAudioDefaultOutput:
    """macOS: the AudioDeviceID of the default output, read through ctypes.
    One property read costs microseconds, so it is asked at every check."""

    _SYSTEM_OBJECT = 1  # kAudioObjectSystemObject
    _DEFAULT_OUTPUT = int.from_bytes(b"dOut", "big")  # kAudioHardwarePropertyDefaultOutputDevice
    _SCOPE_GLOBAL = int.from_bytes(b"glob", "big")  # kAudioObjectPropertyScopeGlobal

    class _Address(ctypes.Structure):
        _fields_ = [("selector", ctypes.c_uint32), ("scope", ctypes.c_uint32),
                    ("element", ctypes.c_uint32)]

    def __init__(self):
        self._lib = ctypes.CDLL("/System/Library/Frameworks/CoreAudio.framework/CoreAudio")
        self._address = self._Address(self._DEFAULT_OUTPUT, self._SCOPE_GLOBAL, 0)

    def current(self) -> str | None:
        device = ctypes.c_uint32(0)
        size = ctypes.c_uint32(ctypes.sizeof(device))
        status = self._lib.AudioObjectGetPropertyData(
            self._SYSTEM_OBJECT, ctypes.byref(self._address), 0, None,
            ctypes.byref(size), ctypes.byref(device),
        )
        return None if status else f"CoreAudio device {device.value}"

    def close(self) -> None:
        pass


def default_output_watch() -> DefaultOutputWatch:
    """The watch that fits this system; one that never reports a change if none does."""
    try:
        if sys.platform == "darwin":
            return CoreAudioDefaultOutput()
        if shutil.which("pactl"):
            watch = PulseDefaultSink()
            if watch.current() is not None:
                return watch
            watch.close()
    except OSError:
        pass
    return NoDefaultOutputWatch()
