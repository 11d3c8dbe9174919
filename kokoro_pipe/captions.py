"""Timed words to caption files: WebVTT, SRT or JSON lines, written as they come.

A writer receives words one at a time and writes each cue as soon as it is
complete, so captions follow live speech; close() writes the last one.

Times are kept internally in whole milliseconds: rounding once, on the way in,
makes the clamping below exact and the printed times monotonic.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TextIO

from kokoro_pipe.errors import UsageError

FORMATS = ("vtt", "srt", "json")

MAX_CUE_WORDS = 7
MAX_PAUSE_MS = 1000  # a longer silence starts a new cue
# Sentence punctuation, optionally followed by closing quotes or brackets: `"Stop!"`, `(yes.)`.
SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]}]*$")
_SUFFIXES = {".vtt": "vtt", ".srt": "srt", ".json": "json", ".jsonl": "json"}


@dataclass(frozen=True)
class Word:
    text: str  # as the user wrote it; may be several spoken words, e.g. "$4.5k"
    start: float  # seconds from the start of the whole audio stream
    end: float  # seconds, > start
    utterance: int  # id of the utterance (input line) it belongs to
    # A sentence ends after it, as spoken (kk-synth knows: "Dr." is not one);
    # None: judged by its text's punctuation.
    sentence_end: bool | None = None


@dataclass(frozen=True)
class _Timed:
    text: str
    start: int  # milliseconds
    end: int
    utterance: int
    sentence_end: bool | None = None


def format_for(path: str) -> str:
    """The caption format named by a file's suffix."""
    dot = path.rfind(".")
    fmt = _SUFFIXES.get(path[dot:].lower()) if dot > path.rfind("/") else None
    if fmt is None:
        raise UsageError(f"captions file {path}: unknown format (use .vtt, .srt or .json)")
    return fmt


def _ms(seconds: float) -> int:
    # Half up rather than truncating: 1.2346 s is 1.235, 59.9996 s is a minute.
    return math.floor(seconds * 1000 + 0.5)


def _timestamp(ms: int, sep: str) -> str:
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    seconds, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{ms:03d}"


class CaptionWriter:
    """Normalises each word's times, then hands it to the format."""

    def __init__(self, out: TextIO):
        self.out = out
        self._last_end = 0

    def word(self, w: Word) -> None:
        # Synthesis should never produce these, but a player given a cue that
        # ends before it starts, or goes back in time, may drop it or stall.
        start = max(_ms(w.start), self._last_end, 0)
        end = max(_ms(w.end), start + 1)
        self._last_end = end
        self._timed(_Timed(w.text, start, end, w.utterance, w.sentence_end))

    def close(self) -> None:
        """Write what is pending; `out` stays open (it may be stdout)."""

    def _timed(self, w: _Timed) -> None:
        raise NotImplementedError


class JsonWriter(CaptionWriter):
    """One JSON object per word and line, for programs rather than players."""

    def _timed(self, w: _Timed) -> None:
        record = {"word": w.text, "start": w.start / 1000, "end": w.end / 1000,
                  "utterance": w.utterance}
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.out.flush()


class _CueWriter(CaptionWriter):
    """Groups words into cues: a sentence, at most MAX_CUE_WORDS words, one utterance,
    no long pause inside."""

    def __init__(self, out: TextIO):
        super().__init__(out)
        self._pending: list[_Timed] = []

    def _timed(self, w: _Timed) -> None:
        text = " ".join(w.text.split())  # a newline in a cue would end it early
        if not text:
            return
        last = self._pending[-1] if self._pending else None
        if last and (w.utterance != last.utterance or w.start - last.end > MAX_PAUSE_MS):
            self._flush()
        self._pending.append(_Timed(text, w.start, w.end, w.utterance))
        ends = w.sentence_end if w.sentence_end is not None else SENTENCE_END.search(text)
        # Known complete now, so written now, not when the next word arrives.
        if len(self._pending) >= MAX_CUE_WORDS or ends:
            self._flush()

    def close(self) -> None:
        self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.out.write(self._cue(self._pending))
            self.out.flush()
            self._pending = []

    def _cue(self, words: list[_Timed]) -> str:
        raise NotImplementedError


class VttWriter(_CueWriter):
    def __init__(self, out: TextIO):
        super().__init__(out)
        # Written at once, so even an empty input makes a valid file.
        out.write("WEBVTT\n\n")
        out.flush()

    def _cue(self, words: list[_Timed]) -> str:
        # Karaoke-style timestamp tags let a player highlight each word as spoken.
        text = " ".join(
            (f"<{_timestamp(w.start, '.')}>" if i else "") + _escape(w.text)
            for i, w in enumerate(words)
        )
        return f"{_timestamp(words[0].start, '.')} --> {_timestamp(words[-1].end, '.')}\n{text}\n\n"


class SrtWriter(_CueWriter):
    def __init__(self, out: TextIO):
        super().__init__(out)
        self._number = 0

    def _cue(self, words: list[_Timed]) -> str:
        self._number += 1
        span = f"{_timestamp(words[0].start, ',')} --> {_timestamp(words[-1].end, ',')}"
        return f"{self._number}\n{span}\n{' '.join(w.text for w in words)}\n\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_WRITERS: dict[str, type[CaptionWriter]] = {"vtt": VttWriter, "srt": SrtWriter, "json": JsonWriter}


def writer(fmt: str, out: TextIO) -> CaptionWriter:
    """A writer for one of FORMATS."""
    try:
        cls = _WRITERS[fmt]
    except KeyError:
        raise UsageError(f"unknown captions format {fmt!r} (use {', '.join(FORMATS)})") from None
    return cls(out)
