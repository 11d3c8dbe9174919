"""The kokoro-pipe stream: self-describing, length-prefixed float32 PCM.

Specified in man/kokoro-pipe.5; this module is its only implementation.

    header  16 bytes: magic b"KKPS", version u8, flags u8 (0), channels u16 LE,
            sample rate u32 LE, reserved u32 (0)
    frame   length u32 LE (counts the kind byte and the payload, 1..MAX_FRAME_LENGTH),
            kind u8, payload

A header may appear again at any frame boundary, so `cat a.kkp b.kkp` reads as
one stream. The magic read as a length exceeds MAX_FRAME_LENGTH, which is how
a reader tells the two apart.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from kokoro_pipe import jsonlimits

if TYPE_CHECKING:
    import numpy as np

MAGIC = b"KKPS"
VERSION = 1
HEADER = struct.Struct("<4sBBHII")
LENGTH = struct.Struct("<I")
MAX_FRAME_LENGTH = 1 << 20  # readers refuse longer frames: no unbounded allocation
MAX_RATE = 384_000
MAX_CHANNELS = 64

KIND_AUDIO = 0x01
KIND_END = 0x02
# Kinds 0x80..0xFF are ancillary: readers skip the ones they do not know.
# Unknown kinds below 0x80 change the meaning of the stream and are errors.
ANCILLARY = 0x80
KIND_WORD = 0x90  # a word mark: where a word is heard in its utterance
KIND_START = 0x91  # start advice: how much of the utterance to buffer before playing it
START = struct.Struct("<I")

assert LENGTH.unpack(MAGIC)[0] > MAX_FRAME_LENGTH


class StreamFormatError(ValueError):
    """The bytes are not a valid kokoro-pipe stream."""


class TruncatedStreamError(StreamFormatError):
    """The stream ended inside a header or a frame."""


@dataclass(frozen=True)
class Header:
    sample_rate: int
    channels: int = 1
    version: int = VERSION


@dataclass(frozen=True)
class Pcm:
    """Samples as the stream carries them (float32 little-endian bytes), passed
    on as they came: kk-synth forwarding a daemon's audio neither imports numpy
    nor decodes and encodes each frame (read_stream's `pcm`)."""

    data: bytes
    channels: int = 1

    def __len__(self) -> int:  # frames, as len() of an array of them
        return len(self.data) // (4 * self.channels)

    def array(self) -> np.ndarray:
        import numpy as np

        return np.frombuffer(self.data, dtype="<f4").reshape(-1, self.channels)


def as_array(samples: np.ndarray | Pcm) -> np.ndarray:
    return samples.array() if isinstance(samples, Pcm) else samples


def pcm_bytes(samples: np.ndarray | Pcm) -> bytes:
    """float32 little-endian bytes of `samples`."""
    if isinstance(samples, Pcm):
        return samples.data
    import numpy as np

    return np.ascontiguousarray(samples, dtype="<f4").tobytes()


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray | Pcm  # float32, shape (frames, channels); Pcm: read_stream's `pcm`


@dataclass(frozen=True)
class End:
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Ancillary:
    kind: int  # 0x80..0xFF
    payload: bytes


@dataclass(frozen=True)
class WordMark:
    """A word heard in an utterance: sample frames counted from the
    utterance's first one (the first audio after the header or the last End),
    and what the user wrote for it: its text and span in the input line
    (character offsets; None when unknown, as for bare phoneme input)."""

    utterance: int
    start: int
    end: int
    text: str
    span: tuple[int, int] | None = None
    sentence_end: bool = False  # a sentence ends after it (not after "Dr." spoken "doctor")


@dataclass(frozen=True)
class StartAfter:
    """Advice for a live player, before an utterance's first audio: buffer this
    many sample frames of it before starting it (the writer measured that less
    may run dry: voice/planner.py). Fewer come only if the utterance ends first."""

    frames: int


Event = Header | Audio | End | Ancillary | WordMark | StartAfter


# -- writing -----------------------------------------------------------------


def encode_header(sample_rate: int, channels: int = 1) -> bytes:
    _check_format(sample_rate, channels)
    return HEADER.pack(MAGIC, VERSION, 0, channels, sample_rate, 0)


def encode_audio(samples: np.ndarray | Pcm, channels: int = 1) -> bytes:
    """Audio frames for `samples`, split so that no frame exceeds the limit."""
    data = pcm_bytes(samples)
    if len(data) % (4 * channels):
        raise ValueError("sample count is not a multiple of the channel count")
    step = (MAX_FRAME_LENGTH - 1) // (4 * channels) * (4 * channels)
    return b"".join(
        _frame(KIND_AUDIO, data[i : i + step]) for i in range(0, len(data), step)
    )


def encode_ancillary(kind: int, payload: bytes) -> bytes:
    if not ANCILLARY <= kind <= 0xFF or len(payload) >= MAX_FRAME_LENGTH:
        raise ValueError("not an ancillary frame kind, or too large a payload")
    return _frame(kind, payload)


def encode_word(mark: WordMark) -> bytes:
    record = {"utterance": mark.utterance, "start": mark.start, "end": mark.end,
              "text": mark.text, "span": list(mark.span) if mark.span else None}
    if mark.sentence_end:  # only then: the key is optional, older readers ignore it
        record["sentence_end"] = True
    return encode_ancillary(KIND_WORD, json.dumps(record, ensure_ascii=False,
                                                  separators=(",", ":")).encode())


def encode_start(advice: StartAfter) -> bytes:
    return encode_ancillary(KIND_START, START.pack(advice.frames))


def encode_end(meta: dict | None = None) -> bytes:
    payload = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode() if meta else b""
    if len(payload) >= MAX_FRAME_LENGTH:
        raise ValueError("end-of-utterance metadata too large")
    return _frame(KIND_END, payload)


def _frame(kind: int, payload: bytes) -> bytes:
    return LENGTH.pack(len(payload) + 1) + bytes([kind]) + payload


def _check_format(sample_rate: int, channels: int) -> None:
    if not 1 <= sample_rate <= MAX_RATE:
        raise StreamFormatError(f"sample rate {sample_rate} out of range 1..{MAX_RATE}")
    if not 1 <= channels <= MAX_CHANNELS:
        raise StreamFormatError(f"channel count {channels} out of range 1..{MAX_CHANNELS}")


# -- reading -----------------------------------------------------------------


def read_stream(f: BinaryIO, ancillary: bool = False, words: bool = False,
                pcm: bool = False) -> Iterator[Event]:
    """Yield the events of a stream, raising StreamFormatError on bad input.

    Everything whole before a fault is yielded first. Empty input yields nothing.
    Audio carries numpy arrays, or Pcm bytes when `pcm`. Word marks are yielded
    as WordMark when `words`, start advice always as StartAfter; other
    ancillary frames are skipped, or yielded as Ancillary when `ancillary`.
    """
    header: Header | None = None
    offset = 0
    while True:
        lead = _read_exact(f, 4, offset, at_boundary=True)
        if lead is None:
            return
        if lead == MAGIC:
            header = _parse_header(lead + _read_exact(f, HEADER.size - 4, offset + 4), offset)
            offset += HEADER.size
            yield header
            continue
        if header is None:
            raise StreamFormatError("not a kokoro-pipe stream (no KKPS header at the start)")
        (length,) = LENGTH.unpack(lead)
        if not 1 <= length <= MAX_FRAME_LENGTH:
            raise StreamFormatError(
                f"frame length {length} at byte {offset} outside 1..{MAX_FRAME_LENGTH}"
            )
        body = _read_exact(f, length, offset + 4)
        kind, payload = body[0], body[1:]
        if kind == KIND_AUDIO:
            yield Audio(_parse_audio(payload, header.channels, offset, pcm))
        elif kind == KIND_END:
            yield End(_parse_meta(payload, offset))
        elif kind < ANCILLARY:
            raise StreamFormatError(f"unknown frame kind 0x{kind:02x} at byte {offset}")
        elif kind == KIND_WORD and words:
            yield _parse_word(payload, offset)
        elif kind == KIND_START:
            if len(payload) != START.size:
                raise StreamFormatError(f"start frame at byte {offset} is not 4 bytes")
            yield StartAfter(*START.unpack(payload))
        elif ancillary:
            yield Ancillary(kind, payload)
        offset += 4 + length


def read_upto(f: BinaryIO, n: int) -> bytes:
    """n bytes from f, fewer only where the input ends (a pipe gives what it has)."""
    chunks, got = [], 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _read_exact(f: BinaryIO, n: int, offset: int, at_boundary: bool = False) -> bytes | None:
    data = read_upto(f, n)
    if len(data) == n:
        return data
    if not data and at_boundary:
        return None
    raise TruncatedStreamError(f"stream truncated at byte {offset + len(data)}")


def _parse_header(data: bytes, offset: int) -> Header:
    _, version, flags, channels, rate, _ = HEADER.unpack(data)
    if version != VERSION:
        raise StreamFormatError(f"unsupported stream version {version} at byte {offset}")
    if flags:
        raise StreamFormatError(f"unknown header flags 0x{flags:02x} at byte {offset}")
    _check_format(rate, channels)
    return Header(sample_rate=rate, channels=channels, version=version)


def _parse_audio(payload: bytes, channels: int, offset: int, pcm: bool) -> np.ndarray | Pcm:
    if len(payload) % (4 * channels):
        raise StreamFormatError(
            f"audio frame at byte {offset} is not whole {channels}-channel float32 samples"
        )
    return Pcm(payload, channels) if pcm else Pcm(payload, channels).array()


def _parse_meta(payload: bytes, offset: int) -> dict:
    if not payload:
        return {}
    try:
        meta = jsonlimits.loads(payload)
    except jsonlimits.JsonError as e:
        raise StreamFormatError(f"end frame at byte {offset} carries invalid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise StreamFormatError(f"end frame at byte {offset} metadata is not a JSON object")
    return meta


def _parse_word(payload: bytes, offset: int) -> WordMark:
    try:
        r = jsonlimits.loads(payload)
        span = r["span"]
        mark = WordMark(r["utterance"], r["start"], r["end"], r["text"],
                        None if span is None else (span[0], span[1]),
                        r.get("sentence_end", False))
        ints = [mark.utterance, mark.start, mark.end, *(mark.span or ())]
        if not (all(type(i) is int for i in ints) and isinstance(mark.text, str)
                and 0 <= mark.start <= mark.end and type(mark.sentence_end) is bool):
            raise ValueError
    except (ValueError, KeyError, TypeError, IndexError):  # JsonError is a ValueError
        raise StreamFormatError(f"word frame at byte {offset} is not a valid word mark") from None
    return mark


class StreamWriter:
    """Writes a stream to a binary file, header first, flushing each call."""

    def __init__(self, f: BinaryIO, sample_rate: int, channels: int = 1):
        self._f, self.channels = f, channels
        f.write(encode_header(sample_rate, channels))
        f.flush()

    def audio(self, samples: np.ndarray | Pcm) -> None:
        if len(samples):
            self._f.write(encode_audio(samples, self.channels))
            self._f.flush()

    def end(self, meta: dict | None = None) -> None:
        self._f.write(encode_end(meta))
        self._f.flush()

    def start(self, advice: StartAfter) -> None:
        """Written before the utterance's first audio; flushed with that audio."""
        self._f.write(encode_start(advice))

    def word(self, mark: WordMark) -> None:
        """Written before the audio it describes; flushed with that audio."""
        self._f.write(encode_word(mark))
