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
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from kokoro_pipe.text import ssml
from kokoro_pipe.text.chunks import (
    MODEL_MAX_PHONEMES,
    PHONEME_MAX,
    TEXT_MAX,
    Pauses,
    has_speech,
    samples,
    split_chunks,
)
from kokoro_pipe.text.lines import Rejected
from kokoro_pipe.voice.engine import SPEED_RANGE, Engine


@dataclass(frozen=True)
class Utterance:
    id: int
    line: int  # where it came from, for messages
    text: str  # text, or phonemes when is_phonemes
    is_phonemes: bool = False
    label: str | None = None  # the words, for metadata when text holds phonemes
    style: np.ndarray | None = None  # voice override
    speed: float | None = None

    def meta(self) -> dict:
        return {"id": self.id, "text": self.label if self.label is not None else self.text}


@dataclass(frozen=True)
class AudioBlock:
    utterance: Utterance
    samples: np.ndarray


@dataclass(frozen=True)
class Finished:
    utterance: Utterance


log = logging.getLogger(__name__)
JOIN_TIMEOUT = 30.0  # longer than any one chunk takes


class NothingToSay(ValueError):
    pass


Event = AudioBlock | Finished | Rejected


class Synthesizer:
    def __init__(
        self,
        engine: Engine,
        style: np.ndarray,
        speed: float = 1.0,
        g2p: Callable[[str], str] | None = None,
        pauses: Pauses | None = None,
        ssml_mode: bool | None = None,  # None: SSML when a text starts with <speak>
    ):
        self.engine, self.style, self.speed, self.g2p = engine, style, speed, g2p
        self.pauses = pauses or Pauses()
        self.ssml_mode = ssml_mode

    def chunks(self, utt: Utterance, stop: threading.Event | None = None) -> Iterator[np.ndarray]:
        """The audio of one utterance, piece by piece (the first chunk in
        vocoder windows, the others whole), pauses between chunks included.

        A text utterance is SSML parts, or one plain part: a break sets the
        silence before the next audio (an explicit time even at the start or
        the end), a speech part is chunked and spoken at its rate."""
        if not has_speech(utt.text, utt.is_phonemes):
            raise NothingToSay("nothing to speak (punctuation or symbols only)")
        style = self.style if utt.style is None else utt.style
        base_speed = self.speed if utt.speed is None else utt.speed
        rate = self.engine.sample_rate
        pause, spoke, count = 0, False, 0  # pause: samples of silence due before the next audio
        for part in self._parts(utt):
            if isinstance(part, ssml.Break):
                seconds = self.pauses.of_strength(part.strength) if part.seconds is None \
                    else part.seconds
                pause = max(pause, samples(seconds, rate)) if spoke else samples(seconds, rate)
                spoke = spoke or part.seconds is not None
                continue
            speed = min(SPEED_RANGE[1], max(SPEED_RANGE[0], base_speed * part.rate))
            for sub in self._pieces(part, utt.is_phonemes):
                if (stop and stop.is_set()) or not has_speech(sub.text, phonemes=True):
                    continue
                started = time.monotonic()
                seconds = 0
                try:  # only an utterance's first chunk is waited on: it may come in windows
                    for piece in self.engine.stream(sub.text, style, speed, windowed=count == 0):
                        if spoke and pause:
                            piece = np.concatenate([np.zeros(pause, np.float32), piece])
                        spoke, pause = True, 0
                        seconds += len(piece) / rate
                        yield piece
                except ValueError:  # no phoneme of it in the model's vocabulary
                    continue
                count += 1
                pause = samples(sub.pause, rate)
                if log.isEnabledFor(logging.DEBUG):
                    log.debug(json.dumps({
                        "event": "synthesized", "utterance": utt.id, "chunk": count,
                        "phonemes": len(sub.text), "seconds": seconds,
                        "started": started, "done": time.monotonic()}))
        if not count:
            raise NothingToSay("nothing the model can speak")
        if isinstance(part, ssml.Break) and part.seconds:
            yield np.zeros(pause, np.float32)

    def _parts(self, utt: Utterance) -> list[ssml.Part]:
        parse = self.ssml_mode if self.ssml_mode is not None else ssml.is_ssml(utt.text)
        if utt.is_phonemes or not parse:
            return [ssml.Speech(utt.text)]
        return ssml.parse(utt.text)

    def _pieces(self, part: ssml.Speech, is_phonemes: bool) -> Iterator:
        """Model-sized phoneme chunks of one speech part, each with its pause after."""
        max_len = PHONEME_MAX if is_phonemes else TEXT_MAX
        for piece in split_chunks(part.text, max_len=max_len, is_text=not is_phonemes,
                                  pauses=self.pauses):
            phonemes = piece.text if is_phonemes else self._phonemize(piece.text)
            yield from split_chunks(phonemes, MODEL_MAX_PHONEMES, MODEL_MAX_PHONEMES, False,
                                    pauses=self.pauses)

    def _phonemize(self, text: str) -> str:
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
                        for audio in self.chunks(item, stop):
                            if not put(AudioBlock(item, audio)):
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


@dataclass(frozen=True)
class _Failure:
    error: BaseException
