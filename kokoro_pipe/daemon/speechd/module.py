"""sd_kokoro: kk-speakd's core (daemon/core.py) behind speech-dispatcher's
module protocol. One message speaks at a time (the server queues and
prioritizes); STOP and PAUSE come while it speaks and cut it at the next
50 ms block; events are sent as the audio thread sees the sound reach the
device: BEGIN at its first sample, INDEX MARK when the word after the mark
starts to be heard, END once the last sample was heard.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import BinaryIO

import numpy as np

from kokoro_pipe.daemon.core import ChunkSource, Daemon, Job, Output
from kokoro_pipe.daemon.log import EventLog, StatusFile
from kokoro_pipe.daemon.request import Request
from kokoro_pipe.daemon.speaker import Speaker
from kokoro_pipe.daemon.speechd import protocol as p
from kokoro_pipe.daemon.speechd.messages import message, placed
from kokoro_pipe.daemon.speechd.settings import Config, Settings
from kokoro_pipe.daemon.speechd.voices import Voice, choose, our_lang
from kokoro_pipe.voice.synthesis import Piece

WATCH_EVERY = 0.5  # seconds between looks at the core's threads
CORE_SHUTDOWN = 30.0  # seconds a dead core's synthesis thread has to finish its chunk


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
    """The warm SpeechSource speaking through kk-speakd's core and Speaker.

    A core whose thread died (a bug: kk-speakd exits then, for launchd or
    systemd to start a new one) would leave speech-dispatcher waiting for ever
    for the END of the message it held: that message ends with STOP, the
    error goes to the log, and a new core speaks on the same warm model."""

    def __init__(self, source: ChunkSource, voices: list[Voice], lang: str, config: Config,
                 description: str, module: Module, status: StatusFile,
                 output: Callable[[], Output] = Speaker):
        self.source, self.voices = source, voices
        self.lang, self.config, self.description = lang, config, description
        self._module, self._status, self._output = module, status, output
        self._extras: dict[str, tuple[tuple[tuple[int, str], ...], float]] = {}
        self._closed = threading.Event()
        self._lock = threading.Lock()  # a message is never handed to a core being replaced
        self.daemon = self._core()
        threading.Thread(target=self._watch, name="kk-core-watch", daemon=True).start()

    def _core(self) -> Daemon:
        daemon = Daemon(self.chunks, self._output(), self._module.log, self._status,
                        events=self._module)
        daemon.start()
        return daemon

    def _watch(self) -> None:
        while not self._closed.wait(WATCH_EVERY):
            with self._lock:
                if self._closed.is_set() or not (broken := self.daemon.broken()):
                    continue
                self._module.log("error", reason=broken, action="a new core speaks")
                old = self.daemon
                old.shutdown(CORE_SHUTDOWN)  # what waits ends with STOP (core's events)
                for job in old.jobs():  # the one the dead thread held
                    self._module.end(job, "failed")
                with contextlib.suppress(Exception):  # the device it left open, if it can
                    if old.output.is_open():
                        old.output.close(drain=False)
                self.daemon = self._core()

    def speak(self, request: Request, marks: tuple[tuple[int, str], ...], gain: float) -> None:
        with self._lock:
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
        with self._lock:
            if not self._closed.is_set():
                self._closed.set()
                self.daemon.shutdown()


def serve(stdin: BinaryIO, stdout: BinaryIO, load: Callable[[Module], Backend]) -> int:
    return Module(p.Replies(stdout), load).run(p.Lines(stdin))
