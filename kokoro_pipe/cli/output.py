"""kk-synth's output: its format (an option, else the file's extension) and its sink.

Every write to it, from opening to closing, fails the same way: an OSError (a
full disk, a file gone read-only) is one line and exit 74 (write_errors).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from kokoro_pipe import captions
from kokoro_pipe.audio.sinks import (
    SOUNDFILE_FORMATS,
    CaptionedSink,
    FramedSink,
    RawSink,
    SoundFileSink,
    WavSink,
)
from kokoro_pipe.errors import EXIT_IO, KokoroPipeError, UsageError

FORMATS = ("kkp", "wav", "raw", *SOUNDFILE_FORMATS)
EXTENSIONS = {".kkp": "kkp", ".wav": "wav", ".raw": "raw", ".f32": "raw", ".flac": "flac",
              ".ogg": "ogg", ".oga": "ogg", ".opus": "opus", ".mp3": "mp3"}


def choose_format(fmt: str | None, wav: bool, raw: bool, output: str | None) -> str:
    """--format, --wav or --raw; else what -o's extension says; else the framed stream."""
    if wav and raw:
        raise UsageError("--wav and --raw exclude each other")
    flag = "wav" if wav else "raw" if raw else None
    if fmt and flag and fmt != flag:
        raise UsageError(f"--format {fmt} and --{flag} exclude each other")
    if fmt or flag:
        return (fmt or flag).lower()
    suffix = Path(output).suffix.lower() if output else ""
    if not suffix:
        return "kkp"
    if suffix not in EXTENSIONS:
        raise UsageError(f"no audio format has the extension {suffix!r}; supported: "
                         f"{', '.join(EXTENSIONS)} (or give --format {'|'.join(FORMATS)})")
    return EXTENSIONS[suffix]


@contextlib.contextmanager
def write_errors(name: str):
    """Writing `name` failed: one line, exit 74. A reader that went away (a
    broken pipe) is no error and stays a BrokenPipeError, which ends quietly."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise KokoroPipeError(f"cannot write {name}: {reason}", EXIT_IO) from None


class ReportedSink:
    """A sink whose every write and close goes through write_errors."""

    def __init__(self, inner, name: str):
        self._inner, self._name = inner, name

    def audio(self, samples) -> None:
        with write_errors(self._name):
            self._inner.audio(samples)

    def words(self, marks) -> None:
        with write_errors(self._name):
            self._inner.words(marks)

    def advise(self, advice) -> None:
        with write_errors(self._name):
            self._inner.advise(advice)

    def end(self, meta: dict) -> None:
        with write_errors(self._name):
            self._inner.end(meta)

    def close(self) -> None:
        with write_errors(self._name):
            self._inner.close()


def open_sink(fmt: str, output: str | None, stdout, sample_rate: int,
              stack: contextlib.ExitStack):
    """The sink writing `fmt` to `output`, or to `stdout` (a guard_stdout writer)."""
    name = output or "standard output"
    with write_errors(name):
        if fmt in SOUNDFILE_FORMATS:
            if output is None and not stdout.seekable():
                raise UsageError(f"{fmt} is written to a file (-o FILE or > FILE), "
                                 "not to a pipe; pipe --raw or --wav instead")
            sink = SoundFileSink(output if output else stdout.fd, sample_rate, fmt)
        else:
            target = _open(output, "wb", stack) if output else stdout
            sink = {"kkp": FramedSink, "wav": WavSink, "raw": RawSink}[fmt](target, sample_rate)
    sink = ReportedSink(sink, name)
    stack.callback(sink.close)
    return sink


def open_captions(sink, path: str, fmt: str, sample_rate: int, stack: contextlib.ExitStack):
    """`sink`, with the words' times written to `path` as captions beside it."""
    with write_errors(path):
        f = _open(path, "w", stack, encoding="utf-8")
    captioned = ReportedSink(CaptionedSink(sink, captions.writer(fmt, f), sample_rate), path)
    stack.callback(captioned.close)
    return captioned


def _open(path: str, mode: str, stack: contextlib.ExitStack, **kwargs):
    """`path` opened, closed by the caller's ExitStack after the sink; the
    close flushes the last buffered bytes, so it reports as a write."""
    f = open(path, mode, **kwargs)  # noqa: SIM115 - closed by the stack
    stack.callback(_close, f, path)
    return f


def _close(f, name: str) -> None:
    with write_errors(name):
        f.close()
