"""kk-synth's output: its format (an option, else the file's extension) and its sink."""

from __future__ import annotations

import contextlib
from pathlib import Path

import soundfile

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


def open_sink(fmt: str, output: str | None, stdout, sample_rate: int,
              stack: contextlib.ExitStack):
    """The sink writing `fmt` to `output`, or to `stdout` (a guard_stdout writer)."""
    try:
        if fmt in SOUNDFILE_FORMATS:
            if output is None and not stdout.seekable():
                raise UsageError(f"{fmt} is written to a file (-o FILE or > FILE), "
                                 "not to a pipe; pipe --raw or --wav instead")
            sink = SoundFileSink(output if output else stdout.fd, sample_rate, fmt)
        else:
            # Closed by the caller's ExitStack, after the sink.
            target = stack.enter_context(open(output, "wb")) if output else stdout  # noqa: SIM115
            sink = {"kkp": FramedSink, "wav": WavSink, "raw": RawSink}[fmt](target, sample_rate)
    except (OSError, soundfile.LibsndfileError) as e:
        raise KokoroPipeError(f"cannot write {output or 'standard output'}: {e}",
                              EXIT_IO) from None
    stack.callback(sink.close)
    return sink


def open_captions(sink, path: str, fmt: str, sample_rate: int, stack: contextlib.ExitStack):
    """`sink`, with the words' times written to `path` as captions beside it."""
    try:
        f = stack.enter_context(open(path, "w", encoding="utf-8"))  # noqa: SIM115
    except OSError as e:
        raise KokoroPipeError(f"cannot write {path}: {e}", EXIT_IO) from None
    captioned = CaptionedSink(sink, captions.writer(fmt, f), sample_rate)
    stack.callback(captioned.close)
    return captioned
