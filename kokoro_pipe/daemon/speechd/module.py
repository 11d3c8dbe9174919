"""sd_kokoro: kk-speakd's core (daemon/core.py) behind speech-dispatcher's
module protocol. One message speaks at a time (the server queues and
prioritizes); STOP and PAUSE come while it speaks and cut it at the next
50 ms block; events are sent as the audio thread sees the sound reach the
device: BEGIN at its first sample, INDEX MARK when the word after the mark
starts to be heard, END once the last sample was heard.
"""

from __future__ import annotations

import html
import itertools
import re
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from kokoro_pipe.daemon.core import ChunkSource, Daemon, Job
from kokoro_pipe.daemon.log import EventLog, StatusFile
from kokoro_pipe.daemon.request import Request
from kokoro_pipe.daemon.speaker import Speaker
from kokoro_pipe.daemon.speechd import protocol as p
from kokoro_pipe.daemon.speechd.voices import Voice, choose, our_lang
from kokoro_pipe.text import punctuation, ssml
from kokoro_pipe.voice.engine import SPEED_RANGE
from kokoro_pipe.voice.synthesis import Piece

VOICE_TYPE = re.compile(r"(MALE|FEMALE)[123]|CHILD_(MALE|FEMALE)")


@dataclass
class Config:
    """The module's own configuration file (dotconf, as speech-dispatcher's)."""

    default_voices: dict[str, str] = field(default_factory=dict)  # lang -> voice
    rate_multiplier: float = 1.0
    model: str | None = None
    voices: str | None = None


def read_config(path: Path | None) -> Config:
    """KokoroDefaultVoice "en-gb" "bm_george", KokoroRateMultiplier 1.2,
    KokoroModel and KokoroVoices paths; # comments. Raises ValueError."""
    config = Config()
    if path is None:
        return config
    for number, line in enumerate(path.read_text().splitlines(), 1):
        words = shlex.split(line, comments=True)
        if not words:
            continue
        key, args = words[0].lower(), words[1:]
        if key == "kokorodefaultvoice" and len(args) == 2:
            config.default_voices[our_lang(args[0]) or args[0]] = args[1]
        elif key == "kokororatemultiplier" and len(args) == 1:
            config.rate_multiplier = float(args[0])
        elif key in ("kokoromodel", "kokorovoices") and len(args) == 1:
            setattr(config, key.removeprefix("kokoro"), args[0])
        else:
            raise ValueError(f"{path}:{number}: not understood: {line.strip()}")
    return config


@dataclass
class Settings:
    """What SET has set; speech-dispatcher's names and ranges."""

    rate: int = 0  # -100..100
    pitch: int = 0  # Kokoro has no pitch control: accepted, not heard
    pitch_range: int = 0
    volume: int = 100  # -100..100; 100 is full scale
    punctuation_mode: str = "none"
    spelling_mode: bool = False
    cap_let_recogn: str = "none"
    voice_type: str | None = None  # MALE1...
    synthesis_voice: str | None = None
    language: str | None = None

    def apply(self, values: dict[str, str]) -> list[str]:
        """Take what is valid; the name=value of what was not."""
        return [f"{name}={value}" for name, value in values.items()
                if not self._set(name, value)]

    def _set(self, name: str, value: str) -> bool:
        if name in ("rate", "pitch", "pitch_range", "volume"):
            try:
                number = int(value)
            except ValueError:
                return False
            if not -100 <= number <= 100:
                return False
            setattr(self, name, number)
        elif name == "punctuation_mode" and value in punctuation.LEVELS:
            self.punctuation_mode = value
        elif name == "spelling_mode" and value in ("on", "off"):
            self.spelling_mode = value == "on"
        elif name == "cap_let_recogn" and value in ("none", "spell", "icon"):
            self.cap_let_recogn = value
        elif name == "voice" and (value == "NULL" or VOICE_TYPE.fullmatch(value.upper())):
            self.voice_type = None if value == "NULL" else value.upper()  # sent as male1
        elif name in ("synthesis_voice", "language"):
            setattr(self, name, None if value == "NULL" else value)
        elif name == "punctuation_some":
            pass  # the server's symbol tables do "some"
        else:
            return False
        return True

    def speed(self, multiplier: float = 1.0) -> float:
        """rate -100..100 onto 0.5..2.0, evenly on a log scale (0 is 1.0)."""
        lo, hi = SPEED_RANGE
        return min(hi, max(lo, 2.0 ** (self.rate / 100) * multiplier))

    def gain(self) -> float:
        return (self.volume + 100) / 200


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


class Module:
    """Reads the server's commands and answers them; the Events of its Daemon."""

    def __init__(self, replies: p.Replies, load: Callable[[Module], Backend],
                 log: EventLog | None = None):
        self.replies, self._load, self.log = replies, load, log or EventLog()
        self.settings = Settings()
        self.backend: Backend | None = None
        self._ids = itertools.count(1)
        self._begun: set[str] = set()
        self._pausing: set[str] = set()
        self._noted: set[str] = set()

    # -- the server's commands -------------------------------------------

    def run(self, lines: p.Lines) -> int:
        """Until QUIT (0) or the end of input (0: the server went away)."""
        feed = iter(lines)
        first = next(feed, None)
        if first != "INIT":
            print(f"sd_kokoro: expected INIT from speech-dispatcher, got {first!r}",
                  file=sys.stderr)
            return 3
        try:
            self.backend = self._load(self)
        except Exception as e:  # noqa: BLE001 - reported to the server, which logs it
            print(f"sd_kokoro: {e}", file=sys.stderr)
            self.replies.send(f"399-{e}", "399 ERR CANT INIT MODULE")
            return 1
        self.replies.send(f"299-{self.backend.description}", "299 OK LOADED SUCCESSFULLY")
        try:
            for line in feed:
                if not self._command(line, feed, lines):
                    return 0
        finally:
            self.backend.close()
        return 0

    def _command(self, line: str, feed: Iterator[str], lines: p.Lines) -> bool:
        if line in p.MESSAGES:
            self.replies.send(p.RECEIVING_MESSAGE)
            data = lines.data(feed)
            return data is not None and self._speak(line, data)
        if line in p.SETTINGS:
            kind, done = p.SETTINGS[line]
            self.replies.send(f"207 OK RECEIVING {kind}SETTINGS")
            data = lines.data(feed)
            if data is None:
                return False
            values, well_formed = p.settings(data)
            if not well_formed:
                self.replies.send(p.BAD_SYNTAX)
            elif line == "SET" and (invalid := self.settings.apply(values)):
                self.note(f"SET: invalid {', '.join(invalid)}")
                self.replies.send(p.BAD_PARAM)
            else:  # AUDIO: we play on the default device ourselves, following it
                self.replies.send(done)
        elif line == "STOP":
            self.backend.daemon.cancel("stop")
        elif line == "PAUSE":
            self._pausing.update(self.backend.active())
            self.backend.daemon.cancel("pause")
        elif line == "LIST VOICES":
            self.replies.send(*[f"200-{v.name}\t{v.speechd_lang}\t{v.gender}"
                                for v in self.backend.voices], "200 OK VOICE LIST SENT")
        elif line.startswith("DEBUG"):
            self.replies.send(f"200 OK DEBUGGING {line.split()[1] if ' ' in line else 'OFF'}")
        elif line == "QUIT":
            self.backend.close()
            self.replies.send("210 OK QUIT")
            return False
        else:
            self.replies.send(p.UNKNOWN_COMMAND)
        return True

    def _speak(self, kind: str, data: list[str]) -> bool:
        text = "\n".join(data)
        if not text.strip():
            self.replies.send(p.CANT_SPEAK)
        elif kind != "SPEAK" and len(data) > 1:
            self.replies.send(p.MORE_THAN_ONE_LINE)
        else:
            said = message(kind, text, self.settings, self.note)
            voice = self._voice()
            job_id = f"spd{next(self._ids)}"
            request = Request(said.text or " ", job_id, voice.name, self.settings.speed(
                self.backend.config.rate_multiplier), voice.lang)
            self.replies.send(p.SPEAKING)  # before any event of this message
            self.backend.speak(request, said.marks, self.settings.gain())
        return True

    def _voice(self) -> Voice:
        """The voice the settings ask for; the language's default when the
        named voice is unknown (and said so in the log)."""
        s, voices = self.settings, self.backend.voices
        lang = our_lang(s.language)
        if s.language and lang is None:
            self.note(f"no voice speaks language {s.language!r}; using {self.backend.lang}")
        lang = lang or self.backend.lang
        if s.synthesis_voice:
            named = next((v for v in voices if v.name == s.synthesis_voice), None)
            if named:
                return named
            self.note(f"unknown voice {s.synthesis_voice!r}; using {lang}'s default")
        return choose(voices, lang, s.voice_type, self.backend.config.default_voices) or \
            choose(voices, self.backend.lang, None, self.backend.config.default_voices)

    def note(self, message: str) -> None:
        """Once in the log (speech-dispatcher keeps it), not once per message."""
        if message not in self._noted:
            self._noted.add(message)
            self.log("note", message=message)

    # -- core.Events: from the audio thread ----------------------------------

    def begin(self, job: Job) -> None:
        if job.id not in self._begun:
            self._begun.add(job.id)
            self.replies.event(701, "BEGIN")

    def mark(self, job: Job, name: str) -> None:
        self.begin(job)
        self.replies.event(700, "INDEX MARK", name)

    def end(self, job: Job, outcome: str) -> None:
        self.begin(job)  # every END, STOP or PAUSE follows a BEGIN
        self._begun.discard(job.id)
        self.backend.forget(job.id)
        if job.id in self._pausing:
            self._pausing.discard(job.id)
            if outcome in ("stopped", "cancelled"):
                return self.replies.event(704, "PAUSE")
        if outcome in ("spoken", "rejected"):  # rejected: nothing to say, said
            self.replies.event(702, "END")
        else:
            self.replies.event(703, "STOP")


class Backend:
    """The warm SpeechSource speaking through kk-speakd's core and Speaker."""

    def __init__(self, source: ChunkSource, voices: list[Voice], lang: str, config: Config,
                 description: str, module: Module, status: StatusFile):
        self.source, self.voices = source, voices
        self.lang, self.config, self.description = lang, config, description
        self._extras: dict[str, tuple[tuple[tuple[int, str], ...], float]] = {}
        self._closed = False
        self.daemon = Daemon(self.chunks, Speaker(), module.log, status, events=module)
        self.daemon.start()

    def speak(self, request: Request, marks: tuple[tuple[int, str], ...], gain: float) -> None:
        self._extras[request.id] = (marks, gain)
        self.daemon.enqueue(request, request.id)

    def forget(self, job_id: str) -> None:
        """A message ended, maybe before its synthesis began."""
        self._extras.pop(job_id, None)

    def active(self) -> list[str]:
        return [job.id for job in self.daemon.jobs()]

    def chunks(self, request: Request, stop) -> Iterator[Piece]:
        """core.ChunkSource: the request's pieces, marks placed, at its volume."""
        marks, gain = self._extras.pop(request.id, ((), 1.0))
        for piece in placed(self.source(request, stop), marks):
            yield piece if gain == 1.0 else replace(piece, audio=piece.audio * np.float32(gain))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.daemon.shutdown()


def serve(stdin: BinaryIO, stdout: BinaryIO, load: Callable[[Module], Backend]) -> int:
    return Module(p.Replies(stdout), load).run(p.Lines(stdin))
