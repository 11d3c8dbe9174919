"""Splitting text or phonemes into chunks the model can take, small ones first.

The same splitter serves text (before G2P) and phonemes (kk-g2p output), as
misaki keeps the punctuation. The first chunk is short so audio starts soon;
each later chunk may be up to GROWTH times the previous one, so that at an RTF
below 1/GROWTH the next chunk is ready before the current one has played.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MODEL_MAX_PHONEMES = 510  # Kokoro's context, in phoneme tokens
TEXT_MAX = 150  # characters per chunk: the model's working memory grows with the longest
# chunk (peak RSS 1.17 GiB at 300, 0.76 GiB at 150 here) while its speed per second
# of audio does not change; phonemes of 150 characters stay far below 510
PHONEME_MAX = 200  # the same bound for phoneme input (kk-g2p output of ~150 characters)
FIRST_MAX = 80  # first chunk: about one short sentence or clause
FIRST_MIN = 24  # but not a lone "Well," when a longer clause follows
GROWTH = 2

SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
CLAUSE_END = re.compile(r"[,;:—–]+[\"'”’)\]]*(?=\s)")
# A period after these is not a sentence end.
ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr prof gen rep sen vs etc e.g i.e fig no vol mt ft approx".split()  # noqa: SIM905
)
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


def split_chunks(
    s: str, max_len: int = TEXT_MAX, first_max: int = FIRST_MAX, is_text: bool = True,
    pauses: Pauses | None = None,
) -> list[Chunk]:
    """Chunks of `s` in order, none longer than max_len, no character but
    white space dropped: the first at most first_max long, at sentence or clause
    ends where possible; later ones join whole sentences up to GROWTH times the
    length of the chunk before."""
    s = " ".join(s.split())
    sentences = _split_at(s, SENTENCE_END, is_text)
    pieces = [p for sentence in sentences for p in _fit(sentence, max_len)]
    if not pieces:
        return []
    head = _head(pieces[0], first_max)
    rest = pieces[0][len(head):].strip()
    chunks, current = [head], ""
    for piece in (_fit(rest, max_len) if rest else []) + pieces[1:]:
        limit = min(max_len, max(first_max, GROWTH * len(chunks[-1])))
        if current and len(current) + 1 + len(piece) <= limit:
            current = f"{current} {piece}"
            continue
        if current:
            chunks.append(current)
        current = piece
    if current:
        chunks.append(current)
    pauses = pauses or Pauses()
    return [Chunk(c, pauses.after(c)) for c in chunks]


def located(s: str, chunks: list[Chunk]) -> list[list[int]]:
    """Where each character of each of `split_chunks(s)` is in `s`: as it
    drops nothing but white space, a space stands for the run it replaced."""
    out, i, n = [], 0, len(s)
    for chunk in chunks:
        where = []
        for ch in chunk.text:
            if ch == " ":
                where.append(min(i, n))
                while i < n and s[i].isspace():
                    i += 1
                continue
            while i < n - 1 and s[i] != ch:
                i += 1
            where.append(min(i, n - 1))
            i += 1
        out.append(where)
    return out


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
        if word[0].lower().strip("(\"'") in ABBREVIATIONS or len(word[0]) == 1:
            return False
        following = s[m.end():].lstrip()[:1]
        if following.islower():
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
