"""Splitting text or phonemes into chunks the model can take, small ones first.

The same splitter serves text (before G2P) and phonemes (kk-g2p output), as
misaki keeps the punctuation. The first chunk is short so audio starts soon.
The rest is cut into pieces at clause ends, and each later chunk joins as many
pieces as its budget allows, ending at a sentence end where one fits: the
budget is asked for just before the chunk is made (voice/planner.py sizes it
from the speed measured now), or is the largest chunk when nobody plays live.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from kokoro_pipe.text.normalize.abbreviations import REFERENCES, SUFFIXES, TITLES

MODEL_MAX_PHONEMES = 510  # Kokoro's context, in phoneme tokens
TEXT_MAX = 150  # characters per chunk: the model's working memory grows with the longest
# chunk (peak RSS 1.17 GiB at 300, 0.76 GiB at 150 here) while its speed per second
# of audio does not change; phonemes of 150 characters stay far below 510
PHONEME_MAX = 200  # the same bound for phoneme input (kk-g2p output of ~150 characters)
FIRST_MAX = 80  # first chunk: about one short sentence or clause
FIRST_MIN = 24  # but not a lone "Well," when a longer clause follows

SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
CLAUSE_END = re.compile(r"[,;:—–]+[\"'”’)\]]*(?=\s)")
# A period after these is not a sentence end.
ABBREVIATIONS = frozenset([
    *"mr mrs ms dr st jr sr prof gen rep sen vs etc e.g i.e fig no vol mt ft approx".split(),  # noqa: SIM905
    *(short.lower() for short in (*TITLES, *SUFFIXES)),  # what the front-end expands
])
# Before a number these are references the front-end reads ("pp. 23" pages 23).
BEFORE_NUMBERS = frozenset(short.lower() for short in REFERENCES)
SPEAKABLE = re.compile(r"\w", re.UNICODE)
PHONEME_LETTERS = re.compile(r"[^\s.,!?;:…—–\-\"'“”‘’()\[\]¡¿«»]")


@dataclass(frozen=True)
class Chunk:
    text: str
    pause: float  # seconds of silence after it, from how it ends


SENTENCE_PAUSE = 0.30
CLAUSE_PAUSE = 0.12
WORD_PAUSE = 0.0
PARAGRAPH_PAUSE = 0.40  # between input lines


@dataclass(frozen=True)
class Pauses:
    """Seconds of silence after a sentence, a clause, a paragraph (input line);
    kk-synth --sentence-pause etc. SSML break strengths map onto the same three."""

    sentence: float = SENTENCE_PAUSE
    clause: float = CLAUSE_PAUSE
    paragraph: float = PARAGRAPH_PAUSE

    def after(self, chunk: str) -> float:
        kind = end_kind(chunk)
        return {"sentence": self.sentence, "clause": self.clause}.get(kind, WORD_PAUSE)

    def of_strength(self, strength: str) -> float:
        """An SSML <break strength> as one of the configured pauses."""
        return {"none": 0.0, "x-weak": self.clause / 2, "weak": self.clause,
                "medium": self.sentence, "strong": self.paragraph,
                "x-strong": 2 * self.paragraph}[strength]


def samples(seconds: float, rate: int) -> int:
    """A pause in whole samples, so that joins fall on sample boundaries."""
    return max(0, round(seconds * rate))


def has_speech(s: str, phonemes: bool = False) -> bool:
    """True if there is anything to say: a letter or digit, not punctuation alone."""
    return bool((PHONEME_LETTERS if phonemes else SPEAKABLE).search(s))


def end_kind(chunk: str) -> str:
    """How a chunk ends: 'sentence', 'clause' or 'word'."""
    end = chunk.rstrip("\"'”’)] ")[-1:]
    if end and end in ".!?…":
        return "sentence"
    if end and end in ",;:—–":
        return "clause"
    return "word"


# The pieces still to come -> the most characters (or phonemes) the next chunk may hold.
Budget = Callable[[list[str]], int]


def split_chunks(
    s: str, max_len: int = TEXT_MAX, first_max: int = FIRST_MAX, is_text: bool = True,
    pauses: Pauses | None = None,
) -> list[Chunk]:
    """Chunks of `s` in order, each as large as max_len allows (Chunker, whole)."""
    return list(Chunker(s, max_len, first_max, is_text, pauses))


class Chunker:
    """Chunks of `s` in order, none longer than max_len, no character but white
    space dropped: the first at most first_max long, at a sentence or clause end
    where possible; each later one as many whole pieces (clauses, or words of an
    overlong clause) as `budget` allows, at least one, ending at a sentence end
    where that fits. `todo` holds the pieces not yet in a chunk."""

    def __init__(self, s: str, max_len: int = TEXT_MAX, first_max: int = FIRST_MAX,
                 is_text: bool = True, pauses: Pauses | None = None,
                 budget: Budget | None = None):
        self.max_len, self.budget = max_len, budget
        self.pauses = pauses or Pauses()
        s = " ".join(s.split())
        sentences = [p for sentence in _split_at(s, SENTENCE_END, is_text)
                     for p in _fit(sentence, max_len)]
        self.head = _head(sentences[0], first_max) if sentences else ""
        rest = sentences[0][len(self.head):].strip() if sentences else ""
        self.todo: deque[str] = deque(_clauses([rest, *sentences[1:]], max_len))

    def __iter__(self) -> Iterator[Chunk]:
        if self.head:
            yield self._chunk(self.head)
        while self.todo:
            limit = self.max_len if self.budget is None else self.budget(list(self.todo))
            taken = group(self.todo, min(self.max_len, limit))
            yield self._chunk(" ".join(self.todo.popleft() for _ in range(taken)))

    def _chunk(self, text: str) -> Chunk:
        return Chunk(text, self.pauses.after(text))


def group(pieces: Iterable[str], limit: int) -> int:
    """How many of the leading `pieces` make the next chunk: the most that fit
    in `limit` (joined by spaces) up to a sentence end, else up to a clause
    end, else the most that fit, and at least one."""
    size, best, best_kind = -1, 1, "word"
    rank = {"word": 0, "clause": 1, "sentence": 2}
    for n, piece in enumerate(pieces, 1):
        size += 1 + len(piece)
        if size > limit:
            break
        kind = end_kind(piece)
        if rank[kind] >= rank[best_kind] or n == 1:
            best, best_kind = n, kind
    return best


class Locator:
    """Where each character of consecutive chunks of `s` is in `s`: as the
    chunker drops nothing but white space, a space stands for the run it replaced."""

    def __init__(self, s: str):
        self._s, self._i = s, 0

    def where(self, chunk: str) -> list[int]:
        s, i, n = self._s, self._i, len(self._s)
        where = []
        for ch in chunk:
            if ch == " ":
                where.append(min(i, n))
                while i < n and s[i].isspace():
                    i += 1
                continue
            while i < n - 1 and s[i] != ch:
                i += 1
            where.append(min(i, n - 1))
            i += 1
        self._i = i
        return where


def located(s: str, chunks: list[Chunk]) -> list[list[int]]:
    """Where each character of each of `split_chunks(s)` is in `s` (Locator)."""
    locator = Locator(s)
    return [locator.where(chunk.text) for chunk in chunks]


def _clauses(parts: list[str], max_len: int) -> list[str]:
    """`parts` cut at clause ends (each piece at most max_len, as `_fit` makes them)."""
    return [q for p in parts if p
            for c in _split_at(p, CLAUSE_END, False) for q in _fit(c, max_len)]


def _head(s: str, first_max: int) -> str:
    """The start of `s` to synthesize first: whole if short, else its first
    clauses up to FIRST_MIN characters, else the words that fit first_max."""
    if len(s) <= first_max:
        return s
    head = ""
    for clause in _split_at(s, CLAUSE_END, False):
        candidate = f"{head} {clause}".strip()
        if len(candidate) > first_max:
            break
        head = candidate
        if len(head) >= FIRST_MIN:
            return head
    return head or _fit(s, first_max)[0]


def _split_at(s: str, pattern: re.Pattern, is_text: bool) -> list[str]:
    """Split after each match of `pattern`, keeping the marks with the left part."""
    parts, start = [], 0
    for m in pattern.finditer(s):
        if is_text and pattern is SENTENCE_END and not _ends_sentence(s, m):
            continue
        parts.append(s[start : m.end()].strip())
        start = m.end()
    parts.append(s[start:].strip())
    return [p for p in parts if p]


def _ends_sentence(s: str, m: re.Match) -> bool:
    if m.group().startswith("."):
        word = s[: m.start()].rsplit(None, 1)[-1:] or [""]
        word = word[0].lower().strip("(\"'")
        following = s[m.end():].lstrip()[:1]
        if word in ABBREVIATIONS or len(word) == 1 or following.islower():
            return False
        if word in BEFORE_NUMBERS and following.isdigit():
            return False
    return True


def _fit(s: str, max_len: int) -> list[str]:
    """`s` as consecutive pieces of at most max_len: whole if it fits, else at
    clause marks, else between words, else (a giant token) by characters."""
    if len(s) <= max_len:
        return [s]
    for splitter in (lambda t: _split_at(t, CLAUSE_END, False), str.split):
        parts = splitter(s)
        if len(parts) > 1:
            return _pack([q for p in parts for q in _fit(p, max_len)], max_len)
    return [s[i : i + max_len] for i in range(0, len(s), max_len)]


def _pack(parts: list[str], max_len: int) -> list[str]:
    """Join neighbouring parts with spaces while they fit in max_len."""
    packed: list[str] = []
    for part in parts:
        if packed and len(packed[-1]) + 1 + len(part) <= max_len:
            packed[-1] = f"{packed[-1]} {part}"
        else:
            packed.append(part)
    return packed
