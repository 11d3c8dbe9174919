"""speech-dispatcher's output-module protocol, as its own modules speak it
(speech-dispatcher 0.11: src/modules/module_process.c; the manual's
"Communication Protocol for Output Modules").

The server writes commands on our stdin, one per line; SPEAK, CHAR, KEY and
SOUND_ICON, SET, AUDIO and LOGLEVEL are followed by data lines ending with a
line holding a single dot (a data line starting with a dot has one more
prepended). Replies are numbered lines; a multi-line reply has "NNN-" on all
but its last line. Events (701 BEGIN, 700 INDEX MARK, 702 END, 703 STOP,
704 PAUSE) come from other threads at any time, but never between a command
and its reply: one lock guards stdout.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import BinaryIO

RECEIVING_MESSAGE = "202 OK RECEIVING MESSAGE"
SPEAKING = "200 OK SPEAKING"
CANT_SPEAK = "301 ERROR CANT SPEAK"
MORE_THAN_ONE_LINE = "305 DATA MORE THAN ONE LINE"
BAD_SYNTAX = "302 ERROR BAD SYNTAX"
BAD_PARAM = "303 ERROR INVALID PARAMETER OR VALUE"
UNKNOWN_COMMAND = "300 ERR UNKNOWN COMMAND"
MESSAGES = ("SPEAK", "CHAR", "KEY", "SOUND_ICON")  # commands followed by text
SETTINGS = {"SET": ("", "203 OK SETTINGS RECEIVED"),  # commands followed by name=value
            "AUDIO": ("AUDIO ", "203 OK AUDIO INITIALIZED"),
            "LOGLEVEL": ("LOGLEVEL ", "203 OK LOGLEVEL SET")}


class Lines:
    """The server's lines, decoded (a stray invalid byte must not end the module)."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream

    def __iter__(self) -> Iterator[str]:
        for raw in self._stream:
            yield raw.decode("utf-8", "replace").rstrip("\n")

    def data(self, lines: Iterator[str]) -> list[str] | None:
        """The data lines up to the closing dot, unescaped; None at end of input."""
        out = []
        for line in lines:
            if line == ".":
                return out
            out.append(line[1:] if line.startswith(".") else line)
        return None


class Replies:
    """Our stdout: replies and events, each written whole."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self.lock = threading.Lock()  # held from a command to its reply

    def send(self, *lines: str) -> None:
        with self.lock:
            try:
                self._stream.write("".join(line + "\n" for line in lines).encode())
                self._stream.flush()
            except (OSError, ValueError):
                pass  # the server is gone; the reader sees end of input and we quit

    def event(self, code: int, word: str, detail: str | None = None) -> None:
        if detail is None:
            self.send(f"{code} {word}")
        else:
            self.send(f"{code}-{detail}", f"{code} {word}")


def settings(data: list[str]) -> tuple[dict[str, str], bool]:
    """name=value lines as a dict, and whether every line had that form."""
    values, well_formed = {}, True
    for line in data:
        name, sep, value = line.partition("=")
        if not sep or not name or not value:
            well_formed = False
            continue
        values[name] = value
    return values, well_formed
