"""A write-based audio player: it plays what it is given, intact, without clicks.

One thread drives it (kk-play's main thread, or kk-speakd's audio thread):

    player.open(rate, channels)   # the format of what follows; opens the device
    player.write(samples)         # blocks while the device is busy; -> underruns
    player.advise(frames)         # buffer this much of the next utterance before it plays
    player.finish()               # the utterance ended; the stream stays open
    player.pause(seconds)         # finish, then that much silence on the running device
    player.keep_alive(ready)      # silence until ready() or idle_close, then drain
    player.drain()                # finish, wait until all is heard, close the device
    player.abort()                # stop now, dropping what is queued
    player.play_events(events)    # all of the above from a framed event stream

Every sample written reaches the device: silence goes first after each start
(a fresh PulseAudio stream can lose its first milliseconds) and last before
closing (a last short write can stay in the client), and drain() waits until
the device has taken everything written (Output.drain) before closing. The
device starts once `prebuffer` seconds are queued or the utterance ends, so a
slow producer does not underrun at once; an utterance whose writer advised
more (kk-synth's start frame, planned from its measured speed) waits for that
much of it, on a running stream with silence flowing meanwhile. Utterance
starts and ends, and every switch to a new stream, get a short fade, so
nothing clicks. Between blocks the player checks
the system default output and, when it changed, moves to it: the old stream
fades out and drains, the new one fades in, and no sample is lost or repeated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from kokoro_pipe.audio.devices import DefaultOutputWatch
from kokoro_pipe.framing import Audio, End, Event, Header, StartAfter, WordMark

BLOCK = 0.025  # seconds per write: a signal (SIGINT) is handled within one block
PREROLL = 0.05  # seconds of silence after each start and before each close
FADE = 0.002  # seconds of fade at utterance ends and at a switch of device
PREBUFFER = 0.2  # seconds of audio queued before the device starts
IDLE_CLOSE = 1.0  # seconds of silence kept flowing between utterances before closing


class Output(Protocol):
    """An opened device stream (devices.PortAudioOutput, or a fake in tests)."""

    name: str
    latency: float

    def start(self) -> None: ...
    def write(self, block: np.ndarray) -> bool: ...  # True: the device ran dry before it
    def buffered(self) -> int: ...  # frames written and not yet played
    def drain(self) -> None: ...
    def abort(self) -> None: ...
    def close(self) -> None: ...


Opener = Callable[[int, int], Output]  # (rate, channels) -> an opened, unstarted Output


@dataclass
class PlayStats:
    samples: int = 0  # frames of the input written to a device (pre-roll not counted)
    underruns: int = 0
    first_write: float | None = None  # monotonic time of the first audio write
    devices: list[str] = field(default_factory=list)
    opens: int = 0
    reopens: int = 0  # a playing stream replaced: new default output, or new format
    # Seconds of silence heard inside utterances because their audio came late:
    # the device buffer ran out while the next audio was awaited.
    added_silence: float = 0.0


def fade_in(n: int) -> np.ndarray:
    """Raised-cosine gains rising over n frames, never exactly 0 or 1."""
    return (0.5 - 0.5 * np.cos(np.pi * np.arange(1, n + 1) / (n + 1))).astype(np.float32)


def fade_out(n: int) -> np.ndarray:
    return fade_in(n)[::-1]


class Player:
    def __init__(
        self,
        opener: Opener,
        watch: DefaultOutputWatch | None = None,
        *,
        prebuffer: float = PREBUFFER,
        advice: bool = True,
        block: float = BLOCK,
        preroll: float = PREROLL,
        fade: float = FADE,
        idle_close: float = IDLE_CLOSE,
        clock: Callable[[], float] = time.monotonic,
    ):
        """`watch` given: follow the system default output (only sensible when
        the opener opens the default device)."""
        self._opener, self.watch, self._clock = opener, watch, clock
        self._prebuffer, self._block, self._preroll = prebuffer, block, preroll
        self._advice = advice  # False: the prebuffer alone decides the start (--ignore-advice)
        self._fade, self._idle_close = fade, idle_close
        self.stats = PlayStats()
        self._format: tuple[int, int] | None = None
        self._out: Output | None = None
        self._started = False
        self._default_at_open: str | None = None
        self._device_name: str | None = None
        self._pending: list[np.ndarray] = []  # audio held until the device or utterance starts
        self._hold = 0  # frames of the coming utterance to hold before it plays (advise)
        self._tail = np.zeros((0, 1), np.float32)  # the last frames, held for the end fade
        self._in_utterance = False
        self._faded_in = 0  # frames of the fade-in already applied
        self.on_word: Callable[[WordMark], None] | None = None  # told as each word is heard
        self._words: list[tuple[int, WordMark]] = []  # (audio frame it starts at, mark)

    # -- the API ---------------------------------------------------------------

    def open(self, rate: int, channels: int) -> None:
        """Set the format of what follows and open the device for it. The same
        format again changes nothing; a new one drains and reopens."""
        if self._format == (rate, channels):
            if self._out is None:
                self._open_device()
            return
        if self._format is not None:
            self.stats.reopens += self._out is not None
            self.drain()
        self._format = (rate, channels)
        self._open_device()

    @property
    def is_open(self) -> bool:
        return self._out is not None

    @property
    def device(self) -> str | None:
        """The open device's name, with the default output it stands for."""
        return self._device_name if self._out is not None else None

    def write(self, samples: np.ndarray) -> int:
        """Play float32 samples of shape (frames, channels); blocks while the
        device has no room. NaN becomes 0 and the range is clipped to [-1, 1].
        Returns how many underruns the device reported meanwhile."""
        if self._format is None:
            raise RuntimeError("Player.write before Player.open")
        underruns = self.stats.underruns
        x = np.clip(np.nan_to_num(np.asarray(samples, np.float32), posinf=1, neginf=-1), -1, 1)
        x = x.reshape(-1, self._format[1])
        if not self._in_utterance:
            self._in_utterance, self._faded_in = True, 0
        held = np.concatenate([self._tail, x]) if len(self._tail) else x
        keep = min(len(held), self._frames(self._fade))
        self._tail = held[len(held) - keep:]
        self._emit(held[: len(held) - keep])
        return self.stats.underruns - underruns

    def advise(self, frames: int) -> None:
        """Hold the coming utterance until `frames` of it are here (or it ends),
        the prebuffer still the least: its writer knows it may run dry otherwise."""
        self._hold = frames

    def finish(self) -> None:
        """End the utterance: fade its end out and let the device start if it
        was waiting for the prebuffer. The stream stays open."""
        if self._in_utterance:
            tail, self._tail = self._tail, self._tail[:0]
            self._emit(tail * fade_out(len(tail))[:, None])
            self._in_utterance = False
        self._release()

    def pause(self, seconds: float) -> int:
        """Finish the utterance and queue `seconds` of silence after it, so the
        next one follows on the same running stream at a known distance.
        Returns the frames of silence queued (none before the device starts)."""
        self.finish()
        if not self._started or seconds <= 0:
            return 0
        silence = self._silence(seconds)
        self._write(silence)
        return len(silence)

    def drain(self) -> None:
        """Finish, wait until everything written has been heard, close the device."""
        if self._format is not None:
            self.finish()
        if self._out is not None:
            self._retire()

    def abort(self) -> None:
        """Stop at once: what is queued is dropped (no fade is possible for audio
        the device already holds)."""
        self._pending.clear()
        self._hold = 0
        self._tail = self._tail[:0]
        self._in_utterance = False
        if self._out is not None:
            self._out.abort()
            self._close_device()

    def close(self) -> None:
        self.drain()

    def keep_alive(self, input_ready: Callable[[], bool]) -> None:
        """Between utterances: feed silence until `input_ready()` or for
        idle_close seconds, then drain, so the device is released when idle
        and the next utterance refreshes the device list."""
        idle = 0.0
        while self._started and not input_ready():
            if idle >= self._idle_close:
                self.drain()
                return
            self._write(self._silence(self._block))
            idle += self._block

    def play_events(
        self, events: Iterable[Event], input_ready: Callable[[], bool] | None = None
    ) -> None:
        """Play a framed event stream to its end, then drain. A fault in the
        input (raised by `events`) is raised after what came before it played;
        an interruption (KeyboardInterrupt, SystemExit) aborts at once. Word
        marks go to `on_word` when their first sample is heard."""
        try:
            utterance_start = self.stats.samples + len(self._tail)
            stream = iter(events)
            while True:
                awaited, buffered = self._clock(), self._queued()
                try:
                    event = next(stream)
                except StopIteration:
                    break
                except Exception:
                    self.drain()
                    raise
                if self._in_utterance and self._started and not self._pending:
                    self.stats.added_silence += max(0.0, self._clock() - awaited - buffered)
                if isinstance(event, Header):
                    self.open(event.sample_rate, event.channels)
                elif isinstance(event, Audio):
                    self.write(event.samples)
                    if self._pending and self._started and input_ready is not None:
                        self._wait_for(input_ready)
                elif isinstance(event, StartAfter) and self._advice:
                    self.advise(event.frames)
                elif isinstance(event, WordMark):
                    self._words.append((utterance_start + event.start, event))
                elif isinstance(event, End):
                    self.finish()
                    utterance_start = self.stats.samples
                    if input_ready is not None:
                        self.keep_alive(input_ready)
            self._words_until_heard()
            self.drain()
        except BaseException:
            self.abort()
            raise

    # -- inside ----------------------------------------------------------------

    def _frames(self, seconds: float) -> int:
        return max(1, round(seconds * self._format[0]))

    def _emit(self, chunk: np.ndarray) -> None:
        """Audio in its final order, ready for the device once it runs."""
        if not len(chunk):
            return
        if self._out is None:
            self._open_device()
        if self._started and not self._pending and not self._hold:
            self._send(chunk)
            return
        self._pending.append(chunk)
        floor = 0 if self._started else self._frames(self._prebuffer)
        if sum(map(len, self._pending)) >= max(floor, self._hold):
            self._release()

    def _release(self) -> None:
        """Play what was held: start the device, or (running) go on with it."""
        self._hold = 0
        if not self._pending:
            return
        if not self._started:
            self._start()
            return
        pending, self._pending = self._pending, []
        self._send(np.concatenate(pending))

    def _wait_for(self, input_ready: Callable[[], bool]) -> None:
        """An utterance held on a running stream: silence flows until more input."""
        while self._pending and self._out is not None and not input_ready():
            self._write(self._silence(self._block))

    def _queued(self) -> float:
        """Seconds of audio the device holds, not yet heard."""
        if self._out is None or self._format is None:
            return 0.0
        return self._out.buffered() / self._format[0]

    def _start(self) -> None:
        if self._out is not None and self._default_moved():  # moved before a sound
            self._close_device()
        if self._out is None:
            self._open_device()
        self._out.start()
        self._started = True
        self._write(self._silence(self._preroll))
        pending, self._pending = self._pending, []
        if pending:
            self._send(np.concatenate(pending))

    def _send(self, chunk: np.ndarray) -> None:
        step = self._frames(self._block)
        for i in range(0, len(chunk), step):
            block = chunk[i : i + step]
            if self._default_moved():
                block = self._move_to_new_default(block)
            self._write(self._fade_in(block), audio=True)

    def _fade_in(self, block: np.ndarray) -> np.ndarray:
        n = self._frames(self._fade)
        if self._faded_in >= n or not len(block):
            return block
        k = min(len(block), n - self._faded_in)
        gains = fade_in(n)[self._faded_in : self._faded_in + k]
        self._faded_in += k
        block = block.copy()
        block[:k] *= gains[:, None]
        return block

    def _write(self, frames: np.ndarray, audio: bool = False) -> None:
        step = self._frames(self._block)
        for i in range(0, len(frames), step):
            block = frames[i : i + step]
            underran = self._out.write(block)
            if audio:
                self.stats.samples += len(block)
                self.stats.underruns += underran
                if self.stats.first_write is None:
                    self.stats.first_write = self._clock()
            self._tell_words()

    def _heard(self) -> int:
        """Audio frames heard so far: written, less what the device still holds."""
        return self.stats.samples - (self._out.buffered() if self._out is not None else 0)

    def _tell_words(self) -> None:
        if self.on_word is None or not self._words or not self._started:
            return
        heard = self._heard()
        while self._words and self._words[0][0] <= heard:
            self.on_word(self._words.pop(0)[1])

    def _words_until_heard(self) -> None:
        """At the end: tell the words still in the device buffer as it plays them."""
        self.finish()
        while self.on_word is not None and self._words and self._out is not None:
            self._tell_words()
            if self._words:
                ahead = self._words[0][0] - self._heard()
                time.sleep(min(max(ahead, 1) / self._format[0], BLOCK))
        self._words.clear()

    def _default_moved(self) -> bool:
        if self.watch is None:
            return False
        now = self.watch.current()
        return now is not None and now != self._default_at_open

    def _move_to_new_default(self, block: np.ndarray) -> np.ndarray:
        """Fade out on the old stream over the block's first frames, drain it,
        and fade in the rest on a stream opened on the new default."""
        n = min(len(block), self._frames(self._fade))
        self._write(self._fade_in(block[:n]) * fade_out(n)[:, None], audio=True)
        self._retire()
        self.stats.reopens += 1
        self._open_device()
        self._start()
        self._faded_in = 0
        return block[n:]

    def _open_device(self) -> None:
        self._out = self._opener(*self._format)
        self._started = False
        self.stats.opens += 1
        name = self._out.name
        if self.watch is not None:
            self._default_at_open = self.watch.current()
            if self._default_at_open is not None:
                name = f"{name} ({self._default_at_open})"
        self._device_name = name
        if not self.stats.devices or self.stats.devices[-1] != name:
            self.stats.devices.append(name)

    def _retire(self) -> None:
        """Play out and close the device. Silence goes last: on PulseAudio a
        last write of a few ms can stay in the client and never be played."""
        if self._started:
            self._write(self._silence(self._preroll))
            self._out.drain()
        self._close_device()

    def _silence(self, seconds: float) -> np.ndarray:
        return np.zeros((self._frames(seconds), self._format[1]), np.float32)

    def _close_device(self) -> None:
        out, self._out, self._started = self._out, None, False
        out.close()
