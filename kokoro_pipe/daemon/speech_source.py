"""What kk-speakd speaks with: the warm engine, a style per voice (the recent
ones kept, daemon/styles.py) and a G2P per language, made once on first use."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from kokoro_pipe.daemon.request import Request
from kokoro_pipe.daemon.styles import StyleCache
from kokoro_pipe.text.g2p import G2P, lang_for_voice
from kokoro_pipe.voice.engine import Engine
from kokoro_pipe.voice.phrase_cache import PhraseCache, model_identity
from kokoro_pipe.voice.planner import Policy
from kokoro_pipe.voice.synthesis import Piece, Synthesizer, Utterance, WordTime


def load(paths, lang: str, provider: str = "cpu", windows=None, threads: int | None = None
         ) -> tuple[Engine, G2P]:
    """The model and `lang`'s G2P, loaded side by side (the model loads while
    spaCy and misaki do); fails early on an unsupported language."""
    with ThreadPoolExecutor(1) as pool:
        engine_loading = pool.submit(Engine, paths, threads, provider, windows)
        g2p = G2P(lang)
        return engine_loading.result(), g2p


def load_unless(stopping: threading.Event, *args) -> tuple[Engine, G2P] | None:
    """`load(*args)`, or None as soon as `stopping` is set. The loading runs in
    its own thread and this one polls, so a stop signal's handler need only set
    `stopping`: an exception raised from a handler surfaces wherever the main
    thread is (in a library's import, or waiting for the model's thread) and a
    CI run saw a daemon stopped while loading still up a minute later."""
    loading: Future = Future()

    def run() -> None:
        try:
            loading.set_result(load(*args))
        except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
            loading.set_exception(e)

    threading.Thread(target=run, name="kk-load", daemon=True).start()
    while not stopping.is_set():
        with contextlib.suppress(TimeoutError):
            return loading.result(timeout=0.1)
    return None


def freeze_loaded() -> None:
    """What is loaded now lives as long as the process: a full collection would
    walk it every time (55-63 ms here, holding the GIL the audio thread needs);
    frozen, it is never walked."""
    gc.collect()
    gc.freeze()


class Stopped(Exception):
    """Raised into the synthesis of a stopped request, so the rest of a long
    text is not phonemized for nothing."""


class SpeechSource:
    """Called from the synthesis thread only (the caches are not locked)."""

    def __init__(self, engine: Engine, voice: str, speed: float, g2p: G2P,
                 cache: PhraseCache | None = None, styles: StyleCache | None = None,
                 live: Policy | None = None):
        """`g2p` is the default language's, already loaded. With a `cache`, short
        texts spoken before are replayed from it, with no G2P and no model run.
        `styles` may be shared with the daemon's other users. Speech is played
        as it is made: planned by `live` (the defaults if None)."""
        self.engine, self.voice, self.speed, self.lang = engine, voice, speed, g2p.lang
        self.cache, self.live = cache, live or Policy()
        made_by = (engine.files.model, engine.files.vocoder)  # the vocoder half changes the sound
        self._model_id = ":".join(model_identity(p) for p in made_by if p)
        self.styles = styles or StyleCache(voice)
        self._g2ps: dict[str, G2P] = {g2p.lang: g2p}

    def warm_up(self) -> None:
        """Load the default voice and G2P and run one synthesis, so the first
        request is as fast as any other."""
        for _ in self(Request("Ready."), threading.Event()):
            pass
        self.engine.pace.forget()

    def __call__(self, request: Request, stop: threading.Event) -> Iterator[Piece]:
        voice = request.voice or self.voice
        style = self.styles.get(voice, self.engine.style)  # UsageError if unknown
        lang = request.lang or (lang_for_voice(voice) if request.voice else self.lang)
        g2p = self._g2ps.get(lang)
        if g2p is None:
            g2p = self._g2ps[lang] = G2P(lang)

        def phonemize(text: str):
            if stop.is_set():
                raise Stopped
            return g2p.words(text)

        speed = request.speed or self.speed
        key = self.cache and self.cache.key(request.text, style, speed, lang, self._model_id)

        def made() -> Iterator[Piece]:
            synthesizer = Synthesizer(self.engine, style, speed, phonemize, live=self.live)
            with contextlib.suppress(Stopped):
                yield from synthesizer.chunks(Utterance(0, 0, request.text), stop)

        yield from through_cache(self.cache, key, made(), stop)


def through_cache(cache: PhraseCache | None, key: str | None, made: Iterator[Piece],
                  stop: threading.Event) -> Iterator[Piece]:
    """The phrase `key`'s audio from `cache` when it is there, with its words;
    else the pieces `made`, kept in the cache once all of them were made."""
    if key and (audio := cache.get(key)) is not None:
        words = cache.get_words(key) or []
        yield Piece(audio, tuple(WordTime(s, e, t, tuple(span) if span else None,
                                          bool(ends and ends[0]))
                                 for s, e, t, span, *ends in words))  # older: no sentence end
        return
    spoken, words, at = [], [], 0
    for piece in made:
        spoken.append(piece.audio)
        words += [(at + w.start, at + w.end, w.text, w.span, w.sentence_end)
                  for w in piece.words]
        at += len(piece.audio)
        yield piece
    if key and spoken and not stop.is_set():
        cache.put(key, np.concatenate(spoken), words)
