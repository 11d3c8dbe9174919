"""kk-play's input as one event sequence (Header, Audio..., End) for the player.

The input is a kokoro-pipe stream (man 5 kokoro-pipe), a sound file that
libsndfile reads (WAV, FLAC, ...), told apart by the stream's magic, or with
--raw bare float32 little-endian samples. Every kind may come from a pipe and
is read as it arrives.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from kokoro_pipe.audio import riff
from kokoro_pipe.errors import InputError, NoInputError
from kokoro_pipe.framing import (
    MAGIC,
    Audio,
    End,
    Event,
    Header,
    TruncatedStreamError,
    read_stream,
    read_upto,
)

BLOCK = 0.05  # seconds of WAV or raw input per Audio event
READ_AHEAD = 32  # events queued ahead of the player


@dataclass(frozen=True)
class RawFormat:
    rate: int
    channels: int


class TimedReader:
    """A binary reader that notes when its first byte arrived."""

    def __init__(self, f: BinaryIO):
        self._f = f
        self.first_byte_at: float | None = None

    def read(self, n: int = -1) -> bytes:
        return self._timed(self._f.read(n))

    def read1(self, n: int = -1) -> bytes:
        """What one read of the file gives: a pipe's bytes as they come (the
        file is unbuffered: each read is one read(2))."""
        return self._timed(self._f.read(n))

    def _timed(self, data: bytes) -> bytes:
        if data and self.first_byte_at is None:
            self.first_byte_at = time.monotonic()
        return data


class _Prefixed:
    """Bytes already read (the sniffed magic), then the rest of a reader."""

    def __init__(self, head: bytes, f):
        self._head, self._f = head, f

    def read(self, n: int = -1) -> bytes:
        if not self._head:
            return self._f.read(n)
        if n < 0:
            data, self._head = self._head + self._f.read(), b""
            return data
        data, self._head = self._head[:n], self._head[n:]
        return data

    def read1(self, n: int = -1) -> bytes:
        return self.read(n) if self._head else self._f.read1(n)


def open_source(path: str | None) -> TimedReader:
    """The named file, or standard input for None or '-'.

    Unbuffered: the input is read on a daemon thread (ReadAhead), which may
    still be blocked in a read when kk-play exits (a device failed while a
    pipe stays open). Blocked in a buffered reader, it holds that reader's
    lock, and the interpreter aborts at exit trying to take it
    ("_enter_buffered_busy"); blocked in a bare read(2), it holds nothing."""
    if path is None or path == "-":
        if sys.stdin is None:  # descriptor 0 was closed when Python started
            raise NoInputError("cannot read standard input: it is closed")
        return TimedReader(open(sys.stdin.fileno(), "rb", buffering=0, closefd=False))
    try:
        return TimedReader(open(path, "rb", buffering=0))
    except OSError as e:
        raise NoInputError(f"cannot read {path}: {e.strerror}") from None


def input_events(source: TimedReader, raw: RawFormat | None = None, words: bool = False
                 ) -> Iterator[Event]:
    """The events of `source` (with a framed stream's word marks when `words`).
    Raises StreamFormatError (TruncatedStreamError for a cut-off input) or
    InputError after yielding everything whole."""
    if raw is not None:
        yield from raw_events(source, raw)
        return
    head = read_upto(source, len(MAGIC))
    if not head:
        return  # empty input: an empty stream
    if head == MAGIC:
        yield from read_stream(_Prefixed(head, source), words=words)
    else:
        yield from sound_file_events(_Prefixed(head, source))


def raw_events(f, raw: RawFormat) -> Iterator[Event]:
    frame_bytes = 4 * raw.channels
    block = max(1, round(BLOCK * raw.rate)) * frame_bytes
    yield Header(raw.rate, raw.channels)
    while True:
        data = read_upto(f, block)
        whole = len(data) - len(data) % frame_bytes
        if whole:
            yield Audio(np.frombuffer(data[:whole], "<f4").reshape(-1, raw.channels))
        if len(data) < block:
            if whole < len(data):
                raise TruncatedStreamError(
                    f"raw input ends inside a sample frame ({len(data) - whole} stray bytes)"
                )
            yield End()
            return


def sound_file_events(f) -> Iterator[Event]:
    """A sound file through libsndfile. It is fed through a pipe, which
    libsndfile reads as it comes, the sniffed magic first. A WAV whose audio
    ends inside a sample frame raises TruncatedStreamError after the rest."""
    import soundfile

    read_end, write_end = os.pipe()
    fed = _Tally()
    threading.Thread(target=_pump, args=(f, write_end, fed), name="input-pump",
                     daemon=True).start()
    try:
        try:
            sound = soundfile.SoundFile(read_end, closefd=False)
        except RuntimeError as e:  # libsndfile: "Format not recognised" and the like
            reason = getattr(e, "error_string", str(e)).rstrip(".")
            raise InputError(
                f"input is neither a kokoro-pipe stream nor a sound file ({reason})"
            ) from None
        with sound:
            yield Header(sound.samplerate, sound.channels)
            block = max(1, round(BLOCK * sound.samplerate))
            while len(samples := sound.read(block, dtype="float32", always_2d=True)):
                yield Audio(samples)
    finally:
        os.close(read_end)
    # The pump counts bytes before it writes them: all libsndfile read is counted.
    if stray := riff.stray_bytes(fed.head, fed.total):
        raise TruncatedStreamError(f"WAV ends inside a sample frame ({stray} stray bytes)")
    yield End()


@dataclass
class _Tally:
    """What the pump fed libsndfile: its first bytes, and how many in all."""

    head: bytes = b""
    total: int = 0


def _pump(f, fd: int, fed: _Tally) -> None:
    try:
        while data := f.read1(1 << 16):
            if len(fed.head) < riff.HEAD:
                fed.head += data[: riff.HEAD - len(fed.head)]
            fed.total += len(data)
            os.write(fd, data)
    except OSError:
        pass  # the reader closed its end (a bad file): nothing left to do
    finally:
        os.close(fd)


class ReadAhead:
    """Reads events on a thread so the player can ask whether more input is
    already waiting (`ready()`), and keep the device busy meanwhile."""

    _DONE = object()

    def __init__(self, events: Iterator[Event], size: int = READ_AHEAD):
        self._queue: queue.Queue = queue.Queue(size)
        threading.Thread(target=self._read, args=(events,), name="read-ahead",
                         daemon=True).start()

    def _read(self, events: Iterator[Event]) -> None:
        try:
            for event in events:
                self._queue.put(event)
        except Exception as e:  # noqa: BLE001 - handed to the reading thread, in order
            self._queue.put(_Failure(e))
        self._queue.put(self._DONE)

    def ready(self) -> bool:
        return not self._queue.empty()

    def __iter__(self) -> Iterator[Event]:
        while (item := self._queue.get()) is not self._DONE:
            if isinstance(item, _Failure):
                raise item.error
            yield item


@dataclass(frozen=True)
class _Failure:
    error: Exception
