"""Speech made on a running kk-speakd's model, for sd_kokoro: the daemon's
synthesis socket, borrowed as kk-synth borrows it (daemon/synth_client.py: the
same socket, the same ownership checks, the same request). It gives the core
the Pieces SpeechSource (daemon/speech_source.py) gives in-process, words and
start advice included, from the same samples; short phrases spoken before
are replayed from the phrase cache without asking the daemon.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from kokoro_pipe.daemon import synth_client
from kokoro_pipe.daemon import synth_protocol as protocol
from kokoro_pipe.daemon.fifo import UnsafePathError
from kokoro_pipe.daemon.request import Request
from kokoro_pipe.daemon.speech_source import through_cache
from kokoro_pipe.errors import KokoroPipeError
from kokoro_pipe.framing import Ancillary, Audio, StartAfter, StreamFormatError, WordMark
from kokoro_pipe.text.chunks import Pauses
from kokoro_pipe.text.g2p import ENGLISH, lang_for_voice
from kokoro_pipe.text.lines import Line
from kokoro_pipe.voice.phrase_cache import PhraseCache, model_identity
from kokoro_pipe.voice.planner import Policy
from kokoro_pipe.voice.synthesis import Piece, WordTime

STOP_POLL = 0.02  # seconds between checks for a stop while the daemon's answer is awaited


class DaemonGone(Exception):
    """No kk-speakd serves this model (none runs, or it runs another), or it
    went away mid-message; `heard`: some of the message was already handed on."""

    def __init__(self, reason: str, heard: bool = False):
        super().__init__(reason)
        self.heard = heard


class ServedSource:
    """A core.ChunkSource; called from the synthesis thread only."""

    def __init__(self, socket_path: Path, engine: protocol.EngineSettings, voice: str,
                 lang: str, lexicon: dict[str, str] | None, cache: PhraseCache | None = None):
        """`lexicon`: the pronunciations in force here, for English (the daemon
        reads no lexicon file of ours)."""
        self.socket, self.engine, self.voice, self.lang = socket_path, engine, voice, lang
        self.lexicon, self.cache = lexicon, cache
        made_by = (engine.model, engine.vocoder, engine.voices)  # a voice is a name here
        self._model_id = ":".join(model_identity(Path(p)) for p in made_by if p)

    def warm_up(self) -> None:
        """One request, not from the cache: raises DaemonGone unless the daemon
        serves this model, and has the default voice and language ready."""
        for _ in self._served(self._options(Request("Ready.")), "Ready.", threading.Event()):
            pass

    def __call__(self, request: Request, stop: threading.Event) -> Iterator[Piece]:
        options = self._options(request)
        key = self.cache and self.cache.key(request.text, _named(options.voice), options.speed,
                                            options.lang, self._model_id)
        yield from through_cache(self.cache, key, self._served(options, request.text, stop), stop)

    def _options(self, request: Request) -> protocol.SynthOptions:
        """What SpeechSource would speak with: its front-end, pauses and live plan."""
        voice = request.voice or self.voice
        lang = request.lang or (lang_for_voice(voice) if request.voice else self.lang)
        pauses = Pauses()
        return protocol.SynthOptions(
            voice, request.speed or 1.0, lang, lexicon=self.lexicon if lang in ENGLISH else None,
            pauses=(pauses.sentence, pauses.clause, pauses.paragraph),
            live_max_wait=Policy().max_wait)

    def _served(self, options: protocol.SynthOptions, text: str, stop: threading.Event
                ) -> Iterator[Piece]:
        try:
            job = synth_client.borrow(self.socket, self.engine, options)
        except (UnsafePathError, synth_client.Unresponsive) as e:
            raise DaemonGone(str(e)) from None
        if job is None:
            raise DaemonGone("no kk-speakd serves this model (none runs, or it runs another)")
        answered = threading.Event()
        threading.Thread(target=_cut_when_stopped, args=(job.conn, stop, answered),
                         name="kk-served-stop", daemon=True).start()
        try:
            yield from _pieces(job, text)
        except DaemonGone:
            if not stop.is_set():  # a stop cut it: that is no loss
                raise
        finally:
            answered.set()
            job.conn.close()


def _pieces(job: synth_client.DaemonJob, text: str) -> Iterator[Piece]:
    """The job's frames as Pieces: each with the words that start in it."""
    try:
        job.conn.sendall(protocol.encode_line(Line(1, text)))
        job.conn.shutdown(socket.SHUT_WR)  # the whole message
    except OSError as e:
        raise DaemonGone(f"kk-speakd went away: {e}") from None
    at, words, advice, said = 0, [], None, []
    while True:
        try:
            event = next(job.events, None)
        except (OSError, StreamFormatError):
            event = None
        if event is None:
            raise DaemonGone("kk-speakd went away mid-message", heard=at > 0)
        if isinstance(event, WordMark):
            words.append(event)
        elif isinstance(event, StartAfter):
            advice = event.frames
        elif isinstance(event, Audio):
            audio = event.samples.reshape(-1)
            here = [w for w in words if w.start < at + len(audio)]
            words = words[len(here):]
            yield Piece(audio, tuple(WordTime(w.start - at, w.end - at, w.text, w.span,
                                              w.sentence_end) for w in here), start_after=advice)
            at, advice = at + len(audio), None
        elif isinstance(event, Ancillary):
            answer = synth_client.payload(event)
            if event.kind == protocol.KIND_MESSAGE:
                said.append(str(answer.get("text")))
            elif event.kind == protocol.KIND_ERROR:
                raise KokoroPipeError(str(answer.get("error")), int(answer.get("exit", 1)))
            elif event.kind == protocol.KIND_DONE:
                if answer.get("status", 0):  # the line was refused: nothing to say
                    raise KokoroPipeError("; ".join(said) or "kk-speakd spoke nothing")
                return


def _cut_when_stopped(conn: socket.socket, stop: threading.Event, answered: threading.Event
                      ) -> None:
    """A stop ends the job at once: the daemon sees its client go (and stops
    at its next chunk), and the wait for its next frame ends here."""
    while not answered.wait(STOP_POLL):
        if stop.is_set():
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            return


def _named(voice: str) -> np.ndarray:
    """The cache key's style part, for a voice known by its name only."""
    return np.frombuffer(voice.encode(), np.uint8)
