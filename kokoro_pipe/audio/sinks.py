"""Where kk-synth's audio goes: the framed stream, bare float32, WAV, or a compressed file."""

from __future__ import annotations

import contextlib
import struct
from typing import TYPE_CHECKING, BinaryIO, Protocol

from kokoro_pipe import captions
from kokoro_pipe.errors import EXIT_IO, KokoroPipeError
from kokoro_pipe.framing import Pcm, StartAfter, StreamWriter, WordMark, as_array, pcm_bytes

if TYPE_CHECKING:  # numpy is imported where samples are computed on, never to pass them on
    import numpy as np

WAV_UNKNOWN_SIZE = 0xFFFFFFFF  # what streaming WAV writers put where a size goes


class Sink(Protocol):
    def audio(self, samples: np.ndarray | Pcm) -> None: ...
    def words(self, marks: list[WordMark]) -> None: ...  # before the audio they start in
    def advise(self, advice: StartAfter) -> None: ...  # before an utterance's first audio
    def end(self, meta: dict) -> None: ...
    def close(self) -> None: ...


class _SamplesOnly:
    """A format that carries audio alone: words, advice and ends leave no trace."""

    def words(self, marks: list[WordMark]) -> None:
        pass

    def advise(self, advice: StartAfter) -> None:
        pass

    def end(self, meta: dict) -> None:
        pass


class FramedSink:
    """The kokoro-pipe stream (man kokoro-pipe.5): audio frames, word marks,
    end-of-utterance frames."""

    def __init__(self, f: BinaryIO, sample_rate: int):
        self._writer = StreamWriter(f, sample_rate)

    def audio(self, samples: np.ndarray | Pcm) -> None:
        self._writer.audio(samples)

    def words(self, marks: list[WordMark]) -> None:
        for mark in marks:
            self._writer.word(mark)

    def advise(self, advice: StartAfter) -> None:
        self._writer.start(advice)

    def end(self, meta: dict) -> None:
        self._writer.end(meta)

    def close(self) -> None:
        pass


class RawSink(_SamplesOnly):
    """Bare float32 little-endian samples, for sox/ffmpeg (-t f32 -r 24000 -c 1)."""

    def __init__(self, f: BinaryIO, sample_rate: int):
        self._f = f

    def audio(self, samples: np.ndarray | Pcm) -> None:
        self._f.write(pcm_bytes(samples))
        self._f.flush()

    def close(self) -> None:
        pass


class WavSink(_SamplesOnly):
    """16-bit PCM WAV. On a pipe the sizes stay at the streaming placeholder;
    on a seekable file they are written true when the stream closes."""

    def __init__(self, f: BinaryIO, sample_rate: int, channels: int = 1):
        self._f, self._rate, self._channels = f, sample_rate, channels
        self._bytes = 0
        self._start = f.tell() if f.seekable() else None
        f.write(self._header(WAV_UNKNOWN_SIZE))
        f.flush()

    def _header(self, data_size: int) -> bytes:
        block = 2 * self._channels
        riff_size = WAV_UNKNOWN_SIZE if data_size == WAV_UNKNOWN_SIZE else 36 + data_size
        return (
            b"RIFF" + struct.pack("<I", riff_size) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, self._channels, self._rate,
                                    self._rate * block, block, 16)
            + b"data" + struct.pack("<I", data_size)
        )

    def audio(self, samples: np.ndarray | Pcm) -> None:
        import numpy as np

        pcm = (np.clip(as_array(samples), -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()
        self._f.write(pcm)
        self._f.flush()
        self._bytes += len(pcm)

    def close(self) -> None:
        if self._start is not None:
            self._f.seek(self._start)
            self._f.write(self._header(min(self._bytes, WAV_UNKNOWN_SIZE - 36)))
            self._f.seek(0, 2)


# Written through libsndfile: (major format, subtype). Opus takes 24 kHz as it is
# (one of its native input rates, with 8, 12, 16 and 48 kHz), so nothing is resampled.
SOUNDFILE_FORMATS = {
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}


class SoundFileSink(_SamplesOnly):
    """FLAC, Ogg Vorbis, Opus or MP3, encoded block by block as the audio arrives,
    so a book never sits whole in memory. libsndfile seeks to finish these files:
    `target` is a path or the descriptor of a regular file, never a pipe."""

    def __init__(self, target: str | int, sample_rate: int, fmt: str, channels: int = 1):
        import soundfile  # here: a kk-synth writing a stream never loads libsndfile

        major, subtype = SOUNDFILE_FORMATS[fmt]
        try:
            self._file = soundfile.SoundFile(target, "w", sample_rate, channels, subtype,
                                             format=major, closefd=not isinstance(target, int))
        except soundfile.LibsndfileError as e:  # reported as any file that cannot be opened
            raise OSError(str(e)) from None

    def audio(self, samples: np.ndarray | Pcm) -> None:
        import numpy as np

        # As in WavSink: full scale at most, whether the codec stores floats or not.
        with self._io_errors():
            self._file.write(np.clip(as_array(samples), -1.0, 1.0))

    def close(self) -> None:
        with self._io_errors():
            self._file.close()

    @contextlib.contextmanager
    def _io_errors(self):
        import soundfile

        try:
            yield
        except soundfile.LibsndfileError as e:  # a full disk, a file gone read-only
            raise KokoroPipeError(f"writing {self._file.name} failed: {e}", EXIT_IO) from None


class CaptionedSink:
    """Another sink, and the words' times written as captions beside it."""

    def __init__(self, inner: Sink, writer: captions.CaptionWriter, sample_rate: int):
        self._inner, self._writer, self._rate = inner, writer, sample_rate
        self._samples = self._utterance_start = 0

    def audio(self, samples: np.ndarray | Pcm) -> None:
        self._inner.audio(samples)
        self._samples += len(samples)

    def advise(self, advice: StartAfter) -> None:
        self._inner.advise(advice)

    def words(self, marks: list[WordMark]) -> None:
        self._inner.words(marks)
        at = self._utterance_start
        for m in marks:
            self._writer.word(captions.Word(m.text, (at + m.start) / self._rate,
                                            (at + m.end) / self._rate, m.utterance,
                                            m.sentence_end))

    def end(self, meta: dict) -> None:
        self._inner.end(meta)
        self._utterance_start = self._samples

    def close(self) -> None:
        self._writer.close()
        self._inner.close()
