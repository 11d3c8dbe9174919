"""Streaming synthesis: utterances in, audio out chunk by chunk, one chunk ahead.

A producer thread reads the input, phonemizes and synthesizes chunk N+1 while
the caller writes chunk N (onnxruntime and spaCy release the GIL for the heavy
parts). The queue between them holds one chunk, so memory stays bounded
however long the input is.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from kokoro_pipe.text import ssml
from kokoro_pipe.text.chunks import (
    FIRST_MAX,
    MODEL_MAX_PHONEMES,
    PHONEME_MAX,
    TEXT_MAX,
    Budget,
    Chunk,
    Chunker,
    Locator,
    Pauses,
    has_speech,
    samples,
)
from kokoro_pipe.text.g2p import Phonemized, Word
from kokoro_pipe.text.lines import Rejected
from kokoro_pipe.text.spans import SourceMap
from kokoro_pipe.voice.engine import Engine
from kokoro_pipe.voice.planner import Policy, Schedule
from kokoro_pipe.voice.voices import SPEED_RANGE


@dataclass(frozen=True)
class Utterance:
    id: int
    line: int  # where it came from, for messages
    text: str  # text, or phonemes when is_phonemes
    is_phonemes: bool = False
    label: str | None = None  # the words, for metadata when text holds phonemes
    style: np.ndarray | None = None  # voice override
    speed: float | None = None
    words: tuple[Word, ...] | None = None  # phonemes: where its words are (kk-g2p --json)

    @property
    def written(self) -> str:
        """The text as the user wrote it, which word spans point into."""
        return self.label if self.label is not None else self.text

    def meta(self) -> dict:
        return {"id": self.id, "text": self.written}


@dataclass(frozen=True)
class WordTime:
    """A word as heard: its samples, counted from the start of the audio it
    comes with, and what was written for it."""

    start: int
    end: int  # may lie in audio that comes later
    text: str
    span: tuple[int, int] | None  # in Utterance.written; None when unknown
    sentence_end: bool = False  # what was spoken has a sentence end after it


@dataclass(frozen=True)
class Piece:
    """Audio of an utterance, and the words that start in it."""

    audio: np.ndarray
    words: tuple[WordTime, ...] = ()
    marks: tuple[tuple[int, str], ...] = ()  # (sample, name): SSML <mark>s reached there
    # On an utterance's first piece, when planned for live playback: samples
    # of it to buffer before playback starts (voice/planner.py).
    start_after: int | None = None


@dataclass(frozen=True)
class AudioBlock:
    utterance: Utterance
    samples: np.ndarray
    words: tuple[WordTime, ...] = ()
    start_after: int | None = None  # as in Piece


@dataclass(frozen=True)
class Finished:
    utterance: Utterance


log = logging.getLogger(__name__)
JOIN_TIMEOUT = 30.0  # longer than any one chunk takes
# Sentence punctuation right after a word's phonemes, closing quotes around it or not: "stop!"
SENTENCE_AFTER = re.compile(r"[\"'”’»)\]}]*[.!?…]")


class NothingToSay(ValueError):
    pass


Event = AudioBlock | Finished | Rejected


class Synthesizer:
    def __init__(
        self,
        engine: Engine,
        style: np.ndarray,
        speed: float = 1.0,
        g2p: Callable[[str], Phonemized] | None = None,  # G2P.words
        pauses: Pauses | None = None,
        ssml_mode: bool | None = None,  # None: SSML when a text starts with <speak>
        live: Policy | None = None,
    ):
        """`live`: the audio is played as it is made, so chunks are sized from
        the engine's measured pace and each utterance says how much of it to
        buffer before starting (voice/planner.py); None: the largest chunks
        after the short first one, the same for the same input on any machine."""
        self.engine, self.style, self.speed, self.g2p = engine, style, speed, g2p
        self.pauses = pauses or Pauses()
        self.ssml_mode = ssml_mode
        self.live = live

    def chunks(self, utt: Utterance, stop: threading.Event | None = None) -> Iterator[Piece]:
        """The audio of one utterance, piece by piece (the first chunk in
        vocoder windows, the others whole), pauses between chunks included,
        with the times of its words.

        A text utterance is SSML parts, or one plain part: a break sets the
        silence before the next audio (an explicit time even at the start or
        the end), a speech part is chunked and spoken at its rate.

        Whether there is anything to say is judged on each chunk's phonemes,
        after the front-end: emoji named, symbols read, may be all the speech."""
        style = self.style if utt.style is None else utt.style
        base_speed = self.speed if utt.speed is None else utt.speed
        rate = self.engine.sample_rate
        schedule = self.live and Schedule(self.engine.pace, base_speed, self.live)
        clock = self.engine.pace.clock
        pause, spoke, count = 0, False, 0  # pause: samples of silence due before the next audio
        speakable = False  # some chunk had more than punctuation
        for part in self._parts(utt):
            if isinstance(part, ssml.Break):
                seconds = self.pauses.of_strength(part.strength) if part.seconds is None \
                    else part.seconds
                pause = max(pause, samples(seconds, rate)) if spoke else samples(seconds, rate)
                spoke = spoke or part.seconds is not None
                continue
            speed = min(SPEED_RANGE[1], max(SPEED_RANGE[0], base_speed * part.rate))
            chunks = self._pieces(part, utt, schedule)
            while True:
                began = clock()
                item = next(chunks, None)
                if item is None:
                    break
                sub, words, units = item
                if (stop and stop.is_set()) or not has_speech(sub.text, phonemes=True):
                    continue
                speakable = True
                # An utterance's first chunk may come in windows; any other is made whole.
                windowed = count == 0 and self.engine.windows is not None
                voices = self.engine.stream(sub.text, style, speed, windowed=windowed,
                                            words=[w.phonemes for w in words])
                made = 0
                try:
                    for voiced in (voices if windowed else list(voices)):
                        if not windowed:
                            self.engine.pace.measure(clock() - began,
                                                     len(voiced.audio) / rate, units, speed)
                        piece, shift = voiced.audio, pause if spoke else 0
                        if shift:
                            piece = np.concatenate([np.zeros(shift, np.float32), piece])
                        hold = None
                        if schedule and not spoke:
                            hold = samples(schedule.start_after(len(piece) / rate), rate)
                        spoke, pause = True, 0
                        made += len(piece)
                        if schedule:
                            schedule.handed(len(piece) / rate)
                        yield Piece(piece, tuple(
                            _heard(utt, words[i], a + shift, b + shift, sub.text)
                            for i, a, b in voiced.words), start_after=hold)
                except ValueError:  # no phoneme of it in the model's vocabulary
                    continue
                if windowed:
                    self.engine.pace.measure(clock() - began, made / rate, units, speed)
                count += 1
                pause = samples(sub.pause, rate)
                if log.isEnabledFor(logging.DEBUG):
                    log.debug(json.dumps({
                        "event": "synthesized", "utterance": utt.id, "chunk": count,
                        "phonemes": len(sub.text), "seconds": made / rate,
                        "started": began, "done": clock()}))
        if not count and not (stop and stop.is_set()):  # stopped: said nothing, as asked
            raise NothingToSay("nothing the model can speak" if speakable
                               else "nothing to speak (punctuation or symbols only)")
        if isinstance(part, ssml.Break) and part.seconds:
            yield Piece(np.zeros(pause, np.float32))

    def _parts(self, utt: Utterance) -> list[ssml.Part]:
        parse = self.ssml_mode if self.ssml_mode is not None else ssml.is_ssml(utt.text)
        if utt.is_phonemes or not parse:
            return [ssml.Speech(utt.text)]
        return ssml.parse(utt.text)

    def _pieces(self, part: ssml.Speech, utt: Utterance, schedule: Schedule | None
                ) -> Iterator[tuple[Chunk, list[Word], int]]:
        """Model-sized phoneme chunks of one speech part, each with its pause
        after, its words (phoneme spans in the chunk, source spans in the
        utterance as written), and its length in the units the chunker counts
        (characters of text, or phonemes), for the pace. Sized by `schedule`."""
        budget = schedule.budget if schedule else None
        if utt.is_phonemes:
            words = list(utt.words) if utt.words is not None else _runs(part.text)
            first = _split(part.text, words, PHONEME_MAX, FIRST_MAX, self.pauses, budget,
                           schedule)
            for piece, inside in first:
                for sub in _split(piece.text, inside, MODEL_MAX_PHONEMES, MODEL_MAX_PHONEMES,
                                  self.pauses):
                    yield (*sub, len(sub[0].text))
            return
        written = SourceMap(ssml.masked(utt.text), part.text) if part.text != utt.text else None
        chunker = Chunker(part.text, TEXT_MAX, pauses=self.pauses, budget=budget)
        if schedule:
            schedule.todo = chunker.todo
        locator = Locator(part.text)
        for piece in chunker:
            where = locator.where(piece.text)
            said = self._phonemize(piece.text)
            words = []
            for w in said.words:
                a, b = w.source
                if b > a:
                    span = (where[a], where[b - 1] + 1)
                    words.append(Word(w.phonemes, written.span(*span) if written else span))
            subs = list(_split(said.phonemes, _merged(words), MODEL_MAX_PHONEMES,
                               MODEL_MAX_PHONEMES, self.pauses))
            for sub, inside in subs:  # almost always one
                yield sub, inside, round(len(piece.text) * len(sub.text) / len(said.phonemes))

    def _phonemize(self, text: str) -> Phonemized:
        if self.g2p is None:
            raise RuntimeError("text input needs a G2P")
        return self.g2p(text)

    def stream(self, items: Iterable[Utterance | Rejected]) -> Iterator[Event]:
        """Events for `items`, synthesized one chunk ahead of the consumer."""
        handoff: queue.Queue = queue.Queue(maxsize=1)
        stop = threading.Event()
        done = object()

        def put(item) -> bool:
            while not stop.is_set():
                try:
                    handoff.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    pass
            return False

        def produce() -> None:
            try:
                for item in items:
                    if isinstance(item, Rejected):
                        put(item)
                        continue
                    try:
                        for piece in self.chunks(item, stop):
                            if not put(AudioBlock(item, piece.audio, piece.words,
                                                  piece.start_after)):
                                return
                    except (NothingToSay, ssml.SsmlError) as e:
                        put(Rejected(item.line, str(e)))
                        continue
                    put(Finished(item))
                    if stop.is_set():
                        return
            except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
                put(_Failure(e))
            finally:
                put(done)

        worker = threading.Thread(target=produce, name="kk-synthesis", daemon=True)
        worker.start()
        try:
            while (item := handoff.get()) is not done:
                if isinstance(item, _Failure):
                    raise item.error
                yield item
        finally:
            stop.set()
            # Exiting while onnxruntime runs in the worker aborts the process
            # (C++ teardown under a live call), so let the current chunk finish.
            # A worker blocked reading input is not in onnxruntime: don't wait on it.
            worker.join(timeout=JOIN_TIMEOUT)


def _split(text: str, words: list[Word], max_len: int, first_max: int, pauses: Pauses,
           budget: Budget | None = None, schedule: Schedule | None = None
           ) -> Iterator[tuple[Chunk, list[Word]]]:
    """Chunks of phonemes, each with the words that start in it, their
    phoneme spans moved into it (the words in order)."""
    chunker = Chunker(text, max_len, first_max, is_text=False, pauses=pauses, budget=budget)
    if schedule:
        schedule.todo = chunker.todo
    locator, k = Locator(text), 0
    words = sorted(words, key=lambda w: w.phonemes[0])
    for chunk in chunker:
        where = locator.where(chunk.text)
        home = {at: j for j, at in enumerate(where)}
        inside = []
        while k < len(words) and words[k].phonemes[0] <= where[-1]:
            (a, b), k = words[k].phonemes, k + 1
            if a in home:
                end = home[b - 1] + 1 if b - 1 in home else len(chunk.text)
                inside.append(Word((home[a], end), words[k - 1].source))
        yield chunk, inside


def _merged(words: list[Word]) -> list[Word]:
    """Words said for one written token are one word: an SSML <sub>'s alias
    comes back to its text only here, after the part's words were mapped."""
    out: list[Word] = []
    for w in words:
        if out and w.source[0] < out[-1].source[1]:
            last = out.pop()
            w = Word((last.phonemes[0], w.phonemes[1]),
                     (last.source[0], max(last.source[1], w.source[1])))
        out.append(w)
    return out


def _runs(phonemes: str) -> list[Word]:
    """Phonemes with no word spans given: each space-separated run is a word
    of unknown source."""
    return [Word((m.start(), m.end()), None) for m in re.finditer(r"\S+", phonemes)]


def _heard(utt: Utterance, word: Word, start: int, end: int, phonemes: str) -> WordTime:
    # Judged on what was spoken, not written: the dot of "Dr." is gone from
    # "doctor", the one after "noon." is still there.
    ends = SENTENCE_AFTER.match(phonemes, word.phonemes[1]) is not None
    if word.source is None:
        return WordTime(start, end, phonemes[slice(*word.phonemes)], None, ends)
    return WordTime(start, end, utt.written[slice(*word.source)], word.source, ends)


@dataclass(frozen=True)
class _Failure:
    error: BaseException
