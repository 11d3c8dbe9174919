"""What sd_kokoro says for a SPEAK, CHAR, KEY or SOUND_ICON, and where the
SSML marks of a message are reached in its audio."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from kokoro_pipe.daemon.speechd.settings import Settings
from kokoro_pipe.text import punctuation, ssml
from kokoro_pipe.voice.synthesis import Piece


@dataclass(frozen=True)
class Message:
    text: str  # SSML or plain text, as our front-end reads it
    marks: tuple[tuple[int, str], ...] = ()  # (offset in text, name)


def message(kind: str, data: str, settings: Settings, note: Callable[[str], None]) -> Message:
    """What to say for one SPEAK, CHAR, KEY or SOUND_ICON."""
    if kind == "SOUND_ICON":
        return Message("")  # no sounds of our own: nothing is said
    if kind == "CHAR":  # one character, or a name for one: space
        return Message(data if len(data) > 1 else "space" if data == " " else _spelled(data))
    if kind == "KEY":
        return Message(_key(data))
    try:
        ssml.parse(data)
    except ssml.SsmlError as e:  # spoken as its text, never refused
        note(f"SSML not understood ({e}); speaking its text")
        plain = _plain(data)
        return Message(_spelled(plain) if settings.spelling_mode else
                       punctuation.spoken(plain, settings.punctuation_mode))
    if settings.spelling_mode:
        return Message(_spelled(_plain(data)))
    data = punctuation.spoken_in_ssml(data, settings.punctuation_mode)
    return Message(data, tuple(ssml.marks(data)))


def _plain(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", markup)).split())


def _spelled(text: str) -> str:
    return f'<speak><say-as interpret-as="characters">{html.escape(text)}</say-as></speak>'


def _key(name: str) -> str:
    """SSIP key names (a, shift_a, kp-enter, double-quote) as words."""
    parts = [w for w in re.split(r"[_-]", name) if w]
    if len(parts) > 1 and all(len(w) > 1 for w in parts[:-1]) and len(parts[-1]) == 1:
        return " ".join(parts[:-1]) + " " + parts[-1].upper()  # shift_a: shift A
    return _spelled(name) if len(name) == 1 else " ".join(parts) or name


def placed(pieces: Iterable[Piece], marks: Iterable[tuple[int, str]]) -> Iterator[Piece]:
    """The pieces with their marks: a mark is reached where the first word
    written after it starts; those after the last word, after all the audio."""
    pending = sorted(marks)
    for piece in pieces:
        here = []
        for word in piece.words:
            while pending and word.span is not None and pending[0][0] <= word.span[0]:
                here.append((max(0, word.start), pending.pop(0)[1]))
        yield replace(piece, marks=tuple(here)) if here else piece
    if pending:
        yield Piece(np.zeros(0, np.float32), marks=tuple((0, name) for _, name in pending))
