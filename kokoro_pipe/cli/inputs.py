"""Input sources shared by kk-g2p and kk-synth: files, -t TEXT, or stdin."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import replace

from kokoro_pipe.errors import NoInputError
from kokoro_pipe.text.lines import Line, Rejected, read_lines


def input_lines(
    files: tuple[str, ...], texts: tuple[str, ...], keep_blank: bool = False
) -> Iterator[Line | Rejected]:
    """Lines of the -t texts, else of the files ('-' is stdin), else of stdin.

    Line numbers run on across files, as if they were concatenated.
    """
    if texts:
        sources = [io.BytesIO("\n".join(texts).encode())]
    elif files:
        sources = [_open(f) for f in files]  # all checked before anything is read
    else:
        sources = [sys.stdin.buffer]
    offset = 0
    for source in sources:
        last = 0
        for item in read_lines(source, keep_blank=keep_blank):
            last = item.number
            yield replace(item, number=item.number + offset)
        offset += last


def _open(path: str):
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as e:
        raise NoInputError(f"cannot read {path}: {e.strerror}") from None
