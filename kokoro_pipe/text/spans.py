"""Where the words of a normalized text came from in its source.

The normalizer (text/normalize) rewrites what users type into words a G2P
reads right: "$4.5k" -> "four point five thousand dollars". Captions must show
what was written, so the normalized text is mapped back by aligning the two as
sequences of white-space separated tokens (difflib), compared by their letters
and digits, so that restyling ("**late**." -> "late.") does not break the
alignment:

- tokens that align map character for character: the "bold" of "**bold**"
  maps to "bold" alone; characters the normalizer added (the "." of "one" ->
  "one.") map to nothing;
- a run of tokens that replaced another maps as a whole to the whole run (each
  of "four point five thousand dollars" to "$4.5k"), less the punctuation both
  runs start or end with ("($5)." -> "(five dollars)." maps "five dollars" to
  "$5"), and split where both runs have the same clause punctuation ("3, 5 ft"
  -> "three, five feet"); a run that is only the source with characters taken
  out ("[the docs](https://x.org)" -> "the docs") maps character for character;
- a token the normalizer inserted ("$5 million" -> "five million dollars")
  joins the token before it (or after it, at the start) into such a run, so
  every normalized word comes from some written text.

Every non-space normalized character thus maps to a source span, never going
backwards; spaces map to an empty span where the next token's source starts.
"""

from __future__ import annotations

import re
from collections import Counter
from difflib import SequenceMatcher

from kokoro_pipe.text.normalize.sanitize import ANSI_ESCAPE

TOKEN = re.compile(r"\S+")
NOT_WORD = re.compile(r"[\W_]+")
CLAUSE_END = ",;:!?"
MATCH_MOST = 400  # characters to match one by one: difflib is slow on long repetitive text


class SourceMap:
    """Where each part of a normalized text came from in its source."""

    def __init__(self, source: str, normalized: str):
        self._source, self._normalized = source, normalized
        self._src = [m.span() for m in TOKEN.finditer(source)]
        self._out = [m.span() for m in TOKEN.finditer(normalized)]
        # Per normalized character: the source span it came from (empty: nothing).
        self._start = [0] * len(normalized)
        self._end = [0] * len(normalized)
        matcher = SequenceMatcher(None, [_key(source[a:b]) for a, b in self._src],
                                  [_key(normalized[a:b]) for a, b in self._out], autojunk=False)
        last: tuple[int, int] | None = None  # (source, normalized) token where the last run began
        pending: int | None = None  # an insert before any source token: joins the next run
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "insert":
                if last is None:
                    pending = j1
                else:
                    self._run(last[0], i1, last[1], j2)
            elif op == "equal":
                first = i1
                if pending is not None:
                    self._run(i1, i1 + 1, pending, j1 + 1)
                    last, first, pending = (i1, pending), i1 + 1, None
                for i in range(first, i2):
                    self._chars(self._src[i], self._out[j1 + i - i1], strict=False)
                    last = (i, j1 + i - i1)
            elif op == "replace":
                j1 = j1 if pending is None else pending
                self._run(i1, i2, j1, j2)
                last, pending = (i1, j1), None
        # Spaces: an empty span where the source of the token after them starts.
        following = len(source)
        for k in range(len(normalized) - 1, -1, -1):
            if normalized[k].isspace():
                self._start[k] = self._end[k] = following
            else:
                following = self._start[k]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The source span [s, e) that normalized characters [start, end) came from:
        the union of the spans of the aligned pieces they touch. Always 0 <= s <= e <=
        len(source); monotonic: for a < b (non-overlapping, increasing ranges) span(a)
        starts no later than span(b)."""
        n = len(self._normalized)
        start = max(0, min(start, n))
        inked = [k for k in range(start, max(start, min(end, n))) if self._end[k] > self._start[k]]
        if not inked:
            at = self._start[start] if start < n else len(self._source)
            return at, at
        return min(self._start[k] for k in inked), max(self._end[k] for k in inked)

    def _set(self, k: int, start: int, end: int) -> None:
        self._start[k], self._end[k] = start, end

    def _chars(self, src: tuple[int, int], out: tuple[int, int], strict: bool) -> bool:
        """Map `out` character for character onto `src` (ignoring case); a character
        with no match maps to the gap between its neighbours' matches. When `strict`,
        do it only if every non-space character matches, and say whether it did."""
        (sa, sb), (na, nb) = src, out
        s, n = self._source[sa:sb], self._normalized[na:nb]
        # Escape codes match nothing: the "m" of "\x1b[0m" is not the end of "warm".
        ls = [c.lower() for c in ANSI_ESCAPE.sub(lambda m: "\0" * len(m.group()), s)]
        ln = [c.lower() for c in n]
        if strict and Counter(c for c in ln if not c.isspace()) - Counter(ls):
            return False  # cheaply, before matching long runs of spelled-out numbers
        # The same ends match first: else a lone "." could match one inside a URL.
        head = _prefix(ls, ln)
        tail = _prefix(ls[head:][::-1], ln[head:][::-1])
        where = [-1] * len(n)
        where[:head] = range(sa, sa + head)
        where[len(n) - tail:] = range(sb - tail, sb)
        middle = ls[head:len(s) - tail], ln[head:len(n) - tail]
        if len(middle[0]) + len(middle[1]) > MATCH_MOST:
            middle = [], []  # unmatched: the middle maps to the middle, as a whole
        for i, j, size in SequenceMatcher(None, *middle, autojunk=False).get_matching_blocks():
            where[head + j:head + j + size] = range(sa + head + i, sa + head + i + size)
        if strict and any(w < 0 and not c.isspace() for w, c in zip(where, n, strict=True)):
            return False
        gap = sa  # where the source after the last match starts
        for k, w in enumerate(where):
            if w >= 0:
                self._set(na + k, w, w + 1)
                gap = w + 1
            else:
                self._set(na + k, gap, next((x for x in where[k + 1:] if x >= 0), sb))
        return True

    def _run(self, i1: int, i2: int, j1: int, j2: int) -> None:
        """Map normalized tokens [j1, j2) that replaced source tokens [i1, i2)."""
        src = self._src[i1][0], self._src[i2 - 1][1]
        out = self._out[j1][0], self._out[j2 - 1][1]
        if self._chars(src, out, strict=True):
            return
        # The same clause punctuation on both sides: split there, piece for piece.
        cuts_src = [i for i in range(i1, i2 - 1) if self._source[self._src[i][1] - 1] in CLAUSE_END]
        cuts_out = [j for j in range(j1, j2 - 1)
                    if self._normalized[self._out[j][1] - 1] in CLAUSE_END]
        if cuts_src and [self._source[self._src[i][1] - 1] for i in cuts_src] == \
                [self._normalized[self._out[j][1] - 1] for j in cuts_out]:
            for i, j in zip([*cuts_src, i2 - 1], [*cuts_out, j2 - 1], strict=True):
                self._run(i1, i + 1, j1, j + 1)
                i1, j1 = i + 1, j + 1
            return
        s, n = self._source[src[0]:src[1]], self._normalized[out[0]:out[1]]
        head = _same_punctuation(s, n, min(len(s), len(n)) - 1)
        tail = _same_punctuation(s[::-1], n[::-1], min(len(s), len(n)) - 1 - head)
        for k in range(len(n)):
            if k < head:
                self._set(out[0] + k, src[0] + k, src[0] + k + 1)
            elif k >= len(n) - tail:
                at = src[1] - (len(n) - k)
                self._set(out[0] + k, at, at + 1)
            else:
                self._set(out[0] + k, src[0] + head, src[1] - tail)


def _key(token: str) -> str:
    """What tokens are compared by: letters and digits, or if none the token itself."""
    return NOT_WORD.sub("", ANSI_ESCAPE.sub("", token)).lower() or token


def _prefix(a: list[str], b: list[str]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _same_punctuation(a: str, b: str, most: int) -> int:
    """How many punctuation characters `a` and `b` both start with (at most `most`)."""
    n = 0
    while n < most and a[n] == b[n] and not a[n].isalnum():
        n += 1
    return n
