"""kk-synth's progress bar on a terminal's stderr: characters spoken of the total
(when the input's size can be known), audio made, real-time factor, and tqdm's ETA.

Shown only for long jobs: output to a file, or about a minute of audio or more.
Never when stderr is not a terminal: logs and pipelines get no bar drawing.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a bar is drawn: most runs draw none
    from tqdm import tqdm

LONG_JOB = 60.0  # seconds of audio
CHARS_PER_SECOND = 15  # of speech at speed 1 (a 44-character sentence is ~2.6 s)
COUNT_LIMIT = 256 << 20  # bytes of input counted ahead; more is read once only


class Progress:
    def __init__(self, total_chars: int | None, to_file: bool, speed: float = 1.0):
        self.total, self.to_file, self.speed = total_chars, to_file, speed
        self.enabled = sys.stderr.isatty()
        expected = (total_chars or 0) / CHARS_PER_SECOND / speed
        self.bar: tqdm | None = None
        self.audio_seconds = 0.0
        self.chars = 0
        self._line = 0  # characters of the current line credited so far
        self.began = time.monotonic()
        if self.enabled and (to_file or expected >= LONG_JOB):
            self._start()

    def _start(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, initial=self.chars, unit="char",
                        file=sys.stderr, dynamic_ncols=True, mininterval=0.5,
                        desc="kk-synth", leave=True)

    def audio(self, seconds: float, line_chars: int = 0) -> None:
        """Audio made; of a line of `line_chars` characters, whose share is
        credited as it is spoken (a paragraph line can be minutes of speech)."""
        self.audio_seconds += seconds
        if not self.enabled:
            return
        if self.bar is None and self.audio_seconds >= LONG_JOB:
            self._start()
        share = min(round(seconds * CHARS_PER_SECOND * self.speed), line_chars - self._line)
        self._credit(max(0, share))
        if self.bar is not None:
            rtf = (time.monotonic() - self.began) / self.audio_seconds
            self.bar.set_postfix_str(f"audio {self.audio_seconds:.0f} s, RTF {rtf:.2f}",
                                     refresh=False)
            self.bar.update(0)  # redraws at most every mininterval

    def spoken(self, line_chars: int) -> None:
        """A line is done: the rest of its characters."""
        self._credit(max(0, line_chars - self._line))
        self._line = 0

    def _credit(self, chars: int) -> None:
        self._line += chars
        self.chars += chars
        if self.bar is not None:
            self.bar.update(chars)

    def message(self, line: str) -> None:
        """A line on stderr that does not cut through the bar."""
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def writes_a_file(output: str | None, fd: int) -> bool:
    """-o FILE, or standard output redirected to a regular file."""
    return bool(output) or stat.S_ISREG(os.fstat(fd).st_mode)


def input_chars(files: tuple[str, ...], texts: tuple[str, ...]) -> int | None:
    """Characters to be spoken (lines stripped, as they are read), or None when
    the input is a pipe or a terminal, which cannot be measured ahead."""
    if texts:
        return sum(len(line.strip()) for t in texts for line in t.splitlines())
    total = 0
    for name in files or ("-",):
        fd = sys.stdin.fileno() if name == "-" else None
        try:
            if fd is None:
                with open(name, "rb") as f:
                    total += _count(f.fileno())
            else:
                total += _count(fd, os.lseek(fd, 0, os.SEEK_CUR))
        except (OSError, ValueError):
            return None
    return total


def _count(fd: int, offset: int = 0) -> int:
    """Characters of a regular file from `offset`, read with pread: the position
    the reader will start from does not move."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size - offset > COUNT_LIMIT:
        raise ValueError("not measurable ahead")
    data = os.pread(fd, info.st_size - offset, offset)
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace")
    return sum(len(line.strip()) for line in text)
