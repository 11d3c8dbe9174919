"""Reading line-oriented input safely: bounded lines, strict UTF-8, no binary.

A bad line is reported as a Rejected item and reading goes on, so the lines
around it are still processed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from kokoro_pipe import jsonlimits

MAX_LINE_BYTES = 100_000  # about two hours of speech; longer lines are refused


@dataclass(frozen=True)
class Line:
    number: int
    text: str


@dataclass(frozen=True)
class Rejected:
    number: int
    reason: str

    def message(self) -> str:
        return f"line {self.number}: {self.reason}; skipped"


def read_lines(
    f: BinaryIO, max_bytes: int = MAX_LINE_BYTES, keep_blank: bool = False
) -> Iterator[Line | Rejected]:
    """Lines of `f`, stripped, blank ones only if keep_blank; never holds more
    than max_bytes of one line."""
    number = 0
    while True:
        raw = f.readline(max_bytes + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            _skip_rest_of_line(f, max_bytes)
            yield Rejected(number, f"longer than {max_bytes} bytes")
            continue
        if b"\0" in raw:
            yield Rejected(number, "binary data (NUL byte), not text")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield Rejected(number, f"not valid UTF-8 (byte {e.start})")
            continue
        text = text.strip()
        if text or keep_blank:
            yield Line(number, text)


def _skip_rest_of_line(f: BinaryIO, block: int) -> None:
    while True:
        rest = f.readline(block)
        if not rest or rest.endswith(b"\n"):
            return


@dataclass(frozen=True)
class PhonemeRecord:
    phonemes: str
    text: str | None = None
    # (phonemes start, end, text start, end) per word, as kk-g2p --json writes them
    words: tuple[tuple[int, int, int, int], ...] | None = None


def parse_phoneme_line(line: str) -> PhonemeRecord:
    """A kk-g2p output line: a JSON object {"text", "phonemes"} or bare phonemes."""
    if not line.startswith("{"):
        return PhonemeRecord(line)
    try:
        record = jsonlimits.loads(line)
    except jsonlimits.JsonError as e:
        raise ValueError(f"invalid JSON ({e})") from None
    if not isinstance(record, dict) or not isinstance(record.get("phonemes"), str):
        raise ValueError('JSON line without a "phonemes" string')
    text = record.get("text")
    text = text if isinstance(text, str) else None
    return PhonemeRecord(record["phonemes"], text, _words(record, text))


def _words(record: dict, text: str | None) -> tuple[tuple[int, int, int, int], ...] | None:
    words = record.get("words")
    if words is None:
        return None
    ok = isinstance(words, list) and text is not None and all(
        isinstance(w, list) and len(w) == 4 and all(type(i) is int for i in w)
        and 0 <= w[0] < w[1] <= len(record["phonemes"]) and 0 <= w[2] <= w[3] <= len(text)
        for w in words)
    if not ok:
        raise ValueError('"words" is not a list of [phonemes start, end, text start, end] '
                         'inside "phonemes" and "text"')
    return tuple(tuple(w) for w in words)
