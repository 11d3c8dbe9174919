"""A real PulseAudio server for the tests, started and stopped by the tests.

No sound card and no D-Bus needed: `pulseaudio -n` with only the modules
loaded here, its own runtime directory and client config under a tmp dir.
Two null sinks, "one" and "two" (24 kHz mono float32, so a capture of their
monitors is bit-exact), are exposed to PortAudio as ALSA pulse devices of the
same names, next to ALSA "default" (the server's default sink). A third,
"rewinding", keeps PulseAudio's rewinds for the one test that needs them; a
fourth, "wide", is 48 kHz stereo, as most real devices are.

Measured here: a null sink that rewinds makes its monitor drop the start of a
new stream (as long as the recorder's latency, plus ~30 ms for a PortAudio
stream) and, with no low-latency recorder attached, stalls a new stream's
writes for up to 1.2 s; norewinds=1 sinks do neither. `pulse.record()` uses a
5 ms recorder so that even the rewinding sink behaves.
"""

from __future__ import annotations

import bisect
import glob
import os
import shutil
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

RATE = 24_000
SINKS = ("one", "two")
REWINDING = "rewinding"
WIDE, WIDE_RATE, WIDE_CHANNELS = "wide", 48_000, 2
SYSTEM_ALSA_CONF = Path("/usr/share/alsa/alsa.conf")
ALSA_PLUGIN_DIRS = ("/usr/lib/*/alsa-lib", "/usr/lib/alsa-lib", "/usr/lib64/alsa-lib")
RECORD_LATENCY_MS = 5
SETTLE = 0.3  # seconds of capture kept after the audio should have ended


def _alsa_device(name: str, sink: str | None, description: str) -> str:
    device = f'    device "{sink}"\n' if sink else ""
    return (f"pcm.{name} {{\n    type pulse\n{device}"
            f'    hint {{ show on description "{description}" }}\n}}\n')


@dataclass
class Capture:
    """What a sink's monitor received, recorded by parec into a file, with the
    time.time() at which each block of it arrived."""

    path: Path
    channels: int = 1
    arrivals: list[tuple[int, float]] = field(default_factory=list)  # (frames so far, time)

    def samples(self) -> np.ndarray:
        """The samples, (frames, channels) for more than one channel."""
        x = np.fromfile(self.path, "<f4")
        return x if self.channels == 1 else x[: len(x) // self.channels * self.channels].reshape(
            -1, self.channels)

    def arrived(self, frame: int) -> float:
        """When the block holding `frame` reached the recorder: at most the
        recorder's latency after the sink played it."""
        ends = [end for end, _ in self.arrivals]
        return self.arrivals[bisect.bisect_right(ends, frame)][1]

    def frame_at(self, moment: float) -> int:
        """The first frame that reached the recorder after time.time() `moment`."""
        before = [end for end, arrived in self.arrivals if arrived <= moment]
        return before[-1] if before else 0

    def sound_ends(self, threshold: float = 1e-4) -> float | None:
        """When the last sample louder than `threshold` arrived, or None for silence."""
        x = np.abs(self.samples()).reshape(-1, self.channels).max(axis=1)
        loud = np.flatnonzero(x > threshold)
        return self.arrived(int(loud[-1])) if len(loud) else None

    def wait_sounding(self, seconds: float, timeout: float = 60) -> None:
        """Until the sink has sounded for `seconds` and sounds now (its last
        20 ms: not in a gap while a daemon synthesizes its next chunk)."""
        deadline = time.monotonic() + timeout
        while True:
            audio = self.samples()
            if np.count_nonzero(audio) > seconds * RATE and np.any(audio[-RATE // 50:]):
                return
            assert time.monotonic() < deadline, "the sink never sounded"
            time.sleep(0.005)

    def sound_cut(self, written: float, silence: float = 0.1, until: int | None = None
                  ) -> float:
        """When the sound that was sounding at `written` (a time.time()) stopped:
        the arrival of its last sample, the one before the first `silence` of
        exact zeros, or before frame `until` (where other sound begins, such as
        the next request's). A cut quicker than one recorder block ends before `written`."""
        start = max(0, self.frame_at(written) - RATE // 10)  # back 100 ms: it was sounding
        loud = np.flatnonzero(self.samples()[start:until])
        assert len(loud), "nothing was sounding at that time"
        breaks = np.flatnonzero(np.diff(loud) > silence * RATE)
        return self.arrived(start + int(loud[breaks[0]] if len(breaks) else loud[-1]))

    def first_sound(self, after: float, threshold: float = 1e-4) -> float:
        """When the first sample louder than `threshold` recorded after time
        `after` arrived (a first voiced sample: speech starts quietly)."""
        start = self.frame_at(after)
        x = np.abs(self.samples()[start:]).reshape(-1, self.channels).max(axis=1)
        loud = np.flatnonzero(x > threshold)
        assert len(loud), "no sound after that time"
        return self.arrived(start + int(loud[0]))

    def _record(self, stream) -> None:
        frame_bytes = 4 * self.channels
        got = 0
        with open(self.path, "wb") as out:
            while block := stream.read1(1 << 16):
                out.write(block)
                out.flush()
                got += len(block)
                self.arrivals.append((got // frame_bytes, time.time()))


class PulseRig:
    def __init__(self, directory: Path):
        self.dir = directory
        run = directory / "run"
        run.mkdir(mode=0o700)
        (directory / "home").mkdir()
        socket = run / "pulse" / "native"
        client_conf = directory / "client.conf"
        client_conf.write_text("autospawn = no\n")
        alsa_conf = directory / "asound.conf"
        alsa_conf.write_text(
            "".join(_alsa_device(s, s, f"test sink {s}") for s in (*SINKS, REWINDING, WIDE))
            + _alsa_device("!default", None, "the server's default sink")
            + "ctl.!default { type pulse }\n"
        )
        self.env = {
            **os.environ,
            "XDG_RUNTIME_DIR": str(run),
            "PULSE_RUNTIME_PATH": str(run / "pulse"),
            "PULSE_SERVER": f"unix:{socket}",
            "PULSE_CLIENTCONFIG": str(client_conf),
            "PULSE_COOKIE": str(directory / "cookie"),
            "ALSA_CONFIG_PATH": f"{SYSTEM_ALSA_CONF}:{alsa_conf}",
        }
        # As if no server ran: nothing listens at PULSE_SERVER, nothing autospawns.
        self.env_without_server = {**self.env, "PULSE_SERVER": f"unix:{directory}/absent"}
        self.pid: int | None = None

    def start(self) -> None:
        sink = "module-null-sink sink_name={} rate={} format=float32le channels={} {}"
        modules = [
            "module-native-protocol-unix auth-anonymous=1",
            *(sink.format(s, RATE, 1, "norewinds=1") for s in SINKS),
            sink.format(REWINDING, RATE, 1, ""),
            sink.format(WIDE, WIDE_RATE, WIDE_CHANNELS, "norewinds=1"),
            # A default source of its own: else set-default-sink moves captures too.
            "module-null-source source_name=silence",
        ]
        args = ["pulseaudio", "-n", "--daemonize=yes", "--exit-idle-time=-1",
                "--use-pid-file=yes", f"--log-target=file:{self.dir / 'pulse.log'}"]
        for module in modules:
            args += ["-L", module]
        server_env = {**self.env, "HOME": str(self.dir / "home")}  # its state stays here
        result = subprocess.run(args, env=server_env, capture_output=True, text=True,
                                timeout=30)
        pid_file = Path(self.env["PULSE_RUNTIME_PATH"]) / "pid"
        if result.returncode or not pid_file.exists():
            log = (self.dir / "pulse.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"pulseaudio did not start ({result.returncode}): "
                        f"{result.stderr.strip()}\n{log}")
        self.pid = int(pid_file.read_text())
        self.pactl("set-default-source", "silence")
        self.set_default(SINKS[0])

    def stop(self) -> None:
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def pactl(self, *args: str) -> str:
        return subprocess.run(["pactl", *args], env=self.env, check=True, capture_output=True,
                              text=True, timeout=10).stdout

    def set_default(self, sink: str) -> None:
        self.pactl("set-default-sink", sink)

    @contextmanager
    def record(self, sink: str, latency_ms: int = RECORD_LATENCY_MS):
        """Record `sink`'s monitor for the duration of the block, by a client
        of `latency_ms`: the sink renders in steps that fit its clients."""
        rate, channels = (WIDE_RATE, WIDE_CHANNELS) if sink == WIDE else (RATE, 1)
        capture = Capture(self.dir / f"capture-{sink}-{time.monotonic_ns()}.f32", channels)
        capture.path.touch()
        recorder = subprocess.Popen(
            ["parec", "-d", f"{sink}.monitor", "--raw", "--format=float32le",
             f"--rate={rate}", f"--channels={channels}", f"--latency-msec={latency_ms}"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        reader = threading.Thread(target=capture._record, args=(recorder.stdout,), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 10
            while capture.path.stat().st_size == 0:  # recording has begun
                assert recorder.poll() is None, f"parec on {sink} exited {recorder.returncode}"
                assert time.monotonic() < deadline, f"parec on {sink} records nothing"
                time.sleep(0.01)
            yield capture
            time.sleep(SETTLE)
        finally:
            recorder.send_signal(signal.SIGINT)  # parec writes out what it has, then exits
            recorder.wait(timeout=10)
            reader.join(timeout=10)


def silences(audio: np.ndarray, shortest: float = 0.1, threshold: float = 1e-3
             ) -> list[float]:
    """The pauses a listener hears in `audio`, in seconds: each run of at least
    `shortest` seconds between two samples at or above `threshold` (-60 dBFS),
    from the onset of silence to the onset of the next sound."""
    loud = np.flatnonzero(np.abs(audio) >= threshold)
    runs = np.diff(loud) - 1
    return [int(n) / RATE for n in runs if n >= shortest * RATE]


def sound_end_frames(audio: np.ndarray, shortest: float = 0.1, threshold: float = 1e-3
                     ) -> list[int]:
    """The last frame at or above `threshold` of each sound in `audio` that is
    followed by at least `shortest` seconds of silence, or by the end."""
    loud = np.flatnonzero(np.abs(audio) >= threshold)
    if not len(loud):
        return []
    runs = np.flatnonzero(np.diff(loud) - 1 >= shortest * RATE)
    return [int(loud[i]) for i in runs] + [int(loud[-1])]


def locate(capture: np.ndarray, reference: np.ndarray) -> tuple[int, float]:
    """Where `reference` best matches in `capture`, and how well (correlation)."""
    size = 1 << (len(capture) + len(reference) - 1).bit_length()
    spectrum = np.fft.rfft(capture, size) * np.conj(np.fft.rfft(reference, size))
    corr = np.fft.irfft(spectrum, size)[: max(1, len(capture) - len(reference) + 1)]
    offset = int(np.argmax(corr))
    window = capture[offset : offset + len(reference)]
    if len(window) < len(reference):
        return offset, 0.0
    norms = np.linalg.norm(window) * np.linalg.norm(reference)
    return offset, float(np.dot(window, reference) / norms) if norms else 0.0


@pytest.fixture(scope="session")
def pulse(tmp_path_factory) -> PulseRig:
    """The running server; its default sink is "one" unless a test changes it."""
    missing = [t for t in ("pulseaudio", "pactl", "parec") if not shutil.which(t)]
    if not SYSTEM_ALSA_CONF.exists():
        missing.append(str(SYSTEM_ALSA_CONF))
    if not any(glob.glob(f"{d}/libasound_module_pcm_pulse.so") for d in ALSA_PLUGIN_DIRS):
        missing.append("ALSA's pulse plugin (libasound2-plugins)")
    if missing:
        pytest.fail(f"the PulseAudio test rig needs {', '.join(missing)}: "
                    "run `make install-test` (scripts/install-system-deps --test)")
    rig = PulseRig(tmp_path_factory.mktemp("pulse"))
    try:
        rig.start()
        yield rig
    finally:
        rig.stop()
